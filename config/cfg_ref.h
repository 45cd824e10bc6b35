/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config reference: renders the loader's own table (cfg_sections[]) as the
 * key reference an operator reads, in markdown (config/README.md), roff
 * (sipguard.conf(5)) or plain text (`sipguard --config-reference`). The
 * checked-in documents hold the rendered tables between marker lines, so a
 * key's type, range, default and meaning are written in one place only.
 * No EAL: the unit tests compare the documents with what is rendered here.
 */
#ifndef CFG_REF_H
#define CFG_REF_H

#include <stddef.h>
#include <stdio.h>

#include "cfg.h"

enum cfg_ref_format {
	CFG_REF_TEXT, /* plain text, wrapped for a terminal */
	CFG_REF_MD,   /* markdown tables */
	CFG_REF_MAN,  /* roff .TP entries for a man page */
};

/* "text", "md" or "man"; NULL means text. Returns 0, or -1 for any other. */
int cfg_ref_format_parse(const char *name, enum cfg_ref_format *fmt);

/*
 * The line that opens a section's generated block in a document (md or
 * man), without a newline: `<!-- generated: keys of section NAME -->` or
 * `.\" generated: keys of section NAME`. Returns snprintf's length.
 */
int cfg_ref_marker_open(char *buf, size_t len, const char *section, enum cfg_ref_format fmt);

/* The line that closes every generated block (md or man), without a newline. */
const char *cfg_ref_marker_close(enum cfg_ref_format fmt);

/*
 * The body of one section's generated block (what lies between the marker
 * lines, each line ending with a newline). Returns 0, or -1 on a write
 * error.
 */
int cfg_ref_section(FILE *f, const struct cfg_section *sec, enum cfg_ref_format fmt);

/*
 * The whole reference: every section in table order; in md and man each
 * body stands between its markers, under a heading. Returns 0, or -1 on a
 * write error.
 */
int cfg_ref_write(FILE *f, enum cfg_ref_format fmt);

#endif /* CFG_REF_H */
