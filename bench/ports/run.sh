#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Port throughput one way over a veth pair: netvm-pktgen (af_packet, and
# af_xdp for reference) against DPDK testpmd's af_packet port, interleaved
# run by run with peerbench's interleave.sh so both see the same host.
# usage: bench/ports/run.sh [PAIRS] [SIZES...]       (default: 5 pairs, 64 1500)
# env: NETVM_BUILD, PEERBENCH, WARMUP, MEASURE; results go to bench/ports/results/
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PB=${PEERBENCH:-/work/shared/peerbench}
N=${1:-5}; shift || true
SIZES=${*:-64 1500}
mkdir -p "$HERE/results"
OUT=$HERE/results/$(date +%Y%m%d-%H%M%S).txt
{
	echo "# $(date -Is) $(uname -r) $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
	echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	for s in $SIZES; do
		echo "## ${s} B: peer testpmd af_packet vs netvm-pktgen af_packet"
		"$PB/interleave.sh" "$N" "$HERE/peer_afpacket.sh $s" "$HERE/pktgen_oneway.sh $s af_packet"
		echo "## ${s} B: peer testpmd af_packet vs netvm-pktgen af_xdp"
		"$PB/interleave.sh" "$N" "$HERE/peer_afpacket.sh $s" "$HERE/pktgen_oneway.sh $s af_xdp"
	done
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$OUT"
