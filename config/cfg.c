/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: turns a libconfig file into struct sg_config, or into one
 * line saying what is wrong and where. Every key lives in a table row with
 * its type, range, default and place in the struct (cfg_keys.c); the text
 * is screened for libconfig's blind spots first (cfg_screen.c); one
 * generic loop walks each group against its table, so a key cannot be
 * parsed in one place and documented or range-checked in another. Checks that span keys or trunks
 * (duplicate names, ambiguous prefixes) run per group through the section's
 * check hook. Nothing here touches EAL: tests and fuzzers call it directly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>
#include <libconfig.h>

#include "cfg.h"
#include "cfg_int.h"

/* A config file is a few kilobytes; anything this big is a wrong path. */
#define CFG_FILE_MAX (1024 * 1024)
#define CFG_LABEL_MAX 192
#define CFG_VALUE_MAX 80  /* a bad value as text, before quoting */
#define CFG_VALUE_SHOW 64 /* bytes of it quoted in an error */
#define CFG_KEYS_MAX 64	  /* keys per section: one bit each in a mask */

/* Bounded appender over the caller's error buffer. */
struct cfg_out {
	char *p;
	size_t len;
	size_t off;
};

enum cfg_prefix_err {
	CFG_PFX_OK,
	CFG_PFX_EADDR, /* not an address */
	CFG_PFX_ENUM,  /* prefix length not a number */
	CFG_PFX_ELEN,  /* prefix length beyond the address */
	CFG_PFX_EHOST, /* bits set beyond the prefix length */
};

static void
cfg_out_vprintf(struct cfg_out *o, const char *fmt, va_list ap)
{
	int n;

	if (o->p == NULL || o->off + 1 >= o->len)
		return;
	n = vsnprintf(o->p + o->off, o->len - o->off, fmt, ap);
	if (n < 0)
		return;
	o->off += (size_t)n;
	if (o->off >= o->len)
		o->off = o->len - 1;
}

static void __attribute__((format(printf, 2, 3)))
cfg_out_printf(struct cfg_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_out_vprintf(o, fmt, ap);
	va_end(ap);
}

