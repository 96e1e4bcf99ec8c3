#!/bin/sh
# Loading a many-program object: `btfx load OBJ --pin DIR` against
# `bpftool prog loadall OBJ DIR` (libbpf 1.1), both pinning what they load
# (bpftool pins each program; btfx pins programs and maps), pins removed
# between runs. Default object: fixtures/bpf/corpus/many_progs.bpf.o (64
# programs, CO-RE, a subprogram, maps and global data). Prints both medians
# and their ratio (btfx / bpftool; goal <= 1). Needs root, bpffs on
# /sys/fs/bpf, hyperfine and bpftool.
set -eu
cd "$(dirname "$0")/.."
N=${N:-30}
OBJ=${OBJ:-fixtures/bpf/corpus/many_progs.bpf.o}
: "${CARGO_TARGET_DIR:=target}"
cargo build --release -q -p btfx
BIN="$CARGO_TARGET_DIR/release/btfx"
A=/sys/fs/bpf/btfx-bench-load-btfx
B=/sys/fs/bpf/btfx-bench-load-bpftool
tmp=$(mktemp)
trap 'rm -f "$tmp"; rm -rf "$A" "$B"' EXIT
rm -rf "$A" "$B"
"$BIN" load "$OBJ" >/dev/null # every program must load
hyperfine -N -w 3 -r "$N" --export-json "$tmp" \
	--prepare "rm -rf $A $B" \
	-n btfx "$BIN load $OBJ --pin $A" \
	-n bpftool "bpftool prog loadall $OBJ $B" >/dev/null
python3 - "$tmp" "$OBJ" "$N" <<'PY'
import json, statistics, sys
r = {x["command"]: sorted(x["times"]) for x in json.load(open(sys.argv[1]))["results"]}
m = {k: statistics.median(v) for k, v in r.items()}
print(f"{sys.argv[2]}, {sys.argv[3]} runs each: btfx median {m['btfx']*1e3:.1f} ms, "
      f"bpftool prog loadall median {m['bpftool']*1e3:.1f} ms, ratio {m['btfx']/m['bpftool']:.2f} (goal <= 1)")
PY
