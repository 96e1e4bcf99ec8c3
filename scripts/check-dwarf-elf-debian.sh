#!/usr/bin/env bash
# Maintainer check of the ELF layer of crates/dwarf-btf on real kernel
# modules it was not built with: records, for a few modules of Debian's
# linux-image-6.1.0-56-cloud-amd64-dbg (ET_REL, DWARF 5, .rela.debug_*),
# how many DW_AT_name/producer/low_pc/high_pc lines llvm-dwarfdump-19
# prints for .debug_info (scripts/dwarf-elf-names.py's format) and an
# FNV-1a 64 hash of them, and the same for the directory and file tables
# of the line program headers (scripts/dwarf-elf-lines.py, DW_FORM_line_strp
# relocated in .debug_line), into fixtures/dwarf/elf/debian-modules.txt. The
# test debian_modules_match_llvm_dwarfdump_summaries (tests/elf.rs) reads
# the same modules with ElfInput::open and gimli and compares; it skips
# where the package is not extracted.
#
# Usage: scripts/check-dwarf-elf-debian.sh [EXTRACTED_ROOT]
#   EXTRACTED_ROOT  where the .deb is extracted (default $BTFX_DEBIAN_DBG,
#                   else /work/dl/dbg); downloaded with apt-get and
#                   extracted there when absent.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG=linux-image-6.1.0-56-cloud-amd64-dbg
VERSION=6.1.192-2
root=${1:-${BTFX_DEBIAN_DBG:-/work/dl/dbg}}
DWARFDUMP=${DWARFDUMP:-llvm-dwarfdump-19}
MODULES=(
	net/ipv4/tcp_bbr.ko
	net/sched/sch_fq.ko
	drivers/net/virtio_net.ko
	net/netfilter/nf_tables.ko
	fs/btrfs/btrfs.ko
	fs/xfs/xfs.ko
)
moddir=usr/lib/debug/lib/modules/6.1.0-56-cloud-amd64/kernel

if [ ! -d "$root/$moddir" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download "$PKG=$VERSION")
	mkdir -p "$root"
	dpkg-deb -x "$tmp"/*.deb "$root"
	rm -rf "$tmp"
fi

out=fixtures/dwarf/elf/debian-modules.txt
summary() { # lines on stdin -> "count fnv1a64"
	python3 -c '
import sys
h, n = 0xcbf29ce484222325, 0
for line in sys.stdin.buffer:
    n += 1
    for b in line:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print(n, f"{h:016x}")'
}
{
	echo "# $PKG $VERSION (scripts/check-dwarf-elf-debian.sh): module;"
	echo "# .debug_info name/producer/low_pc/high_pc lines (dwarf-elf-names.py): count, FNV-1a 64;"
	echo "# line program dir/file lines (dwarf-elf-lines.py): count, FNV-1a 64"
	echo "# $("$DWARFDUMP" --version | grep -i version | head -1 | sed 's/^ *//')"
	for m in "${MODULES[@]}"; do
		names=$("$DWARFDUMP" --debug-info "$root/$moddir/$m" 2>/dev/null \
			| python3 scripts/dwarf-elf-names.py | summary)
		lines=$("$DWARFDUMP" --debug-line "$root/$moddir/$m" 2>/dev/null \
			| python3 scripts/dwarf-elf-lines.py | summary)
		echo "$moddir/$m $names $lines"
	done
} > "$out"
cat "$out"
