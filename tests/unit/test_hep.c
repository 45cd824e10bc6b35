/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the HEP decoder. HEPv3 packets are assembled here from
 * chunk lists, so a test states which chunks it has and in what order;
 * HEPv1/v2 headers are written byte by byte. Real datagrams from Kamailio's
 * siptrace pin the layout to what a sender emits. Sweeps (truncation at
 * every length, every byte changed) hand the decoder exactly-sized heap
 * copies so the sanitizer build catches any read past `len`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "dp_hep.h"

/*
 * Datagrams Kamailio 5.6.3 sent to udp 127.0.0.1:9060 (captured on lo)
 * with siptrace's hep_mode_on 1, trace_mode 1, hep_capture_id 101 and
 * auth_key "a-secret", listening on udp 127.0.0.1:5070, when a client on
 * 127.0.0.1:5071 sent one OPTIONS and the script answered 200 OK:
 * hep_version 3 (the OPTIONS received and the 200 sent), 2 and 1 (the
 * OPTIONS). HEPv3 chunks: family, proto, IPv4 src, dst, ports, time s,
 * time us, payload type, capture id, auth key, payload.
 */
static const uint8_t test_hep_kam3_options[361] = { 0x48, 0x45, 0x50, 0x33, 0x01, 0x69, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x11, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x0a, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x0a, 0x7f, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x13, 0xcf, 0x00, 0x00, 0x00, 0x08, 0x00,
	0x08, 0x13, 0xce, 0x00, 0x00, 0x00, 0x09, 0x00, 0x0a, 0x6b, 0x11, 0x1f, 0x33, 0x00, 0x00,
	0x00, 0x0a, 0x00, 0x0a, 0x00, 0x01, 0x4d, 0x92, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x07, 0x01,
	0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x65, 0x00, 0x00, 0x00, 0x0e, 0x00,
	0x0e, 0x61, 0x2d, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00, 0x00, 0x0f, 0x00, 0xfe,
	0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x70, 0x69, 0x6e,
	0x67, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x35, 0x30, 0x37,
	0x30, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x56, 0x69, 0x61, 0x3a,
	0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x2f, 0x55, 0x44, 0x50, 0x20, 0x31, 0x32,
	0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x35, 0x30, 0x37, 0x31, 0x3b, 0x62, 0x72,
	0x61, 0x6e, 0x63, 0x68, 0x3d, 0x7a, 0x39, 0x68, 0x47, 0x34, 0x62, 0x4b, 0x2d, 0x68, 0x65,
	0x70, 0x2d, 0x31, 0x0d, 0x0a, 0x4d, 0x61, 0x78, 0x2d, 0x46, 0x6f, 0x72, 0x77, 0x61, 0x72,
	0x64, 0x73, 0x3a, 0x20, 0x37, 0x30, 0x0d, 0x0a, 0x46, 0x72, 0x6f, 0x6d, 0x3a, 0x20, 0x3c,
	0x73, 0x69, 0x70, 0x3a, 0x70, 0x72, 0x6f, 0x62, 0x65, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30,
	0x2e, 0x30, 0x2e, 0x31, 0x3e, 0x3b, 0x74, 0x61, 0x67, 0x3d, 0x68, 0x65, 0x70, 0x31, 0x0d,
	0x0a, 0x54, 0x6f, 0x3a, 0x20, 0x3c, 0x73, 0x69, 0x70, 0x3a, 0x70, 0x69, 0x6e, 0x67, 0x40,
	0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3e, 0x0d, 0x0a, 0x43, 0x61, 0x6c,
	0x6c, 0x2d, 0x49, 0x44, 0x3a, 0x20, 0x68, 0x65, 0x70, 0x2d, 0x73, 0x61, 0x6d, 0x70, 0x6c,
	0x65, 0x2d, 0x31, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x0d, 0x0a,
	0x43, 0x53, 0x65, 0x71, 0x3a, 0x20, 0x31, 0x20, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53,
	0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74,
	0x68, 0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a };

static const uint8_t test_hep_kam3_200[405] = { 0x48, 0x45, 0x50, 0x33, 0x01, 0x95, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x11, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x0a, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x0a, 0x7f, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x13, 0xce, 0x00, 0x00, 0x00, 0x08, 0x00,
	0x08, 0x13, 0xcf, 0x00, 0x00, 0x00, 0x09, 0x00, 0x0a, 0x6b, 0x11, 0x1f, 0x33, 0x00, 0x00,
	0x00, 0x0a, 0x00, 0x0a, 0x00, 0x01, 0x4f, 0xbe, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x07, 0x01,
	0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x65, 0x00, 0x00, 0x00, 0x0e, 0x00,
	0x0e, 0x61, 0x2d, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00, 0x00, 0x0f, 0x01, 0x2a,
	0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x20, 0x32, 0x30, 0x30, 0x20, 0x4f, 0x4b, 0x0d,
	0x0a, 0x56, 0x69, 0x61, 0x3a, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x2f, 0x55,
	0x44, 0x50, 0x20, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x35, 0x30,
	0x37, 0x31, 0x3b, 0x62, 0x72, 0x61, 0x6e, 0x63, 0x68, 0x3d, 0x7a, 0x39, 0x68, 0x47, 0x34,
	0x62, 0x4b, 0x2d, 0x68, 0x65, 0x70, 0x2d, 0x31, 0x0d, 0x0a, 0x46, 0x72, 0x6f, 0x6d, 0x3a,
	0x20, 0x3c, 0x73, 0x69, 0x70, 0x3a, 0x70, 0x72, 0x6f, 0x62, 0x65, 0x40, 0x31, 0x32, 0x37,
	0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3e, 0x3b, 0x74, 0x61, 0x67, 0x3d, 0x68, 0x65, 0x70,
	0x31, 0x0d, 0x0a, 0x54, 0x6f, 0x3a, 0x20, 0x3c, 0x73, 0x69, 0x70, 0x3a, 0x70, 0x69, 0x6e,
	0x67, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3e, 0x3b, 0x74, 0x61,
	0x67, 0x3d, 0x64, 0x66, 0x36, 0x37, 0x33, 0x62, 0x39, 0x38, 0x63, 0x39, 0x65, 0x30, 0x62,
	0x64, 0x39, 0x31, 0x37, 0x32, 0x63, 0x66, 0x63, 0x30, 0x64, 0x38, 0x34, 0x39, 0x30, 0x33,
	0x35, 0x30, 0x39, 0x38, 0x2e, 0x64, 0x65, 0x33, 0x31, 0x64, 0x33, 0x66, 0x31, 0x0d, 0x0a,
	0x43, 0x61, 0x6c, 0x6c, 0x2d, 0x49, 0x44, 0x3a, 0x20, 0x68, 0x65, 0x70, 0x2d, 0x73, 0x61,
	0x6d, 0x70, 0x6c, 0x65, 0x2d, 0x31, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e,
	0x31, 0x0d, 0x0a, 0x43, 0x53, 0x65, 0x71, 0x3a, 0x20, 0x31, 0x20, 0x4f, 0x50, 0x54, 0x49,
	0x4f, 0x4e, 0x53, 0x0d, 0x0a, 0x53, 0x65, 0x72, 0x76, 0x65, 0x72, 0x3a, 0x20, 0x6b, 0x61,
	0x6d, 0x61, 0x69, 0x6c, 0x69, 0x6f, 0x20, 0x28, 0x35, 0x2e, 0x36, 0x2e, 0x33, 0x20, 0x28,
	0x78, 0x38, 0x36, 0x5f, 0x36, 0x34, 0x2f, 0x6c, 0x69, 0x6e, 0x75, 0x78, 0x29, 0x29, 0x0d,
	0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a };

