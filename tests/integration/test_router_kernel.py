# SPDX-License-Identifier: BSD-3-Clause
"""nf-router against the Linux kernel as the reference router.

Two routers with the same interfaces (MACs, addresses, MTUs), the same
static neighbours (so both have the same L2 view) and the same routes:

    kernel:  k0 k1 k2 (root namespace)  <veth>  r0 r1 r2 in namespace nvrkN,
             forwarding on
    NetVM:   u0 u1 u2 (root namespace)  <veth>  n0 n1 n2: netvmd af_packet
             ports pa pb pc, chain [router], nf-router

Every case frame is sent into interface 0 of both, followed by one marker
frame routed out of each interface; what each interface emits before its
marker is the case's output.  The outputs are compared frame by frame after
normalising what the kernel legitimately chooses differently, each listed
in normalise():

  * the IPv4 ID of packets the router makes (ICMP errors, echo replies):
    Linux takes it from its ID generator; set to 0, header checksum
    recomputed (after checking the received one holds);
  * the IPv6 flow label of packets the router makes: Linux may pick an
    automatic one (net.ipv6.auto_flowlabels); set to 0 (it is not in the
    ICMPv6 checksum);
  * the time written into an IPv4 timestamp option (ms since midnight UTC,
    read at different moments): set to 0.

Both checksums of every frame are verified before normalising.

The kernel's settings that differ from a fresh namespace's, so both do the
same thing: ICMP rate limits off (net.ipv4.icmp_ratelimit=0, msgs_per_sec
high, net.ipv6.icmp.ratelimit=0; nf-router: icmp rate 0), no redirects
(send_redirects=0: nf-router does not send them), rp_filter 0, source routes
refused (accept_source_route=0, nf-router's behaviour), DAD off.  Linux's
ip_error() limits destination unreachables per source host (5, then 1/s,
not a sysctl of a namespace): every case has its own source address.

Not compared (nf-router differs on purpose, see docs/nf-router.md): IPv4
fragmentation (not done: dropped), ICMP redirects, errors about packets
with options (Linux echoes options in the error), ICMPv6 errors about
fragments after the first (nf-router sends none, as for IPv4)."""
import os
import struct

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach, ICMPv6EchoRequest,
                       ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPOption_RR, IPOption_NOP, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, Raw, IPOption_Timestamp)

from netvmtest import Platform, check, require
from netnslib import have_tool, sh
import routerlib as rl

IFACES = [  # port, MAC, addresses, MTU
    ("pa", "02:00:00:00:01:01", ["10.1.0.1/24", "fd01::1/64"], None),
    ("pb", "02:00:00:00:02:01", ["10.2.0.1/24", "fd02::1/64"], None),
    ("pc", "02:00:00:00:03:01", ["10.3.0.1/24", "fd03::1/64"], 1280),
]
NEIGH = [
    ("pa", "10.1.0.2", "02:00:00:00:01:02"), ("pa", "fd01::2", "02:00:00:00:01:02"),
    ("pa", "fe80::2", "02:00:00:00:01:02"),
    ("pb", "10.2.0.2", "02:00:00:00:02:02"), ("pb", "fd02::2", "02:00:00:00:02:02"),
    ("pb", "10.2.0.3", "02:00:00:00:02:03"), ("pb", "fd02::3", "02:00:00:00:02:03"),
    ("pc", "10.3.0.2", "02:00:00:00:03:02"), ("pc", "fd03::2", "02:00:00:00:03:02"),
]
# The same text is nf-router's route file and, line by line, `ip route add`.
ROUTES = """\
10.200.0.0/16 via 10.1.0.2
fd00:200::/32 via fd01::2
10.50.0.0/16 via 10.2.0.2
10.50.128.0/17 via 10.3.0.2
10.50.200.0/24 via 10.2.0.3
10.50.200.7/32 via 10.3.0.2
10.51.0.0/16 dev pc
unreachable 10.60.0.0/16
prohibit 10.61.0.0/16
blackhole 10.62.0.0/16
fd50::/16 via fd02::2
fd50:8000::/17 via fd03::2
fd50:c800::/24 via fd02::3
fd50:c800::7/128 via fd03::2
unreachable fd60::/16
prohibit fd61::/16
blackhole fd62::/16
"""
A_MAC, R0_MAC = "02:00:00:00:01:02", IFACES[0][1]
R0_LL = "fe80::ff:fe00:101"
ROUTER4 = {"10.1.0.1", "10.2.0.1", "10.3.0.1"}
ROUTER6 = {"fd01::1", "fd02::1", "fd03::1", R0_LL}
# A marker routed out of each interface: (destination, its MAC check)
MARK_DST = {"pa": "10.200.255.9", "pb": "10.2.0.2", "pc": "10.3.0.2"}


