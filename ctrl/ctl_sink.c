/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Directive sinks (see ctl_sink.h). Each sink keeps its own small state
 * machine advanced by ctl_sinks_emit() and ctl_sinks_poll(); a failed
 * attempt is retried after retry_base ms, doubling up to retry_max, at most
 * CTL_SINK_MAX_TRIES times, and then dropped. The two adapters keep the
 * state they want the far end to be in and the state they last delivered,
 * and send only the difference: a retry never repeats a toggle that
 * already arrived, and a directive superseded while waiting is never sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
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

#include <jansson.h>

#include "cfg.h"
#include "ctl_directive.h"
#include "ctl_util.h"
#include "ctl_sink.h"

extern char **environ;

#define CTL_SINK_DGRAM_BURST 64 /* requests served per poll */
#define CTL_SINK_RPC_BURST 16	/* replies read per poll and adapter */
#define CTL_SINK_SIPP_CMD_MAX 64
#define CTL_SINK_SIPP_NO_LIMIT 1000000 /* open calls: a limit that never bites */

struct ctl_sink_count {
	uint64_t sent;
	uint64_t failed;
	uint64_t retried;
	uint64_t dropped;
};

struct ctl_line {
	size_t len;
	char buf[CTL_SINK_LINE_MAX];
};

struct ctl_file_sink {
	char path[sizeof(((struct cfg_directives *)0)->file)];
	int fd;
	struct ctl_line *q; /* ring of CTL_SINK_FILE_QUEUE lines */
	uint32_t head;
	uint32_t n;
	size_t off; /* bytes of the head line already in the file */
	bool torn;  /* a line was dropped half-written: start with '\n' */
	uint32_t tries;
	uint64_t next_ms;
	struct ctl_sink_count c;
};

struct ctl_subscriber {
	struct sockaddr_un addr;
	socklen_t len;
};

struct ctl_dgram_sink {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	dev_t dev;
	ino_t ino;
	struct ctl_subscriber subs[CTL_SINK_MAX_SUBSCRIBERS];
	uint32_t nsubs;
	uint64_t refused; /* subscribe requests over the limit */
	uint64_t gone;	  /* subscribers dropped because their socket vanished */
	struct ctl_sink_count c;
};

struct ctl_exec_job {
	bool used;
	pid_t pid; /* 0: waiting */
	bool killed;
	uint32_t tries;	  /* attempts that failed */
	uint64_t order;	  /* FIFO among waiting jobs */
	uint64_t next_ms; /* earliest start */
	uint64_t start_ms;
	struct ctl_directive d;
	size_t len;
	char line[CTL_SINK_LINE_MAX];
};

struct ctl_exec_sink {
	char path[sizeof(((struct cfg_directives *)0)->exec)];
	uint64_t timeout_ms;
	struct ctl_exec_job *jobs; /* CTL_SINK_EXEC_QUEUE + CTL_SINK_EXEC_RUNNING */
	uint32_t nrunning;
	uint32_t nwaiting;
	uint64_t order;
	uint64_t timeouts;
	struct ctl_sink_count c;
};

/* What a SIPp dialer is (or is to be) doing. */
struct ctl_sipp_state {
	bool paused;
	bool rate_known;
	uint32_t rate;
	uint32_t calls; /* SIPp's open-call limit (`-l`), 0: never set by us */
};

struct ctl_sipp {
	char trunk[SG_TRUNK_NAME_MAX];
	char target[96];
	uint32_t agreed;
	int fd;
	struct ctl_sipp_state want;
	struct ctl_sipp_state have;
	uint32_t pending; /* directives accepted, not yet delivered */
	uint32_t tries;
	uint64_t next_ms;
	struct ctl_sink_count c;
};

struct ctl_kam_pipe {
	int64_t limit; /* -1: unknown / nothing wanted */
	char algo[sizeof(((struct cfg_kamailio *)0)->algorithm)];
};

