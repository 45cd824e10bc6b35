/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The adapters (see ctl_sink.h): directives turned into the control
 * protocol of the peer that places or admits the calls, SIPp's remote
 * control port and Kamailio's pipelimit over JSON-RPC, both over UDP.
 *
 * Separate from the sinks that carry the directive's JSON line
 * (ctl_sink_line.c) because an adapter is a different kind of sink: it
 * keeps the state it wants the far end to be in and the state it last
 * delivered, and sends only the difference, so a retry never repeats a
 * toggle that already arrived and a directive superseded while waiting is
 * never sent. The set of sinks (ctl_sink.c) opens the adapters and drives
 * them; their retries follow its backoff (ctl_sink_backoff).
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_adapter.h"
#include "ctl_directive.h"
#include "ctl_util.h"

#define CTL_SINK_RPC_BURST 16 /* replies read per poll and adapter */
#define CTL_SINK_SIPP_CMD_MAX 64
#define CTL_SINK_SIPP_NO_LIMIT 1000000 /* open calls: a limit that never bites */

/* ------------------------------------------------------------------ */
/* UDP adapters: shared helpers */

int
ctl_udp_open(const char *address, uint16_t port, const char *what, char *target, size_t tlen,
	char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char service[8];
	int fd, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	/* Numeric only: a DNS lookup could block the loop. */
	rc = getaddrinfo(address, service, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		ctl_seterr(err, errlen, "%s.address: \"%s\": not a numeric IPv4 or IPv6 address",
			what, address);
		if (ai != NULL)
			freeaddrinfo(ai);
		return -1;
	}
	snprintf(target, tlen, strchr(address, ':') != NULL ? "[%s]:%u" : "%s:%u", address, port);
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/*
	 * Connected: replies from anyone else are filtered out, and a port
	 * nobody listens on comes back as ECONNREFUSED.
	 */
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		ctl_seterr(err, errlen, "%s: %s: %s", what, target, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/*
 * Send one datagram. On loopback an ICMP port-unreachable is processed
 * before send() returns, so the socket error read right after belongs to
 * this datagram; from farther away it shows up at the next send.
 */
static int
ctl_udp_send(int fd, const char *buf, size_t len)
{
	socklen_t elen = sizeof(int);
	int soerr = 0;

	if (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) == 0 && soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* SIPp remote control */

static bool
ctl_sipp_synced(const struct ctl_sipp *p)
{
	if (p->want.calls != p->have.calls)
		return false;
	if (p->want.paused)
		return p->have.paused;
	if (p->want.rate_known && (!p->have.rate_known || p->have.rate != p->want.rate))
		return false;
	return !p->have.paused;
}

static void
ctl_sipp_give_up(struct ctl_sipp *p)
{
	p->c.dropped += p->pending;
	p->pending = 0;
	p->tries = 0;
	p->want = p->have;
}

/*
 * Bring SIPp from `have` to `want`. `p` toggles pause, so it is sent only
 * when the states differ. To leave a pause the rate is set first: SIPp
 * keeps the rate while paused and restarts at whatever it holds, so it
 * never dials at the old rate in between.
 */
void
ctl_sipp_run(struct ctl_sinks *s, struct ctl_sipp *p, uint64_t now_ms)
{
	char cmd[CTL_SINK_SIPP_CMD_MAX];
	int steps;

	/* At most a rate and a toggle per change; the bound is a safety net. */
	for (steps = 0; steps < 4 && p->pending > 0 && now_ms >= p->next_ms; steps++) {
		bool set_rate = false;

		if (ctl_sipp_synced(p)) {
			p->c.sent += p->pending;
			p->pending = 0;
			p->tries = 0;
			return;
		}
		bool set_calls = false;

		if (p->want.calls != p->have.calls) {
			snprintf(cmd, sizeof(cmd), "cset limit %" PRIu32, p->want.calls);
			set_calls = true;
		} else if (!p->want.paused && p->want.rate_known &&
			(!p->have.rate_known || p->have.rate != p->want.rate)) {
			snprintf(cmd, sizeof(cmd), "cset rate %" PRIu32, p->want.rate);
			set_rate = true;
		} else {
			snprintf(cmd, sizeof(cmd), "p");
		}
		if (p->tries > 0)
			p->c.retried++;
		if (ctl_udp_send(p->fd, cmd, strlen(cmd)) < 0) {
			p->c.failed++;
			p->tries++;
			if (p->tries >= CTL_SINK_MAX_TRIES) {
				ctl_sipp_give_up(p);
				return;
			}
			p->next_ms = now_ms + ctl_sink_backoff(s, p->tries);
			return;
		}
		p->tries = 0;
		if (set_calls) {
			p->have.calls = p->want.calls;
		} else if (set_rate) {
			p->have.rate = p->want.rate;
			p->have.rate_known = true;
		} else {
			p->have.paused = !p->have.paused;
		}
	}
}

void
ctl_sipp_emit(
	struct ctl_sinks *s, struct ctl_sipp *p, const struct ctl_directive *d, uint64_t now_ms)
{
	switch (d->action) {
	case CTL_ACT_PAUSE:
		p->want.paused = true;
		break;
	case CTL_ACT_THROTTLE:
		p->want.paused = false;
		p->want.rate = d->cps_limit;
		p->want.rate_known = true;
		/*
		 * A concurrency cap goes to SIPp's open-call limit; once lifted
		 * the limit goes up out of the way (SIPp has no "unlimited").
		 */
		if (d->max_concurrent > 0)
			p->want.calls = d->max_concurrent;
		else if (p->have.calls > 0)
			p->want.calls = CTL_SINK_SIPP_NO_LIMIT;
		break;
	case CTL_ACT_RESUME:
		/* the directive carries the agreed rate, which `set` may change */
		if (d->cps_limit > 0)
			p->agreed = d->cps_limit;
		p->want.paused = false;
		p->want.rate = p->agreed;
		p->want.rate_known = true;
		if (p->have.calls > 0)
			p->want.calls = CTL_SINK_SIPP_NO_LIMIT;
		break;
	default:
		return; /* alerts are for people, not dialers */
	}
	p->pending++;
	/* A new goal starts a fresh series of attempts. */
	p->tries = 0;
	p->next_ms = 0;
	ctl_sipp_run(s, p, now_ms);
}

/* ------------------------------------------------------------------ */
/* Kamailio pipelimit through JSON-RPC */

static bool
ctl_kam_same(const struct ctl_kam_pipe *a, const struct ctl_kam_pipe *b)
{
	return a->limit == b->limit && strcmp(a->algo, b->algo) == 0;
}

static void
ctl_kam_failed(struct ctl_sinks *s, struct ctl_kamailio *k, uint64_t now_ms)
{
	k->inflight_id = 0;
	k->c.failed++;
	k->tries++;
	if (k->tries >= CTL_SINK_MAX_TRIES) {
		k->c.dropped += k->pending;
		k->pending = 0;
		k->tries = 0;
		k->want = k->have;
		return;
	}
	k->next_ms = now_ms + ctl_sink_backoff(s, k->tries);
}

static void
ctl_kam_run(struct ctl_sinks *s, struct ctl_kamailio *k, uint64_t now_ms)
{
	char req[512];
	json_t *doc;
	size_t n = 0;

	if (k->pending == 0 || k->inflight_id != 0 || now_ms < k->next_ms)
		return;
	if (ctl_kam_same(&k->want, &k->have)) {
		k->c.sent += k->pending;
		k->pending = 0;
		k->tries = 0;
		return;
	}
	k->inflight = k->want;
	k->inflight_id = ++k->next_id;
	doc = json_pack("{s:s, s:s, s:[s, s, I], s:I}", "jsonrpc", "2.0", "method", "pl.set_pipe",
		"params", k->pipe, k->inflight.algo, (json_int_t)k->inflight.limit, "id",
		(json_int_t)k->inflight_id);
	if (doc != NULL)
		n = json_dumpb(doc, req, sizeof(req), JSON_COMPACT);
	json_decref(doc);
	if (k->tries > 0)
		k->c.retried++;
	if (n == 0 || n > sizeof(req) || ctl_udp_send(k->fd, req, n) < 0) {
		snprintf(k->last_error, sizeof(k->last_error), "send: %s",
			n == 0 || n > sizeof(req) ? "request too long" : strerror(errno));
		ctl_kam_failed(s, k, now_ms);
		return;
	}
	k->deadline_ms = now_ms + CTL_SINK_RPC_TIMEOUT_MS;
}

/* Read replies; one that matches the outstanding request settles it. */
void
ctl_kam_poll(struct ctl_sinks *s, struct ctl_kamailio *k, uint64_t now_ms)
{
	char buf[4096];
	int i;

	for (i = 0; i < CTL_SINK_RPC_BURST; i++) {
		json_error_t jerr;
		json_t *doc, *id, *e;
		ssize_t r;

		r = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			continue; /* a late ICMP error: the deadline handles it */
		}
		if (k->inflight_id == 0)
			continue;
		doc = json_loadb(buf, (size_t)r, 0, &jerr);
		if (doc == NULL)
			continue;
		id = json_object_get(doc, "id");
		if (!json_is_integer(id) || (uint64_t)json_integer_value(id) != k->inflight_id) {
			json_decref(doc);
			continue; /* an answer to a request we gave up on */
		}
		e = json_object_get(doc, "error");
		if (e != NULL) {
			json_t *m = json_object_get(e, "message");

			snprintf(k->last_error, sizeof(k->last_error), "%s",
				json_is_string(m) ? json_string_value(m) : "JSON-RPC error");
			json_decref(doc);
			ctl_kam_failed(s, k, now_ms);
			continue;
		}
		json_decref(doc);
		k->have = k->inflight;
		k->inflight_id = 0;
		k->tries = 0;
	}
	if (k->inflight_id != 0 && now_ms >= k->deadline_ms) {
		snprintf(k->last_error, sizeof(k->last_error), "no reply within %u ms",
			CTL_SINK_RPC_TIMEOUT_MS);
		ctl_kam_failed(s, k, now_ms);
	}
	ctl_kam_run(s, k, now_ms);
}

/*
 * Pause is TAILDROP with limit 0: TAILDROP admits a request while the
 * pipe's count in the current timer interval is <= limit, so 0 rejects
 * every one, whatever algorithm the pipe normally uses (RED with limit 0
 * would stop updating its load and let traffic through). Resume puts
 * back the configured algorithm at the agreed rate. Limits are per timer
 * interval: a rate of N CPS is N * timer_interval.
 */
void
ctl_kam_emit(
	struct ctl_sinks *s, struct ctl_kamailio *k, const struct ctl_directive *d, uint64_t now_ms)
{
	switch (d->action) {
	case CTL_ACT_PAUSE:
		k->want.limit = 0;
		snprintf(k->want.algo, sizeof(k->want.algo), "TAILDROP");
		break;
	case CTL_ACT_THROTTLE:
		/* no concurrency here: pipelimit limits the rate only */
		k->want.limit = (int64_t)d->cps_limit * k->interval;
		memcpy(k->want.algo, k->algo, sizeof(k->want.algo));
		break;
	case CTL_ACT_RESUME:
		if (d->cps_limit > 0)
			k->agreed = d->cps_limit;
		k->want.limit = (int64_t)k->agreed * k->interval;
		memcpy(k->want.algo, k->algo, sizeof(k->want.algo));
		break;
	default:
		return;
	}
	k->pending++;
	k->tries = 0;
	k->next_ms = 0;
	ctl_kam_run(s, k, now_ms);
}
