#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Two namespaces on different subnets, routed only by nf-router:
#
#   ns nvrtA (e0 10.1.0.2/24 gw 10.1.0.1, fd01::2/64 gw fd01::1)
#     <-veth-> nvrt-a [port pa] == nf-router == [port pb] nvrt-b <-veth->
#   ns nvrtB (e0 10.2.0.2/24 gw 10.2.0.1, fd02::2/64 gw fd02::1)
#
# usage: examples/router-demo.sh [--keep]
#   Builds nothing: run scripts/setup.sh first (binaries from $NETVM_BUILD,
#   default build/).  Runs ping and ping -6, traceroute (the router is hop 1),
#   iperf3 (TCP A -> B), shows the router's counters and neighbour table and
#   both namespaces' neighbours, and cleans up.
#   --keep: leave it running and print how to use and stop it.
# Needs root, iproute2, ethtool, iperf3, traceroute (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=${1:-}
B=${NETVM_BUILD:-build}
SOCK=/run/netvm/netvm-router.sock
LOG=$(mktemp /tmp/nf-router-demo.XXXXXX)
for b in netvmd netvmctl nf-router; do
	[ -x "$B/$b" ] || { echo "$B/$b not built: run scripts/setup.sh" >&2; exit 1; }
done
mkdir -p /run/netvm
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del nvrtA 2>/dev/null || true
	ip netns del nvrtB 2>/dev/null || true
	ip link del nvrt-a 2>/dev/null || true
	ip link del nvrt-b 2>/dev/null || true
}
[ "$KEEP" = --keep ] || trap cleanup EXIT
cleanup

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
for side in A B; do
	ns=nvrtA host=nvrt-a n=1
	[ $side = B ] && ns=nvrtB host=nvrt-b n=2
	ip netns add $ns
	in_ns $ns ip link set lo up
	ip link add $host type veth peer name e0 netns $ns
	sysctl -qw net.ipv6.conf.$host.disable_ipv6=1
	ip link set $host up
	in_ns $ns ip addr add 10.$n.0.2/24 dev e0
	in_ns $ns ip -6 addr add fd0$n::2/64 dev e0 nodad
	in_ns $ns ip link set e0 up
	# veth hands its peer unchecksummed, TSO-sized frames: make it send
	# what goes on a wire
	in_ns $ns ethtool -K e0 tx off tso off gso off >/dev/null
	in_ns $ns ip route add default via 10.$n.0.1
	in_ns $ns ip -6 route add default via fd0$n::1
done

"$B/netvmd" -c examples/router/netvm.yaml >"$LOG.netvmd" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S $SOCK ] && break; sleep 0.1; done
NETVM_SOCKET=$SOCK "$B/nf-router" --service router --config examples/router/router.yaml >"$LOG" 2>&1 &
ROUTER=$!
PIDS=("$ROUTER" "${PIDS[@]}")
"$B/netvmctl" --socket $SOCK wait nfs=1 >/dev/null

echo "== ping 10.2.0.2 and fd02::2 from A"
in_ns nvrtA ping -n -c 3 -i 0.2 10.2.0.2 | tail -2
in_ns nvrtA ping -6 -n -c 3 -i 0.2 fd02::2 | tail -2
if command -v traceroute >/dev/null; then
	echo "== traceroute from A: the router is hop 1"
	in_ns nvrtA traceroute -n -q 1 -w 1 10.2.0.2
	in_ns nvrtA traceroute -6 -n -q 1 -w 1 fd02::2
fi
echo "== unreachable route (192.0.2.0/24): an ICMP host unreachable from the router"
in_ns nvrtA ping -n -c 1 -W 1 192.0.2.1 | grep -i unreachable || true
if command -v iperf3 >/dev/null; then
	echo "== iperf3 TCP A -> B"
	in_ns nvrtB iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	for _ in $(seq 50); do in_ns nvrtB ss -ltn | grep -q :5201 && break; sleep 0.1; done
	in_ns nvrtA iperf3 -c 10.2.0.2 -p 5201 -t 3 | grep -E "sender|receiver"
fi
echo "== neighbours: the router's (SIGUSR1), then A's and B's"
kill -USR1 "$ROUTER"
for _ in $(seq 50); do grep -q "neigh end" "$LOG" && break; sleep 0.1; done
grep -E "^neigh" "$LOG"
in_ns nvrtA ip neigh
in_ns nvrtB ip neigh
echo "== netvmctl nfs"
"$B/netvmctl" --socket $SOCK nfs

if [ "$KEEP" = --keep ]; then
	cat <<EOT

Running (router log: $LOG).  Try:
  ip netns exec nvrtA ping 10.20.1.1         # routed to B's network (nobody there)
  kill -HUP $ROUTER                          # re-read examples/router/routes.txt
  kill -USR1 $ROUTER; cat $LOG               # counters and neighbour table
  $B/netvmctl --socket $SOCK nfs
Stop: kill ${PIDS[*]}; ip netns del nvrtA; ip netns del nvrtB
EOT
fi
