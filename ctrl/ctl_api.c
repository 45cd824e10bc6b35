/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control API wire protocol: request validation, response encoding and
 * decoding, and the client call. The server side (sockets, dispatch) is in
 * ctl_server.c, the human rendering of response data for sipguardctl in
 * ctl_render.c.
 *
 * Requests arrive from any local process allowed on the socket, so the
 * parser assumes nothing about its input; response documents carry text
 * taken from SIP packets, so ctl_api_sanitize is here for everyone who
 * prints them.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ctl_util.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
ctl_api_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte's range rules out overlongs, surrogates and > U+10FFFF. */
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t
ctl_api_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;
	bool bad;

	if (dst == NULL || dstlen == 0)
		return 0;
	while (src != NULL && i < srclen) {
		n = ctl_api_utf8_seq(s + i, srclen - i);
		bad = n == 0 || (n == 1 && (s[i] < 0x20 || s[i] == 0x7f));
		/* C1 controls (U+0080..U+009F) and U+2028/U+2029 line breaks */
		if (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)
			bad = true;
		if (n == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 &&
			(s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
			bad = true;
		if (bad) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = s[i] == '\t' ? ' ' : '?';
			i += n == 0 ? 1 : n;
			continue;
		}
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, s + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	return o;
}

static bool
ctl_api_cmd_valid(const char *cmd, size_t len)
{
	size_t i;

	if (len == 0 || len > CTL_API_CMD_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((cmd[i] >= 'a' && cmd[i] <= 'z') || cmd[i] == '_'))
			return false;
	return true;
}

void
ctl_api_request_clear(struct ctl_request *req)
{
	if (req == NULL)
		return;
	json_decref(req->args);
	req->args = NULL;
}

int
ctl_api_parse_request(
	const char *buf, size_t len, struct ctl_request *out, char *err, size_t errlen)
{
	static const char *const members[] = { "v", "id", "cmd", "args" };
	json_error_t jerr;
	json_t *root, *v, *val;
	const char *key, *cmd;
	char clean[CTL_API_ERR_MAX];
	size_t cmdlen, i;
	int rc = EINVAL;

	memset(out, 0, sizeof(*out));
	if (buf == NULL)
		len = 0;
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len > CTL_API_MAX_REQ) {
		ctl_seterr(err, errlen, "request of %zu bytes exceeds the limit of %d", len,
			CTL_API_MAX_REQ);
		return EMSGSIZE;
	}
	if (len == 0) {
		ctl_seterr(err, errlen, "empty request");
		return EINVAL;
	}
	/* Framing is by line and jansson stops at NUL: reject both up front. */
	for (i = 0; i < len; i++) {
		if (buf[i] == '\0' || buf[i] == '\n') {
			ctl_seterr(err, errlen, "%s at byte %zu of request",
				buf[i] == '\0' ? "NUL" : "newline", i);
			return EINVAL;
		}
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		ctl_api_sanitize(
			clean, sizeof(clean), jerr.text, strnlen(jerr.text, sizeof(jerr.text)));
		ctl_seterr(err, errlen, "invalid JSON at byte %d: %s", jerr.position, clean);
		return EINVAL;
	}
	if (!json_is_object(root)) {
		ctl_seterr(err, errlen, "request is not a JSON object");
		goto fail;
	}
	v = json_object_get(root, "id");
	if (v != NULL && json_is_integer(v))
		out->id = json_integer_value(v);
	/* The version comes first: a newer request may differ in anything else. */
	v = json_object_get(root, "v");
	if (v == NULL) {
		ctl_seterr(err, errlen, "missing protocol version \"v\"");
		rc = EPROTO;
		goto fail;
	}
	if (!json_is_integer(v)) {
		ctl_seterr(err, errlen, "\"v\" must be an integer");
		goto fail;
	}
	if (json_integer_value(v) != CTL_API_VERSION) {
		ctl_seterr(err, errlen,
			"unsupported protocol version %" JSON_INTEGER_FORMAT
			" (this server speaks %d)",
			json_integer_value(v), CTL_API_VERSION);
		rc = EPROTO;
		goto fail;
	}
	v = json_object_get(root, "id");
	if (v != NULL && !json_is_integer(v)) {
		ctl_seterr(err, errlen, "\"id\" must be an integer");
		goto fail;
	}
	json_object_foreach(root, key, val)
	{
		for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
			if (strcmp(key, members[i]) == 0)
				break;
		if (i == sizeof(members) / sizeof(members[0])) {
			ctl_api_sanitize(clean, 64, key, strlen(key));
			ctl_seterr(err, errlen, "unknown member \"%s\" in request", clean);
			goto fail;
		}
	}
	v = json_object_get(root, "cmd");
	if (v == NULL) {
		ctl_seterr(err, errlen, "missing \"cmd\"");
		goto fail;
	}
	if (!json_is_string(v)) {
		ctl_seterr(err, errlen, "\"cmd\" must be a string");
		goto fail;
	}
	cmd = json_string_value(v);
	cmdlen = json_string_length(v);
	if (!ctl_api_cmd_valid(cmd, cmdlen)) {
		ctl_seterr(err, errlen, "\"cmd\" must match [a-z_]{1,%d}", CTL_API_CMD_MAX);
		goto fail;
	}
	v = json_object_get(root, "args");
	if (v != NULL && !json_is_object(v)) {
		ctl_seterr(err, errlen, "\"args\" must be an object");
		goto fail;
	}
	out->args = v != NULL ? json_incref(v) : json_object();
	if (out->args == NULL) {
		ctl_seterr(err, errlen, "out of memory");
		rc = ENOMEM;
		goto fail;
	}
	memcpy(out->cmd, cmd, cmdlen);
	out->cmd[cmdlen] = '\0';
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return rc;
}

