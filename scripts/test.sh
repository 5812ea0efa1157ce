#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Set up (packages, huge pages, build) and run every test: cmocka unit tests
# and integration tests with real processes.  Ends with "N passed, N failed".
#   scripts/test.sh            everything
#   scripts/test.sh -k kill9   only tests whose name contains "kill9"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec /usr/bin/python3 tests/run.py build "$@"
