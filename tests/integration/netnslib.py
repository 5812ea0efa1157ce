# SPDX-License-Identifier: BSD-3-Clause
"""Network-namespace topologies for NetVM tests with real clients.

    namespace A (a0, 10.77.0.1)  <->  netvmd port pa  ==chain==  port pb  <->  (b0, 10.77.0.2) namespace B

For af_packet and af_xdp, a0/b0 are veths whose peers stay in the root
namespace for netvmd to open.  For tap, netvmd creates the TAP devices and
the topology moves them into the namespaces.  Every name is unique to the
test process and everything is removed by cleanup().  IPv6 is off in the
namespaces unless Topology(kind, ipv6=True): then a0/b0 also get A6_IP/B6_IP."""
import itertools
import json
import os
import re
import subprocess

from netvmtest import TestFailure, check, require, wait_for

_seq = itertools.count()
A_IP, B_IP = "10.77.0.1", "10.77.0.2"
A6_IP, B6_IP = "fd77::1", "fd77::2"


def sh(*argv, ns=None, check_rc=True, timeout=60, **kw):
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc and r.returncode != 0:
        raise TestFailure(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def popen(*argv, ns=None, **kw):
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    return subprocess.Popen(argv, **kw)


def have_tool(name):
    return subprocess.run(["sh", "-c", f"command -v {name}"], capture_output=True).returncode == 0


class Topology:
    """Two namespaces joined through a pair of NetVM ports of type `kind`."""

    def __init__(self, kind, ipv6=False):
        self.kind = kind
        self.ipv6 = ipv6
        tag = f"{os.getpid() % 100000}{next(_seq)}"
        self.ns_a, self.ns_b = f"nvA{tag}", f"nvB{tag}"
        self.host_a, self.host_b = f"nv{tag}a", f"nv{tag}b"  # what netvmd opens
        self.made_ns = []
        self.made_links = []

    # -- before netvmd starts --------------------------------------------------
    def create(self):
        require(os.geteuid() == 0, "network namespaces and veth pairs need root")
        if self.kind == "tap":
            require(os.path.exists("/dev/net/tun"), "no /dev/net/tun for TAP ports")
        for ns in (self.ns_a, self.ns_b):
            sh("ip", "netns", "add", ns)
            self.made_ns.append(ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            if not self.ipv6:
                sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
        if self.kind == "tap":
            return
        for host, ns in ((self.host_a, self.ns_a), (self.host_b, self.ns_b)):
            inner = "a0" if ns == self.ns_a else "b0"
            sh("ip", "link", "add", host, "type", "veth", "peer", "name", inner, "netns", ns)
            self.made_links.append(host)
            sh("sysctl", "-qw", f"net.ipv6.conf.{host}.disable_ipv6=1")
            sh("ip", "link", "set", host, "up")
        self._configure()

    def ports_yaml(self):
        extra = ""
        if self.kind == "af_xdp":
            extra = ", mode: auto, zerocopy: auto"
        return (f"  - {{name: pa, type: {self.kind}, ifname: {self.host_a}, output: pb{extra}}}\n"
                f"  - {{name: pb, type: {self.kind}, ifname: {self.host_b}, output: pa{extra}}}\n")

    # -- after netvmd has opened its ports -----------------------------------------
    def attach(self):
        if self.kind != "tap":
            return
        for host, ns, inner in ((self.host_a, self.ns_a, "a0"), (self.host_b, self.ns_b, "b0")):
            sh("ip", "link", "set", host, "netns", ns)
            sh("ip", "link", "set", host, "name", inner, ns=ns)
        self._configure()

    def _configure(self):
        for ns, inner, ip in ((self.ns_a, "a0", A_IP), (self.ns_b, "b0", B_IP)):
            sh("ip", "addr", "add", f"{ip}/24", "dev", inner, ns=ns)
            if self.ipv6:
                # nodad: usable at once, not after duplicate address detection.
                ip6 = A6_IP if ns == self.ns_a else B6_IP
                sh("ip", "-6", "addr", "add", f"{ip6}/64", "dev", inner, "nodad", ns=ns)
            sh("ip", "link", "set", inner, "up", ns=ns)
            if self.kind != "tap":
                # veth hands the peer unchecksummed (and TSO-sized) frames;
                # a port on the peer must get what is on the wire.
                sh("ethtool", "-K", inner, "tx", "off", "tso", "off", "gso", "off", ns=ns)
        wait_for("a0 and b0 to be up", lambda: all(
            "state UP" in sh("ip", "link", "show", i, ns=n).stdout or
            "LOWER_UP" in sh("ip", "link", "show", i, ns=n).stdout
            for n, i in ((self.ns_a, "a0"), (self.ns_b, "b0"))), timeout=15)

    def cleanup(self):
        for ns in self.made_ns:
            sh("ip", "netns", "del", ns, check_rc=False)
        for link in self.made_links:
            sh("ip", "link", "del", link, check_rc=False)

    # -- clients ---------------------------------------------------------------------
    def ping(self, count, timeout=2, interval=0.2):
        """(sent, received, avg rtt ms) of a ping from A to B."""
        r = sh("ping", "-n", "-c", str(count), "-i", str(interval), "-W", str(timeout), B_IP,
               ns=self.ns_a, check_rc=False, timeout=count * (interval + timeout) + 10)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
        check(m, f"ping printed no summary: {r.stdout} {r.stderr}")
        rtt = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
        return int(m.group(1)), int(m.group(2)), float(rtt.group(1)) if rtt else None

    def mac(self, ns, ifname):
        """The MAC address of interface ifname in namespace ns."""
        return json.loads(sh("ip", "-j", "link", "show", ifname, ns=ns).stdout)[0]["address"]

    def listening(self, ns, port, proto="t"):
        out = sh("ss", f"-l{proto}n", ns=ns).stdout
        return re.search(rf"[:.]{port}\s", out) is not None
