#!/usr/bin/env bash
# Record the CO-RE log oracles (fixtures/oracle/core/) and the load outcome
# oracles (fixtures/oracle/load/) for every fixtures/bpf/*.bpf.o.
#
# Must run as root (CAP_BPF + CAP_PERFMON) on the recording kernel: the one
# whose BTF is fixtures/kernels/x86_64-6.18.btf (checked by sha256; set
# FORCE=1 to record anyway, the "x86_64-6.18" files then describe whatever
# kernel runs). Needs bpftool (v7.1), libbpf-dev (1.1), libelf, zlib, a C
# compiler and bpffs on /sys/fs/bpf.
#
# Outputs, for each object <o> (fixtures/bpf/<o>.bpf.o):
#   fixtures/oracle/core/<o>.x86_64-6.18.log
#       stderr of `bpftool -d prog loadall fixtures/bpf/<o>.bpf.o /sys/fs/bpf/x_<o>`
#       (libbpf debug log + full verifier logs, bpftool -d asks for them)
#   fixtures/oracle/core/recorder/<o>.x86_64-6.18.log
#       stderr of `record-core-log --btf /sys/kernel/btf/vmlinux <obj>`; its
#       CO-RE lines must equal the bpftool ones (checked here)
#   fixtures/oracle/core/<o>.<target>.log for x86_64-6.1, x86_64-6.12, arm64-6.12
#       stderr of `record-core-log --btf fixtures/kernels/<target>.btf <obj>`
#   fixtures/oracle/load/<o>.txt
#       "<prog>\t<section>\tloaded|rejected", one line per program
#   fixtures/oracle/core/README.md (summary tables regenerated)
#
# Normalisation (the only edits made to the logs), so that re-recording gives
# identical files:
#   "verification time 1234 usec"  -> "verification time <N> usec"
#   kernel addresses 0xffffXXXXXXXXXXXX in verifier logs -> 0xffff<kaddr>
set -euo pipefail

cd "$(dirname "$0")/.."

CORE=fixtures/oracle/core
LOAD=fixtures/oracle/load
KERNELS=fixtures/kernels
RUNNING=x86_64-6.18
TARGETS=(x86_64-6.1 x86_64-6.12 arm64-6.12)
BPFFS=/sys/fs/bpf

