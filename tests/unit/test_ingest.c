/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every way SIP reaches a worker, tested on the worker as a whole: frames
 * built by hand (Ethernet, IPv4, IPv6, UDP, TCP, tunnels, HEP) go through
 * dp_worker_frame at packet times, and the worker's own counters say what
 * was counted: per trunk (requests, responses, INVITE attempts and
 * finals, retransmissions) and per source (fragments, streams,
 * decapsulation, HEP). Each test is named after a failure real peers and
 * collectors have: fragments without ports, segmented messages lost in
 * small stream buffers, TCP delivered out of order, several messages per
 * read, a connection reopened on the same ports, mirror feeds, HEP. The
 * message is the one carriers see most: a
 * 2 KB STIR/SHAKEN INVITE (an 800-byte Identity header and SDP) answered
 * by a 503 with Retry-After and Reason. After every case each unit (a
 * frame, a datagram rebuilt from fragments, a message cut from a stream)
 * must have landed in exactly one place, as the pipeline fuzzer checks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "dp_worker.h"
#include "sg_test_eal.h"

/* The carrier's trunk (IPv4 and IPv6), a dialer, the mirror and HEP hosts. */
#define TI_TRUNK4 "203.0.113.10"
#define TI_TRUNK6 "2001:db8:a::10"
#define TI_DIALER4 "192.0.2.1"
#define TI_DIALER6 "2001:db8:d::1"
#define TI_MIRROR_SRC "198.51.100.50" /* outer addresses: trunk carrier-b */
#define TI_MIRROR_DST "198.51.100.51"
#define TI_AGENT4 "10.9.0.5" /* inside hep.allow */
#define TI_AGENT6 "fd00:9::5"
#define TI_COLLECTOR4 "10.9.255.1"
#define TI_COLLECTOR6 "fd00:9::1"
#define TI_OUTSIDER "10.10.0.1" /* outside hep.allow */
#define TI_HEP_KEY "s3cret-key"

#define TI_A 0 /* trunk carrier-a: the trunk the SIP is to and from */
#define TI_B 1 /* trunk carrier-b: the outer addresses of mirror feeds */

#define TI_SIP_PORT 5060
#define TI_HEP_PORT 9060
#define TI_VXLAN_PORT 4789
#define TI_T0 1700000000000ull /* packet time of the first frame, ms */
#define TI_FRAG_TIMEOUT 2000
#define TI_GAP_TIMEOUT 3000
#define TI_INVITE_SIZE 2048 /* the STIR/SHAKEN INVITE, bytes */
#define TI_MSG_MAX 4096
#define TI_PK_ROOM 8192

static const char ti_conf_fmt[] =
	"dataplane = { retrans_entries = 1024; dialog_entries = 1024; };\n"
	"decap = { max_depth = 2; vxlan_port = 4789; };\n"
	"fragments = { entries = 64; timeout = 2000; };\n"
	"streams = { flows = 64; buffers = 16; buffer_size = %u; idle_timeout = 300;\n"
	"  gap_timeout = 3000; };\n"
	"hep = { port = 9060; allow = [ \"10.9.0.0/16\", \"fd00:9::/32\" ];\n"
	"  auth_key = \"%s\"; };\n"
	"trunks = (\n"
	"  { name = \"carrier-a\"; prefixes = [ \"203.0.113.0/24\", \"2001:db8:a::/48\" ];\n"
	"    cps = 10; max_concurrent = 100; },\n"
	"  { name = \"carrier-b\"; prefixes = [ \"198.51.100.0/24\" ]; cps = 10;\n"
	"    max_concurrent = 100; }\n"
	");\n";

/*
 * Three configurations: stream buffers of 8 KiB (room for a hole ahead of
 * a 2 KB message), of 2 KiB (the smallest, which still holds the 2 KB
 * INVITE), and with a HEP key required.
 */
static struct sg_config ti_cfg, ti_cfg_small, ti_cfg_auth;
static struct dp_worker_shared ti_sh, ti_sh_auth;
static struct dp_sip_db *ti_db;
static hs_scratch_t *ti_proto;
static struct dp_trunks *ti_trunks;

/* ---- SIP messages ---- */

/*
 * An INVITE as a STIR/SHAKEN-signing carrier edge sends it, exactly `size`
 * bytes (an X-Pad header makes up the difference), with its SDP.
 */
static uint32_t
ti_invite(char *out, const char *call_id, uint32_t size)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static const char sdp[] = "v=0\r\n"
				  "o=- 4858 4858 IN IP4 192.0.2.1\r\n"
				  "s=-\r\n"
				  "c=IN IP4 192.0.2.1\r\n"
				  "t=0 0\r\n"
				  "m=audio 20000 RTP/AVP 0 8 101\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=fmtp:101 0-16\r\n"
				  "a=ptime:20\r\n"
				  "a=sendrecv\r\n";
	char identity[800], head[TI_MSG_MAX], pad[TI_MSG_MAX];
	uint32_t i, base;
	int n;

	/* a PASSporT: header.payload.signature, base64url */
	for (i = 0; i < 720; i++)
		identity[i] = i == 110 || i == 600 ? '.' : b64[(i * 7 + 3) % 64];
	identity[i] = '\0';
	n = snprintf(head, sizeof(head),
		"INVITE sip:+14155550100@203.0.113.10 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-%s\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:+12125550199@192.0.2.1>;tag=d-%s\r\n"
		"To: <sip:+14155550100@203.0.113.10>\r\n"
		"Call-ID: %s\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:+12125550199@192.0.2.1:5060>\r\n"
		"Identity: %s;info=<https://cert.example.net/shaken.pem>;alg=ES256;ppt=shaken\r\n"
		"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE\r\n"
		"Content-Type: application/sdp\r\n",
		call_id, call_id, call_id, identity);
	assert_true(n > 0 && (size_t)n < sizeof(head));
	base = (uint32_t)n + (uint32_t)strlen("Content-Length: 999\r\n\r\n") +
		(uint32_t)strlen(sdp);
	pad[0] = '\0';
	if (size != base) {
		/* "X-Pad: " + at least one byte + CRLF */
		assert_true(size >= base + 10);
		memset(pad, 0, sizeof(pad));
		memcpy(pad, "X-Pad: ", 7);
		memset(pad + 7, 'p', size - base - 9);
		memcpy(pad + 7 + size - base - 9, "\r\n", 2);
	}
	n = snprintf(out, TI_MSG_MAX, "%s%sContent-Length: %3u\r\n\r\n%s", head, pad,
		(unsigned int)strlen(sdp), sdp);
	assert_int_equal(n, size);
	return (uint32_t)n;
}

/*
 * A response to the INVITE of call_id; a 503 says why and for how long,
 * a 200 carries its SDP answer.
 */
static uint32_t
ti_response(char *out, int code, const char *call_id)
{
	static const char sdp[] = "v=0\r\n"
				  "o=- 77 77 IN IP4 203.0.113.10\r\n"
				  "s=-\r\n"
				  "c=IN IP4 203.0.113.10\r\n"
				  "t=0 0\r\n"
				  "m=audio 30000 RTP/AVP 0 101\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n";
	const char *reason = code == 100 ? "Trying"
		: code == 503		 ? "Service Unavailable"
		: code == 200		 ? "OK"
					 : "Other";
	int n;

	n = snprintf(out, TI_MSG_MAX,
		"SIP/2.0 %d %s\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-%s\r\n"
		"From: <sip:+12125550199@192.0.2.1>;tag=d-%s\r\n"
		"To: <sip:+14155550100@203.0.113.10>%s%s\r\n"
		"Call-ID: %s\r\n"
		"CSeq: 1 INVITE\r\n"
		"%s"
		"Server: carrier-sbc\r\n"
		"%s"
		"Content-Length: %u\r\n\r\n%s",
		code, reason, call_id, call_id, code == 100 ? "" : ";tag=c-",
		code == 100 ? "" : call_id, call_id,
		code == 503 ? "Retry-After: 30\r\n"
			      "Reason: Q.850;cause=34;text=\"No circuit/channel available\"\r\n"
			    : "",
		code == 200 ? "Content-Type: application/sdp\r\n" : "",
		code == 200 ? (unsigned int)strlen(sdp) : 0, code == 200 ? sdp : "");
	assert_true(n > 0 && n < TI_MSG_MAX);
	return (uint32_t)n;
}

