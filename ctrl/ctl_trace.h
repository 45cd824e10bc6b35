/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traces of failed calls: the frames the workers' flight recorders hand
 * over (dataplane/dp_trace.h) become pcapng files, one series per trunk,
 * `DIR/TRUNK-NNNNNN.pcapng`. A file is rotated when the next block would
 * take it past file_size, and at most `files` are kept per trunk, the
 * oldest deleted first, so a trunk's traces never take more than
 * file_size x files bytes. Every packet of a call carries its Call-ID
 * in an opt_comment, so `tshark -Y 'frame.comment contains ...'` finds
 * the call's frames, the fragments and TCP segments it came in included.
 *
 * Why a writer of its own: libpcap 1.10 (Debian 12) writes only the old
 * pcap format (no comments), and no other packaged C library writes
 * pcapng; the three blocks needed (SHB, IDB, EPB with opt_comment) are a
 * page of code, as plain functions over a buffer.
 *
 * The module also keeps the last CTL_TRACE_CALLS calls' ladders in memory
 * (what each frame was: method or status, CSeq, Retry-After, Reason; the
 * worker read them already), which `sipguardctl trace` draws, and which
 * files hold each call. Plain C, no EAL: sipguard-ctrl and the offline
 * mode (`sipguard --pcap --traces DIR`) both run it.
 */
#ifndef CTL_TRACE_H
#define CTL_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sg_shared.h"

/* ---- pcapng blocks: plain functions over a buffer ---- */

#define CTL_PCAPNG_SHB 0x0A0D0D0Au
#define CTL_PCAPNG_IDB 0x00000001u
#define CTL_PCAPNG_EPB 0x00000006u
#define CTL_PCAPNG_BOM 0x1A2B3C4Du
#define CTL_PCAPNG_OPT_COMMENT 1

/*
 * Each writes one block at buf and returns its length, or 0 if it does
 * not fit in len. Timestamps of an IDB without if_tsresol are in
 * microseconds.
 */
size_t ctl_pcapng_shb(uint8_t *buf, size_t len);
size_t ctl_pcapng_idb(uint8_t *buf, size_t len, uint16_t linktype, uint32_t snaplen);
size_t ctl_pcapng_epb(uint8_t *buf, size_t len, uint32_t ifid, uint64_t ts_us, const uint8_t *data,
	uint32_t cap_len, uint32_t orig_len, const char *comment, size_t comment_len);

/* One packet read back (pointers into the buffer read). */
struct ctl_pcapng_pkt {
	uint32_t ifid;
	uint16_t linktype; /* of its interface */
	uint64_t ts_us;
	const uint8_t *data;
	uint32_t cap_len;
	uint32_t orig_len;
	const char *comment; /* NULL: none */
	uint32_t comment_len;
};

#define CTL_PCAPNG_MAX_IF 8

/* Reader state over one file's bytes (little-endian sections only). */
struct ctl_pcapng_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;
	uint32_t n_if;
	uint16_t linktype[CTL_PCAPNG_MAX_IF];
};

void ctl_pcapng_reader_init(struct ctl_pcapng_reader *r, const uint8_t *buf, size_t len);

/*
 * The next enhanced packet: 1 and out filled; 0 at the end; -1 when the
 * bytes are not pcapng as this module writes it (a bad length, an unknown
 * interface), with the reason in err. Never reads outside buf.
 */
int ctl_pcapng_next(
	struct ctl_pcapng_reader *r, struct ctl_pcapng_pkt *out, char *err, size_t errlen);

/* ---- the trace writer ---- */

#define CTL_TRACE_CALLS 512    /* calls whose ladders are kept */
#define CTL_TRACE_CALL_MSGS 64 /* messages kept of one call */
#define CTL_TRACE_CALL_FILES 4 /* files one call's frames went to, at most */

struct ctl_trace_cfg {
	const char *dir;
	uint64_t file_size;
	uint32_t files;
	uint32_t sample_per_s; /* calls per trunk per second, all workers together */
};

struct ctl_trace_stats {
	uint64_t calls;		  /* calls written */
	uint64_t suppressed;	  /* over sample_per_s across workers: not written */
	uint64_t frames;	  /* frames written */
	uint64_t orphan_frames;	  /* late frames of a call no longer known: written alone */
	uint64_t files_opened;	  /* files started */
	uint64_t files_rotated;	  /* old files deleted to keep `files` */
	uint64_t bytes;		  /* bytes written */
	uint64_t write_errors;	  /* frames lost to a failed open or write */
	uint64_t truncated_calls; /* calls with more messages than a ladder keeps */
};

struct ctl_trace;

/*
 * Create the writer; the directory is created if missing. Returns NULL
 * with one line in err (the directory cannot be made or written).
 */
struct ctl_trace *ctl_trace_create(const struct ctl_trace_cfg *cfg, char *err, size_t errlen);
void ctl_trace_free(struct ctl_trace *t);

/* One frame handed over; trunk_name names its trunk's series of files. */
void ctl_trace_frame(struct ctl_trace *t, const struct sg_trace_frame *f, const char *trunk_name);

/* Push what is written to the files (after each drain): readers see whole blocks. */
void ctl_trace_flush(struct ctl_trace *t);

const struct ctl_trace_stats *ctl_trace_stats(const struct ctl_trace *t);
json_t *ctl_trace_stats_json(const struct ctl_trace *t);

/*
 * The ladder of one call of trunk (call_id NULL: its newest) as JSON:
 * {"trunk","call_id","files":[PATH...],"parties":[A,B],"truncated":B,
 *  "messages":[{"time_ms","from","to","label","request","cseq",
 *  "cseq_method","retry_after"?,"reason"?,"bytes","late"}]}
 * NULL when no such call is kept.
 */
json_t *ctl_trace_call_json(const struct ctl_trace *t, const char *trunk, const char *call_id);

/* Paths of the files holding call_id's frames, as a JSON array (maybe empty). */
json_t *ctl_trace_files_json(const struct ctl_trace *t, const char *call_id);

/* Path of a trunk's file number seq into buf. */
int ctl_trace_path(
	const struct ctl_trace *t, const char *trunk, uint64_t seq, char *buf, size_t len);

#endif /* CTL_TRACE_H */
