#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""NetVM benchmark suite: regenerates bench/RESULTS.md and bench/throughput.png.

  bench/run.sh                      everything (installs what it needs first)
  bench/bench.py --one 1nf 64       one throughput run; prints Mpps last (for peers.py interleave)

Throughput is only comparable to a peer measured in the same run (these
machines are shared and noisy), so the peer rows interleave DPDK runs with
ours and report the median pairwise ratio; the peers are DPDK testpmd
topologies built by bench/peers.py.  Per-packet cost comes from
callgrind instruction counts, which are stable.
"""
import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import netvmtest  # noqa: E402  (the integration tests' process helpers)
import peers  # noqa: E402  (bench/peers.py: the DPDK testpmd peers)

SIZES = [64, 128, 256, 512, 1024, 1518]
# name -> (services in the chain, replicas of each, description)
SCENARIOS = {
    "0nf": (0, 1, "gen -> switch -> gen"),
    "1nf": (1, 1, "gen -> switch -> NF -> switch -> gen"),
    "chain2": (2, 1, "2-NF chain"),
    "chain3": (3, 1, "3-NF chain"),
    "replicas2": (1, 2, "1 service, 2 replicas"),
}
LAYOUT = "switch thread pinned to core 0; every NF pinned to core 1 (NFs share that core)"


def config(nsvc, size, rate=0, idle="adaptive"):
    chain = ", ".join(f"s{i}" for i in range(nsvc))
    return f"""
pool: {{buffers: 16384}}
ring_size: 1024
backpressure: true
cores: {{switch: 0}}
switch_idle: {'poll' if idle == 'poll' else 'adaptive'}
ports:
  - {{name: gen0, type: gen, size: {size}, flows: 16, rate: {rate}, count: 0, paused: true}}
services: [s0, s1, s2]
chains:
  default: [{chain}]
"""


class Run:
    """A platform with a scenario's NFs attached and the generator running."""

    def __init__(self, scenario, size, rate=0, idle="adaptive"):
        nsvc, replicas, _ = SCENARIOS[scenario]
        self.pf = netvmtest.Platform(config(nsvc, size, rate, idle), f"bench-{scenario}")
        self.nsvc, self.replicas, self.idle = nsvc, replicas, idle

    def __enter__(self):
        self.pf.__enter__()
        for s in range(self.nsvc):
            for _ in range(self.replicas):
                self.pf.start_nf("nf-forward", "--service", f"s{s}", prefix=("taskset", "-c", "1"),
                                 env={"NETVM_IDLE": self.idle})
        self.pf.wait_nfs(self.nsvc * self.replicas)
        self.pf.ctl("port", "start", "gen0")
        return self

    def __exit__(self, *exc):
        return self.pf.__exit__(*exc)

    def mpps(self, warmup=1.0, window=3.0):
        return mpps(self.pf, warmup, window)

    def latency(self, samples=5):
        return latency(self.pf, samples)


def mpps(pf, warmup=1.0, window=3.0):
    """Packets per second (M) out of the gen port of platform @pf."""
    port = lambda: pf.status()["ports"][0]
    time.sleep(warmup)  # benchmark warm-up: a measurement, not a test condition
    a, ta = port()["tx"], time.monotonic()
    time.sleep(window)
    b, tb = port()["tx"], time.monotonic()
    return (b - a) / (tb - ta) / 1e6


def latency(pf, samples=5):
    """Median p50/p99 (ns) over several 200 ms windows of the gen sink."""
    p50, p99 = [], []
    time.sleep(0.5)
    for _ in range(samples):
        time.sleep(0.25)
        lat = pf.status()["ports"][0].get("latency")
        if lat:
            p50.append(lat["p50_ns"])
            p99.append(lat["p99_ns"])
    return (statistics.median(p50) if p50 else None, statistics.median(p99) if p99 else None)


def one(scenario, size, idle="adaptive"):
    with Run(scenario, size, idle=idle) as r:
        return r.mpps()


