# SPDX-License-Identifier: BSD-3-Clause
"""Firewall and flow-rule evasion (RFC 1858, 3128, 7112, 8200).

A corpus of crafted frames -- IPv6 extension headers, tiny and overlapping
fragments, over-long header chains, lengths that lie, and control frames that
must pass -- goes through nf-firewall and through the switch's flow rules
(pcap in, pcap out, compared byte for byte with the frames that must come
out).  Then evasive SYNs to port 80 go from one network namespace to another
through nf-firewall -> nf-forward: the listener in B must never answer one
(no SYN-ACK from port 80 on b0), while a SYN to 8080 and pings get through."""
import re
import subprocess
import sys
import threading

from scapy.all import ARP, Dot1Q, Ether, ICMP, IP, IPv6, TCP, UDP, Raw
from scapy.layers.inet6 import (ICMPv6EchoRequest, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)

from netvmtest import Platform, binary, check, drained, wait_for
from netnslib import A6_IP, A_IP, B6_IP, B_IP, Topology, have_tool, popen, sh
from test_platform import write_frames

FW_RULES = "deny proto=tcp dport=80\ndeny proto=udp src=10.0.0.66\ndefault allow\n"

E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
A4, B4, EVIL = "10.0.0.1", "10.0.1.1", "10.0.0.66"
A6, B6 = "fd00::1", "fd00::2"


def syn(dport, sport=40000, flags="S"):
    return TCP(sport=sport, dport=dport, flags=flags, seq=1000)


def tcp4(dport, sport=40000, payload=b"", flags="S", src=A4, dst=B4):
    """The bytes of a TCP segment (checksummed for src -> dst), to cut into fragments."""
    return bytes(IP(src=src, dst=dst) / syn(dport, sport, flags) / payload)[20:]


def tcp6(dport, sport=40000, payload=b"", src=A6, dst=B6):
    return bytes(IPv6(src=src, dst=dst) / syn(dport, sport) / payload)[40:]


def frag4(data, off8, more, proto=6, src=A4, dst=B4, ident=7, eth=E):
    return eth / IP(src=src, dst=dst, proto=proto, id=ident, flags="MF" if more else 0,
                    frag=off8) / Raw(data)


def frag6(data, off8, more, nh=6, ident=7, src=A6, dst=B6, eth=E):
    return eth / IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(nh=nh, offset=off8, m=int(more),
                                                             id=ident) / Raw(data)


