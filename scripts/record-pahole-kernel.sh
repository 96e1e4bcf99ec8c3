#!/usr/bin/env bash
# Runs pahole 1.24 -J over the Debian debug kernel unpacked by
# scripts/fetch-debug-kernel.sh and records what issue 18's encoder is
# compared with. Maintainer tool; tests only read the summary it writes.
#
# Usage: scripts/record-pahole-kernel.sh [DIR]
#   DIR as for fetch-debug-kernel.sh ($BTFX_DEBUG_KERNEL_DIR, else
#   /work/dl/kernel). REUSE=1 keeps pahole outputs already in DIR/pahole
#   (only the summary is rewritten).
#
# Other kernels (scripts/fetch-more-kernels.sh sets these):
#   BTFX_KERNEL_NAME  summary name: fixtures/oracle/dwarf/kernel-NAME.summary
#                     (default 6.1.0-56-cloud-amd64)
#   BTFX_KERNEL_DESC  the summary's first line's package text
#   BTFX_ONLY_SINGLE=1  no -j runs (two single-threaded vmlinux runs only)
#   BTFX_RUN_BTFX=1     also time target/release/btfx gen btf (build it first:
#                       cargo build --release -p btfx) on the vmlinux and on
#                       each module over pahole's vmlinux BTF, into DIR/btfx/,
#                       and compare with pahole's bytes (`compare` and `time`
#                       lines for vmlinux.btfx and module.M.btfx)
# The 6.1 kernel's summary is recorded with none of them set.
#
# pahole flags: the kernel's (6.1 scripts/pahole-flags.sh for pahole 1.24
# gives `--btf_gen_floats -j --lang_exclude=rust`), without -j for the
# reference runs, and --btf_encode_detached so nothing is written into the
# ELF files:
#   vmlinux:  pahole -J --btf_gen_floats --lang_exclude=rust \
#               --btf_encode_detached=OUT DIR/vmlinux
#   module:   the same with --btf_base BASE, on DIR/modules/NAME.ko
# Each vmlinux run is under /usr/bin/time -v (wall, max RSS): twice
# single-threaded and twice with -j (pahole's default thread count, the
# machine's CPUs).
#
# Writes into DIR/pahole/:
#   vmlinux.btf          single-threaded run 1
#   vmlinux.run2.btf     single-threaded run 2
#   vmlinux.j1.btf       -j run 1
#   vmlinux.j2.btf       -j run 2
#   *.time               /usr/bin/time -v output of each run
#   *.load               /proc/loadavg before each run (the machine is shared)
#   modules/NAME.btf         over DIR/vmlinux.BTF (the kernel's BTF, as the
#                            kernel build does; compare with
#                            DIR/modules/NAME.shipped.BTF)
#   modules/NAME.over-pahole.btf  over DIR/pahole/vmlinux.btf
# and fixtures/oracle/dwarf/kernel-6.1.0-56-cloud-amd64.summary (graph
# comparisons by scripts/btf-graph-compare.py) (format in
# fixtures/oracle/dwarf/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
DIR=${1:-${BTFX_DEBUG_KERNEL_DIR:-/work/dl/kernel}}
DIR=$(cd "$DIR" && pwd)
[[ -e $DIR/vmlinux && -f $DIR/modules.list ]] ||
    { echo "run scripts/fetch-debug-kernel.sh $DIR first" >&2; exit 1; }
out=$DIR/pahole
# No DIR/vmlinux.BTF: a kernel built without CONFIG_DEBUG_INFO_BTF (Debian's
# s390x); then nothing is compared with the kernel's BTF and modules are
# encoded over pahole's vmlinux BTF only.
KBTF=0
[[ -f $DIR/vmlinux.BTF ]] && KBTF=1
mkdir -p "$out/modules"
FLAGS=(-J --btf_gen_floats --lang_exclude=rust)
NAME=${BTFX_KERNEL_NAME:-6.1.0-56-cloud-amd64}
DESC=${BTFX_KERNEL_DESC:-Debian linux-image-6.1.0-56-cloud-amd64 6.1.192-2}
ONLY_SINGLE=${BTFX_ONLY_SINGLE:-0}
RUN_BTFX=${BTFX_RUN_BTFX:-0}
summary_file=$repo/fixtures/oracle/dwarf/kernel-$NAME.summary
sum=$repo/scripts/btf-summary.sh

# run_pahole OUT.btf [extra args...] INPUT: timed pahole run unless REUSE=1
# and OUT exists.
run_pahole() {
    local dst=$1; shift
    if [[ ${REUSE:-0} == 1 && -s $dst && -s $dst.time ]]; then return 0; fi
    rm -f "$dst"
    echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$dst.load"
    echo "pahole ${FLAGS[*]} $* -> $dst" >&2
    /usr/bin/time -v -o "$dst.time" pahole "${FLAGS[@]}" --btf_encode_detached="$dst" "$@" \
        > "$dst.log" 2>&1
    [[ -s $dst ]] || { echo "pahole wrote no $dst (see $dst.log)" >&2; exit 1; }
    chmod 644 "$dst"
}

