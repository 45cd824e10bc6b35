/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control API server, in-process over a real unix socket in a temporary
 * directory: requests answered through the command table, errors for bad
 * and oversized requests, the client bound, idle and non-reading clients,
 * and the socket file's life cycle (mode, stale file, live server).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl_api.h"
#include "ctl_server.h"

struct fixture {
	char dir[64];
	char path[128];
	struct ctl_server *srv;
	int calls;
};

static json_t *
fake_trunks_doc(void)
{
	return json_pack("{s:[{s:s, s:i, s:f, s:i, s:i, s:i, s:f, s:f, s:n, s:i, s:i, s:i}]}",
		"trunks", "name", "carrier-a", "cps", 12, "cps_avg10", 11.5, "cps_agreed", 30,
		"concurrent", 140, "max_concurrent", 400, "r503_per_s", 2.5, "share_503_pct", 12.5,
		"answer_ratio", "attempts_total", 1200, "finals_total", 1100, "final_503_total", 7);
}

static json_t *
fake_trunks(void *ctx, json_t *args, int *status, char *err, size_t errlen)
{
	struct fixture *fx = ctx;

	(void)args;
	(void)status;
	(void)err;
	(void)errlen;
	fx->calls++;
	return fake_trunks_doc();
}

static json_t *
fake_trunk(void *ctx, json_t *args, int *status, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	struct fixture *fx = ctx;

	fx->calls++;
	if (name == NULL) {
		*status = EINVAL;
		snprintf(err, errlen, "trunk needs a \"name\"");
		return NULL;
	}
	if (strcmp(name, "carrier-a") != 0) {
		*status = ENOENT;
		snprintf(err, errlen, "unknown trunk \"%s\"", name);
		return NULL;
	}
	return json_pack("{s:s, s:i}", "name", name, "cps", 12);
}

/* About 1 MiB of data: more than a socket buffer holds. */
static json_t *
fake_big(void *ctx, json_t *args, int *status, char *err, size_t errlen)
{
	json_t *data;
	char *blob;

	(void)ctx;
	(void)args;
	(void)status;
	(void)err;
	(void)errlen;
	blob = malloc(1 << 20);
	memset(blob, 'x', (1 << 20) - 1);
	blob[(1 << 20) - 1] = '\0';
	data = json_pack("{s:s}", "blob", blob);
	free(blob);
	return data;
}

/* Fails without saying why: answered as EIO. */
static json_t *
fake_fail(void *ctx, json_t *args, int *status, char *err, size_t errlen)
{
	(void)ctx;
	(void)args;
	(void)status;
	(void)err;
	(void)errlen;
	return NULL;
}

static const struct ctl_cmd fake_table[] = {
	{ "trunks", fake_trunks, "all trunks" },
	{ "trunk", fake_trunk, "one trunk" },
	{ "big", fake_big, "a large answer" },
	{ "fail", fake_fail, "always fails" },
	{ NULL, NULL, NULL },
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[256];

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ctl_server_test.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/ctrl.sock", fx->dir);
	fx->srv = ctl_server_open(fx->path, 0660, fake_table, fx, err, sizeof(err));
	if (fx->srv == NULL)
		fail_msg("ctl_server_open: %s", err);
	ctl_server_set_idle_ms(fx->srv, 200);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	ctl_server_close(fx->srv);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
client(struct fixture *fx)
{
	int fd = ctl_client_connect(fx->path);

	assert_true(fd >= 0);
	return fd;
}

static void
client_send(int fd, const char *s, size_t len)
{
	assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/*
 * Serve until the client has a whole line (returned, malloc'd) or the
 * server closed it (NULL). Fails after two seconds.
 */
static char *
client_line(struct fixture *fx, int fd)
{
	int64_t deadline = now_ms() + 2000;
	size_t len = 0, cap = 65536, take;
	char *buf = malloc(cap), *nl;
	struct pollfd pfd;
	ssize_t n;

	assert_non_null(buf);
	while (now_ms() < deadline) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) <= 0) {
			ctl_server_poll(fx->srv, 5);
			continue;
		}
		if (len + 65536 + 1 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		/* peek first: never consume past the end of the first line */
		n = recv(fd, buf + len, cap - len - 1, MSG_PEEK);
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		take = nl != NULL ? (size_t)(nl - (buf + len)) + 1 : (size_t)n;
		assert_int_equal(recv(fd, buf + len, take, 0), (ssize_t)take);
		len += take;
		if (nl != NULL) {
			buf[len] = '\0';
			return buf;
		}
	}
	fail_msg("no answer within 2 s");
	return NULL;
}

/*
 * True when the server closes fd within two seconds. Reads nothing: a
 * hang-up shows in poll(2) even with unread data still queued.
 */
