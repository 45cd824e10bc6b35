/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's time between frames (see dp_worker_loop.h): the live
 * poll-mode loop, the 100 ms slots of packet time, publishing the
 * counters to the control plane, the worker's shared stats, the TSC to
 * wall-clock sync and the steering rings' drain at exit.
 *
 * Separate from dp_worker.c, which classifies and counts each frame:
 * nothing here runs per packet. It runs once per burst, per slot or per
 * publication interval, and the per-packet path reaches it only through
 * dp_worker_slot, once per 100 ms of packet time.
 */
#include <stdint.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "dp_worker_loop.h"

/*
 * Packet time entered a new 100 ms slot, before any packet of it is
 * counted: the counts so far are everything before the slot's start.
 * Offline the replay takes them (on_tick); live they are published
 * stamped with that start, and once all are out the worker's clock in
 * its shared stats says so: sipguard-ctrl closes a slot when every
 * worker's clock has passed it, with exactly the counts of the packets
 * before it, as the offline replay does. A publication that found the
 * ring full leaves the clock where it was; its counts go out with the
 * next slot's.
 */
void
dp_worker_slot(struct dp_worker *w, uint64_t now)
{
	uint64_t start;

	dp_worker_flush(w);
	w->cur_slot = now / DP_WORKER_TICK_MS;
	start = w->cur_slot * DP_WORKER_TICK_MS;
	w->next_tick_ms = start + DP_WORKER_TICK_MS;
	if (w->on_tick != NULL)
		w->on_tick(w->on_tick_arg, start);
	else if (dp_worker_publish_at(w, 0, start) == 0)
		__atomic_store_n(&w->ln.stats->clock_ms, start, __ATOMIC_RELEASE);
}

void
dp_worker_set_tick(struct dp_worker *w, void (*fn)(void *, uint64_t), void *arg, int live)
{
	w->on_tick = fn;
	w->on_tick_arg = arg;
	w->next_tick_ms = fn != NULL || live ? 0 : UINT64_MAX;
}

unsigned int
dp_worker_publish(struct dp_worker *w, int all)
{
	return dp_worker_publish_at(
		w, all, w->wall_base_ms + (rte_rdtsc() - w->tsc_base) * 1000 / w->tsc_hz + 1);
}

unsigned int
dp_worker_publish_at(struct dp_worker *w, int all, uint64_t stamp_ms)
{
	const struct dp_worker_link *ln = &w->ln;
	unsigned int waiting = 0;
	uint64_t gen = *ln->ctrl_generation;
	uint32_t t;

	if (gen != w->seen_generation) {
		/* a (re)started control plane starts empty: send it everything */
		w->seen_generation = gen;
		all = 1;
	}
	for (t = 0; t < SG_TRUNK_SLOTS; t++) {
		struct sg_pub *p;
		void *obj;

		if (!all && !(w->dirty[t / 64] & (1ull << (t % 64))))
			continue;
		if (rte_mempool_get(ln->pub_pool, &obj) != 0) {
			ln->stats->pub_pool_empty++;
			w->dirty[t / 64] |= 1ull << (t % 64);
			waiting++;
			continue;
		}
		p = obj;
		p->worker = w->index;
		p->trunk = t;
		p->seq = ++w->pub_seq;
		p->time_ns = stamp_ms * 1000000;
		p->c = w->trunk[t];
		if (rte_ring_sp_enqueue(ln->pub_ring, p) != 0) {
			/* skipped, counted; the next one carries the totals */
			rte_mempool_put(ln->pub_pool, p);
			ln->stats->pub_ring_full++;
			w->dirty[t / 64] |= 1ull << (t % 64);
			waiting++;
			continue;
		}
		w->dirty[t / 64] &= ~(1ull << (t % 64));
		ln->stats->pubs++;
	}
	return waiting;
}

/* Copy the worker's own figures to its shared stats slot. */
static void
worker_stats_update(struct dp_worker *w)
{
	struct sg_worker_stats *st = w->ln.stats;

	st->packets = w->src.packets;
	st->bytes = w->src.bytes;
	st->retrans_evictions = dp_retrans_stats(w->rt)->evictions;
	st->dialog_evictions = dp_dialogs_stats(w->dlg)->evicted;
	dp_worker_sync_stats(w);
	st->src = w->src;
	st->src.retrans_evictions = st->retrans_evictions;
	if (w->trace != NULL)
		st->trace = w->trace->own;
}

/*
 * On quitting: this worker steers no more; what the others steered here
 * is worked until every worker has stopped steering and the rings are
 * empty, so no frame is left in a ring uncounted. A peer that never
 * comes (a failed start) is waited for a second at most.
 */
static void
steer_drain(struct dp_worker *w)
{
	struct dp_steer *st = w->steer;
	uint64_t give_up = rte_rdtsc() + w->tsc_hz;

	__atomic_add_fetch(&st->stopped, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		int all = __atomic_load_n(&st->stopped, __ATOMIC_ACQUIRE) >= st->n_workers;

		/* after all stopped, one more pass empties what is left */
		if (dp_worker_steered(w) == 0 && all)
			break;
		if (rte_rdtsc() > give_up)
			break;
		rte_pause();
	}
}