/* ---- frames, built from the inside out ---- */

/* A packet under construction: headers are pushed in front of the data. */
struct ti_pk {
	uint8_t b[TI_PK_ROOM];
	uint32_t off;
	uint32_t len;
};

static void
ti_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
ti_be32(uint8_t *p, uint32_t v)
{
	ti_be16(p, v >> 16);
	ti_be16(p + 2, v & 0xffff);
}

static uint8_t *
ti_data(struct ti_pk *k)
{
	return k->b + k->off;
}

static void
ti_init(struct ti_pk *k, const void *data, uint32_t n)
{
	assert_true(n <= TI_PK_ROOM - 512);
	k->off = TI_PK_ROOM - n;
	k->len = n;
	if (n != 0)
		memcpy(k->b + k->off, data, n);
}

static uint8_t *
ti_push(struct ti_pk *k, uint32_t n)
{
	assert_true(k->off >= n);
	k->off -= n;
	k->len += n;
	memset(k->b + k->off, 0, n);
	return k->b + k->off;
}

static uint8_t
ti_family(const char *addr)
{
	return strchr(addr, ':') != NULL ? 6 : 4;
}

static void
ti_addr(const char *s, uint8_t *a)
{
	assert_int_equal(inet_pton(ti_family(s) == 6 ? AF_INET6 : AF_INET, s, a), 1);
}

static void
ti_udp(struct ti_pk *k, uint16_t sport, uint16_t dport)
{
	uint8_t *h = ti_push(k, 8);

	ti_be16(h, sport);
	ti_be16(h + 2, dport);
	ti_be16(h + 4, k->len);
}

static void
ti_tcp(struct ti_pk *k, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags)
{
	uint8_t *h = ti_push(k, 20);

	ti_be16(h, sport);
	ti_be16(h + 2, dport);
	ti_be32(h + 4, seq);
	ti_be32(h + 8, 1);
	h[12] = 0x50;
	h[13] = flags;
	ti_be16(h + 14, 65535);
}

/* An IPv4 or IPv6 header (by the source's family) over what is there. */
static void
ti_ip(struct ti_pk *k, const char *src, const char *dst, uint8_t proto, uint16_t id)
{
	uint8_t *h;

	if (ti_family(src) == 4) {
		h = ti_push(k, 20);
		h[0] = 0x45;
		ti_be16(h + 2, k->len);
		ti_be16(h + 4, id);
		h[8] = 64;
		h[9] = proto;
		ti_addr(src, h + 12);
		ti_addr(dst, h + 16);
	} else {
		h = ti_push(k, 40);
		h[0] = 0x60;
		ti_be16(h + 4, k->len - 40);
		h[6] = proto;
		h[7] = 64;
		ti_addr(src, h + 8);
		ti_addr(dst, h + 24);
	}
}

