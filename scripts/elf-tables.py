#!/usr/bin/env python3
"""Reads `readelf -SW -sW` output on stdin and prints the section headers
and the .symtab symbols the ELF layer of crates/dwarf-btf must agree with:

    section INDEX NAME ADDRESS SIZE
    symbol INDEX VALUE SIZE TYPE NDX NAME

(numbers in hex; NDX a number or UND/ABS/COM; NAME last, possibly empty).
Used by scripts/build-dwarf-elf-fixtures.sh."""
import re
import sys

SEC = re.compile(r"^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s")
SYM = re.compile(r"^\s*(\d+):\s+([0-9a-f]+)\s+(\S+)\s+(\S+)\s+\S+\s+\S+\s+(\S+)\s?(.*)$")
in_symtab = False
for line in sys.stdin:
    # PowerPC64 ELFv2 prints the local entry point inside the columns.
    line = re.sub(r"\[<localentry>: \d+\]\s*", "", line.rstrip("\n"))
    if line.startswith("Symbol table "):
        in_symtab = "'.symtab'" in line
        continue
    m = SEC.match(line)
    if m and int(m.group(1)) != 0:
        idx, name, addr, size = m.groups()
        print(f"section {int(idx)} {name} {int(addr, 16):#x} {int(size, 16):#x}")
        continue
    m = SYM.match(line)
    if m and in_symtab and int(m.group(1)) != 0:
        idx, value, size, typ, ndx, name = m.groups()
        print(f"symbol {int(idx)} {int(value, 16):#x} {int(size, 0):#x} {typ} {ndx} {name}")
