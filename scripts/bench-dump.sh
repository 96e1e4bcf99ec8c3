#!/usr/bin/env bash
# btfx against bpftool on the same BTF file: median wall time of N runs of
# each, output to /dev/null, and the ratio btfx/bpftool.
# Usage: scripts/bench-dump.sh [FILE] [RUNS]   (default: the running kernel's vmlinux, 21 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-/sys/kernel/btf/vmlinux}
[ -r "$file" ] || file=fixtures/kernels/x86_64-6.18.btf
runs=${2:-21}
command -v bpftool >/dev/null || { echo "bpftool not installed: apt-get install bpftool" >&2; exit 1; }
cargo build --release --quiet -p btfx
btfx=target/release/btfx
formats=${FORMATS:-raw json c}
median() { # runs a command $runs times, prints the median in ms
  python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2:]
ts = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter() - t) * 1000)
ts.sort()
print(f"{ts[len(ts)//2]:.2f}")
PY
}
printf '%-6s %12s %12s %8s\n' format "btfx ms" "bpftool ms" ratio
for f in $formats; do
  case $f in
    raw)  ours=$(median $btfx dump "$file" --format raw);  theirs=$(median bpftool btf dump file "$file" format raw) ;;
    json) ours=$(median $btfx dump "$file" --format json); theirs=$(median bpftool -j btf dump file "$file") ;;
    c)    ours=$(median $btfx dump "$file" --format c);    theirs=$(median bpftool btf dump file "$file" format c) ;;
  esac
  printf '%-6s %12s %12s %8s\n' "$f" "$ours" "$theirs" "$(python3 -c "print(f'{$ours/$theirs:.3f}')")"
done
