/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker: the per-packet pipeline of one lcore. Decode, find the trunk,
 * split the payload into SIP messages, classify each with Hyperscan,
 * decide retransmission, count.
 *
 * Everything a worker writes lives in its own cache-aligned struct and is
 * written by that lcore only: plain increments, no atomics, no locks, no
 * allocation, no syscalls, no logging per packet.
 *
 * The live loop around it, the slot clock and publication are in
 * dp_worker_loop.h.
 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "cfg.h"
#include "dp_decode.h"
#include "dp_diag.h"
#include "dp_dialog.h"
#include "dp_frag.h"
#include "dp_hep.h"
#include "dp_retrans.h"
#include "dp_steer.h"
#include "dp_stream.h"
#include "dp_trace.h"
#include "dp_sip.h"
#include "dp_trunk.h"
#include "sg_shared.h"

/*
 * Largest frame we classify: a 64 KiB IP datagram plus the largest link
 * header we decode (SLL or Ethernet with two VLAN tags) and an IPv6
 * header. Larger chained mbufs are counted and skipped.
 */
#define DP_WORKER_BOUNCE (65536 + 128)

/*
 * Shared by all workers, read-only after start-up, but for `trunks` and
 * `diag`: a reload swaps in a new table and new diagnosis rules under
 * RCU (dp_reload.h). A worker loads the pointers once per burst
 * (dp_worker_trunks_refresh) and reports a quiescent state after it, so
 * a table or rule database is freed only once no worker can still be
 * reading it.
 */
struct dp_worker_shared {
	const struct dp_sip_db *db;
	const struct dp_trunks *trunks;
	/*
	 * diagnosis rules (NULL: none) and the scratch each worker clones;
	 * a reload stores a new `diag` before the new `trunks`, and workers
	 * take it when they take that table
	 */
	const struct dp_diag *diag;
	hs_scratch_t *diag_proto;
	enum sg_parser parser; /* which SIP extractor engine */
	/*
	 * keep a flight recorder (traces.recorder_frames): only where traces
	 * are written (live with traces.dir, offline with --traces), so a
	 * box that writes none pays nothing per packet for it
	 */
	int record;
	enum dp_link link;
	struct dp_decode_cfg dec; /* decapsulation (link is set from `link`) */
	/* HEP collector: port (0 off), agents allowed, the key required */
	uint16_t hep_port;
	uint16_t hep_auth_len;
	uint32_t n_hep_allow;
	struct cfg_prefix hep_allow[CFG_MAX_HEP_ALLOW];
	char hep_auth[sizeof(((struct cfg_hep *)0)->auth_key)];
	int ts_dynfield;	     /* mbuf timestamp offset, -1 if none */
	uint64_t ts_dynflag;	     /* ol_flags bit saying it is valid */
	uint8_t sip_port[65536 / 8]; /* bitmap of configured SIP ports */
};

/*
 * Packet time is handed to the policy in slots this long: offline through
 * on_tick, live as publications stamped at each slot's start.
 */
#define DP_WORKER_TICK_MS 100

#define DP_DIRTY_WORDS ((SG_TRUNK_SLOTS + 63) / 64)

/*
 * A datagram's message parsed in the first pass over a burst and counted
 * in the second, once its retransmission set has been prefetched.
 */
struct dp_worker_pending {
	struct dp_sip_msg m;
	struct dp_retrans_key key;
	struct dp_dialog_key dkey;
	uint64_t now_ms;
	uint32_t trunk;
	uint32_t dir; /* enum dp_dir */
};

/* Messages held between the passes; a fuller burst is counted in parts. */
#define DP_WORKER_PENDING 64

/*
 * Where a live worker publishes (NULL rings: offline, nothing published).
 * The rings are single-producer (this worker) and single-consumer (ctrl).
 */
struct dp_worker_link {
	struct rte_ring *pub_ring;
	struct rte_ring *evt_ring;
	struct rte_mempool *pub_pool;
	struct rte_mempool *evt_pool;
	struct sg_worker_stats *stats; /* this worker's slot in sg_shm */
	const volatile uint64_t *ctrl_generation;
	uint64_t publish_cycles;   /* publication interval */
	struct rte_rcu_qsbr *qsbr; /* trunk table readers (thread id: index) */
};

