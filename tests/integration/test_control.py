# SPDX-License-Identifier: BSD-3-Clause
"""The control socket: who may change the configuration (docs/security.md,
"Who may change the configuration"), and limits that keep it answering
(docs/security.md, "Control socket limits")."""
import array
import contextlib
import errno
import json
import os
import resource
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from netvmtest import Platform, TestFailure, binary, check, cpu_seconds, require, wait_for

AS_NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
ADMIN_GROUP = "netvm-test-adm"

# A client that sends each request of argv[2] (a JSON list) on one
# connection and prints the replies; with argv[3] it first attaches as that
# service, so the requests come from an attached NF's connection.
CLIENT = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rb")
def call(req):
    s.sendall(json.dumps(req).encode() + b"\n")
    return json.loads(f.readline())
if len(sys.argv) > 3:
    rep = call({"cmd": "attach", "service": sys.argv[3]})
    assert rep["ok"], rep
print(json.dumps([call(r) for r in json.loads(sys.argv[2])]))
"""


def run_client(pf, requests, prefix=(), attach_as=None):
    argv = [*prefix, sys.executable, "-c", CLIENT, pf.sock, json.dumps(requests)]
    r = subprocess.run(argv + ([attach_as] if attach_as else []), capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0, f"client {prefix}: {r.stderr}")
    return json.loads(r.stdout)


@contextlib.contextmanager
def admin_group():
    """A group for the test's administrators, removed afterwards."""
    made = subprocess.run(["groupadd", ADMIN_GROUP], capture_output=True).returncode == 0
    try:
        yield ADMIN_GROUP
    finally:
        if made:
            subprocess.run(["groupdel", ADMIN_GROUP], capture_output=True)


AUTH_CFG = """
socket_group: nogroup
admin_group: {group}
status_access: {status}
ports:
  - {{name: gen0, type: gen, rate: 1000, paused: true}}
services:
  - t
  - {{name: u, domain: sandbox, users: [nobody]}}
chains:
  default: [t]
  web: [t]
rules:
  - {{match: {{proto: udp, dport: 53}}, chain: web}}
"""

# A valid request for every command that changes the configuration.
MUTATING = [
    {"cmd": "chain_set", "name": "default", "hops": []},  # drop the firewall hop
    {"cmd": "chain_set", "name": "evil", "hops": ["u"]},  # a chain into an untrusted NF
    {"cmd": "chain_default", "name": None},
    {"cmd": "rule_add", "match": {"proto": "tcp"}, "chain": "web"},
    {"cmd": "rule_del", "id": 1},
    {"cmd": "port_rx", "name": "gen0", "enable": True},
]

# The same through netvmctl.
MUTATING_CLI = [
    ("chain", "set", "default", ""),
    ("chain", "set", "evil", "u"),
    ("chain", "default", "none"),
    ("rule", "add", "proto=tcp", "chain=web"),
    ("rule", "del", "1"),
    ("port", "start", "gen0"),
]


def config_state(pf):
    """What the mutating commands change."""
    st = pf.status()
    return {"chains": st["chains"], "default": st["default_chain"],
            "rules": [(r["id"], r["match"], r["chain"]) for r in st["rules"]],
            "paused": [(p["name"], p["rx_paused"]) for p in st["ports"]]}


def change_everything(pf, prefix):
    """Every mutating command through netvmctl, as @prefix; each must work."""
    def ctl(*args):
        r = subprocess.run([*prefix, binary("netvmctl"), "--socket", pf.sock, "--json", *args],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, f"netvmctl {' '.join(args)} as {prefix}: {r.stderr}")
        return json.loads(r.stdout)
    before = config_state(pf)
    ctl("chain", "set", "evil", "u")
    ctl("chain", "default", "evil")
    rid = ctl("rule", "add", "proto=tcp", "chain=web")["id"]
    ctl("rule", "del", str(rid))
    ctl("port", "start", "gen0")
    after = config_state(pf)
    check(after["default"] == "evil" and after["paused"] == [("gen0", False)],
          f"as {prefix}: {after}")
    ctl("port", "stop", "gen0")
    ctl("chain", "default", "default")
    ctl("chain", "set", "evil", "")
    check(config_state(pf)["rules"] == before["rules"], "rule add/del left a trace")


