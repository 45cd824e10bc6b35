/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config reference renderer. Each key row of cfg_sections[] becomes an
 * entry: key, type, range, default, meaning. The range is stated as the
 * loader checks it (integers min..max, string lengths and characters, list
 * sizes and uniqueness, enum choices), so the reference cannot promise
 * what the loader refuses. Cells are first written with `backquotes`
 * around literals, the table's own markup, then turned into the output
 * format: kept for markdown, bold for roff, dropped for plain text.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cfg_ref.h"

#define CFG_REF_CELL 512  /* longest type, range or default cell */
#define CFG_REF_HELP 2048 /* longest meaning */
#define CFG_REF_WIDTH 78  /* plain text wraps here */
#define CFG_REF_INDENT 6  /* plain text: a key's details */

/* Bounded appender: a cell cut short is still a cell, never an overrun. */
struct cfg_ref_buf {
	char *p;
	size_t len;
	size_t off;
};

static void __attribute__((format(printf, 2, 3)))
cfg_ref_put(struct cfg_ref_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->off + 1 >= b->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b->off += (size_t)n;
	if (b->off >= b->len)
		b->off = b->len - 1;
}

int
cfg_ref_format_parse(const char *name, enum cfg_ref_format *fmt)
{
	if (name == NULL || strcmp(name, "text") == 0)
		*fmt = CFG_REF_TEXT;
	else if (strcmp(name, "md") == 0)
		*fmt = CFG_REF_MD;
	else if (strcmp(name, "man") == 0)
		*fmt = CFG_REF_MAN;
	else
		return -1;
	return 0;
}

int
cfg_ref_marker_open(char *buf, size_t len, const char *section, enum cfg_ref_format fmt)
{
	if (fmt == CFG_REF_MAN)
		return snprintf(buf, len, ".\\\" generated: keys of section %s", section);
	return snprintf(buf, len, "<!-- generated: keys of section %s -->", section);
}

const char *
cfg_ref_marker_close(enum cfg_ref_format fmt)
{
	return fmt == CFG_REF_MAN ? ".\\\" end generated" : "<!-- end generated -->";
}

static const char *
cfg_ref_type(const struct cfg_key *k)
{
	switch (k->type) {
	case CFG_T_U16:
	case CFG_T_U32:
		return "integer";
	case CFG_T_U16_LIST:
		return "list of integer";
	case CFG_T_PREFIX_LIST:
		return "list of string";
	case CFG_T_NAME:
	case CFG_T_STRING:
	case CFG_T_ENUM:
	case CFG_T_TEXT:
		return "string";
	}
	return "?";
}

/* Everything the loader checks about one value, in its own order. */
static void
cfg_ref_range(const struct cfg_key *k, char *cell, size_t len)
{
	struct cfg_ref_buf b = { .p = cell, .len = len };
	unsigned int i, n;

	cell[0] = '\0';
	switch (k->type) {
	case CFG_T_U16:
	case CFG_T_U32:
		cfg_ref_put(&b, "%" PRId64 "..%" PRId64, k->min, k->max);
		break;
	case CFG_T_U16_LIST:
		cfg_ref_put(&b, "%" PRId64 "..%" PRId64 ", %" PRIu32 "..%" PRIu32 " entries",
			k->min, k->max, k->min_n, k->max_n);
		break;
	case CFG_T_PREFIX_LIST:
		cfg_ref_put(&b,
			"%" PRIu32 "..%" PRIu32 " entries, each an IPv4 or IPv6 CIDR prefix",
			k->min_n, k->max_n);
		break;
	case CFG_T_NAME:
		cfg_ref_put(&b, "%" PRId64 "..%" PRId64 " characters of `[A-Za-z0-9_.-]`", k->min,
			k->max);
		break;
	case CFG_T_STRING:
		if (k->flags & CFG_F_LISTEN) {
			cfg_ref_put(&b, "`ADDR:PORT` or `[IPV6]:PORT` (numeric), `off` or empty");
			break;
		}
		cfg_ref_put(&b, "%" PRId64 "..%" PRId64 " characters, no blanks or quotes", k->min,
			k->max);
		break;
	case CFG_T_TEXT:
		cfg_ref_put(
			&b, "%" PRId64 "..%" PRId64 " printable ASCII characters", k->min, k->max);
		break;
	case CFG_T_ENUM:
		for (n = 0; k->choices[n] != NULL; n++)
			;
		if (n > 2)
			cfg_ref_put(&b, "one of ");
		for (i = 0; i < n; i++)
			cfg_ref_put(&b, "%s`\"%s\"`",
				i == 0		    ? ""
					: i + 1 < n ? ", "
						    : " or ",
				k->choices[i]);
		break;
	}
	if ((k->type == CFG_T_U16_LIST || k->type == CFG_T_PREFIX_LIST) &&
		(k->flags & CFG_F_UNIQUE))
		cfg_ref_put(&b, ", no duplicates");
}

