/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fleet shares (see ctl_fleet.h): per shared trunk, this edge's smoothed
 * demand and last second, the store's last view of the other edges and
 * the grant it holds; the split every edge computes from the same view;
 * the joined / fallback state machine.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_fleet.h"

struct ctl_fleet_acct {
	int shared;
	char account[CTL_FLEET_NAME_MAX];
	uint32_t limit;
	uint32_t known_edges; /* this one included, seen within a TTL */
	/* every other edge seen in a view, and when: a lagging edge misses a view */
	char seen_name[CTL_FLEET_MAX_EDGES][CTL_FLEET_NAME_MAX];
	uint64_t seen_s[CTL_FLEET_MAX_EDGES];
	uint64_t seen_used[CTL_FLEET_MAX_EDGES]; /* its newest second summed */
	uint32_t n_seen;
	uint32_t join_known; /* known_edges when it (re)joined */
	int have_local;
	uint64_t recent[CTL_FLEET_HELD_S]; /* attempts of the last seconds */
	struct ctl_fleet_edge self;
	uint32_t grant;
	int has_grant;
	struct ctl_fleet_view view; /* the last good one */
};

struct ctl_fleet {
	struct ctl_fleet_conf conf;
	uint32_t n_trunks;
	uint32_t n_shared;
	enum ctl_fleet_mode mode;
	int alerted;
	int have_ok;
	uint64_t joined_s;   /* second of the round that joined or rejoined */
	uint64_t fallback_s; /* second fallback began */
	uint64_t now_s;	     /* of the last tick */
	uint64_t last_ok_s;  /* second of the last good round (or of the first tick) */
	uint64_t seq;	     /* of the last round made */
	uint64_t newest;     /* seq of the newest answer taken */
	uint64_t ok_seq;     /* seq of the newest good answer */
	uint64_t rounds_ok;
	uint64_t rounds_failed;
	struct ctl_fleet_acct acct[SG_MAX_TRUNKS];
};

struct ctl_fleet *
ctl_fleet_create(const struct ctl_fleet_conf *conf, uint32_t n_trunks, const char *const accounts[],
	const uint32_t limits[])
{
	struct ctl_fleet *f;
	uint32_t i;

	if (conf == NULL || n_trunks > SG_MAX_TRUNKS || accounts == NULL || limits == NULL ||
		conf->edge[0] == '\0' || conf->ttl_s == 0 || conf->headroom_pct >= 100)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->conf = *conf;
	if (f->conf.expected_edges == 0)
		f->conf.expected_edges = 1;
	f->n_trunks = n_trunks;
	for (i = 0; i < n_trunks; i++) {
		struct ctl_fleet_acct *a = &f->acct[i];

		a->limit = limits[i];
		a->known_edges = f->conf.expected_edges;
		a->self.c.concurrent = -1;
		snprintf(a->self.name, sizeof(a->self.name), "%s", conf->edge);
		if (accounts[i] == NULL || accounts[i][0] == '\0')
			continue;
		a->shared = 1;
		snprintf(a->account, sizeof(a->account), "%s", accounts[i]);
		f->n_shared++;
	}
	return f;
}

void
ctl_fleet_free(struct ctl_fleet *f)
{
	free(f);
}

int
ctl_fleet_shared(const struct ctl_fleet *f, uint32_t trunk)
{
	return f != NULL && trunk < f->n_trunks && f->acct[trunk].shared;
}

uint32_t
ctl_fleet_n_shared(const struct ctl_fleet *f)
{
	return f != NULL ? f->n_shared : 0;
}

enum ctl_fleet_mode
ctl_fleet_mode(const struct ctl_fleet *f)
{
	return f->mode;
}

void
ctl_fleet_set_limit(struct ctl_fleet *f, uint32_t trunk, uint32_t cps)
{
	if (f != NULL && trunk < f->n_trunks)
		f->acct[trunk].limit = cps;
}

