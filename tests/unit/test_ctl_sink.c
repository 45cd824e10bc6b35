/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Directive sinks over real files, sockets and processes in a temporary
 * directory: the JSON-lines file (lines, reopen after unlink, retries),
 * datagram subscribers (register, leave, vanish, the limit, a full queue),
 * the exec hook (environment, timeout, retries, queue bound), and the
 * SIPp and Kamailio adapters against test UDP sockets that play the far
 * end. Time is passed in explicitly where the sink only compares it, and
 * read from the clock where a child process is involved.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cfg.h"
#include "ctl_directive.h"
#include "ctl_sink.h"

struct fx {
	char dir[64];
	struct sg_config cfg;
	struct ctl_sinks *s;
	uint64_t seq;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
nap_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sgsink.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* Only what the sinks read; the loader's defaults are cfg's business. */
	f->cfg.directives.exec_timeout_s = 5;
	f->cfg.directives.retry_base_ms = 100;
	f->cfg.directives.retry_max_ms = 1000;
	snprintf(f->cfg.trunks[0].name, sizeof(f->cfg.trunks[0].name), "carrier-a");
	f->cfg.trunks[0].cps = 30;
	snprintf(f->cfg.trunks[1].name, sizeof(f->cfg.trunks[1].name), "carrier-b");
	f->cfg.trunks[1].cps = 50;
	f->cfg.n_trunks = 2;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ctl_sinks_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
path_in(const struct fx *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

static struct ctl_directive
mk(struct fx *f, const char *trunk, enum ctl_action a, uint32_t cps)
{
	struct ctl_directive d;

	memset(&d, 0, sizeof(d));
	d.seq = ++f->seq;
	d.time_ms = 1700000000000ull + d.seq;
	snprintf(d.trunk_name, sizeof(d.trunk_name), "%s", trunk);
	d.action = a;
	d.cps_limit = a == CTL_ACT_THROTTLE ? cps : 0;
	d.duration_s = a == CTL_ACT_PAUSE ? 8 : 0;
	d.cause = CTL_CAUSE_OVER_LIMIT;
	return d;
}

static void
line_of(const struct ctl_directive *d, char *buf, size_t len)
{
	assert_true(ctl_directive_line(d, buf, len) > 0);
}

/* The stats object of sink `name` (borrowed from arr). */
static json_t *
stat_of(json_t *arr, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "sink")), name) == 0)
			return o;
	}
	fail_msg("no sink %s in stats", name);
	return NULL;
}

static long long
stat_int(const struct ctl_sinks *s, const char *name, const char *key)
{
	json_t *arr = ctl_sinks_stats_json(s);
	json_t *v = json_object_get(stat_of(arr, name), key);
	long long r;

	assert_true(json_is_integer(v));
	r = json_integer_value(v);
	json_decref(arr);
	return r;
}

static void
stat_str(const struct ctl_sinks *s, const char *name, const char *key, char *out, size_t len)
{
	json_t *arr = ctl_sinks_stats_json(s);
	json_t *v = json_object_get(stat_of(arr, name), key);

	assert_true(json_is_string(v));
	snprintf(out, len, "%s", json_string_value(v));
	json_decref(arr);
}

static size_t
slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return 0;
	r = read(fd, buf, len - 1);
	close(fd);
	assert_true(r >= 0);
	buf[r] = '\0';
	return (size_t)r;
}

static void
create_ok(struct fx *f)
{
	char err[256] = "";

	f->s = ctl_sinks_create(&f->cfg, err, sizeof(err));
	if (f->s == NULL)
		fail_msg("create: %s", err);
}

/* ------------------------------------------------------------------ */

static void
test_file_lines_and_reopen(void **state)
{
	struct fx *f = *state;
	char path[96], want[4096], got[4096], l[CTL_SINK_LINE_MAX];
	struct ctl_directive d;
	int i;

	path_in(f, "directives.jsonl", path, sizeof(path));
	snprintf(f->cfg.directives.file, sizeof(f->cfg.directives.file), "%s", path);
	create_ok(f);

	want[0] = '\0';
	for (i = 0; i < 3; i++) {
		d = mk(f, "carrier-a", i == 1 ? CTL_ACT_PAUSE : CTL_ACT_THROTTLE, 12);
		ctl_sinks_emit(f->s, &d, 1000);
		line_of(&d, l, sizeof(l));
		strcat(want, l);
		strcat(want, "\n");
	}
	slurp(path, got, sizeof(got));
	assert_string_equal(got, want);
	assert_int_equal(stat_int(f->s, "file", "sent"), 3);

	/* Removed (rotated away): the next line starts a new file. */
	assert_int_equal(unlink(path), 0);
	d = mk(f, "carrier-b", CTL_ACT_RESUME, 0);
	ctl_sinks_emit(f->s, &d, 1001);
	line_of(&d, l, sizeof(l));
	strcat(l, "\n");
	slurp(path, got, sizeof(got));
	assert_string_equal(got, l);

	/* Renamed: the old name gets a new file, the renamed one stays put. */
	{
		char old[112], got2[4096];

		snprintf(old, sizeof(old), "%s.1", path);
		assert_int_equal(rename(path, old), 0);
		d = mk(f, "carrier-b", CTL_ACT_ALERT, 0);
		ctl_sinks_emit(f->s, &d, 1002);
		slurp(old, got2, sizeof(got2));
		assert_string_equal(got2, l);
		line_of(&d, l, sizeof(l));
		strcat(l, "\n");
		slurp(path, got, sizeof(got));
		assert_string_equal(got, l);
	}
	assert_int_equal(stat_int(f->s, "file", "sent"), 5);
	assert_int_equal(stat_int(f->s, "file", "failed"), 0);
}

