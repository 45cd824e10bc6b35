/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A rate-limit directive: what the policy decided for one trunk, with the
 * evidence behind it. Produced by ctl_policy, delivered by ctl_sink, shown
 * by the CLI; one JSON object per directive (schema in README.md).
 */
#ifndef CTL_DIRECTIVE_H
#define CTL_DIRECTIVE_H

#include <stdint.h>

#include <jansson.h>

#include "sg_shared.h"

enum ctl_action {
	CTL_ACT_PAUSE,	  /* stop new calls for duration_s */
	CTL_ACT_THROTTLE, /* new calls at most cps_limit per second */
	CTL_ACT_RESUME,	  /* back to the agreed rate: no limit of ours */
	CTL_ACT_ALERT,	  /* carrier trouble: tell a human, maybe fail over */
	CTL_ACT_CLEAR,	  /* the alert is over */
	CTL_ACT_COUNT
};

enum ctl_cause {
	CTL_CAUSE_OVER_LIMIT,	    /* 503 burst while ramping / near peak / above agreed */
	CTL_CAUSE_CARRIER_TROUBLE,  /* 503s at low, steady volume */
	CTL_CAUSE_OVERLOAD_CONTROL, /* RFC 7339/7415 oc in the carrier's Via */
	CTL_CAUSE_PROACTIVE_CPS,    /* measured CPS above agreed, before any 503 */
	CTL_CAUSE_PROACTIVE_CONCURRENCY,
	CTL_CAUSE_RECOVERED,	  /* 503 share stayed low: limit lifted */
	CTL_CAUSE_MANUAL,	  /* an operator's `set` */
	CTL_CAUSE_FLEET_SHARE,	  /* this edge's share of a fleet account moved */
	CTL_CAUSE_FLEET_FALLBACK, /* the fleet's Redis was lost (alert) or is back (clear) */
	CTL_CAUSE_ROUTE_DOWN,	  /* the carrier's 503s say no route (diagnosis class) */
	CTL_CAUSE_MAINTENANCE,	  /* the carrier's 503s say planned maintenance */
	CTL_CAUSE_COUNT
};

/* Where a pause's length came from. */
enum ctl_duration_from {
	CTL_FROM_NONE,	      /* not a pause */
	CTL_FROM_BACKOFF,     /* the policy's doubling backoff */
	CTL_FROM_RETRY_AFTER, /* the carrier's Retry-After, longer than the backoff */
	CTL_FROM_COUNT
};

#define CTL_DIRECTIVE_CALL_IDS 3

struct ctl_evidence {
	uint32_t window_s;
	uint64_t attempts;	    /* new INVITEs toward the trunk in the window */
	uint64_t finals;	    /* final answers to them */
	uint64_t r503;		    /* of which 503 */
	double share_503;	    /* r503 / finals, 0..1 */
	double cps;		    /* attempt rate at the decision */
	double peak_cps;	    /* recent peak of the attempt rate */
	int32_t retry_after;	    /* largest seen, -1 none */
	int32_t oc;		    /* -1 none */
	uint8_t oc_algo;	    /* enum dp_oc_algo */
	int32_t oc_validity_ms;	    /* -1 none */
	uint64_t first_503_ms;	    /* packet time of the cluster's first 503, 0 none */
	uint32_t cluster_503;	    /* 503s of the cluster acted on (100 ms path), 0 none */
	int64_t concurrent;	    /* calls up at the decision, -1 unknown */
	uint32_t agreed_cps;	    /* the contract */
	double ceiling_cps;	    /* what the carrier takes, learned; 0 none yet */
	int64_t ceiling_concurrent; /* concurrency the carrier caps at, learned; 0 none */
	double hold_s;		    /* mean call holding time (Little's law), 0 unknown */
	/*
	 * The diagnosis of the carrier's words (dataplane/dp_diag.h): the
	 * class that decided (diag_decided, 0 none: the rates decided), else
	 * the leading class of the trunk's 503s over the detection window;
	 * the newest rule that said it (1 + index in the config's list, 0
	 * none; its name filled in by the engine) and its 503s in the window.
	 */
	uint8_t diag_has; /* 0: no 503 lately, no class */
	uint8_t diag_class;
	uint8_t diag_decided;
	uint16_t diag_rule;
	uint32_t class_503;
	char diag_rule_name[48];
	uint32_t n_call_ids;
	char call_ids[CTL_DIRECTIVE_CALL_IDS][SG_CALL_ID_MAX + 1]; /* NUL-terminated */
};

struct ctl_directive {
	uint64_t seq;	  /* per control plane, from 1 */
	uint64_t time_ms; /* decision time (wall clock or packet time) */
	uint32_t trunk;
	char trunk_name[SG_TRUNK_NAME_MAX];
	enum ctl_action action;
	uint32_t cps_limit;  /* throttle: the limit; resume: the agreed CPS; 0 otherwise */
	uint32_t duration_s; /* pause: how long; 0 otherwise */
	enum ctl_duration_from duration_from;
	uint32_t max_concurrent; /* throttle: concurrent calls at most; 0 no limit */
	enum ctl_cause cause;
	struct ctl_evidence ev;
};

const char *ctl_action_name(enum ctl_action a);
/* The one table of cause names: the JSON, the CLI and the metrics follow it. */
const char *ctl_cause_name(enum ctl_cause c);
const char *ctl_duration_from_name(enum ctl_duration_from f);

/* The directive as a JSON object (new reference). */
json_t *ctl_directive_json(const struct ctl_directive *d);

/* One line of JSON, no newline, into buf; returns its length or -1. */
int ctl_directive_line(const struct ctl_directive *d, char *buf, size_t len);

#endif /* CTL_DIRECTIVE_H */