static const uint8_t test_hep_kam2_options[276] = { 0x02, 0x10, 0x02, 0x11, 0x13, 0xcf, 0x13, 0xce,
	0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x42, 0x1f, 0x11, 0x6b, 0x45, 0xa8, 0x02,
	0x00, 0x65, 0x00, 0x00, 0x00, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53, 0x20, 0x73, 0x69,
	0x70, 0x3a, 0x70, 0x69, 0x6e, 0x67, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e,
	0x31, 0x3a, 0x35, 0x30, 0x37, 0x30, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d,
	0x0a, 0x56, 0x69, 0x61, 0x3a, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x2f, 0x55,
	0x44, 0x50, 0x20, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x35, 0x30,
	0x37, 0x31, 0x3b, 0x62, 0x72, 0x61, 0x6e, 0x63, 0x68, 0x3d, 0x7a, 0x39, 0x68, 0x47, 0x34,
	0x62, 0x4b, 0x2d, 0x68, 0x65, 0x70, 0x2d, 0x31, 0x0d, 0x0a, 0x4d, 0x61, 0x78, 0x2d, 0x46,
	0x6f, 0x72, 0x77, 0x61, 0x72, 0x64, 0x73, 0x3a, 0x20, 0x37, 0x30, 0x0d, 0x0a, 0x46, 0x72,
	0x6f, 0x6d, 0x3a, 0x20, 0x3c, 0x73, 0x69, 0x70, 0x3a, 0x70, 0x72, 0x6f, 0x62, 0x65, 0x40,
	0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3e, 0x3b, 0x74, 0x61, 0x67, 0x3d,
	0x68, 0x65, 0x70, 0x31, 0x0d, 0x0a, 0x54, 0x6f, 0x3a, 0x20, 0x3c, 0x73, 0x69, 0x70, 0x3a,
	0x70, 0x69, 0x6e, 0x67, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3e,
	0x0d, 0x0a, 0x43, 0x61, 0x6c, 0x6c, 0x2d, 0x49, 0x44, 0x3a, 0x20, 0x68, 0x65, 0x70, 0x2d,
	0x73, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2d, 0x31, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e,
	0x30, 0x2e, 0x31, 0x0d, 0x0a, 0x43, 0x53, 0x65, 0x71, 0x3a, 0x20, 0x31, 0x20, 0x4f, 0x50,
	0x54, 0x49, 0x4f, 0x4e, 0x53, 0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d,
	0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d, 0x0a };

static const uint8_t test_hep_kam1_options[264] = { 0x01, 0x10, 0x02, 0x11, 0x13, 0xcf, 0x13, 0xce,
	0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53,
	0x20, 0x73, 0x69, 0x70, 0x3a, 0x70, 0x69, 0x6e, 0x67, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30,
	0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x35, 0x30, 0x37, 0x30, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32,
	0x2e, 0x30, 0x0d, 0x0a, 0x56, 0x69, 0x61, 0x3a, 0x20, 0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e,
	0x30, 0x2f, 0x55, 0x44, 0x50, 0x20, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31,
	0x3a, 0x35, 0x30, 0x37, 0x31, 0x3b, 0x62, 0x72, 0x61, 0x6e, 0x63, 0x68, 0x3d, 0x7a, 0x39,
	0x68, 0x47, 0x34, 0x62, 0x4b, 0x2d, 0x68, 0x65, 0x70, 0x2d, 0x31, 0x0d, 0x0a, 0x4d, 0x61,
	0x78, 0x2d, 0x46, 0x6f, 0x72, 0x77, 0x61, 0x72, 0x64, 0x73, 0x3a, 0x20, 0x37, 0x30, 0x0d,
	0x0a, 0x46, 0x72, 0x6f, 0x6d, 0x3a, 0x20, 0x3c, 0x73, 0x69, 0x70, 0x3a, 0x70, 0x72, 0x6f,
	0x62, 0x65, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3e, 0x3b, 0x74,
	0x61, 0x67, 0x3d, 0x68, 0x65, 0x70, 0x31, 0x0d, 0x0a, 0x54, 0x6f, 0x3a, 0x20, 0x3c, 0x73,
	0x69, 0x70, 0x3a, 0x70, 0x69, 0x6e, 0x67, 0x40, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30,
	0x2e, 0x31, 0x3e, 0x0d, 0x0a, 0x43, 0x61, 0x6c, 0x6c, 0x2d, 0x49, 0x44, 0x3a, 0x20, 0x68,
	0x65, 0x70, 0x2d, 0x73, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2d, 0x31, 0x40, 0x31, 0x32, 0x37,
	0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x0d, 0x0a, 0x43, 0x53, 0x65, 0x71, 0x3a, 0x20, 0x31,
	0x20, 0x4f, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x53, 0x0d, 0x0a, 0x43, 0x6f, 0x6e, 0x74, 0x65,
	0x6e, 0x74, 0x2d, 0x4c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a, 0x20, 0x30, 0x0d, 0x0a, 0x0d,
	0x0a };

#define TEST_HEP_KAM_SEC 0x6b111f33u /* time s of both HEPv3 samples */
#define TEST_HEP_KAM_PORT_C 5071
#define TEST_HEP_KAM_PORT_K 5070

static const uint8_t test_lo4[4] = { 127, 0, 0, 1 };