/* Dump doc compactly and append the line terminator. */
static char *
ctl_api_dump_line(json_t *doc, size_t *lenp)
{
	char *s, *line;
	size_t len;

	/* 15 digits: rates print as 16.15, not 16.149999999999999 */
	s = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (s == NULL)
		return NULL;
	len = strlen(s);
	line = realloc(s, len + 2);
	if (line == NULL) {
		free(s);
		return NULL;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	if (lenp != NULL)
		*lenp = len + 1;
	return line;
}

char *
ctl_api_request_encode(json_int_t id, const char *cmd, json_t *args)
{
	json_t *doc;
	char *line;

	if (cmd == NULL || !ctl_api_cmd_valid(cmd, strlen(cmd)))
		return NULL;
	if (args != NULL && !json_is_object(args))
		return NULL;
	doc = json_pack("{s:i, s:I, s:s}", "v", CTL_API_VERSION, "id", id, "cmd", cmd);
	if (doc == NULL)
		return NULL;
	if (args != NULL && json_object_size(args) > 0 && json_object_set(doc, "args", args) < 0) {
		json_decref(doc);
		return NULL;
	}
	line = ctl_api_dump_line(doc, NULL);
	json_decref(doc);
	return line;
}

char *
ctl_api_response_err(json_int_t id, int status, const char *msg)
{
	char clean[CTL_API_ERR_MAX];
	json_t *doc;
	char *line;

	if (status <= 0)
		status = EIO;
	if (msg == NULL)
		msg = strerror(status);
	ctl_api_sanitize(clean, sizeof(clean), msg, strlen(msg));
	doc = json_pack("{s:i, s:I, s:i, s:s}", "v", CTL_API_VERSION, "id", id, "status", status,
		"error", clean);
	if (doc == NULL)
		return NULL;
	line = ctl_api_dump_line(doc, NULL);
	json_decref(doc);
	return line;
}

char *
ctl_api_response_ok(json_int_t id, json_t *data)
{
	json_t *doc;
	char *line;
	size_t len = 0;

	doc = json_pack("{s:i, s:I, s:i}", "v", CTL_API_VERSION, "id", id, "status", 0);
	if (doc == NULL)
		return NULL;
	if (json_object_set_new(doc, "data", data != NULL ? json_incref(data) : json_object()) <
		0) {
		json_decref(doc);
		return NULL;
	}
	line = ctl_api_dump_line(doc, &len);
	json_decref(doc);
	if (line == NULL)
		return ctl_api_response_err(id, ENOMEM, "cannot encode response");
	if (len > CTL_API_MAX_RESP) {
		free(line);
		return ctl_api_response_err(id, EMSGSIZE, "response too large");
	}
	return line;
}

void
ctl_api_response_clear(struct ctl_response *resp)
{
	if (resp == NULL)
		return;
	json_decref(resp->data);
	resp->data = NULL;
}

int
ctl_api_parse_response(
	const char *buf, size_t len, struct ctl_response *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *v;
	json_int_t status;

	memset(out, 0, sizeof(*out));
	if (buf == NULL)
		len = 0;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > CTL_API_MAX_RESP) {
		ctl_seterr(err, errlen, "response of %zu bytes exceeds the limit of %d", len,
			CTL_API_MAX_RESP);
		return EMSGSIZE;
	}
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		ctl_seterr(err, errlen, "empty or binary response");
		return EPROTO;
	}
	root = json_loadb(buf, len, 0, &jerr);
	if (root == NULL) {
		ctl_seterr(err, errlen, "invalid JSON in response at byte %d", jerr.position);
		return EPROTO;
	}
	if (!json_is_object(root)) {
		ctl_seterr(err, errlen, "response is not a JSON object");
		goto fail;
	}
	v = json_object_get(root, "v");
	if (!json_is_integer(v) || json_integer_value(v) != CTL_API_VERSION) {
		ctl_seterr(err, errlen, "response is not protocol version %d", CTL_API_VERSION);
		goto fail;
	}
	v = json_object_get(root, "id");
	if (!json_is_integer(v)) {
		ctl_seterr(err, errlen, "response has no integer \"id\"");
		goto fail;
	}
	out->id = json_integer_value(v);
	v = json_object_get(root, "status");
	status = json_is_integer(v) ? json_integer_value(v) : -1;
	if (status < 0 || status > 4095) {
		ctl_seterr(err, errlen, "response has no valid \"status\"");
		goto fail;
	}
	out->status = (int)status;
	if (status == 0) {
		v = json_object_get(root, "data");
		if (v == NULL) {
			ctl_seterr(err, errlen, "success response without \"data\"");
			goto fail;
		}
		out->data = json_incref(v);
	} else {
		v = json_object_get(root, "error");
		if (json_is_string(v))
			ctl_api_sanitize(out->error, sizeof(out->error), json_string_value(v),
				json_string_length(v));
		else
			snprintf(out->error, sizeof(out->error), "%s", strerror(out->status));
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return EPROTO;
}

