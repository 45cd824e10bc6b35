/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the packet decoder. Frames are assembled here by small
 * builders (link header, tags, IP, extension headers, UDP/TCP) so each test
 * states the layout it exercises; the truncation sweep and the mutation
 * loop hand the decoder exactly-sized heap copies so the sanitizer build
 * catches any read past the captured bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "dp_decode.h"

#define TB_MAX 512

/* A frame under construction, with the offsets needed to fix lengths. */
struct tb {
	uint8_t buf[TB_MAX];
	uint32_t len;
	uint32_t ip_off; /* network header */
	uint32_t l4_off; /* UDP/TCP header */
	int ip_ver;	 /* 0 until an IP header is added */
	int is_udp;
};

static const uint8_t tb_src4[4] = { 192, 0, 2, 10 };
static const uint8_t tb_dst4[4] = { 198, 51, 100, 20 };
static const uint8_t tb_src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t tb_dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const char tb_sip[] = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";

static void
tb_init(struct tb *b)
{
	memset(b, 0, sizeof(*b));
}

static void
tb_put(struct tb *b, const void *p, size_t n)
{
	assert_true(b->len + n <= TB_MAX);
	if (n == 0)
		return; /* memcpy from NULL is undefined even for 0 bytes */
	memcpy(b->buf + b->len, p, n);
	b->len += (uint32_t)n;
}

static void
tb_u8(struct tb *b, uint8_t v)
{
	tb_put(b, &v, 1);
}

static void
tb_be16(struct tb *b, uint16_t v)
{
	tb_u8(b, (uint8_t)(v >> 8));
	tb_u8(b, (uint8_t)v);
}

static void
tb_be32(struct tb *b, uint32_t v)
{
	tb_be16(b, (uint16_t)(v >> 16));
	tb_be16(b, (uint16_t)v);
}

static void
tb_set_be16(struct tb *b, uint32_t off, uint16_t v)
{
	b->buf[off] = (uint8_t)(v >> 8);
	b->buf[off + 1] = (uint8_t)v;
}

/* Ethernet II: MACs, then `ntags` tags with the given TPIDs, then `type`. */
static void
tb_eth(struct tb *b, const uint16_t *tpids, unsigned int ntags, uint16_t type)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2 };
	unsigned int i;

	tb_put(b, macs, sizeof(macs));
	for (i = 0; i < ntags; i++) {
		tb_be16(b, tpids[i]);
		tb_be16(b, (uint16_t)(100 + i)); /* PCP 0, VID 100+i */
	}
	tb_be16(b, type);
}

/* Linux cooked v1 header, as sent by the host (packet type 4). */
static void
tb_sll(struct tb *b, uint16_t protocol)
{
	static const uint8_t addr[8] = { 0x02, 0, 0, 0, 0, 1, 0, 0 };

	tb_be16(b, 4); /* outgoing */
	tb_be16(b, 1); /* ARPHRD_ETHER */
	tb_be16(b, 6);
	tb_put(b, addr, sizeof(addr));
	tb_be16(b, protocol);
}

/* IPv4 header of `ihl` words, options padded with NOPs; length fixed later. */
static void
tb_ipv4(struct tb *b, uint8_t proto, unsigned int ihl, uint16_t frag)
{
	unsigned int i;

	b->ip_off = b->len;
	b->ip_ver = 4;
	tb_u8(b, (uint8_t)(0x40 | (ihl & 0x0f)));
	tb_u8(b, 0);
	tb_be16(b, 0);	    /* total length */
	tb_be16(b, 0x1234); /* id */
	tb_be16(b, frag);
	tb_u8(b, 64);
	tb_u8(b, proto);
	tb_be16(b, 0xdead); /* checksum, deliberately wrong */
	tb_put(b, tb_src4, 4);
	tb_put(b, tb_dst4, 4);
	for (i = 20; i < ihl * 4; i++)
		tb_u8(b, 1);
}