uint32_t
ctl_fleet_budget(uint32_t limit, uint32_t headroom_pct)
{
	uint64_t keep;

	if (headroom_pct >= 100)
		return 0;
	keep = (uint64_t)limit * (100 - headroom_pct) / 100;
	return keep > 0 || limit == 0 ? (uint32_t)keep : 1;
}

/* What the shares of trunk's account sum to at most. */
static uint32_t
budget(const struct ctl_fleet *f, const struct ctl_fleet_acct *a)
{
	return ctl_fleet_budget(a->limit, f->conf.headroom_pct);
}

static uint64_t
age(uint64_t now_s, uint64_t second)
{
	return now_s > second ? now_s - second : 0;
}

void
ctl_fleet_local(struct ctl_fleet *f, uint32_t trunk, uint64_t second,
	const struct ctl_fleet_counts *c, uint32_t limit, uint32_t state)
{
	struct ctl_fleet_acct *a;
	uint64_t rate, d, peak;
	unsigned int i;
	int held;

	if (!ctl_fleet_shared(f, trunk))
		return;
	a = &f->acct[trunk];
	rate = c->attempts * 1000;
	if (rate > UINT32_MAX)
		rate = UINT32_MAX;
	/* half-life of a second: a dialer that stops is seen within a few */
	d = a->have_local ? (a->self.demand_milli + rate) / 2 : rate;
	a->have_local = 1;
	a->self.second = second;
	a->self.c = *c;
	a->self.demand_milli = (uint32_t)d;
	a->self.limit = limit;
	a->self.state = state;
	/*
	 * Held (no limit yet) or dialing within a call or 10 % of its limit
	 * in one of the last CTL_FLEET_HELD_S seconds, the edge's dialers
	 * are held back by it: their demand is unseen, so the edge asks for
	 * the whole account and the split shares it evenly with the others
	 * in the same case. Below that for all of those seconds it asks for
	 * its smoothed rate plus headroom. Several seconds, because a count
	 * of one second is noisy (pacing, publication delays on a busy box)
	 * and an edge that asks less gets less: a dip must not start a slide.
	 */
	a->recent[second % CTL_FLEET_HELD_S] = c->attempts;
	for (i = 0, peak = 0; i < CTL_FLEET_HELD_S; i++)
		peak = a->recent[i] > peak ? a->recent[i] : peak;
	held = limit == 0 || (peak > 0 && peak * 10 + 10 >= (uint64_t)limit * 9);
	if (held)
		a->self.request_milli = budget(f, a) * 1000;
	else
		a->self.request_milli = (uint32_t)(d + d / 4 + 1000);
	if (a->self.request_milli > budget(f, a) * 1000)
		a->self.request_milli = budget(f, a) * 1000;
}

static int
seen_index(const struct ctl_fleet_acct *a, const char *name)
{
	uint32_t k;

	for (k = 0; k < a->n_seen; k++) {
		if (strcmp(a->seen_name[k], name) == 0)
			return (int)k;
	}
	return -1;
}

uint32_t
ctl_fleet_sums(struct ctl_fleet *f, uint32_t trunk, uint64_t now_s, struct ctl_fleet_counts *out)
{
	struct ctl_fleet_acct *a;
	uint32_t n = 1, i;

	memset(out, 0, sizeof(*out));
	out->concurrent = -1;
	if (f == NULL || trunk >= f->n_trunks)
		return 0;
	a = &f->acct[trunk];
	*out = a->self.c;
	if (!a->shared || f->mode != CTL_FLEET_JOINED)
		return 1;
	for (i = 0; i < a->view.n; i++) {
		const struct ctl_fleet_edge *e = &a->view.edges[i];
		int k = seen_index(a, e->name);

		if (age(now_s, e->second) > CTL_FLEET_SUM_AGE_S || e->second > now_s)
			continue;
		/*
		 * Calls are counted once: a second of another edge already
		 * summed (the view did not change, or the loop closed several
		 * seconds at once) adds no attempts again. Concurrency is a
		 * level: its latest is always the edge's part.
		 */
		if (k >= 0 && e->second > a->seen_used[k]) {
			out->attempts += e->c.attempts;
			out->finals += e->c.finals;
			out->r503 += e->c.r503;
			a->seen_used[k] = e->second;
		}
		if (e->c.concurrent >= 0)
			out->concurrent =
				(out->concurrent < 0 ? 0 : out->concurrent) + e->c.concurrent;
		n++;
	}
	return n;
}

