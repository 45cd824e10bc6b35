#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The tshark oracle's own test (test_oracle.py) on a hand-built capture:
# sipguard is judged against the oracle, so the oracle is checked first.
set -euo pipefail
exec python3 "$(dirname "$0")/test_oracle.py"
