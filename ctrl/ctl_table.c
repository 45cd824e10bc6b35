/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text layout for sipguardctl's renderers (see ctl_table.h): JSON values
 * formatted as cells, and tables printed with aligned columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ctl_table.h"

/* Format a JSON number as an integer, "-" when missing or null. */
const char *
ctl_fmt_int(char *buf, size_t len, json_t *v)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.0f", json_real_value(v));
	else
		snprintf(buf, len, "-");
	return buf;
}

/* Format a JSON number times scale with prec decimals, "-" when missing. */
const char *
ctl_fmt_real(char *buf, size_t len, json_t *v, double scale, int prec)
{
	if (json_is_number(v))
		snprintf(buf, len, "%.*f", prec, json_number_value(v) * scale);
	else
		snprintf(buf, len, "-");
	return buf;
}

/* A sanitised copy of a JSON string member, "-" when missing or null. */
const char *
ctl_fmt_str(char *buf, size_t len, json_t *v)
{
	if (json_is_string(v))
		ctl_api_sanitize(buf, len, json_string_value(v), json_string_length(v));
	else if (json_is_number(v))
		ctl_fmt_real(buf, len, v, 1, json_is_integer(v) ? 0 : 3);
	else
		snprintf(buf, len, "-");
	return buf;
}

const char *
ctl_fmt_time(char *buf, size_t len, json_t *v)
{
	struct tm tm;
	time_t t;
	double x;
	size_t n;

	if (!json_is_number(v)) {
		snprintf(buf, len, "-");
		return buf;
	}
	x = json_number_value(v);
	if (!(x >= 0 && x < 253402300800.0)) { /* year 10000 */
		snprintf(buf, len, "-");
		return buf;
	}
	t = (time_t)x;
	if (localtime_r(&t, &tm) == NULL ||
		(n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	snprintf(buf + n, len - n, ".%03d", (int)((x - (double)t) * 1000) % 1000);
	return buf;
}

/* Display width of a sanitised UTF-8 string: one column per code point. */
size_t
ctl_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

int
ctl_table_init(struct ctl_table *t, size_t ncols, const char *align, const char *const *heads)
{
	size_t c;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->align = align;
	t->cap = 16;
	t->cells = calloc(t->cap * ncols, CTL_CELL_MAX);
	if (t->cells == NULL)
		return -1;
	for (c = 0; c < ncols; c++) {
		snprintf(t->cells[c], CTL_CELL_MAX, "%s", heads[c]);
		t->width[c] = ctl_width(heads[c]);
	}
	t->nrows = 1;
	return 0;
}

/* Append a row; returns its cells (ncols of CTL_CELL_MAX bytes) or NULL. */
char (*ctl_table_row(struct ctl_table *t))[CTL_CELL_MAX]
{
	char(*n)[CTL_CELL_MAX];

	if (t->nrows == t->cap) {
		n = realloc(t->cells, t->cap * 2 * t->ncols * CTL_CELL_MAX);
		if (n == NULL)
			return NULL;
		t->cells = n;
		t->cap *= 2;
	}
	memset(t->cells[t->nrows * t->ncols], 0, t->ncols * CTL_CELL_MAX);
	return &t->cells[t->nrows++ * t->ncols];
}

void
ctl_table_print(FILE *f, struct ctl_table *t, const char *indent)
{
	size_t r, c, w, pad;
	const char *s;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			w = ctl_width(t->cells[r * t->ncols + c]);
			if (w > t->width[c])
				t->width[c] = w;
		}
	for (r = 0; r < t->nrows; r++) {
		fputs(indent, f);
		for (c = 0; c < t->ncols; c++) {
			s = t->cells[r * t->ncols + c];
			pad = t->width[c] - ctl_width(s);
			if (c > 0)
				fputs("  ", f);
			if (c == 0 || t->align[c] == 'l') {
				fputs(s, f);
				/* no trailing blanks after the last column */
				if (c + 1 < t->ncols)
					fprintf(f, "%*s", (int)pad, "");
			} else {
				fprintf(f, "%*s%s", (int)pad, "", s);
			}
		}
		fputc('\n', f);
	}
}

void
ctl_table_free(struct ctl_table *t)
{
	free(t->cells);
	t->cells = NULL;
}