/* exactly-sized heap copy: any read past `len` hits the red zone */
static enum dp_hep_res
test_hep_parse_copy(const uint8_t *p, uint32_t len, struct dp_hep *h)
{
	enum dp_hep_res res;
	uint8_t *c = malloc(len > 0 ? len : 1);

	assert_non_null(c);
	if (len > 0)
		memcpy(c, p, len);
	res = dp_hep_parse(c, len, h);
	/* pointers into the copy are dangling after free: rebase them */
	if (h->payload != NULL)
		h->payload = p + (h->payload - c);
	if (h->auth != NULL)
		h->auth = p + (h->auth - c);
	free(c);
	return res;
}

/* ---- HEPv3 builder ---- */

#define HB_MAX 2048

struct hb {
	uint8_t buf[HB_MAX];
	uint32_t len;
};

/* one chunk: vendor, type, data; HC_FIX | n in len_fix writes n as its length */
struct hc {
	uint16_t vendor;
	uint16_t type;
	const void *data;
	uint16_t len;
	uint32_t len_fix;
};

#define HC_FIX 0x10000u

static void
hb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
hb_init(struct hb *b)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->buf, "HEP3", 4);
	b->len = 6;
}

static void
hb_chunk(struct hb *b, const struct hc *c)
{
	assert_true(b->len + 6u + c->len <= HB_MAX);
	hb_put16(b->buf + b->len, c->vendor);
	hb_put16(b->buf + b->len + 2, c->type);
	hb_put16(b->buf + b->len + 4,
		(c->len_fix & HC_FIX) ? (uint16_t)c->len_fix : (uint16_t)(6 + c->len));
	if (c->len > 0)
		memcpy(b->buf + b->len + 6, c->data, c->len);
	b->len += 6u + c->len;
}

/* the total length field: the packet's size */
static uint32_t
hb_finish(struct hb *b)
{
	hb_put16(b->buf + 4, (uint16_t)b->len);
	return b->len;
}

static uint32_t
hb_build(struct hb *b, const struct hc *c, size_t n)
{
	size_t i;

	hb_init(b);
	for (i = 0; i < n; i++)
		hb_chunk(b, &c[i]);
	return hb_finish(b);
}

static const uint8_t v_af4 = 2, v_af6 = 10, v_udp = IPPROTO_UDP, v_tcp = IPPROTO_TCP;
static const uint8_t v_sip = 1, v_rtcp = 5, v_log = 100;
static const uint8_t v_src4[4] = { 192, 0, 2, 10 };
static const uint8_t v_dst4[4] = { 198, 51, 100, 20 };
static const uint8_t v_src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v_dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t v_sport[2] = { 0x13, 0xc4 }; /* 5060 */
static const uint8_t v_dport[2] = { 0x13, 0xc5 }; /* 5061 */
static const uint8_t v_tsec[4] = { 0x65, 0x00, 0x00, 0x01 };
static const uint8_t v_tusec[4] = { 0x00, 0x07, 0xa1, 0x1f }; /* 499999 */
static const uint8_t v_agent[4] = { 0x00, 0x00, 0x30, 0x39 }; /* 12345 */
static const char v_auth[] = "s3cret";
static const char v_msg[] = "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: x\r\n\r\n";
static const uint8_t v_gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03 };

#define V_TIME_US (0x65000001ull * 1000000 + 499999)

/* IPv4/UDP SIP with every chunk a sender writes */
static const struct hc hc_std4[] = {
	{ 0, 0x01, &v_af4, 1, 0 },
	{ 0, 0x02, &v_udp, 1, 0 },
	{ 0, 0x03, v_src4, 4, 0 },
	{ 0, 0x04, v_dst4, 4, 0 },
	{ 0, 0x07, v_sport, 2, 0 },
	{ 0, 0x08, v_dport, 2, 0 },
	{ 0, 0x09, v_tsec, 4, 0 },
	{ 0, 0x0a, v_tusec, 4, 0 },
	{ 0, 0x0b, &v_sip, 1, 0 },
	{ 0, 0x0c, v_agent, 4, 0 },
	{ 0, 0x0e, v_auth, sizeof(v_auth) - 1, 0 },
	{ 0, 0x0f, v_msg, sizeof(v_msg) - 1, 0 },
};
#define HC_N4 (sizeof(hc_std4) / sizeof(hc_std4[0]))

/* IPv6/TCP, only what OK needs plus the protocol */
static const struct hc hc_std6[] = {
	{ 0, 0x01, &v_af6, 1, 0 },
	{ 0, 0x02, &v_tcp, 1, 0 },
	{ 0, 0x05, v_src6, 16, 0 },
	{ 0, 0x06, v_dst6, 16, 0 },
	{ 0, 0x07, v_sport, 2, 0 },
	{ 0, 0x08, v_dport, 2, 0 },
	{ 0, 0x0f, v_msg, sizeof(v_msg) - 1, 0 },
};
#define HC_N6 (sizeof(hc_std6) / sizeof(hc_std6[0]))

static void
check_std4(const struct hb *b, const struct dp_hep *h)
{
	assert_int_equal(h->version, 3);
	assert_int_equal(h->family, 4);
	assert_int_equal(h->proto, IPPROTO_UDP);
	assert_memory_equal(h->src, v_src4, 4);
	assert_memory_equal(h->dst, v_dst4, 4);
	assert_int_equal(h->sport, 5060);
	assert_int_equal(h->dport, 5061);
	assert_true(h->time_us == V_TIME_US);
	assert_int_equal(h->agent_id, 12345);
	assert_non_null(h->auth);
	assert_int_equal(h->auth_len, sizeof(v_auth) - 1);
	assert_memory_equal(h->auth, v_auth, h->auth_len);
	assert_int_equal(h->payload_len, sizeof(v_msg) - 1);
	assert_memory_equal(h->payload, v_msg, h->payload_len);
	assert_true(h->payload > b->buf && h->payload + h->payload_len <= b->buf + b->len);
	assert_int_equal(h->hep_len, b->len);
}

/* ---- the real samples ---- */