/* Ethernet in front of the IP packet that is there. */
static void
ti_eth(struct ti_pk *k)
{
	uint16_t etype = (ti_data(k)[0] >> 4) == 6 ? 0x86dd : 0x0800;
	uint8_t *h = ti_push(k, 14);

	memcpy(h, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	ti_be16(h + 12, etype);
}

/* A UDP datagram as an IP packet (no link header yet). */
static void
ti_udp_ip(struct ti_pk *k, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	const void *payload, uint32_t n)
{
	ti_init(k, payload, n);
	ti_udp(k, sport, dport);
	ti_ip(k, src, dst, IPPROTO_UDP, 0x1234);
}

/* Hand a frame to the worker from a heap copy of its exact size. */
static void
ti_feed(struct dp_worker *w, const struct ti_pk *k, uint64_t now_ms)
{
	uint8_t *copy = malloc(k->len);

	assert_non_null(copy);
	memcpy(copy, k->b + k->off, k->len);
	dp_worker_frame(w, copy, k->len, now_ms);
	free(copy);
}

/* A SIP message over UDP between two hosts on the SIP port. */
static void
ti_send_udp(struct dp_worker *w, const char *src, const char *dst, const char *msg, uint32_t n,
	uint64_t now_ms)
{
	static struct ti_pk k;

	ti_udp_ip(&k, src, TI_SIP_PORT, dst, TI_SIP_PORT, msg, n);
	ti_eth(&k);
	ti_feed(w, &k, now_ms);
}

/*
 * Split the IP packet in `ip` into n fragments, as a host whose MTU it
 * exceeds does: every fragment after the first starts inside the UDP
 * payload and carries no port at all. With `eth`, each fragment gets its
 * Ethernet header; without, it is an IP packet a tunnel may carry.
 */
static void
ti_fragment(const struct ti_pk *ip, unsigned int n, uint32_t v6_id, int eth, struct ti_pk *out)
{
	const uint8_t *p = ip->b + ip->off;
	uint8_t family = (uint8_t)(p[0] >> 4);
	uint32_t hlen = family == 4 ? 20 : 40, plen = ip->len - hlen;
	uint32_t chunk = ((plen + n - 1) / n + 7) & ~7u, off, part, i;
	uint8_t *h;

	for (i = 0; i < n; i++) {
		int more = i + 1 < n;

		off = i * chunk;
		assert_true(off < plen);
		part = more ? chunk : plen - off;
		ti_init(&out[i], p + hlen + off, part);
		if (family == 4) {
			h = ti_push(&out[i], 20);
			memcpy(h, p, 20);
			ti_be16(h + 2, out[i].len);
			ti_be16(h + 6, (off / 8) | (more ? 0x2000 : 0));
		} else {
			h = ti_push(&out[i], 8);
			h[0] = p[6];
			ti_be16(h + 2, off | (more ? 1 : 0));
			ti_be32(h + 4, v6_id);
			h = ti_push(&out[i], 40);
			memcpy(h, p, 40);
			h[6] = 44;
			ti_be16(h + 4, out[i].len - 40);
		}
		if (eth)
			ti_eth(&out[i]);
	}
}

/* ---- tunnels ---- */

enum ti_tunnel {
	TI_VXLAN,
	TI_GRE_ETH,
	TI_ERSPAN2,
	TI_ERSPAN3,
	TI_IPIP,
};

static const char *const ti_tunnel_names[] = {
	[TI_VXLAN] = "vxlan",
	[TI_GRE_ETH] = "gre",
	[TI_ERSPAN2] = "erspan2",
	[TI_ERSPAN3] = "erspan3",
	[TI_IPIP] = "ipip",
};

/* GRE with the sequence number bit when `seq`, carrying `proto`. */
static void
ti_gre(struct ti_pk *k, int seq, uint16_t proto)
{
	uint8_t *h = ti_push(k, seq ? 8 : 4);

	ti_be16(h, seq ? 0x1000 : 0);
	ti_be16(h + 2, proto);
	if (seq)
		ti_be32(h + 4, 4242);
}

/*
 * Wrap the IP packet that is there in one tunnel as a mirror sends it:
 * the result is again an IP packet, between the mirror's addresses.
 */
static void
ti_wrap(struct ti_pk *k, enum ti_tunnel t)
{
	uint8_t *h;

	switch (t) {
	case TI_VXLAN:
		ti_eth(k);
		h = ti_push(k, 8);
		h[0] = 0x08; /* VNI valid */
		h[6] = 0x2a;
		ti_udp(k, 54321, TI_VXLAN_PORT);
		ti_ip(k, TI_MIRROR_SRC, TI_MIRROR_DST, IPPROTO_UDP, 7);
		break;
	case TI_GRE_ETH:
		ti_eth(k);
		ti_gre(k, 0, 0x6558);
		ti_ip(k, TI_MIRROR_SRC, TI_MIRROR_DST, IPPROTO_GRE, 7);
		break;
	case TI_ERSPAN2:
		ti_eth(k);
		h = ti_push(k, 8);
		h[0] = 0x10; /* version 1: type II */
		h[3] = 0x05; /* session */
		ti_gre(k, 1, 0x88be);
		ti_ip(k, TI_MIRROR_SRC, TI_MIRROR_DST, IPPROTO_GRE, 7);
		break;
	case TI_ERSPAN3:
		ti_eth(k);
		h = ti_push(k, 12);
		h[0] = 0x20; /* version 2: type III */
		h[3] = 0x05;
		ti_be32(h + 4, 0x01020304); /* timestamp */
		ti_gre(k, 1, 0x22eb);
		ti_ip(k, TI_MIRROR_SRC, TI_MIRROR_DST, IPPROTO_GRE, 7);
		break;
	case TI_IPIP:
		ti_ip(k, TI_MIRROR_SRC, TI_MIRROR_DST,
			(ti_data(k)[0] >> 4) == 6 ? IPPROTO_IPV6 : IPPROTO_IPIP, 7);
		break;
	}
}

/* ---- TCP flows ---- */

/* Side 0 (the dialer, or the HEP agent) opens; side 1 answers. */
struct ti_flow {
	const char *addr[2];
	uint16_t port[2];
	uint32_t isn[2];
	uint32_t sent[2]; /* payload bytes sent by each side */
};

/* A segment of `side` at byte `rel` of its stream (0: the first after SYN). */
static void
ti_seg(struct ti_pk *k, const struct ti_flow *f, int side, uint32_t rel, uint8_t flags,
	const void *data, uint32_t n)
{
	ti_init(k, data, n);
	ti_tcp(k, f->port[side], f->port[!side], f->isn[side] + 1 + rel, flags);
	ti_ip(k, f->addr[side], f->addr[!side], IPPROTO_TCP, 0);
	ti_eth(k);
}

static uint64_t
ti_flow_open(struct dp_worker *w, struct ti_flow *f, uint64_t now)
{
	static struct ti_pk k;

	ti_init(&k, NULL, 0);
	ti_tcp(&k, f->port[0], f->port[1], f->isn[0], DP_TCP_SYN);
	ti_ip(&k, f->addr[0], f->addr[1], IPPROTO_TCP, 0);
	ti_eth(&k);
	ti_feed(w, &k, now++);
	ti_init(&k, NULL, 0);
	ti_tcp(&k, f->port[1], f->port[0], f->isn[1], DP_TCP_SYN | DP_TCP_ACK);
	ti_ip(&k, f->addr[1], f->addr[0], IPPROTO_TCP, 0);
	ti_eth(&k);
	ti_feed(w, &k, now++);
	f->sent[0] = f->sent[1] = 0;
	return now;
}

/* Bytes from `side`, in segments of at most mss bytes, 1 ms apart. */
static uint64_t
ti_flow_send(struct dp_worker *w, struct ti_flow *f, int side, const void *data, uint32_t n,
	uint32_t mss, uint64_t now)
{
	static struct ti_pk k;
	const uint8_t *p = data;
	uint32_t off, part;

	for (off = 0; off < n; off += part) {
		part = RTE_MIN(mss, n - off);
		ti_seg(&k, f, side, f->sent[side], DP_TCP_ACK | 0x08, p + off, part);
		ti_feed(w, &k, now++);
		f->sent[side] += part;
	}
	return now;
}

/* ---- HEP ---- */

static uint32_t
ti_chunk(uint8_t *out, uint32_t off, uint16_t type, const void *data, uint32_t n)
{
	ti_be16(out + off, 0);
	ti_be16(out + off + 2, type);
	ti_be16(out + off + 4, n + 6);
	memcpy(out + off + 6, data, n);
	return off + 6 + n;
}

/*
 * A HEPv3 packet as Kamailio's siptrace sends it: the capture of one SIP
 * message between src and dst (port 5060 both) at time_ms, with an auth
 * key when `auth` is not NULL.
 */
static uint32_t
ti_hep(uint8_t *out, const char *src, const char *dst, uint64_t time_ms, const char *auth,
	const void *sip, uint32_t n)
{
	uint8_t a[16], v[4];
	uint8_t fam = ti_family(src);
	uint32_t off = 6;

	memcpy(out, "HEP3", 4);
	v[0] = fam == 4 ? 2 : 10;
	off = ti_chunk(out, off, 0x01, v, 1);
	v[0] = IPPROTO_UDP;
	off = ti_chunk(out, off, 0x02, v, 1);
	ti_addr(src, a);
	off = ti_chunk(out, off, fam == 4 ? 0x03 : 0x05, a, fam == 4 ? 4 : 16);
	ti_addr(dst, a);
	off = ti_chunk(out, off, fam == 4 ? 0x04 : 0x06, a, fam == 4 ? 4 : 16);
	ti_be16(v, TI_SIP_PORT);
	off = ti_chunk(out, off, 0x07, v, 2);
	off = ti_chunk(out, off, 0x08, v, 2);
	ti_be32(v, (uint32_t)(time_ms / 1000));
	off = ti_chunk(out, off, 0x09, v, 4);
	ti_be32(v, (uint32_t)(time_ms % 1000) * 1000);
	off = ti_chunk(out, off, 0x0a, v, 4);
	v[0] = 1; /* SIP */
	off = ti_chunk(out, off, 0x0b, v, 1);
	ti_be32(v, 101);
	off = ti_chunk(out, off, 0x0c, v, 4);
	if (auth != NULL)
		off = ti_chunk(out, off, 0x0e, auth, (uint32_t)strlen(auth));
	off = ti_chunk(out, off, 0x0f, sip, n);
	ti_be16(out + 4, off);
	return off;
}

/* ---- the worker and its accounting ---- */

static struct dp_worker *
ti_worker(const struct dp_worker_shared *sh, const struct sg_config *cfg)
{
	char err[256];
	struct dp_worker *w = dp_worker_create(sh, cfg, ti_proto, 0, err, sizeof(err));

	if (w == NULL)
		fail_msg("%s", err);
	return w;
}

static uint64_t
ti_sum(const uint64_t *v, unsigned int n)
{
	uint64_t s = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}

/*
 * Every unit in exactly one place: the drops, messages and malformed
 * messages add up to the frames, the datagrams rebuilt from fragments and
 * the messages cut from streams; and the trunks' counters add up to the
 * source's.
 */
static void
ti_check_accounting(struct dp_worker *w)
{
	uint64_t msgs = 0, mal = 0;
	unsigned int t;

	dp_worker_sync_stats(w);
	assert_int_equal(
		ti_sum(w->src.drops, SG_DROP_COUNT) + w->src.sip_messages + w->src.sip_malformed,
		w->src.packets + w->src.frag_reassembled + dp_streams_stats(w->streams)->messages);
	for (t = 0; t < SG_TRUNK_SLOTS; t++) {
		msgs += ti_sum(w->trunk[t].requests, SG_M_COUNT) +
			ti_sum(w->trunk[t].responses, SG_STATUS_COUNT);
		mal += w->trunk[t].malformed;
	}
	assert_int_equal(msgs, w->src.sip_messages);
	assert_int_equal(mal, w->src.sip_malformed);
	/* nothing held once the capture is over and the tables have aged */
	assert_int_equal(dp_frag_stats(w->frag)->held, 0);
}

/* End of a capture: streams handed on, accounting checked, worker freed. */
static void
ti_done(struct dp_worker *w)
{
	dp_worker_finish(w);
	dp_worker_tick(w, RTE_MAX(w->last_ms, w->last_tick_ms) + 10 * TI_FRAG_TIMEOUT);
	ti_check_accounting(w);
	dp_worker_free(w);
}

static void
ti_assert_trunk_untouched(const struct dp_worker *w, uint32_t t)
{
	static const struct sg_trunk_counters zero;

	assert_memory_equal(&w->trunk[t], &zero, sizeof(zero));
}

/* ---- 1: fragments ---- */

/*
 * A capture filter on the SIP port alone drops every fragment after the
 * first: they carry no UDP header. The worker sees them all, in any
 * order, and counts the INVITE they make exactly once on its trunk.
 */
static void
test_fragments_without_ports(void **state)
{
	static const unsigned int orders[3][3] = {
		{ 0, 1, 2 }, /* in order */
		{ 2, 1, 0 }, /* reversed */
		{ 2, 0, 1 }, /* the last first */
	};
	static struct ti_pk ip, fr[3];
	char inv[TI_MSG_MAX], id[64];
	unsigned int fam, n, o, i;
	struct dp_worker *w;
	uint64_t now;
	uint32_t len;

	(void)state;
	for (fam = 4; fam <= 6; fam += 2) {
		for (n = 2; n <= 3; n++) {
			for (o = 0; o < 3; o++) {
				snprintf(id, sizeof(id), "frag-%u-%u-%u@192.0.2.1", fam, n, o);
				len = ti_invite(inv, id, TI_INVITE_SIZE);
				ti_udp_ip(&ip, fam == 4 ? TI_DIALER4 : TI_DIALER6, TI_SIP_PORT,
					fam == 4 ? TI_TRUNK4 : TI_TRUNK6, TI_SIP_PORT, inv, len);
				ti_fragment(&ip, n, 0xabc0 + o, 1, fr);
				w = ti_worker(&ti_sh, &ti_cfg);
				now = TI_T0;
				/* of two fragments, the last first is the reverse */
				for (i = 0; i < n; i++)
					ti_feed(w,
						&fr[n == 3		 ? orders[o][i]
								: o == 0 ? i
									 : 1 - i],
						now++);
				dp_worker_sync_stats(w);
				assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
				assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 1);
				assert_int_equal(w->src.sip_messages, 1);
				assert_int_equal(w->src.drops[SG_DROP_FRAGMENT], n);
				assert_int_equal(w->src.frag_reassembled, 1);
				assert_int_equal(w->src.drops[SG_DROP_NOT_CANDIDATE], 0);
				assert_int_equal(w->src.frag_timed_out + w->src.frag_bad +
						w->src.frag_no_space + w->src.frag_no_mbuf,
					0);
				ti_assert_trunk_untouched(w, SG_UNMATCHED);
				ti_done(w);
			}
		}
	}

	/*
	 * The dialer's timer A resends the INVITE 500 ms later: a new datagram
	 * (new IP ID), fragmented again, is a SIP retransmission, not a new
	 * attempt.
	 */
	len = ti_invite(inv, "frag-timer-a@192.0.2.1", TI_INVITE_SIZE);
	w = ti_worker(&ti_sh, &ti_cfg);
	for (o = 0; o < 2; o++) {
		ti_udp_ip(&ip, TI_DIALER4, TI_SIP_PORT, TI_TRUNK4, TI_SIP_PORT, inv, len);
		ti_data(&ip)[5] = (uint8_t)(0x40 + o); /* IP ID */
		ti_fragment(&ip, 2, 0, 1, fr);
		ti_feed(w, &fr[1], TI_T0 + 500 * o);
		ti_feed(w, &fr[0], TI_T0 + 500 * o + 1);
	}
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.frag_reassembled, 2);
	assert_int_equal(w->src.frag_duplicates, 0);
	assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 2);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
	assert_int_equal(w->trunk[TI_A].retransmissions, 1);
	ti_done(w);

	/* a fragment seen twice, before and after its datagram completes */
	len = ti_invite(inv, "frag-dup@192.0.2.1", TI_INVITE_SIZE);
	ti_udp_ip(&ip, TI_DIALER4, TI_SIP_PORT, TI_TRUNK4, TI_SIP_PORT, inv, len);
	ti_fragment(&ip, 3, 0, 1, fr);
	w = ti_worker(&ti_sh, &ti_cfg);
	now = TI_T0;
	ti_feed(w, &fr[1], now++);
	ti_feed(w, &fr[1], now++);
	ti_feed(w, &fr[0], now++);
	ti_feed(w, &fr[2], now++);
	ti_feed(w, &fr[0], now++);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
	assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 1);
	assert_int_equal(w->trunk[TI_A].retransmissions, 0);
	assert_int_equal(w->src.drops[SG_DROP_FRAGMENT], 5);
	assert_int_equal(w->src.frag_reassembled, 1);
	assert_int_equal(w->src.frag_duplicates, 2);
	ti_done(w);

	/* a datagram that never completes counts nothing, and times out */
	len = ti_invite(inv, "frag-lost@192.0.2.1", TI_INVITE_SIZE);
	ti_udp_ip(&ip, TI_DIALER6, TI_SIP_PORT, TI_TRUNK6, TI_SIP_PORT, inv, len);
	ti_fragment(&ip, 3, 77, 1, fr);
	w = ti_worker(&ti_sh, &ti_cfg);
	now = TI_T0;
	ti_feed(w, &fr[2], now++);
	ti_feed(w, &fr[0], now++);
	dp_worker_tick(w, now + TI_FRAG_TIMEOUT / 2);
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.frag_timed_out, 0);
	assert_int_equal(dp_frag_stats(w->frag)->held, 2);
	dp_worker_tick(w, now + TI_FRAG_TIMEOUT + 500);
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.frag_timed_out, 2);
	assert_int_equal(dp_frag_stats(w->frag)->held, 0);
	/* the missing fragment, too late: alone, it makes nothing either */
	ti_feed(w, &fr[1], now + TI_FRAG_TIMEOUT + 600);
	dp_worker_tick(w, now + 3 * TI_FRAG_TIMEOUT);
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.frag_timed_out, 3);
	assert_int_equal(w->src.frag_reassembled, 0);
	assert_int_equal(w->src.sip_messages, 0);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 0);
	assert_int_equal(w->src.drops[SG_DROP_FRAGMENT], 3);
	ti_done(w);
}

