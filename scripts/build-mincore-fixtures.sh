#!/usr/bin/env bash
# Build the BTFGen fixture objects written for btfx's module support:
#   fixtures/oracle/mincore/objects/<name>.bpf.o from <name>.bpf.c
# Same flags as scripts/build-bpf-fixtures.sh (clang-19, reproducible paths).
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang-19}
MULTIARCH_INC=/usr/include/$(uname -m)-linux-gnu
dir=fixtures/oracle/mincore/objects
for src in "$dir"/*.bpf.c; do
	"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$MULTIARCH_INC" \
		-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=. \
		-Wall -Werror -c "$src" -o "${src%.c}.o"
done