mapfile -t modules < <(cut -d' ' -f1 "$DIR/modules.list")
if [[ $KBTF == 1 ]]; then
    for m in "${modules[@]}"; do
        run_pahole "$out/modules/$m.btf" --btf_base "$DIR/vmlinux.BTF" "$DIR/modules/$m.ko"
    done
fi
run_pahole "$out/vmlinux.btf" "$DIR/vmlinux"
run_pahole "$out/vmlinux.run2.btf" "$DIR/vmlinux"
if [[ $ONLY_SINGLE != 1 ]]; then
    run_pahole "$out/vmlinux.j1.btf" -j "$DIR/vmlinux"
    run_pahole "$out/vmlinux.j2.btf" -j "$DIR/vmlinux"
fi
for m in "${modules[@]}"; do
    run_pahole "$out/modules/$m.over-pahole.btf" --btf_base "$out/vmlinux.btf" "$DIR/modules/$m.ko"
done

# run_btfx OUT.btf [--base BASE] INPUT: timed btfx run (always rerun)
run_btfx() {
    local dst=$1; shift
    rm -f "$dst"
    echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$dst.load"
    echo "btfx gen btf $* -o $dst" >&2
    /usr/bin/time -v -o "$dst.time" "$repo/target/release/btfx" gen btf "$@" -o "$dst" \
        > "$dst.log" 2>&1 || { echo "btfx failed on $* (see $dst.log)" >&2; }
}
if [[ $RUN_BTFX == 1 ]]; then
    [[ -x $repo/target/release/btfx ]] ||
        { echo "no target/release/btfx: cargo build --release -p btfx" >&2; exit 1; }
    mkdir -p "$DIR/btfx/modules"
    run_btfx "$DIR/btfx/vmlinux.btf" "$DIR/vmlinux"
    for m in "${modules[@]}"; do
        run_btfx "$DIR/btfx/modules/$m.btf" --base "$out/vmlinux.btf" "$DIR/modules/$m.ko"
    done
fi

# time_line NAME FILE.time: wall, user and system seconds, CPU share and
# max RSS of one run
time_line() {
    local wall rss user sys cpu
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$2" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
    user=$(sed -n 's/.*User time (seconds): //p' "$2")
    sys=$(sed -n 's/.*System time (seconds): //p' "$2")
    cpu=$(sed -n 's/.*Percent of CPU this job got: //p' "$2" | tr -d '%')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$2")
    local load=unknown
    [[ -f ${2%.time}.load ]] && load=$(awk '{print $3}' "${2%.time}.load")
    echo "time $1 wall_s $wall user_s $user sys_s $sys cpu_pct $cpu max_rss_kib $rss load1_before $load"
}
equal() { if cmp -s "$2" "$3"; then echo "compare $1 equal"; else echo "compare $1 differ"; fi; }
# graph NAME A B [BASE_A [BASE_B]]: scripts/btf-graph-compare.py --oneline
# verdict (BASE_B defaults to BASE_A)
graph() {
    local name=$1 a=$2 b=$3 base_a=${4:-} base_b=${5:-${4:-}}
    local -a bases=()
    [[ -n $base_a ]] && bases=(--base-a "$base_a" --base-b "$base_b")
    echo "graph $name $("$repo/scripts/btf-graph-compare.py" "$a" "$b" "${bases[@]}" --oneline || true)"
}
section() { echo "== $1"; shift; "$sum" "$@"; echo "bytes $(stat -c %s "$1")"; }