static void
tb_ipv6(struct tb *b, uint8_t next)
{
	b->ip_off = b->len;
	b->ip_ver = 6;
	tb_be32(b, 0x60000000);
	tb_be16(b, 0); /* payload length */
	tb_u8(b, next);
	tb_u8(b, 64);
	tb_put(b, tb_src6, 16);
	tb_put(b, tb_dst6, 16);
}

/* Hop-by-hop, destination options or routing header of `len` bytes. */
static void
tb_ext6(struct tb *b, uint8_t next, uint32_t len)
{
	uint32_t i;

	assert_true(len >= 8 && len % 8 == 0);
	tb_u8(b, next);
	tb_u8(b, (uint8_t)(len / 8 - 1));
	tb_u8(b, 1); /* PadN over the rest; for routing: type 1, segs 0 */
	tb_u8(b, (uint8_t)(len - 4));
	for (i = 4; i < len; i++)
		tb_u8(b, 0);
}

static void
tb_frag6(struct tb *b, uint8_t next, uint16_t offset_words, int more)
{
	tb_u8(b, next);
	tb_u8(b, 0);
	tb_be16(b, (uint16_t)((offset_words << 3) | (more ? 1 : 0)));
	tb_be32(b, 0xabcd);
}

static void
tb_udp(struct tb *b, uint16_t sport, uint16_t dport, const void *payload, size_t n)
{
	b->l4_off = b->len;
	b->is_udp = 1;
	tb_be16(b, sport);
	tb_be16(b, dport);
	tb_be16(b, 0); /* length */
	tb_be16(b, 0); /* checksum */
	tb_put(b, payload, n);
}

static void
tb_tcp(struct tb *b, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags, unsigned int doff,
	const void *payload, size_t n)
{
	unsigned int i;

	b->l4_off = b->len;
	tb_be16(b, sport);
	tb_be16(b, dport);
	tb_be32(b, seq);
	tb_be32(b, 0);
	tb_u8(b, (uint8_t)(doff << 4));
	tb_u8(b, flags);
	tb_be16(b, 65535);
	tb_be32(b, 0);
	for (i = 20; i < doff * 4; i++)
		tb_u8(b, 1);
	tb_put(b, payload, n);
}

/* Set the IP and UDP length fields so they cover everything built so far. */
static void
tb_finish(struct tb *b)
{
	if (b->ip_ver == 4)
		tb_set_be16(b, b->ip_off + 2, (uint16_t)(b->len - b->ip_off));
	else if (b->ip_ver == 6)
		tb_set_be16(b, b->ip_off + 4, (uint16_t)(b->len - b->ip_off - 40));
	if (b->is_udp)
		tb_set_be16(b, b->l4_off + 4, (uint16_t)(b->len - b->l4_off));
}

static void
tb_pad(struct tb *b, uint32_t to)
{
	while (b->len < to)
		tb_u8(b, 0);
}

/* Decode a frame built in `b` as Ethernet. */
static enum dp_decode_res
tb_decode(const struct tb *b, struct dp_pkt *pkt)
{
	return dp_decode(b->buf, b->len, DP_LINK_ETHER, pkt);
}

static void
expect_v4_addrs(const struct dp_pkt *pkt)
{
	static const uint8_t zero[12];

	assert_int_equal(pkt->family, 4);
	assert_memory_equal(pkt->src, tb_src4, 4);
	assert_memory_equal(pkt->dst, tb_dst4, 4);
	assert_memory_equal(pkt->src + 4, zero, 12);
	assert_memory_equal(pkt->dst + 4, zero, 12);
}

static void
expect_v6_addrs(const struct dp_pkt *pkt)
{
	assert_int_equal(pkt->family, 6);
	assert_memory_equal(pkt->src, tb_src6, 16);
	assert_memory_equal(pkt->dst, tb_dst6, 16);
}

