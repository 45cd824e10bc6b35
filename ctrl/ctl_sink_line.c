/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sinks that carry a directive's JSON line as it is (see ctl_sink.h):
 * the JSON-lines file, the unix datagram subscribers and the exec hook.
 *
 * Separate from the set of sinks (ctl_sink.c, which opens them, fans each
 * directive out and reports on them) and from the adapters (ctl_adapter.c,
 * which translate a directive into a peer's own control protocol): each
 * of these three delivers the same line and only has to get it there,
 * with its own queue, retry and cleanup. The file and the hook retry on
 * the set's backoff (ctl_sink_backoff); the subscribers are a live feed
 * and never retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_directive.h"
#include "ctl_sink_line.h"
#include "ctl_util.h"

extern char **environ;

#define CTL_SINK_DGRAM_BURST 64 /* requests served per poll */

/* ------------------------------------------------------------------ */
/* JSON-lines file */

int
ctl_file_open(struct ctl_file_sink *f)
{
	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
	return f->fd < 0 ? -1 : 0;
}

/*
 * The file may have been removed or rotated under us: write to whatever
 * the path names now, so that readers of the path see every line.
 */
static int
ctl_file_ensure(struct ctl_file_sink *f)
{
	struct stat ps, fs;

	if (f->fd >= 0) {
		if (stat(f->path, &ps) == 0 && fstat(f->fd, &fs) == 0 && ps.st_dev == fs.st_dev &&
			ps.st_ino == fs.st_ino)
			return 0;
		close(f->fd);
		f->fd = -1;
	}
	return ctl_file_open(f);
}

static void
ctl_file_pop(struct ctl_file_sink *f)
{
	f->head = (f->head + 1) % CTL_SINK_FILE_QUEUE;
	f->n--;
	f->off = 0;
	f->tries = 0;
	f->next_ms = 0;
}

/* Write queued lines until the queue is empty or an attempt fails. */
void
ctl_file_run(struct ctl_sinks *s, struct ctl_file_sink *f, uint64_t now_ms)
{
	while (f->n > 0 && now_ms >= f->next_ms) {
		struct ctl_line *l = &f->q[f->head];
		ssize_t w = -1;

		if (f->tries > 0)
			f->c.retried++;
		if (ctl_file_ensure(f) == 0 && f->torn) {
			if (write(f->fd, "\n", 1) == 1)
				f->torn = false;
		}
		if (f->fd >= 0 && !f->torn)
			w = write(f->fd, l->buf + f->off, l->len - f->off);
		if (w > 0)
			f->off += (size_t)w;
		if (f->off == l->len) {
			f->c.sent++;
			ctl_file_pop(f);
			continue;
		}
		/* Failed or short (disk full): reopen and retry later. */
		f->c.failed++;
		f->tries++;
		if (f->fd >= 0) {
			close(f->fd);
			f->fd = -1;
		}
		if (f->tries >= CTL_SINK_MAX_TRIES) {
			f->c.dropped++;
			if (f->off > 0)
				f->torn = true;
			ctl_file_pop(f);
			/* The next line waits one backoff: the file is failing. */
			f->next_ms = now_ms + ctl_sink_backoff(s, 1);
			continue;
		}
		f->next_ms = now_ms + ctl_sink_backoff(s, f->tries);
		break;
	}
}

void
ctl_file_emit(
	struct ctl_sinks *s, struct ctl_file_sink *f, const char *line, size_t len, uint64_t now_ms)
{
	struct ctl_line *l;

	if (f->n == CTL_SINK_FILE_QUEUE || len + 1 > sizeof(l->buf)) {
		f->c.dropped++;
		return;
	}
	l = &f->q[(f->head + f->n) % CTL_SINK_FILE_QUEUE];
	memcpy(l->buf, line, len);
	l->buf[len] = '\n';
	l->len = len + 1;
	f->n++;
	ctl_file_run(s, f, now_ms);
}

/* ------------------------------------------------------------------ */
/* Unix datagram subscribers */

static int
ctl_dgram_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

int
ctl_dgram_open(struct ctl_dgram_sink *g, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int probe;

	if (ctl_dgram_addr(g->path, &sa) < 0) {
		ctl_seterr(err, errlen, "directives.socket: \"%s\": path too long", g->path);
		return -1;
	}
	if (lstat(g->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ctl_seterr(err, errlen,
				"directives.socket: \"%s\": exists and is not a socket", g->path);
			return -1;
		}
		/* A socket file nobody is bound to is left over: replace it. */
		probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			ctl_seterr(err, errlen,
				"directives.socket: \"%s\": in use by another process", g->path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(g->path) < 0 && errno != ENOENT) {
			ctl_seterr(err, errlen, "directives.socket: \"%s\": cannot remove: %s",
				g->path, strerror(errno));
			return -1;
		}
	}
	g->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->fd < 0) {
		ctl_seterr(err, errlen, "directives.socket: socket: %s", strerror(errno));
		return -1;
	}
	if (bind(g->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ctl_seterr(err, errlen, "directives.socket: \"%s\": cannot bind: %s", g->path,
			strerror(errno));
		return -1;
	}
	if (chmod(g->path, 0660) < 0 || stat(g->path, &st) < 0) {
		ctl_seterr(err, errlen, "directives.socket: \"%s\": %s", g->path, strerror(errno));
		return -1;
	}
	g->dev = st.st_dev;
	g->ino = st.st_ino;
	return 0;
}

static int
ctl_dgram_find(const struct ctl_dgram_sink *g, const struct sockaddr_un *a, socklen_t len)
{
	uint32_t i;

	for (i = 0; i < g->nsubs; i++)
		if (g->subs[i].len == len && memcmp(&g->subs[i].addr, a, len) == 0)
			return (int)i;
	return -1;
}

static void
ctl_dgram_remove(struct ctl_dgram_sink *g, uint32_t i)
{
	g->subs[i] = g->subs[g->nsubs - 1];
	g->nsubs--;
}

static void
ctl_dgram_reply(
	struct ctl_dgram_sink *g, const struct sockaddr_un *a, socklen_t len, const char *msg)
{
	/* Best effort: a requester that cannot take its answer loses it. */
	(void)sendto(g->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
		(const struct sockaddr *)a, len);
}

void
ctl_dgram_poll(struct ctl_dgram_sink *g)
{
	char buf[64];
	int i;

	for (i = 0; i < CTL_SINK_DGRAM_BURST; i++) {
		struct sockaddr_un a;
		socklen_t len = sizeof(a);
		ssize_t r;
		int idx;

		memset(&a, 0, sizeof(a));
		r = recvfrom(
			g->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&a, &len);
		if (r < 0)
			break;
		/* An unbound sender has no address to send directives to. */
		if (len <= offsetof(struct sockaddr_un, sun_path) || len > sizeof(a))
			continue;
		while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == '\r'))
			r--;
		buf[r] = '\0';
		idx = ctl_dgram_find(g, &a, len);
		if (strcmp(buf, "subscribe") == 0) {
			if (idx >= 0)
				continue;
			if (g->nsubs == CTL_SINK_MAX_SUBSCRIBERS) {
				g->refused++;
				ctl_dgram_reply(g, &a, len, "error: too many subscribers");
				continue;
			}
			g->subs[g->nsubs].addr = a;
			g->subs[g->nsubs].len = len;
			g->nsubs++;
		} else if (strcmp(buf, "unsubscribe") == 0) {
			if (idx >= 0)
				ctl_dgram_remove(g, (uint32_t)idx);
		} else {
			ctl_dgram_reply(g, &a, len, "error: unknown request");
		}
	}
}