struct ctl_kamailio {
	char trunk[SG_TRUNK_NAME_MAX];
	char target[96];
	char pipe[SG_TRUNK_NAME_MAX];
	char algo[sizeof(((struct cfg_kamailio *)0)->algorithm)];
	uint32_t agreed;
	uint32_t interval; /* the pipelimit's timer_interval, s */
	int fd;
	struct ctl_kam_pipe want;
	struct ctl_kam_pipe have;
	struct ctl_kam_pipe inflight;
	uint64_t inflight_id; /* 0: no request outstanding */
	uint64_t deadline_ms;
	uint64_t next_id;
	uint32_t pending;
	uint32_t tries;
	uint64_t next_ms;
	char last_error[128];
	struct ctl_sink_count c;
};

struct ctl_sinks {
	uint32_t retry_base_ms;
	uint32_t retry_max_ms;
	struct ctl_file_sink *file;
	struct ctl_dgram_sink *dgram;
	struct ctl_exec_sink *exec;
	struct ctl_sipp sipp[CFG_MAX_ADAPTERS];
	uint32_t n_sipp;
	struct ctl_kamailio kam[CFG_MAX_ADAPTERS];
	uint32_t n_kam;
};

/* Delay before attempt tries + 1, tries >= 1: base, 2 base, ... max. */
static uint64_t
ctl_sink_backoff(const struct ctl_sinks *s, uint32_t tries)
{
	uint64_t d = s->retry_base_ms;
	uint32_t i;

	for (i = 1; i < tries && d < s->retry_max_ms; i++)
		d *= 2;
	return d < s->retry_max_ms ? d : s->retry_max_ms;
}

/* ------------------------------------------------------------------ */
/* JSON-lines file */

static int
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
static void
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

static void
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

static int
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

static void
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
static void
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

static uint32_t
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

static void
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

static void
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

static void
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

/* ------------------------------------------------------------------ */
/* UDP adapters: shared helpers */

