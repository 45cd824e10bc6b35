/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for decapsulation in the packet decoder (VXLAN, GRE, ERSPAN
 * I/II/III, PPTP, IP in IP, nested in VLAN tags and in each other) and for
 * PPPoE sessions in the link layer. Frames are written as a list of layers
 * ("eth1 ip4 erspan2 eth ip4 udp", "eth2 pppoe ppp-a ip4 pptps ppp ip4
 * udp"): the builder fills in every next-protocol field and length, and
 * works out what the decoder must report (depth, encapsulations, the
 * innermost IP header, the fragment when there is one). Truncation sweeps
 * and a mutation loop decode exactly-sized heap copies, so the sanitizer
 * build catches any read past the captured bytes. Last, the tunnelled
 * captures of the shared corpus are decoded frame by frame and compared
 * with what tshark reads in them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "dp_decap.h"
#include "dp_decode.h"

#define TB_MAX 1024
#define TB_MAX_FIX 16
#define TB_VXLAN_PORT 4789

enum tb_fix_kind {
	TB_FIX_IP4,
	TB_FIX_IP6,
	TB_FIX_UDP,
	TB_FIX_PPPOE, /* PPPoE length: bytes after its 6-byte header */
	TB_FIX_PPTP,  /* PPTP payload length: bytes after its GRE header */
};

/* A frame under construction and what decoding it must report. */
struct tb {
	uint8_t buf[TB_MAX];
	uint32_t len;
	/* length fields to set so that each layer runs to the end */
	uint32_t fix_off[TB_MAX_FIX];
	uint8_t fix_kind[TB_MAX_FIX];
	uint8_t fix_need[TB_MAX_FIX]; /* header bytes the field's value excludes */
	unsigned int nfix;
	int prev_ip;	  /* last layer was an IP header: the next is IP in IP */
	unsigned int nip; /* IP headers so far; the k-th has addresses k */
	uint32_t ip_off;  /* innermost IP header */
	uint32_t ip_hlen; /* its l3_hlen on DP_DEC_OK */
	uint8_t ip_family;
	uint32_t l4_off;  /* innermost UDP/TCP header */
	uint32_t pay_off; /* innermost payload */
	uint8_t proto;
	uint8_t depth;		/* tunnels added */
	uint8_t mask;		/* DP_ENCAP_* of them */
	uint8_t vlans;		/* tags of the last Ethernet header */
	uint32_t tun_off;	/* first tunnel header (UDP header for VXLAN), 0 none */
	uint32_t sweep_off;	/* first tunnel or PPPoE header, 0 none */
	uint32_t ack_only;	/* end of a GRE header before PPP, no S bit; 0 none */
	int tun_vxlan;		/* the first tunnel is VXLAN */
	uint32_t vxlan_udp_off; /* outer UDP header of the first VXLAN */
	/* the first fragment header added, if any */
	int frag;
	uint32_t frag_off;
	unsigned int frag_index;
	uint8_t frag_family;
	uint16_t frag_hlen;
	uint16_t frag_v6off;
	uint8_t frag_depth;
	uint8_t frag_mask;
};

static const char tb_sip[] = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";

static void
tb_addr(unsigned int family, unsigned int k, int dst, uint8_t *a)
{
	memset(a, 0, 16);
	if (family == 4) {
		a[0] = dst ? 198 : 192;
		a[1] = dst ? 51 : 0;
		a[2] = dst ? 100 : 2;
		a[3] = (uint8_t)((dst ? 20 : 10) + k);
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[5] = (uint8_t)k;
		a[15] = dst ? 2 : 1;
	}
}

static void
tb_put(struct tb *b, const void *p, size_t n)
{
	assert_true(b->len + n <= TB_MAX);
	if (n == 0)
		return;
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
tb_set_be16(uint8_t *buf, uint32_t off, uint16_t v)
{
	buf[off] = (uint8_t)(v >> 8);
	buf[off + 1] = (uint8_t)v;
}

static void
tb_fix(struct tb *b, enum tb_fix_kind kind, uint8_t need)
{
	assert_true(b->nfix < TB_MAX_FIX);
	b->fix_off[b->nfix] = b->len;
	b->fix_kind[b->nfix] = (uint8_t)kind;
	b->fix_need[b->nfix] = need;
	b->nfix++;
}

/*
 * Set the length fields of `buf`, a copy of the frame cut to n bytes, so
 * that every header wholly inside the cut runs to the cut: the capture is
 * then consistent and whatever is missing is missing inside the tunnel.
 */
static void
tb_fix_to(const struct tb *b, uint8_t *buf, uint32_t n)
{
	unsigned int i;
	uint32_t need;
	uint32_t off;

	for (i = 0; i < b->nfix; i++) {
		off = b->fix_off[i];
		need = b->fix_need[i];
		if (n < off + need)
			continue;
		switch (b->fix_kind[i]) {
		case TB_FIX_IP4:
			tb_set_be16(buf, off + 2, (uint16_t)(n - off));
			break;
		case TB_FIX_IP6:
			tb_set_be16(buf, off + 4, (uint16_t)(n - off - 40));
			break;
		case TB_FIX_UDP:
			tb_set_be16(buf, off + 4, (uint16_t)(n - off));
			break;
		default:
			tb_set_be16(buf, off + 4, (uint16_t)(n - off - need));
			break;
		}
	}
}

/* Ethertype announcing layer `next`. */
static uint16_t
tb_etype(const char *next)
{
	assert_non_null(next);
	if (strncmp(next, "ip4", 3) == 0)
		return 0x0800;
	if (strncmp(next, "ip6", 3) == 0)
		return 0x86dd;
	if (strcmp(next, "arp") == 0)
		return 0x0806;
	if (strcmp(next, "pppoe") == 0)
		return 0x8864;
	if (strcmp(next, "pppoed") == 0)
		return 0x8863;
	fail_msg("no ethertype for %s", next);
	return 0;
}

/* IP protocol announcing layer `next`. */
static uint8_t
tb_proto(const char *next)
{
	assert_non_null(next);
	if (strncmp(next, "ip4", 3) == 0)
		return IPPROTO_IPIP;
	if (strncmp(next, "ip6", 3) == 0)
		return IPPROTO_IPV6;
	if (strcmp(next, "udp") == 0 || strcmp(next, "vxlan") == 0)
		return IPPROTO_UDP;
	if (strcmp(next, "tcp") == 0)
		return IPPROTO_TCP;
	if (strncmp(next, "gre", 3) == 0 || strncmp(next, "erspan", 6) == 0 ||
		strncmp(next, "pptp", 4) == 0)
		return IPPROTO_GRE;
	fail_msg("no protocol for %s", next);
	return 0;
}

/* GRE protocol type announcing layer `next`. */
static uint16_t
tb_gre_proto(const char *next)
{
	assert_non_null(next);
	if (strncmp(next, "eth", 3) == 0)
		return 0x6558;
	if (strncmp(next, "ppp", 3) == 0)
		return 0x880b;
	return tb_etype(next);
}

static void
tb_tunnel(struct tb *b, uint8_t encap)
{
	if (b->tun_off == 0)
		b->tun_off = b->len;
	if (b->sweep_off == 0)
		b->sweep_off = b->len;
	b->depth++;
	b->mask |= encap;
}

static void
tb_frag_seen(struct tb *b, uint16_t hlen, uint16_t v6off)
{
	if (b->frag)
		return;
	b->frag = 1;
	b->frag_off = b->ip_off;
	b->frag_index = b->nip - 1;
	b->frag_family = b->ip_family;
	b->frag_hlen = hlen;
	b->frag_v6off = v6off;
	b->frag_depth = b->depth;
	b->frag_mask = b->mask;
}

static void
tb_ip(struct tb *b, const char *tok, const char *next)
{
	uint8_t src[16], dst[16];
	unsigned int family = tok[2] - '0';
	const char *opt = tok + 3;
	uint8_t proto = tb_proto(next);

	if (b->prev_ip)
		tb_tunnel(b, DP_ENCAP_IPIP);
	tb_addr(family, b->nip, 0, src);
	tb_addr(family, b->nip, 1, dst);
	b->nip++;
	b->ip_off = b->len;
	b->ip_family = (uint8_t)family;
	if (family == 4) {
		/* "ip4f": first fragment; "ip4o": 4 bytes of options */
		tb_fix(b, TB_FIX_IP4, 20);
		tb_u8(b, strcmp(opt, "o") == 0 ? 0x46 : 0x45);
		tb_u8(b, 0);
		tb_be16(b, 0);
		tb_be16(b, 0x1234);
		tb_be16(b, strcmp(opt, "f") == 0 ? 0x2000 : 0x4000);
		tb_u8(b, 64);
		tb_u8(b, proto);
		tb_be16(b, 0xdead); /* checksum, deliberately wrong */
		tb_put(b, src, 4);
		tb_put(b, dst, 4);
		b->ip_hlen = 20;
		if (strcmp(opt, "o") == 0) {
			tb_be32(b, 0x01010101);
			b->ip_hlen = 24;
		}
		if (strcmp(opt, "f") == 0)
			tb_frag_seen(b, 20, 0);
		return;
	}
	/* "ip6f": fragment header; "ip6hf": hop-by-hop, then fragment header */
	tb_fix(b, TB_FIX_IP6, 40);
	tb_be32(b, 0x60000000);
	tb_be16(b, 0);
	if (strcmp(opt, "f") == 0)
		tb_u8(b, IPPROTO_FRAGMENT);
	else if (strcmp(opt, "hf") == 0)
		tb_u8(b, IPPROTO_HOPOPTS);
	else
		tb_u8(b, proto);
	tb_u8(b, 64);
	tb_put(b, src, 16);
	tb_put(b, dst, 16);
	b->ip_hlen = 40;
	if (strcmp(opt, "hf") == 0) {
		tb_u8(b, IPPROTO_FRAGMENT);
		tb_u8(b, 0);
		tb_be16(b, 0x0104); /* PadN of 4 */
		tb_be32(b, 0);
		b->ip_hlen = 48;
	}
	if (opt[0] != '\0') {
		tb_frag_seen(b, (uint16_t)b->ip_hlen, (uint16_t)b->ip_hlen);
		tb_u8(b, proto);
		tb_u8(b, 0);
		tb_be16(b, 0x0001); /* offset 0, more fragments */
		tb_be32(b, 0xabcd);
	}
}

static void
tb_udp(struct tb *b, uint16_t sport, uint16_t dport)
{
	tb_fix(b, TB_FIX_UDP, 8);
	tb_be16(b, sport);
	tb_be16(b, dport);
	tb_be16(b, 0);
	tb_be16(b, 0);
}

/* "gre" with any of the letters c, k, s: checksum, key, sequence present. */
static void
tb_gre(struct tb *b, const char *tok, const char *next)
{
	uint16_t flags = 0;

	tb_tunnel(b, strncmp(next, "ppp", 3) == 0 ? DP_ENCAP_PPTP : DP_ENCAP_GRE);
	if (strchr(tok + 3, 'c') != NULL)
		flags |= 0x8000;
	if (strchr(tok + 3, 'k') != NULL)
		flags |= 0x2000;
	if (strchr(tok + 3, 's') != NULL)
		flags |= 0x1000;
	tb_be16(b, flags);
	tb_be16(b, tb_gre_proto(next));
	if (flags & 0x8000)
		tb_be32(b, 0xbeef0000);
	if (flags & 0x2000)
		tb_be32(b, 0x0000abcd);
	if (flags & 0x1000)
		tb_be32(b, 7);
	if (strncmp(next, "ppp", 3) == 0 && (flags & 0x1000) == 0 && b->ack_only == 0)
		b->ack_only = b->len;
}

static void
tb_erspan(struct tb *b, const char *tok)
{
	static const uint8_t hdr2[8] = { 0x10, 0x64, 0x00, 0x05, 0, 0, 0, 1 };
	/* timestamp, SGT, hw id 0x14 (bits beside FT), granularity 3 */
	static const uint8_t hdr3[12] = { 0x20, 0x64, 0x00, 0x05, 1, 2, 3, 4, 0, 0, 0x01, 0x46 };
	static const uint8_t sub[8] = { 0x0c, 0, 0, 0, 0x11, 0x22, 0x33, 0x44 };

	tb_tunnel(b, DP_ENCAP_ERSPAN);
	if (strcmp(tok, "erspan1") == 0) {
		tb_be16(b, 0x0000);
		tb_be16(b, 0x88be);
	} else if (strcmp(tok, "erspan2") == 0) {
		tb_be16(b, 0x1000);
		tb_be16(b, 0x88be);
		tb_be32(b, 42);
		tb_put(b, hdr2, sizeof(hdr2));
	} else {
		tb_be16(b, 0x1000);
		tb_be16(b, 0x22eb);
		tb_be32(b, 42);
		tb_put(b, hdr3, sizeof(hdr3));
		if (strcmp(tok, "erspan3o") == 0) {
			b->buf[b->len - 1] |= 0x01;
			tb_put(b, sub, sizeof(sub));
		}
	}
}

/*
 * "pptp" (GRE version 1, key bit set) with any of the letters s, a:
 * sequence and acknowledgment numbers present; and, beyond what PPTP
 * sends, c: a checksum, n: no key. A "ppp" layer follows, or what else
 * version 0 would carry.
 */
static void
tb_pptp(struct tb *b, const char *tok, const char *next)
{
	uint16_t flags = 0x2001;
	uint8_t hlen = 8;
	int ppp = strncmp(next, "ppp", 3) == 0;

	tb_tunnel(b, ppp ? DP_ENCAP_PPTP : DP_ENCAP_GRE);
	if (strchr(tok + 4, 'c') != NULL) {
		flags |= 0x8000;
		hlen += 4;
	}
	if (strchr(tok + 4, 'n') != NULL) {
		flags &= (uint16_t)~0x2000;
		hlen -= 4;
	}
	if (strchr(tok + 4, 's') != NULL) {
		flags |= 0x1000;
		hlen += 4;
	}
	if (strchr(tok + 4, 'a') != NULL) {
		flags |= 0x0080;
		hlen += 4;
	}
	/* the payload length, 4 bytes in (8 after a checksum) */
	b->len += (flags & 0x8000) ? 4 : 0;
	if (flags & 0x2000)
		tb_fix(b, TB_FIX_PPTP, (uint8_t)(hlen - ((flags & 0x8000) ? 4 : 0)));
	b->len -= (flags & 0x8000) ? 4 : 0;
	tb_be16(b, flags);
	tb_be16(b, tb_gre_proto(next));
	if (flags & 0x8000)
		tb_be32(b, 0xbeef0000);
	if (flags & 0x2000) {
		tb_be16(b, 0);	    /* payload length, fixed */
		tb_be16(b, 0x4242); /* call id */
	}
	if (flags & 0x1000)
		tb_be32(b, 29857);
	if (flags & 0x0080)
		tb_be32(b, 105);
	if (ppp && (flags & 0x1000) == 0 && b->ack_only == 0)
		b->ack_only = b->len;
}

/*
 * "ppp", then after a dash the letters a (address and control compressed
 * away, as PPPoE always has them) and p (protocol-field compression).
 */
static void
tb_ppp(struct tb *b, const char *tok, const char *next)
{
	const char *opt = strchr(tok, '-');
	uint8_t proto;

	assert_non_null(next);
	proto = strncmp(next, "ip6", 3) == 0 ? 0x57 : 0x21;
	if (opt == NULL || strchr(opt, 'a') == NULL) {
		tb_u8(b, 0xff);
		tb_u8(b, 0x03);
	}
	if (opt == NULL || strchr(opt, 'p') == NULL)
		tb_u8(b, 0x00);
	tb_u8(b, proto);
}

static void
tb_layer(struct tb *b, const char *tok, const char *next)
{
	static const uint16_t tpids[] = { 0x88a8, 0x8100, 0x8100 };
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2 };
	static const uint8_t vxlan[8] = { 0x08, 0, 0, 0, 0, 0, 0x2a, 0 };
	static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	unsigned int i, ntags;
	int ip = 0;

	if (strncmp(tok, "eth", 3) == 0) {
		/* "eth", "eth1" (802.1Q), "eth2" (802.1ad + 802.1Q), "eth3" */
		ntags = tok[3] != '\0' ? (unsigned int)(tok[3] - '0') : 0;
		tb_put(b, macs, sizeof(macs));
		for (i = 0; i < ntags; i++) {
			tb_be16(b, ntags == 1 ? 0x8100 : tpids[i]);
			tb_be16(b, (uint16_t)(100 + i));
		}
		tb_be16(b, tb_etype(next));
		b->vlans = (uint8_t)ntags;
	} else if (strncmp(tok, "ip", 2) == 0) {
		tb_ip(b, tok, next);
		ip = 1;
	} else if (strcmp(tok, "udp") == 0) {
		b->l4_off = b->len;
		b->proto = IPPROTO_UDP;
		tb_udp(b, 5060, 5080);
		b->pay_off = b->len;
		tb_put(b, tb_sip, sizeof(tb_sip) - 1);
	} else if (strcmp(tok, "tcp") == 0) {
		b->l4_off = b->len;
		b->proto = IPPROTO_TCP;
		tb_be16(b, 5060);
		tb_be16(b, 5080);
		tb_be32(b, 0x01020304);
		tb_be32(b, 0);
		tb_u8(b, 0x50);
		tb_u8(b, 0x18);
		tb_be16(b, 65535);
		tb_be32(b, 0);
		b->pay_off = b->len;
		tb_put(b, tb_sip, sizeof(tb_sip) - 1);
	} else if (strcmp(tok, "vxlan") == 0) {
		if (b->tun_off == 0) {
			b->tun_vxlan = 1;
			b->vxlan_udp_off = b->len;
		}
		tb_tunnel(b, DP_ENCAP_VXLAN);
		tb_udp(b, 40000, TB_VXLAN_PORT);
		tb_put(b, vxlan, sizeof(vxlan));
	} else if (strncmp(tok, "gre", 3) == 0) {
		tb_gre(b, tok, next);
	} else if (strncmp(tok, "pptp", 4) == 0) {
		tb_pptp(b, tok, next);
	} else if (strncmp(tok, "pppoe", 5) == 0) {
		/* "pppoe" a session, "pppoed" a discovery frame (PADI) */
		if (b->sweep_off == 0)
			b->sweep_off = b->len;
		tb_fix(b, TB_FIX_PPPOE, 6);
		tb_u8(b, 0x11);
		tb_u8(b, strcmp(tok, "pppoed") == 0 ? 0x09 : 0x00);
		tb_be16(b, 0x837a);
		tb_be16(b, 0);
	} else if (strncmp(tok, "ppp", 3) == 0) {
		tb_ppp(b, tok, next);
	} else if (strncmp(tok, "erspan", 6) == 0) {
		tb_erspan(b, tok);
	} else if (strcmp(tok, "arp") == 0) {
		tb_put(b, arp, sizeof(arp));
	} else {
		fail_msg("unknown layer %s", tok);
	}
	b->prev_ip = ip;
}

/* Build the frame `spec` describes, every length set to run to the end. */
static void
tb_build(struct tb *b, const char *spec)
{
	char copy[256];
	char *toks[32];
	char *save = NULL;
	char *t;
	unsigned int n = 0, i;

	memset(b, 0, sizeof(*b));
	assert_true(strlen(spec) < sizeof(copy));
	strcpy(copy, spec);
	for (t = strtok_r(copy, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
		assert_true(n < 32);
		toks[n++] = t;
	}
	for (i = 0; i < n; i++)
		tb_layer(b, toks[i], i + 1 < n ? toks[i + 1] : NULL);
	tb_fix_to(b, b->buf, b->len);
}

static struct dp_decode_cfg
tb_cfg(uint8_t max_depth)
{
	struct dp_decode_cfg cfg = {
		.link = DP_LINK_ETHER,
		.max_depth = max_depth,
		.vxlan_port = TB_VXLAN_PORT,
	};

	return cfg;
}

static void
expect_addrs(const struct dp_pkt *pkt, unsigned int family, unsigned int k)
{
	uint8_t src[16], dst[16];

	tb_addr(family, k, 0, src);
	tb_addr(family, k, 1, dst);
	assert_int_equal(pkt->family, family);
	assert_memory_equal(pkt->src, src, 16);
	assert_memory_equal(pkt->dst, dst, 16);
}

/*
 * Decode `n` bytes of `frame` from an exactly-sized heap copy and check
 * what every result must keep: a valid result; depth within the limit; on
 * OK a UDP/TCP payload and the innermost IP packet inside the buffer; on
 * FRAGMENT the whole fragment inside it.
 */
static enum dp_decode_res
decode_exact(const uint8_t *frame, uint32_t n, const struct dp_decode_cfg *cfg, struct dp_pkt *pkt)
{
	enum dp_decode_res res;
	uint8_t *copy;

	copy = malloc(n > 0 ? n : 1);
	assert_non_null(copy);
	if (n > 0)
		memcpy(copy, frame, n);
	res = dp_decode_cfg(copy, n, cfg, pkt);
	assert_true(res <= DP_DEC_TOO_DEEP);
	assert_true(pkt->depth <= cfg->max_depth);
	if (res == DP_DEC_OK) {
		assert_true(pkt->payload >= copy);
		assert_true(pkt->payload_len <= n);
		assert_true((size_t)(pkt->payload - copy) <= n - pkt->payload_len);
		assert_true(pkt->proto == IPPROTO_UDP || pkt->proto == IPPROTO_TCP);
		assert_true(pkt->family == 4 || pkt->family == 6);
		assert_true(pkt->vlans <= 2);
		assert_true(pkt->l3_len <= n && pkt->l3_off <= n - pkt->l3_len);
		assert_true(pkt->l3_hlen <= pkt->l3_len);
		assert_true((size_t)(pkt->payload - copy) >= pkt->l3_off + pkt->l3_hlen);
		assert_true((size_t)(pkt->payload - copy) + pkt->payload_len <=
			pkt->l3_off + pkt->l3_len);
	}
	if (res == DP_DEC_FRAGMENT) {
		assert_true(pkt->family == 4 || pkt->family == 6);
		assert_true(pkt->l3_len <= n && pkt->l3_off <= n - pkt->l3_len);
		assert_true(pkt->l3_hlen <= pkt->l3_len);
		if (pkt->family == 6)
			assert_true(pkt->v6_frag_off + 8u <= pkt->l3_len);
	}
	if (pkt->depth == 0)
		assert_int_equal(pkt->encap_mask, 0);
	free(copy);
	return res;
}

/* Check an OK decode of `b` with the limit `max`. */
static void
expect_inner(const struct tb *b, const struct dp_pkt *pkt)
{
	assert_int_equal(pkt->depth, b->depth);
	assert_int_equal(pkt->encap_mask, b->mask);
	assert_int_equal(pkt->vlans, b->vlans);
	expect_addrs(pkt, b->ip_family, b->nip - 1);
	assert_int_equal(pkt->proto, b->proto);
	assert_int_equal(pkt->sport, 5060);
	assert_int_equal(pkt->dport, 5080);
	if (b->proto == IPPROTO_TCP) {
		assert_int_equal(pkt->tcp_seq, 0x01020304);
		assert_int_equal(pkt->tcp_flags, 0x18);
	} else {
		assert_int_equal(pkt->tcp_seq, 0);
		assert_int_equal(pkt->tcp_flags, 0);
	}
	assert_ptr_equal(pkt->payload, b->buf + b->pay_off);
	assert_int_equal(pkt->payload_len, sizeof(tb_sip) - 1);
	assert_int_equal(pkt->l3_off, b->ip_off);
	assert_int_equal(pkt->l3_hlen, b->ip_hlen);
	assert_int_equal(pkt->l3_len, b->len - b->ip_off);
	assert_int_equal(pkt->v6_frag_off, 0);
}

/*
 * Every strict prefix is refused as truncated (the outer IP length covers
 * the frame). Then each cut inside the tunnel (or PPPoE) headers and the
 * inner headers, with the outer lengths made to agree with the cut, is
 * refused as truncated or as a bad header, never decoded; except a PPTP
 * header without sequence number cut right after it, which is a sane
 * acknowledgment carrying nothing.
 */
static void
sweep(const struct tb *b, const struct dp_decode_cfg *cfg)
{
	enum dp_decode_res res;
	uint8_t buf[TB_MAX];
	struct dp_pkt pkt;
	uint32_t n;

	for (n = 0; n < b->len; n++)
		assert_int_equal(decode_exact(b->buf, n, cfg, &pkt), DP_DEC_TRUNCATED);
	for (n = b->sweep_off; n < b->pay_off; n++) {
		memcpy(buf, b->buf, n);
		tb_fix_to(b, buf, n);
		res = decode_exact(buf, n, cfg, &pkt);
		if (n == b->ack_only && res == DP_DEC_L4_UNSUPPORTED)
			continue;
		if (res != DP_DEC_TRUNCATED && res != DP_DEC_BAD_HEADER)
			fail_msg("cut at %u of %u: %s", n, b->len, dp_decode_res_name(res));
	}
}

/*
 * Decode `spec` with exactly its depth allowed, with one less, with none
 * and with more; then sweep its truncations.
 */
static void
check_spec(const char *spec)
{
	struct dp_decode_cfg cfg;
	struct dp_pkt pkt;
	struct tb b;

	tb_build(&b, spec);
	assert_false(b.frag);
	cfg = tb_cfg(b.depth);
	if (decode_exact(b.buf, b.len, &cfg, &pkt) != DP_DEC_OK)
		fail_msg("%s: %s", spec,
			dp_decode_res_name(dp_decode_cfg(b.buf, b.len, &cfg, &pkt)));
	assert_int_equal(dp_decode_cfg(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	expect_inner(&b, &pkt);

	cfg = tb_cfg((uint8_t)(b.depth + 3));
	assert_int_equal(dp_decode_cfg(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	expect_inner(&b, &pkt);
	cfg = tb_cfg(255);
	assert_int_equal(dp_decode_cfg(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	expect_inner(&b, &pkt);

	if (b.depth > 1) {
		cfg = tb_cfg((uint8_t)(b.depth - 1));
		assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_TOO_DEEP);
		assert_int_equal(pkt.depth, b.depth - 1);
	}

	/* No decapsulation: what the decoder did before it, dp_decode included. */
	cfg = tb_cfg(0);
	if (b.depth == 0) {
		assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_ETHER, &pkt), DP_DEC_OK);
		expect_inner(&b, &pkt);
	} else if (b.tun_vxlan) {
		assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
		assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_ETHER, &pkt), DP_DEC_OK);
		assert_int_equal(pkt.depth, 0);
		assert_int_equal(pkt.dport, TB_VXLAN_PORT);
		assert_ptr_equal(pkt.payload, b.buf + b.vxlan_udp_off + 8);
		/* and so is VXLAN when its port is not set */
		cfg = tb_cfg(b.depth);
		cfg.vxlan_port = 0;
		assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
		assert_int_equal(pkt.dport, TB_VXLAN_PORT);
		cfg.vxlan_port = 8472;
		assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
		assert_int_equal(pkt.dport, TB_VXLAN_PORT);
	} else {
		assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
		assert_int_equal(
			dp_decode(b.buf, b.len, DP_LINK_ETHER, &pkt), DP_DEC_L4_UNSUPPORTED);
		assert_int_equal(pkt.depth, 0);
	}

	if (b.sweep_off > 0) {
		cfg = tb_cfg(b.depth);
		sweep(&b, &cfg);
	}
}

static void
test_vxlan(void **state)
{
	(void)state;
	check_spec("eth ip4 vxlan eth ip4 udp");
	check_spec("eth ip4 vxlan eth1 ip4 udp");
	check_spec("eth ip4 vxlan eth2 ip6 udp");
	check_spec("eth ip6 vxlan eth ip4 tcp");
	check_spec("eth ip4o vxlan eth ip4o tcp");
}

static void
test_gre_teb(void **state)
{
	(void)state;
	check_spec("eth ip4 gre eth ip4 udp");
	check_spec("eth ip4 grek eth1 ip4 udp");
	check_spec("eth ip6 grecks eth ip6 tcp");
}

/* GRE carrying IP, with every combination of checksum, key and sequence. */
static void
test_gre_ip_options(void **state)
{
	static const char *const opts[] = { "", "c", "k", "s", "ck", "cs", "ks", "cks" };
	char spec[64];
	unsigned int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		snprintf(spec, sizeof(spec), "eth ip4 gre%s ip4 udp", opts[i]);
		check_spec(spec);
		snprintf(spec, sizeof(spec), "eth ip4 gre%s ip6 tcp", opts[i]);
		check_spec(spec);
		snprintf(spec, sizeof(spec), "eth1 ip6 gre%s eth ip4 udp", opts[i]);
		check_spec(spec);
	}
}

static void
test_erspan(void **state)
{
	(void)state;
	check_spec("eth ip4 erspan1 eth ip4 udp");
	check_spec("eth ip4 erspan2 eth ip4 udp");
	check_spec("eth ip4 erspan2 eth1 ip6 tcp");
	check_spec("eth ip4 erspan3 eth ip4 udp");
	check_spec("eth ip4 erspan3o eth ip4 udp");
	check_spec("eth ip6 erspan3o eth2 ip6 udp");
}

static void
test_ipip(void **state)
{
	(void)state;
	check_spec("eth ip4 ip4 udp");
	check_spec("eth ip4 ip6 udp");
	check_spec("eth ip6 ip4 udp");
	check_spec("eth ip6 ip6 tcp");
	check_spec("eth ip4o ip4o tcp");
}

/* Tunnels behind VLAN tags, and tags inside them: the limit is per header. */
static void
test_in_vlans(void **state)
{
	(void)state;
	check_spec("eth1 ip4 erspan2 eth1 ip4 udp");
	check_spec("eth2 ip4 vxlan eth2 ip4 udp");
	check_spec("eth2 ip4 gre eth2 ip6 tcp");
	check_spec("eth1 ip6 ip4 udp");
	check_spec("eth2 ip4 ip4 udp");
	check_spec("eth2 ip6 erspan3o eth1 ip4 udp");
}

static void
test_nested(void **state)
{
	(void)state;
	check_spec("eth ip4 gre eth ip4 vxlan eth ip4 udp");
	check_spec("eth ip4 vxlan eth ip4 ip4 udp");
	check_spec("eth1 ip4 erspan2 eth ip4 grek ip6 udp");
	check_spec("eth ip6 ip4 gre eth1 ip4 udp");
	check_spec("eth ip4 ip6 ip4 tcp");
	check_spec("eth2 ip4 erspan3 eth2 ip4 vxlan eth2 ip6 udp");
	check_spec("eth ip4 vxlan eth ip4 gres ip4 ip6 erspan3o eth1 ip4 udp");
	check_spec("eth ip4 ip4 ip4 ip4 ip4 ip4 ip4 udp");
}

/* The limit is exact at every depth, and a plain frame is unaffected. */
static void
test_depth_limit(void **state)
{
	/* each goes from one IP header to the next; "" is IP in IP */
	static const char *const layers[] = { "vxlan eth", "gre", "erspan2 eth1", "grecks eth",
		"erspan1 eth", "", "erspan3o eth", "pptpsa ppp-p" };
	struct dp_decode_cfg cfg;
	struct dp_pkt pkt;
	char spec[512];
	struct tb b;
	unsigned int d, i;

	(void)state;
	check_spec("eth ip4 udp");
	check_spec("eth2 ip6 tcp");
	for (d = 1; d <= 8; d++) {
		strcpy(spec, "eth ip4");
		for (i = 0; i < d; i++) {
			if (layers[i][0] != '\0') {
				strcat(spec, " ");
				strcat(spec, layers[i]);
			}
			strcat(spec, i + 1 == d ? " ip4" : " ip6");
		}
		strcat(spec, " udp");
		tb_build(&b, spec);
		assert_int_equal(b.depth, d);
		cfg = tb_cfg((uint8_t)d);
		assert_int_equal(dp_decode_cfg(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
		expect_inner(&b, &pkt);
		cfg = tb_cfg((uint8_t)(d - 1));
		assert_int_equal(dp_decode_cfg(b.buf, b.len, &cfg, &pkt),
			d == 1 ? DP_DEC_OK : DP_DEC_TOO_DEEP);
	}
}

/*
 * PPTP: enhanced GRE with and without sequence and acknowledgment numbers,
 * PPP with and without address and control, with a compressed protocol
 * field, carrying IPv4 or IPv6, over IPv4 or IPv6, behind tags.
 */
static void
test_pptp(void **state)
{
	static const char *const gre[] = { "pptp", "pptps", "pptpa", "pptpsa" };
	static const char *const ppp[] = { "ppp", "ppp-a", "ppp-p", "ppp-ap" };
	char spec[64];
	unsigned int i, j;

	(void)state;
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 4; j++) {
			snprintf(spec, sizeof(spec), "eth1 ip4 %s %s ip4 udp", gre[i], ppp[j]);
			check_spec(spec);
			snprintf(spec, sizeof(spec), "eth ip4 %s %s ip6 tcp", gre[i], ppp[j]);
			check_spec(spec);
			snprintf(spec, sizeof(spec), "eth2 ip6 %s %s ip4 udp", gre[i], ppp[j]);
			check_spec(spec);
		}
	}
	/* IPv4 options inside and out; IPv6 in IPv6 with both compressions. */
	check_spec("eth ip4o pptpsa ppp ip4o udp");
	check_spec("eth ip6 pptps ppp-ap ip6 udp");
	/* Nested with the mirror tunnels, and behind PPPoE as in the corpus. */
	check_spec("eth ip4 pptpsa ppp ip4 vxlan eth ip4 udp");
	check_spec("eth ip4 vxlan eth1 ip4 pptps ppp-a ip6 udp");
	check_spec("eth ip4 erspan2 eth ip6 pptpa ppp-p ip4 ip4 tcp");
	check_spec("eth2 pppoe ppp-a ip4 pptps ppp ip4 udp");
	check_spec("eth ip4 pptpsa ppp ip4 pptpsa ppp-ap ip4 udp");

	/*
	 * Beyond what PPTP sends, as tshark reads it: the flags alone place
	 * the payload. A checksum, no key; PPP over GRE version 0 (where the
	 * A bit means nothing); version 1 carrying IP or Ethernet.
	 */
	check_spec("eth ip4 pptpcsa ppp ip4 udp");
	check_spec("eth ip4 pptpn ppp-a ip4 udp");
	check_spec("eth ip4 pptpnsa ppp ip6 udp");
	check_spec("eth ip4 gre ppp ip4 udp");
	check_spec("eth ip6 grecks ppp-ap ip6 tcp");
	check_spec("eth ip4 pptps ip4 udp");
	check_spec("eth ip4 pptpsa eth1 ip6 udp");
}

/* Write PPP protocol `proto` (2 bytes) where `b` has its IPv4 one. */
static void
pptp_set_proto(struct tb *b, uint32_t at, uint16_t proto)
{
	assert_int_equal(b->buf[at], 0x00);
	assert_int_equal(b->buf[at + 1], 0x21);
	tb_set_be16(b->buf, at, proto);
}

/*
 * PPTP frames that carry no IP, or headers that are not PPTP's: counted
 * as unsupported at depth 0, the outer packet reported; and the ones that
 * do not fit.
 */
static void
test_pptp_unsupported(void **state)
{
	static const uint16_t protos[] = { 0xc021, 0x8021, 0x80fd, 0x00fd, 0xc223, 0x0281 };
	struct dp_decode_cfg cfg = tb_cfg(4);
	struct dp_pkt pkt;
	struct tb b;
	uint32_t g, pp;
	unsigned int i;

	(void)state;
	/* LCP, IPCP, CCP, compressed data (MPPE), CHAP, MPLS. */
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		tb_build(&b, "eth ip4 pptpsa ppp ip4 udp");
		pp = b.tun_off + 16 + 2;
		pptp_set_proto(&b, pp, protos[i]);
		assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
		assert_int_equal(pkt.depth, 0);
		assert_int_equal(pkt.encap_mask, 0);
		expect_addrs(&pkt, 4, 0);
	}
	/* The same with a compressed protocol field: 0xfd is compressed data. */
	tb_build(&b, "eth ip4 pptps ppp-ap ip4 udp");
	b.buf[b.tun_off + 12] = 0xfd;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	/* The control byte is not checked (it moves nothing), as tshark does not. */
	tb_build(&b, "eth ip4 pptps ppp ip4 udp");
	b.buf[b.tun_off + 13] = 0x13;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	/* A v0 header with the A bit: no acknowledgment number follows. */
	tb_build(&b, "eth ip4 grek ppp ip4 udp");
	b.buf[b.tun_off + 1] |= 0x80;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.encap_mask, DP_ENCAP_PPTP);
	/* IPv6 announced, IPv4 inside. */
	tb_build(&b, "eth ip4 pptps ppp ip4 udp");
	b.buf[b.tun_off + 15] = 0x57;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_BAD_HEADER);
	assert_int_equal(pkt.depth, 1);
	assert_int_equal(pkt.encap_mask, DP_ENCAP_PPTP);

	/* Routing, and versions 2 to 7, with PPTP's flags and protocol. */
	tb_build(&b, "eth ip4 pptps ppp ip4 udp");
	g = b.tun_off;
	tb_set_be16(b.buf, g, 0x7001);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	tb_set_be16(b.buf, g, 0x3002);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	tb_set_be16(b.buf, g, 0x3005);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	/* Another protocol in version 1: counted like version 0's. */
	tb_set_be16(b.buf, g, 0x3001);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	tb_set_be16(b.buf, g + 2, 0x8847);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	/* Reserved bits and recursion control are not checked, as for version 0. */
	tb_set_be16(b.buf, g + 2, 0x880b);
	tb_set_be16(b.buf, g, 0x3f79);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.encap_mask, DP_ENCAP_PPTP);

	/* An acknowledgment alone carries nothing: unsupported, not bad. */
	tb_build(&b, "eth ip4 pptpa ppp ip4 udp");
	tb_fix_to(&b, b.buf, b.tun_off + 12);
	assert_int_equal(decode_exact(b.buf, b.tun_off + 12, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	assert_int_equal(pkt.depth, 0);
	/* With S set, a payload must follow. */
	tb_set_be16(b.buf, b.tun_off, 0x3081);
	assert_int_equal(decode_exact(b.buf, b.tun_off + 12, &cfg, &pkt), DP_DEC_BAD_HEADER);
	/* A header longer than the packet. */
	tb_build(&b, "eth ip4 pptpsa ppp ip4 udp");
	tb_fix_to(&b, b.buf, b.tun_off + 12);
	assert_int_equal(decode_exact(b.buf, b.tun_off + 12, &cfg, &pkt), DP_DEC_BAD_HEADER);

	/* The payload length is not trusted: the outer packet bounds the inner. */
	tb_build(&b, "eth ip4 pptpsa ppp ip4 udp");
	tb_set_be16(b.buf, b.tun_off + 4, 3);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	tb_set_be16(b.buf, b.tun_off + 4, 0xffff);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);

	/* One layer like any GRE: refused at depth 0, too deep beyond the limit. */
	tb_build(&b, "eth ip4 pptpsa ppp ip4 udp");
	cfg = tb_cfg(0);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	tb_build(&b, "eth ip4 vxlan eth ip4 pptpsa ppp ip4 udp");
	cfg = tb_cfg(1);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_TOO_DEEP);
	assert_int_equal(pkt.encap_mask, DP_ENCAP_VXLAN);
}