/*
 * A live feed: no queue, no retry. A subscriber whose queue is full
 * misses this directive; one whose socket is gone is forgotten.
 */
void
ctl_dgram_emit(struct ctl_dgram_sink *g, const char *line, size_t len)
{
	uint32_t i = 0;

	ctl_dgram_poll(g);
	while (i < g->nsubs) {
		struct ctl_subscriber *sub = &g->subs[i];

		if (sendto(g->fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			    (const struct sockaddr *)&sub->addr, sub->len) == (ssize_t)len) {
			g->c.sent++;
		} else if (errno == ECONNREFUSED || errno == ENOENT || errno == ENOTDIR) {
			g->gone++;
			g->c.dropped++;
			ctl_dgram_remove(g, i);
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			g->c.dropped++;
		} else {
			g->c.failed++;
		}
		i++;
	}
}

/* ------------------------------------------------------------------ */
/* Exec hook */

uint32_t
ctl_exec_slots(void)
{
	return CTL_SINK_EXEC_QUEUE + CTL_SINK_EXEC_RUNNING;
}

/*
 * The hook's environment: ours without any SG_* variable, then the
 * directive's fields. Returns a malloc'd array pointing into vars.
 */
static char **
ctl_exec_env(const struct ctl_exec_job *j, char *vars, size_t vlen)
{
	const struct ctl_directive *d = &j->d;
	size_t n = 0, k = 0, off = 0;
	char **env;
	int w;

	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + 9, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SG_", 3) != 0)
			env[k++] = environ[i];
#define CTL_EXEC_VAR(...)                                          \
	do {                                                       \
		w = snprintf(vars + off, vlen - off, __VA_ARGS__); \
		if (w < 0 || (size_t)w >= vlen - off) {            \
			free(env);                                 \
			return NULL;                               \
		}                                                  \
		env[k++] = vars + off;                             \
		off += (size_t)w + 1;                              \
	} while (0)
	CTL_EXEC_VAR("SG_SEQ=%" PRIu64, d->seq);
	CTL_EXEC_VAR("SG_TIME=%" PRIu64, d->time_ms);
	CTL_EXEC_VAR("SG_TRUNK=%.*s", (int)sizeof(d->trunk_name), d->trunk_name);
	CTL_EXEC_VAR("SG_ACTION=%s", ctl_action_name(d->action));
	CTL_EXEC_VAR("SG_CPS_LIMIT=%" PRIu32, d->cps_limit);
	CTL_EXEC_VAR("SG_DURATION=%" PRIu32, d->duration_s);
	CTL_EXEC_VAR("SG_CAUSE=%s", ctl_cause_name(d->cause));
	CTL_EXEC_VAR("SG_JSON=%.*s", (int)j->len, j->line);
#undef CTL_EXEC_VAR
	env[k] = NULL;
	return env;
}