/* Quote a value so that whatever it holds, the error stays one line. */
static void
cfg_out_quoted(struct cfg_out *o, const char *v)
{
	size_t i;

	cfg_out_printf(o, "\"");
	for (i = 0; v[i] != '\0'; i++) {
		unsigned char c = (unsigned char)v[i];

		if (i == CFG_VALUE_SHOW) {
			cfg_out_printf(o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			cfg_out_printf(o, "\\%c", c);
		else if (c == '\n')
			cfg_out_printf(o, "\\n");
		else if (c == '\t')
			cfg_out_printf(o, "\\t");
		else if (c < 0x20 || c == 0x7f)
			cfg_out_printf(o, "\\x%02x", c);
		else
			cfg_out_printf(o, "%c", c);
	}
	cfg_out_printf(o, "\"");
}

/*
 * Write the one error line "NAME:LINE: KEY: "VALUE": why". line 0, key
 * NULL and value NULL each drop their part. Always returns -1.
 */
int
cfg_error(struct cfg_ctx *ctx, unsigned int line, const char *key, const char *value,
	const char *fmt, ...)
{
	struct cfg_out o = { .p = ctx->err, .len = ctx->err == NULL ? 0 : ctx->errlen };
	va_list ap;

	if (o.len > 0)
		o.p[0] = '\0';
	cfg_out_printf(&o, "%s:", ctx->name);
	if (line > 0)
		cfg_out_printf(&o, "%u:", line);
	if (key != NULL)
		cfg_out_printf(&o, " %s:", key);
	if (value != NULL) {
		cfg_out_printf(&o, " ");
		cfg_out_quoted(&o, value);
		cfg_out_printf(&o, ":");
	}
	cfg_out_printf(&o, " ");
	va_start(ap, fmt);
	cfg_out_vprintf(&o, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Labels name a key in errors ("trunks[1] (carrier-b).cps"); one that does
 * not fit is cut short, which still points at the key.
 */
static void __attribute__((format(printf, 3, 4)))
cfg_label(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static const char *
cfg_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

/* A setting's value as written, near enough to find it in the file. */
static void
cfg_value_text(const struct cfg_ctx *ctx, const config_setting_t *s, char *buf, size_t len)
{
	long long v;
	unsigned int i;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		snprintf(buf, len, "%d", config_setting_get_int(s));
		return;
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (v == LLONG_MAX || v == LLONG_MIN) {
			for (i = 0; i < ctx->n_big; i++) {
				if (ctx->big[i].line == config_setting_source_line(s)) {
					snprintf(buf, len, "%s", ctx->big[i].text);
					return;
				}
			}
		}
		snprintf(buf, len, "%lld", v);
		return;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, len, "%g", config_setting_get_float(s));
		return;
	case CONFIG_TYPE_STRING:
		snprintf(buf, len, "%s", config_setting_get_string(s));
		return;
	case CONFIG_TYPE_BOOL:
		snprintf(buf, len, "%s", config_setting_get_bool(s) ? "true" : "false");
		return;
	case CONFIG_TYPE_GROUP:
		snprintf(buf, len, "{...}");
		return;
	case CONFIG_TYPE_ARRAY:
		snprintf(buf, len, "[...]");
		return;
	case CONFIG_TYPE_LIST:
		snprintf(buf, len, "(...)");
		return;
	}
	snprintf(buf, len, "?");
}

static int
cfg_type_error(
	struct cfg_ctx *ctx, const config_setting_t *s, const char *label, const char *expected)
{
	char v[CFG_VALUE_MAX];

	cfg_value_text(ctx, s, v, sizeof(v));
	return cfg_error(ctx, config_setting_source_line(s), label, v, "expected %s, got %s",
		expected, cfg_type_name(config_setting_type(s)));
}

static int
cfg_get_int(struct cfg_ctx *ctx, const config_setting_t *s, const char *label, int64_t min,
	int64_t max, int64_t *out)
{
	char v[CFG_VALUE_MAX];
	int64_t x;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		x = config_setting_get_int(s);
		break;
	case CONFIG_TYPE_INT64:
		x = config_setting_get_int64(s);
		break;
	default:
		return cfg_type_error(ctx, s, label, "an integer");
	}
	if (x < min || x > max) {
		cfg_value_text(ctx, s, v, sizeof(v));
		return cfg_error(ctx, config_setting_source_line(s), label, v,
			"out of range %" PRId64 "..%" PRId64, min, max);
	}
	*out = x;
	return 0;
}

/* Accept [ ... ] and ( ... ) alike, with min_n..max_n elements. */
static int
cfg_get_list(struct cfg_ctx *ctx, const config_setting_t *s, const char *label, uint32_t min_n,
	uint32_t max_n, uint32_t *n)
{
	int type = config_setting_type(s);
	char v[CFG_VALUE_MAX];
	unsigned int len;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return cfg_type_error(ctx, s, label, "a list");
	len = (unsigned int)config_setting_length(s);
	snprintf(v, sizeof(v), "%u entries", len);
	if (len > max_n)
		return cfg_error(ctx, config_setting_source_line(config_setting_get_elem(s, max_n)),
			label, v, "too many, at most %" PRIu32, max_n);
	if (len < min_n)
		return cfg_error(ctx, config_setting_source_line(s), label, v,
			"needs at least %" PRIu32, min_n);
	*n = len;
	return 0;
}

/* Spelled out: isalnum() would follow the locale. */
static bool
cfg_is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '.' || c == '-';
}

/*
 * Names appear in counters, JSON and the CLI, so they stay plain: returns
 * 0, 1 for a bad length, 2 for a bad character (its index in *bad).
 */
static int
cfg_name_check(const char *s, const struct cfg_key *k, size_t *bad)
{
	size_t len = strlen(s), i;

	if ((int64_t)len < k->min || (int64_t)len > k->max)
		return 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (k->type == CFG_T_TEXT ? (c < 0x20 || c >= 0x7f)
				: k->type == CFG_T_STRING
				? (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
				: !cfg_is_name_char(c)) {
			*bad = i;
			return 2;
		}
	}
	return 0;
}

static enum cfg_prefix_err
cfg_prefix_parse(const char *s, struct cfg_prefix *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned int max, depth, i;
	bool host = false;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return CFG_PFX_EADDR;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (memchr(addr, ':', alen) != NULL) {
		if (inet_pton(AF_INET6, addr, out->addr) != 1)
			return CFG_PFX_EADDR;
		out->family = 6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, addr, out->addr) != 1)
			return CFG_PFX_EADDR;
		out->family = 4;
		max = 32;
	}
	depth = max;
	if (slash != NULL) {
		const char *d = slash + 1;
		size_t dlen = strlen(d);

		/* Digits only: strtoul alone would take " 8", "+8" and "8x". */
		if (dlen == 0 || strspn(d, "0123456789") != dlen)
			return CFG_PFX_ENUM;
		if (dlen > 3)
			return CFG_PFX_ELEN;
		depth = (unsigned int)strtoul(d, NULL, 10);
		if (depth > max)
			return CFG_PFX_ELEN;
	}
	out->depth = (uint8_t)depth;
	for (i = 0; i < max / 8; i++) {
		int keep = (int)depth - (int)i * 8;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff00 >> keep);

		if ((out->addr[i] & ~mask) != 0)
			host = true;
		out->addr[i] &= mask;
	}
	return host ? CFG_PFX_EHOST : CFG_PFX_OK;
}

