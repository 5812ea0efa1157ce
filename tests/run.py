#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run every NetVM test: the cmocka unit tests, then the integration tests
with real processes.  Prints one line per test (PASS, FAIL, or SKIP with
the reason when a privilege, tool or device it needs is missing) and ends
with 'N passed, N failed' (', N skipped' when some were).
Usage: tests/run.py [BUILD_DIR] [-k SUBSTRING]"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def unit_tests(build, results, pick):
    for exe in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            continue
        name = os.path.basename(exe)
        if pick and pick not in name:
            continue
        r = subprocess.run([exe], capture_output=True, text=True, timeout=600)
        out = r.stdout + r.stderr
        for m in re.finditer(r"\[ +(OK|FAILED) +\] (\w+)$", out, re.M):
            if m.group(2) != "tests":  # cmocka's summary line has no test name
                results.append((f"unit/{name}/{m.group(2)}", m.group(1) == "OK", ""))
        if r.returncode != 0 or not re.search(r"\[ +OK +\]", out):
            results.append((f"unit/{name}", False, out[-2000:]))


def integration_tests(build, results, pick):
    os.environ["NETVM_BUILD"] = build
    sys.path.insert(0, os.path.join(HERE, "integration"))
    for path in sorted(glob.glob(os.path.join(HERE, "integration", "test_*.py"))):
        mod_name = os.path.basename(path)[:-3]
        mod = __import__(mod_name)
        for fn_name in [n for n in dir(mod) if n.startswith("test_")]:
            full = f"integration/{mod_name}/{fn_name}"
            if pick and pick not in full:
                continue
            t0 = time.monotonic()
            try:
                note = getattr(mod, fn_name)() or ""
                results.append((full, True, f"{note} [{time.monotonic() - t0:.1f}s]"))
            except Exception as e:  # a failed check or a crash of the test itself
                kind = e.__class__.__name__
                if kind == "Skip":
                    results.append((full, None, str(e)))
                else:
                    detail = str(e) if kind == "TestFailure" else traceback.format_exc()
                    results.append((full, False, detail))
            ok, line = results[-1][1], results[-1]
            word = "SKIP" if ok is None else "PASS" if ok else "FAIL"
            print(f"{word} {full}: {line[2]}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("-k", dest="pick", help="only tests whose name contains this")
    ap.add_argument("--unit-only", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    results = []
    unit_tests(build, results, args.pick)
    for name, ok, out in results:
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f"\n{out}" if not ok else ""), flush=True)
    if not args.unit_only:
        integration_tests(build, results, args.pick)
    passed = sum(1 for r in results if r[1])
    skipped = sum(1 for r in results if r[1] is None)
    failed = len(results) - passed - skipped
    if not passed and not failed:
        print("no test ran")
        failed = 1
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