/*
 * PPPoE sessions: a link-layer header, after the tags, carrying IPv4 or
 * IPv6, with or without protocol-field compression, in plain frames and
 * inside tunnels; no depth, no encapsulation.
 */
static void
test_pppoe(void **state)
{
	struct dp_decode_cfg cfg = tb_cfg(0);
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	check_spec("eth pppoe ppp-a ip4 udp");
	check_spec("eth pppoe ppp-a ip6 tcp");
	check_spec("eth pppoe ppp-ap ip4 tcp");
	check_spec("eth pppoe ppp-ap ip6 udp");
	check_spec("eth1 pppoe ppp-a ip4 udp");
	check_spec("eth2 pppoe ppp-a ip6 udp");
	check_spec("eth2 pppoe ppp-a ip4o tcp");
	check_spec("eth ip4 vxlan eth1 pppoe ppp-a ip4 udp");
	check_spec("eth1 pppoe ppp-a ip4 gre eth2 pppoe ppp-ap ip6 udp");
	check_spec("eth ip6 erspan3o eth pppoe ppp-a ip4 ip6 tcp");

	tb_build(&b, "eth2 pppoe ppp-a ip4 udp");
	assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_ETHER, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.l3_off, 14 + 8 + 6 + 2);
	assert_int_equal(pkt.depth, 0);
	assert_int_equal(pkt.encap_mask, 0);
	assert_int_equal(pkt.vlans, 2);

	/* Ethernet padding after the PPP frame is not part of the packet. */
	memset(b.buf + b.len, 0, 12);
	assert_int_equal(decode_exact(b.buf, b.len + 12, &cfg, &pkt), DP_DEC_OK);
	assert_int_equal(dp_decode_cfg(b.buf, b.len + 12, &cfg, &pkt), DP_DEC_OK);
	expect_inner(&b, &pkt);
	/* ... so an IP packet that runs into it is cut short. */
	tb_set_be16(b.buf, b.ip_off + 2, (uint16_t)(b.len - b.ip_off + 1));
	assert_int_equal(decode_exact(b.buf, b.len + 12, &cfg, &pkt), DP_DEC_TRUNCATED);
	tb_set_be16(b.buf, b.ip_off + 2, (uint16_t)(b.len - b.ip_off));

	/*
	 * A PPPoE length beyond the capture ends with it, as tshark reads it;
	 * the IP length decides. One shorter than its protocol field is bad.
	 */
	tb_set_be16(b.buf, 22 + 4, 0xffff);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	assert_int_equal(dp_decode_cfg(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	expect_inner(&b, &pkt);
	assert_int_equal(decode_exact(b.buf, b.len - 1, &cfg, &pkt), DP_DEC_TRUNCATED);
	tb_set_be16(b.buf, 22 + 4, 1);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_BAD_HEADER);
	tb_set_be16(b.buf, 22 + 4, 2);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_TRUNCATED);
	tb_set_be16(b.buf, 22 + 4, 0);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_BAD_HEADER);
}