static uint32_t
static_share(const struct ctl_fleet *f, const struct ctl_fleet_acct *a)
{
	uint32_t b = budget(f, a), s = b / (a->known_edges ? a->known_edges : 1);

	return s > 0 ? s : (b > 0 ? 1 : 0);
}

uint32_t
ctl_fleet_share(const struct ctl_fleet *f, uint32_t trunk)
{
	const struct ctl_fleet_acct *a;

	if (f == NULL || trunk >= f->n_trunks)
		return 0;
	a = &f->acct[trunk];
	if (!a->shared)
		return a->limit;
	if (f->mode == CTL_FLEET_JOINED && a->has_grant)
		return a->grant;
	/* not claimed yet: nothing is ours until the store says so */
	if (f->mode == CTL_FLEET_JOINING)
		return 0;
	/*
	 * The edges lose the store one by one, within a second or two: for
	 * a TTL none rises to its static share before the others fell to
	 * theirs.
	 */
	if (a->has_grant && f->now_s < f->fallback_s + f->conf.ttl_s &&
		a->grant < static_share(f, a))
		return a->grant;
	return static_share(f, a);
}

uint32_t
ctl_fleet_account_budget(const struct ctl_fleet *f, uint32_t trunk)
{
	if (f == NULL || trunk >= f->n_trunks)
		return 0;
	return budget(f, &f->acct[trunk]);
}

double
ctl_fleet_others_cps(const struct ctl_fleet *f, uint32_t trunk, uint64_t now_s)
{
	const struct ctl_fleet_acct *a;
	uint64_t milli = 0;
	uint32_t i;

	if (!ctl_fleet_shared(f, trunk) || f->mode != CTL_FLEET_JOINED)
		return 0.0;
	a = &f->acct[trunk];
	for (i = 0; i < a->view.n; i++) {
		const struct ctl_fleet_edge *e = &a->view.edges[i];

		/* smoothed: a second counted late on that edge is halved, not doubled */
		if (age(now_s, e->second) <= CTL_FLEET_SUM_AGE_S && e->second <= now_s)
			milli += e->demand_milli;
	}
	return (double)milli / 1000.0;
}

/* ---- the split ---- */

void
ctl_fleet_split(
	uint32_t limit, uint32_t min_share, uint32_t n, const uint32_t ask_milli[], uint32_t out[])
{
	uint64_t total[CTL_FLEET_MAX_EDGES + 1], need[CTL_FLEET_MAX_EDGES + 1];
	uint32_t order[CTL_FLEET_MAX_EDGES + 1], i, j, k, m, sum = 0;
	uint64_t rem;

	if (n == 0)
		return;
	if (n > CTL_FLEET_MAX_EDGES + 1)
		n = CTL_FLEET_MAX_EDGES + 1;
	m = min_share < limit / n ? min_share : limit / n;
	rem = ((uint64_t)limit - (uint64_t)m * n) * 1000;
	for (i = 0; i < n; i++) {
		total[i] = (uint64_t)m * 1000;
		need[i] = ask_milli[i] > total[i] ? ask_milli[i] - total[i] : 0;
		order[i] = i;
	}
	/* smallest need first; insertion sort, n is small */
	for (i = 1; i < n; i++) {
		uint32_t x = order[i];

		for (j = i; j > 0 && need[order[j - 1]] > need[x]; j--)
			order[j] = order[j - 1];
		order[j] = x;
	}
	/* water-filling: a need under the even part is met, the rest share evenly */
	for (i = 0, k = n; i < n; i++, k--) {
		uint32_t x = order[i];
		uint64_t even = rem / k;

		if (need[x] <= even) {
			total[x] += need[x];
			rem -= need[x];
			continue;
		}
		for (j = i; j < n; j++)
			total[order[j]] += even;
		rem -= even * (n - i);
		break;
	}
	/* what nobody asked for, evenly */
	if (i == n && rem > 0) {
		uint64_t even = rem / n;

		for (j = 0; j < n; j++)
			total[j] += even;
	}
	for (i = 0; i < n; i++) {
		out[i] = (uint32_t)(total[i] / 1000);
		sum += out[i];
	}
	/* the remainder, one by one to the largest fractions (first index on ties) */
	while (sum < limit) {
		uint32_t best = 0;
		uint64_t bf = 0;
		int found = 0;

		for (i = 0; i < n; i++) {
			uint64_t fr = total[i] % 1000;

			if (!found || fr > bf) {
				best = i;
				bf = fr;
				found = 1;
			}
		}
		out[best]++;
		total[best] = (uint64_t)out[best] * 1000; /* no fraction left */
		sum++;
	}
}