struct dp_worker {
	/* hot: touched for every packet */
	struct sg_source_counters src;
	struct dp_retrans *rt;
	struct dp_dialogs *dlg;
	struct dp_decode_cfg dec;
	uint64_t dirty[DP_DIRTY_WORDS]; /* trunks changed since published */
	hs_scratch_t *scratch;
	const struct dp_worker_shared *sh;
	const struct dp_trunks *trunks; /* sh->trunks as of this burst */
	const struct dp_diag *diag;	/* sh->diag, taken with the trunks */
	uint64_t tsc_hz;
	uint64_t tsc_base;
	uint64_t last_ms;      /* packet time of the last packet */
	uint64_t wall_base_ms; /* wall clock at tsc_base */
	uint64_t tsc_start;    /* the first anchor: the TSC rate is measured from it */
	uint64_t wall_start_ms;
	struct dp_worker_link ln;
	/*
	 * Offline: the capture's own packet times (ms), in file order, read
	 * by libpcap beforehand because the net_pcap PMD of this DPDK does
	 * not offer them as an RX timestamp. NULL live.
	 */
	const uint64_t *pkt_times;
	uint64_t n_pkt_times;
	/*
	 * Offline replay: called when packet time enters a new 100 ms slot
	 * (slot_ms, its start), before the first packet of that slot is
	 * counted: the policy decides on the same slots live. NULL live,
	 * where the worker publishes at that moment instead, stamped with
	 * slot_ms (dp_worker_main).
	 */
	void (*on_tick)(void *arg, uint64_t slot_ms);
	void *on_tick_arg;
	uint64_t cur_slot;     /* packet time / DP_WORKER_TICK_MS of the last tick */
	uint64_t next_tick_ms; /* packet time of the next slot, UINT64_MAX: no slots */
	uint64_t pub_seq;
	uint64_t seen_generation;
	uint64_t next_publish;		  /* TSC */
	uint32_t index;			  /* worker number, 0.. */
	uint64_t last_oc[SG_TRUNK_SLOTS]; /* last overload-control signal seen */
	unsigned int lcore_id;
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t burst;
	uint32_t n_pending;
	uint16_t ahead; /* frames at the head of the next burst prefetched */
	struct dp_worker_pending pending[DP_WORKER_PENDING];
	/*
	 * Inner-flow steering (dp_steer.h); NULL with one worker, offline,
	 * or dataplane.steer_ring 0. Read only for tunnelled frames.
	 */
	struct dp_steer *steer;
	/* cold: fragments, streams and HEP, off the common path */
	struct dp_frag *frag;
	struct dp_streams *streams;
	uint64_t last_tick_ms; /* packet time of the last reassembly tick */
	/*
	 * Flight recorder (dp_trace.h), NULL when off; the frame being
	 * worked, which a message whose payload lies inside it came from.
	 */
	struct dp_trace *trace;
	const uint8_t *tr_frame;
	uint32_t tr_len;
	uint64_t tr_us; /* its time, µs */
	/* a datagram rebuilt from fragments: where its frames are held */
	const struct dp_trace_span *tr_span;
	/*
	 * The message the stream framer (dp_worker_sip_frame) last parsed:
	 * handed on right after, it is counted without a second parse.
	 */
	const uint8_t *framed_p;
	uint32_t framed_len;
	struct dp_sip_msg framed;
	/* diagnosis of final 4xx-6xx answers to INVITE (dp_diag.h) */
	hs_scratch_t *diag_scratch;
	struct dp_diag_scan diag_scan;
	struct sg_trunk_counters trunk[SG_TRUNK_SLOTS] __rte_cache_aligned;
	uint8_t bounce[DP_WORKER_BOUNCE] __rte_cache_aligned;
	/* datagrams rebuilt from fragments (one at a time, counted at once) */
	uint8_t frag_buf[DP_WORKER_BOUNCE] __rte_cache_aligned;
};

/* Fill the shared part from config; the caller sets db, trunks, link. */
void dp_worker_shared_init(struct dp_worker_shared *sh, const struct sg_config *cfg);

