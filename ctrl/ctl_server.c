/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control API server: accepts local clients on a unix socket and answers
 * their request lines through a command table, from inside the caller's
 * single-threaded loop. Nothing here blocks: the listener and every client
 * are non-blocking, each ctl_server_poll() does one poll(2) and then only
 * the work that is ready, and every buffer has a bound (see ctl_server.h
 * for the limits and what happens past each one).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ctl_util.h"
#include "ctl_server.h"

struct ctl_client {
	int fd;
	bool eof;     /* peer sent everything it will send */
	bool closing; /* answer nothing more; close once output is flushed */
	bool dead;    /* close now */
	int64_t last; /* last read or write progress, ms */
	size_t inlen;
	char in[CTL_API_MAX_REQ + 2]; /* a full request plus "\r\n" */
	char *out;
	size_t outoff; /* bytes of out already sent */
	size_t outlen;
	size_t outcap;
};

struct ctl_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	const struct ctl_cmd *table;
	void *ctx;
	unsigned int idle_ms;
	unsigned int nclients;
	struct ctl_client *clients[CTL_SERVER_MAX_CLIENTS];
};

static int64_t
ctl_server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
ctl_client_pending(const struct ctl_client *c)
{
	return c->outlen - c->outoff;
}

/* Queue a response line (taking ownership of it); drop the client past the bound. */
static void
ctl_client_queue(struct ctl_client *c, char *line)
{
	size_t len, cap;
	char *n;

	if (line == NULL) {
		c->dead = true;
		return;
	}
	len = strlen(line);
	if (ctl_client_pending(c) + len > CTL_SERVER_MAX_OUT) {
		free(line);
		c->dead = true;
		return;
	}
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, ctl_client_pending(c));
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outlen + len > c->outcap) {
		cap = c->outcap == 0 ? 4096 : c->outcap;
		while (cap < c->outlen + len)
			cap *= 2;
		n = realloc(c->out, cap);
		if (n == NULL) {
			free(line);
			c->dead = true;
			return;
		}
		c->out = n;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, line, len);
	c->outlen += len;
	free(line);
}

static void
ctl_client_flush(struct ctl_client *c, int64_t now)
{
	ssize_t n;

	while (!c->dead && ctl_client_pending(c) > 0) {
		n = send(c->fd, c->out + c->outoff, ctl_client_pending(c),
			MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				c->dead = true;
			return;
		}
		c->outoff += (size_t)n;
		c->last = now;
	}
	if (ctl_client_pending(c) == 0) {
		c->outoff = 0;
		c->outlen = 0;
		/* give back a buffer that a large response grew */
		if (c->outcap > 65536) {
			free(c->out);
			c->out = NULL;
			c->outcap = 0;
		}
	}
}

