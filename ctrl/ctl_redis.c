/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis rounds of the fleet (see ctl_redis.h). The thread waits for a
 * round, connects if it must (with backoff), sends the round's pipeline,
 * reads every reply, and posts the answer; any error posts a failed
 * answer and drops the connection. Nothing here runs on the control
 * loop but the two mailbox copies.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "ctl_redis.h"

#define CTL_REDIS_BACKOFF_MIN_MS 100
#define CTL_REDIS_BACKOFF_MAX_MS 1000
#define CTL_REDIS_KEY_MAX 128
#define CTL_REDIS_WAIT_MS 200 /* the thread looks at `stop` this often */

/*
 * KEYS[1], KEYS[2]: samples of the second and of the one before;
 * KEYS[3]: grants, EDGE -> "GRANT SECOND". ARGV: EDGE NOW TTL WANT LIMIT.
 * Returns { grant, edge, sample, grant or -1, edge, ... } for the others.
 */
const char ctl_redis_claim_lua[] = "local edge = ARGV[1]\n"
				   "local now = tonumber(ARGV[2])\n"
				   "local ttl = tonumber(ARGV[3])\n"
				   "local want = tonumber(ARGV[4])\n"
				   "local limit = tonumber(ARGV[5])\n"
				   "local g = redis.call('HGETALL', KEYS[3])\n"
				   "local others, grants = 0, {}\n"
				   "for i = 1, #g, 2 do\n"
				   "  if g[i] ~= edge then\n"
				   "    local gr, ts = string.match(g[i + 1], '^(%d+) (%d+)$')\n"
				   "    gr, ts = tonumber(gr), tonumber(ts)\n"
				   "    if gr == nil or now - ts > ttl then\n"
				   "      redis.call('HDEL', KEYS[3], g[i])\n"
				   "    else\n"
				   "      others = others + gr\n"
				   "      grants[g[i]] = gr\n"
				   "    end\n"
				   "  end\n"
				   "end\n"
				   "local grant = limit - others\n"
				   "if grant > want then grant = want end\n"
				   "if grant < 0 then grant = 0 end\n"
				   "redis.call('HSET', KEYS[3], edge, grant .. ' ' .. now)\n"
				   "redis.call('EXPIRE', KEYS[3], ttl * 4)\n"
				   "local out, seen = { grant }, {}\n"
				   "for k = 1, 2 do\n"
				   "  local h = redis.call('HGETALL', KEYS[k])\n"
				   "  for i = 1, #h, 2 do\n"
				   "    local e = h[i]\n"
				   "    if e ~= edge and not seen[e] then\n"
				   "      seen[e] = true\n"
				   "      out[#out + 1] = e\n"
				   "      out[#out + 1] = h[i + 1]\n"
				   "      out[#out + 1] = grants[e] or -1\n"
				   "    end\n"
				   "  end\n"
				   "end\n"
				   "return out\n";