static void
test_file_retry_and_drop(void **state)
{
	struct fx *f = *state;
	char path[96], got[4096], l[CTL_SINK_LINE_MAX], st[32];
	struct ctl_directive d1, d2;
	uint64_t t = 5000;
	int i;

	path_in(f, "d.jsonl", path, sizeof(path));
	snprintf(f->cfg.directives.file, sizeof(f->cfg.directives.file), "%s", path);
	create_ok(f);

	/* A directory where the file was: every open fails. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	d1 = mk(f, "carrier-a", CTL_ACT_PAUSE, 0);
	ctl_sinks_emit(f->s, &d1, t);
	assert_int_equal(stat_int(f->s, "file", "failed"), 1);
	assert_int_equal(stat_int(f->s, "file", "pending"), 1);
	stat_str(f->s, "file", "state", st, sizeof(st));
	assert_string_equal(st, "backoff");

	/* Not before retry_base; then doubling. */
	ctl_sinks_poll(f->s, t + 99);
	assert_int_equal(stat_int(f->s, "file", "retried"), 0);
	ctl_sinks_poll(f->s, t + 100);
	assert_int_equal(stat_int(f->s, "file", "retried"), 1);
	assert_int_equal(stat_int(f->s, "file", "failed"), 2);
	ctl_sinks_poll(f->s, t + 100 + 199);
	assert_int_equal(stat_int(f->s, "file", "retried"), 1);
	ctl_sinks_poll(f->s, t + 300);
	assert_int_equal(stat_int(f->s, "file", "retried"), 2);

	/* The file becomes writable again: the waiting line gets through. */
	assert_int_equal(rmdir(path), 0);
	ctl_sinks_poll(f->s, t + 700);
	assert_int_equal(stat_int(f->s, "file", "sent"), 1);
	assert_int_equal(stat_int(f->s, "file", "pending"), 0);
	line_of(&d1, l, sizeof(l));
	strcat(l, "\n");
	slurp(path, got, sizeof(got));
	assert_string_equal(got, l);

	/* Failing for good: five tries, then dropped and counted. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	d2 = mk(f, "carrier-a", CTL_ACT_RESUME, 0);
	t = 10000;
	ctl_sinks_emit(f->s, &d2, t);
	for (i = 0; i < 100; i++)
		ctl_sinks_poll(f->s, t + (uint64_t)i * 50);
	assert_int_equal(stat_int(f->s, "file", "dropped"), 1);
	assert_int_equal(stat_int(f->s, "file", "failed"), 3 + CTL_SINK_MAX_TRIES);
	assert_int_equal(stat_int(f->s, "file", "pending"), 0);
	stat_str(f->s, "file", "state", st, sizeof(st));
	assert_string_equal(st, "idle");
}

/* ------------------------------------------------------------------ */

static int
sub_open(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
sub_say(int fd, const char *srv, const char *msg)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", srv);
	assert_int_equal(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, sizeof(sa)),
		(ssize_t)strlen(msg));
}

/* Next datagram, or "" if none is waiting. */
static void
sub_read(int fd, char *buf, size_t len)
{
	ssize_t r = recv(fd, buf, len - 1, MSG_DONTWAIT);

	buf[r > 0 ? r : 0] = '\0';
}

