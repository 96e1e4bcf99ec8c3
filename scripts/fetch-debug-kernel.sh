#!/usr/bin/env bash
# Fetches and unpacks the Debian debug kernel that issue 18's evidence uses:
# linux-image-6.1.0-56-cloud-amd64-dbg (vmlinux and modules with DWARF) and
# the matching -unsigned image (the BTF the kernel build made from the same
# DWARF). Maintainer tool; tests never run it. Large files stay out of git.
#
# Usage: scripts/fetch-debug-kernel.sh [DIR]
#   DIR defaults to $BTFX_DEBUG_KERNEL_DIR, else /work/dl/kernel.
#
# Other kernels (scripts/fetch-more-kernels.sh sets these for the ones in
# fixtures/oracle/dwarf/kernel-*.summary); the defaults are the 6.1 kernel:
#   BTFX_KVER       uname -r of the kernel     (6.1.0-56-cloud-amd64)
#   BTFX_DEBVER     Debian package version     (6.1.192-2)
#   BTFX_ARCH       Debian architecture        (amd64); a foreign one is
#                   added with `dpkg --add-architecture` + `apt-get update`
#                   (packages are only downloaded, never installed)
#   BTFX_IMAGE_PKG  package holding the kernel's vmlinuz and modules with
#                   their .BTF (linux-image-$BTFX_KVER-unsigned; s390x has
#                   no -unsigned: linux-image-$BTFX_KVER)
#   BTFX_MODULES    space-separated module names (the 14 below)
#   BTFX_DEBUG_EXTRACT  where the dbg package is unpacked (DIR/../dbg)
# A dbg package not yet unpacked is unpacked in part: only the vmlinux and
# the listed modules.
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

VERSION=${BTFX_KVER:-6.1.0-56-cloud-amd64}
DEBVER=${BTFX_DEBVER:-6.1.192-2}
ARCH=${BTFX_ARCH:-amd64}
IMAGE_PKG=${BTFX_IMAGE_PKG:-linux-image-$VERSION-unsigned}
DIR=${1:-${BTFX_DEBUG_KERNEL_DIR:-/work/dl/kernel}}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
EXTRACT=${BTFX_DEBUG_EXTRACT:-$(dirname "$DIR")/dbg}

# Modules compared with their shipped .BTF: present as .ko in this flavour
# (ext4 is built in). Order: small to large.
MODULES=(tcp_bbr sch_fq nfnetlink veth virtio_net wireguard nf_conntrack
         fuse overlay nf_tables kvm kvm-intel btrfs xfs)
if [[ -n ${BTFX_MODULES:-} ]]; then read -r -a MODULES <<< "$BTFX_MODULES"; fi
# dump_section ELF NAME OUT: the section's bytes as stored (objcopy for the
# host's ELF files; for a foreign architecture's, which the host's binutils
# do not read and llvm-objcopy-19 refuses (arm64 vmlinux: "Link field value
# 43 in section .rela.dyn is not a symbol table"), offset and size from
# readelf, which reads every ELF).
FOREIGN=0
dump_section() {
    if [[ $FOREIGN == 0 ]]; then
        objcopy --dump-section "$2=$3" "$1" "$3.elf.tmp"
        rm -f "$3.elf.tmp"
        return
    fi
    local off size
    read -r off size < <(readelf -SW "$1" | sed 's/^ *\[ */[/' |
        awk -v n="$2" '$2 == n {print $5, $6}')
    [[ -n $off ]] || die "$1 has no $2 section"
    dd if="$1" of="$3" iflag=skip_bytes,count_bytes skip=$((16#$off)) \
        count=$((16#$size)) status=none
}
if [[ $ARCH != "$(dpkg --print-architecture)" ]]; then
    FOREIGN=1
    if [[ " $(dpkg --print-foreign-architectures | tr '\n' ' ') " != *" $ARCH "* ]]; then
        dpkg --add-architecture "$ARCH"
        apt-get update >&2
    fi
fi

die() { echo "fetch-debug-kernel: $*" >&2; exit 1; }

dbg_deb=linux-image-$VERSION-dbg_${DEBVER}_$ARCH.deb
uns_deb=${IMAGE_PKG}_${DEBVER}_$ARCH.deb

find_deb() {
    local name=$1
    if [[ -f $DIR/$name ]]; then echo "$DIR/$name"
    elif [[ -f $(dirname "$DIR")/$name ]]; then echo "$(dirname "$DIR")/$name"
    else
        (cd "$DIR" && apt-get download "${name%%_*}:$ARCH=$DEBVER" >&2)
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
    patterns=("./usr/lib/debug/boot/vmlinux-$VERSION")
    for m in "${MODULES[@]}"; do patterns+=("./usr/lib/debug/lib/modules/$VERSION/*/$m.ko"); done
    dpkg-deb --fsys-tarfile "$dbg" | tar -x -C "$EXTRACT" --wildcards "${patterns[@]}" || true
fi
[[ -f $vmlinux ]] || die "no $vmlinux after unpacking"
if [[ ! -d $DIR/unsigned/boot ]]; then
    mkdir -p "$DIR/unsigned"
    dpkg-deb -x "$uns" "$DIR/unsigned"
fi

ln -sfn "$vmlinux" "$DIR/vmlinux"
rm -f "$DIR/vmlinux.BTF" "$DIR/vmlinuz.BTF"
# A kernel built without CONFIG_DEBUG_INFO_BTF (Debian's s390x) has no .BTF:
# no vmlinux.BTF, vmlinuz.BTF or modules/NAME.shipped.BTF then.
KBTF=1
sections=$(readelf -SW "$vmlinux")
if [[ $sections != *" .BTF "* ]]; then
    KBTF=0
    echo "$vmlinux has no .BTF section: no kernel BTF to compare with" | tee -a "$log"
elif [[ $FOREIGN == 0 ]]; then
    objcopy -O binary --only-section=.BTF "$vmlinux" "$DIR/vmlinux.BTF"
else
    dump_section "$vmlinux" .BTF "$DIR/vmlinux.BTF"
fi
if [[ $KBTF == 0 ]]; then :
elif [[ ! -s $DIR/vmlinux.BTF ]]; then die "$vmlinux: empty .BTF section"
elif ! chmod 644 "$DIR/vmlinux.BTF" ||
    ! "$repo/scripts/extract-kernel-btf.sh" "$uns" "$DIR/vmlinuz.BTF" 2>>"$log"; then
    echo "no BTF found in $IMAGE_PKG's vmlinuz (see above)" | tee -a "$log"
elif cmp -s "$DIR/vmlinux.BTF" "$DIR/vmlinuz.BTF"; then
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
    rm -f "$DIR/modules/$m.shipped.BTF"
    [[ $KBTF == 1 ]] || continue
    tmp=$(mktemp)
    case $sko in
        *.xz) xz -dc "$sko" > "$tmp" ;;
        *) cp "$sko" "$tmp" ;;
    esac
    # .BTF is not SHF_ALLOC in modules: --dump-section, not -O binary.
    dump_section "$tmp" .BTF "$DIR/modules/$m.shipped.BTF"
    rm -f "$tmp"
    [[ -s $DIR/modules/$m.shipped.BTF ]] || die "$sko has no .BTF"
done
echo "modules: $(wc -l < "$DIR/modules.list") of ${#MODULES[@]}" | tee -a "$log"