/*
 * On error returns -1; for host bits set, out still holds the network the
 * user probably meant.
 */
int
cfg_parse_prefix(const char *s, struct cfg_prefix *out)
{
	if (s == NULL || out == NULL)
		return -1;
	return cfg_prefix_parse(s, out) == CFG_PFX_OK ? 0 : -1;
}

int
cfg_format_prefix(const struct cfg_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int af;

	if (p->family == 4)
		af = AF_INET;
	else if (p->family == 6)
		af = AF_INET6;
	else
		return -1;
	if (inet_ntop(af, p->addr, a, sizeof(a)) == NULL)
		return -1;
	return snprintf(buf, len, "%s/%u", a, p->depth);
}

static bool
cfg_prefix_equal(const struct cfg_prefix *a, const struct cfg_prefix *b)
{
	return a->family == b->family && a->depth == b->depth &&
		memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static int
cfg_load_prefix(
	struct cfg_ctx *ctx, const config_setting_t *e, const char *label, struct cfg_prefix *out)
{
	unsigned int line = config_setting_source_line(e);
	char net[INET6_ADDRSTRLEN + 8];
	const char *s;

	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return cfg_type_error(ctx, e, label, "a string");
	s = config_setting_get_string(e);
	switch (cfg_prefix_parse(s, out)) {
	case CFG_PFX_OK:
		return 0;
	case CFG_PFX_EADDR:
		return cfg_error(ctx, line, label, s, "not an IPv4 or IPv6 prefix");
	case CFG_PFX_ENUM:
		return cfg_error(ctx, line, label, s, "prefix length not a number 0..%u",
			out->family == 4 ? 32 : 128);
	case CFG_PFX_ELEN:
		return cfg_error(ctx, line, label, s, "prefix length out of range 0..%u",
			out->family == 4 ? 32 : 128);
	case CFG_PFX_EHOST:
		if (cfg_format_prefix(out, net, sizeof(net)) < 0)
			snprintf(net, sizeof(net), "?");
		return cfg_error(ctx, line, label, s, "host bits set, did you mean %s", net);
	}
	return cfg_error(ctx, line, label, s, "not an IPv4 or IPv6 prefix");
}

/* Check one setting against its row and store it in base. */
static int
cfg_load_key(struct cfg_ctx *ctx, const config_setting_t *s, const struct cfg_key *k, void *base,
	const char *label)
{
	char *field = (char *)base + k->off;
	char elabel[CFG_LABEL_MAX];
	char vtext[CFG_VALUE_MAX];
	const config_setting_t *e;
	uint32_t n, i, j;
	const char *str;
	unsigned char c;
	size_t bad = 0;
	struct sockaddr_storage ss;
	int64_t v;

	switch (k->type) {
	case CFG_T_U16:
	case CFG_T_U32:
		if (cfg_get_int(ctx, s, label, k->min, k->max, &v) < 0)
			return -1;
		if (k->type == CFG_T_U16)
			*(uint16_t *)field = (uint16_t)v;
		else
			*(uint32_t *)field = (uint32_t)v;
		return 0;
	case CFG_T_U16_LIST: {
		uint16_t *a = (uint16_t *)field;

		if (cfg_get_list(ctx, s, label, k->min_n, k->max_n, &n) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, i);
			cfg_label(elabel, sizeof(elabel), "%s[%" PRIu32 "]", label, i);
			if (cfg_get_int(ctx, e, elabel, k->min, k->max, &v) < 0)
				return -1;
			a[i] = (uint16_t)v;
			for (j = 0; (k->flags & CFG_F_UNIQUE) && j < i; j++) {
				if (a[j] != a[i])
					continue;
				snprintf(vtext, sizeof(vtext), "%" PRIu16, a[i]);
				return cfg_error(ctx, config_setting_source_line(e), elabel, vtext,
					"duplicate of %s[%" PRIu32 "]", label, j);
			}
		}
		*(uint32_t *)((char *)base + k->count_off) = n;
		return 0;
	}
	case CFG_T_NAME:
	case CFG_T_STRING:
	case CFG_T_TEXT:
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return cfg_type_error(ctx, s, label, "a string");
		str = config_setting_get_string(s);
		switch (cfg_name_check(str, k, &bad)) {
		case 1:
			return cfg_error(ctx, config_setting_source_line(s), label, str,
				"must be %" PRId64 "..%" PRId64 " characters", k->min, k->max);
		case 2:
			c = (unsigned char)str[bad];
			return cfg_error(ctx, config_setting_source_line(s), label, str,
				k->type == CFG_T_TEXT
					? "bad character 0x%02x at %zu (printable ASCII only)"
					: k->type == CFG_T_STRING
					? (c > 0x20 && c < 0x7f ? "bad character '%c' at %zu (no "
								  "blanks or quotes)"
								: "bad character 0x%02x at %zu (no "
								  "blanks or quotes)")
					: c >= 0x20 && c < 0x7f
					? "bad character '%c' at %zu, use [A-Za-z0-9_.-]"
					: "bad character 0x%02x at %zu, use [A-Za-z0-9_.-]",
				c, bad + 1);
		}
		if ((k->flags & CFG_F_LISTEN) && cfg_parse_listen(str, &ss) < 0)
			return cfg_error(ctx, config_setting_source_line(s), label, str,
				"not ADDR:PORT or [IPV6]:PORT (numeric address, port 1..65535), "
				"nor \"off\"");
		memcpy(field, str, strlen(str) + 1);
		return 0;
	case CFG_T_ENUM: {
		char list[160];
		size_t off = 0;

		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return cfg_type_error(ctx, s, label, "a string");
		str = config_setting_get_string(s);
		for (i = 0; k->choices[i] != NULL; i++) {
			if (strcmp(str, k->choices[i]) == 0) {
				*(uint32_t *)field = i;
				return 0;
			}
			off += (size_t)snprintf(list + off,
				off < sizeof(list) ? sizeof(list) - off : 0, "%s\"%s\"",
				i == 0 ? "" : ", ", k->choices[i]);
			if (off >= sizeof(list))
				off = sizeof(list) - 1;
		}
		return cfg_error(
			ctx, config_setting_source_line(s), label, str, "must be one of %s", list);
	}
	case CFG_T_PREFIX_LIST: {
		struct cfg_prefix *a = (struct cfg_prefix *)field;

		if (cfg_get_list(ctx, s, label, k->min_n, k->max_n, &n) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, i);
			cfg_label(elabel, sizeof(elabel), "%s[%" PRIu32 "]", label, i);
			if (cfg_load_prefix(ctx, e, elabel, &a[i]) < 0)
				return -1;
			for (j = 0; (k->flags & CFG_F_UNIQUE) && j < i; j++) {
				if (cfg_prefix_equal(&a[j], &a[i]))
					return cfg_error(ctx, config_setting_source_line(e), elabel,
						config_setting_get_string(e),
						"duplicate of %s[%" PRIu32 "]", label, j);
			}
		}
		*(uint32_t *)((char *)base + k->count_off) = n;
		return 0;
	}
	}
	return cfg_error(ctx, config_setting_source_line(s), label, NULL, "unsupported key type");
}

