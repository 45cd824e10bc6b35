/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus exposition: the values are the state's totals summed over
 * workers, only codes that occurred are labelled, every family has one HELP
 * and one TYPE before its samples, every source field and drop reason is
 * there, label values are escaped, and (where promtool is installed) the
 * text passes `promtool check metrics`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "ctl_metrics.h"

#define NT 2
#define F(code) ((code)-SG_STATUS_MIN)

static const char *const names[NT] = { "carrier-a", "carrier-b" };
static const uint32_t cps[NT] = { 30, 50 };
static const uint32_t maxc[NT] = { 100, 200 };

struct fixture {
	struct ctl_state *st;
	struct ctl_policy *pol;
	struct sg_shm *shm;
	json_t *sinks;
	struct ctl_metrics_directives dirs;
	double busy[SG_MAX_WORKERS];
	struct ctl_metrics_buf b;
};

static void
pub(struct ctl_state *st, uint32_t w, uint32_t t, uint64_t seq, const struct sg_trunk_counters *c)
{
	struct sg_pub p;

	memset(&p, 0, sizeof(p));
	p.worker = w;
	p.trunk = t;
	p.seq = seq;
	p.c = *c;
	assert_int_equal(ctl_state_ingest_pub(st, &p), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sg_config cfg;
	struct sg_trunk_counters c;
	struct ctl_directive d;

	assert_non_null(f);
	cfg_defaults(&cfg);
	f->st = ctl_state_create(NT, names, cps, maxc);
	f->pol = ctl_policy_create(&cfg.policy, NT, names, cps, maxc);
	assert_non_null(f->st);
	assert_non_null(f->pol);
	/* carrier-a: two workers' shares; carrier-b: nothing; unmatched: one OPTIONS */
	memset(&c, 0, sizeof(c));
	c.requests[SG_M_INVITE] = 10;
	c.responses[F(503)] = 7;
	c.responses[F(100)] = 10;
	c.invite_final[F(503)] = 7;
	c.invite_attempts = 10;
	c.retransmissions = 2;
	c.dialogs_opened = 3;
	c.dialogs_closed = 1;
	c.calls_ended = 1;
	c.call_seconds = 42;
	pub(f->st, 0, 0, 1, &c);
	c.requests[SG_M_INVITE] = 5;
	c.requests[SG_M_BYE] = 1;
	c.responses[F(503)] = 1;
	c.responses[F(200)] = 4;
	c.invite_final[F(503)] = 1;
	c.invite_final[F(200)] = 4;
	pub(f->st, 1, 0, 1, &c);
	memset(&c, 0, sizeof(c));
	c.requests[SG_M_OPTIONS] = 1;
	pub(f->st, 0, SG_UNMATCHED, 2, &c);

	f->shm = calloc(1, sizeof(*f->shm));
	assert_non_null(f->shm);
	f->shm->n_workers = 2;
	f->shm->n_ports = 1;
	f->shm->n_trunks = NT;
	f->shm->tsc_hz = 1000000000ull;
	f->shm->start_time_ns = 1700000000ull * 1000000000ull;
	snprintf(f->shm->ports[0].name, sizeof(f->shm->ports[0].name), "net_af_packet0");
	f->shm->ports[0].rx_packets = 1234;
	f->shm->ports[0].rx_missed = 5;
	f->shm->workers[0].src.packets = 1000;
	f->shm->workers[1].src.packets = 234;
	f->shm->workers[0].src.drops[SG_DROP_NOT_IP] = 3;
	f->shm->workers[1].src.tcp_gaps = 4;
	f->shm->workers[1].busy_cycles = 500000000ull;
	f->shm->workers[1].total_cycles = 2000000000ull;
	f->shm->workers[1].evt_ring_full = 9;
	f->busy[1] = 0.25;
	f->sinks = json_pack("[{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:s}]", "sink", "exec", "target",
		"/bin/say \"hi\" \\", "sent", 3, "failed", 2, "retried", 1, "dropped", 1, "pending",
		0, "state", "ok");
	assert_non_null(f->sinks);
	memset(&d, 0, sizeof(d));
	d.trunk = 0;
	d.action = CTL_ACT_PAUSE;
	d.cause = CTL_CAUSE_OVER_LIMIT;
	ctl_metrics_count_directive(&f->dirs, &d);
	ctl_metrics_count_directive(&f->dirs, &d);
	d.trunk = SG_MAX_TRUNKS + 3; /* ignored */
	ctl_metrics_count_directive(&f->dirs, &d);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ctl_metrics_buf_free(&f->b);
	json_decref(f->sinks);
	free(f->shm);
	ctl_policy_free(f->pol);
	ctl_state_free(f->st);
	free(f);
	return 0;
}

static const char *
render(struct fixture *f)
{
	struct ctl_metrics_view v = {
		.version = "9.9.9",
		.st = f->st,
		.pol = f->pol,
		.shm = f->shm,
		.worker_busy = f->busy,
		.sinks = f->sinks,
		.dirs = &f->dirs,
		.dataplane_up = 1,
		.ctrl_start_ns = 1700000001ull * 1000000000ull,
	};

	f->b.len = 0;
	assert_int_equal(ctl_metrics_render(&v, &f->b), 0);
	assert_non_null(f->b.p);
	assert_int_equal(strlen(f->b.p), f->b.len);
	return f->b.p;
}

static void
has_line(const char *text, const char *line)
{
	char want[512];
	const char *p;

	snprintf(want, sizeof(want), "%s\n", line);
	p = strstr(text, want);
	if (p == NULL || (p != text && p[-1] != '\n'))
		fail_msg("missing line: %s", line);
}

static void
test_values(void **state)
{
	struct fixture *f = *state;
	const char *t = render(f);

	has_line(t, "sipguard_build_info{version=\"9.9.9\"} 1");
	has_line(t, "sipguard_dataplane_up 1");
	has_line(t, "sipguard_trunk_requests_total{trunk=\"carrier-a\",method=\"INVITE\"} 15");
	has_line(t, "sipguard_trunk_requests_total{trunk=\"carrier-a\",method=\"BYE\"} 1");
	has_line(t, "sipguard_trunk_requests_total{trunk=\"(unmatched)\",method=\"OPTIONS\"} 1");
	has_line(t, "sipguard_trunk_responses_total{trunk=\"carrier-a\",code=\"503\"} 8");
	has_line(t, "sipguard_trunk_responses_total{trunk=\"carrier-a\",code=\"100\"} 20");
	has_line(t,
		"sipguard_trunk_invite_final_responses_total{trunk=\"carrier-a\",code=\"200\"} "
		"4");
	has_line(t, "sipguard_trunk_invite_attempts_total{trunk=\"carrier-a\"} 20");
	has_line(t, "sipguard_trunk_invite_attempts_total{trunk=\"carrier-b\"} 0");
	has_line(t, "sipguard_trunk_retransmissions_total{trunk=\"carrier-a\"} 4");
	/* both workers' shares: 1 + 1 calls, 42 + 42 seconds */
	has_line(t, "sipguard_trunk_calls_ended_by_bye_total{trunk=\"carrier-a\"} 2");
	has_line(t, "sipguard_trunk_call_seconds_total{trunk=\"carrier-a\"} 84");
	has_line(t, "sipguard_trunk_concurrent_calls{trunk=\"carrier-a\"} 4");
	has_line(t, "sipguard_trunk_policy_state{trunk=\"carrier-b\",state=\"normal\"} 1");
	has_line(t, "sipguard_trunk_policy_state{trunk=\"carrier-b\",state=\"paused\"} 0");
	has_line(t, "sipguard_trunk_limit_cps{trunk=\"carrier-b\"} 50");
	has_line(t, "sipguard_trunk_agreed_cps{trunk=\"carrier-a\"} 30");
	has_line(t,
		"sipguard_trunk_directives_total{trunk=\"carrier-a\",action=\"pause\","
		"cause=\"over-limit\"} 2");
	has_line(t, "sipguard_source_packets_total 1234");
	has_line(t, "sipguard_source_drops_total{reason=\"not_ip\"} 3");
	has_line(t, "sipguard_source_tcp_gaps_total 4");
	has_line(t, "sipguard_worker_busy_seconds_total{worker=\"1\"} 0.5");
	has_line(t, "sipguard_worker_seconds_total{worker=\"1\"} 2");
	has_line(t, "sipguard_worker_busy_ratio{worker=\"1\"} 0.250000");
	has_line(t,
		"sipguard_worker_ring_drops_total{worker=\"1\",ring=\"events\","
		"reason=\"ring_full\"} 9");
	has_line(t, "sipguard_port_rx_packets_total{port=\"net_af_packet0\"} 1234");
	has_line(t, "sipguard_port_rx_missed_total{port=\"net_af_packet0\"} 5");
	/* a label value with a quote and a backslash, escaped */
	has_line(t,
		"sipguard_sink_failed_total{sink=\"exec\",target=\"/bin/say \\\"hi\\\" "
		"\\\\\"} 2");
	/* only codes that occurred; carrier-b has none; no empty method */
	assert_null(strstr(t, "code=\"404\""));
	assert_null(strstr(t, "trunk=\"carrier-b\",code="));
	assert_null(strstr(t, "trunk=\"carrier-b\",method="));
	assert_null(strstr(t, "action=\"throttle\""));
}

static void
test_every_field(void **state)
{
	struct fixture *f = *state;
	const char *t = render(f);
	char want[160];
	unsigned int i;

	for (i = 0; i < SG_SOURCE_FIELDS; i++) {
		snprintf(want, sizeof(want), "# TYPE sipguard_source_%s_total counter",
			sg_source_fields[i].name);
		has_line(t, want);
	}
	for (i = 0; i < SG_DROP_COUNT; i++) {
		snprintf(want, sizeof(want), "reason=\"%s\"}", sg_drop_keys[i]);
		assert_non_null(strstr(t, want));
	}
}

/* Every sample's family was declared (HELP then TYPE) once, just before its samples. */
static void
test_structure(void **state)
{
	struct fixture *f = *state;
	char *text = strdup(render(f)), *save = NULL, *line;
	char fam[128] = "", declared[512][128];
	unsigned int n_decl = 0, i, samples = 0;

	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		size_t len;

		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", name), 1);
			for (i = 0; i < n_decl; i++)
				if (strcmp(declared[i], name) == 0)
					fail_msg("family %s declared twice", name);
			assert_true(n_decl < 512);
			snprintf(declared[n_decl++], sizeof(declared[0]), "%s", name);
			snprintf(fam, sizeof(fam), "%s", name);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", name), 1);
			assert_string_equal(name, fam);
			assert_true(
				strstr(line, " counter") != NULL || strstr(line, " gauge") != NULL);
			if (strstr(line, " counter") != NULL)
				assert_non_null(strstr(fam, "_total"));
			continue;
		}
		len = strcspn(line, "{ ");
		assert_true(len < sizeof(name));
		memcpy(name, line, len);
		name[len] = '\0';
		if (strcmp(name, fam) != 0)
			fail_msg("sample %s outside its family (%s)", line, fam);
		assert_int_equal(strncmp(name, "sipguard_", 9), 0);
		samples++;
	}
	assert_true(samples > 100);
	free(text);
}

/* The real checker, where it is installed (scripts/setup installs it). */
static void
test_promtool(void **state)
{
	struct fixture *f = *state;
	const char *t = render(f);
	char path[] = "/tmp/sg_metrics_XXXXXX", cmd[256], out[4096] = "";
	FILE *p;
	size_t n;
	int fd, rc;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		print_message("promtool not installed: skipping its check\n");
		skip();
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	rc = pclose(p);
	unlink(path);
	if (rc != 0 || n != 0)
		fail_msg("promtool check metrics (exit %d): %s", rc, out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_structure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_promtool, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
