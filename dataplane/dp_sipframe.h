/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message framing over a byte stream (RFC 3261 section 18.3): where
 * a message that starts at a given byte ends. TCP streams and the SIP in
 * HEP-over-TCP streams are cut into messages with it (dp_stream.c), and
 * re-synchronisation after a hole looks for the next start line with it.
 * Plain functions over a buffer: no state, no allocation.
 */
#ifndef DP_SIPFRAME_H
#define DP_SIPFRAME_H

#include <stdint.h>

/*
 * The length of the message that starts at p
 * (header section, then Content-Length bytes of body; no Content-Length
 * means no body). Returns 1 with *n set as soon as the header section is
 * whole (*n may exceed len: the message is whole once len >= *n), 0 when
 * more bytes are needed, -1 when p does not begin a SIP start line or its
 * Content-Length (or compact `l`) is not a number. The start line is a
 * request line (method token, SP, Request-URI, SP, "SIP/2.0") or a status
 * line ("SIP/2.0", SP, three digits); lines may end in CRLF or bare LF.
 */
int dp_sipframe_len(const uint8_t *p, uint32_t len, uint32_t *n);

/*
 * As dp_sipframe_len, but on -1 *n says how far the
 * caller may skip before looking for the next start line: 0 when p is
 * not a start line, the header section when its Content-Length is bad
 * (lines inside a broken header section are not message starts, and
 * skipping them keeps re-synchronisation linear).
 */
int dp_sipframe_len_skip(const uint8_t *p, uint32_t len, uint32_t *n);

#endif /* DP_SIPFRAME_H */