def e4(dst_mac=R0_MAC):
    return Ether(src=A_MAC, dst=dst_mac)


def cases():
    """(name, frame) pairs: every frame enters interface pa."""
    E = e4()
    n = iter(range(1, 250))

    def s4():  # a source of its own for each case (ip_error's per-host limit)
        return f"10.200.{next(n)}.1"

    def s6():
        return f"fd00:200::{next(n):x}"

    def udp(dst, ttl=64, **kw):
        return E / IP(src=s4(), dst=dst, ttl=ttl, **kw) / UDP(sport=1000, dport=2000) / b"payload"

    def udp6(dst, hlim=64):
        return E / IPv6(src=s6(), dst=dst, hlim=hlim) / UDP(sport=1000, dport=2000) / b"payload6"

    big = b"x" * 1300
    c = [
        ("v4 /16 via pb 10.2.0.2", udp("10.50.1.1")),
        ("v4 /17 overrides the /16: via pc", udp("10.50.130.1")),
        ("v4 /24 overrides /16 and /17: via pb 10.2.0.3", udp("10.50.200.9")),
        ("v4 /32 overrides the /24: via pc", udp("10.50.200.7")),
        ("v4 /24 edge: 10.50.200.255 via 10.2.0.3", udp("10.50.200.255")),
        ("v4 connected neighbour 10.2.0.2", udp("10.2.0.2")),
        ("v4 on-link route dev pc (static neighbour)", udp("10.3.0.2", ttl=9)),
        ("v4 TTL 2 forwarded with TTL 1", udp("10.50.1.1", ttl=2)),
        ("v4 TTL 1: time exceeded", udp("10.50.1.1", ttl=1)),
        ("v4 TTL 0: time exceeded", udp("10.50.1.1", ttl=0)),
        ("v4 TTL 1 echo request: time exceeded", E / IP(src=s4(), dst="10.50.1.1", ttl=1) / ICMP() / b"ping"),
        ("v4 TTL 1 ICMP error: nothing", E / IP(src=s4(), dst="10.50.1.1", ttl=1) / ICMP(type=3, code=1) / IP(src="10.50.1.1", dst="10.200.0.1") / UDP()),
        ("v4 TTL 1 later fragment: nothing", E / IP(src=s4(), dst="10.50.1.1", ttl=1, frag=10, proto=17) / (b"x" * 16)),
        ("v4 TTL 1 first fragment: time exceeded", E / IP(src=s4(), dst="10.50.1.1", ttl=1, flags="MF", proto=17) / (b"y" * 24)),
        ("v4 no route: net unreachable", udp("192.0.2.1")),
        ("v4 unreachable route: host unreachable", udp("10.60.1.1")),
        ("v4 prohibit route: admin prohibited", udp("10.61.1.1")),
        ("v4 blackhole route: nothing", udp("10.62.1.1")),
        ("v4 no route, TTL 1: unreachable first", udp("192.0.2.2", ttl=1)),
        ("v4 echo to the ingress address", E / IP(src=s4(), dst="10.1.0.1") / ICMP(id=7, seq=1) / b"ping-a"),
        ("v4 echo to another interface's address", E / IP(src=s4(), dst="10.3.0.1", tos=0x10) / ICMP(id=7, seq=2) / b"ping-c"),
        ("v4 echo to the router with TTL 1", E / IP(src=s4(), dst="10.2.0.1", ttl=1) / ICMP(id=7, seq=3)),
        ("v4 UDP to the router: port unreachable", udp("10.1.0.1")),
        ("v4 unknown protocol to the router: protocol unreachable", E / IP(src=s4(), dst="10.1.0.1", proto=253) / b"abcdefgh"),
        ("v4 bad header checksum: nothing", E / IP(src=s4(), dst="10.50.1.1", chksum=0x1234) / UDP() / b"x"),
        ("v4 total length past the frame: nothing", E / IP(src=s4(), dst="10.50.1.1", len=200) / UDP() / b"x"),
        ("v4 cut inside the header: nothing", Ether(bytes(udp("10.50.1.1"))[:14 + 12])),
        ("v4 IHL 4: nothing", E / IP(src=s4(), dst="10.50.1.1", ihl=4) / UDP()),
        ("v4 Ethernet padding is trimmed", Ether(bytes(udp("10.50.1.1", ttl=30)) + b"\xee" * 13)),
        ("v4 frame to another MAC: nothing", e4("02:00:00:00:09:09") / IP(src=s4(), dst="10.50.1.1") / UDP()),
        ("v4 broadcast MAC, unicast IP: not forwarded", e4("ff:ff:ff:ff:ff:ff") / IP(src=s4(), dst="10.50.1.1") / UDP()),
        ("v4 martian source 127.0.0.1: nothing", E / IP(src="127.0.0.1", dst="10.50.1.1") / UDP()),
        ("v4 source 0.0.0.0: nothing", E / IP(src="0.0.0.0", dst="10.50.1.1") / UDP()),
        ("v4 source 0.0.0.9 forwarded (0/8 is valid since Linux 5.3)", E / IP(src="0.0.0.9", dst="10.50.1.1") / UDP()),
        ("v4 destination 0.0.0.0: nothing", E / IP(src=s4(), dst="0.0.0.0") / UDP()),
        ("v4 destination 127.0.0.1: nothing", E / IP(src=s4(), dst="127.0.0.1") / UDP()),
        ("v4 source is the router's address: nothing", E / IP(src="10.2.0.1", dst="10.50.1.1") / UDP()),
        ("v4 directed broadcast of pb: nothing", E / IP(src=s4(), dst="10.2.0.255") / UDP()),
        ("v4 multicast destination: nothing", E / IP(src=s4(), dst="239.1.1.1") / UDP()),
        ("v4 record route and NOPs forwarded", E / IP(src=s4(), dst="10.50.1.1", options=[IPOption_NOP(), IPOption_RR(routers=["0.0.0.0"] * 3)]) / UDP() / b"rr"),
        ("v4 timestamp option forwarded", E / IP(src=s4(), dst="10.50.1.1", options=[IPOption_Timestamp(flg=0, length=12, pointer=5, timestamp=0)] ) / UDP() / b"ts"),
        ("v4 bad option length: parameter problem", E / IP(src=s4(), dst="10.50.1.1", options=[b"\x07\x09\x04\x00"]) / UDP()),
        ("v4 source route: dropped", E / IP(src=s4(), dst="10.50.1.1", options=[b"\x83\x07\x04\x0a\x32\x01\x01\x00"]) / UDP()),
        ("v4 DF and larger than pc's MTU: fragmentation needed", E / IP(src=s4(), dst="10.50.130.9", flags="DF") / UDP() / big),
        ("v4 ARP request for the router", Ether(src=A_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=A_MAC, psrc="10.1.0.2", pdst="10.1.0.1")),
        ("v4 ARP request for another host: nothing", Ether(src=A_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=A_MAC, psrc="10.1.0.2", pdst="10.1.0.77")),
        ("v4 TCP forwarded", E / IP(src=s4(), dst="10.50.200.7") / TCP(sport=5, dport=80, flags="S")),
        ("v6 /16 via pb fd02::2", udp6("fd50::1")),
        ("v6 /17 overrides the /16: via pc", udp6("fd50:8001::1")),
        ("v6 /24 overrides: via pb fd02::3", udp6("fd50:c800::9")),
        ("v6 /128 overrides the /24: via pc", udp6("fd50:c800::7")),
        ("v6 connected neighbour fd03::2", udp6("fd03::2")),
        ("v6 hop limit 2 forwarded with 1", udp6("fd50::1", hlim=2)),
        ("v6 hop limit 1: time exceeded", udp6("fd50::1", hlim=1)),
        ("v6 hop limit 0: time exceeded", udp6("fd50::1", hlim=0)),
        ("v6 hop limit 1 ICMPv6 error: nothing", E / IPv6(src=s6(), dst="fd50::1", hlim=1) / ICMPv6DestUnreach() / IPv6(src="fd50::1", dst="fd00:200::1") / UDP()),
        ("v6 no route: unreachable", udp6("fd99::1")),
        ("v6 unreachable route", udp6("fd60::1")),
        ("v6 prohibit route", udp6("fd61::1")),
        ("v6 blackhole route: nothing", udp6("fd62::1")),
        ("v6 echo to the ingress address", E / IPv6(src=s6(), dst="fd01::1") / ICMPv6EchoRequest(id=9, seq=1) / b"ping6-a"),
        ("v6 echo to another interface's address", E / IPv6(src=s6(), dst="fd03::1", tc=0x20) / ICMPv6EchoRequest(id=9, seq=2) / b"ping6-c"),
        ("v6 echo to the router's link-local address", E / IPv6(src="fd01::2", dst=R0_LL) / ICMPv6EchoRequest(id=9, seq=3)),
        ("v6 UDP to the router: port unreachable", udp6("fd02::1")),
        ("v6 unknown next header to the router: parameter problem", E / IPv6(src=s6(), dst="fd01::1", nh=253) / b"abcdefgh"),
        ("v6 payload length past the frame: nothing", E / IPv6(src=s6(), dst="fd50::1", plen=300) / UDP() / b"x"),
        ("v6 cut inside the header: nothing", Ether(bytes(udp6("fd50::1"))[:14 + 30])),
        ("v6 link-local source: beyond scope", E / IPv6(src="fe80::2", dst="fd50::1") / UDP() / b"ll"),
        ("v6 multicast source: nothing", E / IPv6(src="ff02::1", dst="fd50::1") / UDP()),
        ("v6 extension header forwarded", E / IPv6(src=s6(), dst="fd50::1") / IPv6ExtHdrDestOpt() / UDP() / b"ext"),
        ("v6 first fragment forwarded", E / IPv6(src=s6(), dst="fd50::1") / IPv6ExtHdrFragment(m=1, id=5) / UDP() / (b"f" * 16)),
        ("v6 larger than pc's MTU: packet too big", E / IPv6(src=s6(), dst="fd50:8001::9") / UDP() / big),
        ("v6 neighbour solicitation for the router", Ether(src=A_MAC, dst="33:33:ff:00:00:01") / IPv6(src="fd01::2", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="fd01::1") / ICMPv6NDOptSrcLLAddr(lladdr=A_MAC)),
        ("v6 solicitation with hop limit 64: nothing", Ether(src=A_MAC, dst="33:33:ff:00:00:01") / IPv6(src="fd01::2", dst="ff02::1:ff00:1", hlim=64) / ICMPv6ND_NS(tgt="fd01::1") / ICMPv6NDOptSrcLLAddr(lladdr=A_MAC)),
        ("non-IP ethertype: nothing", E / Raw(b"\x88\xb5" + b"\0" * 46)),
    ]
    return [(name, bytes(f)) for name, f in c]


