/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trace writer: pcapng blocks read back field by field, a reader that
 * refuses what is cut or inconsistent, rotation that keeps a trunk within
 * files x file_size (the oldest going first, files left by an earlier run
 * counted), the per-second cap across workers, the ladders kept, and the
 * ladder drawn from its JSON.
 */
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_api.h"
#include "ctl_render.h"
#include "ctl_trace.h"

static void
test_blocks_round_trip(void **state)
{
	uint8_t buf[4096], data[61];
	struct ctl_pcapng_reader r;
	struct ctl_pcapng_pkt p;
	size_t n = 0, k;
	char err[128];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	n += ctl_pcapng_shb(buf + n, sizeof(buf) - n);
	n += ctl_pcapng_idb(buf + n, sizeof(buf) - n, 1, 65535);
	n += ctl_pcapng_idb(buf + n, sizeof(buf) - n, 113, 65535);
	k = ctl_pcapng_epb(
		buf + n, sizeof(buf) - n, 1, 1760000000123456ull, data, 61, 70, "Call-ID: abc", 12);
	assert_int_equal(k % 4, 0);
	n += k;
	n += ctl_pcapng_epb(buf + n, sizeof(buf) - n, 0, 5, data, 3, 3, NULL, 0);
	/* a block that does not fit is not written */
	assert_int_equal(ctl_pcapng_epb(buf, 40, 0, 5, data, 61, 61, NULL, 0), 0);
	assert_int_equal(ctl_pcapng_epb(buf, sizeof(buf), 0, 5, data, 61, 60, NULL, 0), 0);

	ctl_pcapng_reader_init(&r, buf, n);
	assert_int_equal(ctl_pcapng_next(&r, &p, err, sizeof(err)), 1);
	assert_int_equal(p.ifid, 1);
	assert_int_equal(p.linktype, 113);
	assert_true(p.ts_us == 1760000000123456ull);
	assert_int_equal(p.cap_len, 61);
	assert_int_equal(p.orig_len, 70);
	assert_memory_equal(p.data, data, 61);
	assert_int_equal(p.comment_len, 12);
	assert_memory_equal(p.comment, "Call-ID: abc", 12);
	assert_int_equal(ctl_pcapng_next(&r, &p, err, sizeof(err)), 1);
	assert_int_equal(p.linktype, 1);
	assert_null(p.comment);
	assert_int_equal(ctl_pcapng_next(&r, &p, err, sizeof(err)), 0);

	/* every cut of the file is refused or read short, never read past */
	for (k = 0; k < n; k++) {
		int rc;

		ctl_pcapng_reader_init(&r, buf, k);
		while ((rc = ctl_pcapng_next(&r, &p, err, sizeof(err))) == 1)
			assert_true(p.data + p.cap_len <= buf + k);
		assert_true(rc == 0 || rc == -1);
	}
	/* a packet of an interface never described */
	n = ctl_pcapng_shb(buf, sizeof(buf));
	n += ctl_pcapng_epb(buf + n, sizeof(buf) - n, 0, 5, data, 3, 3, NULL, 0);
	ctl_pcapng_reader_init(&r, buf, n);
	assert_int_equal(ctl_pcapng_next(&r, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown interface"));
}

static char dir[] = "/tmp/sg-test-trace.XXXXXX";

static struct sg_trace_frame *
frame_of(uint64_t call, uint8_t flags, uint64_t ms, const char *cid, uint32_t len, int status)
{
	static union {
		struct sg_trace_frame f;
		uint8_t b[sizeof(struct sg_trace_frame) + 2048];
	} u;
	struct sg_trace_frame *f = &u.f;

	memset(&u, 0, sizeof(u));
	f->call = call;
	f->time_us = ms * 1000;
	f->failed_ms = ms;
	f->trunk = 2;
	f->orig_len = len;
	f->cap_len = len;
	f->linktype = 1;
	f->flags = flags;
	f->call_id_len = (uint16_t)strlen(cid);
	memcpy(f->call_id, cid, f->call_id_len);
	f->meta.family = 4;
	f->meta.src[0] = 192;
	f->meta.src[3] = 10;
	f->meta.dst[0] = 198;
	f->meta.dst[3] = 30;
	f->meta.sport = 5060;
	f->meta.dport = 5060;
	f->meta.is_request = status == 0;
	f->meta.method = 0;
	f->meta.cseq = 1;
	f->meta.status = (uint16_t)status;
	f->meta.retry_after = -1;
	f->meta.reason_cause = -1;
	if (status != 0) {
		/* the answer comes back */
		memcpy(f->meta.src, (uint8_t[]){ 198, 0, 0, 30 }, 4);
		memcpy(f->meta.dst, (uint8_t[]){ 192, 0, 0, 10 }, 4);
	}
	if (status == 503) {
		f->meta.retry_after = 5;
		f->meta.reason_proto = 2; /* Q.850 */
		f->meta.reason_cause = 34;
	}
	memset(f->data, 'x', len);
	return f;
}

/* Files of the series and their total size. */
static unsigned int
series_files(const char *prefix, uint64_t *bytes, uint64_t *biggest)
{
	struct dirent *de;
	unsigned int n = 0;
	struct stat st;
	char path[512];
	DIR *d = opendir(dir);

	*bytes = 0;
	*biggest = 0;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(stat(path, &st), 0);
		*bytes += (uint64_t)st.st_size;
		if ((uint64_t)st.st_size > *biggest)
			*biggest = (uint64_t)st.st_size;
		n++;
	}
	closedir(d);
	return n;
}

static void
test_rotation_bounds(void **state)
{
	struct ctl_trace_cfg cfg = {
		.dir = dir, .file_size = 65536, .files = 3, .sample_per_s = 1000000
	};
	struct ctl_trace *t;
	uint64_t bytes, biggest, c;
	char err[256], cid[64], path[512];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* a file an earlier run left, and one of another trunk */
	snprintf(path, sizeof(path), "%s/carrier-b-000007.pcapng", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/carrier-bb-000001.pcapng", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	t = ctl_trace_create(&cfg, err, sizeof(err));
	assert_non_null(t);
	for (c = 1; c <= 2000; c++) {
		snprintf(cid, sizeof(cid), "flood-%" PRIu64, c);
		ctl_trace_frame(t, frame_of(c, SG_TRACE_FIRST, 1000 + c, cid, 600, 0), "carrier-b");
		ctl_trace_frame(t, frame_of(c, 0, 1000 + c, cid, 400, 503), "carrier-b");
	}
	ctl_trace_flush(t);
	assert_int_equal(series_files("carrier-b-", &bytes, &biggest), 3);
	assert_true(bytes <= 3 * 65536);
	assert_true(biggest <= 65536);
	assert_true(biggest > 60000); /* and filled, not rotated early */
	/* numbering goes on after the earlier run's file, which went first */
	snprintf(path, sizeof(path), "%s/carrier-b-000007.pcapng", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/carrier-bb-000001.pcapng", dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(ctl_trace_stats(t)->calls, 2000);
	assert_int_equal(ctl_trace_stats(t)->frames, 4000);
	assert_true(ctl_trace_stats(t)->files_rotated >= 1);
	assert_int_equal(ctl_trace_stats(t)->files_opened - ctl_trace_stats(t)->files_rotated, 2);
	assert_int_equal(ctl_trace_stats(t)->write_errors, 0);
	ctl_trace_free(t);
}

static void
test_cap_and_ladder(void **state)
{
	struct ctl_trace_cfg cfg = {
		.dir = dir, .file_size = 1 << 20, .files = 2, .sample_per_s = 2
	};
	struct sg_trace_frame *f;
	struct ctl_trace *t;
	json_t *doc, *files;
	char err[256], *text = NULL;
	size_t tlen = 0;
	FILE *mf;

	(void)state;
	t = ctl_trace_create(&cfg, err, sizeof(err));
	assert_non_null(t);
	/* three workers' calls failing in one second: two are written */
	ctl_trace_frame(t, frame_of(1, SG_TRACE_FIRST, 7000, "a@x", 300, 0), "carrier-c");
	ctl_trace_frame(
		t, frame_of((1ull << 48) | 1, SG_TRACE_FIRST, 7100, "b@x", 300, 0), "carrier-c");
	ctl_trace_frame(
		t, frame_of((2ull << 48) | 1, SG_TRACE_FIRST, 7200, "c@x", 300, 0), "carrier-c");
	ctl_trace_frame(t, frame_of(1, 0, 7020, "a@x", 310, 100), "carrier-c");
	ctl_trace_frame(t, frame_of(1, 0, 7400, "a@x", 320, 503), "carrier-c");
	ctl_trace_frame(t, frame_of((2ull << 48) | 1, 0, 7400, "c@x", 320, 503), "carrier-c");
	f = frame_of(1, SG_TRACE_LINGER, 7410, "a@x", 300, 0);
	f->meta.method = SG_M_ACK;
	ctl_trace_frame(t, f, "carrier-c");
	ctl_trace_flush(t);
	assert_int_equal(ctl_trace_stats(t)->calls, 2);
	assert_int_equal(ctl_trace_stats(t)->suppressed, 1);
	assert_int_equal(ctl_trace_stats(t)->frames, 5);
	assert_null(ctl_trace_call_json(t, "carrier-c", "c@x"));
	assert_null(ctl_trace_call_json(t, "carrier-a", NULL));
	files = ctl_trace_files_json(t, "a@x");
	assert_int_equal(json_array_size(files), 1);
	assert_non_null(
		strstr(json_string_value(json_array_get(files, 0)), "/carrier-c-000001.pcapng"));
	json_decref(files);
	/* without a Call-ID: the newest call */
	doc = ctl_trace_call_json(t, "carrier-c", NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "call_id")), "b@x");
	json_decref(doc);
	doc = ctl_trace_call_json(t, "carrier-c", "a@x");
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "messages")), 4);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(doc, "messages"), 2), "reason")),
		"Q.850;cause=34");
	/* the document as sipguardctl receives it, and the ladder drawn from it */
	json_object_set_new(doc, "files", json_pack("[s]", "/var/lib/t/carrier-c-000001.pcapng"));
	mf = open_memstream(&text, &tlen);
	assert_non_null(mf);
	assert_int_equal(ctl_render_trace(mf, doc), 0);
	fclose(mf);
	assert_string_equal(text,
		"trunk carrier-c  Call-ID a@x\n"
		"pcapng: /var/lib/t/carrier-c-000001.pcapng\n"
		"first message 1970-01-01 00:00:07.000000 UTC\n"
		"\n"
		"TIME       192.0.0.10:5060                         198.0.0.30:5060\n"
		"0.000000   |--------------- INVITE --------------->|\n"
		"0.020000   |<------------- 100 Trying -------------|\n"
		"0.400000   |<------ 503 Service Unavailable -------|  Retry-After: 5  Reason: "
		"Q.850;cause=34\n"
		"0.410000   |---------------- ACK ----------------->|\n");
	free(text);
	/* not a trace document */
	json_decref(doc);
	doc = json_pack("{s:i}", "x", 1);
	assert_int_equal(ctl_render_trace(stdout, doc), -1);
	json_decref(doc);
	ctl_trace_free(t);
}

static void
test_create_errors(void **state)
{
	struct ctl_trace_cfg cfg = {
		.dir = "/proc/sipguard-no/traces", .file_size = 65536, .files = 1, .sample_per_s = 1
	};
	char err[256];

	(void)state;
	assert_null(ctl_trace_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/sipguard-no/traces"));
	cfg.dir = "";
	assert_null(ctl_trace_create(&cfg, err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_round_trip),
		cmocka_unit_test(test_rotation_bounds),
		cmocka_unit_test(test_cap_and_ladder),
		cmocka_unit_test(test_create_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (strncmp(dir, "/tmp/sg-test-trace.", 19) == 0 && system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
