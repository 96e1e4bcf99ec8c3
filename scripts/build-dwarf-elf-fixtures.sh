#!/usr/bin/env bash
# Build the ELF-layer fixtures of crates/dwarf-btf (src/elf.rs) and record
# what the reference tool reads from them.
#
#   fixtures/dwarf/elf/<variant>.o     objects built from fixtures/dwarf/elf/src/*.c
#                                      by gcc and clang-19 for several targets,
#                                      DWARF 4 and 5, compressed or not
#   fixtures/dwarf/elf/<variant>.ref   every DW_AT_name, DW_AT_producer,
#                                      DW_AT_low_pc and DW_AT_high_pc of
#                                      .debug_info as llvm-dwarfdump-19 prints
#                                      it (it applies the relocations of
#                                      relocatable objects and decompresses
#                                      sections), one "0xOFFSET attr value"
#                                      line each (high_pc as an address)
#   fixtures/dwarf/elf/<variant>.lines the directory and file tables of
#                                      each line program header
#                                      (scripts/dwarf-elf-lines.py)
#   fixtures/dwarf/elf/<variant>.tables  section headers and .symtab as
#                                      readelf prints them (scripts/elf-tables.py)
#   fixtures/dwarf/elf/gcc-dwarf4-types.types  the same for its .debug_types
#                                      (unit index instead of offset)
#   fixtures/dwarf/elf/TOOLS           the versions of the tools used
#
# crates/dwarf-btf/tests/elf.rs reads the same attributes with gimli over
# the sections ElfInput returns and compares with the .ref files; CI runs
# no compiler. The compilers run from fixtures/dwarf/elf with relative
# paths and the compilation directory mapped to ".", so the objects do not
# depend on where the checkout is.
#
# Usage: scripts/build-dwarf-elf-fixtures.sh
set -euo pipefail

cd "$(dirname "$0")/../fixtures/dwarf/elf"

GCC=${GCC:-gcc}
CLANG=${CLANG:-clang-19}
DWARFDUMP=${DWARFDUMP:-llvm-dwarfdump-19}
MAP=(-fdebug-prefix-map="$PWD"=.)

rm -f ./*.o ./*.ref ./*.lines ./*.tables ./*.types gcc-exe-relocs
gccobj() { # name flags...
	local name=$1; shift
	"$GCC" -c -O2 "${MAP[@]}" "$@" src/types.c -o "$name.o"
}
clangobj() { # name target flags...
	local name=$1 target=$2; shift 2
	"$CLANG" --target="$target" -c -O1 "${MAP[@]}" -fdebug-compilation-dir=. "$@" src/types.c -o "$name.o"
}

# gcc 12 (x86-64): plain, compressed three ways, type units.
gccobj gcc-dwarf4 -g -gdwarf-4
gccobj gcc-dwarf5 -g -gdwarf-5
gccobj gcc-dwarf5-zlib -g -gdwarf-5 -gz=zlib
# gcc 12 has no -gz=zstd; binutils 2.40's assembler has.
gccobj gcc-dwarf5-zstd -g -gdwarf-5 -Wa,--compress-debug-sections=zstd
gccobj gcc-dwarf4-zdebug -g -gdwarf-4 -Wa,--compress-debug-sections=zlib-gnu
gccobj gcc-dwarf4-types -g -gdwarf-4 -fdebug-types-section
# An executable linked with --emit-relocs: it keeps .rela.debug_*, which
# must not be applied again (llvm-dwarfdump does not apply them either).
"$GCC" -O2 "${MAP[@]}" -g -gdwarf-5 -Wl,--emit-relocs src/types.c src/second.c -o gcc-exe-relocs

# clang-19, one object per target (RELA unless noted; byte order).
clangobj clang-x86_64-dwarf5 x86_64-linux-gnu -g -gdwarf-5
clangobj clang-x86_64-dwarf4-zstd x86_64-linux-gnu -g -gdwarf-4 -gz=zstd
clangobj clang-i386-dwarf4 i386-linux-gnu -g -gdwarf-4            # REL, 32-bit
clangobj clang-i386-dwarf5-zlib i386-linux-gnu -g -gdwarf-5 -gz=zlib # Elf32_Chdr
clangobj clang-arm-dwarf4 armv7a-linux-gnueabihf -g -gdwarf-4     # REL, TLS_LDO32
clangobj clang-arm-dwarf5-zstd armv7a-linux-gnueabihf -g -gdwarf-5 -gz=zstd
clangobj clang-aarch64-dwarf5 aarch64-linux-gnu -g -gdwarf-5
clangobj clang-riscv64-dwarf4 riscv64-linux-gnu -g -gdwarf-4     # ADD32/SUB32 pairs
clangobj clang-riscv64-dwarf5 riscv64-linux-gnu -g -gdwarf-5
clangobj clang-loongarch64-dwarf5 loongarch64-linux-gnu -g -gdwarf-5
clangobj clang-s390x-dwarf5 s390x-linux-gnu -g -gdwarf-5          # big-endian
clangobj clang-ppc64le-dwarf5 powerpc64le-linux-gnu -g -gdwarf-5
clangobj clang-ppc64-dwarf4 powerpc64-linux-gnu -g -gdwarf-4      # big-endian

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in ./*.o gcc-exe-relocs; do
	name=${f%.o}
	input=$f
	case $f in
	*-zdebug.o)
		# llvm-dwarfdump-19 no longer reads .zdebug_* sections: binutils'
		# objcopy decompresses them first (relocations stay as they are).
		objcopy --decompress-debug-sections "$f" "$tmp"
		input=$tmp ;;
	esac
	"$DWARFDUMP" --debug-info "$input" 2>/dev/null | python3 ../../../scripts/dwarf-elf-names.py > "$name.ref"
	"$DWARFDUMP" --debug-line "$input" 2>/dev/null | python3 ../../../scripts/dwarf-elf-lines.py > "$name.lines"
	readelf -SW -sW "$f" | python3 ../../../scripts/elf-tables.py > "$name.tables"
done
# Type units: five .debug_types sections, each with its .rela.debug_types.
"$DWARFDUMP" --debug-types gcc-dwarf4-types.o 2>/dev/null \
	| python3 ../../../scripts/dwarf-elf-names.py --types > gcc-dwarf4-types.types

{
	echo "$("$GCC" --version | head -1)"
	echo "$(as --version | head -1)"
	echo "$(objcopy --version | head -1)"
	echo "$("$CLANG" --version | head -1)"
	echo "$("$DWARFDUMP" --version | grep -i version | head -1 | sed 's/^ *//')"
} > TOOLS
wc -l ./*.ref
