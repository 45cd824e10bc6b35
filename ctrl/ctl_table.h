/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text layout for sipguardctl's renderers: a JSON value formatted as one
 * cell ("-" when missing, strings sanitised), the display width of UTF-8
 * text, and tables of cells printed with aligned columns.
 *
 * Apart from the renderers (ctl_render.c) because these are the tools,
 * not the layouts: they know nothing of any command's document, and every
 * table sipguardctl prints goes through the same ones.
 */
#ifndef CTL_TABLE_H
#define CTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Format a JSON number as an integer, "-" when missing or null. */
const char *ctl_fmt_int(char *buf, size_t len, json_t *v);
/* Format a JSON number times scale with prec decimals, "-" when missing. */
const char *ctl_fmt_real(char *buf, size_t len, json_t *v, double scale, int prec);
/* A sanitised copy of a JSON string member, "-" when missing or null. */
const char *ctl_fmt_str(char *buf, size_t len, json_t *v);
/* Epoch seconds as local "YYYY-MM-DD HH:MM:SS.mmm", "-" when missing or out of range. */
const char *ctl_fmt_time(char *buf, size_t len, json_t *v);
/* Display width of a sanitised UTF-8 string: one column per code point. */
size_t ctl_width(const char *s);

/*
 * A table of text cells printed with aligned columns: the first column and
 * those flagged 'l' in align are left-aligned, the others right-aligned.
 */
#define CTL_TABLE_MAX_COLS 10
#define CTL_CELL_MAX 160

struct ctl_table {
	size_t ncols;
	const char *align;
	size_t nrows;
	size_t cap;
	char (*cells)[CTL_CELL_MAX];
	size_t width[CTL_TABLE_MAX_COLS];
};

/* A table whose first row is heads (ncols of them, at most CTL_TABLE_MAX_COLS); 0 or -1. */
int ctl_table_init(struct ctl_table *t, size_t ncols, const char *align, const char *const *heads);
/* Append a row; returns its cells (ncols of CTL_CELL_MAX bytes) or NULL. */
char (*ctl_table_row(struct ctl_table *t))[CTL_CELL_MAX];
/* Print every row, each line starting with indent. */
void ctl_table_print(FILE *f, struct ctl_table *t, const char *indent);
void ctl_table_free(struct ctl_table *t);

#endif /* CTL_TABLE_H */
