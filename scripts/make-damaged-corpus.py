#!/usr/bin/env python3
"""Writes fixtures/damaged/*: crafted malformed BTF/ELF inputs, one defect each.

Each file starts from the same small valid BTF (built here) and breaks one
thing. The test crates/btf-cli/tests/damaged.rs runs `btfx dump` on every
file and checks: exit code 2, no panic, and a message naming the file and
the offset or type id (the messages are kept as an insta snapshot).
Run from the repo root: python3 scripts/make-damaged-corpus.py
"""
import os
import struct

OUT = "fixtures/damaged"

INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
FUNC, FUNC_PROTO, VAR, DATASEC = 12, 13, 14, 15


class B:
    def __init__(self):
        self.strs = b"\0"
        self.types = []  # list of lists of u32 words

    def s(self, name):
        if not name:
            return 0
        off = len(self.strs)
        self.strs += name.encode() + b"\0"
        return off

    def t(self, name, kind, vlen, kflag, third, extra=()):
        info = (kflag << 31) | (kind << 24) | vlen
        self.types.append([self.s(name), info, third] + list(extra))
        return len(self.types)

    def encode(self, hdr_extra=b"", endian="<", type_off=0, str_gap=0):
        tbytes = b"".join(struct.pack(endian + "%dI" % len(w), *w) for w in self.types)
        hdr_len = 24 + len(hdr_extra)
        hdr = struct.pack(endian + "HBBIIIII", 0xEB9F, 1, 0, hdr_len, type_off, len(tbytes),
                          type_off + len(tbytes) + str_gap, len(self.strs))
        return hdr + hdr_extra + b"\0" * type_off + tbytes + b"\0" * str_gap + self.strs


def base():
    b = B()
    i = b.t("int", INT, 0, 0, 4, [(1 << 24) | 32])            # 1
    p = b.t("", PTR, 0, 0, 4)                                   # 2 -> struct 4
    a = b.t("", ARRAY, 0, 0, 0, [i, i, 4])                      # 3
    b.t("node", STRUCT, 3, 0, 32, [b.s("val"), i, 0, b.s("next"), p, 64, b.s("arr"), a, 128])  # 4
    b.t("node_t", TYPEDEF, 0, 0, 4)                             # 5
    b.t("color", ENUM, 2, 0, 4, [b.s("RED"), 0, b.s("BLUE"), 1])  # 6
    fp = b.t("", FUNC_PROTO, 2, 0, i, [b.s("a"), i, b.s("b"), p])  # 7
    b.t("f", FUNC, 1, 0, fp)                                    # 8
    v = b.t("g", VAR, 0, 0, i, [1])                             # 9
    b.t(".data", DATASEC, 1, 0, 4, [v, 0, 4])                   # 10
    return b


def patch_u32(data, off, val):
    return data[:off] + struct.pack("<I", val) + data[off + 4:]


def type_off(b, idx):
    """Byte offset in the blob of type id idx (1-based), classic header, type_off 0."""
    return 24 + sum(len(w) * 4 for w in b.types[: idx - 1])


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {}
    good = base().encode()
    cases["empty"] = b""
    cases["short-magic"] = good[:3]
    cases["bad-magic"] = b"\x12\x34" + good[2:]
    cases["bad-version"] = good[:2] + b"\x02" + good[3:]
    cases["hdr-too-small"] = patch_u32(good, 4, 16)
    cases["hdr-past-end"] = patch_u32(good, 4, 1 << 20)
    cases["hdr-len-huge"] = patch_u32(good, 4, 0xFFFFFFFF)
    cases["short-header"] = good[:20]
    cases["unknown-header-field"] = base().encode(hdr_extra=struct.pack("<I", 7))
    cases["layout-section-out-of-bounds"] = base().encode(hdr_extra=struct.pack("<II", 4096, 80))
    cases["layout-section-bad-length"] = base().encode(hdr_extra=struct.pack("<II", 0, 3))
    cases["type-section-past-end"] = patch_u32(good, 12, len(good))
    cases["type-len-huge"] = patch_u32(good, 12, 0xFFFFFFFF)
    cases["string-section-past-end"] = patch_u32(good, 20, len(good))
    cases["type-section-unaligned"] = base().encode(type_off=2)
    b = base()
    tlen = sum(len(w) * 4 for w in b.types)
    cases["sections-overlap"] = patch_u32(good, 16, tlen - 8)
    cases["strings-no-trailing-nul"] = good[:-1] + b"x"
    cases["strings-no-leading-nul"] = good[:24 + tlen] + b"x" + good[24 + tlen + 1:]
    cases["strings-empty"] = patch_u32(good, 20, 0)
    cases["truncated-type-record"] = patch_u32(good, 12, tlen - 6)

    def mutate(name, tid, word, val):
        b = base()
        b.types[tid - 1][word] = val
        cases[name] = b.encode()

    mutate("name-offset-past-strings", 4, 0, 0x10000)
    mutate("member-name-past-strings", 4, 3, 0x10000)
    mutate("enum-name-past-strings", 6, 3, 0x10000)
    mutate("param-name-past-strings", 7, 3, 0x7FFFFFFF)
    mutate("ptr-target-out-of-range", 2, 2, 99)
    mutate("member-type-out-of-range", 4, 7, 1000)
    mutate("array-elem-out-of-range", 3, 3, 12345)
    mutate("array-index-out-of-range", 3, 4, 0xFFFFFFFF)
    mutate("param-type-out-of-range", 7, 6, 77)
    mutate("datasec-var-out-of-range", 10, 3, 11)
    mutate("func-proto-ret-out-of-range", 7, 2, 4096)
    mutate("vlen-past-end", 4, 1, (STRUCT << 24) | 1000)
    mutate("vlen-huge", 6, 1, (ENUM << 24) | 0xFFFF)
    mutate("unknown-kind", 5, 1, (25 << 24))
    mutate("kind-zero", 5, 1, 0)
    mutate("reserved-info-bits", 5, 1, (TYPEDEF << 24) | (1 << 20))
    mutate("typedef-self-loop", 5, 2, 5)
    mutate("ptr-self-loop", 2, 2, 2)
    mutate("array-elem-loop", 3, 3, 3)
    b = base()
    c = b.t("", CONST, 0, 0, 12)   # 11 -> 12
    b.t("", VOLATILE, 0, 0, c)     # 12 -> 11
    cases["const-volatile-loop"] = b.encode()
    b = base()
    b.t("a", TYPEDEF, 0, 0, 12)    # 11 -> 12
    b.t("b", TYPEDEF, 0, 0, 13)    # 12 -> 13
    b.t("", PTR, 0, 0, 11)         # 13 -> 11
    cases["typedef-ptr-loop"] = b.encode()
    cases["not-elf-not-btf"] = b"\x7fELF" + b"\0" * 12
    # A minimal valid ELF64 header with no sections at all.
    ehdr = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HHIQQQIHHHHHH", 1, 247, 1, 0, 0, 0, 0, 64, 0, 0, 64, 0, 0)
    cases["elf-without-btf"] = ehdr
    for name, data in sorted(cases.items()):
        with open(os.path.join(OUT, name + ".btf"), "wb") as f:
            f.write(data)
    print(f"{len(cases)} files in {OUT}")


main()
