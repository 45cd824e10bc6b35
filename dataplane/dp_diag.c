/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnosis rules (see dp_diag.h): one Hyperscan database for every rule
 * of every set, one block scan per answer over the values the rules look
 * at, each value on a line of its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_diag.h"
#include "dp_sip.h"

#define DP_DIAG_NO_SET 0xffff

struct dp_diag_rule {
	uint8_t cls;   /* enum sg_diag_class */
	uint8_t field; /* index in field_name */
	uint16_t set;  /* index of the rule's set */
};

struct dp_diag {
	hs_database_t *db; /* NULL: no rules */
	uint32_t n_rules;
	uint32_t n_fields;
	uint16_t default_set; /* DP_DIAG_NO_SET when no rule is in `default` */
	uint16_t trunk_set[SG_TRUNK_SLOTS];
	uint8_t field_len[DP_DIAG_FIELDS];
	char field_name[DP_DIAG_FIELDS][DP_DIAG_NAME_MAX]; /* [0]: "status" */
	char set_name[CFG_MAX_DIAG_RULES][SG_TRUNK_NAME_MAX];
	uint32_t n_sets;
	struct dp_diag_rule rule[CFG_MAX_DIAG_RULES];
	uint32_t n_workers;
	hs_scratch_t *wscratch[DP_DIAG_MAX_WORKERS];
};

/* What the match callback needs; on the caller's stack. */
struct dp_diag_match {
	const struct dp_diag *d;
	const struct dp_diag_scan *sc;
	uint32_t own_set;
	uint32_t best; /* (from the default set ? 1 << 16 : 0) | rule id */
};

static int
dp_diag_ieq(const char *a, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

static uint32_t
dp_diag_set_index(struct dp_diag *d, const char *set)
{
	uint32_t i;

	for (i = 0; i < d->n_sets; i++) {
		if (strcmp(d->set_name[i], set) == 0)
			return i;
	}
	snprintf(d->set_name[d->n_sets], SG_TRUNK_NAME_MAX, "%s", set);
	return d->n_sets++;
}

/* Index of a rule's field, added when new; -1 when there are too many. */
static int
dp_diag_field_index(struct dp_diag *d, const char *field)
{
	size_t len = strlen(field);
	uint32_t i;

	if (strcmp(field, CFG_DIAG_STATUS_FIELD) == 0)
		return 0;
	for (i = 1; i < d->n_fields; i++) {
		if (d->field_len[i] == len &&
			dp_diag_ieq(d->field_name[i], (const uint8_t *)field, len))
			return (int)i;
	}
	if (d->n_fields == DP_DIAG_FIELDS || len >= DP_DIAG_NAME_MAX)
		return -1;
	snprintf(d->field_name[d->n_fields], DP_DIAG_NAME_MAX, "%s", field);
	d->field_len[d->n_fields] = (uint8_t)len;
	return (int)d->n_fields++;
}

struct dp_diag *
dp_diag_create(const struct sg_config *cfg, const char *name, char *err, size_t errlen)
{
	return dp_diag_create_slots(cfg, NULL, name, err, errlen);
}

struct dp_diag *
dp_diag_create_slots(const struct sg_config *cfg, const uint32_t *slot, const char *name, char *err,
	size_t errlen)
{
	const char **exprs = NULL;
	unsigned int *flags = NULL, *ids = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_platform_info_t plat;
	struct dp_diag *d;
	uint32_t i, j, set;
	int f;

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "diagnosis: out of memory");
		return NULL;
	}
	snprintf(d->field_name[0], DP_DIAG_NAME_MAX, "%s", CFG_DIAG_STATUS_FIELD);
	d->n_fields = 1;
	d->default_set = DP_DIAG_NO_SET;
	for (i = 0; i < SG_TRUNK_SLOTS; i++)
		d->trunk_set[i] = DP_DIAG_NO_SET;
	d->n_rules = cfg->n_diag;
	if (d->n_rules == 0)
		return d;
	for (i = 0; i < cfg->n_diag; i++) {
		const struct cfg_diag_rule *r = &cfg->diag[i];

		f = dp_diag_field_index(d, r->field);
		if (f < 0) {
			snprintf(err, errlen,
				"%s:%" PRIu32 ": diagnosis[%" PRIu32
				"] (%s).field: \"%s\": more than "
				"%d header names in all rules",
				name, r->line, i, r->name, r->field, DP_DIAG_FIELDS - 1);
			goto fail;
		}
		set = dp_diag_set_index(d, r->set);
		d->rule[i].cls = (uint8_t)(r->cls + 1);
		d->rule[i].field = (uint8_t)f;
		d->rule[i].set = (uint16_t)set;
		if (strcmp(r->set, CFG_DIAG_DEFAULT_SET) == 0)
			d->default_set = (uint16_t)set;
	}
	for (i = 0; i < cfg->n_trunks; i++) {
		const char *own = cfg->trunks[i].diagnosis;
		uint32_t s = slot != NULL ? slot[i] : i;

		for (j = 0; own[0] != '\0' && j < d->n_sets && s < SG_TRUNK_SLOTS; j++) {
			if (strcmp(d->set_name[j], own) == 0)
				d->trunk_set[s] = (uint16_t)j;
		}
	}

	exprs = calloc(cfg->n_diag, sizeof(*exprs));
	flags = calloc(cfg->n_diag, sizeof(*flags));
	ids = calloc(cfg->n_diag, sizeof(*ids));
	if (exprs == NULL || flags == NULL || ids == NULL) {
		snprintf(err, errlen, "diagnosis: out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->n_diag; i++) {
		exprs[i] = cfg->diag[i].pattern;
		flags[i] = cfg_diag_hs_flags(&cfg->diag[i]);
		ids[i] = i;
	}
	dp_sip_platform(&plat);
	if (hs_compile_multi(exprs, flags, ids, cfg->n_diag, HS_MODE_BLOCK, &plat, &d->db, &cerr) !=
		HS_SUCCESS) {
		int e = cerr != NULL ? cerr->expression : -1;
		const char *why = cerr != NULL && cerr->message != NULL ? cerr->message : "failed";

		if (e >= 0 && (uint32_t)e < cfg->n_diag)
			snprintf(err, errlen,
				"%s:%" PRIu32 ": diagnosis[%d] (%s).pattern: \"%s\": Hyperscan: %s",
				name, cfg->diag[e].line, e, cfg->diag[e].name, cfg->diag[e].pattern,
				why);
		else
			snprintf(err, errlen, "%s: diagnosis: Hyperscan: %s", name, why);
		hs_free_compile_error(cerr);
		d->db = NULL;
		goto fail;
	}
	free(exprs);
	free(flags);
	free(ids);
	return d;
fail:
	free(exprs);
	free(flags);
	free(ids);
	dp_diag_free(d);
	return NULL;
}

