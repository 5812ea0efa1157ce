# SPDX-License-Identifier: BSD-3-Clause
"""Security domains: untrusted NFs run as another user, get a region of their
own and only copies of packets; they cannot reach the trusted region, and
garbage they write cannot touch other domains' packets or stop the daemon."""
import glob
import os
import subprocess

from scapy.all import IP, UDP, Ether, Raw
from scapy.utils import RawPcapWriter

from netvmtest import Platform, TestFailure, binary, check, drained, require, wait_for

AS_NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")

CFG = """
socket_group: nogroup
backpressure: true
ports:
  - {name: in0, type: pcap, read: in.pcap, write: out.pcap, paused: true}
services:
  - t
  - {name: u, domain: sandbox, users: [nobody]}
  - {name: x, domain: jail, users: [nobody], bad_desc_limit: 1000}
  - {name: y, domain: jail, users: [nobody]}
chains:
  default: [%s]
"""


def write_input(pf, n=2000):
    require(os.geteuid() == 0, "running NFs as another user (setpriv) needs root")
    frames = [bytes(Ether() / IP(src=f"10.0.{i // 250}.{i % 250}", dst="10.9.9.9") /
                    UDP(sport=1000 + i % 50, dport=53) / Raw(bytes([i % 256]) * (i % 300)))
              for i in range(n)]
    w = RawPcapWriter(pf.path("in.pcap"), linktype=1)
    for f in frames:
        w.write(f)
    w.close()
    os.chmod(pf.dir, 0o750)  # the socket's directory: group nogroup may enter


def region_inodes(pid):
    """Inodes of the NetVM regions a process has mapped."""
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[4] for line in f if "netvm-region" in line}


def pcapcmp(pf):
    r = subprocess.run([binary("pcapcmp"), pf.path("in.pcap"), pf.path("out.pcap")],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"output differs from input: {r.stdout}{r.stderr}")
    return r.stdout.strip()


def test_untrusted_nf_gets_its_own_region_and_copies():
    pf = Platform(CFG % "t, u", "domains")
    write_input(pf)
    with pf:
        t = pf.start_nf("nf-forward", "--service", "t")
        u = pf.start_nf("nf-forward", "--service", "u", prefix=AS_NOBODY)
        pf.wait_nfs(2)
        # nobody may not join the trusted domain
        r = subprocess.run([*AS_NOBODY, binary("nf-forward"), "--service", "t"], env=pf.env,
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 1 and "may not attach" in r.stderr, f"attach as t: {r.stderr}")
        # nor open the daemon's or the trusted NF's region fds
        for pid in (pf.daemon.pid, t.pid):
            fds = glob.glob(f"/proc/{pid}/fd/*")
            probe = subprocess.run([*AS_NOBODY, "/usr/bin/python3", "-c", f"""
import glob, sys
ok = 0
for p in {fds!r}:
    try:
        open(p, "rb")
        ok += 1
    except OSError:
        pass
sys.exit(ok)
"""], capture_output=True)
            check(probe.returncode == 0, f"nobody opened {probe.returncode} fds of pid {pid}")
        # the untrusted NF maps only its own region, none of the trusted one
        ti, ui = region_inodes(t.pid), region_inodes(u.pid)
        check(ti and ui and not ti & ui, f"trusted regions {ti}, untrusted {ui}")
        pf.ctl("port", "start", "in0")
        st = wait_for("all packets through t -> u (copied) -> out", lambda: drained(pf))
        check(st["ports"][0]["tx"] == 2000, f"tx {st['ports'][0]['tx']}")
        check(st["domains"] and st["domains"][0]["name"] == "sandbox", f"domains {st['domains']}")
        pf.stop_nf(u)
        pf.stop_nf(t)
        pf.stop()
        same = pcapcmp(pf)
    return f"nobody refused as trusted, 0 fds openable, disjoint regions; {same} after copies"


def test_scribbling_untrusted_nf_cannot_touch_trusted_packets():
    pf = Platform(CFG % "t", "scribble")
    write_input(pf)
    with pf:
        t = pf.start_nf("nf-forward", "--service", "t")
        pf.wait_nfs(1)
        x = pf.start_nf("nf-scribble", "x", "3", prefix=AS_NOBODY)
        # garbage descriptors are counted and, past the limit, the NF is cut off
        wait_for("the scribbler to be cut off", lambda: "cut off" in pf.log(), timeout=30)
        # it keeps scribbling over its own region while trusted traffic flows
        pf.ctl("port", "start", "in0")
        wait_for("the pcap through the trusted chain", lambda: drained(pf), timeout=60)
        x.wait(30)
        st = wait_for("every buffer back, in both domains", lambda: drained(pf))
        check(pf.daemon.poll() is None, "netvmd died")
        pf.stop_nf(t)
        log = pf.stop()
        same = pcapcmp(pf)
    check("cut off" in log, "the scribbler was not cut off after 1000 bad descriptors")
    return f"{same} while nf-scribble wrote garbage over its region; it was cut off; pools full"


def test_scribbled_header_then_attach():
    """An NF garbles its domain's region header and directory (ring offsets,
    strides, names) and stays attached; a newcomer to that domain attaches
    and forwards: the daemon and the library use only their private copies
    of the layout, and the daemon writes the header back for the newcomer."""
    pf = Platform(CFG % "t, y", "header")
    write_input(pf)
    with pf:
        t = pf.start_nf("nf-forward", "--service", "t")
        pf.wait_nfs(1)
        x = pf.start_nf("nf-scribble", "x", "60", "header", prefix=AS_NOBODY)
        wait_for("the scribbler to garble its header",
                 lambda: "garbled" in open(x.out.name).read() or x.poll() is not None)
        check(x.poll() is None, f"nf-scribble exited: {open(x.out.name).read()}")
        y = pf.start_nf("nf-forward", "--service", "y", prefix=AS_NOBODY)
        pf.wait_nfs(3)
        pf.ctl("port", "start", "in0")
        wait_for("the pcap through t -> y (in the garbled domain)", lambda: drained(pf),
                 timeout=60)
        check(pf.daemon.poll() is None, "netvmd died")
        check(x.poll() is None, "the scribbler was cut off or died")
        x.kill()
        x.wait()
        st = wait_for("every buffer back, in both domains", lambda: drained(pf))
        check(st["ports"][0]["tx"] == 2000, f"tx {st['ports'][0]['tx']}")
        pf.stop_nf(y)
        pf.stop_nf(t)
        pf.stop()
        same = pcapcmp(pf)
    return f"a newcomer attached to the garbled domain and forwarded: {same}; pools full"
