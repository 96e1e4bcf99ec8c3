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

/// (name, section, loaded, libbpf's errno when the oracle records it).
fn oracle(stem: &str) -> Vec<(String, String, bool, Option<i32>)> {
    std::fs::read_to_string(root().join(format!("oracle/load/{stem}.txt")))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let errno = f.get(3).map(|e| -e.parse::<i32>().unwrap());
            (f[0].to_string(), f[1].to_string(), f[2] == "loaded", errno)
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
    // libbpf loads every fixture's BTF into this kernel: so must we (unless
    // the object failed before its BTF was loaded, as libbpf's does).
    assert!(
        l.object_failure.is_some() || (l.btf_fd.is_some() && l.btf_error.is_none()),
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
        "extern_missing",
        "hidden_subprog",
        "fentry_fexit",
        "ksyms",
        "maps_globals",
        "odd_section",
        "regs",
        "sock_trace",
        "task_trace",
    ] {
        let want = oracle(stem);
        // Each program alone, as the oracle recorded objects that do not load whole.
        let whole = want.iter().all(|w| w.2);
        let results: Vec<(String, String, bool, String, i32)> = if whole {
            load_stem(stem, &[])
                .programs
                .into_iter()
                .map(|p| {
                    let (ok, why, errno) = match &p.outcome {
                        ProgOutcome::Loaded { .. } => (true, String::new(), 0),
                        ProgOutcome::Failed(f) => (false, format!("{f:?}"), f.errno),
                        ProgOutcome::Skipped => (false, "skipped".to_string(), 0),
                    };
                    (p.name, p.section, ok, why, errno)
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
                    let (ok, why, errno) = match &p.outcome {
                        ProgOutcome::Loaded { .. } => (true, String::new(), 0),
                        ProgOutcome::Failed(f) => (false, format!("{f:?}"), f.errno),
                        ProgOutcome::Skipped => (false, "skipped".to_string(), 0),
                    };
                    (p.name, p.section, ok, why, errno)
                })
                .collect()
        };
        assert_eq!(results.len(), want.len(), "{stem}");
        for (w, g) in want.iter().zip(&results) {
            total += 1;
            assert_eq!((&w.0, &w.1), (&g.0, &g.1), "{stem}");
            let errno_agrees = w.3.is_none_or(|e| e == g.4);
            if w.2 == g.2 && errno_agrees {
                agree += 1;
            } else {
                report.push_str(&format!(
                    "{stem}/{}: libbpf {} (errno {:?}) btfx {} (errno {}) {}\n",
                    w.0, w.2, w.3, g.2, g.4, g.3
                ));
            }
        }
    }
    eprintln!("{agree} of {total} programs agree with libbpf");
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
    assert!(report.is_empty(), "{report}");
}
