#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""nf-nat benchmark: writes bench/RESULTS-nat.md.

  bench/nat.py                  everything (~3 min): throughput pairs, callgrind, MASQUERADE
  bench/nat.py --pairs 5        more interleaved pairs
  bench/nat.py --no-masq        without the Linux MASQUERADE comparison

1. Throughput, 64 B: gen (10,000 flows, the NAT's inside) -> switch -> nf-nat
   -> switch -> gen, interleaved with the same platform running nf-forward
   instead (the in-run peer): the ratio nat/forward is the figure that
   counts on these noisy shared machines.
2. Instructions per packet of nf-nat's handler (callgrind, bench/natcost:
   the switch and the NF loop in one thread), steady state with 10,000
   mappings: the difference between a run of 250,000 and one of 50,000
   packets, so the set-up and the 10,000 mapping creations cancel out.
3. Linux MASQUERADE in a namespace router against nf-nat between the same
   veth pairs, both driven by netvm-pktgen (af_packet, 10,000 flows,
   interleaved): kernel forwarding + conntrack + nftables masquerade vs
   netvmd's af_packet ports + nf-nat.

Run as root from a clone after scripts/setup.sh (meson build in ./build).
"""
import argparse
import datetime
import json
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
import netvmtest  # noqa: E402

FLOWS = 10000
NAT_YAML = "inside: [{inside}]\noutside: [{outside}]\npublic: [{public}]\nmax_mappings: 65536\n"


def log(s):
    print(s, file=sys.stderr, flush=True)


def machine():
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} vCPUs, Linux {platform.release()}"


def gen_config(service):
    return f"""
pool: {{buffers: 16384}}
ring_size: 1024
backpressure: true
cores: {{switch: 0}}
ports:
  - {{name: gen0, type: gen, size: 64, flows: {FLOWS}, count: 0, paused: true}}
  - {{name: pub0, type: gen, paused: true}}
services: [{service}]
chains:
  default: [{service}]
"""


def gen_rate(nf, warmup=1.5, window=3.0):
    """Mpps out of gen0 with @nf ('nat' or 'fwd') as the one NF on core 1."""
    pf = netvmtest.Platform(gen_config(nf), f"bench-nat-{nf}")
    with open(pf.path("nat.yaml"), "w") as f:
        f.write(NAT_YAML.format(inside="gen0", outside="pub0", public="198.51.100.1"))
    with pf:
        argv = (("nf-nat", "--service", "nat", "--config", pf.path("nat.yaml")) if nf == "nat"
                else ("nf-forward", "--service", "fwd"))
        p = pf.start_nf(*argv, prefix=("taskset", "-c", "1"))
        pf.wait_nfs(1)
        pf.ctl("port", "start", "gen0")
        port = lambda: pf.status()["ports"][0]
        time.sleep(warmup)  # a measurement's warm-up, not a test condition
        a, ta = port()["tx"], time.monotonic()
        time.sleep(window)
        b, tb = port()["tx"], time.monotonic()
        extra = {}
        if nf == "nat":
            c = next(n for n in pf.status()["nfs"] if n["service"] == "nat")["counters"]
            extra = {"mappings": c["mappings"], "drops": sum(v for k, v in c.items()
                                                             if k.startswith("drop_"))}
        pf.stop_nf(p)
    return (b - a) / (tb - ta) / 1e6, extra


def throughput(pairs):
    rows = []
    for i in range(pairs):
        nat, extra = gen_rate("nat")
        fwd, _ = gen_rate("fwd")
        rows.append((nat, fwd, extra))
        log(f"pair {i + 1}: nf-nat {nat:.3f} Mpps, nf-forward {fwd:.3f} Mpps, {extra}")
    return rows


def callgrind_instr(build, packets, mode):
    f = f"/tmp/netvm-natcg.{os.getpid()}.{mode}.{packets}"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={f}",
                    os.path.join(build, "bench", "natcost"), str(packets), str(FLOWS), mode],
                   capture_output=True, check=True)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", f],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(f)
    total = handler = 0
    for line in ann.splitlines():
        m = re.match(r"\s*([0-9,]+) .*PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
        m = re.match(r"\s*([0-9,]+) \(\s*[0-9.]+%\)\s+\S+:nf_nat_handler\b", line)
        if m:
            handler = int(m.group(1).replace(",", ""))
    return total, handler


def callgrind(build):
    lo, hi = 50000, 250000
    t_lo, h_lo = callgrind_instr(build, lo, "nat")
    t_hi, h_hi = callgrind_instr(build, hi, "nat")
    n_lo, _ = callgrind_instr(build, lo, "none")
    n_hi, _ = callgrind_instr(build, hi, "none")
    per = lambda a, b: (b - a) / (hi - lo)
    res = {"handler": per(h_lo, h_hi), "handler_first_run": h_lo / lo,
           "whole_nat": per(t_lo, t_hi), "whole_none": per(n_lo, n_hi)}
    log(f"callgrind: {res}")
    return res


# -- Linux MASQUERADE vs nf-nat, the same veth pairs and generator ---------------------------

class Veths:
    """pktgen's two veths and their peers: gA0 (pktgen tx) <-> gA1, gB1 <-> gB0
    (pktgen rx).  gA1/gB1 stay here for netvmd, or go into a router
    namespace for Linux."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.a0, self.a1, self.b1, self.b0 = (f"gA0{tag}", f"gA1{tag}", f"gB1{tag}", f"gB0{tag}")
        self.ns = f"nvMasq{tag}"
        for x, y in ((self.a0, self.a1), (self.b0, self.b1)):
            sh("ip", "link", "add", x, "type", "veth", "peer", "name", y)
            for v in (x, y):
                sh("sysctl", "-qw", f"net.ipv6.conf.{v}.disable_ipv6=1")
                sh("ip", "link", "set", v, "up")

    def into_router(self):
        sh("ip", "netns", "add", self.ns)
        r = ("ip", "netns", "exec", self.ns)
        for v in (self.a1, self.b1):
            sh("ip", "link", "set", v, "netns", self.ns)
            sh(*r, "ip", "link", "set", v, "up")
        # pktgen's frames: 02:..:01 -> 02:..:02, 10.0.0.1 -> 10.0.0.2.
        sh(*r, "ip", "link", "set", "lo", "up")
        sh(*r, "ip", "link", "set", self.a1, "address", "02:00:00:00:00:02")
        sh(*r, "ip", "addr", "add", "10.0.0.254/24", "dev", self.a1)
        sh(*r, "ip", "addr", "add", "10.1.0.1/24", "dev", self.b1)
        sh(*r, "ip", "route", "add", "10.0.0.2/32", "via", "10.1.0.2")
        b0mac = json.loads(sh("ip", "-j", "link", "show", self.b0))[0]["address"]
        sh(*r, "ip", "neigh", "replace", "10.1.0.2", "lladdr", b0mac, "dev", self.b1, "nud",
           "permanent")
        sh(*r, "ip", "neigh", "replace", "10.0.0.1", "lladdr", "02:00:00:00:00:01", "dev",
           self.a1, "nud", "permanent")
        for k in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                  f"net.ipv4.conf.{self.a1}.rp_filter=0",
                  "net.netfilter.nf_conntrack_max=262144"):
            sh(*r, "sysctl", "-qw", k, check=False)
        nft = (f"table ip nat {{ chain post {{ type nat hook postrouting priority 100; "
               f"oifname \"{self.b1}\" masquerade; }}; }}")
        sh(*r, "nft", "-f", "-", input=nft)

    def cleanup(self):
        sh("ip", "netns", "del", self.ns, check=False)
        for v in (self.a0, self.b0):
            sh("ip", "link", "del", v, check=False)


