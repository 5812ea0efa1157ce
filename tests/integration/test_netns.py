# SPDX-License-Identifier: BSD-3-Clause
"""Real clients through NetVM: two network namespaces joined by a pair of
ports (tap, af_packet, af_xdp) and a chain nf-firewall -> nf-forward.

Each port type carries the same traffic: ping (and a deny rule that stops
it), UDP datagrams that tshark in namespace B must see exactly as the
firewall allowed them, an iperf3 TCP run and an HTTP fetch checked by hash.
netvm-pktgen is tested over af_packet ports with veth pairs."""
import hashlib
import json
import os
import re
import signal
import subprocess
import threading

from netvmtest import Platform, TestFailure, binary, check, wait_for
from netnslib import A_IP, B_IP, Topology, have_tool, popen, sh

# Ports 7000-7999 are denied; everything else (ARP, ICMP, TCP) is allowed.
FW_RULES = "deny proto=udp dport=7000-7999\ndefault allow\n"
# The "block" service: a second firewall the ICMP rule of netvmd sends pings to.
BLOCK_RULES = "deny proto=icmp\ndefault allow\n"
UDP_PORTS = list(range(6990, 8011, 5))      # 205 datagrams, 200 of them in the denied range
SENTINEL = 8100                              # allowed, sent last

CFG = """
pool: {{buffers: 8192}}
ports:
{ports}services: [fw, fwd, block]
chains:
  main: [fw, fwd]
  blocked: [block, fwd]
default_chain: main
"""


def udp_burst(ns):
    """Send one datagram to each of UDP_PORTS, then the sentinel, from A."""
    code = ("import socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for p in {UDP_PORTS + [SENTINEL]!r}:\n"
            f"    s.sendto(b'netvm-%d' % p, ('{B_IP}', p))\n")
    sh("python3", "-c", code, ns=ns)


