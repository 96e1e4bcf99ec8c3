#!/usr/bin/env python3
"""Compares two BTF files as type graphs, ignoring type ids and order.

Usage: scripts/btf-graph-compare.py A.btf B.btf [--base-a BASE] [--base-b BASE]
       [--show N] [--oneline]

Each file is dumped with `bpftool btf dump file F [-B BASE] format raw`.
Every type gets a signature: its kind, name and own fields, where a
reference to a named STRUCT, UNION, ENUM, ENUM64, FWD or TYPEDEF is written
as kind+name (no recursion), and a reference to anything else (anonymous or
unnamed kinds: PTR, CONST, ARRAY, FUNC_PROTO, anonymous structs ...) is
replaced by that type's own signature, recursively. References into the
base are written the same way (the base is dumped too). The two multisets
of signatures are compared: equal multisets mean the same types with the
same shapes, whatever the ids and order. Prints one line per kind,
`KIND a=N b=M only_a=X only_b=Y`, then up to --show signatures found in
only one file, and exits 1 if the multisets differ. With --oneline, prints
only `same` or `differ KIND:only_a=X,only_b=Y ...` (kinds with differences).
"""
import collections
import re
import subprocess
import sys

NAMED_REF_KINDS = {"STRUCT", "UNION", "ENUM", "ENUM64", "FWD", "TYPEDEF"}
HEAD = re.compile(r"^\[(\d+)\] (\S+) '([^']*)'(.*)$")


def dump(path, base):
    cmd = ["bpftool", "btf", "dump", "file", path]
    if base:
        cmd += ["-B", base]
    cmd += ["format", "raw"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    types = {}
    cur = None
    for line in out.splitlines():
        m = HEAD.match(line)
        if m:
            cur = [m.group(2), m.group(3), m.group(4).strip(), []]
            types[int(m.group(1))] = cur
        elif cur is not None and line.startswith("\t"):
            cur[3].append(line.strip())
    return types


def load(path, base):
    types = {}
    own = dump(path, base)
    if base:
        types.update(dump(base, None))
    types.update(own)
    return types, sorted(own)


def signatures(types, own_ids):
    memo = {}
    ref = re.compile(r"(type_id|ret_type_id|index_type_id)=(\d+)")

    def ref_sig(tid):
        if tid == 0:
            return "void"
        t = types.get(tid)
        if t is None:
            return f"<missing {tid}>"
        kind, name = t[0], t[1]
        if kind in NAMED_REF_KINDS and name != "(anon)":
            return f"{kind}:{name}"
        return sig(tid)

    def subst(text):
        return ref.sub(lambda m: f"{m.group(1)}=({ref_sig(int(m.group(2)))})", text)

    def sig(tid):
        if tid in memo:
            return memo[tid]
        memo[tid] = f"<cycle {tid}>"
        kind, name, rest, members = types[tid]
        parts = [kind, name, subst(rest)]
        for mline in members:
            # DATASEC lines end with "(VAR 'name')": already named.
            parts.append(subst(mline))
        s = " | ".join(parts)
        memo[tid] = s
        return s

    return [(types[i][0], sig(i)) for i in own_ids]


def main():
    args = sys.argv[1:]
    opts = {"--base-a": None, "--base-b": None, "--show": "10"}
    files = []
    oneline = False
    while args:
        a = args.pop(0)
        if a == "--oneline":
            oneline = True
        elif a in opts:
            opts[a] = args.pop(0)
        else:
            files.append(a)
    if len(files) != 2:
        sys.exit(__doc__)
    ta, ida = load(files[0], opts["--base-a"])
    tb, idb = load(files[1], opts["--base-b"])
    sa = collections.Counter(signatures(ta, ida))
    sb = collections.Counter(signatures(tb, idb))
    only_a = sa - sb
    only_b = sb - sa
    kinds = sorted({k for k, _ in sa} | {k for k, _ in sb})
    same = not only_a and not only_b
    if oneline:
        words = ["same" if same else "differ"]
        for k in kinds:
            oa = sum(c for (kk, _), c in only_a.items() if kk == k)
            ob = sum(c for (kk, _), c in only_b.items() if kk == k)
            if oa or ob:
                words.append(f"{k}:only_a={oa},only_b={ob}")
        print(" ".join(words))
        sys.exit(0 if same else 1)
    for k in kinds:
        na = sum(c for (kk, _), c in sa.items() if kk == k)
        nb = sum(c for (kk, _), c in sb.items() if kk == k)
        oa = sum(c for (kk, _), c in only_a.items() if kk == k)
        ob = sum(c for (kk, _), c in only_b.items() if kk == k)
        print(f"{k} a={na} b={nb} only_a={oa} only_b={ob}")
    show = int(opts["--show"])
    for label, diff in (("only in a", only_a), ("only in b", only_b)):
        for (k, s), c in list(diff.items())[:show]:
            print(f"{label} x{c}: {s[:300]}")
    print("same graph" if not only_a and not only_b else "graphs differ")
    sys.exit(0 if not only_a and not only_b else 1)


if __name__ == "__main__":
    main()
