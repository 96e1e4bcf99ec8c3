#!/usr/bin/env python3
"""Write fixtures/oracle/mincore/edge/kernel.btf: a hand-made kernel BTF for
BTFGen edge cases (a typedef to a pointer to a FWD; a struct with kind_flag
whose bitfield and plain members are kept in part). Usage: OUT_FILE."""
import sys
import struct
strs = b"\0"
def s(x):
    global strs
    off = len(strs); strs += x + b"\0"; return off
types = []
def t(name, kind, vlen, kflag, st, extra=b""):
    info = (kflag << 31) | (kind << 24) | vlen
    types.append(struct.pack("<III", s(name) if name else 0, info, st) + extra)
t(b"int", 1, 0, 0, 4, struct.pack("<I", (1 << 24) | 32))       # 1
t(b"foo", 7, 0, 0, 0)                                           # 2 FWD struct foo
t(None, 2, 0, 0, 2)                                             # 3 PTR -> 2
t(b"foo_t", 8, 0, 0, 3)                                         # 4 TYPEDEF
mem = struct.pack("<III", s(b"a"), 1, (3 << 24) | 0) + struct.pack("<III", s(b"b"), 1, (5 << 24) | 3) + struct.pack("<III", s(b"c"), 1, 32) + struct.pack("<III", s(b"d"), 1, 64)
t(b"bar", 4, 4, 1, 12, mem)                                     # 5 STRUCT bar kflag
t(None, 2, 0, 0, 5)                                             # 6 PTR -> bar
t(b"bar_t", 8, 0, 0, 6)                                         # 7 TYPEDEF bar_t
tb = b"".join(types)
hdr = struct.pack("<HBBIIIII", 0xeb9f, 1, 0, 24, 0, len(tb), len(tb), len(strs))
open(sys.argv[1], "wb").write(hdr + tb + strs)