/* ---- 2: segmented messages, small buffers ---- */

/*
 * heplify drops segmented messages when its stream buffers are small.
 * The 2 KB INVITE in segments of 100 bytes, with stream buffers of the
 * smallest size that still holds it (2048), is counted once; one byte
 * more is counted oversize, never as a message, and the message after
 * it is counted.
 */
static void
test_segmented_small_buffers(void **state)
{
	struct ti_flow f = { .addr = { TI_DIALER4, TI_TRUNK4 },
		.port = { 40000, TI_SIP_PORT },
		.isn = { 1000, 5000000 } };
	char msg[TI_MSG_MAX];
	struct dp_worker *w;
	uint64_t now = TI_T0;
	uint32_t len;

	(void)state;
	w = ti_worker(&ti_sh, &ti_cfg_small);
	now = ti_flow_open(w, &f, now);
	len = ti_invite(msg, "seg-1@192.0.2.1", TI_INVITE_SIZE);
	now = ti_flow_send(w, &f, 0, msg, len, 100, now);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
	assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 1);
	assert_int_equal(w->src.sip_messages, 1);
	assert_int_equal(w->src.drops[SG_DROP_TCP_STREAMED], (TI_INVITE_SIZE + 99) / 100);
	assert_int_equal(w->src.tcp_oversize, 0);
	assert_int_equal(dp_streams_buffers_in_use(w->streams), 0);

	/* one byte over the buffer: oversize, skipped to its end */
	len = ti_invite(msg, "seg-2@192.0.2.1", TI_INVITE_SIZE + 1);
	now = ti_flow_send(w, &f, 0, msg, len, 100, now);
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.tcp_oversize, 1);
	assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 1);
	assert_int_equal(w->src.sip_messages, 1);
	assert_int_equal(w->src.sip_malformed, 0);

	/* the next message on the stream is counted */
	len = ti_invite(msg, "seg-3@192.0.2.1", 1600);
	ti_flow_send(w, &f, 0, msg, len, 100, now);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 2);
	assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 2);
	assert_int_equal(w->src.tcp_oversize, 1);
	assert_int_equal(w->src.tcp_resyncs + w->src.tcp_gaps, 0);
	ti_assert_trunk_untouched(w, SG_UNMATCHED);
	ti_done(w);
}

/* ---- 3: scrambled order ---- */

/*
 * Three messages in six segments: the dialer's INVITE (2 KB) and a
 * second INVITE in four segments cut across both, the carrier's 503 in
 * two. seg[i] = { side, offset in that side's stream, length }.
 */
struct ti_segdef {
	int side;
	uint32_t off;
	uint32_t len;
};

struct ti_scramble {
	struct ti_flow f;
	char a[2 * TI_MSG_MAX]; /* side 0: INVITE + INVITE */
	char b[TI_MSG_MAX];	/* side 1: 503 */
	uint32_t alen, blen;
	struct ti_segdef seg[6];
	struct ti_pk pk[6];
};

