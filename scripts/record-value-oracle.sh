#!/usr/bin/env bash
# Record bpftool's BTF-formatted map dumps for fixtures/bpf/run/values.bpf.o
# into fixtures/oracle/values/: the oracle of btf::value's decoding.
#
# Loads the object with bpftool (maps pinned under a private bpffs
# directory), fills the maps from user space with values made by
# scripts/value-oracle-inputs.py (seeded random bytes, crafted strings and
# enumerators, all-zero and all-ones), then saves `bpftool -j map dump` of
# every map (raw bytes and "formatted") and removes everything it pinned.
# Needs root, bpftool 7.1 (libbpf 1.1), python3.
#
# Usage: scripts/record-value-oracle.sh
set -euo pipefail
cd "$(dirname "$0")/.."

obj=fixtures/bpf/run/values.bpf.o
out=fixtures/oracle/values
mkdir -p "$out"
grep -q " /sys/fs/bpf bpf" /proc/mounts || mount -t bpf bpf /sys/fs/bpf
dir=/sys/fs/bpf/btfx_value_oracle_$$
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
bpftool prog loadall "$obj" "$dir/progs" pinmaps "$dir/maps" 2>/dev/null

size_of() { # struct name -> size
	bpftool -j btf dump file "$obj" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["types"]:
    if t["kind"] == "STRUCT" and t["name"] == sys.argv[1]:
        print(t["size"]); break' "$1"
}
vsize=$(size_of value)
bss_size=$(bpftool -j map show pinned "$dir/maps/values_bss" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_value"])')
python3 scripts/value-oracle-inputs.py "$obj" "$vsize" "$bss_size" | while IFS="|" read -r map key value; do
	# shellcheck disable=SC2086
	bpftool map update pinned "$dir/maps/$map" key hex $key value hex $value
done
for m in shapes by_key per_cpu values_rodata values_data values_bss; do
	bpftool -j map dump pinned "$dir/maps/$m" | python3 -m json.tool --indent 1 >"$out/$m.json"
done
{
	echo "Recorded by scripts/record-value-oracle.sh from fixtures/bpf/run/values.bpf.o"
	bpftool version | head -n1
	echo "kernel $(uname -r)"
} >"$out/VERSION"
echo "recorded into $out" >&2
