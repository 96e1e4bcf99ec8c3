//! open → configure → load on the fixture objects: what open lists without
//! the kernel, each configuration call checked (values against their BTF
//! types, map sizes, autoload, map reuse, verifier log, a shared target),
//! and what the kernel holds afterwards read back through `sys`.

use std::path::PathBuf;

use loader::open::{ExternKind, VarShape};
use loader::sys::{self, Census};
use loader::{MapOutcome, MapType, OpenObject, ProgOutcome, ProgramType};

fn fixture(stem: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fixtures/bpf/{stem}.bpf.o")),
    )
    .unwrap()
}

fn bpf_allowed() -> bool {
    match sys::probe_bpf() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
            false
        }
    }
}

#[test]
fn open_lists_programs_maps_globals_externs_without_the_kernel() {
    let obj = OpenObject::open(&fixture("maps_globals"), "maps_globals").unwrap();
    let progs: Vec<(String, Option<ProgramType>)> = obj
        .programs()
        .into_iter()
        .map(|p| (p.name, p.prog_type))
        .collect();
    assert_eq!(
        progs,
        [
            ("tail_target".to_string(), Some(ProgramType::Tracing)),
            ("fork_btf".to_string(), Some(ProgramType::Tracing)),
            ("unlink_entry".to_string(), Some(ProgramType::Kprobe)),
            ("unlink_exit".to_string(), Some(ProgramType::Kprobe)),
        ]
    );
    let maps = obj.maps();
    // 10 BTF maps and 4 data sections (.kconfig comes at load).
    assert_eq!(maps.len(), 14);
    let lru = maps.iter().find(|m| m.name == "lru").unwrap();
    assert_eq!((lru.map_type, lru.max_entries), (MapType::LruHash, 256));
    assert!(maps
        .iter()
        .any(|m| m.name == "maps_glo.rodata" && m.internal));

    let g = obj.global("cfg_target_tgid").unwrap();
    assert_eq!(
        (g.section.as_str(), g.map.as_str(), g.size),
        (".rodata", "maps_glo.rodata", 4)
    );
    assert_eq!(
        g.shape,
        VarShape::Int {
            size: 4,
            signed: false
        }
    );
    assert_eq!(obj.global("cfg_verbose").unwrap().shape, VarShape::Bool);
    assert_eq!(
        obj.global("greeting").unwrap().shape,
        VarShape::CharArray { len: 5 }
    );
    let hits = obj.global("stats_hits").unwrap();
    assert_eq!((hits.section.as_str(), hits.size), (".data.stats", 8));

    let ext: Vec<(&str, ExternKind, bool)> = obj
        .externs()
        .iter()
        .map(|e| (e.name.as_str(), e.kind, e.weak))
        .collect();
    assert!(ext.contains(&("LINUX_KERNEL_VERSION", ExternKind::Kconfig, false)));
    assert!(ext.contains(&("CONFIG_BTFX_DOES_NOT_EXIST", ExternKind::Kconfig, true)));
}

#[test]
fn setters_check_values_against_btf_types() {
    let mut obj = OpenObject::open(&fixture("maps_globals"), "maps_globals").unwrap();
    obj.set_global_int("cfg_target_tgid", 1234).unwrap();
    assert!(obj.set_global_int("cfg_target_tgid", -1).is_err());
    assert!(obj.set_global_int("cfg_target_tgid", 1 << 32).is_err());
    obj.set_global_int("cfg_target_tgid", u32::MAX.into())
        .unwrap();
    assert!(obj.set_global("cfg_target_tgid", &[0; 3]).is_err());
    obj.set_global("cfg_target_tgid", &7u32.to_ne_bytes())
        .unwrap();
    assert!(obj.set_global_int("cfg_verbose", 2).is_err());
    obj.set_global_int("cfg_verbose", 1).unwrap();
    assert!(
        obj.set_global_str("greeting", "hello").is_err(),
        "no room for the NUL"
    );
    obj.set_global_str("greeting", "hey").unwrap();
    assert!(obj.set_global_str("cfg_target_tgid", "x").is_err());
    assert!(obj.set_global_int("no_such_var", 0).is_err());
    assert!(obj.set_max_entries("no_such_map", 1).is_err());
    assert!(obj.set_autoload("no_such_prog", false).is_err());

    let g = obj.global("cfg_target_tgid").unwrap().clone();
    let image = obj.initial_value("maps_glo.rodata").unwrap();
    let at = g.offset as usize;
    assert_eq!(&image[at..at + 4], &7u32.to_ne_bytes());
    let s = obj.global("greeting").unwrap().offset as usize;
    assert_eq!(&image[s..s + 5], b"hey\0\0");
}

