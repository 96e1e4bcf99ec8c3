#!/usr/bin/env bash
# Fetches and unpacks the Debian debug kernel that issue 18's evidence uses:
# linux-image-6.1.0-56-cloud-amd64-dbg (vmlinux and modules with DWARF) and
# the matching -unsigned image (the BTF the kernel build made from the same
# DWARF). Maintainer tool; tests never run it. Large files stay out of git.
#
# Usage: scripts/fetch-debug-kernel.sh [DIR]
#   DIR defaults to $BTFX_DEBUG_KERNEL_DIR, else /work/dl/kernel.
#
# The .deb files are looked for in DIR, then in DIR's parent directory; if
# missing they are fetched into DIR with `apt-get download` (bookworm with
# bookworm-security in the apt sources). The dbg package is unpacked once
# (dpkg-deb -x) into $BTFX_DEBUG_EXTRACT (default: DIR/../dbg, i.e.
# /work/dl/dbg), the unsigned one into DIR/unsigned.
#
# Writes into DIR (see fixtures/oracle/dwarf/README.md, "Kernel files"):
#   packages.sha256          sha256sum of both .deb files
#   vmlinux                  symlink to the dbg vmlinux (DWARF, unstripped)
#   vmlinux.BTF              the dbg vmlinux's own .BTF section, raw
#   vmlinuz.BTF              the .BTF of the unsigned package's vmlinuz
#                            (scripts/extract-kernel-btf.sh)
#   modules.list             the modules below, one `NAME PATH-IN-PACKAGE` a line
#   modules/NAME.ko          symlink to the dbg package's NAME.ko (DWARF)
#   modules/NAME.shipped.BTF .BTF of the unsigned package's NAME.ko (split BTF
#                            over vmlinuz.BTF)
#   fetch.log                what was compared (vmlinux.BTF vs vmlinuz.BTF)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

VERSION=6.1.0-56-cloud-amd64
DEBVER=6.1.192-2
DIR=${1:-${BTFX_DEBUG_KERNEL_DIR:-/work/dl/kernel}}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
EXTRACT=${BTFX_DEBUG_EXTRACT:-$(dirname "$DIR")/dbg}

# Modules compared with their shipped .BTF: present as .ko in this flavour
# (ext4 is built in). Order: small to large.
MODULES=(tcp_bbr sch_fq nfnetlink veth virtio_net wireguard nf_conntrack
         fuse overlay nf_tables kvm kvm-intel btrfs xfs)

die() { echo "fetch-debug-kernel: $*" >&2; exit 1; }

dbg_deb=linux-image-$VERSION-dbg_${DEBVER}_amd64.deb
uns_deb=linux-image-$VERSION-unsigned_${DEBVER}_amd64.deb

find_deb() {
    local name=$1
    if [[ -f $DIR/$name ]]; then echo "$DIR/$name"
    elif [[ -f $(dirname "$DIR")/$name ]]; then echo "$(dirname "$DIR")/$name"
    else
        (cd "$DIR" && apt-get download "${name%%_*}=$DEBVER" >&2)
        [[ -f $DIR/$name ]] || die "apt-get download did not produce $name"
        echo "$DIR/$name"
    fi
}

dbg=$(find_deb "$dbg_deb")
uns=$(find_deb "$uns_deb")
log=$DIR/fetch.log
: > "$log"
(cd "$(dirname "$dbg")" && sha256sum "$(basename "$dbg")") > "$DIR/packages.sha256"
(cd "$(dirname "$uns")" && sha256sum "$(basename "$uns")") >> "$DIR/packages.sha256"
cat "$DIR/packages.sha256" | tee -a "$log"

vmlinux=$EXTRACT/usr/lib/debug/boot/vmlinux-$VERSION
if [[ ! -f $vmlinux ]]; then
    echo "unpacking $dbg into $EXTRACT" | tee -a "$log"
    mkdir -p "$EXTRACT"
    dpkg-deb -x "$dbg" "$EXTRACT"
fi
[[ -f $vmlinux ]] || die "no $vmlinux after unpacking"
if [[ ! -d $DIR/unsigned/boot ]]; then
    mkdir -p "$DIR/unsigned"
    dpkg-deb -x "$uns" "$DIR/unsigned"
fi

ln -sfn "$vmlinux" "$DIR/vmlinux"
rm -f "$DIR/vmlinux.BTF"
objcopy -O binary --only-section=.BTF "$vmlinux" "$DIR/vmlinux.BTF"
[[ -s $DIR/vmlinux.BTF ]] || die "$vmlinux has no .BTF section"
chmod 644 "$DIR/vmlinux.BTF"
"$repo/scripts/extract-kernel-btf.sh" "$uns" "$DIR/vmlinuz.BTF" 2>>"$log"
if cmp -s "$DIR/vmlinux.BTF" "$DIR/vmlinuz.BTF"; then
    echo "vmlinux.BTF (dbg vmlinux) == vmlinuz.BTF (unsigned vmlinuz): byte-equal" | tee -a "$log"
else
    echo "vmlinux.BTF (dbg vmlinux) != vmlinuz.BTF (unsigned vmlinuz)" | tee -a "$log"
fi

mkdir -p "$DIR/modules"
: > "$DIR/modules.list"
for m in "${MODULES[@]}"; do
    dko=$(find "$EXTRACT/usr/lib/debug/lib/modules/$VERSION" -name "$m.ko" | head -1)
    sko=$(find "$DIR/unsigned/lib/modules/$VERSION" \( -name "$m.ko" -o -name "$m.ko.xz" \) | head -1)
    if [[ -z $dko || -z $sko ]]; then
        echo "$m: missing (dbg: ${dko:-none}, unsigned: ${sko:-none})" | tee -a "$log"
        continue
    fi
    echo "$m ${sko#"$DIR/unsigned"}" >> "$DIR/modules.list"
    ln -sfn "$dko" "$DIR/modules/$m.ko"
    tmp=$(mktemp)
    case $sko in
        *.xz) xz -dc "$sko" > "$tmp" ;;
        *) cp "$sko" "$tmp" ;;
    esac
    rm -f "$DIR/modules/$m.shipped.BTF"
    # .BTF is not SHF_ALLOC in modules: --dump-section, not -O binary.
    objcopy --dump-section .BTF="$DIR/modules/$m.shipped.BTF" "$tmp" "$tmp.out"
    rm -f "$tmp" "$tmp.out"
    [[ -s $DIR/modules/$m.shipped.BTF ]] || die "$sko has no .BTF"
done
echo "modules: $(wc -l < "$DIR/modules.list") of ${#MODULES[@]}" | tee -a "$log"