{
    echo "# scripts/record-pahole-kernel.sh, $DESC"
    echo "tool pahole $(pahole --version)"
    echo "tool bpftool $(bpftool version | head -n1 | awk '{print $2}') libbpf $(bpftool version | grep -o 'libbpf v[0-9.]*' | awk '{print $2}')"
    [[ $RUN_BTFX == 1 ]] && echo "tool btfx $(git -C "$repo" rev-parse --short HEAD) (target/release/btfx gen btf, 1 thread per CPU)"
    [[ $KBTF == 1 ]] || echo "kernel-btf none (the vmlinux has no .BTF section)"
    echo "tool dwarves-package $(dpkg-query -W -f '${Version}' dwarves 2>/dev/null || echo unknown)"
    echo "machine $(uname -r) $(nproc) cpus"
    echo "flags ${FLAGS[*]} --btf_encode_detached=OUT [--btf_base BASE] (+ -j for the j runs)"
    while read -r sha name; do echo "package $name sha256 $sha"; done < "$DIR/packages.sha256"
    echo "input vmlinux bytes $(stat -L -c %s "$DIR/vmlinux") debug_info_bytes $((16#$(readelf -SW "$DIR/vmlinux" | sed 's/^ *\[ */[/' | awk '$2 == ".debug_info" {print $6}')))"
    section vmlinux.pahole "$out/vmlinux.btf"
    section vmlinux.pahole.run2 "$out/vmlinux.run2.btf"
    if [[ $ONLY_SINGLE != 1 ]]; then
        section vmlinux.pahole.j1 "$out/vmlinux.j1.btf"
        section vmlinux.pahole.j2 "$out/vmlinux.j2.btf"
    fi
    [[ $KBTF == 1 ]] && section vmlinux.kernel "$DIR/vmlinux.BTF"
    echo "== comparisons and times"
    equal "vmlinux.pahole vmlinux.pahole.run2" "$out/vmlinux.btf" "$out/vmlinux.run2.btf"
    [[ $ONLY_SINGLE != 1 ]] &&
        equal "vmlinux.pahole.j1 vmlinux.pahole.j2" "$out/vmlinux.j1.btf" "$out/vmlinux.j2.btf"
    [[ $KBTF == 1 ]] && equal "vmlinux.pahole vmlinux.kernel" "$out/vmlinux.btf" "$DIR/vmlinux.BTF"
    if [[ -f $DIR/vmlinuz.BTF ]]; then
        equal "vmlinux.kernel vmlinuz.kernel" "$DIR/vmlinux.BTF" "$DIR/vmlinuz.BTF"
    fi
    [[ $ONLY_SINGLE != 1 ]] &&
        graph "vmlinux.pahole vmlinux.pahole.j1" "$out/vmlinux.btf" "$out/vmlinux.j1.btf"
    [[ $KBTF == 1 ]] && graph "vmlinux.pahole vmlinux.kernel" "$out/vmlinux.btf" "$DIR/vmlinux.BTF"
    if [[ $RUN_BTFX == 1 ]]; then
        equal "vmlinux.btfx vmlinux.pahole" "$DIR/btfx/vmlinux.btf" "$out/vmlinux.btf"
        graph "vmlinux.btfx vmlinux.pahole" "$DIR/btfx/vmlinux.btf" "$out/vmlinux.btf"
    fi
    time_line vmlinux.pahole "$out/vmlinux.btf.time"
    time_line vmlinux.pahole.run2 "$out/vmlinux.run2.btf.time"
    if [[ $ONLY_SINGLE != 1 ]]; then
        time_line vmlinux.pahole.j1 "$out/vmlinux.j1.btf.time"
        time_line vmlinux.pahole.j2 "$out/vmlinux.j2.btf.time"
    fi
    [[ $RUN_BTFX == 1 ]] && time_line vmlinux.btfx "$DIR/btfx/vmlinux.btf.time"
    for m in "${modules[@]}"; do
        if [[ $KBTF == 1 ]]; then
            section "module.$m.pahole" "$out/modules/$m.btf" "$DIR/vmlinux.BTF"
            section "module.$m.shipped" "$DIR/modules/$m.shipped.BTF" "$DIR/vmlinux.BTF"
        fi
        section "module.$m.over-pahole" "$out/modules/$m.over-pahole.btf" "$out/vmlinux.btf"
        echo "== comparisons and times"
        if [[ $KBTF == 1 ]]; then
            equal "module.$m.pahole module.$m.shipped" "$out/modules/$m.btf" "$DIR/modules/$m.shipped.BTF"
            graph "module.$m.pahole module.$m.shipped" "$out/modules/$m.btf" "$DIR/modules/$m.shipped.BTF" "$DIR/vmlinux.BTF"
            graph "module.$m.over-pahole module.$m.shipped" "$out/modules/$m.over-pahole.btf" \
                "$DIR/modules/$m.shipped.BTF" "$out/vmlinux.btf" "$DIR/vmlinux.BTF"
            time_line "module.$m.pahole" "$out/modules/$m.btf.time"
        fi
        if [[ $RUN_BTFX == 1 ]]; then
            time_line "module.$m.over-pahole" "$out/modules/$m.over-pahole.btf.time"
            equal "module.$m.btfx module.$m.over-pahole" "$DIR/btfx/modules/$m.btf" \
                "$out/modules/$m.over-pahole.btf"
            graph "module.$m.btfx module.$m.over-pahole" "$DIR/btfx/modules/$m.btf" \
                "$out/modules/$m.over-pahole.btf" "$out/vmlinux.btf"
            time_line "module.$m.btfx" "$DIR/btfx/modules/$m.btf.time"
        fi
    done
} > "$summary_file"
echo "wrote $summary_file" >&2