def marker(port, i):
    return bytes(e4() / IP(src="10.200.254.1", dst=MARK_DST[port]) / UDP(sport=9, dport=9) /
                 f"MARK-{i}-{port}".encode())


def is_marker(port, i):
    tag = f"MARK-{i}-{port}".encode()
    return lambda name, data: name == port and data.endswith(tag)


def normalise(frame):
    """Check a frame's checksums and blank what the routers may choose
    differently (see the module's docstring)."""
    f = bytearray(frame)
    et = struct.unpack("!H", f[12:14])[0]
    if et == 0x0800 and len(f) >= 34:
        ip = 14
        hl = (f[ip] & 15) * 4
        check(rl.csum(bytes(f[ip:ip + hl])) == 0, "bad IPv4 header checksum in the output")
        src = ".".join(str(b) for b in f[ip + 12:ip + 16])
        tot = struct.unpack("!H", f[ip + 2:ip + 4])[0]
        if f[ip + 9] == 1:
            check(rl.csum(bytes(f[ip + hl:ip + tot])) == 0, "bad ICMP checksum in the output")
        if src in ROUTER4:
            f[ip + 4:ip + 6] = b"\0\0"
        off = ip + 20
        while off < ip + hl:  # timestamp option: no times
            t = f[off]
            if t in (0,):
                break
            if t == 1:
                off += 1
                continue
            ln = f[off + 1]
            if t == 68:
                for k in range(off + 4, off + min(f[off + 2] - 1, ln), 4):
                    f[k:k + 4] = b"\0\0\0\0"
            off += max(ln, 2)
        f[ip + 10:ip + 12] = b"\0\0"
        f[ip + 10:ip + 12] = struct.pack("!H", rl.csum(bytes(f[ip:ip + hl])))
    elif et == 0x86dd and len(f) >= 54:
        ip = 14
        import ipaddress
        src = str(ipaddress.IPv6Address(bytes(f[ip + 8:ip + 24])))
        plen = struct.unpack("!H", f[ip + 4:ip + 6])[0]
        if f[ip + 6] == 58:
            ph = bytes(f[ip + 8:ip + 40]) + struct.pack("!IxxxB", plen, 58)
            check(rl.csum(ph + bytes(f[ip + 40:ip + 40 + plen])) == 0,
                  "bad ICMPv6 checksum in the output")
        if src in ROUTER6:
            f[ip + 1] &= 0xf0
            f[ip + 2] = f[ip + 3] = 0
    return bytes(f)


