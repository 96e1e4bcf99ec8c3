#!/usr/bin/env bash
# The main job: build btfx and dump the running kernel's BTF as a C header
# (vmlinux.h) and raw, or a bundled fixture kernel where this machine has no
# /sys/kernel/btf/vmlinux. Extra arguments are passed to `btfx dump`.
set -euo pipefail
cd "$(dirname "$0")/.."
input=vmlinux
if [ ! -r /sys/kernel/btf/vmlinux ]; then
  input=fixtures/kernels/x86_64-6.18.btf
  echo "no /sys/kernel/btf/vmlinux here: using the bundled $input" >&2
fi
cargo build --release --quiet -p btfx
exec target/release/btfx dump "$input" "$@"
