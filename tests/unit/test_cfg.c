/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: the example file, defaults, and every error path. The
 * wrong-type and range tests walk cfg_sections[] so a new key is covered
 * as soon as it has a table row; a separate list written from the file
 * format reference catches a table row whose range drifted. The reference
 * documents themselves are compared with what the table renders, and the
 * example file's comments are held to the table.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "cfg_ref.h"
#include "sg_test_source.h"

#define T_NAME "t.conf"
#define T_TEXT_MAX 16384

static struct sg_config cfg;
static char err[512];

/* Load text; the error line, if any, must be one line. */
static int
load(const char *text)
{
	int r;

	memset(err, 'X', sizeof(err));
	r = cfg_load_buffer(text, strlen(text), T_NAME, &cfg, err, sizeof(err));
	if (strchr(err, '\n') != NULL)
		fail_msg("error spans lines: [%s]", err);
	if (r != 0 && err[0] == '\0')
		fail_msg("failed without an error for [%s]", text);
	if (r == 0 && err[0] != '\0')
		fail_msg("succeeded with an error [%s]", err);
	return r;
}

static void
assert_defaults(void)
{
	static struct sg_config d;

	cfg_defaults(&d);
	if (memcmp(&d, &cfg, sizeof(d)) != 0)
		fail_msg("config not reset to defaults after: %s", err);
}

/* Load must fail with exactly `want`, leaving the defaults. */
static void
expect_err(const char *text, const char *want)
{
	if (load(text) == 0)
		fail_msg("loaded, want error [%s] for:\n%s", want, text);
	if (strcmp(err, want) != 0)
		fail_msg("got  [%s]\nwant [%s]\nfor:\n%s", err, want, text);
	assert_defaults();
}

/* Load must fail naming the file, the line and the key. */
static void
expect_err_at(const char *text, unsigned int line, const char *key)
{
	char want[256];

	snprintf(want, sizeof(want), T_NAME ":%u: %s: ", line, key);
	if (load(text) == 0)
		fail_msg("loaded, want error [%s...] for:\n%s", want, text);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got  [%s]\nwant [%s...]\nfor:\n%s", err, want, text);
	assert_defaults();
}

static void
expect_ok(const char *text)
{
	if (load(text) != 0)
		fail_msg("error [%s] for:\n%s", err, text);
}

/*
 * A config with one section holding one key set to `value`, plus a valid
 * value for every other required key of the section. Returns the line of
 * the key under test; label gets its name as errors spell it.
 */
static unsigned int
build(const struct cfg_section *sec, const char *key, const char *value, char *text, size_t len,
	char *label, size_t llen)
{
	const struct cfg_key *k;
	size_t off = 0;
	unsigned int line = 3;

	off += snprintf(text + off, len - off, "# generated\n\n%s = %s\n", sec->name,
		sec->max_n == 0 ? "{" : "( {");
	for (k = sec->keys; k->name != NULL; k++) {
		if (!(k->flags & CFG_F_REQUIRED) || strcmp(k->name, key) == 0)
			continue;
		line++;
		switch (k->type) {
		case CFG_T_U16:
		case CFG_T_U32:
			off += snprintf(
				text + off, len - off, "  %s = %" PRId64 ";\n", k->name, k->min);
			break;
		case CFG_T_U16_LIST:
			off += snprintf(text + off, len - off, "  %s = [ %" PRId64 " ];\n", k->name,
				k->min);
			break;
		case CFG_T_NAME:
		case CFG_T_STRING:
		case CFG_T_TEXT:
			off += snprintf(text + off, len - off, "  %s = \"t\";\n", k->name);
			break;
		case CFG_T_ENUM:
			off += snprintf(
				text + off, len - off, "  %s = \"%s\";\n", k->name, k->choices[0]);
			break;
		case CFG_T_PREFIX_LIST:
			off += snprintf(
				text + off, len - off, "  %s = [ \"10.0.0.0/8\" ];\n", k->name);
			break;
		}
	}
	line++;
	off += snprintf(text + off, len - off, "  %s = %s;\n%s;\n", key, value,
		sec->max_n == 0 ? "}" : "} )");
	assert_true(off < len);
	/* a trunk's rule set must exist: give it one (loaded after the trunk) */
	if (strcmp(sec->name, "trunks") == 0 && strcmp(key, "diagnosis") == 0)
		off += snprintf(text + off, len - off,
			"diagnosis = ( { name = \"t\"; class = \"other\"; pattern = \"t\"; "
			"set = %s; } );\n",
			value);
	assert_true(off < len);
	if (sec->max_n == 0)
		snprintf(label, llen, "%s.%s", sec->name, key);
	else if (sec->label_key != NULL && strcmp(sec->label_key, key) != 0)
		snprintf(label, llen, "%s[0] (t).%s", sec->name, key);
	else
		snprintf(label, llen, "%s[0].%s", sec->name, key);
	return line;
}

/* Where the key's field lives once the section's (first) group loaded. */
static void *
field_of(const struct cfg_section *sec, const struct cfg_key *k)
{
	return (char *)&cfg + sec->off + k->off;
}

static int64_t
stored(const struct cfg_section *sec, const struct cfg_key *k)
{
	if (k->type == CFG_T_U16)
		return *(uint16_t *)field_of(sec, k);
	return *(uint32_t *)field_of(sec, k);
}

