//! Damaged `.BTF.ext` and relocation records give errors naming the
//! relocation, never a panic.

use btf::{write::Builder, Btf, Endian, IntEncoding, TypeId};
use core_reloc::{relocate, BtfExt, Error, Insn, Outcome, Program, Target};

struct Fixture {
    btf: Vec<u8>,
    sec: u32,
    good: u32,
    strs: Vec<(String, u32)>,
}

fn fixture(extra: &[&str]) -> Fixture {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    b.struct_(
        "task_struct",
        8,
        &[("flags", int, 0, 0), ("pid", int, 32, 0)],
    );
    let sec = b.string("kprobe/x");
    let good = b.string("0:1");
    let strs = extra.iter().map(|s| (s.to_string(), b.string(s))).collect();
    Fixture {
        btf: b.encode(Endian::Little),
        sec,
        good,
        strs,
    }
}

/// A .BTF.ext with one core_relo group of the given records
/// (insn_off, type_id, access_str_off, kind), record size `rec`.
fn ext(sec: u32, recs: &[[u32; 4]], rec: u32) -> Vec<u8> {
    let mut body: Vec<u32> = vec![rec, sec, recs.len() as u32];
    for r in recs {
        body.extend(r);
        body.extend(vec![0xdead_beef; (rec as usize).saturating_sub(16) / 4]);
    }
    let mut v = vec![0x9f, 0xeb, 1, 0];
    for w in [32u32, 0, 0, 0, 0, 0, body.len() as u32 * 4] {
        v.extend(w.to_le_bytes());
    }
    for w in body {
        v.extend(w.to_le_bytes());
    }
    v
}

fn prog(n: usize) -> Vec<Program> {
    vec![Program {
        name: "p".into(),
        section: "kprobe/x".into(),
        insn_off: 0,
        insns: vec![
            Insn {
                code: 0x07,
                dst: 1,
                imm: 4,
                ..Insn::default()
            };
            n
        ],
    }]
}

fn run(f: &Fixture, recs: &[[u32; 4]]) -> core_reloc::Report {
    let local = Btf::parse(&f.btf[..]).unwrap();
    let ext = BtfExt::parse(&ext(f.sec, recs, 16), &local).unwrap();
    let mut progs = prog(2);
    relocate(&local, &ext, &mut progs, Target::new(&local))
}

#[test]
fn good_record_relocates_against_itself() {
    let f = fixture(&[]);
    let r = run(&f, &[[8, 1 + 1, f.good, 0]]);
    assert!(!r.failed(), "{:?}", r.failure);
    assert_eq!(
        r.log.last().unwrap(),
        "prog 'p': relo #0: patched insn #1 (ALU/ALU64) imm 4 -> 4"
    );
}

#[test]
fn larger_records_are_accepted() {
    let f = fixture(&[]);
    let local = Btf::parse(&f.btf[..]).unwrap();
    let e = BtfExt::parse(
        &ext(f.sec, &[[0, 2, f.good, 0], [8, 2, f.good, 0]], 24),
        &local,
    )
    .unwrap();
    assert_eq!(e.core_relos[0].records.len(), 2);
    assert_eq!(e.core_relos[0].records[1].insn_off, 8);
}