static const struct cfg_key *
cfg_key_find(const struct cfg_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++) {
		if (strcmp(keys->name, name) == 0)
			return keys;
	}
	return NULL;
}

static void
cfg_key_defaults(const struct cfg_key *keys, void *base)
{
	const struct cfg_key *k;
	uint32_t i;

	for (k = keys; k->name != NULL; k++) {
		char *field = (char *)base + k->off;

		switch (k->type) {
		case CFG_T_U16:
			*(uint16_t *)field = (uint16_t)k->def;
			break;
		case CFG_T_U32:
		case CFG_T_ENUM:
			*(uint32_t *)field = (uint32_t)k->def;
			break;
		case CFG_T_U16_LIST:
			for (i = 0; i < k->n_def && i < k->max_n; i++)
				((uint16_t *)field)[i] = (uint16_t)k->def_list[i];
			*(uint32_t *)((char *)base + k->count_off) = i;
			break;
		case CFG_T_STRING:
			snprintf(field, (size_t)k->max + 1, "%s", k->def_str);
			break;
		case CFG_T_NAME:
		case CFG_T_TEXT:
		case CFG_T_PREFIX_LIST:
			/* Empty: the caller zeroed the struct. */
			break;
		}
	}
}

/*
 * The generic loop: every setting of grp must be a row of keys; each is
 * checked and stored; then every required row must have been seen.
 */