static bool
ctl_server_has(const struct ctl_server *srv, const char *name)
{
	const struct ctl_cmd *cmd;

	for (cmd = srv->table; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return true;
	return false;
}

/* The built-in "help": every command of the table with its help text. */
static json_t *
ctl_server_help(const struct ctl_server *srv)
{
	const struct ctl_cmd *cmd;
	json_t *list, *e;

	list = json_array();
	if (list == NULL)
		return NULL;
	for (cmd = srv->table; cmd->name != NULL; cmd++) {
		e = json_pack("{s:s, s:s}", "name", cmd->name, "help",
			cmd->help != NULL ? cmd->help : "");
		if (e == NULL || json_array_append_new(list, e) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return json_pack("{s:o}", "commands", list);
}

/* "unknown command "x"; commands: a, b, c" */
static void
ctl_server_unknown(const struct ctl_server *srv, const char *name, char *err, size_t errlen)
{
	const struct ctl_cmd *cmd;
	size_t off;
	int n;

	n = snprintf(err, errlen, "unknown command \"%s\"; commands: ", name);
	off = n < 0 ? 0 : (size_t)n;
	for (cmd = srv->table; cmd->name != NULL && off < errlen; cmd++) {
		n = snprintf(err + off, errlen - off, "%s, ", cmd->name);
		if (n < 0)
			return;
		off += (size_t)n;
	}
	if (off < errlen && !ctl_server_has(srv, "help"))
		snprintf(err + off, errlen - off, "help");
	else if (off >= 2 && off < errlen)
		err[off - 2] = '\0'; /* drop the last ", " */
}

/* Answer one request line. */
static void
ctl_server_handle(struct ctl_server *srv, struct ctl_client *c, const char *line, size_t len)
{
	char err[CTL_API_ERR_MAX];
	const struct ctl_cmd *cmd;
	struct ctl_request req;
	json_t *data = NULL;
	int rc, status = 0;

	err[0] = '\0';
	rc = ctl_api_parse_request(line, len, &req, err, sizeof(err));
	if (rc != 0) {
		ctl_client_queue(c, ctl_api_response_err(req.id, rc, err));
		/* past an oversized line the stream cannot be trusted to be in sync */
		if (rc == EMSGSIZE)
			c->closing = true;
		return;
	}
	for (cmd = srv->table; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, req.cmd) == 0)
			break;
	if (cmd->name != NULL) {
		data = cmd->fn(srv->ctx, req.args, &status, err, sizeof(err));
	} else if (strcmp(req.cmd, "help") == 0) {
		data = ctl_server_help(srv);
	} else {
		status = ENOSYS;
		ctl_server_unknown(srv, req.cmd, err, sizeof(err));
	}
	if (data != NULL && status == 0) {
		ctl_client_queue(c, ctl_api_response_ok(req.id, data));
	} else {
		err[sizeof(err) - 1] = '\0';
		ctl_client_queue(c,
			ctl_api_response_err(
				req.id, status != 0 ? status : EIO, err[0] != '\0' ? err : NULL));
	}
	json_decref(data);
	ctl_api_request_clear(&req);
}

/*
 * Answer the complete lines in the input buffer, while the client keeps up
 * with reading the answers. Returns the number answered.
 */
static int
ctl_server_process(struct ctl_server *srv, struct ctl_client *c)
{
	size_t linelen;
	char *nl;
	int served = 0;

	while (!c->dead && !c->closing && ctl_client_pending(c) < CTL_SERVER_OUT_LOW) {
		nl = memchr(c->in, '\n', c->inlen);
		if (nl == NULL) {
			if (c->inlen == sizeof(c->in)) {
				ctl_client_queue(c,
					ctl_api_response_err(
						0, EMSGSIZE, "request line exceeds 4096 bytes"));
				c->inlen = 0;
				c->closing = true;
			}
			break;
		}
		linelen = (size_t)(nl - c->in) + 1;
		/* blank lines are allowed, e.g. from someone typing into socat */
		if (!(linelen == 1 || (linelen == 2 && c->in[0] == '\r'))) {
			ctl_server_handle(srv, c, c->in, linelen);
			served++;
		}
		memmove(c->in, c->in + linelen, c->inlen - linelen);
		c->inlen -= linelen;
	}
	return served;
}

static int
ctl_server_read(struct ctl_server *srv, struct ctl_client *c, int64_t now)
{
	ssize_t n;
	int served;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->dead = true;
		return 0;
	}
	if (n == 0) {
		/* half-closed: still answer the lines already received */
		c->eof = true;
	} else {
		c->inlen += (size_t)n;
		c->last = now;
	}
	served = ctl_server_process(srv, c);
	ctl_client_flush(c, now);
	return served;
}

static void
ctl_client_free(struct ctl_client *c)
{
	close(c->fd);
	free(c->out);
	free(c);
}

/* Make room for one more client by closing the longest-idle quiet one. */
static bool
ctl_server_evict(struct ctl_server *srv, int64_t now)
{
	struct ctl_client *c, *oldest = NULL;
	unsigned int i;

	for (i = 0; i < srv->nclients; i++) {
		c = srv->clients[i];
		if (c->inlen > 0 || ctl_client_pending(c) > 0 || now - c->last <= srv->idle_ms)
			continue;
		if (oldest == NULL || c->last < oldest->last)
			oldest = c;
	}
	if (oldest == NULL)
		return false;
	oldest->dead = true;
	return true;
}

static void
ctl_server_reap(struct ctl_server *srv)
{
	unsigned int i, j = 0;

	for (i = 0; i < srv->nclients; i++) {
		if (srv->clients[i]->dead)
			ctl_client_free(srv->clients[i]);
		else
			srv->clients[j++] = srv->clients[i];
	}
	srv->nclients = j;
}

static void
ctl_server_accept(struct ctl_server *srv, int64_t now)
{
	struct ctl_client *c;
	char *line;
	int fd;

	for (;;) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or EMFILE and the like: retried on the next poll */
		if (srv->nclients == CTL_SERVER_MAX_CLIENTS && ctl_server_evict(srv, now))
			ctl_server_reap(srv);
		c = srv->nclients < CTL_SERVER_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			line = ctl_api_response_err(0, EBUSY, "too many clients");
			/* best effort: a fresh socket buffer takes one short line */
			if (line != NULL &&
				send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				errno = 0;
			free(line);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last = now;
		srv->clients[srv->nclients++] = c;
	}
}

struct ctl_server *
ctl_server_open(const char *path, mode_t mode, const struct ctl_cmd *table, void *ctx, char *err,
	size_t errlen)
{
	struct ctl_server *srv;
	struct sockaddr_un sa;
	struct stat st;
	int fd, saved;

	if (path == NULL || table == NULL || strlen(path) == 0 ||
		strlen(path) >= sizeof(sa.sun_path)) {
		ctl_seterr(err, errlen, "control socket path \"%s\" is empty or too long",
			path != NULL ? path : "");
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ctl_seterr(err, errlen, "%s exists and is not a socket", path);
			errno = EEXIST;
			return NULL;
		}
		/* Remove it only if it is stale: nobody accepts connections on it. */
		fd = ctl_client_connect(path);
		if (fd >= 0) {
			close(fd);
			ctl_seterr(err, errlen, "another server is listening on %s", path);
			errno = EADDRINUSE;
			return NULL;
		}
		if (errno == ECONNREFUSED) {
			if (unlink(path) < 0 && errno != ENOENT) {
				saved = errno;
				ctl_seterr(err, errlen, "cannot remove stale socket %s: %s", path,
					strerror(saved));
				errno = saved;
				return NULL;
			}
		} else if (errno != ENOENT) {
			saved = errno;
			ctl_seterr(err, errlen, "cannot probe existing socket %s: %s", path,
				strerror(saved));
			errno = saved;
			return NULL;
		}
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		ctl_seterr(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0) {
		saved = errno;
		ctl_seterr(err, errlen, "cannot create control socket: %s", strerror(saved));
		free(srv);
		errno = saved;
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		saved = errno;
		ctl_seterr(err, errlen, "cannot bind %s: %s", path, strerror(saved));
		goto fail;
	}
	/* Before listen(): nobody can connect while the mode is still the umask's. */
	if (chmod(path, mode) < 0 || stat(path, &st) < 0) {
		saved = errno;
		ctl_seterr(err, errlen, "cannot set mode of %s: %s", path, strerror(saved));
		unlink(path);
		goto fail;
	}
	if (listen(srv->fd, 64) < 0) {
		saved = errno;
		ctl_seterr(err, errlen, "cannot listen on %s: %s", path, strerror(saved));
		unlink(path);
		goto fail;
	}
	memcpy(srv->path, path, strlen(path) + 1);
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	srv->table = table;
	srv->ctx = ctx;
	srv->idle_ms = CTL_SERVER_IDLE_MS;
	return srv;
fail:
	close(srv->fd);
	free(srv);
	errno = saved;
	return NULL;
}

int
ctl_server_poll(struct ctl_server *srv, int timeout_ms)
{
	struct pollfd pfd[1 + CTL_SERVER_MAX_CLIENTS];
	struct ctl_client *c;
	unsigned int i, n;
	int64_t now;
	int served = 0;
	short ev;

	pfd[0].fd = srv->fd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	n = srv->nclients;
	for (i = 0; i < n; i++) {
		c = srv->clients[i];
		pfd[1 + i].fd = c->fd;
		pfd[1 + i].events = 0;
		pfd[1 + i].revents = 0;
		if (!c->eof && !c->closing && ctl_client_pending(c) < CTL_SERVER_OUT_LOW)
			pfd[1 + i].events |= POLLIN;
		if (ctl_client_pending(c) > 0)
			pfd[1 + i].events |= POLLOUT;
	}
	if (poll(pfd, 1 + n, timeout_ms) < 0) {
		if (errno != EINTR)
			return -1;
		for (i = 0; i < 1 + n; i++)
			pfd[i].revents = 0;
	}
	now = ctl_server_now_ms();
	for (i = 0; i < n; i++) {
		c = srv->clients[i];
		ev = pfd[1 + i].revents;
		if (ev & POLLNVAL)
			c->dead = true;
		if ((ev & POLLIN) || ((ev & (POLLHUP | POLLERR)) && !c->eof))
			served += ctl_server_read(srv, c, now);
		if (ev & (POLLOUT | POLLHUP | POLLERR)) {
			ctl_client_flush(c, now);
			/* output drained: answer the lines that waited for it */
			served += ctl_server_process(srv, c);
			ctl_client_flush(c, now);
		}
	}
	for (i = 0; i < n; i++) {
		c = srv->clients[i];
		if (c->dead)
			continue;
		if (ctl_client_pending(c) == 0 &&
			(c->closing || (c->eof && memchr(c->in, '\n', c->inlen) == NULL)))
			c->dead = true;
		else if ((c->inlen > 0 || ctl_client_pending(c) > 0) &&
			now - c->last > srv->idle_ms)
			c->dead = true; /* stuck mid-request, or not reading its answers */
	}
	ctl_server_reap(srv);
	if (pfd[0].revents & POLLIN)
		ctl_server_accept(srv, now);
	return served;
}

void
ctl_server_close(struct ctl_server *srv)
{
	struct stat st;
	unsigned int i;

	if (srv == NULL)
		return;
	for (i = 0; i < srv->nclients; i++)
		ctl_client_free(srv->clients[i]);
	close(srv->fd);
	/* only our own socket file: another server may have replaced it */
	if (stat(srv->path, &st) == 0 && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	free(srv);
}

unsigned int
ctl_server_clients(const struct ctl_server *srv)
{
	return srv->nclients;
}

void
ctl_server_set_idle_ms(struct ctl_server *srv, unsigned int ms)
{
	srv->idle_ms = ms;
}
