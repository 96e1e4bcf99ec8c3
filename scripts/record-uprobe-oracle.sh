#!/usr/bin/env bash
# Record libbpf's uprobe offsets (fixtures/oracle/attach/uprobe_offsets.txt):
# scripts/record-uprobe-oracle.c attaches with libbpf (Debian libbpf-dev 1.1)
# and reads the probed file offset back from the kernel (BPF_TASK_FD_QUERY).
# Inputs: the checked-in fixture binary, libc (chosen symbols, including
# ones libbpf refuses), and every exported function of libz, libelf and
# libbpf and the first 300 of libcrypto (`nm -D --defined-only`, type T).
# A system library's lines are only checked by the test when the running
# file has the build id noted in the header (CI may have other builds).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/oracle/attach/uprobe_offsets.txt
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O1 -o "$tmp/oracle" scripts/record-uprobe-oracle.c -lbpf
lib=/lib/x86_64-linux-gnu
libc=$lib/libc.so.6
others=("$lib/libz.so.1" "$lib/libelf.so.1" "$lib/libbpf.so.1" "$lib/libcrypto.so.3")
buildid() { readelf -n "$1" | awk '/Build ID/ {print $3}'; }
{
	echo "# libbpf $(dpkg-query -W -f='${Version}' libbpf-dev) bpf_program__attach_uprobe_opts, offsets read back with BPF_TASK_FD_QUERY"
	for f in "$libc" "${others[@]}"; do
		echo "# build-id $f $(buildid "$f")"
	done
	{
		printf '%s\n' \
			"fixtures/bpf/attach/probe_target.user btfx_add" \
			"fixtures/bpf/attach/probe_target.user main" \
			"$libc getpid" "$libc malloc" "$libc free" "$libc memcpy" \
			"$libc write" "$libc fork" "$libc strlen" "$libc pthread_create" \
			"$libc __libc_start_main" "$libc exit"
		for f in "${others[@]}"; do
			n=100000
			[[ $f == *libcrypto* ]] && n=300
			nm -D --defined-only "$f" | awk '$2 == "T" {print $3}' | sed 's/@.*//' |
				sort -u | head -n "$n" | sed "s|^|$f |"
		done
	} | "$tmp/oracle" fixtures/bpf/attach/probes.bpf.o
} >"$out" 2>"$tmp/log"
grep -c . "$out"
