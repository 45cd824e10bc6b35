/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dataplane reload: the trunk-table swap under rte_rcu_qsbr while a
 * reader thread looks trunks up (an old table is never freed while the
 * reader can hold it, and every lookup answers from one whole table),
 * and dp_reload_apply on files: a good one fills the spare table with
 * its trunks in their slots, swaps it in and publishes the slot table
 * (two tables for good, none allocated by a reload); a bad one or a
 * structural change is refused with one line and changes nothing.
 * Diagnosis rules: an edit is compiled at reload and handed to the
 * workers with the table (a reader classifying through 40 reloads never
 * sees a half-swapped database), a bad pattern is refused with its
 * file, line and rule, and a trunk's rule set follows its slot.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "cfg.h"
#include "dp_diag.h"
#include "dp_reload.h"
#include "dp_sip.h"
#include "dp_trunk.h"

static struct dp_pkt pkt_v4, pkt_v6;

static void
make_pkt(struct dp_pkt *p, const char *dst)
{
	memset(p, 0, sizeof(*p));
	p->family = strchr(dst, ':') ? 6 : 4;
	assert_int_equal(inet_pton(p->family == 4 ? AF_INET : AF_INET6,
				 p->family == 4 ? "192.0.2.1" : "2001:db9::1", p->src),
		1);
	assert_int_equal(inet_pton(p->family == 4 ? AF_INET : AF_INET6, dst, p->dst), 1);
	p->sport = 5060;
	p->dport = 5080;
}

