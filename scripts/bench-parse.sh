#!/usr/bin/env bash
# btfx against libbpf parsing the same BTF, side by side: ROUNDS rounds, each
# running libbpf (scripts/libbpf-parse-time.c) and then btfx
# (examples/parse_time, examples/parse_path_time) for RUNS parses, and prints
# every round's min and median with the ratios btfx/libbpf. Rounds
# alternate because this kind of machine drifts by +-30% within a minute.
# Usage: scripts/bench-parse.sh [FILE] [ROUNDS] [RUNS]
# Needs a C compiler and libbpf-dev (apt-get install libbpf-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-/sys/kernel/btf/vmlinux}
[ -r "$file" ] || file=fixtures/kernels/x86_64-6.18.btf
rounds=${2:-5}
runs=${3:-200}
: "${CARGO_TARGET_DIR:=target}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 scripts/libbpf-parse-time.c -lbpf -o "$tmp/libbpf-parse-time"
cargo build --release --quiet -p btfx-btf --example parse_time
cargo build --release --quiet -p btfx-loader --example parse_path_time
echo "file: $file, $rounds rounds of $runs parses"
for r in $(seq "$rounds"); do
  lb=$("$tmp/libbpf-parse-time" "$file" "$runs")
  mem=$("$CARGO_TARGET_DIR/release/examples/parse_time" "$file" "$runs")
  path=$("$CARGO_TARGET_DIR/release/examples/parse_path_time" "$file" "$runs")
  python3 - "$r" "$lb" "$mem" "$path" <<'PY'
import re, sys
r, lb, mem, path = sys.argv[1:]
nums = lambda s: [float(x) for x in re.findall(r"(\d+\.\d+) ms", s)]
lnew_min, lnew_med, lpath_min, lpath_med = nums(lb)
m_min, m_med, i_min, i_med, s_min, s_med = nums(mem)
p_min, p_med = nums(path)[:2]
print(f"round {r}: from memory btfx {m_min:.3f}/{m_med:.3f} ms (min/median), libbpf btf__new {lnew_min:.3f}/{lnew_med:.3f}: "
      f"ratio {m_min/lnew_min:.2f}/{m_med/lnew_med:.2f}; from path btfx {p_min:.3f}/{p_med:.3f}, libbpf btf__parse "
      f"{lpath_min:.3f}/{lpath_med:.3f}: ratio {p_min/lpath_min:.2f}/{p_med/lpath_med:.2f}; name index {i_min:.3f}/{i_med:.3f} ms; "
      f"single-threaded parse {s_min:.3f}/{s_med:.3f}: ratio {s_min/lnew_min:.2f}/{s_med/lnew_med:.2f}")
PY
done