/* Expect an OK UDP decode of tb_sip from 5060 to 5080 at `b->l4_off + 8`. */
static void
expect_udp_sip(const struct tb *b, const struct dp_pkt *pkt)
{
	assert_int_equal(pkt->proto, IPPROTO_UDP);
	assert_int_equal(pkt->sport, 5060);
	assert_int_equal(pkt->dport, 5080);
	assert_ptr_equal(pkt->payload, b->buf + b->l4_off + 8);
	assert_int_equal(pkt->payload_len, sizeof(tb_sip) - 1);
	assert_memory_equal(pkt->payload, tb_sip, sizeof(tb_sip) - 1);
}

/* Ethernet, optional tags, IPv4 with `ihl`, UDP 5060 -> 5080 with tb_sip. */
static void
build_v4_udp(struct tb *b, const uint16_t *tpids, unsigned int ntags, unsigned int ihl)
{
	tb_init(b);
	tb_eth(b, tpids, ntags, 0x0800);
	tb_ipv4(b, IPPROTO_UDP, ihl, 0);
	tb_udp(b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(b);
}

/* Ethernet, IPv6, hop-by-hop + destination options + routing, TCP. */
static void
build_v6_ext_tcp(struct tb *b)
{
	tb_init(b);
	tb_eth(b, NULL, 0, 0x86dd);
	tb_ipv6(b, IPPROTO_HOPOPTS);
	tb_ext6(b, IPPROTO_DSTOPTS, 8);
	tb_ext6(b, IPPROTO_ROUTING, 16);
	tb_ext6(b, IPPROTO_TCP, 24);
	tb_tcp(b, 5061, 40000, 0x01020304, 0x18, 8, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(b);
}

static void
test_eth_ipv4_udp(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	build_v4_udp(&b, NULL, 0, 5);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.vlans, 0);
	expect_v4_addrs(&pkt);
	expect_udp_sip(&b, &pkt);
	assert_int_equal(b.l4_off, 14 + 20);
}

static void
test_vlan_8021q(void **state)
{
	static const uint16_t tags[] = { 0x8100 };
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	build_v4_udp(&b, tags, 1, 5);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.vlans, 1);
	expect_v4_addrs(&pkt);
	expect_udp_sip(&b, &pkt);
}

static void
test_qinq(void **state)
{
	static const uint16_t ad[] = { 0x88a8, 0x8100 };
	static const uint16_t old[] = { 0x9100, 0x8100 };
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	build_v4_udp(&b, ad, 2, 5);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.vlans, 2);
	expect_udp_sip(&b, &pkt);

	build_v4_udp(&b, old, 2, 5);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.vlans, 2);
	expect_udp_sip(&b, &pkt);
}

static void
test_three_tags(void **state)
{
	static const uint16_t tags[] = { 0x88a8, 0x8100, 0x8100 };
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	build_v4_udp(&b, tags, 3, 5);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_L2_UNSUPPORTED);
	/* Cut right after the third TPID: still a third tag, not a short read. */
	assert_int_equal(dp_decode(b.buf, 14 + 8 + 2, DP_LINK_ETHER, &pkt), DP_DEC_L2_UNSUPPORTED);
}

static void
test_other_l2(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	build_v4_udp(&b, NULL, 0, 5);
	assert_int_equal(dp_decode(b.buf, b.len, (enum dp_link)0, &pkt), DP_DEC_L2_UNSUPPORTED);
	assert_int_equal(dp_decode(b.buf, b.len, (enum dp_link)276, &pkt), DP_DEC_L2_UNSUPPORTED);

	/* PPPoE session, its header an IPv4 one: version/type 0x45 */
	tb_set_be16(&b, 12, 0x8864);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_L2_UNSUPPORTED);
	tb_set_be16(&b, 12, 0x8863); /* PPPoE discovery */
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_L2_UNSUPPORTED);
	tb_set_be16(&b, 12, 0x8847); /* MPLS */
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_L2_UNSUPPORTED);
}

