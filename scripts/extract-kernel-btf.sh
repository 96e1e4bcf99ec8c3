#!/usr/bin/env bash
# Extract raw BTF blobs (same format as /sys/kernel/btf/vmlinux) from Debian
# linux-image-*.deb packages. Maintainer tool used to (re)generate
# fixtures/kernels/; tests never run it.
#
# Usage:
#   scripts/extract-kernel-btf.sh PKG.deb OUT.btf
#       vmlinux BTF from the package's /boot/vmlinuz-*.
#   scripts/extract-kernel-btf.sh --module PKG.deb MODULE OUT.btf [BASE.btf]
#       split BTF (.BTF section) of lib/modules/*/.../MODULE.ko[.xz|.zst|.gz];
#       BASE.btf (the package's vmlinux BTF) is only used for the bpftool check.
#
# How the vmlinux BTF is found:
#   * x86 bzImage: like the kernel's scripts/extract-vmlinux, look for every
#     compression magic (zstd, xz, gzip, lzma, bzip2, lz4) in the image, try to
#     decompress from each offset, keep the first result that is an ELF file,
#     then `objcopy -O binary --only-section=.BTF`.
#   * arm64 Image (raw, optionally gzip-compressed): not ELF, so scan for the
#     BTF header magic `9f eb 01 00 18 00 00 00` (magic 0xeb9f, version 1,
#     flags 0, hdr_len 24) and cut hdr_len + max(type_off+type_len,
#     str_off+str_len) bytes as described by struct btf_header.
#   * Anything that is already ELF is handed to objcopy directly.
# Every result is checked with `bpftool btf dump file OUT format raw`.
#
# Needs: dpkg-deb, objcopy (or llvm-objcopy-19), python3, zstd, xz, gzip,
# bzip2/lz4 (only if the image uses them), bpftool (for the check).
set -euo pipefail

die() { echo "extract-kernel-btf: $*" >&2; exit 1; }

OBJCOPY=${OBJCOPY:-}
if [[ -z $OBJCOPY ]]; then
    if command -v objcopy >/dev/null; then OBJCOPY=objcopy
    elif command -v llvm-objcopy-19 >/dev/null; then OBJCOPY=llvm-objcopy-19
    elif command -v llvm-objcopy >/dev/null; then OBJCOPY=llvm-objcopy
    else die "no objcopy found"; fi
fi

is_elf() { [[ "$(head -c4 "$1" | od -An -tx1 | tr -d ' \n')" == 7f454c46 ]]; }

# find_btf_in_raw IN OUT: scan a non-ELF image for the BTF header and cut the blob.
find_btf_in_raw() {
    python3 - "$1" "$2" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
magic = bytes.fromhex('9feb010018000000')
best = None
pos = data.find(magic)
while pos != -1:
    hdr = data[pos:pos + 24]
    if len(hdr) == 24:
        _m, _v, _f, hdr_len, toff, tlen, soff, slen = struct.unpack('<HBBIIIII', hdr)
        end = hdr_len + max(toff + tlen, soff + slen)
        # sanity: sections inside the blob, string section starts with '\0'
        if (tlen > 0 and slen > 0 and pos + end <= len(data)
                and data[pos + hdr_len + soff] == 0):
            if best is None or end > best[1]:
                best = (pos, end)
    pos = data.find(magic, pos + 1)
if best is None:
    sys.exit('no BTF header found')
pos, size = best
open(sys.argv[2], 'wb').write(data[pos:pos + size])
print(f'BTF blob at offset {pos:#x}, {size} bytes', file=sys.stderr)
PY
}

