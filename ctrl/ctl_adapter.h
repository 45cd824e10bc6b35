/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The adapters: SIPp dialers driven through their remote-control port
 * (sipp[]) and Kamailio pipelimit pipes through JSON-RPC over UDP
 * (kamailio[]). Their state and the steps the set of sinks (ctl_sink.c)
 * drives; not for other modules.
 *
 * Kept apart from the sinks that deliver a directive's JSON line
 * (ctl_sink_line.h): an adapter speaks its peer's protocol and reconciles
 * the state it wants with the state it delivered.
 */
#ifndef CTL_ADAPTER_H
#define CTL_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "ctl_directive.h"
#include "ctl_sink_int.h"

/* What a SIPp dialer is (or is to be) doing. */
struct ctl_sipp_state {
	bool paused;
	bool rate_known;
	uint32_t rate;
	uint32_t calls; /* SIPp's open-call limit (`-l`), 0: never set by us */
};

struct ctl_sipp {
	char trunk[SG_TRUNK_NAME_MAX];
	char target[96];
	uint32_t agreed;
	int fd;
	struct ctl_sipp_state want;
	struct ctl_sipp_state have;
	uint32_t pending; /* directives accepted, not yet delivered */
	uint32_t tries;
	uint64_t next_ms;
	struct ctl_sink_count c;
};

struct ctl_kam_pipe {
	int64_t limit; /* -1: unknown / nothing wanted */
	char algo[sizeof(((struct cfg_kamailio *)0)->algorithm)];
};

struct ctl_kamailio {
	char trunk[SG_TRUNK_NAME_MAX];
	char target[96];
	char pipe[SG_TRUNK_NAME_MAX];
	char algo[sizeof(((struct cfg_kamailio *)0)->algorithm)];
	uint32_t agreed;
	uint32_t interval; /* the pipelimit's timer_interval, s */
	int fd;
	struct ctl_kam_pipe want;
	struct ctl_kam_pipe have;
	struct ctl_kam_pipe inflight;
	uint64_t inflight_id; /* 0: no request outstanding */
	uint64_t deadline_ms;
	uint64_t next_id;
	uint32_t pending;
	uint32_t tries;
	uint64_t next_ms;
	char last_error[128];
	struct ctl_sink_count c;
};

/*
 * A connected non-blocking UDP socket to address:port (numeric only),
 * target set to "address:port" for the stats; -1 with one line in err
 * naming what (e.g. "sipp[0] (carrier-a)").
 */
int ctl_udp_open(const char *address, uint16_t port, const char *what, char *target, size_t tlen,
	char *err, size_t errlen);

/* SIPp: send what brings the dialer from `have` to `want`, if due. */
void ctl_sipp_run(struct ctl_sinks *s, struct ctl_sipp *p, uint64_t now_ms);
/* SIPp: the state directive d asks for; sent at once if it can be. */
void ctl_sipp_emit(
	struct ctl_sinks *s, struct ctl_sipp *p, const struct ctl_directive *d, uint64_t now_ms);

/* Kamailio: read replies, time out the request, send what is due. */
void ctl_kam_poll(struct ctl_sinks *s, struct ctl_kamailio *k, uint64_t now_ms);
/* Kamailio: the pipe directive d asks for; sent at once if it can be. */
void ctl_kam_emit(struct ctl_sinks *s, struct ctl_kamailio *k, const struct ctl_directive *d,
	uint64_t now_ms);

#endif /* CTL_ADAPTER_H */
