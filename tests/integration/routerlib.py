# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for nf-router's integration tests: raw AF_PACKET sockets to send
and capture frames on an interface of the root namespace, Internet
checksums, and the router's configuration written from one description."""
import os
import select
import socket
import time

from netvmtest import check

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def rawsock(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def drain(socks):
    for s in socks:
        while True:
            try:
                s.recv(65535)
            except BlockingIOError:
                break


def collect(socks, until, timeout=5.0):
    """Read frames that arrive on {name: socket} until until(name, frame)
    has been true for every name (each socket's marker frame), or fail
    after timeout.  Frames this host sent and link-layer multicast
    (IPv6 MLD, router solicitations: the kernel's own chatter) are left
    out; the markers too.  Returns {name: [frame, ...]} in arrival order."""
    got = {n: [] for n in socks}
    pending = set(socks)
    deadline = time.monotonic() + timeout
    while pending:
        left = deadline - time.monotonic()
        check(left > 0, f"no marker frame on {sorted(pending)} within {timeout}s")
        ready, _, _ = select.select(list(socks.values()), [], [], min(left, 0.2))
        for name, s in socks.items():
            if s not in ready:
                continue
            while True:
                try:
                    data, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING or data[0] & 1:
                    continue
                if until(name, data):
                    pending.discard(name)
                    continue
                got[name].append(data)
    return got


def csum(data):
    """The ones' complement sum of data, folded: 0 when a checksum over it holds."""
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def router_yaml(ifaces, neighbours=(), routes=None, extra=""):
    """ifaces: [(port, mac, [addresses], mtu or None)]; neighbours: [(port, ip, mac)]."""
    y = "interfaces:\n"
    for port, mac, addrs, mtu in ifaces:
        y += f"  - {{port: {port}, mac: '{mac}', addresses: [{', '.join(addrs)}]"
        y += f", mtu: {mtu}}}\n" if mtu else "}\n"
    if neighbours:
        y += "static_neighbours:\n"
        for port, ip, mac in neighbours:
            y += f"  - {{port: {port}, ip: '{ip}', mac: '{mac}'}}\n"
    if routes:
        y += f"routes: {routes}\n"
    return y + extra


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def nf_counters(pf, service="router"):
    st = pf.status()
    return next(n for n in st["nfs"] if n["service"] == service)["counters"]


def uniq_tag():
    return f"{os.getpid() % 10000}{int(time.monotonic() * 1000) % 1000}"