struct ctl_redis {
	struct ctl_redis_conf conf;
	char host[108];
	uint16_t port;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	int stop;
	int req_ready;
	int res_ready;
	uint64_t replaced;
	struct ctl_redis_stats st;
	struct ctl_fleet_round req;
	struct ctl_fleet_result res;
	/* the thread's own */
	redisContext *ctx;
	char sha[48];
	uint32_t backoff_ms;
	uint64_t next_connect_ms;
	struct ctl_fleet_round work;
	struct ctl_fleet_result out;
	struct ctl_redis_stats tst; /* counted here, copied under mu */
};

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int
ctl_redis_parse_address(
	const char *addr, char *host, size_t hostlen, uint16_t *port, char *err, size_t errlen)
{
	const char *colon, *h = addr;
	size_t hl;
	char *end;
	unsigned long p;

	if (addr == NULL || addr[0] == '\0') {
		snprintf(err, errlen, "empty Redis address");
		return -1;
	}
	if (addr[0] == '/') {
		if (strlen(addr) >= hostlen) {
			snprintf(err, errlen, "Redis socket path too long");
			return -1;
		}
		snprintf(host, hostlen, "%s", addr);
		*port = 0;
		return 0;
	}
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "Redis address \"%.64s\": want [IPv6]:port", addr);
			return -1;
		}
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL || strchr(addr, ':') != colon) {
			snprintf(err, errlen,
				"Redis address \"%.64s\": want host:port, [IPv6]:port or /path",
				addr);
			return -1;
		}
		hl = (size_t)(colon - addr);
	}
	if (hl == 0 || hl >= hostlen) {
		snprintf(err, errlen, "Redis address \"%.64s\": bad host", addr);
		return -1;
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || p == 0 || p > 65535) {
		snprintf(err, errlen, "Redis address \"%.64s\": port must be 1..65535", addr);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

static void
set_error(struct ctl_redis *r, const char *what, const char *detail)
{
	snprintf(r->tst.last_error, sizeof(r->tst.last_error), "%s: %.100s", what,
		detail != NULL ? detail : "?");
}

static void
drop(struct ctl_redis *r)
{
	if (r->ctx == NULL)
		return;
	redisFree(r->ctx);
	r->ctx = NULL;
	r->tst.connected = 0;
	r->tst.disconnects++;
}

/* A reply that is an error, or not of type `want`, fails the round. */
static int
reply_ok(struct ctl_redis *r, redisReply *rep, int want, const char *what)
{
	if (rep == NULL) {
		set_error(r, what, r->ctx != NULL ? r->ctx->errstr : "no reply");
		return 0;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		set_error(r, what, rep->str);
		return 0;
	}
	if (rep->type != want) {
		set_error(r, what, "unexpected reply type");
		return 0;
	}
	return 1;
}

static int
connect_now(struct ctl_redis *r, uint64_t now_ms)
{
	struct timeval tv = { .tv_sec = r->conf.timeout_ms / 1000,
		.tv_usec = (r->conf.timeout_ms % 1000) * 1000 };
	redisReply *rep;
	int ok;

	if (now_ms < r->next_connect_ms)
		return -1;
	if (r->port == 0)
		r->ctx = redisConnectUnixWithTimeout(r->host, tv);
	else
		r->ctx = redisConnectWithTimeout(r->host, r->port, tv);
	if (r->ctx == NULL || r->ctx->err) {
		set_error(r, "connect", r->ctx != NULL ? r->ctx->errstr : "out of memory");
		goto fail;
	}
	if (redisSetTimeout(r->ctx, tv) != REDIS_OK) {
		set_error(r, "set timeout", r->ctx->errstr);
		goto fail;
	}
	if (r->conf.password[0] != '\0') {
		if (r->conf.user[0] != '\0')
			rep = redisCommand(r->ctx, "AUTH %s %s", r->conf.user, r->conf.password);
		else
			rep = redisCommand(r->ctx, "AUTH %s", r->conf.password);
		ok = reply_ok(r, rep, REDIS_REPLY_STATUS, "AUTH");
		freeReplyObject(rep);
		if (!ok)
			goto fail;
	}
	rep = redisCommand(r->ctx, "SCRIPT LOAD %s", ctl_redis_claim_lua);
	ok = reply_ok(r, rep, REDIS_REPLY_STRING, "SCRIPT LOAD");
	if (ok)
		snprintf(r->sha, sizeof(r->sha), "%s", rep->str);
	freeReplyObject(rep);
	if (!ok)
		goto fail;
	r->tst.connects++;
	r->tst.connected = 1;
	r->backoff_ms = 0;
	return 0;
fail:
	r->tst.connect_failures++;
	if (r->ctx != NULL) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
	r->backoff_ms = r->backoff_ms == 0 ? CTL_REDIS_BACKOFF_MIN_MS : r->backoff_ms * 2;
	if (r->backoff_ms > CTL_REDIS_BACKOFF_MAX_MS)
		r->backoff_ms = CTL_REDIS_BACKOFF_MAX_MS;
	r->next_connect_ms = now_ms + r->backoff_ms;
	return -1;
}

static int
plain_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= CTL_FLEET_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* The claim's answer into a view: the grant, then triples edge, sample, grant. */
static int
take_view(struct ctl_redis *r, redisReply *rep, struct ctl_fleet_view *v)
{
	size_t i;

	if (!reply_ok(r, rep, REDIS_REPLY_ARRAY, "EVALSHA"))
		return -1;
	if (rep->elements < 1 || rep->element[0]->type != REDIS_REPLY_INTEGER ||
		rep->element[0]->integer < 0) {
		set_error(r, "EVALSHA", "no grant in the answer");
		return -1;
	}
	v->grant = (uint32_t)rep->element[0]->integer;
	v->n = 0;
	for (i = 1; i + 3 <= rep->elements; i += 3) {
		redisReply *n = rep->element[i], *s = rep->element[i + 1], *g = rep->element[i + 2];
		struct ctl_fleet_edge *e;

		if (v->n >= CTL_FLEET_MAX_EDGES)
			break;
		e = &v->edges[v->n];
		memset(e, 0, sizeof(*e));
		if (n->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING ||
			g->type != REDIS_REPLY_INTEGER || !plain_name(n->str, n->len) ||
			ctl_fleet_sample_parse(s->str, s->len, e) != 0) {
			r->tst.bad_entries++;
			continue;
		}
		memcpy(e->name, n->str, n->len);
		e->name[n->len] = '\0';
		e->has_grant = g->integer >= 0;
		e->grant = g->integer >= 0 ? (uint32_t)g->integer : 0;
		v->n++;
	}
	return 0;
}

static int
run_round(struct ctl_redis *r)
{
	const struct ctl_fleet_round *w = &r->work;
	char key[CTL_REDIS_KEY_MAX], prev[CTL_REDIS_KEY_MAX], grants[CTL_REDIS_KEY_MAX];
	char sample[CTL_FLEET_SAMPLE_MAX], now[24], ttl[16], want[16], limit[16];
	uint32_t i, k;
	int ok = 1;

	for (i = 0; i < w->n; i++) {
		const struct ctl_fleet_ask *a = &w->ask[i];
		const char *argv[11];
		size_t len[11];

		snprintf(key, sizeof(key), "%s:{%s}:s:%" PRIu64, r->conf.fleet, a->account,
			a->self.second);
		snprintf(prev, sizeof(prev), "%s:{%s}:s:%" PRIu64, r->conf.fleet, a->account,
			a->self.second - 1);
		snprintf(grants, sizeof(grants), "%s:{%s}:grants", r->conf.fleet, a->account);
		if (ctl_fleet_sample_format(&a->self, sample, sizeof(sample)) < 0)
			snprintf(sample, sizeof(sample), "0 0 0 0 -1 0 0 0 0");
		snprintf(now, sizeof(now), "%" PRIu64, w->second);
		snprintf(ttl, sizeof(ttl), "%" PRIu32, w->ttl_s);
		snprintf(want, sizeof(want), "%" PRIu32, a->want);
		snprintf(limit, sizeof(limit), "%" PRIu32, a->limit);
		redisAppendCommand(r->ctx, "HSET %s %s %s", key, r->conf.edge, sample);
		redisAppendCommand(r->ctx, "EXPIRE %s %s", key, ttl);
		argv[0] = "EVALSHA";
		argv[1] = r->sha;
		argv[2] = "3";
		argv[3] = key;
		argv[4] = prev;
		argv[5] = grants;
		argv[6] = r->conf.edge;
		argv[7] = now;
		argv[8] = ttl;
		argv[9] = want;
		argv[10] = limit;
		for (k = 0; k < 11; k++)
			len[k] = strlen(argv[k]);
		redisAppendCommandArgv(r->ctx, 11, argv, len);
	}
	/* every reply is read, even after an error, to keep the pipeline in step */
	for (i = 0; i < w->n; i++) {
		for (k = 0; k < 3; k++) {
			redisReply *rep = NULL;

			if (redisGetReply(r->ctx, (void **)&rep) != REDIS_OK) {
				set_error(r, "reply", r->ctx->errstr);
				return -1; /* the connection is gone or out of step */
			}
			if (k == 0 && !reply_ok(r, rep, REDIS_REPLY_INTEGER, "HSET"))
				ok = 0;
			else if (k == 1 && !reply_ok(r, rep, REDIS_REPLY_INTEGER, "EXPIRE"))
				ok = 0;
			else if (k == 2 && ok && take_view(r, rep, &r->out.view[i]) != 0)
				ok = 0;
			freeReplyObject(rep);
		}
	}
	return ok ? 0 : -1;
}

static void
post(struct ctl_redis *r)
{
	size_t len =
		offsetof(struct ctl_fleet_result, view) + (size_t)r->out.n * sizeof(r->out.view[0]);

	pthread_mutex_lock(&r->mu);
	memcpy(&r->res, &r->out, len);
	r->res_ready = 1;
	r->st = r->tst;
	pthread_mutex_unlock(&r->mu);
}

static void *
thread_main(void *arg)
{
	struct ctl_redis *r = arg;

	for (;;) {
		uint64_t t0;
		struct timespec until;
		size_t len;

		pthread_mutex_lock(&r->mu);
		while (!r->stop && !r->req_ready) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += CTL_REDIS_WAIT_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&r->cv, &r->mu, &until);
		}
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		len = offsetof(struct ctl_fleet_round, ask) +
			(size_t)r->req.n * sizeof(r->req.ask[0]);
		memcpy(&r->work, &r->req, len);
		r->req_ready = 0;
		pthread_mutex_unlock(&r->mu);

		t0 = mono_us();
		r->tst.rounds++;
		memset(&r->out, 0, offsetof(struct ctl_fleet_result, view));
		r->out.seq = r->work.seq;
		r->out.second = r->work.second;
		r->out.n = r->work.n;
		if (r->ctx == NULL && connect_now(r, t0 / 1000) != 0) {
			r->out.ok = 0;
		} else if (run_round(r) != 0) {
			r->out.ok = 0;
			drop(r);
		} else {
			r->out.ok = 1;
		}
		r->tst.last_round_us = mono_us() - t0;
		if (r->out.ok && r->tst.last_round_us > (uint64_t)r->conf.timeout_ms * 1000) {
			/* too late to trust as "now"; the connection stays */
			r->out.ok = 0;
			r->tst.rounds_slow++;
		}
		if (r->out.ok)
			r->tst.rounds_ok++;
		else
			r->tst.rounds_failed++;
		post(r);
	}
	drop(r);
	return NULL;
}

