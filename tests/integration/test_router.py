# SPDX-License-Identifier: BSD-3-Clause
"""nf-router with real processes.

End to end: two namespaces on different subnets routed only by nf-router
(A 10.1.0.2/24 gw 10.1.0.1, fd01::2/64 gw fd01::1; B 10.2.0.2/24 gw
10.2.0.1, fd02::2/64 gw fd02::1) through netvmd af_packet ports: ping and
ping -6, traceroute (the router's time exceeded), iperf3 TCP, MACs learned
through ARP and ND on both sides, entries ageing away.

With pcap ports: route reload on SIGHUP (a bad file keeps the old table),
packets held for a next hop that never answers (queue overflow, then host
unreachable), the ICMP error rate limit; --check and --help."""
import json
import os
import re
import signal
import subprocess
import time

from scapy.all import ICMP, IP, UDP, Ether, IPv6, ICMPv6DestUnreach, rdpcap

from netvmtest import Platform, binary, check, drained, require, wait_for
from netnslib import have_tool, popen, sh
from test_platform import write_frames
import routerlib as rl

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PA_MAC, PB_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"


def router_dump(pf, nf, old=""):
    """SIGUSR1 the router and return the neighbour table it prints next."""
    def text():
        nf.out.flush()
        with open(nf.out.name) as f:
            return f.read()
    before = text().count("neigh end:")
    nf.send_signal(signal.SIGUSR1)
    wait_for("the router's neighbour table", lambda: text().count("neigh end:") > before, 10)
    t = text()
    start = t.rfind("nf-router: counters:")
    return t[start:t.rfind("neigh end:")]


