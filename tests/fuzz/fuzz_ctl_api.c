/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for the control API's parsers: requests (what the server
 * reads from any local client), responses and the renderers (what
 * sipguardctl reads and prints), and the sanitiser that stands between
 * network text and a terminal. The first input byte picks one of them,
 * the rest is the line. Checked beyond "no crash": a rejected request
 * has one of the documented errno values and a one-line reason; an
 * accepted one has a valid command and object args and survives an
 * encode/parse round trip unchanged; a response's error text is clean;
 * sanitised text is printable, valid UTF-8, bounded and stable when
 * sanitised again.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ctl_api.h"
#include "ctl_render.h"
#include "fuzz_common.h"

static FILE *fuzz_null;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_null = fopen("/dev/null", "w");
	if (fuzz_null == NULL)
		abort();
	return 0;
}

/* Printable one-line UTF-8: no C0, DEL or C1, well-formed sequences. */
static int
fuzz_clean_utf8(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	while (i < n) {
		uint32_t c = p[i];
		size_t k, need;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, c &= 0x07;
		else
			return 0;
		if (i + need >= n)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i + k] & 0x3f);
		}
		/* overlong, surrogate, beyond U+10FFFF, C1 controls */
		if ((need == 2 && c < 0x800) || (need == 3 && c < 0x10000) || c > 0x10ffff ||
			(c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c <= 0x9f))
			return 0;
		i += need + 1;
	}
	return 1;
}

/*
 * json_equal, except that reals need only agree to 15 significant digits:
 * responses are encoded with JSON_REAL_PRECISION(15) on purpose.
 */
static int
fuzz_json_close(json_t *a, json_t *b)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_real(a) && json_is_real(b)) {
		double x = json_real_value(a), y = json_real_value(b);

		return fabs(x - y) <= 1e-13 * fmax(fabs(x), fabs(y));
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, v)
		{
			if (!fuzz_json_close(v, json_array_get(b, i)))
				return 0;
		}
		return 1;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, key, v)
		{
			json_t *w = json_object_get(b, key);

			if (w == NULL || !fuzz_json_close(v, w))
				return 0;
		}
		return 1;
	}
	return json_equal(a, b);
}

static void
fuzz_one_line(const char *err, size_t errlen)
{
	size_t n = strnlen(err, errlen);

	FUZZ_CHECK(n > 0 && n < errlen);
	FUZZ_CHECK(strchr(err, '\n') == NULL);
}

static void
fuzz_request(const char *buf, size_t len)
{
	struct ctl_request req, req2;
	char err[256];
	char *line;
	int rc;

	memset(&req, 0x5a, sizeof(req));
	memset(err, 0, sizeof(err));
	rc = ctl_api_parse_request(buf, len, &req, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc == EINVAL || rc == EPROTO || rc == EMSGSIZE || rc == ENOMEM);
		FUZZ_CHECK(req.args == NULL);
		fuzz_one_line(err, sizeof(err));
		return;
	}
	FUZZ_CHECK(len <= CTL_API_MAX_REQ + 2);
	FUZZ_CHECK(json_is_object(req.args));
	FUZZ_CHECK(strlen(req.cmd) >= 1 && strlen(req.cmd) <= CTL_API_CMD_MAX);
	FUZZ_CHECK(strspn(req.cmd, "abcdefghijklmnopqrstuvwxyz_") == strlen(req.cmd));

	line = ctl_api_request_encode(req.id, req.cmd, req.args);
	FUZZ_CHECK(line != NULL);
	FUZZ_CHECK(strlen(line) > 0 && line[strlen(line) - 1] == '\n');
	rc = ctl_api_parse_request(line, strlen(line), &req2, err, sizeof(err));
	/* escaping may make the encoded line longer than the limit */
	if (rc == EMSGSIZE) {
		FUZZ_CHECK(strlen(line) > CTL_API_MAX_REQ);
	} else {
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(req2.id == req.id && strcmp(req2.cmd, req.cmd) == 0);
		FUZZ_CHECK(fuzz_json_close(req2.args, req.args));
		ctl_api_request_clear(&req2);
	}
	free(line);
	ctl_api_request_clear(&req);
}

static void
fuzz_render(json_t *data)
{
	char spark[256];

	(void)ctl_render_status(fuzz_null, data);
	(void)ctl_render_trunks(fuzz_null, data);
	(void)ctl_render_trunk(fuzz_null, data, 5);
	(void)ctl_render_events(fuzz_null, data, 5);
	(void)ctl_render_totals(fuzz_null, data);
	FUZZ_CHECK(ctl_render_sparkline(spark, sizeof(spark), data) <= sizeof(spark) / 3);
	FUZZ_CHECK(strnlen(spark, sizeof(spark)) < sizeof(spark));
}

static void
fuzz_response(const char *buf, size_t len)
{
	struct ctl_response resp, resp2;
	char err[256];
	char *line;
	int rc;

	memset(&resp, 0x5a, sizeof(resp));
	memset(err, 0, sizeof(err));
	rc = ctl_api_parse_response(buf, len, &resp, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc == EPROTO || rc == EMSGSIZE || rc == ENOMEM);
		fuzz_one_line(err, sizeof(err));
		return;
	}
	FUZZ_CHECK(resp.status >= 0);
	if (resp.status == 0) {
		FUZZ_CHECK(resp.data != NULL);
		fuzz_render(resp.data);
		line = ctl_api_response_ok(resp.id, resp.data);
		FUZZ_CHECK(line != NULL);
		rc = ctl_api_parse_response(line, strlen(line), &resp2, err, sizeof(err));
		FUZZ_CHECK(rc == 0 && resp2.status == 0 && resp2.id == resp.id);
		FUZZ_CHECK(fuzz_json_close(resp2.data, resp.data));
	} else {
		FUZZ_CHECK(strnlen(resp.error, sizeof(resp.error)) < sizeof(resp.error));
		FUZZ_CHECK(fuzz_clean_utf8(resp.error, strlen(resp.error)));
		line = ctl_api_response_err(resp.id, resp.status, resp.error);
		FUZZ_CHECK(line != NULL);
		rc = ctl_api_parse_response(line, strlen(line), &resp2, err, sizeof(err));
		FUZZ_CHECK(rc == 0 && resp2.status == resp.status && resp2.id == resp.id);
		/* an empty error text is replaced by strerror */
		if (resp.error[0] != '\0')
			FUZZ_CHECK(strcmp(resp2.error, resp.error) == 0);
	}
	ctl_api_response_clear(&resp2);
	free(line);
	ctl_api_response_clear(&resp);
}

static void
fuzz_sanitize(const char *buf, size_t len)
{
	static const size_t sizes[] = { 1, 2, 7, 64, CTL_API_ERR_MAX };
	char dst[CTL_API_ERR_MAX], again[CTL_API_ERR_MAX];
	size_t i, n, n2;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(dst, 0x5a, sizeof(dst));
		n = ctl_api_sanitize(dst, sizes[i], buf, len);
		FUZZ_CHECK(n < sizes[i] && strlen(dst) == n);
		FUZZ_CHECK(fuzz_clean_utf8(dst, n));
		n2 = ctl_api_sanitize(again, sizeof(again), dst, n);
		FUZZ_CHECK(n2 == n && memcmp(again, dst, n) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;

	if (size < 1 || size > 65536)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_request(buf, size - 1);
		break;
	case 1:
		fuzz_response(buf, size - 1);
		break;
	default:
		fuzz_sanitize(buf, size - 1);
		break;
	}
	return 0;
}
