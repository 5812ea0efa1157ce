# SPDX-License-Identifier: BSD-3-Clause
"""Shared-core mode: NFs and the switch sleep when idle and are woken by the
producer; nothing is lost on the way, and backpressure holds input back
instead of dropping."""
import os
import time

from netvmtest import Platform, TestFailure, accounting, check, cpu_share, drained, wait_for

CHAIN_CFG = """
ring_size: {ring}
backpressure: {bp}
ports:
  - {{name: gen0, type: gen, size: 64, flows: 8, rate: {rate}, count: {count}, paused: true}}
services: [a, b]
chains:
  default: [a, b]
"""


def run_chain(idle, count, rate, bp):
    with Platform(CHAIN_CFG.format(ring=256, bp=bp, rate=rate, count=count), f"idle-{idle}") as pf:
        for svc in ("a", "b"):
            pf.start_nf("nf-forward", "--service", svc, env={"NETVM_IDLE": idle})
        pf.wait_nfs(2)
        pf.ctl("port", "start", "gen0")
        st = wait_for("every packet through the chain", lambda: drained(pf), timeout=120)
        return st


def test_sleeping_nfs_lose_nothing():
    """NFs that sleep whenever their ring is empty get every packet (no lost wakeup)."""
    st = run_chain("sleep", count=200000, rate=100000, bp="true")
    rx, tx, drops = accounting(st)
    check(rx == 200000 and tx == 200000 and drops == 0,
          f"rx {rx} tx {tx} drops {st['drops']}")
    return f"200000 packets at 100 kpps through 2 sleeping NFs: all delivered"


def test_backpressure_holds_input_instead_of_dropping():
    """An unlimited generator into a 2-NF chain with small rings: nothing dropped."""
    st = run_chain("adaptive", count=500000, rate=0, bp="true")
    rx, tx, drops = accounting(st)
    check(rx == 500000 and tx == 500000 and drops == 0,
          f"rx {rx} tx {tx} drops {st['drops']}")
    return "500000 packets at full speed, rings of 256: 0 drops"


def test_idle_platform_sleeps():
    """With no traffic, the switch and three adaptive NFs go to sleep."""
    cfg = CHAIN_CFG.format(ring=1024, bp="false", rate=0, count=0).replace("[a, b]\n", "[a, b, c]\n", 1)
    with Platform(cfg, "idle-cpu") as pf:
        nfs = [pf.start_nf("nf-forward", "--service", s) for s in ("a", "b", "c")]
        pf.wait_nfs(3)
        share = cpu_share([pf.daemon.pid] + [p.pid for p in nfs], 2.0)
        # Busy polling would use 4 cores' worth here; sleeping uses almost nothing.
        check(share < 0.5, f"idle platform used {share * 100:.1f}% of a core")
    return f"idle daemon + 3 NFs used {share * 100:.2f}% of one core"


def test_switch_sleeps_with_live_ports():
    """A live but idle tap port: after a pause the switch sleeps until the
    port watcher sees the tap readable, then every frame still gets through
    (each one sent after a pause long enough for the deep sleep)."""
    import socket
    ifname = f"nvw{os.getpid() % 10000}"
    cfg = f"ports:\n  - {{name: t0, type: tap, ifname: {ifname}}}\nservices: [a]\n"
    with Platform(cfg, "idle-port") as pf:
        # The kernel's own IPv6 chatter on a new interface would wake it.
        with open(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6", "w") as f:
            f.write("1")
        # Deep sleep, not naps: napping would count thousands a second.
        wait_for("the switch in deep sleep",
                 lambda: pf.status()["switch"]["sleeps"] > 0, timeout=10)
        sw0 = pf.status()["switch"]
        share = cpu_share([pf.daemon.pid], 2.0)
        sw1 = pf.status()["switch"]
        naps = sw1["naps"] - sw0["naps"]
        # A stray frame wakes it for ~60 ms of naps (256): allow a few.
        check(naps < 1000, f"the switch napped {naps} times in 2 s idle ({sw1})")
        # Frames written to the interface reach the tap fd: the watcher must
        # wake the switch for each, and they come back out of the same port.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
        s.bind((ifname, 0))
        s.settimeout(5)  # bounds each wait below
        for i in range(5):
            pause = time.monotonic()
            wait_for("a pause longer than the switch's naps",
                     lambda: time.monotonic() - pause >= 0.2, timeout=5)
            frame = bytes.fromhex("02000000000202000000000188b5") + b"portwatch %d" % i * 4
            s.send(frame)
            while True:  # our own copy (outgoing) first, then the one the switch sent back
                try:
                    data, addr = s.recvfrom(2048)
                except socket.timeout:
                    raise TestFailure(f"frame {i + 1} did not come back through the switch")
                if data == frame and addr[2] != socket.PACKET_OUTGOING:
                    break
        s.close()
    return (f"idle with a live tap port: {naps} naps, {sw1['sleeps'] - sw0['sleeps']} sleeps in 2 s, "
            f"netvmd {share * 100:.2f}% of a core; 5 frames after pauses: all through")