static void
test_dgram_subscribers(void **state)
{
	struct fx *f = *state;
	char srv[96], pa[96], pb[96], buf[CTL_SINK_LINE_MAX], l[CTL_SINK_LINE_MAX];
	struct ctl_directive d;
	struct stat st;
	int a, b;

	path_in(f, "sink.sock", srv, sizeof(srv));
	/* A stale socket file from a previous run is replaced. */
	close(sub_open(srv));
	snprintf(f->cfg.directives.socket, sizeof(f->cfg.directives.socket), "%s", srv);
	create_ok(f);
	assert_int_equal(stat(srv, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);

	path_in(f, "a.sock", pa, sizeof(pa));
	path_in(f, "b.sock", pb, sizeof(pb));
	a = sub_open(pa);
	b = sub_open(pb);
	sub_say(a, srv, "subscribe");
	sub_say(b, srv, "subscribe\n");
	sub_say(b, srv, "subscribe"); /* twice is once */
	ctl_sinks_poll(f->s, 1);
	assert_int_equal(stat_int(f->s, "socket", "subscribers"), 2);

	d = mk(f, "carrier-a", CTL_ACT_THROTTLE, 7);
	ctl_sinks_emit(f->s, &d, 2);
	line_of(&d, l, sizeof(l));
	sub_read(a, buf, sizeof(buf));
	assert_string_equal(buf, l);
	sub_read(b, buf, sizeof(buf));
	assert_string_equal(buf, l);
	sub_read(b, buf, sizeof(buf));
	assert_string_equal(buf, "");

	sub_say(a, srv, "unsubscribe");
	ctl_sinks_poll(f->s, 3);
	d = mk(f, "carrier-a", CTL_ACT_RESUME, 0);
	ctl_sinks_emit(f->s, &d, 4);
	line_of(&d, l, sizeof(l));
	sub_read(a, buf, sizeof(buf));
	assert_string_equal(buf, "");
	sub_read(b, buf, sizeof(buf));
	assert_string_equal(buf, l);

	/* b goes away without a word: dropped and counted at the next send. */
	close(b);
	unlink(pb);
	ctl_sinks_emit(f->s, &d, 5);
	assert_int_equal(stat_int(f->s, "socket", "subscribers"), 0);
	assert_int_equal(stat_int(f->s, "socket", "gone"), 1);
	assert_int_equal(stat_int(f->s, "socket", "sent"), 3);

	sub_say(a, srv, "hello");
	ctl_sinks_poll(f->s, 6);
	sub_read(a, buf, sizeof(buf));
	assert_string_equal(buf, "error: unknown request");
	close(a);
}

static void
test_dgram_limit_and_full_queue(void **state)
{
	struct fx *f = *state;
	char srv[96], p[96], buf[CTL_SINK_LINE_MAX];
	int fds[CTL_SINK_MAX_SUBSCRIBERS + 1];
	struct ctl_directive d;
	uint64_t t0, worst = 0;
	int i, got = 0;

	path_in(f, "sink.sock", srv, sizeof(srv));
	snprintf(f->cfg.directives.socket, sizeof(f->cfg.directives.socket), "%s", srv);
	create_ok(f);
	for (i = 0; i <= CTL_SINK_MAX_SUBSCRIBERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%d.sock", i);
		path_in(f, name, p, sizeof(p));
		fds[i] = sub_open(p);
		sub_say(fds[i], srv, "subscribe");
		ctl_sinks_poll(f->s, 1);
	}
	assert_int_equal(stat_int(f->s, "socket", "subscribers"), CTL_SINK_MAX_SUBSCRIBERS);
	assert_int_equal(stat_int(f->s, "socket", "refused"), 1);
	sub_read(fds[CTL_SINK_MAX_SUBSCRIBERS], buf, sizeof(buf));
	assert_string_equal(buf, "error: too many subscribers");
	sub_read(fds[0], buf, sizeof(buf));
	assert_string_equal(buf, "");

	/* Nobody reads: queues fill, emit keeps returning at once. */
	for (i = 0; i < 2000; i++) {
		d = mk(f, "carrier-a", CTL_ACT_THROTTLE, (uint32_t)i + 1);
		t0 = now_ms();
		ctl_sinks_emit(f->s, &d, 10 + (uint64_t)i);
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
	}
	assert_true(worst < 100);
	assert_true(stat_int(f->s, "socket", "dropped") > 0);
	assert_int_equal(stat_int(f->s, "socket", "sent") + stat_int(f->s, "socket", "dropped"),
		2000LL * CTL_SINK_MAX_SUBSCRIBERS);
	assert_int_equal(stat_int(f->s, "socket", "subscribers"), CTL_SINK_MAX_SUBSCRIBERS);
	/* What was queued arrives in order. */
	for (;;) {
		sub_read(fds[0], buf, sizeof(buf));
		if (buf[0] == '\0')
			break;
		got++;
	}
	assert_true(got > 0 && got < 2000);
	for (i = 0; i <= CTL_SINK_MAX_SUBSCRIBERS; i++)
		close(fds[i]);
}

/* ------------------------------------------------------------------ */

static void
write_script(const char *path, const char *body)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	fclose(fp);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Poll with the real clock until pred() holds or ms pass. */
static bool
poll_until(struct fx *f, bool (*pred)(struct fx *), unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end) {
		ctl_sinks_poll(f->s, now_ms());
		if (pred(f))
			return true;
		nap_ms(5);
	}
	return false;
}

static bool
exec_idle(struct fx *f)
{
	return stat_int(f->s, "exec", "pending") == 0;
}

static bool
exec_failed_once(struct fx *f)
{
	return stat_int(f->s, "exec", "failed") >= 1;
}

static bool
exec_dropped(struct fx *f)
{
	return stat_int(f->s, "exec", "dropped") >= 1;
}