/* PPPoE that does not carry IP, and where PPPoE is not allowed. */
static void
test_pppoe_unsupported(void **state)
{
	static const uint16_t protos[] = { 0xc021, 0x8021, 0x80fd, 0x00fd, 0x8057, 0x0031 };
	struct dp_decode_cfg cfg = tb_cfg(2);
	struct dp_pkt pkt;
	struct tb b;
	unsigned int i;

	(void)state;
	/* Discovery (PADI) frames, whatever follows. */
	tb_build(&b, "eth pppoed ppp-a ip4 udp");
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	tb_build(&b, "eth1 pppoed ppp-a ip4 udp");
	b.buf[18 + 1] = 0x00; /* even with the session code */
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	assert_int_equal(pkt.vlans, 1);
	/* LCP, IPCP, CCP, compressed data, IPV6CP, a bridged frame. */
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		tb_build(&b, "eth1 pppoe ppp-a ip4 udp");
		tb_set_be16(b.buf, 18 + 6, protos[i]);
		assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
		assert_int_equal(pkt.family, 0);
	}
	tb_build(&b, "eth pppoe ppp-ap ip4 udp");
	b.buf[14 + 6] = 0xfd;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	/* Address and control are not sent over PPPoE: 0xff is no IP protocol. */
	tb_build(&b, "eth pppoe ppp ip4 udp");
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	/* Another version or type: another layout, maybe. */
	tb_build(&b, "eth pppoe ppp-a ip4 udp");
	b.buf[14] = 0x12;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	b.buf[14] = 0x21;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	/* The code moves nothing and is not checked, as tshark does not. */
	b.buf[14] = 0x11;
	b.buf[15] = 0xa7;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	/* IPv6 announced, IPv4 inside. */
	tb_build(&b, "eth pppoe ppp-a ip4 udp");
	b.buf[14 + 7] = 0x57;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_BAD_HEADER);
	/* A third tag before it is still a third tag. */
	tb_build(&b, "eth3 pppoe ppp-a ip4 udp");
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	/* Tags after it are not read: PPP carries no Ethernet. */
	tb_build(&b, "eth pppoe ppp-a ip4 udp");
	tb_set_be16(b.buf, 14 + 6, 0x8100);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	/* Inside a tunnel the same answers, one layer deep. */
	tb_build(&b, "eth ip4 vxlan eth pppoed ppp-a ip4 udp");
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);
	assert_int_equal(pkt.depth, 1);
}