static void
test_ipv4_options(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	build_v4_udp(&b, NULL, 0, 6);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	assert_int_equal(b.l4_off, 14 + 24);
	expect_v4_addrs(&pkt);
	expect_udp_sip(&b, &pkt);

	build_v4_udp(&b, NULL, 0, 15);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	assert_int_equal(b.l4_off, 14 + 60);
	expect_v4_addrs(&pkt);
	expect_udp_sip(&b, &pkt);
}

static void
test_ethernet_padding(void **state)
{
	static const char crlf[] = "\r\n\r\n";
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0800);
	tb_ipv4(&b, IPPROTO_UDP, 5, 0);
	tb_udp(&b, 5060, 5060, crlf, 4);
	tb_finish(&b);
	assert_int_equal(b.len, 46);
	tb_pad(&b, 60);
	/* Padding that looks like data must still be left out. */
	memset(b.buf + 46, 'X', 14);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.payload_len, 4);
	assert_memory_equal(pkt.payload, crlf, 4);

	/* A TCP segment without data in a padded frame has no payload. */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0800);
	tb_ipv4(&b, IPPROTO_TCP, 5, 0);
	tb_tcp(&b, 5060, 1234, 7, 0x10, 5, NULL, 0);
	tb_finish(&b);
	tb_pad(&b, 60);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.payload_len, 0);
}

static void
test_ipv4_fragments(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	/* First fragment: MF set, offset 0. */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0800);
	tb_ipv4(&b, IPPROTO_UDP, 5, 0x2000);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_FRAGMENT);
	expect_v4_addrs(&pkt);
	assert_int_equal(pkt.l3_off, 14);
	assert_int_equal(pkt.l3_hlen, 20);
	assert_int_equal(pkt.l3_len, b.len - 14);
	assert_int_equal(pkt.v6_frag_off, 0);
	/* Reassembly needs the whole fragment: one cut short is truncated. */
	assert_int_equal(dp_decode(b.buf, b.len - 1, DP_LINK_ETHER, &pkt), DP_DEC_TRUNCATED);
	expect_v4_addrs(&pkt);

	/* Last fragment: MF clear, offset 185 words; its data is not UDP. */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0800);
	tb_ipv4(&b, IPPROTO_UDP, 6, 185);
	tb_put(&b, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	tb_pad(&b, b.len + 8); /* padding is not part of it */
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_FRAGMENT);
	expect_v4_addrs(&pkt);
	assert_int_equal(pkt.l3_hlen, 24);
	assert_int_equal(pkt.l3_len, 24 + sizeof(tb_sip) - 1);

	/* DF alone is not a fragment. */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0800);
	tb_ipv4(&b, IPPROTO_UDP, 5, 0x4000);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	expect_udp_sip(&b, &pkt);
}

static void
test_ipv6_udp(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x86dd);
	tb_ipv6(&b, IPPROTO_UDP);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	expect_v6_addrs(&pkt);
	expect_udp_sip(&b, &pkt);
	assert_int_equal(b.l4_off, 14 + 40);

	/* Padding after the declared payload is left out here too. */
	tb_pad(&b, b.len + 6);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	expect_udp_sip(&b, &pkt);
}

static void
test_ipv6_ext_headers(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x86dd);
	tb_ipv6(&b, IPPROTO_HOPOPTS);
	tb_ext6(&b, IPPROTO_DSTOPTS, 8);
	tb_ext6(&b, IPPROTO_ROUTING, 24);
	tb_ext6(&b, IPPROTO_UDP, 16);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(b.l4_off, 14 + 40 + 8 + 24 + 16);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	expect_v6_addrs(&pkt);
	expect_udp_sip(&b, &pkt);
}

