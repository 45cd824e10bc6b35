/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguard-ctrl's control API commands: the table the server dispatches
 * on (ctl_server.h) and, behind it, one handler per command (status,
 * trunks, trunk, events, totals, directives, set, reload, fleet, trace).
 * Each handler answers from the daemon's context (ctl_ctx.h) and returns
 * a new reference, or NULL with *status and a one-line err.
 *
 * Apart from main.c because the commands are what the daemon says, not
 * how it runs: adding or changing a command touches only this pair, and
 * the start-up and loop stay short enough to read in one go.
 */
#ifndef CTL_CMDS_H
#define CTL_CMDS_H

#include "ctl_server.h"

/* The commands, NULL-terminated; their context is a struct ctl_ctx. */
extern const struct ctl_cmd ctl_commands[];

#endif /* CTL_CMDS_H */
