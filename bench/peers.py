#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""DPDK peers for NetVM's benchmarks: the same topologies built from dpdk-testpmd.

  bench/peers.py memif [--zero-copy]      switch testpmd (net_null0 + memif server) <-> NF testpmd
                                          (memif client, io forward): 1 hop out and back
  bench/peers.py vhost                    the same over vhost-user <-> virtio-user
  bench/peers.py chain [--rsize 14]       switch -> NF1 -> NF2 -> switch over 3 memif links
  bench/peers.py afpacket --size 64       testpmd txonly on veth pbv0 -> testpmd rxonly on pbv1
  bench/peers.py interleave N "PEER ARGS" "COMMAND"
                                          N x (one peer run, one run of COMMAND); COMMAND prints its
                                          Mpps as the last number of its last line

Mpps = packets delivered in a MEASURE-second window after a WARMUP-second warm-up (env WARMUP and
MEASURE, or --warmup/--measure; 3 and 10 s by default), read from testpmd's own counters: the
switch's net_null0 TX counter (packets back from the NF(s)), or the receiver's RX counter for
af_packet.  Forwarding lcores: the switch (or sender) on CPU 0, the NFs (or receiver) on CPU 1;
each testpmd's main lcore is the other CPU and sleeps in its command line.

Each testpmd runs interactive with its stdin a pipe that stays open (at EOF it would quit), and is
driven by commands written to that pipe; its output is read until the next "testpmd> " prompt.
Servers start before clients (a memif client does not retry).  Only the processes started here
are signalled; their hugepage files and runtime directories (/dev/hugepages/<prefix>*,
/var/run/dpdk/<prefix>) are removed afterwards.  Needs root and the Debian packages dpdk and
python3; mounts hugetlbfs on /dev/hugepages if nothing is, and raises vm.nr_hugepages for the
duration of a run when too few huge pages are free.
"""
import argparse
import contextlib
import glob
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TESTPMD = os.environ.get("TESTPMD", "dpdk-testpmd")
WARMUP = float(os.environ.get("WARMUP", 3))
MEASURE = float(os.environ.get("MEASURE", 10))
MBUFS = 32768        # per testpmd (about 40 huge pages of mbufs)
MBUFS_ZC = 131072    # zero-copy memif clients keep a whole ring of their own mbufs posted per ring
SW_CORE, NF_CORE = 0, 1
PROMPT = b"testpmd> "


class PeerError(Exception):
    pass


def log(msg):
    print(f"[{time.strftime('%T')}] {msg}", file=sys.stderr, flush=True)


class Testpmd:
    """One interactive dpdk-testpmd, its output collected by a thread."""

    def __init__(self, name, prefix, eal, app, logpath):
        self.name, self.prefix = name, prefix
        self.out = bytearray()
        self.cond = threading.Condition()
        self.logf = open(logpath, "wb")
        # stdbuf: testpmd's printf output is line-buffered into the pipe, not held back
        argv = ["stdbuf", "-oL", "-eL", TESTPMD, *eal, "--file-prefix", prefix, "--", "-i", *app]
        self.logf.write((" ".join(argv) + "\n").encode())
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 65536)
            with self.cond:
                if data:
                    self.out += data
                    self.logf.write(data)
                    self.logf.flush()
                self.cond.notify_all()
            if not data:
                return

    def wait_prompt(self, since=0, timeout=30.0):
        """Wait for a prompt after offset @since; return the output in between."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                i = self.out.find(PROMPT, since)
                if i >= 0:
                    return self.out[since:i].decode(errors="replace")
                if self.proc.poll() is not None:
                    tail = self.out[-2000:].decode(errors="replace")
                    raise PeerError(f"{self.name} exited ({self.proc.returncode}):\n{tail}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PeerError(f"{self.name}: no prompt after {timeout:.0f} s")
                self.cond.wait(min(left, 0.5))

    def cmd(self, line, timeout=10.0):
        """Run one testpmd command; return its output."""
        with self.cond:
            since = len(self.out)
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise PeerError(f"{self.name} exited ({self.proc.wait()}) before {line!r}") from None
        return self.wait_prompt(since, timeout)

    def wait_link(self, port, timeout=20.0):
        """Wait until 'show port summary' says @port is up (column 5)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.cmd(f"show port summary {port}").splitlines():
                f = line.split()
                if len(f) >= 5 and f[0] == str(port) and f[4] == "up":
                    return
            time.sleep(0.3)
        raise PeerError(f"{self.name}: port {port} link never came up")

    def stats(self):
        """{port: {"RX-packets": n, "TX-packets": n, ...}} from 'show port stats all'."""
        res, port = {}, None
        for line in self.cmd("show port stats all").splitlines():
            m = re.search(r"NIC statistics for port (\d+)", line)
            if m:
                port = int(m.group(1))
                res[port] = {}
            elif port is not None:
                for k, v in re.findall(r"([A-Za-z-]+):\s+(\d+)", line):
                    res[port][k] = int(v)
        return res

    def close(self):
        """quit, then TERM, then KILL: this process only."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
            except OSError:
                pass
            for sig in (None, self.proc.terminate, self.proc.kill):
                if sig:
                    log(f"{self.name}: {sig.__name__} pid {self.proc.pid}")
                    sig()
                try:
                    self.proc.wait(3)
                    break
                except subprocess.TimeoutExpired:
                    pass
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        self.reader.join(2)
        self.logf.close()
        for f in glob.glob(f"/dev/hugepages/{self.prefix}*"):
            os.unlink(f)
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)