static void
ti_scramble_init(struct ti_scramble *s)
{
	static const uint32_t acut[] = { 0, 700, 1400, 2300 };
	uint32_t i;

	memset(&s->f, 0, sizeof(s->f));
	s->f.addr[0] = TI_DIALER4;
	s->f.addr[1] = TI_TRUNK4;
	s->f.port[0] = 40002;
	s->f.port[1] = TI_SIP_PORT;
	s->f.isn[0] = 0xfffffc00; /* the sequence numbers wrap inside the INVITE */
	s->f.isn[1] = 77777;
	s->alen = ti_invite(s->a, "scr-1@192.0.2.1", TI_INVITE_SIZE);
	s->alen += ti_invite(s->a + s->alen, "scr-2@192.0.2.1", 1600);
	s->blen = ti_response(s->b, 503, "scr-1@192.0.2.1");
	for (i = 0; i < 4; i++) {
		s->seg[i].side = 0;
		s->seg[i].off = acut[i];
		s->seg[i].len = (i < 3 ? acut[i + 1] : s->alen) - acut[i];
	}
	s->seg[4] = (struct ti_segdef){ 1, 0, 150 };
	s->seg[5] = (struct ti_segdef){ 1, 150, s->blen - 150 };
	for (i = 0; i < 6; i++)
		ti_seg(&s->pk[i], &s->f, s->seg[i].side, s->seg[i].off, DP_TCP_ACK | 0x08,
			(s->seg[i].side == 0 ? s->a : s->b) + s->seg[i].off, s->seg[i].len);
}

/*
 * What the reassembler must count for an arrival order: a segment beyond
 * the next byte expected is held out of order (a second copy of it too),
 * one before it is a retransmission.
 */
static void
ti_scramble_expect(const struct ti_scramble *s, const unsigned int *order, unsigned int n,
	uint64_t *ooo, uint64_t *retrans)
{
	int got[6] = { 0 };
	unsigned int next[2] = { 0, 4 }, end[2] = { 4, 6 }, i, k;
	int side;

	*ooo = *retrans = 0;
	for (i = 0; i < n; i++) {
		k = order[i];
		side = s->seg[k].side;
		if (k > next[side])
			(*ooo)++;
		else if (k < next[side])
			(*retrans)++;
		got[k] = 1;
		while (next[side] < end[side] && got[next[side]])
			next[side]++;
	}
}

static void
ti_scramble_run(struct ti_scramble *s, const unsigned int *order, unsigned int n)
{
	struct dp_worker *w = ti_worker(&ti_sh, &ti_cfg);
	uint64_t now = TI_T0, ooo, retrans;
	unsigned int i;

	ti_scramble_expect(s, order, n, &ooo, &retrans);
	now = ti_flow_open(w, &s->f, now);
	for (i = 0; i < n; i++)
		ti_feed(w, &s->pk[order[i]], now++);
	dp_worker_sync_stats(w);
	/* the INVITEs toward the trunk, the 503 from it, each once */
	assert_int_equal(w->trunk[TI_A].invite_attempts, 2);
	assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 2);
	assert_int_equal(w->trunk[TI_A].responses[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].retransmissions, 0);
	assert_int_equal(w->src.sip_messages, 3);
	assert_int_equal(w->src.tcp_out_of_order, ooo);
	assert_int_equal(w->src.tcp_retransmitted, retrans);
	assert_int_equal(w->src.tcp_gaps + w->src.tcp_resyncs + w->src.tcp_out_of_window, 0);
	assert_int_equal(dp_streams_buffers_in_use(w->streams), 0);
	ti_assert_trunk_untouched(w, SG_UNMATCHED);
	ti_done(w);
}

/*
 * heplify delivers TCP streams in scrambled order. Whatever the order
 * (and with a segment seen twice, or the lost one sent again in another
 * cut) each message is counted once, in its trunk and direction; a hole
 * never filled is skipped after gap_timeout and what follows it is
 * counted.
 */
static void
test_scrambled_order(void **state)
{
	static const unsigned int orders[][6] = {
		{ 0, 1, 2, 3, 4, 5 },
		{ 5, 4, 3, 2, 1, 0 },
		{ 1, 3, 0, 5, 2, 4 },
		{ 3, 2, 5, 1, 4, 0 },
		{ 0, 2, 1, 5, 4, 3 },
		{ 2, 3, 5, 0, 4, 1 },
	};
	static const unsigned int dup[] = { 2, 5, 0, 2, 3, 4, 1, 0, 5 };
	static const unsigned int hole[] = { 0, 2, 4, 3, 5 }; /* 1 never comes */
	static struct ti_scramble s;
	static struct ti_pk rtx;
	struct dp_worker *w;
	unsigned int i, j, k, perm[6];
	uint32_t rnd = 12345;
	uint64_t now;

	(void)state;
	ti_scramble_init(&s);
	for (i = 0; i < RTE_DIM(orders); i++)
		ti_scramble_run(&s, orders[i], 6);
	/* and shuffles */
	for (i = 0; i < 24; i++) {
		for (j = 0; j < 6; j++)
			perm[j] = j;
		for (j = 5; j > 0; j--) {
			rnd = rnd * 1103515245u + 12345u;
			k = (rnd >> 16) % (j + 1);
			RTE_SWAP(perm[j], perm[k]);
		}
		ti_scramble_run(&s, perm, 6);
	}
	ti_scramble_run(&s, dup, RTE_DIM(dup));

	/*
	 * The lost segment comes back repacketized: one larger retransmission
	 * from inside the segment before it to the end of the one after it
	 * (already held), so its head and tail overlap what is there.
	 */
	w = ti_worker(&ti_sh, &ti_cfg);
	ti_seg(&rtx, &s.f, 0, 600, DP_TCP_ACK | 0x08, s.a + 600, 2300 - 600);
	now = ti_flow_open(w, &s.f, TI_T0);
	for (i = 0; i < RTE_DIM(hole); i++)
		ti_feed(w, &s.pk[hole[i]], now++);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 0);
	ti_feed(w, &rtx, now++);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 2);
	assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 2);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->src.sip_messages, 3);
	assert_int_equal(w->src.tcp_gaps + w->src.tcp_resyncs + w->src.sip_malformed, 0);
	assert_int_equal(dp_streams_buffers_in_use(w->streams), 0);
	ti_done(w);

	/* a hole never filled: what follows it waits for gap_timeout */
	w = ti_worker(&ti_sh, &ti_cfg);
	now = ti_flow_open(w, &s.f, TI_T0);
	for (i = 0; i < RTE_DIM(hole); i++)
		ti_feed(w, &s.pk[hole[i]], now++);
	dp_worker_tick(w, now + TI_GAP_TIMEOUT / 2);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 0);
	assert_int_equal(w->src.tcp_gaps, 0);
	dp_worker_tick(w, now + TI_GAP_TIMEOUT + 100);
	dp_worker_sync_stats(w);
	/* the INVITE the hole cut is lost; the one after it is counted */
	assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
	assert_int_equal(w->trunk[TI_A].requests[SG_M_INVITE], 1);
	assert_int_equal(w->src.tcp_gaps, 1);
	assert_int_equal(w->src.tcp_gap_bytes, s.seg[1].len);
	assert_int_equal(w->src.sip_messages, 2);
	assert_int_equal(w->src.sip_malformed, 0);
	assert_int_equal(dp_streams_buffers_in_use(w->streams), 0);
	ti_done(w);
}

/* ---- 4: several messages per read ---- */

/*
 * heplify assumes one SIP message per read. A segment carrying 100
 * Trying, a 503, a CRLF keep-alive and a 200 OK counts all of them, and
 * so does one in compact form (a body framed by `l`); so do two segments
 * cut anywhere, one ending a message and starting the next.
 */
