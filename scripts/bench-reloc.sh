#!/bin/sh
# One-shot `btfx reloc` wall time (process start, object read, vmlinux parse
# and index, relocation, output) on core_fields.bpf.o (95 CO-RE relocations),
# best and median of N runs. Budget: 5 ms.
set -eu
cd "$(dirname "$0")/.."
N=${N:-50}
OBJ=${OBJ:-fixtures/bpf/core_fields.bpf.o}
TARGET=${TARGET:-vmlinux}
: "${CARGO_TARGET_DIR:=target}"
cargo build --release -q -p btf-cli
BIN="$CARGO_TARGET_DIR/release/btfx"
"$BIN" reloc "$OBJ" --target "$TARGET" >/dev/null
i=0
: > /tmp/bench-reloc.$$
while [ $i -lt "$N" ]; do
  s=$(date +%s%N)
  "$BIN" reloc "$OBJ" --target "$TARGET" >/dev/null
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 )) >> /tmp/bench-reloc.$$
  i=$((i + 1))
done
sort -n /tmp/bench-reloc.$$ | awk -v n="$N" '
  NR == 1 { best = $1 }
  NR == int((n + 1) / 2) { med = $1 }
  END { printf "btfx reloc %s: best %.2f ms, median %.2f ms over %d runs (budget 5 ms)\n", ENVIRON["OBJ"] ? ENVIRON["OBJ"] : "core_fields", best / 1000, med / 1000, n }'
rm -f /tmp/bench-reloc.$$
