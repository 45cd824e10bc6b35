/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fleet's Redis rounds against a real redis-server (Debian package)
 * on a private unix socket with a password: the pipeline, the claim
 * script, keys and TTLs, ageing out, a wrong password, a server that
 * accepts but never answers, and a server killed and started again.
 * Skipped when redis-server is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "ctl_redis.h"

#define REDIS_BIN "/usr/bin/redis-server"
#define PASSWORD "t3st-pw"

static char dir[64];
static char sock[100];
static pid_t server = -1;

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
server_start(void)
{
	unsigned int i;

	unlink(sock);
	server = fork();
	assert_true(server >= 0);
	if (server == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(REDIS_BIN, REDIS_BIN, "--port", "0", "--unixsocket", sock, "--unixsocketperm",
			"700", "--requirepass", PASSWORD, "--save", "", "--appendonly", "no",
			"--dir", dir, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && access(sock, F_OK) != 0; i++)
		sleep_ms(10);
	assert_int_equal(access(sock, F_OK), 0);
}

static void
server_kill(void)
{
	if (server <= 0)
		return;
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	server = -1;
	unlink(sock);
}

static int
group_setup(void **state)
{
	(void)state;
	if (access(REDIS_BIN, X_OK) != 0)
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/sg-redis-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	server_kill();
	if (dir[0] != '\0')
		rmdir(dir);
	return 0;
}

static redisContext *
direct(void)
{
	redisContext *c = redisConnectUnix(sock);
	redisReply *rep;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	rep = redisCommand(c, "AUTH %s", PASSWORD);
	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_STATUS);
	freeReplyObject(rep);
	return c;
}

static struct ctl_redis *
client(const char *edge, const char *password, const char *address)
{
	struct ctl_redis_conf c = { .timeout_ms = 300 };
	char err[256];
	struct ctl_redis *r;

	snprintf(c.address, sizeof(c.address), "%s", address != NULL ? address : sock);
	snprintf(c.password, sizeof(c.password), "%s", password);
	snprintf(c.fleet, sizeof(c.fleet), "sgtest");
	snprintf(c.edge, sizeof(c.edge), "%s", edge);
	r = ctl_redis_start(&c, err, sizeof(err));
	if (r == NULL)
		fail_msg("%s", err);
	return r;
}

static void
make_round(struct ctl_fleet_round *rd, uint64_t seq, uint64_t now, const char *edge, uint32_t want,
	uint64_t attempts)
{
	memset(rd, 0, sizeof(*rd));
	rd->seq = seq;
	rd->second = now;
	rd->ttl_s = 5;
	rd->n = 1;
	snprintf(rd->ask[0].account, sizeof(rd->ask[0].account), "acme");
	rd->ask[0].limit = 30;
	rd->ask[0].want = want;
	snprintf(rd->ask[0].self.name, sizeof(rd->ask[0].self.name), "%s", edge);
	rd->ask[0].self.second = now - 1;
	rd->ask[0].self.c.attempts = attempts;
	rd->ask[0].self.c.finals = attempts;
	rd->ask[0].self.c.concurrent = 4;
	rd->ask[0].self.demand_milli = (uint32_t)attempts * 1000;
	rd->ask[0].self.request_milli = want * 1000;
	rd->ask[0].self.limit = want;
}

/* Hand the round over and wait (the test waits; the control loop never does). */
static void
round_trip(struct ctl_redis *r, const struct ctl_fleet_round *rd, struct ctl_fleet_result *res)
{
	unsigned int i;

	for (i = 0; i < 100 && ctl_redis_submit(r, rd) != 0; i++)
		sleep_ms(1);
	for (i = 0; i < 1000; i++) {
		if (ctl_redis_take(r, res) && res->seq == rd->seq)
			return;
		sleep_ms(10);
	}
	fail_msg("no answer to round %" PRIu64, rd->seq);
}