static void
test_kamailio_v3(void **state)
{
	struct dp_hep h;
	const char opt[] = "OPTIONS sip:ping@127.0.0.1:5070 SIP/2.0\r\n";
	const char ok[] = "SIP/2.0 200 OK\r\n";

	(void)state;
	assert_int_equal(
		test_hep_parse_copy(test_hep_kam3_options, sizeof(test_hep_kam3_options), &h),
		DP_HEP_OK);
	assert_int_equal(h.version, 3);
	assert_int_equal(h.family, 4);
	assert_int_equal(h.proto, IPPROTO_UDP);
	assert_memory_equal(h.src, test_lo4, 4);
	assert_memory_equal(h.dst, test_lo4, 4);
	assert_int_equal(h.sport, TEST_HEP_KAM_PORT_C);
	assert_int_equal(h.dport, TEST_HEP_KAM_PORT_K);
	assert_true(h.time_us == (uint64_t)TEST_HEP_KAM_SEC * 1000000 + 0x14d92);
	assert_int_equal(h.agent_id, 101);
	assert_int_equal(h.auth_len, 8);
	assert_memory_equal(h.auth, "a-secret", 8);
	assert_int_equal(h.hep_len, 361);
	assert_int_equal(h.payload_len, 248);
	assert_ptr_equal(h.payload, test_hep_kam3_options + 113);
	assert_memory_equal(h.payload, opt, sizeof(opt) - 1);
	assert_memory_equal(h.payload + h.payload_len - 4, "\r\n\r\n", 4);

	assert_int_equal(
		test_hep_parse_copy(test_hep_kam3_200, sizeof(test_hep_kam3_200), &h), DP_HEP_OK);
	assert_int_equal(h.sport, TEST_HEP_KAM_PORT_K);
	assert_int_equal(h.dport, TEST_HEP_KAM_PORT_C);
	assert_true(h.time_us == (uint64_t)TEST_HEP_KAM_SEC * 1000000 + 0x14fbe);
	assert_int_equal(h.hep_len, 405);
	assert_int_equal(h.payload_len, 292);
	assert_memory_equal(h.payload, ok, sizeof(ok) - 1);
}

static void
test_kamailio_v2_v1(void **state)
{
	struct dp_hep h;
	const char opt[] = "OPTIONS sip:ping@127.0.0.1:5070 SIP/2.0\r\n";

	(void)state;
	/* time header little-endian (siptrace's to_le), captid 101 */
	assert_int_equal(
		test_hep_parse_copy(test_hep_kam2_options, sizeof(test_hep_kam2_options), &h),
		DP_HEP_OK);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.family, 4);
	assert_int_equal(h.proto, IPPROTO_UDP);
	assert_memory_equal(h.src, test_lo4, 4);
	assert_memory_equal(h.dst, test_lo4, 4);
	assert_int_equal(h.sport, TEST_HEP_KAM_PORT_C);
	assert_int_equal(h.dport, TEST_HEP_KAM_PORT_K);
	assert_true(h.time_us == 0x6b111f42ull * 1000000 + 0x2a845);
	assert_int_equal(h.agent_id, 101);
	assert_null(h.auth);
	assert_ptr_equal(h.payload, test_hep_kam2_options + 28);
	assert_int_equal(h.payload_len, 248);
	assert_memory_equal(h.payload, opt, sizeof(opt) - 1);
	assert_int_equal(h.hep_len, sizeof(test_hep_kam2_options));

	assert_int_equal(
		test_hep_parse_copy(test_hep_kam1_options, sizeof(test_hep_kam1_options), &h),
		DP_HEP_OK);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.family, 4);
	assert_int_equal(h.sport, TEST_HEP_KAM_PORT_C);
	assert_int_equal(h.dport, TEST_HEP_KAM_PORT_K);
	assert_true(h.time_us == 0);
	assert_int_equal(h.agent_id, 0);
	assert_ptr_equal(h.payload, test_hep_kam1_options + 16);
	assert_int_equal(h.payload_len, 248);
	assert_memory_equal(h.payload, opt, sizeof(opt) - 1);
}

/* ---- HEPv3 by hand ---- */

static void
test_v3_ipv4_udp(void **state)
{
	struct hb b;
	struct dp_hep h;

	(void)state;
	hb_build(&b, hc_std4, HC_N4);
	assert_int_equal(test_hep_parse_copy(b.buf, b.len, &h), DP_HEP_OK);
	check_std4(&b, &h);
	/* the same packet parsed in place: pointers into the buffer */
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_OK);
	check_std4(&b, &h);
}

static void
test_v3_ipv6_tcp(void **state)
{
	struct hb b;
	struct dp_hep h;

	(void)state;
	hb_build(&b, hc_std6, HC_N6);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_OK);
	assert_int_equal(h.version, 3);
	assert_int_equal(h.family, 6);
	assert_int_equal(h.proto, IPPROTO_TCP);
	assert_memory_equal(h.src, v_src6, 16);
	assert_memory_equal(h.dst, v_dst6, 16);
	assert_int_equal(h.sport, 5060);
	assert_int_equal(h.dport, 5061);
	/* optional chunks absent: zero, NULL */
	assert_true(h.time_us == 0);
	assert_int_equal(h.agent_id, 0);
	assert_null(h.auth);
	assert_int_equal(h.auth_len, 0);
	assert_int_equal(h.payload_len, sizeof(v_msg) - 1);
	assert_memory_equal(h.payload, v_msg, h.payload_len);
}

/* auth key and agent id on their own; an empty auth key is present, empty */
static void
test_v3_auth_agent(void **state)
{
	struct hc c[HC_N6 + 2];
	const uint8_t agent[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct hb b;
	struct dp_hep h;

	(void)state;
	memcpy(c, hc_std6, sizeof(hc_std6));
	c[HC_N6] = (struct hc){ 0, 0x0e, "k", 1, 0 };
	c[HC_N6 + 1] = (struct hc){ 0, 0x0c, agent, 4, 0 };
	hb_build(&b, c, HC_N6 + 2);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_OK);
	assert_int_equal(h.auth_len, 1);
	assert_int_equal(h.auth[0], 'k');
	assert_int_equal(h.agent_id, 0xdeadbeef);

	c[HC_N6] = (struct hc){ 0, 0x0e, NULL, 0, 0 };
	hb_build(&b, c, HC_N6 + 1);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_OK);
	assert_non_null(h.auth);
	assert_int_equal(h.auth_len, 0);
	assert_int_equal(h.agent_id, 0);
}

/*
 * Vendor chunks are skipped whatever their type and size, even one with a
 * generic type number; generic chunks the decoder does not use (keep-alive,
 * correlation id, VLAN, node name, unknown types) too.
 */