def test_management_needs_authority():
    """Mutating commands from nobody (a socket_group member) and from an
    attached NF's connection are refused with EPERM and change nothing; root
    and admin_group members (supplementary or primary) may."""
    require(os.geteuid() == 0, "setpriv, groupadd and socket_group need root")
    with admin_group() as group:
        pf = Platform(AUTH_CFG.format(group=group, status="any"), "auth")
        os.chmod(pf.dir, 0o750)  # the socket's directory: group nogroup may enter
        with pf:
            # every command the daemon calls "admin" is tried here
            admin = {c["name"] for c in run_client(pf, [{"cmd": "help"}])[0]["commands"]
                     if c["access"] == "admin"}
            check(admin == {r["cmd"] for r in MUTATING}, f"admin commands {admin}")
            before = config_state(pf)
            refused = 0
            for who, attach in (("nobody", None), ("an NF of 'u'", "u")):
                for req, rep in zip(MUTATING, run_client(pf, MUTATING, AS_NOBODY, attach)):
                    check(not rep["ok"] and rep["errno"] == errno.EPERM and
                          rep["error"].startswith(f"{req['cmd']}: not permitted: uid 65534 ")
                          and f"admin group '{group}'" in rep["error"],
                          f"{req} from {who}: {rep}")
                    refused += 1
            for args in MUTATING_CLI:
                r = subprocess.run([*AS_NOBODY, binary("netvmctl"), "--socket", pf.sock, *args],
                                   capture_output=True, text=True, timeout=30)
                check(r.returncode == 1 and "not permitted" in r.stderr,
                      f"netvmctl {' '.join(args)} as nobody: rc {r.returncode} {r.stderr}")
                refused += 1
            # an NF's user attaches only as its own services
            rep = run_client(pf, [{"cmd": "attach", "service": "t"},
                                  {"cmd": "region", "service": "t"},
                                  {"cmd": "vm_bind", "service": "t"}], AS_NOBODY)
            check(all(not r["ok"] and r["errno"] == errno.EACCES for r in rep), f"{rep}")
            check(config_state(pf) == before, f"refused commands changed things: "
                  f"{before} -> {config_state(pf)}")
            check("not permitted" in pf.log(), "refusals are not logged")
            # nobody reads the status (status_access: any)
            r = subprocess.run([*AS_NOBODY, binary("netvmctl"), "--socket", pf.sock, "status"],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 0 and "gen0" in r.stdout, f"status as nobody: {r.stderr}")
            # members of the admin group, and root, may
            change_everything(pf, ("setpriv", "--reuid=nobody", "--regid=nogroup",
                                   f"--groups={group}"))
            change_everything(pf, ("setpriv", "--reuid=nobody", f"--regid={group}",
                                   "--groups=nogroup"))
            change_everything(pf, ())
    return (f"{refused} mutating requests from nobody / an NF of 'u' / netvmctl refused "
            f"(EPERM), state unchanged; admin group (supplementary, primary) and root allowed")


def test_status_access_admin():
    """status_access: admin keeps the status from non-admins."""
    require(os.geteuid() == 0, "setpriv, groupadd and socket_group need root")
    with admin_group() as group:
        pf = Platform(AUTH_CFG.format(group=group, status="admin"), "status-admin")
        os.chmod(pf.dir, 0o750)
        with pf:
            r = subprocess.run([*AS_NOBODY, binary("netvmctl"), "--socket", pf.sock, "status"],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 1 and "status: not permitted: uid 65534" in r.stderr,
                  f"status as nobody: rc {r.returncode} {r.stderr}")
            r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                                f"--groups={group}", binary("netvmctl"), "--socket", pf.sock,
                                "status"], capture_output=True, text=True, timeout=30)
            check(r.returncode == 0, f"status as an admin group member: {r.stderr}")
            help = {c["name"]: c["access"]
                    for c in run_client(pf, [{"cmd": "help"}], AS_NOBODY)[0]["commands"]}
            check(help["status"] == "admin", f"help says {help}")
    return "nobody refused status (EPERM), admin group member and root read it"


# ---- limits ---------------------------------------------------------------