static int
cfg_load_group(struct cfg_ctx *ctx, const config_setting_t *grp, const struct cfg_key *keys,
	void *base, const char *label)
{
	char klabel[CFG_LABEL_MAX];
	const struct cfg_key *k;
	const config_setting_t *s;
	uint64_t seen = 0;
	unsigned int i, n;

	n = (unsigned int)config_setting_length(grp);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(grp, i);
		cfg_label(klabel, sizeof(klabel), "%s.%s", label, config_setting_name(s));
		k = cfg_key_find(keys, config_setting_name(s));
		if (k == NULL)
			return cfg_error(
				ctx, config_setting_source_line(s), klabel, NULL, "unknown key");
		seen |= UINT64_C(1) << (k - keys);
		if (cfg_load_key(ctx, s, k, base, klabel) < 0)
			return -1;
	}
	for (k = keys; k->name != NULL; k++) {
		if ((k->flags & CFG_F_REQUIRED) && !(seen & (UINT64_C(1) << (k - keys)))) {
			cfg_label(klabel, sizeof(klabel), "%s.%s", label, k->name);
			return cfg_error(ctx, config_setting_source_line(grp), klabel, NULL,
				"required key missing");
		}
	}
	return 0;
}

/* "trunks[3]", or "trunks[3] (carrier-a)" once the element has a valid name. */
static void
cfg_elem_label(const struct cfg_section *sec, const config_setting_t *e, uint32_t idx, char *buf,
	size_t len)
{
	const config_setting_t *m = NULL;
	const struct cfg_key *k = NULL;
	size_t bad;

	if (sec->label_key != NULL && config_setting_type(e) == CONFIG_TYPE_GROUP) {
		m = config_setting_get_member(e, sec->label_key);
		k = cfg_key_find(sec->keys, sec->label_key);
	}
	if (m != NULL && k != NULL && config_setting_type(m) == CONFIG_TYPE_STRING &&
		cfg_name_check(config_setting_get_string(m), k, &bad) == 0)
		cfg_label(buf, len, "%s[%" PRIu32 "] (%s)", sec->name, idx,
			config_setting_get_string(m));
	else
		cfg_label(buf, len, "%s[%" PRIu32 "]", sec->name, idx);
}

