#!/usr/bin/env bash
# Record the BTFGen oracles (fixtures/oracle/mincore/): the output of
# `bpftool gen min_core_btf KERNEL OUT OBJ...` (bpftool v7.1.0, libbpf 1.1)
# for every case below against every fixture kernel, and the manifest the
# tests read (cases.tsv).
#
# Cases:
#   <o>                 each fixtures/bpf/<o>.bpf.o and <o>.bpfeb.o alone
#   lt-<tool>           each libbpf-tools object alone (objects/libbpf-tools/,
#                       extracted from Debian's libbpf-tools 0.26.0+ds-1 by
#                       scripts/mincore-extract-skel.py; EXTRACT=1 re-extracts
#                       them from `apt-get download libbpf-tools`)
#   fixtures-all        every fixtures/bpf/*.bpf.o together
#   core-all            fixtures/bpf/core_*.bpf.o together
#   task+sock           task_trace + sock_trace
#   libbpf-tools-all    every libbpf-tools object together
#
# Outputs: <case>.<kernel>.btf (when bpftool succeeded) and cases.tsv, one
# line per case and kernel: case, kernel, bpftool's exit status, objects.
# Needs bpftool; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=fixtures/oracle/mincore
LT=$OUT/objects/libbpf-tools
KERNELS=(x86_64-6.18 x86_64-6.1 x86_64-6.12 arm64-6.12)

if [[ "${EXTRACT:-0}" == 1 ]]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download libbpf-tools && dpkg-deb -x libbpf-tools_*.deb x)
    rm -f "$LT"/*.bpf.o
    python3 scripts/mincore-extract-skel.py "$LT" "$tmp"/x/usr/sbin/*
    rm -rf "$tmp"
fi

declare -a NAMES OBJS
add() { NAMES+=("$1"); OBJS+=("$2"); }
for o in fixtures/bpf/*.bpf.o fixtures/bpf/*.bpfeb.o; do
    b=$(basename "$o"); b=${b%.o}; b=${b%.bpf}
    add "$b" "$o"
done
for o in "$LT"/*.bpf.o; do
    b=$(basename "$o" .bpf.o)
    add "lt-$b" "$o"
done
add fixtures-all "$(echo fixtures/bpf/*.bpf.o)"
add core-all "$(echo fixtures/bpf/core_*.bpf.o)"
add task+sock "fixtures/bpf/task_trace.bpf.o fixtures/bpf/sock_trace.bpf.o"
add libbpf-tools-all "$(echo "$LT"/*.bpf.o)"

rm -f "$OUT"/*.btf
manifest=$OUT/cases.tsv
: > "$manifest"
for k in "${KERNELS[@]}"; do
    for i in "${!NAMES[@]}"; do
        n=${NAMES[$i]}
        # shellcheck disable=SC2086
        if bpftool gen min_core_btf "fixtures/kernels/$k.btf" "$OUT/$n.$k.btf" ${OBJS[$i]} \
            > /dev/null 2>&1; then
            rc=0
        else
            rc=$?
            rm -f "$OUT/$n.$k.btf"
        fi
        printf '%s\t%s\t%s\t%s\n' "$n" "$k" "$rc" "${OBJS[$i]}" >> "$manifest"
    done
done
# Edge cases on the hand-made kernel (edge/kernel.btf): bpftool's output,
# or its exit status and error lines when it fails.
E=$OUT/edge
for o in "$E"/*.bpf.o; do
    n=$(basename "$o" .bpf.o)
    rm -f "$E/$n.btf" "$E/$n.err"
    if ! bpftool gen min_core_btf "$E/kernel.btf" "$E/$n.btf" "$o" 2> "$E/$n.err"; then
        rm -f "$E/$n.btf"
    else
        rm -f "$E/$n.err"
    fi
done
echo "$(wc -l < "$manifest") cases, $(ls "$OUT"/*.btf | wc -l) outputs"
