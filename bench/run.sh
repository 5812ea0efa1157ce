#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Regenerate bench/RESULTS.md, bench/throughput.png and bench/RESULTS-vm.md; with
# --all also RESULTS-router.md, RESULTS-nat.md and RESULTS-ports.md.  As root.
#   bench/run.sh [--all] [--quick] [--pairs N] [--no-peers]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
need=()
for p in dpdk dpdk-dev python3-matplotlib valgrind util-linux; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
all=0
args=()
for a in "$@"; do
	if [ "$a" = --all ]; then all=1; else args+=("$a"); fi
done
/usr/bin/python3 bench/bench.py "${args[@]}"
/usr/bin/python3 bench/vm.py
if [ $all = 1 ]; then
	/usr/bin/python3 bench/router.py
	/usr/bin/python3 bench/nat.py
	bench/ports/run.sh
fi
