# SPDX-License-Identifier: BSD-3-Clause
"""nf-nat with real clients: a private namespace reaches a server namespace
through netvmd (af_packet ports on veth pairs) and nf-nat as a bump in the
wire, and the same client programs run through a Linux namespace router with
nftables MASQUERADE for comparison.

    A (a0 10.77.0.1, gw 10.77.0.254) -- pa [netvmd: nf-nat] pb -- (b0 10.78.0.2) B
                                         public address 10.78.0.1

There is no router: static neighbour entries make L2 right (A's gateway is
b0's MAC, B's entry for the public address is a0's MAC), and hairpinned
packets go back out of pa with their MACs swapped (hairpin: port).  The
programs are tests/integration/natprobe.py."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

from netvmtest import Platform, TestFailure, check, wait_for
from netnslib import have_tool, popen, sh

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "natprobe.py")
CLIENT, GW, PUBLIC, SERVER = "10.77.0.1", "10.77.0.254", "10.78.0.1", "10.78.0.2"
ECHO_PORT, CLOSED_PORT = 9000, 9999
UDP_TIMEOUT_S = 12

NAT_CFG = f"""# nf-nat as a bump in the wire between pa (inside) and pb (outside)
inside: [pa]
outside: [pb]
public: [{PUBLIC}]
max_mappings: 20000
timeouts:
  udp: {UDP_TIMEOUT_S}s
  icmp: {UDP_TIMEOUT_S}s
hairpin: port
"""

CFG = """
pool: {{buffers: 16384}}
ports:
  - {{name: pa, type: af_packet, ifname: {a}, output: pb}}
  - {{name: pb, type: af_packet, ifname: {b}, output: pa}}
services: [nat]
chains:
  main: [nat]
