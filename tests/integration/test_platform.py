# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of the core platform with real processes: netvmd, NFs,
netvmctl, libpcap (pcapcmp) and tshark."""
import json
import os
import re
import signal
import socket
import subprocess
import time

from scapy.all import ARP, Dot1Q, Ether, ICMP, IP, IPv6, TCP, UDP, Raw
from scapy.utils import RawPcapWriter

from netvmtest import Platform, TestFailure, accounting, binary, check, drained, wait_for

FW_RULES = """\
# the firewall of the pcap test
deny  proto=tcp dport=22
deny  src=192.168.0.0/16
allow proto=udp dport=1000-2000
deny  proto=udp
default allow
"""


def pcap_packets():
    """(frame, allowed by FW_RULES) pairs covering the parsers' cases."""
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    pkts = []
    for i in range(60):
        pkts.append((e / IP(src=f"10.0.0.{i}", dst="10.1.0.1") / UDP(sport=5000 + i, dport=1000 + i * 20)
                     / Raw(bytes(range(i % 50))), 1000 + i * 20 <= 2000))
    for i in range(20):
        pkts.append((e / IP(src="10.0.0.9", dst="10.1.0.2") / TCP(sport=40000 + i, dport=22 if i % 2 else 80)
                     / Raw(b"x" * i), i % 2 == 0))
    for i in range(10):
        pkts.append((e / IP(src=f"192.168.{i}.1", dst="10.1.0.3") / TCP(dport=443), False))
    pkts.append((e / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=1, dport=1500) / Raw(b"v6"), True))
    pkts.append((e / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=1, dport=53), False))
    pkts.append((e / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=1, dport=22), False))
    pkts.append((e / Dot1Q(vlan=7) / IP(src="10.0.0.1", dst="10.1.0.1") / UDP(dport=1200), True))
    pkts.append((e / Dot1Q(vlan=7) / Dot1Q(vlan=8) / IP(src="192.168.1.1") / UDP(dport=1200), False))
    pkts.append((e / IP(src="10.0.0.1", dst="10.1.0.1") / ICMP(), True))
    pkts.append((e / ARP(), True))  # not IP: default policy
    # Malformed: IP total length beyond the frame, and a frame cut inside the
    # IP header: the malformed policy (deny by default, test_evasion.py).
    bad_len = bytearray(bytes(e / IP(src="192.168.0.1", dst="10.1.0.1") / UDP(dport=9)))
    bad_len[16:18] = (1000).to_bytes(2, "big")
    pkts.append((bytes(bad_len), False))
    pkts.append((bytes(e / IP(src="192.168.0.1") / UDP(dport=9))[:20], False))
    return [(bytes(p), ok) for p, ok in pkts]


def write_frames(path, frames):
    """Write raw frames (malformed ones too) to a pcap file."""
    w = RawPcapWriter(path, linktype=1)
    for f in frames:
        w.write(f)
    w.close()


def tshark_frames(path):
    r = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.len", "-e", "eth.type"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"tshark failed: {r.stderr}")
    return [line for line in r.stdout.splitlines() if line]


def test_pcap_firewall_chain():
    """pcap in -> netvmd -> nf-firewall -> nf-forward -> pcap out, byte for byte."""
    pkts = pcap_packets()
    cfg = """
ports:
  - {name: in0, type: pcap, read: in.pcap, write: out.pcap, paused: true}
services: [fw, fwd]
chains:
  main: [fw, fwd]
"""
    # The input must exist before the daemon starts: it opens it at start-up.
    pf = Platform(cfg, "pcap")
    write_frames(pf.path("in.pcap"), [p for p, _ in pkts])
    expected = [p for p, ok in pkts if ok]
    write_frames(pf.path("expected.pcap"), expected)
    with open(pf.path("rules.txt"), "w") as f:
        f.write(FW_RULES)
    with pf:
        fw = pf.start_nf("nf-firewall", "--service", "fw", "--rules", pf.path("rules.txt"))
        fwd = pf.start_nf("nf-forward", "--service", "fwd")
        pf.wait_nfs(2)
        pf.ctl("chain", "default", "main")
        pf.ctl("port", "start", "in0")
        st = wait_for("the pcap to be read and every buffer back", lambda: drained(pf))
        rx, tx, drops = accounting(st)
        check(rx == len(pkts), f"port received {rx} of {len(pkts)} packets")
        check(tx == len(expected), f"{tx} packets left, expected {len(expected)}")
        check(st["drops"]["nf_drop"] == len(pkts) - len(expected),
              f"firewall drops {st['drops']['nf_drop']}, expected {len(pkts) - len(expected)}")
        check(drops == st["drops"]["nf_drop"], f"unexpected drops: {st['drops']}")
        fw_out = pf.stop_nf(fw)
        pf.stop_nf(fwd)
        pf.stop()  # flushes out.pcap
        r = subprocess.run([binary("pcapcmp"), pf.path("expected.pcap"), pf.path("out.pcap")],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"pcapcmp: {r.stdout}{r.stderr}")
        got, want = tshark_frames(pf.path("out.pcap")), tshark_frames(pf.path("expected.pcap"))
        check(got == want, f"tshark sees {len(got)} frames, expected {len(want)}")
    check("deny" in fw_out and "hits" in fw_out, f"firewall printed no rule table: {fw_out}")
    return f"{len(pkts)} in, {len(expected)} out byte-identical (pcapcmp, tshark {len(got)} frames)"