/*
 * "required" for a key without a default; "absent" for an integer whose
 * default lies outside its range: the key then means "not set" (a trunk
 * without a port matches any port), which its meaning explains.
 */
static void
cfg_ref_default(const struct cfg_key *k, char *cell, size_t len)
{
	struct cfg_ref_buf b = { .p = cell, .len = len };
	uint32_t i;

	cell[0] = '\0';
	if (k->flags & CFG_F_REQUIRED) {
		cfg_ref_put(&b, "required");
		return;
	}
	switch (k->type) {
	case CFG_T_U16:
	case CFG_T_U32:
		if (k->def < k->min || k->def > k->max)
			cfg_ref_put(&b, "absent");
		else
			cfg_ref_put(&b, "`%" PRId64 "`", k->def);
		break;
	case CFG_T_U16_LIST:
		cfg_ref_put(&b, "`[");
		for (i = 0; i < k->n_def; i++)
			cfg_ref_put(&b, "%s %" PRIu32, i == 0 ? "" : ",", k->def_list[i]);
		cfg_ref_put(&b, " ]`");
		break;
	case CFG_T_PREFIX_LIST:
		cfg_ref_put(&b, "`[ ]`");
		break;
	case CFG_T_NAME:
	case CFG_T_TEXT:
		cfg_ref_put(&b, "`\"\"`");
		break;
	case CFG_T_STRING:
		cfg_ref_put(&b, "`\"%s\"`", k->def_str != NULL ? k->def_str : "");
		break;
	case CFG_T_ENUM:
		cfg_ref_put(&b, "`\"%s\"`", k->choices[k->def]);
		break;
	}
}

/*
 * Write marked-up text in a format. Markdown keeps it (a '|' would end the
 * table cell, so it is escaped); roff sets literals in bold, escapes what
 * troff would read as requests or escapes, and breaks source lines before
 * CFG_REF_WIDTH (`col` is where the text starts); plain text drops the
 * backquotes.
 */
static void
cfg_ref_text(FILE *f, const char *s, enum cfg_ref_format fmt, unsigned int col)
{
	bool lit = false, line_start = col == 0;
	size_t word;

	for (; *s != '\0'; s++) {
		switch (fmt) {
		case CFG_REF_MD:
			if (*s == '|')
				fputs("\\|", f);
			else
				fputc(*s, f);
			break;
		case CFG_REF_MAN:
			if (*s == ' ') {
				/* A literal's font escapes take 3 bytes each side. */
				word = strcspn(s + 1, " ") + 6;
				if (col > 0 && col + 1 + word > CFG_REF_WIDTH) {
					fputc('\n', f);
					col = 0;
					line_start = true;
					continue;
				}
			}
			if (line_start && (*s == '.' || *s == '\''))
				fputs("\\&", f);
			line_start = false;
			if (*s == '`') {
				col += (unsigned int)fprintf(f, "%s", lit ? "\\fR" : "\\fB");
				lit = !lit;
			} else if (*s == '\\')
				col += (unsigned int)fprintf(f, "\\e");
			else if (*s == '-' && lit)
				col += (unsigned int)fprintf(f, "\\-");
			else {
				fputc(*s, f);
				col++;
			}
			break;
		case CFG_REF_TEXT:
			if (*s != '`')
				fputc(*s, f);
			break;
		}
	}
	if (lit)
		fputs("\\fR", f);
}