def throughput_matrix(sizes, log):
    rows = {}
    for sc in SCENARIOS:
        rows[sc] = []
        for size in sizes:
            m = one(sc, size)
            rows[sc].append(m)
            log(f"throughput {sc} {size} B: {m:.2f} Mpps")
    return rows


# The comparisons against DPDK (64 B): name -> (peer topology of bench/peers.py and its arguments,
# our scenario, our NFs' idle mode).  The peers' rings (memif rsize 10, vhost queue 1024) are as
# long as ours (ring_size 1024) except in the last row.
PEERS = {
    "memif 1-hop vs 1 NF": ("memif", {}, "1nf", "adaptive"),
    "vhost-user 1-hop vs 1 NF": ("vhost", {}, "1nf", "adaptive"),
    "memif 2-NF chain vs 2-NF chain": ("chain", {}, "chain2", "adaptive"),
    "memif 2-NF chain vs 2-NF chain, busy-polling NFs": ("chain", {}, "chain2", "poll"),
    "memif 2-NF chain, 16384-slot rings (rsize 14) vs 2-NF chain": ("chain", {"rsize": 14}, "chain2", "adaptive"),
}


def interleave(n, name, log):
    """Alternate one run of a DPDK peer with one of ours, @n times (bench/peers.py)."""
    topo, kw, sc, idle = PEERS[name]
    log(f"{name}: {n} pairs")
    try:
        return peers.interleave(n, lambda: peers.TOPOLOGIES[topo](**kw), lambda: one(sc, 64, idle), log)
    except Exception as e:
        log(f"{name}: failed: {e}")
        return None


SWITCH_FUNCS = {"switch_round", "poll_port", "poll_nf", "from_nf", "flush_slot", "flush_port",
                "stage_port", "to_service", "forward", "classify", "flow_hash", "drop", "drop_in",
                "cross_domain", "reap_slot"}
NFLIB_FUNCS = {"netvm_nf_recv", "netvm_nf_send", "daemon_alive", "netvm_wake"}


def callgrind(build, packets=100000):
    """Instructions per packet for chains of 0..3 NFs (bench/hopcost under callgrind).

    Costs are callgrind's exclusive counts summed by function name over every
    file they appear in (code inlined from headers is listed under the
    header's file), so the switch's share is the functions of switch.c, the
    port's is the gen port's (with the memcpy of its template), the NF
    library's is netvm_nf_recv/send."""
    out = {}
    for k in range(4):
        f = f"/tmp/netvm-cg.{os.getpid()}.{k}"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={f}",
                        os.path.join(build, "bench", "hopcost"), str(k), str(packets)],
                       capture_output=True, check=True)
        ann = subprocess.run(["callgrind_annotate", "--threshold=100", f], capture_output=True,
                             text=True, check=True).stdout
        os.unlink(f)
        cost = {"switch": 0, "port": 0, "nflib": 0}
        for line in ann.splitlines():
            m = re.match(r"\s*([0-9,]+) \(\s*[0-9.]+%\)\s+(\S+):(\w+)", line)
            if not m:
                continue
            v, fn = int(m.group(1).replace(",", "")), m.group(3)
            if fn in SWITCH_FUNCS:
                cost["switch"] += v
            elif fn.startswith(("gen_", "lat_", "hist_")) or fn.startswith("__memcpy"):
                cost["port"] += v
            elif fn in NFLIB_FUNCS:
                cost["nflib"] += v
        out[k] = {"switch": cost["switch"] / packets, "port": cost["port"] / packets,
                  "nflib": cost["nflib"] / packets / k if k else 0.0}
    return out


def idle_cpu(seconds=5.0):
    """CPU used by an idle platform: the daemon and 3 adaptive NFs, no traffic."""
    with Run("chain3", 64) as r:
        r.pf.ctl("port", "stop", "gen0")
        time.sleep(1.0)
        pids = [r.pf.daemon.pid] + [p.pid for p in r.pf.nfs]
        a, ta = sum(netvmtest.cpu_seconds(p) for p in pids), time.monotonic()
        time.sleep(seconds)
        b, tb = sum(netvmtest.cpu_seconds(p) for p in pids), time.monotonic()
        return (b - a) / (tb - ta) * 100