class Peers:
    """A set of testpmd processes and a scratch directory (sockets, logs), torn down on exit."""

    def __init__(self, topology):
        self.topology = topology
        self.dir = tempfile.mkdtemp(prefix=f"netvm-peers-{topology}-")
        self.procs = []
        self.failed = False

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, name, eal, app):
        """Start a testpmd and wait for its prompt (its ports are configured by then)."""
        tp = Testpmd(name, f"nvpeer{os.getpid()}_{name}", eal, app, self.path(f"{name}.log"))
        self.procs.append(tp)
        tp.wait_prompt()
        return tp

    def __enter__(self):
        return self

    def __exit__(self, exc, *_):
        for tp in reversed(self.procs):  # clients before servers
            tp.close()
        if exc:
            log(f"{self.topology}: failed; testpmd logs kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def lcores(core):
    """EAL lcores for a testpmd forwarding on CPU @core; the main lcore is the other CPU."""
    return ["-l", "0,1", "--main-lcore", str(1 - core), "--no-pci"]


def measure(tp, port, key, warmup, window):
    """Rate (pps) of counter @key of @port of @tp over @window s after @warmup s, and the
    rates of each second of the window."""
    time.sleep(warmup)
    samples = []
    t0 = time.monotonic()
    for i in range(max(1, round(window)) + 1):
        time.sleep(max(0.0, t0 + i - time.monotonic()))
        t = time.monotonic()
        samples.append((t, tp.stats()[port][key]))
    per_s = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(samples, samples[1:])]
    (ta, ca), (tb, cb) = samples[0], samples[-1]
    return (cb - ca) / (tb - ta), per_s


def report(what, pps, per_s):
    log(f"{what}: {pps / 1e6:.3f} Mpps (1-s samples {min(per_s) / 1e6:.2f}..{max(per_s) / 1e6:.2f})")
    return pps / 1e6


def pages_for(nprocs, mbufs):
    """2 MiB pages a run needs: the mbuf pools (2176-byte mbufs plus headers) and some slack."""
    return nprocs * (mbufs * 2560 // (2 << 20) + 64)


@contextlib.contextmanager
def hugepages(need):
    """Make sure @need 2 MiB huge pages are free and hugetlbfs is on /dev/hugepages;
    put vm.nr_hugepages back as it was afterwards."""
    if not os.path.ismount("/dev/hugepages"):
        os.makedirs("/dev/hugepages", exist_ok=True)
        subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"], check=True)
    nr = "/proc/sys/vm/nr_hugepages"
    before = int(open(nr).read())
    free = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("HugePages_Free"))
    raised = None
    if free < need:
        with open(nr, "w") as f:
            f.write(str(before + need - free))
        raised = int(open(nr).read())
        log(f"vm.nr_hugepages {before} -> {raised} for the peers")
    try:
        yield
    finally:
        if raised is not None and int(open(nr).read()) == raised:  # unless someone else changed it
            with open(nr, "w") as f:
                f.write(str(before))


# --- topologies: each returns the delivered Mpps of one run --------------------------------------

def memif(zero_copy=False, rsize=10, warmup=WARMUP, window=MEASURE):
    """null0 -> switch -> memif -> NF (io forward on its one port) -> memif -> switch -> null0."""
    mbufs = MBUFS_ZC if zero_copy else MBUFS
    with hugepages(pages_for(2, mbufs)), Peers("memif") as p:
        sock = p.path("memif.sock")
        m = f"id=0,rsize={rsize},socket={sock},socket-abstract=no"
        app = ["--forward-mode=io", f"--total-num-mbufs={mbufs}"]
        sw = p.start("sw", [*lcores(SW_CORE), "--vdev", "net_null0",
                            "--vdev", f"net_memif0,role=server,{m}"], app)
        nf = p.start("nf", [*lcores(NF_CORE), *(["--single-file-segments"] if zero_copy else []),
                            "--vdev", f"net_memif0,role=client,{m},zero-copy={'yes' if zero_copy else 'no'}"],
                     app)
        sw.wait_link(1)
        nf.wait_link(0)
        nf.cmd("start")
        sw.cmd("start")
        pps, per_s = measure(sw, 0, "TX-packets", warmup, window)
    return report(f"memif 1-hop zero-copy={'yes' if zero_copy else 'no'} rsize={rsize}", pps, per_s)