static bool
client_closed(struct fixture *fx, int fd)
{
	int64_t deadline = now_ms() + 2000;
	struct pollfd pfd;

	while (now_ms() < deadline) {
		ctl_server_poll(fx->srv, 5);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
			return true;
	}
	return false;
}

/* Send a request and parse the answer. */
static void
call_n(struct fixture *fx, int fd, const char *req, size_t len, struct ctl_response *resp)
{
	char err[CTL_API_ERR_MAX];
	char *line;

	client_send(fd, req, len);
	line = client_line(fx, fd);
	assert_non_null(line);
	if (ctl_api_parse_response(line, strlen(line), resp, err, sizeof(err)) != 0)
		fail_msg("bad response %s: %s", line, err);
	free(line);
}

static void
call(struct fixture *fx, int fd, const char *req, struct ctl_response *resp)
{
	call_n(fx, fd, req, strlen(req), resp);
}

static void
test_good_request(void **state)
{
	struct fixture *fx = *state;
	struct ctl_response resp;
	json_t *want;
	int fd;

	fd = client(fx);
	call(fx, fd, "{\"v\":1,\"id\":41,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.id, 41);
	want = fake_trunks_doc();
	assert_true(json_equal(resp.data, want));
	json_decref(want);
	ctl_api_response_clear(&resp);

	/* the connection stays open for more, with arguments */
	call(fx, fd, "{\"v\":1,\"id\":42,\"cmd\":\"trunk\",\"args\":{\"name\":\"carrier-a\"}}\n",
		&resp);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.id, 42);
	assert_string_equal(json_string_value(json_object_get(resp.data, "name")), "carrier-a");
	ctl_api_response_clear(&resp);

	/* a command's own error: status and text pass through */
	call(fx, fd, "{\"v\":1,\"id\":43,\"cmd\":\"trunk\",\"args\":{\"name\":\"foo\"}}\n", &resp);
	assert_int_equal(resp.status, ENOENT);
	assert_int_equal(resp.id, 43);
	assert_string_equal(resp.error, "unknown trunk \"foo\"");

	/* a command that fails without a status is EIO */
	call(fx, fd, "{\"v\":1,\"id\":44,\"cmd\":\"fail\"}\n", &resp);
	assert_int_equal(resp.status, EIO);
	assert_int_equal(fx->calls, 3);
	close(fd);
}

static void
test_unknown_command(void **state)
{
	struct fixture *fx = *state;
	struct ctl_response resp;
	json_t *cmds;
	int fd;

	fd = client(fx);
	call(fx, fd, "{\"v\":1,\"id\":5,\"cmd\":\"reboot\"}\n", &resp);
	assert_int_equal(resp.status, ENOSYS);
	assert_int_equal(resp.id, 5);
	assert_non_null(strstr(resp.error, "reboot"));
	assert_non_null(strstr(resp.error, "trunks, trunk, big, fail, help"));
	assert_int_equal(fx->calls, 0);

	/* the built-in help lists the table */
	call(fx, fd, "{\"v\":1,\"cmd\":\"help\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	cmds = json_object_get(resp.data, "commands");
	assert_int_equal(json_array_size(cmds), 4);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(cmds, 1), "name")), "trunk");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(cmds, 1), "help")), "one trunk");
	ctl_api_response_clear(&resp);

	/* a bad version */
	call(fx, fd, "{\"v\":9,\"id\":6,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, EPROTO);
	assert_int_equal(resp.id, 6);
	close(fd);
}

static void
test_oversized_request(void **state)
{
	struct fixture *fx = *state;
	struct ctl_response resp;
	char err[CTL_API_ERR_MAX];
	char *big, *line;
	int fd;

	/* no newline within the limit: EMSGSIZE, then the server hangs up */
	big = malloc(CTL_API_MAX_REQ * 2);
	memset(big, ' ', CTL_API_MAX_REQ * 2);
	fd = client(fx);
	client_send(fd, big, CTL_API_MAX_REQ * 2);
	line = client_line(fx, fd);
	assert_non_null(line);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, EMSGSIZE);
	free(line);
	assert_true(client_closed(fx, fd));
	close(fd);

	/* a complete line of 4097 bytes: the same */
	memcpy(big, "{\"v\":1,\"cmd\":\"trunks\"", 21);
	big[CTL_API_MAX_REQ] = '}';
	big[CTL_API_MAX_REQ + 1] = '\n';
	fd = client(fx);
	client_send(fd, big, CTL_API_MAX_REQ + 2);
	line = client_line(fx, fd);
	assert_non_null(line);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, EMSGSIZE);
	free(line);
	assert_true(client_closed(fx, fd));
	close(fd);

	/* exactly at the limit is served */
	big[CTL_API_MAX_REQ - 1] = '}';
	big[CTL_API_MAX_REQ] = '\n';
	fd = client(fx);
	client_send(fd, big, CTL_API_MAX_REQ + 1);
	line = client_line(fx, fd);
	assert_non_null(line);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, 0);
	ctl_api_response_clear(&resp);
	free(line);
	close(fd);
	free(big);
	assert_int_equal(fx->calls, 1);
}