static void
test_v3_vendor_and_unused(void **state)
{
	static const uint8_t junk[9] = { 9, 9, 9, 9, 9, 9, 9, 9, 9 };
	static const char other[] = "NOT THIS";
	struct hc c[HC_N4 + 9];
	struct hb b;
	struct dp_hep h;
	size_t n = 0, i;

	(void)state;
	c[n++] = (struct hc){ 2, 0x01, junk, 9, 0 }; /* Kamailio vendor, "family" */
	for (i = 0; i < HC_N4; i++) {
		c[n++] = hc_std4[i];
		if (i == 3)
			c[n++] = (struct hc){ 1, 0x0f, other, 8, 0 }; /* FreeSWITCH "payload" */
	}
	c[n++] = (struct hc){ 5, 0x0b, &v_rtcp, 1, 0 };	   /* Homer "payload type" */
	c[n++] = (struct hc){ 0, 0x0d, junk, 2, 0 };	   /* keep-alive */
	c[n++] = (struct hc){ 0, 0x11, "call-1@x", 8, 0 }; /* correlation id */
	c[n++] = (struct hc){ 0, 0x12, junk, 2, 0 };	   /* VLAN */
	c[n++] = (struct hc){ 0, 0x13, "node-a", 6, 0 };   /* node name */
	c[n++] = (struct hc){ 0, 0x7fff, junk, 9, 0 };
	c[n++] = (struct hc){ 0, 0x00, NULL, 0, 0 };
	hb_build(&b, c, n);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_OK);
	check_std4(&b, &h);
}

/* the chunks in any order: every rotation, both directions */
static void
test_v3_order(void **state)
{
	struct hc c[HC_N4];
	struct hb b;
	struct dp_hep h;
	size_t r, i;
	int dir;

	(void)state;
	for (dir = 0; dir < 2; dir++) {
		for (r = 0; r < HC_N4; r++) {
			for (i = 0; i < HC_N4; i++) {
				size_t k = (r + i) % HC_N4;

				c[i] = hc_std4[dir == 0 ? k : HC_N4 - 1 - k];
			}
			hb_build(&b, c, HC_N4);
			assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_OK);
			check_std4(&b, &h);
		}
	}
}

/* a chunk's length under 6 or past the end; a chunk header cut by the end */
static void
test_v3_chunk_lengths(void **state)
{
	static const uint16_t lies[] = { 0, 1, 5 };
	struct hc c[HC_N6 + 1];
	struct hb b;
	struct dp_hep h;
	size_t i, k;

	(void)state;
	for (k = 0; k < HC_N6; k++) {
		for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
			memcpy(c, hc_std6, sizeof(hc_std6));
			c[k].len_fix = HC_FIX | lies[i];
			hb_build(&b, c, HC_N6);
			assert_int_equal(test_hep_parse_copy(b.buf, b.len, &h), DP_HEP_BAD);
		}
		/* one byte longer than what is left of the packet */
		memcpy(c, hc_std6, sizeof(hc_std6));
		hb_init(&b);
		for (i = 0; i < HC_N6; i++)
			hb_chunk(&b, &c[i]);
		hb_finish(&b);
		{
			uint32_t off = 6;

			for (i = 0; i < k; i++)
				off += 6u + c[i].len;
			hb_put16(b.buf + off + 4, (uint16_t)(b.len - off + 1));
		}
		assert_int_equal(test_hep_parse_copy(b.buf, b.len, &h), DP_HEP_BAD);
	}
	/* 1 to 5 bytes after the last chunk, counted in the total length */
	for (i = 1; i < 6; i++) {
		hb_init(&b);
		for (k = 0; k < HC_N6; k++)
			hb_chunk(&b, &hc_std6[k]);
		memset(b.buf + b.len, 0, i);
		b.len += (uint32_t)i;
		hb_finish(&b);
		assert_int_equal(test_hep_parse_copy(b.buf, b.len, &h), DP_HEP_BAD);
	}
}

/* fixed-size chunks of another size */
static void
test_v3_chunk_sizes(void **state)
{
	static const uint8_t big[17] = { 0 };
	struct hc c[HC_N4];
	struct hb b;
	struct dp_hep h;
	size_t k;

	(void)state;
	for (k = 0; k < HC_N4; k++) {
		uint16_t type = hc_std4[k].type;

		if (type == 0x0e || type == 0x0f)
			continue; /* strings: any size */
		memcpy(c, hc_std4, sizeof(hc_std4));
		c[k].data = big;
		c[k].len = (uint16_t)(hc_std4[k].len + 1);
		hb_build(&b, c, HC_N4);
		assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_BAD);
		c[k].len = (uint16_t)(hc_std4[k].len - 1);
		hb_build(&b, c, HC_N4);
		assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_BAD);
	}
}

/* the total length: larger than the buffer, under the header, smaller */
static void
test_v3_total_length(void **state)
{
	struct hb b;
	struct dp_hep h;
	uint32_t len;
	uint8_t *twice;

	(void)state;
	len = hb_build(&b, hc_std6, HC_N6);
	hb_put16(b.buf + 4, (uint16_t)(len + 1));
	assert_int_equal(test_hep_parse_copy(b.buf, len, &h), DP_HEP_TRUNCATED);
	hb_put16(b.buf + 4, 0xffff);
	assert_int_equal(test_hep_parse_copy(b.buf, len, &h), DP_HEP_TRUNCATED);
	for (uint16_t t = 0; t < 6; t++) {
		hb_put16(b.buf + 4, t);
		assert_int_equal(test_hep_parse_copy(b.buf, len, &h), DP_HEP_BAD);
	}
	/* "HEP3" and a length of 6: no chunks, nothing required is there */
	hb_put16(b.buf + 4, 6);
	assert_int_equal(test_hep_parse_copy(b.buf, 6, &h), DP_HEP_BAD);
	/* shorter than the buffer: the first chunks only, payload missing */
	hb_put16(b.buf + 4, (uint16_t)(len - (sizeof(v_msg) - 1) - 6));
	assert_int_equal(test_hep_parse_copy(b.buf, len, &h), DP_HEP_BAD);
	/* ending inside a chunk */
	hb_put16(b.buf + 4, (uint16_t)(len - 1));
	assert_int_equal(test_hep_parse_copy(b.buf, len, &h), DP_HEP_BAD);

	/* two packets back to back: the first is parsed, hep_len says where it ends */
	hb_put16(b.buf + 4, (uint16_t)len);
	twice = malloc(2 * len);
	assert_non_null(twice);
	memcpy(twice, b.buf, len);
	memcpy(twice + len, b.buf, len);
	assert_int_equal(dp_hep_parse(twice, 2 * len, &h), DP_HEP_OK);
	assert_int_equal(h.hep_len, len);
	assert_true(h.payload + h.payload_len == twice + len);
	free(twice);
}

