/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Report rendering. Zero entries are left out of the per-method and
 * per-code maps (the schema allows it) to keep documents small; scalar
 * fields are always present.
 */
#include <inttypes.h>
#include <stdio.h>

#include "dp_report.h"

static const char *const drop_names[SG_DROP_COUNT] = {
	[SG_DROP_NOT_IP] = "not IP",
	[SG_DROP_L2_UNSUPPORTED] = "unsupported link/VLAN/PPPoE",
	[SG_DROP_L4_UNSUPPORTED] = "not UDP/TCP (ICMP, ESP, SCTP, ...)",
	[SG_DROP_NOT_CANDIDATE] = "not a SIP port or trunk peer",
	[SG_DROP_PEER_NOT_SIP] = "trunk peer, not SIP (RTP, ...)",
	[SG_DROP_NO_PAYLOAD] = "no payload, keep-alive or ping",
	[SG_DROP_TCP_STREAMED] = "TCP segments (to stream reassembly)",
	[SG_DROP_TRUNCATED] = "headers truncated",
	[SG_DROP_BAD_HEADER] = "inconsistent headers",
	[SG_DROP_FRAGMENT] = "IP fragments (to reassembly)",
	[SG_DROP_MULTISEG] = "frame over 64 KiB",
	[SG_DROP_TOO_DEEP] = "encapsulated too deep",
	[SG_DROP_HEP_REFUSED] = "HEP refused (agent or key)",
	[SG_DROP_HEP_BAD] = "HEP malformed or not SIP",
};

uint64_t
dp_report_non_sip(const struct sg_source_counters *s)
{
	return s->drops[SG_DROP_NOT_IP] + s->drops[SG_DROP_L2_UNSUPPORTED] +
		s->drops[SG_DROP_L4_UNSUPPORTED] + s->drops[SG_DROP_NOT_CANDIDATE] +
		s->drops[SG_DROP_PEER_NOT_SIP] + s->drops[SG_DROP_NO_PAYLOAD] +
		s->drops[SG_DROP_TOO_DEEP] + s->drops[SG_DROP_HEP_REFUSED] +
		s->drops[SG_DROP_HEP_BAD];
}

uint64_t
dp_report_malformed(const struct sg_source_counters *s)
{
	return s->drops[SG_DROP_TRUNCATED] + s->drops[SG_DROP_BAD_HEADER] +
		s->drops[SG_DROP_MULTISEG] + s->sip_malformed;
}

static json_t *
codes_json(const uint64_t *codes)
{
	json_t *o = json_object();
	char key[8];
	int i;

	for (i = 0; i < SG_STATUS_COUNT; i++) {
		if (codes[i] == 0)
			continue;
		snprintf(key, sizeof(key), "%d", i + SG_STATUS_MIN);
		json_object_set_new(o, key, json_integer((json_int_t)codes[i]));
	}
	return o;
}

/* Every class, zeros included, so a reader can rely on each key. */
static json_t *
diagnosis_json(const struct sg_trunk_counters *c)
{
	json_t *o = json_object();
	int k;

	for (k = 0; k < SG_DIAG_COUNT; k++)
		json_object_set_new(
			o, sg_diag_class_names[k], json_integer((json_int_t)c->diagnosis[k]));
	return o;
}

static json_t *
trunk_json(const struct sg_trunk_counters *c)
{
	json_t *req = json_object();
	int m;

	for (m = 0; m < SG_M_COUNT; m++) {
		if (c->requests[m] != 0)
			json_object_set_new(
				req, sg_method_names[m], json_integer((json_int_t)c->requests[m]));
	}
	return json_pack("{s:o, s:o, s:I, s:I, s:o, s:I, s:o}", "requests", req, "responses",
		codes_json(c->responses), "retransmissions", (json_int_t)c->retransmissions,
		"invite_attempts", (json_int_t)c->invite_attempts, "invite_final",
		codes_json(c->invite_final), "malformed", (json_int_t)c->malformed, "diagnosis",
		diagnosis_json(c));
}

json_t *
dp_report_json(const struct sg_config *cfg, const struct dp_totals *t)
{
	const struct sg_source_counters *s = &t->src;
	json_t *trunks = json_object();
	json_t *src;
	uint32_t i;

	for (i = 0; i < cfg->n_trunks; i++)
		json_object_set_new(trunks, cfg->trunks[i].name, trunk_json(&t->trunk[i]));
	src = json_pack("{s:I, s:I, s:I, s:I, s:I}", "packets", (json_int_t)s->packets, "bytes",
		(json_int_t)s->bytes, "sip_messages", (json_int_t)s->sip_messages, "non_sip",
		(json_int_t)dp_report_non_sip(s), "malformed", (json_int_t)dp_report_malformed(s));
	for (i = 0; i < SG_SOURCE_FIELDS; i++)
		json_object_set_new(src, sg_source_fields[i].name,
			json_integer((json_int_t)sg_source_field_get(s, i)));
	return json_pack("{s:o, s:o, s:o}", "source", src, "trunks", trunks, "unmatched",
		trunk_json(&t->trunk[SG_UNMATCHED]));
}

