#!/usr/bin/env bash
# Prints the summary of one BTF file, the format fixtures/oracle/dwarf/ uses:
#   types N            number of types in FILE (split BTF: its own types only)
#   KIND count         one line per kind present, bpftool's kind names
#                      (`bpftool btf dump ... format raw`), sorted by name
#   sha256 HEX         sha256 of FILE's bytes
# Usage: scripts/btf-summary.sh FILE.btf [BASE.btf]   (BASE for split BTF)
# Needs bpftool (recorded with bpftool v7.1.0, libbpf v1.1).
set -euo pipefail
[[ $# -eq 1 || $# -eq 2 ]] || { echo "usage: $0 FILE.btf [BASE.btf]" >&2; exit 2; }
file=$1
args=()
[[ $# -eq 2 ]] && args=(-B "$2")
raw=$(bpftool btf dump file "$file" "${args[@]}" format raw | grep '^\[' | awk '{print $2}')
if [[ -z $raw ]]; then
    echo "types 0"
else
    echo "types $(printf '%s\n' "$raw" | wc -l)"
    printf '%s\n' "$raw" | LC_ALL=C sort | uniq -c | awk '{print $2, $1}'
fi
echo "sha256 $(sha256sum "$file" | cut -d' ' -f1)"
