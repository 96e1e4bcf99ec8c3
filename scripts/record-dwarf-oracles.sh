#!/usr/bin/env bash
# Records pahole 1.24's BTF for every DWARF fixture built by
# scripts/build-dwarf-fixtures.sh (fixtures/dwarf/bin/) into
# fixtures/oracle/dwarf/. Run from anywhere; needs pahole and bpftool.
#
# For each output NAME:
#   NAME.btf      pahole -J --btf_gen_floats --lang_exclude=rust
#                 --btf_encode_detached=NAME.btf INPUT   (single-threaded,
#                 no -j; the split outputs add --btf_base BASE.btf)
#   NAME.raw      bpftool btf dump file NAME.btf [-B BASE.btf] format raw
#   NAME.summary  scripts/btf-summary.sh NAME.btf [BASE.btf]
#   NAME.log      pahole's stdout and stderr (warnings), when not empty
# Outputs:
#   vmlinux-gcc-dwarf4, vmlinux-gcc-dwarf5, vmlinux-gcc-nomcount,
#   vmlinux-clang-dwarf5, vmlinux-gcc-nosymtab,
#   vmlinux-gcc-zlib                  the executables alone
#   vmlinux-gcc-dwarf5.with-rust      the same input without
#                                     --lang_exclude=rust
#   module-gcc-dwarf5, module-gcc-dwarf4,
#   module-gcc-zlib                   the relocatable objects alone
#   module-gcc-dwarf5.split           module-gcc-dwarf5.o over
#                                     vmlinux-gcc-dwarf5.btf
#   module-gcc-dwarf4.split           module-gcc-dwarf4.o over
#                                     vmlinux-gcc-dwarf4.btf
#   complex-gcc-dwarf5.log   pahole's messages and exit status on an
#                            object with _Complex types (no .btf kept)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=fixtures/dwarf/bin
out=fixtures/oracle/dwarf
mkdir -p "$out"
FLAGS=(-J --btf_gen_floats --lang_exclude=rust)

# record NAME INPUT [BASE-NAME] [pahole flags instead of FLAGS...]
record() {
    local name=$1 input=$2 base=${3:-} dump=() flags=("${FLAGS[@]}")
    shift 3 || shift $#
    [[ $# -gt 0 ]] && flags=("$@")
    rm -f "$out/$name.btf" "$out/$name.log"
    if [[ -n $base ]]; then
        flags+=(--btf_base "$out/$base.btf")
        dump=(-B "$out/$base.btf")
    fi
    pahole "${flags[@]}" --btf_encode_detached="$out/$name.btf" "$input" \
        > "$out/$name.log" 2>&1
    [[ -s $out/$name.log ]] || rm -f "$out/$name.log"
    chmod 644 "$out/$name.btf"
    bpftool btf dump file "$out/$name.btf" "${dump[@]}" format raw > "$out/$name.raw"
    scripts/btf-summary.sh "$out/$name.btf" ${base:+"$out/$base.btf"} > "$out/$name.summary"
    echo "$name: $(head -n1 "$out/$name.summary")"
}

for v in vmlinux-gcc-dwarf4 vmlinux-gcc-dwarf5 vmlinux-gcc-nomcount vmlinux-clang-dwarf5 \
         vmlinux-gcc-nosymtab vmlinux-gcc-zlib; do
    record "$v" "$bin/$v"
done
record vmlinux-gcc-dwarf5.with-rust "$bin/vmlinux-gcc-dwarf5" "" -J --btf_gen_floats
for m in module-gcc-dwarf5 module-gcc-dwarf4 module-gcc-zlib; do
    record "$m" "$bin/$m.o"
done
record module-gcc-dwarf5.split "$bin/module-gcc-dwarf5.o" vmlinux-gcc-dwarf5
record module-gcc-dwarf4.split "$bin/module-gcc-dwarf4.o" vmlinux-gcc-dwarf4

# pahole 1.24 fails on _Complex: only its exit status and messages.
rm -f "$out/complex-gcc-dwarf5.btf"
status=0
pahole "${FLAGS[@]}" --btf_encode_detached="$out/complex-gcc-dwarf5.btf" \
    "$bin/complex-gcc-dwarf5.o" > "$out/complex-gcc-dwarf5.log" 2>&1 || status=$?
echo "exit status $status" >> "$out/complex-gcc-dwarf5.log"
if [[ -e $out/complex-gcc-dwarf5.btf ]]; then
    echo "pahole left $(stat -c %s "$out/complex-gcc-dwarf5.btf") bytes in complex-gcc-dwarf5.btf" >> "$out/complex-gcc-dwarf5.log"
    rm -f "$out/complex-gcc-dwarf5.btf"
fi
echo "complex-gcc-dwarf5: $(tail -n1 "$out/complex-gcc-dwarf5.log")"

{
    echo "# tools used by scripts/record-dwarf-oracles.sh"
    echo "pahole $(pahole --version) (Debian dwarves $(dpkg-query -W -f '${Version}' dwarves 2>/dev/null || echo unknown))"
    bpftool version | head -n2
} > "$out/TOOLS"
