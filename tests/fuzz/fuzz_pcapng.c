/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for the pcapng reader of ctl_trace (ctl_pcapng_next), the
 * one sipguard-side reader of the trace files. Input: the bytes of a
 * file. Beyond "no crash, no read past len" it checks: every packet's
 * data and comment lie inside the input, its interface was described
 * before it, the reader always moves forward and ends (0) or refuses
 * (-1 with a reason); and a packet rewritten through the writer
 * (ctl_pcapng_epb) reads back with the same fields.
 */
#include <string.h>

#include "ctl_trace.h"
#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 1024 + 128];
	struct ctl_pcapng_reader r, r2;
	struct ctl_pcapng_pkt p, q;
	char err[128];
	size_t last = 0, n;
	int rc;

	ctl_pcapng_reader_init(&r, data, size);
	while ((rc = ctl_pcapng_next(&r, &p, err, sizeof(err))) == 1) {
		FUZZ_CHECK(r.off > last && r.off <= size);
		last = r.off;
		FUZZ_CHECK(p.ifid < r.n_if);
		FUZZ_CHECK(fuzz_inside(data, size, p.data, p.cap_len));
		if (p.comment != NULL)
			FUZZ_CHECK(fuzz_inside(data, size, p.comment, p.comment_len));
		if (p.cap_len > p.orig_len || p.cap_len > 65535)
			continue;
		/* through the writer and back: the same packet */
		n = ctl_pcapng_shb(out, sizeof(out));
		n += ctl_pcapng_idb(out + n, sizeof(out) - n, p.linktype, 65535);
		n += ctl_pcapng_epb(out + n, sizeof(out) - n, 0, p.ts_us, p.data, p.cap_len,
			p.orig_len, p.comment, p.comment_len);
		ctl_pcapng_reader_init(&r2, out, n);
		FUZZ_CHECK(ctl_pcapng_next(&r2, &q, err, sizeof(err)) == 1);
		FUZZ_CHECK(
			q.ts_us == p.ts_us && q.cap_len == p.cap_len && q.orig_len == p.orig_len);
		FUZZ_CHECK(q.linktype == p.linktype);
		FUZZ_CHECK(memcmp(q.data, p.data, p.cap_len) == 0);
		if (p.comment != NULL && p.comment_len > 0 && p.comment_len <= 0xfff0)
			FUZZ_CHECK(q.comment_len == p.comment_len &&
				memcmp(q.comment, p.comment, p.comment_len) == 0);
		FUZZ_CHECK(ctl_pcapng_next(&r2, &q, err, sizeof(err)) == 0);
	}
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1)
		FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	return 0;
}
