/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Directive sinks (see ctl_sink.h): the set of them. It opens every sink
 * the configuration names, hands each directive to all of them, drives
 * their retries and timeouts from the control loop's poll, and reports on
 * them. The sinks themselves are in ctl_sink_line.c (the JSON-lines file,
 * the datagram subscribers, the exec hook) and ctl_adapter.c (SIPp and
 * Kamailio).
 *
 * Each sink keeps its own small state machine advanced by
 * ctl_sinks_emit() and ctl_sinks_poll(); a failed attempt is retried after
 * retry_base ms, doubling up to retry_max, at most CTL_SINK_MAX_TRIES
 * times, and then dropped. The two adapters keep the state they want the
 * far end to be in and the state they last delivered, and send only the
 * difference: a retry never repeats a toggle that already arrived, and a
 * directive superseded while waiting is never sent.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cfg.h"
#include "ctl_adapter.h"
#include "ctl_directive.h"
#include "ctl_sink.h"
#include "ctl_sink_int.h"
#include "ctl_sink_line.h"
#include "ctl_util.h"

struct ctl_sinks {
	uint32_t retry_base_ms;
	uint32_t retry_max_ms;
	struct ctl_file_sink *file;
	struct ctl_dgram_sink *dgram;
	struct ctl_exec_sink *exec;
	struct ctl_sipp sipp[CFG_MAX_ADAPTERS];
	uint32_t n_sipp;
	struct ctl_kamailio kam[CFG_MAX_ADAPTERS];
	uint32_t n_kam;
};

/* Delay before attempt tries + 1, tries >= 1: base, 2 base, ... max. */
uint64_t
ctl_sink_backoff(const struct ctl_sinks *s, uint32_t tries)
{
	uint64_t d = s->retry_base_ms;
	uint32_t i;

	for (i = 1; i < tries && d < s->retry_max_ms; i++)
		d *= 2;
	return d < s->retry_max_ms ? d : s->retry_max_ms;
}

static const struct cfg_trunk *
ctl_sink_trunk(const struct sg_config *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->n_trunks; i++)
		if (strcmp(cfg->trunks[i].name, name) == 0)
			return &cfg->trunks[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The set of sinks */

struct ctl_sinks *
ctl_sinks_create(const struct sg_config *cfg, char *err, size_t errlen)
{
	const struct cfg_directives *dc = &cfg->directives;
	struct ctl_sinks *s;
	uint32_t i;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		ctl_seterr(err, errlen, "directives: out of memory");
		return NULL;
	}
	s->retry_base_ms = dc->retry_base_ms > 0 ? dc->retry_base_ms : 1;
	s->retry_max_ms = dc->retry_max_ms > s->retry_base_ms ? dc->retry_max_ms : s->retry_base_ms;
	for (i = 0; i < CFG_MAX_ADAPTERS; i++) {
		s->sipp[i].fd = -1;
		s->kam[i].fd = -1;
	}

	if (dc->file[0] != '\0') {
		s->file = calloc(1, sizeof(*s->file));
		if (s->file == NULL ||
			(s->file->q = calloc(CTL_SINK_FILE_QUEUE, sizeof(*s->file->q))) == NULL) {
			ctl_seterr(err, errlen, "directives.file: out of memory");
			goto fail;
		}
		snprintf(s->file->path, sizeof(s->file->path), "%s", dc->file);
		if (ctl_file_open(s->file) < 0) {
			ctl_seterr(err, errlen, "directives.file: \"%s\": cannot open: %s",
				dc->file, strerror(errno));
			goto fail;
		}
	}
	if (dc->socket[0] != '\0') {
		s->dgram = calloc(1, sizeof(*s->dgram));
		if (s->dgram == NULL) {
			ctl_seterr(err, errlen, "directives.socket: out of memory");
			goto fail;
		}
		s->dgram->fd = -1;
		snprintf(s->dgram->path, sizeof(s->dgram->path), "%s", dc->socket);
		if (ctl_dgram_open(s->dgram, err, errlen) < 0)
			goto fail;
	}
	if (dc->exec[0] != '\0') {
		if (access(dc->exec, X_OK) < 0) {
			ctl_seterr(err, errlen, "directives.exec: \"%s\": not executable: %s",
				dc->exec, strerror(errno));
			goto fail;
		}
		s->exec = calloc(1, sizeof(*s->exec));
		if (s->exec == NULL ||
			(s->exec->jobs = calloc(ctl_exec_slots(), sizeof(*s->exec->jobs))) ==
				NULL) {
			ctl_seterr(err, errlen, "directives.exec: out of memory");
			goto fail;
		}
		snprintf(s->exec->path, sizeof(s->exec->path), "%s", dc->exec);
		s->exec->timeout_ms =
			(uint64_t)(dc->exec_timeout_s > 0 ? dc->exec_timeout_s : 1) * 1000;
	}
	for (i = 0; i < cfg->n_sipp && i < CFG_MAX_ADAPTERS; i++) {
		const struct cfg_sipp *c = &cfg->sipp[i];
		struct ctl_sipp *p = &s->sipp[i];
		const struct cfg_trunk *t = ctl_sink_trunk(cfg, c->trunk);
		char what[64];

		snprintf(what, sizeof(what), "sipp[%u] (%s)", i, c->trunk);
		if (t == NULL) {
			ctl_seterr(err, errlen, "%s.trunk: \"%s\": no such trunk", what, c->trunk);
			goto fail;
		}
		snprintf(p->trunk, sizeof(p->trunk), "%s", c->trunk);
		p->agreed = t->cps;
		p->fd = ctl_udp_open(
			c->address, c->port, what, p->target, sizeof(p->target), err, errlen);
		if (p->fd < 0)
			goto fail;
		s->n_sipp++;
	}
	for (i = 0; i < cfg->n_kamailio && i < CFG_MAX_ADAPTERS; i++) {
		const struct cfg_kamailio *c = &cfg->kamailio[i];
		struct ctl_kamailio *k = &s->kam[i];
		const struct cfg_trunk *t = ctl_sink_trunk(cfg, c->trunk);
		char what[64];

		snprintf(what, sizeof(what), "kamailio[%u] (%s)", i, c->trunk);
		if (t == NULL) {
			ctl_seterr(err, errlen, "%s.trunk: \"%s\": no such trunk", what, c->trunk);
			goto fail;
		}
		snprintf(k->trunk, sizeof(k->trunk), "%s", c->trunk);
		snprintf(k->pipe, sizeof(k->pipe), "%s", c->pipe);
		snprintf(k->algo, sizeof(k->algo), "%s", c->algorithm);
		k->agreed = t->cps;
		k->interval = c->timer_interval > 0 ? c->timer_interval : 1;
		k->want.limit = -1;
		k->have.limit = -1;
		k->fd = ctl_udp_open(
			c->address, c->port, what, k->target, sizeof(k->target), err, errlen);
		if (k->fd < 0)
			goto fail;
		s->n_kam++;
	}
	return s;
fail:
	ctl_sinks_free(s);
	return NULL;
}

