#!/usr/bin/env bash
# `btfx gen btf` against pahole 1.24 on the same debug kernel: BTF encoded
# from the DWARF of the vmlinux and of three modules (tcp_bbr, nf_tables,
# xfs; split over DIR/vmlinux.BTF, pahole's --btf_base). pahole runs
# single-threaded with the kernel build's flags (`pahole -J
# --btf_gen_floats --lang_exclude=rust --btf_encode_detached=OUT`: the
# input is not touched), btfx with -j 1 and with its default threads (one
# per CPU); the three alternate, N runs each, because a shared machine
# drifts within a minute. Each run is measured by /usr/bin/time (wall,
# user+sys CPU, peak RSS). Prints per case the load average before it, the
# wall median/min, CPU median and peak RSS of each, the ratios btfx/pahole
# of the wall medians, of the CPU medians (steadier than wall when the
# machine is busy) and of the peak RSS, and whether every output of the
# case is byte-identical (sha256) to pahole's.
# Usage: scripts/bench-gen-btf.sh [DIR]   (N=3 runs by default; env N)
# DIR: the unpacked debug kernel (scripts/fetch-debug-kernel.sh), default
# $BTFX_DEBUG_KERNEL_DIR or /work/dl/kernel: DIR/vmlinux, DIR/vmlinux.BTF,
# DIR/modules/NAME.ko. Needs pahole 1.24 and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${BTFX_DEBUG_KERNEL_DIR:-/work/dl/kernel}}
n=${N:-3}
: "${CARGO_TARGET_DIR:=target}"
for f in "$dir/vmlinux" "$dir/vmlinux.BTF"; do
  [ -e "$f" ] || { echo "$f missing (scripts/fetch-debug-kernel.sh)" >&2; exit 1; }
done
command -v pahole >/dev/null || { echo "pahole not installed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) not installed" >&2; exit 1; }
cargo build --release --quiet -p btfx
btfx="$CARGO_TARGET_DIR/release/btfx"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "$(pahole --version), $("$btfx" --version 2>/dev/null || echo btfx), $(nproc) CPUs, $n runs each"

# run CASE TOOL RUN OUT CMD...: one measured run, appended to $tmp/runs.
run() {
  local case=$1 tool=$2 r=$3 out=$4
  shift 4
  rm -f "$out"
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/log" 2>&1; then
    echo "$case $tool run $r failed:" >&2
    cat "$tmp/log" "$tmp/time" >&2
    exit 1
  fi
  echo "$case $tool $r $(tail -n 1 "$tmp/time") $(sha256sum <"$out" | cut -d' ' -f1)" >>"$tmp/runs"
}

cases=(vmlinux tcp_bbr nf_tables xfs)
for c in "${cases[@]}"; do
  if [ "$c" = vmlinux ]; then
    in="$dir/vmlinux"
    pbase=() bbase=()
  else
    in="$dir/modules/$c.ko"
    [ -e "$in" ] || { echo "$in missing" >&2; exit 1; }
    pbase=(--btf_base "$dir/vmlinux.BTF") bbase=(--base "$dir/vmlinux.BTF")
  fi
  echo "$c $(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp/load"
  for r in $(seq "$n"); do
    run "$c" pahole "$r" "$tmp/p.btf" pahole -J --btf_gen_floats --lang_exclude=rust \
      "${pbase[@]}" --btf_encode_detached="$tmp/p.btf" "$in"
    run "$c" btfx-j1 "$r" "$tmp/b1.btf" "$btfx" gen btf "$in" -o "$tmp/b1.btf" "${bbase[@]}" -j 1
    run "$c" btfx "$r" "$tmp/b.btf" "$btfx" gen btf "$in" -o "$tmp/b.btf" "${bbase[@]}"
  done
done

python3 - "$tmp" "${cases[@]}" <<'PY'
import statistics, sys
tmp, cases = sys.argv[1], sys.argv[2:]
load = dict(l.split(" ", 1) for l in open(f"{tmp}/load").read().splitlines())
runs = {}
for line in open(f"{tmp}/runs"):
    case, tool, _r, wall, user, sys_, rss, sha = line.split()
    runs.setdefault((case, tool), []).append((float(wall), float(user) + float(sys_), int(rss), sha))
tools = ["pahole", "btfx-j1", "btfx"]
print(f"{'case':<10} {'tool':<8} {'wall med':>9} {'wall min':>9} {'cpu med':>8} {'peak RSS':>10} {'wall/pahole':>11} {'cpu/pahole':>10} {'RSS/pahole':>10}")
for c in cases:
    print(f"{c}: load average before: {load[c]}")
    p = runs[(c, "pahole")]
    pw, prss = statistics.median(x[0] for x in p), max(x[2] for x in p)
    pcpu = statistics.median(x[1] for x in p)
    ref = p[0][3]
    same = True
    for t in tools:
        v = runs[(c, t)]
        w = statistics.median(x[0] for x in v)
        cpu = statistics.median(x[1] for x in v)
        rss = max(x[2] for x in v)
        same &= all(x[3] == ref for x in v)
        ratio = "" if t == "pahole" else f"{w / pw:11.2f} {cpu / pcpu:10.2f} {rss / prss:10.2f}"
        print(f"{'':<10} {t:<8} {w:8.2f}s {min(x[0] for x in v):8.2f}s {cpu:7.2f}s {rss / 1024:7.0f} MB {ratio}")
    print(f"{'':<10} outputs: {'all byte-identical to pahole' if same else 'DIFFER from pahole'} (sha256 {ref[:16]}...)")
PY