static void
test_address(void **state)
{
	char host[108], err[128];
	uint16_t port;

	(void)state;
	assert_int_equal(ctl_redis_parse_address(
				 "127.0.0.1:6379", host, sizeof(host), &port, err, sizeof(err)),
		0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 6379);
	assert_int_equal(
		ctl_redis_parse_address("[::1]:7000", host, sizeof(host), &port, err, sizeof(err)),
		0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 7000);
	assert_int_equal(ctl_redis_parse_address(
				 "/run/redis/r.sock", host, sizeof(host), &port, err, sizeof(err)),
		0);
	assert_int_equal(port, 0);
	assert_int_equal(ctl_redis_parse_address(
				 "redis.example:6380", host, sizeof(host), &port, err, sizeof(err)),
		0);
	assert_string_equal(host, "redis.example");
	assert_int_equal(
		ctl_redis_parse_address("", host, sizeof(host), &port, err, sizeof(err)), -1);
	assert_int_equal(
		ctl_redis_parse_address("host", host, sizeof(host), &port, err, sizeof(err)), -1);
	assert_int_equal(
		ctl_redis_parse_address("h:0", host, sizeof(host), &port, err, sizeof(err)), -1);
	assert_int_equal(
		ctl_redis_parse_address("h:65536", host, sizeof(host), &port, err, sizeof(err)),
		-1);
	assert_int_equal(
		ctl_redis_parse_address("h:12x", host, sizeof(host), &port, err, sizeof(err)), -1);
	assert_int_equal(
		ctl_redis_parse_address("::1:6379", host, sizeof(host), &port, err, sizeof(err)),
		-1);
	assert_int_equal(
		ctl_redis_parse_address(":6379", host, sizeof(host), &port, err, sizeof(err)), -1);
	assert_int_equal(
		ctl_redis_parse_address("[::1]6379", host, sizeof(host), &port, err, sizeof(err)),
		-1);
}

/* Two edges claim: the second gets what the first left; each sees the other. */
static void
test_claim_and_view(void **state)
{
	static struct ctl_fleet_round rd;
	static struct ctl_fleet_result res;
	struct ctl_redis *a, *b;
	struct ctl_redis_stats st;
	redisContext *c;
	redisReply *rep;
	uint64_t now = (uint64_t)time(NULL);

	(void)state;
	if (access(REDIS_BIN, X_OK) != 0)
		skip();
	server_start();
	a = client("edge-a", PASSWORD, NULL);
	b = client("edge-b", PASSWORD, NULL);
	make_round(&rd, 1, now, "edge-a", 20, 12);
	round_trip(a, &rd, &res);
	assert_int_equal(res.ok, 1);
	assert_int_equal(res.view[0].grant, 20);
	assert_int_equal(res.view[0].n, 0);
	make_round(&rd, 1, now, "edge-b", 20, 7);
	round_trip(b, &rd, &res);
	assert_int_equal(res.ok, 1);
	assert_int_equal(res.view[0].grant, 10); /* 30 - a's 20 */
	assert_int_equal(res.view[0].n, 1);
	assert_string_equal(res.view[0].edges[0].name, "edge-a");
	assert_int_equal(res.view[0].edges[0].c.attempts, 12);
	assert_int_equal(res.view[0].edges[0].c.concurrent, 4);
	assert_int_equal(res.view[0].edges[0].grant, 20);
	assert_true(res.view[0].edges[0].has_grant);
	/* a shrinks to 15: b can then take 15 */
	make_round(&rd, 2, now + 1, "edge-a", 15, 12);
	round_trip(a, &rd, &res);
	assert_int_equal(res.view[0].grant, 15);
	assert_int_equal(res.view[0].n, 1);
	assert_string_equal(res.view[0].edges[0].name, "edge-b");
	make_round(&rd, 2, now + 1, "edge-b", 15, 7);
	round_trip(b, &rd, &res);
	assert_int_equal(res.view[0].grant, 15);
	/* the keys: named by fleet, account and second, with TTLs */
	c = direct();
	rep = redisCommand(c, "TTL sgtest:{acme}:s:%llu", (unsigned long long)now);
	assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
	assert_true(rep->integer > 0 && rep->integer <= 5);
	freeReplyObject(rep);
	rep = redisCommand(c, "HGET sgtest:{acme}:s:%llu edge-b", (unsigned long long)now);
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	{
		struct ctl_fleet_edge e;

		assert_int_equal(ctl_fleet_sample_parse(rep->str, rep->len, &e), 0);
		assert_int_equal(e.second, now); /* b's second round */
		assert_int_equal(e.c.attempts, 7);
	}
	freeReplyObject(rep);
	rep = redisCommand(c, "TTL sgtest:{acme}:grants");
	assert_true(rep->integer > 0);
	freeReplyObject(rep);
	/* a dies: its grant, 6 s old by b's clock, is aged out and b may take all */
	make_round(&rd, 3, now + 8, "edge-b", 30, 7);
	round_trip(b, &rd, &res);
	assert_int_equal(res.view[0].grant, 30);
	rep = redisCommand(c, "HEXISTS sgtest:{acme}:grants edge-a");
	assert_int_equal(rep->integer, 0);
	freeReplyObject(rep);
	redisFree(c);
	ctl_redis_get_stats(a, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.rounds_ok, 2);
	assert_int_equal(st.rounds_failed, 0);
	ctl_redis_stop(a);
	ctl_redis_stop(b);
	server_kill();
}