/*
 * Create a worker on socket_id with its own retransmission table and
 * Hyperscan scratch. Returns NULL with one line in err.
 */
struct dp_worker *dp_worker_create(const struct dp_worker_shared *sh, const struct sg_config *cfg,
	hs_scratch_t *proto_scratch, int socket_id, char *err, size_t errlen);
void dp_worker_free(struct dp_worker *w);

/*
 * Take the trunk table now published (sh->trunks). A live worker calls
 * it before each burst, never inside one; the first time it sees a new
 * table it notes, in its shared stats, the frame from which it counts
 * with it.
 */
static inline void
dp_worker_trunks_refresh(struct dp_worker *w)
{
	const struct dp_trunks *t = __atomic_load_n(&w->sh->trunks, __ATOMIC_ACQUIRE);

	if (unlikely(t != w->trunks)) {
		w->trunks = t;
		/*
		 * stored before the table (release), so seen with it: one
		 * frame is classified with one config's trunks and rules
		 */
		w->diag = __atomic_load_n(&w->sh->diag, __ATOMIC_RELAXED);
		if (w->ln.stats != NULL) {
			w->ln.stats->trunks_from_packet = w->src.packets;
			__atomic_store_n(
				&w->ln.stats->trunks_gen, dp_trunks_gen(t), __ATOMIC_RELEASE);
		}
	}
}

/* Classify one frame seen at packet time now_ms. */
void dp_worker_frame(struct dp_worker *w, const uint8_t *frame, uint32_t len, uint64_t now_ms);

/*
 * One decoded unit (a frame, or a datagram rebuilt from fragments: pkt's
 * offsets are relative to `buf`) lands in exactly one place. `defer`: the
 * message may wait for the burst's second pass (buf stays valid until
 * the burst is counted).
 */
void dp_worker_decoded(struct dp_worker *w, const uint8_t *buf, enum dp_decode_res res,
	const struct dp_pkt *pkt, uint64_t now_ms, int defer);

/*
 * Counting for the ingest paths (dp_ingest.c), out of line: count what is
 * pending; one datagram's message (at once); one whole message from a
 * stream, or malformed; whether a port is a SIP port.
 */
void dp_worker_flush(struct dp_worker *w);
void dp_worker_datagram(struct dp_worker *w, const struct dp_pkt *pkt, uint32_t trunk,
	enum dp_dir dir, int on_sip_port, uint64_t now_ms);
void dp_worker_message(struct dp_worker *w, const struct dp_pkt *pkt, const uint8_t *msg,
	uint32_t len, uint32_t trunk, enum dp_dir dir, const struct dp_trace_span *span,
	uint64_t now_ms);
int dp_worker_sip_port(const struct dp_worker *w, uint16_t port);

/*
 * Reassembly housekeeping at packet time now_ms: expire fragments, skip
 * stream holes past their timeout (counting what then becomes whole).
 * dp_worker_burst calls it once per burst; offline callers call
 * dp_worker_finish at the end of a capture instead.
 */
void dp_worker_tick(struct dp_worker *w, uint64_t now_ms);

/* End of a capture: hand on every message the streams still hold. */
void dp_worker_finish(struct dp_worker *w);

/*
 * Copy the reassembly modules' own counters into w->src (they count in
 * their own structs on the packet path). Call before reading w->src.
 */
void dp_worker_sync_stats(struct dp_worker *w);

/*
 * Classify and free a burst of mbufs. `next` (NULL when n_next is 0) is
 * the burst the caller has already received after this one: the frames
 * at its head are prefetched while this burst's tail is worked on, so
 * they are in cache when the next call starts, as the rest of a burst's
 * frames are. It is not touched otherwise and stays the caller's.
 */
void dp_worker_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n,
	struct rte_mbuf *const *next, uint16_t n_next);

/*
 * Work the frames the other workers steered to this one (dp_steer.h), a
 * burst from each ring. Returns how many were worked. w->steer set.
 */
unsigned int dp_worker_steered(struct dp_worker *w);

#endif /* DP_WORKER_H */