/* PPPoE in a Linux cooked capture: the protocol field is an ethertype. */
static void
test_pppoe_sll(void **state)
{
	static const uint8_t sll[14] = { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0 };
	struct dp_pkt pkt, pkt0;
	uint8_t buf[TB_MAX];
	struct tb b;
	uint32_t n;

	(void)state;
	tb_build(&b, "eth pppoe ppp-a ip6 tcp");
	memcpy(buf, sll, sizeof(sll));
	memcpy(buf + 14, b.buf + 12, b.len - 12);
	n = b.len + 2;
	assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_ETHER, &pkt0), DP_DEC_OK);
	assert_int_equal(dp_decode(buf, n, DP_LINK_SLL, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.l3_off, pkt0.l3_off + 2);
	assert_int_equal(pkt.l3_len, pkt0.l3_len);
	assert_int_equal(pkt.sport, 5060);
	assert_int_equal(pkt.payload_len, pkt0.payload_len);
	assert_memory_equal(pkt.src, pkt0.src, 16);
	for (n = 0; n < b.len + 2; n++)
		assert_int_equal(dp_decode(buf, n, DP_LINK_SLL, &pkt), DP_DEC_TRUNCATED);
}

/* Tunnel headers we do not decode stay counted and are never misread. */
static void
test_unsupported(void **state)
{
	struct dp_decode_cfg cfg = tb_cfg(4);
	struct dp_pkt pkt;
	struct tb b;
	uint32_t g;

	(void)state;
	/* Versions 2 to 7. */
	tb_build(&b, "eth ip4 gre ip4 udp");
	g = b.tun_off;
	tb_set_be16(b.buf, g, 0x0002);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	assert_int_equal(pkt.depth, 0);
	expect_addrs(&pkt, 4, 0);
	tb_set_be16(b.buf, g, 0x0007);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	/* The routing bit. */
	tb_set_be16(b.buf, g, 0x4000);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	/* Other protocols: MPLS and an unassigned one. */
	tb_set_be16(b.buf, g, 0x0000);
	tb_set_be16(b.buf, g + 2, 0x8847);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	tb_set_be16(b.buf, g + 2, 0x1234);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);

	/* ERSPAN II of another version; ERSPAN III of another version or frame type. */
	tb_build(&b, "eth ip4 erspan2 eth ip4 udp");
	b.buf[b.tun_off + 8] = 0x20;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	tb_build(&b, "eth ip4 erspan3 eth ip4 udp");
	b.buf[b.tun_off + 8] = 0x10;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	tb_build(&b, "eth ip4 erspan3 eth ip4 udp");
	b.buf[b.tun_off + 8 + 10] |= 2 << 2; /* frame type 2: IP */
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	/* The O bit with no room for the subheader in the packet. */
	tb_build(&b, "eth ip4 erspan3 eth ip4 udp");
	b.buf[b.tun_off + 8 + 11] |= 1;
	tb_fix_to(&b, b.buf, b.tun_off + 8 + 12 + 4);
	assert_int_equal(
		decode_exact(b.buf, b.tun_off + 8 + 12 + 4, &cfg, &pkt), DP_DEC_BAD_HEADER);

	/* Neither UDP/TCP nor a tunnel, with decapsulation on. */
	tb_build(&b, "eth ip4 ip4 udp");
	b.buf[b.ip_off - 20 + 9] = IPPROTO_ICMP;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	b.buf[b.ip_off - 20 + 9] = 50; /* ESP */
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	tb_build(&b, "eth ip6 ip4 udp");
	b.buf[14 + 6] = IPPROTO_ICMPV6;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L4_UNSUPPORTED);
	/* ... and without it, a truncated IPv6 tunnel stays unsupported, as before. */
	tb_build(&b, "eth ip6 ip4 udp");
	assert_int_equal(dp_decode(b.buf, b.len - 1, DP_LINK_ETHER, &pkt), DP_DEC_L4_UNSUPPORTED);
	assert_int_equal(dp_decode_cfg(b.buf, b.len - 1, &cfg, &pkt), DP_DEC_TRUNCATED);
}