class Tshark:
    """tshark on b0 in namespace B printing the UDP destination port of each
    datagram to A's... address as it sees it (line-buffered)."""

    def __init__(self, ns):
        self.lines, self.err = [], []
        self.p = popen("tshark", "-l", "-n", "-i", "b0", "-f", f"udp and dst host {B_IP}",
                       "-T", "fields", "-e", "udp.dstport", ns=ns, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
        self.t_out = threading.Thread(target=self._read, args=(self.p.stdout, self.lines))
        self.t_err = threading.Thread(target=self._read, args=(self.p.stderr, self.err))
        self.t_out.start()
        self.t_err.start()
        wait_for("tshark to capture on b0",
                 lambda: any("Capturing on" in l for l in self.err) or self._dead(), 30)

    def _dead(self):
        if self.p.poll() is not None:
            raise TestFailure(f"tshark exited: {''.join(self.err)}")
        return False

    @staticmethod
    def _read(f, out):
        for line in f:
            out.append(line)

    def ports(self):
        return [int(l) for l in self.lines if l.strip().isdigit()]

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.t_out.join(5)
        self.t_err.join(5)


def port_stats(pf):
    return {p["name"]: p for p in pf.status()["ports"]}


def pool_idle(pf):
    """The pool is whole: free buffers plus those the ports lent the kernel
    (af_xdp fill rings; 'held', when the status reports it)."""
    st = pf.status()
    held = sum(p.get("held", 0) for p in st["ports"])
    return st["pool"]["free"] + held == st["pool"]["buffers"] or "held" not in st["ports"][0]


def run_clients(kind):
    for tool in ("ping", "iperf3", "curl", "tshark", "ethtool", "ss"):
        check(have_tool(tool), f"{tool} is not installed (scripts/setup.sh installs it)")
    topo = Topology(kind)
    notes = []
    try:
        topo.create()
        pf = Platform(CFG.format(ports=topo.ports_yaml()), f"netns-{kind}")
        with open(pf.path("fw.txt"), "w") as f:
            f.write(FW_RULES)
        with open(pf.path("block.txt"), "w") as f:
            f.write(BLOCK_RULES)
        with pf:
            fw = pf.start_nf("nf-firewall", "--service", "fw", "--rules", pf.path("fw.txt"))
            blk = pf.start_nf("nf-firewall", "--service", "block", "--rules",
                              pf.path("block.txt"), name="block")
            fwd = pf.start_nf("nf-forward", "--service", "fwd")
            pf.wait_nfs(3)
            topo.attach()
            info = [p for p in pf.log().splitlines() if "port 'pa'" in p]

            # 1. ping through fw -> fwd: every reply comes back.
            wait_for("a first ping reply (ARP through the chain)",
                     lambda: topo.ping(1, timeout=1)[1] == 1, timeout=30, interval=0.1)
            sent, got, rtt = topo.ping(10, interval=0.05)
            check(got == sent == 10, f"ping: {got} of {sent} replies")
            notes.append(f"ping 10/10 rtt {rtt:.2f} ms")
            # From here on nothing may be lost but what the firewalls drop.  (A
            # TAP device is up in the root namespace before the NFs attach,
            # where the kernel may send an IPv6 solicitation: counted nf_gone.)
            base = pf.status()["drops"]

            # 2. A deny rule: pings go to the 'block' firewall and stop.
            before = pf.status()["drops"]["nf_drop"]
            r = pf.ctl("rule", "add", "proto=icmp", "chain=blocked")
            rule_id = re.search(r"rule (\d+)", r.stdout).group(1)
            sent, got, _ = topo.ping(3, timeout=1)
            check(got == 0, f"ping with the deny rule: {got} replies of {sent}")
            drops = wait_for("the firewall's drops to show", lambda: (
                lambda d: d if d - before >= 3 else None)(pf.status()["drops"]["nf_drop"]))
            blk_nf = [n for n in pf.running_nfs() if n["service"] == "block"]
            check(blk_nf and blk_nf[0]["rx"] >= 3, f"block NF saw no pings: {blk_nf}")
            pf.ctl("rule", "del", rule_id)
            sent, got, _ = topo.ping(3)
            check(got == 3, f"ping after deleting the rule: {got} of {sent}")
            notes.append(f"deny rule: 0/3, nf_drop +{drops - before}")

            # 3. UDP: tshark on B sees exactly what the firewall allowed.  The
            # 206 datagrams fit every ring on the way (1024 / 512 entries), so
            # none can be lost to congestion whatever the scheduling.
            ts = Tshark(topo.ns_b)
            try:
                udp_burst(topo.ns_a)
                wait_for("the sentinel datagram at B", lambda: SENTINEL in ts.ports(), 30)
            finally:
                ts.stop()
            seen = ts.ports()
            allowed = [p for p in UDP_PORTS if not 7000 <= p <= 7999] + [SENTINEL]
            check(sorted(seen) == sorted(allowed),
                  f"tshark saw {len(seen)} datagrams, expected {len(allowed)}: "
                  f"extra {sorted(set(seen) - set(allowed))} missing "
                  f"{sorted(set(allowed) - set(seen))}")
            notes.append(f"tshark {len(seen)} allowed / 0 of "
                         f"{len(UDP_PORTS) + 1 - len(allowed)} denied")

            # 4. iperf3 TCP A -> B.
            srv = popen("iperf3", "-s", "-1", "-B", B_IP, ns=topo.ns_b, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True)
            try:
                wait_for("iperf3 to listen", lambda: topo.listening(topo.ns_b, 5201), 15)
                r = sh("iperf3", "-c", B_IP, "-t", "3", "-J", ns=topo.ns_a, timeout=60)
                res = json.loads(r.stdout)
                gbps = res["end"]["sum_received"]["bits_per_second"] / 1e9
                check(res["end"]["sum_received"]["bytes"] > 0, "iperf3 moved no data")
                notes.append(f"iperf3 {gbps:.2f} Gbit/s")
            finally:
                try:
                    srv.wait(15)
                except subprocess.TimeoutExpired:
                    srv.kill()
                    srv.wait()

            # 5. HTTP: curl from A fetches a file from B, intact.
            www = pf.path("www")
            os.mkdir(www)
            blob = os.urandom(3 << 20)
            with open(os.path.join(www, "blob.bin"), "wb") as f:
                f.write(blob)
            http = popen("python3", "-m", "http.server", "8080", "--bind", B_IP,
                         "--directory", www, ns=topo.ns_b, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
            try:
                wait_for("the HTTP server to listen", lambda: topo.listening(topo.ns_b, 8080), 15)
                out = pf.path("fetched.bin")
                sh("curl", "-sS", "--fail", "-o", out, f"http://{B_IP}:8080/blob.bin",
                   ns=topo.ns_a, timeout=60)
                with open(out, "rb") as f:
                    got = hashlib.sha256(f.read()).hexdigest()
                check(got == hashlib.sha256(blob).hexdigest(), "HTTP: the file came back altered")
                notes.append("http 3 MiB sha256 ok")
            finally:
                http.kill()
                http.wait()

            # Counters: the firewall dropped exactly the denied datagrams and
            # the pings of step 2; the ports moved everything else.
            st = pf.status()
            denied = len(UDP_PORTS) + 1 - len(allowed)
            check(st["drops"]["nf_drop"] - base["nf_drop"] == 3 + denied,
                  f"nf_drop grew by {st['drops']['nf_drop'] - base['nf_drop']}, expected "
                  f"3 pings + {denied} datagrams")
            ps = {p["name"]: p for p in st["ports"]}
            check(ps["pa"]["rx"] > 0 and ps["pb"]["tx"] > 0, f"port counters: {ps}")
            # iperf3's TCP may outrun an NF or a port (ring_full, port_tx):
            # congestion, counted and recovered by TCP.  These never happen:
            for k in ("no_route", "bad_desc", "nf_gone"):
                check(st["drops"][k] == base[k], f"drops.{k}: {base[k]} -> {st['drops'][k]}")
            cong = sum(st["drops"][k] - base[k] for k in ("ring_full", "port_tx"))
            if cong:
                notes.append(f"{cong} congestion drops counted")
            for n in (fw, blk, fwd):
                pf.stop_nf(n)
            wait_for("the pool to be whole again", lambda: pool_idle(pf), 15)
            log = pf.stop()
        m = re.findall(r"pool (\d+)/(\d+) free", log)
        if kind == "af_xdp":
            check(m and m[-1][0] == m[-1][1], f"af_xdp buffers not all back at exit: {m}")
        mode = re.search(r"port 'pa': (\S+ \S+[^(]*)", "\n".join(info))
        return f"[{mode.group(1).strip() if mode else kind}] " + ", ".join(notes)
    finally:
        topo.cleanup()


def test_netns_tap():
    """ping, deny, tshark, iperf3, curl between namespaces over TAP ports."""
    return run_clients("tap")


def test_netns_af_packet():
    """The same traffic over AF_PACKET ports on veth pairs."""
    return run_clients("af_packet")


def test_netns_af_xdp():
    """The same traffic over AF_XDP ports (UMEM = the pool) on veth pairs."""
    return run_clients("af_xdp")


def test_netns_pktgen():
    """netvm-pktgen sends through netvmd (af_packet in, fwd, af_packet out) and
    measures: no loss, no reordering, latency percentiles reported."""
    tag = f"{os.getpid() % 100000}"
    links = [(f"pg{tag}a0", f"pg{tag}a1"), (f"pg{tag}b0", f"pg{tag}b1")]
    try:
        for a, b in links:
            sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            for v in (a, b):
                sh("sysctl", "-qw", f"net.ipv6.conf.{v}.disable_ipv6=1")
                sh("ip", "link", "set", v, "up")
        cfg = (f"pool: {{buffers: 8192}}\nports:\n"
               f"  - {{name: in, type: af_packet, ifname: {links[0][1]}, output: out}}\n"
               f"  - {{name: out, type: af_packet, ifname: {links[1][1]}, output: in}}\n"
               "services: [fwd]\nchains: {main: [fwd]}\ndefault_chain: main\n")
        with Platform(cfg, "pktgen") as pf:
            fwd = pf.start_nf("nf-forward", "--service", "fwd")
            pf.wait_nfs(1)
            count = 5000
            r = subprocess.run([binary("netvm-pktgen"), "--tx", links[0][0], "--rx", links[1][0],
                                "--rate", "5k", "--count", str(count), "--flows", "64",
                                "--size", "128", "--drain", "10", "--json", "-q"],
                               capture_output=True, text=True, timeout=120)
            check(r.returncode == 0, f"netvm-pktgen failed: {r.stderr}")
            res = json.loads(r.stdout.strip().splitlines()[-1])
            check(res["sent"] == count, f"sent {res['sent']} of {count}")
            st = pf.status()
            check(res["lost"] == 0, f"pktgen lost {res['lost']} packets: {res}; netvmd {st}")
            check(res["reordered"] == 0, f"pktgen saw {res['reordered']} reordered")
            lat = res["latency_us"]
            check(lat["n"] == count and 0 < lat["p50"] <= lat["p99"] <= lat["p99_9"] <= lat["max"],
                  f"latency figures: {lat}")
            pf.stop_nf(fwd)
            pf.stop()
        return (f"{count} sent, 0 lost, 0 reordered; latency p50 {lat['p50']:.1f} "
                f"p99 {lat['p99']:.1f} p99.9 {lat['p99_9']:.1f} us")
    finally:
        for a, _ in links:
            sh("ip", "link", "del", a, check_rc=False)
