#!/usr/bin/env bash
# Ring buffer consumption: btfx's RingBuffer::consume against libbpf 1.1's
# ring_buffer__consume, same producer (fixtures/bpf/run/testrun.bpf.o's
# `produce` run with BPF_PROG_TEST_RUN repeat REPEAT: 64 x 16-byte records
# a run), same callback work (sum of each record's first word). Each round
# fills the ring with nobody reading, then times one drain. The btfx side
# counts allocations made while draining (a counting global allocator).
# Rounds alternate between the two; prints each median and the ratio.
# Needs root (bpf), cc and libbpf-dev.
#
# Usage: scripts/bench-ringbuf.sh [ROUNDS] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-15}
repeat=${2:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/bench-ringbuf" scripts/bench-ringbuf.c -lbpf
cargo build --release -q -p btfx-loader --example ringbuf_bench
obj=fixtures/bpf/run/testrun.bpf.o
for i in 1 2 3; do
	target/release/examples/ringbuf_bench "$rounds" "$repeat" buffer | tail -n1
	"$tmp/bench-ringbuf" "$obj" "$rounds" "$repeat" 2>/dev/null | tail -n1
	target/release/examples/ringbuf_bench "$rounds" "$repeat" reader | tail -n1
done | tee "$tmp/out"
for m in buffer reader; do
	target/release/examples/ringbuf_bench 3 "$repeat" $m | grep allocs | sed 's/^/  /'
done
awk '/^btfx-buffer median/ { split($2, a, "="); b += a[2]; nb++ }
     /^btfx-reader median/ { split($2, a, "="); r += a[2]; nr++ }
     /^libbpf median/ { split($2, a, "="); l += a[2]; nl++ }
     END { printf "libbpf ring_buffer__consume %.0f records/s\n", l/nl;
           printf "btfx RingBuffer (callback by pointer) %.0f records/s, ratio %.2f\n", b/nb, (b/nb)/(l/nl);
           printf "btfx RingReader (callback inlined) %.0f records/s, ratio %.2f\n", r/nr, (r/nr)/(l/nl) }' "$tmp/out"
