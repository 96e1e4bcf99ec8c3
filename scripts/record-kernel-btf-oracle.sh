#!/usr/bin/env bash
# Records, for each fixture object that bpftool (libbpf 1.1) loads whole on
# this kernel, the BTF libbpf handed to BPF_BTF_LOAD, as the kernel holds it
# (`bpftool btf dump id N format raw` of a loaded program's btf_id):
# DATASEC sizes and offsets filled in, externs rewritten, sanitising for
# this kernel. Writes fixtures/oracle/kernel-btf/<stem>.raw; objects that do
# not load whole are listed in SKIPPED. Needs root, bpftool, bpffs.
# Usage: scripts/record-kernel-btf-oracle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/oracle/kernel-btf
pin=/sys/fs/bpf/btfx-rec-btf
rm -rf "$pin"
trap 'rm -rf "$pin"' EXIT
: > "$out/SKIPPED"
for obj in fixtures/bpf/*.bpf.o; do
  stem=$(basename "$obj" .bpf.o)
  if ! bpftool prog loadall "$obj" "$pin" >/dev/null 2>&1; then
    echo "$stem: bpftool prog loadall failed" >> "$out/SKIPPED"
    rm -rf "$pin"
    continue
  fi
  prog=$(ls "$pin" | head -n1)
  id=$(bpftool -j prog show pinned "$pin/$prog" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("btf_id", 0))')
  if [ "$id" = 0 ]; then
    echo "$stem: loaded without BTF" >> "$out/SKIPPED"
  else
    bpftool btf dump id "$id" format raw > "$out/$stem.raw"
    echo "$stem: btf id $id, $(wc -l < "$out/$stem.raw") lines"
  fi
  rm -rf "$pin"
done
echo "# $(bpftool version | head -n1), $(bpftool version | grep -o 'libbpf v[0-9.]*'), kernel $(uname -r)" >> "$out/SKIPPED"
cat "$out/SKIPPED"
