#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prometheus against the live appliance: sipguard (af_packet on the
# carrier veth, two workers) and sipguard-ctrl with /metrics on a free
# loopback port, on the namespace test bed of scripts/record, while a
# Prometheus server from Debian's package (its own storage directory, a
# free loopback port, a 1 s scrape and rule interval, the shipped rules)
# scrapes it through a ramp of calls into carriers that answer 503.
#
# Checks: the live exposition passes `promtool check metrics` and the
# endpoint refuses other paths and methods; the server scraped the target
# all along (the counters changed many times during the ramp) and loaded
# the shipped rules healthy, the recording rules hold the ramp's rates; and
# once traffic has ceased, the server's per-trunk totals, read through its
# HTTP query API, equal `sipguardctl -j totals` (every method, code,
# INVITE final, attempts, retransmissions, malformed; unmatched too).
#
# Environment:
#   SIPGUARD            sipguard binary (default build/dataplane/sipguard)
#   LIVE_DIAL_SECONDS   seconds of new calls (default 12, 8..20)
#   KEEP=1              keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip (not root, no hugepages, tools missing).

# Checks are functions run through check(), not unreachable code.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$sipguard")")
ctrl=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
ctl=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
rules=$root/config/prometheus/sipguard.rules.yml
dial=${LIVE_DIAL_SECONDS:-12}
time_limit=${LIVE_TIME_LIMIT:-200}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"

live_needs "$sipguard" "$ctrl" "$ctl" -- sipp kamailio prometheus promtool nft ip jq python3
live_preflight "$dial"

# shellcheck source=scripts/lib/testbed.sh
. "$root/scripts/lib/testbed.sh"
# shellcheck source=scripts/lib/live.sh
. "$root/scripts/lib/live.sh"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# shellcheck disable=SC2119
tb_init
conf=$TB_DIR/live.conf
sock=$TB_DIR/ctrl.sock
mport=$(free_port)
pport=$(free_port)
[ "$mport" != "$pport" ] || pport=$(free_port)
metrics=http://127.0.0.1:$mport
prom=http://127.0.0.1:$pport
t_start=$SECONDS
watchdog=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null && wait "$watchdog" 2>/dev/null
	tb_stop prometheus
	tb_stop ctrl
	tb_down
	lv_dpdk_clean "$TB_ID"
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "prometheus: logs in $TB_DIR" >&2
	else
		rm -rf "$TB_DIR"
	fi
	exit "$rc"
}
check_run prometheus "$time_limit"


# GET (or another method) a URL: prints the body, then the status code on a line of its own.
http() {
	python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
method = sys.argv[2] if len(sys.argv) > 2 else "GET"
req = urllib.request.Request(sys.argv[1], method=method)
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        sys.stdout.write(r.read().decode())
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError as e:
    print("no answer: %s" % e)
    print(0)
PY
}

# promql EXPR: the query's result vector as JSON.
promql() {
	python3 - "$prom" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
with urllib.request.urlopen(url, timeout=10) as r:
    print(json.dumps(json.load(r)["data"]["result"]))
PY
}

# --- the appliance, with /metrics on a port of this run ----------------------
tb_up || abort "test bed did not come up"
LV_METRICS=127.0.0.1:$mport lv_conf "$conf"
grep -q "listen = \"127.0.0.1:$mport\"" "$conf" || abort "lv_conf did not take LV_METRICS"
lv_carriers_up 120 || abort "carriers did not start"
tb_spawn c sipguard "$sipguard" -c "$conf"
for ((i = 0; i < 150; i++)); do
	grep -q "^sipguard: running" "$TB_DIR/sipguard.log" && break
	tb_alive sipguard || break
	sleep 0.2
done
lv_spawn ctrl "$ctrl" -c "$conf" --wait
for ((i = 0; i < 150; i++)); do
	ctl_ status >/dev/null 2>&1 && break
	sleep 0.2
done
ctl_ status >/dev/null 2>&1 || {
	tail -n 5 "$TB_DIR/sipguard.log" "$TB_DIR/ctrl.log"
	abort "sipguard or sipguard-ctrl did not start"
}
check "sipguard-ctrl says where metrics are served" \
	grep -q "metrics on http://127.0.0.1:$mport" "$TB_DIR/ctrl.log"

exposition() {
	http "$metrics/metrics" >"$TB_DIR/metrics-0.txt"
	[ "$(tail -n 1 "$TB_DIR/metrics-0.txt")" = 200 ] || return 1
	sed -i '$d' "$TB_DIR/metrics-0.txt"
	grep -q '^sipguard_build_info{version="' "$TB_DIR/metrics-0.txt" &&
		grep -q '^sipguard_dataplane_up 1$' "$TB_DIR/metrics-0.txt" &&
		grep -q '^sipguard_port_rx_packets_total{port="net_af_packet0"} ' \
			"$TB_DIR/metrics-0.txt" &&
		grep -q '^sipguard_worker_busy_ratio{worker="1"} ' "$TB_DIR/metrics-0.txt" &&
		grep -q '^sipguard_trunk_policy_state{trunk="carrier-b",state="normal"} 1$' \
			"$TB_DIR/metrics-0.txt"
}
check "GET /metrics: 200, build info, dataplane up, ports, workers, policy" exposition
# promtool_ok FILE: promtool accepts it, without a single lint remark.
promtool_ok() {
	if promtool check metrics <"$1" >"$TB_DIR/promtool.txt" 2>&1 &&
		[ ! -s "$TB_DIR/promtool.txt" ]; then
		return 0
	fi
	note "$(head -n 5 "$TB_DIR/promtool.txt")"
	return 1
}
check "promtool check metrics accepts the live exposition" promtool_ok "$TB_DIR/metrics-0.txt"
check "GET / is 404" test "$(http "$metrics/" | tail -n 1)" = 404
check "POST /metrics is 405" test "$(http "$metrics/metrics" POST | tail -n 1)" = 405

