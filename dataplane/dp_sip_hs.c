/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message extractor, the Hyperscan engine (dp_sip_parse_hs): one
 * block scan of the header section with the header names as caseless
 * literals anchored to a line feed; values are then cut from the offsets
 * the scan reports and read by the same readers as the line walk's
 * (dp_sip_hdr.c). It is the reference the line walk (dp_sip.c) is
 * checked against (unit tests, the SIP fuzz harness compares the two on
 * every input) and can be chosen in the configuration. Why the line walk
 * carries the packets: a block scan of a 600-byte header section costs
 * about 300 cycles before any value is read, the whole per-packet budget;
 * the walk finds the same headers in well under half of that (figures in
 * the README's benchmark section).
 *
 * Also here: the pattern database, compiled once at start-up, and the
 * per-lcore scratch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "dp_hsbuf.h"
#include "dp_sip.h"
#include "dp_sip_impl.h"

struct dp_sip_db {
	hs_database_t *hs;
};

/*
 * Callbacks so far on this thread: one add per message, thread-local so
 * each lcore counts its own without sharing a line (initial-exec: no
 * __tls_get_addr call from a position-independent archive).
 */
static __thread uint64_t dp_sip_matches __attribute__((tls_model("initial-exec")));

uint64_t
dp_sip_match_count(void)
{
	return dp_sip_matches;
}

/*
 * Header names are plain caseless literals at a line start; the
 * `[ \t]*:` that must follow is checked in the callback. Literals keep the
 * scan on Hyperscan's literal matcher: with the `[ \t]*:` tails and
 * anchored start-line patterns in the database the scan of a typical
 * INVITE took several times longer. "\nv" covers both Via and its compact
 * form v; the callback skips an "ia". No HS_FLAG_SINGLEMATCH: the first
 * "\ni" may well be In-Reply-To, and only the callback can tell.
 */
/* Pattern ids: the header names (id == enum dp_sip_hdr). */
#define DP_SIP_ID_COUNT DP_SIP_H_COUNT

static const char *const dp_sip_patterns[DP_SIP_ID_COUNT] = {
	[DP_SIP_H_CALL_ID] = "\\n(call-id|i)",
	[DP_SIP_H_CSEQ] = "\\ncseq",
	[DP_SIP_H_VIA] = "\\nv",
	[DP_SIP_H_RETRY_AFTER] = "\\nretry-after",
	[DP_SIP_H_REASON] = "\\nreason",
	[DP_SIP_H_CONTENT_LENGTH] = "\\n(content-length|l)",
};

/* What the scan saw; lives on the parser's stack. */
struct dp_sip_scan {
	const uint8_t *buf;
	uint32_t len;
	uint32_t eoh;		      /* end of the empty line, 0 none */
	uint32_t matches;	      /* callbacks, for dp_sip_match_count */
	uint32_t hdr[DP_SIP_H_COUNT]; /* just past the colon, 0 none */
};

struct dp_sip_db *
dp_sip_db_create(char *err, size_t errlen)
{
	unsigned int flags[DP_SIP_ID_COUNT];
	unsigned int ids[DP_SIP_ID_COUNT];
	hs_compile_error_t *cerr = NULL;
	hs_platform_info_t plat;
	struct dp_sip_db *db;
	hs_database_t *hs = NULL;
	unsigned int i;

	for (i = 0; i < DP_SIP_ID_COUNT; i++) {
		ids[i] = i;
		flags[i] = HS_FLAG_CASELESS;
	}

	dp_sip_platform(&plat);
	if (hs_compile_multi(dp_sip_patterns, flags, ids, DP_SIP_ID_COUNT, HS_MODE_BLOCK, &plat,
		    &hs, &cerr) != HS_SUCCESS) {
		if (err != NULL && errlen > 0) {
			if (cerr != NULL && cerr->expression >= 0 &&
				cerr->expression < DP_SIP_ID_COUNT)
				snprintf(err, errlen, "sip: pattern %d '%s': %s", cerr->expression,
					dp_sip_patterns[cerr->expression], cerr->message);
			else
				snprintf(err, errlen, "sip: compile: %s",
					cerr != NULL ? cerr->message : "unknown error");
		}
		hs_free_compile_error(cerr);
		return NULL;
	}

	db = malloc(sizeof(*db));
	if (db == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "sip: out of memory");
		hs_free_database(hs);
		return NULL;
	}
	db->hs = hs;
	return db;
}

void
dp_sip_db_free(struct dp_sip_db *db)
{
	if (db == NULL)
		return;
	hs_free_database(db->hs);
	free(db);
}

int
dp_sip_scratch_alloc(const struct dp_sip_db *db, hs_scratch_t **scratch)
{
	hs_error_t rc;

	if (db == NULL || scratch == NULL)
		return -EINVAL;
	rc = hs_alloc_scratch(db->hs, scratch);
	if (rc == HS_NOMEM)
		return -ENOMEM;
	return rc == HS_SUCCESS ? 0 : -EINVAL;
}

/*
 * Kept small: it runs a handful of times per message. A name match counts
 * only when `[ \t]*:` follows, so "Via-Foo:" or "In-Reply-To:" are not
 * taken for Via or Call-ID.
 */
