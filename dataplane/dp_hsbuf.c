/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffers for hs_scan: see dp_hsbuf.h. The copy is per thread (each lcore
 * scans alone) and static, so the packet path neither allocates nor
 * locks; it is needed for about one buffer in sixty (those ending in a
 * page's last 64 bytes), and only then costs a memcpy.
 */
#include <string.h>

#include "dp_hsbuf.h"

static __thread char dp_hsbuf_copy[DP_HSBUF_COPY + DP_HSBUF_SLACK]
	__attribute__((tls_model("initial-exec"), aligned(64)));
static __thread uint64_t dp_hsbuf_n_copies __attribute__((tls_model("initial-exec")));

const char *
dp_hsbuf_safe(const void *buf, uint32_t len)
{
	if (len == 0 || dp_hsbuf_tail_ok(buf, len))
		return buf;
	if (len > DP_HSBUF_COPY)
		return NULL;
	memcpy(dp_hsbuf_copy, buf, len);
	dp_hsbuf_n_copies++;
	return dp_hsbuf_copy;
}

uint64_t
dp_hsbuf_copies(void)
{
	return dp_hsbuf_n_copies;
}
