#!/usr/bin/env bash
# Builds the DWARF fixtures of issue 18 (DWARF -> BTF as pahole -J does) from
# fixtures/dwarf/src/ into fixtures/dwarf/bin/. The built files are checked
# in (CI has no compiler); rerun after changing a source, then
# scripts/record-dwarf-oracles.sh.
#
# Compiler: the kernel's (gcc 12, Debian 12.2.0-14+deb12u1) at -O2, plus one
# clang-19 variant. Debug info is never stripped.
#
# Outputs (fixtures/dwarf/bin/):
#   vmlinux-gcc-dwarf4    executable like vmlinux: -nostdlib -static, _start
#                         in start.S, CUs main base aggr aggr2 enums
#                         enums_short funcs funcs2 unnamed locals tags, built
#                         -gdwarf-4, .data..percpu kept as its own output
#                         section (percpu.ld), and like the kernel's ftrace build
#                         (-pg -mfentry -mrecord-mcount -mnop-mcount, entries
#                         collected between __start_mcount_loc and
#                         __stop_mcount_loc by mcount.ld), linked with
#                         --emit-relocs as x86 vmlinux is (.rela.debug_*)
#   vmlinux-gcc-dwarf5    the same with -gdwarf-5, plus the Rust CU
#                         rust/rust_cu.rs (rustc --emit=obj -g)
#   vmlinux-gcc-nomcount  -gdwarf-5 without -pg (no mcount records)
#   vmlinux-clang-dwarf5  clang-19 -O2 -gdwarf-5, no mcount records (clang has
#                         no -mrecord-mcount; the kernel uses objtool there)
#   module-gcc-dwarf5.o   like a module: gcc -c -gdwarf-5 (mcount flags as
#                         above) of mod_noint.c (first: a CU without int),
#                         mod_main.c and mod_extra.c,
#                         ld -r
#   module-gcc-dwarf4.o   the same with -gdwarf-4
#   vmlinux-gcc-nosymtab  vmlinux-gcc-nomcount without .symtab/.strtab
#                         (objcopy --strip-all --keep-section='.debug_*')
#   vmlinux-gcc-zlib      vmlinux-gcc-nomcount, debug sections zlib-compressed
#   module-gcc-zlib.o     module-gcc-dwarf5.o, debug sections zlib-compressed
#   complex-gcc-dwarf5.o  gcc -c -gdwarf-5 of complex.c (_Complex types,
#                         which pahole 1.24 refuses)
# Flags per CU: enums_short.c adds -fshort-enums, unnamed.c -std=gnu2x;
# all others -std=gnu11.
set -euo pipefail
cd "$(dirname "$0")/.."
src=fixtures/dwarf/src
bin=fixtures/dwarf/bin
mkdir -p "$bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

GCC=${GCC:-gcc-12}
CLANG=${CLANG:-clang-19}
COMMON=(-O2 -ffreestanding -fno-pie -fno-stack-protector -fno-common
        -fno-asynchronous-unwind-tables -fno-omit-frame-pointer
        -fdebug-prefix-map="$PWD"=.)
MCOUNT=(-pg -mfentry -mrecord-mcount -mnop-mcount)
CUS=(main base aggr aggr2 enums enums_short funcs funcs2 unnamed locals tags)

cu_flags() {
    case $1 in
        enums_short) echo "-std=gnu11 -fshort-enums" ;;
        unnamed) echo "-std=gnu2x" ;;
        *) echo "-std=gnu11" ;;
    esac
}

