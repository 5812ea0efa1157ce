#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Soak: maximum rate through a 2-service chain (2 replicas each) while NFs
are killed (-9 or TERM) and restarted at random; at the end the counters
must reconcile (packets in = out + counted drops) and every pool be full.

  bench/soak.py [--minutes M] [--seed S]      writes bench/SOAK.md
"""
import argparse
import datetime
import os
import random
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import netvmtest  # noqa: E402

CFG = """
ring_size: 1024
ports:
  - {name: gen0, type: gen, size: 64, flows: 64, rate: 0, count: 0, paused: true}
services: [a, b]
chains:
  default: [a, b]
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--out", default=os.path.join(HERE, "SOAK.md"))
    args = ap.parse_args()
    netvmtest.BUILD = os.path.abspath(args.build)
    rnd = random.Random(args.seed)
    kills = {"KILL": 0, "TERM": 0}
    started = datetime.datetime.now()
    with netvmtest.Platform(CFG, "soak") as pf:
        nfs = {}

        def start(svc, k):
            nfs[(svc, k)] = pf.start_nf("nf-forward", "--service", svc)

        for svc in ("a", "b"):
            for k in range(2):
                start(svc, k)
        pf.wait_nfs(4)
        pf.ctl("port", "start", "gen0")
        end = time.monotonic() + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(rnd.uniform(0.2, 1.5))
            key = rnd.choice(list(nfs))
            sig = rnd.choice(["KILL", "TERM"])
            p = nfs[key]
            p.send_signal(getattr(signal, "SIG" + sig))
            p.wait(30)
            kills[sig] += 1
            start(*key)
            pf.wait_nfs(4, timeout=30)
        pf.ctl("port", "stop", "gen0")
        st = netvmtest.wait_for("the platform to drain", lambda: netvmtest.drained(pf),
                                timeout=60)
        alive = pf.daemon.poll() is None
    rx, tx, total_drops = netvmtest.accounting(st)
    drops = st["drops"]
    secs = args.minutes * 60
    ok = alive and rx == tx + total_drops and st["pool"]["free"] == st["pool"]["buffers"]
    lines = [
        "# Soak run\n",
        f"`bench/soak.py --minutes {args.minutes} --seed {args.seed}` on {started:%Y-%m-%d %H:%M}: "
        f"gen (64 B, max rate) -> a -> b (2 replicas each, adaptive), NFs killed at random "
        f"every 0.2-1.5 s and restarted.\n",
        "| figure | value |", "|---|---|",
        f"| duration | {secs:.0f} s |",
        f"| NFs killed with SIGKILL / SIGTERM | {kills['KILL']} / {kills['TERM']} |",
        f"| packets in (port rx) | {rx} ({rx / secs / 1e6:.2f} Mpps average) |",
        f"| packets out (port tx) | {tx} |",
        f"| drops by cause | {', '.join(f'{k} {v}' for k, v in drops.items() if v)} |",
        f"| in = out + drops | {'yes' if rx == tx + total_drops else 'NO'} ({rx} = {tx} + {total_drops}) |",
        f"| pool after | {st['pool']['free']} of {st['pool']['buffers']} free |",
        f"| daemon still running | {'yes' if alive else 'NO'} |",
        f"\nResult: **{'PASS' if ok else 'FAIL'}**\n",
    ]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
