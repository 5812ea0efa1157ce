#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Port throughput one way over a veth pair: netvm-pktgen (af_packet, and
# af_xdp for reference) against DPDK testpmd's af_packet port
# (bench/peers.py afpacket), interleaved run by run (bench/peers.py
# interleave) so both see the same host.  As root; needs the dpdk package.
# usage: bench/ports/run.sh [PAIRS] [SIZES...]       (default: 5 pairs, 64 1500)
# env: NETVM_BUILD, WARMUP, MEASURE; results go to bench/ports/results/
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS=$HERE/../peers.py
N=${1:-5}; shift || true
SIZES=${*:-64 1500}
mkdir -p "$HERE/results"
OUT=$HERE/results/$(date +%Y%m%d-%H%M%S).txt
{
	echo "# $(date -Is) $(uname -r) $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
	echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); windows: ${WARMUP:-3} s warm-up, ${MEASURE:-10} s"
	for s in $SIZES; do
		echo "## ${s} B: peer testpmd af_packet vs netvm-pktgen af_packet"
		/usr/bin/python3 "$PEERS" interleave "$N" "afpacket --size $s" "$HERE/pktgen_oneway.sh $s af_packet"
		echo "## ${s} B: peer testpmd af_packet vs netvm-pktgen af_xdp"
		/usr/bin/python3 "$PEERS" interleave "$N" "afpacket --size $s" "$HERE/pktgen_oneway.sh $s af_xdp"
	done
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$OUT"
