#!/usr/bin/env python3
"""Reads `llvm-dwarfdump --debug-info` output on stdin and prints, for each
DIE, its DW_AT_name, DW_AT_producer, DW_AT_low_pc and DW_AT_high_pc as
"0xOFFSET attr value" lines (high_pc as the address llvm-dwarfdump shows,
low_pc plus the length for a constant form). The reference side of the ELF
layer's checks (scripts/build-dwarf-elf-fixtures.sh,
scripts/check-dwarf-elf-debian.sh); crates/dwarf-btf/tests/elf.rs prints
the same lines from gimli.

With --types (input: `llvm-dwarfdump --debug-types`), each line starts with
the type unit's index ("tu0", "tu1" ...) instead of the DIE offset: type
units of an object sit in separate .debug_types sections whose offsets all
start at 0."""
import re
import sys

DIE = re.compile(r"^(0x[0-9a-f]+):\s+DW_TAG_")
ATTR = re.compile(r"^\s+DW_AT_(name|producer|low_pc|high_pc)\t\((.*)\)$")
TYPE_UNIT = re.compile(r"^0x[0-9a-f]+: Type Unit:")
types = "--types" in sys.argv[1:]
offset = None
unit = -1
for line in sys.stdin:
    line = line.rstrip("\n")
    if TYPE_UNIT.match(line):
        unit += 1
        continue
    m = DIE.match(line)
    if m:
        offset = int(m.group(1), 16)
        continue
    m = ATTR.match(line)
    if not m or offset is None:
        continue
    attr, value = m.group(1), m.group(2)
    if attr in ("name", "producer"):
        if not (value.startswith('"') and value.endswith('"')):
            sys.exit(f"unexpected string form at {offset:#x}: {value}")
        value = value[1:-1]
    else:
        value = f"{int(value.split()[0], 16):#x}"
    where = f"tu{unit}" if types else f"{offset:#010x}"
    print(f"{where} {attr} {value}")