static uint64_t
sum_range(const uint64_t *codes, int lo, int hi)
{
	uint64_t n = 0;
	int i;

	for (i = lo; i <= hi; i++)
		n += codes[i - SG_STATUS_MIN];
	return n;
}

static void
table_row(FILE *f, const char *name, const struct sg_trunk_counters *c)
{
	const uint64_t *fin = c->invite_final;
	uint64_t req = 0, rsp = sum_range(c->responses, 100, 699);
	uint64_t finals = sum_range(fin, 200, 699);
	double share = finals ? 100.0 * (double)fin[503 - SG_STATUS_MIN] / (double)finals : 0.0;
	int m;

	for (m = 0; m < SG_M_COUNT; m++)
		req += c->requests[m];
	fprintf(f,
		"%-16s %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
		" %7" PRIu64 " %6.1f%% %8" PRIu64 " %8" PRIu64 " %6" PRIu64 "\n",
		name, req, rsp, c->invite_attempts, sum_range(fin, 200, 299),
		sum_range(fin, 400, 499), fin[503 - SG_STATUS_MIN],
		sum_range(fin, 500, 699) - fin[503 - SG_STATUS_MIN], share, c->retransmissions,
		c->requests[SG_M_INVITE], c->malformed);
}

/* "carrier-a  cps-limit 12, overload 3, unclassified 40": classes with answers. */
static void
diag_rows(FILE *f, const struct sg_config *cfg, const struct dp_totals *t)
{
	uint32_t i, n = cfg->n_trunks + 1;
	int k, any;

	fprintf(f, "\ndiagnosis (final 4xx-6xx answers to INVITE, by what the carrier said):\n");
	for (i = 0; i < n; i++) {
		uint32_t slot = i < cfg->n_trunks ? i : SG_UNMATCHED;
		const uint64_t *d = t->trunk[slot].diagnosis;

		fprintf(f, "  %-16s", i < cfg->n_trunks ? cfg->trunks[i].name : "(unmatched)");
		/* the classes first, unclassified last */
		for (k = 1, any = 0; k <= SG_DIAG_COUNT; k++) {
			if (d[k % SG_DIAG_COUNT] == 0)
				continue;
			fprintf(f, "%s%s %" PRIu64, any ? ", " : " ",
				sg_diag_class_names[k % SG_DIAG_COUNT], d[k % SG_DIAG_COUNT]);
			any = 1;
		}
		fprintf(f, "%s\n", any ? "" : " -");
	}
}

void
dp_report_table(FILE *f, const struct sg_config *cfg, const struct dp_totals *t)
{
	const struct sg_source_counters *s = &t->src;
	uint32_t i;
	int d;

	fprintf(f,
		"packets %" PRIu64 "  bytes %" PRIu64 "  sip messages %" PRIu64 "  non-sip %" PRIu64
		"  malformed %" PRIu64 "  fragments %" PRIu64 "\n\n",
		s->packets, s->bytes, s->sip_messages, dp_report_non_sip(s), dp_report_malformed(s),
		s->drops[SG_DROP_FRAGMENT]);
	fprintf(f, "%-16s %9s %9s %8s %7s %7s %7s %7s %7s %8s %8s %6s\n", "trunk", "requests",
		"responses", "attempts", "2xx", "4xx", "503", "5xx/6xx", "503%", "retrans",
		"INVITEs", "malf");
	for (i = 0; i < cfg->n_trunks; i++)
		table_row(f, cfg->trunks[i].name, &t->trunk[i]);
	table_row(f, "(unmatched)", &t->trunk[SG_UNMATCHED]);
	fprintf(f,
		"\n(attempts: new INVITEs toward the trunk; 2xx..5xx/6xx: final answers to "
		"them; 503%%: share of finals)\n");
	diag_rows(f, cfg, t);
	fprintf(f, "\nnot classified:\n");
	for (d = 0; d < SG_DROP_COUNT; d++) {
		/* fragments and TCP segments are shown with reassembly below */
		if (d == SG_DROP_FRAGMENT || d == SG_DROP_TCP_STREAMED)
			continue;
		if (s->drops[d] != 0)
			fprintf(f, "  %-40s %" PRIu64 "\n", drop_names[d], s->drops[d]);
	}
	if (s->sip_malformed != 0)
		fprintf(f, "  %-40s %" PRIu64 "\n", "malformed SIP messages", s->sip_malformed);
	if (s->retrans_evictions != 0)
		fprintf(f, "  %-40s %" PRIu64 "\n", "retransmission table evictions",
			s->retrans_evictions);
	fprintf(f, "\nreassembly, decapsulation, HEP:\n");
	for (i = 0; i < SG_SOURCE_FIELDS; i++) {
		uint64_t v = sg_source_field_get(s, i);

		if (v != 0)
			fprintf(f, "  %-40s %" PRIu64 "\n", sg_source_fields[i].help, v);
	}
}
