#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build a small bootable guest image for running NetVM NFs in QEMU guests, from
# installed Debian packages only (nothing is downloaded):
#   OUTDIR/vmlinuz     the host's newest kernel that has its modules installed
#   OUTDIR/initrd.img  busybox, the virtio-serial/PCI modules, the static NFs
#                      (nf-forward, nf-firewall, nf-router, nf-nat) and guest/init as /init
#   scripts/guest-image.sh [-b BUILDDIR] [-o OUTDIR] [--add SRC:DEST ...]
# BUILDDIR (default build) is a meson build directory: its nf-forward-static
# and nf-firewall-static targets are built first.  OUTDIR defaults to
# BUILDDIR/guest.  --add copies the host file SRC to DEST in the image.
# Needs: busybox-static, linux-image-amd64, kmod (cpio is used if installed,
# else busybox's).  Running it again rebuilds the same image.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
OUT=
ADDS=()
die() { echo "guest-image: $*" >&2; exit 1; }
usage() {
	[ "$1" = 0 ] || exec >&2
	echo "usage: $0 [-b BUILDDIR] [-o OUTDIR] [--add SRC:DEST ...]"
	exit "$1"
}

while [ $# -gt 0 ]; do
	case $1 in
	-b) [ $# -ge 2 ] || usage 2; BUILD=$2; shift 2 ;;
	-o) [ $# -ge 2 ] || usage 2; OUT=$2; shift 2 ;;
	--add)
		[ $# -ge 2 ] || usage 2
		case $2 in ?*:/*) ;; *) die "--add $2: expected SRC:/ABSOLUTE/DEST" ;; esac
		[ -e "${2%:*}" ] || die "--add $2: ${2%:*} does not exist"
		ADDS+=("$2")
		shift 2
		;;
	-h | --help) usage 0 ;;
	*) echo "guest-image: unknown argument: $1" >&2; usage 2 ;;
	esac
done
OUT=${OUT:-$BUILD/guest}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in busybox-static kmod; do
	installed "$p" || die "$p is not installed: apt-get install -y $p"
done

# The kernel: the newest /boot/vmlinuz-VER that has /lib/modules/VER.
KVER=
for k in $(ls /boot/vmlinuz-* 2>/dev/null | sort -rV); do
	v=${k#/boot/vmlinuz-}
	if [ -d "/lib/modules/$v/kernel" ]; then KVER=$v; break; fi
done
[ -n "$KVER" ] || die "linux-image-amd64 is not installed: apt-get install -y linux-image-amd64"
[ -r "/boot/vmlinuz-$KVER" ] || die "/boot/vmlinuz-$KVER is not readable (run as root)"

# The static NFs (meson.build builds them when libjansson.a is there).
[ -f "$BUILD/build.ninja" ] || die "no meson build in $BUILD: meson setup $BUILD && ninja -C $BUILD"
ninja -C "$BUILD" build.ninja >/dev/null # regenerate it if meson.build changed
ninja -C "$BUILD" -t query nf-forward-static >/dev/null 2>&1 ||
	die "$BUILD has no nf-forward-static target: it needs a static jansson (apt-get install -y libjansson-dev), then meson setup --reconfigure $BUILD"
ninja -C "$BUILD" nf-forward-static nf-firewall-static nf-router-static >/dev/null ||
	die "building the static NFs failed: ninja -C $BUILD nf-forward-static nf-firewall-static nf-router-static"
GUEST_NFS=(nf-forward nf-firewall nf-router)
# nf-nat-static is there when libck-dev and libsodium-dev are (meson.build).
if ninja -C "$BUILD" -t query nf-nat-static >/dev/null 2>&1; then
	ninja -C "$BUILD" nf-nat-static >/dev/null || die "building nf-nat-static failed"
	GUEST_NFS+=(nf-nat)
fi

ROOT=$(mktemp -d /tmp/netvm-guest.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,etc,lib/modules}
ln -s bin "$ROOT/sbin"

# busybox and its applets (as symlinks) in /bin.
cp /bin/busybox "$ROOT/bin/busybox"
for a in $(/bin/busybox --list); do
	[ -e "$ROOT/bin/$a" ] || ln -s busybox "$ROOT/bin/$a"
done

# The modules for virtio-serial over PCI, with what they depend on, in load
# order (a dependency before the module needing it); built-in ones skipped.
MODS=()
add_mod() {
	local m=$1 f d
	case " ${MODS[*]-} " in *" $m "*) return 0 ;; esac
	f=$(modinfo -k "$KVER" -n "$m" 2>/dev/null) || die "kernel module $m not found in /lib/modules/$KVER"
	[ "$f" != "(builtin)" ] || return 0
	for d in $(modinfo -k "$KVER" -F depends "$m" | tr , ' '); do add_mod "$d"; done
	case $f in
	*.xz) xz -dc "$f" ;;
	*.zst) zstd -qdc "$f" ;;
	*.gz) gzip -dc "$f" ;;
	*) cat "$f" ;;
	esac >"$ROOT/lib/modules/$m.ko" || die "cannot decompress $f (apt-get install -y xz-utils zstd)"
	MODS+=("$m")
}
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console; do
	add_mod "$m"
done
printf '%s\n' "${MODS[@]-}" >"$ROOT/lib/modules/load-order"

# The NFs (debug info stripped: the image is for running them) and /init.
for nf in "${GUEST_NFS[@]}"; do
	strip --strip-debug -o "$ROOT/bin/$nf" "$BUILD/$nf-static" 2>/dev/null ||
		cp "$BUILD/$nf-static" "$ROOT/bin/$nf"
done
install -m 0755 "$TOP/guest/init" "$ROOT/init"

for a in "${ADDS[@]-}"; do
	[ -n "$a" ] || continue
	src=${a%:*} dest=${a##*:}
	mkdir -p "$ROOT$(dirname "$dest")"
	cp -a "$src" "$ROOT$dest"
done

# Pack: newc cpio, gzip'd; fixed owners, times and (GNU cpio) inode numbers
# so that a rebuild from the same files is byte-identical.
mkdir -p "$OUT"
find "$ROOT" -exec touch -h -d @0 {} +
if command -v cpio >/dev/null; then CPIO=(cpio --quiet --reproducible); else CPIO=(/bin/busybox cpio); fi
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | "${CPIO[@]}" -o -H newc -R 0:0) |
	gzip -n -9 >"$OUT/initrd.img.tmp"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
cp "/boot/vmlinuz-$KVER" "$OUT/vmlinuz"

size() { echo "$(stat -c %s "$1") bytes ($(du -h "$1" | cut -f1))"; }
echo "guest-image: kernel $KVER; modules: ${MODS[*]-(none)}"
echo "guest-image: in /bin: busybox ${GUEST_NFS[*]}${ADDS[*]:+; added: ${ADDS[*]}}"
echo "guest-image: $OUT/vmlinuz $(size "$OUT/vmlinuz")"
echo "guest-image: $OUT/initrd.img $(size "$OUT/initrd.img")"
