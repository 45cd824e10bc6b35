/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control API wire protocol between sipguard-ctrl and its clients
 * (sipguardctl, scripts): one JSON object per line, UTF-8, over a
 * SOCK_STREAM unix socket.
 *
 *   request:  {"v":1,"id":N,"cmd":"trunks","args":{...}}\n
 *   response: {"v":1,"id":N,"status":0,"data":...}\n
 *             {"v":1,"id":N,"status":ERRNO,"error":"one line"}\n
 *
 * "v" is the protocol version and is required; "id" (an integer, default
 * 0) is echoed in the response so a client can match answers to questions;
 * "args" (an object) is optional. A non-zero status is a positive errno
 * value: EINVAL malformed request, EPROTO unsupported version, ENOSYS
 * unknown command, EMSGSIZE request or response too large, ENOENT no such
 * object, EBUSY too many clients.
 *
 * Everything here is a plain function over a buffer so it can be tested
 * and fuzzed without a socket. This module also holds the client side:
 * connecting and one call. The human rendering of the response documents
 * that sipguardctl prints is in ctl_render.h.
 */
#ifndef CTL_API_H
#define CTL_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CTL_API_VERSION 1
/* Longest request line, not counting its terminating newline. */
#define CTL_API_MAX_REQ 4096
/* Longest response line a client accepts (and the server sends). */
#define CTL_API_MAX_RESP (4 * 1024 * 1024)
/* Command names match [a-z_]{1,CTL_API_CMD_MAX}. */
#define CTL_API_CMD_MAX 32
/* Longest error text carried in a response, in bytes. */
#define CTL_API_ERR_MAX 256

#define CTL_API_DEFAULT_SOCKET "/run/sipguard/ctrl.sock"

struct ctl_request {
	json_int_t id; /* 0 when the request had none */
	char cmd[CTL_API_CMD_MAX + 1];
	json_t *args; /* owned; an empty object if absent */
};

/*
 * Parse and validate one request line. buf need not be NUL-terminated; one
 * trailing "\n" or "\r\n" is allowed. Returns 0 and fills out (release with
 * ctl_api_request_clear), or a positive errno (EINVAL, EPROTO, EMSGSIZE)
 * with a one-line reason in err. On failure out->id still holds the
 * request's id when it could be read, so the error response can echo it,
 * and out->args is NULL. Never reads outside buf[0..len).
 */
int ctl_api_parse_request(
	const char *buf, size_t len, struct ctl_request *out, char *err, size_t errlen);
void ctl_api_request_clear(struct ctl_request *req);

/*
 * Encode a request line (client side). args may be NULL; it is not stolen.
 * Returns a malloc'd newline-terminated string, or NULL on a bad command
 * name or allocation failure.
 */
char *ctl_api_request_encode(json_int_t id, const char *cmd, json_t *args);

/*
 * Encode a response line. data is borrowed (not stolen); NULL encodes as
 * an empty object. msg is reduced to one line of valid UTF-8 of at most
 * CTL_API_ERR_MAX bytes; NULL uses strerror(status). A status <= 0 given
 * to ctl_api_response_err becomes EIO. A success response longer than
 * CTL_API_MAX_RESP is replaced by an EMSGSIZE error. Returns a malloc'd
 * newline-terminated string, or NULL on allocation failure.
 */
char *ctl_api_response_ok(json_int_t id, json_t *data);
char *ctl_api_response_err(json_int_t id, int status, const char *msg);

struct ctl_response {
	json_int_t id;
	int status;		     /* 0 or a positive errno */
	json_t *data;		     /* owned; set when status == 0 */
	char error[CTL_API_ERR_MAX]; /* set when status != 0, sanitised */
};

/*
 * Parse one response line (client side). Returns 0 and fills out (release
 * with ctl_api_response_clear), or EPROTO/EMSGSIZE with a reason in err.
 * Unknown members are ignored so newer servers stay readable.
 */
int ctl_api_parse_response(
	const char *buf, size_t len, struct ctl_response *out, char *err, size_t errlen);
void ctl_api_response_clear(struct ctl_response *resp);

/*
 * Copy src[0..srclen) to dst as one printable line of valid UTF-8: control
 * characters (C0, DEL, C1) and invalid UTF-8 bytes become '?', and the copy
 * stops at a character boundary when dst is full. Text from the network
 * (Call-IDs, reasons) goes through this before reaching a terminal.
 * Returns the length written (dst is always NUL-terminated if dstlen > 0).
 */
size_t ctl_api_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);

/*
 * Client side. ctl_client_connect returns a connected blocking socket or
 * -1 with errno set. ctl_client_call sends one request and waits (at most
 * timeout_ms) for its response; returns 0 with resp filled (the server's
 * status may still be non-zero), or -1 with a reason in err on a
 * transport or protocol failure.
 */
int ctl_client_connect(const char *path);
int ctl_client_call(int fd, json_int_t id, const char *cmd, json_t *args, int timeout_ms,
	struct ctl_response *resp, char *err, size_t errlen);

#endif /* CTL_API_H */