static void
test_example_file(void **state)
{
	const char *root = getenv("MESON_SOURCE_ROOT");
	struct cfg_prefix p;
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/config/sipguard.conf", root != NULL ? root : "..");
	if (cfg_load(path, &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.dp.n_sip_ports, 2);
	assert_int_equal(cfg.dp.sip_ports[0], 5060);
	assert_int_equal(cfg.dp.sip_ports[1], 5080);
	assert_int_equal(cfg.dp.retrans_entries, 65536);
	assert_int_equal(cfg.dp.retrans_window_s, 32);
	assert_int_equal(cfg.dp.mbufs, 8191);
	assert_int_equal(cfg.dp.burst, 64);
	assert_true(cfg.n_trunks >= 1);
	assert_string_equal(cfg.trunks[0].name, "carrier-a");
	assert_int_equal(cfg.trunks[0].n_prefixes, 2);
	assert_int_equal(cfg_parse_prefix("198.51.100.10/32", &p), 0);
	assert_memory_equal(&cfg.trunks[0].prefixes[0], &p, sizeof(p));
	assert_int_equal(cfg_parse_prefix("2001:db8:a::/48", &p), 0);
	assert_memory_equal(&cfg.trunks[0].prefixes[1], &p, sizeof(p));
	assert_int_equal(cfg.trunks[0].port, 5060);
	assert_int_equal(cfg.trunks[0].cps, 30);
	assert_int_equal(cfg.trunks[0].max_concurrent, 300);
}

static void
test_defaults(void **state)
{
	static const char *const empty[] = {
		"",
		"# nothing but a comment\n",
		"dataplane = { };",
		"dataplane = { };\ntrunks = ( );",
		"trunks = [ ];",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		memset(&cfg, 0xa5, sizeof(cfg));
		expect_ok(empty[i]);
		/* The documented defaults, written out rather than read from the table. */
		assert_int_equal(cfg.dp.n_sip_ports, 2);
		assert_int_equal(cfg.dp.sip_ports[0], 5060);
		assert_int_equal(cfg.dp.sip_ports[1], 5080);
		assert_int_equal(cfg.dp.retrans_entries, 65536);
		assert_int_equal(cfg.dp.retrans_window_s, 32);
		assert_int_equal(cfg.dp.mbufs, 8191);
		assert_int_equal(cfg.dp.burst, 64);
		assert_int_equal(cfg.dp.rx_desc, 1024);
		assert_int_equal(cfg.dp.ring_size, 4096);
		assert_int_equal(cfg.dp.publish_ms, 100);
		assert_int_equal(cfg.dp.dialog_entries, 65536);
		assert_int_equal(cfg.dp.dialog_timeout_s, 7200);
		assert_string_equal(cfg.dp.lcores, "0@0,1@1");
		assert_string_equal(cfg.dp.file_prefix, "sipguard");
		assert_int_equal(cfg.n_ports, 0);
		assert_int_equal(cfg.n_trunks, 0);
		assert_defaults();
	}

	/* Keys left out keep their default next to keys that are set. */
	expect_ok("dataplane = { burst = 16; };\n"
		  "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 5;\n"
		  "             max_concurrent = 7; } );\n");
	assert_int_equal(cfg.dp.burst, 16);
	assert_int_equal(cfg.dp.mbufs, 8191);
	assert_int_equal(cfg.dp.n_sip_ports, 2);
	assert_int_equal(cfg.n_trunks, 1);
	assert_int_equal(cfg.trunks[0].port, 0);
	assert_int_equal(cfg.trunks[0].cps, 5);
	assert_int_equal(cfg.trunks[0].max_concurrent, 7);

	/* libconfig's other spellings: ':' and lists in parentheses, L suffix. */
	expect_ok("dataplane : { sip_ports = ( 5062, 5063 ); burst = 16L; mbufs = 0x7ff; }");
	assert_int_equal(cfg.dp.n_sip_ports, 2);
	assert_int_equal(cfg.dp.sip_ports[1], 5063);
	assert_int_equal(cfg.dp.burst, 16);
	assert_int_equal(cfg.dp.mbufs, 2047);
}

/* Every key: every wrong type, named with file, line, key and value. */
static void
test_table_wrong_types(void **state)
{
	static const struct {
		enum cfg_type type;
		const char *value;
		const char *index; /* element the error names, "" for the key */
		const char *why;
	} cases[] = {
		{ CFG_T_U16, "\"x\"", "", "\"x\": expected an integer, got a string" },
		{ CFG_T_U16, "1.5", "", "\"1.5\": expected an integer, got a float" },
		{ CFG_T_U16, "true", "", "\"true\": expected an integer, got a boolean" },
		{ CFG_T_U16, "[ 1 ]", "", "\"[...]\": expected an integer, got an array" },
		{ CFG_T_U16, "{ a = 1; }", "", "\"{...}\": expected an integer, got a group" },
		{ CFG_T_U32, "\"x\"", "", "\"x\": expected an integer, got a string" },
		{ CFG_T_U32, "1.5", "", "\"1.5\": expected an integer, got a float" },
		{ CFG_T_U32, "false", "", "\"false\": expected an integer, got a boolean" },
		{ CFG_T_U32, "( 1 )", "", "\"(...)\": expected an integer, got a list" },
		{ CFG_T_U16_LIST, "5", "", "\"5\": expected a list, got an integer" },
		{ CFG_T_U16_LIST, "\"5\"", "", "\"5\": expected a list, got a string" },
		{ CFG_T_U16_LIST, "[ \"x\" ]", "[0]", "\"x\": expected an integer, got a string" },
		{ CFG_T_U16_LIST, "( 5, 2.5 )", "[1]",
			"\"2.5\": expected an integer, got a float" },
		{ CFG_T_NAME, "5", "", "\"5\": expected a string, got an integer" },
		{ CFG_T_ENUM, "1", "", "\"1\": expected a string, got an integer" },
		{ CFG_T_ENUM, "[ \"a\" ]", "", "\"[...]\": expected a string, got an array" },
		{ CFG_T_NAME, "[ \"a\" ]", "", "\"[...]\": expected a string, got an array" },
		{ CFG_T_PREFIX_LIST, "\"10.0.0.0/8\"", "",
			"\"10.0.0.0/8\": expected a list, got a string" },
		{ CFG_T_PREFIX_LIST, "[ 5 ]", "[0]", "\"5\": expected a string, got an integer" },
		{ CFG_T_PREFIX_LIST, "( \"10.0.0.0/8\", { } )", "[1]",
			"\"{...}\": expected a string, got a group" },
	};
	const struct cfg_section *sec;
	const struct cfg_key *k;
	char text[T_TEXT_MAX], label[128], want[512];
	unsigned int line, tested = 0;
	size_t i;

	(void)state;
	for (sec = cfg_sections; sec->name != NULL; sec++) {
		for (k = sec->keys; k->name != NULL; k++) {
			assert_true(k - sec->keys < 64);
			for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
				if (cases[i].type != k->type)
					continue;
				line = build(sec, k->name, cases[i].value, text, sizeof(text),
					label, sizeof(label));
				snprintf(want, sizeof(want), T_NAME ":%u: %s%s: %s", line, label,
					cases[i].index, cases[i].why);
				expect_err(text, want);
				tested++;
			}
		}
	}
	/* Every key of the two sections met at least two wrong types. */
	assert_true(tested >= 2 * 10);
}

/* A listen address: both families and "off" load; anything else names the key. */
static void
test_listen_key(const struct cfg_section *sec, const struct cfg_key *k)
{
	static const char *const good[] = { "\"127.0.0.1:1\"", "\"[::1]:65535\"",
		"\"0.0.0.0:9471\"", "\"off\"", "\"\"" };
	static const char *const bad[] = { "\"nnnn\"", "\"127.0.0.1:0\"", "\"127.0.0.1:65536\"",
		"\"localhost:9471\"", "\"::1:9471\"", "\"[::1]\"", "\"127.0.0.1:\"",
		"\"1.2.3.4:80x\"" };
	char text[T_TEXT_MAX], label[128];
	unsigned int i, line;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		build(sec, k->name, good[i], text, sizeof(text), label, sizeof(label));
		expect_ok(text);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		line = build(sec, k->name, bad[i], text, sizeof(text), label, sizeof(label));
		expect_err_at(text, line, label);
		assert_non_null(strstr(err, "not ADDR:PORT"));
	}
}