uint32_t
ctl_fleet_claim(uint32_t limit, uint32_t want, uint64_t others_granted)
{
	uint64_t free_cps = others_granted >= limit ? 0 : limit - others_granted;

	return want < free_cps ? want : (uint32_t)free_cps;
}

/* The share this edge asks to hold: its part of the split over the live edges. */
static uint32_t
want_of(const struct ctl_fleet *f, const struct ctl_fleet_acct *a, uint64_t now_s)
{
	const struct ctl_fleet_edge *live[CTL_FLEET_MAX_EDGES + 1];
	uint32_t ask[CTL_FLEET_MAX_EDGES + 1], out[CTL_FLEET_MAX_EDGES + 1];
	uint32_t n = 0, i, j, self = 0;

	live[n++] = &a->self;
	for (i = 0; f->have_ok && i < a->view.n && n <= CTL_FLEET_MAX_EDGES; i++) {
		if (age(now_s, a->view.edges[i].second) <= f->conf.ttl_s)
			live[n++] = &a->view.edges[i];
	}
	/* by name: every edge orders the split alike */
	for (i = 1; i < n; i++) {
		const struct ctl_fleet_edge *x = live[i];

		for (j = i; j > 0 && strcmp(live[j - 1]->name, x->name) > 0; j--)
			live[j] = live[j - 1];
		live[j] = x;
	}
	for (i = 0; i < n; i++) {
		ask[i] = live[i]->request_milli;
		if (live[i] == &a->self)
			self = i;
	}
	ctl_fleet_split(budget(f, a), f->conf.min_share, n, ask, out);
	/*
	 * Edges that start together, or come back after the store was lost,
	 * do not see each other in their first rounds: for a TTL, ask no
	 * more than an even part among the edges last known, so the first
	 * to claim does not take all while the others still hold theirs.
	 */
	if (!f->have_ok || f->mode != CTL_FLEET_JOINED || now_s < f->joined_s + f->conf.ttl_s) {
		uint32_t k = a->join_known > a->known_edges ? a->join_known : a->known_edges;
		uint32_t even = budget(f, a) / (n > k ? n : k);

		if (out[self] > even)
			return even;
	}
	return out[self];
}

void
ctl_fleet_round(struct ctl_fleet *f, uint64_t now_s, struct ctl_fleet_round *out)
{
	uint32_t i;

	out->seq = ++f->seq;
	out->second = now_s;
	out->ttl_s = f->conf.ttl_s;
	out->n = 0;
	for (i = 0; i < f->n_trunks; i++) {
		struct ctl_fleet_acct *a = &f->acct[i];
		struct ctl_fleet_ask *k;

		if (!a->shared)
			continue;
		k = &out->ask[out->n++];
		k->trunk = i;
		snprintf(k->account, sizeof(k->account), "%s", a->account);
		k->limit = budget(f, a); /* the claim keeps the grants within it */
		k->want = want_of(f, a, now_s);
		k->self = a->self;
		if (!a->have_local)
			k->self.second = now_s > 0 ? now_s - 1 : 0;
	}
}