# --- a Prometheus server of this run -----------------------------------------
mkdir -p "$TB_DIR/prom-data"
cat >"$TB_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $rules
scrape_configs:
  - job_name: sipguard
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
lv_spawn prometheus prometheus --config.file="$TB_DIR/prometheus.yml" \
	--storage.tsdb.path="$TB_DIR/prom-data" --web.listen-address="127.0.0.1:$pport" \
	--log.level=warn
for ((i = 0; i < 100; i++)); do
	[ "$(http "$prom/-/ready" | tail -n 1)" = 200 ] && break
	tb_alive prometheus || break
	sleep 0.2
done
[ "$(http "$prom/-/ready" | tail -n 1)" = 200 ] || {
	tail -n 5 "$TB_DIR/prometheus.log"
	abort "prometheus did not become ready"
}
scraping() {
	local i
	for ((i = 0; i < 20; i++)); do
		[ "$(promql 'up{job="sipguard"}' | jq -r '.[0].value[1] // empty')" = 1 ] && return 0
		sleep 0.5
	done
	return 1
}
check "prometheus scrapes sipguard-ctrl (up == 1)" scraping
rules_ok() {
	http "$prom/api/v1/rules" | sed '$d' >"$TB_DIR/rules.json"
	jq -e '[.data.groups[].rules[]] | length >= 10 and all(.health == "ok")' \
		"$TB_DIR/rules.json" >/dev/null
}
check "prometheus loaded the shipped rules, all healthy" rules_ok

# --- the ramp ------------------------------------------------------------------
echo "prometheus: ${dial}s of calls"
lv_dial_start 1 "$dial" 5062
sleep $((dial - 2))
promql 'sipguard:trunk_invite_attempts:rate1m' >"$TB_DIR/rate-ramp.json"
lv_dial_wait 1 $((dial + 20)) || note "dialers had to be stopped"
# the 503s come late in the ramp: their rate over the last minute
promql 'sipguard:trunk_invite_finals_503:rate1m' >"$TB_DIR/r503-ramp.json"
# the carriers go first (503s retransmitted to lost ACKs), then quiet
tb_stop carrier-a
tb_stop carrier-b
tb_stop uas
lv_link_quiet 2 20 || note "the veth did not fall quiet after the traffic"
sleep 1.2 # a publication (100 ms) and a closed second
ctl_ -j totals >"$TB_DIR/totals.json"

recording() {
	jq -e 'map(select(.metric.trunk == "carrier-a" or .metric.trunk == "carrier-b") |
		(.value[1] | tonumber) > 0) | length == 2 and all' "$1" >/dev/null || {
		note "$(cat "$1")"
		return 1
	}
}
check "recording rule: both carriers' attempt rate > 0 during the ramp" \
	recording "$TB_DIR/rate-ramp.json"
check "recording rule: both carriers' 503 rate > 0 at the end of the ramp" \
	recording "$TB_DIR/r503-ramp.json"
during() {
	local n
	n=$(promql 'changes(sipguard_trunk_invite_attempts_total{trunk="carrier-a"}[2m])' |
		jq -r '.[0].value[1] // 0')
	note "carrier-a attempts changed $n times in the server's samples"
	[ "${n%.*}" -ge $((dial / 2)) ]
}
check "the server saw the counters climb through the ramp" during
totals_equal() {
	python3 "$here/prom_totals.py" "$prom" "$TB_DIR/totals.json" 30
}
check "prometheus query API totals equal sipguardctl -j totals, every trunk and unmatched" \
	totals_equal
meaningful() {
	jq -e '.trunks["carrier-a"].invite_final["503"] > 0 and
		.trunks["carrier-b"].invite_final["503"] > 0 and
		([.trunks[].invite_attempts] | add) >= 100' "$TB_DIR/totals.json" >/dev/null
}
check "the ramp had attempts and 503s on both carriers" meaningful
http "$metrics/metrics" | sed '$d' >"$TB_DIR/metrics-1.txt"
check "promtool check metrics accepts the exposition after the ramp" \
	promtool_ok "$TB_DIR/metrics-1.txt"
codes_only() {
	# only codes that occurred: every responses sample is non-zero
	! grep -E '^sipguard_trunk_(responses|invite_final_responses)_total\{.*\} 0$' \
		"$TB_DIR/metrics-1.txt"
}
check "only status codes that occurred are exposed" codes_only
finish
