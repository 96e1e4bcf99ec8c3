#!/usr/bin/env bash
# Fetches, unpacks and records (pahole 1.24, btfx) the Debian debug kernels
# beyond the 6.1 cloud-amd64 one: scripts/fetch-debug-kernel.sh then
# scripts/record-pahole-kernel.sh with the kernel's parameters, into
# /work/dl/kernels/NAME/ (the dbg package's vmlinux and modules unpacked in
# NAME/dbg). Maintainer tool; tests only read the summaries it writes,
# fixtures/oracle/dwarf/kernel-NAME.summary. Large files stay out of git.
#
# Usage: scripts/fetch-more-kernels.sh [NAME...]   (default: all below)
#   BTFX_KERNELS_DIR   parent directory (default /work/dl/kernels)
#   FETCH_ONLY=1       fetch and unpack, record nothing
#   REUSE=1            as for record-pahole-kernel.sh
# Build btfx first: cargo build --release -p btfx (its runs are timed too).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${BTFX_KERNELS_DIR:-/work/dl/kernels}
MODS="tcp_bbr sch_fq veth nf_conntrack overlay"

# NAME KVER DEBVER ARCH IMAGE_PKG
KERNELS=(
    "6.12.118-cloud-amd64 6.12.118+deb12-cloud-amd64 6.12.118-1~deb12u1 amd64 linux-image-6.12.118+deb12-cloud-amd64-unsigned"
    "6.1.0-57-cloud-arm64 6.1.0-57-cloud-arm64 6.1.192-3 arm64 linux-image-6.1.0-57-cloud-arm64-unsigned"
    "6.1.0-50-s390x 6.1.0-50-s390x 6.1.176-1 s390x linux-image-6.1.0-50-s390x"
)

want=("$@")
for k in "${KERNELS[@]}"; do
    read -r name kver debver arch image <<< "$k"
    if [[ ${#want[@]} -gt 0 && ! " ${want[*]} " == *" $name "* ]]; then continue; fi
    dir=$ROOT/$name
    mkdir -p "$dir"
    echo "== $name" >&2
    BTFX_KVER=$kver BTFX_DEBVER=$debver BTFX_ARCH=$arch BTFX_IMAGE_PKG=$image \
        BTFX_MODULES=$MODS BTFX_DEBUG_EXTRACT=$dir/dbg scripts/fetch-debug-kernel.sh "$dir"
    [[ ${FETCH_ONLY:-0} == 1 ]] && continue
    BTFX_KERNEL_NAME=$name BTFX_KERNEL_DESC="Debian ${image%-unsigned} $debver ($arch)" \
        BTFX_ONLY_SINGLE=1 BTFX_RUN_BTFX=1 scripts/record-pahole-kernel.sh "$dir"
done
