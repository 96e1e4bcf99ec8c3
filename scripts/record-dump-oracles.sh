#!/usr/bin/env bash
# Regenerate fixtures/oracle/dump/ — the bpftool outputs btfx's dump is compared
# against. Maintainer tool: run from the repo root; tests never run it.
#
# Inputs:
#   fixtures/kernels/*.btf            vmlinux BTF          -> <stem>.*
#   fixtures/kernels/modules/*.btf    split BTF over
#                                     fixtures/kernels/x86_64-6.12.btf
#                                                          -> module-<stem>.*
#   fixtures/bpf/**/*.bpf.o,          BPF objects (LE and BE)
#   fixtures/bpf/**/*.bpfeb.o                              -> bpf-<name>.*
#       <name> is the path below fixtures/bpf/ without the trailing ".o",
#       with "/" replaced by "__" (e.g. fixtures/bpf/maps.bpf.o -> bpf-maps.bpf,
#       fixtures/bpf/be/maps.bpfeb.o -> bpf-be__maps.bpfeb).
#
# Outputs, per input (gzip -9 -n, so they are byte-for-byte reproducible):
#   <stem>.raw.gz   bpftool btf dump file <blob> [-B base] format raw
#   <stem>.json.gz  bpftool -j btf dump file <blob> [-B base]
#   <stem>.c.gz     bpftool btf dump file <blob> [-B base] format c
# If bpftool fails on a format, no .gz is written; <stem>.<fmt>.err records
# the command, its exit status, its stderr and the start of its stdout instead
# (with -j bpftool prints errors as {"error":"..."} on stdout).
#
# Environment: BPFTOOL (default: bpftool), MODULE_BASE (default:
# fixtures/kernels/x86_64-6.12.btf).
set -euo pipefail

BPFTOOL=${BPFTOOL:-bpftool}
KDIR=fixtures/kernels
BPFDIR=fixtures/bpf
OUT=fixtures/oracle/dump
MODULE_BASE=${MODULE_BASE:-$KDIR/x86_64-6.12.btf}

[[ -d $KDIR ]] || { echo "run from the repository root" >&2; exit 1; }
command -v "$BPFTOOL" >/dev/null || { echo "bpftool not found" >&2; exit 1; }

mkdir -p "$OUT"
find "$OUT" -maxdepth 1 -type f \( -name '*.gz' -o -name '*.err' \) -delete

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# record STEM FILE [extra bpftool args...]
record() {
    local stem=$1 file=$2; shift 2
    local fmt rc
    local -a cmd
    for fmt in raw json c; do
        case $fmt in
            raw)  cmd=("$BPFTOOL" btf dump file "$file" "$@" format raw) ;;
            json) cmd=("$BPFTOOL" -j btf dump file "$file" "$@") ;;
            c)    cmd=("$BPFTOOL" btf dump file "$file" "$@" format c) ;;
        esac
        rc=0
        "${cmd[@]}" > "$tmp/out" 2> "$tmp/err" || rc=$?
        if [[ $rc -eq 0 ]]; then
            gzip -9 -n -c < "$tmp/out" > "$OUT/$stem.$fmt.gz"
            printf '%-40s %-5s %10d bytes -> %8d gz\n' "$stem" "$fmt" \
                "$(stat -c%s "$tmp/out")" "$(stat -c%s "$OUT/$stem.$fmt.gz")"
        else
            {
                echo "command: ${cmd[*]}"
                echo "exit status: $rc"
                echo "stderr:"
                cat "$tmp/err"
                # with -j, bpftool reports errors as {"error": ...} on stdout
                echo "stdout (first 4 KiB):"
                head -c 4096 "$tmp/out"
            } > "$OUT/$stem.$fmt.err"
            printf '%-40s %-5s FAILED (exit %d): %s\n' "$stem" "$fmt" "$rc" \
                "$(head -c 200 "$tmp/err" | tr '\n' ' ')" >&2
            failures=$((failures + 1))
        fi
    done
}

shopt -s nullglob
for f in "$KDIR"/*.btf; do
    record "$(basename "$f" .btf)" "$f"
done
for f in "$KDIR"/modules/*.btf; do
    record "module-$(basename "$f" .btf)" "$f" -B "$MODULE_BASE"
done
if [[ -d $BPFDIR ]]; then
    while IFS= read -r -d '' f; do
        rel=${f#"$BPFDIR"/}
        rel=${rel%.o}
        record "bpf-${rel//\//__}" "$f"
    done < <(find "$BPFDIR" -type f \( -name '*.bpf.o' -o -name '*.bpfeb.o' \) -print0 | LC_ALL=C sort -z)
fi

echo "done; $failures failure(s)" >&2
