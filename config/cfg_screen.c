/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The loader's pre-pass over the config text, before libconfig reads it.
 * libconfig 1.5 wraps integers that do not fit an int and dates the last
 * string of a multi-line list at the "]": the text is screened here so
 * that every value keeps its meaning and every error its line (see
 * struct cfg_big and cfg_fix_lines).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "cfg.h"
#include "cfg_int.h"

static int
cfg_text_put(struct cfg_text *t, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (t->cap - t->len < n + 1) {
		cap = t->cap == 0 ? 256 : t->cap;
		while (cap - t->len < n + 1)
			cap *= 2;
		p = realloc(t->p, cap);
		if (p == NULL)
			return -1;
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return 0;
}

/* libconfig's scanner is ASCII; so is the screening. */
static bool
cfg_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
cfg_number_start(const char *text, size_t i, size_t len)
{
	unsigned char c = (unsigned char)text[i];
	unsigned char d = i + 1 < len ? (unsigned char)text[i + 1] : '\0';

	if (isdigit(c))
		return true;
	if (c == '.')
		return isdigit(d);
	if (c == '-' || c == '+')
		return isdigit(d) || d == '.';
	return false;
}

/*
 * Copy one numeric literal starting at *i, widening or clamping integers
 * that libconfig would wrap (see struct cfg_big). Inside [ ] every integer
 * is widened, as libconfig refuses an array that mixes int and int64.
 */
static int
cfg_number(struct cfg_ctx *ctx, const char *text, size_t *ip, size_t len, unsigned int line,
	bool in_array, struct cfg_text *out)
{
	size_t i = *ip, start = i, body, end, k;
	bool neg = false, hex, digits = true, over = false;
	uint64_t v = 0, limit;
	unsigned int suffix = 0, d;
	const char *str;

	if (text[i] == '-' || text[i] == '+')
		neg = text[i++] == '-';
	body = i;
	hex = i + 1 < len && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X');
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if (cfg_is_alpha(c) || isdigit(c) || c == '.')
			i++;
		else if ((c == '-' || c == '+') && !hex &&
			(text[i - 1] == 'e' || text[i - 1] == 'E'))
			i++;
		else
			break;
	}
	*ip = i;
	end = i;
	while (end > body && text[end - 1] == 'L' && suffix < 2) {
		end--;
		suffix++;
	}
	k = hex ? body + 2 : body;
	/* A signed hex literal is a libconfig syntax error: leave it be. */
	if (k == end || (hex && start != body))
		digits = false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; digits && k < end; k++) {
		unsigned char c = (unsigned char)text[k];

		if (hex && isxdigit(c))
			d = isdigit(c) ? (unsigned int)(c - '0')
				       : (unsigned int)(tolower(c) - 'a' + 10);
		else if (!hex && isdigit(c))
			d = (unsigned int)(c - '0');
		else {
			digits = false;
			break;
		}
		if (!over && v > (limit - d) / (hex ? 16 : 10))
			over = true;
		if (!over)
			v = v * (hex ? 16 : 10) + d;
	}
	if (!digits)
		return cfg_text_put(out, text + start, i - start);
	if (over) {
		if (ctx->n_big < CFG_BIG_MAX) {
			struct cfg_big *b = &ctx->big[ctx->n_big++];
			size_t n = i - start;

			b->line = line;
			if (n >= sizeof(b->text)) {
				memcpy(b->text, text + start, sizeof(b->text) - 4);
				memcpy(b->text + sizeof(b->text) - 4, "...", 4);
			} else {
				memcpy(b->text, text + start, n);
				b->text[n] = '\0';
			}
		}
		str = neg ? "-9223372036854775808L" : "9223372036854775807L";
		return cfg_text_put(out, str, strlen(str));
	}
	if (cfg_text_put(out, text + start, i - start) < 0)
		return -1;
	/* An array holds one type: widen all its integers or none. */
	if (suffix == 0 &&
		(in_array || (neg ? v > (uint64_t)INT32_MAX + 1 : v > (uint64_t)INT32_MAX)))
		return cfg_text_put(out, "L", 1);
	return 0;
}

