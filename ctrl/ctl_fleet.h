/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fleet: several edges share one carrier account's budget. Each second an
 * edge publishes its second of every shared trunk (attempts, finals, 503s,
 * concurrent calls, its demand, limit and state) and claims a share of the
 * account's CPS; it reads back every edge's latest second. From that view
 * this module gives the policy the account's fleet-wide sums and the
 * engine this edge's share.
 *
 * Shares: each edge asks for what it needs. An edge whose dialers stayed
 * under its limit for CTL_FLEET_HELD_S seconds asks for its smoothed
 * attempt rate plus headroom; one that used its whole limit in that time
 * is held back by it, so its true demand is unseen and it asks for the
 * whole account. The account's budget is then
 * split max-min fair over the asks (water-filling): an edge asking less
 * than an equal part gets what it asks, the rest is split evenly among
 * the others; what nobody asks for is spread evenly. Integer CPS: floors,
 * then the remainder one by one to the largest fractions. Every live edge
 * keeps `min_share` (less when the limit cannot give it to all), so an
 * edge that starts can ramp.
 *
 * Budget: the shares sum to the account's limit less `headroom` % of it
 * (ctl_fleet_budget()), never to the limit itself. Dialers that each keep
 * to their share still jitter across the carrier's counting window, and
 * the carrier's window itself is not exactly a second: with the whole
 * limit given out, every such second is refused calls. The claim, the
 * static fallback share and the asks all use the budget.
 *
 * Never above the limit: every edge computes the same split from the
 * view, but views differ by a round, so the split is only what an edge
 * asks for. What it gets is a claim made atomically in the store (a Lua
 * script in Redis, ctl_fleet_claim() here): at most the budget minus the
 * live grants of the others. An edge that must shrink does so at its own
 * claim, before another can take what it freed.
 *
 * Starting: nothing is this edge's before its first claim (its dialers
 * are held), and for a TTL after it the edge asks at most an even part
 * among `expected_edges`, as edges that start together do not see each
 * other yet.
 *
 * Store down or slow: after CTL_FLEET_STALE_S, and as many rounds made,
 * without a good round the
 * edge falls back to a static share, the account's budget divided by the
 * number of edges it last saw (at least 1 CPS), raises one alert, and
 * clears it at the first good round. Local counts never depend on the
 * store: the policy then judges the local second alone.
 *
 * Pure C: no I/O, no clock, no threads. Time is what the caller says.
 */
#ifndef CTL_FLEET_H
#define CTL_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sg_shared.h"

#define CTL_FLEET_MAX_EDGES 32		     /* edges of one account in a view */
#define CTL_FLEET_NAME_MAX SG_TRUNK_NAME_MAX /* edge and account names, with NUL */
#define CTL_FLEET_STALE_S 2		     /* seconds without a good round: fallback */
#define CTL_FLEET_SUM_AGE_S 2		     /* an edge's second older than this: not summed */
#define CTL_FLEET_SAMPLE_MAX 192	     /* a sample as text, with NUL */
#define CTL_FLEET_HELD_S 3		     /* seconds an edge at its limit counts as held */

/* The counts of one trunk (or account) in one second. */
struct ctl_fleet_counts {
	uint64_t attempts;
	uint64_t finals;
	uint64_t r503;
	int64_t concurrent; /* -1 unknown */
};

/* One edge's latest second of one account, as the store holds it. */
struct ctl_fleet_edge {
	char name[CTL_FLEET_NAME_MAX];
	uint64_t second; /* the second described */
	struct ctl_fleet_counts c;
	uint32_t demand_milli;	/* smoothed attempt rate, milli-CPS */
	uint32_t request_milli; /* what it asks for, milli-CPS */
	uint32_t limit;		/* the limit its dialers have, CPS (0: paused) */
	uint32_t state;		/* its policy state (enum ctl_policy_state) */
	uint32_t grant;		/* its share as the store holds it, CPS */
	int has_grant;
};

/* What one round asks of the store for one account. */
struct ctl_fleet_ask {
	uint32_t trunk;
	char account[CTL_FLEET_NAME_MAX];
	uint32_t limit;		    /* what the grants may sum to: the account's budget */
	uint32_t want;		    /* the share this edge asks to hold */
	struct ctl_fleet_edge self; /* this edge's second */
};

struct ctl_fleet_round {
	uint64_t seq;
	uint64_t second; /* this edge's clock when the round was made */
	uint32_t ttl_s;
	uint32_t n;
	struct ctl_fleet_ask ask[SG_MAX_TRUNKS];
};

/* What the store answered for one account. */
struct ctl_fleet_view {
	uint32_t grant; /* what the claim gave this edge */
	uint32_t n;
	struct ctl_fleet_edge edges[CTL_FLEET_MAX_EDGES]; /* every edge but this one */
};

struct ctl_fleet_result {
	uint64_t seq;	 /* the round's */
	uint64_t second; /* the round's */
	int ok;		 /* 0: failed, nothing below holds */
	uint32_t n;	 /* as the round's n, views in the same order */
	struct ctl_fleet_view view[SG_MAX_TRUNKS];
};

struct ctl_fleet_conf {
	char edge[CTL_FLEET_NAME_MAX];
	uint32_t ttl_s;
	uint32_t min_share;
	uint32_t expected_edges; /* before the first view; the first TTL's even part */
	uint32_t headroom_pct;	 /* % of the account's CPS no share gives out */
};

enum ctl_fleet_mode {
	CTL_FLEET_JOINING,  /* no good round yet: no share */
	CTL_FLEET_JOINED,   /* shares from the store */
	CTL_FLEET_FALLBACK, /* store lost: static share, alert raised */
};

