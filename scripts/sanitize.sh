#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build build-asan with AddressSanitizer + UndefinedBehaviorSanitizer (gcc)
# and run every test against it: the unit tests, and the integration tests
# with the sanitized netvmd and NFs.  Any report fails the test it happens
# in (the processes abort on the first one; the test helper also scans the
# daemon's and NFs' output).  Ends with "N passed, N failed".
#   scripts/sanitize.sh [-k NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null # packages and huge pages

B=build-asan
if [ ! -f $B/build.ninja ]; then
	# -fno-sanitize-recover: UBSan stops at the first report instead of going on.
	meson setup $B --buildtype=debugoptimized -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fno-sanitize-recover=all >/dev/null
fi
ninja -C $B >/dev/null
echo "sanitize: built $(pwd)/$B (ASan + UBSan)"

# VM tests boot the guest image of ./build: static NFs cannot be sanitized.
export NETVM_GUEST_DIR=$(pwd)/build/guest
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
exec /usr/bin/python3 tests/run.py $B "$@"
