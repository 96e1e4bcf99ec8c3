#!/usr/bin/env bash
# Whole-process `btfx gen min-core` against `bpftool gen min_core_btf` on
# the same inputs: hyperfine medians (alternating, N runs each), the ratio
# btfx/bpftool (goal <= 0.5), and peak memory (max RSS from GNU time).
#
# Cases (kernel fixtures/kernels/x86_64-6.18.btf unless KERNEL says):
#   one      one libbpf-tools object (opensnoop)
#   lt-all   the 61 libbpf-tools objects together
#   fx-all   every fixtures/bpf/*.bpf.o together
#   batch    the 4 fixture kernels x every fixtures/bpf object: bpftool once
#            per kernel (a shell loop) against one `--target-dir` run
# Needs bpftool, hyperfine, python3 and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
KERNEL=${KERNEL:-fixtures/kernels/x86_64-6.18.btf}
: "${CARGO_TARGET_DIR:=target}"
cargo build --release -q -p btfx
BIN="$CARGO_TARGET_DIR/release/btfx"
LT=fixtures/oracle/mincore/objects/libbpf-tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/kernels"
cp fixtures/kernels/*.btf "$tmp/kernels/"

FX=$(echo fixtures/bpf/*.bpf.o)
LTALL=$(echo "$LT"/*.bpf.o)
declare -A REF OURS
REF[one]="bpftool gen min_core_btf $KERNEL $tmp/ref.btf $LT/opensnoop.bpf.o"
OURS[one]="$BIN gen min-core $KERNEL $tmp/ours.btf $LT/opensnoop.bpf.o"
REF[lt-all]="bpftool gen min_core_btf $KERNEL $tmp/ref.btf $LTALL"
OURS[lt-all]="$BIN gen min-core $KERNEL $tmp/ours.btf $LTALL"
REF[fx-all]="bpftool gen min_core_btf $KERNEL $tmp/ref.btf $FX"
OURS[fx-all]="$BIN gen min-core $KERNEL $tmp/ours.btf $FX"
cat > "$tmp/ref-batch.sh" <<SH
for k in $tmp/kernels/*.btf; do bpftool gen min_core_btf \$k $tmp/out-ref-\$(basename \$k) $FX; done
SH
REF[batch]="bash $tmp/ref-batch.sh"
OURS[batch]="$BIN gen min-core --target-dir $tmp/kernels --out-dir $tmp/out-ours $FX"

printf '%-7s %12s %12s %7s %14s %14s\n' case bpftool_ms btfx_ms ratio bpftool_maxrss btfx_maxrss
for c in one lt-all fx-all batch; do
    hyperfine -N -w 3 -r "$N" --export-json "$tmp/h.json" "${REF[$c]}" "${OURS[$c]}" \
        > /dev/null 2>&1
    rss() { /usr/bin/time -f %M $1 2>&1 >/dev/null | tail -1; }
    r_rss=$(rss "${REF[$c]}")
    o_rss=$(rss "${OURS[$c]}")
    python3 - "$tmp/h.json" "$c" "$r_rss" "$o_rss" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
med = [sorted(r["times"])[len(r["times"]) // 2] * 1e3 for r in res]
print(f"{sys.argv[2]:<7} {med[0]:12.2f} {med[1]:12.2f} {med[1] / med[0]:7.3f} "
      f"{int(sys.argv[3]):11d} KiB {int(sys.argv[4]):11d} KiB")
PY
done
cmp "$tmp/ref.btf" "$tmp/ours.btf" && echo "last single-kernel outputs byte-identical"
for k in "$tmp"/kernels/*.btf; do
    cmp "$tmp/out-ref-$(basename "$k")" "$tmp/out-ours/$(basename "$k")"
done && echo "batch outputs byte-identical"