#[test]
fn configured_load_reaches_the_kernel() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let mut obj = OpenObject::open(&fixture("maps_globals"), "maps_globals").unwrap();
    obj.set_global_int("cfg_target_tgid", 4242).unwrap();
    obj.set_global_int("stats_hits", 99).unwrap();
    obj.set_max_entries("lru", 512).unwrap();
    // BPF_F_NO_PREALLOC (1) on a hash map.
    obj.set_map_flags("pc_hash", 1).unwrap();
    // A whole image of the wrong size is refused; the right size is taken.
    let data_map = obj.global("stats_hits").unwrap().map.clone();
    assert!(obj.set_initial_value(&data_map, &[0; 3]).is_err());
    assert!(obj.set_initial_value("lru", &[0; 8]).is_err());
    obj.set_autoload("unlink_exit", false).unwrap();
    obj.set_program_log("fork_btf", 1, 0).unwrap();
    let mine = sys::map_create(&sys::MapCreate {
        map_type: MapType::Array,
        key_size: 4,
        value_size: 8,
        max_entries: 16,
        name: "btfx_reused",
        ..Default::default()
    })
    .unwrap();
    let mine_id = sys::map_info(&mine).unwrap().id;
    obj.reuse_map_fd("counters", mine.try_clone().unwrap())
        .unwrap();
    let g = obj.global("cfg_target_tgid").unwrap().clone();
    let hits = obj.global("stats_hits").unwrap().clone();

    let loaded = obj.load().unwrap();
    assert!(loaded.all_loaded(), "{loaded:#?}");
    assert!(loaded.object_failure.is_none());
    // Every program is reported, the one with autoload off as skipped.
    assert_eq!(loaded.programs.len(), 4);
    assert!(matches!(
        loaded.program("unlink_exit").unwrap().outcome,
        ProgOutcome::Skipped
    ));
    for p in loaded.programs.iter().filter(|p| p.is_loaded()) {
        let fd = p.fd().unwrap();
        assert_eq!(sys::prog_info(fd).unwrap().0, p.id().unwrap());
        assert!(p.insn_cnt() > 0, "{}: final instructions kept", p.name);
    }
    // The verifier log on request, on success too.
    let log = loaded.program("fork_btf").unwrap().log.clone().unwrap();
    assert!(log.contains("processed"), "{log}");
    assert!(loaded.program("unlink_entry").unwrap().log.is_none());

    let lru = loaded.map("lru").unwrap();
    assert_eq!(lru.max_entries, 512);
    assert_eq!(sys::map_info(lru.fd().unwrap()).unwrap().max_entries, 512);
    assert_eq!(
        sys::map_info(loaded.map("pc_hash").unwrap().fd().unwrap())
            .unwrap()
            .map_flags,
        1
    );
    let counters = loaded.map("counters").unwrap();
    assert!(matches!(counters.outcome, MapOutcome::Reused { .. }));
    assert_eq!(counters.id(), Some(mine_id));

    // The configured initial values are what the kernel's maps hold.
    let rodata = loaded.map("maps_glo.rodata").unwrap().fd().unwrap();
    let v = sys::map_lookup(rodata, &0u32.to_ne_bytes())
        .unwrap()
        .unwrap();
    let at = g.offset as usize;
    assert_eq!(&v[at..at + 4], &4242u32.to_ne_bytes());
    // libbpf names a custom data section's map after the section itself
    // (fixtures/oracle/load/corpus/globals.maps records it so).
    assert_eq!(hits.map, ".data.stats");
    let stats = loaded.map(&hits.map).unwrap().fd().unwrap();
    let v = sys::map_lookup(stats, &0u32.to_ne_bytes())
        .unwrap()
        .unwrap();
    let at = hits.offset as usize;
    assert_eq!(&v[at..at + 8], &99u64.to_ne_bytes());

    drop(loaded);
    drop(mine);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn a_failed_map_fails_every_program_and_hides_none() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let mut obj = OpenObject::open(&fixture("maps_globals"), "maps_globals").unwrap();
    // A hash map of 0 entries: the kernel refuses it (EINVAL).
    obj.set_max_entries("unlinks", 0).unwrap();
    let loaded = obj.load().unwrap();
    let f = loaded.object_failure.clone().unwrap();
    assert_eq!((f.stage, f.errno), (loader::Stage::Map, libc_einval()));
    assert!(f.reason.contains("unlinks"), "{f:?}");
    assert_eq!(loaded.programs.len(), 4);
    for p in &loaded.programs {
        assert_eq!(p.failure().unwrap().stage, loader::Stage::Map, "{}", p.name);
    }
    // Every map is reported; only the refused one failed.
    assert_eq!(loaded.maps.len(), 15);
    let failed: Vec<&str> = loaded
        .maps
        .iter()
        .filter(|m| matches!(m.outcome, MapOutcome::Failed(_)))
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(failed, ["unlinks"]);
    drop(loaded);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