static void
test_ipv6_ah(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	/* AH with a 12-byte ICV: 24 bytes, length field (24 / 4) - 2 = 4. */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x86dd);
	tb_ipv6(&b, IPPROTO_AH);
	tb_u8(&b, IPPROTO_UDP);
	tb_u8(&b, 4);
	tb_pad(&b, b.len + 22);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(b.l4_off, 14 + 40 + 24);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	expect_udp_sip(&b, &pkt);
}

static void
test_ipv6_ext_limit(void **state)
{
	struct dp_pkt pkt;
	struct tb b;
	int i;

	(void)state;
	/* Eight destination options headers are still decoded... */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x86dd);
	tb_ipv6(&b, IPPROTO_DSTOPTS);
	for (i = 0; i < 7; i++)
		tb_ext6(&b, IPPROTO_DSTOPTS, 8);
	tb_ext6(&b, IPPROTO_UDP, 8);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	expect_udp_sip(&b, &pkt);

	/* ...a ninth is not. */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x86dd);
	tb_ipv6(&b, IPPROTO_DSTOPTS);
	for (i = 0; i < 8; i++)
		tb_ext6(&b, IPPROTO_DSTOPTS, 8);
	tb_ext6(&b, IPPROTO_UDP, 8);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);
}

static void
test_ipv6_fragment(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x86dd);
	tb_ipv6(&b, IPPROTO_FRAGMENT);
	tb_frag6(&b, IPPROTO_UDP, 0, 1);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_FRAGMENT);
	expect_v6_addrs(&pkt);
	assert_int_equal(pkt.l3_off, 14);
	assert_int_equal(pkt.l3_hlen, 40);
	assert_int_equal(pkt.v6_frag_off, 40);
	assert_int_equal(pkt.l3_len, b.len - 14);
	assert_int_equal(dp_decode(b.buf, b.len - 1, DP_LINK_ETHER, &pkt), DP_DEC_TRUNCATED);

	/* Behind a hop-by-hop header, and a later fragment. */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x86dd);
	tb_ipv6(&b, IPPROTO_HOPOPTS);
	tb_ext6(&b, IPPROTO_FRAGMENT, 8);
	tb_frag6(&b, IPPROTO_UDP, 100, 0);
	tb_put(&b, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_FRAGMENT);
	expect_v6_addrs(&pkt);
	assert_int_equal(pkt.l3_hlen, 48);
	assert_int_equal(pkt.v6_frag_off, 48);
	assert_int_equal(pkt.l3_len, b.len - 14);
	assert_int_equal(dp_decode(b.buf, b.len - 1, DP_LINK_ETHER, &pkt), DP_DEC_TRUNCATED);

	/* A payload length that leaves no room for the fragment header. */
	tb_set_be16(&b, 14 + 4, 8 + 4);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);
}

