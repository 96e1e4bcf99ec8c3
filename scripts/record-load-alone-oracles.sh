#!/usr/bin/env bash
# Record libbpf 1.1's outcome for every program of the fixture objects that
# load whole, each loaded alone (record-core-log --only: every other
# program's autoload off), into fixtures/oracle/load-alone/<object>.txt:
# `name<TAB>section<TAB>loaded|rejected<TAB>errno`. Loading alone differs
# from loading whole where the object ties programs together (a PROG_ARRAY
# `.values` slot naming a program that is then not loaded fails the object
# with EBADF). Needs libbpf-dev (1.1), root and bpf(2); recorded on Linux
# 6.18 with libbpf 1.1.0.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -o "$tmp/rcl" scripts/record-core-log.c -lbpf -lelf -lz
for o in maps_globals; do
	obj=fixtures/bpf/$o.bpf.o
	out=fixtures/oracle/load-alone/$o.txt
	: >"$out"
	for p in $("$tmp/rcl" --list "$obj" 2>/dev/null | cut -f1); do
		"$tmp/rcl" --only "$p" "$obj" 2>/dev/null >>"$out" || true
	done
	echo "  $out" >&2
done