/* Every key: just inside loads and is stored, just outside is refused. */
static void
test_table_ranges(void **state)
{
	const struct cfg_section *sec;
	const struct cfg_key *k;
	char text[T_TEXT_MAX], label[128], want[512], value[4096];
	unsigned int line, i;
	size_t off;

	(void)state;
	for (sec = cfg_sections; sec->name != NULL; sec++) {
		for (k = sec->keys; k->name != NULL; k++) {
			switch (k->type) {
			case CFG_T_U16:
			case CFG_T_U32:
				snprintf(value, sizeof(value), "%" PRId64, k->min);
				build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				expect_ok(text);
				assert_int_equal(stored(sec, k), k->min);
				snprintf(value, sizeof(value), "%" PRId64, k->max);
				build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				expect_ok(text);
				assert_int_equal(stored(sec, k), k->max);
				snprintf(value, sizeof(value), "%" PRId64, k->min - 1);
				line = build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s: \"%" PRId64 "\": out of range %" PRId64
					       "..%" PRId64,
					line, label, k->min - 1, k->min, k->max);
				expect_err(text, want);
				snprintf(value, sizeof(value), "%" PRId64, k->max + 1);
				line = build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s: \"%" PRId64 "\": out of range %" PRId64
					       "..%" PRId64,
					line, label, k->max + 1, k->min, k->max);
				expect_err(text, want);
				break;
			case CFG_T_U16_LIST:
				/* Elements: bounds, then one past each. */
				snprintf(value, sizeof(value), "[ %" PRId64 ", %" PRId64 " ]",
					k->min, k->max);
				build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				expect_ok(text);
				assert_int_equal(
					*(uint32_t *)((char *)&cfg + sec->off + k->count_off), 2);
				assert_int_equal(((uint16_t *)field_of(sec, k))[0], k->min);
				assert_int_equal(((uint16_t *)field_of(sec, k))[1], k->max);
				snprintf(value, sizeof(value), "[ %" PRId64 " ]", k->min - 1);
				line = build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s[0]: \"%" PRId64 "\": out of range %" PRId64
					       "..%" PRId64,
					line, label, k->min - 1, k->min, k->max);
				expect_err(text, want);
				snprintf(value, sizeof(value), "[ %" PRId64 ", %" PRId64 " ]",
					k->min, k->max + 1);
				line = build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s[1]: \"%" PRId64 "\": out of range %" PRId64
					       "..%" PRId64,
					line, label, k->max + 1, k->min, k->max);
				expect_err(text, want);
				/* Counts: max_n loads, max_n + 1 is too many. */
				for (i = 0, off = 0; i <= k->max_n; i++)
					off += snprintf(value + off, sizeof(value) - off,
						"%s%" PRId64, i == 0 ? "[ " : ", ", k->min + i);
				snprintf(value + off, sizeof(value) - off, " ]");
				line = build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s: \"%" PRIu32
					       " entries\": too many, at most %" PRIu32,
					line, label, k->max_n + 1, k->max_n);
				expect_err(text, want);
				*strrchr(value, ',') = '\0';
				strcat(value, " ]");
				build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				expect_ok(text);
				assert_int_equal(
					*(uint32_t *)((char *)&cfg + sec->off + k->count_off),
					k->max_n);
				if (k->min_n > 0) {
					line = build(sec, k->name, "[ ]", text, sizeof(text), label,
						sizeof(label));
					snprintf(want, sizeof(want),
						T_NAME
						":%u: %s: \"0 entries\": needs at least %" PRIu32,
						line, label, k->min_n);
					expect_err(text, want);
				}
				break;
			case CFG_T_NAME:
			case CFG_T_STRING:
			case CFG_T_TEXT:
				if (k->flags & CFG_F_LISTEN) {
					test_listen_key(sec, k);
					break;
				}
				memset(value, 0, sizeof(value));
				value[0] = '"';
				memset(value + 1, 'n', (size_t)k->max);
				strcat(value, "\"");
				build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				expect_ok(text);
				assert_int_equal(strlen((char *)field_of(sec, k)), k->max);
				memset(value + 1, 'n', (size_t)k->max + 1);
				strcat(value, "\"");
				line = build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				expect_err_at(text, line, label);
				assert_non_null(strstr(err, "characters"));
				line = build(sec, k->name, "\"\"", text, sizeof(text), label,
					sizeof(label));
				if (k->min == 0) {
					/* an empty string turns an optional feature off */
					expect_ok(text);
					break;
				}
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s: \"\": must be %" PRId64 "..%" PRId64
					       " characters",
					line, label, k->min, k->max);
				expect_err(text, want);
				break;
			case CFG_T_ENUM: {
				char list[256];
				size_t loff = 0;

				/* every name loads as its index; anything else lists them */
				for (i = 0; k->choices[i] != NULL; i++) {
					snprintf(value, sizeof(value), "\"%s\"", k->choices[i]);
					build(sec, k->name, value, text, sizeof(text), label,
						sizeof(label));
					expect_ok(text);
					assert_int_equal(*(uint32_t *)field_of(sec, k), i);
					loff += (size_t)snprintf(list + loff, sizeof(list) - loff,
						"%s\"%s\"", i == 0 ? "" : ", ", k->choices[i]);
				}
				assert_true(i >= 2);
				line = build(sec, k->name, "\"Linewalk\"", text, sizeof(text),
					label, sizeof(label));
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s: \"Linewalk\": must be one of %s", line,
					label, list);
				expect_err(text, want);
				break;
			}
			case CFG_T_PREFIX_LIST:
				for (i = 0, off = 0; i <= k->max_n; i++)
					off += snprintf(value + off, sizeof(value) - off,
						"%s\"10.%u.0.0/16\"", i == 0 ? "[ " : ", ", i);
				snprintf(value + off, sizeof(value) - off, " ]");
				line = build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s: \"%" PRIu32
					       " entries\": too many, at most %" PRIu32,
					line, label, k->max_n + 1, k->max_n);
				expect_err(text, want);
				*strrchr(value, ',') = '\0';
				strcat(value, " ]");
				build(sec, k->name, value, text, sizeof(text), label,
					sizeof(label));
				expect_ok(text);
				assert_int_equal(
					*(uint32_t *)((char *)&cfg + sec->off + k->count_off),
					k->max_n);
				line = build(sec, k->name, "[ ]", text, sizeof(text), label,
					sizeof(label));
				if (k->min_n == 0) {
					/* an empty list is a value of its own (hep.allow: none) */
					expect_ok(text);
					assert_int_equal(*(uint32_t *)((char *)&cfg + sec->off +
								 k->count_off),
						0);
					break;
				}
				snprintf(want, sizeof(want),
					T_NAME ":%u: %s: \"0 entries\": needs at least %" PRIu32,
					line, label, k->min_n);
				expect_err(text, want);
				break;
			}
		}
	}
}

/*
 * The ranges as the file format reference states them, independent of the
 * table: a row that drifts from the documentation fails here.
 */
static void
test_documented_ranges(void **state)
{
	static const struct {
		const char *fmt; /* config with one %lld */
		const char *key; /* as errors name it */
		long long min, max;
		size_t off, size;
	} spec[] = {
		{ "dataplane = { sip_ports = [ %lld ]; };", "dataplane.sip_ports[0]", 1, 65535,
			offsetof(struct sg_config, dp.sip_ports[0]), 2 },
		{ "dataplane = { retrans_entries = %lld; };", "dataplane.retrans_entries", 1024,
			16777216, offsetof(struct sg_config, dp.retrans_entries), 4 },
		{ "dataplane = { retrans_window = %lld; };", "dataplane.retrans_window", 1, 3600,
			offsetof(struct sg_config, dp.retrans_window_s), 4 },
		{ "dataplane = { mbufs = %lld; };", "dataplane.mbufs", 1023, 1048575,
			offsetof(struct sg_config, dp.mbufs), 4 },
		{ "dataplane = { mbuf_size = %lld; };", "dataplane.mbuf_size", 2048, 65000,
			offsetof(struct sg_config, dp.mbuf_size), 4 },
		{ "dataplane = { burst = %lld; };", "dataplane.burst", 1, 512,
			offsetof(struct sg_config, dp.burst), 4 },
		{ "decap = { max_depth = %lld; };", "decap.max_depth", 0, 8,
			offsetof(struct sg_config, decap.max_depth), 4 },
		{ "decap = { vxlan_port = %lld; };", "decap.vxlan_port", 0, 65535,
			offsetof(struct sg_config, decap.vxlan_port), 2 },
		{ "fragments = { entries = %lld; };", "fragments.entries", 64, 262144,
			offsetof(struct sg_config, frag.entries), 4 },
		{ "fragments = { timeout = %lld; };", "fragments.timeout", 10, 60000,
			offsetof(struct sg_config, frag.timeout_ms), 4 },
		{ "streams = { flows = %lld; };", "streams.flows", 64, 4194304,
			offsetof(struct sg_config, streams.flows), 4 },
		{ "streams = { buffers = %lld; };", "streams.buffers", 16, 1048576,
			offsetof(struct sg_config, streams.buffers), 4 },
		{ "streams = { buffer_size = %lld; };", "streams.buffer_size", 2048, 262144,
			offsetof(struct sg_config, streams.buffer_size), 4 },
		{ "streams = { idle_timeout = %lld; };", "streams.idle_timeout", 1, 86400,
			offsetof(struct sg_config, streams.idle_timeout_s), 4 },
		{ "streams = { gap_timeout = %lld; };", "streams.gap_timeout", 10, 600000,
			offsetof(struct sg_config, streams.gap_timeout_ms), 4 },
		{ "hep = { port = %lld; };", "hep.port", 0, 65535,
			offsetof(struct sg_config, hep.port), 2 },
		{ "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
		  " max_concurrent = 1; port = %lld; } );",
			"trunks[0] (a).port", 1, 65535, offsetof(struct sg_config, trunks[0].port),
			2 },
		{ "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = %lld;"
		  " max_concurrent = 1; } );",
			"trunks[0] (a).cps", 1, 100000, offsetof(struct sg_config, trunks[0].cps),
			4 },
		{ "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
		  " max_concurrent = %lld; } );",
			"trunks[0] (a).max_concurrent", 1, 10000000,
			offsetof(struct sg_config, trunks[0].max_concurrent), 4 },
	};
	char text[512];
	long long v;
	uint32_t got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		long long probe[] = { spec[i].min, spec[i].max, spec[i].min - 1, spec[i].max + 1 };
		unsigned int j;

		for (j = 0; j < 4; j++) {
			v = probe[j];
			snprintf(text, sizeof(text), spec[i].fmt, v);
			if (j >= 2) {
				expect_err_at(text, 1, spec[i].key);
				assert_non_null(strstr(err, "out of range"));
				continue;
			}
			expect_ok(text);
			if (spec[i].size == 2)
				got = *(uint16_t *)((char *)&cfg + spec[i].off);
			else
				got = *(uint32_t *)((char *)&cfg + spec[i].off);
			assert_int_equal(got, v);
		}
	}
}