# decompress_vmlinux IMAGE OUT: extract-vmlinux style search for an embedded ELF.
decompress_vmlinux() {
    local img=$1 out=$2 magic cmd off
    # magic (hex, as printed by grep -obUaP) and decompressor
    local -a tries=(
        '\x28\xb5\x2f\xfd|zstd -dcq'
        '\xfd\x37\x7a\x58\x5a\x00|xz -dcq'
        '\x1f\x8b\x08|gzip -dcq'
        '\x5d\x00\x00\x00|xz -dcq --format=lzma'
        'BZh|bzip2 -dcq'
        '\x02\x21\x4c\x18|lz4 -dcq'
    )
    for t in "${tries[@]}"; do
        magic=${t%%|*}; cmd=${t#*|}
        command -v "${cmd%% *}" >/dev/null || continue
        for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
            tail -c +"$((off + 1))" "$img" | $cmd > "$out" 2>/dev/null || true
            if [[ -s $out ]] && is_elf "$out"; then
                echo "decompressed vmlinux with '$cmd' from offset $off" >&2
                return 0
            fi
        done
    done
    return 1
}

check() {
    local btf=$1; shift
    command -v bpftool >/dev/null || { echo "bpftool not found, skipping check" >&2; return 0; }
    echo "bpftool OK, last type: $(bpftool btf dump file "$btf" "$@" format raw | grep '^\[' | tail -1 | cut -c1-100)" >&2
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [[ ${1:-} == --module ]]; then
    [[ $# -eq 4 || $# -eq 5 ]] || die "usage: $0 --module PKG.deb MODULE OUT.btf [BASE.btf]"
    deb=$2 mod=$3 out=$4 base=${5:-}
    dpkg-deb -x "$deb" "$tmp/pkg"
    ko=$(find "$tmp/pkg/lib/modules" \( -name "$mod.ko" -o -name "$mod.ko.xz" -o -name "$mod.ko.zst" -o -name "$mod.ko.gz" \) | head -1)
    [[ -n $ko ]] || die "module $mod not found in $deb"
    echo "module: ${ko#"$tmp/pkg"}" >&2
    case $ko in
        *.xz)  xz -dc "$ko" > "$tmp/mod.ko" ;;
        *.zst) zstd -dcq "$ko" > "$tmp/mod.ko" ;;
        *.gz)  gzip -dc "$ko" > "$tmp/mod.ko" ;;
        *)     cp "$ko" "$tmp/mod.ko" ;;
    esac
    # In modules .BTF is not SHF_ALLOC, so `objcopy -O binary --only-section=.BTF`
    # writes an empty file; --dump-section copies the section contents instead.
    rm -f "$out"
    "$OBJCOPY" --dump-section .BTF="$out" "$tmp/mod.ko" "$tmp/mod.out"
    [[ -s $out ]] || die "$ko has no .BTF section"
    chmod 644 "$out"
    if [[ -n $base ]]; then
        check "$out" -B "$base"
    else
        echo "note: this is split BTF; dump it with -B <vmlinux BTF of the same package>" >&2
    fi
    exit 0
fi

[[ $# -eq 2 ]] || die "usage: $0 PKG.deb OUT.btf   |   $0 --module PKG.deb MODULE OUT.btf [BASE.btf]"
deb=$1 out=$2
dpkg-deb -x "$deb" "$tmp/pkg"
img=$(find "$tmp/pkg/boot" -name 'vmlinuz-*' -o -name 'vmlinux-*' | head -1)
[[ -n $img ]] || die "no /boot/vmlinuz-* in $deb"
echo "image: ${img#"$tmp/pkg"}" >&2

if is_elf "$img"; then
    cp "$img" "$tmp/vmlinux"
elif [[ "$(head -c2 "$img" | od -An -tx1 | tr -d ' \n')" == 1f8b ]]; then
    # arm64 and others: Image.gz
    gzip -dc "$img" > "$tmp/vmlinux"
elif [[ "$(head -c $((0x206)) "$img" | tail -c 4)" == HdrS ]]; then
    # x86 bzImage (boot protocol header "HdrS" at 0x202)
    decompress_vmlinux "$img" "$tmp/vmlinux" || die "could not decompress vmlinux from $img"
else
    # raw image (e.g. arm64 Image), scanned below
    cp "$img" "$tmp/vmlinux"
fi

if is_elf "$tmp/vmlinux"; then
    "$OBJCOPY" -O binary --only-section=.BTF "$tmp/vmlinux" "$out"
    [[ -s $out ]] || die "vmlinux has no .BTF section"
    chmod 644 "$out"
else
    find_btf_in_raw "$tmp/vmlinux" "$out"
fi
check "$out"