static void
test_tcp_options(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0800);
	tb_ipv4(&b, IPPROTO_TCP, 5, 0x4000);
	tb_tcp(&b, 40000, 5060, 0xfedcba98, 0x18, 8, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	expect_v4_addrs(&pkt);
	assert_int_equal(pkt.proto, IPPROTO_TCP);
	assert_int_equal(pkt.sport, 40000);
	assert_int_equal(pkt.dport, 5060);
	assert_int_equal(pkt.tcp_seq, 0xfedcba98);
	assert_int_equal(pkt.tcp_flags, 0x18);
	assert_ptr_equal(pkt.payload, b.buf + 14 + 20 + 32);
	assert_int_equal(pkt.payload_len, sizeof(tb_sip) - 1);
	assert_memory_equal(pkt.payload, tb_sip, sizeof(tb_sip) - 1);

	build_v6_ext_tcp(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	expect_v6_addrs(&pkt);
	assert_int_equal(pkt.proto, IPPROTO_TCP);
	assert_int_equal(pkt.sport, 5061);
	assert_int_equal(pkt.dport, 40000);
	assert_int_equal(pkt.tcp_seq, 0x01020304);
	assert_ptr_equal(pkt.payload, b.buf + b.l4_off + 32);
	assert_int_equal(pkt.payload_len, sizeof(tb_sip) - 1);
}

static void
test_l4_unsupported(void **state)
{
	static const uint8_t protos[] = { 47, 4, 41, IPPROTO_ICMP, 50, 132 };
	static const uint8_t next6[] = { 59, 50, IPPROTO_ICMPV6, 47 };
	static const uint8_t junk[24];
	struct dp_pkt pkt;
	struct tb b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(protos); i++) {
		tb_init(&b);
		tb_eth(&b, NULL, 0, 0x0800);
		tb_ipv4(&b, protos[i], 5, 0);
		tb_put(&b, junk, sizeof(junk));
		tb_finish(&b);
		assert_int_equal(tb_decode(&b, &pkt), DP_DEC_L4_UNSUPPORTED);
		expect_v4_addrs(&pkt);
	}
	for (i = 0; i < sizeof(next6); i++) {
		tb_init(&b);
		tb_eth(&b, NULL, 0, 0x86dd);
		tb_ipv6(&b, IPPROTO_DSTOPTS);
		tb_ext6(&b, next6[i], 8);
		tb_put(&b, junk, sizeof(junk));
		tb_finish(&b);
		assert_int_equal(tb_decode(&b, &pkt), DP_DEC_L4_UNSUPPORTED);
		expect_v6_addrs(&pkt);
	}
}

static void
test_not_ip(void **state)
{
	static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	static const uint16_t tags[] = { 0x8100 };
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0806);
	tb_put(&b, arp, sizeof(arp));
	tb_pad(&b, 60);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_NOT_IP);

	tb_init(&b);
	tb_eth(&b, tags, 1, 0x88cc); /* LLDP behind a tag */
	tb_pad(&b, 60);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_NOT_IP);
	assert_int_equal(pkt.vlans, 1);

	tb_init(&b);
	tb_eth(&b, NULL, 0, 46); /* 802.3 length field, LLC follows */
	tb_pad(&b, 60);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_NOT_IP);
}

static void
test_sll(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	tb_init(&b);
	tb_sll(&b, 0x0800);
	assert_int_equal(b.len, 16);
	tb_ipv4(&b, IPPROTO_UDP, 5, 0);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_SLL, &pkt), DP_DEC_OK);
	expect_v4_addrs(&pkt);
	expect_udp_sip(&b, &pkt);

	/* The same bytes read as Ethernet are not IP: the link type matters. */
	assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_ETHER, &pkt), DP_DEC_NOT_IP);
	assert_int_equal(dp_decode(b.buf, 15, DP_LINK_SLL, &pkt), DP_DEC_TRUNCATED);

	tb_init(&b);
	tb_sll(&b, 0x0806);
	tb_pad(&b, 44);
	assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_SLL, &pkt), DP_DEC_NOT_IP);
}

