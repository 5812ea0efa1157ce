# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for NetVM integration tests: start the real daemon and real NF
processes, talk to them with the real netvmctl, and wait on conditions with
bounded timeouts (never fixed sleeps)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("NETVM_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
BUILD = os.path.abspath(BUILD)


def binary(name):
    # netvmctl is built in src/tools since ports and tools got their own meson.build
    for d in (BUILD, os.path.join(BUILD, "tests"), os.path.join(BUILD, "src", "tools")):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{name} not built in {BUILD}")


class TestFailure(Exception):
    pass


class Skip(Exception):
    """Raised by a test that cannot run here; the message says why (a
    privilege, tool or device it needs is missing).  Reported as SKIP."""


def require(cond, why):
    """Skip the calling test unless @cond holds."""
    if not cond:
        raise Skip(why)


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_for(what, fn, timeout=20.0, interval=0.02):
    """Poll fn() until it returns a truthy value; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise TestFailure(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Platform:
    """A netvmd with its NFs, in a scratch directory, torn down on exit."""

    def __init__(self, config_text, name="t", daemon_prefix=()):
        """daemon_prefix: a wrapper command for netvmd, such as prlimit."""
        self.daemon_prefix = daemon_prefix
        self.dir = tempfile.mkdtemp(prefix=f"netvm-{name}-")
        self.sock = os.path.join(self.dir, "netvm.sock")
        self.config = os.path.join(self.dir, "netvm.yaml")
        with open(self.config, "w") as f:
            f.write(f"socket: {self.sock}\n" + config_text)
        self.env = dict(os.environ, NETVM_SOCKET=self.sock)
        self.daemon = None
        self.nfs = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def __enter__(self):
        self.daemon_log = open(self.path("netvmd.log"), "w+")
        self.daemon = subprocess.Popen([*self.daemon_prefix, binary("netvmd"), "-c", self.config],
                                       stdout=self.daemon_log, stderr=subprocess.STDOUT)
        try:
            wait_for("the daemon's control socket", self._daemon_up, timeout=15)
        except BaseException:
            self.__exit__(*sys.exc_info())  # never leave a daemon behind
            raise
        return self

    def _daemon_up(self):
        if self.daemon.poll() is not None:
            raise TestFailure(f"netvmd exited with {self.daemon.returncode}: {self.log()}")
        return os.path.exists(self.sock) and self.ctl_json("status", check_rc=False)

    def log(self):
        self.daemon_log.flush()
        with open(self.path("netvmd.log")) as f:
            return f.read()

    def __exit__(self, *exc):
        for p in self.nfs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.daemon and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()
        self.daemon_log.close()
        if exc[0] is None:
            self.check_sanitizers()
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def check_sanitizers(self):
        """Fail on any ASan/UBSan/LSan report from the daemon or an NF (a
        sanitized build aborts on the first, but an NF's exit is not always
        checked by the test)."""
        for name in sorted(os.listdir(self.dir)):
            if not (name.endswith(".log") or name.endswith(".out")):
                continue
            with open(self.path(name), errors="replace") as f:
                text = f.read()
            for marker in ("runtime error:", "AddressSanitizer", "LeakSanitizer"):
                if marker in text:
                    at = text.index(marker)
                    raise TestFailure(f"{marker} in {self.path(name)}:\n"
                                      f"{text[max(0, at - 200):at + 3000]}")

    def ctl(self, *args, check_rc=True):
        r = subprocess.run([binary("netvmctl"), "--socket", self.sock, *args],
                           capture_output=True, text=True, timeout=30)
        if check_rc and r.returncode != 0:
            raise TestFailure(f"netvmctl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def ctl_json(self, *args, check_rc=True):
        r = self.ctl("--json", *args, check_rc=check_rc)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def status(self):
        return self.ctl_json("status")

    def start_nf(self, *argv, name=None, env=None, prefix=()):
        """Start an NF (prefix: a wrapper command such as taskset)."""
        name = name or os.path.basename(argv[0])
        out = open(self.path(f"{name}-{len(self.nfs)}.out"), "w+")
        p = subprocess.Popen([*prefix, binary(argv[0]), *argv[1:]], stdout=out,
                             stderr=subprocess.STDOUT,
                             env=dict(self.env, **(env or {})))
        p.out = out
        self.nfs.append(p)
        return p

    def running_nfs(self):
        return [n for n in self.status()["nfs"] if n["state"] == "running"]

    def wait_nfs(self, n, timeout=15):
        wait_for(f"{n} running NFs", lambda: len(self.running_nfs()) == n, timeout)

    def stop_nf(self, p, sig=signal.SIGTERM, timeout=15):
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"NF {p.args} did not exit after signal {sig}")
        p.out.flush()
        p.out.seek(0)
        return p.out.read()

    def stop(self, timeout=15):
        """SIGTERM the daemon (ports are flushed) and return its output."""
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("netvmd did not exit on SIGTERM")
        check(self.daemon.returncode == 0, f"netvmd exited {self.daemon.returncode}")
        return self.log()


def drops_total(st):
    return sum(st["drops"].values())


def accounting(st):
    """Every packet received is sent or counted as dropped once the platform is idle."""
    rx = sum(p["rx"] for p in st["ports"])
    tx = sum(p["tx"] for p in st["ports"])
    return rx, tx, drops_total(st)


def drained(pf):
    """The status once every port has read all its input (or is paused) and
    every buffer is back in its pool (nothing in flight), else None."""
    st = pf.status()
    # Buffers a port holds (af_xdp lends them to the kernel) and those in an
    # NF's stock (free buffers kept ready for it) are not in flight.
    held = sum(p.get("held", 0) for p in st["ports"])
    stock = {}
    for n in st["nfs"]:
        stock[n.get("domain", "")] = stock.get(n.get("domain", ""), 0) + n.get("stock", 0)
    pools = [dict(st["pool"], free=st["pool"]["free"] + held + stock.get("", 0))] + \
        [dict(d, free=d["free"] + stock.get(d["name"], 0)) for d in st.get("domains", [])]
    if all(p["rx_done"] or p.get("rx_paused") for p in st["ports"]) and \
            all(p["free"] == p["buffers"] for p in pools):
        return st
    return None


def cpu_share(pids, seconds):
    """Share of one core the processes @pids used over a measurement window
    of @seconds (a window to measure in, not a wait for a condition)."""
    before, t0 = sum(cpu_seconds(p) for p in pids), time.monotonic()
    time.sleep(seconds)
    return (sum(cpu_seconds(p) for p in pids) - before) / (time.monotonic() - t0)


def cpu_seconds(pid):
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
