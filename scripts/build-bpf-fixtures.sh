#!/usr/bin/env bash
# Build the BPF fixture objects from fixtures/bpf/*.bpf.c.
#
#   fixtures/bpf/<name>.bpf.o     little-endian (-target bpf), every source
#   fixtures/bpf/<name>.bpfeb.o   big-endian (-target bpfeb), for BPFEB_SOURCES
#
# The objects are committed; CI never runs clang. Needs clang-19 and the
# libbpf-dev (1.1) and linux-libc-dev headers. Builds are reproducible: the
# compiler runs from the repository root with relative paths and the debug
# info's compilation directory is mapped to ".", so no absolute path of the
# checkout ends up in the objects (only system header paths such as
# /usr/include/bpf/bpf_helpers.h appear in the DWARF line tables).
#
# Usage: scripts/build-bpf-fixtures.sh [--check]
#   --check  rebuild into a temporary directory and fail if any committed
#            object differs from a fresh build.
set -euo pipefail

cd "$(dirname "$0")/.."

CLANG=${CLANG:-clang-19}
BPFEB_SOURCES=(core_fields maps_globals)
# <linux/types.h> includes <asm/types.h>, which Debian keeps in the multiarch
# directory that is not on the bpf target's default search path.
MULTIARCH_INC=/usr/include/$(uname -m)-linux-gnu
CFLAGS=(-g -O2 -D__TARGET_ARCH_x86 -I"$MULTIARCH_INC"
	-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=.
	-Wall -Wno-unused-variable -Werror)

outdir=fixtures/bpf
check=0
if [[ ${1:-} == --check ]]; then
	check=1
	outdir=$(mktemp -d)
	trap 'rm -rf "$outdir"' EXIT
fi

"$CLANG" --version | head -n1 >&2

build() { # <target> <src> <out>
	"$CLANG" -target "$1" "${CFLAGS[@]}" -c "$2" -o "$3"
	echo "  $1 $2 -> $3" >&2
}

for src in fixtures/bpf/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	build bpf "$src" "$outdir/$name.bpf.o"
done
for name in "${BPFEB_SOURCES[@]}"; do
	build bpfeb "fixtures/bpf/$name.bpf.c" "$outdir/$name.bpfeb.o"
done

if ((check)); then
	status=0
	for o in "$outdir"/*.o; do
		if ! cmp -s "$o" "fixtures/bpf/$(basename "$o")"; then
			echo "differs: fixtures/bpf/$(basename "$o")" >&2
			status=1
		fi
	done
	exit $status
fi
