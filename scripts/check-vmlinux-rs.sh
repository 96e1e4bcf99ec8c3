#!/usr/bin/env bash
# Generates the whole vmlinux.rs (`btfx gen rust`) for the x86_64-6.18,
# x86_64-6.12 and arm64 kernel fixtures and compiles each with rustc as a
# library (edition 2021, -D warnings), so every layout assertion is checked.
# Prints generation and rustc times per kernel; exits non-zero on the first
# failure.
#
# The arm64 module is compiled for the host (x86_64): its assertions hold
# because both are LP64 with the same scalar, pointer, u128 and long double
# (16-byte, carried as u128) sizes and alignments; `char` is spelled by its
# BTF signedness, not `c_char`, unless the BTF marks it CHAR.
#
# Usage: scripts/check-vmlinux-rs.sh [KERNEL...]   (default: x86_64-6.18 x86_64-6.12 arm64-6.12)
# Env: CARGO_TARGET_DIR (default target), RUSTC (default rustc), KEEP=DIR keeps the .rs files there.
set -euo pipefail
cd "$(dirname "$0")/.."
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(x86_64-6.18 x86_64-6.12 arm64-6.12)
target=${CARGO_TARGET_DIR:-target}
rustc=${RUSTC:-rustc}
cargo build --release --quiet -p btfx
btfx=$target/release/btfx
work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
printf '%-14s %10s %10s %8s %10s\n' kernel "gen s" "rustc s" "MB" "lines"
for k in "${kernels[@]}"; do
  btf=fixtures/kernels/$k.btf
  [ -r "$btf" ] || { echo "$btf: missing" >&2; exit 1; }
  rs=$work/vmlinux-$k.rs
  t0=$(now)
  "$btfx" gen rust "$btf" -o "$rs"
  t1=$(now)
  if ! "$rustc" --crate-type=lib --edition=2021 -D warnings --crate-name "vmlinux_${k//[-.]/_}" \
      -o "$work/libvmlinux-$k.rlib" "$rs" 2>"$work/rustc-$k.log"; then
    echo "$k: rustc failed on $rs:" >&2
    head -50 "$work/rustc-$k.log" >&2
    exit 1
  fi
  t2=$(now)
  printf '%-14s %10.2f %10.2f %8.1f %10d\n' "$k" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" \
    "$(echo "$(stat -c %s "$rs") / 1048576" | bc -l)" "$(wc -l <"$rs")"
  rm -f "$work/libvmlinux-$k.rlib"
done
echo "all compiled"