static int
dp_sip_on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	void *ctx)
{
	struct dp_sip_scan *st = ctx;
	const uint8_t *b = st->buf;
	uint32_t pos = (uint32_t)to;

	(void)from;
	(void)flags;
	st->matches++;
	if (st->hdr[id] != 0)
		return 0;
	/* Only 'I' and 'i' give 'i' when or'ed with 0x20. */
	if (id == DP_SIP_H_VIA && pos + 1 < st->len && (b[pos] | 0x20) == 'i' &&
		(b[pos + 1] | 0x20) == 'a')
		pos += 2;
	while (pos < st->len && (b[pos] == ' ' || b[pos] == '\t'))
		pos++;
	if (pos < st->len && b[pos] == ':')
		st->hdr[id] = pos + 1;
	return 0;
}

/*
 * Value span of a header whose name match ended at `pos` (just past the
 * colon). The value runs across folded lines (a line end followed by SP
 * or HT) and stops at the first line end that is not; leading and
 * trailing whitespace is trimmed. `end` is the end of the header section,
 * so the span never leaves it.
 */
static void
dp_sip_value(const uint8_t *b, uint32_t pos, uint32_t end, uint32_t *vs, uint32_t *ve)
{
	const uint8_t *nl;
	uint32_t e = pos;

	while (e < end) {
		nl = memchr(b + e, '\n', end - e);
		if (nl == NULL) {
			e = end;
			break;
		}
		e = (uint32_t)(nl - b);
		if (e + 1 < end && (b[e + 1] == ' ' || b[e + 1] == '\t')) {
			e += 2;
			continue;
		}
		break;
	}
	while (pos < e && dp_sip_is_ws(b[pos]))
		pos++;
	while (e > pos && dp_sip_is_ws(b[e - 1]))
		e--;
	*vs = pos;
	*ve = e;
}

/*
 * End of the header section: just past the first `\n\r?\n`, 0 when the
 * buffer has none. Found before the scan so the scan covers exactly the
 * header section: Hyperscan's cost grows with the buffer it is given, not
 * with where a callback stops it, and an end-of-headers pattern fires
 * (and costs a confirm) at every line end.
 */
static uint32_t
dp_sip_eoh(const uint8_t *b, uint32_t len)
{
	const uint8_t *p = b, *end = b + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (p + 1 < end && p[1] == '\n')
			return (uint32_t)(p + 2 - b);
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n')
			return (uint32_t)(p + 3 - b);
		p++;
	}
	return 0;
}

void
dp_sip_platform(hs_platform_info_t *plat)
{
	/*
	 * Target this CPU, but without the AVX-512 literal matchers: with
	 * them, Hyperscan 5.4.0 (Debian 12) was seen reading past the end of
	 * a scanned buffer (a fault at a page boundary while fuzzing). AVX2
	 * keeps the vector paths and never faulted.
	 */
	if (hs_populate_platform(plat) != HS_SUCCESS)
		memset(plat, 0, sizeof(*plat));
	plat->cpu_features &= HS_CPU_FEATURES_AVX2;
}

enum dp_sip_res
dp_sip_parse_hs(const struct dp_sip_db *db, hs_scratch_t *scratch, const uint8_t *buf, uint32_t len,
	struct dp_sip_msg *m)
{
	struct dp_sip_hdrs h;
	struct dp_sip_scan st;
	const char *scan;
	unsigned int id;
	hs_error_t rc;

	dp_sip_msg_init(m);
	if (db == NULL || scratch == NULL)
		return DP_SIP_SCAN_ERROR;
	if (buf == NULL || len == 0)
		return DP_SIP_NO_START_LINE;
	if (dp_sip_start_line(buf, len, m) != 0)
		return DP_SIP_NO_START_LINE;

	memset(&st, 0, sizeof(st));
	st.eoh = dp_sip_eoh(buf, len);
	if (st.eoh == 0)
		return DP_SIP_TRUNCATED;
	st.buf = buf;
	st.len = st.eoh;
	/* a body behind the headers is the slack a scan may read into */
	scan = len - st.eoh >= DP_HSBUF_SLACK ? (const char *)buf : dp_hsbuf_safe(buf, st.eoh);
	if (scan == NULL)
		return DP_SIP_SCAN_ERROR;
	rc = hs_scan(db->hs, scan, st.eoh, 0, scratch, dp_sip_on_match, &st);
	dp_sip_matches += st.matches;
	if (rc != HS_SUCCESS)
		return DP_SIP_SCAN_ERROR;

	/*
	 * A header-name match ending past the empty line came from the
	 * body; matches arrive in end-offset order so none should be
	 * recorded, but the check keeps every value inside the headers.
	 */
	memset(h.vs, 0, sizeof(h.vs));
	for (id = 0; id < DP_SIP_H_COUNT; id++) {
		if (st.hdr[id] != 0 && st.hdr[id] < st.eoh)
			dp_sip_value(buf, st.hdr[id], st.eoh, &h.vs[id], &h.ve[id]);
	}
	return dp_sip_finish(buf, len, st.eoh, &h, 0, m);
}