static void
test_v3_missing(void **state)
{
	/* family, an address, a port, the payload: each is required */
	static const uint16_t required[] = { 0x01, 0x03, 0x04, 0x07, 0x08, 0x0f };
	/* protocol, time, payload type, agent id, auth key: optional */
	static const uint16_t optional[] = { 0x02, 0x09, 0x0a, 0x0b, 0x0c, 0x0e };
	struct hc c[HC_N4];
	struct hb b;
	struct dp_hep h;
	size_t i, k, n;

	(void)state;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		for (k = 0, n = 0; k < HC_N4; k++) {
			if (hc_std4[k].type != required[i])
				c[n++] = hc_std4[k];
		}
		assert_int_equal(n, HC_N4 - 1);
		hb_build(&b, c, n);
		assert_int_equal(test_hep_parse_copy(b.buf, b.len, &h), DP_HEP_BAD);
	}
	for (i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		for (k = 0, n = 0; k < HC_N4; k++) {
			if (hc_std4[k].type != optional[i])
				c[n++] = hc_std4[k];
		}
		hb_build(&b, c, n);
		assert_int_equal(test_hep_parse_copy(b.buf, b.len, &h), DP_HEP_OK);
		switch (optional[i]) {
		case 0x02:
			assert_int_equal(h.proto, 0);
			break;
		case 0x09: /* microseconds alone are no time */
			assert_true(h.time_us == 0);
			break;
		case 0x0a:
			assert_true(h.time_us == 0x65000001ull * 1000000);
			break;
		case 0x0c:
			assert_int_equal(h.agent_id, 0);
			break;
		case 0x0e:
			assert_null(h.auth);
			break;
		}
	}
}

static void
test_v3_family_mismatch(void **state)
{
	static const uint8_t af_odd[] = { 0, 1, 4, 6, 23, 28, 255 };
	struct hc c[HC_N6 + 2];
	struct hb b;
	struct dp_hep h;
	size_t i;

	(void)state;
	/* IPv6 family with IPv4 addresses */
	memcpy(c, hc_std6, sizeof(hc_std6));
	c[2] = (struct hc){ 0, 0x03, v_src4, 4, 0 };
	c[3] = (struct hc){ 0, 0x04, v_dst4, 4, 0 };
	hb_build(&b, c, HC_N6);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_BAD);
	/* IPv4 family with IPv6 addresses */
	memcpy(c, hc_std6, sizeof(hc_std6));
	c[0] = (struct hc){ 0, 0x01, &v_af4, 1, 0 };
	hb_build(&b, c, HC_N6);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_BAD);
	/* IPv4 family, an IPv4 source and an IPv6 destination */
	c[2] = (struct hc){ 0, 0x03, v_src4, 4, 0 };
	hb_build(&b, c, HC_N6);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_BAD);
	/* both families' addresses: those of the family named are used */
	c[HC_N6] = (struct hc){ 0, 0x04, v_dst4, 4, 0 };
	hb_build(&b, c, HC_N6 + 1);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_OK);
	assert_int_equal(h.family, 4);
	assert_memory_equal(h.src, v_src4, 4);
	assert_memory_equal(h.dst, v_dst4, 4);
	for (i = 4; i < 16; i++)
		assert_int_equal(h.src[i] | h.dst[i], 0);
	/* families that are not AF_INET or AF_INET6 */
	for (i = 0; i < sizeof(af_odd); i++) {
		memcpy(c, hc_std6, sizeof(hc_std6));
		c[0] = (struct hc){ 0, 0x01, &af_odd[i], 1, 0 };
		hb_build(&b, c, HC_N6);
		assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_BAD);
	}
}

static void
test_v3_not_sip(void **state)
{
	static const uint8_t types[] = { 0, 5, 34, 35, 53, 100, 255 };
	struct hc c[HC_N4];
	struct hb b;
	struct dp_hep h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		memcpy(c, hc_std4, sizeof(hc_std4));
		c[8] = (struct hc){ 0, 0x0b, &types[i], 1, 0 };
		hb_build(&b, c, HC_N4);
		assert_int_equal(test_hep_parse_copy(b.buf, b.len, &h), DP_HEP_NOT_SIP);
		/* fully written, so the worker can count it by source */
		c[8] = hc_std4[8];
		check_std4(&b, &h);
	}
	(void)v_log;
	/* well formed comes first: a log with no addresses is bad */
	memcpy(c, hc_std4, sizeof(hc_std4));
	c[8] = (struct hc){ 0, 0x0b, &v_log, 1, 0 };
	c[2] = (struct hc){ 0, 0x05, v_src6, 16, 0 };
	hb_build(&b, c, HC_N4);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_BAD);
}

static void
test_v3_compressed(void **state)
{
	struct hc c[HC_N6 + 1];
	struct hb b;
	struct dp_hep h;

	(void)state;
	memcpy(c, hc_std6, sizeof(hc_std6));
	c[HC_N6 - 1] = (struct hc){ 0, 0x10, v_gz, sizeof(v_gz), 0 };
	hb_build(&b, c, HC_N6);
	assert_int_equal(test_hep_parse_copy(b.buf, b.len, &h), DP_HEP_COMPRESSED);
	assert_int_equal(h.family, 6);
	assert_int_equal(h.payload_len, sizeof(v_gz));
	assert_memory_equal(h.payload, v_gz, sizeof(v_gz));
	/* both: the plain payload is used */
	c[HC_N6] = hc_std6[HC_N6 - 1];
	hb_build(&b, c, HC_N6 + 1);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_OK);
	assert_memory_equal(h.payload, v_msg, sizeof(v_msg) - 1);
	/* compressed RTCP is not SIP first */
	c[HC_N6] = (struct hc){ 0, 0x0b, &v_rtcp, 1, 0 };
	hb_build(&b, c, HC_N6 + 1);
	assert_int_equal(dp_hep_parse(b.buf, b.len, &h), DP_HEP_NOT_SIP);
	assert_memory_equal(h.payload, v_gz, sizeof(v_gz));
}