@contextlib.contextmanager
def nofile(n):
    """Let this process hold @n fds (the test's own sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n if hard == resource.RLIM_INFINITY else min(n, hard)
    check(want >= n, f"RLIMIT_NOFILE hard limit {hard} is below the {n} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def connect(pf):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(pf.sock)
    return s


def control(pf):
    return pf.status()["control"]


def timed_status(pf):
    """Seconds `netvmctl status` takes."""
    t0 = time.monotonic()
    r = pf.ctl("status")
    took = time.monotonic() - t0
    check("Control socket" in r.stdout, f"status output: {r.stdout[-500:]}")
    return took


class Flooder(threading.Thread):
    """Sends status requests as fast as the socket takes them and never reads
    a reply; connects again whenever the daemon drops it.  stalled: the
    daemon stopped taking its requests."""

    def __init__(self, pf):
        super().__init__(daemon=True)
        self.pf, self.stop, self.connects = pf, threading.Event(), 0
        self.sent, self.stalled = 0, threading.Event()

    def run(self):
        burst = b'{"cmd":"status"}\n' * 64
        while not self.stop.is_set():
            try:
                with connect(self.pf) as s:
                    self.connects += 1
                    s.settimeout(0.2)  # to notice stop while the socket is full
                    while not self.stop.is_set():
                        try:
                            s.sendall(burst)
                            self.sent += 64
                        except socket.timeout:
                            self.stalled.set()
            except OSError:  # dropped for its unread replies: again
                pass


class SlowClients(threading.Thread):
    """@n connections that each send a request a byte at a time, every
    @interval seconds, and never finish it."""

    def __init__(self, pf, n, interval):
        super().__init__(daemon=True)
        self.socks = [connect(pf) for _ in range(n)]
        self.interval, self.stop, self.sent = interval, threading.Event(), 0

    def run(self):
        line = b'{"cmd":"status","pad":"' + b"x" * 100000
        while not self.stop.wait(self.interval):
            for s in self.socks:
                try:
                    s.send(line[self.sent:self.sent + 1])
                except OSError:
                    pass
            self.sent += 1

    def close(self):
        self.stop.set()
        self.join()
        for s in self.socks:
            s.close()


SIEGE_CFG = """
ring_size: 256
pool: {buffers: 4096}
control: {max_connections: 1100, request_timeout: 120s}
ports:
  - {name: gen0, type: gen, size: 64, flows: 16, rate: 20000}
services: [fwd]
chains:
  default: [fwd]
"""


def test_control_socket_under_siege():
    """1000 idle connections, a client that floods status requests and never
    reads, and slow clients sending half a request a byte at a time, while
    traffic runs through a chain: status still answers fast, a killed NF's
    replacement attaches, traffic keeps flowing."""
    with nofile(1200), Platform(SIEGE_CFG, "siege") as pf:
        nfs = [pf.start_nf("nf-forward", "--service", "fwd") for _ in range(2)]
        pf.wait_nfs(2)
        wait_for("traffic through both NFs", lambda: all(n["rx"] > 1000 for n in pf.running_nfs()))
        base0, t0 = cpu_seconds(pf.daemon.pid), time.monotonic()
        wait_for("a second of plain forwarding", lambda: time.monotonic() - t0 >= 1.0)
        base = (cpu_seconds(pf.daemon.pid) - base0) / (time.monotonic() - t0)
        idle = []
        slow = flood = None
        try:
            idle = [connect(pf) for _ in range(1000)]
            wait_for("1000 idle connections taken", lambda: control(pf)["connections"] >= 1000)
            slow = SlowClients(pf, 8, 0.05)
            slow.start()
            flood = Flooder(pf)
            flood.start()
            # it gets replies until they fill its socket; then none, costing nothing
            wait_for("the flooder's requests to go unread", flood.stalled.is_set, timeout=60)
            wait_for("the slow clients to be 10 bytes into their requests",
                     lambda: slow.sent >= 10)
            tx0, cpu0, t0 = pf.status()["ports"][0]["tx"], cpu_seconds(pf.daemon.pid), time.monotonic()
            times = [timed_status(pf) for _ in range(10)]
            check(max(times) < 1.0, f"netvmctl status took {max(times):.3f} s")
            # kill -9 an NF: its replacement gets in and takes traffic
            nfs[0].kill()
            wait_for("the daemon to notice the dead NF", lambda: len(pf.running_nfs()) == 1)
            t1 = time.monotonic()
            new = pf.start_nf("nf-forward", "--service", "fwd")
            pf.wait_nfs(2)
            attach = time.monotonic() - t1
            newest = max(n["instance"] for n in pf.running_nfs())
            wait_for("the replacement to get traffic", lambda: any(
                n["instance"] == newest and n["rx"] > 1000 for n in pf.running_nfs()))
            st = pf.status()
            cpu = (cpu_seconds(pf.daemon.pid) - cpu0) / (time.monotonic() - t0)
            check(st["ports"][0]["tx"] > tx0 + 2000, f"traffic stalled: {tx0} -> {st['ports']}")
            check(pf.daemon.poll() is None and new.poll() is None, "netvmd or the NF died")
            ctl = st["control"]
            check(ctl["connections"] >= 1000 + 8 + 2, f"clients were dropped: {ctl}")
        finally:
            for t in (flood, slow):
                if t:
                    t.stop.set()
            if flood:
                flood.join()
            if slow:
                slow.close()
            for s in idle:
                s.close()
    return (f"1000 idle + 8 slow + a flooder (stalled after {flood.sent} requests): netvmctl "
            f"status median {statistics.median(times) * 1000:.0f} ms, max "
            f"{max(times) * 1000:.0f} ms; replacement NF attached in {attach * 1000:.0f} ms and "
            f"forwards; netvmd {cpu * 100:.0f}% of a core meanwhile ({base * 100:.0f}% before the "
            f"siege); control {ctl}")


MANY_CFG = """
max_nfs: 1024
ring_size: 64
pool: {buffers: 2048, hugepages: no}
ports:
  - {name: gen0, type: gen, size: 64, flows: 64, rate: 5000}