static void
test_wrong_password(void **state)
{
	static struct ctl_fleet_round rd;
	static struct ctl_fleet_result res;
	struct ctl_redis_stats st;
	struct ctl_redis *a;

	(void)state;
	if (access(REDIS_BIN, X_OK) != 0)
		skip();
	server_start();
	a = client("edge-a", "wrong", NULL);
	make_round(&rd, 1, (uint64_t)time(NULL), "edge-a", 10, 1);
	round_trip(a, &rd, &res);
	assert_int_equal(res.ok, 0);
	ctl_redis_get_stats(a, &st);
	assert_int_equal(st.connect_failures, 1);
	assert_non_null(strstr(st.last_error, "AUTH"));
	ctl_redis_stop(a);
	server_kill();
}

/* A server that accepts and never answers: the round fails after its timeout. */
static void
test_silent_server(void **state)
{
	static struct ctl_fleet_round rd;
	static struct ctl_fleet_result res;
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct ctl_redis_stats st;
	struct ctl_redis *a;
	char addr[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	a = client("edge-a", PASSWORD, addr);
	make_round(&rd, 1, (uint64_t)time(NULL), "edge-a", 10, 1);
	round_trip(a, &rd, &res);
	assert_int_equal(res.ok, 0);
	ctl_redis_get_stats(a, &st);
	assert_int_equal(st.rounds_failed, 1);
	assert_int_equal(st.connected, 0);
	ctl_redis_stop(a);
	close(fd);
}

/* Killed and started again: rounds fail, then the client reconnects by itself. */
static void
test_restart(void **state)
{
	static struct ctl_fleet_round rd;
	static struct ctl_fleet_result res;
	struct ctl_redis_stats st;
	struct ctl_redis *a;
	uint64_t now = (uint64_t)time(NULL), seq = 1;
	unsigned int i;

	(void)state;
	if (access(REDIS_BIN, X_OK) != 0)
		skip();
	server_start();
	a = client("edge-a", PASSWORD, NULL);
	make_round(&rd, seq++, now, "edge-a", 10, 1);
	round_trip(a, &rd, &res);
	assert_int_equal(res.ok, 1);
	server_kill();
	for (i = 0; i < 3; i++) {
		make_round(&rd, seq++, now, "edge-a", 10, 1);
		round_trip(a, &rd, &res);
		assert_int_equal(res.ok, 0);
	}
	server_start();
	/* the backoff is at most a second: a few rounds at most */
	for (i = 0; i < 50; i++) {
		make_round(&rd, seq++, now, "edge-a", 10, 1);
		round_trip(a, &rd, &res);
		if (res.ok)
			break;
		sleep_ms(100);
	}
	assert_int_equal(res.ok, 1);
	assert_int_equal(res.view[0].grant, 10);
	ctl_redis_get_stats(a, &st);
	assert_int_equal(st.connects, 2);
	assert_true(st.disconnects >= 1);
	assert_true(st.connect_failures >= 1);
	ctl_redis_stop(a);
	server_kill();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_claim_and_view),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_restart),
	};

	/* SIGPIPE left as it is: the client must not die of a server that did */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