static int
cfg_load_section(struct cfg_ctx *ctx, const config_setting_t *s, const struct cfg_section *sec,
	struct sg_config *cfg)
{
	char label[CFG_LABEL_MAX];
	const config_setting_t *e;
	uint32_t *count;
	uint32_t n, i;
	char *base;

	if (sec->max_n == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			return cfg_type_error(ctx, s, sec->name, "a group");
		base = (char *)cfg + sec->off;
		if (cfg_load_group(ctx, s, sec->keys, base, sec->name) < 0)
			return -1;
		return sec->check != NULL ? sec->check(ctx, s, cfg, 0, sec->name) : 0;
	}
	if (cfg_get_list(ctx, s, sec->name, 0, sec->max_n, &n) < 0)
		return -1;
	count = (uint32_t *)((char *)cfg + sec->count_off);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		cfg_elem_label(sec, e, i, label, sizeof(label));
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return cfg_type_error(ctx, e, label, "a group");
		base = (char *)cfg + sec->off + (size_t)i * sec->size;
		memset(base, 0, sec->size);
		cfg_key_defaults(sec->keys, base);
		if (cfg_load_group(ctx, e, sec->keys, base, label) < 0)
			return -1;
		/* Counted before the check, which compares with earlier elements. */
		*count = i + 1;
		if (sec->check != NULL && sec->check(ctx, e, cfg, i, label) < 0)
			return -1;
	}
	return 0;
}

/*
 * Two trunks with one name cannot be told apart in reports; two trunks
 * claiming the same prefix on the same port leave the lookup to chance.
 */
int
cfg_check_trunk(struct cfg_ctx *ctx, const config_setting_t *s, struct sg_config *cfg, uint32_t idx,
	const char *label)
{
	const struct cfg_trunk *t = &cfg->trunks[idx], *o;
	const config_setting_t *m, *e;
	char klabel[CFG_LABEL_MAX];
	uint32_t j, p, q;

	for (j = 0; j < idx; j++) {
		if (strcmp(cfg->trunks[j].name, t->name) != 0)
			continue;
		m = config_setting_get_member(s, "name");
		cfg_label(klabel, sizeof(klabel), "%s.name", label);
		return cfg_error(ctx, config_setting_source_line(m), klabel, t->name,
			"duplicate name, also trunks[%" PRIu32 "]", j);
	}
	for (p = 0; p < t->n_prefixes; p++) {
		for (j = 0; j < idx; j++) {
			o = &cfg->trunks[j];
			if (o->port != t->port)
				continue;
			for (q = 0; q < o->n_prefixes; q++) {
				if (!cfg_prefix_equal(&o->prefixes[q], &t->prefixes[p]))
					continue;
				m = config_setting_get_member(s, "prefixes");
				e = config_setting_get_elem(m, p);
				cfg_label(klabel, sizeof(klabel), "%s.prefixes[%" PRIu32 "]", label,
					p);
				return cfg_error(ctx, config_setting_source_line(e), klabel,
					config_setting_get_string(e),
					"same prefix and port as trunks[%" PRIu32
					"] (%s), ambiguous",
					j, o->name);
			}
		}
	}
	return 0;
}

int
cfg_parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '\0' || strcmp(s, "off") == 0)
		return 0;
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return -1;
		h = s + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host) || !isdigit((unsigned char)colon[1]))
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (h == s) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
	}
	return 1;
}

/*
 * The fleet spans trunks: one edge holds one trunk per account (its
 * share is per account).
 */