void
ctl_sinks_free(struct ctl_sinks *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	if (s->file != NULL) {
		if (s->file->fd >= 0)
			close(s->file->fd);
		free(s->file->q);
		free(s->file);
	}
	if (s->dgram != NULL) {
		struct stat st;

		if (s->dgram->fd >= 0) {
			/* Remove the socket file only if it is still ours. */
			if (stat(s->dgram->path, &st) == 0 && st.st_dev == s->dgram->dev &&
				st.st_ino == s->dgram->ino)
				unlink(s->dgram->path);
			close(s->dgram->fd);
		}
		free(s->dgram);
	}
	if (s->exec != NULL)
		ctl_exec_free(s->exec);
	for (i = 0; i < CFG_MAX_ADAPTERS; i++) {
		if (s->sipp[i].fd >= 0)
			close(s->sipp[i].fd);
		if (s->kam[i].fd >= 0)
			close(s->kam[i].fd);
	}
	free(s);
}

void
ctl_sinks_emit(struct ctl_sinks *s, const struct ctl_directive *d, uint64_t now_ms)
{
	char line[CTL_SINK_LINE_MAX];
	int len;
	uint32_t i;

	if (s == NULL || d == NULL)
		return;
	len = ctl_directive_line(d, line, sizeof(line) - 1);
	if (len < 0 || (size_t)len >= sizeof(line) - 1) {
		/* Cannot happen with sane fields; counted, never half-sent. */
		if (s->file != NULL)
			s->file->c.dropped++;
		if (s->dgram != NULL)
			s->dgram->c.dropped++;
		if (s->exec != NULL)
			s->exec->c.dropped++;
		len = -1;
	}
	if (len >= 0) {
		line[len] = '\0';
		if (s->file != NULL)
			ctl_file_emit(s, s->file, line, (size_t)len, now_ms);
		if (s->dgram != NULL)
			ctl_dgram_emit(s->dgram, line, (size_t)len);
		if (s->exec != NULL)
			ctl_exec_emit(s, s->exec, d, line, (size_t)len, now_ms);
	}
	for (i = 0; i < s->n_sipp; i++)
		if (strncmp(s->sipp[i].trunk, d->trunk_name, sizeof(d->trunk_name)) == 0)
			ctl_sipp_emit(s, &s->sipp[i], d, now_ms);
	for (i = 0; i < s->n_kam; i++)
		if (strncmp(s->kam[i].trunk, d->trunk_name, sizeof(d->trunk_name)) == 0)
			ctl_kam_emit(s, &s->kam[i], d, now_ms);
}