struct ctl_redis *
ctl_redis_start(const struct ctl_redis_conf *conf, char *err, size_t errlen)
{
	sigset_t pipe_set, old_set;
	struct ctl_redis *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory for the Redis client");
		return NULL;
	}
	r->conf = *conf;
	if (r->conf.timeout_ms == 0)
		r->conf.timeout_ms = 300;
	if (ctl_redis_parse_address(
		    conf->address, r->host, sizeof(r->host), &r->port, err, errlen) != 0) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	/*
	 * Writing to a Redis that died raises SIGPIPE in the writing thread,
	 * which would end the process: the thread starts with it blocked,
	 * and the write fails with EPIPE instead.
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	rc = pthread_create(&r->thr, NULL, thread_main, r);
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the Redis thread: %s", strerror(rc));
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		return NULL;
	}
	return r;
}

void
ctl_redis_stop(struct ctl_redis *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thr, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

int
ctl_redis_submit(struct ctl_redis *r, const struct ctl_fleet_round *round)
{
	size_t len =
		offsetof(struct ctl_fleet_round, ask) + (size_t)round->n * sizeof(round->ask[0]);

	if (pthread_mutex_trylock(&r->mu) != 0)
		return -1;
	if (r->req_ready)
		r->replaced++;
	memcpy(&r->req, round, len);
	r->req_ready = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

int
ctl_redis_take(struct ctl_redis *r, struct ctl_fleet_result *out)
{
	size_t len;

	if (pthread_mutex_trylock(&r->mu) != 0)
		return 0;
	if (!r->res_ready) {
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	len = offsetof(struct ctl_fleet_result, view) + (size_t)r->res.n * sizeof(r->res.view[0]);
	memcpy(out, &r->res, len);
	r->res_ready = 0;
	pthread_mutex_unlock(&r->mu);
	return 1;
}

void
ctl_redis_get_stats(struct ctl_redis *r, struct ctl_redis_stats *out)
{
	pthread_mutex_lock(&r->mu);
	*out = r->st;
	out->rounds_replaced = r->replaced;
	pthread_mutex_unlock(&r->mu);
}

json_t *
ctl_redis_stats_json(struct ctl_redis *r)
{
	struct ctl_redis_stats s;

	ctl_redis_get_stats(r, &s);
	return json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
		"address", r->conf.address, "connected", s.connected, "rounds",
		(json_int_t)s.rounds, "rounds_ok", (json_int_t)s.rounds_ok, "rounds_failed",
		(json_int_t)s.rounds_failed, "rounds_replaced", (json_int_t)s.rounds_replaced,
		"rounds_slow", (json_int_t)s.rounds_slow, "connects", (json_int_t)s.connects,
		"connect_failures", (json_int_t)s.connect_failures, "disconnects",
		(json_int_t)s.disconnects, "bad_entries", (json_int_t)s.bad_entries,
		"last_round_us", (json_int_t)s.last_round_us, "last_error", s.last_error);
}