default_chain: main
"""


def probe(ns, *args, timeout=120):
    r = sh(sys.executable, PROBE, *map(str, args), ns=ns, timeout=timeout)
    return json.loads(r.stdout.strip().splitlines()[-1])


def mac(ns, ifname):
    return json.loads(sh("ip", "-j", "link", "show", ifname, ns=ns).stdout)[0]["address"]


def quiet_link(ifname, ns=None):
    sh("sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1", ns=ns, check_rc=False)
    sh("ip", "link", "set", ifname, "up", ns=ns)


class Namespaces:
    """Namespaces and veth pairs made for one test, removed by cleanup()."""

    def __init__(self, tag):
        self.tag = f"{tag}{os.getpid() % 100000}"
        self.ns, self.links = [], []

    def add_ns(self, name):
        ns = f"{name}{self.tag}"
        sh("ip", "netns", "add", ns)
        self.ns.append(ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
        return ns

    def veth(self, a, ns_a, b, ns_b):
        """A veth pair a (in ns_a, None: here) <-> b (in ns_b)."""
        args = ["ip", "link", "add", a]
        if ns_a:
            args += ["netns", ns_a]
        args += ["type", "veth", "peer", "name", b, "netns", ns_b]
        sh(*args)
        self.links.append((a, ns_a))
        for ifname, ns in ((a, ns_a), (b, ns_b)):
            quiet_link(ifname, ns)
            # veth hands its peer unchecksummed, TSO-sized frames: the NAT
            # must see what would be on a wire.
            sh("ethtool", "-K", ifname, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
               ns=ns, check_rc=False)

    def cleanup(self):
        for ns in self.ns:
            sh("ip", "netns", "del", ns, check_rc=False)
        for link, ns in self.links:
            if not ns:
                sh("ip", "link", "del", link, check_rc=False)


def require_tools():
    for tool in ("iperf3", "curl", "ethtool", "ss"):
        check(have_tool(tool), f"{tool} is not installed (scripts/setup.sh installs it)")


class Server:
    """The programs in the server namespace: UDP echo, HTTP, iperf3."""

    def __init__(self, ns, addr, workdir):
        self.ns, self.addr, self.procs = ns, addr, []
        self.www = os.path.join(workdir, "www")
        os.makedirs(self.www, exist_ok=True)
        self.blob = os.urandom(4 << 20)
        with open(os.path.join(self.www, "blob.bin"), "wb") as f:
            f.write(self.blob)
        self.http_log = os.path.join(workdir, "http.log")
        self.start(sys.executable, PROBE, "echo-server", addr, ECHO_PORT)
        self.start(sys.executable, "-m", "http.server", "8080", "--bind", addr, "--directory",
                   self.www, stderr=open(self.http_log, "w"))
        wait_for("the servers to listen", lambda: self.listening(8080, "t") and
                 self.listening(ECHO_PORT, "u"), 15)

    def start(self, *argv, stderr=subprocess.DEVNULL):
        p = popen(*map(str, argv), ns=self.ns, stdout=subprocess.DEVNULL, stderr=stderr)
        self.procs.append(p)
        return p

    def listening(self, port, proto):
        return f":{port} " in sh("ss", f"-ln{proto}", ns=self.ns).stdout

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


def iperf3(client_ns, server_ns, server, udp):
    srv = popen("iperf3", "-s", "-1", "-B", server, "-J", ns=server_ns, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True)
    try:
        wait_for("iperf3 to listen", lambda: ":5201 " in sh("ss", "-ltn", ns=server_ns).stdout, 15)
        args = ["iperf3", "-c", server, "-t", "3", "-J"] + (["-u", "-b", "100M"] if udp else [])
        res = json.loads(sh(*args, ns=client_ns, timeout=60).stdout)
        srv_out, _ = srv.communicate(timeout=15)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    remote = json.loads(srv_out)["start"]["connected"][0]["remote_host"]
    end = res["end"]
    if udp:
        s = end["sum"]
        return s["bits_per_second"] / 1e6, s.get("lost_percent", 0.0), remote
    return end["sum_received"]["bits_per_second"] / 1e6, 0.0, remote


def curl_check(client_ns, server, srv, workdir):
    out = os.path.join(workdir, "fetched.bin")
    sh("curl", "-sS", "--fail", "-o", out, f"http://{server}:8080/blob.bin", ns=client_ns,
       timeout=60)
    with open(out, "rb") as f:
        got = hashlib.sha256(f.read()).hexdigest()
    check(got == hashlib.sha256(srv.blob).hexdigest(), "HTTP: the file came back altered")
    with open(srv.http_log) as f:
        clients = {line.split()[0] for line in f if "GET" in line}
    return got, clients


def nat_counters(pf):
    return next(n for n in pf.status()["nfs"] if n["service"] == "nat")["counters"]


def test_nat_clients():
    """curl (sha256), iperf3 TCP and UDP, ICMP port unreachable translated
    back with its embedded header, unsolicited inbound dropped, hairpinning,
    10,000 concurrent UDP mappings, their expiry; the server sees only the
    public address."""
    require_tools()
    nss = Namespaces("nn")
    notes = []
    try:
        a, b = nss.add_ns("nnA"), nss.add_ns("nnB")
        host_a, host_b = f"na{nss.tag}", f"nb{nss.tag}"
        nss.veth(host_a, None, "a0", a)
        nss.veth(host_b, None, "b0", b)
        sh("ip", "addr", "add", f"{CLIENT}/24", "dev", "a0", ns=a)
        sh("ip", "route", "add", "default", "via", GW, ns=a)
        sh("ip", "neigh", "replace", GW, "lladdr", mac(b, "b0"), "dev", "a0", "nud", "permanent",
           ns=a)
        sh("ip", "addr", "add", f"{SERVER}/24", "dev", "b0", ns=b)
        sh("ip", "neigh", "replace", PUBLIC, "lladdr", mac(a, "a0"), "dev", "b0", "nud",
           "permanent", ns=b)

        pf = Platform(CFG.format(a=host_a, b=host_b), "nat")
        with open(pf.path("nat.yaml"), "w") as f:
            f.write(NAT_CFG)
        with pf:
            nat = pf.start_nf("nf-nat", "--service", "nat", "--config", pf.path("nat.yaml"))
            pf.wait_nfs(1)
            srv = Server(b, SERVER, pf.dir)
            try:
                # 1. A first exchange, and who the server sees.
                who = probe(a, "whoami", SERVER, ECHO_PORT)
                check(who["seen_as"].startswith(PUBLIC + ":"), f"server saw {who}")

                # 2. HTTP download, sha256.
                digest, clients = curl_check(a, SERVER, srv, pf.dir)
                check(clients == {PUBLIC}, f"the HTTP server saw clients {clients}")
                notes.append(f"curl 4 MiB sha256 {digest[:12]}.. ok")

                # 3. iperf3 TCP and UDP.
                tcp, _, r1 = iperf3(a, b, SERVER, udp=False)
                udp, lost, r2 = iperf3(a, b, SERVER, udp=True)
                check(r1 == PUBLIC and r2 == PUBLIC, f"iperf3 server saw {r1}, {r2}")
                check(tcp > 0 and udp > 0, f"iperf3 moved nothing: {tcp} {udp}")
                notes.append(f"iperf3 TCP {tcp:.0f} Mbit/s, UDP {udp:.0f} Mbit/s "
                             f"({lost:.1f}% lost)")

                # 4. ICMP port unreachable from the server reaches the socket.
                err = probe(a, "icmp-error", "a0", SERVER, CLOSED_PORT)
                check(err.get("refused"), f"no ECONNREFUSED on the client: {err}")
                check(err.get("type") == 3 and err.get("code") == 3 and
                      err["outer_dst"] == CLIENT and err["inner_src"] == CLIENT and
                      err["inner_sport"] == err["local"][1] and
                      err["inner_dst"] == SERVER and err["inner_dport"] == CLOSED_PORT,
                      f"ICMP error not translated back: {err}")
                for k in ("ip_csum_ok", "icmp_csum_ok", "inner_ip_csum_ok", "inner_udp_csum_ok"):
                    check(err.get(k) is True, f"{k} false: {err}")
                notes.append("port unreachable translated back (outer, embedded IP and UDP, "
                             "all checksums right)")

                # 5. Unsolicited inbound: dropped silently and counted.
                before = nat_counters(pf)["drop_no_mapping"]
                uns = probe(b, "unsolicited", "b0", PUBLIC)
                got = wait_for("the drops counted", lambda: (
                    lambda d: d if d >= before + 4 else None)(nat_counters(pf)["drop_no_mapping"]))
                check(uns["icmp_back"] == 0 and uns["tcp_syn"] == "timeout", f"inbound: {uns}")
                notes.append(f"unsolicited inbound: {got - before} dropped, nothing answered")

                # 6. Hairpinning: two inside sockets through the public address.
                hp = probe(a, "hairpin", CLIENT, PUBLIC, SERVER, ECHO_PORT)
                check(hp["a_got_from"] == hp["b_public"] and hp["b_got_from"] == hp["a_public"],
                      f"hairpin: {hp}")
                check(nat_counters(pf)["hairpin"] >= 2, "no hairpin counted")
                notes.append("hairpin both ways, peers seen as their public address:port")

                # 7. 10,000 concurrent UDP mappings.
                c0 = nat_counters(pf)
                many = probe(a, "many", 10000, SERVER, ECHO_PORT)
                c1 = nat_counters(pf)
                check(many["answered"] == 10000 and many["distinct_seen"] == 10000,
                      f"10,000 sockets: {many}")
                check(many["seen_addrs"] == [PUBLIC], f"the server saw {many['seen_addrs']}")
                stats = probe(a, "whoami", SERVER, ECHO_PORT)["stats"]
                check(stats["addrs"] == [PUBLIC] and stats["sources"] >= 10000,
                      f"the server's sources: {stats}")
                check(c1["mappings"] >= 10000, f"mappings {c1['mappings']}")
                notes.append(f"{many['answered']} sockets answered in {many['seconds']} s, "
                             f"server: {stats['sources']} distinct sources all from {PUBLIC}; "
                             f"mappings {c1['mappings']} (created +"
                             f"{c1['mappings_created'] - c0['mappings_created']})")

                # 8. They expire on the timer (udp: 12 s here), with no traffic.
                made = c1["mappings_created"] - c0["mappings_created"]
                try:
                    st = wait_for("the UDP mappings to expire", lambda: (
                        lambda c: c if c["expired"] - c1["expired"] >= made and
                        c["mappings"] < 100 else None)(nat_counters(pf)),
                        timeout=UDP_TIMEOUT_S + 15, interval=0.5)
                except TestFailure:
                    st = nat_counters(pf)
                    raise TestFailure(f"{made} mappings made, {st['expired'] - c1['expired']} "
                                      f"expired, {st['mappings']} left")
                notes.append(f"expired {st['expired']}, mappings now {st['mappings']}")
            finally:
                srv.stop()
            c = nat_counters(pf)
            for k in ("drop_malformed", "drop_exhausted", "drop_table_full", "drop_icmp_error",
                      "drop_proto"):
                check(c[k] == 0, f"{k} = {c[k]}: {c}")
            pf.stop_nf(nat)
            pf.stop()
        return "; ".join(notes)
    finally:
        nss.cleanup()


def test_nat_vs_masquerade():
    """The same client programs through a Linux namespace router with
    nftables masquerade: what a client and a server observe there, against
    what test_nat_clients asserts of nf-nat (docs/nf-nat.md has the table)."""
    require_tools()
    check(have_tool("nft"), "nft is not installed (scripts/setup.sh installs nftables)")
    nss = Namespaces("nm")
    try:
        a, r, b = nss.add_ns("nmA"), nss.add_ns("nmR"), nss.add_ns("nmB")
        nss.veth("a0", a, "ra", r)
        nss.veth("rb", r, "b0", b)
        sh("ip", "addr", "add", f"{CLIENT}/24", "dev", "a0", ns=a)
        sh("ip", "route", "add", "default", "via", GW, ns=a)
        sh("ip", "addr", "add", f"{GW}/24", "dev", "ra", ns=r)
        sh("ip", "addr", "add", f"{PUBLIC}/24", "dev", "rb", ns=r)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=r)
        sh("nft", "-f", "-", ns=r, input="table ip nat { chain post { type nat hook postrouting "
           "priority 100; oifname \"rb\" masquerade; }; }")
        sh("ip", "addr", "add", f"{SERVER}/24", "dev", "b0", ns=b)
        workdir = os.path.join("/tmp", f"netvm-masq-{nss.tag}")
        srv = Server(b, SERVER, workdir)
        try:
            who = probe(a, "whoami", SERVER, ECHO_PORT)
            check(who["seen_as"].startswith(PUBLIC + ":"), f"server saw {who}")
            err = probe(a, "icmp-error", "a0", SERVER, CLOSED_PORT)
            check(err.get("refused") and err.get("inner_src") == CLIENT and
                  err.get("inner_sport") == err["local"][1] and
                  all(err.get(k) for k in ("ip_csum_ok", "icmp_csum_ok", "inner_ip_csum_ok",
                                           "inner_udp_csum_ok")),
                  f"MASQUERADE's ICMP error: {err}")
            uns = probe(b, "unsolicited", "b0", PUBLIC)
            check(uns["icmp_back"] > 0 and uns["tcp_syn"] == "refused",
                  f"MASQUERADE, unsolicited inbound: {uns}")
            hp = probe(a, "hairpin", CLIENT, PUBLIC, SERVER, ECHO_PORT)
            check(hp["a_got_from"] is None, f"MASQUERADE hairpinned: {hp}")
        finally:
            srv.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        return ("Linux MASQUERADE: the server sees the public address (as nf-nat); port "
                "unreachable reaches the socket translated back, checksums right (as nf-nat); "
                f"unsolicited inbound answered by the router ({uns['icmp_back']} ICMP, TCP "
                "refused; nf-nat: dropped silently, counted); no hairpinning (nf-nat: both ways)")
    finally:
        nss.cleanup()


def test_nat_usage_and_docs():
    """nf-nat --help lists every counter, --check loads a configuration and
    a bad one is refused with file:line before attaching; every counter of
    nfs/nat/nat.h is in docs/nf-nat.md."""
    from netvmtest import binary
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    with open(os.path.join(root, "nfs", "nat", "nat.h")) as f:
        names = re.findall(r"^\s*X\((\w+), \"", f.read(), re.M)
    check(len(names) >= 15, f"NAT_COUNTERS not found: {names}")
    with open(os.path.join(root, "docs", "nf-nat.md")) as f:
        doc = f.read()
    missing = [c for c in names if f"`{c}`" not in doc]
    check(not missing, f"docs/nf-nat.md does not document counters {missing}")
    h = subprocess.run([binary("nf-nat"), "--help"], capture_output=True, text=True, timeout=10)
    check(h.returncode == 0 and all(f"  {c} " in h.stdout for c in names),
          f"--help: {h.returncode} {h.stdout}")
    tmp = os.path.join("/tmp", f"netvm-natcli-{os.getpid()}.yaml")
    try:
        with open(tmp, "w") as f:
            f.write(NAT_CFG)
        r = subprocess.run([binary("nf-nat"), "--check", "--config", tmp], capture_output=True,
                           text=True, timeout=10)
        check(r.returncode == 0 and "public 10.78.0.1" in r.stderr and
              "below the minimum of RFC 4787" in r.stderr, f"--check: {r.stderr}")
        with open(tmp, "w") as f:
            f.write(NAT_CFG.replace("hairpin: port", "hairpin: sideways"))
        r = subprocess.run([binary("nf-nat"), "--service", "nat", "--config", tmp],
                           capture_output=True, text=True, timeout=10,
                           env=dict(os.environ, NETVM_SOCKET="/nonexistent/sock"))
        line = NAT_CFG.splitlines().index("hairpin: port") + 1
        check(r.returncode == 1 and f"{tmp}:{line}: hairpin must be next, port or drop" in
              r.stderr and "attach" not in r.stderr, f"bad configuration: {r.stderr}")
    finally:
        os.unlink(tmp)
    return f"{len(names)} counters in --help and docs/nf-nat.md; bad file refused at line {line}"