/* The HEP collector's agents and key: who may feed captures in. */
static void
test_hep_section(void **state)
{
	struct cfg_prefix p;

	(void)state;
	expect_ok("");
	assert_int_equal(cfg.hep.port, 9060);
	assert_int_equal(cfg.hep.n_allow, 0);
	assert_string_equal(cfg.hep.auth_key, "");
	expect_ok("hep = { allow = [ \"192.0.2.10/32\", \"2001:db8::/32\" ];\n"
		  "  auth_key = \"s3cret-key\"; };");
	assert_int_equal(cfg.hep.n_allow, 2);
	assert_int_equal(cfg_parse_prefix("192.0.2.10/32", &p), 0);
	assert_memory_equal(&cfg.hep.allow[0], &p, sizeof(p));
	assert_int_equal(cfg_parse_prefix("2001:db8::/32", &p), 0);
	assert_memory_equal(&cfg.hep.allow[1], &p, sizeof(p));
	assert_string_equal(cfg.hep.auth_key, "s3cret-key");
	expect_err_at("\nhep = { allow = [ \"192.0.2.300/32\" ]; };", 2, "hep.allow[0]");
	expect_err_at("hep = {\n allow = [ \"192.0.2.1/24\" ]; };", 2, "hep.allow[0]");
	expect_err_at("hep = { allow = [ \"10.0.0.0/8\", \"10.0.0.0/8\" ]; };", 1, "hep.allow[1]");
	expect_err_at("hep = { auth_key = \"has space\"; };", 1, "hep.auth_key");
	expect_err_at("hep = { auth_key = 5; };", 1, "hep.auth_key");
	expect_err_at("hep = { bogus = 1; };", 1, "hep.bogus");
	expect_err_at("streams = { flows = \"many\"; };", 1, "streams.flows");
}

/* The fleet: Redis, this edge, and trunks naming the account they share. */
static void
test_fleet_section(void **state)
{
	static const char trunk[] = "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.1\" ];\n"
				    "  cps = 30; max_concurrent = 300; account = \"acme\"; } );\n";
	char text[1024];

	(void)state;
	expect_ok("");
	assert_string_equal(cfg.fleet.redis, "");
	assert_int_equal(cfg.fleet.ttl_s, 5);
	assert_int_equal(cfg.fleet.round_timeout_ms, 300);
	assert_int_equal(cfg.fleet.min_share, 1);
	assert_int_equal(cfg.fleet.expected_edges, 1);
	assert_int_equal(cfg.fleet.headroom_pct, 5);
	snprintf(text, sizeof(text),
		"fleet = { redis = \"/run/redis.sock\"; password = \"pw\"; edge = \"e1\";\n"
		"  name = \"f\"; ttl = 7; headroom = 0; };\n%s",
		trunk);
	expect_ok(text);
	assert_string_equal(cfg.fleet.redis, "/run/redis.sock");
	assert_string_equal(cfg.fleet.password, "pw");
	assert_string_equal(cfg.fleet.edge, "e1");
	assert_string_equal(cfg.fleet.name, "f");
	assert_int_equal(cfg.fleet.ttl_s, 7);
	assert_int_equal(cfg.fleet.headroom_pct, 0);
	assert_string_equal(cfg.trunks[0].account, "acme");
	/* without Redis the account is kept, and the trunk stays alone */
	expect_ok(trunk);
	assert_string_equal(cfg.trunks[0].account, "acme");
	/* one trunk per account */
	snprintf(text, sizeof(text),
		"fleet = { redis = \"127.0.0.1:6379\"; edge = \"e1\"; };\n"
		"trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.1\" ]; cps = 3;\n"
		"  max_concurrent = 3; account = \"x\"; },\n"
		"{ name = \"b\"; prefixes = [ \"10.0.0.2\" ]; cps = 3;\n"
		"  max_concurrent = 3; account = \"x\"; } );\n");
	expect_err(text,
		"t.conf:4: trunks[1] (b).account: \"x\": also the account of trunks[0] "
		"(a): one trunk per account on an edge");
	expect_err_at("fleet = { edge = \"has space\"; };", 1, "fleet.edge");
	expect_err_at("fleet = { ttl = 1; };", 1, "fleet.ttl");
	expect_err_at("fleet = { headroom = 51; };", 1, "fleet.headroom");
}

static void
test_required_keys(void **state)
{
	static const char *const required[] = { "name", "prefixes", "cps", "max_concurrent" };
	static const char *const lines[] = {
		"    name = \"carrier-b\";\n",
		"    prefixes = [ \"10.0.0.0/8\" ];\n",
		"    cps = 1;\n",
		"    max_concurrent = 1;\n",
	};
	char text[1024], want[256];
	size_t i, j, off;

	(void)state;
	for (i = 0; i < 4; i++) {
		off = snprintf(text, sizeof(text), "# one trunk\ntrunks = (\n  {\n");
		for (j = 0; j < 4; j++) {
			if (j != i)
				off += snprintf(text + off, sizeof(text) - off, "%s", lines[j]);
		}
		snprintf(text + off, sizeof(text) - off, "  }\n);\n");
		/* Reported at the trunk's opening brace, line 3. */
		snprintf(want, sizeof(want), T_NAME ":3: trunks[0]%s.%s: required key missing",
			i == 0 ? "" : " (carrier-b)", required[i]);
		expect_err(text, want);
	}
	/* port is optional: absent means any port. */
	expect_ok("trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
		  " max_concurrent = 1; } );");
	assert_int_equal(cfg.trunks[0].port, 0);
}

static void
test_unknown_and_misplaced(void **state)
{
	(void)state;
	expect_err("dataplane = {\n  burst = 32;\n  bogus = 1;\n};\n",
		T_NAME ":3: dataplane.bogus: unknown key");
	expect_err("trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;\n"
		   " max_concurrent = 1; },\n { name = \"b\";\n   colour = \"red\"; } );\n",
		T_NAME ":4: trunks[1] (b).colour: unknown key");
	/* A key of one section is unknown in another. */
	expect_err("trunks = ( { name = \"a\"; burst = 32; } );",
		T_NAME ":1: trunks[0] (a).burst: unknown key");
	expect_err("\n\ntelemetry = { };\n", T_NAME ":3: telemetry: unknown section");
	expect_err("burst = 32;", T_NAME ":1: burst: unknown section");
	expect_err(
		"dataplane = 5;", T_NAME ":1: dataplane: \"5\": expected a group, got an integer");
	expect_err("dataplane = ( );",
		T_NAME ":1: dataplane: \"(...)\": expected a group, got a list");
	expect_err("trunks = { };", T_NAME ":1: trunks: \"{...}\": expected a list, got a group");
	expect_err("trunks = \"a\";", T_NAME ":1: trunks: \"a\": expected a list, got a string");
	expect_err("trunks = (\n  { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
		   " max_concurrent = 1; },\n  \"b\"\n);",
		T_NAME ":3: trunks[1]: \"b\": expected a group, got a string");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	expect_err("dataplane = {\n  burst = 32;\n\n  mbufs = ;\n};\n", T_NAME ":4: syntax error");
	expect_err("# a\n# b\ntrunks = ( { name = \"a\" } ", T_NAME ":3: syntax error");
	/* libconfig's own checks keep its wording and line. */
	expect_err("dataplane = {\n  burst = 1;\n  burst = 2;\n};",
		T_NAME ":3: duplicate setting name");
	expect_err("dataplane = {\n  sip_ports = [ 5060,\n \"x\" ];\n};",
		T_NAME ":3: mismatched element type in array");
	expect_err("dataplane = { };\ndataplane = { };", T_NAME ":2: duplicate setting name");
	expect_err("dataplane = { burst = -0x1; };", T_NAME ":1: syntax error");
	/* Lines count through multi-line strings and comments. */
	expect_err("/* one\n two */ trunks = ( { name = \"a\n\"; } );\nx = ;",
		T_NAME ":4: syntax error");
	/* What libconfig would pass over in silence. */
	expect_err("dataplane = { burst = 8; };\n/* trunks = ( );\n\n",
		T_NAME ":2: unterminated comment");
	expect_err("dataplane = { burst = 8; };\ntrunks = ( { name = \"a\" \"b\n );",
		T_NAME ":2: unterminated string");
	expect_err("@include \"/etc/passwd\"\n", T_NAME ":1: @include: not supported");
	expect_err("# x\n  @include \"sub.conf\"\n", T_NAME ":2: @include: not supported");
}

