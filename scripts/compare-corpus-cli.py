#!/usr/bin/env python3
"""Per-program agreement of a btfx binary with the recorded libbpf 1.1 outcomes
for the real-world objects (fixtures/oracle/load/corpus/real__*.txt), through the
CLI: each program loaded alone (`btfx load OBJ --json --prog NAME`), as the
oracle did. usage: scripts/compare-corpus-cli.py [BTFX...] (default target/release/btfx)."""
import glob, json, os, subprocess, sys
root = "fixtures/oracle/load/corpus"
res = {}
for binp in sys.argv[1:] or ["target/release/btfx"]:
    binname = binp
    lib_ok = 0; btfx_ok = 0; agree = 0; total = 0
    for txt in sorted(glob.glob(root + "/real__*.txt")):
        stem = os.path.basename(txt)[:-4]
        pkg, name = stem[len("real__"):].split("__", 1)
        obj = f"fixtures/bpf/real/{pkg}/{name}.o"
        lines = open(txt).read().splitlines()
        if lines[0].startswith("open"):
            continue
        want = {l.split("\t")[0]: l.split("\t")[2] == "loaded" for l in lines[1:]}
        # whole load with btfx, each program alone like the oracle
        for prog, ok in want.items():
            p = subprocess.run([binp, "load", obj, "--json", "--prog", prog], capture_output=True, text=True)
            got = False
            try:
                j = json.loads(p.stdout)
                for x in j["programs"]:
                    if x["name"] == prog:
                        got = x.get("loaded") or x.get("status") == "loaded"
            except Exception:
                got = False
            total += 1; lib_ok += ok; btfx_ok += bool(got); agree += (ok == bool(got))
    print(binname, f"programs {total}: libbpf loads {lib_ok}, btfx loads {btfx_ok}, agree {agree}")