#[test]
fn damaged_ext_headers_are_errors() {
    let f = fixture(&[]);
    let local = Btf::parse(&f.btf[..]).unwrap();
    let good = ext(f.sec, &[[0, 2, f.good, 0]], 16);
    // Every truncation is an error, never a panic.
    for n in 0..good.len() {
        assert!(
            BtfExt::parse(&good[..n], &local).is_err(),
            "prefix {n} accepted"
        );
    }
    let mut bad_magic = good.clone();
    bad_magic[0] = 0;
    assert!(matches!(
        BtfExt::parse(&bad_magic, &local),
        Err(Error::BadExt { offset: 0, .. })
    ));
    let mut bad_version = good.clone();
    bad_version[2] = 2;
    assert!(matches!(
        BtfExt::parse(&bad_version, &local),
        Err(Error::BadExt { offset: 2, .. })
    ));
    // Record size below 16 or unaligned.
    assert!(BtfExt::parse(&ext(f.sec, &[[0, 2, f.good, 0]], 12), &local).is_err());
    // Section name offset out of range.
    assert!(BtfExt::parse(&ext(1 << 20, &[[0, 2, f.good, 0]], 16), &local).is_err());
    // No records in a section.
    assert!(BtfExt::parse(&ext(f.sec, &[], 16), &local).is_err());
    // Byte order different from the .BTF's.
    let be = Btf::parse(fixture(&[]).btf.clone()).unwrap();
    let be_bytes = btf::write::convert_endian(be.raw_bytes(), Endian::Big).unwrap();
    let be = Btf::parse(&be_bytes[..]).unwrap();
    assert!(BtfExt::parse(&good, &be).is_err());
}

fn failure(r: &core_reloc::Report) -> (usize, String) {
    match r.failure.as_ref().expect("must fail") {
        Error::Failed { relo, what, .. } => (*relo, what.clone()),
        Error::BadRelo { relo, what, .. } => (*relo, what.clone()),
        e => panic!("unexpected error {e}"),
    }
}

#[test]
fn bad_access_strings_fail_naming_the_relocation() {
    let f = fixture(&["", ":1", "0:x", "0:9", "0:1:2", "-1", "0::1"]);
    for (s, off) in &f.strs {
        let r = run(&f, &[[0, 2, f.good, 0], [8, 2, *off, 0]]);
        let (relo, what) = failure(&r);
        assert_eq!(relo, 1, "access '{s}': {what}");
        assert!(
            r.log
                .iter()
                .any(|l| l.starts_with("prog 'p': relo #1: parsing [2] struct task_struct + ")),
            "access '{s}': {:?}",
            r.log
        );
        assert!(matches!(
            r.records[1].outcome,
            Outcome::Failed { errno: -22, .. }
        ));
    }
}

#[test]
fn out_of_range_type_ids_fail() {
    let f = fixture(&[]);
    for id in [0u32, 99, u32::MAX] {
        let r = run(&f, &[[0, id, f.good, 0]]);
        let (relo, _) = failure(&r);
        assert_eq!(relo, 0, "type id {id}");
    }
    // Unknown kind.
    let r = run(&f, &[[0, 2, f.good, 77]]);
    assert_eq!(failure(&r).0, 0);
    let _ = TypeId(0);
}

#[test]
fn offsets_past_the_instructions_or_unaligned() {
    let f = fixture(&[]);
    // Unaligned: libbpf's -EINVAL.
    let r = run(&f, &[[4, 2, f.good, 0]]);
    assert!(matches!(r.failure, Some(Error::BadRelo { relo: 0, .. })));
    // Past the program: no program holds it, skipped like libbpf.
    let r = run(&f, &[[800, 2, f.good, 0]]);
    assert!(!r.failed());
    assert_eq!(r.records[0].outcome, Outcome::Skipped);
    // ld_imm64 relocation on the last instruction (no second half).
    let local = Btf::parse(&f.btf[..]).unwrap();
    let e = BtfExt::parse(&ext(f.sec, &[[0, 2, f.good, 6]], 16), &local).unwrap();
    let mut progs = prog(1);
    progs[0].insns[0] = Insn {
        code: 0x18,
        ..Insn::default()
    };
    let r = relocate(&local, &e, &mut progs, Target::new(&local));
    assert!(r.failed());
}

#[test]
fn fuzz_entry_point_survives_garbage() {
    let f = fixture(&[]);
    let good = ext(f.sec, &[[0, 2, f.good, 0], [8, 2, f.good, 11]], 16);
    for i in 0..good.len() {
        for v in [0u8, 0xff, 0x7f, 1] {
            let mut g = good.clone();
            g[i] = v;
            core_reloc::fuzz_relocate(&f.btf, &g);
        }
    }
}