static void
test_exec_environment(void **state)
{
	struct fx *f = *state;
	char hook[96], out[96], body[1024], got[8192], l[CTL_SINK_LINE_MAX],
		want[CTL_SINK_LINE_MAX + 16];
	struct ctl_directive d;

	path_in(f, "hook.sh", hook, sizeof(hook));
	path_in(f, "env.out", out, sizeof(out));
	snprintf(body, sizeof(body),
		"env > '%s.tmp'\necho \"STDIN=$(readlink /proc/$$/fd/0)\" >> '%s.tmp'\n"
		"mv '%s.tmp' '%s'",
		out, out, out, out);
	write_script(hook, body);
	snprintf(f->cfg.directives.exec, sizeof(f->cfg.directives.exec), "%s", hook);
	setenv("SG_STALE", "from-parent", 1);
	create_ok(f);

	d = mk(f, "carrier-b", CTL_ACT_THROTTLE, 17);
	ctl_sinks_emit(f->s, &d, now_ms());
	unsetenv("SG_STALE");
	assert_true(poll_until(f, exec_idle, 5000));
	assert_int_equal(stat_int(f->s, "exec", "sent"), 1);
	assert_int_equal(stat_int(f->s, "exec", "failed"), 0);
	assert_true(slurp(out, got, sizeof(got)) > 0);

#define HAS(...)                                                         \
	do {                                                             \
		snprintf(want, sizeof(want), __VA_ARGS__);               \
		if (strstr(got, want) == NULL)                           \
			fail_msg("no '%s' in hook env:\n%s", want, got); \
	} while (0)
	HAS("\nSG_SEQ=%" PRIu64 "\n", d.seq);
	HAS("\nSG_TIME=%" PRIu64 "\n", d.time_ms);
	HAS("\nSG_TRUNK=carrier-b\n");
	HAS("\nSG_ACTION=%s\n", ctl_action_name(CTL_ACT_THROTTLE));
	HAS("\nSG_CPS_LIMIT=17\n");
	HAS("\nSG_DURATION=0\n");
	HAS("\nSG_CAUSE=%s\n", ctl_cause_name(d.cause));
	line_of(&d, l, sizeof(l));
	HAS("\nSG_JSON=%s\n", l);
	HAS("\nSTDIN=/dev/null\n");
	/* The daemon's other variables pass, its SG_* ones do not. */
	HAS("\nPATH=");
#undef HAS
	assert_null(strstr(got, "SG_STALE"));
}

static void
test_exec_timeout_kills_group(void **state)
{
	struct fx *f = *state;
	char hook[96], pidf[96], body[1024], buf[64], proc[64], st[512];
	struct ctl_directive d;
	uint64_t t0;
	pid_t sleeper;
	bool gone = false;
	int i;

	path_in(f, "hang.sh", hook, sizeof(hook));
	path_in(f, "sleep.pid", pidf, sizeof(pidf));
	snprintf(body, sizeof(body), "sleep 100 &\necho $! > '%s'\nwait", pidf);
	write_script(hook, body);
	snprintf(f->cfg.directives.exec, sizeof(f->cfg.directives.exec), "%s", hook);
	f->cfg.directives.exec_timeout_s = 1;
	f->cfg.directives.retry_base_ms = 60000;
	f->cfg.directives.retry_max_ms = 60000;
	create_ok(f);

	d = mk(f, "carrier-a", CTL_ACT_PAUSE, 0);
	t0 = now_ms();
	ctl_sinks_emit(f->s, &d, now_ms());
	assert_true(now_ms() - t0 < 200);
	assert_int_equal(stat_int(f->s, "exec", "running"), 1);
	/* Each poll returns at once while the hook hangs. */
	for (i = 0; i < 20; i++) {
		t0 = now_ms();
		ctl_sinks_poll(f->s, now_ms());
		assert_true(now_ms() - t0 < 50);
		nap_ms(10);
	}
	assert_int_equal(stat_int(f->s, "exec", "failed"), 0);
	assert_true(poll_until(f, exec_failed_once, 3000));
	assert_true(now_ms() - t0 >= 700);
	assert_int_equal(stat_int(f->s, "exec", "timeouts"), 1);
	assert_int_equal(stat_int(f->s, "exec", "running"), 0);
	/* Waiting for its retry, a minute away. */
	assert_int_equal(stat_int(f->s, "exec", "pending"), 1);

	/* What the hook started died with it. */
	assert_true(slurp(pidf, buf, sizeof(buf)) > 0);
	sleeper = (pid_t)atoi(buf);
	assert_true(sleeper > 0);
	snprintf(proc, sizeof(proc), "/proc/%d/stat", (int)sleeper);
	for (i = 0; i < 200 && !gone; i++) {
		char *p;

		if (slurp(proc, st, sizeof(st)) == 0) {
			gone = true;
			break;
		}
		p = strrchr(st, ')');
		if (p != NULL && (p[2] == 'Z' || p[2] == 'X'))
			gone = true;
		else
			nap_ms(10);
	}
	assert_true(gone);
}

