#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Regenerate bench/RESULTS.md, bench/throughput.png and bench/RESULTS-vm.md.  As root.
#   bench/run.sh [--quick] [--pairs N] [--no-peers]
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
/usr/bin/python3 bench/bench.py "$@"
exec /usr/bin/python3 bench/vm.py