tmp=$(mktemp -d)
cleanup() {
	rm -rf "$tmp"
	for o in fixtures/bpf/*.bpf.o; do rm -rf "$BPFFS/x_$(basename "$o" .bpf.o)"; done
}
trap cleanup EXIT

want=$(sha256sum <"$KERNELS/$RUNNING.btf" | cut -d' ' -f1)
have=$(sha256sum </sys/kernel/btf/vmlinux | cut -d' ' -f1)
if [[ $want != "$have" && ${FORCE:-0} != 1 ]]; then
	echo "running kernel BTF is not $KERNELS/$RUNNING.btf; set FORCE=1 to record anyway" >&2
	exit 1
fi

cc -O2 -Wall -o "$tmp/record-core-log" scripts/record-core-log.c -lbpf -lelf -lz
REC=$tmp/record-core-log

norm() {
	sed -E -e 's/verification time [0-9]+ usec/verification time <N> usec/' \
		-e 's/0xffff[0-9a-f]{12}/0xffff<kaddr>/g'
}
# the CO-RE decisions, as the tests will filter them
core_lines() {
	grep -E "^libbpf: (prog '[^']+': relo #|CO-RE relocating|sec '[^']+': found [0-9]+ CO-RE)" "$1" || true
}

mkdir -p "$CORE/recorder" "$LOAD"
status=0
for obj in fixtures/bpf/*.bpf.o; do
	o=$(basename "$obj" .bpf.o)
	pin=$BPFFS/x_$o
	echo "== $o" >&2

	# running kernel, bpftool
	rm -rf "$pin"
	bpftool_rc=0
	bpftool -d prog loadall "$obj" "$pin" 2>"$tmp/raw" || bpftool_rc=$?
	norm <"$tmp/raw" >"$CORE/$o.$RUNNING.log"
	: >"$tmp/pinned"
	if [[ -d $pin ]]; then
		for p in "$pin"/*; do
			[[ -e $p ]] || continue
			# pins are named after the full program name; bpftool prog show
			# confirms that each is a live program
			if bpftool prog show pinned "$p" >/dev/null 2>&1; then
				basename "$p" >>"$tmp/pinned"
			fi
		done
	fi
	rm -rf "$pin"

	# running kernel, record-core-log (cross-check of the CO-RE lines)
	"$REC" --btf /sys/kernel/btf/vmlinux "$obj" 2>"$tmp/raw" >/dev/null || true
	norm <"$tmp/raw" >"$CORE/recorder/$o.$RUNNING.log"
	if ! diff <(core_lines "$CORE/$o.$RUNNING.log") \
		<(core_lines "$CORE/recorder/$o.$RUNNING.log") >"$tmp/diff"; then
		if diff <(core_lines "$CORE/$o.$RUNNING.log" | sort) \
			<(core_lines "$CORE/recorder/$o.$RUNNING.log" | sort) >/dev/null; then
			# bpftool's embedded libbpf poisons an ld_imm64 first half
			# first, system libbpf 1.1.2 the second half: same lines, other order
			echo "note: $o: same CO-RE lines, different order:" >&2
			cat "$tmp/diff" >&2
		else
			echo "CO-RE lines differ between bpftool and record-core-log for $o:" >&2
			cat "$tmp/diff" >&2
			status=1
		fi
	fi

	# other kernels: CO-RE against their BTF (loading into this kernel may fail)
	for t in "${TARGETS[@]}"; do
		"$REC" --btf "$KERNELS/$t.btf" "$obj" 2>"$tmp/raw" >/dev/null || true
		norm <"$tmp/raw" >"$CORE/$o.$t.log"
	done

	# load outcome per program on the running kernel. If bpftool loaded the
	# whole object, a program is "loaded" iff bpftool pinned it and
	# `bpftool prog show pinned` shows it. If bpftool failed (it stops at the
	# first failing program), each program is loaded alone by
	# record-core-log --only (every other program has autoload off).
	: >"$LOAD/$o.txt"
	while IFS=$'\t' read -r prog sec; do
		if ((bpftool_rc == 0)); then
			if grep -qxF "$prog" "$tmp/pinned"; then res=loaded; else res=rejected; fi
		elif "$REC" --only "$prog" "$obj" 2>/dev/null >/dev/null; then
			res=loaded
		else
			res=rejected
		fi
		printf '%s\t%s\t%s\n' "$prog" "$sec" "$res" >>"$LOAD/$o.txt"
	done < <("$REC" --list "$obj")
done

# ---- summary tables for README.md ----
relo_count() { # total CO-RE relocations in a log
	awk "/^libbpf: sec '[^']+': found [0-9]+ CO-RE relocations/ { n += \$(NF-2) } END { print n + 0 }" "$1"
}
poisoned() { # "kind type.access" of every poisoned relocation, unique, one a line
	awk '
	match($0, /^libbpf: prog .[^:]+: relo #[0-9]+: /) {
		key = substr($0, 1, RLENGTH)
		rest = substr($0, RLENGTH + 1)
		if (rest ~ /^</ && !(key in first)) {
			sub(/ \(.*$/, "", rest); sub(/\[[0-9]+\] /, "", rest)
			first[key] = rest
		}
		if (rest ~ /^substituting insn/ && !(key in done)) { done[key] = 1; print first[key] }
	}' "$1" | sort -u
}
{
	sed -n '1,/^<!-- generated below -->$/p' "$CORE/README.md"
	echo
	echo "| object | CO-RE relos | poisoned on x86_64-6.18 | x86_64-6.1 | x86_64-6.12 | arm64-6.12 | load (running kernel) |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	for obj in fixtures/bpf/*.bpf.o; do
		o=$(basename "$obj" .bpf.o)
		row="| \`$o\` | $(relo_count "$CORE/$o.$RUNNING.log")"
		for t in "$RUNNING" "${TARGETS[@]}"; do
			row+=" | $(poisoned "$CORE/$o.$t.log" | wc -l)"
		done
		l=$(grep -c $'\tloaded$' "$LOAD/$o.txt" || true)
		r=$(grep -c $'\trejected$' "$LOAD/$o.txt" || true)
		echo "$row | $l loaded, $r rejected |"
	done
	echo
	echo "Poisoned relocations (\"substituting insn #N w/ invalid insn\"), per object and target:"
	for obj in fixtures/bpf/*.bpf.o; do
		o=$(basename "$obj" .bpf.o)
		echo
		echo "- \`$o\`"
		for t in "$RUNNING" "${TARGETS[@]}"; do
			list=$(poisoned "$CORE/$o.$t.log" | sed 's/.*/`&`/' | paste -sd, - | sed 's/,/, /g')
			echo "  - $t: ${list:-none}"
		done
	done
} >"$tmp/README.md"
mv "$tmp/README.md" "$CORE/README.md"

exit $status