static void
test_exec_retry_then_drop(void **state)
{
	struct fx *f = *state;
	char hook[96], cnt[96], body[1024];
	struct ctl_directive d;

	path_in(f, "fail.sh", hook, sizeof(hook));
	path_in(f, "count", cnt, sizeof(cnt));
	/* Fails twice, then succeeds. */
	snprintf(body, sizeof(body), "echo x >> '%s'\n[ $(wc -l < '%s') -ge 3 ] || exit 3\nexit 0",
		cnt, cnt);
	write_script(hook, body);
	snprintf(f->cfg.directives.exec, sizeof(f->cfg.directives.exec), "%s", hook);
	f->cfg.directives.retry_base_ms = 10;
	f->cfg.directives.retry_max_ms = 40;
	create_ok(f);

	d = mk(f, "carrier-a", CTL_ACT_RESUME, 0);
	ctl_sinks_emit(f->s, &d, now_ms());
	assert_true(poll_until(f, exec_idle, 5000));
	assert_int_equal(stat_int(f->s, "exec", "sent"), 1);
	assert_int_equal(stat_int(f->s, "exec", "failed"), 2);
	assert_int_equal(stat_int(f->s, "exec", "retried"), 2);
	assert_int_equal(stat_int(f->s, "exec", "dropped"), 0);

	/* Always failing: CTL_SINK_MAX_TRIES attempts, then dropped. */
	write_script(hook, "exit 1");
	d = mk(f, "carrier-a", CTL_ACT_RESUME, 0);
	ctl_sinks_emit(f->s, &d, now_ms());
	assert_true(poll_until(f, exec_dropped, 5000));
	assert_int_equal(stat_int(f->s, "exec", "failed"), 2 + CTL_SINK_MAX_TRIES);
	assert_int_equal(stat_int(f->s, "exec", "retried"), 2 + CTL_SINK_MAX_TRIES - 1);
	assert_int_equal(stat_int(f->s, "exec", "sent"), 1);
	assert_int_equal(stat_int(f->s, "exec", "pending"), 0);
}

static void
test_exec_queue_bound(void **state)
{
	struct fx *f = *state;
	char hook[96];
	struct ctl_directive d;
	uint64_t t0;
	int i, extra = 3;

	path_in(f, "slow.sh", hook, sizeof(hook));
	write_script(hook, "exec sleep 30");
	snprintf(f->cfg.directives.exec, sizeof(f->cfg.directives.exec), "%s", hook);
	create_ok(f);

	t0 = now_ms();
	for (i = 0; i < CTL_SINK_EXEC_RUNNING + CTL_SINK_EXEC_QUEUE + extra; i++) {
		d = mk(f, "carrier-a", CTL_ACT_THROTTLE, 5);
		ctl_sinks_emit(f->s, &d, now_ms());
	}
	ctl_sinks_poll(f->s, now_ms());
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(stat_int(f->s, "exec", "running"), CTL_SINK_EXEC_RUNNING);
	assert_int_equal(
		stat_int(f->s, "exec", "pending"), CTL_SINK_EXEC_RUNNING + CTL_SINK_EXEC_QUEUE);
	assert_int_equal(stat_int(f->s, "exec", "dropped"), extra);
	/* teardown's free kills and reaps the four. */
}

/* ------------------------------------------------------------------ */

/* A UDP socket on 127.0.0.1 playing SIPp or Kamailio; returns its port. */
static int
udp_peer(uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(*port);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Every datagram waiting, joined with '|'. */
static void
udp_drain(int fd, char *out, size_t len)
{
	char buf[2048];
	ssize_t r;

	out[0] = '\0';
	while ((r = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) >= 0) {
		buf[r] = '\0';
		if (out[0] != '\0')
			strncat(out, "|", len - strlen(out) - 1);
		strncat(out, buf, len - strlen(out) - 1);
	}
}

static void
sipp_cfg(struct fx *f, uint16_t port)
{
	struct cfg_sipp *c = &f->cfg.sipp[f->cfg.n_sipp++];

	snprintf(c->trunk, sizeof(c->trunk), "carrier-a");
	snprintf(c->address, sizeof(c->address), "127.0.0.1");
	c->port = port;
}

static void
test_sipp_commands(void **state)
{
	struct fx *f = *state;
	static const struct {
		enum ctl_action a;
		const char *trunk;
		uint32_t cps;
		const char *want;
	} steps[] = {
		{ CTL_ACT_THROTTLE, "carrier-a", 10, "cset rate 10" },
		{ CTL_ACT_PAUSE, "carrier-a", 0, "p" },
		{ CTL_ACT_PAUSE, "carrier-a", 0, "" }, /* already paused */
		{ CTL_ACT_ALERT, "carrier-a", 0, "" },
		{ CTL_ACT_THROTTLE, "carrier-b", 3, "" }, /* not this dialer's trunk */
		{ CTL_ACT_THROTTLE, "carrier-a", 5, "cset rate 5|p" },
		{ CTL_ACT_THROTTLE, "carrier-a", 5, "" },
		{ CTL_ACT_PAUSE, "carrier-a", 0, "p" },
		{ CTL_ACT_RESUME, "carrier-a", 0, "cset rate 30|p" },
		{ CTL_ACT_RESUME, "carrier-a", 0, "" },
		{ CTL_ACT_CLEAR, "carrier-a", 0, "" },
		{ CTL_ACT_THROTTLE, "carrier-a", 12, "cset rate 12" },
		{ CTL_ACT_PAUSE, "carrier-a", 0, "p" },
		{ CTL_ACT_RESUME, "carrier-a", 0, "cset rate 30|p" },
	};
	char got[512];
	uint16_t port = 0;
	size_t i;
	int peer;

	peer = udp_peer(&port);
	sipp_cfg(f, port);
	create_ok(f);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct ctl_directive d = mk(f, steps[i].trunk, steps[i].a, steps[i].cps);

		ctl_sinks_emit(f->s, &d, 100 + i);
		ctl_sinks_poll(f->s, 100 + i);
		udp_drain(peer, got, sizeof(got));
		if (strcmp(got, steps[i].want) != 0)
			fail_msg("step %zu: sent \"%s\", want \"%s\"", i, got, steps[i].want);
	}
	assert_int_equal(stat_int(f->s, "sipp", "failed"), 0);
	assert_int_equal(stat_int(f->s, "sipp", "sent"), 11);
	assert_int_equal(stat_int(f->s, "sipp", "pending"), 0);
	close(peer);
}