def describe(frames):
    out = []
    for port, fs in frames.items():
        for fr in fs:
            out.append(f"  {port}: {Ether(fr).summary()}\n    {fr.hex()}")
    return "\n".join(out) or "  (nothing)"


class Side:
    """One router under test: the tester's interfaces (name per port)."""

    def __init__(self, names):
        self.names = names  # port -> tester interface
        self.socks = {p: rl.rawsock(n) for p, n in names.items()}

    def run(self, i, frame):
        rl.drain(self.socks.values())
        s = self.socks["pa"]
        s.send(frame)
        for p in self.names:
            s.send(marker(p, i))
        got = rl.collect(self.socks, lambda name, data: is_marker(name, i)(name, data))
        return {p: [normalise(f) for f in fs] for p, fs in got.items() if fs}

    def close(self):
        for s in self.socks.values():
            s.close()


def kernel_router(tag):
    ns = f"nvrk{tag}"
    made = {"ns": [ns], "links": []}
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "set", "lo", "up", ns=ns)
    for k in ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
              "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0",
              "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
              "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
              "net.ipv4.conf.all.accept_source_route=0",
              "net.ipv4.conf.default.accept_source_route=0",
              "net.ipv4.icmp_ratelimit=0", "net.ipv4.icmp_msgs_per_sec=100000",
              "net.ipv4.icmp_msgs_burst=100000", "net.ipv6.icmp.ratelimit=0"):
        sh("sysctl", "-qw", k, ns=ns)
    names = {}
    for i, (port, mac, addrs, mtu) in enumerate(IFACES):
        host, inner = f"k{i}{tag}", f"r{i}"
        sh("ip", "link", "add", host, "type", "veth", "peer", "name", inner, "netns", ns)
        made["links"].append(host)
        sh("sysctl", "-qw", f"net.ipv6.conf.{host}.disable_ipv6=1")
        sh("ip", "link", "set", host, "up")
        sh("ip", "link", "set", inner, "address", mac, ns=ns)
        if mtu:
            sh("ip", "link", "set", inner, "mtu", str(mtu), ns=ns)
        for a in addrs:
            sh("ip", "addr", "add", a, "dev", inner, *(["nodad"] if ":" in a else []), ns=ns)
        sh("ip", "link", "set", inner, "up", ns=ns)
        sh("ethtool", "-K", inner, "tx", "off", ns=ns, check_rc=False)
        names[port] = host
    dev = {p: f"r{i}" for i, (p, *_rest) in enumerate(IFACES)}
    for port, ip, mac in NEIGH:
        sh("ip", "neigh", "replace", ip, "lladdr", mac, "dev", dev[port], "nud", "permanent", ns=ns)
    for line in ROUTES.splitlines():
        words = line.split()
        words = [dev.get(w, w) for w in words]
        six = any(":" in w for w in words)
        sh("ip", *(["-6"] if six else []), "route", "add", *words, ns=ns)
    return names, made


