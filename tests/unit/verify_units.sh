#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# systemd-analyze verify on the units as the tree has them, with the
# install paths pointed at the build (ExecStart= must name executables
# that exist): it must exit 0 and say nothing, since it only warns about
# many mistakes (an unknown Type=, a bad directive). A unit broken on
# purpose must make it speak, so a verify that checks nothing here fails.
# The installed units are verified again by test_package.sh.
#
# Usage: verify_units.sh SOURCE_ROOT SIPGUARD SIPGUARD_CTRL
set -uo pipefail

src=$1
dp=$2
ctrl=$3
tmp=$(mktemp -d /tmp/sg-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for unit in sipguard.service sipguard-ctrl.service; do
	sed -e "s|@SBINDIR@/sipguard-ctrl|$ctrl|g" -e "s|@SBINDIR@/sipguard|$dp|g" \
		-e "s|@LIBEXECDIR@/sipguard/sipguard-hugepages|$src/config/systemd/sipguard-hugepages|g" \
		-e "s|@SYSCONFDIR@|/etc|g" "$src/config/systemd/$unit.in" >"$tmp/$unit"
done
if grep -n '@[A-Z]*@' "$tmp"/*.service; then
	echo "verify_units: a placeholder the build does not fill" >&2
	exit 1
fi
out=$(cd "$tmp" && systemd-analyze verify --man=no sipguard.service sipguard-ctrl.service 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "verify_units: systemd-analyze verify (exit $rc):" >&2
	echo "$out" >&2
	exit 1
fi
mkdir "$tmp/broken"
sed 's/^Type=notify$/Type=notyfy/' "$tmp/sipguard.service" >"$tmp/broken/sipguard.service"
if [ -z "$(cd "$tmp/broken" && systemd-analyze verify --man=no sipguard.service 2>&1)" ]; then
	echo "verify_units: systemd-analyze verify is silent on a broken unit: it checks nothing here" >&2
	exit 1
fi
echo "verify_units: sipguard.service and sipguard-ctrl.service verified"
