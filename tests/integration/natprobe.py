#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Clients and a server for the NAT tests (tests/integration/test_nat.py),
run inside network namespaces; each command prints one JSON line.

  natprobe.py echo-server ADDR PORT      UDP: answer each datagram with the
                                         source "ip:port" it came from; "stats"
                                         gets the distinct sources seen
  natprobe.py whoami SERVER PORT         where the server sees us from
  natprobe.py many N SERVER PORT         N sockets, one datagram each, every
                                         one answered (resent while not)
  natprobe.py icmp-error IFACE SERVER PORT   UDP to a closed port: the error
                                         reaches this socket (ECONNREFUSED); the
                                         captured ICMP's embedded header and
                                         every checksum are checked from scratch
  natprobe.py hairpin LOCAL PUBLIC SERVER PORT   two sockets reach each other
                                         through the public address
  natprobe.py unsolicited IFACE PUBLIC   UDP to PUBLIC:80 (no mapping): what comes back
"""
import json
import resource
import select
import socket
import struct
import sys
import threading
import time


def out(obj):
    print(json.dumps(obj), flush=True)


def echo_server(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, int(port)))
    seen = set()
    out({"listening": port})
    while True:
        data, src = s.recvfrom(2048)
        if data == b"stats":
            s.sendto(json.dumps({"sources": len(seen),
                                 "addrs": sorted({a for a, _ in seen})}).encode(), src)
            continue
        seen.add(src)
        s.sendto(f"{src[0]}:{src[1]}".encode(), src)


def ask(sock, server, port, msg=b"whoami", tries=10):
    sock.settimeout(0.5)
    for _ in range(tries):
        sock.sendto(msg, (server, int(port)))
        try:
            return sock.recv(65536).decode()
        except socket.timeout:
            continue
    raise SystemExit(f"no answer from {server}:{port}")


def whoami(server, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out({"seen_as": ask(s, server, port), "stats": json.loads(ask(s, server, port, b"stats"))})


def many(n, server, port):
    """n sockets, each answered once; sent in windows of 256 so the rings on
    the way never overflow, unanswered ones resent (bounded)."""
    n = int(n)
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    ep = select.epoll()
    for s in socks:
        s.setblocking(False)
        ep.register(s.fileno(), select.EPOLLIN)
    answers = {}
    t0 = time.monotonic()
    for attempt in range(6):
        pending = [i for i in range(n) if i not in answers]
        if not pending:
            break
        for w in range(0, len(pending), 256):
            window = pending[w:w + 256]
            for i in window:
                socks[i].sendto(b"hello", (server, int(port)))
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and any(i not in answers for i in window):
                for fd, _ in ep.poll(0.05):
                    i = by_fd[fd]
                    try:
                        answers[i] = socks[i].recv(256).decode()
                    except BlockingIOError:
                        pass
    elapsed = time.monotonic() - t0
    seen = set(answers.values())
    out({"sockets": n, "answered": len(answers), "distinct_seen": len(seen),
         "seen_addrs": sorted({a.split(":")[0] for a in seen}), "seconds": round(elapsed, 2)})


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s  # 0xffff when the checksum in data is right


def icmp_error(iface, server, port):
    from scapy.all import AsyncSniffer
    local = None
    ready = threading.Event()
    sn = AsyncSniffer(iface=iface, filter="icmp", store=True, started_callback=ready.set)
    sn.start()
    ready.wait(10)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((server, int(port)))
    local = s.getsockname()
    refused = False
    s.settimeout(1.0)
    for _ in range(5):
        s.send(b"natprobe " * 20)
        try:
            s.recv(100)
        except ConnectionRefusedError:
            refused = True
            break
        except socket.timeout:
            continue
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not sn.results:
        time.sleep(0.05)
    pkts = sn.stop() or []
    res = {"refused": refused, "local": list(local), "captured": len(pkts)}
    for p in pkts:
        raw = bytes(p)[14:]  # the IPv4 packet
        ihl = (raw[0] & 15) * 4
        tot = struct.unpack("!H", raw[2:4])[0]
        icmp = raw[ihl:tot]
        if icmp[0] != 3:
            continue
        inner = icmp[8:]
        iihl = (inner[0] & 15) * 4
        itot = struct.unpack("!H", inner[2:4])[0]
        iudp = inner[iihl:itot]
        res.update({
            "type": icmp[0], "code": icmp[1],
            "outer_dst": socket.inet_ntoa(raw[16:20]),
            "inner_src": socket.inet_ntoa(inner[12:16]),
            "inner_dst": socket.inet_ntoa(inner[16:20]),
            "inner_sport": struct.unpack("!H", iudp[0:2])[0],
            "inner_dport": struct.unpack("!H", iudp[2:4])[0],
            "ip_csum_ok": csum(raw[:ihl]) == 0xffff,
            "icmp_csum_ok": csum(icmp) == 0xffff,
            "inner_ip_csum_ok": csum(inner[:iihl]) == 0xffff,
        })
        if len(iudp) == struct.unpack("!H", iudp[4:6])[0]:  # the whole datagram is there
            pseudo = inner[12:20] + struct.pack("!BBH", 0, 17, len(iudp))
            res["inner_udp_csum_ok"] = csum(pseudo + iudp) == 0xffff
        break
    out(res)


def hairpin(local, public, server, port):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind((local, 0))
    b.bind((local, 0))
    a_pub = ask(a, server, port)  # a's mapping, as the outside sees it
    b_pub = ask(b, server, port)
    ip, p = a_pub.split(":")
    res = {"a_public": a_pub, "b_public": b_pub, "a_local": a.getsockname()[1],
           "b_local": b.getsockname()[1]}
    b.settimeout(0.5)
    a.settimeout(0.5)
    got = None
    for _ in range(6):
        b.sendto(b"hairpin", (ip, int(p)))
        try:
            data, src = a.recvfrom(100)
            if data == b"hairpin":
                got = src
                break
        except socket.timeout:
            continue
        except ConnectionRefusedError:
            res["b_refused"] = True
            continue
    res["a_got_from"] = f"{got[0]}:{got[1]}" if got else None
    if got:
        a.sendto(b"back", got)
        try:
            data, src = b.recvfrom(100)
            res["b_got_from"] = f"{src[0]}:{src[1]}"
        except (socket.timeout, ConnectionRefusedError):
            res["b_got_from"] = None
    out(res)


def unsolicited(iface, public):
    from scapy.all import AsyncSniffer
    ready = threading.Event()
    sn = AsyncSniffer(iface=iface, filter=f"icmp and src host {public}", store=True,
                      started_callback=ready.set)
    sn.start()
    ready.wait(10)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(3):
        s.sendto(b"unsolicited", (public, 80))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.settimeout(1.0)
    tcp = "timeout"
    try:
        t.connect((public, 80))
        tcp = "connected"
    except ConnectionRefusedError:
        tcp = "refused"
    except socket.timeout:
        pass
    pkts = sn.stop() or []
    out({"udp_sent": 3, "tcp_syn": tcp, "icmp_back": len(pkts)})


if __name__ == "__main__":
    cmds = {"echo-server": echo_server, "whoami": whoami, "many": many,
            "icmp-error": icmp_error, "hairpin": hairpin, "unsolicited": unsolicited}
    cmds[sys.argv[1]](*sys.argv[2:])