void
ctl_sinks_poll(struct ctl_sinks *s, uint64_t now_ms)
{
	uint32_t i;

	if (s == NULL)
		return;
	if (s->file != NULL)
		ctl_file_run(s, s->file, now_ms);
	if (s->dgram != NULL)
		ctl_dgram_poll(s->dgram);
	if (s->exec != NULL)
		ctl_exec_poll(s, s->exec, now_ms);
	for (i = 0; i < s->n_sipp; i++)
		ctl_sipp_run(s, &s->sipp[i], now_ms);
	for (i = 0; i < s->n_kam; i++)
		ctl_kam_poll(s, &s->kam[i], now_ms);
}

static json_t *
ctl_sink_obj(const char *sink, const char *target, const struct ctl_sink_count *c, uint64_t pending,
	const char *state)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "sink", sink, "target", target,
		"sent", (json_int_t)c->sent, "failed", (json_int_t)c->failed, "retried",
		(json_int_t)c->retried, "dropped", (json_int_t)c->dropped, "pending",
		(json_int_t)pending, "state", state);
}

static const char *
ctl_sink_state(uint64_t pending, uint32_t tries)
{
	if (pending == 0)
		return "idle";
	return tries > 0 ? "backoff" : "busy";
}

json_t *
ctl_sinks_stats_json(const struct ctl_sinks *s)
{
	json_t *arr = json_array();
	json_t *o;
	uint32_t i;

	if (arr == NULL || s == NULL)
		return arr;
	if (s->file != NULL) {
		o = ctl_sink_obj("file", s->file->path, &s->file->c, s->file->n,
			ctl_sink_state(s->file->n, s->file->tries));
		json_array_append_new(arr, o);
	}
	if (s->dgram != NULL) {
		const struct ctl_dgram_sink *g = s->dgram;

		o = ctl_sink_obj("socket", g->path, &g->c, 0, g->nsubs > 0 ? "subscribed" : "idle");
		json_object_set_new(o, "subscribers", json_integer(g->nsubs));
		json_object_set_new(o, "refused", json_integer((json_int_t)g->refused));
		json_object_set_new(o, "gone", json_integer((json_int_t)g->gone));
		json_array_append_new(arr, o);
	}
	if (s->exec != NULL) {
		const struct ctl_exec_sink *x = s->exec;
		bool backoff = false;

		for (i = 0; i < ctl_exec_slots(); i++)
			if (x->jobs[i].used && x->jobs[i].pid == 0 && x->jobs[i].tries > 0)
				backoff = true;
		o = ctl_sink_obj("exec", x->path, &x->c, x->nwaiting + x->nrunning,
			x->nrunning > 0		  ? "busy"
				: backoff	  ? "backoff"
				: x->nwaiting > 0 ? "busy"
						  : "idle");
		json_object_set_new(o, "running", json_integer(x->nrunning));
		json_object_set_new(o, "timeouts", json_integer((json_int_t)x->timeouts));
		json_array_append_new(arr, o);
	}
	for (i = 0; i < s->n_sipp; i++) {
		const struct ctl_sipp *p = &s->sipp[i];

		o = ctl_sink_obj(
			"sipp", p->target, &p->c, p->pending, ctl_sink_state(p->pending, p->tries));
		json_object_set_new(o, "trunk", json_string(p->trunk));
		json_object_set_new(o, "paused", json_boolean(p->have.paused));
		json_object_set_new(
			o, "rate", p->have.rate_known ? json_integer(p->have.rate) : json_null());
		json_object_set_new(o, "open_calls",
			p->have.calls > 0 ? json_integer(p->have.calls) : json_null());
		json_array_append_new(arr, o);
	}
	for (i = 0; i < s->n_kam; i++) {
		const struct ctl_kamailio *k = &s->kam[i];

		o = ctl_sink_obj("kamailio", k->target, &k->c, k->pending,
			k->inflight_id != 0 ? "waiting" : ctl_sink_state(k->pending, k->tries));
		json_object_set_new(o, "trunk", json_string(k->trunk));
		json_object_set_new(o, "pipe", json_string(k->pipe));
		json_object_set_new(
			o, "limit", k->have.limit >= 0 ? json_integer(k->have.limit) : json_null());
		json_object_set_new(o, "timer_interval", json_integer(k->interval));
		json_object_set_new(o, "last_error", json_string(k->last_error));
		json_array_append_new(arr, o);
	}
	return arr;
}
