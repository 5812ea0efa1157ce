#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A mixed chain: nf-firewall on the host, nf-forward inside a QEMU guest
# (netvmctl vm start; KVM if a guest runs on it, else TCG), fed by the
# example's generator.  Prints the NFs and the rate for a few seconds.
#   examples/vm-chain.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
scripts/setup.sh # packages, build, and the guest image in build/guest

B=build
RUN=$(mktemp -d /tmp/netvm-vm.XXXXXX)
export NETVM_SOCKET=$RUN/netvm.sock
pids=()
cleanup() {
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT

$B/netvmd -c examples/firewall-chain.yaml -s "$NETVM_SOCKET" 2>"$RUN/netvmd.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$NETVM_SOCKET" ] && break; sleep 0.1; done
$B/nf-firewall --service fw --rules examples/rules.txt >"$RUN/fw.log" 2>&1 &
pids+=($!)
echo "== booting a VM for service fwd (console: $RUN/fwd.console)"
$B/netvmctl vm start fwd --console "$RUN/fwd.console" 2>"$RUN/qemu.log" &
pids+=($!)
$B/netvmctl wait --timeout 180 nfs=2 || { cat "$RUN/qemu.log" "$RUN/fwd.console"; exit 1; }
head -n 2 "$RUN/qemu.log"
grep '^netvm-guest' "$RUN/fwd.console"
$B/netvmctl nfs
$B/netvmctl port start gen0
a=$($B/netvmctl --json ports | sed -n 's/.*"tx": \([0-9]*\).*/\1/p' | head -n 1)
sleep "$SECS"
b=$($B/netvmctl --json ports | sed -n 's/.*"tx": \([0-9]*\).*/\1/p' | head -n 1)
echo "== fw (host) -> fwd (VM): $(((b - a) / SECS)) packets/s delivered over ${SECS} s"
$B/netvmctl nfs