/* A concurrency cap goes to SIPp's open-call limit, before the rate. */
static void
test_sipp_concurrency(void **state)
{
	struct fx *f = *state;
	struct ctl_directive d;
	char got[512];
	uint16_t port = 0;
	int peer;

	peer = udp_peer(&port);
	sipp_cfg(f, port);
	create_ok(f);
	d = mk(f, "carrier-a", CTL_ACT_THROTTLE, 2);
	d.max_concurrent = 38;
	ctl_sinks_emit(f->s, &d, 100);
	udp_drain(peer, got, sizeof(got));
	assert_string_equal(got, "cset limit 38|cset rate 2");
	/* the same cap, a new rate: only the rate */
	d = mk(f, "carrier-a", CTL_ACT_THROTTLE, 3);
	d.max_concurrent = 38;
	ctl_sinks_emit(f->s, &d, 101);
	udp_drain(peer, got, sizeof(got));
	assert_string_equal(got, "cset rate 3");
	/* lifted: the limit goes out of the way */
	d = mk(f, "carrier-a", CTL_ACT_RESUME, 0);
	ctl_sinks_emit(f->s, &d, 102);
	udp_drain(peer, got, sizeof(got));
	assert_string_equal(got, "cset limit 1000000|cset rate 30");
	assert_int_equal(stat_int(f->s, "sipp", "failed"), 0);
	close(peer);
}

static void
test_sipp_retry(void **state)
{
	struct fx *f = *state;
	char got[512];
	struct ctl_directive d;
	uint16_t port = 0;
	int peer, i;

	/* A port nobody listens on. */
	peer = udp_peer(&port);
	close(peer);
	sipp_cfg(f, port);
	create_ok(f);
	d = mk(f, "carrier-a", CTL_ACT_THROTTLE, 8);
	ctl_sinks_emit(f->s, &d, 1000);
	assert_int_equal(stat_int(f->s, "sipp", "failed"), 1);
	assert_int_equal(stat_int(f->s, "sipp", "pending"), 1);
	ctl_sinks_poll(f->s, 1100);
	assert_int_equal(stat_int(f->s, "sipp", "failed"), 2);
	assert_int_equal(stat_int(f->s, "sipp", "retried"), 1);

	/* SIPp comes up: the next retry lands. */
	peer = udp_peer(&port);
	ctl_sinks_poll(f->s, 1299);
	udp_drain(peer, got, sizeof(got));
	assert_string_equal(got, "");
	ctl_sinks_poll(f->s, 1300);
	udp_drain(peer, got, sizeof(got));
	assert_string_equal(got, "cset rate 8");
	assert_int_equal(stat_int(f->s, "sipp", "sent"), 1);
	assert_int_equal(stat_int(f->s, "sipp", "pending"), 0);

	/* And goes away for good: five tries, then dropped. */
	close(peer);
	d = mk(f, "carrier-a", CTL_ACT_PAUSE, 0);
	ctl_sinks_emit(f->s, &d, 2000);
	for (i = 1; i < 100; i++)
		ctl_sinks_poll(f->s, 2000 + (uint64_t)i * 100);
	assert_int_equal(stat_int(f->s, "sipp", "dropped"), 1);
	assert_int_equal(stat_int(f->s, "sipp", "failed"), 2 + CTL_SINK_MAX_TRIES);
	assert_int_equal(stat_int(f->s, "sipp", "pending"), 0);
}

/* ------------------------------------------------------------------ */

static void
kam_cfg(struct fx *f, uint16_t port, const char *algo)
{
	struct cfg_kamailio *c = &f->cfg.kamailio[f->cfg.n_kamailio++];

	snprintf(c->trunk, sizeof(c->trunk), "carrier-a");
	snprintf(c->address, sizeof(c->address), "127.0.0.1");
	c->port = port;
	snprintf(c->pipe, sizeof(c->pipe), "pipe-a");
	snprintf(c->algorithm, sizeof(c->algorithm), "%s", algo);
}

/*
 * Read one request at the fake Kamailio; check its method and params;
 * return its id and where it came from.
 */
static json_int_t
kam_request(int fd, const char *algo, json_int_t limit, struct sockaddr_storage *from,
	socklen_t *fromlen)
{
	char buf[2048];
	json_error_t jerr;
	json_t *doc;
	json_int_t id;
	ssize_t r;

	*fromlen = sizeof(*from);
	r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)from, fromlen);
	assert_true(r > 0);
	doc = json_loadb(buf, (size_t)r, 0, &jerr);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "jsonrpc")), "2.0");
	assert_string_equal(json_string_value(json_object_get(doc, "method")), "pl.set_pipe");
	assert_int_equal(json_array_size(json_object_get(doc, "params")), 3);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(doc, "params"), 0)), "pipe-a");
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(doc, "params"), 1)), algo);
	assert_true(json_is_integer(json_array_get(json_object_get(doc, "params"), 2)));
	assert_int_equal(
		json_integer_value(json_array_get(json_object_get(doc, "params"), 2)), limit);
	id = json_integer_value(json_object_get(doc, "id"));
	assert_true(id > 0);
	json_decref(doc);
	return id;
}