/* Note that edge e was seen with a second of its; the oldest entry makes room. */
static void
seen(struct ctl_fleet_acct *a, const struct ctl_fleet_edge *e)
{
	uint32_t k, old = 0;
	size_t len;

	for (k = 0; k < a->n_seen; k++) {
		if (strcmp(a->seen_name[k], e->name) == 0)
			break;
		if (a->seen_s[k] < a->seen_s[old])
			old = k;
	}
	if (k == a->n_seen) {
		if (a->n_seen < CTL_FLEET_MAX_EDGES)
			a->n_seen++;
		else
			k = old;
		len = strnlen(e->name, sizeof(e->name) - 1);
		memcpy(a->seen_name[k], e->name, len);
		a->seen_name[k][len] = '\0';
		a->seen_s[k] = 0;
		a->seen_used[k] = 0;
	}
	if (e->second > a->seen_s[k])
		a->seen_s[k] = e->second;
}

void
ctl_fleet_result(struct ctl_fleet *f, const struct ctl_fleet_result *r)
{
	uint32_t i, j;

	if (r->seq <= f->newest)
		return;
	f->newest = r->seq;
	if (!r->ok) {
		f->rounds_failed++;
		return;
	}
	f->rounds_ok++;
	f->ok_seq = r->seq;
	if (f->mode != CTL_FLEET_JOINED) {
		f->joined_s = r->second;
		for (i = 0; i < f->n_trunks; i++)
			f->acct[i].join_known = f->acct[i].known_edges;
	}
	f->have_ok = 1;
	f->last_ok_s = r->second;
	f->mode = CTL_FLEET_JOINED;
	for (i = 0, j = 0; i < f->n_trunks && j < r->n; i++) {
		struct ctl_fleet_acct *a = &f->acct[i];
		uint32_t k, live = 1;

		if (!a->shared)
			continue;
		a->view = r->view[j++];
		if (a->view.n > CTL_FLEET_MAX_EDGES)
			a->view.n = CTL_FLEET_MAX_EDGES;
		a->grant = a->view.grant;
		a->has_grant = 1;
		for (k = 0; k < a->view.n; k++)
			seen(a, &a->view.edges[k]);
		for (k = 0; k < a->n_seen; k++) {
			if (age(r->second, a->seen_s[k]) <= f->conf.ttl_s)
				live++;
		}
		a->known_edges = live;
	}
}

enum ctl_fleet_change
ctl_fleet_tick(struct ctl_fleet *f, uint64_t now_s)
{
	f->now_s = now_s;
	if (f->last_ok_s == 0)
		f->last_ok_s = now_s; /* the clock starts at the first tick */
	if (f->mode == CTL_FLEET_JOINED && f->alerted) {
		f->alerted = 0;
		return CTL_FLEET_LEFT_FALLBACK;
	}
	/*
	 * Lost: no good answer for CTL_FLEET_STALE_S and more rounds than
	 * that made since. A control loop that itself stalled (a starved
	 * box) made no rounds meanwhile: that is not the store's fault.
	 */
	if (f->mode != CTL_FLEET_FALLBACK && age(now_s, f->last_ok_s) > CTL_FLEET_STALE_S &&
		f->seq - f->ok_seq > CTL_FLEET_STALE_S) {
		f->mode = CTL_FLEET_FALLBACK;
		f->fallback_s = now_s;
		f->alerted = 1;
		return CTL_FLEET_ENTERED_FALLBACK;
	}
	return CTL_FLEET_NO_CHANGE;
}

/* ---- samples as text ---- */

