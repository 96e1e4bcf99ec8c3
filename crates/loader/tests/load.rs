//! Loads every fixture object into the running kernel and compares, program
//! by program, with libbpf's recorded outcome (fixtures/oracle/load/*.txt).
//! Skipped (with a printed reason) where bpf(2) is not permitted.

use std::path::PathBuf;

use loader::{load, LoadOptions, ProgOutcome};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn bpf_allowed() -> bool {
    match loader::sys::probe_bpf() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
            false
        }
    }
}

fn oracle(stem: &str) -> Vec<(String, String, bool)> {
    std::fs::read_to_string(root().join(format!("oracle/load/{stem}.txt")))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string(), f[2] == "loaded")
        })
        .collect()
}

fn load_stem(stem: &str, progs: &[String]) -> loader::Loaded {
    let elf = std::fs::read(root().join(format!("bpf/{stem}.bpf.o"))).unwrap();
    let opts = LoadOptions {
        programs: progs.to_vec(),
        obj_name: stem.to_string(),
        ..LoadOptions::default()
    };
    let l = load(&elf, &opts).unwrap_or_else(|e| panic!("{stem}: {e}"));
    // libbpf loads every fixture's BTF into this kernel: so must we.
    assert!(
        l.btf_fd.is_some() && l.btf_error.is_none(),
        "{stem}: BTF refused: {:?}",
        l.btf_error
    );
    l
}

#[test]
fn every_fixture_agrees_with_libbpf() {
    if !bpf_allowed() {
        return;
    }
    let counted = loader::sys::Census::begin().unwrap();
    let mut agree = 0;
    let mut total = 0;
    let mut report = String::new();
    for stem in [
        "core_fail",
        "core_fields",
        "core_flavors",
        "core_subprog",
        "core_types",
        "fentry_fexit",
        "ksyms",
        "maps_globals",
        "regs",
        "sock_trace",
        "task_trace",
    ] {
        let want = oracle(stem);
        // Each program alone, as the oracle recorded objects that do not load whole.
        let whole = want.iter().all(|w| w.2);
        let results: Vec<(String, String, bool, String)> = if whole {
            load_stem(stem, &[])
                .programs
                .into_iter()
                .map(|p| {
                    let (ok, why) = match &p.outcome {
                        ProgOutcome::Loaded { .. } => (true, String::new()),
                        ProgOutcome::Failed(f) => (false, format!("{f:?}")),
                        ProgOutcome::Skipped => (false, "skipped".to_string()),
                    };
                    (p.name, p.section, ok, why)
                })
                .collect()
        } else {
            want.iter()
                .map(|w| {
                    let l = load_stem(stem, std::slice::from_ref(&w.0));
                    let p = l
                        .programs
                        .into_iter()
                        .find(|p| !matches!(p.outcome, ProgOutcome::Skipped))
                        .unwrap();
                    let (ok, why) = match &p.outcome {
                        ProgOutcome::Loaded { .. } => (true, String::new()),
                        ProgOutcome::Failed(f) => (false, format!("{f:?}")),
                        ProgOutcome::Skipped => (false, "skipped".to_string()),
                    };
                    (p.name, p.section, ok, why)
                })
                .collect()
        };
        assert_eq!(results.len(), want.len(), "{stem}");
        for (w, g) in want.iter().zip(&results) {
            total += 1;
            assert_eq!((&w.0, &w.1), (&g.0, &g.1), "{stem}");
            if w.2 == g.2 {
                agree += 1;
            } else {
                report.push_str(&format!(
                    "{stem}/{}: libbpf {} btfx {} {}\n",
                    w.0, w.2, g.2, g.3
                ));
            }
        }
    }
    eprintln!("{agree} of {total} programs agree with libbpf");
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
    assert!(report.is_empty(), "{report}");
}
