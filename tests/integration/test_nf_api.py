# SPDX-License-Identifier: BSD-3-Clause
"""The NF toolkit with real processes (tests/tools/nf_api.c): packets made in
an NF's stock (copies that keep their place, new ones with none), several
outputs from one input, headroom used across hops, the ingress port, the
flow hash, timers that run with no traffic, and NF counters in the status."""
import os
import signal
import subprocess

from scapy.all import IP, TCP, UDP, Ether, Raw

from netvmtest import (Platform, accounting, binary, check, cpu_share, drained, wait_for)
from test_platform import write_frames

CFG = """
ports:
  - {name: in0, type: pcap, read: in.pcap, write: out.pcap, paused: true}
  - {name: mir0, type: pcap, write: mirror.pcap}
services: [a, b]
chains:
  default: [a, b]
"""


def frames(n=100):
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    out = []
    for i in range(n):
        l4 = TCP(sport=1000 + i, dport=80) if i % 2 else UDP(sport=1000 + i, dport=53)
        out.append(bytes(e / IP(src=f"10.0.{i % 7}.1", dst="10.1.0.1") / l4 / Raw(b"x" * (i % 90))))
    return out


def pcapcmp(a, b):
    r = subprocess.run([binary("pcapcmp"), a, b], capture_output=True, text=True)
    check(r.returncode == 0, f"pcapcmp {a} {b}: {r.stdout}{r.stderr}")
    return r.stdout.strip()


def nf_by(st, service):
    return next(n for n in st["nfs"] if n["service"] == service)


def test_copies_and_headroom():
    """a copies each packet out of port mir0 and pushes an 8-byte header in
    its headroom; b checks and strips it: both outputs are the input, byte
    for byte."""
    pf = Platform(CFG, "nfapi")
    write_frames(pf.path("in.pcap"), frames())
    with pf:
        a = pf.start_nf("nf-api", "a", "--mirror", "mir0", "--push", "8", "--stock", "64",
                        name="a")
        b = pf.start_nf("nf-api", "b", "--pull", "8", name="b")
        pf.wait_nfs(2)
        wait_for("a's stock", lambda: nf_by(pf.status(), "a")["stock"] == 64)
        pf.ctl("port", "start", "in0")
        st = wait_for("the pcap through a (copies) -> b", lambda: drained(pf))
        ca, cb = nf_by(st, "a")["counters"], nf_by(st, "b")["counters"]
        rx, tx, drops = accounting(st)
        nfs_text = pf.ctl("nfs").stdout
        pf.stop_nf(a)
        pf.stop_nf(b)
        st = wait_for("the stock back in the pool", lambda: (
            s := pf.status())["pool"]["free"] == s["pool"]["buffers"] and s)
        pf.stop()
        same = pcapcmp(pf.path("in.pcap"), pf.path("out.pcap"))
        pcapcmp(pf.path("in.pcap"), pf.path("mirror.pcap"))
    check(ca["seen"] == 100 and ca["copies"] == 100 and ca["no_stock"] == 0, f"a: {ca}")
    check(ca["bad_hash"] == 0, f"a saw stale flow hashes: {ca}")
    check(cb["seen"] == 100 and cb["bad_push"] == 0, f"b: {cb}")
    check(rx == 100 and tx == 200 and drops == 0, f"rx {rx} tx {tx} drops {drops}")
    check("copies=100" in nfs_text, f"netvmctl nfs shows no counters:\n{nfs_text}")
    check(st["drops"]["nf_gone"] == 0, f"an unused stock counted as lost: {st['drops']}")
    return (f"100 in: out.pcap and mirror.pcap both {same}; 8-byte header pushed by a, "
            "stripped by b; stock of 64 back in the pool at detach, none counted lost")


def test_new_packets_without_origin():
    """Packets made with no origin go where they are sent (a port)."""
    cfg = CFG.replace("mirror.pcap", "made.pcap")
    pf = Platform(cfg, "nfapi-make")
    write_frames(pf.path("in.pcap"), frames(50))
    with pf:
        pf.start_nf("nf-api", "a", "--make", "mir0", "--stock", "16", name="a")
        pf.start_nf("nf-forward", "--service", "b")
        pf.wait_nfs(2)
        pf.ctl("port", "start", "in0")
        st = wait_for("the pcap through a -> b", lambda: drained(pf))
        ca = nf_by(st, "a")["counters"]
        rx, tx, drops = accounting(st)
        pf.stop()
        with open(pf.path("made.pcap"), "rb") as f:
            made = f.read()
    check(ca["made"] + ca["no_stock"] == 50 and ca["made"] > 0, f"a: {ca}")
    check(rx == 50 and tx == 50 + ca["made"] and drops == 0, f"rx {rx} tx {tx} {st['drops']}")
    check(len(made) == 24 + ca["made"] * (16 + 60), f"made.pcap is {len(made)} bytes")
    return f"50 in, 50 through the chain and {ca['made']} made with no origin out of port mir0"


def test_timer_runs_without_traffic():
    """A timer every 20 ms runs with no traffic at all, and the NF sleeps
    between its ticks instead of polling."""
    with Platform("services: [a]\n", "nfapi-timer") as pf:
        a = pf.start_nf("nf-api", "a", "--tick", "20", name="a")
        pf.wait_nfs(1)
        t0 = wait_for("its counters", lambda: nf_by(pf.status(), "a")["counters"].get("ticks"))
        wait_for("ten ticks", lambda: nf_by(pf.status(), "a")["counters"]["ticks"] >= t0 + 10,
                 timeout=10)
        share = cpu_share([a.pid], 1.0)
        ticks = nf_by(pf.status(), "a")["counters"]["ticks"]
    check(share < 0.05, f"the NF used {share:.0%} of a core between ticks")
    return f"{ticks} ticks of 20 ms with no traffic; the NF used {share * 100:.1f}% of a core"


def test_stock_of_a_killed_nf():
    """kill -9 of an NF with a stock: every buffer comes back, none of the
    stock is counted as a lost packet; an impossible stock is refused."""
    with Platform("pool: {buffers: 1024}\nring_size: 256\nservices: [a]\n", "nfapi-kill") as pf:
        a = pf.start_nf("nf-api", "a", "--stock", "200", name="a")
        pf.wait_nfs(1)
        wait_for("the stock", lambda: nf_by(pf.status(), "a")["stock"] == 200)
        check(pf.status()["pool"]["free"] == 1024 - 200, "the stock is not out of the pool")
        a.send_signal(signal.SIGKILL)
        a.wait()
        st = wait_for("the pool full again", lambda: (
            s := pf.status())["pool"]["free"] == 1024 and not s["nfs"] and s)
        check(sum(st["drops"].values()) == 0, f"drops {st['drops']}")
        r = subprocess.run([binary("nf-api"), "a", "--stock", "300"], env=pf.env,
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 1 and "stock must be an integer 0..255" in r.stderr, r.stderr)
    return "stock of 200 back after kill -9, 0 drops; stock 300 refused (at most 255 here)"
