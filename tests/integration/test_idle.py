# SPDX-License-Identifier: BSD-3-Clause
"""Shared-core mode: NFs and the switch sleep when idle and are woken by the
producer; nothing is lost on the way, and backpressure holds input back
instead of dropping."""
import time

from netvmtest import Platform, accounting, check, cpu_seconds, drained, wait_for

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
        pids = [pf.daemon.pid] + [p.pid for p in nfs]
        before = sum(cpu_seconds(p) for p in pids)
        t0 = time.monotonic()
        wait_for("two seconds of idle time", lambda: time.monotonic() - t0 >= 2.0, timeout=10)
        used = sum(cpu_seconds(p) for p in pids) - before
        share = used / (time.monotonic() - t0)
        # Busy polling would use 4 cores' worth here; sleeping uses almost nothing.
        check(share < 0.5, f"idle platform used {share * 100:.1f}% of a core")
    return f"idle daemon + 3 NFs used {share * 100:.2f}% of one core"
