#!/usr/bin/env python3
"""Copy real-world BPF objects from Debian packages into fixtures/bpf/real/.

usage: scripts/extract-real-corpus.py DIR_OF_EXTRACTED_DEBS

For each package extracted with `dpkg-deb -x PKG.deb DIR/x_<package>` (the
.deb's Version is read from its control file by the caller and passed in the
directory name: DIR/x_<package>_<version>):

- standalone BPF ELF files (e_machine 247, little-endian, *.o / *.elf) are
  copied as they are;
- executables that embed BPF objects (libbpf skeletons, as libbpf-tools'
  are) have each embedded ELF cut out: it starts at an ELF magic whose
  header says EM_BPF and ends where its section header table ends.

Big-endian objects are skipped (the kernel here cannot run them).
"""
import os
import struct
import sys

EM_BPF = 247


def bpf_elf_at(data, off):
    """Length of the little-endian BPF ELF starting at off, or None."""
    hdr = data[off:off + 64]
    if len(hdr) < 64 or hdr[:4] != b"\x7fELF" or hdr[4] != 2 or hdr[5] != 1:
        return None
    (e_machine,) = struct.unpack_from("<H", hdr, 18)
    if e_machine != EM_BPF:
        return None
    (e_shoff,) = struct.unpack_from("<Q", hdr, 40)
    e_shentsize, e_shnum = struct.unpack_from("<HH", hdr, 58)
    end = e_shoff + e_shentsize * e_shnum
    if e_shentsize != 64 or end > len(data) - off:
        return None
    return end


def main():
    src = sys.argv[1]
    out_root = os.path.join(os.path.dirname(__file__), "..", "fixtures", "bpf", "real")
    for pkgdir in sorted(os.listdir(src)):
        if not pkgdir.startswith("x_"):
            continue
        pkg = pkgdir[2:]
        for root, _, files in os.walk(os.path.join(src, pkgdir)):
            for f in sorted(files):
                path = os.path.join(root, f)
                if os.path.islink(path):
                    continue
                data = open(path, "rb").read()
                found = []
                off = data.find(b"\x7fELF")
                while off >= 0:
                    n = bpf_elf_at(data, off)
                    if n:
                        found.append(data[off:off + n])
                        off += n
                    else:
                        off = data.find(b"\x7fELF", off + 1)
                if not found:
                    continue
                base = f
                for ext in (".o", ".elf"):
                    if base.endswith(ext):
                        base = base[: -len(ext)]
                # libbpf's object name stops at the first '.': keep it unique.
                base = base.replace(".", "_")
                os.makedirs(os.path.join(out_root, pkg), exist_ok=True)
                for i, obj in enumerate(found):
                    name = base if len(found) == 1 else f"{base}_{i}"
                    with open(os.path.join(out_root, pkg, name + ".o"), "wb") as o:
                        o.write(obj)
                    print(f"{pkg}/{name}.o {len(obj)} bytes (from {os.path.relpath(path, src)})")


main()