def test_runts_are_dropped_at_the_port():
    """Frames shorter than an Ethernet header (a 0-byte pcap record among
    them) are dropped by the port and counted there: no NF is handed one,
    so none is charged a bad descriptor (bad_desc_limit: 1 would cut it)."""
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    good = [bytes(e)[:14], bytes(e / IP(dst="10.1.0.1") / UDP(dport=9))]
    runts = [b"", b"\x02", bytes(e)[:13]]
    cfg = """
ports:
  - {name: in0, type: pcap, read: in.pcap, write: out.pcap, paused: true}
services:
  - {name: fwd, bad_desc_limit: 1}
chains:
  main: [fwd]
"""
    pf = Platform(cfg, "runts")
    write_frames(pf.path("in.pcap"), [runts[0], good[0], runts[1], runts[2], good[1]])
    write_frames(pf.path("expected.pcap"), good)
    with pf:
        fwd = pf.start_nf("nf-forward", "--service", "fwd")
        pf.wait_nfs(1)
        pf.ctl("port", "start", "in0")
        st = wait_for("the pcap to be read and every buffer back", lambda: drained(pf))
        port, nf = st["ports"][0], st["nfs"][0]
        check(port["rx_runt"] == 3, f"rx_runt {port['rx_runt']}, expected 3")
        check(port["rx"] == 2 and port["tx"] == 2, f"rx {port['rx']} tx {port['tx']}")
        check(nf["bad_desc"] == 0 and nf["state"] == "running", f"NF charged: {nf}")
        check(st["drops"]["bad_desc"] == 0, f"drops {st['drops']}")
        pf.stop_nf(fwd)
        pf.stop()
        r = subprocess.run([binary("pcapcmp"), pf.path("expected.pcap"), pf.path("out.pcap")],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"pcapcmp: {r.stdout}{r.stderr}")
    return "3 runts (0, 1, 13 bytes) counted in rx_runt at the port; the NF saw 2 frames, bad_desc 0"


GEN_CFG = """
ring_size: {ring}
ports:
  - {{name: gen0, type: gen, size: 64, flows: 16, rate: {rate}, count: {count}}}
services: [fwd]
chains:
  main: [fwd]
default_chain: ""
"""


def flowlog(out):
    return json.loads(out.strip().splitlines()[-1])


def test_replicas_split_flows_by_hash():
    """Two instances of one service: flows are split by hash and each sticks."""
    with Platform(GEN_CFG.format(ring=4096, rate=20000, count=0), "replicas") as pf:
        a = pf.start_nf("nf-flowlog", "fwd")
        b = pf.start_nf("nf-flowlog", "fwd")
        pf.wait_nfs(2)
        pf.ctl("chain", "default", "main")
        wait_for("both replicas to see traffic",
                 lambda: all(n["rx"] > 2000 for n in pf.running_nfs()))
        pf.ctl("chain", "default", "none")  # traffic bypasses the NFs from here
        la, lb = flowlog(pf.stop_nf(a)), flowlog(pf.stop_nf(b))
        st = pf.status()
        check(st["drops"]["nf_gone"] == 0, f"packets lost on a graceful leave: {st['drops']}")
    fa, fb = set(la["flows"]), set(lb["flows"])
    check(fa and fb, f"a replica got no flows: {fa} {fb}")
    check(not fa & fb, f"flows seen by both replicas: {sorted(fa & fb)}")
    check(len(fa | fb) == 16, f"{len(fa | fb)} flows seen, expected 16")
    check(la["bad_hash"] == 0 and lb["bad_hash"] == 0, f"stale flow hashes: {la} {lb}")
    return f"replica A: {len(fa)} flows / {la['packets']} pkts, B: {len(fb)} flows / {lb['packets']} pkts, none shared"


