#!/usr/bin/env bash
# Record libbpf's per-program load outcome for the BPF objects Debian ships
# in xdp-tools (/usr/lib/<multiarch>/bpf/*.o) into
# fixtures/oracle/load-debian/xdp-tools.txt: one line per program,
# `object<TAB>program<TAB>section<TAB>loaded|rejected<TAB>errno`, each
# program loaded alone (scripts/record-core-log.c --only).
# The objects are not copied into the repository; the test that reads this
# file (crates/loader/tests/lifecycle_debian.rs) skips objects absent here.
# Needs xdp-tools, libbpf-dev (1.1), root and bpf(2). Recorded with
# xdp-tools 1.3.1-1 and libbpf 1.1.0 on Linux 6.18.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=/usr/lib/$(gcc -print-multiarch)/bpf
tmp=$(mktemp -d)
# libbpf pins the objects' LIBBPF_PIN_BY_NAME maps (xdp-filter's filter_*,
# xdp_stats_map) under its default root, /sys/fs/bpf: remove what this run
# pinned there, and nothing that was there before.
pins_before=$(ls -A /sys/fs/bpf 2>/dev/null || true)
cleanup() {
	rm -rf "$tmp"
	for p in $(ls -A /sys/fs/bpf 2>/dev/null); do
		grep -qxF "$p" <<<"$pins_before" || rm -f "/sys/fs/bpf/$p"
	done
}
trap cleanup EXIT
cc -O2 -Wall -o "$tmp/rcl" scripts/record-core-log.c -lbpf -lelf -lz
out=fixtures/oracle/load-debian/xdp-tools.txt
: >"$out"
for o in "$dir"/*.o; do
	for p in $("$tmp/rcl" --list "$o" | cut -f1); do
		printf '%s\t' "$(basename "$o")" >>"$out"
		"$tmp/rcl" --only "$p" "$o" 2>/dev/null >>"$out" || true
	done
done
echo "  $out" >&2
