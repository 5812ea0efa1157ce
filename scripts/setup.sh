#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install NetVM's build and test dependencies (Debian packages), reserve huge
# pages, and build into ./build.  Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(gcc meson ninja-build pkg-config libyaml-dev libcmocka-dev libpcap-dev libjansson-dev
      python3 python3-scapy tshark iproute2 procps clang libclang-rt-14-dev)
# Ports and real clients: the af_xdp backend (libxdp1 ships the default XSK
# program, so nothing is fetched at run time) and the namespace tests' clients.
PKGS+=(libxdp-dev libbpf-dev iperf3 curl ethtool iputils-ping)
# nf-nat: Concurrency Kit (ck_rhs) and libsodium (SipHash); nftables for the
# Linux MASQUERADE comparison in its tests and bench/nat.py.
PKGS+=(libck-dev libsodium-dev nftables)
# nf-router's end-to-end test runs traceroute (bench/router.py installs the
# benchmark's own: dpdk-dev for dpdk-test-fib, valgrind).
PKGS+=(traceroute)
# VM NFs: QEMU, and what scripts/guest-image.sh builds the guest image from.
PKGS+=(qemu-system-x86 linux-image-amd64 busybox-static kmod cpio)
HUGEPAGES=${NETVM_HUGEPAGES:-256}   # 2 MiB pages to reserve (0: leave as is)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Huge pages back the packet region when they are there (a warning otherwise).
if [ "$(id -u)" = 0 ] && [ "$HUGEPAGES" -gt 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$HUGEPAGES" ]; then
		echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages || true
		echo "setup: huge pages reserved: $(cat /proc/sys/vm/nr_hugepages) x 2 MiB"
	fi
fi

[ -f build/build.ninja ] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
scripts/guest-image.sh -b build >/dev/null
echo "setup: built into $(pwd)/build (guest image: build/guest)"
