#!/usr/bin/env bash
# Record libbpf's uprobe offsets (fixtures/oracle/attach/uprobe_offsets.txt):
# scripts/record-uprobe-oracle.c attaches with libbpf (Debian libbpf-dev 1.1)
# and reads the probed file offset back from the kernel. The libc lines are
# only checked by the test when the running libc has the build id noted in
# the file's header (CI may have another libc).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/oracle/attach/uprobe_offsets.txt
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O1 -o "$tmp/oracle" scripts/record-uprobe-oracle.c -lbpf
libc=/lib/x86_64-linux-gnu/libc.so.6
{
	echo "# libbpf $(dpkg-query -W -f='${Version}' libbpf-dev) bpf_program__attach_uprobe_opts, offsets read back with BPF_TASK_FD_QUERY"
	echo "# libc build-id $(readelf -n "$libc" | awk '/Build ID/ {print $3}')"
	printf '%s\n' \
		"fixtures/bpf/attach/probe_target.user btfx_add" \
		"fixtures/bpf/attach/probe_target.user main" \
		"$libc getpid" "$libc malloc" "$libc free" "$libc memcpy" \
		"$libc write" "$libc fork" "$libc strlen" "$libc pthread_create" \
		"$libc __libc_start_main" "$libc exit" |
		"$tmp/oracle" fixtures/bpf/attach/probes.bpf.o
} >"$out"
cat "$out"
