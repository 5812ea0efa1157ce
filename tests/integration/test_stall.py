# SPDX-License-Identifier: BSD-3-Clause
"""A hung NF must not stop the platform: with backpressure on, an NF whose
ring stays full without progress for nf_stall_ms is marked stalled, the
switch stops holding the ports for it and drops its packets (nf_stalled),
and it is back to running as soon as it takes packets again."""
import signal
import time

from netvmtest import Platform, accounting, check, drained, wait_for

CFG = """
backpressure: true
ring_size: 256
pool: {buffers: 4096}
ports:
  - {name: gen0, type: gen, size: 64, flows: 16, rate: 100000, paused: true}
services: [a, b]
chains:
  ca: [a]
  cb: [b]
default_chain: cb
rules:
  - {match: {proto: udp, sport: 1024-1031}, chain: ca}
"""


def nf_of(pf, service):
    return next(n for n in pf.status()["nfs"] if n["service"] == service)


def rate_of(pf, service, seconds):
    """Packets per second service's NF received over the next @seconds."""
    t0, rx0 = time.monotonic(), nf_of(pf, service)["rx"]
    deadline = t0 + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)  # sampling period of a measurement, not a wait for a condition
    t1, rx1 = time.monotonic(), nf_of(pf, service)["rx"]
    return (rx1 - rx0) / (t1 - t0)


def test_stopped_nf_does_not_stop_other_chains():
    with Platform(CFG, "stall") as pf:
        a = pf.start_nf("nf-forward", "--service", "a")
        pf.start_nf("nf-forward", "--service", "b")
        pf.wait_nfs(2)
        pf.ctl("port", "start", "gen0")
        wait_for("traffic on both chains", lambda: all(n["rx"] > 5000 for n in pf.running_nfs()))
        before = rate_of(pf, "b", 2.0)

        a.send_signal(signal.SIGSTOP)
        try:
            during = rate_of(pf, "b", 3.0)  # from the stop on: detection included
            check(nf_of(pf, "a")["state"] == "stalled", f"a is {nf_of(pf, 'a')['state']}")
            check("stalled" in pf.log(), "no log line says the NF stalled")
            stalled_drops = pf.status()["drops"]["nf_stalled"]
            check(stalled_drops > 0, "no packet counted as nf_stalled")
        finally:
            a.send_signal(signal.SIGCONT)
        wait_for("a to run again", lambda: nf_of(pf, "a")["state"] == "running", timeout=10)
        rx_a = nf_of(pf, "a")["rx"]
        wait_for("a to take packets again", lambda: nf_of(pf, "a")["rx"] > rx_a + 1000)

        pf.ctl("port", "stop", "gen0")
        st = wait_for("every buffer back in the pool", lambda: drained(pf))
        rx, tx, drops = accounting(st)
        check(rx == tx + drops, f"accounting: rx {rx} != tx {tx} + drops {drops} {st['drops']}")
        check(pf.daemon.poll() is None, "netvmd died")
    check(during >= 0.9 * before, f"chain cb fell from {before:.0f} to {during:.0f} pkt/s "
                                  "while a was stopped")
    return (f"chain cb {before:.0f} -> {during:.0f} pkt/s ({100 * during / before:.0f}%) while "
            f"a was stopped; a stalled then running again; nf_stalled {stalled_drops}; "
            f"rx {rx} = tx {tx} + drops {drops}; pool full")
