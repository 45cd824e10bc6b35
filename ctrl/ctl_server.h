/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control API server: a non-blocking unix-socket server for a
 * single-threaded event loop. sipguard-ctrl calls ctl_server_poll() every
 * few milliseconds between its other work; each call accepts new clients,
 * reads what is ready, answers every complete request line through a
 * command table, and writes what the sockets will take without blocking.
 *
 * Bounded in every direction so no client can stall or exhaust the
 * process: at most CTL_SERVER_MAX_CLIENTS connections (more get an EBUSY
 * response and are closed), at most CTL_API_MAX_REQ bytes per request line
 * (longer gets EMSGSIZE and the connection is closed), a client that
 * leaves a partial request or unread output for more than the idle timeout
 * is closed, and per-client output past CTL_SERVER_MAX_OUT drops the
 * client. A client stops being read while it has much unread output, so a
 * pipelining client is slowed down rather than dropped.
 */
#ifndef CTL_SERVER_H
#define CTL_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "ctl_api.h"

#define CTL_SERVER_MAX_CLIENTS 32
#define CTL_SERVER_IDLE_MS 10000
/* Unread output above which a client's requests are no longer read. */
#define CTL_SERVER_OUT_LOW (64 * 1024)
/* Unread output above which a client is dropped. */
#define CTL_SERVER_MAX_OUT (2 * CTL_API_MAX_RESP)

/*
 * One command. fn returns the response data (a new reference) on success.
 * On failure it returns NULL and sets *status to a positive errno and a
 * one-line message in err (e.g. ENOENT, "unknown trunk \"foo\""); NULL
 * with *status left 0 is answered as EIO. args is borrowed and is always
 * an object. A table ends with an entry whose name is NULL.
 */
struct ctl_cmd {
	const char *name;
	json_t *(*fn)(void *ctx, json_t *args, int *status, char *err, size_t errlen);
	const char *help;
};

struct ctl_server;

/*
 * Listen on path with the given mode (e.g. 0660). A leftover socket file
 * is removed only when nothing answers on it; a live server there, or a
 * file that is not a socket, makes this fail. table and ctx are kept (not
 * copied) for the server's lifetime. If the table has no "help" command,
 * the server answers "help" itself with the table's names and help texts.
 * Returns NULL with errno set and a one-line reason in err on failure.
 */
struct ctl_server *ctl_server_open(const char *path, mode_t mode, const struct ctl_cmd *table,
	void *ctx, char *err, size_t errlen);

/*
 * Serve every ready client, waiting at most timeout_ms (0: do not wait)
 * for something to happen. Returns the number of requests answered, or -1
 * with errno set if poll(2) itself failed (EINTR is not a failure).
 */
int ctl_server_poll(struct ctl_server *srv, int timeout_ms);

/* Close every client and the listener, and remove the socket file. */
void ctl_server_close(struct ctl_server *srv);

/* Connected clients right now. */
unsigned int ctl_server_clients(const struct ctl_server *srv);

/* Change the idle timeout (default CTL_SERVER_IDLE_MS). */
void ctl_server_set_idle_ms(struct ctl_server *srv, unsigned int ms);

#endif /* CTL_SERVER_H */
