/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message framing over a byte stream (see dp_sipframe.h): the start
 * line is checked as far as it goes, the header section is walked by
 * line feeds for Content-Length (or compact `l`), and the length is the
 * header section plus the body it announces.
 */
#include <stdint.h>
#include <string.h>

#include "dp_sipframe.h"

static const uint8_t dp_sipframe_ver[] = "SIP/2.0";

/* RFC 3261 token characters */
static inline int
dp_sipframe_tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		(c != 0 && strchr("-.!%*_+`'~", c) != NULL);
}

/*
 * The start line at p: 1 with *eol past its line feed, 0 when it could
 * still be one, -1 when it is not one. Reads only what it needs.
 */
static int
dp_sipframe_start(const uint8_t *p, uint32_t len, uint32_t *eol)
{
	uint32_t i, j;

	/* a status line: "SIP/2.0 " three digits, then SP or the line end */
	for (i = 0; i < len && i < 8 && p[i] == "SIP/2.0 "[i]; i++)
		;
	if (i == len && i < 8)
		return 0;
	if (i == 8) {
		for (; i < len && i < 11; i++) {
			if (p[i] < '0' || p[i] > '9')
				return -1;
		}
		if (i == len)
			return 0;
		if (p[i] != ' ' && p[i] != '\r' && p[i] != '\n')
			return -1;
		for (; i < len; i++) {
			if (p[i] == '\n') {
				*eol = i + 1;
				return 1;
			}
			if (p[i] == '\r' && i + 1 < len && p[i + 1] != '\n')
				return -1;
		}
		return 0;
	}
	/* a request line: method SP Request-URI SP "SIP/2.0" [CR] LF */
	for (i = 0; i < len && dp_sipframe_tchar(p[i]); i++)
		;
	if (i == len)
		return 0;
	if (i == 0 || p[i] != ' ')
		return -1;
	for (j = ++i; i < len && p[i] > ' ' && p[i] != 0x7f; i++)
		;
	if (i == len)
		return 0;
	if (i == j || p[i] != ' ')
		return -1;
	for (j = 0, i++; i < len && j < 7; i++, j++) {
		if (p[i] != dp_sipframe_ver[j])
			return -1;
	}
	if (i == len)
		return 0;
	if (p[i] == '\r')
		i++;
	if (i == len)
		return 0;
	if (p[i] != '\n')
		return -1;
	*eol = i + 1;
	return 1;
}

static inline int
dp_sipframe_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Does the header line at p (ending before `end`) name Content-Length? */
static int
dp_sipframe_is_cl(const uint8_t *p, uint32_t end, uint32_t *colon)
{
	static const char name[] = "content-length";
	uint32_t i = 0;

	if (end > 0 && dp_sipframe_lower(p[0]) == 'l' && (end == 1 || !dp_sipframe_tchar(p[1]))) {
		i = 1;
	} else {
		for (i = 0; i < sizeof(name) - 1; i++) {
			if (i == end || dp_sipframe_lower(p[i]) != (uint8_t)name[i])
				return 0;
		}
	}
	while (i < end && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == end || p[i] != ':')
		return 0;
	*colon = i;
	return 1;
}

/* Skip linear white space, folds included, within [i, end). */
static uint32_t
dp_sipframe_lws(const uint8_t *p, uint32_t i, uint32_t end)
{
	for (;;) {
		while (i < end && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i + 1 < end && p[i] == '\n' && (p[i + 1] == ' ' || p[i + 1] == '\t'))
			i += 1;
		else if (i + 2 < end && p[i] == '\r' && p[i + 1] == '\n' &&
			(p[i + 2] == ' ' || p[i + 2] == '\t'))
			i += 2;
		else
			return i;
	}
}

/*
 * The value of the Content-Length header whose colon is at p[i], in a
 * header section that ends at `end` (past its empty line): -1 if it is
 * not a number that fits.
 */
static int64_t
dp_sipframe_cl_value(const uint8_t *p, uint32_t i, uint32_t end)
{
	uint64_t v = 0;
	uint32_t digits = 0;

	i = dp_sipframe_lws(p, i + 1, end);
	while (i < end && p[i] >= '0' && p[i] <= '9') {
		v = v * 10 + (uint64_t)(p[i++] - '0');
		if (++digits > 10)
			return -1;
	}
	if (digits == 0 || v > UINT32_MAX)
		return -1;
	i = dp_sipframe_lws(p, i, end);
	if (i < end && p[i] == '\r')
		i++;
	if (i >= end || p[i] != '\n')
		return -1;
	return (int64_t)v;
}

/* dp_sipframe.h */
int
dp_sipframe_len_skip(const uint8_t *p, uint32_t len, uint32_t *n)
{
	uint32_t q, eol, colon = 0, end;
	const uint8_t *lf;
	int64_t cl = -2, total;
	int r;

	*n = 0;
	r = dp_sipframe_start(p, len, &eol);
	if (r <= 0)
		return r;
	for (q = eol;;) {
		if (q == len)
			return 0;
		if (p[q] == '\n') {
			end = q + 1;
			break;
		}
		if (p[q] == '\r') {
			if (q + 1 == len)
				return 0;
			if (p[q + 1] == '\n') {
				end = q + 2;
				break;
			}
		}
		lf = memchr(p + q, '\n', len - q);
		if (lf == NULL)
			return 0;
		if (cl == -2 && dp_sipframe_is_cl(p + q, (uint32_t)(lf - p) - q, &colon)) {
			cl = -1;
			colon += q;
		}
		q = (uint32_t)(lf - p) + 1;
	}
	if (cl == -1) {
		cl = dp_sipframe_cl_value(p, colon, end);
		if (cl < 0) {
			*n = end;
			return -1;
		}
	} else {
		cl = 0;
	}
	total = (int64_t)end + cl;
	if (total > UINT32_MAX) {
		*n = end;
		return -1;
	}
	*n = (uint32_t)total;
	return 1;
}

int
dp_sipframe_len(const uint8_t *p, uint32_t len, uint32_t *n)
{
	uint32_t m;
	int r = dp_sipframe_len_skip(p, len, &m);

	if (r == 1)
		*n = m;
	return r;
}