/* Every error names the line of the value, wherever the next token is. */
static void
test_line_numbers(void **state)
{
	(void)state;
	/* The last string of a multi-line list, followed by blank and comment lines. */
	expect_err("trunks = (\n"
		   "  {\n"
		   "    name = \"a\";\n"
		   "    prefixes = [\n"
		   "      \"10.0.0.0/8\",\n"
		   "      \"10.0.0.1/8\"\n"
		   "\n"
		   "      # end of list\n"
		   "    ];\n"
		   "    cps = 1; max_concurrent = 1;\n"
		   "  }\n"
		   ");\n",
		T_NAME ":6: trunks[0] (a).prefixes[1]: \"10.0.0.1/8\": host bits set, did you "
		       "mean 10.0.0.0/8");
	/* Strings written side by side are one value, at the line it starts. */
	expect_err("trunks = (\n  { name = \"a\"\n \"b c\";\n\n } );",
		T_NAME ":2: trunks[0].name: \"ab c\": bad character ' ' at 3, use [A-Za-z0-9_.-]");
	expect_err("dataplane = {\n  sip_ports = [ 5060,\n 0x1F ];\n  burst = 0;\n};",
		T_NAME ":4: dataplane.burst: \"0\": out of range 1..512");
	/* A comment may end the text without a newline. */
	expect_ok("dataplane = { burst = 8; }; # last line");
	assert_int_equal(cfg.dp.burst, 8);
	expect_ok("dataplane = { burst = 9; }; // last line");
	assert_int_equal(cfg.dp.burst, 9);
}

static void
test_big_integers(void **state)
{
	(void)state;
	/* libconfig alone would wrap this to 65536, a valid value. */
	expect_err("dataplane = { retrans_entries = 4295032832; };",
		T_NAME
		":1: dataplane.retrans_entries: \"4295032832\": out of range 1024..16777216");
	expect_err("dataplane = { retrans_entries = 0x100010000; };",
		T_NAME
		":1: dataplane.retrans_entries: \"4295032832\": out of range 1024..16777216");
	expect_err("dataplane = { burst = -2147483649; };",
		T_NAME ":1: dataplane.burst: \"-2147483649\": out of range 1..512");
	expect_err("dataplane = {\n burst = 99999999999999999999999;\n};",
		T_NAME ":2: dataplane.burst: \"99999999999999999999999\": out of range 1..512");
	expect_err("dataplane = { burst = -99999999999999999999999; };",
		T_NAME ":1: dataplane.burst: \"-99999999999999999999999\": out of range 1..512");
	expect_err("dataplane = { burst = 0xFFFFFFFFFFFFFFFFFF; };",
		T_NAME ":1: dataplane.burst: \"0xFFFFFFFFFFFFFFFFFF\": out of range 1..512");
	/* Arrays hold one type: a wide element must not make the array invalid. */
	expect_err("dataplane = { sip_ports = [ 5060, 4294972356 ]; };",
		T_NAME ":1: dataplane.sip_ports[1]: \"4294972356\": out of range 1..65535");
	expect_err("dataplane = { sip_ports = [ 99999999999999999999, 5060 ]; };",
		T_NAME
		":1: dataplane.sip_ports[0]: \"99999999999999999999\": out of range 1..65535");
	expect_err("trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
		   " max_concurrent = 4294967297L; } );",
		T_NAME
		":1: trunks[0] (a).max_concurrent: \"4294967297\": out of range 1..10000000");
	/* Digits inside names, strings and comments are left alone. */
	expect_ok("# 99999999999999999999999\n"
		  "trunks = ( { name = \"x99999999999999999999\"; prefixes = [ \"10.0.0.0/8\" ];\n"
		  "  cps = 00012; max_concurrent = 1; } );\n");
	assert_string_equal(cfg.trunks[0].name, "x99999999999999999999");
	assert_int_equal(cfg.trunks[0].cps, 12);
}

static void
test_sip_ports(void **state)
{
	(void)state;
	expect_err("dataplane = {\n  sip_ports = [ 5060, 5080,\n    5060 ];\n};",
		T_NAME ":3: dataplane.sip_ports[2]: \"5060\": duplicate of dataplane.sip_ports[0]");
	expect_err("dataplane = { sip_ports = [ 0 ]; };",
		T_NAME ":1: dataplane.sip_ports[0]: \"0\": out of range 1..65535");
	expect_ok("dataplane = { sip_ports = [ 1, 65535 ]; };");
	assert_int_equal(cfg.dp.n_sip_ports, 2);
	assert_int_equal(cfg.dp.sip_ports[1], 65535);
}

static void
test_names(void **state)
{
	static const char *const bad[] = { "a b", "a/b", "tr\303\274nk", "a\\tb", "a:b", "(x)" };
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			"trunks = (\n  { name = \"%s\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
			" max_concurrent = 1; }\n);",
			bad[i]);
		/* Invalid names do not label the trunk. */
		expect_err_at(text, 2, "trunks[0].name");
		assert_non_null(strstr(err, "bad character"));
	}
	expect_err("trunks = ( { name = \"a b\"; } );",
		T_NAME ":1: trunks[0].name: \"a b\": bad character ' ' at 2, use [A-Za-z0-9_.-]");
	/* A control character is escaped: the error stays one line. */
	expect_err("trunks = ( { name = \"a\\nb\"; } );",
		T_NAME
		":1: trunks[0].name: \"a\\nb\": bad character 0x0a at 2, use [A-Za-z0-9_.-]");
	expect_err("trunks = ( { name = \"q\\\"q\"; } );",
		T_NAME
		":1: trunks[0].name: \"q\\\"q\": bad character '\"' at 2, use [A-Za-z0-9_.-]");
	expect_ok("trunks = ( { name = \"Carrier_1.eu-west\"; prefixes = [ \"10.0.0.0/8\" ];"
		  " cps = 1; max_concurrent = 1; } );");
	assert_string_equal(cfg.trunks[0].name, "Carrier_1.eu-west");

	expect_err(
		"trunks = (\n"
		"  { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1; max_concurrent = 1; },\n"
		"  { name = \"b\"; prefixes = [ \"10.1.0.0/16\" ]; cps = 1; max_concurrent = 1; "
		"},\n"
		"  { prefixes = [ \"10.2.0.0/16\" ]; cps = 1; max_concurrent = 1;\n"
		"    name = \"a\"; }\n"
		");",
		T_NAME ":5: trunks[2] (a).name: \"a\": duplicate name, also trunks[0]");
	/* Names are compared exactly. */
	expect_ok(
		"trunks = (\n"
		"  { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1; max_concurrent = 1; },\n"
		"  { name = \"A\"; prefixes = [ \"10.1.0.0/16\" ]; cps = 1; max_concurrent = 1; }\n"
		");");
	assert_int_equal(cfg.n_trunks, 2);
}

