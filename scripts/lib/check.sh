# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# The integration tests' verdict helpers: one line per check, a final
# "N passed, N failed" line, exit 77 for a test that cannot run here.
#
#   skip WHY              say why and exit 77
#   check WHAT cmd...     run cmd; "ok   WHAT" or "FAIL WHAT"
#   note TEXT             an indented line of figures

passed=0
failed=0

skip() {
	echo "SKIP: $*"
	exit 77
}

check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
		passed=$((passed + 1))
	else
		echo "FAIL $what"
		failed=$((failed + 1))
	fi
}

note() {
	echo "     $*"
}