static int
cfg_str_run(struct cfg_ctx *ctx, unsigned int line)
{
	unsigned int *p;
	size_t cap;

	if (ctx->n_str == ctx->cap_str) {
		cap = ctx->cap_str == 0 ? 64 : ctx->cap_str * 2;
		p = realloc(ctx->str_lines, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		ctx->str_lines = p;
		ctx->cap_str = cap;
	}
	ctx->str_lines[ctx->n_str++] = line;
	return 0;
}

/*
 * Copy text for libconfig, token by token as its scanner would see them:
 * comments and strings verbatim, integers screened by cfg_number(). On the
 * way, note the line where each string value starts (see cfg_fix_lines).
 * @include is refused: the loader reads one file, and a buffer from a
 * fuzzer or a socket must not reach the file system.
 */
int
cfg_prepare(struct cfg_ctx *ctx, const char *text, size_t len, struct cfg_text *out)
{
	const char *nul = len > 0 ? memchr(text, '\0', len) : NULL;
	bool in_array = false, after_string = false, eof_comment = false;
	unsigned int line = 1, opened;
	size_t i = 0, start;

	if (nul != NULL) {
		for (i = 0; text + i < nul; i++)
			line += text[i] == '\n';
		return cfg_error(ctx, line, NULL, NULL, "NUL byte in text");
	}
	if (cfg_text_put(out, "", 0) < 0)
		return cfg_error(ctx, 0, NULL, NULL, "out of memory");
	while (i < len) {
		char c = text[i];

		start = i;
		if (c == '#' || (c == '/' && i + 1 < len && text[i + 1] == '/')) {
			while (i < len && text[i] != '\n')
				i++;
			eof_comment = i == len;
		} else if (c == '/' && i + 1 < len && text[i + 1] == '*') {
			/* libconfig would drop the rest of the file without a word. */
			opened = line;
			for (i += 2;
				i < len && !(text[i] == '*' && i + 1 < len && text[i + 1] == '/');
				i++)
				line += text[i] == '\n';
			if (i == len)
				return cfg_error(ctx, opened, NULL, NULL, "unterminated comment");
			i += 2;
		} else if (c == '"') {
			/* Adjacent strings are one value to libconfig. */
			if (!after_string && cfg_str_run(ctx, line) < 0)
				return cfg_error(ctx, 0, NULL, NULL, "out of memory");
			opened = line;
			for (i++; i < len && text[i] != '"'; i++) {
				if (text[i] == '\\' && i + 1 < len)
					i++;
				line += text[i] == '\n';
			}
			if (i == len)
				return cfg_error(ctx, opened, NULL, NULL, "unterminated string");
			i++;
		} else if (c == '@' && len - i >= 8 && memcmp(text + i, "@include", 8) == 0) {
			return cfg_error(ctx, line, "@include", NULL, "not supported");
		} else if (cfg_is_alpha((unsigned char)c) || c == '*') {
			while (i < len &&
				(cfg_is_alpha((unsigned char)text[i]) ||
					isdigit((unsigned char)text[i]) || text[i] == '-' ||
					text[i] == '_' || text[i] == '*'))
				i++;
		} else if (cfg_number_start(text, i, len)) {
			if (cfg_number(ctx, text, &i, len, line, in_array, out) < 0)
				return cfg_error(ctx, 0, NULL, NULL, "out of memory");
			after_string = false;
			continue;
		} else {
			line += c == '\n';
			in_array = c == '[' ? true : c == ']' ? false : in_array;
			i++;
		}
		if (c == '"')
			after_string = true;
		else if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '#' && c != '/')
			after_string = false;
		if (cfg_text_put(out, text + start, i - start) < 0)
			return cfg_error(ctx, 0, NULL, NULL, "out of memory");
	}
	/* libconfig 1.5 refuses a line comment that ends the text. */
	if (eof_comment && cfg_text_put(out, "\n", 1) < 0)
		return cfg_error(ctx, 0, NULL, NULL, "out of memory");
	return 0;
}

/*
 * libconfig dates a list element when the parser reduces it, which for a
 * string is after it has looked past it for another string to join: the
 * last string of a multi-line list gets the line of the "]". Settings are
 * parsed in document order, so the n-th string value in the tree is the
 * n-th run of strings in the text, whose line cfg_prepare() noted. Valid
 * configs nest 4 deep; deeper lists are refused before anything in them
 * is reported, so they need no fixing.
 */
void
cfg_fix_lines(struct cfg_ctx *ctx, config_setting_t *s, size_t *k, unsigned int depth)
{
	unsigned int i, n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (*k < ctx->n_str)
			s->line = ctx->str_lines[*k];
		(*k)++;
		return;
	}
	if (!config_setting_is_aggregate(s) || depth > 8)
		return;
	n = (unsigned int)config_setting_length(s);
	for (i = 0; i < n; i++)
		cfg_fix_lines(ctx, config_setting_get_elem(s, i), k, depth + 1);
}
