#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Sourced by scripts/lib/live.sh and scripts/lib/flood.sh.
#
# sg_still SECONDS MAX CMD...: wait until the number CMD prints stays the
# same for SECONDS (checked every 0.5 s), at most MAX seconds; 1 on
# timeout. The test beds use it to wait for a link to fall quiet.
sg_still() {
	local need=$(($1 * 2)) max=$(($2 * 2)) i still=0 prev now
	shift 2
	prev=$("$@")
	for ((i = 0; i < max; i++)); do
		sleep 0.5
		now=$("$@")
		if [ "$now" = "$prev" ]; then
			still=$((still + 1))
			[ "$still" -ge "$need" ] && return 0
		else
			still=0
			prev=$now
		fi
	done
	return 1
}
