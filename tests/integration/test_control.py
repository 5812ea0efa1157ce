# SPDX-License-Identifier: BSD-3-Clause
"""The control socket: who may change the configuration (docs/security.md,
"Who may change the configuration"), and limits that keep it answering
(docs/security.md, "Control socket limits")."""
import contextlib
import errno
import json
import os
import subprocess
import sys

from netvmtest import Platform, TestFailure, binary, check, wait_for

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
