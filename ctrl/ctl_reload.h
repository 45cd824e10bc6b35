/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hot reload, control-plane side: `sipguardctl reload` and SIGHUP to
 * sipguard-ctrl.
 *
 * Why the control plane asks the dataplane through shared memory and not
 * with a signal: it needs the dataplane's verdict (a file the dataplane
 * refuses must be refused to the operator, with its reason) and it must
 * know the new counter slots before it takes a publication for one. A
 * request in sg_shm (reload_req, with the file's path) carries the
 * answer back the same way, and needs neither the dataplane's pid nor
 * the right to signal it.
 *
 * A reload, in order:
 *   1. load the file (a bad one is refused with the loader's file:line
 *      line) and refuse keys that cannot change live (cfg_reload_check);
 *   2. plan the trunk slots against the running ones (cfg_reload_plan):
 *      a file that would need a slot that does not exist is refused;
 *   3. reopen the sinks and adapters if their sections changed (a sink
 *      that cannot open refuses the reload; the old ones are reopened);
 *   4. ask the dataplane, which checks again, swaps its trunk table under
 *      RCU and publishes the slot table; wait for its answer (draining
 *      the rings meanwhile, so no worker is held up);
 *   5. follow the slot table (ctl_state) and rebuild the policy with the
 *      new parameters, each trunk's policy state carried on.
 * Nothing changes before step 4 succeeds but the sinks, which are put
 * back when it fails.
 *
 * SIGHUP to the dataplane reloads its own file; the control plane sees
 * the slot table change (ctl_reload_follow) and reloads its own file for
 * the policy and the sinks.
 */
#ifndef CTL_RELOAD_H
#define CTL_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cfg.h"
#include "cfg_reload.h"
#include "ctl_engine.h"
#include "ctl_sink.h"
#include "ctl_state.h"
#include "sg_shared.h"

#define CTL_RELOAD_WAIT_MS 8000 /* the dataplane's answer, at most */

struct ctl_reload {
	struct sg_config *cfg; /* the running config (the caller's) */
	const char *path;      /* the control plane's config file */
	struct sg_shm *shm;
	struct ctl_state *st;
	struct ctl_engine *eng;
	struct ctl_sinks **sinks;
	/* called while waiting for the dataplane: drain the rings */
	void (*wait_fn)(void *arg);
	void *wait_arg;
	uint32_t seen_seq; /* shm->trunks_seq last followed */
	uint64_t applied;  /* reloads applied */
	uint64_t refused;  /* reloads refused */
	int requesting;	   /* inside ctl_reload_run: the change is ours */
};

/*
 * Read the dataplane's slot table into out (consistent: retried while a
 * reload rewrites it). Returns 0, or -1 if it is not stable.
 */
int ctl_reload_slots(const struct sg_shm *shm, struct cfg_slots *out, uint32_t cps[],
	uint32_t maxc[], uint32_t *seq);

/*
 * Follow the dataplane's slot table if it changed: the state's trunks,
 * then the policy. A change the control plane did not ask for (SIGHUP to
 * the dataplane) also reloads the control plane's own file for the
 * policy and the sinks. Returns 1 if it changed, 0 if not.
 */
int ctl_reload_follow(struct ctl_reload *r);

/*
 * A whole reload (see above). Returns a summary, or NULL with *status
 * (an errno) and one line in err.
 */
json_t *ctl_reload_run(struct ctl_reload *r, int *status, char *err, size_t errlen);

#endif /* CTL_RELOAD_H */