static void
test_garbage_then_good(void **state)
{
	static const char garbage[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\xff\n";
	struct fixture *fx = *state;
	struct ctl_response resp;
	int fd;

	fd = client(fx);
	call_n(fx, fd, garbage, sizeof(garbage) - 1, &resp);
	assert_int_equal(resp.status, EINVAL);
	/* a bad request is answered, not fatal: the same connection goes on */
	call(fx, fd, "[1,2,3]\n", &resp);
	assert_int_equal(resp.status, EINVAL);
	call(fx, fd, "{\"v\":1,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	ctl_api_response_clear(&resp);
	close(fd);

	/* and a new connection is served normally */
	fd = client(fx);
	call(fx, fd, "{\"v\":1,\"id\":2,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.id, 2);
	ctl_api_response_clear(&resp);
	close(fd);
}

static void
test_pipelined_and_half_closed(void **state)
{
	static const char reqs[] =
		"{\"v\":1,\"id\":1,\"cmd\":\"trunks\"}\n\r\n"
		"{\"v\":1,\"id\":2,\"cmd\":\"nope\"}\n"
		"{\"v\":1,\"id\":3,\"cmd\":\"trunk\",\"args\":{\"name\":\"x\"}}\n";
	struct fixture *fx = *state;
	struct ctl_response resp;
	char err[CTL_API_ERR_MAX];
	static const int want_status[] = { 0, ENOSYS, ENOENT };
	char *line;
	int fd, i;

	fd = client(fx);
	client_send(fd, reqs, sizeof(reqs) - 1);
	/* everything is sent: the server still answers every line, in order */
	shutdown(fd, SHUT_WR);
	for (i = 0; i < 3; i++) {
		line = client_line(fx, fd);
		assert_non_null(line);
		assert_int_equal(
			ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
		assert_int_equal(resp.id, i + 1);
		assert_int_equal(resp.status, want_status[i]);
		ctl_api_response_clear(&resp);
		free(line);
	}
	assert_true(client_closed(fx, fd));
	close(fd);
	assert_int_equal(ctl_server_clients(fx->srv), 0);
}

static void
test_silent_and_partial_clients(void **state)
{
	struct fixture *fx = *state;
	struct ctl_response resp;
	int silent, partial, fd;
	int64_t t0;

	silent = client(fx);
	partial = client(fx);
	client_send(partial, "{\"v\":1,\"cmd\":", 13);
	fd = client(fx);
	/* others connected and silent or half-way do not hold anyone up */
	t0 = now_ms();
	call(fx, fd, "{\"v\":1,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	ctl_api_response_clear(&resp);
	assert_true(now_ms() - t0 < 150);
	assert_int_equal(ctl_server_clients(fx->srv), 3);

	/* past the idle time the partial request is dropped, the others stay */
	assert_true(client_closed(fx, partial));
	assert_int_equal(ctl_server_clients(fx->srv), 2);
	call(fx, silent, "{\"v\":1,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	ctl_api_response_clear(&resp);
	close(silent);
	close(partial);
	close(fd);
}

static void
test_many_clients(void **state)
{
	struct fixture *fx = *state;
	struct ctl_response resp;
	char err[CTL_API_ERR_MAX];
	int fds[40], i, refused = 0, fd;
	char *line;

	for (i = 0; i < 40; i++)
		fds[i] = client(fx);
	ctl_server_poll(fx->srv, 10);
	ctl_server_poll(fx->srv, 10);
	assert_int_equal(ctl_server_clients(fx->srv), CTL_SERVER_MAX_CLIENTS);
	/* the ones past the bound were told why and closed */
	for (i = CTL_SERVER_MAX_CLIENTS; i < 40; i++) {
		line = client_line(fx, fds[i]);
		assert_non_null(line);
		assert_int_equal(
			ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
		assert_int_equal(resp.status, EBUSY);
		free(line);
		assert_true(client_closed(fx, fds[i]));
		close(fds[i]);
		refused++;
	}
	assert_int_equal(refused, 40 - CTL_SERVER_MAX_CLIENTS);
	/* every admitted client is served */
	for (i = 0; i < CTL_SERVER_MAX_CLIENTS; i++) {
		char req[64];

		snprintf(req, sizeof(req), "{\"v\":1,\"id\":%d,\"cmd\":\"trunks\"}\n", i + 100);
		call(fx, fds[i], req, &resp);
		assert_int_equal(resp.status, 0);
		assert_int_equal(resp.id, i + 100);
		ctl_api_response_clear(&resp);
	}
	/* a freed slot is taken by the next client */
	close(fds[0]);
	fd = client(fx);
	call(fx, fd, "{\"v\":1,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	ctl_api_response_clear(&resp);
	assert_int_equal(ctl_server_clients(fx->srv), CTL_SERVER_MAX_CLIENTS);
	close(fd);
	for (i = 1; i < CTL_SERVER_MAX_CLIENTS; i++)
		close(fds[i]);
}

static void
test_idle_slots_evicted_when_full(void **state)
{
	struct fixture *fx = *state;
	struct ctl_response resp;
	int fds[CTL_SERVER_MAX_CLIENTS], i, fd;

	for (i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
		fds[i] = client(fx);
	ctl_server_poll(fx->srv, 10);
	assert_int_equal(ctl_server_clients(fx->srv), CTL_SERVER_MAX_CLIENTS);
	/* all quiet for longer than the idle time: a newcomer gets a slot */
	usleep(300 * 1000);
	fd = client(fx);
	call(fx, fd, "{\"v\":1,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	ctl_api_response_clear(&resp);
	assert_int_equal(ctl_server_clients(fx->srv), CTL_SERVER_MAX_CLIENTS);
	close(fd);
	for (i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
		close(fds[i]);
}

static void
test_client_that_never_reads(void **state)
{
	struct fixture *fx = *state;
	struct ctl_response resp;
	int lazy, fd, i;
	int64_t t0, t;

	lazy = client(fx);
	for (i = 0; i < 8; i++)
		client_send(lazy, "{\"v\":1,\"cmd\":\"big\"}\n", 20);
	fd = client(fx);
	/* the server never blocks on the lazy client */
	for (i = 0; i < 20; i++) {
		t0 = now_ms();
		ctl_server_poll(fx->srv, 0);
		t = now_ms() - t0;
		assert_true(t < 100);
	}
	call(fx, fd, "{\"v\":1,\"cmd\":\"trunks\"}\n", &resp);
	assert_int_equal(resp.status, 0);
	ctl_api_response_clear(&resp);
	/* and drops it once it has not read for the idle time */
	assert_true(client_closed(fx, lazy));
	assert_int_equal(ctl_server_clients(fx->srv), 1);
	close(lazy);
	close(fd);
}

static void
test_reader_of_big_answers(void **state)
{
	struct fixture *fx = *state;
	struct ctl_response resp;
	int fd, i;

	/* large answers reach a client that does read, pipelined or not */
	fd = client(fx);
	client_send(
		fd, "{\"v\":1,\"id\":1,\"cmd\":\"big\"}\n{\"v\":1,\"id\":2,\"cmd\":\"big\"}\n", 54);
	for (i = 1; i <= 2; i++) {
		char err[CTL_API_ERR_MAX];
		char *line = client_line(fx, fd);

		assert_non_null(line);
		assert_int_equal(
			ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
		assert_int_equal(resp.status, 0);
		assert_int_equal(resp.id, i);
		assert_int_equal(strlen(json_string_value(json_object_get(resp.data, "blob"))),
			(1 << 20) - 1);
		ctl_api_response_clear(&resp);
		free(line);
	}
	close(fd);
}

static void
test_socket_file(void **state)
{
	struct fixture *fx = *state;
	struct ctl_server *other;
	char err[256], path[160];
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	/* mode 0660, whatever the umask */
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* a live server is never displaced */
	other = ctl_server_open(fx->path, 0660, fake_table, fx, err, sizeof(err));
	assert_null(other);
	assert_int_equal(errno, EADDRINUSE);
	assert_non_null(strstr(err, fx->path));

	/* a regular file is not removed */
	snprintf(path, sizeof(path), "%s/file", fx->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_null(ctl_server_open(path, 0660, fake_table, fx, err, sizeof(err)));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);

	/* a stale socket (nobody listening) is replaced */
	snprintf(path, sizeof(path), "%s/stale.sock", fx->dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	other = ctl_server_open(path, 0600, fake_table, fx, err, sizeof(err));
	if (other == NULL)
		fail_msg("stale socket not replaced: %s", err);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	ctl_server_close(other);
	/* closing removes the socket file */
	assert_int_not_equal(stat(path, &st), 0);

	/* a path that does not fit a socket address */
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_null(ctl_server_open(path, 0660, fake_table, fx, err, sizeof(err)));
	assert_int_equal(errno, ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_then_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_half_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_and_partial_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_slots_evicted_when_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_that_never_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_of_big_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
	};

	/* a peer that hangs up must not kill the test with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