/* Inner headers that are not what the tunnel announced. */
static void
test_bad_inner(void **state)
{
	struct dp_decode_cfg cfg = tb_cfg(4);
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	/* VXLAN without its I flag. */
	tb_build(&b, "eth ip4 vxlan eth ip4 udp");
	b.buf[b.tun_off + 8] = 0x00;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_BAD_HEADER);
	/* VXLAN is the destination port only; a source port of 4789 is plain UDP. */
	tb_build(&b, "eth ip4 vxlan eth ip4 udp");
	tb_set_be16(b.buf, b.tun_off, TB_VXLAN_PORT);
	tb_set_be16(b.buf, b.tun_off + 2, 40000);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.depth, 0);
	assert_int_equal(pkt.sport, TB_VXLAN_PORT);
	/* TCP to the VXLAN port is TCP. */
	tb_build(&b, "eth ip4 tcp");
	tb_set_be16(b.buf, b.l4_off + 2, TB_VXLAN_PORT);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.dport, TB_VXLAN_PORT);
	assert_int_equal(pkt.depth, 0);

	/* IPv6 where GRE said IPv4, IPv4 where IP in IP said IPv6. */
	tb_build(&b, "eth ip4 gre ip6 udp");
	tb_set_be16(b.buf, b.tun_off + 2, 0x0800);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_BAD_HEADER);
	assert_int_equal(pkt.depth, 1);
	tb_build(&b, "eth ip4 ip4 udp");
	b.buf[14 + 9] = IPPROTO_IPV6;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_BAD_HEADER);

	/* Not IP, or too many tags, inside the tunnel. */
	tb_build(&b, "eth ip4 vxlan eth1 arp");
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_NOT_IP);
	assert_int_equal(pkt.depth, 1);
	assert_int_equal(pkt.encap_mask, DP_ENCAP_VXLAN);
	assert_int_equal(pkt.vlans, 1);
	tb_build(&b, "eth2 ip4 erspan2 eth3 ip4 udp");
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_L2_UNSUPPORTED);

	/* An inner packet longer than the tunnel: the mirror cut it (ERSPAN's T bit). */
	tb_build(&b, "eth1 ip4 erspan2 eth ip4 udp");
	tb_fix_to(&b, b.buf, b.len - 1);
	b.buf[b.ip_off + 3]++;
	assert_int_equal(decode_exact(b.buf, b.len - 1, &cfg, &pkt), DP_DEC_TRUNCATED);
	assert_int_equal(pkt.depth, 1);
	expect_addrs(&pkt, 4, 1);

	/* Padding after the outer packet is not part of the inner one. */
	tb_build(&b, "eth ip4 gre eth ip4 udp");
	b.len += 10;
	memset(b.buf + b.len - 10, 0x45, 10);
	b.buf[b.ip_off + 3] += 10;
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_TRUNCATED);
}

