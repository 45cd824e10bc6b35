/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffers for hs_scan. Hyperscan's vector engines may load a whole
 * vector that starts inside the buffer and ends past it: the AVX512VBMI
 * fat Teddy of Hyperscan 5.4 reads 32 bytes where fewer are left, and
 * other accelerators up to a vector (64 bytes) (vectorscan issue 322).
 * The extra bytes are never used, but a buffer that ends just before an
 * unmapped page takes the process down. So every scan goes through
 * dp_hsbuf_safe(): the buffer itself when the bytes past its end lie on
 * its last byte's page (nearly always), else a per-thread copy with room
 * behind it. Per-lcore work areas that are scanned keep DP_HSBUF_SLACK
 * bytes after their text instead.
 */
#ifndef SG_DP_HSBUF_H
#define SG_DP_HSBUF_H

#include <stdint.h>

#define DP_HSBUF_SLACK 64    /* bytes a scan may read past the end */
#define DP_HSBUF_COPY 65536u /* the longest buffer the copy takes */
#define DP_HSBUF_PAGE 4096u  /* the smallest page a mapping ends on */

/* 1 when the DP_HSBUF_SLACK bytes past buf[len - 1] are on its page. */
static inline int
dp_hsbuf_tail_ok(const void *buf, uint32_t len)
{
	uintptr_t last = (uintptr_t)buf + len - 1;

	return len > 0 &&
		(last & ~(uintptr_t)(DP_HSBUF_PAGE - 1)) ==
		((last + DP_HSBUF_SLACK) & ~(uintptr_t)(DP_HSBUF_PAGE - 1));
}

/*
 * buf, or this thread's copy of buf[0, len) with DP_HSBUF_SLACK bytes
 * after it; NULL when the copy is needed and len is over DP_HSBUF_COPY.
 * The copy stays valid until the thread's next call.
 */
const char *dp_hsbuf_safe(const void *buf, uint32_t len);

/* Copies made so far on this thread (the rare case, counted for tests). */
uint64_t dp_hsbuf_copies(void);

#endif /* SG_DP_HSBUF_H */