static int
ctl_exec_spawn(struct ctl_exec_sink *x, struct ctl_exec_job *j)
{
	char vars[CTL_SINK_LINE_MAX + 512];
	char *argv[] = { x->path, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char **env;
	pid_t pid;
	int rc;

	env = ctl_exec_env(j, vars, sizeof(vars));
	if (env == NULL)
		return -1;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	/*
	 * Its own process group, so that a timeout kills whatever the hook
	 * started too; default signal handling and an empty mask, whatever
	 * the daemon set for itself.
	 */
	posix_spawnattr_setflags(
		&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	rc = posix_spawn(&pid, x->path, &fa, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (rc != 0)
		return -1;
	j->pid = pid;
	j->killed = false;
	return 0;
}

static void
ctl_exec_failed(
	struct ctl_sinks *s, struct ctl_exec_sink *x, struct ctl_exec_job *j, uint64_t now_ms)
{
	x->c.failed++;
	j->pid = 0;
	j->tries++;
	if (j->tries >= CTL_SINK_MAX_TRIES) {
		x->c.dropped++;
		j->used = false;
		return;
	}
	j->next_ms = now_ms + ctl_sink_backoff(s, j->tries);
	j->order = x->order++;
	x->nwaiting++;
}

/* Start the oldest due jobs while fewer than CTL_SINK_EXEC_RUNNING run. */
static void
ctl_exec_start(struct ctl_sinks *s, struct ctl_exec_sink *x, uint64_t now_ms)
{
	while (x->nrunning < CTL_SINK_EXEC_RUNNING && x->nwaiting > 0) {
		struct ctl_exec_job *best = NULL;
		uint32_t i;

		for (i = 0; i < ctl_exec_slots(); i++) {
			struct ctl_exec_job *j = &x->jobs[i];

			if (!j->used || j->pid != 0 || j->next_ms > now_ms)
				continue;
			if (best == NULL || j->order < best->order)
				best = j;
		}
		if (best == NULL)
			return;
		x->nwaiting--;
		if (best->tries > 0)
			x->c.retried++;
		if (ctl_exec_spawn(x, best) < 0) {
			ctl_exec_failed(s, x, best, now_ms);
			continue;
		}
		best->start_ms = now_ms;
		x->nrunning++;
	}
}

void
ctl_exec_poll(struct ctl_sinks *s, struct ctl_exec_sink *x, uint64_t now_ms)
{
	uint32_t i;

	for (i = 0; i < ctl_exec_slots(); i++) {
		struct ctl_exec_job *j = &x->jobs[i];
		int status;
		pid_t r;

		if (!j->used || j->pid == 0)
			continue;
		r = waitpid(j->pid, &status, WNOHANG);
		if (r == 0) {
			if (!j->killed && now_ms - j->start_ms >= x->timeout_ms) {
				kill(-j->pid, SIGKILL);
				kill(j->pid, SIGKILL);
				j->killed = true;
				x->timeouts++;
			}
			continue;
		}
		x->nrunning--;
		if (r < 0) {
			/* ECHILD: someone else reaped it; its outcome is unknown. */
			x->c.sent++;
			j->used = false;
			continue;
		}
		if (j->killed)
			kill(-j->pid, SIGKILL); /* what it left behind in its group */
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !j->killed) {
			x->c.sent++;
			j->used = false;
		} else {
			ctl_exec_failed(s, x, j, now_ms);
		}
	}
	ctl_exec_start(s, x, now_ms);
}

void
ctl_exec_emit(struct ctl_sinks *s, struct ctl_exec_sink *x, const struct ctl_directive *d,
	const char *line, size_t len, uint64_t now_ms)
{
	struct ctl_exec_job *j = NULL;
	uint32_t i;

	if (x->nwaiting >= CTL_SINK_EXEC_QUEUE || len >= sizeof(j->line)) {
		x->c.dropped++;
		return;
	}
	for (i = 0; i < ctl_exec_slots() && j == NULL; i++)
		if (!x->jobs[i].used)
			j = &x->jobs[i];
	if (j == NULL) {
		x->c.dropped++;
		return;
	}
	memset(j, 0, offsetof(struct ctl_exec_job, line));
	j->used = true;
	j->d = *d;
	j->len = len;
	memcpy(j->line, line, len);
	j->line[len] = '\0';
	j->order = x->order++;
	j->next_ms = now_ms;
	x->nwaiting++;
	ctl_exec_start(s, x, now_ms);
}

void
ctl_exec_free(struct ctl_exec_sink *x)
{
	uint32_t i;

	for (i = 0; i < ctl_exec_slots(); i++) {
		struct ctl_exec_job *j = &x->jobs[i];

		if (!j->used || j->pid == 0)
			continue;
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
		/* SIGKILL cannot be caught: this wait is short. */
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(x->jobs);
	free(x);
}
