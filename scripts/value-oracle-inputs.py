#!/usr/bin/env python3
"""Map entries for scripts/record-value-oracle.sh: lines of
`MAP|KEYHEX|VALUEHEX` (hex bytes separated by spaces, no 0x).

shapes (struct value): seeded random bytes, the same with printable strings
and matching enumerators written over them (member offsets from bpftool's
BTF JSON), all zero, all 0xff. by_key (struct key2 -> u64): comm strings.
per_cpu: random bytes. values_bss: random bytes.
"""
import json, random, subprocess, sys

obj, vsize = sys.argv[1], int(sys.argv[2])
types = json.loads(subprocess.check_output(["bpftool", "-j", "btf", "dump", "file", obj]))["types"]
value = next(t for t in types if t["kind"] == "STRUCT" and t["name"] == "value")
off = {m["name"]: m["bits_offset"] // 8 for m in value["members"]}
rng = random.Random(20261202)

def hx(b):
    return " ".join(f"{x:02x}" for x in b)


def line(m, key, val):
    print(f"{m}|{hx(key)}|{hx(val)}")

def rand(n):
    return bytes(rng.randrange(256) for _ in range(n))

def put(buf, at, data):
    buf[at:at + len(data)] = data

k = lambda i: i.to_bytes(4, "little")
line("shapes", k(1), rand(vsize))
b = bytearray(rand(vsize))
put(b, off["name"], b"alice\0")
put(b, off["raw"], b"ab\0\x01")
put(b, off["color"], (2).to_bytes(4, "little"))
put(b, off["color2"], (-3 & 0xffffffff).to_bytes(4, "little"))
put(b, off["big"], (0xffffffff00000000).to_bytes(8, "little"))
put(b, off["flag"], b"\x01")
line("shapes", k(2), b)
b = bytearray(rand(vsize))
put(b, off["name"], b'q"uo\\te\0')
put(b, off["color"], (7).to_bytes(4, "little"))
line("shapes", k(3), b)
line("shapes", k(4), bytes(vsize))
line("shapes", k(5), b"\xff" * vsize)
for i, comm in enumerate([b"bash", b"sshd", b"12345678"]):
    key = (100 + i).to_bytes(4, "little") + comm.ljust(8, b"\0")[:8]
    line("by_key", key, rng.randrange(1 << 64).to_bytes(8, "little"))
line("per_cpu", k(1), rand(4))
# DATASEC sizes and offsets are 0 in the object (libbpf fills them in):
# the map's value size comes from the kernel (argv[3]).
bss_size = int(sys.argv[3])
line("values_bss", k(0), rand(bss_size))