def ah(nh):
    """An IPsec AH header: 12 fixed bytes and a 12-byte ICV; length in 4-byte units - 2."""
    return bytes([nh, 24 // 4 - 2, 0, 0]) + (0x100).to_bytes(4, "big") + (1).to_bytes(4, "big") \
        + b"\xaa" * 12


def v6(*layers, eth=E):
    p = eth / IPv6(src=A6, dst=B6)
    for layer in layers:
        p = p / layer
    return p


def corpus():
    """(name, frame, firewall verdict, switch verdict).  Firewall: 'pass',
    'rule1' or 'rule2' (denied by that rule), or the malformed reason it is
    counted under.  Switch (rule proto=tcp dport=80 -> chain inspect):
    'default', 'inspect' or 'malformed'."""
    c = []

    def add(name, frame, fw, sw):
        c.append((name, bytes(frame), fw, sw))

    # -- control frames: must pass -------------------------------------------------
    add("v4 SYN 8080", E / IP(src=A4, dst=B4) / syn(8080), "pass", "default")
    add("v6 SYN 8080", v6(syn(8080)), "pass", "default")
    add("ARP", E / ARP(psrc=A4, pdst=B4), "pass", "default")
    add("ICMP echo", E / IP(src=A4, dst=B4) / ICMP(), "pass", "default")
    add("ICMPv6 echo", v6(ICMPv6EchoRequest()), "pass", "default")
    add("v6 HBH ICMPv6 echo", v6(IPv6ExtHdrHopByHop(), ICMPv6EchoRequest()), "pass", "default")
    add("v4 UDP", E / IP(src=A4, dst=B4) / UDP(sport=5, dport=53), "pass", "default")
    add("v6 ESP", E / IPv6(src=A6, dst=B6, nh=50) / Raw(b"\x00\x00\x01\x00" + b"\x00" * 20),
        "pass", "default")
    add("v6 no next header", E / IPv6(src=A6, dst=B6, nh=59), "pass", "default")
    add("v6 HBH then ESP", v6(IPv6ExtHdrHopByHop(nh=50), Raw(b"\x00" * 24)), "pass", "default")
    # Non-first fragments carry no ports: only rules without ports decide them.
    add("v4 non-first TCP fragment", frag4(tcp4(80)[:16], 3, False), "pass", "default")
    add("v6 non-first TCP fragment", frag6(tcp6(80)[:16], 3, False), "pass", "default")
    add("v4 non-first 16-byte tiny's rest", frag4(tcp4(80, 40016, b"x" * 12)[16:], 2, False),
        "pass", "default")
    add("v4 first fragment SYN 8080", frag4(tcp4(8080, payload=b"x" * 12)[:24], 0, True), "pass",
        "default")
    # Rules without ports match every fragment whose IP header is valid.
    add("UDP from 10.0.0.66", E / IP(src=EVIL, dst=B4) / UDP(sport=5, dport=53), "rule2",
        "default")
    add("UDP non-first fragment from 10.0.0.66", frag4(b"y" * 16, 2, False, proto=17, src=EVIL),
        "rule2", "default")
    # -- plain and well-formed matches -----------------------------------------------
    add("v4 SYN 80", E / IP(src=A4, dst=B4) / syn(80), "rule1", "inspect")
    add("v6 SYN 80", v6(syn(80)), "rule1", "inspect")
    add("v4 first fragment SYN 80, whole header", frag4(tcp4(80, payload=b"x" * 12)[:24], 0, True),
        "rule1", "inspect")
    # -- IPv6 extension headers in front of TCP port 80: now found -----------------
    add("v6 hop-by-hop SYN 80", v6(IPv6ExtHdrHopByHop(), syn(80)), "rule1", "inspect")
    add("v6 destination options SYN 80", v6(IPv6ExtHdrDestOpt(), syn(80)), "rule1", "inspect")
    add("v6 routing SYN 80", v6(IPv6ExtHdrRouting(type=0, segleft=0, addresses=[]), syn(80)),
        "rule1", "inspect")
    add("v6 first fragment SYN 80", frag6(tcp6(80, payload=b"x" * 12)[:24], 0, True), "rule1",
        "inspect")
    add("v6 atomic fragment SYN 80", v6(IPv6ExtHdrFragment(offset=0, m=0, id=9), syn(80)), "rule1",
        "inspect")
    add("v6 AH SYN 80", E / IPv6(src=A6, dst=B6, nh=51) / Raw(ah(6) + tcp6(80)), "rule1",
        "inspect")
    add("v6 six-header chain SYN 80",
        v6(IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt(),
           IPv6ExtHdrRouting(type=0, segleft=0, addresses=[]),
           IPv6ExtHdrFragment(offset=0, m=0, id=3), IPv6ExtHdrDestOpt(nh=51),
           Raw(ah(6) + tcp6(80))), "rule1", "inspect")
    add("v6 8 destination options SYN 80", v6(*[IPv6ExtHdrDestOpt()] * 8, syn(80)), "rule1",
        "inspect")
    add("VLAN v6 hop-by-hop SYN 80", v6(IPv6ExtHdrHopByHop(), syn(80), eth=E / Dot1Q(vlan=5)),
        "rule1", "inspect")
    # -- malformed or evasive: dropped and counted -----------------------------------
    add("v6 9 destination options SYN 80", v6(*[IPv6ExtHdrDestOpt()] * 9, syn(80)), "ext_chain",
        "malformed")
    add("v6 20 hop-by-hop SYN 8080", v6(*[IPv6ExtHdrHopByHop()] * 20, syn(8080)), "ext_chain",
        "malformed")
    for n in (8, 12, 16):  # RFC 1858 tiny fragments: the port or flags in the next fragment
        add(f"v4 tiny first fragment, {n} bytes of TCP", frag4(tcp4(80)[:n], 0, True),
            "short_l4", "malformed")
    add("v4 the 8-byte tiny's rest at offset 1", frag4(tcp4(80)[8:], 1, False), "tcp_off1",
        "malformed")
    # RFC 3128: a harmless first fragment, then offset 1 rewrites the TCP flags (ACK -> SYN).
    ack = tcp4(8080, payload=b"x" * 12, flags="A")
    add("v4 overlap: first fragment ACK 8080", frag4(ack[:24], 0, True, ident=11), "pass",
        "default")
    add("v4 overlap: offset 1 rewrites flags",
        frag4(tcp4(8080, payload=b"x" * 12)[8:24], 1, False, ident=11), "tcp_off1", "malformed")
    add("v4 overlap: second offset-0 fragment, port 80",
        frag4(tcp4(80, payload=b"x" * 12)[:24], 0, True, ident=11), "rule1", "inspect")
    add("v6 offset-1 TCP fragment", frag6(tcp6(80)[8:24], 1, False), "tcp_off1", "malformed")
    # RFC 7112: an IPv6 first fragment must hold the whole header chain.
    add("v6 first fragment, 8 bytes of TCP", frag6(tcp6(80)[:8], 0, True), "short_l4",
        "malformed")
    add("v6 first fragment, chain cut after the fragment header",
        frag6(bytes(IPv6ExtHdrDestOpt(nh=6, len=2))[:8], 0, True, nh=60), "short_l4",
        "malformed")
    add("UDP first fragment from 10.0.0.66, 4 bytes of UDP",
        frag4(b"\x00\x05\x00\x35", 0, True, proto=17, src=EVIL), "short_l4", "malformed")
    add("UDP first fragment, 4 bytes of UDP", frag4(b"\x00\x05\x00\x35", 0, True, proto=17),
        "short_l4", "malformed")
    add("v4 TCP cut by the IP length", E / IP(src=A4, dst=B4, proto=6, len=32) / Raw(tcp4(80)),
        "short_l4", "malformed")
    add("v4 TCP data offset 4", E / IP(src=A4, dst=B4) / TCP(dport=80, dataofs=4), "short_l4",
        "malformed")
    add("v6 hop-by-hop longer than the packet",
        E / IPv6(src=A6, dst=B6, nh=0) / Raw(bytes([6, 3]) + b"\x01\x02" + b"\x00" * 12),
        "short_l4", "malformed")
    bad = bytearray(bytes(E / IP(src=A4, dst=B4) / syn(80)))
    bad[16:18] = (1000).to_bytes(2, "big")  # IP total length beyond the frame
    add("v4 total length beyond the frame", bad, "bad_ip", "malformed")
    bad = bytearray(bytes(E / IP(src=A4, dst=B4) / syn(80)))
    bad[14] = 0x44  # IHL 4
    add("v4 IHL 4", bad, "bad_ip", "malformed")
    add("v4 cut inside the IP header", bytes(E / IP(src=A4, dst=B4) / syn(80))[:24], "bad_ip",
        "malformed")
    bad = bytearray(bytes(v6(syn(80))))
    bad[18:20] = (900).to_bytes(2, "big")  # IPv6 payload length beyond the frame
    add("v6 payload length beyond the frame", bad, "bad_ip", "malformed")
    return c


def check_corpus(c):
    names = [n for n, _, _, _ in c]
    check(len(names) == len(set(names)), "duplicate case names in the corpus")


def fw_counters(out):
    """Per-reason malformed counters from the firewall's last table."""
    m = re.findall(r"^malformed or evasive frames.*?: (.*)$", out, re.M)
    check(m, f"the firewall printed no malformed counters:\n{out}")
    return {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", m[-1])}


def run_pcap(pf, frames):
    pf.ctl("port", "start", "in0")
    st = wait_for("the pcap to be read and every buffer back", lambda: drained(pf))
    rx = sum(p["rx"] for p in st["ports"])
    check(rx == len(frames), f"port received {rx} of {len(frames)} frames")
    return st


def pcap_same(pf):
    r = subprocess.run([binary("pcapcmp"), pf.path("expected.pcap"), pf.path("out.pcap")],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"pcapcmp expected.pcap out.pcap: {r.stdout}{r.stderr}")


PCAP_PORT = "ports:\n  - {name: in0, type: pcap, read: in.pcap, write: out.pcap, paused: true}\n"


def test_evasion_firewall_pcap():
    """The corpus through nf-firewall: exactly the control frames come out,
    byte for byte; the evasive ones are denied by the rule or counted as
    malformed, per reason."""
    c = corpus()
    check_corpus(c)
    frames = [f for _, f, _, _ in c]
    passed = [f for _, f, fw, _ in c if fw == "pass"]
    cfg = PCAP_PORT + "services: [fw, fwd]\nchains:\n  main: [fw, fwd]\n"
    pf = Platform(cfg, "evasion-fw")
    write_frames(pf.path("in.pcap"), frames)
    write_frames(pf.path("expected.pcap"), passed)
    with open(pf.path("rules.txt"), "w") as f:
        f.write(FW_RULES)
    with pf:
        fw = pf.start_nf("nf-firewall", "--service", "fw", "--rules", pf.path("rules.txt"))
        fwd = pf.start_nf("nf-forward", "--service", "fwd")
        pf.wait_nfs(2)
        pf.ctl("chain", "default", "main")
        st = run_pcap(pf, frames)
        tx = sum(p["tx"] for p in st["ports"])
        check(tx == len(passed), f"{tx} frames came out, expected {len(passed)}")
        check(st["drops"]["nf_drop"] == len(frames) - len(passed),
              f"nf_drop {st['drops']['nf_drop']}, expected {len(frames) - len(passed)}")
        out = pf.stop_nf(fw)
        pf.stop_nf(fwd)
        pf.stop()
        pcap_same(pf)
    want = {}
    for _, _, fw_v, _ in c:
        want[fw_v] = want.get(fw_v, 0) + 1
    got = fw_counters(out)
    for reason in ("bad_ip", "short_l4", "tcp_off1", "ext_chain"):
        check(got.get(reason) == want.get(reason, 0),
              f"malformed {reason}: firewall counted {got.get(reason)}, expected "
              f"{want.get(reason, 0)}\n{out}")
    hits = re.findall(r"^\s+(\d+)\s+\d+\s+deny\s.*?(\d+)$", out, re.M)
    check([(int(r), int(h)) for r, h in hits[-2:]] == [(1, want["rule1"]), (2, want["rule2"])],
          f"rule hits {hits[-2:]}, expected rule 1: {want['rule1']}, rule 2: {want['rule2']}\n{out}")
    mal = len(frames) - len(passed) - want["rule1"] - want["rule2"]
    return (f"{len(frames)} frames in, {len(passed)} out byte-identical; denied by rule 1: "
            f"{want['rule1']}, rule 2: {want['rule2']}, malformed: {mal} ({got})")


SW_CFG = PCAP_PORT + """services: [deny, fwd]
chains:
  inspect: [deny]
  main: [fwd]
default_chain: main
rules:
  - {match: {proto: tcp, dport: 80}, chain: inspect}
"""


def run_flow_rules(extra, malformed_out):
    """The corpus through the switch's flow rules: port-80 TCP goes to
    'inspect' (a firewall that denies everything), the rest to 'main'
    (nf-forward) and out.  With malformed_out the malformed frames are
    expected out too (malformed: pass)."""
    c = corpus()
    check_corpus(c)
    frames = [f for _, f, _, _ in c]
    out_sw = ("default", "malformed") if malformed_out else ("default",)
    expected = [f for _, f, _, sw in c if sw in out_sw]
    n_inspect = sum(1 for *_, sw in c if sw == "inspect")
    n_mal = sum(1 for *_, sw in c if sw == "malformed")
    pf = Platform(SW_CFG + extra, "evasion-sw")
    write_frames(pf.path("in.pcap"), frames)
    write_frames(pf.path("expected.pcap"), expected)
    with open(pf.path("deny.txt"), "w") as f:
        f.write("default deny\n")
    with pf:
        deny = pf.start_nf("nf-firewall", "--service", "deny", "--rules", pf.path("deny.txt"))
        fwd = pf.start_nf("nf-forward", "--service", "fwd")
        pf.wait_nfs(2)
        st = run_pcap(pf, frames)
        drops = st["drops"]
        tx = sum(p["tx"] for p in st["ports"])
        check(tx == len(expected), f"{tx} frames came out, expected {len(expected)}")
        check(st["rules"][0]["hits"] == n_inspect,
              f"rule hits {st['rules'][0]['hits']}, expected {n_inspect}")
        check(drops["nf_drop"] == n_inspect, f"inspect chain dropped {drops['nf_drop']}, "
              f"expected {n_inspect}")
        want_mal = 0 if malformed_out else n_mal
        check(drops.get("malformed") == want_mal,
              f"drops.malformed {drops.get('malformed')}, expected {want_mal}: {drops}")
        check(sum(drops.values()) == drops["nf_drop"] + want_mal, f"other drops: {drops}")
        shown = pf.ctl("drops").stdout
        check(re.search(rf"^malformed\s+{want_mal}\s*$", shown, re.M),
              f"netvmctl drops does not show malformed {want_mal}:\n{shown}")
        pf.stop_nf(deny)
        pf.stop_nf(fwd)
        pf.stop()
        pcap_same(pf)
    return (f"{len(frames)} frames: {n_inspect} to inspect, {len(expected)} out byte-identical, "
            f"drops.malformed {want_mal}")


def test_evasion_flow_rules():
    """No evasive frame takes the default chain: the port-80 SYNs behind
    IPv6 extension headers match the rule, the malformed ones are dropped
    and counted in drops.malformed."""
    return run_flow_rules("", malformed_out=False)


def test_evasion_flow_rules_malformed_pass():
    """With 'malformed: pass' the malformed frames no rule matches take the
    default chain instead, and drops.malformed stays 0."""
    return run_flow_rules("malformed: pass\n", malformed_out=True)


# -- between network namespaces ---------------------------------------------------------

LISTENER = """
import socket, time
socks = []
for port in (80, 8080):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(512)
    socks.append(s)
time.sleep(3600)
"""

SENDER = "import sys\nfrom scapy.all import rdpcap, sendp\n" \
         "sendp(rdpcap(sys.argv[1]), iface='a0', verbose=0)\n"


def evasive_syns(eth):
    """(source port, frames) of SYNs to port 80 that a firewall parsing only
    the fixed headers lets through.  The source port names the case."""
    s4 = dict(src=A_IP, dst=B_IP, eth=eth)
    s6 = dict(src=A6_IP, dst=B6_IP, eth=eth)
    ip6 = eth / IPv6(src=A6_IP, dst=B6_IP)
    cases = []
    t = tcp4(80, 41008, b"x" * 16, src=A_IP, dst=B_IP)  # RFC 1858: 8 bytes of TCP first
    cases.append((41008, [frag4(t[:8], 0, True, ident=1, **s4),
                          frag4(t[8:], 1, False, ident=1, **s4)]))
    t = tcp4(80, 41016, b"x" * 16, src=A_IP, dst=B_IP)  # 16 bytes: flags in the next one
    cases.append((41016, [frag4(t[:16], 0, True, ident=2, **s4),
                          frag4(t[16:], 2, False, ident=2, **s4)]))
    cases.append((41100, [ip6 / IPv6ExtHdrHopByHop() / syn(80, 41100)]))
    cases.append((41101, [ip6 / IPv6ExtHdrDestOpt() / syn(80, 41101)]))
    cases.append((41102, [ip6 / IPv6ExtHdrRouting(type=0, segleft=0, addresses=[]) /
                          syn(80, 41102)]))
    cases.append((41103, [ip6 / IPv6ExtHdrFragment(offset=0, m=0, id=5) / syn(80, 41103)]))
    t = tcp6(80, 41104, b"x" * 16, src=A6_IP, dst=B6_IP)
    cases.append((41104, [frag6(t[:24], 0, True, ident=6, **s6),
                          frag6(t[24:], 3, False, ident=6, **s6)]))
    cases.append((41105, [ip6 / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
                          IPv6ExtHdrRouting(type=0, segleft=0, addresses=[]) /
                          IPv6ExtHdrDestOpt() / syn(80, 41105)]))
    return cases


class SynAckWatch:
    """tshark on b0 in namespace B: (source port, destination port) of every
    SYN-ACK B sends from port 80 or 8080."""

    def __init__(self, ns):
        self.lines, self.err = [], []
        self.p = popen("tshark", "-l", "-n", "-i", "b0", "-f",
                       "tcp and (src port 80 or src port 8080)", "-T", "fields",
                       "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags", ns=ns,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.threads = [threading.Thread(target=self._read, args=(self.p.stdout, self.lines)),
                        threading.Thread(target=self._read, args=(self.p.stderr, self.err))]
        for t in self.threads:
            t.start()
        wait_for("tshark to capture on b0", lambda: self._started(), 30)

    def _started(self):
        check(self.p.poll() is None, f"tshark exited: {''.join(self.err)}")
        return any("Capturing on" in line for line in self.err)

    @staticmethod
    def _read(f, out):
        for line in f:
            out.append(line)

    def synacks(self):
        got = []
        for line in list(self.lines):
            f = line.split()
            if len(f) == 3 and int(f[2], 16) & 0x12 == 0x12:
                got.append((int(f[0]), int(f[1])))
        return got

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        for t in self.threads:
            t.join(5)


def test_evasion_netns():
    """Evasive SYNs to port 80 from namespace A (IPv4 tiny fragments, IPv6
    behind each extension header, an IPv6 atomic fragment) through
    nf-firewall -> nf-forward over af_packet ports: B's listener on port 80
    never answers one, while a SYN to 8080 is answered and pings flow."""
    for tool in ("tshark", "ping", "ss", "ethtool"):
        check(have_tool(tool), f"{tool} is not installed (scripts/setup.sh installs it)")
    topo = Topology("af_packet", ipv6=True)
    lst = watch = None
    try:
        topo.create()
        cfg = ("pool: {buffers: 4096}\nports:\n" + topo.ports_yaml() +
               "services: [fw, fwd]\nchains:\n  main: [fw, fwd]\ndefault_chain: main\n")
        pf = Platform(cfg, "evasion-netns")
        with open(pf.path("fw.txt"), "w") as f:
            f.write(FW_RULES)
        with pf:
            fw = pf.start_nf("nf-firewall", "--service", "fw", "--rules", pf.path("fw.txt"))
            fwd = pf.start_nf("nf-forward", "--service", "fwd")
            pf.wait_nfs(2)
            mac_a, mac_b = topo.mac(topo.ns_a, "a0"), topo.mac(topo.ns_b, "b0")
            # Static neighbours: B answers at once, with no resolution to wait for.
            for ns, dev, mac, ips in ((topo.ns_a, "a0", mac_b, (B_IP, B6_IP)),
                                      (topo.ns_b, "b0", mac_a, (A_IP, A6_IP))):
                for ip in ips:
                    sh("ip", "neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud",
                       "permanent", ns=ns)
            lst = popen(sys.executable, "-c", LISTENER, ns=topo.ns_b)
            wait_for("B to listen on 80 and 8080",
                     lambda: topo.listening(topo.ns_b, 80) and topo.listening(topo.ns_b, 8080))
            sent, got, _ = topo.ping(3, interval=0.1)
            check(got == sent == 3, f"ping A -> B: {got} of {sent} replies")
            watch = SynAckWatch(topo.ns_b)

            eth = Ether(src=mac_a, dst=mac_b)
            cases = evasive_syns(eth)
            # Control SYNs to 8080 go last: once B has answered them it has
            # handled everything sent before.
            control = [eth / IP(src=A_IP, dst=B_IP) / syn(8080, 42000),
                       eth / IPv6(src=A6_IP, dst=B6_IP) / syn(8080, 42001)]
            frames = [bytes(f) for _, fs in cases for f in fs] + [bytes(f) for f in control]
            write_frames(pf.path("syns.pcap"), frames)
            sh(sys.executable, "-c", SENDER, pf.path("syns.pcap"), ns=topo.ns_a)
            wait_for("B's SYN-ACKs to the control SYNs to 8080",
                     lambda: {(8080, 42000), (8080, 42001)} <= set(watch.synacks()), 30)
            evaded = sorted(d for s, d in watch.synacks() if s == 80)
            check(not evaded, f"B answered evasive SYNs to port 80 (cases by source port): "
                  f"{evaded}")
            sent, got, _ = topo.ping(3, interval=0.1)
            check(got == sent == 3, f"ping A -> B after the SYNs: {got} of {sent} replies")
            pf.stop_nf(fwd)
            out = pf.stop_nf(fw)
            pf.stop()
        mal = fw_counters(out)
        return (f"{len(cases)} evasive SYNs to 80 ({len(frames) - 2} frames): 0 SYN-ACKs; "
                f"control 8080 v4+v6 answered; ping 6/6; firewall malformed {mal}")
    finally:
        if watch:
            watch.stop()
        if lst:
            lst.kill()
            lst.wait()
        topo.cleanup()