# build_vmlinux NAME CC DWARF_FLAG MCOUNT(yes|no) RUST(yes|no)
build_vmlinux() {
    local name=$1 cc=$2 dwarf=$3 mcount=$4 rust=$5 objs=() cu ldflags=()
    local -a extra=()
    [[ $mcount == yes ]] && extra=("${MCOUNT[@]}")
    mkdir -p "$tmp/$name"
    local -a asmmap=(-Wa,--debug-prefix-map="$PWD"=.)
    [[ $cc == "$CLANG" ]] && asmmap=(-fdebug-prefix-map="$PWD"=.)
    "$cc" "$dwarf" "${asmmap[@]}" -c "$src/start.S" -o "$tmp/$name/start.o"
    objs+=("$tmp/$name/start.o")
    for cu in "${CUS[@]}"; do
        # shellcheck disable=SC2046
        "$cc" "${COMMON[@]}" "${extra[@]}" $(cu_flags "$cu") "$dwarf" \
            -c "$src/$cu.c" -o "$tmp/$name/$cu.o"
        objs+=("$tmp/$name/$cu.o")
    done
    if [[ $rust == yes ]]; then
        rustc --emit=obj -g --crate-type=lib -C opt-level=2 -C panic=abort \
            --remap-path-prefix="$PWD"=. \
            "$src/rust/rust_cu.rs" -o "$tmp/$name/rust_cu.o"
        objs+=("$tmp/$name/rust_cu.o")
    fi
    ldflags=(-Wl,-T,"$src/percpu.ld")
    # Kernel-like builds keep relocations (x86 vmlinux is linked with
    # --emit-relocs), so the executable also has .rela.debug_* sections.
    [[ $mcount == yes ]] && ldflags+=(-Wl,-T,"$src/mcount.ld" -Wl,--emit-relocs)
    "$GCC" -nostdlib -static -no-pie -Wl,--build-id=none "${ldflags[@]}" \
        "${objs[@]}" -o "$bin/$name"
    echo "$bin/$name: $(stat -c %s "$bin/$name") bytes"
}

# build_module NAME DWARF_FLAG
build_module() {
    local name=$1 dwarf=$2 cu objs=()
    mkdir -p "$tmp/$name"
    for cu in mod_noint mod_main mod_extra; do
        "$GCC" "${COMMON[@]}" "${MCOUNT[@]}" -std=gnu11 "$dwarf" \
            -c "$src/$cu.c" -o "$tmp/$name/$cu.o"
        objs+=("$tmp/$name/$cu.o")
    done
    ld -r "${objs[@]}" -o "$bin/$name.o"
    echo "$bin/$name.o: $(stat -c %s "$bin/$name.o") bytes"
}

build_vmlinux vmlinux-gcc-dwarf4 "$GCC" -gdwarf-4 yes no
build_vmlinux vmlinux-gcc-dwarf5 "$GCC" -gdwarf-5 yes yes
build_vmlinux vmlinux-gcc-nomcount "$GCC" -gdwarf-5 no no
build_vmlinux vmlinux-clang-dwarf5 "$CLANG" -gdwarf-5 no no
build_module module-gcc-dwarf5 -gdwarf-5
build_module module-gcc-dwarf4 -gdwarf-4
# Derived with objcopy (binutils 2.40): no symbol table; zlib-compressed
# debug sections (SHF_COMPRESSED) in an executable and in a relocatable file.
objcopy --strip-all --keep-section='.debug_*' "$bin/vmlinux-gcc-nomcount" "$bin/vmlinux-gcc-nosymtab"
objcopy --compress-debug-sections=zlib "$bin/vmlinux-gcc-nomcount" "$bin/vmlinux-gcc-zlib"
objcopy --compress-debug-sections=zlib "$bin/module-gcc-dwarf5.o" "$bin/module-gcc-zlib.o"
# pahole 1.24 refuses DW_ATE_complex_float: an object of its own.
"$GCC" "${COMMON[@]}" -std=gnu11 -gdwarf-5 -c "$src/complex.c" -o "$bin/complex-gcc-dwarf5.o"

{
    echo "# tools used by scripts/build-dwarf-fixtures.sh"
    "$GCC" --version | head -n1
    "$CLANG" --version | head -n1
    rustc --version
    ld --version | head -n1
    as --version | head -n1
} > "$bin/TOOLS"
cat "$bin/TOOLS"
