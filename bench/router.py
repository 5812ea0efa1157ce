#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""nf-router's benchmark: writes bench/RESULTS-router.md.

  bench/router.py [--build build] [--pairs 3] [--seconds 5] [--out bench/RESULTS-router.md]

1. A million IPv4 routes and a million lookup addresses made by DPDK's own
   dpdk-test-fib (its default depth distribution: 2^d routes for /1../15,
   the rest spread evenly over /16../32; shuffled; addresses inside the
   routes, so in random order), dumped to files and given to both.
2. Lookups, in pairs run one after the other (the machine is shared and
   noisy: only ratios within a pair mean something): dpdk-test-fib
   (rte_fib DIR24_8, huge pages) on the files, cycles per lookup in bursts
   of 64; router-bench lookup (nf-router's table built from the same routes
   through its route-file loader, lpm_lookup4_bulk in bursts of 64), the
   same measure.  Also the time to load the million routes.
3. Mpps of gen -> switch -> nf-router -> gen (64-byte frames to random
   destinations of 0.0.0.0/1, the million routes loaded, backpressure on,
   the switch on CPU 0 and the NF on CPU 1), in pairs with nf-forward on the
   same path.
4. callgrind: instructions per packet inside nf-router's handler
   (rt_handler and all it calls: the lookup, the neighbour, the rewrite),
   the million routes loaded, 100,000 packets (router-bench handler).