/*
 * Live packet time is the TSC read once per burst, turned into wall-clock
 * ms. The TSC rate EAL estimates at start-up can be off by 0.1 %: 100 ms
 * after two minutes, enough to put a 503 in another 100 ms slot than the
 * capture's timestamps (and the offline replay) do. So at each
 * publication (not per packet) the rate is measured against the wall
 * clock since the first anchor, and the mapping re-anchored, never
 * stepping back: tables age by differences of these times.
 */
static void
dp_worker_clock_sync(struct dp_worker *w, uint64_t tsc)
{
	struct timespec ts;
	uint64_t real_ms, cur_ms;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return;
	real_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (real_ms > w->wall_start_ms + 10000 && tsc > w->tsc_start)
		w->tsc_hz = (uint64_t)((double)(tsc - w->tsc_start) * 1000.0 /
			(double)(real_ms - w->wall_start_ms));
	cur_ms = w->wall_base_ms + (tsc - w->tsc_base) * 1000 / w->tsc_hz;
	w->tsc_base = tsc;
	w->wall_base_ms = real_ms > cur_ms ? real_ms : cur_ms;
}

int
dp_worker_main(void *arg)
{
	struct dp_worker_run *run = arg;
	struct dp_worker *w = run->w;
	struct rte_mbuf *pkts[2][512];
	struct rte_mbuf **cur = pkts[0], **next = pkts[1], **tmp;
	uint16_t burst = RTE_MIN((uint16_t)RTE_DIM(pkts[0]), w->burst);
	uint64_t start = rte_rdtsc(), t0, t1;
	unsigned int tries;
	uint16_t n = 0, n_next;

	w->next_publish = start + w->ln.publish_cycles;
	dp_worker_set_tick(w, NULL, NULL, 1);
	if (w->ln.qsbr != NULL) {
		rte_rcu_qsbr_thread_register(w->ln.qsbr, w->index);
		rte_rcu_qsbr_thread_online(w->ln.qsbr, w->index);
	}
	while (!*run->quit) {
		t0 = rte_rdtsc();
		/* a new trunk table takes effect between bursts, never inside one */
		dp_worker_trunks_refresh(w);
		if (n == 0)
			n = rte_eth_rx_burst(w->port_id, w->queue_id, cur, burst);
		if (n > 0) {
			/*
			 * A full burst says more is waiting: take the next one
			 * now, so that its first frames are prefetched during
			 * this one (dp_worker_burst). A short one is worked
			 * alone, so nothing waits for traffic that has paused.
			 */
			n_next = n == burst ? rte_eth_rx_burst(w->port_id, w->queue_id, next, burst)
					    : 0;
			dp_worker_burst(w, cur, n, next, n_next);
			tmp = cur;
			cur = next;
			next = tmp;
			n = n_next;
			t1 = rte_rdtsc();
			w->ln.stats->busy_cycles += t1 - t0;
		} else {
			t1 = t0;
		}
		if (w->steer != NULL && dp_worker_steered(w) > 0) {
			uint64_t t2 = rte_rdtsc();

			w->ln.stats->busy_cycles += t2 - t1;
			t1 = t2;
		}
		/*
		 * A slot may begin with no packet (an idle or slow link): its
		 * start is published all the same, so the control plane's
		 * slots never wait for traffic. The next burst's packets
		 * are stamped later than t1.
		 */
		if (unlikely(w->wall_base_ms + (t1 - w->tsc_base) * 1000 / w->tsc_hz >=
			    w->next_tick_ms))
			dp_worker_slot(w, w->wall_base_ms + (t1 - w->tsc_base) * 1000 / w->tsc_hz);
		if (unlikely(t1 >= w->next_publish)) {
			uint64_t now_ms;

			dp_worker_clock_sync(w, t1);
			now_ms = w->wall_base_ms + (t1 - w->tsc_base) * 1000 / w->tsc_hz;

			dp_dialogs_sweep(w->dlg, 64, now_ms, w->trunk);
			/* an idle link still ages its fragments and stream holes */
			if (now_ms > w->last_tick_ms + 100)
				dp_worker_tick(w, now_ms);
			dp_worker_publish(w, 0);
			worker_stats_update(w);
			w->ln.stats->total_cycles = t1 - start;
			w->next_publish = t1 + w->ln.publish_cycles;
		}
		/*
		 * Once per burst, and once per empty poll: no table loaded
		 * before this point is used after it, so a reload waiting
		 * for the old table to be free waits one burst at most.
		 */
		if (w->ln.qsbr != NULL)
			rte_rcu_qsbr_quiescent(w->ln.qsbr, w->index);
	}
	/* a burst taken ahead is counted like any other */
	dp_worker_trunks_refresh(w);
	if (n > 0)
		dp_worker_burst(w, cur, n, NULL, 0);
	if (w->steer != NULL)
		steer_drain(w);
	if (w->ln.qsbr != NULL) {
		/* a reload must not wait for a worker that has left */
		rte_rcu_qsbr_thread_offline(w->ln.qsbr, w->index);
		rte_rcu_qsbr_thread_unregister(w->ln.qsbr, w->index);
	}
	/* last counters out: retry a little while the ring drains */
	worker_stats_update(w);
	for (tries = 0; tries < 1000 && dp_worker_publish(w, 0) > 0; tries++)
		rte_delay_us_sleep(1000);
	return 0;
}
