/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trunk lookup: IPv4 and IPv6, longest prefix across source and
 * destination, port-bound trunks and their fall-back to a broader trunk.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_malloc.h>

#include "cfg.h"
#include "dp_trunk.h"
#include "sg_test_eal.h"

static struct sg_config cfg;
static struct dp_trunks *trunks;

static void
add_trunk(const char *name, uint16_t port, const char *p1, const char *p2)
{
	struct cfg_trunk *t = &cfg.trunks[cfg.n_trunks++];

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->port = port;
	t->cps = 10;
	t->max_concurrent = 10;
	assert_int_equal(cfg_parse_prefix(p1, &t->prefixes[t->n_prefixes++]), 0);
	if (p2 != NULL)
		assert_int_equal(cfg_parse_prefix(p2, &t->prefixes[t->n_prefixes++]), 0);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	cfg_defaults(&cfg);
	add_trunk("wide", 0, "10.0.0.0/8", "2001:db8::/32");	  /* 0 */
	add_trunk("narrow", 0, "10.1.0.0/16", "2001:db8:1::/48"); /* 1 */
	add_trunk("host", 0, "10.1.2.3/32", NULL);		  /* 2 */
	add_trunk("sbc5080", 5080, "10.9.9.9/32", NULL);	  /* 3 */
	add_trunk("sbc5070", 5070, "10.9.9.9/32", NULL);	  /* 4 */
	add_trunk("v6host", 0, "2001:db8:1::5/128", NULL);	  /* 5 */
	trunks = dp_trunks_create(&cfg, "t_trunks", 0, err, sizeof(err));
	if (trunks == NULL)
		fprintf(stderr, "%s\n", err);
	return trunks == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	dp_trunks_free(trunks);
	return 0;
}

static uint32_t
look(const char *src, uint16_t sport, const char *dst, uint16_t dport, enum dp_dir *dir)
{
	struct dp_pkt p;

	memset(&p, 0, sizeof(p));
	p.family = strchr(src, ':') ? 6 : 4;
	assert_int_equal(inet_pton(p.family == 4 ? AF_INET : AF_INET6, src, p.src), 1);
	assert_int_equal(inet_pton(p.family == 4 ? AF_INET : AF_INET6, dst, p.dst), 1);
	p.sport = sport;
	p.dport = dport;
	return dp_trunks_lookup(trunks, &p, dir);
}

static void
test_v4_longest(void **state)
{
	enum dp_dir dir;

	(void)state;
	assert_int_equal(look("192.0.2.1", 5060, "10.200.0.1", 5060, &dir), 0);
	assert_int_equal(dir, DP_DIR_TO_TRUNK);
	assert_int_equal(look("192.0.2.1", 5060, "10.1.200.1", 5060, &dir), 1);
	assert_int_equal(look("10.1.2.3", 5060, "192.0.2.1", 5060, &dir), 2);
	assert_int_equal(dir, DP_DIR_FROM_TRUNK);
	/* both sides match: the longer prefix wins, whichever side it is on */
	assert_int_equal(look("10.200.0.1", 5060, "10.1.2.3", 5060, &dir), 2);
	assert_int_equal(dir, DP_DIR_TO_TRUNK);
	assert_int_equal(look("10.1.2.3", 5060, "10.200.0.1", 5060, &dir), 2);
	assert_int_equal(dir, DP_DIR_FROM_TRUNK);
	assert_int_equal(look("192.0.2.1", 5060, "192.0.2.2", 5060, &dir), SG_UNMATCHED);
}

static void
test_v6(void **state)
{
	enum dp_dir dir;

	(void)state;
	assert_int_equal(look("2001:db8:ffff::1", 5060, "2001:db9::1", 5060, &dir), 0);
	assert_int_equal(dir, DP_DIR_FROM_TRUNK);
	assert_int_equal(look("2001:db9::1", 5060, "2001:db8:1::7", 5060, &dir), 1);
	assert_int_equal(look("2001:db9::1", 5060, "2001:db8:1::5", 5060, &dir), 5);
	assert_int_equal(look("2001:db9::1", 5060, "2001:db9::2", 5060, &dir), SG_UNMATCHED);
}

static void
test_port(void **state)
{
	enum dp_dir dir;

	(void)state;
	assert_int_equal(look("192.0.2.1", 5060, "10.9.9.9", 5080, &dir), 3);
	assert_int_equal(look("10.9.9.9", 5070, "192.0.2.1", 5060, &dir), 4);
	assert_int_equal(dir, DP_DIR_FROM_TRUNK);
	/* no trunk for this port on the host: fall back to the /8 */
	assert_int_equal(look("192.0.2.1", 5060, "10.9.9.9", 5060, &dir), 0);
	assert_int_equal(dir, DP_DIR_TO_TRUNK);
}

static void
test_duplicate_prefix_rejected(void **state)
{
	static struct sg_config c2;
	struct dp_trunks *t;
	char err[256] = "";

	(void)state;
	cfg_defaults(&c2);
	c2.n_trunks = 2;
	snprintf(c2.trunks[0].name, SG_TRUNK_NAME_MAX, "a");
	snprintf(c2.trunks[1].name, SG_TRUNK_NAME_MAX, "b");
	assert_int_equal(cfg_parse_prefix("10.0.0.0/8", &c2.trunks[0].prefixes[0]), 0);
	assert_int_equal(cfg_parse_prefix("10.0.0.0/8", &c2.trunks[1].prefixes[0]), 0);
	c2.trunks[0].n_prefixes = c2.trunks[1].n_prefixes = 1;
	t = dp_trunks_create(&c2, "t_dup", 0, err, sizeof(err));
	assert_null(t);
	assert_non_null(strstr(err, "trunk b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_longest),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_duplicate_prefix_rejected),
	};

	if (sg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