def test_flow_hash_valid_with_one_replica_and_no_rules():
    """The flow hash an NF gets is the packet's, also when the switch had no
    reason to compute it for itself (one replica, no flow rules)."""
    cfg = GEN_CFG.format(ring=1024, rate=20000, count=5000).replace("count: 5000",
                                                                     "count: 5000, paused: true")
    with Platform(cfg, "hash") as pf:
        a = pf.start_nf("nf-flowlog", "fwd")
        pf.wait_nfs(1)
        pf.ctl("chain", "default", "main")
        pf.ctl("port", "start", "gen0")
        wait_for("the generator to finish", lambda: drained(pf), timeout=60)
        la = flowlog(pf.stop_nf(a))
    check(la["packets"] == 5000, f"the NF saw {la['packets']} of 5000 packets")
    check(la["bad_hash"] == 0, f"{la['bad_hash']} of {la['packets']} packets had a stale hash")
    return f"{la['packets']} packets through one replica, no rules: every flow hash valid"


def test_redirect_to_service_leaves_the_chain():
    """An NF that sends a packet to a service (netvm_pkt_to_service) takes it
    out of its chain: the service gets it, the rest of the chain does not,
    and after the service it leaves by its port."""
    cfg = """
ports:
  - {name: gen0, type: gen, size: 64, flows: 4, rate: 20000, count: 3000, paused: true}
services: [a, b, r]
chains:
  main: [a, b]
default_chain: main
"""
    with Platform(cfg, "redirect") as pf:
        a = pf.start_nf("nf-forward", "--service", "a", "--to-service", "r")
        b = pf.start_nf("nf-flowlog", "b", name="b")
        r = pf.start_nf("nf-flowlog", "r", name="r")
        pf.wait_nfs(3)
        pf.ctl("port", "start", "gen0")
        st = wait_for("the generator to finish", lambda: drained(pf), timeout=60)
        rx, tx, drops = accounting(st)
        lb, lr = flowlog(pf.stop_nf(b)), flowlog(pf.stop_nf(r))
        pf.stop_nf(a)
    check(lr["packets"] == 3000, f"the redirect target saw {lr['packets']} of 3000")
    check(lb["packets"] == 0, f"the rest of the chain saw {lb['packets']} packets")
    check(rx == 3000 and tx == 3000 and drops == 0, f"rx {rx} tx {tx} drops {st['drops']}")
    return "3000 packets a -> (to_service) r -> out; b, the next hop of the chain, saw 0"


def test_kill9_reclaims_buffers():
    """kill -9 an NF under traffic: noticed fast, buffers back, traffic goes on."""
    with Platform(GEN_CFG.format(ring=1024, rate=50000, count=500000), "kill9") as pf:
        a = pf.start_nf("nf-forward", "--service", "fwd")
        b = pf.start_nf("nf-forward", "--service", "fwd")
        pf.wait_nfs(2)
        pf.ctl("chain", "default", "main")
        wait_for("traffic through both replicas", lambda: all(n["rx"] > 1000 for n in pf.running_nfs()))
        t0 = time.monotonic()
        a.kill()
        wait_for("the daemon to notice the dead NF", lambda: len(pf.running_nfs()) == 1, timeout=5)
        noticed = time.monotonic() - t0
        survivor = pf.running_nfs()[0]
        wait_for("the other replica to take the traffic",
                 lambda: pf.running_nfs()[0]["rx"] > survivor["rx"] + 5000)
        b.kill()
        wait_for("no NF left", lambda: not pf.status()["nfs"], timeout=5)
        nr0 = pf.status()["drops"]["no_route"]
        wait_for("drops counted as no_route while no replica exists",
                 lambda: pf.status()["drops"]["no_route"] > nr0 + 1000)
        st = wait_for("the generator to finish and the pool to be full", lambda: drained(pf),
                      timeout=60)
        rx, tx, drops = accounting(st)
        check(rx == 500000, f"generator sent {rx}")
        check(rx == tx + drops, f"accounting: rx {rx} != tx {tx} + drops {drops} ({st['drops']})")
        check(pf.daemon.poll() is None, "netvmd died")
    return (f"noticed in {noticed * 1000:.0f} ms; pool full again; rx {rx} = tx {tx} + drops {drops} "
            f"(nf_gone {st['drops']['nf_gone']}, no_route {st['drops']['no_route']}, "
            f"ring_full {st['drops']['ring_full']})")