static void
kam_reply(int fd, const struct sockaddr_storage *to, socklen_t tolen, json_int_t id, bool ok)
{
	char buf[256];
	int n;

	if (ok)
		n = snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":%lld}",
			(long long)id);
	else
		n = snprintf(buf, sizeof(buf),
			"{\"jsonrpc\":\"2.0\",\"error\":{\"code\":400,\"message\":\"Unknown pipe "
			"id "
			"pipe-a\"},\"id\":%lld}",
			(long long)id);
	assert_int_equal(sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)to, tolen), n);
}

static void
test_kamailio(void **state)
{
	struct fx *f = *state;
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct ctl_directive d;
	char got[512], st[64];
	json_int_t id, id2;
	uint16_t port = 0;
	int peer;

	peer = udp_peer(&port);
	kam_cfg(f, port, "RED");
	create_ok(f);

	/* Throttle, answered: delivered. */
	d = mk(f, "carrier-a", CTL_ACT_THROTTLE, 11);
	ctl_sinks_emit(f->s, &d, 1000);
	id = kam_request(peer, "RED", 11, &from, &fromlen);
	stat_str(f->s, "kamailio", "state", st, sizeof(st));
	assert_string_equal(st, "waiting");
	kam_reply(peer, &from, fromlen, id, true);
	ctl_sinks_poll(f->s, 1010);
	assert_int_equal(stat_int(f->s, "kamailio", "sent"), 1);
	assert_int_equal(stat_int(f->s, "kamailio", "limit"), 11);
	assert_int_equal(stat_int(f->s, "kamailio", "pending"), 0);

	/* Other trunks and alerts do not touch the pipe. */
	d = mk(f, "carrier-b", CTL_ACT_PAUSE, 0);
	ctl_sinks_emit(f->s, &d, 1020);
	d = mk(f, "carrier-a", CTL_ACT_ALERT, 0);
	ctl_sinks_emit(f->s, &d, 1020);
	udp_drain(peer, got, sizeof(got));
	assert_string_equal(got, "");

	/* Pause: TAILDROP 0. A JSON-RPC error is a failure, retried. */
	d = mk(f, "carrier-a", CTL_ACT_PAUSE, 0);
	ctl_sinks_emit(f->s, &d, 2000);
	id = kam_request(peer, "TAILDROP", 0, &from, &fromlen);
	kam_reply(peer, &from, fromlen, id, false);
	ctl_sinks_poll(f->s, 2010);
	assert_int_equal(stat_int(f->s, "kamailio", "failed"), 1);
	stat_str(f->s, "kamailio", "last_error", got, sizeof(got));
	assert_string_equal(got, "Unknown pipe id pipe-a");
	ctl_sinks_poll(f->s, 2109);
	udp_drain(peer, got, sizeof(got));
	assert_string_equal(got, "");
	ctl_sinks_poll(f->s, 2110);
	id2 = kam_request(peer, "TAILDROP", 0, &from, &fromlen);
	assert_true(id2 != id);
	assert_int_equal(stat_int(f->s, "kamailio", "retried"), 1);
	/* A late answer to the old request settles nothing. */
	kam_reply(peer, &from, fromlen, id, true);
	ctl_sinks_poll(f->s, 2120);
	assert_int_equal(stat_int(f->s, "kamailio", "sent"), 1);
	kam_reply(peer, &from, fromlen, id2, true);
	ctl_sinks_poll(f->s, 2130);
	assert_int_equal(stat_int(f->s, "kamailio", "sent"), 2);
	assert_int_equal(stat_int(f->s, "kamailio", "limit"), 0);

	/* Resume with no answer: a failure after 2 s, then retried. */
	d = mk(f, "carrier-a", CTL_ACT_RESUME, 0);
	ctl_sinks_emit(f->s, &d, 3000);
	id = kam_request(peer, "RED", 30, &from, &fromlen);
	ctl_sinks_poll(f->s, 3000 + CTL_SINK_RPC_TIMEOUT_MS - 1);
	assert_int_equal(stat_int(f->s, "kamailio", "failed"), 1);
	ctl_sinks_poll(f->s, 3000 + CTL_SINK_RPC_TIMEOUT_MS);
	assert_int_equal(stat_int(f->s, "kamailio", "failed"), 2);
	stat_str(f->s, "kamailio", "last_error", got, sizeof(got));
	assert_non_null(strstr(got, "no reply"));
	ctl_sinks_poll(f->s, 3000 + CTL_SINK_RPC_TIMEOUT_MS + 100);
	id2 = kam_request(peer, "RED", 30, &from, &fromlen);
	assert_true(id2 > id);
	kam_reply(peer, &from, fromlen, id2, true);
	ctl_sinks_poll(f->s, 5200);
	assert_int_equal(stat_int(f->s, "kamailio", "sent"), 3);
	assert_int_equal(stat_int(f->s, "kamailio", "limit"), 30);
	assert_int_equal(stat_int(f->s, "kamailio", "pending"), 0);

	/* Already at that limit: nothing to send. */
	d = mk(f, "carrier-a", CTL_ACT_RESUME, 0);
	ctl_sinks_emit(f->s, &d, 6000);
	udp_drain(peer, got, sizeof(got));
	assert_string_equal(got, "");
	close(peer);
}

