#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Offline mode against the tshark oracle on the shared capture corpus:
# captures from other projects (SIP over TCP split across segments and
# retransmitted, IPv6 fragments, GRE with Ethernet or PPP inside, IP in IP,
# websocket, several messages per segment), each counted by sipguard and
# by tshark_counts.py (tshark's default reassembly and tunnel decoding)
# with corpus.conf, and compared trunk by trunk. Each capture is counted
# twice, once per SIP extractor engine (the line walk and
# dataplane.parser = "hyperscan"): both must equal the oracle.
#
# Environment:
#   SIPGUARD   sipguard binary (default build/dataplane/sipguard)
#   SG_CORPUS  capture directory (default: shared/corpus beside the repo)
# Exit: 0 pass, 1 fail, 77 skip (no corpus, or sipguard not built).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
corpus=${SG_CORPUS:-$root/../shared/corpus}
conf="$here/corpus.conf"

if [ ! -d "$corpus" ]; then
	echo "SKIP: no capture corpus at $corpus (set SG_CORPUS)"
	exit 77
fi
if [ ! -x "$sipguard" ]; then
	echo "SKIP: $sipguard not built (set SIPGUARD)"
	exit 77
fi

tmp=$(mktemp -d /tmp/sgt-corpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
sed 's/^dataplane = { /dataplane = { parser = "hyperscan"; /' "$conf" >"$tmp/hs.conf"
grep -q 'parser = "hyperscan"' "$tmp/hs.conf" || {
	echo "FAIL: could not derive the hyperscan configuration from $conf"
	exit 1
}
passed=0
failed=0
for cap in "$corpus"/*.pcap "$corpus"/*.pcapng; do
	[ -e "$cap" ] || continue
	name=$(basename "$cap")
	if ! python3 "$here/tshark_counts.py" "$conf" "$cap" >"$tmp/expected.json"; then
		echo "FAIL $name: oracle failed"
		failed=$((failed + 1))
		continue
	fi
	for engine in linewalk hyperscan; do
		c=$conf
		[ $engine = hyperscan ] && c=$tmp/hs.conf
		if ! "$sipguard" -c "$c" --pcap "$cap" --json >"$tmp/actual.json" 2>"$tmp/err"; then
			echo "FAIL $name ($engine): sipguard exited non-zero: $(tail -n 1 "$tmp/err")"
			failed=$((failed + 1))
			continue
		fi
		if python3 "$here/compare.py" "$tmp/expected.json" "$tmp/actual.json" >"$tmp/cmp"; then
			echo "ok   $name ($engine, $(jq '.source.sip_messages' "$tmp/expected.json") SIP messages)"
			passed=$((passed + 1))
		else
			echo "FAIL $name ($engine)"
			grep -v '^ok\|passed,' "$tmp/cmp" | sed 's/^/     /'
			failed=$((failed + 1))
		fi
	done
done
if [ $((passed + failed)) -eq 0 ]; then
	echo "SKIP: no captures in $corpus"
	exit 77
fi
echo "corpus_tshark: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
