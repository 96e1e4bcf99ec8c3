#!/usr/bin/env bash
# `btfx run` over every BPF object of a directory (real-world objects such as
# Debian's libbpf-tools, cut out of their binaries by the corpus branch's
# scripts/extract-real-corpus.py), each for a short while with `ls` and
# `true` run meanwhile as a trigger: prints one line per object with the
# exit code, programs attached / not attached, events, printk lines and the
# first attach error. Needs root.
#
# Usage: scripts/run-real-world.sh DIR [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.."
dir=$1
secs=${2:-0.5}
btfx=target/release/btfx
printf '%-22s %4s %5s %6s %6s %6s  %s\n' object exit ok failed events printk first-error
for o in "$dir"/*.o; do
	( sleep 0.1; for _ in 1 2 3; do ls / >/dev/null; /bin/true; done ) &
	out=$(timeout 60 "$btfx" run "$o" --json --duration "$secs" 2>&1)
	code=$?
	wait
	ok=$(grep -c '"type":"attach"' <<<"$out" | tr -d ' ')
	bad=$(grep '"type":"attach"' <<<"$out" | grep -c '"ok":false')
	ev=$(grep -c '"type":"event"' <<<"$out")
	pk=$(grep -c '"type":"printk"' <<<"$out")
	err=$(grep -m1 -o '"error":"[^"]*' <<<"$out" | cut -c10-90)
	[[ -z $err && $code -ne 0 ]] && err=$(head -c 90 <<<"$out")
	printf '%-22s %4s %5s %6s %6s %6s  %s\n' "$(basename "$o" .o)" "$code" "$((ok - bad))" "$bad" "$ev" "$pk" "$err"
done
