#!/usr/bin/env bash
# Build the BTFGen fixture objects written for btfx's module support:
#   fixtures/oracle/mincore/objects/<name>.bpf.o from <name>.bpf.c
#   fixtures/oracle/mincore/edge/<name>.bpf.o from <name>.bpf.c, and the
#   hand-made edge/kernel.btf (scripts/mincore-edge-kernel.py)
# Same flags as scripts/build-bpf-fixtures.sh (clang-19, reproducible paths).
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang-19}
MULTIARCH_INC=/usr/include/$(uname -m)-linux-gnu
python3 scripts/mincore-edge-kernel.py fixtures/oracle/mincore/edge/kernel.btf
for src in fixtures/oracle/mincore/objects/*.bpf.c fixtures/oracle/mincore/edge/*.bpf.c; do
	"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$MULTIARCH_INC" \
		-fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=. \
		-Wall -Werror -c "$src" -o "${src%.c}.o"
done
