#!/bin/sh
# One-shot `btfx reloc` wall time (process start, object read, vmlinux parse
# with the candidate search beside it, relocation, output), best and median
# of N runs, on core_fields.bpf.o (95 CO-RE relocations) unless OBJ says
# otherwise. Budget: 5 ms. Uses hyperfine when installed (apt-get install
# hyperfine), else times each run from the shell (which adds a fork).
set -eu
cd "$(dirname "$0")/.."
N=${N:-50}
OBJ=${OBJ:-fixtures/bpf/core_fields.bpf.o}
TARGET=${TARGET:-vmlinux}
: "${CARGO_TARGET_DIR:=target}"
cargo build --release -q -p btfx
BIN="$CARGO_TARGET_DIR/release/btfx"
"$BIN" reloc "$OBJ" --target "$TARGET" >/dev/null
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if command -v hyperfine >/dev/null; then
  hyperfine -N -w 10 -r "$N" --export-json "$tmp" "$BIN reloc $OBJ --target $TARGET" >/dev/null
  python3 - "$tmp" "$OBJ" "$N" <<'PY'
import json, sys
t = sorted(json.load(open(sys.argv[1]))["results"][0]["times"])
print(f"btfx reloc {sys.argv[2]}: best {t[0]*1e3:.2f} ms, median {t[len(t)//2]*1e3:.2f} ms over {sys.argv[3]} runs (hyperfine; budget 5 ms)")
PY
  exit 0
fi
i=0
while [ $i -lt "$N" ]; do
  s=$(date +%s%N)
  "$BIN" reloc "$OBJ" --target "$TARGET" >/dev/null
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 )) >> "$tmp"
  i=$((i + 1))
done
sort -n "$tmp" | awk -v n="$N" -v obj="$OBJ" '
  NR == 1 { best = $1 }
  NR == int((n + 1) / 2) { med = $1 }
  END { printf "btfx reloc %s: best %.2f ms, median %.2f ms over %d runs (budget 5 ms)\n", obj, best / 1000, med / 1000, n }'