static int
cfg_check_fleet(struct cfg_ctx *ctx, const config_setting_t *root, struct sg_config *cfg)
{
	const config_setting_t *tl = config_setting_get_member(root, "trunks");
	char klabel[CFG_LABEL_MAX];
	uint32_t i, j;

	for (i = 0; i < cfg->n_trunks; i++) {
		const struct cfg_trunk *t = &cfg->trunks[i];
		const config_setting_t *e = tl != NULL ? config_setting_get_elem(tl, i) : NULL;
		unsigned int line = e != NULL ? config_setting_source_line(e) : 0;

		if (t->account[0] == '\0')
			continue;
		cfg_label(klabel, sizeof(klabel), "trunks[%" PRIu32 "] (%s).account", i, t->name);
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->trunks[j].account, t->account) == 0)
				return cfg_error(ctx, line, klabel, t->account,
					"also the account of trunks[%" PRIu32
					"] (%s): one trunk per account on an edge",
					j, cfg->trunks[j].name);
		}
	}
	return 0;
}

unsigned int
cfg_diag_hs_flags(const struct cfg_diag_rule *r)
{
	unsigned int f = HS_FLAG_MULTILINE | HS_FLAG_SOM_LEFTMOST;

	if (r->caseless)
		f |= HS_FLAG_CASELESS;
	if (r->dotall)
		f |= HS_FLAG_DOTALL;
	return f;
}

/*
 * A rule's pattern is checked here, with the flags the dataplane compiles
 * it with, so a bad one is a config error with its file and line; the
 * dataplane's compile of the whole set names the rule and line too.
 */
int
cfg_check_diag(struct cfg_ctx *ctx, const config_setting_t *s, struct sg_config *cfg, uint32_t idx,
	const char *label)
{
	struct cfg_diag_rule *r = &cfg->diag[idx];
	const config_setting_t *m;
	char klabel[CFG_LABEL_MAX];
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *cerr = NULL;
	unsigned int line;
	uint32_t j;
	int bad;

	for (j = 0; j < idx; j++) {
		if (strcmp(cfg->diag[j].name, r->name) != 0)
			continue;
		m = config_setting_get_member(s, "name");
		cfg_label(klabel, sizeof(klabel), "%s.name", label);
		return cfg_error(ctx, config_setting_source_line(m), klabel, r->name,
			"duplicate name, also diagnosis[%" PRIu32 "]", j);
	}
	if (r->set[0] == '\0')
		snprintf(r->set, sizeof(r->set), "%s", CFG_DIAG_DEFAULT_SET);
	if (r->field[0] == '\0')
		snprintf(r->field, sizeof(r->field), "%s", CFG_DIAG_STATUS_FIELD);
	m = config_setting_get_member(s, "pattern");
	line = config_setting_source_line(m);
	r->line = line;
	cfg_label(klabel, sizeof(klabel), "%s.pattern", label);
	if (hs_expression_info(r->pattern, cfg_diag_hs_flags(r), &info, &cerr) != HS_SUCCESS) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s",
			cerr != NULL && cerr->message != NULL ? cerr->message : "not valid");
		hs_free_compile_error(cerr);
		return cfg_error(ctx, line, klabel, r->pattern, "Hyperscan: %s", msg);
	}
	bad = info->min_width == 0;
	free(info);
	if (bad)
		return cfg_error(ctx, line, klabel, r->pattern, "matches the empty string");
	return 0;
}

/* A trunk's rule set must have rules: a typo would leave it unread. */
static int
cfg_check_diag_sets(struct cfg_ctx *ctx, const config_setting_t *root, const struct sg_config *cfg)
{
	const config_setting_t *ts, *e, *m;
	char klabel[CFG_LABEL_MAX];
	uint32_t i, j;

	for (i = 0; i < cfg->n_trunks; i++) {
		const char *set = cfg->trunks[i].diagnosis;

		if (set[0] == '\0')
			continue;
		for (j = 0; j < cfg->n_diag; j++) {
			if (strcmp(cfg->diag[j].set, set) == 0)
				break;
		}
		if (j < cfg->n_diag)
			continue;
		ts = config_setting_get_member(root, "trunks");
		e = ts != NULL ? config_setting_get_elem(ts, i) : NULL;
		m = e != NULL ? config_setting_get_member(e, "diagnosis") : NULL;
		cfg_label(klabel, sizeof(klabel), "trunks[%" PRIu32 "] (%s).diagnosis", i,
			cfg->trunks[i].name);
		return cfg_error(ctx, m != NULL ? config_setting_source_line(m) : 0, klabel, set,
			"no diagnosis rule has this set");
	}
	return 0;
}

