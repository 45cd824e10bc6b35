#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Offline mode against the tshark oracle on the hand-built capture of
# test_oracle.py: each rule at its edge (retransmission window boundary and
# refresh, longest prefix, destination on a tie, port-bound trunk, several
# and cut-off messages per TCP segment, trunk peers on other ports,
# fragments, unmatched). The oracle's own test pins these counts by hand;
# here sipguard must agree with the oracle.
#
# Environment: SIPGUARD (default build/dataplane/sipguard).
# Exit: 0 pass, 1 fail, 77 skip (sipguard not built).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
if [ ! -x "$sipguard" ]; then
	echo "SKIP: $sipguard not built (set SIPGUARD)"
	exit 77
fi
tmp=$(mktemp -d /tmp/sgt-synth.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

python3 "$here/test_oracle.py" --write "$tmp" || exit 1
python3 "$here/tshark_counts.py" "$tmp/synthetic.conf" "$tmp/synthetic.pcap" \
	>"$tmp/expected.json" || exit 1
if ! "$sipguard" -c "$tmp/synthetic.conf" --pcap "$tmp/synthetic.pcap" --json \
	>"$tmp/actual.json" 2>"$tmp/err"; then
	echo "FAIL sipguard exited non-zero: $(tail -n 1 "$tmp/err")"
	echo "synthetic_tshark: 0 passed, 1 failed"
	exit 1
fi
echo "--- per trunk: tshark oracle (expected) vs sipguard (actual)"
python3 "$here/compare.py" "$tmp/expected.json" "$tmp/actual.json"