static void
test_not_hep(void **state)
{
	static const struct {
		const char *p;
		uint32_t len;
		enum dp_hep_res res;
	} in[] = {
		{ "INVITE sip:bob@example.com SIP/2.0\r\n", 36, DP_HEP_NOT_HEP },
		{ "HEP2\x00\x10", 6, DP_HEP_NOT_HEP },
		{ "hep3\x00\x10", 6, DP_HEP_NOT_HEP },
		{ "\x00\x10\x02\x11", 4, DP_HEP_NOT_HEP },
		{ "\x03\x10\x02\x11\x13\xc4\x13\xc4", 8, DP_HEP_NOT_HEP },
		{ "\x11", 1, DP_HEP_NOT_HEP },
		{ "HE\x00", 3, DP_HEP_NOT_HEP },
		/* could still become HEP3 */
		{ "", 0, DP_HEP_TRUNCATED },
		{ "H", 1, DP_HEP_TRUNCATED },
		{ "HEP", 3, DP_HEP_TRUNCATED },
		{ "HEP3\x01", 5, DP_HEP_TRUNCATED },
		/* HEPv1/v2 header not all there */
		{ "\x02\x10\x02\x11\x13\xc4\x13", 7, DP_HEP_TRUNCATED },
		{ "\x01", 1, DP_HEP_TRUNCATED },
	};
	struct dp_hep h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(
			test_hep_parse_copy((const uint8_t *)in[i].p, in[i].len, &h), in[i].res);
	}
}

/* ---- HEPv1/v2 by hand ---- */

static uint32_t
h2_build(uint8_t *p, uint8_t ver, uint8_t af, const uint8_t *src, const uint8_t *dst,
	const uint8_t *time, const char *msg)
{
	uint32_t alen = af == 2 ? 4 : 16, len = 0;

	p[0] = ver;
	p[1] = (uint8_t)(8 + 2 * alen);
	p[2] = af;
	p[3] = af == 2 ? IPPROTO_UDP : IPPROTO_TCP;
	memcpy(p + 4, v_sport, 2);
	memcpy(p + 6, v_dport, 2);
	len = 8;
	memcpy(p + len, src, alen);
	memcpy(p + len + alen, dst, alen);
	len += 2 * alen;
	if (ver == 2) {
		memcpy(p + len, time, 12);
		len += 12;
	}
	memcpy(p + len, msg, strlen(msg));
	return len + (uint32_t)strlen(msg);
}

/* tv_sec 0x65000001, tv_usec 499999, captid 7, padding: little-endian */
static const uint8_t h2_time_le[12] = { 0x01, 0x00, 0x00, 0x65, 0x1f, 0xa1, 0x07, 0x00, 7, 0, 0,
	0 };
/* the same, big-endian, as a sender on a big-endian host writes it */
static const uint8_t h2_time_be[12] = { 0x65, 0x00, 0x00, 0x01, 0x00, 0x07, 0xa1, 0x1f, 0, 7, 0,
	0 };

static void
test_v2_v1(void **state)
{
	uint8_t p[256];
	struct dp_hep h;
	uint32_t len;

	(void)state;
	len = h2_build(p, 2, 2, v_src4, v_dst4, h2_time_le, v_msg);
	assert_int_equal(test_hep_parse_copy(p, len, &h), DP_HEP_OK);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.family, 4);
	assert_int_equal(h.proto, IPPROTO_UDP);
	assert_memory_equal(h.src, v_src4, 4);
	assert_memory_equal(h.dst, v_dst4, 4);
	assert_int_equal(h.sport, 5060);
	assert_int_equal(h.dport, 5061);
	assert_true(h.time_us == V_TIME_US);
	assert_int_equal(h.agent_id, 7);
	assert_ptr_equal(h.payload, p + 28);
	assert_int_equal(h.payload_len, sizeof(v_msg) - 1);
	assert_int_equal(h.hep_len, len);

	len = h2_build(p, 2, 10, v_src6, v_dst6, h2_time_be, v_msg);
	assert_int_equal(test_hep_parse_copy(p, len, &h), DP_HEP_OK);
	assert_int_equal(h.family, 6);
	assert_int_equal(h.proto, IPPROTO_TCP);
	assert_memory_equal(h.src, v_src6, 16);
	assert_memory_equal(h.dst, v_dst6, 16);
	assert_true(h.time_us == V_TIME_US);
	assert_int_equal(h.agent_id, 7);
	assert_ptr_equal(h.payload, p + 52);
	assert_int_equal(h.payload_len, sizeof(v_msg) - 1);

	len = h2_build(p, 1, 10, v_src6, v_dst6, NULL, v_msg);
	assert_int_equal(test_hep_parse_copy(p, len, &h), DP_HEP_OK);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.family, 6);
	assert_true(h.time_us == 0);
	assert_ptr_equal(h.payload, p + 40);

	/* the length byte is not trusted (sngrep writes junk there) */
	p[1] = 0xff;
	assert_int_equal(test_hep_parse_copy(p, len, &h), DP_HEP_OK);
	assert_ptr_equal(h.payload, p + 40);
	/* unknown family */
	p[2] = 6;
	assert_int_equal(test_hep_parse_copy(p, len, &h), DP_HEP_BAD);
	/* headers only: no payload */
	len = h2_build(p, 2, 2, v_src4, v_dst4, h2_time_le, "");
	assert_int_equal(test_hep_parse_copy(p, len, &h), DP_HEP_BAD);
}

/* ---- sweeps ---- */

static void
sweep_truncated(const uint8_t *p, uint32_t len)
{
	struct dp_hep h;
	uint32_t cut;

	for (cut = 0; cut < len; cut++) {
		enum dp_hep_res res = test_hep_parse_copy(p, cut, &h);

		assert_true(res == DP_HEP_TRUNCATED || res == DP_HEP_BAD || res == DP_HEP_NOT_HEP);
	}
}

/* HEPv3 cut anywhere is never OK; HEPv1/v2 cut in the header neither */
static void
test_truncation(void **state)
{
	struct hb b;
	uint8_t p[256];
	struct dp_hep h;
	uint32_t len, cut;

	(void)state;
	sweep_truncated(test_hep_kam3_options, sizeof(test_hep_kam3_options));
	sweep_truncated(test_hep_kam3_200, sizeof(test_hep_kam3_200));
	hb_build(&b, hc_std4, HC_N4);
	sweep_truncated(b.buf, b.len);
	hb_build(&b, hc_std6, HC_N6);
	sweep_truncated(b.buf, b.len);
	/* a length field that says so: TRUNCATED exactly */
	for (cut = 6; cut < sizeof(test_hep_kam3_options); cut++) {
		assert_int_equal(
			test_hep_parse_copy(test_hep_kam3_options, cut, &h), DP_HEP_TRUNCATED);
	}

	sweep_truncated(test_hep_kam2_options, 28 + 1);
	sweep_truncated(test_hep_kam1_options, 16 + 1);
	len = h2_build(p, 2, 10, v_src6, v_dst6, h2_time_le, v_msg);
	sweep_truncated(p, 52 + 1);
	assert_int_equal(test_hep_parse_copy(p, len, &h), DP_HEP_OK);
}