static int
cfg_load_root(struct cfg_ctx *ctx, const config_setting_t *root, struct sg_config *cfg)
{
	const struct cfg_section *sec;
	const config_setting_t *s;
	unsigned int i, n;

	n = (unsigned int)config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, i);
		for (sec = cfg_sections; sec->name != NULL; sec++) {
			if (strcmp(sec->name, config_setting_name(s)) == 0)
				break;
		}
		if (sec->name == NULL)
			return cfg_error(ctx, config_setting_source_line(s), config_setting_name(s),
				NULL, "unknown section");
		if (cfg_load_section(ctx, s, sec, cfg) < 0)
			return -1;
	}
	if (cfg_check_fleet(ctx, root, cfg) < 0)
		return -1;
	return cfg_check_diag_sets(ctx, root, cfg);
}

void
cfg_defaults(struct sg_config *cfg)
{
	const struct cfg_section *sec;

	memset(cfg, 0, sizeof(*cfg));
	for (sec = cfg_sections; sec->name != NULL; sec++) {
		if (sec->max_n == 0)
			cfg_key_defaults(sec->keys, (char *)cfg + sec->off);
	}
}

int
cfg_load_buffer(const char *text, size_t len, const char *name, struct sg_config *cfg, char *err,
	size_t errlen)
{
	struct cfg_ctx ctx = {
		.name = name != NULL ? name : "(config)",
		.err = err,
		.errlen = errlen,
	};
	struct cfg_text t = { 0 };
	size_t nstr = 0;
	config_t lc;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	cfg_defaults(cfg);
	if (text == NULL)
		len = 0;
	r = cfg_prepare(&ctx, text, len, &t);
	if (r == 0) {
		config_init(&lc);
		if (config_read_string(&lc, t.p) != CONFIG_TRUE)
			r = cfg_error(&ctx, (unsigned int)config_error_line(&lc), NULL, NULL, "%s",
				config_error_text(&lc) != NULL ? config_error_text(&lc)
							       : "syntax error");
		else {
			cfg_fix_lines(&ctx, config_root_setting(&lc), &nstr, 0);
			r = cfg_load_root(&ctx, config_root_setting(&lc), cfg);
		}
		config_destroy(&lc);
	}
	free(ctx.str_lines);
	free(t.p);
	if (r < 0)
		cfg_defaults(cfg);
	return r;
}

int
cfg_load(const char *path, struct sg_config *cfg, char *err, size_t errlen)
{
	struct cfg_ctx ctx = { .name = path, .err = err, .errlen = errlen };
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *p;
	char ebuf[128];
	FILE *f;
	int r, e;

	cfg_defaults(cfg);
	f = fopen(path, "re");
	if (f == NULL) {
		e = errno;
		return cfg_error(
			&ctx, 0, NULL, NULL, "cannot open: %s", strerror_r(e, ebuf, sizeof(ebuf)));
	}
	for (;;) {
		if (len == cap) {
			if (cap > CFG_FILE_MAX) {
				fclose(f);
				free(buf);
				return cfg_error(&ctx, 0, NULL, NULL,
					"cannot read: larger than %d bytes", CFG_FILE_MAX);
			}
			cap = cap == 0 ? 4096 : cap * 2;
			if (cap > CFG_FILE_MAX + 1)
				cap = CFG_FILE_MAX + 1;
			p = realloc(buf, cap);
			if (p == NULL) {
				fclose(f);
				free(buf);
				return cfg_error(&ctx, 0, NULL, NULL, "out of memory");
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		e = errno;
		fclose(f);
		free(buf);
		return cfg_error(
			&ctx, 0, NULL, NULL, "cannot read: %s", strerror_r(e, ebuf, sizeof(ebuf)));
	}
	fclose(f);
	r = cfg_load_buffer(buf, len, path, cfg, err, errlen);
	free(buf);
	return r;
}