def test_join_and_leave_under_traffic():
    """Replicas join and leave (gracefully) while traffic flows: nothing lost."""
    with Platform(GEN_CFG.format(ring=8192, rate=20000, count=100000), "joinleave") as pf:
        nfs = [pf.start_nf("nf-forward", "--service", "fwd")]
        pf.wait_nfs(1)
        pf.ctl("chain", "default", "main")
        for i in range(3):
            nfs.append(pf.start_nf("nf-forward", "--service", "fwd"))
            pf.wait_nfs(2)
            newest = max(n["instance"] for n in pf.running_nfs())
            wait_for("the new replica to get traffic",
                     lambda: any(n["instance"] == newest and n["rx"] > 100 for n in pf.running_nfs()))
            pf.stop_nf(nfs.pop(0))
            pf.wait_nfs(1)
        st = wait_for("the generator to finish", lambda: drained(pf), timeout=60)
        rx, tx, drops = accounting(st)
        check(st["drops"]["nf_gone"] == 0, f"graceful leaves lost packets: {st['drops']}")
        check(rx == tx + drops, f"accounting: rx {rx} != tx {tx} + drops {drops}")
    return f"4 replicas joined/left; rx {rx} tx {tx} drops {st['drops']}"


def test_runtime_chains_and_rules():
    """netvmctl changes the default chain and flow rules of a running daemon."""
    cfg = GEN_CFG.format(ring=4096, rate=20000, count=0) + "\n"
    with Platform(cfg, "ctl") as pf:
        pf.start_nf("nf-forward", "--service", "fwd")
        pf.wait_nfs(1)
        nf_rx = lambda: pf.running_nfs()[0]["rx"]
        port_tx = lambda: pf.status()["ports"][0]["tx"]
        # No default chain: packets go straight out, the NF sees none.
        t = port_tx()
        wait_for("traffic to flow past the NF", lambda: port_tx() > t + 1000)
        check(nf_rx() == 0, "NF got packets with no chain set")
        # A rule for the generator's flows (UDP to port 9) sends them through main.
        r = pf.ctl_json("rule", "add", "proto=udp", "dport=9", "chain=main")
        check(r["ok"] and r["id"] >= 1, f"rule add: {r}")
        wait_for("the rule to steer traffic to the NF", lambda: nf_rx() > 1000)
        rules = pf.status()["rules"]
        check(rules and rules[0]["hits"] > 0, f"rule has no hits: {rules}")
        pf.ctl("rule", "del", str(r["id"]))
        n = nf_rx()
        t = port_tx()
        wait_for("traffic to bypass again", lambda: port_tx() > t + 2000)
        # At most what was in flight when the rule went away.
        check(nf_rx() - n < 1000, "NF still gets traffic after the rule was deleted")
        # Errors are reported, not applied.
        bad = pf.ctl("chain", "set", "x", "nosuch", check_rc=False)
        check(bad.returncode == 1 and "unknown service" in bad.stderr, f"chain set: {bad.stderr}")
        bad = pf.ctl("rule", "add", "src=10.0.0.0/33", "chain=main", check_rc=False)
        check(bad.returncode == 1 and "prefix" in bad.stderr, f"rule add: {bad.stderr}")
        human = pf.ctl("status").stdout
        check("gen0" in human and "fwd" in human and "ring_full" in human, human)
    return "default chain, rule add/del and errors work at run time"


def test_bad_config_and_unknown_service():
    """Configuration errors name file:line; attaching to an unknown service fails clearly."""
    with Platform("", "errors") as pf:
        bad = pf.path("bad.yaml")
        with open(bad, "w") as f:
            f.write("ports:\n  - name: p\n    type: gen\n    sise: 64\n")
        r = subprocess.run([binary("netvmd"), "-c", bad], capture_output=True, text=True, timeout=10)
        check(r.returncode == 1 and f"{bad}:4:" in r.stderr and "sise" in r.stderr,
              f"netvmd on a bad config: rc {r.returncode}: {r.stderr}")
        r = subprocess.run([binary("nf-forward"), "--service", "nosuch"], env=pf.env,
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 1 and "unknown service" in r.stderr, f"nf-forward: {r.stderr}")
        check(pf.daemon.poll() is None, "netvmd died")
    return "file:line error and refused attach"