/* Plain text: words of s (backquotes dropped) wrapped under an indent. */
static void
cfg_ref_wrap(FILE *f, const char *s, unsigned int indent)
{
	unsigned int col = 0;
	size_t n, i;

	while (*s != '\0') {
		while (*s == ' ')
			s++;
		n = strcspn(s, " ");
		if (n == 0)
			break;
		if (col > indent && col + 1 + n > CFG_REF_WIDTH) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fprintf(f, "%*s", (int)indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		for (i = 0; i < n; i++) {
			if (s[i] != '`') {
				fputc(s[i], f);
				col++;
			}
		}
		s += n;
	}
	if (col > 0)
		fputc('\n', f);
}

static void
cfg_ref_form(const struct cfg_section *sec, char *cell, size_t len)
{
	if (sec->max_n == 0)
		snprintf(cell, len, "A single group: `%s = { ... };`", sec->name);
	else
		snprintf(cell, len,
			"A list of at most %" PRIu32 " groups: `%s = ( { ... }, ... );`",
			sec->max_n, sec->name);
}

int
cfg_ref_section(FILE *f, const struct cfg_section *sec, enum cfg_ref_format fmt)
{
	char range[CFG_REF_CELL], def[CFG_REF_CELL], form[CFG_REF_CELL];
	char help[CFG_REF_HELP];
	const struct cfg_key *k;

	cfg_ref_form(sec, form, sizeof(form));
	switch (fmt) {
	case CFG_REF_MD:
		cfg_ref_text(f, form, fmt, 0);
		fputs("\n\n| key | type | range | default | meaning |\n"
		      "|-----|------|-------|---------|---------|\n",
			f);
		break;
	case CFG_REF_MAN:
		fputs(".PP\n", f);
		cfg_ref_text(f, form, fmt, 0);
		fputc('\n', f);
		break;
	case CFG_REF_TEXT:
		fprintf(f, "%s: %s\n", sec->name, sec->help);
		cfg_ref_wrap(f, form, 2);
		break;
	}
	for (k = sec->keys; k->name != NULL; k++) {
		cfg_ref_range(k, range, sizeof(range));
		cfg_ref_default(k, def, sizeof(def));
		switch (fmt) {
		case CFG_REF_MD:
			fprintf(f, "| `%s` | %s | ", k->name, cfg_ref_type(k));
			cfg_ref_text(f, range, fmt, 0);
			fputs(" | ", f);
			cfg_ref_text(f, def, fmt, 0);
			fputs(" | ", f);
			cfg_ref_text(f, k->help, fmt, 0);
			fputs(" |\n", f);
			break;
		case CFG_REF_MAN:
			/* A sentence: the meaning starts with a capital in the man page. */
			snprintf(help, sizeof(help), "%s.", k->help);
			if (help[0] >= 'a' && help[0] <= 'z')
				help[0] = (char)(help[0] - 'a' + 'A');
			fprintf(f, ".TP\n.B %s\n%s,\n", k->name, cfg_ref_type(k));
			cfg_ref_text(f, range, fmt, 0);
			fputs(";\ndefault: ", f);
			cfg_ref_text(f, def, fmt, 9);
			fputs(".\n.br\n", f);
			cfg_ref_text(f, help, fmt, 0);
			fputc('\n', f);
			break;
		case CFG_REF_TEXT:
			fprintf(f, "\n  %s\n", k->name);
			fprintf(f, "%*stype:    %s\n", CFG_REF_INDENT, "", cfg_ref_type(k));
			fprintf(f, "%*srange:   ", CFG_REF_INDENT, "");
			cfg_ref_text(f, range, fmt, 0);
			fprintf(f, "\n%*sdefault: ", CFG_REF_INDENT, "");
			cfg_ref_text(f, def, fmt, 0);
			fputc('\n', f);
			cfg_ref_wrap(f, k->help, CFG_REF_INDENT);
			break;
		}
	}
	if (fmt == CFG_REF_MD)
		fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

int
cfg_ref_write(FILE *f, enum cfg_ref_format fmt)
{
	const struct cfg_section *sec;
	char marker[128];

	if (fmt == CFG_REF_TEXT)
		fputs("sipguard configuration keys, by section (libconfig syntax; see "
		      "sipguard.conf(5)).\nA key left out takes its default.\n",
			f);
	for (sec = cfg_sections; sec->name != NULL; sec++) {
		cfg_ref_marker_open(marker, sizeof(marker), sec->name, fmt);
		switch (fmt) {
		case CFG_REF_MD:
			fprintf(f, "## Section `%s`\n\n%s\n", sec->name, marker);
			break;
		case CFG_REF_MAN:
			fprintf(f, ".SS %s\n%s\n", sec->name, marker);
			break;
		case CFG_REF_TEXT:
			fputc('\n', f);
			break;
		}
		if (cfg_ref_section(f, sec, fmt) < 0)
			return -1;
		if (fmt != CFG_REF_TEXT)
			fprintf(f, "%s\n%s", cfg_ref_marker_close(fmt),
				fmt == CFG_REF_MD && sec[1].name != NULL ? "\n" : "");
	}
	return ferror(f) ? -1 : 0;
}