/* What ctl_fleet_tick() reports. */
enum ctl_fleet_change {
	CTL_FLEET_NO_CHANGE,
	CTL_FLEET_ENTERED_FALLBACK, /* raise the alert */
	CTL_FLEET_LEFT_FALLBACK,    /* clear it */
};

struct ctl_fleet;

/*
 * accounts[i]: trunk i's account, NULL or "" for a trunk with its own
 * budget; limits[i]: its CPS. NULL on bad arguments or no memory.
 */
struct ctl_fleet *ctl_fleet_create(const struct ctl_fleet_conf *conf, uint32_t n_trunks,
	const char *const accounts[], const uint32_t limits[]);
void ctl_fleet_free(struct ctl_fleet *f);

/* 1 when trunk shares an account's budget. */
int ctl_fleet_shared(const struct ctl_fleet *f, uint32_t trunk);
uint32_t ctl_fleet_n_shared(const struct ctl_fleet *f);

/*
 * Trunk's closed second: its local counts, the limit its dialers have
 * now and its policy state. Folds the attempts into the smoothed demand.
 */
void ctl_fleet_local(struct ctl_fleet *f, uint32_t trunk, uint64_t second,
	const struct ctl_fleet_counts *c, uint32_t limit, uint32_t state);

/*
 * The account's counts of trunk's second now_s: this edge's plus, while
 * joined, every other edge's latest second not older than
 * CTL_FLEET_SUM_AGE_S nor newer than now_s. Another edge's second adds
 * its calls once only (a view that did not change, or several seconds
 * closed at once, count them once); its concurrent calls, a level, are
 * always added. Returns how many edges were summed (1: this one alone).
 */
uint32_t ctl_fleet_sums(
	struct ctl_fleet *f, uint32_t trunk, uint64_t now_s, struct ctl_fleet_counts *out);

/* This edge's share of trunk's account now, CPS; the limit itself for a trunk not shared. */
uint32_t ctl_fleet_share(const struct ctl_fleet *f, uint32_t trunk);

/* What the shares of trunk's account sum to at most (ctl_fleet_budget()), CPS. */
uint32_t ctl_fleet_account_budget(const struct ctl_fleet *f, uint32_t trunk);

/*
 * The other edges' attempt rate on trunk's account now, CPS: their
 * smoothed rates (as they published them) summed over every edge whose
 * latest second is at most CTL_FLEET_SUM_AGE_S old and not after now_s.
 * 0 unless joined: in fallback the edge judges its own counts alone.
 */
double ctl_fleet_others_cps(const struct ctl_fleet *f, uint32_t trunk, uint64_t now_s);

enum ctl_fleet_mode ctl_fleet_mode(const struct ctl_fleet *f);

/*
 * An operator's new CPS for trunk's account (as `set`). Only this edge's
 * view: every edge claims against the limit it holds, so set it on all.
 */
void ctl_fleet_set_limit(struct ctl_fleet *f, uint32_t trunk, uint32_t cps);

/* The next round: this edge's seconds and the shares it asks for. */
void ctl_fleet_round(struct ctl_fleet *f, uint64_t now_s, struct ctl_fleet_round *out);

/* Take a round's answer (a failed one too). Answers older than the newest taken are ignored. */
void ctl_fleet_result(struct ctl_fleet *f, const struct ctl_fleet_result *r);

/*
 * Once a second, before the round: enter or leave fallback; at most one
 * change per call.
 */
enum ctl_fleet_change ctl_fleet_tick(struct ctl_fleet *f, uint64_t now_s);

/*
 * {"edge":S, "mode":S, "rounds_ok":N, "rounds_failed":N, "last_ok_age_s":N|null,
 *  "accounts":[{"account":S, "trunk":S?, "limit_cps":N, "budget_cps":N, "share_cps":N,
 *    "known_edges":N,
 *    "edges":[{"edge":S, "self":bool, "rate_cps":F, "ask_cps":F, "share_cps":N|null,
 *      "limit_cps":N, "state":"normal|paused|throttled", "age_s":N}]}]}
 * "trunk" is the trunk's index; "rate_cps" the smoothed attempt rate;
 * "budget_cps" what the shares may sum to (ctl_fleet_budget()).
 */
json_t *ctl_fleet_json(const struct ctl_fleet *f, uint64_t now_s);

/*
 * The split: limit CPS over n asks (milli-CPS, in a fixed order every
 * edge agrees on), out[i] CPS each; sums to limit when n > 0.
 */
void ctl_fleet_split(
	uint32_t limit, uint32_t min_share, uint32_t n, const uint32_t ask_milli[], uint32_t out[]);

/*
 * What the shares of an account of `limit` CPS may sum to: the limit less
 * headroom_pct % of it, rounded so that the part held back is at least
 * that (a 30 CPS account with 3 % gives out 29), yet at least 1 CPS of
 * an account that has any.
 */
uint32_t ctl_fleet_budget(uint32_t limit, uint32_t headroom_pct);

/*
 * The claim, as the store's script makes it: at most `want`, at most what
 * the others' live grants leave of the limit.
 */
uint32_t ctl_fleet_claim(uint32_t limit, uint32_t want, uint64_t others_granted);

/*
 * A sample as the store keeps it: "second attempts finals r503 concurrent
 * demand_milli request_milli limit state", decimal, one blank between.
 * format returns the length or -1; parse 0 or -1 (name is not touched).
 */
int ctl_fleet_sample_format(const struct ctl_fleet_edge *e, char *buf, size_t len);
int ctl_fleet_sample_parse(const char *s, size_t len, struct ctl_fleet_edge *e);

#endif /* CTL_FLEET_H */
