/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for the diagnosis rules (dataplane/dp_diag.c): the input is
 * a SIP message. The field copy is run over the raw input as a header
 * section and, when the extractor accepts it, the classification over
 * the parsed message, with rules over the status line, two headers and a
 * vendor header. Checked beyond "no crash": every value copied lies in
 * the buffer, ends with the line feed that separates it and holds no CR
 * or LF of its own; a class comes with its rule and no class without one,
 * and the rule's class is the one returned.
 */
#include <string.h>

#include "cfg.h"
#include "dp_diag.h"
#include "dp_sip.h"
#include "fuzz_common.h"

static const char fuzz_diag_rules[] =
	"diagnosis = (\n"
	"  { name = \"cps\"; class = \"cps-limit\"; pattern = \"\\\\bCPS\\\\b\"; },\n"
	"  { name = \"anchored\"; class = \"maintenance\"; pattern = \"^SIP/2\\\\.0 5\\\\d\\\\d "
	"M$\";\n"
	"    caseless = 0; },\n"
	"  { name = \"q850\"; class = \"concurrency-limit\"; field = \"Reason\";\n"
	"    pattern = \"Q\\\\.850\\\\s*;\\\\s*cause\\\\s*=\\\\s*34\\\\b\"; },\n"
	"  { name = \"warn\"; class = \"overload\"; field = \"Warning\"; pattern = \"a.*b\";\n"
	"    dotall = 1; },\n"
	"  { name = \"own\"; set = \"t\"; class = \"other\"; field = \"X-Cause\";\n"
	"    pattern = \"down\"; }\n"
	");\n"
	"trunks = ( { name = \"t\"; prefixes = [ \"10.0.0.1\" ]; cps = 1; max_concurrent = 1;\n"
	"  diagnosis = \"t\"; } );\n";

static struct sg_config fuzz_cfg;
static struct dp_diag *fuzz_d;
static hs_scratch_t *fuzz_scratch;
static struct dp_diag_scan fuzz_sc;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (cfg_load_buffer(fuzz_diag_rules, strlen(fuzz_diag_rules), "fuzz.conf", &fuzz_cfg, err,
		    sizeof(err)) != 0 ||
		(fuzz_d = dp_diag_create(&fuzz_cfg, "fuzz.conf", err, sizeof(err))) == NULL ||
		dp_diag_scratch_alloc(fuzz_d, &fuzz_scratch) != 0) {
		fprintf(stderr, "fuzz_diag: %s\n", err);
		abort();
	}
	return 0;
}

static void
fuzz_diag_check_scan(const struct dp_diag_scan *sc)
{
	uint32_t k, i;

	FUZZ_CHECK(sc->len <= DP_DIAG_TEXT);
	FUZZ_CHECK(sc->n_segs <= DP_DIAG_SEGS);
	for (k = 0; k < sc->n_segs; k++) {
		const struct dp_diag_seg *s = &sc->seg[k];

		FUZZ_CHECK(s->start <= s->end && s->end < sc->len);
		FUZZ_CHECK(sc->text[s->end] == '\n');
		FUZZ_CHECK(k == 0 || s->start == sc->seg[k - 1].end + 1);
		for (i = s->start; i < s->end; i++)
			FUZZ_CHECK(sc->text[i] != '\n' && sc->text[i] != '\r');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_sip_msg m;
	enum sg_diag_class cls;
	uint16_t rule;
	uint32_t trunk;

	if (size > 65536)
		return 0;
	dp_diag_fields(fuzz_d, data, (uint32_t)size, &fuzz_sc);
	fuzz_diag_check_scan(&fuzz_sc);
	if (dp_sip_parse(data, (uint32_t)size, &m) != DP_SIP_OK)
		return 0;
	FUZZ_CHECK(m.base == data && m.hdr_len <= size);
	for (trunk = 0; trunk < 2; trunk++) {
		cls = dp_diag_classify(fuzz_d, fuzz_scratch, &fuzz_sc,
			trunk == 0 ? 0 : SG_UNMATCHED, m.base, m.hdr_len, &rule);
		fuzz_diag_check_scan(&fuzz_sc);
		FUZZ_CHECK((unsigned int)cls < SG_DIAG_COUNT);
		FUZZ_CHECK((cls == SG_DIAG_UNCLASSIFIED) == (rule == SG_DIAG_NO_RULE));
		if (rule != SG_DIAG_NO_RULE) {
			FUZZ_CHECK(rule < fuzz_cfg.n_diag);
			FUZZ_CHECK(cls == (enum sg_diag_class)(fuzz_cfg.diag[rule].cls + 1));
			/* the unmatched slot reads with the default set only */
			FUZZ_CHECK(trunk == 0 || strcmp(fuzz_cfg.diag[rule].set, "default") == 0);
		}
	}
	return 0;
}