def plot(rows, sizes, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for sc, vals in rows.items():
        a.plot(sizes, vals, marker="o", label=SCENARIOS[sc][2])
    a.set_xlabel("frame size (bytes)")
    a.set_ylabel("Mpps")
    a.set_title("Throughput vs frame size")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
    chain = [rows[s][0] for s in ("0nf", "1nf", "chain2", "chain3")]
    b.plot([0, 1, 2, 3], chain, marker="o")
    b.set_xticks([0, 1, 2, 3])
    b.set_xlabel("NFs in the chain (64 B)")
    b.set_ylabel("Mpps")
    b.set_title("Throughput vs chain length")
    b.grid(alpha=0.3)
    fig.suptitle(f"NetVM on {platform.node()} ({LAYOUT}); noisy 2-core VM: compare ratios only",
                 fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine():
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} vCPUs, Linux {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--one", nargs=2, metavar=("SCENARIO", "SIZE"), help="one throughput run")
    ap.add_argument("--idle", default="adaptive", choices=["poll", "adaptive", "sleep"])
    ap.add_argument("--pairs", type=int, default=3, help="interleaved pairs per peer comparison")
    ap.add_argument("--quick", action="store_true", help="64 B only, 1 pair per peer")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--callgrind", action="store_true",
                    help="only the instructions per packet (callgrind), printed")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    os.environ["NETVM_BUILD"] = os.path.abspath(args.build)
    netvmtest.BUILD = os.path.abspath(args.build)

    if args.one:
        print(f"{args.one[0]} {args.one[1]} B: {one(args.one[0], int(args.one[1]), args.idle):.3f} Mpps")
        return 0

    if args.callgrind:
        for k, c in callgrind(args.build).items():
            per_hop = c["switch"] / (k + 1)
            print(f"{k} NFs: switch {c['switch']:.1f} instr/packet ({per_hop:.1f} per crossing), "
                  f"NF library {c['nflib']:.1f} per NF, gen port {c['port']:.1f}")
        return 0

    log = lambda s: print(s, file=sys.stderr, flush=True)
    sizes = [64] if args.quick else SIZES
    pairs = 1 if args.quick else args.pairs
    started = datetime.datetime.now()
    res = {"date": started.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
           "args": "".join(f" {a}" for a in sys.argv[1:])}
    res["throughput"] = throughput_matrix(sizes, log)
    res["callgrind"] = callgrind(args.build)
    log(f"callgrind: {res['callgrind']}")
    res["latency"] = {}
    for load, rate in (("low (100 kpps)", 100000), ("high (max, backpressure)", 0)):
        for sc in ("0nf", "1nf", "chain2"):
            with Run(sc, 64, rate=rate) as r:
                res["latency"][(load, sc)] = r.latency()
            log(f"latency {load} {sc}: {res['latency'][(load, sc)]}")
    res["idle_cpu"] = idle_cpu()
    log(f"idle CPU: {res['idle_cpu']:.2f}%")
    res["poll_chain2"] = one("chain2", 64, idle="poll")
    log(f"chain2 with busy-polling NFs: {res['poll_chain2']:.2f} Mpps")
    res["peers"] = {}
    if not args.no_peers:
        for name in PEERS:
            res["peers"][name] = interleave(pairs, name, log)
    plot(res["throughput"], sizes, os.path.join(HERE, "throughput.png"))
    write_results(args.out, res, sizes, started)
    log(f"wrote {args.out} and bench/throughput.png")
    return 0


VM_NOTE = ("A VM NF hop (QEMU under TCG here, no KVM) against a host-process hop, interleaved: "
           "[RESULTS-vm.md](RESULTS-vm.md), regenerated by `bench/vm.py` (also run by "
           "`bench/run.sh`).\n")


NFS_NOTE = ("Real NFs, each against its peer in the same run: nf-router's LPM lookup with "
            "1,000,000 routes against DPDK's `dpdk-test-fib`, its Mpps and instructions per "
            "packet: [RESULTS-router.md](RESULTS-router.md) (`bench/router.py`); nf-nat with "
            "10,000 flows against nf-forward and Linux MASQUERADE, and its instructions per "
            "packet: [RESULTS-nat.md](RESULTS-nat.md) (`bench/nat.py`).  Ports (af_packet, "
            "af_xdp, tap) against DPDK's af_packet PMD and the Linux bridge: "
            "[RESULTS-ports.md](RESULTS-ports.md) (`bench/ports/run.sh`).  `bench/run.sh --all` "
            "runs them all.\n")


def fmt_ns(v):
    return "-" if v is None else f"{v / 1000:.1f} µs"


def write_results(path, res, sizes, started):
    t = res["throughput"]
    cg = res["callgrind"]
    L = []
    L.append("# NetVM benchmark results\n")
    L.append(f"Generated by `bench/run.sh{res['args']}` on {res['date']} ({(datetime.datetime.now() - started).seconds // 60} min).  ")
    L.append(f"Machine: {res['machine']}.  ")
    L.append(f"Core layout: {LAYOUT}. Frames: UDP/IPv4, 16 flows, from the in-memory `gen` port; "
             "backpressure on (no drops: the rate is what the chain sustains); NFs are `nf-forward` "
             "in adaptive idle mode.\n")
    L.append("These 2-vCPU machines are shared and noisy (±50% run to run, and single runs up to 4x "
             "apart when the host moves the vCPUs or other work shares them): absolute Mpps from "
             "different runs are not comparable. Compare only the ratios against peers measured in "
             "the same run (their spread is in the table), and the instruction counts.\n")
    L.append("## Against DPDK's shared-memory interfaces (64 B, interleaved in this run)\n")
    L.append("| comparison | DPDK peer (median Mpps) | NetVM (median Mpps) | median ratio NetVM/peer "
             "| ratios min..max | pairs (peer, ours) |")
    L.append("|---|---|---|---|---|---|")
    for name, p in res["peers"].items():
        if p:
            pairs = "; ".join(", ".join("failed" if v is None else f"{v:.3f}" for v in pair)
                              for pair in p["pairs"])
            r = [b / a for a, b in p["pairs"] if a and b is not None]
            span = f"{min(r):.2f}..{max(r):.2f}" if r else "-"
            L.append(f"| {name} | {p['peer']:.2f} | {p['ours']:.2f} | **{p['ratio']:.2f}** | {span} | {pairs} |")
        else:
            L.append(f"| {name} | failed | | | | |")
    L.append("\nPeers, DPDK 22.11 `dpdk-testpmd` in io forward mode, built by "
             "[`bench/peers.py`](peers.py) (each runs alone as `bench/peers.py memif`, `vhost`, "
             "`chain`, `chain --rsize 14`): a switch testpmd (net_null0 as the traffic source and "
             "sink, forwarding core 0) and NF testpmds (forwarding core 1), 3 s warm-up, 10 s "
             "window, the rate is the packets back at net_null0. *memif 1-hop*: switch (memif "
             "server) ↔ NF (memif client, forwards on its one port); *vhost-user 1-hop*: switch "
             "(net_vhost) ↔ NF (net_virtio_user); *memif 2-NF chain*: switch → NF1 → NF2 → switch "
             "over 3 memif links, NF1 and NF2 busy-polling on core 1. NetVM runs the same "
             "topologies: `1nf` and `chain2` below, its NFs adaptive (they sleep when idle) or "
             "busy-polling (`NETVM_IDLE=poll`) as the row says. Two busy-polling processes "
             "sharing a core each run for a scheduler time slice while the other waits, so a "
             "chain moves about one ring of packets per slice: longer rings help the peer, "
             "NetVM's adaptive NFs yield instead.\n")
    L.append("## Throughput (Mpps) by frame size\n")
    L.append("| scenario | " + " | ".join(f"{s} B" for s in sizes) + " |")
    L.append("|---|" + "---|" * len(sizes))
    for sc, vals in t.items():
        L.append(f"| {SCENARIOS[sc][2]} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    one_hop, chain2 = t["1nf"][0], t["chain2"][0]
    L.append(f"\n2-NF chain with both NFs on one core keeps **{chain2 / one_hop * 100:.0f}%** of the "
             f"1-NF rate in this run (adaptive NFs that sleep when idle). The same chain with "
             f"busy-polling NFs (`NETVM_IDLE=poll`): {res['poll_chain2']:.2f} Mpps "
             f"({res['poll_chain2'] / one_hop * 100:.0f}% of 1-NF).\n")
    L.append("![throughput](throughput.png)\n")
    L.append("## Instructions per packet (callgrind, `bench/hopcost`, 100,000 packets, 64 B)\n")
    L.append("| NFs in chain | switch (all hops) | switch per hop | NF library loop per NF | gen port (rx + tx, not the switch) |")
    L.append("|---|---|---|---|---|")
    for k, c in cg.items():
        L.append(f"| {k} | {c['switch']:.1f} | {c['switch'] / (k + 1):.1f} | "
                 f"{c['nflib']:.1f} | {c['port']:.1f} |" if k else
                 f"| {k} | {c['switch']:.1f} | {c['switch']:.1f} | - | {c['port']:.1f} |")
    marg = [cg[k + 1]["switch"] - cg[k]["switch"] for k in range(3)]
    L.append(f"\nA packet crosses the switch k+1 times in a chain of k NFs. The cost each added NF "
             f"adds to the switch: {', '.join(f'{m:.1f}' for m in marg)} instructions. The switch and NF "
             "loop run in lock step in one thread, so the counts do not depend on timing.\n")
    L.append("## Latency (gen stamp → gen sink, 64 B; median over 200 ms windows)\n")
    L.append("| load | NFs | p50 | p99 |")
    L.append("|---|---|---|---|")
    for (load, sc), (p50, p99) in res["latency"].items():
        L.append(f"| {load} | {SCENARIOS[sc][0]} | {fmt_ns(p50)} | {fmt_ns(p99)} |")
    L.append("\nPer hop: the difference between rows of the same load. At high load the rings "
             "are full (backpressure) so latency is queueing.\n")
    L.append("## Idle platform\n")
    L.append(f"netvmd + 3 NFs (adaptive), no traffic: **{res['idle_cpu']:.2f}%** of one core.\n")
    L.append("## NFs in VMs\n")
    L.append(VM_NOTE)
    L.append("## Network functions and ports\n")
    L.append(NFS_NOTE)
    L.append("## How to rerun\n")
    L.append("```sh\nbench/run.sh              # full run (~10 min): all sizes, 3 interleaved pairs per peer\n"
             "bench/run.sh --quick      # 64 B only, 1 pair per peer\n"
             "bench/bench.py --callgrind  # instruction counts only\n"
             "bench/peers.py memif       # one DPDK peer run alone (also vhost, chain, afpacket; --help)\n"
             "bench/peers.py interleave 3 memif 'bench/bench.py --one 1nf 64'   # one comparison\n"
             "bench/vm.py               # VM NF hop vs host hop (RESULTS-vm.md)\n"
             "bench/router.py           # nf-router vs dpdk-test-fib (RESULTS-router.md)\n"
             "bench/nat.py              # nf-nat vs nf-forward, MASQUERADE (RESULTS-nat.md)\n"
             "bench/ports/run.sh        # ports vs DPDK af_packet, Linux bridge (RESULTS-ports.md)\n"
             "bench/run.sh --all        # all of the above\n```")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    sys.exit(main())
