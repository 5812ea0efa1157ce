# SPDX-License-Identifier: BSD-3-Clause
"""The docs keep up with the lists in the code: every drop cause is in the
control protocol's table, every top-level configuration key in the
configuration reference."""
import os
import re

from netvmtest import check

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


def test_every_drop_cause_is_documented():
    causes = re.findall(r"X\((\w+),", read("src/daemon/netvmd.h"))
    check(len(causes) >= 8, f"SW_DROP_CAUSES not found: {causes}")
    doc = read("docs/control-protocol.md")
    missing = [c for c in causes if f"| `{c}`" not in doc]
    check(not missing, f"docs/control-protocol.md does not document drop causes {missing}")
    return f"{len(causes)} drop causes, all in docs/control-protocol.md"


def test_every_config_key_is_documented():
    src = read("src/daemon/config.c")
    table = re.search(r"top_names\[K_COUNT\] = \{(.*?)\};", src, re.S)
    check(table, "top_names not found in src/daemon/config.c")
    keys = re.findall(r'"(\w+)"', table.group(1))
    doc = read("docs/configuration.md")
    missing = [k for k in keys if f"`{k}`" not in doc]
    check(not missing, f"docs/configuration.md does not document keys {missing}")
    return f"{len(keys)} top-level keys, all in docs/configuration.md"
