#!/bin/sh
# Wall time of `format c` for a whole kernel: btfx vs bpftool on the same
# file, and the ratio of their medians (btfx / bpftool; the goal is <= 0.5).
#
#   scripts/bench-dump-c.sh [BTF_FILE]     # default: fixtures/kernels/x86_64-6.18.btf
#
# Builds btfx in release mode (CARGO_TARGET_DIR honoured). Uses hyperfine
# when installed, else a loop of 15 runs with the median taken by sort.
set -eu
cd "$(dirname "$0")/.."
file=${1:-fixtures/kernels/x86_64-6.18.btf}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p btfx
btfx="$target/release/btfx"
[ -x "$btfx" ] || { echo "no $btfx" >&2; exit 1; }

# Same output first, or the timing means nothing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$btfx" dump "$file" --format c > "$tmp/btfx.h"
bpftool btf dump file "$file" format c > "$tmp/bpftool.h"
if cmp -s "$tmp/btfx.h" "$tmp/bpftool.h"; then
    echo "outputs identical ($(wc -l < "$tmp/btfx.h") lines)"
else
    echo "WARNING: outputs differ" >&2
fi

if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N -w 3 -r 30 --export-json "$tmp/h.json" \
        "bpftool btf dump file $file format c" \
        "$btfx dump $file --format c" >&2
    python3 - "$tmp/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
b, x = r[0]["median"], r[1]["median"]
print(f"bpftool median {b*1e3:.1f} ms, btfx median {x*1e3:.1f} ms, ratio btfx/bpftool {x/b:.3f}")
PY
else
    median() {
        i=0
        while [ $i -lt 15 ]; do
            s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N)
            echo $(( (e - s) / 1000 ))
            i=$((i + 1))
        done | sort -n | sed -n 8p
    }
    b=$(median bpftool btf dump file "$file" format c)
    x=$(median "$btfx" dump "$file" --format c)
    echo "bpftool median $((b / 1000)) ms, btfx median $((x / 1000)) ms, ratio btfx/bpftool $(echo "scale=3; $x / $b" | bc)"
fi
