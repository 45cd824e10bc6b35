#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The directive sinks against real consumers: two real Kamailios'
# pipelimit pipes driven by the kamailio adapter over JSON-RPC, one with
# pipelimit's default timer_interval (10 s) and one with 1 s (a pipe's
# limit counts requests per interval: 17 CPS is 170 and 17), the
# JSON-lines file and the exec hook. A directive is produced the way an operator would:
# `sipguardctl set TRUNK cps N` on a running appliance (dataplane on a
# dummy interface, sipguard-ctrl), which the policy turns into a manual
# resume at the new rate. Kamailio's own `pl.list` is the oracle.
#
# Exit 0 pass, 77 skip (says why), 1 fail. Prints "N passed, N failed".
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$sipguard")")
ctrl=$bin/ctrl/sipguard-ctrl
ctl=$bin/ctrl/sipguardctl

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespace, hugepages)"
for b in "$sipguard" "$ctrl" "$ctl"; do
	[ -x "$b" ] || skip "$b not built"
done
command -v kamailio >/dev/null || skip "kamailio not installed (scripts/setup)"
free_hp=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
[ "${free_hp:-0}" -ge 64 ] || skip "needs 64 free 2 MiB hugepages, $free_hp free"

id=sga$(printf '%05x' $((RANDOM * 32 + RANDOM % 32)))
ns=$id
work=$(mktemp -d "/tmp/$id.XXXXXX")
sip_port=15060
rpc_port=18090
rpc10_port=18091
cleanup() {
	[ -f "$work/ctrl.pid" ] && kill "$(cat "$work/ctrl.pid")" 2>/dev/null
	[ -f "$work/dp.pid" ] && kill "$(cat "$work/dp.pid")" 2>/dev/null
	[ -f "$work/kamailio.pid" ] && kill "$(cat "$work/kamailio.pid")" 2>/dev/null
	[ -f "$work/kam10/kamailio.pid" ] && kill "$(cat "$work/kam10/kamailio.pid")" 2>/dev/null
	sleep 1
	ip netns del "$ns" 2>/dev/null
	rm -rf "/var/run/dpdk/$id" /dev/hugepages/"$id"map_* 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns" || skip "cannot create a network namespace"
ip netns exec "$ns" ip link set lo up
# a quiet link for the dataplane's port (no dummy driver everywhere)
ip netns exec "$ns" ip link add "${id}d" type veth peer name "${id}e"
ip netns exec "$ns" ip link set "${id}d" up
ip netns exec "$ns" ip link set "${id}e" up

sed -e "s|@SIP_PORT@|$sip_port|g" -e "s|@RPC_PORT@|$rpc_port|g" -e "s|@PIPE@|carrier-a|g" \
	-e "s|@TIMER_INTERVAL@|1|g" -e "s|@LIMIT@|30|g" \
	"$root/tests/integration/carrier-pipe.cfg.in" >"$work/kamailio.cfg"
ip netns exec "$ns" kamailio -f "$work/kamailio.cfg" -DD -E -m 32 -M 4 -Y "$work" \
	-P "$work/kamailio.pid" -w "$work" >"$work/kamailio.log" 2>&1 &
# pipelimit's default interval: 30 CPS is 300 per 10 s
mkdir -p "$work/kam10"
sed -e "s|@SIP_PORT@|$((sip_port + 1))|g" -e "s|@RPC_PORT@|$rpc10_port|g" \
	-e "s|@PIPE@|carrier-a|g" -e "/@TIMER_INTERVAL@/d" -e "s|@LIMIT@|300|g" \
	"$root/tests/integration/carrier-pipe.cfg.in" >"$work/kam10/kamailio.cfg"
ip netns exec "$ns" kamailio -f "$work/kam10/kamailio.cfg" -DD -E -m 32 -M 4 -Y "$work/kam10" \
	-P "$work/kam10/kamailio.pid" -w "$work/kam10" >"$work/kam10/kamailio.log" 2>&1 &

cat >"$work/hook" <<HOOK
#!/bin/sh
env | grep '^SG_' | sort > "$work/hook.env"
HOOK
chmod +x "$work/hook"
cat >"$work/sipguard.conf" <<CONF
dataplane = { lcores = "0@0,1@1"; file_prefix = "$id"; };
ctrl = { socket = "$work/ctrl.sock"; cpu = 0; };
metrics = { listen = "off"; };
ports = ( { devargs = "net_af_packet0,iface=${id}d"; } );
trunks = ( { name = "carrier-a"; prefixes = [ "127.0.0.1/32" ]; cps = 30; max_concurrent = 100; } );
directives = { file = "$work/directives.jsonl"; exec = "$work/hook"; };
kamailio = ( { trunk = "carrier-a"; address = "127.0.0.1"; port = $rpc_port; pipe = "carrier-a";
                timer_interval = 1; },
              { trunk = "carrier-a"; address = "127.0.0.1"; port = $rpc10_port; pipe = "carrier-a"; } );
CONF

# pl.list through Kamailio's own JSON-RPC: the limit of the pipe now
pipe_limit() {
	ip netns exec "$ns" python3 - "${1:-$rpc_port}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(json.dumps({"jsonrpc": "2.0", "method": "pl.list", "id": 7}).encode(),
         ("127.0.0.1", int(sys.argv[1])))
for p in json.loads(s.recv(65535))["result"]:
    if p["name"] == "carrier-a":
        print(p["algorithm"], p["limit"])
PY
}
wait_for() {
	local i
	for ((i = 0; i < 50; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
kam_up() { [ "$(pipe_limit 2>/dev/null)" = "TAILDROP 30" ]; }
check "Kamailio answers pl.list with the pipe at 30" wait_for kam_up
kam10_up() { [ "$(pipe_limit "$rpc10_port" 2>/dev/null)" = "TAILDROP 300" ]; }
check "the Kamailio at the default timer_interval has the pipe at 300 (30 CPS)" \
	wait_for kam10_up

ip netns exec "$ns" "$sipguard" -c "$work/sipguard.conf" >"$work/dp.log" 2>&1 &
echo $! >"$work/dp.pid"
dp_up() { grep -q "sipguard: running" "$work/dp.log"; }
check "the dataplane runs" wait_for dp_up
ip netns exec "$ns" "$ctrl" -c "$work/sipguard.conf" >"$work/ctrl.log" 2>&1 &
echo $! >"$work/ctrl.pid"
ctl_up() { "$ctl" -s "$work/ctrl.sock" status >/dev/null 2>&1; }
check "sipguard-ctrl answers" wait_for ctl_up

check "sipguardctl set carrier-a cps 17" "$ctl" -s "$work/ctrl.sock" set carrier-a cps 17
limit17() { [ "$(pipe_limit)" = "TAILDROP 17" ]; }
check "Kamailio's pipe is now 17 (pl.list)" wait_for limit17
limit170() { [ "$(pipe_limit "$rpc10_port")" = "TAILDROP 170" ]; }
check "at timer_interval 10 the pipe is 170: 17 CPS (pl.list)" wait_for limit170
line_ok() {
	python3 - "$work/directives.jsonl" <<'PY'
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
ok = len(d) == 1 and d[0]["action"] == "resume" and d[0]["cps_limit"] == 17 \
    and d[0]["cause"] == "manual" and d[0]["trunk"] == "carrier-a" and d[0]["seq"] == 1
sys.exit(0 if ok else 1)
PY
}
check "the JSON-lines file holds that directive" wait_for line_ok
hook_ok() {
	grep -q '^SG_ACTION=resume$' "$work/hook.env" 2>/dev/null &&
		grep -q '^SG_CPS_LIMIT=17$' "$work/hook.env" &&
		grep -q '^SG_TRUNK=carrier-a$' "$work/hook.env" &&
		grep -q '^SG_JSON={' "$work/hook.env"
}
check "the exec hook ran with the fields in its environment" wait_for hook_ok
stats_ok() {
	"$ctl" -s "$work/ctrl.sock" -j status 2>/dev/null | python3 -c '
import json, sys
ks = [x for x in json.load(sys.stdin)["sinks"] if x["sink"] == "kamailio"]
ok = len(ks) == 2 and all(k["sent"] == 1 and k["failed"] == 0 and k["pending"] == 0 for k in ks)
ok = ok and sorted((k["timer_interval"], k["limit"]) for k in ks) == [(1, 17), (10, 170)]
sys.exit(0 if ok else 1)'
}
check "status counts both kamailio sinks: 1 sent, 0 failed, 0 pending; limits 17 and 170" \
	wait_for stats_ok

# a second change, back up: the adapter sends only what differs
check "sipguardctl set carrier-a cps 25" "$ctl" -s "$work/ctrl.sock" set carrier-a cps 25
limit25() { [ "$(pipe_limit)" = "TAILDROP 25" ]; }
check "Kamailio's pipe is now 25" wait_for limit25
limit250() { [ "$(pipe_limit "$rpc10_port")" = "TAILDROP 250" ]; }
check "and 250 at timer_interval 10" wait_for limit250
check "an unknown trunk is refused (exit 1)" bash -c \
	"'$ctl' -s '$work/ctrl.sock' set nosuch cps 5 2>/dev/null; [ \$? -eq 1 ]"

echo "adapters: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