static void
test_bad_header(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	/* IHL below 5. */
	build_v4_udp(&b, NULL, 0, 5);
	b.buf[14] = 0x44;
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);

	/* Version 6 behind an IPv4 ethertype. */
	build_v4_udp(&b, NULL, 0, 5);
	b.buf[14] = 0x65;
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);

	/* Total length shorter than the header it declares. */
	build_v4_udp(&b, NULL, 0, 6);
	tb_set_be16(&b, 14 + 2, 20);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);

	/* UDP length larger than the IP payload, frame long enough to hold it. */
	build_v4_udp(&b, NULL, 0, 5);
	tb_pad(&b, b.len + 16);
	tb_set_be16(&b, b.l4_off + 4, (uint16_t)(8 + sizeof(tb_sip) - 1 + 1));
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);

	/* UDP length below the header size. */
	build_v4_udp(&b, NULL, 0, 5);
	tb_set_be16(&b, b.l4_off + 4, 7);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);

	/* IP payload too short for a UDP header. */
	build_v4_udp(&b, NULL, 0, 5);
	tb_set_be16(&b, 14 + 2, 20 + 4);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);

	/* TCP data offset below 5, and past the IP payload. */
	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0800);
	tb_ipv4(&b, IPPROTO_TCP, 5, 0);
	tb_tcp(&b, 1, 2, 3, 0x02, 5, NULL, 0);
	tb_finish(&b);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_OK);
	b.buf[b.l4_off + 12] = 0x40;
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);
	b.buf[b.l4_off + 12] = 0x60;
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);

	/* IPv6 extension header running past the payload length. */
	build_v6_ext_tcp(&b);
	tb_set_be16(&b, 14 + 4, 8 + 16 + 4);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);

	/* IPv6 payload length 0 with a hop-by-hop header (jumbogram). */
	build_v6_ext_tcp(&b);
	tb_set_be16(&b, 14 + 4, 0);
	assert_int_equal(tb_decode(&b, &pkt), DP_DEC_BAD_HEADER);
}

static void
test_truncated(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	/* Snap length shorter than the datagram: headers whole, data cut. */
	build_v4_udp(&b, NULL, 0, 5);
	assert_int_equal(dp_decode(b.buf, b.len - 1, DP_LINK_ETHER, &pkt), DP_DEC_TRUNCATED);
	expect_v4_addrs(&pkt);
	assert_int_equal(dp_decode(b.buf, 14 + 19, DP_LINK_ETHER, &pkt), DP_DEC_TRUNCATED);
	assert_int_equal(dp_decode(b.buf, 13, DP_LINK_ETHER, &pkt), DP_DEC_TRUNCATED);
	assert_int_equal(dp_decode(NULL, 0, DP_LINK_ETHER, &pkt), DP_DEC_TRUNCATED);

	build_v6_ext_tcp(&b);
	assert_int_equal(dp_decode(b.buf, b.len - 1, DP_LINK_ETHER, &pkt), DP_DEC_TRUNCATED);
	expect_v6_addrs(&pkt);
}

static void
test_res_names(void **state)
{
	(void)state;
	assert_string_equal(dp_decode_res_name(DP_DEC_OK), "ok");
	assert_string_equal(dp_decode_res_name(DP_DEC_NOT_IP), "not_ip");
	assert_string_equal(dp_decode_res_name(DP_DEC_L2_UNSUPPORTED), "l2_unsupported");
	assert_string_equal(dp_decode_res_name(DP_DEC_L4_UNSUPPORTED), "l4_unsupported");
	assert_string_equal(dp_decode_res_name(DP_DEC_FRAGMENT), "fragment");
	assert_string_equal(dp_decode_res_name(DP_DEC_TRUNCATED), "truncated");
	assert_string_equal(dp_decode_res_name(DP_DEC_BAD_HEADER), "bad_header");
	assert_string_equal(dp_decode_res_name((enum dp_decode_res)99), "unknown");
}

/*
 * Decode `n` bytes of `frame` from an exactly-sized heap copy and check the
 * invariant every result must keep: OK only with the payload inside the
 * buffer. Returns the result.
 */
static enum dp_decode_res
decode_exact(const uint8_t *frame, uint32_t n, enum dp_link link)
{
	enum dp_decode_res res;
	struct dp_pkt pkt;
	uint8_t *copy;

	copy = malloc(n > 0 ? n : 1);
	assert_non_null(copy);
	if (n > 0)
		memcpy(copy, frame, n);
	res = dp_decode(copy, n, link, &pkt);
	assert_true(res <= DP_DEC_BAD_HEADER);
	if (res == DP_DEC_OK) {
		assert_true(pkt.payload >= copy);
		assert_true(pkt.payload_len <= n);
		assert_true((size_t)(pkt.payload - copy) <= n - pkt.payload_len);
		assert_true(pkt.proto == IPPROTO_UDP || pkt.proto == IPPROTO_TCP);
		assert_true(pkt.family == 4 || pkt.family == 6);
		assert_true(pkt.vlans <= 2);
	}
	free(copy);
	return res;
}

