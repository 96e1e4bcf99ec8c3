#!/usr/bin/env bash
# Build the attach fixtures: fixtures/bpf/attach/*.bpf.c -> *.bpf.o (clang-19
# -g -O2 -target bpf), and the user-space trigger programs in
# fixtures/bpf/attach/*.user.c (a USDT probe through <sys/sdt.h>, functions
# to uprobe) -> *.user (x86_64, -O1, not stripped).
#
# The objects are committed; CI never runs clang. Needs clang-19, libbpf-dev
# (1.1) headers, linux-libc-dev, systemtap-sdt-dev and a C compiler.
# Builds are reproducible as in build-bpf-fixtures.sh (relative paths, the
# compilation directory mapped to ".").
#
# Usage: scripts/build-attach-fixtures.sh [--check]
#   --check  rebuild into a temporary directory and fail if any committed
#            file differs from a fresh build.
set -euo pipefail

cd "$(dirname "$0")/.."

CLANG=${CLANG:-clang-19}
CC=${CC:-clang-19}
MULTIARCH_INC=/usr/include/$(uname -m)-linux-gnu
CFLAGS=(-g -O2 -D__TARGET_ARCH_x86 -I"$MULTIARCH_INC"
	-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=.
	-Wall -Wno-unused-variable -Wno-unused-parameter -Werror)
src=fixtures/bpf/attach
outdir=$src
check=0
if [[ ${1:-} == --check ]]; then
	check=1
	outdir=$(mktemp -d)
	trap 'rm -rf "$outdir"' EXIT
fi

"$CLANG" --version | head -n1 >&2

for c in "$src"/*.bpf.c; do
	name=$(basename "$c" .bpf.c)
	"$CLANG" -target bpf "${CFLAGS[@]}" -c "$c" -o "$outdir/$name.bpf.o"
	echo "  bpf $c -> $outdir/$name.bpf.o" >&2
done
for c in "$src"/*.user.c; do
	[[ -e $c ]] || continue
	name=$(basename "$c" .c)
	"$CC" -g -O1 -fno-inline -fdebug-prefix-map="$PWD"=. -Wall -Werror \
		-o "$outdir/$name" "$c"
	echo "  cc $c -> $outdir/$name" >&2
done

if ((check)); then
	status=0
	for o in "$outdir"/*.bpf.o "$outdir"/*.user; do
		[[ -e $o ]] || continue
		if ! cmp -s "$o" "$src/$(basename "$o")"; then
			echo "differs: $src/$(basename "$o")" >&2
			status=1
		fi
	done
	exit $status
fi