static int
ctl_udp_open(const char *address, uint16_t port, const char *what, char *target, size_t tlen,
	char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char service[8];
	int fd, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	/* Numeric only: a DNS lookup could block the loop. */
	rc = getaddrinfo(address, service, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		ctl_seterr(err, errlen, "%s.address: \"%s\": not a numeric IPv4 or IPv6 address",
			what, address);
		if (ai != NULL)
			freeaddrinfo(ai);
		return -1;
	}
	snprintf(target, tlen, strchr(address, ':') != NULL ? "[%s]:%u" : "%s:%u", address, port);
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/*
	 * Connected: replies from anyone else are filtered out, and a port
	 * nobody listens on comes back as ECONNREFUSED.
	 */
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		ctl_seterr(err, errlen, "%s: %s: %s", what, target, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/*
 * Send one datagram. On loopback an ICMP port-unreachable is processed
 * before send() returns, so the socket error read right after belongs to
 * this datagram; from farther away it shows up at the next send.
 */
static int
ctl_udp_send(int fd, const char *buf, size_t len)
{
	socklen_t elen = sizeof(int);
	int soerr = 0;

	if (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) == 0 && soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static const struct cfg_trunk *
ctl_sink_trunk(const struct sg_config *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->n_trunks; i++)
		if (strcmp(cfg->trunks[i].name, name) == 0)
			return &cfg->trunks[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* SIPp remote control */

static bool
ctl_sipp_synced(const struct ctl_sipp *p)
{
	if (p->want.calls != p->have.calls)
		return false;
	if (p->want.paused)
		return p->have.paused;
	if (p->want.rate_known && (!p->have.rate_known || p->have.rate != p->want.rate))
		return false;
	return !p->have.paused;
}

static void
ctl_sipp_give_up(struct ctl_sipp *p)
{
	p->c.dropped += p->pending;
	p->pending = 0;
	p->tries = 0;
	p->want = p->have;
}

/*
 * Bring SIPp from `have` to `want`. `p` toggles pause, so it is sent only
 * when the states differ. To leave a pause the rate is set first: SIPp
 * keeps the rate while paused and restarts at whatever it holds, so it
 * never dials at the old rate in between.
 */
static void
ctl_sipp_run(struct ctl_sinks *s, struct ctl_sipp *p, uint64_t now_ms)
{
	char cmd[CTL_SINK_SIPP_CMD_MAX];
	int steps;

	/* At most a rate and a toggle per change; the bound is a safety net. */
	for (steps = 0; steps < 4 && p->pending > 0 && now_ms >= p->next_ms; steps++) {
		bool set_rate = false;

		if (ctl_sipp_synced(p)) {
			p->c.sent += p->pending;
			p->pending = 0;
			p->tries = 0;
			return;
		}
		bool set_calls = false;

		if (p->want.calls != p->have.calls) {
			snprintf(cmd, sizeof(cmd), "cset limit %" PRIu32, p->want.calls);
			set_calls = true;
		} else if (!p->want.paused && p->want.rate_known &&
			(!p->have.rate_known || p->have.rate != p->want.rate)) {
			snprintf(cmd, sizeof(cmd), "cset rate %" PRIu32, p->want.rate);
			set_rate = true;
		} else {
			snprintf(cmd, sizeof(cmd), "p");
		}
		if (p->tries > 0)
			p->c.retried++;
		if (ctl_udp_send(p->fd, cmd, strlen(cmd)) < 0) {
			p->c.failed++;
			p->tries++;
			if (p->tries >= CTL_SINK_MAX_TRIES) {
				ctl_sipp_give_up(p);
				return;
			}
			p->next_ms = now_ms + ctl_sink_backoff(s, p->tries);
			return;
		}
		p->tries = 0;
		if (set_calls) {
			p->have.calls = p->want.calls;
		} else if (set_rate) {
			p->have.rate = p->want.rate;
			p->have.rate_known = true;
		} else {
			p->have.paused = !p->have.paused;
		}
	}
}

static void
ctl_sipp_emit(
	struct ctl_sinks *s, struct ctl_sipp *p, const struct ctl_directive *d, uint64_t now_ms)
{
	switch (d->action) {
	case CTL_ACT_PAUSE:
		p->want.paused = true;
		break;
	case CTL_ACT_THROTTLE:
		p->want.paused = false;
		p->want.rate = d->cps_limit;
		p->want.rate_known = true;
		/*
		 * A concurrency cap goes to SIPp's open-call limit; once lifted
		 * the limit goes up out of the way (SIPp has no "unlimited").
		 */
		if (d->max_concurrent > 0)
			p->want.calls = d->max_concurrent;
		else if (p->have.calls > 0)
			p->want.calls = CTL_SINK_SIPP_NO_LIMIT;
		break;
	case CTL_ACT_RESUME:
		/* the directive carries the agreed rate, which `set` may change */
		if (d->cps_limit > 0)
			p->agreed = d->cps_limit;
		p->want.paused = false;
		p->want.rate = p->agreed;
		p->want.rate_known = true;
		if (p->have.calls > 0)
			p->want.calls = CTL_SINK_SIPP_NO_LIMIT;
		break;
	default:
		return; /* alerts are for people, not dialers */
	}
	p->pending++;
	/* A new goal starts a fresh series of attempts. */
	p->tries = 0;
	p->next_ms = 0;
	ctl_sipp_run(s, p, now_ms);
}

/* ------------------------------------------------------------------ */
/* Kamailio pipelimit through JSON-RPC */

static bool
ctl_kam_same(const struct ctl_kam_pipe *a, const struct ctl_kam_pipe *b)
{
	return a->limit == b->limit && strcmp(a->algo, b->algo) == 0;
}

static void
ctl_kam_failed(struct ctl_sinks *s, struct ctl_kamailio *k, uint64_t now_ms)
{
	k->inflight_id = 0;
	k->c.failed++;
	k->tries++;
	if (k->tries >= CTL_SINK_MAX_TRIES) {
		k->c.dropped += k->pending;
		k->pending = 0;
		k->tries = 0;
		k->want = k->have;
		return;
	}
	k->next_ms = now_ms + ctl_sink_backoff(s, k->tries);
}

static void
ctl_kam_run(struct ctl_sinks *s, struct ctl_kamailio *k, uint64_t now_ms)
{
	char req[512];
	json_t *doc;
	size_t n = 0;

	if (k->pending == 0 || k->inflight_id != 0 || now_ms < k->next_ms)
		return;
	if (ctl_kam_same(&k->want, &k->have)) {
		k->c.sent += k->pending;
		k->pending = 0;
		k->tries = 0;
		return;
	}
	k->inflight = k->want;
	k->inflight_id = ++k->next_id;
	doc = json_pack("{s:s, s:s, s:[s, s, I], s:I}", "jsonrpc", "2.0", "method", "pl.set_pipe",
		"params", k->pipe, k->inflight.algo, (json_int_t)k->inflight.limit, "id",
		(json_int_t)k->inflight_id);
	if (doc != NULL)
		n = json_dumpb(doc, req, sizeof(req), JSON_COMPACT);
	json_decref(doc);
	if (k->tries > 0)
		k->c.retried++;
	if (n == 0 || n > sizeof(req) || ctl_udp_send(k->fd, req, n) < 0) {
		snprintf(k->last_error, sizeof(k->last_error), "send: %s",
			n == 0 || n > sizeof(req) ? "request too long" : strerror(errno));
		ctl_kam_failed(s, k, now_ms);
		return;
	}
	k->deadline_ms = now_ms + CTL_SINK_RPC_TIMEOUT_MS;
}

/* Read replies; one that matches the outstanding request settles it. */
static void
ctl_kam_poll(struct ctl_sinks *s, struct ctl_kamailio *k, uint64_t now_ms)
{
	char buf[4096];
	int i;

	for (i = 0; i < CTL_SINK_RPC_BURST; i++) {
		json_error_t jerr;
		json_t *doc, *id, *e;
		ssize_t r;

		r = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			continue; /* a late ICMP error: the deadline handles it */
		}
		if (k->inflight_id == 0)
			continue;
		doc = json_loadb(buf, (size_t)r, 0, &jerr);
		if (doc == NULL)
			continue;
		id = json_object_get(doc, "id");
		if (!json_is_integer(id) || (uint64_t)json_integer_value(id) != k->inflight_id) {
			json_decref(doc);
			continue; /* an answer to a request we gave up on */
		}
		e = json_object_get(doc, "error");
		if (e != NULL) {
			json_t *m = json_object_get(e, "message");

			snprintf(k->last_error, sizeof(k->last_error), "%s",
				json_is_string(m) ? json_string_value(m) : "JSON-RPC error");
			json_decref(doc);
			ctl_kam_failed(s, k, now_ms);
			continue;
		}
		json_decref(doc);
		k->have = k->inflight;
		k->inflight_id = 0;
		k->tries = 0;
	}
	if (k->inflight_id != 0 && now_ms >= k->deadline_ms) {
		snprintf(k->last_error, sizeof(k->last_error), "no reply within %u ms",
			CTL_SINK_RPC_TIMEOUT_MS);
		ctl_kam_failed(s, k, now_ms);
	}
	ctl_kam_run(s, k, now_ms);
}

/*
 * Pause is TAILDROP with limit 0: TAILDROP admits a request while the
 * pipe's count in the current timer interval is <= limit, so 0 rejects
 * every one, whatever algorithm the pipe normally uses (RED with limit 0
 * would stop updating its load and let traffic through). Resume puts
 * back the configured algorithm at the agreed rate. Limits are per timer
 * interval: a rate of N CPS is N * timer_interval.
 */
static void
ctl_kam_emit(
	struct ctl_sinks *s, struct ctl_kamailio *k, const struct ctl_directive *d, uint64_t now_ms)
{
	switch (d->action) {
	case CTL_ACT_PAUSE:
		k->want.limit = 0;
		snprintf(k->want.algo, sizeof(k->want.algo), "TAILDROP");
		break;
	case CTL_ACT_THROTTLE:
		/* no concurrency here: pipelimit limits the rate only */
		k->want.limit = (int64_t)d->cps_limit * k->interval;
		memcpy(k->want.algo, k->algo, sizeof(k->want.algo));
		break;
	case CTL_ACT_RESUME:
		if (d->cps_limit > 0)
			k->agreed = d->cps_limit;
		k->want.limit = (int64_t)k->agreed * k->interval;
		memcpy(k->want.algo, k->algo, sizeof(k->want.algo));
		break;
	default:
		return;
	}
	k->pending++;
	k->tries = 0;
	k->next_ms = 0;
	ctl_kam_run(s, k, now_ms);
}

/* ------------------------------------------------------------------ */
/* The set of sinks */

struct ctl_sinks *
ctl_sinks_create(const struct sg_config *cfg, char *err, size_t errlen)
{
	const struct cfg_directives *dc = &cfg->directives;
	struct ctl_sinks *s;
	uint32_t i;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		ctl_seterr(err, errlen, "directives: out of memory");
		return NULL;
	}
	s->retry_base_ms = dc->retry_base_ms > 0 ? dc->retry_base_ms : 1;
	s->retry_max_ms = dc->retry_max_ms > s->retry_base_ms ? dc->retry_max_ms : s->retry_base_ms;
	for (i = 0; i < CFG_MAX_ADAPTERS; i++) {
		s->sipp[i].fd = -1;
		s->kam[i].fd = -1;
	}

	if (dc->file[0] != '\0') {
		s->file = calloc(1, sizeof(*s->file));
		if (s->file == NULL ||
			(s->file->q = calloc(CTL_SINK_FILE_QUEUE, sizeof(*s->file->q))) == NULL) {
			ctl_seterr(err, errlen, "directives.file: out of memory");
			goto fail;
		}
		snprintf(s->file->path, sizeof(s->file->path), "%s", dc->file);
		if (ctl_file_open(s->file) < 0) {
			ctl_seterr(err, errlen, "directives.file: \"%s\": cannot open: %s",
				dc->file, strerror(errno));
			goto fail;
		}
	}
	if (dc->socket[0] != '\0') {
		s->dgram = calloc(1, sizeof(*s->dgram));
		if (s->dgram == NULL) {
			ctl_seterr(err, errlen, "directives.socket: out of memory");
			goto fail;
		}
		s->dgram->fd = -1;
		snprintf(s->dgram->path, sizeof(s->dgram->path), "%s", dc->socket);
		if (ctl_dgram_open(s->dgram, err, errlen) < 0)
			goto fail;
	}
	if (dc->exec[0] != '\0') {
		if (access(dc->exec, X_OK) < 0) {
			ctl_seterr(err, errlen, "directives.exec: \"%s\": not executable: %s",
				dc->exec, strerror(errno));
			goto fail;
		}
		s->exec = calloc(1, sizeof(*s->exec));
		if (s->exec == NULL ||
			(s->exec->jobs = calloc(ctl_exec_slots(), sizeof(*s->exec->jobs))) ==
				NULL) {
			ctl_seterr(err, errlen, "directives.exec: out of memory");
			goto fail;
		}
		snprintf(s->exec->path, sizeof(s->exec->path), "%s", dc->exec);
		s->exec->timeout_ms =
			(uint64_t)(dc->exec_timeout_s > 0 ? dc->exec_timeout_s : 1) * 1000;
	}
	for (i = 0; i < cfg->n_sipp && i < CFG_MAX_ADAPTERS; i++) {
		const struct cfg_sipp *c = &cfg->sipp[i];
		struct ctl_sipp *p = &s->sipp[i];
		const struct cfg_trunk *t = ctl_sink_trunk(cfg, c->trunk);
		char what[64];

		snprintf(what, sizeof(what), "sipp[%u] (%s)", i, c->trunk);
		if (t == NULL) {
			ctl_seterr(err, errlen, "%s.trunk: \"%s\": no such trunk", what, c->trunk);
			goto fail;
		}
		snprintf(p->trunk, sizeof(p->trunk), "%s", c->trunk);
		p->agreed = t->cps;
		p->fd = ctl_udp_open(
			c->address, c->port, what, p->target, sizeof(p->target), err, errlen);
		if (p->fd < 0)
			goto fail;
		s->n_sipp++;
	}
	for (i = 0; i < cfg->n_kamailio && i < CFG_MAX_ADAPTERS; i++) {
		const struct cfg_kamailio *c = &cfg->kamailio[i];
		struct ctl_kamailio *k = &s->kam[i];
		const struct cfg_trunk *t = ctl_sink_trunk(cfg, c->trunk);
		char what[64];

		snprintf(what, sizeof(what), "kamailio[%u] (%s)", i, c->trunk);
		if (t == NULL) {
			ctl_seterr(err, errlen, "%s.trunk: \"%s\": no such trunk", what, c->trunk);
			goto fail;
		}
		snprintf(k->trunk, sizeof(k->trunk), "%s", c->trunk);
		snprintf(k->pipe, sizeof(k->pipe), "%s", c->pipe);
		snprintf(k->algo, sizeof(k->algo), "%s", c->algorithm);
		k->agreed = t->cps;
		k->interval = c->timer_interval > 0 ? c->timer_interval : 1;
		k->want.limit = -1;
		k->have.limit = -1;
		k->fd = ctl_udp_open(
			c->address, c->port, what, k->target, sizeof(k->target), err, errlen);
		if (k->fd < 0)
			goto fail;
		s->n_kam++;
	}
	return s;
fail:
	ctl_sinks_free(s);
	return NULL;
}

void
ctl_sinks_free(struct ctl_sinks *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	if (s->file != NULL) {
		if (s->file->fd >= 0)
			close(s->file->fd);
		free(s->file->q);
		free(s->file);
	}
	if (s->dgram != NULL) {
		struct stat st;

		if (s->dgram->fd >= 0) {
			/* Remove the socket file only if it is still ours. */
			if (stat(s->dgram->path, &st) == 0 && st.st_dev == s->dgram->dev &&
				st.st_ino == s->dgram->ino)
				unlink(s->dgram->path);
			close(s->dgram->fd);
		}
		free(s->dgram);
	}
	if (s->exec != NULL)
		ctl_exec_free(s->exec);
	for (i = 0; i < CFG_MAX_ADAPTERS; i++) {
		if (s->sipp[i].fd >= 0)
			close(s->sipp[i].fd);
		if (s->kam[i].fd >= 0)
			close(s->kam[i].fd);
	}
	free(s);
}

void
ctl_sinks_emit(struct ctl_sinks *s, const struct ctl_directive *d, uint64_t now_ms)
{
	char line[CTL_SINK_LINE_MAX];
	int len;
	uint32_t i;

	if (s == NULL || d == NULL)
		return;
	len = ctl_directive_line(d, line, sizeof(line) - 1);
	if (len < 0 || (size_t)len >= sizeof(line) - 1) {
		/* Cannot happen with sane fields; counted, never half-sent. */
		if (s->file != NULL)
			s->file->c.dropped++;
		if (s->dgram != NULL)
			s->dgram->c.dropped++;
		if (s->exec != NULL)
			s->exec->c.dropped++;
		len = -1;
	}
	if (len >= 0) {
		line[len] = '\0';
		if (s->file != NULL)
			ctl_file_emit(s, s->file, line, (size_t)len, now_ms);
		if (s->dgram != NULL)
			ctl_dgram_emit(s->dgram, line, (size_t)len);
		if (s->exec != NULL)
			ctl_exec_emit(s, s->exec, d, line, (size_t)len, now_ms);
	}
	for (i = 0; i < s->n_sipp; i++)
		if (strncmp(s->sipp[i].trunk, d->trunk_name, sizeof(d->trunk_name)) == 0)
			ctl_sipp_emit(s, &s->sipp[i], d, now_ms);
	for (i = 0; i < s->n_kam; i++)
		if (strncmp(s->kam[i].trunk, d->trunk_name, sizeof(d->trunk_name)) == 0)
			ctl_kam_emit(s, &s->kam[i], d, now_ms);
}

void
ctl_sinks_poll(struct ctl_sinks *s, uint64_t now_ms)
{
	uint32_t i;

	if (s == NULL)
		return;
	if (s->file != NULL)
		ctl_file_run(s, s->file, now_ms);
	if (s->dgram != NULL)
		ctl_dgram_poll(s->dgram);
	if (s->exec != NULL)
		ctl_exec_poll(s, s->exec, now_ms);
	for (i = 0; i < s->n_sipp; i++)
		ctl_sipp_run(s, &s->sipp[i], now_ms);
	for (i = 0; i < s->n_kam; i++)
		ctl_kam_poll(s, &s->kam[i], now_ms);
}

static json_t *
ctl_sink_obj(const char *sink, const char *target, const struct ctl_sink_count *c, uint64_t pending,
	const char *state)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "sink", sink, "target", target,
		"sent", (json_int_t)c->sent, "failed", (json_int_t)c->failed, "retried",
		(json_int_t)c->retried, "dropped", (json_int_t)c->dropped, "pending",
		(json_int_t)pending, "state", state);
}

