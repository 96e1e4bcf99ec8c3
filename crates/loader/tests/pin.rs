//! `LoadOptions::pin` (`btfx load --pin DIR`): every loaded program and map
//! is pinned under DIR in bpffs, by name with '.' made '_' as libbpf's
//! pins (bpftool prog loadall ... pinmaps pins `maps_glo.rodata` as
//! `maps_glo_rodata`).

use std::path::PathBuf;

use loader::{load, LoadOptions, ProgOutcome};

/// A bpffs directory removed however the test ends (pins outlive the
/// process).
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
    let counted = loader::sys::Census::begin().unwrap();
    let dir = root.join(format!("btfx-pin-test-{}", std::process::id()));
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
        let there = dir.join(loader::pin_name(&p.name)).exists();
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
            dir.join(loader::pin_name(&m.name)).exists(),
            "map {}",
            m.name
        );
        pinned += 1;
    }
    assert!(pinned >= 3, "only {pinned} objects pinned");
    // The pins outlive the loader's descriptors.
    drop(loaded);
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 3);
    // Pinning again into the same place fails (names taken), as bpftool's
    // does, and leaves the earlier pins alone.
    let before: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let again = load(&elf, &opts).unwrap();
    assert!(again.pin_error.is_some() && !again.all_loaded());
    assert!(again.pinned.is_empty());
    drop(again);
    for p in &before {
        assert!(p.exists(), "{} was removed", p.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// `pinning = LIBBPF_PIN_BY_NAME`, against libbpf's recorded behaviour
/// (fixtures/oracle/pin/pin_by_name.txt, scripts/record-pin-oracle.sh): the
/// first load creates and pins the map, the second reuses it (same id) while
/// the unpinned map is created again, and a different map pinned at that
/// path makes the load fail with libbpf's "parameter mismatch".
#[test]
fn maps_pinned_by_name_are_reused_as_libbpf_does() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let Some(root) = bpffs() else {
        eprintln!("skipping: no bpf filesystem mounted (mount -t bpf bpf /sys/fs/bpf)");
        return;
    };
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let oracle = std::fs::read_to_string(fixtures.join("oracle/pin/pin_by_name.txt")).unwrap();
    let sections: Vec<&str> = oracle.split("\n## ").collect();
    assert!(sections[1].contains("found no pinned map to reuse"));
    assert!(sections[1].contains("pinned map '/sys/fs/bpf/btfx_pinned'"));
    assert!(sections[2].contains("reused pinned map at") && sections[2].contains("id unchanged"));
    assert!(sections[2].contains("map 'btfx_unpinned': created successfully"));
    assert!(sections[3].contains("result: failed") && sections[3].contains("parameter mismatch"));

    let counted = loader::sys::Census::begin().unwrap();
    let dir = root.join(format!("btfx-pin-root-{}", std::process::id()));
    let _cleanup = Cleanup(dir.clone());
    std::fs::create_dir_all(&dir).unwrap();
    let elf = std::fs::read(fixtures.join("bpf/pin_by_name.bpf.o")).unwrap();
    let opts = LoadOptions {
        obj_name: "pin_by_name".into(),
        pin_root: Some(dir.clone()),
        ..LoadOptions::default()
    };
    let map = |l: &loader::Loaded, n: &str| {
        let m = l.maps.iter().find(|m| m.name == n).unwrap();
        (m.id().unwrap(), m.pinned.clone(), m.reused())
    };
    let first = load(&elf, &opts).unwrap();
    let (pid1, pinned, reused) = map(&first, "btfx_pinned");
    assert_eq!(pinned, Some(dir.join("btfx_pinned")));
    assert!(!reused && dir.join("btfx_pinned").exists());
    let (uid1, upinned, _) = map(&first, "btfx_unpinned");
    assert_eq!(upinned, None);
    drop(first);

    let second = load(&elf, &opts).unwrap();
    let (pid2, _, reused) = map(&second, "btfx_pinned");
    let (uid2, _, _) = map(&second, "btfx_unpinned");
    assert!(reused);
    assert_eq!(pid2, pid1, "the pinned map was not reused");
    assert_ne!(uid2, uid1, "the unpinned map was reused");
    assert!(matches!(
        second.programs[0].outcome,
        ProgOutcome::Loaded { .. }
    ));
    drop(second);

    // Replace the pin with a hash map of 32 entries instead of 16.
    std::fs::remove_file(dir.join("btfx_pinned")).unwrap();
    let other = loader::sys::map_create(&loader::sys::MapCreate {
        map_type: loader::MapType::Hash,
        key_size: 4,
        value_size: 8,
        max_entries: 32,
        name: "btfx_pinned",
        ..Default::default()
    })
    .unwrap();
    loader::sys::obj_pin(&other, &dir.join("btfx_pinned")).unwrap();
    let failed = load(&elf, &opts).unwrap();
    let want = format!(
        "couldn't reuse pinned map at '{}': parameter mismatch",
        dir.join("btfx_pinned").display()
    );
    let m = failed.map("btfx_pinned").unwrap();
    let loader::MapOutcome::Failed(f) = &m.outcome else {
        panic!("{m:?}")
    };
    assert!(f.reason.contains(&want), "{f:?}");
    // libbpf fails the whole object: every program is reported, with the
    // map stage, and none is loaded.
    assert!(!failed.programs.is_empty());
    for p in &failed.programs {
        let f = p.failure().unwrap_or_else(|| panic!("{p:?}"));
        assert_eq!(f.stage, loader::Stage::Map);
        assert!(f.reason.contains("btfx_pinned"), "{f:?}");
    }
    drop(failed);
    drop(other);
    // The pin that was there before is left alone.
    assert!(dir.join("btfx_pinned").exists());
    std::fs::remove_dir_all(&dir).unwrap();
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// A load that fails after pinning a map by name removes that pin again
/// (libbpf unpins what a failed load pinned), and leaves the root as it was.
#[test]
fn a_failed_load_removes_the_by_name_pins_it_made() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let Some(root) = bpffs() else {
        eprintln!("skipping: no bpf filesystem mounted (mount -t bpf bpf /sys/fs/bpf)");
        return;
    };
    let counted = loader::sys::Census::begin().unwrap();
    let dir = root.join(format!("btfx-pin-fail-{}", std::process::id()));
    let _cleanup = Cleanup(dir.clone());
    std::fs::create_dir_all(&dir).unwrap();
    let elf = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bpf/pin_by_name.bpf.o"),
    )
    .unwrap();
    let mut obj = loader::OpenObject::open(&elf, "pin_by_name").unwrap();
    obj.set_pin_root(&dir);
    // The kernel refuses a hash map of 0 entries, after btfx_pinned was
    // created and pinned.
    obj.set_max_entries("btfx_unpinned", 0).unwrap();
    let loaded = obj.load().unwrap();
    assert!(!loaded.all_loaded());
    let pinned = loaded.map("btfx_pinned").unwrap();
    assert!(pinned.fd().is_some(), "{pinned:?}");
    assert_eq!(pinned.pinned, None, "reported unpinned");
    assert!(loaded.pinned.is_empty());
    assert!(!dir.join("btfx_pinned").exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    drop(loaded);
    std::fs::remove_dir(&dir).unwrap();
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