fn libc_einval() -> i32 {
    22
}

#[test]
fn one_parsed_target_serves_several_loads() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let bytes = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kernels/x86_64-6.18.btf"),
    )
    .unwrap();
    let target = loader::open::parse_target(bytes).unwrap();
    for stem in ["core_fields", "core_types", "core_flavors"] {
        let mut obj = OpenObject::open(&fixture(stem), stem).unwrap();
        obj.set_target_btf(target.clone());
        let loaded = obj.load().unwrap();
        assert!(loaded.all_loaded(), "{stem}: {loaded:#?}");
        let report = loaded.core.as_ref().unwrap();
        assert!(
            !report.records.is_empty() && report.failure.is_none(),
            "{stem}"
        );
    }
    assert_eq!(std::sync::Arc::strong_count(&target), 1);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn a_program_type_set_between_open_and_load_and_values_read_back_by_running_it() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let elf = fixture("odd_section");
    // As opened: the unknown section fails alone, at the open stage, EINVAL
    // (libbpf: "missing BPF prog type", -22), and hides nothing else.
    let obj = OpenObject::open(&elf, "odd_section").unwrap();
    let progs = obj.programs();
    assert_eq!(progs[1].prog_type, None);
    // SEC("?socket"): section "socket" as libbpf names it, autoload off.
    assert_eq!(
        (
            progs[2].name.as_str(),
            progs[2].section.as_str(),
            progs[2].autoload
        ),
        ("off_by_default", "socket", false)
    );
    let loaded = obj.load().unwrap();
    assert!(matches!(
        loaded.program("off_by_default").unwrap().outcome,
        ProgOutcome::Skipped
    ));
    let f = loaded.program("custom_section").unwrap().failure().unwrap();
    assert_eq!((f.stage, f.errno), (loader::Stage::Open, 22));
    assert!(loaded.program("known_socket").unwrap().is_loaded());
    drop(loaded);

    let mut obj = OpenObject::open(&elf, "odd_section").unwrap();
    obj.set_program_type("custom_section", ProgramType::SocketFilter, None)
        .unwrap();
    obj.set_global_int("cfg_snaplen", 1000).unwrap();
    obj.set_global_str("cfg_tag", "B").unwrap();
    // A log buffer too small: the kernel fails the load with ENOSPC.
    obj.set_program_log("known_socket", 1, 64).unwrap();
    let loaded = obj.load().unwrap();
    let known = loaded.program("known_socket").unwrap();
    let f = known.failure().unwrap();
    assert_eq!((f.stage, f.errno), (loader::Stage::Verifier, 28), "{f:?}");
    assert!(!known.log.as_deref().unwrap_or_default().is_empty());
    drop(loaded);

    let mut obj = OpenObject::open(&elf, "odd_section").unwrap();
    obj.set_program_type("custom_section", ProgramType::SocketFilter, None)
        .unwrap();
    obj.set_global_int("cfg_snaplen", 1000).unwrap();
    obj.set_global_str("cfg_tag", "B").unwrap();
    let loaded = obj.load().unwrap();
    assert!(loaded.all_loaded(), "{loaded:#?}");
    let custom = loaded.program("custom_section").unwrap();
    assert_eq!(custom.prog_type, Some(ProgramType::SocketFilter));
    // known_socket returns cfg_snaplen + cfg_tag[0] and counts in `hits`.
    let known = loaded.program("known_socket").unwrap().fd().unwrap();
    let run = sys::prog_test_run(known, &[0u8; 64], 0).unwrap();
    assert_eq!(run.retval, 1000 + u32::from(b'B'));
    let hits = loaded.map("hits").unwrap().fd().unwrap();
    let v = sys::map_lookup(hits, &0u32.to_ne_bytes()).unwrap().unwrap();
    assert_eq!(v, 1u64.to_ne_bytes());
    drop(loaded);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn a_strong_extern_missing_fails_every_program_at_the_extern_stage() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let obj = OpenObject::open(&fixture("extern_missing"), "extern_missing").unwrap();
    let loaded = obj.load().unwrap();
    assert_eq!(loaded.programs.len(), 2);
    for p in &loaded.programs {
        let f = p.failure().unwrap();
        // libbpf: "extern 'CONFIG_BTFX_NEVER_SET' (strong): not resolved", -ESRCH.
        assert_eq!((f.stage, f.errno), (loader::Stage::Extern, 3), "{}", p.name);
        assert!(f.reason.contains("CONFIG_BTFX_NEVER_SET"), "{f:?}");
    }
    // Maps are reported too, not created.
    assert!(!loaded.maps.is_empty());
    assert!(loaded.maps.iter().all(|m| m.fd().is_none()));
    drop(loaded);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// Each program of maps_globals alone, as libbpf 1.1 loads it with every