static const char *
ctl_sink_state(uint64_t pending, uint32_t tries)
{
	if (pending == 0)
		return "idle";
	return tries > 0 ? "backoff" : "busy";
}

json_t *
ctl_sinks_stats_json(const struct ctl_sinks *s)
{
	json_t *arr = json_array();
	json_t *o;
	uint32_t i;

	if (arr == NULL || s == NULL)
		return arr;
	if (s->file != NULL) {
		o = ctl_sink_obj("file", s->file->path, &s->file->c, s->file->n,
			ctl_sink_state(s->file->n, s->file->tries));
		json_array_append_new(arr, o);
	}
	if (s->dgram != NULL) {
		const struct ctl_dgram_sink *g = s->dgram;

		o = ctl_sink_obj("socket", g->path, &g->c, 0, g->nsubs > 0 ? "subscribed" : "idle");
		json_object_set_new(o, "subscribers", json_integer(g->nsubs));
		json_object_set_new(o, "refused", json_integer((json_int_t)g->refused));
		json_object_set_new(o, "gone", json_integer((json_int_t)g->gone));
		json_array_append_new(arr, o);
	}
	if (s->exec != NULL) {
		const struct ctl_exec_sink *x = s->exec;
		bool backoff = false;

		for (i = 0; i < ctl_exec_slots(); i++)
			if (x->jobs[i].used && x->jobs[i].pid == 0 && x->jobs[i].tries > 0)
				backoff = true;
		o = ctl_sink_obj("exec", x->path, &x->c, x->nwaiting + x->nrunning,
			x->nrunning > 0		  ? "busy"
				: backoff	  ? "backoff"
				: x->nwaiting > 0 ? "busy"
						  : "idle");
		json_object_set_new(o, "running", json_integer(x->nrunning));
		json_object_set_new(o, "timeouts", json_integer((json_int_t)x->timeouts));
		json_array_append_new(arr, o);
	}
	for (i = 0; i < s->n_sipp; i++) {
		const struct ctl_sipp *p = &s->sipp[i];

		o = ctl_sink_obj(
			"sipp", p->target, &p->c, p->pending, ctl_sink_state(p->pending, p->tries));
		json_object_set_new(o, "trunk", json_string(p->trunk));
		json_object_set_new(o, "paused", json_boolean(p->have.paused));
		json_object_set_new(
			o, "rate", p->have.rate_known ? json_integer(p->have.rate) : json_null());
		json_object_set_new(o, "open_calls",
			p->have.calls > 0 ? json_integer(p->have.calls) : json_null());
		json_array_append_new(arr, o);
	}
	for (i = 0; i < s->n_kam; i++) {
		const struct ctl_kamailio *k = &s->kam[i];

		o = ctl_sink_obj("kamailio", k->target, &k->c, k->pending,
			k->inflight_id != 0 ? "waiting" : ctl_sink_state(k->pending, k->tries));
		json_object_set_new(o, "trunk", json_string(k->trunk));
		json_object_set_new(o, "pipe", json_string(k->pipe));
		json_object_set_new(
			o, "limit", k->have.limit >= 0 ? json_integer(k->have.limit) : json_null());
		json_object_set_new(o, "timer_interval", json_integer(k->interval));
		json_object_set_new(o, "last_error", json_string(k->last_error));
		json_array_append_new(arr, o);
	}
	return arr;
}
