//! No file descriptor outlives a dropped `Loaded` (own test binary, so no
//! other test opens descriptors meanwhile).

use std::path::PathBuf;

use loader::{load, LoadOptions};

fn bpf_allowed() -> bool {
    match loader::sys::probe_bpf() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
            false
        }
    }
}

fn load_stem(stem: &str, progs: &[String]) -> loader::Loaded {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fixtures/bpf/{stem}.bpf.o"));
    let elf = std::fs::read(p).unwrap();
    let opts = LoadOptions {
        programs: progs.to_vec(),
        obj_name: stem.to_string(),
        ..LoadOptions::default()
    };
    load(&elf, &opts).unwrap()
}

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn no_fd_leak_after_drop() {
    if !bpf_allowed() {
        return;
    }
    let counted = loader::sys::Census::begin().unwrap();
    let before = fd_count();
    let l = load_stem("maps_globals", &[]);
    assert!(fd_count() > before);
    // 10 BTF maps, .rodata, .data, .data.stats, .bss, .kconfig.
    assert_eq!(l.maps.len(), 15);
    drop(l);
    assert_eq!(fd_count(), before);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