services: [fwd]
chains:
  default: [fwd]
"""


def test_300_nfs_attach():
    """max_nfs: 1024 is reachable: 300 nf-forward processes attach (the old
    fixed table of 256 connections stopped at 255), and status lists them."""
    n, batch = 300, 50
    with Platform(MANY_CFG, "many") as pf:
        t0 = time.monotonic()
        for started in range(batch, n + 1, batch):
            for _ in range(batch):
                pf.start_nf("nf-forward", "--service", "fwd", env={"NETVM_IDLE": "sleep"})
            wait_for(f"{started} NFs attached",
                     lambda: len(pf.running_nfs()) == started, timeout=120, interval=0.2)
        took = time.monotonic() - t0
        st = pf.status()
        check(len(st["services"][0]["instances"]) == n, "service instances")
        check(st["control"]["connections"] >= n, f"{st['control']}")
        wait_for("traffic spread over the NFs",
                 lambda: sum(1 for x in pf.running_nfs() if x["rx"] > 0) >= 16, timeout=60)
        human = pf.ctl("nfs").stdout
        check(human.count("running") == n, "netvmctl nfs does not list them all")
        size = len(pf.ctl("--json", "status").stdout)
    return f"{n} NFs attached in {took:.1f} s, started in batches of {batch}; status {size} bytes"


LIMIT_CFG = """
socket_group: nogroup
max_nfs: 2
control: {max_connections: 4, admin_reserve: 2}
ports:
  - {name: gen0, type: gen, size: 64, rate: 5000}
services: [t]
chains:
  default: [t]
"""

# Runs as nobody: opens connections until one is refused, prints what it
# got, holds the others until stdin closes.
HOLDER = r"""
import json, socket, sys
held, refusal = [], None
while refusal is None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    try:
        s.sendall(b'{"cmd":"help"}\n')
    except OSError:
        pass  # closed already: its last line is still there to read
    rep = json.loads(s.makefile("rb").readline())
    if rep["ok"]:
        held.append(s)
    else:
        refusal = rep