static void
test_parse_prefix(void **state)
{
	static const char *const bad[] = {
		"",
		"/8",
		"10.0.0.300/8",
		"10.0.0.0/33",
		"::/129",
		"10.0.0.0/",
		"10.0.0.0/x",
		"10.0.0.0/-1",
		"10.0.0.0/ 8",
		"10.0.0.0/+8",
		"10.0.0.0/8 ",
		" 10.0.0.0/8",
		"10.1/8",
		"010.0.0.0/8",
		"2001:db8::/32/1",
		"fe80::1%eth0",
		"2001:db8::g/32",
		"10.0.0.0/0008",
		"10.0.0.1/8",
		"2001:db8::1/32",
		"10.0.0.0/99999999999999999999",
		"::ffff:1.2.3.4/200",
		"2001:db8:0:0:0:0:0:0:0/32",
		"a.b.c.d",
	};
	struct cfg_prefix p;
	char buf[64];
	size_t i;

	(void)state;
	assert_int_equal(cfg_parse_prefix("10.1.2.0/24", &p), 0);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.depth, 24);
	assert_memory_equal(p.addr, "\x0a\x01\x02\x00", 4);
	assert_memory_equal(p.addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);

	assert_int_equal(cfg_parse_prefix("192.0.2.7", &p), 0);
	assert_int_equal(p.depth, 32);
	assert_int_equal(cfg_parse_prefix("2001:db8::1", &p), 0);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.depth, 128);
	assert_int_equal(p.addr[15], 1);
	assert_int_equal(cfg_parse_prefix("0.0.0.0/0", &p), 0);
	assert_int_equal(p.depth, 0);
	assert_int_equal(cfg_parse_prefix("::/0", &p), 0);
	assert_int_equal(cfg_parse_prefix("2001:db8:a::/48", &p), 0);
	assert_int_equal(p.depth, 48);
	assert_memory_equal(p.addr, "\x20\x01\x0d\xb8\x00\x0a\x00\x00", 8);
	assert_int_equal(cfg_parse_prefix("10.128.0.0/9", &p), 0);
	assert_int_equal(cfg_parse_prefix("::ffff:10.0.0.0/104", &p), 0);
	assert_int_equal(p.family, 6);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cfg_parse_prefix(bad[i], &p) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(cfg_parse_prefix(NULL, &p), -1);

	assert_int_equal(cfg_parse_prefix("2001:DB8:0:0::/32", &p), 0);
	assert_true(cfg_format_prefix(&p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "2001:db8::/32");
	assert_int_equal(cfg_parse_prefix("198.51.100.0/24", &p), 0);
	assert_true(cfg_format_prefix(&p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "198.51.100.0/24");
	p.family = 5;
	assert_int_equal(cfg_format_prefix(&p, buf, sizeof(buf)), -1);
}

static void
expect_prefix_err(const char *prefix, const char *why)
{
	char text[512], want[512];

	snprintf(text, sizeof(text),
		"trunks = (\n  {\n    name = \"a\";\n    prefixes = [ \"10.9.0.0/16\",\n"
		"                 \"%s\" ];\n    cps = 1; max_concurrent = 1;\n  }\n);\n",
		prefix);
	snprintf(want, sizeof(want), T_NAME ":5: trunks[0] (a).prefixes[1]: \"%s\": %s", prefix,
		why);
	expect_err(text, want);
}

static void
test_bad_prefixes(void **state)
{
	(void)state;
	expect_prefix_err("10.0.0.300/8", "not an IPv4 or IPv6 prefix");
	expect_prefix_err("10.1/8", "not an IPv4 or IPv6 prefix");
	expect_prefix_err("", "not an IPv4 or IPv6 prefix");
	expect_prefix_err("carrier.example.com", "not an IPv4 or IPv6 prefix");
	expect_prefix_err("2001:db8::zz/32", "not an IPv4 or IPv6 prefix");
	expect_prefix_err("fe80::1%eth0/64", "not an IPv4 or IPv6 prefix");
	expect_prefix_err("10.0.0.0/33", "prefix length out of range 0..32");
	expect_prefix_err("2001:db8::/129", "prefix length out of range 0..128");
	expect_prefix_err("10.0.0.0/1000", "prefix length out of range 0..32");
	expect_prefix_err("10.0.0.0/", "prefix length not a number 0..32");
	expect_prefix_err("10.0.0.0/8x", "prefix length not a number 0..32");
	expect_prefix_err("2001:db8::/-1", "prefix length not a number 0..128");
	expect_prefix_err("10.0.0.1/8", "host bits set, did you mean 10.0.0.0/8");
	expect_prefix_err("10.255.0.0/9", "host bits set, did you mean 10.128.0.0/9");
	expect_prefix_err("2001:db8::1/32", "host bits set, did you mean 2001:db8::/32");
	expect_prefix_err("1.2.3.4/0", "host bits set, did you mean 0.0.0.0/0");
	expect_prefix_err("10.9.0.0/16", "duplicate of trunks[0] (a).prefixes[0]");
	/* The same network written another way is still a duplicate. */
	expect_err("trunks = ( { name = \"a\"; cps = 1; max_concurrent = 1;\n"
		   "  prefixes = [ \"2001:db8::/32\", \"2001:0DB8:0::/32\" ]; } );",
		T_NAME ":2: trunks[0] (a).prefixes[1]: \"2001:0DB8:0::/32\": duplicate of "
		       "trunks[0] (a).prefixes[0]");
}

static void
test_ambiguous_trunks(void **state)
{
	static const char head[] =
		"trunks = (\n"
		"  { name = \"a\"; prefixes = [ \"10.0.0.0/8\", \"2001:db8::/32\" ]; cps = 1;\n"
		"    max_concurrent = 1; %s },\n"
		"  { name = \"b\"; cps = 1; max_concurrent = 1; %s\n"
		"    prefixes = [ \"192.0.2.0/24\", \"%s\" ]; }\n"
		");\n";
	char text[1024];

	(void)state;
	/* Both on any port. */
	snprintf(text, sizeof(text), head, "", "", "10.0.0.0/8");
	expect_err(text,
		T_NAME ":5: trunks[1] (b).prefixes[1]: \"10.0.0.0/8\": same prefix and "
		       "port as trunks[0] (a), ambiguous");
	/* Both on one port, and a v6 prefix spelled differently. */
	snprintf(text, sizeof(text), head, "port = 5060;", "port = 5060;", "2001:DB8::0/32");
	expect_err(text,
		T_NAME ":5: trunks[1] (b).prefixes[1]: \"2001:DB8::0/32\": same prefix "
		       "and port as trunks[0] (a), ambiguous");
	/* Different ports, any port against one port, nested prefixes: all fine. */
	snprintf(text, sizeof(text), head, "port = 5060;", "port = 5080;", "10.0.0.0/8");
	expect_ok(text);
	snprintf(text, sizeof(text), head, "", "port = 5080;", "10.0.0.0/8");
	expect_ok(text);
	snprintf(text, sizeof(text), head, "", "", "10.0.0.0/9");
	expect_ok(text);
	assert_int_equal(cfg.n_trunks, 2);
	assert_int_equal(cfg.trunks[1].n_prefixes, 2);
}

static void
test_too_many_trunks(void **state)
{
	static char text[T_TEXT_MAX];
	char want[256];
	size_t off;
	unsigned int i;

	(void)state;
	off = snprintf(text, sizeof(text), "trunks = (\n");
	for (i = 0; i <= SG_MAX_TRUNKS; i++)
		off += snprintf(text + off, sizeof(text) - off,
			"%s  { name = \"t%u\"; prefixes = [ \"10.%u.0.0/16\" ]; cps = 1; "
			"max_concurrent = 1; }\n",
			i == 0 ? "" : ",", i, i);
	snprintf(text + off, sizeof(text) - off, ");\n");
	assert_true(off < sizeof(text) - 8);
	/* Reported at the first trunk too many. */
	snprintf(want, sizeof(want), T_NAME ":%u: trunks: \"%u entries\": too many, at most %u",
		SG_MAX_TRUNKS + 2, SG_MAX_TRUNKS + 1, SG_MAX_TRUNKS);
	expect_err(text, want);

	/* Exactly the limit loads. */
	*strrchr(text, ',') = '\0';
	strcat(text, "\n);\n");
	expect_ok(text);
	assert_int_equal(cfg.n_trunks, SG_MAX_TRUNKS);
	assert_string_equal(cfg.trunks[SG_MAX_TRUNKS - 1].name, "t63");
}

/* An error in the last setting still leaves nothing of the file behind. */
static void
test_never_half_loaded(void **state)
{
	(void)state;
	expect_ok("dataplane = { burst = 7; };\n"
		  "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
		  " max_concurrent = 1; } );");
	assert_int_equal(cfg.n_trunks, 1);
	expect_err("dataplane = { burst = 7; sip_ports = [ 1 ]; };\n"
		   "trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
		   " max_concurrent = 1; } );\n"
		   "late = 1;",
		T_NAME ":3: late: unknown section");
	assert_int_equal(cfg.dp.burst, 64);
	assert_int_equal(cfg.n_trunks, 0);
	assert_string_equal(cfg.trunks[0].name, "");
}

static void
test_buffer_edges(void **state)
{
	static const char nul[] = "dataplane = {\n  burst = 3\0;\n};";
	struct sg_config c;
	char small[16];

	(void)state;
	memset(err, 'X', sizeof(err));
	assert_int_equal(cfg_load_buffer(nul, sizeof(nul) - 1, T_NAME, &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, T_NAME ":2: NUL byte in text");
	assert_defaults();

	/* Length, not the terminator, bounds the text. */
	assert_int_equal(cfg_load_buffer("dataplane = { burst = 7; }; junk", 27, T_NAME, &c, err,
				 sizeof(err)),
		0);
	assert_int_equal(c.dp.burst, 7);
	assert_int_equal(cfg_load_buffer(NULL, 0, T_NAME, &c, err, sizeof(err)), 0);

	/* Short or absent error buffers are cut, never overrun. */
	memset(small, 'X', sizeof(small));
	assert_int_equal(cfg_load_buffer("x = 1;", 6, T_NAME, &c, small, 8), -1);
	assert_string_equal(small, "t.conf:");
	assert_int_equal(small[8], 'X');
	assert_int_equal(cfg_load_buffer("x = 1;", 6, T_NAME, &c, NULL, 0), -1);
	assert_int_equal(cfg_load_buffer("x = 1;", 6, T_NAME, &c, small, 0), -1);
	assert_int_equal(small[0], 't');

	/* A long bad value is shown cut short. */
	expect_err_at("trunks = ( { name = \""
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		      "\"; } );",
		1, "trunks[0].name");
	assert_non_null(strstr(err, "...\": must be 1..31 characters"));

	/* Strings that look like directives are only strings. */
	expect_ok("trunks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; cps = 1;"
		  " max_concurrent = 1; } ); # @include \"x\"");
}

/* path: a buffer of at least 32 bytes. */
static void
write_tmp(char *path, const char *text)
{
	int fd;

	strcpy(path, "/tmp/sg_test_cfg_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_files(void **state)
{
	char want[512];
	char path[32];

	(void)state;
	assert_int_equal(cfg_load("missing.conf", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "missing.conf: cannot open: No such file or directory");
	assert_defaults();

	assert_int_equal(cfg_load("/", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/: cannot read: Is a directory");

	/* Lines and the path as given come through from a file too. */
	write_tmp(path, "# sipguard\ndataplane = {\n  burst = 1;\n  mbufs = 1;\n};\n");
	assert_int_equal(cfg_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: dataplane.mbufs: \"1\": out of range 1023..1048575",
		path);
	assert_string_equal(err, want);
	assert_defaults();
	unlink(path);

	write_tmp(path, "dataplane = {\n  burst = 1;\n\n  mbufs = ;\n};\n");
	assert_int_equal(cfg_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: syntax error", path);
	assert_string_equal(err, want);
	unlink(path);
}

/*
 * Root ignores file modes, so as root the load runs in a child that has
 * given up root first.
 */
static void
test_permission_denied(void **state)
{
	char got[512] = "", want[512];
	char path[32];
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	(void)state;
	write_tmp(path, "dataplane = { };\n");
	assert_int_equal(chmod(path, 0), 0);
	snprintf(want, sizeof(want), "%s: cannot open: Permission denied", path);
	if (geteuid() != 0) {
		assert_int_equal(cfg_load(path, &cfg, err, sizeof(err)), -1);
		assert_string_equal(err, want);
		unlink(path);
		return;
	}
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sg_config c;
		char e[512];

		close(fds[0]);
		if (setgid(65534) != 0 || setuid(65534) != 0)
			snprintf(e, sizeof(e), "SKIP");
		else if (cfg_load(path, &c, e, sizeof(e)) == 0)
			snprintf(e, sizeof(e), "LOADED");
		n = write(fds[1], e, strlen(e));
		_exit(n < 0);
	}
	close(fds[1]);
	n = read(fds[0], got, sizeof(got) - 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	assert_true(n > 0);
	got[n] = '\0';
	if (strcmp(got, "SKIP") == 0) {
		print_message("cannot drop root here; permission check skipped\n");
		skip();
	}
	assert_string_equal(got, want);
}

/* One section's generated block as the renderer writes it now. */
static char *
render_section(const struct cfg_section *sec, enum cfg_ref_format fmt)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(cfg_ref_section(f, sec, fmt), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Line number (1-based) of position pos in text. */
static unsigned int
line_of(const char *text, const char *pos)
{
	unsigned int line = 1;

	for (; text < pos; text++)
		line += *text == '\n';
	return line;
}

/*
 * The checked-in references hold, between marker lines, exactly what the
 * table renders now: a key, range or default changed in config/cfg.c
 * without scripts/config-reference fails here, naming the section.
 */
static void
check_reference_doc(const char *rel, enum cfg_ref_format fmt)
{
	char open[128], close[64];
	const struct cfg_section *sec;
	const char *start, *end, *p;
	unsigned int n_sec = 0, n_blocks = 0;
	char *doc, *want;
	size_t i;

	doc = read_source(rel);
	if (doc == NULL)
		fail_msg("%s: cannot read (is MESON_SOURCE_ROOT set?)", rel);
	snprintf(close, sizeof(close), "\n%s\n", cfg_ref_marker_close(fmt));
	for (sec = cfg_sections; sec->name != NULL; sec++) {
		n_sec++;
		open[0] = '\n';
		cfg_ref_marker_open(open + 1, sizeof(open) - 2, sec->name, fmt);
		strcat(open, "\n");
		start = strstr(doc, open);
		if (start == NULL)
			fail_msg("%s: no generated block for section \"%s\": add its marker lines "
				 "and run scripts/config-reference",
				rel, sec->name);
		start += strlen(open);
		/* The body ends with a newline: the close marker's own "\n" starts there. */
		end = strstr(start - 1, close);
		if (end == NULL)
			fail_msg("%s:%u: the block of section \"%s\" is not closed", rel,
				line_of(doc, start), sec->name);
		end++;
		want = render_section(sec, fmt);
		if (strlen(want) != (size_t)(end - start) ||
			memcmp(want, start, (size_t)(end - start)) != 0) {
			for (i = 0; start + i < end && want[i] != '\0' && want[i] == start[i]; i++)
				;
			fail_msg("%s:%u: the generated block of section \"%s\" differs from the "
				 "loader's table: run scripts/config-reference",
				rel, line_of(doc, start + i), sec->name);
		}
		free(want);
	}
	/* No block for a section the table no longer has. */
	for (p = doc; (p = strstr(p, "generated: keys of section ")) != NULL; p++)
		n_blocks++;
	if (n_blocks != n_sec)
		fail_msg("%s: %u generated blocks for %u sections: remove the blocks of sections "
			 "the table does not have",
			rel, n_blocks, n_sec);
	free(doc);
}

static void
test_reference_docs(void **state)
{
	(void)state;
	check_reference_doc("config/README.md", CFG_REF_MD);
	check_reference_doc("config/sipguard.conf.5", CFG_REF_MAN);
}

/* The plain-text reference names every key of every section. */
static void
test_reference_text(void **state)
{
	const struct cfg_section *sec;
	const struct cfg_key *k;
	char *text = NULL, line[128];
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(cfg_ref_write(f, CFG_REF_TEXT), 0);
	assert_int_equal(fclose(f), 0);
	for (sec = cfg_sections; sec->name != NULL; sec++) {
		snprintf(line, sizeof(line), "\n%s: ", sec->name);
		assert_non_null(strstr(text, line));
		for (k = sec->keys; k->name != NULL; k++) {
			snprintf(line, sizeof(line), "\n  %s\n      type:", k->name);
			if (strstr(text, line) == NULL)
				fail_msg("text reference lacks %s.%s", sec->name, k->name);
		}
	}
	free(text);
}

/*
 * Hold the example's comments to the table (see the example's header for
 * the forms): every "range LO..HI", "LO..HI chars" and "LO..HI entries" on
 * a key's line must be the key's limits, any other "N..M" is refused, and
 * in a section of one group each value must be the default unless the
 * comment says "not the default". Returns 0, or -1 with why (one line).
 */
static int
example_check(const char *text, char *why, size_t wlen)
{
	static struct sg_config got, def;
	const struct cfg_section *sec = NULL, *s;
	const struct cfg_key *k;
	char name[64], value[256], comment[512], snippet[1024], lerr[256];
	const char *p, *eol, *q;
	unsigned int line = 0;
	size_t n;

	cfg_defaults(&def);
	for (p = text; *p != '\0'; p = *eol != '\0' ? eol + 1 : eol) {
		bool in_str = false;
		const char *eq, *semi = NULL, *hash = NULL;

		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		line++;
		/* A section opens at column 0 and closes with "}" or ")" there. */
		if (*p == '}' || *p == ')') {
			sec = NULL;
			continue;
		}
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
		if (n == 0 && *p != ' ')
			continue;
		if (n > 0 && sec == NULL) {
			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			for (s = cfg_sections; s->name != NULL && strcmp(s->name, name) != 0; s++)
				;
			sec = s->name != NULL ? s : NULL;
			continue;
		}
		if (sec == NULL)
			continue;
		/* A key's line: "  key = value;   # comment". */
		q = p + strspn(p, " ");
		n = strspn(q, "abcdefghijklmnopqrstuvwxyz_0123456789");
		if (n == 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)n, q);
		eq = q + n + strspn(q + n, " ");
		if (*eq != '=')
			continue;
		for (q = eq + 1; q < eol; q++) {
			if (*q == '"')
				in_str = !in_str;
			else if (!in_str && *q == ';' && semi == NULL)
				semi = q;
			else if (!in_str && *q == '#') {
				hash = q;
				break;
			}
		}
		if (semi == NULL)
			continue;
		for (q = eq + 1; *q == ' '; q++)
			;
		while (semi > q && semi[-1] == ' ')
			semi--;
		snprintf(value, sizeof(value), "%.*s", (int)(semi - q), q);
		snprintf(comment, sizeof(comment), "%.*s", hash != NULL ? (int)(eol - hash - 1) : 0,
			hash != NULL ? hash + 1 : "");
		for (k = sec->keys; k->name != NULL && strcmp(k->name, name) != 0; k++)
			;
		if (k->name == NULL) {
			snprintf(why, wlen, "line %u: %s.%s: not a key of the table", line,
				sec->name, name);
			return -1;
		}
		/* Every "N..M" in the comment, in one of the three forms. */
		for (q = comment; (q = strstr(q, "..")) != NULL; q += 2) {
			const char *a = q, *b = q + 2;
			long long lo, hi, want_lo, want_hi;
			bool ok;

			while (a > comment && a[-1] >= '0' && a[-1] <= '9')
				a--;
			if (a == q || !(*b >= '0' && *b <= '9'))
				continue;
			lo = strtoll(a, NULL, 10);
			hi = strtoll(b, (char **)&b, 10);
			if (a - comment >= 6 && strncmp(a - 6, "range ", 6) == 0)
				ok = k->type == CFG_T_U16 || k->type == CFG_T_U32 ||
					k->type == CFG_T_U16_LIST;
			else if (strncmp(b, " chars", 6) == 0)
				ok = k->type == CFG_T_NAME || k->type == CFG_T_STRING;
			else if (strncmp(b, " entries", 8) == 0)
				ok = k->type == CFG_T_U16_LIST || k->type == CFG_T_PREFIX_LIST;
			else {
				snprintf(why, wlen,
					"line %u: %s.%s: \"%lld..%lld\" is not in a regular form "
					"(\"range LO..HI\", \"LO..HI chars\", \"LO..HI entries\")",
					line, sec->name, name, lo, hi);
				return -1;
			}
			if (!ok) {
				snprintf(why, wlen,
					"line %u: %s.%s: \"%lld..%lld\": wrong form for "
					"this key's type",
					line, sec->name, name, lo, hi);
				return -1;
			}
			want_lo = strncmp(b, " entries", 8) == 0 ? k->min_n : k->min;
			want_hi = strncmp(b, " entries", 8) == 0 ? k->max_n : k->max;
			if (lo != want_lo || hi != want_hi) {
				snprintf(why, wlen,
					"line %u: %s.%s: comment says %lld..%lld, the table "
					"%lld..%lld",
					line, sec->name, name, lo, hi, want_lo, want_hi);
				return -1;
			}
		}
		if (sec->max_n != 0 || strstr(comment, "not the default") != NULL)
			continue;
		/* The value is the default iff loading it alone changes nothing. */
		snprintf(snippet, sizeof(snippet), "%s = { %s = %s; };", sec->name, name, value);
		if (cfg_load_buffer(
			    snippet, strlen(snippet), "example", &got, lerr, sizeof(lerr)) != 0) {
			snprintf(why, wlen, "line %u: %s", line, lerr);
			return -1;
		}
		if (memcmp(&got, &def, sizeof(got)) != 0) {
			snprintf(why, wlen,
				"line %u: %s.%s = %.64s is not the table's default (say \"not the "
				"default\" in its comment if meant)",
				line, sec->name, name, value);
			return -1;
		}
	}
	return 0;
}

/* The example loads, and its comments say what the table says. */
static void
test_example_comments(void **state)
{
	static const struct {
		const char *text;
		const char *why; /* NULL: must pass; else part of the error */
	} cases[] = {
		{ "dataplane = {\n  burst = 64;  # rx burst size, range 1..512\n};\n", NULL },
		{ "dataplane = {\n  burst = 64;  # rx burst size, range 1..513\n};\n",
			"line 2: dataplane.burst: comment says 1..513, the table 1..512" },
		{ "dataplane = {\n  burst = 64;  # rx burst size, 1..512\n};\n",
			"not in a regular form" },
		{ "dataplane = {\n  burst = 32;  # rx burst size\n};\n",
			"dataplane.burst = 32 is not the table's default" },
		{ "dataplane = {\n  burst = 32;  # not the default, range 1..512\n};\n", NULL },
		{ "dataplane = {\n  lcores = \"0@0,1@1\";  # 1..127 chars\n};\n", NULL },
		{ "dataplane = {\n  lcores = \"0@0,1@1\";  # 1..128 chars\n};\n",
			"dataplane.lcores: comment says 1..128" },
		{ "dataplane = {\n  sip_ports = [ 5060, 5080 ];  # range 1..65535, 1..15 "
		  "entries\n};\n",
			"dataplane.sip_ports: comment says 1..15, the table 1..16" },
		{ "dataplane = {\n  sip_ports = [ 5060 ];\n};\n", "is not the table's default" },
		{ "trunks = (\n  {\n    name = \"a\";  # 1..32 chars\n  }\n);\n",
			"line 3: trunks.name: comment says 1..32, the table 1..31" },
		{ "trunks = (\n  {\n    cps = 7;  # range 1..100000\n  }\n);\n", NULL },
		{ "trunks = (\n  {\n    cps = 7;  # 1..100000 chars\n  }\n);\n", "wrong form" },
		{ "hep = {\n  bogus = 1;\n};\n", "hep.bogus: not a key of the table" },
	};
	char why[512] = "";
	char *text;
	size_t i;
	int r;

	(void)state;
	text = read_source("config/sipguard.conf");
	if (text == NULL)
		fail_msg("config/sipguard.conf: cannot read (is MESON_SOURCE_ROOT set?)");
	if (cfg_load_buffer(text, strlen(text), "config/sipguard.conf", &cfg, err, sizeof(err)) !=
		0)
		fail_msg("%s", err);
	if (example_check(text, why, sizeof(why)) != 0)
		fail_msg("config/sipguard.conf: %s", why);
	free(text);

	/* The checker itself: it must catch what it is there to catch. */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		r = example_check(cases[i].text, why, sizeof(why));
		if (cases[i].why == NULL && r != 0)
			fail_msg("case %zu: refused: %s", i, why);
		if (cases[i].why != NULL && (r == 0 || strstr(why, cases[i].why) == NULL))
			fail_msg("case %zu: want [%s], got %d [%s]", i, cases[i].why, r, why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_table_wrong_types),
		cmocka_unit_test(test_table_ranges),
		cmocka_unit_test(test_documented_ranges),
		cmocka_unit_test(test_hep_section),
		cmocka_unit_test(test_required_keys),
		cmocka_unit_test(test_unknown_and_misplaced),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_big_integers),
		cmocka_unit_test(test_sip_ports),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_bad_prefixes),
		cmocka_unit_test(test_ambiguous_trunks),
		cmocka_unit_test(test_too_many_trunks),
		cmocka_unit_test(test_never_half_loaded),
		cmocka_unit_test(test_buffer_edges),
		cmocka_unit_test(test_fleet_section),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_reference_docs),
		cmocka_unit_test(test_reference_text),
		cmocka_unit_test(test_example_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
