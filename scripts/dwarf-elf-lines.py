#!/usr/bin/env python3
"""Reads `llvm-dwarfdump --debug-line` output on stdin and prints the
directory and file tables of each line program header as
"0xOFFSET dir INDEX value" and "0xOFFSET file INDEX value" lines (OFFSET
the program's offset in .debug_line). In DWARF 5 these are mostly
DW_FORM_line_strp offsets, relocated in ET_REL files, so they check the
relocation of .debug_line. The reference side of crates/dwarf-btf's
tests/elf.rs (scripts/build-dwarf-elf-fixtures.sh,
scripts/check-dwarf-elf-debian.sh)."""
import re
import sys

PROGRAM = re.compile(r"^debug_line\[(0x[0-9a-f]+)\]$")
DIR = re.compile(r'^include_directories\[\s*(\d+)\] = "(.*)"$')
FILE = re.compile(r"^file_names\[\s*(\d+)\]:$")
NAME = re.compile(r'^\s+name: "(.*)"$')
offset = None
file_index = None
for line in sys.stdin:
    line = line.rstrip("\n")
    m = PROGRAM.match(line)
    if m:
        offset, file_index = int(m.group(1), 16), None
        continue
    if offset is None:
        continue
    m = DIR.match(line)
    if m:
        print(f"{offset:#010x} dir {int(m.group(1))} {m.group(2)}")
        continue
    m = FILE.match(line)
    if m:
        file_index = int(m.group(1))
        continue
    m = NAME.match(line)
    if m and file_index is not None:
        print(f"{offset:#010x} file {file_index} {m.group(1)}")
        file_index = None