static void
test_several_messages_per_read(void **state)
{
	struct ti_flow f = { .addr = { TI_DIALER4, TI_TRUNK4 },
		.port = { 40004, TI_SIP_PORT },
		.isn = { 9, 90000 } };
	char buf[3 * TI_MSG_MAX], id[2][64];
	struct dp_worker *w;
	uint64_t now = TI_T0, blocks = 0;
	uint32_t len, cut;

	(void)state;
	w = ti_worker(&ti_sh, &ti_cfg);
	now = ti_flow_open(w, &f, now);
	/* the two INVITEs, in one segment */
	len = ti_invite(buf, "many-1@192.0.2.1", 1600);
	len += ti_invite(buf + len, "many-2@192.0.2.1", 1600);
	now = ti_flow_send(w, &f, 0, buf, len, len, now);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 2);
	/* their answers, in one segment */
	len = ti_response(buf, 100, "many-1@192.0.2.1");
	len += ti_response(buf + len, 503, "many-1@192.0.2.1");
	memcpy(buf + len, "\r\n\r\n", 4);
	len += 4;
	len += ti_response(buf + len, 200, "many-2@192.0.2.1");
	now = ti_flow_send(w, &f, 1, buf, len, len, now);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].responses[100 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].responses[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].responses[200 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].invite_final[200 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].dialogs_opened, 1);
	assert_int_equal(w->src.sip_messages, 5);
	assert_int_equal(dp_streams_stats(w->streams)->messages, 5);
	assert_int_equal(w->src.sip_malformed + w->src.tcp_resyncs, 0);

	/* compact header names, the body's length in `l` */
	len = (uint32_t)snprintf(buf, sizeof(buf), "%s%s",
		"SIP/2.0 180 Ringing\r\n"
		"v: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-many-3\r\n"
		"f: <sip:+12125550199@192.0.2.1>;tag=d-3\r\n"
		"t: <sip:+14155550100@203.0.113.10>;tag=c-3\r\n"
		"i: many-3@192.0.2.1\r\n"
		"CSeq: 1 INVITE\r\n"
		"c: application/sdp\r\n"
		"l: 12\r\n\r\n"
		"v=0\r\ns=-\r\n\r\n",
		"SIP/2.0 486 Busy Here\r\n"
		"v: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-many-3\r\n"
		"i: many-3@192.0.2.1\r\n"
		"CSeq: 1 INVITE\r\n"
		"l: 0\r\n\r\n");
	now = ti_flow_send(w, &f, 1, buf, len, len, now);
	assert_int_equal(w->trunk[TI_A].responses[180 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].invite_final[486 - SG_STATUS_MIN], 1);
	assert_int_equal(w->src.sip_messages, 7);

	/*
	 * The same three answers (new calls each time) in two segments cut at
	 * every 7th byte: inside a start line, a header, the keep-alive, and
	 * right at a message's end.
	 */
	for (cut = 1;; cut += 7) {
		snprintf(id[0], sizeof(id[0]), "cut-%u-a@192.0.2.1", cut);
		snprintf(id[1], sizeof(id[1]), "cut-%u-b@192.0.2.1", cut);
		len = ti_response(buf, 100, id[0]);
		len += ti_response(buf + len, 503, id[0]);
		memcpy(buf + len, "\r\n\r\n", 4);
		len += 4;
		len += ti_response(buf + len, 200, id[1]);
		if (cut >= len)
			break;
		now = ti_flow_send(w, &f, 1, buf, cut, cut, now);
		now = ti_flow_send(w, &f, 1, buf + cut, len - cut, len, now);
		blocks++;
	}
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].responses[100 - SG_STATUS_MIN], 1 + blocks);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1 + blocks);
	assert_int_equal(w->trunk[TI_A].invite_final[200 - SG_STATUS_MIN], 1 + blocks);
	assert_int_equal(w->trunk[TI_A].retransmissions, 0);
	assert_int_equal(w->src.sip_messages, 7 + 3 * blocks);
	assert_int_equal(w->src.sip_malformed + w->src.tcp_resyncs + w->src.tcp_gaps, 0);
	ti_assert_trunk_untouched(w, SG_UNMATCHED);
	ti_done(w);
}

/*
 * An SBC pair fails over: the standby takes the floating address and
 * connects to the carrier again from the same address and port (5060 on
 * both sides), while the old connection's end was never seen (the failed
 * SBC sent no FIN or RST, or the capture lost it). The new connection's
 * SYN and SYN-ACK carry new initial sequence numbers; what it carries
 * must be counted like any other connection's.
 *
 * A SYN on a flow under way, other than a copy of the one that opened
 * it, ends the old connection and starts the new one (dp_stream.c, "session
 * reuse"); without that, the new connection's segments are taken as
 * retransmissions of the old one (sequence number behind) or dropped out
 * of window (ahead), and while it stays busy the flow never idles out:
 * nothing on it would ever be counted.
 */
static void
test_connection_reuse(void **state)
{
	struct ti_flow f = { .addr = { TI_DIALER4, TI_TRUNK4 },
		.port = { TI_SIP_PORT, TI_SIP_PORT },
		.isn = { 1000, 2000 } };
	static struct ti_pk k;
	char msg[TI_MSG_MAX], id[64];
	struct dp_worker *w;
	uint64_t now = TI_T0;
	uint32_t len;
	int rst;

	(void)state;
	/* rst 1: the old connection's RST is seen (passes); 0: it is not */
	for (rst = 1; rst >= 0; rst--) {
		w = ti_worker(&ti_sh, &ti_cfg);
		f.isn[0] = 1000;
		f.isn[1] = 2000;
		now = ti_flow_open(w, &f, TI_T0);
		len = ti_invite(msg, "reuse-1@192.0.2.1", 1600);
		now = ti_flow_send(w, &f, 0, msg, len, 1400, now);
		len = ti_response(msg, 503, "reuse-1@192.0.2.1");
		now = ti_flow_send(w, &f, 1, msg, len, 1400, now);
		assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
		if (rst) {
			ti_seg(&k, &f, 0, f.sent[0], DP_TCP_RST, NULL, 0);
			ti_feed(w, &k, now++);
		}
		/* the standby, 2 s later: one ISN behind the old stream, one ahead */
		f.isn[0] = 0x9e3779b9;
		f.isn[1] = 0x7f4a7c15;
		now = ti_flow_open(w, &f, now + 2000);
		snprintf(id, sizeof(id), "reuse-2-%d@192.0.2.1", rst);
		len = ti_invite(msg, id, 1600);
		now = ti_flow_send(w, &f, 0, msg, len, 1400, now);
		len = ti_response(msg, 503, id);
		now = ti_flow_send(w, &f, 1, msg, len, 1400, now);
		dp_worker_sync_stats(w);
		assert_int_equal(w->trunk[TI_A].invite_attempts, 2);
		assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 2);
		assert_int_equal(w->src.tcp_retransmitted + w->src.tcp_out_of_window, 0);
		/* without the RST, the new SYN is what ended the old connection */
		assert_int_equal(w->src.tcp_flows_reused, rst ? 0 : 1);
		ti_done(w);
	}
}

/* ---- 5: mirror feeds ---- */

/* The INVITE and its 503 inside `depth` tunnels, innermost first. */
static void
ti_mirror_call(struct dp_worker *w, const enum ti_tunnel *tun, unsigned int depth, int v6,
	const char *call_id, uint64_t now)
{
	static struct ti_pk k;
	char msg[TI_MSG_MAX];
	uint32_t len;
	unsigned int i;

	len = ti_invite(msg, call_id, TI_INVITE_SIZE);
	ti_udp_ip(&k, v6 ? TI_DIALER6 : TI_DIALER4, TI_SIP_PORT, v6 ? TI_TRUNK6 : TI_TRUNK4,
		TI_SIP_PORT, msg, len);
	for (i = 0; i < depth; i++)
		ti_wrap(&k, tun[i]);
	ti_eth(&k);
	ti_feed(w, &k, now);
	len = ti_response(msg, 503, call_id);
	ti_udp_ip(&k, v6 ? TI_TRUNK6 : TI_TRUNK4, TI_SIP_PORT, v6 ? TI_DIALER6 : TI_DIALER4,
		TI_SIP_PORT, msg, len);
	for (i = 0; i < depth; i++)
		ti_wrap(&k, tun[i]);
	ti_eth(&k);
	ti_feed(w, &k, now + 40);
}

/*
 * Mirror feeds: the INVITE and its 503 inside VXLAN, GRE (Ethernet),
 * ERSPAN II and III, and IP in IP are counted on the trunk of their inner
 * addresses (the outer ones belong to another trunk), and so are
 * fragments inside a tunnel and a tunnel fragmented outside; nested
 * deeper than decap.max_depth they are counted too deep, never as
 * messages.
 */