print(json.dumps({"held": len(held), "refusal": refusal}), flush=True)
sys.stdin.read()
"""


def test_connection_limit_refusal():
    """Past max_connections a newcomer gets one clear error line and is
    closed; admins still get in through the reserve; the attached NF keeps
    forwarding."""
    require(os.geteuid() == 0, "setpriv, groupadd and socket_group need root")
    pf = Platform(LIMIT_CFG, "limit")
    os.chmod(pf.dir, 0o750)
    with pf:
        pf.start_nf("nf-forward", "--service", "t")
        pf.wait_nfs(1)
        rx = lambda: pf.running_nfs()[0]["rx"]
        wait_for("traffic through the NF", lambda: rx() > 1000)
        holder = subprocess.Popen([*AS_NOBODY, sys.executable, "-c", HOLDER, pf.sock],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        root_socks = []
        try:
            got = json.loads(holder.stdout.readline())
            # the NF holds one connection, nobody the other 3
            check(got["held"] == 3, f"nobody held {got['held']} connections")
            ref = got["refusal"]
            check(ref["errno"] == errno.EAGAIN and
                  ref["error"] == "too many control connections (limit 4)", f"refusal: {ref}")
            r = subprocess.run([*AS_NOBODY, binary("netvmctl"), "--socket", pf.sock, "status"],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 1 and "too many control connections (limit 4)" in r.stderr,
                  f"netvmctl as nobody at the limit: rc {r.returncode} {r.stderr}")
            # root gets in through the reserve, and the NF forwards on
            n = rx()
            wait_for("the NF to keep forwarding", lambda: rx() > n + 1000)
            check(control(pf)["refused"] >= 2, "refusals not counted")
            root_socks = [connect(pf) for _ in range(2)]  # the reserve, now used up
            wait_for("the reserve in use", lambda: pf.ctl("status", check_rc=False).returncode == 1)
            r = pf.ctl("status", check_rc=False)
            check("the reserve for admins is in use" in r.stderr, f"root refused: {r.stderr}")
            root_socks.pop().close()
            st = pf.status()
            check(st["nfs"][0]["state"] == "running" and st["nfs"][0]["rx"] > n + 1000,
                  f"the NF: {st['nfs']}")
        finally:
            holder.stdin.close()
            holder.wait(10)
            for s in root_socks:
                s.close()
        wait_for("nobody's status to work again", lambda: subprocess.run(
            [*AS_NOBODY, binary("netvmctl"), "--socket", pf.sock, "status"],
            capture_output=True, timeout=30).returncode == 0)
        refused = control(pf)["refused"]
    return f"limit 4 + 2: nobody refused ('{ref['error']}'), root used the reserve; {refused} refused; NF forwarded throughout"


def until_closed(s):
    """A function returning (everything the peer sent,) once it closed the
    connection, else None: for wait_for."""
    data = bytearray()

    def closed():
        while select.select([s], [], [], 0)[0]:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return (bytes(data),)
            data.extend(chunk)
        return None
    return closed


TIMEOUT_CFG = """
control: {idle_timeout: 1s, request_timeout: 500ms}
services: [t]
"""


def test_control_timeouts():
    """An idle connection and a half-sent request are closed with a reason;
    the attached NF and a VM's channel, idle longer, are not."""
    with Platform(TIMEOUT_CFG, "timeouts") as pf:
        nf = pf.start_nf("nf-forward", "--service", "t")
        pf.wait_nfs(1)
        vm = connect(pf)  # as netvmctl vm start leaves it for QEMU
        vm.sendall(b'{"cmd":"vm_bind","service":"t"}\n')
        check(json.loads(vm.makefile("rb").readline())["ok"], "vm_bind")
        t0 = time.monotonic()
        idle, slow, asked = connect(pf), SlowClients(pf, 1, 0.05), connect(pf)
        slow.start()
        asked.sendall(b'{"cmd":"status"}\n')
        try:
            waiting = {"idle": until_closed(idle), "slow": until_closed(slow.socks[0]),
                       "asked": until_closed(asked)}
            got = {}

            def all_closed():
                for name, closed in list(waiting.items()):
                    if (data := closed()):
                        got[name] = (data[0].decode().splitlines(), time.monotonic() - t0)
                        del waiting[name]
                return not waiting
            wait_for("the three connections to be closed", all_closed, timeout=20,
                     interval=0.01)
        finally:
            slow.close()
            idle.close()
            asked.close()
        for name, want in (("idle", "idle for 1 s: closing"),
                           ("slow", "request not complete within 500 ms: closing"),
                           ("asked", "idle for 1 s: closing")):
            lines, _ = got[name]
            last = json.loads(lines[-1])
            check(last["errno"] == errno.ETIMEDOUT and last["error"] == want, f"{name}: {lines}")
        check(len(got["asked"][0]) == 2 and json.loads(got["asked"][0][0])["ok"],
              "the request before the idle time got no answer")
        check(got["idle"][1] >= 1.0 and got["slow"][1] >= 0.5, f"closed too early: {got}")
        st = pf.status()
        check(len(pf.running_nfs()) == 1 and nf.poll() is None, "the idle NF was cut off")
        check(until_closed(vm)() is None, "the VM's channel was closed")
        vm.close()
        check(st["control"]["timed_out"] == 3, f"{st['control']}")
    return (f"idle closed after {got['idle'][1]:.2f} s, half-sent request after "
            f"{got['slow'][1]:.2f} s ({slow.sent} bytes, one every 50 ms), answered-then-idle "
            f"after {got['asked'][1]:.2f} s; the NF and a VM's channel stay; timed_out 3")


