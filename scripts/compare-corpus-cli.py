#!/usr/bin/env python3
"""Per-program agreement of a btfx binary with the recorded libbpf 1.1 outcomes
for the corpus and real-world objects (fixtures/oracle/load/corpus/*.txt), through the
CLI: the whole object when libbpf loaded it whole, else each program alone
(`btfx load OBJ --json --prog NAME`), as the oracle did. usage: scripts/compare-corpus-cli.py [BTFX...] (default target/release/btfx)."""
import atexit, glob, json, os, shutil, subprocess, sys
root = "fixtures/oracle/load/corpus"
# LIBBPF_PIN_BY_NAME maps go to a private pin root, removed at exit.
pin_root = f"/sys/fs/bpf/btfx-compare-{os.getpid()}"
os.makedirs(pin_root, exist_ok=True)
atexit.register(shutil.rmtree, pin_root, True)
res = {}
for binp in sys.argv[1:] or ["target/release/btfx"]:
    binname = binp
    lib_ok = 0; btfx_ok = 0; agree = 0; total = 0
    for txt in sorted(glob.glob(root + "/*.txt")):
        stem = os.path.basename(txt)[:-4]
        if stem.startswith("real__"):
            pkg, name = stem[len("real__"):].split("__", 1)
            obj = f"fixtures/bpf/real/{pkg}/{name}.o"
        else:
            obj = f"fixtures/bpf/corpus/{stem}.bpf.o"
        lines = open(txt).read().splitlines()
        if lines[0].startswith("open"):
            continue
        want = {l.split("\t")[0]: l.split("\t")[2] == "loaded" for l in lines[1:]}
        # As the oracle: the whole object when libbpf loaded it whole, else
        # each program alone.
        whole = lines[0] == "whole\tloaded"
        runs = [None] if whole else list(want)
        results = {}
        for only in runs:
            cmd = [binp, "load", obj, "--json", "--pin-root", pin_root]
            if only:
                cmd += ["--prog", only]
            p = subprocess.run(cmd, capture_output=True, text=True)
            for f in os.listdir(pin_root):
                os.unlink(os.path.join(pin_root, f))
            try:
                for x in json.loads(p.stdout)["programs"]:
                    if only is None or x["name"] == only:
                        results[x["name"]] = bool(x.get("loaded") or x.get("status") == "loaded")
            except Exception:
                pass
        for prog, ok in want.items():
            got = results.get(prog, False)
            total += 1; lib_ok += ok; btfx_ok += bool(got); agree += (ok == bool(got))
            if ok != bool(got) and "-v" in os.environ.get("COMPARE_FLAGS", ""):
                print(f"  {stem}/{prog}: libbpf {'loaded' if ok else 'refused'}, btfx {'loaded' if got else 'refused'}")
    print(binname, f"programs {total}: libbpf loads {lib_ok}, btfx loads {btfx_ok}, agree {agree}")
