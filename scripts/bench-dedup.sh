#!/usr/bin/env bash
# btfx's dedup against libbpf 1.1's btf__dedup on the same input (default:
# the 6.18 kernel's BTF appended to itself), in process, timing only the
# dedup call in both (the inputs are appended before each run, outside the
# timing): ROUNDS rounds that alternate libbpf (scripts/libbpf-dedup.c -r)
# and btfx (examples/dedup_time) for RUNS dedups each, because this kind
# of machine drifts by +-30% within a minute. Prints each round's medians,
# the ratio btfx/libbpf of the medians over all runs, and peak memory
# (getrusage / VmHWM of the in-process runs, and /usr/bin/time -v of one
# whole command each: `btfx dedup` vs the libbpf program).
# Usage: scripts/bench-dedup.sh [ROUNDS] [RUNS] [INPUT...]
# Needs a C compiler and libbpf-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
runs=${2:-5}
shift $(( $# > 2 ? 2 : $# ))
inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(fixtures/kernels/x86_64-6.18.btf fixtures/kernels/x86_64-6.18.btf)
: "${CARGO_TARGET_DIR:=target}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 scripts/libbpf-dedup.c -lbpf -o "$tmp/libbpf-dedup"
cargo build --release --quiet -p btfx-btf --example dedup_time
cargo build --release --quiet -p btfx
echo "inputs: ${inputs[*]}; $rounds rounds of $runs dedups"
for r in $(seq "$rounds"); do
  "$tmp/libbpf-dedup" -r "$runs" -o "$tmp/lib.btf" "${inputs[@]}" >"$tmp/lib.$r"
  "$CARGO_TARGET_DIR/release/examples/dedup_time" "$runs" "${inputs[@]}" >"$tmp/btfx.$r"
done
/usr/bin/time -v "$tmp/libbpf-dedup" -o "$tmp/lib.btf" "${inputs[@]}" 2>"$tmp/lib.time" >/dev/null
/usr/bin/time -v "$CARGO_TARGET_DIR/release/btfx" dedup "${inputs[@]}" -o "$tmp/btfx.btf" 2>"$tmp/btfx.time"
cmp -s "$tmp/lib.btf" "$tmp/btfx.btf" && echo "outputs: byte-identical" || echo "outputs: DIFFER"
python3 - "$tmp" "$rounds" <<'PY'
import re, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
def read(name):
    ns, rss = [], 0
    for line in open(f"{tmp}/{name}"):
        k, v = line.split()
        if k == "dedup_ns": ns.append(int(v) / 1e6)
        if k == "maxrss_kb": rss = int(v)
    return ns, rss
all_l, all_b, rss_l, rss_b = [], [], 0, 0
for r in range(1, rounds + 1):
    l, rl = read(f"lib.{r}"); b, rb = read(f"btfx.{r}")
    all_l += l; all_b += b; rss_l = max(rss_l, rl); rss_b = max(rss_b, rb)
    ml, mb = statistics.median(l), statistics.median(b)
    print(f"round {r}: libbpf {ml:.1f} ms, btfx {mb:.1f} ms (medians): ratio {mb/ml:.3f}")
ml, mb = statistics.median(all_l), statistics.median(all_b)
print(f"all runs: libbpf median {ml:.1f} ms (min {min(all_l):.1f}), btfx median {mb:.1f} ms (min {min(all_b):.1f}): ratio of medians {mb/ml:.3f}")
print(f"peak RSS in process (inputs, appended copy, dedup): libbpf {rss_l} KB, btfx {rss_b} KB: ratio {rss_b/rss_l:.2f}")
def peak(name):
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f"{tmp}/{name}").read()).group(1))
pl, pb = peak("lib.time"), peak("btfx.time")
print(f"peak RSS of one whole command: libbpf program {pl} KB, btfx dedup {pb} KB: ratio {pb/pl:.2f}")
PY