def test_unread_replies_overflow():
    """A client that asks for more than its socket and queue_limit hold and
    reads nothing is dropped; one long reply always fits."""
    rules = "".join(f"  - {{match: {{proto: udp, dport: {1000 + i}}}, chain: c}}\n"
                    for i in range(4000))
    cfg = f"control: {{queue_limit: 1024}}\nservices: [t]\nchains:\n  c: [t]\nrules:\n{rules}"
    with Platform(cfg, "overflow") as pf:
        size = len(pf.ctl("--json", "status").stdout)  # far over queue_limit: still fine
        s = connect(pf)
        s.sendall(b'{"cmd":"status"}\n' * 3)  # one write: one read at the daemon
        data, = wait_for("the daemon to drop the client", until_closed(s), timeout=20)
        s.close()
        ctl = control(pf)
        check(ctl["overflowed"] == 1 and ctl["timed_out"] == 0, f"{ctl}")
        check(data.count(b"\n") < 3, "all three replies arrived")
    return f"status of {size} bytes with queue_limit 1024; a client leaving 3 unread was dropped"


def test_queued_replies_keep_order_and_fd():
    """Pipelined requests whose replies overfill the socket: they come back
    in order, and the attach reply's fd arrives with its first byte."""
    with Platform("services: [t]\n", "queue") as pf:
        s = connect(pf)
        n = 1000
        s.sendall(b'{"cmd":"status"}\n' * n + b'{"cmd":"attach","service":"t"}\n')
        data, fd_at, fds = b"", None, []
        while data.count(b"\n") < n + 1:
            chunk, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4))
            check(chunk, "connection closed early")
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    got = array.array("i")
                    got.frombytes(payload[:len(payload) - len(payload) % 4])
                    fds += list(got)
                    fd_at = (len(data), len(data) + len(chunk))
            data += chunk
        lines = data.decode().splitlines()
        reps = [json.loads(x) for x in lines]
        check(all(r["ok"] and "pool" in r for r in reps[:n]), "status replies")
        check(reps[n]["ok"] and "instance" in reps[n], f"attach reply: {reps[n]}")
        start = len(data) - len(lines[n]) - 1  # the attach reply's first byte
        check(len(fds) == 1 and fd_at[0] <= start < fd_at[1],
              f"fd {fds} arrived with bytes {fd_at}, the attach reply starts at {start}")
        check(os.fstat(fds[0]).st_size >= reps[n]["region_size"], "not the region")
        wmem = int(open("/proc/sys/net/core/wmem_default").read())
        check(len(data) > wmem, f"{len(data)} bytes fit the socket buffer ({wmem}): nothing queued")
        check(control(pf)["overflowed"] == 0, "dropped")
        os.close(fds[0])
        s.close()
    return f"{n} status + attach pipelined: {len(data)} bytes in order, fd with the attach reply"


def test_out_of_fds_refused_cleanly():
    """netvmd with too few fds for its limit warns at start; connections it
    cannot take get an error line instead of spinning the manager."""
    cfg = "control: {max_connections: 200}\nservices: [t]\n"
    with nofile(300), Platform(cfg, "nofds", daemon_prefix=("prlimit", "--nofile=64:64")) as pf:
        check("RLIMIT_NOFILE allows 64 open files" in pf.log(), "no warning at start")
        socks, refused = [], []
        try:
            for _ in range(100):
                s = connect(pf)
                try:
                    s.sendall(b'{"cmd":"help"}\n')
                except OSError:
                    pass  # closed already: its last line is still there to read
                rep = json.loads(s.makefile("rb").readline())
                if rep["ok"]:
                    socks.append(s)
                else:
                    refused.append(rep)
                    s.close()
            check(refused and all("no file descriptor left" in r["error"] for r in refused),
                  f"refusals: {refused[:3]}")
            cpu0, t0 = cpu_seconds(pf.daemon.pid), time.monotonic()
            wait_for("half a second", lambda: time.monotonic() - t0 > 0.5)
            spin = (cpu_seconds(pf.daemon.pid) - cpu0) / (time.monotonic() - t0)
        finally:
            for s in socks:
                s.close()
        wait_for("status to work again", lambda: pf.ctl("status", check_rc=False).returncode == 0)
        check(spin < 0.5, f"netvmd used {spin * 100:.0f}% of a core while out of fds")
    return f"{len(refused)} of 100 connections refused for want of fds; netvmd at {spin * 100:.1f}% CPU"

