#!/usr/bin/env bash
# Record libbpf's USDT handling with Debian libbpf-dev 1.1
# (scripts/record-usdt-oracle.c):
#   fixtures/oracle/attach/usdt_specs.txt   spec slots for
#       fixtures/bpf/attach/probe_target.user's btfx:tick and btfx:sema;
#   fixtures/oracle/attach/usdt_probes.txt  for every USDT probe of
#       /usr/bin/python3 (semaphores) and libstdc++ (.stapsdt.base): the
#       file offsets libbpf probes and the specs it writes. The test checks
#       a file's lines only when its build id is the one in the header.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O1 -o "$tmp/oracle" scripts/record-usdt-oracle.c -lbpf
ver=$(dpkg-query -W -f='${Version}' libbpf-dev)
obj=fixtures/bpf/attach/probes.bpf.o
{
	echo "# libbpf $ver bpf_program__attach_usdt; __bpf_usdt_specs slots: 0 = btfx:tick, 1 = btfx:sema"
	"$tmp/oracle" $obj fixture "$PWD/fixtures/bpf/attach/probe_target.user"
} >fixtures/oracle/attach/usdt_specs.txt
bins=(/usr/bin/python3 /lib/x86_64-linux-gnu/libstdc++.so.6)
{
	echo "# libbpf $ver bpf_program__attach_usdt: offsets probed (BPF_TASK_FD_QUERY) and specs written"
	for b in "${bins[@]}"; do
		real=$(readlink -f "$b")
		echo "# build-id $real $(readelf -n "$real" | awk '/Build ID/ {print $3}')"
	done
	for b in "${bins[@]}"; do
		real=$(readlink -f "$b")
		readelf -n "$real" | awk -v b="$real" '/Provider:/ {p=$2} /Name:/ {print b, p, $2}' | sort -u
	done | "$tmp/oracle" $obj probes
} >fixtures/oracle/attach/usdt_probes.txt 2>"$tmp/log"
wc -l fixtures/oracle/attach/usdt_specs.txt fixtures/oracle/attach/usdt_probes.txt