/*
 * Fragments, outer (a fragmented VXLAN datagram) and inner (a fragment
 * inside GRE, ERSPAN or IP in IP): the l3 fields describe the fragmented
 * packet, depth and encap_mask what lies outside it.
 */
static void
check_frag(const char *spec)
{
	struct dp_decode_cfg cfg = tb_cfg(4);
	enum dp_decode_res res;
	struct dp_pkt pkt;
	struct tb b;
	uint32_t n;

	tb_build(&b, spec);
	assert_true(b.frag);
	assert_int_equal(decode_exact(b.buf, b.len, &cfg, &pkt), DP_DEC_FRAGMENT);
	expect_addrs(&pkt, b.frag_family, b.frag_index);
	assert_int_equal(pkt.depth, b.frag_depth);
	assert_int_equal(pkt.encap_mask, b.frag_mask);
	assert_int_equal(pkt.l3_off, b.frag_off);
	assert_int_equal(pkt.l3_hlen, b.frag_hlen);
	assert_int_equal(pkt.v6_frag_off, b.frag_v6off);
	assert_int_equal(pkt.l3_len, b.len - b.frag_off);

	/* Reassembly needs all of it: any shorter capture is truncated. */
	for (n = 0; n < b.len; n++)
		assert_int_equal(decode_exact(b.buf, n, &cfg, &pkt), DP_DEC_TRUNCATED);
	/* With tunnels off, an inner fragment is behind UDP or an unsupported protocol. */
	cfg = tb_cfg(0);
	res = decode_exact(b.buf, b.len, &cfg, &pkt);
	if (b.frag_depth == 0)
		assert_int_equal(res, DP_DEC_FRAGMENT);
	else
		assert_int_equal(res, b.tun_vxlan ? DP_DEC_OK : DP_DEC_L4_UNSUPPORTED);
}

static void
test_fragments(void **state)
{
	(void)state;
	check_frag("eth ip4f vxlan eth ip4 udp");
	check_frag("eth1 ip6f vxlan eth ip4 udp");
	check_frag("eth ip6hf vxlan eth ip4 udp");
	check_frag("eth ip4f gre eth ip4 udp");
	check_frag("eth1 ip4 erspan2 eth ip4f udp");
	check_frag("eth ip4 erspan3o eth1 ip6hf udp");
	check_frag("eth ip4 ip6f udp");
	check_frag("eth ip6 gre ip4f tcp");
	check_frag("eth ip4 vxlan eth ip4 ip6hf udp");
}

/* l3 fields on OK, without tunnels: options and extension headers. */
static void
test_l3_fields(void **state)
{
	struct dp_pkt pkt;
	struct tb b;

	(void)state;
	tb_build(&b, "eth1 ip4o udp");
	assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_ETHER, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.l3_off, 18);
	assert_int_equal(pkt.l3_hlen, 24);
	assert_int_equal(pkt.l3_len, b.len - 18);
	assert_int_equal(pkt.depth, 0);
	assert_int_equal(pkt.encap_mask, 0);

	tb_build(&b, "eth ip6 udp");
	/* a hop-by-hop header of 8 bytes before the UDP header */
	memmove(b.buf + 14 + 48, b.buf + 14 + 40, b.len - 54);
	b.buf[14 + 6] = IPPROTO_HOPOPTS;
	memcpy(b.buf + 14 + 40, "\x11\x00\x01\x04\x00\x00\x00\x00", 8);
	b.len += 8;
	tb_set_be16(b.buf, 14 + 4, (uint16_t)(b.len - 54));
	assert_int_equal(dp_decode(b.buf, b.len, DP_LINK_ETHER, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.l3_off, 14);
	assert_int_equal(pkt.l3_hlen, 48);
	assert_int_equal(pkt.l3_len, b.len - 14);
	assert_int_equal(pkt.sport, 5060);
}