static void
load(const char *text, struct sg_config *cfg)
{
	char err[512];

	if (cfg_load_buffer(text, strlen(text), "t.conf", cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* Two tables: the IPv6 prefix in slot 1 (b), then moved to slot 2 (b6). */
static const char conf1[] =
	"trunks = (\n"
	"  { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 10; max_concurrent = 1; },\n"
	"  { name = \"b\"; prefixes = [ \"10.0.1.0/24\", \"2001:db8:b::/48\" ]; cps = 20; "
	"max_concurrent = 1; }\n"
	");\n";
static const char conf2[] =
	"trunks = (\n"
	"  { name = \"b6\"; prefixes = [ \"2001:db8:b::/48\" ]; cps = 5; max_concurrent = 1; },\n"
	"  { name = \"b\"; prefixes = [ \"10.0.1.0/24\" ]; cps = 20; max_concurrent = 1; },\n"
	"  { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 45; max_concurrent = 1; }\n"
	");\n";

struct reader {
	struct dp_worker_shared *sh;
	struct rte_rcu_qsbr *v;
	const struct dp_trunks *volatile holding;
	volatile int stop;
	volatile uint64_t lookups;
	volatile uint64_t wrong;
};

/* A worker's pattern: load once, look up, drop it, report quiescence. */
static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	enum dp_dir dir;

	rte_rcu_qsbr_thread_register(r->v, 0);
	rte_rcu_qsbr_thread_online(r->v, 0);
	while (!r->stop) {
		const struct dp_trunks *t = __atomic_load_n(&r->sh->trunks, __ATOMIC_ACQUIRE);
		uint32_t want6 = dp_trunks_gen(t) % 2 ? 1 : 2;

		r->holding = t;
		/* IPv6 follows the table's generation; IPv4 of `a` is slot 0 in both */
		if (dp_trunks_lookup(t, &pkt_v6, &dir) != want6 ||
			dp_trunks_lookup(t, &pkt_v4, &dir) != 0)
			r->wrong++;
		r->lookups++;
		r->holding = NULL;
		rte_rcu_qsbr_quiescent(r->v, 0);
	}
	rte_rcu_qsbr_thread_offline(r->v, 0);
	rte_rcu_qsbr_thread_unregister(r->v, 0);
	return NULL;
}

static void
test_swap_under_readers(void **state)
{
	static struct sg_config c1, c2;
	static const uint32_t slots2[] = { 2, 1, 0 };
	struct dp_worker_shared *sh = rte_zmalloc("sh", sizeof(*sh), 64);
	struct rte_rcu_qsbr *v = rte_zmalloc("qsbr", rte_rcu_qsbr_get_memsize(1), 64);
	struct reader rd;
	pthread_t th;
	char err[256], name[32];
	unsigned int i;
	uint64_t before;

	(void)state;
	assert_non_null(sh);
	assert_non_null(v);
	assert_int_equal(rte_rcu_qsbr_init(v, 1), 0);
	load(conf1, &c1);
	load(conf2, &c2);
	make_pkt(&pkt_v4, "10.0.0.7");
	make_pkt(&pkt_v6, "2001:db8:b::9");
	sh->trunks = dp_trunks_create_slots(&c1, NULL, 1, "rt_g1", 0, err, sizeof(err));
	assert_non_null(sh->trunks);
	memset(&rd, 0, sizeof(rd));
	rd.sh = sh;
	rd.v = v;
	assert_int_equal(pthread_create(&th, NULL, reader_main, &rd), 0);
	while (rd.lookups == 0)
		usleep(100);
	for (i = 2; i < 202; i++) {
		const struct dp_trunks *old;
		struct dp_trunks *t;

		snprintf(name, sizeof(name), "rt_g%u", i);
		/* odd generations: conf1 in order; even: conf2 in its slots */
		t = i % 2 ? dp_trunks_create_slots(&c1, NULL, i, name, 0, err, sizeof(err))
			  : dp_trunks_create_slots(&c2, slots2, i, name, 0, err, sizeof(err));
		if (t == NULL)
			fail_msg("generation %u: %s", i, err);
		before = rd.lookups;
		old = dp_reload_swap(sh, t, v);
		/* the reader has let go of the old table: it may be freed now */
		assert_true(rd.holding != old);
		dp_trunks_free((struct dp_trunks *)(uintptr_t)old);
		/* and it goes on reading while tables change under it */
		while (i % 50 == 0 && rd.lookups == before)
			usleep(100);
	}
	rd.stop = 1;
	pthread_join(th, NULL);
	assert_true(rd.lookups > 0);
	assert_int_equal(rd.wrong, 0);
	/* a reader gone offline does not hold a reload up */
	dp_trunks_free((struct dp_trunks *)(uintptr_t)dp_reload_swap(sh, NULL, v));
	rte_free(v);
	rte_free(sh);
}

static char file_paths[8][64];
static unsigned int n_files;

/* A file of its own per call: the returned paths stay valid side by side. */
static char *
write_file(const char *text)
{
	char *path = file_paths[n_files % 8];
	FILE *f;

	snprintf(path, sizeof(file_paths[0]), "/tmp/sg_test_reload.%d.%u.conf", (int)getpid(),
		n_files % 8);
	n_files++;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_apply_files(void **state)
{
	static struct sg_config c1;
	static struct sg_shm shm;
	struct dp_worker_shared *sh = rte_zmalloc("sh", sizeof(*sh), 64);
	struct dp_reload *r;
	const struct dp_trunks *t1;
	enum dp_dir dir;
	char err[512];
	char *path;

	(void)state;
	load(conf1, &c1);
	make_pkt(&pkt_v6, "2001:db8:b::9");
	sh->trunks = dp_trunks_create(&c1, "ra_g0", 0, err, sizeof(err));
	assert_non_null(sh->trunks);
	r = dp_reload_create(&c1, "t.conf", sh, 1, 0, err, sizeof(err));
	assert_non_null(r);
	dp_reload_attach(r, &shm);
	assert_int_equal(shm.n_trunks, 2);
	assert_string_equal(shm.trunk_name[1], "b");
	t1 = sh->trunks;

	/* a bad file: the loader's file:line line, nothing changes */
	path = write_file("trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/33\" ]; } );\n");
	assert_int_equal(dp_reload_apply(r, path, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, ":1: "));
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_ptr_equal(sh->trunks, t1);

	/* a structural change: refused by key */
	path = write_file("dataplane = { burst = 32; };\n"
			  "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 1; "
			  "max_concurrent = "
			  "1; } );\n");
	assert_int_equal(dp_reload_apply(r, path, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "dataplane.burst: cannot change while running"));
	assert_ptr_equal(sh->trunks, t1);
	assert_int_equal(shm.trunks_gen, 0);

	/* two trunks owning one prefix: the loader refuses it, nothing changes */
	path = write_file("trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 1; "
			  "max_concurrent = "
			  "1; }, { name = \"z\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 1; "
			  "max_concurrent = 1; } "
			  ");\n");
	assert_int_equal(dp_reload_apply(r, path, err, sizeof(err)), EINVAL);
	if (strstr(err, ":1: trunks[1] (z).prefixes[0]") == NULL)
		fail_msg("%s", err);
	assert_ptr_equal(sh->trunks, t1);

	/* a good one: b6 takes a new slot, the table is swapped, ctrl told */
	path = write_file(conf2);
	assert_int_equal(dp_reload_apply(r, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "3 trunk(s): 1 added, 0 removed, 0 renamed, 2 changed"));
	assert_ptr_not_equal(sh->trunks, t1);
	assert_int_equal(dp_trunks_lookup(sh->trunks, &pkt_v6, &dir), 2);
	assert_int_equal(shm.n_trunks, 3);
	assert_string_equal(shm.trunk_name[2], "b6");
	assert_int_equal(shm.trunk_state[2], SG_SLOT_ACTIVE);
	assert_int_equal(shm.trunk_cps[0], 45);
	assert_int_equal(shm.trunks_gen, 1);
	assert_int_equal(dp_trunks_gen(sh->trunks), 1);
	assert_int_equal(shm.trunks_seq % 2, 0);

	/* a request through shared memory is answered the same way */
	path = write_file(conf1);
	snprintf(shm.reload_path, sizeof(shm.reload_path), "%s", path);
	shm.reload_req = 1;
	dp_reload_poll(r, NULL);
	assert_int_equal(shm.reload_done, 1);
	assert_int_equal(shm.reload_status, 0);
	/* two tables for good: the one the first reload retired is filled again */
	assert_ptr_equal(sh->trunks, t1);
	assert_int_equal(dp_trunks_gen(sh->trunks), 2);
	assert_int_equal(shm.trunk_state[2], SG_SLOT_REMOVED);
	assert_int_equal(dp_trunks_lookup(sh->trunks, &pkt_v6, &dir), 1);
	unlink(path);

	dp_trunks_free((struct dp_trunks *)(uintptr_t)sh->trunks);
	dp_reload_free(r);
	rte_free(sh);
}

/* Classify one 503 with this reason phrase, as the worker does. */
static enum sg_diag_class
classify_503(const struct dp_diag *d, hs_scratch_t *s, uint32_t slot, const char *phrase)
{
	static __thread struct dp_diag_scan sc;
	struct dp_sip_msg m;
	char buf[512];
	uint16_t rule;
	int n = snprintf(buf, sizeof(buf),
		"SIP/2.0 503 %s\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
		"From: <sip:a@192.0.2.1>;tag=a\r\nTo: <sip:b@10.0.0.1>;tag=b\r\n"
		"Call-ID: r@192.0.2.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		phrase);

	assert_int_equal(dp_sip_parse((const uint8_t *)buf, (uint32_t)n, &m), DP_SIP_OK);
	return dp_diag_classify(d, s, &sc, slot, m.base, m.hdr_len, &rule);
}

static const char diag1[] =
	"diagnosis = ( { name = \"r1\"; class = \"cps-limit\"; field = \"status\";\n"
	"  pattern = \"CPS\"; },\n"
	"  { name = \"b-words\"; set = \"bset\"; class = \"concurrency-limit\"; field = "
	"\"status\";\n"
	"  pattern = \"Limiting\"; } );\n"
	"trunks = (\n"
	"  { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 10; max_concurrent = 1; },\n"
	"  { name = \"b\"; prefixes = [ \"10.0.1.0/24\" ]; cps = 20; max_concurrent = 1;\n"
	"    diagnosis = \"bset\"; }\n"
	");\n";
/* r1 edited: now says route-down for "No route"; the trunks in another order */
static const char diag2[] =
	"diagnosis = ( { name = \"r1\"; class = \"route-down\"; field = \"status\";\n"
	"  pattern = \"No route\"; },\n"
	"  { name = \"b-words\"; set = \"bset\"; class = \"concurrency-limit\"; field = "
	"\"status\";\n"
	"  pattern = \"Limiting\"; } );\n"
	"trunks = (\n"
	"  { name = \"b\"; prefixes = [ \"10.0.1.0/24\" ]; cps = 20; max_concurrent = 1;\n"
	"    diagnosis = \"bset\"; },\n"
	"  { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 10; max_concurrent = 1; }\n"
	");\n";

/* The same from a thread of its own: a scratch of its own (one scratch, one thread). */
static enum sg_diag_class
classify_own(const struct dp_diag *d, uint32_t slot, const char *phrase)
{
	hs_scratch_t *s = NULL;
	enum sg_diag_class c;

	assert_int_equal(dp_diag_scratch_alloc(d, &s), 0);
	c = classify_503(d, s, slot, phrase);
	hs_free_scratch(s);
	return c;
}

struct diag_reader {
	struct dp_worker_shared *sh;
	struct rte_rcu_qsbr *v;
	volatile int stop;
	volatile uint64_t scans;
	volatile uint64_t wrong;
};

/* A worker's pattern: the rules taken with the table, once per "burst". */
static void *
diag_reader_main(void *arg)
{
	struct diag_reader *r = arg;
	hs_scratch_t *own = NULL;

	rte_rcu_qsbr_thread_register(r->v, 0);
	rte_rcu_qsbr_thread_online(r->v, 0);
	while (!r->stop) {
		const struct dp_trunks *t = __atomic_load_n(&r->sh->trunks, __ATOMIC_ACQUIRE);
		const struct dp_diag *d = __atomic_load_n(&r->sh->diag, __ATOMIC_RELAXED);
		hs_scratch_t *s = dp_diag_worker_scratch(d, 0);
		enum sg_diag_class a, b;

		(void)t;
		if (s == NULL) {
			/* the start-up rules: the worker's own clone */
			if (own == NULL && dp_diag_scratch_alloc(d, &own) != 0)
				r->wrong++;
			s = own;
		}
		/* one database answers both: CPS is cps-limit under diag1, No route under diag2 */
		a = classify_503(d, s, 0, "CPS limit exceeded");
		b = classify_503(d, s, 0, "No route");
		if (!((a == SG_DIAG_CPS_LIMIT && b == SG_DIAG_UNCLASSIFIED) ||
			    (a == SG_DIAG_UNCLASSIFIED && b == SG_DIAG_ROUTE_DOWN)))
			r->wrong++;
		/* b's own set in its slot, whatever the trunk's place in the file */
		if (classify_503(d, s, 1, "Limiting") != SG_DIAG_CONCURRENCY_LIMIT)
			r->wrong++;
		r->scans++;
		rte_rcu_qsbr_quiescent(r->v, 0);
	}
	rte_rcu_qsbr_thread_offline(r->v, 0);
	rte_rcu_qsbr_thread_unregister(r->v, 0);
	if (own != NULL)
		hs_free_scratch(own);
	return NULL;
}

static void
test_apply_diag_rules(void **state)
{
	static struct sg_config c1;
	struct dp_worker_shared *sh = rte_zmalloc("sh", sizeof(*sh), 64);
	struct diag_reader rd = { 0 };
	struct dp_diag *d0;
	const struct dp_diag *before;
	hs_scratch_t *s0 = NULL;
	struct dp_reload *r;
	pthread_t th;
	char err[512], *p1, *p2, *bad, *unset;
	int i;

	(void)state;
	load(diag1, &c1);
	d0 = dp_diag_create(&c1, "t.conf", err, sizeof(err));
	assert_non_null(d0);
	assert_int_equal(dp_diag_scratch_alloc(d0, &s0), 0);
	assert_int_equal(classify_503(d0, s0, 0, "CPS limit exceeded"), SG_DIAG_CPS_LIMIT);
	assert_int_equal(classify_503(d0, s0, 0, "No route"), SG_DIAG_UNCLASSIFIED);
	sh->trunks = dp_trunks_create(&c1, "rd_g0", 0, err, sizeof(err));
	assert_non_null(sh->trunks);
	sh->diag = d0;
	r = dp_reload_create(&c1, "t.conf", sh, 1, 0, err, sizeof(err));
	assert_non_null(r);

	/* a pattern Hyperscan refuses: file, line and rule; the old rules go on */
	bad = write_file("diagnosis = ( { name = \"r1\"; class = \"cps-limit\";\n"
			 "  pattern = \"(unclosed\"; } );\n"
			 "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 10; "
			 "max_concurrent = 1; } );\n");
	assert_int_equal(dp_reload_apply(r, bad, err, sizeof(err)), EINVAL);
	if (strstr(err, ":2: diagnosis[0] (r1).pattern: \"(unclosed\": Hyperscan:") == NULL ||
		strncmp(err, bad, strlen(bad)) != 0)
		fail_msg("%s", err);
	assert_ptr_equal(sh->diag, d0);
	assert_int_equal(dp_trunks_gen(sh->trunks), 0);

	/* 40 reloads between the two rule files under a classifying reader */
	p1 = write_file(diag1);
	p2 = write_file(diag2);
	rd.sh = sh;
	rd.v = dp_reload_qsbr(r);
	assert_int_equal(pthread_create(&th, NULL, diag_reader_main, &rd), 0);
	for (i = 0; i < 40; i++) {
		before = sh->diag;
		if (dp_reload_apply(r, i % 2 ? p1 : p2, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_ptr_not_equal(sh->diag, before);
		assert_non_null(strstr(err, "2 diagnosis rule(s) compiled in"));
		/* each reload's rules answer at once (the reader holds worker 0's scratch) */
		assert_non_null(dp_diag_worker_scratch(sh->diag, 0));
		if (i % 2)
			assert_int_equal(
				classify_own(sh->diag, 0, "CPS limit exceeded"), SG_DIAG_CPS_LIMIT);
		else
			assert_int_equal(classify_own(sh->diag, 0, "No route"), SG_DIAG_ROUTE_DOWN);
		usleep(2000);
	}
	rd.stop = 1;
	pthread_join(th, NULL);
	assert_true(rd.scans > 40);
	assert_int_equal(rd.wrong, 0);

	/* the same rules again: nothing compiled, the database stays */
	before = sh->diag;
	assert_int_equal(dp_reload_apply(r, p1, err, sizeof(err)), 0);
	assert_ptr_equal(sh->diag, before);
	assert_null(strstr(err, "diagnosis"));

	/* b's rule set taken away: the trunk changed, its slot reads the default set only */
	unset = write_file("diagnosis = ( { name = \"r1\"; class = \"cps-limit\"; field = "
			   "\"status\";\n"
			   "  pattern = \"CPS\"; },\n"
			   "  { name = \"b-words\"; set = \"bset\"; class = \"concurrency-limit\"; "
			   "field = \"status\";\n"
			   "  pattern = \"Limiting\"; } );\n"
			   "trunks = (\n"
			   "  { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; cps = 10; "
			   "max_concurrent = 1; },\n"
			   "  { name = \"b\"; prefixes = [ \"10.0.1.0/24\" ]; cps = 20; "
			   "max_concurrent = 1; }\n"
			   ");\n");
	assert_int_equal(dp_reload_apply(r, unset, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "1 changed"));
	assert_ptr_not_equal(sh->diag, before);
	assert_int_equal(classify_503(sh->diag, dp_diag_worker_scratch(sh->diag, 0), 1, "Limiting"),
		SG_DIAG_UNCLASSIFIED);
	assert_int_equal(
		classify_503(sh->diag, dp_diag_worker_scratch(sh->diag, 0), 1, "CPS limit"),
		SG_DIAG_CPS_LIMIT);
	unlink(p1);
	unlink(p2);
	unlink(bad);
	unlink(unset);

	dp_trunks_free((struct dp_trunks *)(uintptr_t)sh->trunks);
	dp_reload_free(r);
	hs_free_scratch(s0);
	dp_diag_free(d0);
	rte_free(sh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_under_readers),
		cmocka_unit_test(test_apply_files),
		cmocka_unit_test(test_apply_diag_rules),
	};

	/* sg_test_eal's EAL, with room for two trunk tables (~130 MB each) */
	char *args[] = { (char *)"sg_test", (char *)"--no-huge", (char *)"-m", (char *)"640",
		(char *)"--no-shconf", (char *)"--no-pci", (char *)"--no-telemetry", (char *)"-l",
		(char *)"0", (char *)"--log-level=*:error" };
	unsigned int i;
	int rc;

	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0) {
		fprintf(stderr, "test_reload: EAL init failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (i = 0; i < 8 && i < n_files; i++)
		unlink(file_paths[i]);
	return rc;
}
