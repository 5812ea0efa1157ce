#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the libFuzzer targets with clang (ASan + UBSan) in build-fuzz and run
# each for SECONDS (default 30), starting from the seeds in fuzz/corpus/.
# Prints one PASS/FAIL line per target with its executions and ends with
# "N passed, N failed"; a crash, leak or sanitizer report is a failure (the
# input that caused it is kept in build-fuzz/artifacts/).  docs/fuzzing.md.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
B=build-fuzz
TARGETS=(fuzz_packet fuzz_config fuzz_ctl fuzz_fw_rules fuzz_region fuzz_nat fuzz_router_routes)

scripts/setup.sh >/dev/null || exit 1 # packages (clang, libclang-rt-14-dev)
if [ ! -f $B/build.ninja ]; then
	CC=clang meson setup $B -Dfuzz=true -Dtests=false --buildtype=debugoptimized >/dev/null ||
		exit 1
fi
ninja -C $B "${TARGETS[@]/#/fuzz/}" >/dev/null || {
	echo "fuzz: build failed"
	echo "0 passed, ${#TARGETS[@]} failed"
	exit 1
}
mkdir -p $B/artifacts
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

passed=0
failed=0
for t in "${TARGETS[@]}"; do
	# New inputs go to a scratch corpus; the seeds in git stay as they are.
	mkdir -p $B/corpus/$t
	log=$B/$t.log
	$B/fuzz/$t -max_total_time="$SECS" -print_final_stats=1 -rss_limit_mb=2048 \
		-artifact_prefix=$B/artifacts/$t- $B/corpus/$t fuzz/corpus/$t >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -eq 0 ] && [ -n "$execs" ]; then
		passed=$((passed + 1))
		echo "PASS fuzz/$t: $execs executions in ${SECS}s ($(grep -m1 -o 'DONE.*cov: [0-9]*' "$log" | sed 's/ \+/ /g'))"
	else
		failed=$((failed + 1))
		echo "FAIL fuzz/$t (exit $rc, ${execs:-?} executions): $log"
		grep -E -A25 "ERROR: |runtime error|SUMMARY|Test unit written" "$log" | head -60
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