int
ctl_fleet_sample_format(const struct ctl_fleet_edge *e, char *buf, size_t len)
{
	int n = snprintf(buf, len,
		"%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRIu32 " %" PRIu32
		" %" PRIu32 " %" PRIu32,
		e->second, e->c.attempts, e->c.finals, e->c.r503, e->c.concurrent, e->demand_milli,
		e->request_milli, e->limit, e->state);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Digits only (a leading '-' where allowed), no blanks, no overflow. */
static int
parse_num(const char **p, const char *end, int neg_ok, uint64_t max, int64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int neg = 0;

	if (neg_ok && s < end && *s == '-') {
		neg = 1;
		s++;
	}
	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	if (neg && v != 1)
		return -1; /* only -1 (unknown) is negative */
	*out = neg ? -1 : (int64_t)v;
	*p = s;
	return 0;
}

int
ctl_fleet_sample_parse(const char *s, size_t len, struct ctl_fleet_edge *e)
{
	const char *p = s, *end = s + len;
	int64_t v[9];
	unsigned int i;

	for (i = 0; i < 9; i++) {
		if (i > 0) {
			if (p >= end || *p != ' ')
				return -1;
			p++;
		}
		if (parse_num(&p, end, i == 4, i < 5 ? INT64_MAX : UINT32_MAX, &v[i]) < 0)
			return -1;
	}
	if (p != end)
		return -1;
	e->second = (uint64_t)v[0];
	e->c.attempts = (uint64_t)v[1];
	e->c.finals = (uint64_t)v[2];
	e->c.r503 = (uint64_t)v[3];
	e->c.concurrent = v[4];
	e->demand_milli = (uint32_t)v[5];
	e->request_milli = (uint32_t)v[6];
	e->limit = (uint32_t)v[7];
	e->state = (uint32_t)v[8];
	return 0;
}

/* ---- JSON for the CLI ---- */

static const char *
mode_name(enum ctl_fleet_mode m)
{
	switch (m) {
	case CTL_FLEET_JOINING:
		return "joining";
	case CTL_FLEET_JOINED:
		return "joined";
	case CTL_FLEET_FALLBACK:
		return "fallback";
	}
	return "?";
}

/* enum ctl_policy_state, as the policy names them */
static const char *
state_name(uint32_t s)
{
	static const char *const names[] = { "normal", "paused", "throttled" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static json_t *
edge_json(const struct ctl_fleet_edge *e, int self, uint64_t now_s)
{
	return json_pack("{s:s, s:b, s:f, s:f, s:o, s:i, s:s, s:I}", "edge", e->name, "self", self,
		"rate_cps", e->demand_milli / 1000.0, "ask_cps", e->request_milli / 1000.0,
		"share_cps", e->has_grant ? json_integer(e->grant) : json_null(), "limit_cps",
		(int)e->limit, "state", state_name(e->state), "age_s",
		(json_int_t)age(now_s, e->second));
}

json_t *
ctl_fleet_json(const struct ctl_fleet *f, uint64_t now_s)
{
	json_t *accts = json_array();
	uint32_t i, k;

	for (i = 0; i < f->n_trunks; i++) {
		const struct ctl_fleet_acct *a = &f->acct[i];
		struct ctl_fleet_edge self = a->self;
		json_t *edges;

		if (!a->shared)
			continue;
		edges = json_array();
		self.grant = ctl_fleet_share(f, i);
		self.has_grant = 1;
		json_array_append_new(edges, edge_json(&self, 1, now_s));
		for (k = 0; f->have_ok && k < a->view.n; k++)
			json_array_append_new(edges, edge_json(&a->view.edges[k], 0, now_s));
		json_array_append_new(accts,
			json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:o}", "account", a->account,
				"trunk", (int)i, "limit_cps", (int)a->limit, "budget_cps",
				(int)budget(f, a), "share_cps", (int)ctl_fleet_share(f, i),
				"known_edges", (int)a->known_edges, "edges", edges));
	}
	return json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "edge", f->conf.edge, "mode",
		mode_name(f->mode), "rounds_ok", (json_int_t)f->rounds_ok, "rounds_failed",
		(json_int_t)f->rounds_failed, "last_ok_age_s",
		f->have_ok ? json_integer((json_int_t)age(now_s, f->last_ok_s)) : json_null(),
		"accounts", accts);
}
