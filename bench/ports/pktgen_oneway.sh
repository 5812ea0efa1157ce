#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# NetVM's side of the one-way veth benchmark: netvm-pktgen sends on pbv0 and
# receives on pbv1 through NetVM port backends, the sender pinned to
# TX_CORE and the receiver to RX_CORE: the same setup as its DPDK peer,
# `bench/peers.py afpacket` (testpmd txonly on pbv0 -> testpmd rxonly on pbv1).
# usage: pktgen_oneway.sh [SIZE] [TYPE]     SIZE = frame bytes (64), TYPE = af_packet | af_xdp
# env: NETVM_BUILD (build) WARMUP (3) MEASURE (10) TX_CORE (0) RX_CORE (1)
# Last stdout line: "... rx Mpps: X" (peers.py interleave takes the last number).
set -eu
SIZE=${1:-64}; TYPE=${2:-af_packet}
B=${NETVM_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
PG=$B/netvm-pktgen
[ -x "$PG" ] || PG=$B/netvm-pktgen
V0=pbv0; V1=pbv1
ip link del $V0 2>/dev/null || true
trap 'ip link del $V0 2>/dev/null || true' EXIT
ip link add $V0 type veth peer name $V1
for v in $V0 $V1; do
	sysctl -qw net.ipv6.conf.$v.disable_ipv6=1
	ip link set $v up
done
"$PG" --type "$TYPE" --tx $V0 --rx $V1 --size "$SIZE" --tx-core "${TX_CORE:-0}" \
	--rx-core "${RX_CORE:-1}" --warmup "${WARMUP:-3}" --duration "${MEASURE:-10}" -q \
	--interval 0 | tail -1