/// other program's autoload off (fixtures/oracle/load-alone/, recorded by
/// scripts/record-load-alone-oracles.sh): the PROG_ARRAY slot naming
/// `tail_target` fails every program but `tail_target` itself with EBADF.
#[test]
fn each_program_alone_agrees_with_libbpf() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let oracle = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/oracle/load-alone/maps_globals.txt"),
    )
    .unwrap();
    let elf = fixture("maps_globals");
    let mut n = 0;
    for line in oracle.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let mut obj = OpenObject::open(&elf, "maps_globals").unwrap();
        obj.only(&[f[0].to_string()]).unwrap();
        let loaded = obj.load().unwrap();
        let p = loaded.program(f[0]).unwrap();
        let got = match &p.outcome {
            ProgOutcome::Loaded { .. } => "0".to_string(),
            ProgOutcome::Failed(x) => format!("-{}", x.errno),
            ProgOutcome::Skipped => "skipped".to_string(),
        };
        assert_eq!(
            (p.is_loaded(), got.as_str()),
            (f[2] == "loaded", f[3]),
            "{line}: {p:?}"
        );
        if let Some(x) = p.failure() {
            assert_eq!(x.stage, loader::Stage::Map);
            assert!(x.reason.contains("tail_target"), "{x:?}");
        }
        n += 1;
    }
    assert_eq!(n, 4);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