/* every byte of each sample set to a few values: no over-read, sane answers */
static void
test_mutation(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x02, 0x05, 0x06, 0x0a, 0x0f, 0x10, 0x80,
		0xff };
	const struct {
		const uint8_t *p;
		uint32_t len;
	} s[] = {
		{ test_hep_kam3_options, sizeof(test_hep_kam3_options) },
		{ test_hep_kam2_options, sizeof(test_hep_kam2_options) },
		{ test_hep_kam1_options, sizeof(test_hep_kam1_options) },
	};
	size_t k, v;
	uint32_t i;

	(void)state;
	for (k = 0; k < sizeof(s) / sizeof(s[0]); k++) {
		uint8_t *c = malloc(s[k].len);

		assert_non_null(c);
		for (i = 0; i < s[k].len; i++) {
			for (v = 0; v < sizeof(vals); v++) {
				struct dp_hep h;
				enum dp_hep_res res;

				memcpy(c, s[k].p, s[k].len);
				c[i] = vals[v];
				res = dp_hep_parse(c, s[k].len, &h);
				assert_true(res <= DP_HEP_COMPRESSED);
				if (res != DP_HEP_OK && res != DP_HEP_NOT_SIP &&
					res != DP_HEP_COMPRESSED)
					continue;
				assert_true(h.family == 4 || h.family == 6);
				assert_true(h.hep_len <= s[k].len);
				assert_true(h.payload >= c &&
					h.payload + h.payload_len <= c + h.hep_len);
				if (h.auth != NULL)
					assert_true(h.auth >= c &&
						h.auth + h.auth_len <= c + h.hep_len);
			}
		}
		free(c);
	}
}

/* ---- framing ---- */

static void
test_frame_stream(void **state)
{
	uint8_t stream[3 * HB_MAX];
	uint32_t lens[3], len = 0, off, n, i;
	struct hb b;
	struct dp_hep h;

	(void)state;
	memcpy(stream, test_hep_kam3_options, sizeof(test_hep_kam3_options));
	lens[0] = sizeof(test_hep_kam3_options);
	len = lens[0];
	lens[1] = hb_build(&b, hc_std6, HC_N6);
	memcpy(stream + len, b.buf, b.len);
	len += lens[1];
	lens[2] = hb_build(&b, hc_std4, HC_N4);
	memcpy(stream + len, b.buf, b.len);
	len += lens[2];

	for (off = 0, i = 0; off < len; off += n, i++) {
		assert_int_equal(dp_hep_frame(stream + off, len - off, &n), 1);
		assert_int_equal(n, lens[i]);
		assert_int_equal(dp_hep_parse(stream + off, n, &h), DP_HEP_OK);
		assert_int_equal(h.hep_len, n);
		/* parsing the rest of the stream finds the same packet */
		assert_int_equal(dp_hep_parse(stream + off, len - off, &h), DP_HEP_OK);
		assert_int_equal(h.hep_len, n);
	}
	assert_int_equal(i, 3);

	/* every prefix of a packet: 0 under 6 bytes, then its full length */
	for (off = 0; off <= lens[0]; off++) {
		n = 0;
		if (off < 6) {
			assert_int_equal(dp_hep_frame(stream, off, &n), 0);
		} else {
			assert_int_equal(dp_hep_frame(stream, off, &n), 1);
			assert_int_equal(n, lens[0]);
		}
	}
}

static void
test_frame_reject(void **state)
{
	uint8_t p[8] = { 'H', 'E', 'P', '3', 0, 0, 0, 0 };
	uint32_t n = 12345, i;

	(void)state;
	for (i = 0; i < 6; i++) {
		p[5] = (uint8_t)i;
		assert_int_equal(dp_hep_frame(p, 8, &n), -1);
	}
	p[5] = 6;
	assert_int_equal(dp_hep_frame(p, 6, &n), 1);
	assert_int_equal(n, 6);
	p[4] = 0xff;
	p[5] = 0xff;
	assert_int_equal(dp_hep_frame(p, 6, &n), 1);
	assert_int_equal(n, 65535);
	/* HEPv1/v2 cannot be framed; neither can anything else */
	assert_int_equal(
		dp_hep_frame(test_hep_kam2_options, sizeof(test_hep_kam2_options), &n), -1);
	assert_int_equal(
		dp_hep_frame(test_hep_kam1_options, sizeof(test_hep_kam1_options), &n), -1);
	assert_int_equal(dp_hep_frame((const uint8_t *)"HEX", 3, &n), -1);
	assert_int_equal(dp_hep_frame((const uint8_t *)"X", 1, &n), -1);
	assert_int_equal(dp_hep_frame((const uint8_t *)"HEP2\x00\x10", 6, &n), -1);
	assert_int_equal(dp_hep_frame((const uint8_t *)"HEP", 3, &n), 0);
	assert_int_equal(dp_hep_frame((const uint8_t *)"HEP3\x00", 5, &n), 0);
	assert_int_equal(dp_hep_frame((const uint8_t *)"", 0, &n), 0);
}

static void
test_res_names(void **state)
{
	int a, b;

	(void)state;
	for (a = DP_HEP_OK; a <= DP_HEP_COMPRESSED; a++) {
		assert_string_not_equal(dp_hep_res_name((enum dp_hep_res)a), "unknown");
		for (b = a + 1; b <= DP_HEP_COMPRESSED; b++)
			assert_string_not_equal(dp_hep_res_name((enum dp_hep_res)a),
				dp_hep_res_name((enum dp_hep_res)b));
	}
	assert_string_equal(dp_hep_res_name(DP_HEP_COMPRESSED), "compressed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kamailio_v3),
		cmocka_unit_test(test_kamailio_v2_v1),
		cmocka_unit_test(test_v3_ipv4_udp),
		cmocka_unit_test(test_v3_ipv6_tcp),
		cmocka_unit_test(test_v3_auth_agent),
		cmocka_unit_test(test_v3_vendor_and_unused),
		cmocka_unit_test(test_v3_order),
		cmocka_unit_test(test_v3_chunk_lengths),
		cmocka_unit_test(test_v3_chunk_sizes),
		cmocka_unit_test(test_v3_total_length),
		cmocka_unit_test(test_v3_missing),
		cmocka_unit_test(test_v3_family_mismatch),
		cmocka_unit_test(test_v3_not_sip),
		cmocka_unit_test(test_v3_compressed),
		cmocka_unit_test(test_not_hep),
		cmocka_unit_test(test_v2_v1),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_mutation),
		cmocka_unit_test(test_frame_stream),
		cmocka_unit_test(test_frame_reject),
		cmocka_unit_test(test_res_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
