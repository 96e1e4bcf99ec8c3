#!/usr/bin/env python3
"""Extract the BPF ELF objects embedded in libbpf skeleton binaries.

Usage: mincore-extract-skel.py OUT_DIR BINARY...

A bpftool skeleton keeps the compiled object as a byte string in the
binary; this finds every ELF64 little-endian header with e_machine EM_BPF
(247), takes its length from the section header table (e_shoff + e_shnum *
e_shentsize) and writes it to OUT_DIR/<binary>.bpf.o (<binary>.N.bpf.o
when a binary holds several).
"""
import os
import struct
import sys


def objects(data):
    pos = 1
    while True:
        pos = data.find(b"\x7fELF\x02\x01\x01", pos)
        if pos < 0:
            return
        hdr = data[pos:pos + 64]
        if len(hdr) == 64 and struct.unpack_from("<H", hdr, 18)[0] == 247:
            shoff = struct.unpack_from("<Q", hdr, 40)[0]
            shentsize, shnum = struct.unpack_from("<HH", hdr, 58)
            end = pos + shoff + shentsize * shnum
            if end <= len(data):
                yield data[pos:end]
        pos += 1


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            data = f.read()
        found = list(objects(data))
        base = os.path.basename(path)
        for i, obj in enumerate(found):
            name = f"{base}.bpf.o" if len(found) == 1 else f"{base}.{i}.bpf.o"
            with open(os.path.join(out, name), "wb") as f:
                f.write(obj)
        print(f"{base}: {len(found)} object(s)")


if __name__ == "__main__":
    main()
