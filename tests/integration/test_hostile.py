# SPDX-License-Identifier: BSD-3-Clause
"""A hostile NF in a chain with well-behaved ones: it writes a million random
descriptors into its tx ring and scribbles on its ring indices while real
traffic flows.  The daemon must count every invalid descriptor, keep the
other NFs forwarding, and lose no buffer."""
import json
import os

from netvmtest import Platform, accounting, check, wait_for

N = int(os.environ.get("NETVM_HOSTILE_N", "1000000"))

CFG = """
ring_size: 1024
pool: {buffers: 8192}
ports:
  - {name: gen0, type: gen, size: 64, flows: 64, rate: 100000, count: 3000000, paused: true}
services: [fw, bad, fwd]
chains:
  main: [fw, bad, fwd]
default_chain: main
"""


def nf_of(st, service):
    nfs = [n for n in st["nfs"] if n["service"] == service and n["state"] == "running"]
    return nfs[0] if nfs else None


def hostile_report(p):
    """The hostile NF's JSON line once it has written everything, else None."""
    p.out.flush()
    with open(p.out.name) as f:
        for line in f:
            if line.startswith("{"):
                return json.loads(line)
    check(p.poll() is None, f"nf-hostile exited early ({p.returncode})")
    return None


def test_hostile_nf_is_contained():
    """Every invalid descriptor is counted, others keep forwarding, no buffer is lost."""
    with Platform(CFG, "hostile") as pf:
        pf.start_nf("nf-forward", "--service", "fw")
        pf.start_nf("nf-forward", "--service", "fwd")
        pf.wait_nfs(2)
        pf.ctl("port", "start", "gen0")
        wait_for("traffic through the chain's first NF",
                 lambda: (nf_of(pf.status(), "fw") or {}).get("rx", 0) > 1000)
        bad = pf.start_nf("nf-hostile", "--count", str(N), "--seed", "42", "bad")
        wait_for("the hostile NF to attach", lambda: nf_of(pf.status(), "bad"))
        # Well-behaved NFs keep forwarding while the garbage comes in.
        st0 = pf.status()
        fwd0 = nf_of(st0, "fwd")["tx"]
        # (Unless the garbage is over first: a fast machine and a small N.)
        wait_for("the NF after the hostile one to keep forwarding",
                 lambda: nf_of(pf.status(), "fwd")["tx"] > fwd0 + 1000 or hostile_report(bad))
        during = hostile_report(bad) is None
        fw0 = nf_of(pf.status(), "fw")["tx"]
        wait_for("the NF before the hostile one to keep forwarding",
                 lambda: nf_of(pf.status(), "fw")["tx"] > fw0 + 1000)
        rep = wait_for("the hostile NF to write its descriptors", lambda: hostile_report(bad),
                       timeout=600)
        check(rep["written"] == N, f"wrote {rep['written']} of {N}")
        # Take it out of the chain (it no longer reads its rx ring) and let
        # what is in flight settle: then its counters are final.
        pf.ctl("chain", "set", "main", "fw,fwd")
        check(pf.daemon.poll() is None, "netvmd died")
        st = pf.status()
        h = nf_of(st, "bad")
        certain, maybe = rep["certain_invalid"], rep["maybe_invalid"]
        g = st["drops"]["bad_desc"]  # invalid descriptors naming buffers it held
        # Every descriptor it wrote was read exactly once: the NF's tx counts
        # every descriptor the switch took back, valid or not.
        read = h["tx"]
        check(read == N + rep["returned"],
              f"switch read {read} descriptors, NF wrote {N + rep['returned']}: {h} {rep}")
        check(h["bad_desc"] >= certain,
              f"NF bad_desc {h['bad_desc']} < {certain} certainly invalid: {rep}")
        # Those that named a buffer it held were dropped as bad_desc: a subset.
        check(g <= h["bad_desc"] <= N, f"bad_desc {h['bad_desc']}, drops.bad_desc {g}")
        for svc in ("fw", "fwd"):
            check(nf_of(st, svc)["bad_desc"] == 0, f"{svc} has bad descriptors: {st['nfs']}")
        fwd0 = nf_of(st, "fwd")["tx"]
        wait_for("the chain without it to forward",
                 lambda: nf_of(pf.status(), "fwd")["tx"] > fwd0 + 1000)
        # The hostile NF leaves, traffic stops: every buffer is back, every packet counted.
        pf.stop_nf(bad)
        wait_for("the hostile NF to be reaped", lambda: nf_of(pf.status(), "bad") is None)
        fwd1 = nf_of(pf.status(), "fwd")["tx"]
        pf.ctl("port", "stop", "gen0")
        st = wait_for("the pool to be full again",
                      lambda: (lambda s: s if s["pool"]["free"] == s["pool"]["buffers"] else None)(
                          pf.status()))
        rx, tx, drops = accounting(st)
        check(rx == tx + drops, f"accounting: rx {rx} != tx {tx} + drops {drops} ({st['drops']})")
        check(nf_of(st, "fwd")["tx"] >= fwd1, "fwd went backwards")
        log = pf.stop()
    check("runtime error" not in log and "AddressSanitizer" not in log, log[-2000:])
    return (f"{N} written + {rep['returned']} returned ({rep['scribbles']} index scribbles), all "
            f"read once; certainly invalid {certain} (+{maybe} maybe), NF bad_desc "
            f"{h['bad_desc']}, drops.bad_desc {g}; forwarding checked "
            f"{'during' if during else 'after'} the garbage; pool {st['pool']['free']}/"
            f"{st['pool']['buffers']}; rx {rx} = tx {tx} + drops {drops}")
