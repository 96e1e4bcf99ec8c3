#!/usr/bin/env bash
# Record libbpf 1.1's outcome for every corpus object and every real-world
# object (fixtures/bpf/corpus/*.bpf.o, fixtures/bpf/real/<package>_<version>/*.o)
# into fixtures/oracle/load/corpus/ (see its README.md for the format).
#
# The real-world objects come from Debian packages, copied or cut out of
# the binaries that embed them by scripts/extract-real-corpus.py:
#   apt-get download libxdp1 libbpf-tools golang-github-cilium-ebpf-dev
#   for d in *.deb; do dpkg-deb -x $d x_<package>_<version>; done
#   scripts/extract-real-corpus.py .
#
# Must run as root on the recording kernel (bpf(2) allowed, bpffs on
# /sys/fs/bpf). Needs a C compiler, libbpf-dev (1.1), libelf and zlib.
# LIBBPF_PIN_BY_NAME maps are pinned under a private directory that is
# removed afterwards.
set -euo pipefail

cd "$(dirname "$0")/.."

OUT=fixtures/oracle/load/corpus
PIN=/sys/fs/bpf/btfx-corpus-oracle
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$PIN"' EXIT
mkdir -p "$OUT" "$PIN"

cc -O2 -Wall -o "$tmp/rec" scripts/record-corpus-oracle.c -lbpf -lelf -lz
cc -O2 -Wall -o "$tmp/secnames" scripts/record-corpus-secnames.c -lbpf -lelf -lz
# What libbpf makes of each section name (libbpf_prog_type_by_name).
"$tmp/secnames" <"$OUT/sec-names.in" >"$OUT/sec-names.tsv"

record() { # <object> <stem>
	"$tmp/rec" "$1" "$PIN" "$OUT/$2.txt" "$OUT/$2.maps" 2>"$OUT/$2.log" || true
	# Normalise what changes from run to run: fds, ids, timings.
	sed -i -E -e 's/fd=[0-9]+/fd=<N>/g' -e 's/verification time [0-9]+ usec/verification time <N> usec/' -e 's/0xffff[0-9a-f]{12}/0xffff<kaddr>/g' "$OUT/$2.log"
	[[ -s $OUT/$2.maps ]] || rm -f "$OUT/$2.maps"
	rm -rf "${PIN:?}"/*
}

for o in fixtures/bpf/corpus/*.bpf.o; do
	record "$o" "$(basename "$o" .bpf.o)"
done
# LIBBPF_PIN_BY_NAME: a second load reuses the map the first pinned
# (pinned.reuse.txt); a map of other parameters pinned there makes the load
# fail (pinned.mismatch.txt).
"$tmp/rec" fixtures/bpf/corpus/pinned.bpf.o "$PIN" "$tmp/first.txt" "$tmp/first.maps" 2>/dev/null
"$tmp/rec" fixtures/bpf/corpus/pinned.bpf.o "$PIN" "$OUT/pinned.reuse.txt" "$tmp/second.maps" 2>/dev/null
rm -rf "${PIN:?}"/*
bpftool map create "$PIN/corpus_pinned" type hash key 4 value 4 entries 16 name corpus_pinned
"$tmp/rec" fixtures/bpf/corpus/pinned.bpf.o "$PIN" "$OUT/pinned.mismatch.txt" "$tmp/third.maps" 2>"$OUT/pinned.mismatch.log" || true
rm -rf "${PIN:?}"/*
for f in reuse mismatch; do mv "$OUT/pinned.$f.txt" "$OUT/pinned.$f.tsv"; done

for o in fixtures/bpf/real/*/*.o; do
	pkg=$(basename "$(dirname "$o")")
	record "$o" "real__${pkg}__$(basename "$o" .o)"
done

{
	echo "recorded $(date -u +%Y-%m-%d) on $(uname -r) $(uname -m)"
	dpkg-query -W -f='${Package} ${Version}\n' libbpf1 libbpf-dev
	clang-19 --version | head -n1
} >"$OUT/VERSIONS"
