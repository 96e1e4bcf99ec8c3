#!/usr/bin/env bash
# Build the loader corpus: fixtures/bpf/corpus/<name>.bpf.c -> <name>.bpf.o
# (clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86; nobtf.bpf.c without -g).
#
# vmlinux.h is generated here from the running kernel's BTF
# (`bpftool btf dump file /sys/kernel/btf/vmlinux format c`) into a
# temporary directory; it is not checked in. The objects are, beside their
# sources: CI has no clang. Needs clang-19, bpftool and libbpf-dev (1.1).
#
# Usage: scripts/build-corpus.sh [--check]
#   --check  rebuild into a temporary directory and report objects that
#            differ from the committed ones (a different kernel's
#            vmlinux.h changes the BTF of the objects that use it).
set -euo pipefail

cd "$(dirname "$0")/.."

CLANG=${CLANG:-clang-19}
SRC=fixtures/bpf/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

outdir=$SRC
check=0
if [[ ${1:-} == --check ]]; then
	check=1
	outdir=$tmp/out
	mkdir -p "$outdir"
fi

bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$tmp/vmlinux.h"
"$CLANG" --version | head -n1 >&2

CFLAGS=(-O2 -target bpf -D__TARGET_ARCH_x86 -I"$tmp" -I"$SRC"
	-I/usr/include/$(uname -m)-linux-gnu
	-fdebug-prefix-map="$PWD"=. -fdebug-prefix-map="$tmp"=. -fdebug-compilation-dir=.
	-Wall -Wno-unused-variable -Wno-unused-function -Werror)

for src in "$SRC"/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	g=-g
	[[ $name == nobtf ]] && g=
	"$CLANG" $g "${CFLAGS[@]}" -c "$src" -o "$outdir/$name.bpf.o"
	echo "  $src -> $outdir/$name.bpf.o" >&2
done

if ((check)); then
	status=0
	for o in "$outdir"/*.o; do
		cmp -s "$o" "$SRC/$(basename "$o")" || { echo "differs: $SRC/$(basename "$o")" >&2; status=1; }
	done
	exit $status
fi
