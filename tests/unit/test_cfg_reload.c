/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reload rules: which keys may change live (the rest refused by name),
 * and where each trunk's counts go (slots by name, renames, removals,
 * additions, a removed name coming back, no slot left).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "cfg_reload.h"

static const char base_text[] =
	"dataplane = { sip_ports = [ 5060 ]; lcores = \"0@0,1@0\"; file_prefix = \"t\"; };\n"
	"ports = ( { devargs = \"net_null0\"; rx_queues = 1; } );\n"
	"policy = { window = 5; };\n"
	"trunks = (\n"
	"  { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; max_concurrent = 10; cps = 10; },\n"
	"  { name = \"b\"; prefixes = [ \"10.0.1.0/24\", \"2001:db8:b::/48\" ]; max_concurrent = "
	"10; port = 5080; cps = 20; }\n"
	");\n";

static void
load(const char *text, struct sg_config *cfg)
{
	char err[512];

	if (cfg_load_buffer(text, strlen(text), "t.conf", cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* base_text with one substring replaced. */
static void
load_edit(const char *from, const char *to, struct sg_config *cfg)
{
	char buf[4096];
	const char *p = strstr(base_text, from);

	assert_non_null(p);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - base_text), base_text, to,
		p + strlen(from));
	load(buf, cfg);
}

static struct sg_config old_cfg, new_cfg;

static void
test_live_changes_pass(void **state)
{
	char err[512] = "";

	(void)state;
	load(base_text, &old_cfg);
	load_edit("window = 5;", "window = 9;", &new_cfg);
	assert_int_equal(cfg_reload_check(&old_cfg, &new_cfg, "t.conf", err, sizeof(err)), 0);
	load_edit("cps = 10;", "cps = 45;", &new_cfg);
	assert_int_equal(cfg_reload_check(&old_cfg, &new_cfg, "t.conf", err, sizeof(err)), 0);
	load_edit("policy = { window = 5; };", "directives = { file = \"/tmp/d.jsonl\"; };",
		&new_cfg);
	assert_int_equal(cfg_reload_check(&old_cfg, &new_cfg, "t.conf", err, sizeof(err)), 0);
	/* diagnosis rules: added, edited; the dataplane compiles them again */
	load_edit("policy = { window = 5; };",
		"diagnosis = ( { name = \"r\"; class = \"route-down\"; pattern = \"No route\"; } "
		");",
		&new_cfg);
	assert_int_equal(cfg_reload_check(&old_cfg, &new_cfg, "t.conf", err, sizeof(err)), 0);
	assert_true(cfg_reload_live_section("trunks"));
	assert_true(cfg_reload_live_section("diagnosis"));
	assert_false(cfg_reload_live_section("dataplane"));
}

static void
expect_refused(const char *from, const char *to, const char *key)
{
	char err[512] = "";

	load(base_text, &old_cfg);
	load_edit(from, to, &new_cfg);
	assert_int_equal(cfg_reload_check(&old_cfg, &new_cfg, "t.conf", err, sizeof(err)), -1);
	if (strstr(err, key) == NULL || strncmp(err, "t.conf: ", 8) != 0 ||
		strstr(err, "cannot change while running") == NULL || strchr(err, '\n') != NULL)
		fail_msg("expected %s named, got: %s", key, err);
}

static void
test_structural_refused(void **state)
{
	(void)state;
	expect_refused("lcores = \"0@0,1@0\"", "lcores = \"0@0,1@1\"", "dataplane.lcores");
	expect_refused("sip_ports = [ 5060 ]", "sip_ports = [ 5060, 5062 ]", "dataplane.sip_ports");
	expect_refused("rx_queues = 1", "rx_queues = 2", "ports[0].rx_queues");
	expect_refused("devargs = \"net_null0\"", "devargs = \"net_null1\"", "ports[0].devargs");
	expect_refused("\nports = ( { devargs = \"net_null0\"; rx_queues = 1; } );",
		"\nports = ( { devargs = \"net_null0\"; rx_queues = 1; },"
		" { devargs = \"net_null1\"; rx_queues = 1; } );",
		"ports: cannot change while running (was 1 entries, now 2)");
}

static void
test_structural_refused_sizes(void **state)
{
	char err[512] = "";

	(void)state;
	load(base_text, &old_cfg);
	load_edit("policy = { window = 5; };",
		"policy = { window = 5; }; fragments = { entries = 8192; };", &new_cfg);
	assert_int_equal(cfg_reload_check(&old_cfg, &new_cfg, "t.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "fragments.entries"));
	assert_non_null(strstr(err, "now 8192"));
	load_edit("policy = { window = 5; };",
		"policy = { window = 5; }; ctrl = { socket = \"/tmp/other.sock\"; };", &new_cfg);
	assert_int_equal(cfg_reload_check(&old_cfg, &new_cfg, "t.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ctrl.socket"));
	/* a secret is named, its values are not shown */
	load_edit("policy = { window = 5; };",
		"policy = { window = 5; }; hep = { auth_key = \"s3cret\"; };", &new_cfg);
	assert_int_equal(cfg_reload_check(&old_cfg, &new_cfg, "t.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hep.auth_key: cannot change while running; restart"));
	assert_null(strstr(err, "s3cret"));
}

static int
slot_of(const struct cfg_reload_plan *p, const struct sg_config *c, const char *name)
{
	uint32_t i;

	for (i = 0; i < c->n_trunks; i++) {
		if (strcmp(c->trunks[i].name, name) == 0)
			return (int)p->slot[i];
	}
	return -1;
}

static int
change_of(const struct cfg_reload_plan *p, const struct sg_config *c, const char *name)
{
	uint32_t i;

	for (i = 0; i < c->n_trunks; i++) {
		if (strcmp(c->trunks[i].name, name) == 0)
			return p->change[i];
	}
	return -1;
}

/* A trunk's rule set is a change of that trunk, not a silent no-op. */
static void
test_plan_rule_set_change(void **state)
{
	static struct cfg_reload_plan plan;
	struct cfg_slots cur;
	char err[512] = "", buf[4096];
	static const char rules[] =
		"diagnosis = ( { name = \"r\"; set = \"bset\"; class = \"cps-limit\"; "
		"pattern = \"Limiting\"; } );\n";
	const char *at = strstr(base_text, "port = 5080;");

	(void)state;
	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%s%s", rules, base_text);
	load(buf, &old_cfg);
	cfg_slots_init(&cur, &old_cfg);
	snprintf(buf, sizeof(buf), "%s%.*sdiagnosis = \"bset\"; %s", rules, (int)(at - base_text),
		base_text, at);
	load(buf, &new_cfg);
	assert_int_equal(
		cfg_reload_plan(&cur, &old_cfg, &new_cfg, "t.conf", &plan, err, sizeof(err)), 0);
	assert_int_equal(change_of(&plan, &new_cfg, "b"), CFG_TRUNK_CHANGED);
	assert_int_equal(change_of(&plan, &new_cfg, "a"), CFG_TRUNK_SAME);
	assert_int_equal(plan.n_changed, 1);
}

static void
test_plan_slots(void **state)
{
	static struct cfg_reload_plan plan, plan2;
	static struct sg_config third;
	struct cfg_slots cur;
	char err[512] = "";

	(void)state;
	load(base_text, &old_cfg);
	cfg_slots_init(&cur, &old_cfg);
	assert_int_equal(cur.n, 2);
	assert_int_equal(cfg_slots_find(&cur, "b"), 1);

	/* the IPv6 prefix moves from b to a new trunk b6; a's CPS changes; order swapped */
	load("trunks = (\n"
	     "  { name = \"b6\"; prefixes = [ \"2001:db8:b::/48\" ]; max_concurrent = 10; port = "
	     "5080; cps = 5; },\n"
	     "  { name = \"b\"; prefixes = [ \"10.0.1.0/24\" ]; max_concurrent = 10; port = 5080; "
	     "cps = 20; },\n"
	     "  { name = \"a\"; prefixes = [ \"10.0.0.0/24\" ]; max_concurrent = 10; cps = 45; }\n"
	     ");\n",
		&new_cfg);
	assert_int_equal(
		cfg_reload_plan(&cur, &old_cfg, &new_cfg, "t.conf", &plan, err, sizeof(err)), 0);
	assert_int_equal(slot_of(&plan, &new_cfg, "a"), 0);
	assert_int_equal(slot_of(&plan, &new_cfg, "b"), 1);
	assert_int_equal(slot_of(&plan, &new_cfg, "b6"), 2);
	assert_int_equal(change_of(&plan, &new_cfg, "a"), CFG_TRUNK_CHANGED);
	assert_int_equal(change_of(&plan, &new_cfg, "b"), CFG_TRUNK_CHANGED);
	assert_int_equal(change_of(&plan, &new_cfg, "b6"), CFG_TRUNK_ADDED);
	assert_int_equal(plan.n_added, 1);
	assert_int_equal(plan.n_changed, 2);
	assert_int_equal(plan.n_removed, 0);
	assert_int_equal(plan.next.n, 3);

	/* a renamed (same prefixes and port), b removed, b6 stays */
	load("trunks = (\n"
	     "  { name = \"alpha\"; prefixes = [ \"10.0.0.0/24\" ]; max_concurrent = 10; cps = 45; "
	     "},\n"
	     "  { name = \"b6\"; prefixes = [ \"2001:db8:b::/48\" ]; max_concurrent = 10; port = "
	     "5080; cps = 5; }\n"
	     ");\n",
		&third);
	assert_int_equal(
		cfg_reload_plan(&plan.next, &new_cfg, &third, "t.conf", &plan2, err, sizeof(err)),
		0);
	assert_int_equal(slot_of(&plan2, &third, "alpha"), 0);
	assert_int_equal(change_of(&plan2, &third, "alpha"), CFG_TRUNK_RENAMED);
	assert_string_equal(plan2.was[0], "a");
	assert_int_equal(slot_of(&plan2, &third, "b6"), 2);
	assert_int_equal(change_of(&plan2, &third, "b6"), CFG_TRUNK_SAME);
	assert_int_equal(plan2.n_removed, 1);
	assert_true(plan2.removed[1]);
	assert_int_equal(plan2.next.state[1], SG_SLOT_REMOVED);
	assert_string_equal(plan2.next.name[1], "b");
	assert_string_equal(plan2.next.name[0], "alpha");

	/* b comes back: its old slot, not a new one; a new trunk takes slot 3 */
	load("trunks = (\n"
	     "  { name = \"alpha\"; prefixes = [ \"10.0.0.0/24\" ]; max_concurrent = 10; cps = 45; "
	     "},\n"
	     "  { name = \"c\"; prefixes = [ \"10.0.9.0/24\" ]; max_concurrent = 10; cps = 1; },\n"
	     "  { name = \"b\"; prefixes = [ \"10.0.1.0/24\" ]; max_concurrent = 10; port = 5080; "
	     "cps = 20; }\n"
	     ");\n",
		&new_cfg);
	assert_int_equal(
		cfg_reload_plan(&plan2.next, &third, &new_cfg, "t.conf", &plan, err, sizeof(err)),
		0);
	assert_int_equal(slot_of(&plan, &new_cfg, "b"), 1);
	assert_int_equal(change_of(&plan, &new_cfg, "b"), CFG_TRUNK_BACK);
	assert_int_equal(slot_of(&plan, &new_cfg, "c"), 3);
	assert_int_equal(plan.next.state[2], SG_SLOT_REMOVED); /* b6 */
	assert_int_equal(plan.next.n, 4);
}

static void
test_plan_ambiguous_rename_is_add(void **state)
{
	static struct cfg_reload_plan plan;
	struct cfg_slots cur;
	char err[512] = "";

	(void)state;
	/* two trunks with the same match can only differ by port: here both go */
	load("trunks = (\n"
	     "  { name = \"x\"; prefixes = [ \"10.1.0.0/24\" ]; max_concurrent = 10; port = 5060; "
	     "cps = 1; },\n"
	     "  { name = \"y\"; prefixes = [ \"10.2.0.0/24\" ]; max_concurrent = 10; cps = 1; }\n"
	     ");\n",
		&old_cfg);
	cfg_slots_init(&cur, &old_cfg);
	load("trunks = (\n"
	     "  { name = \"z\"; prefixes = [ \"10.1.0.0/24\" ]; max_concurrent = 10; port = 5070; "
	     "cps = 1; }\n"
	     ");\n",
		&new_cfg);
	assert_int_equal(
		cfg_reload_plan(&cur, &old_cfg, &new_cfg, "t.conf", &plan, err, sizeof(err)), 0);
	/* another port is other traffic: not a rename */
	assert_int_equal(plan.change[0], CFG_TRUNK_ADDED);
	assert_int_equal(plan.slot[0], 2);
	assert_int_equal(plan.n_removed, 2);
}

static void
test_plan_no_slot_left(void **state)
{
	static struct cfg_reload_plan plan;
	struct cfg_slots cur;
	char err[512] = "";
	uint32_t s;

	(void)state;
	load(base_text, &old_cfg);
	cfg_slots_init(&cur, &old_cfg);
	/* every other slot already used by trunks removed since start */
	for (s = 2; s < SG_MAX_TRUNKS; s++) {
		cur.state[s] = SG_SLOT_REMOVED;
		snprintf(cur.name[s], SG_TRUNK_NAME_MAX, "gone%u", s);
	}
	cur.n = SG_MAX_TRUNKS;
	load_edit("trunks = (\n",
		"trunks = (\n  { name = \"new\"; prefixes = [ \"10.9.0.0/24\" ]; max_concurrent = "
		"10; cps = 1; },\n",
		&new_cfg);
	assert_int_equal(
		cfg_reload_plan(&cur, &old_cfg, &new_cfg, "t.conf", &plan, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf: trunks[0] (new): no counter slot left"));
	/* a removed name coming back still fits */
	load_edit("trunks = (\n",
		"trunks = (\n  { name = \"gone7\"; prefixes = [ \"10.9.0.0/24\" ]; max_concurrent "
		"= 10; cps = 1; },\n",
		&new_cfg);
	assert_int_equal(
		cfg_reload_plan(&cur, &old_cfg, &new_cfg, "t.conf", &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.slot[0], 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_changes_pass),
		cmocka_unit_test(test_structural_refused),
		cmocka_unit_test(test_structural_refused_sizes),
		cmocka_unit_test(test_plan_slots),
		cmocka_unit_test(test_plan_rule_set_change),
		cmocka_unit_test(test_plan_ambiguous_rename_is_add),
		cmocka_unit_test(test_plan_no_slot_left),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
