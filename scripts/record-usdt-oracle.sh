#!/usr/bin/env bash
# Record libbpf's USDT spec encoding (fixtures/oracle/attach/usdt_specs.txt)
# for fixtures/bpf/attach/probe_target.user's btfx:tick and btfx:sema, with
# Debian libbpf-dev 1.1 (scripts/record-usdt-oracle.c).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/oracle/attach/usdt_specs.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O1 -o "$tmp/oracle" scripts/record-usdt-oracle.c -lbpf
{
	echo "# libbpf $(dpkg-query -W -f='${Version}' libbpf-dev) bpf_program__attach_usdt; __bpf_usdt_specs slots: 0 = btfx:tick, 1 = btfx:sema"
	"$tmp/oracle" fixtures/bpf/attach/probes.bpf.o "$PWD/fixtures/bpf/attach/probe_target.user"
} >"$out"
cat "$out"