void
dp_diag_free(struct dp_diag *d)
{
	uint32_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n_workers; i++) {
		if (d->wscratch[i] != NULL)
			hs_free_scratch(d->wscratch[i]);
	}
	if (d->db != NULL)
		hs_free_database(d->db);
	free(d);
}

uint32_t
dp_diag_n_rules(const struct dp_diag *d)
{
	return d != NULL ? d->n_rules : 0;
}

int
dp_diag_scratch_alloc(const struct dp_diag *d, hs_scratch_t **scratch)
{
	*scratch = NULL;
	if (d == NULL || d->db == NULL)
		return 0;
	return hs_alloc_scratch(d->db, scratch) == HS_SUCCESS ? 0 : -1;
}

int
dp_diag_workers(struct dp_diag *d, unsigned int n)
{
	hs_scratch_t *proto = NULL;
	unsigned int i;

	if (d == NULL || n > DP_DIAG_MAX_WORKERS)
		return -1;
	if (d->db == NULL || n == 0)
		return 0;
	if (hs_alloc_scratch(d->db, &proto) != HS_SUCCESS)
		return -1;
	for (i = 0; i < n; i++) {
		if (hs_clone_scratch(proto, &d->wscratch[i]) != HS_SUCCESS) {
			hs_free_scratch(proto);
			return -1;
		}
		d->n_workers = i + 1;
	}
	hs_free_scratch(proto);
	return 0;
}

hs_scratch_t *
dp_diag_worker_scratch(const struct dp_diag *d, unsigned int i)
{
	return d != NULL && i < d->n_workers ? d->wscratch[i] : NULL;
}

static inline int
dp_diag_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Append bytes to the value being copied; what does not fit is cut. */
static void
dp_diag_put(struct dp_diag_scan *sc, const uint8_t *p, uint32_t n)
{
	/* one byte stays free for the line feed that ends the value */
	uint32_t room = DP_DIAG_TEXT - 1 - sc->len;

	if (n > room) {
		n = room;
		sc->truncated++;
	}
	/* a stray CR or LF inside a value would make it two lines */
	for (uint32_t i = 0; i < n; i++)
		sc->text[sc->len + i] = (p[i] == '\r' || p[i] == '\n') ? ' ' : (char)p[i];
	sc->len += n;
}

static int
dp_diag_open(struct dp_diag_scan *sc, uint8_t field)
{
	if (sc->n_segs == DP_DIAG_SEGS || sc->len >= DP_DIAG_TEXT - 1) {
		sc->truncated++;
		return 0;
	}
	sc->seg[sc->n_segs].field = field;
	sc->seg[sc->n_segs].start = (uint16_t)sc->len;
	return 1;
}

static void
dp_diag_close(struct dp_diag_scan *sc)
{
	struct dp_diag_seg *s = &sc->seg[sc->n_segs];

	/* trailing blanks are not part of a value */
	while (sc->len > s->start && dp_diag_ws((uint8_t)sc->text[sc->len - 1]))
		sc->len--;
	s->end = (uint16_t)sc->len;
	sc->text[sc->len++] = '\n';
	sc->n_segs++;
}

