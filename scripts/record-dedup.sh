#!/usr/bin/env bash
# Records libbpf's btf__dedup results: the oracle of `btfx dedup` and of
# crates/btf/tests/dedup.rs (fixtures/oracle/dedup/).
#
# Builds scripts/libbpf-dedup.c against the system libbpf (Debian bookworm
# libbpf-dev 1:1.1.2-0+deb12u1), then for each case appends the inputs
# (btf__new_empty + btf__add_btf) or opens one split input over its base
# (btf__parse_split), calls btf__dedup and writes btf__raw_data. Outputs
# over 100 KB are stored gzip -9 -n compressed.
#
# Also (re)extracts, when the .deb is given as $1, the module BTFs used as
# inputs (fixtures/oracle/dedup/modules/), from Debian's
# linux-image-6.12.117+deb12-amd64-unsigned 6.12.117-1~deb12u1, and the
# .BTF sections of Debian's xdp-tools objects (/usr/lib/x86_64-linux-gnu/bpf/,
# xdp-tools 1.3.1-1) into fixtures/oracle/dedup/debian/.
#
# The crafted inputs (fixtures/oracle/dedup/crafted/*.N.btf, *.base.btf)
# are written by `BTFX_BLESS_DEDUP=1 cargo test -p btfx-btf --test dedup`.
#
# Usage: scripts/record-dedup.sh [linux-image-6.12.117+deb12-amd64-unsigned_*.deb]
set -euo pipefail
cd "$(dirname "$0")/.."
O=fixtures/oracle/dedup
K=fixtures/kernels
BIN=$(mktemp -d)/libbpf-dedup
trap 'rm -rf "$(dirname "$BIN")"' EXIT
cc -O2 -Wall scripts/libbpf-dedup.c -lbpf -o "$BIN"
mkdir -p $O/modules $O/debian $O/crafted

if [[ $# -ge 1 ]]; then
    for m in xfs kvm nf_tables bridge 8021q; do
        scripts/extract-kernel-btf.sh --module "$1" $m $O/modules/$m.btf $K/x86_64-6.12.btf
    done
fi
OBJCOPY=${OBJCOPY:-$(command -v llvm-objcopy-19 || command -v llvm-objcopy || echo objcopy)}
if [[ -d /usr/lib/x86_64-linux-gnu/bpf ]]; then
    for f in /usr/lib/x86_64-linux-gnu/bpf/*.o; do
        "$OBJCOPY" --dump-section .BTF=$O/debian/$(basename "$f" .o).btf "$f"
    done
fi

# record NAME [-B BASE] INPUT...
record() {
    local name=$1
    shift
    "$BIN" "$@" -o $O/$name.btf
    if [[ $(stat -c %s $O/$name.btf) -gt 102400 ]]; then
        gzip -9 -n -f $O/$name.btf
    else
        rm -f $O/$name.btf.gz
    fi
}

# at least five fixture objects, then all of them
record objs5 fixtures/bpf/core_fields.bpf.o fixtures/bpf/core_types.bpf.o \
    fixtures/bpf/maps_globals.bpf.o fixtures/bpf/sock_trace.bpf.o fixtures/bpf/task_trace.bpf.o
record objs_all fixtures/bpf/core_fail.bpf.o fixtures/bpf/core_fields.bpf.o fixtures/bpf/core_fields.bpfeb.o fixtures/bpf/core_flavors.bpf.o fixtures/bpf/core_subprog.bpf.o fixtures/bpf/core_types.bpf.o fixtures/bpf/fentry_fexit.bpf.o fixtures/bpf/ksyms.bpf.o fixtures/bpf/maps_globals.bpf.o fixtures/bpf/maps_globals.bpfeb.o fixtures/bpf/pin_by_name.bpf.o fixtures/bpf/regs.bpf.o fixtures/bpf/sock_trace.bpf.o fixtures/bpf/task_trace.bpf.o
record debian_xdp $O/debian/*.btf
# kernels appended to themselves (VAR and DATASEC stay twice)
record k61x2 $K/x86_64-6.1.btf $K/x86_64-6.1.btf
record k618x2 $K/x86_64-6.18.btf $K/x86_64-6.18.btf
# objects around a kernel
record objs_k61 fixtures/bpf/core_types.bpf.o $K/x86_64-6.1.btf fixtures/bpf/task_trace.bpf.o
# a kernel as split BTF over itself, and over another kernel
record k61_over_k61 -B $K/x86_64-6.1.btf $K/x86_64-6.1.btf
record k618_over_k61 -B $K/x86_64-6.1.btf $K/x86_64-6.18.btf
# module BTF over its vmlinux
record ext4 -B $K/x86_64-6.12.btf $K/modules/ext4.btf
record tcp_bbr -B $K/x86_64-6.12.btf $K/modules/tcp_bbr.btf
for m in xfs kvm nf_tables bridge 8021q; do
    record mod_$m -B $K/x86_64-6.12.btf $O/modules/$m.btf
done
# crafted cases
for first in $O/crafted/*.1.btf; do
    c=$(basename "$first" .1.btf)
    if [[ -f $O/crafted/$c.base.btf ]]; then
        record crafted/$c.out -B $O/crafted/$c.base.btf $O/crafted/$c.[0-9].btf
    else
        record crafted/$c.out $O/crafted/$c.[0-9].btf
    fi
done
echo "recorded with: $(dpkg-query -W -f '${Package} ${Version}' libbpf1 2>/dev/null || echo libbpf ?)"