def test_malformed_control_messages():
    """Garbage on the control socket gets an error reply or a closed connection."""
    with Platform("services: [fwd]\n", "ctlproto") as pf:
        def conn():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(pf.sock)
            return s, s.makefile("rb")
        s, f = conn()
        for line, want in [(b"not json\n", "not a JSON object"), (b"[1,2]\n", "not a JSON object"),
                           (b'{"cmd": 5}\n', "cmd"), (b'{"cmd": "frobnicate"}\n', "unknown command"),
                           (b'{"cmd": "attach"}\n', "service"),
                           (b'{"cmd": "attach", "service": "nosuch"}\n', "unknown service"),
                           (b'{"cmd": "rule_del", "id": "x"}\n', "integer"),
                           (b'{"cmd": "chain_set", "name": "c", "hops": [1]}\n', "not a string")]:
            s.sendall(line)
            rep = json.loads(f.readline())
            check(rep["ok"] is False and want in rep["error"], f"{line!r} -> {rep}")
        s.sendall(b'{"cmd": "sta')  # disconnect mid-message
        s.close()
        s, f = conn()
        try:
            s.sendall(b"x" * 70000)  # longer than any message may be
            rep = f.readline()
            check(b"longer" in rep, f"oversized message: {rep!r}")
            check(f.readline() == b"", "connection not closed after an oversized message")
        except (ConnectionResetError, BrokenPipeError):
            pass  # closed before we read the reply: also an allowed answer
        s.close()
        check(pf.status()["pool"]["free"] > 0 and pf.daemon.poll() is None, "daemon unwell")
    return "8 bad requests answered, oversized closed, daemon fine"


def test_nfs_exit_when_the_daemon_dies():
    """kill -9 the daemon under traffic: NFs notice and exit instead of spinning."""
    with Platform(GEN_CFG.format(ring=1024, rate=0, count=0), "daemon-kill") as pf:
        nfs = [pf.start_nf("nf-forward", "--service", "fwd") for _ in range(2)]
        pf.wait_nfs(2)
        pf.ctl("chain", "default", "main")
        wait_for("traffic through the NFs", lambda: all(n["rx"] > 1000 for n in pf.running_nfs()))
        pf.daemon.kill()
        for p in nfs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                raise TestFailure("an NF did not exit after the daemon died")
            check(p.returncode == 1, f"NF exit status {p.returncode}, expected 1")
    return "both NFs exited with status 1"


def region_page_sizes(pid):
    """KernelPageSize (kB) of each netvm-region mapping of process @pid."""
    sizes, in_region = [], False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                in_region = "netvm-region" in line
            elif in_region and line.startswith("KernelPageSize:"):
                sizes.append(int(line.split()[1]))
    return sizes


def test_hugepages_no_is_honoured():
    """pool.hugepages: no backs the region with normal pages even when huge
    pages are free; auto takes them when they are."""
    cfg = "pool: {buffers: 1024, hugepages: %s}\n"
    with Platform(cfg % "no", "nohuge") as pf:
        st = pf.status()
        sizes = region_page_sizes(pf.daemon.pid)
    check(st["pool"]["hugepages"] is False, f"status says hugepages {st['pool']['hugepages']}")
    check(sizes and set(sizes) == {4}, f"region page sizes {sizes} kB")
    with open("/proc/meminfo") as f:
        free = int(re.search(r"HugePages_Free:\s+(\d+)", f.read()).group(1))
    if free < 8:
        return f"no: region on {sizes[0]} kB pages (auto not checked: {free} huge pages free)"
    with Platform(cfg % "auto", "autohuge") as pf:
        auto = pf.status()["pool"]["hugepages"]
        auto_sizes = region_page_sizes(pf.daemon.pid)
    check(auto is True and set(auto_sizes) == {2048}, f"auto: {auto} {auto_sizes}")
    return f"no: region on 4 kB pages; auto: on 2048 kB pages ({free} were free)"