static void
test_mirror_feeds(void **state)
{
	static const enum ti_tunnel all[] = { TI_VXLAN, TI_GRE_ETH, TI_ERSPAN2, TI_ERSPAN3,
		TI_IPIP };
	static const enum ti_tunnel two[] = { TI_VXLAN, TI_GRE_ETH };
	static const enum ti_tunnel three[] = { TI_IPIP, TI_VXLAN, TI_GRE_ETH };
	static struct ti_pk ip, fr[2];
	char id[64], msg[TI_MSG_MAX];
	struct dp_worker *w;
	unsigned int i, v6;
	uint32_t len;

	(void)state;
	for (i = 0; i < RTE_DIM(all); i++) {
		for (v6 = 0; v6 < 2; v6++) {
			snprintf(id, sizeof(id), "mirror-%s-%u@192.0.2.1", ti_tunnel_names[all[i]],
				v6);
			w = ti_worker(&ti_sh, &ti_cfg);
			ti_mirror_call(w, &all[i], 1, (int)v6, id, TI_T0);
			dp_worker_sync_stats(w);
			assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
			assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
			assert_int_equal(w->src.sip_messages, 2);
			ti_assert_trunk_untouched(w, TI_B);
			ti_assert_trunk_untouched(w, SG_UNMATCHED);
			assert_int_equal(w->src.decap_vxlan, all[i] == TI_VXLAN ? 2 : 0);
			assert_int_equal(w->src.decap_gre, all[i] == TI_GRE_ETH ? 2 : 0);
			assert_int_equal(w->src.decap_erspan,
				all[i] == TI_ERSPAN2 || all[i] == TI_ERSPAN3 ? 2 : 0);
			assert_int_equal(w->src.decap_ipip, all[i] == TI_IPIP ? 2 : 0);
			assert_int_equal(w->src.decap_pptp, 0);
			assert_int_equal(w->src.drops[SG_DROP_TOO_DEEP], 0);
			ti_done(w);
		}
	}

	/*
	 * A SPAN session mirrors each fragment of the INVITE on its own, each
	 * in ERSPAN: the fragments are reassembled inside the tunnel.
	 */
	w = ti_worker(&ti_sh, &ti_cfg);
	len = ti_invite(msg, "mirror-frag-in@192.0.2.1", TI_INVITE_SIZE);
	ti_udp_ip(&ip, TI_DIALER4, TI_SIP_PORT, TI_TRUNK4, TI_SIP_PORT, msg, len);
	ti_fragment(&ip, 2, 0, 0, fr);
	for (i = 0; i < 2; i++) {
		ti_wrap(&fr[1 - i], TI_ERSPAN2);
		ti_eth(&fr[1 - i]);
		ti_feed(w, &fr[1 - i], TI_T0 + i);
	}
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
	assert_int_equal(w->src.drops[SG_DROP_FRAGMENT], 2);
	assert_int_equal(w->src.frag_reassembled, 1);
	assert_int_equal(w->src.decap_erspan, 2);
	ti_assert_trunk_untouched(w, TI_B);
	ti_done(w);

	/*
	 * VXLAN's 50 bytes push a full-size frame over the mirror network's
	 * MTU: the VXLAN datagram itself is fragmented, outside the tunnel.
	 */
	w = ti_worker(&ti_sh, &ti_cfg);
	len = ti_invite(msg, "mirror-frag-out@192.0.2.1", TI_INVITE_SIZE);
	ti_udp_ip(&ip, TI_DIALER6, TI_SIP_PORT, TI_TRUNK6, TI_SIP_PORT, msg, len);
	ti_wrap(&ip, TI_VXLAN);
	ti_fragment(&ip, 2, 0, 1, fr);
	ti_feed(w, &fr[0], TI_T0);
	ti_feed(w, &fr[1], TI_T0 + 1);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
	assert_int_equal(w->src.drops[SG_DROP_FRAGMENT], 2);
	assert_int_equal(w->src.frag_reassembled, 1);
	assert_int_equal(w->src.decap_vxlan, 1);
	ti_assert_trunk_untouched(w, TI_B);
	ti_done(w);

	/* two deep (VXLAN inside GRE): as deep as max_depth allows */
	w = ti_worker(&ti_sh, &ti_cfg);
	ti_mirror_call(w, two, RTE_DIM(two), 0, "mirror-two@192.0.2.1", TI_T0);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->src.decap_vxlan, 2);
	assert_int_equal(w->src.decap_gre, 2);
	ti_assert_trunk_untouched(w, TI_B);
	ti_done(w);

	/* three deep: too deep, no message anywhere */
	w = ti_worker(&ti_sh, &ti_cfg);
	ti_mirror_call(w, three, RTE_DIM(three), 0, "mirror-three@192.0.2.1", TI_T0);
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.drops[SG_DROP_TOO_DEEP], 2);
	assert_int_equal(w->src.sip_messages + w->src.sip_malformed, 0);
	ti_assert_trunk_untouched(w, TI_A);
	ti_assert_trunk_untouched(w, TI_B);
	ti_assert_trunk_untouched(w, SG_UNMATCHED);
	ti_done(w);
}

/* ---- 6: HEP ---- */

/* A HEP datagram from `agent` to the collector, as a frame. */
static void
ti_hep_frame(struct ti_pk *k, const char *agent, const uint8_t *hep, uint32_t n)
{
	ti_udp_ip(k, agent, 47000, ti_family(agent) == 4 ? TI_COLLECTOR4 : TI_COLLECTOR6,
		TI_HEP_PORT, hep, n);
	ti_eth(k);
}

/*
 * HEP: a 503 captured by an allowed agent is counted on the trunk of its
 * inner addresses at its capture time; agents outside hep.allow and
 * wrong keys are refused and counted; a HEP datagram too large for one
 * frame is reassembled; HEP over TCP is framed whatever the segmentation
 * (several packets in a segment, a packet cut anywhere).
 */
