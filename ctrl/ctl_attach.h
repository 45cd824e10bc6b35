/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguard-ctrl's attachment to a running dataplane, as a DPDK secondary:
 * where DPDK keeps a primary's runtime files, the lookup of the shared
 * memory, rings and pools by name (dataplane/sg_shared.h), and the check
 * that this config names the trunks the dataplane counts. Each failure
 * prints one line saying what to do.
 *
 * Apart from main.c because it is the one place that knows how the two
 * processes find each other; main.c only decides when to try and what to
 * do when it fails (wait, or exit 3).
 */
#ifndef CTL_ATTACH_H
#define CTL_ATTACH_H

#include <stddef.h>

#include "ctl_ctx.h"

/* A file in the runtime directory DPDK uses for a file prefix. */
void ctl_attach_runtime_file(const char *prefix, const char *name, char *buf, size_t len);

/*
 * Look up the dataplane's shared memory, rings and pools into c (after
 * rte_eal_init as a secondary). 0, or -1 after one line on stderr: no
 * dataplane, another version, or rings not created yet.
 */
int ctl_attach(struct ctl_ctx *c);

/*
 * Our config must hold the trunks the dataplane counts now (its active
 * slots; after reloads, not in the file's order). 0, or -1 after one line
 * on stderr naming config.
 */
int ctl_attach_check_trunks(const struct ctl_ctx *c, const char *config);

#endif /* CTL_ATTACH_H */