def sh(*argv, check=True, input=None):
    r = subprocess.run(argv, capture_output=True, text=True, input=input)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return r.stdout


def pktgen(build, v, seconds=4):
    r = subprocess.run([os.path.join(build, "netvm-pktgen"), "--tx", v.a0, "--rx", v.b0,
                        "--flows", str(FLOWS), "--size", "64", "--warmup", "1", "--duration",
                        str(seconds), "--json", "-q", "--tx-core", "0", "--rx-core", "1"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise RuntimeError(f"netvm-pktgen: {r.stderr.strip()}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return res


def rx_mpps(res):
    return res["rx_mpps"]


def masq_vs_nat(build, pairs):
    rows = []
    for i in range(pairs):
        v = Veths()
        try:
            cfg = (f"pool: {{buffers: 16384}}\nports:\n"
                   f"  - {{name: pa, type: af_packet, ifname: {v.a1}, output: pb}}\n"
                   f"  - {{name: pb, type: af_packet, ifname: {v.b1}, output: pa}}\n"
                   "services: [nat]\nchains: {main: [nat]}\ndefault_chain: main\n")
            pf = netvmtest.Platform(cfg, "bench-nat-afp")
            with open(pf.path("nat.yaml"), "w") as f:
                f.write(NAT_YAML.format(inside="pa", outside="pb", public="10.1.0.1"))
            with pf:
                p = pf.start_nf("nf-nat", "--service", "nat", "--config", pf.path("nat.yaml"))
                pf.wait_nfs(1)
                ours = pktgen(build, v)
                pf.stop_nf(p)
        finally:
            v.cleanup()
        v = Veths()
        try:
            v.into_router()
            linux = pktgen(build, v)
        finally:
            v.cleanup()
        rows.append((ours, linux))
        log(f"masquerade pair {i + 1}: nf-nat {summ(ours)}; Linux {summ(linux)}")
    return rows


def summ(res):
    return (f"{rx_mpps(res):.3f} Mpps received, sent {res['sent']}, lost {res['lost']}")


def write(path, res):
    L = ["# nf-nat benchmark results\n"]
    L.append(f"Generated by `bench/nat.py` on {res['date']}.  Machine: {res['machine']}.  "
             "These 2-vCPU machines are shared and noisy: compare the ratios measured in one "
             "run and the instruction counts, not absolute rates from different runs.\n")
    rows = res["tp"]
    nat = statistics.median(r[0] for r in rows)
    fwd = statistics.median(r[1] for r in rows)
    ratio = statistics.median(r[0] / r[1] for r in rows)
    L.append("## Throughput through the platform (64 B, 10,000 flows)\n")
    L.append("gen port (the NAT's inside; UDP 10.0.0.1:1024..11023 -> 10.0.0.2:9) -> switch "
             "(core 0) -> NF (core 1, adaptive idle) -> switch -> gen sink; backpressure on. "
             "nf-nat translates every packet (10,000 mappings, source address and port "
             "rewritten, checksums updated); nf-forward passes them on untouched. Runs "
             "interleaved: nat, forward, nat, forward, ...\n")
    L.append("| run | nf-nat Mpps | nf-forward Mpps | ratio nat/forward |")
    L.append("|---|---|---|---|")
    for i, (a, b, _) in enumerate(rows):
        L.append(f"| {i + 1} | {a:.3f} | {b:.3f} | {a / b:.2f} |")
    L.append(f"| **median** | **{nat:.3f}** | **{fwd:.3f}** | **{ratio:.2f}** |\n")
    ex = rows[-1][2]
    L.append(f"nf-nat's counters at the end of its last run: mappings {ex.get('mappings')}, "
             f"drops {ex.get('drops')}.\n")
    cg = res["cg"]
    L.append("## Instructions per packet (callgrind, `bench/natcost`)\n")
    L.append("The switch and the NF loop in one thread in lock step (like `bench/hopcost`), "
             "gen port with 10,000 flows, 64 B. Steady state: (count of a 250,000-packet run "
             "- count of a 50,000-packet run) / 200,000, so start-up and the 10,000 mapping "
             "creations cancel out.\n")
    L.append("| what | instructions per packet |")
    L.append("|---|---|")
    L.append(f"| nf-nat's handler (`nf_nat_handler`, inclusive: parse, lookup, rewrite, "
             f"checksums, TCP/expiry bookkeeping), steady state | **{cg['handler']:.1f}** |")
    L.append(f"| the same over the first 50,000 packets (10,000 creations included) | "
             f"{cg['handler_first_run']:.1f} |")
    L.append(f"| whole loop (gen port + switch + NF library + handler) with nf-nat | "
             f"{cg['whole_nat']:.1f} |")
    L.append(f"| whole loop with an empty handler | {cg['whole_none']:.1f} |")
    L.append(f"| difference (what the NAT adds to a hop) | "
             f"{cg['whole_nat'] - cg['whole_none']:.1f} |\n")
    if res.get("masq"):
        m = res["masq"]
        ours = statistics.median(rx_mpps(o) for o, _ in m)
        linux = statistics.median(rx_mpps(x) for _, x in m)
        mr = statistics.median(rx_mpps(o) / rx_mpps(x) for o, x in m if rx_mpps(x) > 0)
        L.append("## Against Linux MASQUERADE (64 B, 10,000 flows, same generator and veths)\n")
        L.append("`netvm-pktgen` sends as fast as AF_PACKET lets it on veth gA0 and receives "
                 "on gB0 (sender on core 0, receiver on core 1), for 4 s after 1 s of warm-up. "
                 "In between, either netvmd with af_packet ports on the peers gA1/gB1 and "
                 "nf-nat, or a namespace router holding gA1/gB1 with `ip_forward`, conntrack and "
                 "an nftables `masquerade` rule on gB1. Both rewrite 10.0.0.1:port to the "
                 "public address 10.1.0.1 and a port of their choosing. Pairs interleaved.\n")
        L.append("| pair | nf-nat received Mpps (lost) | Linux MASQUERADE received Mpps (lost) |")
        L.append("|---|---|---|")
        for i, (o, x) in enumerate(m):
            L.append(f"| {i + 1} | {rx_mpps(o):.3f} ({o['lost']}) | {rx_mpps(x):.3f} "
                     f"({x['lost']}) |")
        L.append(f"| **median** | **{ours:.3f}** | **{linux:.3f}** |\n")
        L.append(f"Median ratio nf-nat / Linux MASQUERADE: **{mr:.2f}**. Both sides pay "
                 "AF_PACKET on veth (the generator's own cost is the same for both); the "
                 "NetVM path adds netvmd's af_packet receive and send (netvmd and nf-nat are "
                 "not pinned: they share the two cores with the generator), while the kernel "
                 "forwards in softirq, in the sending thread's own context, which also slows the "
                 "sender: hence the lost column (what the sender got out but the path could not "
                 "take). The received rate is the figure to compare.\n")
    L.append("## How to rerun\n")
    L.append("```sh\nscripts/setup.sh            # packages (valgrind, nftables ...) and ./build\n"
             "bench/nat.py                # this file (about 3 minutes)\n"
             "bench/nat.py --pairs 5 --no-masq\n"
             "valgrind --tool=callgrind build/bench/natcost 250000 10000   # by hand\n```")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--no-masq", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS-nat.md"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    os.environ["NETVM_BUILD"] = build
    netvmtest.BUILD = build
    res = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine()}
    res["tp"] = throughput(args.pairs)
    res["cg"] = callgrind(build)
    if not args.no_masq:
        res["masq"] = masq_vs_nat(build, args.pairs)
    write(args.out, res)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
