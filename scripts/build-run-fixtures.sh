#!/usr/bin/env bash
# Build the `btfx run` / runtime fixtures: fixtures/bpf/run/*.bpf.c ->
# fixtures/bpf/run/*.bpf.o (little-endian, clang-19 -g -O2 -target bpf).
# The objects are committed; CI never runs clang. Same flags and
# reproducibility rules as scripts/build-bpf-fixtures.sh.
#
# Usage: scripts/build-run-fixtures.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG=${CLANG:-clang-19}
MULTIARCH_INC=/usr/include/$(uname -m)-linux-gnu
CFLAGS=(-g -O2 -D__TARGET_ARCH_x86 -I"$MULTIARCH_INC"
	-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=.
	-Wall -Wno-unused-variable -Werror)

outdir=fixtures/bpf/run
check=0
if [[ ${1:-} == --check ]]; then
	check=1
	outdir=$(mktemp -d)
	trap 'rm -rf "$outdir"' EXIT
fi
"$CLANG" --version | head -n1 >&2
for src in fixtures/bpf/run/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	"$CLANG" -target bpf "${CFLAGS[@]}" -c "$src" -o "$outdir/$name.bpf.o"
	echo "  $src -> $outdir/$name.bpf.o" >&2
done
if ((check)); then
	status=0
	for o in "$outdir"/*.o; do
		cmp -s "$o" "fixtures/bpf/run/$(basename "$o")" || { echo "differs: $(basename "$o")" >&2; status=1; }
	done
	exit $status
fi
