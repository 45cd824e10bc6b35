/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Between the loader (cfg.c) and its schema (cfg_keys.c): the check hooks
 * the section rows name. Not for other modules: they see cfg.h only.
 */
#ifndef SG_CFG_INT_H
#define SG_CFG_INT_H

#include <stdint.h>

#include <libconfig.h>

#include "cfg.h"

#define CFG_BIG_MAX 8

/*
 * libconfig 1.5 stores a decimal integer that does not fit an int with
 * atoi-like wrap-around (4295032832 loads as 65536) and wraps hex 64-bit
 * values too. So integers are screened before libconfig sees them: those
 * beyond int get an L suffix (libconfig then reads a 64-bit value), those
 * beyond 64 bits are replaced by the nearest 64-bit bound and remembered
 * here, so an error can still quote them as written.
 */
struct cfg_big {
	unsigned int line;
	char text[40];
};

struct cfg_ctx {
	const char *name; /* file name used in errors */
	char *err;
	size_t errlen;
	struct cfg_big big[CFG_BIG_MAX];
	unsigned int n_big;
	unsigned int *str_lines; /* line of each string value, in order */
	size_t n_str;
	size_t cap_str;
};

/* Growing text buffer for the screened copy of the input. */
struct cfg_text {
	char *p;
	size_t len;
	size_t cap;
};

/*
 * Write the one error line "NAME:LINE: KEY: "VALUE": why". line 0, key
 * NULL and value NULL each drop their part. Always returns -1.
 */
int cfg_error(struct cfg_ctx *ctx, unsigned int line, const char *key, const char *value,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* cfg_screen.c: the text libconfig is to read, screened; 0 or cfg_error's -1. */
int cfg_prepare(struct cfg_ctx *ctx, const char *text, size_t len, struct cfg_text *out);
/* cfg_screen.c: string values' lines as the text has them. */
void cfg_fix_lines(struct cfg_ctx *ctx, config_setting_t *s, size_t *k, unsigned int depth);

/* A trunk's prefixes against the trunks before it (overlaps, duplicates). */
int cfg_check_trunk(struct cfg_ctx *ctx, const config_setting_t *s, struct sg_config *cfg,
	uint32_t idx, const char *label);
/* A diagnosis rule: unique name, defaults, its pattern as Hyperscan compiles it. */
int cfg_check_diag(struct cfg_ctx *ctx, const config_setting_t *s, struct sg_config *cfg,
	uint32_t idx, const char *label);

#endif /* SG_CFG_INT_H */
