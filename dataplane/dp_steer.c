/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inner-flow steering rings (see dp_steer.h): their creation and their
 * release. The enqueue and the drain are the workers' (dp_worker.c), on
 * the packet path.
 */
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "dp_steer.h"

int
dp_steer_create(struct dp_steer *s, uint32_t n_workers, uint32_t slots, int socket_id, char *err,
	size_t errlen)
{
	uint32_t from, to;

	memset(s, 0, sizeof(*s));
	if (n_workers < 2 || n_workers > SG_MAX_WORKERS || slots == 0) {
		snprintf(err, errlen, "steering: %u workers, %u slots: nothing to steer", n_workers,
			slots);
		return -1;
	}
	s->n_workers = n_workers;
	for (from = 0; from < n_workers; from++) {
		for (to = 0; to < n_workers; to++) {
			char name[RTE_RING_NAMESIZE];

			if (from == to)
				continue;
			snprintf(name, sizeof(name), "sg_steer_%u_%u", from, to);
			s->ring[from][to] = rte_ring_create(name, slots, socket_id,
				RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
			if (s->ring[from][to] == NULL) {
				snprintf(err, errlen,
					"steering: cannot create ring %s of %u slots: %s "
					"(dataplane.steer_ring)",
					name, slots, rte_strerror(rte_errno));
				dp_steer_free(s);
				return -1;
			}
		}
	}
	return 0;
}

void
dp_steer_free(struct dp_steer *s)
{
	uint32_t from, to;
	void *m;

	for (from = 0; from < SG_MAX_WORKERS; from++) {
		for (to = 0; to < SG_MAX_WORKERS; to++) {
			struct rte_ring *r = s->ring[from][to];

			if (r == NULL)
				continue;
			while (rte_ring_dequeue(r, &m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(r);
			s->ring[from][to] = NULL;
		}
	}
	s->n_workers = 0;
}
