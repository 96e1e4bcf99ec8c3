#!/bin/sh
# Times `btfx check` over 20 kernel BTFs of real size: the 4 fixture kernels
# copied 5 times into a temporary directory (copies are never committed).
# Usage: scripts/bench-check.sh [OBJ]   (builds btfx in release first)
set -eu
cd "$(dirname "$0")/.."
obj=${1:-fixtures/bpf/task_trace.bpf.o}
cargo build -q --release -p btfx
bin=${CARGO_TARGET_DIR:-target}/release/btfx
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for i in 1 2 3 4 5; do
    for k in fixtures/kernels/*.btf; do
        cp "$k" "$dir/$(basename "$k" .btf)-copy$i.btf"
    done
done
echo "kernels: $(ls "$dir" | wc -l) ($(du -sh "$dir" | cut -f1)), object: $obj"
for run in 1 2 3; do
    start=$(date +%s.%N)
    "$bin" check "$obj" --target-dir "$dir" >/dev/null || true
    end=$(date +%s.%N)
    echo "run $run: $(echo "$end - $start" | bc) s"
done
