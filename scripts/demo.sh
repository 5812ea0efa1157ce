#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The NetVM demo: build, start netvmd with a traffic generator, attach a
# firewall and a forwarder as a chain, and print the rates for a few seconds.
#   scripts/demo.sh [--vm] [SECONDS]
# --vm: the forwarder runs inside a QEMU guest (netvmctl vm start; KVM if a
# guest runs on it, else TCG), the firewall on the host: a mixed chain.
set -euo pipefail
cd "$(dirname "$0")/.."
VM=0
if [ "${1:-}" = --vm ]; then
	VM=1
	shift
fi
SECONDS_TO_RUN=${1:-5}
scripts/setup.sh # packages, build, and the guest image in build/guest

B=build
RUN=$(mktemp -d /tmp/netvm-demo.XXXXXX)
export NETVM_SOCKET=$RUN/netvm.sock
pids=()
cleanup() {
	# NFs first (they leave gracefully), then the daemon.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT

echo "== netvmd -c examples/firewall-chain.yaml (socket $NETVM_SOCKET)"
$B/netvmd -c examples/firewall-chain.yaml -s "$NETVM_SOCKET" 2>"$RUN/netvmd.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$NETVM_SOCKET" ] && break; sleep 0.1; done
$B/nf-firewall --service fw --rules examples/rules.txt >"$RUN/fw.log" 2>&1 &
pids+=($!)
if [ $VM = 1 ]; then
	echo "== booting a VM for service fwd (console: $RUN/fwd.console)"
	$B/netvmctl vm start fwd --console "$RUN/fwd.console" 2>"$RUN/qemu.log" &
	vm=$!
	pids+=($vm)
	# vm start reports a failed VM itself and exits: --pid stops the wait then.
	if ! $B/netvmctl wait --timeout 600 --pid $vm nfs=2; then
		echo "demo: the VM NF did not attach; netvmctl vm start said:"
		grep -v '^  ' "$RUN/qemu.log" || true
		exit 1
	fi
	grep -v '^  ' "$RUN/qemu.log" || true # all but the QEMU command line
	grep '^netvm-guest' "$RUN/fwd.console"
else
	$B/nf-forward --service fwd >"$RUN/fwd.log" 2>&1 &
	pids+=($!)
	$B/netvmctl wait --timeout 10 nfs=2
fi
$B/netvmctl port start gen0   # the example starts it paused until the chain is up

/usr/bin/python3 - "$B/netvmctl" "$SECONDS_TO_RUN" <<'PY'
import json, subprocess, sys, time
ctl, secs = sys.argv[1], int(sys.argv[2])
def st():
    return json.loads(subprocess.run([ctl, "--json", "status"], capture_output=True, text=True,
                                     check=True).stdout)
print("gen0 sends 64-byte UDP frames as fast as the chain fw -> fwd takes them (backpressure on).")
print(f"{'time':>4}  {'offered Mpps':>12}  {'delivered Mpps':>14}  {'fw Mpps':>8}  {'fwd Mpps':>8}  dropped (cause)")
prev, t_prev = st(), time.monotonic()
for i in range(1, secs + 1):
    time.sleep(1)
    cur, t = st(), time.monotonic()
    dt = t - t_prev
    rate = lambda a, b: (a - b) / dt / 1e6
    port, pport = cur["ports"][0], prev["ports"][0]
    nfs = {n["service"]: n for n in cur["nfs"]}
    pnfs = {n["service"]: n for n in prev["nfs"]}
    drops = {k: v - prev["drops"][k] for k, v in cur["drops"].items() if v != prev["drops"][k]}
    print(f"{i:>3}s  {rate(port['rx'], pport['rx']):>12.2f}  {rate(port['tx'], pport['tx']):>14.2f}  "
          f"{rate(nfs['fw']['rx'], pnfs['fw']['rx']):>8.2f}  {rate(nfs['fwd']['rx'], pnfs['fwd']['rx']):>8.2f}  "
          + ", ".join(f"{k} {v / dt / 1e6:.2f}M/s" for k, v in drops.items()))
    prev, t_prev = cur, t
PY
echo
$B/netvmctl status