def vhost(devargs="", qsize=1024, warmup=WARMUP, window=MEASURE):
    """null0 -> switch (net_vhost0, the backend) -> NF (net_virtio_user0, io forward) -> switch -> null0."""
    with hugepages(pages_for(2, MBUFS)), Peers("vhost") as p:
        sock = p.path("vhost.sock")
        app = ["--forward-mode=io", f"--total-num-mbufs={MBUFS}"]
        sw = p.start("sw", [*lcores(SW_CORE), "--vdev", "net_null0",
                            "--vdev", f"net_vhost0,iface={sock},queues=1"], app)
        # virtio-user passes its memory to the backend as fds: one file per memseg list
        nf = p.start("nf", [*lcores(NF_CORE), "--single-file-segments", "--vdev",
                            f"net_virtio_user0,path={sock},queues=1,queue_size={qsize}"
                            + (f",{devargs}" if devargs else "")],
                     [*app, f"--rxd={qsize}", f"--txd={qsize}"])
        sw.wait_link(1)
        nf.wait_link(0)
        nf.cmd("start")
        sw.cmd("start")
        pps, per_s = measure(sw, 0, "TX-packets", warmup, window)
    return report(f"vhost-user 1-hop [{devargs or 'defaults'}]", pps, per_s)


def chain(zero_copy=False, rsize=10, warmup=WARMUP, window=MEASURE):
    """null0 -> switch -memif s1-> NF1 -memif s12-> NF2 -memif s2-> switch -> null0.
    Switch ports 0 = null0, 1 = s1 (server), 2 = s2 (server), chained 0 -> 1 -> 2 -> 0;
    NF1: 0 = s1 (client), 1 = s12 (server); NF2: 0 = s12 (client), 1 = s2 (client).
    NF1 and NF2 busy-poll on the same CPU."""
    mbufs = MBUFS_ZC if zero_copy else MBUFS
    zc = f"zero-copy={'yes' if zero_copy else 'no'}"
    with hugepages(pages_for(3, mbufs)), Peers("chain") as p:
        m = lambda s: f"id=0,rsize={rsize},socket={p.path(s)},socket-abstract=no"
        app = ["--forward-mode=io", f"--total-num-mbufs={mbufs}"]
        seg = ["--single-file-segments"] if zero_copy else []
        sw = p.start("sw", [*lcores(SW_CORE), "--vdev", "net_null0",
                            "--vdev", f"net_memif0,role=server,{m('s1.sock')}",
                            "--vdev", f"net_memif1,role=server,{m('s2.sock')}"],
                     [*app, "--port-topology=chained"])
        nf1 = p.start("nf1", [*lcores(NF_CORE), *seg,
                              "--vdev", f"net_memif0,role=client,{m('s1.sock')},{zc}",
                              "--vdev", f"net_memif1,role=server,{m('s12.sock')}"], app)
        nf2 = p.start("nf2", [*lcores(NF_CORE), *seg,
                              "--vdev", f"net_memif0,role=client,{m('s12.sock')},{zc}",
                              "--vdev", f"net_memif1,role=client,{m('s2.sock')},{zc}"], app)
        sw.wait_link(1)
        sw.wait_link(2)
        nf1.wait_link(1)
        nf2.wait_link(1)
        nf2.cmd("start")
        nf1.cmd("start")
        sw.cmd("start")
        pps, per_s = measure(sw, 0, "TX-packets", warmup, window)
    return report(f"memif 2-NF chain zero-copy={'yes' if zero_copy else 'no'} rsize={rsize}", pps, per_s)


VETH = ("pbv0", "pbv1")


def afpacket(size=64, devargs="", warmup=WARMUP, window=MEASURE):
    """testpmd txonly (CPU 0) on veth pbv0 -> testpmd rxonly (CPU 1) on pbv1, one way.
    Both use net_af_packet; the rate is the receiver's RX counter."""
    ip = lambda *a: subprocess.run(["ip", "link", *a], check=True)
    subprocess.run(["ip", "link", "del", VETH[0]], stderr=subprocess.DEVNULL)
    ip("add", VETH[0], "type", "veth", "peer", "name", VETH[1])
    try:
        for v in VETH:
            subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{v}.disable_ipv6=1"], check=True)
            ip("set", v, "up")
        extra = f",{devargs}" if devargs else ""
        app = [f"--total-num-mbufs={MBUFS}"]
        with hugepages(pages_for(2, MBUFS)), Peers("afpacket") as p:
            rx = p.start("rx", [*lcores(NF_CORE), "--vdev", f"net_af_packet0,iface={VETH[1]},qpairs=1{extra}"],
                         [*app, "--forward-mode=rxonly"])
            tx = p.start("tx", [*lcores(SW_CORE), "--vdev", f"net_af_packet0,iface={VETH[0]},qpairs=1{extra}"],
                         [*app, "--forward-mode=txonly", f"--txpkts={size}"])
            rx.wait_link(0)
            tx.wait_link(0)
            rx.cmd("start")
            tx.cmd("start")
            pps, per_s = measure(rx, 0, "RX-packets", warmup, window)
    finally:
        subprocess.run(["ip", "link", "del", VETH[0]], stderr=subprocess.DEVNULL)
    return report(f"af_packet veth one-way {size} B [{devargs or 'defaults'}]", pps, per_s)


