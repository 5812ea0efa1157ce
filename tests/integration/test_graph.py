# SPDX-License-Identifier: BSD-3-Clause
"""Graph chains: an NF picks an output per packet (nf-firewall's
`allow ... output=N`), the chain's links say where each output leads, the
graph is changed at run time with netvmctl, and cycles are refused."""
from scapy.all import IP, TCP, UDP, Ether

from netvmtest import Platform, accounting, check, drained, wait_for
from test_platform import flowlog, write_frames

CFG = """
ports:
  - {name: in0, type: pcap, read: in.pcap, write: out.pcap, paused: true}
services: [cls, web, rest]
chains:
  g:
    hops: [cls, rest, web]
    links: {cls.1: web, rest: out}
default_chain: g
"""
RULES = "allow proto=tcp dport=80 output=1\nallow proto=udp dport=53 output=2\ndefault allow\n"


def frames():
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    web = [e / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1000 + i, dport=80)
           for i in range(30)]
    rest = [e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + i, dport=5000)
            for i in range(20)]
    dns = [e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + i, dport=53)
           for i in range(10)]
    return [bytes(f) for f in web + rest + dns]


def test_graph_chain_branches():
    pf = Platform(CFG, "graph")
    write_frames(pf.path("in.pcap"), frames())
    with open(pf.path("rules.txt"), "w") as f:
        f.write(RULES)
    with pf:
        pf.start_nf("nf-firewall", "--service", "cls", "--rules", pf.path("rules.txt"))
        web = pf.start_nf("nf-flowlog", "web", name="web")
        rest = pf.start_nf("nf-flowlog", "rest", name="rest")
        pf.wait_nfs(3)
        chains = pf.ctl("chains").stdout
        check("cls.1 -> web" in chains and "rest.0 -> out" in chains, f"chains: {chains}")
        # A cycle is refused, and nothing changes.
        r = pf.ctl("chain", "set", "g", "cls,rest,web", "rest=cls", "web=rest", check_rc=False)
        check(r.returncode == 1 and "the links make a cycle" in r.stderr, f"cycle: {r.stderr}")
        r = pf.ctl("chain", "set", "g", "cls,rest,web", "cls.1=nowhere", check_rc=False)
        check(r.returncode == 1 and "'nowhere' is not a hop" in r.stderr, r.stderr)
        st = pf.status()
        check(st["chains"][0]["links"] == {"cls.1": "web", "rest.0": "out"}, st["chains"])
        pf.ctl("port", "start", "in0")
        st = wait_for("the pcap through the graph", lambda: drained(pf))
        rx, tx, drops = accounting(st)
        lw, lr = flowlog(pf.stop_nf(web)), flowlog(pf.stop_nf(rest))
    check(lw["packets"] == 30, f"web got {lw['packets']} of the 30 TCP/80 packets")
    check(lr["packets"] == 20, f"rest got {lr['packets']} of the 20 UDP/5000 packets")
    check(rx == 60 and tx == 50 and st["drops"]["no_route"] == 10 and drops == 10,
          f"rx {rx} tx {tx} drops {st['drops']}")
    return ("cls (nf-firewall) output 1 -> web: 30, output 0 -> rest -> out: 20, output 2 "
            "unlinked: 10 no_route; a cycle and an unknown hop refused by netvmctl")


def test_graph_changed_at_run_time():
    """The same graph rewired with netvmctl: web traffic now goes to rest too."""
    pf = Platform(CFG, "graph-rt")
    write_frames(pf.path("in.pcap"), frames())
    with open(pf.path("rules.txt"), "w") as f:
        f.write(RULES)
    with pf:
        pf.start_nf("nf-firewall", "--service", "cls", "--rules", pf.path("rules.txt"))
        web = pf.start_nf("nf-flowlog", "web", name="web")
        rest = pf.start_nf("nf-flowlog", "rest", name="rest")
        pf.wait_nfs(3)
        # output 1 -> rest (which leaves by out), output 2 -> the port, explicitly
        pf.ctl("chain", "set", "g", "cls,rest,web", "cls.1=rest", "cls.2=port:in0", "rest=out")
        pf.ctl("port", "start", "in0")
        st = wait_for("the pcap through the rewired graph", lambda: drained(pf))
        rx, tx, drops = accounting(st)
        lw, lr = flowlog(pf.stop_nf(web)), flowlog(pf.stop_nf(rest))
    check(lw["packets"] == 0 and lr["packets"] == 50, f"web {lw['packets']} rest {lr['packets']}")
    check(rx == 60 and tx == 60 and drops == 0, f"rx {rx} tx {tx} drops {st['drops']}")
    return "rewired at run time: 50 through rest, 10 straight to port in0, web none"