static void
test_hep(void **state)
{
	static struct ti_pk k, fr[2];
	static uint8_t hep[2][TI_PK_ROOM];
	static const char *const agents[] = { TI_AGENT4, TI_AGENT6 };
	struct ti_flow f = { .addr = { TI_AGENT4, TI_COLLECTOR4 },
		.port = { 41000, TI_HEP_PORT },
		.isn = { 3000, 4000 } };
	const uint64_t t_cap = TI_T0 + 600000; /* the capture time the agent stamps */
	char msg[TI_MSG_MAX], seg[2 * TI_PK_ROOM], id[64];
	uint32_t len, n, h0, h1, cut, cuts = 0;
	struct dp_worker *w;
	unsigned int i;
	uint64_t now;

	(void)state;
	/*
	 * Accepted, at its capture time: the frame arrives 100 s before the
	 * capture time it carries (a late or clock-skewed agent), and the same
	 * 503 seen on the wire 1 s after the capture time is its
	 * retransmission. Counted at the frame's time, it would be new.
	 */
	w = ti_worker(&ti_sh, &ti_cfg);
	len = ti_response(msg, 503, "hep-1@192.0.2.1");
	n = ti_hep(hep[0], TI_TRUNK4, TI_DIALER4, t_cap, NULL, msg, len);
	ti_hep_frame(&k, TI_AGENT4, hep[0], n);
	ti_feed(w, &k, t_cap - 100000);
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.hep_accepted, 1);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].retransmissions, 0);
	ti_send_udp(w, TI_TRUNK4, TI_DIALER4, msg, len, t_cap + 1000);
	assert_int_equal(w->trunk[TI_A].responses[503 - SG_STATUS_MIN], 2);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	assert_int_equal(w->trunk[TI_A].retransmissions, 1);
	ti_assert_trunk_untouched(w, SG_UNMATCHED);
	ti_done(w);

	/* from an agent outside hep.allow: refused, no message */
	w = ti_worker(&ti_sh, &ti_cfg);
	ti_hep_frame(&k, TI_OUTSIDER, hep[0], n);
	ti_feed(w, &k, t_cap);
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.hep_refused_agent, 1);
	assert_int_equal(w->src.drops[SG_DROP_HEP_REFUSED], 1);
	assert_int_equal(w->src.hep_accepted + w->src.sip_messages + w->src.sip_malformed, 0);
	ti_assert_trunk_untouched(w, TI_A);
	ti_done(w);

	/* with a key required: no key and a wrong key refused, the right one heard */
	w = ti_worker(&ti_sh_auth, &ti_cfg_auth);
	ti_hep_frame(&k, TI_AGENT4, hep[0], n);
	ti_feed(w, &k, t_cap);
	n = ti_hep(hep[1], TI_TRUNK4, TI_DIALER4, t_cap, "s3cret-kez", msg, len);
	ti_hep_frame(&k, TI_AGENT4, hep[1], n);
	ti_feed(w, &k, t_cap + 1);
	dp_worker_sync_stats(w);
	assert_int_equal(w->src.hep_refused_auth, 2);
	assert_int_equal(w->src.drops[SG_DROP_HEP_REFUSED], 2);
	assert_int_equal(w->src.sip_messages, 0);
	ti_assert_trunk_untouched(w, TI_A);
	n = ti_hep(hep[1], TI_TRUNK4, TI_DIALER4, t_cap, TI_HEP_KEY, msg, len);
	ti_hep_frame(&k, TI_AGENT4, hep[1], n);
	ti_feed(w, &k, t_cap + 2);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	ti_done(w);

	/* the 2 KB INVITE in HEP: over 1500 bytes, fragmented, reassembled */
	for (i = 0; i < RTE_DIM(agents); i++) {
		w = ti_worker(&ti_sh, &ti_cfg);
		len = ti_invite(msg, i == 0 ? "hep-frag-4@192.0.2.1" : "hep-frag-6@192.0.2.1",
			TI_INVITE_SIZE);
		n = ti_hep(hep[0], i == 0 ? TI_DIALER4 : TI_DIALER6, i == 0 ? TI_TRUNK4 : TI_TRUNK6,
			t_cap, NULL, msg, len);
		ti_udp_ip(&k, agents[i], 47000, i == 0 ? TI_COLLECTOR4 : TI_COLLECTOR6, TI_HEP_PORT,
			hep[0], n);
		assert_true(k.len + 14 > 1500);
		ti_fragment(&k, 2, 99, 1, fr);
		assert_true(fr[0].len <= 1514 && fr[1].len <= 1514);
		ti_feed(w, &fr[1], t_cap);
		ti_feed(w, &fr[0], t_cap + 1);
		dp_worker_sync_stats(w);
		assert_int_equal(w->src.frag_reassembled, 1);
		assert_int_equal(w->src.hep_accepted, 1);
		assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
		assert_int_equal(w->src.sip_messages, 1);
		ti_done(w);
	}

	/*
	 * HEP over TCP: the INVITE and the 503 in one segment, then a 200 for
	 * another call split over two.
	 */
	w = ti_worker(&ti_sh, &ti_cfg);
	now = ti_flow_open(w, &f, t_cap);
	len = ti_invite(msg, "hep-tcp-1@192.0.2.1", TI_INVITE_SIZE);
	h0 = ti_hep(hep[0], TI_DIALER4, TI_TRUNK4, t_cap, NULL, msg, len);
	len = ti_response(msg, 503, "hep-tcp-1@192.0.2.1");
	h1 = ti_hep(hep[1], TI_TRUNK4, TI_DIALER4, t_cap + 30, NULL, msg, len);
	memcpy(seg, hep[0], h0);
	memcpy(seg + h0, hep[1], h1);
	now = ti_flow_send(w, &f, 0, seg, h0 + h1, h0 + h1, now);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_attempts, 1);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1);
	len = ti_response(msg, 200, "hep-tcp-2@192.0.2.1");
	h1 = ti_hep(hep[1], TI_TRUNK4, TI_DIALER4, t_cap + 60, NULL, msg, len);
	now = ti_flow_send(w, &f, 0, hep[1], h1, h1 / 2 + 1, now);
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_final[200 - SG_STATUS_MIN], 1);
	assert_int_equal(w->src.hep_accepted, 3);
	assert_int_equal(w->src.sip_messages, 3);
	assert_int_equal(w->src.drops[SG_DROP_TCP_STREAMED], 3);
	/* a 503 cut anywhere: in "HEP3", its length, a chunk header, the SIP */
	for (cut = 1; cut < h1; cut += 5) {
		snprintf(id, sizeof(id), "hep-cut-%u@192.0.2.1", cut);
		len = ti_response(msg, 503, id);
		h1 = ti_hep(hep[1], TI_TRUNK4, TI_DIALER4, t_cap + 100 + cut, NULL, msg, len);
		now = ti_flow_send(w, &f, 0, hep[1], cut, cut, now);
		now = ti_flow_send(w, &f, 0, hep[1] + cut, h1 - cut, h1, now);
		cuts++;
	}
	dp_worker_sync_stats(w);
	assert_int_equal(w->trunk[TI_A].invite_final[503 - SG_STATUS_MIN], 1 + cuts);
	assert_int_equal(w->src.hep_accepted, 3 + cuts);
	assert_int_equal(w->src.hep_bad + w->src.tcp_resyncs + w->src.tcp_oversize, 0);
	ti_assert_trunk_untouched(w, SG_UNMATCHED);
	ti_done(w);

	/* HEP over TCP from an agent outside hep.allow: not even buffered */
	w = ti_worker(&ti_sh, &ti_cfg);
	len = ti_response(msg, 200, "hep-tcp-3@192.0.2.1");
	h1 = ti_hep(hep[1], TI_TRUNK4, TI_DIALER4, t_cap, NULL, msg, len);
	f.addr[0] = TI_OUTSIDER;
	now = ti_flow_open(w, &f, t_cap);
	ti_flow_send(w, &f, 0, hep[1], h1, h1, now);
	dp_worker_sync_stats(w);
	/* the SYN and the segment (the collector's SYN-ACK is not to the HEP port) */
	assert_int_equal(w->src.hep_refused_agent, 2);
	assert_int_equal(w->src.drops[SG_DROP_HEP_REFUSED], 2);
	assert_int_equal(w->src.sip_messages, 0);
	assert_int_equal(dp_streams_stats(w->streams)->segments, 0);
	ti_done(w);
}

/* ---- setup ---- */

static void
ti_load(struct sg_config *cfg, uint32_t buffer_size, const char *key)
{
	char text[2048], err[256];
	int n = snprintf(text, sizeof(text), ti_conf_fmt, buffer_size, key);

	assert_true(n > 0 && (size_t)n < sizeof(text));
	if (cfg_load_buffer(text, (size_t)n, "test_ingest.conf", cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static int
ti_setup(void **state)
{
	char err[256];

	(void)state;
	ti_load(&ti_cfg, 8192, "");
	ti_load(&ti_cfg_small, 2048, "");
	ti_load(&ti_cfg_auth, 8192, TI_HEP_KEY);
	assert_int_equal(ti_cfg.frag.timeout_ms, TI_FRAG_TIMEOUT);
	assert_int_equal(ti_cfg.streams.gap_timeout_ms, TI_GAP_TIMEOUT);
	ti_db = dp_sip_db_create(err, sizeof(err));
	if (ti_db == NULL)
		fail_msg("%s", err);
	assert_int_equal(dp_sip_scratch_alloc(ti_db, &ti_proto), 0);
	ti_trunks = dp_trunks_create(&ti_cfg, "ingest_trunks", 0, err, sizeof(err));
	if (ti_trunks == NULL)
		fail_msg("%s", err);
	dp_worker_shared_init(&ti_sh, &ti_cfg);
	ti_sh.db = ti_db;
	ti_sh.trunks = ti_trunks;
	ti_sh.link = DP_LINK_ETHER;
	dp_worker_shared_init(&ti_sh_auth, &ti_cfg_auth);
	ti_sh_auth.db = ti_db;
	ti_sh_auth.trunks = ti_trunks;
	ti_sh_auth.link = DP_LINK_ETHER;
	return 0;
}

static int
ti_teardown(void **state)
{
	(void)state;
	dp_trunks_free(ti_trunks);
	hs_free_scratch(ti_proto);
	dp_sip_db_free(ti_db);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fragments_without_ports),
		cmocka_unit_test(test_segmented_small_buffers),
		cmocka_unit_test(test_scrambled_order),
		cmocka_unit_test(test_several_messages_per_read),
		cmocka_unit_test(test_connection_reuse),
		cmocka_unit_test(test_mirror_feeds),
		cmocka_unit_test(test_hep),
	};

	if (sg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, ti_setup, ti_teardown);
}
