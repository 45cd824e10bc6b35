#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The section 8 man pages against the programs: mandoc's linter is silent
# on each, and every long option a program's --help lists (and every
# sipguardctl command) is in its page, so a new option or command cannot
# ship undocumented. sipguard.conf(5) is scripts/config-reference's.
#
# Usage: man_pages.sh SOURCE_ROOT SIPGUARD SIPGUARD_CTRL SIPGUARDCTL
set -uo pipefail

src=$1
bad=0

# mdoc writes "--name" as "\-name" after Fl, and escapes inner hyphens
page_text() {
	sed 's/\\-/-/g' "$1"
}

check_page() {
	local prog=$1 page=$2 text opt cmd
	if command -v mandoc >/dev/null; then
		if ! mandoc -T lint -W warning "$page" >&2; then
			echo "man_pages: $page: mandoc -T lint has warnings" >&2
			bad=1
		fi
	fi
	text=$(page_text "$page")
	for opt in $("$prog" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		if ! grep -q -- "${opt#-}\b" <<<"$text"; then
			echo "man_pages: $page: $(basename "$prog") $opt is not documented" >&2
			bad=1
		fi
	done
	if [ "$(basename "$prog")" = sipguardctl ]; then
		for cmd in $("$prog" --help | awk '/^commands:/ {c = 1; next} /^$/ {c = 0} c {print $1}'); do
			if ! grep -q "^\.It Cm $cmd\b" <<<"$text"; then
				echo "man_pages: $page: sipguardctl $cmd is not documented" >&2
				bad=1
			fi
		done
	fi
}

check_page "$2" "$src/dataplane/sipguard.8"
check_page "$3" "$src/ctrl/sipguard-ctrl.8"
check_page "$4" "$src/ctrl/sipguardctl.8"
[ $bad -eq 0 ] && echo "man_pages: sipguard(8), sipguard-ctrl(8), sipguardctl(8) lint clean and complete"
exit $bad
