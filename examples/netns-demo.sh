#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Two network namespaces joined through NetVM, with a firewall and a
# forwarder in between:
#
#   ns nvdemoA (a0 10.77.0.1) <-> port pa == nf-firewall -> nf-forward == port pb <-> (b0 10.77.0.2) ns nvdemoB
#
# usage: examples/netns-demo.sh [af_packet|af_xdp|tap] [--keep]
#   Builds nothing: run scripts/setup.sh first (binaries from $NETVM_BUILD, default build/).
#   Runs ping, then iperf3 (TCP A -> B), shows netvmctl status and cleans up.
#   --keep: leave everything running and print how to use and stop it.
# Needs root, iproute2, ethtool, iperf3 (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
KIND=${1:-af_packet}
KEEP=${2:-}
B=${NETVM_BUILD:-build}
CFG=examples/netns-$KIND.yaml
SOCK=/run/netvm/netvm-demo.sock
RULES=$(mktemp /tmp/netvm-demo-rules.XXXXXX)
[ -f "$CFG" ] || { echo "unknown port type '$KIND' (af_packet, af_xdp, tap)" >&2; exit 2; }
for b in netvmd netvmctl nf-firewall nf-forward; do
	[ -x "$B/$b" ] || { echo "$B/$b not built: run scripts/setup.sh" >&2; exit 1; }
done
mkdir -p /run/netvm
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del nvdemoA 2>/dev/null || true
	ip netns del nvdemoB 2>/dev/null || true
	ip link del nvdemo-a 2>/dev/null || true
	ip link del nvdemo-b 2>/dev/null || true
	rm -f "$RULES"
}
[ "$KEEP" = --keep ] || trap cleanup EXIT
cleanup

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
setup_ns() { # ns inner-if ip
	in_ns "$1" ip addr add "$3/24" dev "$2"
	in_ns "$1" ip link set "$2" up
	# veth hands its peer unchecksummed, TSO-sized frames: make it send what
	# goes on a wire (a TAP device gets that from the kernel anyway).
	[ "$KIND" = tap ] || in_ns "$1" ethtool -K "$2" tx off tso off gso off >/dev/null
}

for ns in nvdemoA nvdemoB; do
	ip netns add $ns
	in_ns $ns ip link set lo up
	in_ns $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
if [ "$KIND" != tap ]; then
	ip link add nvdemo-a type veth peer name a0 netns nvdemoA
	ip link add nvdemo-b type veth peer name b0 netns nvdemoB
	setup_ns nvdemoA a0 10.77.0.1
	setup_ns nvdemoB b0 10.77.0.2
fi

printf 'deny proto=udp dport=7000-7999\ndefault allow\n' > "$RULES"
"$B/netvmd" -c "$CFG" & PIDS+=($!)
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
export NETVM_SOCKET=$SOCK
"$B/nf-firewall" --service fw --rules "$RULES" >/dev/null & PIDS+=($!)
"$B/nf-forward" --service fwd >/dev/null & PIDS+=($!)
"$B/netvmctl" wait nfs=2

if [ "$KIND" = tap ]; then
	# netvmd made the TAP devices: move them into the namespaces.
	ip link set nvdemo-a netns nvdemoA && in_ns nvdemoA ip link set nvdemo-a name a0
	ip link set nvdemo-b netns nvdemoB && in_ns nvdemoB ip link set nvdemo-b name b0
	setup_ns nvdemoA a0 10.77.0.1
	setup_ns nvdemoB b0 10.77.0.2
fi

echo "== ping A -> B through fw, fwd ($KIND ports)"
in_ns nvdemoA ping -c 5 -i 0.2 10.77.0.2
if command -v iperf3 >/dev/null; then
	echo "== iperf3 TCP A -> B"
	in_ns nvdemoB iperf3 -s -1 -B 10.77.0.2 >/dev/null & PIDS+=($!)
	for i in $(seq 50); do in_ns nvdemoB ss -ltn | grep -q ':5201 ' && break; sleep 0.1; done
	in_ns nvdemoA iperf3 -c 10.77.0.2 -t 3 | tail -4
fi
echo "== netvmctl status"
"$B/netvmctl" status
if [ "$KEEP" = --keep ]; then
	echo
	echo "Running.  Try:  ip netns exec nvdemoA ping 10.77.0.2"
	echo "                NETVM_SOCKET=$SOCK $B/netvmctl status"
	echo "Stop with:      kill ${PIDS[*]}; ip netns del nvdemoA; ip netns del nvdemoB;" \
		"ip link del nvdemo-a; ip link del nvdemo-b"
fi
