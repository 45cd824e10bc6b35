#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The Debian package on a fresh Debian 12: build it (scripts/package, with
# lintian), install it with apt into a minimal root made by debootstrap,
# and there check what an operator gets:
#   - the files where Debian expects them (binaries, conffiles, units);
#   - `sipguard -c /etc/sipguard/sipguard.conf --pcap CAPTURE --json` on a
#     capture made here with known contents gives exactly those counts;
#   - the man pages open (man -P cat), sipguardctl and the hugepage
#     helper answer as documented;
#   - `systemd-analyze verify` is silent on the installed units;
#   - live, under a stand-in for systemd's notify socket: the dataplane
#     says READY=1 once its port and worker run, sipguard-ctrl says READY=1
#     once attached, and both say STOPPING=1 on SIGTERM (needs hugepages;
#     without them this part alone is skipped, and says so).
#
# The debootstrap root (minbase plus man-db and systemd) is made once and
# kept under the cache directory; each run works on an overlay of it, and
# the .debs apt fetches are kept too, so a re-run needs no download.
#
# Environment:
#   SG_PKG_CACHE      cache directory (default /var/cache/sipguard-test)
#   SG_DEBIAN_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#   OUTDIR            keep the package and logs here (default: a temp dir,
#                     removed on success)
# Exit: 0 pass, 1 fail, 77 skip (not root, or the mirror cannot be reached
# to make the root the first time).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${SG_PKG_CACHE:-/var/cache/sipguard-test}
mirror=${SG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
base=$cache/$suite-minbase
tag=sgt-pkg-$$

# shellcheck source=scripts/lib/check.sh
. "$top/scripts/lib/check.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mounts)"
for tool in debootstrap dpkg-buildpackage lintian systemd-analyze python3 jq flock; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL $tool missing: run scripts/setup"
		exit 1
	fi
done

out=${OUTDIR:-$(mktemp -d "/tmp/$tag.XXXXXX")}
mkdir -p "$out"
root=$out/root
pids=()

# Unmount everything under the root (deepest first) before anything is
# removed: a bind mount left behind would make rm reach the host.
unmount_all() {
	local m
	[ -d "$root" ] || return 0
	for m in $(findmnt -rn -o TARGET | grep -F "$root" | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

finish() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null
	unmount_all
	echo "package: $passed passed, $failed failed"
	if findmnt -rn -o TARGET | grep -qF "$root"; then
		echo "mounts left under $root: not removed"
	elif [ "$failed" -eq 0 ] && [ -z "${OUTDIR:-}" ]; then
		rm -rf "$out"
	else
		echo "artifacts in $out"
	fi
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
trap 'failed=$((failed + 1)); finish' INT TERM
# whatever ends the script, nothing stays mounted
trap unmount_all EXIT

# --- the package ------------------------------------------------------------
t0=$(date +%s)
if ! DEB_BUILD_OPTIONS=nocheck "$top/scripts/package" "$out/deb" >"$out/package.log" 2>&1; then
	cat "$out/package.log"
	echo "FAIL scripts/package"
	failed=$((failed + 1))
	finish
fi
deb=$(tail -n 1 "$out/package.log")
check "scripts/package built $(basename "$deb"), lintian clean" test -f "$deb"
note "package built in $(($(date +%s) - t0)) s"

# --- the Debian 12 root, made once --------------------------------------------
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$base/.complete" ]; then
	if ! python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/dists/" + sys.argv[2] + "/Release", timeout=20)' \
		"$mirror" "$suite" 2>/dev/null; then
		skip "cannot reach $mirror to make the Debian 12 root (cache: $base)"
	fi
	t0=$(date +%s)
	rm -rf "$base.new"
	if ! debootstrap --variant=minbase --include=man-db,systemd "$suite" "$base.new" \
		"$mirror" >"$out/debootstrap.log" 2>&1; then
		tail -n 20 "$out/debootstrap.log"
		echo "FAIL debootstrap $suite from $mirror"
		rm -rf "$base.new"
		failed=$((failed + 1))
		finish
	fi
	rm -rf "$base"
	mv "$base.new" "$base"
	touch "$base/.complete"
	note "debootstrap made $base in $(($(date +%s) - t0)) s"
fi
flock -u 9

# Each run writes to an overlay, so the cached root stays fresh.
mkdir -p "$root" "$out/upper" "$out/work" "$cache/archives/partial"
if ! mount -t overlay "$tag" -o "lowerdir=$base,upperdir=$out/upper,workdir=$out/work" \
	"$root" 2>/dev/null; then
	cp -a "$base/." "$root/"
	mount --bind "$root" "$root"
fi
# private: nothing mounted below the root shows outside it, nor the reverse
mount --make-private "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --make-private "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
in_root() {
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

# --- install ------------------------------------------------------------------
t0=$(date +%s)
cp "$deb" "$root/tmp/"
install_deb() {
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "/tmp/$(basename "$deb")" >>"$out/apt.log" 2>&1
}
# The cached package lists go stale when Debian publishes a point
# release: then update them and try again.
if ! install_deb; then
	if ! in_root apt-get update -q >>"$out/apt.log" 2>&1; then
		tail -n 5 "$out/apt.log"
		skip "cannot reach $mirror from the Debian 12 root to fetch the package's dependencies"
	fi
	install_deb
fi
installed_ok() {
	[ "$(in_root dpkg-query -W -f='${db:Status-Status}' sipguard 2>/dev/null)" = installed ]
}
check "apt-get installs the package and its dependencies in the Debian 12 root" installed_ok
tail -n 3 "$out/apt.log" | sed 's/^/     apt: /'
note "installed in $(($(date +%s) - t0)) s"

files_ok() {
	local f
	for f in /usr/sbin/sipguard /usr/sbin/sipguard-ctrl /usr/sbin/sipguardctl \
		/usr/libexec/sipguard/sipguard-hugepages; do
		[ -x "$root$f" ] || { echo "     not executable: $f"; return 1; }
	done
	for f in /etc/sipguard/sipguard.conf /etc/default/sipguard \
		/lib/systemd/system/sipguard.service /lib/systemd/system/sipguard-ctrl.service \
		/usr/share/man/man8/sipguard.8.gz /usr/share/man/man8/sipguard-ctrl.8.gz \
		/usr/share/man/man8/sipguardctl.8.gz /usr/share/man/man5/sipguard.conf.5.gz; do
		[ -f "$root$f" ] || { echo "     missing: $f"; return 1; }
	done
	cmp -s "$root/etc/sipguard/sipguard.conf" "$top/config/sipguard.conf" ||
		{ echo "     /etc/sipguard/sipguard.conf is not config/sipguard.conf"; return 1; }
	if [ -f "$top/config/prometheus/sipguard.rules.yml" ]; then
		[ -f "$root/usr/share/sipguard/prometheus/sipguard.rules.yml" ] ||
			{ echo "     missing: the Prometheus rules"; return 1; }
	fi
}
check "binaries, config, units, helper and man pages where Debian expects them" files_ok
conffiles_ok() {
	local c
	c=$(in_root dpkg-query -W -f='${Conffiles}' sipguard)
	grep -q ' /etc/sipguard/sipguard.conf ' <<<"$c" && grep -q ' /etc/default/sipguard ' <<<"$c"
}
check "/etc/sipguard/sipguard.conf and /etc/default/sipguard are conffiles" conffiles_ok

# --- offline classification -----------------------------------------------------
# Known contents: carrier-b (203.0.113.0/24 in the example config) gets 7
# INVITEs, each answered 503; carrier-a (198.51.100.10) gets 3, answered
# 200. 20 frames in all.
python3 - "$root/tmp/calls.pcap" <<EOF
import sys
sys.path.insert(0, "$here")
import sgpcap as p
frames = []
for trunk, n, code, reason in (("203.0.113.5", 7, 503, "Service Unavailable"),
                               ("198.51.100.10", 3, 200, "OK")):
    for i in range(n):
        cid = "pkg-%s-%d@192.0.2.1" % (trunk, i)
        inv = p.sip_invite(call_id=cid, cseq=100 + i, branch="z9hG4bKpkg%s%d" % (trunk[-1], i))
        frames.append(p.udp4("192.0.2.1", trunk, 5060, 5060, inv))
        frames.append(p.udp4(trunk, "192.0.2.1", 5060, 5060,
                             p.sip_response(code, reason, call_id=cid, cseq=100 + i)))
p.write_pcap(sys.argv[1], frames)
EOF
in_root sipguard -c /etc/sipguard/sipguard.conf --pcap /tmp/calls.pcap --json \
	>"$out/offline.json" 2>"$out/offline.err"
rc=$?
check "sipguard --pcap --json exits 0 in the root" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/     /' "$out/offline.err"
packets_ok() {
	jq -se 'length == 1 and .[0].source.packets > 0' "$out/offline.json" >/dev/null
}
check "the output is one JSON object with packets > 0" packets_ok
counts_ok() {
	jq -e '.source.packets == 20 and .source.sip_messages == 20
		and .trunks["carrier-b"].requests.INVITE == 7
		and .trunks["carrier-b"].responses["503"] == 7
		and .trunks["carrier-b"].invite_final["503"] == 7
		and .trunks["carrier-a"].requests.INVITE == 3
		and .trunks["carrier-a"].responses["200"] == 3' "$out/offline.json" >/dev/null
}
check "its counts are the capture's: 20 packets, carrier-b 7 INVITE / 7 503, carrier-a 3 INVITE / 3 200" counts_ok
note "$(jq -c '{packets: .source.packets, carrier_b: .trunks["carrier-b"].responses}' \
	"$out/offline.json" 2>/dev/null)"

# --- man pages, CLI, helper -----------------------------------------------------
# man renders the NAME line's dash as a typographic one: match around it
man_ok() {
	local section=$1 page=$2 what=$3 text
	text=$(in_root env MANWIDTH=80 man -P cat "$section" "$page" 2>&1) ||
		{ echo "     $text"; return 1; }
	grep -q "^NAME" <<<"$text" && grep -q "^ *$page .* $what" <<<"$text"
}
check "man sipguard opens" man_ok 8 sipguard "kernel-bypass SIP classifier dataplane"
check "man sipguard-ctrl opens" man_ok 8 sipguard-ctrl "control plane of the sipguard"
check "man sipguardctl opens" man_ok 8 sipguardctl "command line of a running sipguard"
check "man sipguard.conf opens" man_ok 5 sipguard.conf "configuration file of the sipguard"
expect_rc() {
	local want=$1 got
	shift
	in_root "$@" >/dev/null 2>&1
	got=$?
	[ "$got" -eq "$want" ] || { echo "     $*: exit $got, want $want"; return 1; }
}
check "sipguardctl with no sipguard-ctrl exits 3" expect_rc 3 sipguardctl status
check "sipguard with a config that does not exist exits 2" expect_rc 2 \
	sipguard -c /etc/sipguard/none.conf --pcap /tmp/calls.pcap
check "sipguard-hugepages refuses a size that is not a number (exit 2)" expect_rc 2 \
	/usr/libexec/sipguard/sipguard-hugepages 1G
check "sipguard-hugepages 0 leaves the reservation alone (exit 0)" expect_rc 0 \
	/usr/libexec/sipguard/sipguard-hugepages 0

# --- the units ----------------------------------------------------------------
verify_ok() {
	local text
	text=$(in_root systemd-analyze verify /lib/systemd/system/sipguard.service \
		/lib/systemd/system/sipguard-ctrl.service 2>&1)
	local rc=$?
	[ -n "$text" ] && sed 's/^/     /' <<<"$text"
	[ $rc -eq 0 ] && [ -z "$text" ]
}
check "systemd-analyze verify is silent on the installed units" verify_ok
unit_ok() {
	local u=$root/lib/systemd/system
	grep -qx 'Type=notify' "$u/sipguard.service" &&
		grep -qx 'Type=notify' "$u/sipguard-ctrl.service" &&
		grep -qx 'BindsTo=sipguard.service' "$u/sipguard-ctrl.service" &&
		grep -q '^ExecStartPre=+/usr/libexec/sipguard/sipguard-hugepages ' "$u/sipguard.service" &&
		grep -qx 'RuntimeDirectory=sipguard' "$u/sipguard.service"
}
check "the units: Type=notify, BindsTo=, hugepages first, a runtime directory" unit_ok

# --- live: READY=1 and STOPPING=1 ------------------------------------------------
# A stand-in for systemd's notify socket records each daemon's messages;
# the dataplane runs on a net_ring port (no NIC needed) with one worker.
hp_free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
if ! grep -qs ' hugetlbfs ' /proc/mounts || [ "${hp_free:-0}" -lt 256 ]; then
	echo "SKIP (this part only): live mode needs 256 free 2 MiB hugepages and hugetlbfs"
elif ! python3 -c 'import os, sys; sys.exit(0 if {0, 1} <= os.sched_getaffinity(0) else 1)'; then
	echo "SKIP (this part only): the live dataplane needs CPUs 0 and 1"
else
	# a hugetlbfs of its own (EAL finds it in the root's /proc/mounts):
	# its files go when it is unmounted
	mkdir -p "$root/mnt/huge"
	mount -t hugetlbfs -o pagesize=2M "$tag" "$root/mnt/huge"
	# more reserved than asked for: the helper must leave it as it is
	helper_keeps() {
		local before after
		before=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)
		in_root /usr/libexec/sipguard/sipguard-hugepages 2 >"$out/helper.log" 2>&1 || return 1
		after=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)
		[ "$before" = "$after" ] && grep -q "^sipguard-hugepages: $after 2 MiB pages reserved" \
			"$out/helper.log"
	}
	check "sipguard-hugepages 2 finds enough reserved and changes nothing" helper_keeps
	sed -e "s|devargs = \"net_af_packet0,iface=eth1\"|devargs = \"net_ring0\"|" \
		-e "s|file_prefix = \"sipguard\"|file_prefix = \"$tag\"|" \
		-e "s|socket = \"/run/sipguard/ctrl.sock\"|socket = \"/run/$tag/ctrl.sock\"|" \
		"$root/etc/sipguard/sipguard.conf" >"$root/tmp/live.conf"
	listen() {
		python3 - "$1" "$2" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " | ") + "\n")
EOF
		pids+=($!)
	}
	listen "$root/run/dp.notify" "$out/dp.notify"
	listen "$root/run/ctrl.notify" "$out/ctrl.notify"
	wait_for() { # FILE PATTERN SECONDS
		local i
		for ((i = 0; i < $3 * 10; i++)); do
			grep -q "$2" "$1" 2>/dev/null && return 0
			sleep 0.1
		done
		return 1
	}
	# a message sent before the stand-in listens would be lost
	for ((i = 0; i < 100; i++)); do
		[ -S "$root/run/dp.notify" ] && [ -S "$root/run/ctrl.notify" ] && break
		sleep 0.1
	done
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin NOTIFY_SOCKET=/run/dp.notify \
		sipguard -c /tmp/live.conf >"$out/live.log" 2>&1 &
	dp=$!
	pids+=($dp)
	check "live sipguard says READY=1 once its port and worker run" \
		wait_for "$out/dp.notify" "READY=1 | STATUS=running: 1 port(s), 1 worker(s)" 60
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin NOTIFY_SOCKET=/run/ctrl.notify \
		sipguard-ctrl -c /tmp/live.conf >"$out/live-ctrl.log" 2>&1 &
	ctrl=$!
	pids+=($ctrl)
	check "sipguard-ctrl says READY=1 once attached" \
		wait_for "$out/ctrl.notify" "READY=1 | STATUS=attached" 30
	check "sipguardctl reaches it" expect_rc 0 sipguardctl -s "/run/$tag/ctrl.sock" -j status
	kill -TERM "$dp" 2>/dev/null
	check "on SIGTERM sipguard says STOPPING=1" wait_for "$out/dp.notify" "STOPPING=1" 30
	wait "$dp"
	check "and exits 0" test $? -eq 0
	check "sipguard-ctrl says STOPPING=1 when the dataplane goes" \
		wait_for "$out/ctrl.notify" "STOPPING=1" 30
	wait "$ctrl" 2>/dev/null
	sed 's/^/     dataplane: /' "$out/dp.notify"
	sed 's/^/     ctrl: /' "$out/ctrl.notify"
	if [ "$failed" -gt 0 ]; then
		sed 's/^/     sipguard: /' "$out/live.log"
		sed 's/^/     sipguard-ctrl: /' "$out/live-ctrl.log"
	fi
fi

finish
