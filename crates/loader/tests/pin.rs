//! `LoadOptions::pin` (`btfx load --pin DIR`): every loaded program and map
//! is pinned under DIR in bpffs, by name with '.' made '_' as libbpf's
//! pins (bpftool prog loadall ... pinmaps pins `maps_glo.rodata` as
//! `maps_glo_rodata`).

use std::path::PathBuf;

use loader::{load, LoadOptions, ProgOutcome};

fn bpffs() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&"bpf"))
        .and_then(|f| f.get(1).map(PathBuf::from))
}

#[test]
fn programs_and_maps_are_pinned_by_name() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let Some(root) = bpffs() else {
        eprintln!("skipping: no bpf filesystem mounted (mount -t bpf bpf /sys/fs/bpf)");
        return;
    };
    let dir = root.join(format!("btfx-pin-test-{}", std::process::id()));
    // Removed however the test ends: pins outlive the process.
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(dir.clone());
    let elf = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bpf/maps_globals.bpf.o"),
    )
    .unwrap();
    let opts = LoadOptions {
        obj_name: "maps_globals".into(),
        pin: Some(dir.clone()),
        ..LoadOptions::default()
    };
    let loaded = load(&elf, &opts).unwrap();
    let mut pinned = 0;
    for p in &loaded.programs {
        let there = dir.join(loader::load::pin_name(&p.name)).exists();
        assert_eq!(
            there,
            matches!(p.outcome, ProgOutcome::Loaded { .. }),
            "program {}",
            p.name
        );
        pinned += usize::from(there);
    }
    for m in &loaded.maps {
        assert!(
            dir.join(loader::load::pin_name(&m.name)).exists(),
            "map {}",
            m.name
        );
        pinned += 1;
    }
    assert!(pinned >= 3, "only {pinned} objects pinned");
    // The pins outlive the loader's descriptors.
    drop(loaded);
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 3);
    // Pinning again into the same place fails (names taken), as bpftool's does.
    assert!(load(&elf, &opts).is_err());
}