/* End of the line starting at p[i] (the index of its LF, or n), and the next. */
static uint32_t
dp_diag_eol(const uint8_t *p, uint32_t i, uint32_t n, uint32_t *next)
{
	const uint8_t *lf = memchr(p + i, '\n', n - i);
	uint32_t e = lf != NULL ? (uint32_t)(lf - p) : n;

	*next = lf != NULL ? e + 1 : n;
	if (e > i && p[e - 1] == '\r')
		e--;
	return e;
}

void
dp_diag_fields(
	const struct dp_diag *d, const uint8_t *msg, uint32_t hdr_len, struct dp_diag_scan *sc)
{
	uint32_t i = 0, e, next, c, f;
	int open = 0;

	sc->len = 0;
	sc->n_segs = 0;
	sc->truncated = 0;
	if (msg == NULL || hdr_len == 0)
		return;
	/* the status line, whole */
	e = dp_diag_eol(msg, 0, hdr_len, &next);
	if (dp_diag_open(sc, 0)) {
		dp_diag_put(sc, msg, e);
		dp_diag_close(sc);
	}
	for (i = next; i < hdr_len; i = next) {
		e = dp_diag_eol(msg, i, hdr_len, &next);
		if (e == i)
			break; /* the empty line */
		if (dp_diag_ws(msg[i])) {
			/* a folded line continues the value: joined with one space */
			if (!open)
				continue;
			while (i < e && dp_diag_ws(msg[i]))
				i++;
			dp_diag_put(sc, (const uint8_t *)" ", 1);
			dp_diag_put(sc, msg + i, e - i);
			continue;
		}
		if (open) {
			dp_diag_close(sc);
			open = 0;
		}
		if (d == NULL || d->n_fields < 2)
			continue;
		for (c = i; c < e && msg[c] != ':'; c++)
			;
		if (c == e)
			continue;
		/* the name, blanks before the colon left out */
		for (f = c; f > i && dp_diag_ws(msg[f - 1]); f--)
			;
		for (uint32_t k = 1; k < d->n_fields; k++) {
			if (d->field_len[k] != f - i ||
				!dp_diag_ieq(d->field_name[k], msg + i, f - i))
				continue;
			if (!dp_diag_open(sc, (uint8_t)k))
				break;
			open = 1;
			for (c++; c < e && dp_diag_ws(msg[c]); c++)
				;
			dp_diag_put(sc, msg + c, e - c);
			break;
		}
	}
	if (open)
		dp_diag_close(sc);
}

static int
dp_diag_on_match(unsigned int id, unsigned long long from, unsigned long long to,
	unsigned int flags, void *ctx)
{
	struct dp_diag_match *mt = ctx;
	const struct dp_diag_rule *r = &mt->d->rule[id];
	const struct dp_diag_scan *sc = mt->sc;
	uint32_t k, key;

	(void)flags;
	if (r->set == mt->own_set)
		key = id;
	else if (r->set == mt->d->default_set)
		key = (1u << 16) | id;
	else
		return 0;
	if (key >= mt->best)
		return 0;
	for (k = 0; k < sc->n_segs; k++) {
		const struct dp_diag_seg *s = &sc->seg[k];

		if (to > s->end)
			continue;
		/* the value the match ends in must hold all of it, and be the rule's */
		if (from >= s->start && s->field == r->field)
			mt->best = key;
		break;
	}
	/* nothing can beat the first rule of the trunk's own set */
	return mt->best == 0 ? 1 : 0;
}

enum sg_diag_class
dp_diag_classify(const struct dp_diag *d, hs_scratch_t *scratch, struct dp_diag_scan *sc,
	uint32_t trunk, const uint8_t *msg, uint32_t hdr_len, uint16_t *rule)
{
	struct dp_diag_match mt;
	hs_error_t rc;

	*rule = SG_DIAG_NO_RULE;
	if (d == NULL || d->db == NULL || scratch == NULL || trunk >= SG_TRUNK_SLOTS)
		return SG_DIAG_UNCLASSIFIED;
	mt.d = d;
	mt.sc = sc;
	mt.own_set = d->trunk_set[trunk];
	mt.best = UINT32_MAX;
	if (mt.own_set == DP_DIAG_NO_SET && d->default_set == DP_DIAG_NO_SET)
		return SG_DIAG_UNCLASSIFIED;
	dp_diag_fields(d, msg, hdr_len, sc);
	if (sc->len == 0)
		return SG_DIAG_UNCLASSIFIED;
	rc = hs_scan(d->db, sc->text, sc->len, 0, scratch, dp_diag_on_match, &mt);
	if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
		return SG_DIAG_UNCLASSIFIED;
	if (mt.best == UINT32_MAX)
		return SG_DIAG_UNCLASSIFIED;
	*rule = (uint16_t)(mt.best & 0xffff);
	return (enum sg_diag_class)d->rule[*rule].cls;
}
