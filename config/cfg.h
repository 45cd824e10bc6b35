/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: reads a libconfig file into a plain struct, checking every
 * key for type and range. Unknown keys and sections are errors. Errors are
 * one line: "FILE:LINE: KEY: BAD VALUE: why". No EAL: unit tests and the
 * fuzzer call it directly.
 */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>
#include <stdint.h>

#include "sg_shared.h"

struct cfg_prefix {
	uint8_t family;          /* 4 or 6 */
	uint8_t depth;           /* prefix length */
	uint8_t addr[16];        /* network order, host bits zero */
};

struct cfg_trunk {
	char name[SG_TRUNK_NAME_MAX];
	struct cfg_prefix prefixes[SG_MAX_PREFIXES];
	uint32_t n_prefixes;
	uint16_t port;           /* 0: any port */
	uint32_t cps;            /* agreed calls per second */
	uint32_t max_concurrent; /* agreed concurrent calls */
};

struct cfg_dataplane {
	uint16_t sip_ports[SG_MAX_SIP_PORTS];
	uint32_t n_sip_ports;
	uint32_t retrans_entries;   /* retransmission table size per lcore */
	uint32_t retrans_window_s;  /* how long a message is remembered */
	uint32_t mbufs;             /* mbuf pool size */
	uint32_t burst;             /* rx burst size */
};

struct sg_config {
	struct cfg_dataplane dp;
	struct cfg_trunk trunks[SG_MAX_TRUNKS];
	uint32_t n_trunks;
};

/* Fill cfg with every default (what an empty file gives). */
void cfg_defaults(struct sg_config *cfg);

/*
 * Load and check a file. Returns 0, or -1 with one line (no newline) in
 * err. On error cfg is left with defaults only: never half-loaded.
 */
int cfg_load(const char *path, struct sg_config *cfg, char *err, size_t errlen);

/* Same, over a buffer; `name` stands for the file name in errors. */
int cfg_load_buffer(const char *text, size_t len, const char *name,
		    struct sg_config *cfg, char *err, size_t errlen);

/* Parse "10.0.0.0/8" or "2001:db8::/32" (no prefix: a host route). */
int cfg_parse_prefix(const char *s, struct cfg_prefix *out);

#endif /* CFG_H */