/* dp_decode_ip on a datagram rebuilt from fragments. */
static void
test_decode_ip(void **state)
{
	struct dp_decode_cfg cfg = tb_cfg(2);
	struct dp_pkt pkt;
	struct tb b;
	uint8_t *ip;
	uint32_t n;

	(void)state;
	/* The rebuilt outer datagram of a fragmented VXLAN frame. */
	tb_build(&b, "eth ip4 vxlan eth1 ip4 udp");
	ip = b.buf + 14;
	n = b.len - 14;
	assert_int_equal(dp_decode_ip(ip, n, &cfg, 1, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.depth, 2);
	assert_int_equal(pkt.encap_mask, DP_ENCAP_VXLAN);
	assert_int_equal(pkt.vlans, 1);
	expect_addrs(&pkt, 4, 1);
	assert_int_equal(pkt.l3_off, b.ip_off - 14);
	assert_int_equal(pkt.l3_len, b.len - b.ip_off);
	assert_ptr_equal(pkt.payload, b.buf + b.pay_off);
	assert_int_equal(pkt.payload_len, sizeof(tb_sip) - 1);
	/* The layers before it count against the limit. */
	assert_int_equal(dp_decode_ip(ip, n, &cfg, 2, &pkt), DP_DEC_TOO_DEEP);
	cfg.max_depth = 0;
	assert_int_equal(dp_decode_ip(ip, n, &cfg, 0, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.dport, TB_VXLAN_PORT);
	cfg.max_depth = 2;
	for (n = 0; n < b.len - 14; n++)
		assert_int_equal(dp_decode_ip(ip, n, &cfg, 0, &pkt), DP_DEC_TRUNCATED);

	/* A rebuilt inner datagram: plain IPv6, no layer stripped here. */
	tb_build(&b, "eth ip6 tcp");
	assert_int_equal(dp_decode_ip(b.buf + 14, b.len - 14, &cfg, 1, &pkt), DP_DEC_OK);
	assert_int_equal(pkt.depth, 1);
	assert_int_equal(pkt.encap_mask, 0);
	assert_int_equal(pkt.l3_off, 0);
	assert_int_equal(pkt.l3_hlen, 40);
	expect_addrs(&pkt, 6, 0);
	assert_int_equal(pkt.proto, IPPROTO_TCP);

	/* A fragment inside the rebuilt datagram. */
	tb_build(&b, "eth ip4 gre ip6f udp");
	assert_int_equal(dp_decode_ip(b.buf + 14, b.len - 14, &cfg, 0, &pkt), DP_DEC_FRAGMENT);
	assert_int_equal(pkt.l3_off, b.frag_off - 14);
	assert_int_equal(pkt.v6_frag_off, 40);
	assert_int_equal(pkt.depth, 1);

	assert_int_equal(dp_decode_ip(NULL, 0, &cfg, 0, &pkt), DP_DEC_TRUNCATED);
	b.buf[14] = 0x55;
	assert_int_equal(dp_decode_ip(b.buf + 14, b.len - 14, &cfg, 0, &pkt), DP_DEC_BAD_HEADER);
}

/*
 * Flip random bytes of tunnelled frames, cut some, and decode each from an
 * exactly-sized buffer with random limits: the invariants of decode_exact
 * hold on whatever comes out.
 */
static void
test_mutations(void **state)
{
	static const char *const specs[] = {
		"eth1 ip4 erspan2 eth1 ip4 udp",
		"eth ip4 vxlan eth2 ip6 tcp",
		"eth ip6 grecks ip4 udp",
		"eth ip4 erspan3o eth ip4 ip6 udp",
		"eth ip4 ip6f udp",
		"eth ip4 vxlan eth ip4 gre eth ip4 udp",
		"eth2 pppoe ppp-a ip4 pptpsa ppp ip4 udp",
		"eth ip4 vxlan eth1 pppoe ppp-ap ip6 pptpa ppp-p ip6 tcp",
	};
	enum { NSPECS = sizeof(specs) / sizeof(specs[0]) };
	struct dp_decode_cfg cfg;
	struct tb frames[NSPECS];
	uint32_t x = 0x9e3779b9;
	unsigned int i, j, f, flips;
	uint8_t buf[TB_MAX];
	struct dp_pkt pkt;
	unsigned int ok = 0;
	uint32_t n;

	(void)state;
	for (f = 0; f < NSPECS; f++)
		tb_build(&frames[f], specs[f]);
	for (i = 0; i < 30000; i++) {
		f = i % NSPECS;
		memcpy(buf, frames[f].buf, frames[f].len);
		n = frames[f].len;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		flips = 1 + x % 3;
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
		cfg = tb_cfg((uint8_t)((x >> 4) % 4));
		if (dp_decode_cfg(buf, n, &cfg, &pkt) == DP_DEC_OK)
			ok++;
		decode_exact(buf, n, &cfg, &pkt);
	}
	/* most single flips land in fields the decoder does not check */
	assert_true(ok > 1000);
}

/*
 * Captures of the shared corpus, read here without libpcap (classic pcap
 * and pcapng with one interface: all the corpus holds).
 */
struct cap {
	uint8_t *data;
	size_t size;
	size_t pos;
	int ng;
	int swap;
	enum dp_link link;
};

static uint32_t
cap_u32(const struct cap *c, size_t off)
{
	const uint8_t *p = c->data + off;

	if (c->swap)
		return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
			p[3];
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static const char *
cap_dir(void)
{
	static char path[4096];
	const char *env = getenv("SG_CORPUS");
	const char *root = getenv("MESON_SOURCE_ROOT");

	if (env != NULL && env[0] != '\0')
		return env;
	snprintf(path, sizeof(path), "%s/../shared/corpus", root != NULL ? root : ".");
	return path;
}

/* Load a capture; 0 when the file is not there. */
static int
cap_open(struct cap *c, const char *name)
{
	char path[4200];
	uint32_t magic;
	FILE *f;
	long sz;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/%s", cap_dir(), name);
	f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 24);
	rewind(f);
	c->size = (size_t)sz;
	c->data = malloc(c->size);
	assert_non_null(c->data);
	assert_int_equal(fread(c->data, 1, c->size, f), c->size);
	fclose(f);

	magic = cap_u32(c, 0);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
		c->link = (enum dp_link)(cap_u32(c, 20) & 0xffff);
		c->pos = 24;
	} else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
		c->swap = 1;
		c->link = (enum dp_link)(cap_u32(c, 20) & 0xffff);
		c->pos = 24;
	} else {
		assert_int_equal(magic, 0x0a0d0d0a);
		c->ng = 1;
		c->swap = cap_u32(c, 8) != 0x1a2b3c4d;
		assert_int_equal(cap_u32(c, 8), 0x1a2b3c4d);
	}
	return 1;
}

/* The next frame, or 0 at the end. */
static int
cap_next(struct cap *c, const uint8_t **frame, uint32_t *len)
{
	uint32_t type, blen;

	if (!c->ng) {
		if (c->pos + 16 > c->size)
			return 0;
		*len = cap_u32(c, c->pos + 8);
		*frame = c->data + c->pos + 16;
		assert_true(c->pos + 16 + *len <= c->size);
		c->pos += 16 + *len;
		return 1;
	}
	while (c->pos + 12 <= c->size) {
		type = cap_u32(c, c->pos);
		blen = cap_u32(c, c->pos + 4);
		assert_true(blen >= 12 && c->pos + blen <= c->size);
		if (type == 1) {
			/* one interface in every corpus file */
			c->link = (enum dp_link)(cap_u32(c, c->pos + 8) & 0xffff);
		} else if (type == 6) {
			*len = cap_u32(c, c->pos + 20);
			*frame = c->data + c->pos + 28;
			assert_true(28 + *len <= blen);
			c->pos += blen;
			return 1;
		}
		c->pos += blen;
	}
	return 0;
}

/* Does the payload start like a SIP message? */
static int
is_sip(const struct dp_pkt *pkt)
{
	static const char *const starts[] = { "SIP/2.0 ", "INVITE ", "ACK ", "BYE ", "CANCEL ",
		"REGISTER ", "OPTIONS ", "SUBSCRIBE ", "NOTIFY ", "REFER ", "PRACK ", "UPDATE ",
		"INFO ", "MESSAGE ", "PUBLISH " };
	size_t i, n;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		n = strlen(starts[i]);
		if (pkt->payload_len >= n && memcmp(pkt->payload, starts[i], n) == 0)
			return 1;
	}
	return 0;
}

/* Results of decoding every frame of a capture with tunnels allowed. */
struct cap_count {
	unsigned int frames;
	unsigned int res[DP_DEC_TOO_DEEP + 1];
	unsigned int sip;      /* OK, and the payload is a SIP message */
	unsigned int depth[4]; /* of OK frames */
	uint8_t mask;	       /* of OK frames */
};

