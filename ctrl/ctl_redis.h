/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fleet's Redis rounds (ctl_fleet.h), on a thread of their own with
 * its own connection: the control loop hands a round over and takes the
 * newest answer, and never waits on Redis.
 *
 * The handover is a mailbox of one slot each way under a mutex that is
 * held only to copy a slot; the loop only ever try-locks it. A round the
 * thread has not started when the next one comes is replaced (counted).
 *
 * One round is one pipeline, per shared account:
 *
 *   HSET    FLEET:{ACCOUNT}:s:SECOND EDGE SAMPLE    this edge's second
 *   EXPIRE  FLEET:{ACCOUNT}:s:SECOND TTL            dead edges age out
 *   EVALSHA claim 3 FLEET:{ACCOUNT}:s:SECOND FLEET:{ACCOUNT}:s:SECOND-1
 *           FLEET:{ACCOUNT}:grants EDGE NOW TTL WANT LIMIT
 *
 * The claim script is the read-modify-write that must be atomic: it drops
 * grants older than TTL, grants this edge at most WANT and at most what
 * the others' grants leave of LIMIT, and returns the grant with every
 * other edge's latest sample of the two seconds and its grant. The
 * account in braces is a hash tag: one account's keys stay on one slot
 * of a Redis Cluster, as a script needs.
 *
 * Connection: TCP or unix socket, AUTH (user and password, or password),
 * connect and every read and write bounded by the round timeout; a failed
 * round drops the connection, and reconnects back off from 100 ms to 1 s.
 */
#ifndef CTL_REDIS_H
#define CTL_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_fleet.h"

struct ctl_redis_conf {
	char address[108]; /* "host:port", "[v6]:port" or "/unix/path" */
	char user[64];
	char password[128];
	char fleet[CTL_FLEET_NAME_MAX]; /* key prefix */
	char edge[CTL_FLEET_NAME_MAX];
	uint32_t timeout_ms;
};

struct ctl_redis_stats {
	uint64_t rounds;	  /* rounds the thread ran */
	uint64_t rounds_ok;	  /* of which answered in full */
	uint64_t rounds_failed;	  /* error, timeout or no connection */
	uint64_t rounds_replaced; /* handed over, replaced by a newer one before they ran */
	uint64_t rounds_slow;	  /* answered, but after the round timeout: counted failed */
	uint64_t connects;	  /* connections made (AUTH and script load done) */
	uint64_t connect_failures;
	uint64_t disconnects;	/* connections dropped after an error */
	uint64_t bad_entries;	/* other edges' entries that did not parse */
	uint64_t last_round_us; /* how long the last round took */
	int connected;
	char last_error[128];
};

struct ctl_redis;

/*
 * Split "host:port", "[v6]:port" or an absolute unix socket path. Returns
 * 0 (port 0 for a socket) or -1 with a reason in err.
 */
int ctl_redis_parse_address(
	const char *addr, char *host, size_t hostlen, uint16_t *port, char *err, size_t errlen);

/* Start the thread (it connects on the first round). NULL with err on a bad address. */
struct ctl_redis *ctl_redis_start(const struct ctl_redis_conf *conf, char *err, size_t errlen);
void ctl_redis_stop(struct ctl_redis *r);

/* Hand a round over; never waits. 0, or -1 when the mailbox was busy (try again). */
int ctl_redis_submit(struct ctl_redis *r, const struct ctl_fleet_round *round);

/* The newest answer, if there is one the caller has not taken: 1, else 0. Never waits. */
int ctl_redis_take(struct ctl_redis *r, struct ctl_fleet_result *out);

/* A copy of the counters (waits for the mailbox lock: for the API, not the loop's turn). */
void ctl_redis_get_stats(struct ctl_redis *r, struct ctl_redis_stats *out);
json_t *ctl_redis_stats_json(struct ctl_redis *r);

/* The claim script, for tests that run it against a server themselves. */
extern const char ctl_redis_claim_lua[];

#endif /* CTL_REDIS_H */