/*
 * Every strict prefix of a frame must be refused; frames whose IP length
 * covers the whole frame must be refused as truncated specifically.
 */
static void
sweep(const struct tb *b, enum dp_link link, int padded)
{
	enum dp_decode_res res;
	uint32_t n;

	assert_int_equal(decode_exact(b->buf, b->len, link), DP_DEC_OK);
	for (n = 0; n < b->len; n++) {
		res = decode_exact(b->buf, n, link);
		if (!padded)
			assert_int_equal(res, DP_DEC_TRUNCATED);
	}
}

static void
test_truncation_sweep(void **state)
{
	static const uint16_t tag[] = { 0x8100 };
	static const uint16_t qinq[] = { 0x88a8, 0x8100 };
	static const char crlf[] = "\r\n\r\n";
	struct tb b;

	(void)state;
	build_v4_udp(&b, tag, 1, 5);
	sweep(&b, DP_LINK_ETHER, 0);
	build_v4_udp(&b, qinq, 2, 15);
	sweep(&b, DP_LINK_ETHER, 0);
	build_v6_ext_tcp(&b);
	sweep(&b, DP_LINK_ETHER, 0);

	tb_init(&b);
	tb_sll(&b, 0x86dd);
	tb_ipv6(&b, IPPROTO_AH);
	tb_u8(&b, IPPROTO_UDP);
	tb_u8(&b, 1);
	tb_pad(&b, b.len + 10);
	tb_udp(&b, 5060, 5080, tb_sip, sizeof(tb_sip) - 1);
	tb_finish(&b);
	sweep(&b, DP_LINK_SLL, 0);

	tb_init(&b);
	tb_eth(&b, NULL, 0, 0x0800);
	tb_ipv4(&b, IPPROTO_UDP, 5, 0);
	tb_udp(&b, 5060, 5060, crlf, 4);
	tb_finish(&b);
	tb_pad(&b, 60);
	sweep(&b, DP_LINK_ETHER, 1);
}

/*
 * Flip random bytes of valid frames and decode each result from an
 * exactly-sized buffer; under the sanitizer build this is a small fuzzer
 * that checks the decoder never reads out of bounds on malformed input.
 */
static void
test_mutations(void **state)
{
	static const uint16_t qinq[] = { 0x88a8, 0x8100 };
	struct tb frames[3];
	uint32_t x = 0x9e3779b9;
	unsigned int i, j, f, flips;
	uint8_t buf[TB_MAX];
	uint32_t n;

	(void)state;
	build_v4_udp(&frames[0], qinq, 2, 6);
	build_v6_ext_tcp(&frames[1]);
	build_v4_udp(&frames[2], NULL, 0, 5);
	for (i = 0; i < 20000; i++) {
		f = i % 3;
		memcpy(buf, frames[f].buf, frames[f].len);
		n = frames[f].len;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		flips = 1 + x % 4;
		for (j = 0; j < flips; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[x % n] = (uint8_t)(x >> 8);
		}
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if (x % 4 == 0)
			n = (x >> 8) % n;
		decode_exact(buf, n, (i & 8) != 0 ? DP_LINK_SLL : DP_LINK_ETHER);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_ipv4_udp),
		cmocka_unit_test(test_vlan_8021q),
		cmocka_unit_test(test_qinq),
		cmocka_unit_test(test_three_tags),
		cmocka_unit_test(test_other_l2),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv6_udp),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_ipv6_ah),
		cmocka_unit_test(test_ipv6_ext_limit),
		cmocka_unit_test(test_ipv6_fragment),
		cmocka_unit_test(test_tcp_options),
		cmocka_unit_test(test_l4_unsupported),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_sll),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_res_names),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
