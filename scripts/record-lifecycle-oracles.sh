#!/usr/bin/env bash
# Record libbpf's per-program outcome for the lifecycle fixtures
# (fixtures/bpf/odd_section.bpf.o, extern_missing.bpf.o) into
# fixtures/oracle/load/<object>.txt: one line per program,
# `name<TAB>section<TAB>loaded|rejected<TAB>errno` (libbpf's return value,
# 0 when loaded), each program loaded alone with record-core-log --only
# (every other program's autoload off), as the README of that directory
# describes for objects that do not load whole.
#
# Needs libbpf-dev (1.1, Debian 12), root and bpf(2). Recorded on Linux
# 6.18 with libbpf 1.1.0.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -o "$tmp/record-core-log" scripts/record-core-log.c -lbpf -lelf -lz
for o in odd_section extern_missing; do
	obj=fixtures/bpf/$o.bpf.o
	out=fixtures/oracle/load/$o.txt
	: >"$out"
	for prog in $("$tmp/record-core-log" --list "$obj" | cut -f1); do
		"$tmp/record-core-log" --only "$prog" "$obj" 2>/dev/null >>"$out" || true
	done
	echo "  $out" >&2
done