/* ------------------------------------------------------------------ */

static void
expect_create_error(struct fx *f, const char *needle)
{
	char err[256] = "";
	struct ctl_sinks *s = ctl_sinks_create(&f->cfg, err, sizeof(err));

	assert_null(s);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
	assert_null(strchr(err, '\n'));
}

static void
test_create_errors(void **state)
{
	struct fx *f = *state;
	struct sg_config base = f->cfg;
	char p[96];

	snprintf(f->cfg.directives.file, sizeof(f->cfg.directives.file), "%s/no/such/dir/d.jsonl",
		f->dir);
	expect_create_error(f, "directives.file: \"");
	expect_create_error(f, "/no/such/dir/d.jsonl\": cannot open: No such file or directory");

	f->cfg = base;
	path_in(f, "plain", p, sizeof(p));
	write_script(p, "exit 0");
	snprintf(f->cfg.directives.socket, sizeof(f->cfg.directives.socket), "%s", p);
	expect_create_error(f, "directives.socket: \"");
	expect_create_error(f, "exists and is not a socket");

	f->cfg = base;
	snprintf(f->cfg.directives.exec, sizeof(f->cfg.directives.exec), "%s/missing.sh", f->dir);
	expect_create_error(f, "directives.exec: \"");
	expect_create_error(f, "not executable");

	f->cfg = base;
	sipp_cfg(f, 8888);
	snprintf(f->cfg.sipp[0].trunk, sizeof(f->cfg.sipp[0].trunk), "carrier-x");
	expect_create_error(f, "sipp[0] (carrier-x).trunk: \"carrier-x\": no such trunk");

	f->cfg = base;
	sipp_cfg(f, 8888);
	snprintf(f->cfg.sipp[0].address, sizeof(f->cfg.sipp[0].address), "sipp.example");
	expect_create_error(f, "sipp[0] (carrier-a).address: \"sipp.example\": not a numeric");

	f->cfg = base;
	kam_cfg(f, 8090, "TAILDROP");
	kam_cfg(f, 8090, "TAILDROP");
	snprintf(f->cfg.kamailio[1].trunk, sizeof(f->cfg.kamailio[1].trunk), "nope");
	expect_create_error(f, "kamailio[1] (nope).trunk: \"nope\": no such trunk");

	/* Nothing configured is fine: no sinks, empty stats. */
	f->cfg = base;
	create_ok(f);
	{
		json_t *arr = ctl_sinks_stats_json(f->s);

		assert_int_equal(json_array_size(arr), 0);
		json_decref(arr);
	}
}

/* Pipe limits count requests per timer_interval: N CPS is N * interval. */
static void
test_kamailio_interval(void **state)
{
	struct fx *f = *state;
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct ctl_directive d;
	json_int_t id;
	uint16_t port = 0;
	int peer;

	peer = udp_peer(&port);
	kam_cfg(f, port, "TAILDROP");
	f->cfg.kamailio[0].timer_interval = 10;
	create_ok(f);
	d = mk(f, "carrier-a", CTL_ACT_THROTTLE, 11);
	ctl_sinks_emit(f->s, &d, 1000);
	id = kam_request(peer, "TAILDROP", 110, &from, &fromlen);
	kam_reply(peer, &from, fromlen, id, true);
	ctl_sinks_poll(f->s, 1010);
	assert_int_equal(stat_int(f->s, "kamailio", "limit"), 110);
	assert_int_equal(stat_int(f->s, "kamailio", "timer_interval"), 10);
	/* a pause is 0 whatever the interval */
	d = mk(f, "carrier-a", CTL_ACT_PAUSE, 0);
	ctl_sinks_emit(f->s, &d, 1020);
	id = kam_request(peer, "TAILDROP", 0, &from, &fromlen);
	kam_reply(peer, &from, fromlen, id, true);
	ctl_sinks_poll(f->s, 1030);
	/* resume: the agreed 30 CPS over 10 s */
	d = mk(f, "carrier-a", CTL_ACT_RESUME, 0);
	ctl_sinks_emit(f->s, &d, 1040);
	id = kam_request(peer, "TAILDROP", 300, &from, &fromlen);
	kam_reply(peer, &from, fromlen, id, true);
	ctl_sinks_poll(f->s, 1050);
	assert_int_equal(stat_int(f->s, "kamailio", "limit"), 300);
	close(peer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_lines_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_retry_and_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dgram_subscribers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dgram_limit_and_full_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_timeout_kills_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_retry_then_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_queue_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sipp_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sipp_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sipp_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kamailio_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kamailio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
	};

	/* A subscriber that vanished must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