Needs root (huge pages for DPDK), a build (meson/ninja), and the Debian
packages dpdk-dev and valgrind (installed if missing)."""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def log(*a):
    print("router-bench:", *a, file=sys.stderr, flush=True)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def ensure_packages():
    need = [p for p, tool in (("dpdk-dev", "dpdk-test-fib"), ("valgrind", "valgrind"))
            if not shutil.which(tool)]
    if need:
        log("installing", need)
        subprocess.run(["apt-get", "install", "-y", "-qq", *need], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def testfib(args, huge=True):
    eal = ["--in-memory"] if huge else ["--no-huge", "-m", "3500"]
    r = run(["dpdk-test-fib", *eal, "--no-pci", "--log-level=lib.eal:error", "-l", "1", "--",
             *args], timeout=900)
    if r.returncode:
        raise RuntimeError(f"dpdk-test-fib failed: {r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r.stdout


def make_routes(work, n):
    testfib(["-n", str(n), "-l", str(n), "-s", "-w", f"{work}/routes.dpdk",
             "-u", f"{work}/ips.dpdk"], huge=False)
    skip = {"100.64.0.0/24", "100.64.0.1/32", "100.64.0.255/32"}  # the interface's own routes
    depths = {}
    with open(f"{work}/routes.dpdk") as f, open(f"{work}/routes.txt", "w") as o:
        for line in f:
            p, nh = line.split()
            if p in skip:
                continue
            depths[int(p.split("/")[1])] = depths.get(int(p.split("/")[1]), 0) + 1
            o.write(f"{p} via 100.64.0.{2 + int(nh) % 16}\n")
    y = ("interfaces:\n  - {port: gen0, mac: '02:00:00:00:00:02', addresses: [100.64.0.1/24]}\n"
         "routes: routes.txt\nstatic_neighbours:\n")
    for i in range(16):
        y += f"  - {{port: gen0, ip: 100.64.0.{2 + i}, mac: '02:00:00:00:00:01'}}\n"
    with open(f"{work}/router.yaml", "w") as f:
        f.write(y)
    return depths


class Huge:
    """More 2 MiB huge pages for dpdk-test-fib, given back afterwards."""

    def __init__(self, pages):
        self.pages = pages
        self.old = None

    def __enter__(self):
        try:
            with open("/proc/sys/vm/nr_hugepages") as f:
                self.old = int(f.read())
            with open("/proc/sys/vm/nr_hugepages", "w") as f:
                f.write(str(self.old + self.pages))
        except OSError as e:
            log("cannot reserve huge pages:", e)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            with open("/proc/sys/vm/nr_hugepages", "w") as f:
                f.write(str(self.old))


def lookups(build, work, pairs):
    res = []
    with Huge(800):
        for i in range(pairs):
            out = testfib(["-f", f"{work}/routes.dpdk", "-t", f"{work}/ips.dpdk", "-g", "1048576"])
            d_lookup = float(re.search(r"AVG FIB lookup ([\d.]+)", out).group(1))
            adds = [int(x) for x in re.findall(r"AVG FIB add (\d+)", out)]
            r = run(["taskset", "-c", "1", f"{build}/router-bench", "lookup", f"{work}/router.yaml",
                     f"{work}/ips.dpdk"], timeout=600)
            if r.returncode:
                raise RuntimeError(r.stderr)
            o = json.loads(r.stdout)
            res.append({"dpdk_cycles": d_lookup, "dpdk_add_cycles": sum(adds) / len(adds),
                        **o, "ratio": o["lookup_cycles"] / d_lookup})
            log(f"lookup pair {i + 1}: dpdk-test-fib {d_lookup:.1f} cycles, nf-router "
                f"{o['lookup_cycles']:.1f} (single {o['single_lookup_cycles']:.1f}), "
                f"load {o['load_s']:.2f} s")
    return res


def status(sock, build):
    r = run([f"{build}/netvmctl", "--socket", sock, "--json", "status"], timeout=30)
    return json.loads(r.stdout) if r.returncode == 0 else None


def mpps(build, work, nf, seconds):
    d = tempfile.mkdtemp(prefix="netvm-router-bench-")
    sock = f"{d}/netvm.sock"
    with open(f"{d}/netvm.yaml", "w") as f:
        f.write(f"socket: {sock}\npool: {{buffers: 16384}}\nbackpressure: true\ncores: {{switch: 0}}\n"
                "ports:\n  - {name: gen0, type: gen, size: 64, flows: 64, dst: 0.0.0.0/1, "
                "paused: true}\nservices: [s]\nchains:\n  default: [s]\n")
    procs = []
    try:
        procs.append(subprocess.Popen([f"{build}/netvmd", "-c", f"{d}/netvm.yaml"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 20
        while not (os.path.exists(sock) and status(sock, build)):
            if time.monotonic() > deadline:
                raise RuntimeError("netvmd did not start")
            time.sleep(0.05)
        argv = ([f"{build}/nf-router", "--service", "s", "--config", f"{work}/router.yaml", "-q"]
                if nf == "router" else [f"{build}/nf-forward", "--service", "s"])
        procs.append(subprocess.Popen(["taskset", "-c", "1", *argv],
                                      env=dict(os.environ, NETVM_SOCKET=sock, NETVM_IDLE="poll"),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        run([f"{build}/netvmctl", "--socket", sock, "wait", "nfs=1"], timeout=120)
        run([f"{build}/netvmctl", "--socket", sock, "port", "start", "gen0"], timeout=30)
        time.sleep(1.0)  # warm-up: a measurement window, not a wait for a condition
        s0, t0 = status(sock, build), time.monotonic()
        time.sleep(seconds)
        s1, t1 = status(sock, build), time.monotonic()
        tx = s1["ports"][0]["tx"] - s0["ports"][0]["tx"]
        counters = next(n for n in s1["nfs"])["counters"]
        return tx / (t1 - t0) / 1e6, counters
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(d, ignore_errors=True)


def callgrind(build, work, packets=100000):
    f = f"{work}/callgrind.out"
    r = run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={f}",
             "--toggle-collect=rt_handler", f"{build}/router-bench", "handler",
             f"{work}/router.yaml", str(packets), "0.0.0.0/1"], timeout=1800)
    if r.returncode:
        raise RuntimeError(r.stderr[-3000:])
    o = json.loads(r.stdout.strip().splitlines()[-1])
    ann = run(["callgrind_annotate", "--threshold=99", f], timeout=300).stdout
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", ann).group(1).replace(",", ""))
    funcs = []
    for m in re.finditer(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+):(\w+)", ann, re.M):
        where = f"{m.group(3)} ({os.path.basename(m.group(2))})"  # inlined code: its file
        funcs.append((where, int(m.group(1).replace(",", "")) / o["packets"]))
    return total / o["packets"], funcs, o


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--routes", type=int, default=1000000)
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS-router.md"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    ensure_packages()
    r = run(["ninja", "-C", build, "router-bench", "nf-router", "nf-forward", "netvmd", "netvmctl"])
    if r.returncode:
        sys.exit(f"build failed: {r.stdout}{r.stderr}")
    work = tempfile.mkdtemp(prefix="router-bench-")
    try:
        log("routes and addresses from dpdk-test-fib")
        depths = make_routes(work, args.routes)
        lk = lookups(build, work, args.pairs)
        log("Mpps: nf-router and nf-forward, in pairs")
        rates = []
        for i in range(max(2, args.pairs - 1)):
            rr, c = mpps(build, work, "router", args.seconds)
            rf, _ = mpps(build, work, "forward", args.seconds)
            rates.append((rr, rf, c))
            log(f"pair {i + 1}: nf-router {rr:.2f} Mpps, nf-forward {rf:.2f} Mpps")
        log("callgrind (a minute or two: the million routes load under valgrind)")
        ipp, funcs, cg = callgrind(build, work)
        log(f"{ipp:.0f} instructions per packet")
        write(args, lk, rates, ipp, funcs, cg, depths)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def med(xs):
    return statistics.median(xs)


def write(args, lk, rates, ipp, funcs, cg, depths):
    hz = med([x["tsc_hz"] for x in lk])
    d_cyc, n_cyc = med([x["dpdk_cycles"] for x in lk]), med([x["lookup_cycles"] for x in lk])
    ratio = med([x["ratio"] for x in lk])
    L = ["# nf-router benchmark\n",
         f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}, "
         f"TSC {hz / 1e9:.2f} GHz.  Rerun: `sudo bench/router.py` (after `scripts/setup.sh`; "
         f"it installs dpdk-dev and valgrind if missing), {args.pairs} pairs, "
         f"{args.seconds:g} s windows.  The machine is shared with other work: only ratios "
         "measured in the same run mean something.\n",
         "## Routes\n",
         f"{args.routes:,} IPv4 routes and {lk[0]['lookups']:,} lookup addresses made by "
         "`dpdk-test-fib -n 1000000 -l 1000000 -s` (DPDK 22.11's default depth distribution: "
         "all 2^d prefixes of /1 .. /15, the rest spread evenly over /16 .. /32, so "
         f"{sum(v for k, v in depths.items() if k > 24):,} routes longer than /24 and "
         f"{lk[0]['groups']:,} second-level groups; shuffled; every address inside a route, "
         "in random order), dumped with `-w`/`-u` and given to both.  nf-router gets them as "
         "a route file (`PREFIX via GATEWAY`, 16 gateways) through its loader.\n",
         "## Lookup rate against dpdk-test-fib (same routes, same addresses, same run)\n",
         "| pair | dpdk-test-fib rte_fib DIR24_8, cycles/lookup | nf-router lpm_lookup4_bulk, cycles/lookup | ratio (nf-router / DPDK) | nf-router one at a time | nf-router load (parse + build) |",
         "|---|---|---|---|---|---|"]
    for i, x in enumerate(lk):
        L.append(f"| {i + 1} | {x['dpdk_cycles']:.1f} | {x['lookup_cycles']:.1f} | "
                 f"{x['ratio']:.2f} | {x['single_lookup_cycles']:.1f} | {x['load_s']:.2f} s |")
    L += ["",
          f"Median: DPDK {d_cyc:.1f} cycles = **{hz / d_cyc / 1e6:.0f} M lookups/s**, nf-router "
          f"{n_cyc:.1f} cycles = **{hz / n_cyc / 1e6:.0f} M lookups/s**: nf-router takes "
          f"**{ratio:.2f}x** DPDK's cycles per lookup (a rate {1 / ratio:.2f}x DPDK's).\n",
          "Both in bursts of 64 with the TSC read around each burst; DPDK's table in 2 MiB "
          "huge pages (hugetlbfs, reserved for the run and given back), nf-router's in "
          "transparent huge pages (`madvise`).  dpdk-test-fib makes one pass over the addresses "
          "right after inserting; router-bench makes a warm-up pass and reports the median of "
          "5.\n",
          "## Loading a million routes\n",
          f"nf-router, route file to table (parse, next hops, insertion shortest prefixes "
          f"first): median **{med([x['load_s'] for x in lk]):.2f} s**.  Insertion alone in the "
          f"file's (random) order: {med([x['insert_s'] for x in lk]):.2f} s, "
          f"{med([x['insert_cycles_per_route'] for x in lk]):,.0f} cycles per route; "
          f"dpdk-test-fib's `rte_fib_add` in the same order: "
          f"{med([x['dpdk_add_cycles'] for x in lk]):,.0f} cycles per route "
          f"({med([x['dpdk_add_cycles'] for x in lk]) * args.routes / hz:.1f} s).  nf-router's "
          f"tables: {lk[0]['memory_mib']:.0f} MiB.\n",
          "## Packets: gen -> switch -> NF -> gen\n",
          "64-byte frames from a gen port to random destinations of 0.0.0.0/1 (`dst: 0.0.0.0/1`; "
          "0/1 avoids multicast, which a router drops), backpressure on, switch pinned to CPU 0, "
          "the NF to CPU 1 (`NETVM_IDLE=poll`); nf-router with the million routes, every "
          "destination routed (the table has a default route) to one of 16 static "
          "neighbours; nf-forward passes packets on untouched.\n",
          "| pair | nf-router Mpps | nf-forward Mpps | ratio |", "|---|---|---|---|"]
    for i, (rr, rf, c) in enumerate(rates):
        L.append(f"| {i + 1} | {rr:.2f} | {rf:.2f} | {rr / rf:.2f} |")
    c = rates[-1][2]
    L += ["",
          f"Median: nf-router **{med([x[0] for x in rates]):.2f} Mpps**, "
          f"{med([x[0] / x[1] for x in rates]):.2f}x nf-forward's on the same path.  "
          f"Router counters of the last run: fwd_v4 {c['fwd_v4']:,}, martian_dst "
          f"{c['martian_dst']:,}, other drops "
          f"{sum(v for k, v in c.items() if k in ('no_route', 'bad_checksum', 'mcast_bcast')):,}.\n",
          "## Instructions per packet (callgrind)\n",
          f"`valgrind --tool=callgrind --toggle-collect=rt_handler router-bench handler "
          f"router.yaml 100000 0.0.0.0/1`: the switch and nf-router's handler in lock step in "
          f"one thread (as bench/hopcost.c), the million routes loaded; only what runs inside "
          f"`rt_handler` is counted (checks, the burst lookup, the neighbour, the rewrite; not "
          f"the NF library's ring handling).  {cg['packets']:,} packets, "
          f"{cg['forwarded']:,} forwarded.\n",
          f"**{ipp:.0f} instructions per packet.**\n",
          "| function (self; inlined code by its file) | instructions per packet |", "|---|---|"]
    for name, v in funcs[:8]:
        L.append(f"| `{name}` | {v:.0f} |")
    L += ["", "DPDK's own lookup is not run under callgrind here: its figure above is in cycles, "
          "measured the same way as ours.\n"]
    with open(args.out, "w") as f:
        f.write("\n".join(L) + "\n")
    log("wrote", args.out)


if __name__ == "__main__":
    main()