TOPOLOGIES = {"memif": memif, "vhost": vhost, "chain": chain, "afpacket": afpacket}


def interleave(n, peer, ours, out=print):
    """Alternate one peer run with one of ours, @n times, so both see the same (drifting) host.
    @peer and @ours return Mpps; a failed run counts as None.  Prints a line per pair and a summary;
    returns {"peer", "ours", "ratio" (medians; ratio = ours / peer per pair), "pairs"}."""
    pairs = []
    for i in range(1, n + 1):
        got = []
        for fn in (peer, ours):
            try:
                got.append(fn())
            except Exception as e:  # a failed run is reported, the other pairs still count
                log(f"run failed: {e}")
                got.append(None)
        a, b = got
        r = b / a if a and b is not None else None
        pairs.append((a, b, r))
        show = lambda v, f: "failed" if v is None else format(v, f)
        out(f"pair {i}: peer {show(a, '.3f')} Mpps | yours {show(b, '.3f')} Mpps | ratio {show(r, '.2f')}")
    med = lambda k: statistics.median([p[k] for p in pairs if p[k] is not None] or [0])
    res = {"peer": med(0), "ours": med(1), "ratio": med(2), "pairs": [(a, b) for a, b, _ in pairs]}
    out(f"median peer {res['peer']:.3f} Mpps | median yours {res['ours']:.3f} Mpps | "
        f"median pairwise ratio {res['ratio']:.2f}")
    return res


def command_mpps(cmd):
    """Run a shell command; its Mpps is the last number on its last stdout line."""
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    lines = r.stdout.strip().splitlines()
    nums = re.findall(r"[0-9]+(?:\.[0-9]+)?", lines[-1]) if lines else []
    if r.returncode or not nums:
        raise RuntimeError(f"{cmd!r} exited {r.returncode}: {r.stderr.strip()[-500:]}")
    return float(nums[-1])


def parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="topology", required=True)
    for name, fn in TOPOLOGIES.items():
        s = sub.add_parser(name, help=fn.__doc__.split("\n")[0])
        if name in ("memif", "chain"):
            s.add_argument("--zero-copy", action="store_true",
                           help="zero-copy memif clients (chain: NF2's second zero-copy client does not "
                                "come up with DPDK 22.11.11 here, 'sendmsg fail: Bad file descriptor')")
            s.add_argument("--rsize", type=int, default=10, help="log2 of the memif ring size (10..14)")
        if name in ("vhost", "afpacket"):
            s.add_argument("--devargs", default="", help="extra devargs of virtio-user / af_packet")
        if name == "afpacket":
            s.add_argument("--size", type=int, default=64, help="frame size (bytes, without FCS)")
        s.add_argument("--runs", type=int, default=1)
        s.add_argument("--warmup", type=float, default=WARMUP)
        s.add_argument("--measure", type=float, default=MEASURE, help="window (s)")
    s = sub.add_parser("interleave", help="N x (one peer run, one run of COMMAND)")
    s.add_argument("n", type=int)
    s.add_argument("peer", help='peer arguments, e.g. "memif" or "afpacket --size 1500"')
    s.add_argument("command", help="shell command printing its Mpps as the last number")
    return ap


def run_peer(ap, argv):
    a = vars(ap.parse_args(argv))
    fn = TOPOLOGIES[a.pop("topology")]
    runs, warmup, window = a.pop("runs"), a.pop("warmup"), a.pop("measure")
    a = {k.replace("-", "_"): v for k, v in a.items()}
    return [fn(**a, warmup=warmup, window=window) for _ in range(runs)]


def main():
    ap = parser()
    args = ap.parse_args()
    if args.topology == "interleave":
        interleave(args.n, lambda: run_peer(ap, shlex.split(args.peer))[0],
                   lambda: command_mpps(args.command))
        return 0
    res = run_peer(ap, sys.argv[1:])
    if len(res) > 1:
        print(f"{args.topology} min/median/max Mpps: {min(res):.3f} {statistics.median(res):.3f} {max(res):.3f}")
    print(f"{args.topology} Mpps: {statistics.median(res):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
