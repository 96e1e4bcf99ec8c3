//! The object reader against the committed fixtures: program lists agree
//! with libbpf's (fixtures/oracle/load/*.txt), offsets and sizes with
//! `readelf -sW` of the same objects.

use std::path::PathBuf;

use bpf_object::{Object, SectionKind, R_BPF_64_32, R_BPF_64_64};

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn programs_match_libbpf_order_for_every_fixture() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/oracle/load");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let obj = Object::parse(&fixture(&format!("bpf/{stem}.bpf.o"))).unwrap();
        let want: Vec<(String, String)> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| {
                let mut f = l.split('\t');
                (f.next().unwrap().into(), f.next().unwrap().into())
            })
            .collect();
        let got: Vec<(String, String)> = obj
            .programs()
            .iter()
            // libbpf names `SEC("?x")` programs' section `x`.
            .map(|p| {
                let sec = p.section_name.strip_prefix('?').unwrap_or(&p.section_name);
                (p.name.clone(), sec.to_string())
            })
            .collect();
        assert_eq!(got, want, "{stem}");
        checked += 1;
    }
    assert!(checked >= 13, "only {checked} oracles");
}

#[test]
fn maps_globals_layout() {
    // Values from `readelf -sW fixtures/bpf/maps_globals.bpf.o`.
    let obj = Object::parse(&fixture("bpf/maps_globals.bpf.o")).unwrap();
    assert_eq!(obj.license(), Some("Dual BSD/GPL"));
    assert_eq!(obj.kern_version(), None);
    let p: Vec<_> = obj
        .programs()
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.section_index,
                p.insn_offset,
                p.insn_count(),
            )
        })
        .collect();
    assert_eq!(
        p,
        [
            ("tail_target", 4, 0, 5),
            ("fork_btf", 4, 5, 16),
            ("unlink_entry", 6, 0, 91),
            ("unlink_exit", 8, 0, 68),
        ]
    );
    let s: Vec<_> = obj
        .subprograms()
        .iter()
        .map(|p| (p.name.as_str(), p.insn_offset, p.insn_count(), p.global))
        .collect();
    assert_eq!(s, [("bump", 0, 13, false), ("record_name", 13, 14, false)]);
    assert_eq!(obj.section(12).unwrap().kind, SectionKind::Rodata);
    assert_eq!(obj.section(14).unwrap().kind, SectionKind::Data);
    assert_eq!(obj.section(16).unwrap().kind, SectionKind::Bss);
    assert_eq!(obj.section(16).unwrap().size, 12);
    assert_eq!(obj.section(10).unwrap().kind, SectionKind::BtfMaps);
    // .rel.maps has 0x30 bytes = 3 entries, .relkprobe/do_unlinkat 0x100 = 16.
    assert_eq!(obj.section(10).unwrap().relocations.len(), 3);
    let relos = &obj.section(6).unwrap().relocations;
    assert_eq!(relos.len(), 16);
    assert!(relos
        .iter()
        .all(|r| r.r_type == R_BPF_64_64 || r.r_type == R_BPF_64_32));
    assert_eq!(obj.btf().map(<[u8]>::len), Some(0x142a));
    assert_eq!(obj.btf_ext().map(<[u8]>::len), Some(0x63c));
    let undef: Vec<_> = obj
        .symbols()
        .iter()
        .filter(|s| s.is_undefined() && !s.name.is_empty())
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        undef,
        [
            "LINUX_KERNEL_VERSION",
            "CONFIG_BPF_SYSCALL",
            "CONFIG_BTFX_DOES_NOT_EXIST"
        ]
    );
}

#[test]
fn big_endian_object_decodes_to_the_same_instructions() {
    // (core_fields is left out: its bitfield reads legitimately compile to
    // different shifts for the two byte orders.)
    for stem in ["maps_globals"] {
        let el = Object::parse(&fixture(&format!("bpf/{stem}.bpf.o"))).unwrap();
        let eb = Object::parse(&fixture(&format!("bpf/{stem}.bpfeb.o"))).unwrap();
        assert_eq!(eb.endian(), btf::Endian::Big);
        assert_eq!(el.programs().len(), eb.programs().len());
        for (a, b) in el.programs().iter().zip(eb.programs()) {
            assert_eq!(a.name, b.name);
            assert!(a.insns == b.insns, "{stem}/{}: instructions differ", a.name);
        }
    }
}

#[test]
fn damaged_objects_give_errors_naming_the_place() {
    let good = fixture("bpf/maps_globals.bpf.o");
    // Truncated: the section table (at 0x5270) is cut off.
    let e = Object::parse(&good[..0x5000]).unwrap_err().to_string();
    assert!(e.contains("section table"), "{e}");
    // Truncated inside section contents: cut just past the section headers'
    // start is impossible, so shrink .symtab's data instead by cutting at
    // .BTF's end (0x2e74): the headers are gone too; check no panic for every cut.
    for cut in (0..good.len()).step_by(97) {
        let _ = Object::parse(&good[..cut]);
    }
    // A relocation whose symbol index is out of range: .relkprobe/do_unlinkat
    // (file offset 0x3c90), first entry's r_info high word = symbol.
    let mut bad = good.clone();
    bad[0x3c90 + 12..0x3c90 + 16].copy_from_slice(&0xffffu32.to_le_bytes());
    let e = Object::parse(&bad).unwrap_err().to_string();
    assert!(
        e.contains("kprobe/do_unlinkat") && e.contains("relocation #0") && e.contains("65535"),
        "{e}"
    );
    // A function symbol past its section's end: unlink_entry (#20) size 728 -> 7280.
    let mut bad = good.clone();
    let sym = 0x3820 + 20 * 24;
    bad[sym + 16..sym + 24].copy_from_slice(&7280u64.to_le_bytes());
    let e = Object::parse(&bad).unwrap_err().to_string();
    assert!(
        e.contains("unlink_entry") && e.contains("crosses the section's end"),
        "{e}"
    );
}

#[test]
fn relocation_types_are_named() {
    let obj = Object::parse(&fixture("bpf/maps_globals.bpf.o")).unwrap();
    let mut count = std::collections::BTreeMap::new();
    for r in obj.sections().iter().flat_map(|s| s.relocations.iter()) {
        *count.entry(r.kind().to_string()).or_insert(0) += 1;
    }
    // `llvm-readelf-19 -rW` of the object, relocation sections of the
    // programs, `.text` and `.maps` (the ones kept): 6 calls, 22 ld_imm64
    // of maps/data/functions, 3 `.maps` pointers (map-in-map, prog array).
    let want: std::collections::BTreeMap<String, i32> = [
        ("R_BPF_64_32".to_string(), 6),
        ("R_BPF_64_64".to_string(), 22),
        ("R_BPF_64_ABS64".to_string(), 3),
    ]
    .into();
    assert_eq!(count, want);
    assert_eq!(
        bpf_object::RelocType::from_raw(10),
        bpf_object::RelocType::Call32
    );
    assert_eq!(SectionKind::Rodata.to_string(), "rodata");
}
