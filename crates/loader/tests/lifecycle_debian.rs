//! Objects nobody on this project wrote: the BPF programs Debian ships in
//! xdp-tools, loaded one program at a time through open → configure
//! (autoload) → load, against libbpf 1.1's recorded outcome and errno
//! (fixtures/oracle/load-debian/xdp-tools.txt,
//! scripts/record-debian-load-oracle.sh). Objects not installed here are
//! skipped, saying so.

use std::path::{Path, PathBuf};

use loader::sys::Census;
use loader::{OpenObject, ProgOutcome};

#[test]
fn xdp_tools_objects_agree_with_libbpf() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let oracle = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/oracle/load-debian/xdp-tools.txt"),
    )
    .unwrap();
    let dir = Path::new("/usr/lib/x86_64-linux-gnu/bpf");
    let counted = Census::begin().unwrap();
    let (mut agree, mut total, mut skipped) = (0, 0, 0);
    let mut report = String::new();
    for line in oracle.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [obj, prog, section, status, errno] = f[..] else {
            panic!("bad oracle line {line:?}")
        };
        let Ok(elf) = std::fs::read(dir.join(obj)) else {
            skipped += 1;
            continue;
        };
        total += 1;
        let stem = obj.trim_end_matches(".o");
        let mut open = OpenObject::open(&elf, stem).unwrap_or_else(|e| panic!("{obj}: {e}"));
        open.only(&[prog.to_string()]).unwrap();
        let loaded = open.load().unwrap_or_else(|e| panic!("{obj}: {e}"));
        let p = loaded.program(prog).unwrap();
        assert_eq!(p.section, section);
        let (got, got_errno) = match &p.outcome {
            ProgOutcome::Loaded { .. } => ("loaded", 0),
            ProgOutcome::Failed(f) => ("rejected", -f.errno),
            ProgOutcome::Skipped => ("skipped", 0),
        };
        if (got, got_errno.to_string().as_str()) == (status, errno) {
            agree += 1;
        } else {
            report.push_str(&format!(
                "{obj}/{prog}: libbpf {status} {errno}, btfx {got} {got_errno}: {:?}\n",
                p.failure()
            ));
        }
    }
    if total == 0 {
        eprintln!(
            "skipping: xdp-tools' BPF objects are not installed in {}",
            dir.display()
        );
    }
    eprintln!("{agree} of {total} xdp-tools programs agree with libbpf ({skipped} not installed)");
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
    assert!(report.is_empty(), "{report}");
}