/* Client side */

int
ctl_client_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, saved;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path == NULL || strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int64_t
ctl_api_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline; 1 ready, 0 timed out, -1 error. */
static int
ctl_api_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;

	left = deadline - ctl_api_now_ms();
	if (left < 0)
		left = 0;
	return poll(&pfd, 1, (int)left) < 0 ? -1 : (pfd.revents != 0 ? 1 : 0);
}

int
ctl_client_call(int fd, json_int_t id, const char *cmd, json_t *args, int timeout_ms,
	struct ctl_response *resp, char *err, size_t errlen)
{
	int64_t deadline = ctl_api_now_ms() + timeout_ms;
	char *req, *buf = NULL, *nl = NULL, *nbuf;
	size_t reqlen, off = 0, len = 0, cap = 0;
	ssize_t n;
	int rc = -1, w;

	memset(resp, 0, sizeof(*resp));
	req = ctl_api_request_encode(id, cmd, args);
	if (req == NULL) {
		ctl_seterr(err, errlen, "cannot encode request \"%s\"", cmd);
		return -1;
	}
	reqlen = strlen(req);
	while (off < reqlen) {
		w = ctl_api_wait(fd, POLLOUT, deadline);
		if (w <= 0) {
			ctl_seterr(err, errlen, "sending request: %s",
				w == 0 ? "timed out" : strerror(errno));
			goto out;
		}
		n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			ctl_seterr(err, errlen, "sending request: %s", strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	while (nl == NULL) {
		if (len + 4096 + 1 > cap) {
			cap = cap == 0 ? 16384 : cap * 2;
			if (cap > (size_t)CTL_API_MAX_RESP + 4096 + 1)
				cap = (size_t)CTL_API_MAX_RESP + 4096 + 1;
			if (len + 1 >= cap) {
				ctl_seterr(
					err, errlen, "response exceeds %d bytes", CTL_API_MAX_RESP);
				goto out;
			}
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				ctl_seterr(err, errlen, "out of memory");
				goto out;
			}
			buf = nbuf;
		}
		w = ctl_api_wait(fd, POLLIN, deadline);
		if (w <= 0) {
			ctl_seterr(err, errlen, "waiting for response: %s",
				w == 0 ? "timed out" : strerror(errno));
			goto out;
		}
		n = recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			ctl_seterr(err, errlen, "reading response: %s", strerror(errno));
			goto out;
		}
		if (n == 0) {
			ctl_seterr(err, errlen, "connection closed before the response");
			goto out;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (ctl_api_parse_response(buf, (size_t)(nl - buf) + 1, resp, err, errlen) != 0)
		goto out;
	/* An error sent before our request was read (e.g. EBUSY) carries id 0. */
	if (resp->id != id && resp->status == 0) {
		ctl_seterr(err, errlen,
			"response id %" JSON_INTEGER_FORMAT
			" does not match request id %" JSON_INTEGER_FORMAT,
			resp->id, id);
		ctl_api_response_clear(resp);
		goto out;
	}
	rc = 0;
out:
	free(req);
	free(buf);
	return rc;
}