def netvm_links(tag):
    names, links = {}, []
    for i, (port, *_rest) in enumerate(IFACES):
        host, tester = f"n{i}{tag}", f"u{i}{tag}"
        sh("ip", "link", "add", host, "type", "veth", "peer", "name", tester)
        links.append(host)
        for l in (host, tester):
            sh("sysctl", "-qw", f"net.ipv6.conf.{l}.disable_ipv6=1")
            sh("ip", "link", "set", l, "up")
        names[port] = tester
    return names, links


def test_router_same_as_kernel():
    require(os.geteuid() == 0, "network namespaces and veth pairs need root")
    require(have_tool("ethtool"), "ethtool is not installed")
    tag = rl.uniq_tag()
    made = {"ns": [], "links": []}
    sides = []
    try:
        kn, km = kernel_router(tag)
        made["ns"] += km["ns"]
        made["links"] += km["links"]
        nn, nlinks = netvm_links(tag)
        made["links"] += nlinks
        ports = "".join(f"  - {{name: {p}, type: af_packet, ifname: n{i}{tag}}}\n"
                        for i, (p, *_r) in enumerate(IFACES))
        pf = Platform(f"ports:\n{ports}services: [router]\nchains:\n  default: [router]\n",
                      "router-kernel")
        rl.write(pf.path("routes.txt"), ROUTES)
        rl.write(pf.path("router.yaml"),
                 rl.router_yaml(IFACES, NEIGH, "routes.txt", "icmp: {rate: 0}\n"))
        with pf:
            pf.start_nf("nf-router", "--service", "router", "--config", pf.path("router.yaml"))
            pf.wait_nfs(1)
            kern, nv = Side(kn), Side(nn)
            sides = [kern, nv]
            diffs, names = [], []
            for i, (name, frame) in enumerate(cases()):
                k, v = kern.run(i, frame), nv.run(i, frame)
                names.append(name)
                # not vacuous: a case says whether something comes out
                silent = any(w in name for w in ("nothing", "dropped", "not forwarded"))
                if bool(k) == silent:
                    diffs.append(f"{name}: the kernel's output is not what the case says:\n"
                                 f"{describe(k)}")
                if k != v:
                    diffs.append(f"{name}:\n kernel:\n{describe(k)}\n nf-router:\n{describe(v)}")
            c = rl.nf_counters(pf)
        check(not diffs, f"{len(diffs)} of {len(names)} cases differ from the kernel:\n" +
              "\n".join(diffs))
        check(c["ttl_exceeded"] >= 6 and c["no_route"] >= 3 and c["bad_checksum"] == 1,
              f"counters: {c}")
        return (f"{len(names)} cases, same output as Linux: " + "; ".join(names))
    finally:
        for s in sides:
            s.close()
        for ns in made["ns"]:
            sh("ip", "netns", "del", ns, check_rc=False)
        for l in made["links"]:
            sh("ip", "link", "del", l, check_rc=False)