def neigh_entries(dump):
    """{ip: (port, mac or None, state)} from a dump."""
    out = {}
    for m in re.finditer(r"^neigh (\S+) dev (\S+)(?: lladdr (\S+))? (\w+)", dump, re.M):
        out[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return out


class Net:
    """Namespaces A and B, each a veth to the root namespace for netvmd."""

    def __init__(self):
        tag = rl.uniq_tag()
        self.ns = {"a": f"nvra{tag}", "b": f"nvrb{tag}"}
        self.host = {"a": f"ra{tag}", "b": f"rb{tag}"}
        self.made_ns, self.made_links = [], []

    def create(self):
        for side, v4, v6, gw, gw6 in (("a", "10.1.0.2/24", "fd01::2/64", "10.1.0.1", "fd01::1"),
                                      ("b", "10.2.0.2/24", "fd02::2/64", "10.2.0.1", "fd02::1")):
            ns, host = self.ns[side], self.host[side]
            sh("ip", "netns", "add", ns)
            self.made_ns.append(ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            sh("ip", "link", "add", host, "type", "veth", "peer", "name", "e0", "netns", ns)
            self.made_links.append(host)
            sh("sysctl", "-qw", f"net.ipv6.conf.{host}.disable_ipv6=1")
            sh("ip", "link", "set", host, "up")
            sh("ip", "addr", "add", v4, "dev", "e0", ns=ns)
            sh("ip", "-6", "addr", "add", v6, "dev", "e0", "nodad", ns=ns)
            sh("ip", "link", "set", "e0", "up", ns=ns)
            # veth hands its peer unchecksummed, TSO-sized frames otherwise
            sh("ethtool", "-K", "e0", "tx", "off", "tso", "off", "gso", "off", ns=ns)
            sh("ip", "route", "add", "default", "via", gw, ns=ns)
            sh("ip", "-6", "route", "add", "default", "via", gw6, ns=ns)

    def mac(self, side):
        return json.loads(sh("ip", "-j", "link", "show", "e0", ns=self.ns[side]).stdout)[0]["address"]

    def neigh(self, side, ip):
        out = sh("ip", "-j", "neigh", "show", ip, ns=self.ns[side]).stdout
        return json.loads(out) if out.strip() else []

    def cleanup(self):
        for ns in self.made_ns:
            sh("ip", "netns", "del", ns, check_rc=False)
        for l in self.made_links:
            sh("ip", "link", "del", l, check_rc=False)


def test_router_end_to_end():
    require(os.geteuid() == 0, "network namespaces and veth pairs need root")
    for tool in ("ping", "traceroute", "iperf3", "ethtool"):
        require(have_tool(tool), f"{tool} is not installed (scripts/setup.sh installs it)")
    net = Net()
    try:
        net.create()
        pf = Platform("ports:\n"
                      f"  - {{name: pa, type: af_packet, ifname: {net.host['a']}}}\n"
                      f"  - {{name: pb, type: af_packet, ifname: {net.host['b']}}}\n"
                      "services: [router]\nchains:\n  default: [router]\n", "router-e2e")
        rl.write(pf.path("router.yaml"), rl.router_yaml(
            [("pa", PA_MAC, ["10.1.0.1/24", "fd01::1/64"], None),
             ("pb", PB_MAC, ["10.2.0.1/24", "fd02::1/64"], None)],
            extra="neighbour: {reachable: 1s, stale: 2s, retrans: 200ms}\n"))
        with pf:
            nf = pf.start_nf("nf-router", "--service", "router", "--config", pf.path("router.yaml"))
            pf.wait_nfs(1)
            notes = []
            for v6, dst in ((False, "10.2.0.2"), (True, "fd02::2")):
                r = sh("ping", *(["-6"] if v6 else []), "-n", "-c", "3", "-i", "0.2", "-W", "3",
                       dst, ns=net.ns["a"], check_rc=False, timeout=30)
                m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
                check(m and m.group(2) == "3", f"ping {dst}: {r.stdout}{r.stderr}")
                notes.append(f"ping{' -6' if v6 else ''} {dst} 3/3")
            # what both sides learned
            dump = router_dump(pf, nf)
            nt = neigh_entries(dump)
            want = {"10.1.0.2": ("pa", net.mac("a")), "fd01::2": ("pa", net.mac("a")),
                    "10.2.0.2": ("pb", net.mac("b")), "fd02::2": ("pb", net.mac("b"))}
            for ip, (port, mac) in want.items():
                check(ip in nt and nt[ip][:2] == (port, mac),
                      f"router's neighbour {ip}: {nt.get(ip)}, want {port} {mac}\n{dump}")
            for side, ips, mac in (("a", ("10.1.0.1", "fd01::1"), PA_MAC),
                                   ("b", ("10.2.0.1", "fd02::1"), PB_MAC)):
                for ip in ips:
                    n = net.neigh(side, ip)
                    check(n and n[0].get("lladdr") == mac,
                          f"namespace {side}'s neighbour {ip}: {n}, want {mac}")
            notes.append("router learned A and B (ARP, ND); A and B learned the router's MACs")
            for v6, dst, hop1 in ((False, "10.2.0.2", "10.1.0.1"), (True, "fd02::2", "fd01::1")):
                r = sh("traceroute", *(["-6"] if v6 else []), "-n", "-q", "1", "-w", "2", "-m", "5",
                       dst, ns=net.ns["a"], check_rc=False, timeout=60)
                hops = re.findall(r"^\s*(\d+)\s+(\S+)", r.stdout, re.M)
                check(hops[:2] == [("1", hop1), ("2", dst)],
                      f"traceroute {dst}: {r.stdout}{r.stderr}")
                notes.append(f"traceroute {dst}: 1 {hop1}, 2 {dst}")
            # iperf3 TCP from A to B
            srv = popen("iperf3", "-s", "-1", "-p", "5299", ns=net.ns["b"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for("iperf3 listening", lambda: "5299" in sh(
                    "ss", "-ltn", ns=net.ns["b"]).stdout, 10)
                r = sh("iperf3", "-c", "10.2.0.2", "-p", "5299", "-t", "3", "-J",
                       ns=net.ns["a"], check_rc=False, timeout=60)
            finally:
                srv.kill()
                srv.wait()
            check(r.returncode == 0, f"iperf3: {r.stdout[-2000:]}{r.stderr}")
            res = json.loads(r.stdout)["end"]["sum_received"]
            check(res["bytes"] > 0, f"iperf3 moved nothing: {res}")
            rate = res["bits_per_second"] / 1e6
            notes.append(f"iperf3 TCP A->B {rate:.0f} Mbit/s ({res['bytes'] >> 20} MiB)")
            # ageing: REACHABLE -> STALE after 1 s, gone 2 s after last use
            t0 = time.monotonic()
            wait_for("entries to go stale", lambda: all(
                e[2] in ("STALE", "PROBE") for e in neigh_entries(router_dump(pf, nf)).values()), 10)
            t1 = time.monotonic() - t0
            wait_for("entries to age out", lambda: not neigh_entries(router_dump(pf, nf)), 15)
            notes.append(f"entries stale after {t1:.1f}s, gone after {time.monotonic() - t0:.1f}s")
            c = rl.nf_counters(pf)
            drops = sum(v for k, v in c.items() if k not in (
                "rx", "fwd_v4", "fwd_v6", "local_in", "echo_out", "icmp_out", "arp_out", "nd_out",
                "reloads", "reload_errors", "icmp_ratelimited"))
            check(c["rx"] == c["fwd_v4"] + c["fwd_v6"] + c["local_in"] + drops,
                  f"counters do not add up: {c}")
            check(c["fwd_v4"] > 1000 and c["fwd_v6"] >= 3 and c["icmp_out"] >= 2, f"counters: {c}")
            notes.append(f"rx {c['rx']} = fwd {c['fwd_v4']}+{c['fwd_v6']} + local {c['local_in']}"
                         f" + drops {drops}")
        return "; ".join(notes)
    finally:
        net.cleanup()


# ---- with pcap ports --------------------------------------------------------

PCAP_IFACES = [("pa", PA_MAC, ["10.1.0.1/24", "fd01::1/64"], None),
               ("pb", PB_MAC, ["10.2.0.1/24", "fd02::1/64"], None),
               ("pc", "02:00:00:00:03:01", ["10.3.0.1/24"], None),
               ("pd", "02:00:00:00:04:01", ["10.4.0.1/24"], None)]
PCAP_NEIGH = [("pa", "10.1.0.2", "02:00:00:00:01:02"), ("pa", "fd01::2", "02:00:00:00:01:02"),
              ("pb", "10.2.0.2", "02:00:00:00:02:02"), ("pc", "10.3.0.2", "02:00:00:00:03:02"),
              ("pd", "10.4.0.2", "02:00:00:00:04:02")]
PCAP_CFG = """
ports:
  - {name: pa, type: pcap, read: in-a.pcap, write: pa.pcap, paused: true}
  - {name: pb, type: pcap, write: pb.pcap}
  - {name: pc, type: pcap, write: pc.pcap}
  - {name: pd, type: pcap, read: in-d.pcap, write: pd.pcap, paused: true}
services: [router]
chains:
  default: [router]
"""


def pcap_router(name, routes, extra="", frames_a=(), frames_d=()):
    pf = Platform(PCAP_CFG, name)
    write_frames(pf.path("in-a.pcap"), [bytes(f) for f in frames_a])
    write_frames(pf.path("in-d.pcap"), [bytes(f) for f in frames_d])
    rl.write(pf.path("routes.txt"), routes)
    rl.write(pf.path("router.yaml"), rl.router_yaml(PCAP_IFACES, PCAP_NEIGH, "routes.txt", extra))
    return pf


def udp_from(port_mac, src, dst, n, **kw):
    return [Ether(src="02:00:00:00:09:09", dst=port_mac) / IP(src=src, dst=dst, **kw) /
            UDP(sport=1000 + i, dport=2000) / b"data" for i in range(n)]


def test_router_reload_on_sighup():
    """SIGHUP: a bad route file is refused (file:line, the old routes stay),
    a good one is swapped in between bursts without stopping the router."""
    pf = pcap_router("router-reload", "10.50.0.0/16 via 10.2.0.2\n",
                     frames_a=udp_from(PA_MAC, "10.1.0.2", "10.50.1.1", 10),
                     frames_d=udp_from("02:00:00:00:04:01", "10.4.0.2", "10.50.1.1", 10))
    with pf:
        nf = pf.start_nf("nf-router", "--service", "router", "--config", pf.path("router.yaml"))
        pf.wait_nfs(1)
        pf.ctl("port", "start", "pa")
        wait_for("the first batch", lambda: rl.nf_counters(pf)["fwd_v4"] == 10)
        rl.write(pf.path("routes.txt"), "10.50.0.0/16 via 10.3.0.2\n# fine\n10.60.0.0/16 via 10.9.0.1\n")
        nf.send_signal(signal.SIGHUP)
        wait_for("the bad file refused", lambda: rl.nf_counters(pf)["reload_errors"] == 1)
        rl.write(pf.path("routes.txt"), "10.50.0.0/16 via 10.3.0.2\n")
        nf.send_signal(signal.SIGHUP)
        wait_for("the good file taken", lambda: rl.nf_counters(pf)["reloads"] == 1)
        pf.ctl("port", "start", "pd")
        wait_for("the second batch", lambda: drained(pf) and rl.nf_counters(pf)["fwd_v4"] == 20)
        c = rl.nf_counters(pf)
        out = pf.stop_nf(nf)
        pf.stop()
        pb, pc = rdpcap(pf.path("pb.pcap")), rdpcap(pf.path("pc.pcap"))
    check("routes.txt:3: gateway 10.9.0.1 is not on a subnet of any interface; the old routes stay"
          in out, f"no file:line message:\n{out}")
    check(re.search(r"reloaded \S+routes.txt: 1 IPv4 and 0 IPv6 routes", out), out)
    check(len(pb) == 10 and len(pc) == 10 and all(IP in p and p[IP].ttl == 63 for p in pc),
          f"pb {len(pb)} pc {len(pc)}")
    check(c["reloads"] == 1 and c["reload_errors"] == 1, f"counters: {c}")
    return ("10 packets via pb; a bad file refused with 'routes.txt:3: gateway 10.9.0.1 is not on "
            "a subnet of any interface', the old table kept; the new file swapped in: 10 via pc")


def test_router_unresolved_next_hop():
    """Packets for a next hop that never answers ARP/ND are held (3 per
    neighbour, the oldest pushed out), 3 solicitations are sent, then the
    held ones get ICMP host unreachable / ICMPv6 address unreachable."""
    e = Ether(src="02:00:00:00:01:02", dst=PA_MAC)
    v6 = [e / IPv6(src="fd01::2", dst="fd02::77") / UDP(sport=1, dport=2) / b"v6" for _ in range(2)]
    pf = pcap_router("router-unres", "", "neighbour: {retrans: 100ms, probes: 3, queue: 3}\n",
                     frames_a=udp_from(PA_MAC, "10.1.0.2", "10.2.0.77", 5) + v6)
    with pf:
        pf.start_nf("nf-router", "--service", "router", "--config", pf.path("router.yaml"))
        pf.wait_nfs(1)
        pf.ctl("port", "start", "pa")
        st = wait_for("the held packets to fail", lambda: drained(pf), 15)
        c = next(n for n in st["nfs"] if n["service"] == "router")["counters"]
        pf.stop()
        pa, pb = rdpcap(pf.path("pa.pcap")), rdpcap(pf.path("pb.pcap"))
    arp = [p for p in pb if p.haslayer("ARP")]
    ns = [p for p in pb if p.haslayer("ICMPv6ND_NS")]
    unreach = [p for p in pa if ICMP in p and p[ICMP].type == 3 and p[ICMP].code == 1]
    unreach6 = [p for p in pa if ICMPv6DestUnreach in p and p[ICMPv6DestUnreach].code == 3]
    check(len(arp) == 3 and all(p["ARP"].pdst == "10.2.0.77" and p.dst == "ff:ff:ff:ff:ff:ff"
                                for p in arp), f"ARP requests: {[p.summary() for p in arp]}")
    check(len(ns) == 3 and all(p[IPv6].dst == "ff02::1:ff00:77" for p in ns),
          f"NS: {[p.summary() for p in ns]}")
    check(len(unreach) == 3 and len(unreach6) == 2, f"pa: {[p.summary() for p in pa]}")
    # the held packets, in order, with their TTL already decremented
    sports = [p["UDPerror"].sport for p in unreach]
    check(sports == [1002, 1003, 1004] and unreach[0]["IPerror"].ttl == 63, sports)
    check(c["arp_pending_overflow"] == 2 and c["neigh_failed"] == 5 and c["icmp_out"] == 5,
          f"counters: {c}")
    return ("5 IPv4 + 2 IPv6 packets for unanswering neighbours: 3 ARP requests and 3 NS, 2 "
            "pushed out of the queue, then 3 host unreachable and 2 address unreachable")


def test_router_icmp_rate_limit():
    """A token bucket of 5 errors, 10 a second: 200 packets with TTL 1 at
    once get about 5 time exceeded, the rest counted as rate-limited."""
    pf = pcap_router("router-rl", "10.50.0.0/16 via 10.2.0.2\n", "icmp: {rate: 10, burst: 5}\n",
                     frames_a=udp_from(PA_MAC, "10.1.0.2", "10.50.1.1", 200, ttl=1))
    with pf:
        pf.start_nf("nf-router", "--service", "router", "--config", pf.path("router.yaml"))
        pf.wait_nfs(1)
        t0 = time.monotonic()
        pf.ctl("port", "start", "pa")
        st = wait_for("the pcap through the router", lambda: drained(pf))
        took = time.monotonic() - t0
        c = next(n for n in st["nfs"] if n["service"] == "router")["counters"]
        pf.stop()
        pa = rdpcap(pf.path("pa.pcap"))
    allowed = 5 + int(took * 10) + 1
    check(c["ttl_exceeded"] == 200 and 5 <= c["icmp_out"] <= allowed and
          c["icmp_out"] + c["icmp_ratelimited"] == 200 and len(pa) == c["icmp_out"],
          f"counters {c}, {len(pa)} frames out, {took:.2f}s")
    return f"200 TTL-1 packets: {c['icmp_out']} time exceeded, {c['icmp_ratelimited']} rate-limited"


def test_router_check_and_help():
    """--help names every counter; --check refuses bad files with file:line."""
    h = subprocess.run([binary("nf-router"), "--help"], capture_output=True, text=True)
    with open(os.path.join(ROOT, "nfs/router/router.h")) as f:
        counters = re.findall(r"^\s*X\((\w+),", f.read(), re.M)
    check(h.returncode == 0 and len(counters) > 20 and all(c in h.stdout for c in counters),
          "nf-router --help misses counters")
    with open(os.path.join(ROOT, "docs/nf-router.md")) as f:
        doc = f.read()
    missing = [c for c in counters if f"`{c}`" not in doc]
    check(not missing, f"docs/nf-router.md does not document counters {missing}")
    d = Platform("", "router-check")
    try:
        cfg = rl.write(d.path("r.yaml"), rl.router_yaml(PCAP_IFACES[:2], routes="routes.txt"))
        rl.write(d.path("routes.txt"), "10.50.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.2.0.2\n")
        r = subprocess.run([binary("nf-router"), "--config", cfg, "--check", "--print-routes"],
                           capture_output=True, text=True)
        check(r.returncode == 0 and "10.51.0.0/16 via 10.2.0.2 dev pb" in r.stdout and
              "2 IPv4 and 0 IPv6 routes" in r.stderr, r.stdout + r.stderr)
        rl.write(d.path("routes.txt"), "10.50.0.0/16 via 10.2.0.2\n10.51.0.1/16 via 10.2.0.2\n")
        r = subprocess.run([binary("nf-router"), "--config", cfg, "--check"],
                           capture_output=True, text=True)
        check(r.returncode == 1 and f"{d.path('routes.txt')}:2: 10.51.0.1/16 has host bits set"
              in r.stderr, r.stderr)
        rl.write(cfg, "interfaces:\n  - {port: pa, mac: 02:00:00:00:01:01}\nicmp: {rate: fast}\n")
        r = subprocess.run([binary("nf-router"), "--config", cfg, "--check"],
                           capture_output=True, text=True)
        check(r.returncode == 1 and f"{cfg}:3: icmp rate must be a number" in r.stderr, r.stderr)
    finally:
        import shutil
        shutil.rmtree(d.dir, ignore_errors=True)
    return (f"--help and docs/nf-router.md name all {len(counters)} counters; --check: "
            "routes printed, 'routes.txt:2: ... host bits set', 'r.yaml:3: icmp rate ...'")


def test_router_gen_random_destinations():
    """A gen port sending to random addresses of 10.0.0.0/8 (its dst
    option) through the router: every frame's checksum holds after the
    gen's update, every one is routed by the longest prefix and decremented,
    back to the gen sink."""
    routes = "10.0.0.0/8 via 192.168.0.2\n10.128.0.0/9 via 192.168.0.3\n" \
             "10.200.0.0/16 via 192.168.0.2\nblackhole 10.255.0.0/16\n"
    pf = Platform("backpressure: true\nports:\n  - {name: gen0, type: gen, count: 20000, dst: 10.0.0.0/8, "
                  "paused: true}\nservices: [router]\nchains:\n  default: [router]\n", "router-gen")
    rl.write(pf.path("routes.txt"), routes)
    rl.write(pf.path("router.yaml"), rl.router_yaml(
        [("gen0", "02:00:00:00:00:02", ["192.168.0.1/24"], None)],
        [("gen0", "192.168.0.2", "02:00:00:00:00:01"), ("gen0", "192.168.0.3", "02:00:00:00:00:03")],
        "routes.txt"))
    with pf:
        pf.start_nf("nf-router", "--service", "router", "--config", pf.path("router.yaml"))
        pf.wait_nfs(1)
        pf.ctl("port", "start", "gen0")
        st = wait_for("20000 frames through the router", lambda: drained(pf))
        c = next(n for n in st["nfs"] if n["service"] == "router")["counters"]
        tx = st["ports"][0]["tx"]
    # 1/256 of 10/8 is blackholed: about 78 of 20000
    check(c["rx"] == 20000 and c["bad_checksum"] == 0 and
          c["fwd_v4"] + c["blackhole"] == 20000 and 20 < c["blackhole"] < 200 and
          tx == c["fwd_v4"], f"counters {c}, gen0 tx {tx}")
    return f"20000 random destinations: {c['fwd_v4']} forwarded, {c['blackhole']} blackholed"
