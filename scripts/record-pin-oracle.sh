#!/usr/bin/env bash
# Records what libbpf (inside Debian's bpftool) does with a map declared
# `pinning = LIBBPF_PIN_BY_NAME` (fixtures/bpf/pin_by_name.bpf.o): a first
# load pins it, a second reuses it, a mismatching map pinned at the same
# place makes the load fail. Writes fixtures/oracle/pin/pin_by_name.txt.
# Needs root, bpftool and a bpf filesystem at /sys/fs/bpf; removes what it
# pins. Usage: scripts/record-pin-oracle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
obj=fixtures/bpf/pin_by_name.bpf.o
pin=/sys/fs/bpf/btfx_pinned
out=fixtures/oracle/pin/pin_by_name.txt
tmp=$(mktemp -d)
cleanup() { rm -rf "$pin" /sys/fs/bpf/btfx-rec-* "$tmp"; }
trap cleanup EXIT
cleanup; mkdir -p "$tmp"
keep() { grep -E "libbpf: (found no pinned|reused pinned|map 'btfx_[a-z]*': (created|skipping|failed)|pinned map|couldn't reuse)" "$1" | sed -E 's/fd=[0-9]+/fd=N/'; }
map_id() { bpftool -j map show pinned "$pin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
{
  echo "# $(bpftool version | head -n1), $(bpftool version | grep -o 'libbpf v[0-9.]*')"
  echo "## first load"
  bpftool -d prog loadall "$obj" /sys/fs/bpf/btfx-rec-1 >"$tmp/1" 2>&1 && echo "result: loaded"
  keep "$tmp/1"
  first=$(map_id)
  echo "## second load"
  bpftool -d prog loadall "$obj" /sys/fs/bpf/btfx-rec-2 >"$tmp/2" 2>&1 && echo "result: loaded"
  keep "$tmp/2"
  [ "$(map_id)" = "$first" ] && echo "pinned map id unchanged"
  rm -rf "$pin" /sys/fs/bpf/btfx-rec-*
  echo "## a different map pinned there (hash, 32 entries)"
  bpftool map create "$pin" type hash key 4 value 8 entries 32 name btfx_pinned
  bpftool -d prog loadall "$obj" /sys/fs/bpf/btfx-rec-3 >"$tmp/3" 2>&1 || echo "result: failed"
  keep "$tmp/3"
} >"$out"
cat "$out"