static int
cap_decode(const char *name, struct cap_count *cnt,
	void (*each)(unsigned int no, enum dp_decode_res res, const struct dp_pkt *pkt))
{
	struct dp_decode_cfg cfg = tb_cfg(3);
	enum dp_decode_res res, plain;
	struct dp_pkt pkt, pkt0;
	const uint8_t *frame;
	struct cap c;
	uint32_t len;

	memset(cnt, 0, sizeof(*cnt));
	if (!cap_open(&c, name)) {
		print_message("corpus file %s/%s missing: skipped\n", cap_dir(), name);
		return 0;
	}
	while (cap_next(&c, &frame, &len)) {
		cfg.link = c.link;
		res = decode_exact(frame, len, &cfg, &pkt);
		/* again in place: the callbacks read the payload */
		assert_int_equal(dp_decode_cfg(frame, len, &cfg, &pkt), res);
		cnt->frames++;
		cnt->res[res]++;
		if (res == DP_DEC_OK) {
			cnt->depth[pkt.depth < 3 ? pkt.depth : 3]++;
			cnt->mask |= pkt.encap_mask;
			if (is_sip(&pkt))
				cnt->sip++;
		}
		/* A frame without a tunnel decodes as it does without decapsulation. */
		plain = dp_decode(frame, len, c.link, &pkt0);
		if (res == DP_DEC_OK && pkt.depth == 0) {
			assert_int_equal(plain, DP_DEC_OK);
			assert_memory_equal(&pkt0, &pkt, sizeof(pkt));
		}
		if (each != NULL)
			each(cnt->frames, res, &pkt);
	}
	free(c.data);
	print_message("%s: %u frames, %u ok (%u SIP; depth 0/1/2: %u/%u/%u), %u l4_unsupported, "
		      "%u l2_unsupported, %u other\n",
		name, cnt->frames, cnt->res[DP_DEC_OK], cnt->sip, cnt->depth[0], cnt->depth[1],
		cnt->depth[2], cnt->res[DP_DEC_L4_UNSUPPORTED], cnt->res[DP_DEC_L2_UNSUPPORTED],
		cnt->frames - cnt->res[DP_DEC_OK] - cnt->res[DP_DEC_L4_UNSUPPORTED] -
			cnt->res[DP_DEC_L2_UNSUPPORTED]);
	return 1;
}

static void
addr4(const struct dp_pkt *pkt, const char *src, const char *dst)
{
	char s[32], d[32];

	assert_int_equal(pkt->family, 4);
	snprintf(s, sizeof(s), "%u.%u.%u.%u", pkt->src[0], pkt->src[1], pkt->src[2], pkt->src[3]);
	snprintf(d, sizeof(d), "%u.%u.%u.%u", pkt->dst[0], pkt->dst[1], pkt->dst[2], pkt->dst[3]);
	assert_string_equal(s, src);
	assert_string_equal(d, dst);
}

/* Frames checked against tshark's innermost ip.src, ip.dst, port. */
static void
erspan_frame(unsigned int no, enum dp_decode_res res, const struct dp_pkt *pkt)
{
	assert_int_equal(res, DP_DEC_OK);
	assert_int_equal(pkt->depth, 1);
	assert_int_equal(pkt->encap_mask, DP_ENCAP_GRE);
	assert_int_equal(pkt->proto, IPPROTO_UDP);
	if (no == 1) {
		addr4(pkt, "180.173.83.248", "101.231.48.19");
		assert_int_equal(pkt->sport, 53221);
	} else if (no == 3) {
		addr4(pkt, "192.168.1.191", "192.168.1.222");
		assert_int_equal(pkt->sport, 5060);
	} else if (no == 22) {
		addr4(pkt, "192.168.1.198", "192.168.1.222");
		assert_int_equal(pkt->sport, 5060);
	}
}

static void
ipip_frame(unsigned int no, enum dp_decode_res res, const struct dp_pkt *pkt)
{
	assert_int_equal(res, DP_DEC_OK);
	assert_int_equal(pkt->proto, IPPROTO_TCP);
	if (no == 2 || no == 3) {
		assert_int_equal(pkt->depth, 1);
		assert_int_equal(pkt->encap_mask, DP_ENCAP_IPIP);
		addr4(pkt, "10.15.193.31", "10.15.197.103");
		assert_int_equal(pkt->sport, 33093);
	} else {
		assert_int_equal(pkt->depth, 0);
		addr4(pkt, "10.15.197.103", "10.15.193.31");
		assert_int_equal(pkt->sport, 5090);
	}
}

/*
 * PPTP: tshark's innermost ip.src, ip.dst, udp.srcport, udp.dstport and
 * udp.length - 8 of every frame. Frame 1 is PPTP inside PPPoE behind two
 * tags; the others PPTP with acknowledgment numbers behind one tag.
 */
static const struct pptp_expect {
	const char *src;
	const char *dst;
	uint16_t sport;
	uint16_t dport;
	uint32_t payload_len;
} pptp_expect[] = {
	{ "212.83.179.0", "192.200.144.148", 5097, 5060, 412 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 869 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 298 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 504 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 887 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 545 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 563 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 536 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 1026 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 324 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 530 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 428 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 506 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 490 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 378 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 869 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 298 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 504 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 330 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 480 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 464 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 475 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 934 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 304 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 510 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 388 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 486 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 470 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 358 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 869 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 298 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 504 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 887 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 545 },
	{ "192.168.103.40", "192.168.10.210", 5060, 5060, 561 },
	{ "192.168.10.210", "192.168.103.40", 5060, 5060, 534 },
};

static void
pptp_frame(unsigned int no, enum dp_decode_res res, const struct dp_pkt *pkt)
{
	const struct pptp_expect *e;

	assert_true(no >= 1 && no <= sizeof(pptp_expect) / sizeof(pptp_expect[0]));
	e = &pptp_expect[no - 1];
	assert_int_equal(res, DP_DEC_OK);
	assert_int_equal(pkt->depth, 1);
	assert_int_equal(pkt->encap_mask, DP_ENCAP_PPTP);
	assert_int_equal(pkt->vlans, no == 1 ? 2 : 1);
	assert_int_equal(pkt->proto, IPPROTO_UDP);
	addr4(pkt, e->src, e->dst);
	assert_int_equal(pkt->sport, e->sport);
	assert_int_equal(pkt->dport, e->dport);
	assert_int_equal(pkt->payload_len, e->payload_len);
}

static void
test_corpus(void **state)
{
	static const char *const plain[] = { "heplify_FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
		"heplify_sip_ipv4_tcp.pcap", "heplify_sip_ipv4_tcp_fragmented.pcap",
		"heplify_sip_ipv4_tcp_retrans.pcap", "heplify_sip_ipv6_udp.pcap",
		"heplify_sip_tcp_websocket.pcap", "isa_sip.pcap", "marylsLab09_sip.pcap",
		"ndpi_sip_hello.pcapng", "sngrep_aaa.pcap", "sngrep_ipv6frag.pcap" };
	struct cap_count cnt;
	unsigned int i;
	int found = 0;

	(void)state;
	/* Ethernet over GRE (the file's name says ERSPAN; it is 0x6558). */
	if (cap_decode("heplify_erspan_sip_ipv4_udp.pcapng", &cnt, erspan_frame)) {
		found = 1;
		assert_int_equal(cnt.frames, 140);
		assert_int_equal(cnt.res[DP_DEC_OK], 140);
		assert_int_equal(cnt.sip, 140);
	}
	/* Two of the four SIP/TCP frames are IP in IP. */
	if (cap_decode("sngrep_ipip.pcap", &cnt, ipip_frame)) {
		found = 1;
		assert_int_equal(cnt.frames, 4);
		assert_int_equal(cnt.res[DP_DEC_OK], 4);
		assert_int_equal(cnt.depth[1], 2);
		assert_int_equal(cnt.sip, 4);
	}
	/* PPTP (enhanced GRE carrying PPP), one frame of it inside PPPoE. */
	if (cap_decode("ndpi_gre_sip.pcapng", &cnt, pptp_frame)) {
		found = 1;
		assert_int_equal(cnt.frames, 36);
		assert_int_equal(cnt.res[DP_DEC_OK], 36);
		assert_int_equal(cnt.sip, 36);
		assert_int_equal(cnt.depth[1], 36);
		assert_int_equal(cnt.mask, DP_ENCAP_PPTP);
	}
	/* Captures without tunnels: nothing stripped, decoded as before. */
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (cap_decode(plain[i], &cnt, NULL)) {
			assert_int_equal(cnt.mask, 0);
			assert_true(cnt.res[DP_DEC_OK] > 0);
		}
	}
	if (!found)
		skip();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vxlan),
		cmocka_unit_test(test_gre_teb),
		cmocka_unit_test(test_gre_ip_options),
		cmocka_unit_test(test_erspan),
		cmocka_unit_test(test_ipip),
		cmocka_unit_test(test_pptp),
		cmocka_unit_test(test_pptp_unsupported),
		cmocka_unit_test(test_pppoe),
		cmocka_unit_test(test_pppoe_unsupported),
		cmocka_unit_test(test_pppoe_sll),
		cmocka_unit_test(test_in_vlans),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_bad_inner),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_l3_fields),
		cmocka_unit_test(test_decode_ip),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
