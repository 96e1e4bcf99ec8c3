//! BTFGen (`btfx gen min-core`) against bpftool 7.1's `gen min_core_btf`
//! outputs recorded by scripts/record-mincore.sh (fixtures/oracle/mincore/):
//! byte identity per case, the CO-RE decisions against the minimal BTF equal
//! to those against the full kernel BTF, split (module) targets, and the
//! kernel accepting the output (BPF_BTF_LOAD).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use btf::Btf;
use btfx_tests::fixtures;
use core_reloc::mincore::MinCore;
use core_reloc::{BtfExt, Relocator, Target};

const KERNELS: [&str; 4] = ["x86_64-6.18", "x86_64-6.1", "x86_64-6.12", "arm64-6.12"];

/// One object's bytes.
struct ObjFile {
    path: PathBuf,
    data: Vec<u8>,
}

fn read_obj(rel: &str) -> ObjFile {
    let path = fixtures().join("..").join(rel);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ObjFile { path, data }
}

fn parse_obj(o: &ObjFile) -> (Btf<'_>, BtfExt) {
    let btf = Btf::from_elf(&o.data).unwrap_or_else(|e| panic!("{}: {e}", o.path.display()));
    let ext = btf::elf_section(&o.data, ".BTF.ext")
        .unwrap()
        .unwrap_or_else(|| panic!("{}: no .BTF.ext", o.path.display()));
    let ext = BtfExt::parse(&ext, &btf).unwrap();
    (btf, ext)
}

fn kernel(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(format!("kernels/{name}.btf"))).unwrap()
}

/// A case of cases.tsv: name, kernel, bpftool's exit status, objects.
struct Case {
    name: String,
    kernel: String,
    rc: i32,
    objects: Vec<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("oracle/mincore/cases.tsv")).unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Case {
                name: f[0].into(),
                kernel: f[1].into(),
                rc: f[2].parse().unwrap(),
                objects: f[3].split(' ').map(String::from).collect(),
            }
        })
        .collect()
}

fn minimize(target: Target<'_>, objs: &[(&Btf<'_>, &BtfExt)]) -> Vec<u8> {
    let mut m = MinCore::new(target);
    for (i, (b, e)) in objs.iter().enumerate() {
        m.record(&format!("object #{i}"), b, e).unwrap();
    }
    m.build().unwrap()
}

fn raw_dump(bytes: &[u8]) -> String {
    let b = Btf::parse(bytes).unwrap();
    let mut out = Vec::new();
    btf::dump::raw::dump_raw(&b, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn bytes_equal_bpftool_for_every_case() {
    let cases = cases();
    let mut kernels: HashMap<String, Vec<u8>> = HashMap::new();
    let mut objects: HashMap<String, ObjFile> = HashMap::new();
    for c in &cases {
        kernels
            .entry(c.kernel.clone())
            .or_insert_with(|| kernel(&c.kernel));
        for o in &c.objects {
            objects.entry(o.clone()).or_insert_with(|| read_obj(o));
        }
    }
    let parsed_k: HashMap<&str, Btf<'_>> = kernels
        .iter()
        .map(|(k, d)| (k.as_str(), Btf::parse(&d[..]).unwrap()))
        .collect();
    let parsed_o: HashMap<&str, (Btf<'_>, BtfExt)> = objects
        .iter()
        .map(|(k, o)| (k.as_str(), parse_obj(o)))
        .collect();
    let (mut same, mut total, mut btfx_only) = (0, 0, 0);
    let mut bad = Vec::new();
    for c in &cases {
        let k = &parsed_k[c.kernel.as_str()];
        let objs: Vec<(&Btf<'_>, &BtfExt)> = c
            .objects
            .iter()
            .map(|o| {
                let (b, e) = &parsed_o[o.as_str()];
                (b, e)
            })
            .collect();
        let ours = minimize(Target::new(k), &objs);
        if c.rc != 0 {
            // bpftool 7.1 cannot read big-endian objects (its libbpf
            // refuses a .BTF.ext of the other byte order); btfx can, and
            // keeps what the little-endian build of the same source keeps.
            let le = c.name.trim_end_matches(".bpfeb");
            let oracle = fixtures().join(format!("oracle/mincore/{le}.{}.btf", c.kernel));
            assert_eq!(
                ours,
                std::fs::read(oracle).unwrap(),
                "{} {}",
                c.name,
                c.kernel
            );
            btfx_only += 1;
            continue;
        }
        total += 1;
        let path = fixtures().join(format!("oracle/mincore/{}.{}.btf", c.name, c.kernel));
        let oracle = std::fs::read(&path).unwrap();
        if ours == oracle {
            same += 1;
        } else {
            let why =
                btfx_tests::first_diff(raw_dump(&ours).as_bytes(), raw_dump(&oracle).as_bytes())
                    .unwrap_or_else(|| "raw dumps equal, bytes differ".into());
            bad.push(format!("{} on {}: {why}", c.name, c.kernel));
        }
    }
    eprintln!(
        "min-core: {same}/{total} byte-identical to bpftool 7.1; \
         {btfx_only} big-endian cases bpftool cannot read equal the little-endian ones"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(same, total);
    assert!(total >= 300, "only {total} cases recorded");
}

/// A target spec without its raw accessor list (`(0:5:1 @ offset 8)` ->
/// `(@ offset 8)`): member indices change when members are dropped.
fn strip_raw(s: &str) -> String {
    match (s.rfind(" ("), s.rfind(" @ offset")) {
        (Some(a), Some(b)) if a < b => format!("{} (@{}", &s[..a], &s[b + 2..]),
        _ => s.to_string(),
    }
}

/// Every relocation's decision, with target type ids left out (they are
/// renumbered in a minimal BTF): the values to patch, whether nothing
/// matched, and the matching candidate's spec without its ids. A
/// `target_type_id` value is replaced by the kind and name of the type it
/// designates in `ids` (the BTF holding every target id).
fn decisions(target: Target<'_>, ids: &Btf<'_>, local: &Btf<'_>, ext: &BtfExt) -> Vec<String> {
    let mut r = Relocator::new(local, target);
    let mut out = Vec::new();
    let strip_ids = |s: &str| {
        let mut o = String::new();
        let mut in_id = false;
        for ch in s.chars() {
            match ch {
                '[' => {
                    in_id = true;
                    o.push(ch)
                }
                ']' => {
                    in_id = false;
                    o.push(ch)
                }
                c if in_id && c.is_ascii_digit() => {}
                c => o.push(c),
            }
        }
        o
    };
    for sec in &ext.core_relos {
        for (i, rec) in sec.records.iter().enumerate() {
            let mut log = Vec::new();
            match r.compute(&sec.name, i, rec, &mut log) {
                Ok(d) => {
                    let mut f = d.fixup;
                    f.new_type_id = btf::TypeId(0);
                    let mut designates = String::new();
                    if rec.kind == 7 && !d.no_match {
                        let t = ids.get(btf::TypeId(f.new_val as u32)).unwrap();
                        designates = format!(" designates {:?} {}", t.kind(), ids.type_name(&t));
                        f.new_val = 0;
                    }
                    let matched: Vec<String> = d
                        .candidates
                        .iter()
                        .filter(|c| c.matched)
                        .map(|c| strip_raw(&strip_ids(&c.spec)))
                        .collect();
                    out.push(format!(
                        "{} #{i}: {} -> {f:?}{designates} no_match={} matched={matched:?}",
                        sec.name, d.local_spec, d.no_match
                    ));
                }
                Err(e) => out.push(format!("{} #{i}: error {} {}", sec.name, e.errno, e.reason)),
            }
        }
    }
    out
}

fn every_object() -> Vec<String> {
    let mut v = Vec::new();
    for (dir, suffix) in [
        ("bpf", ".bpf.o"),
        ("bpf", ".bpfeb.o"),
        ("oracle/mincore/objects/libbpf-tools", ".bpf.o"),
    ] {
        for p in btfx_tests::fixture_files(dir, suffix) {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            v.push(format!("fixtures/{dir}/{name}"));
        }
    }
    v
}

#[test]
fn decisions_against_minimal_btf_equal_those_against_the_kernel() {
    let files: Vec<ObjFile> = every_object().iter().map(|o| read_obj(o)).collect();
    let objs: Vec<(Btf<'_>, BtfExt)> = files.iter().map(parse_obj).collect();
    let mut checked = 0;
    let mut relos = 0;
    for k in KERNELS {
        let data = kernel(k);
        let full = Btf::parse(&data[..]).unwrap();
        for (f, (b, e)) in files.iter().zip(&objs) {
            let min_bytes = minimize(Target::new(&full), &[(b, e)]);
            let min = Btf::parse(&min_bytes[..]).unwrap();
            let want = decisions(Target::new(&full), &full, b, e);
            let got = decisions(Target::new(&min), &min, b, e);
            assert_eq!(got, want, "{} on {k}", f.path.display());
            checked += 1;
            relos += want.len();
        }
        // All objects together: each object's decisions still hold.
        let all: Vec<(&Btf<'_>, &BtfExt)> = objs.iter().map(|(b, e)| (b, e)).collect();
        let min_bytes = minimize(Target::new(&full), &all);
        let min = Btf::parse(&min_bytes[..]).unwrap();
        for (f, (b, e)) in files.iter().zip(&objs) {
            assert_eq!(
                decisions(Target::new(&min), &min, b, e),
                decisions(Target::new(&full), &full, b, e),
                "{} on {k}, minimal BTF of all objects",
                f.path.display()
            );
        }
    }
    eprintln!("min-core: {checked} object x kernel pairs, {relos} relocations, same decisions");
    assert!(checked >= 4 * 70);
}

fn ext4_case() -> (Vec<u8>, Vec<u8>) {
    (
        kernel("x86_64-6.12"),
        std::fs::read(fixtures().join("kernels/modules/ext4.btf")).unwrap(),
    )
}

#[test]
fn module_target_keeps_decisions_in_one_standalone_btf() {
    let (base_data, mod_data) = ext4_case();
    let base = Arc::new(Btf::parse(&base_data[..]).unwrap());
    let module = Btf::parse_split(&mod_data[..], base.clone()).unwrap();
    let o = read_obj("fixtures/oracle/mincore/objects/module_ext4.bpf.o");
    let (b, e) = parse_obj(&o);
    let target = || Target::new(&base).with_module("ext4", &module);
    let bytes = minimize(target(), &[(&b, &e)]);
    let min = Btf::parse(&bytes[..]).unwrap();
    assert_eq!(min.start_id().0, 1, "standalone");
    // Module types were chosen (the object reads ext4's own structs)...
    let want = decisions(target(), &module, &b, &e);
    assert!(
        want.iter().any(|d| d.contains("ext4_inode_info")),
        "{want:#?}"
    );
    assert!(min
        .find_by_name_kind("ext4_inode_info", btf::Kind::Struct)
        .is_some());
    // ...and the one file decides every relocation as kernel + module do.
    assert_eq!(decisions(Target::new(&min), &min, &b, &e), want);
}

#[test]
fn minimal_btf_loads_into_the_kernel() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: bpf(2) not permitted here: {e}");
        return;
    }
    let counted = loader::sys::Census::begin().unwrap();
    let mut loaded = 0;
    let mut failures = Vec::new();
    for name in ["libbpf-tools-all", "fixtures-all", "task+sock"] {
        for k in KERNELS {
            let p = fixtures().join(format!("oracle/mincore/{name}.{k}.btf"));
            let bytes = std::fs::read(&p).unwrap();
            match loader::sys::btf_load(&bytes) {
                Ok(fd) => {
                    drop(fd);
                    loaded += 1;
                }
                Err(e) => failures.push(format!("{}: {}", p.display(), e.error)),
            }
        }
    }
    // The standalone output of a module target too.
    let (base_data, mod_data) = ext4_case();
    let base = Arc::new(Btf::parse(&base_data[..]).unwrap());
    let module = Btf::parse_split(&mod_data[..], base.clone()).unwrap();
    let o = read_obj("fixtures/oracle/mincore/objects/module_ext4.bpf.o");
    let (b, e) = parse_obj(&o);
    let bytes = minimize(Target::new(&base).with_module("ext4", &module), &[(&b, &e)]);
    match loader::sys::btf_load(&bytes) {
        Ok(fd) => {
            drop(fd);
            loaded += 1;
        }
        Err(e) => failures.push(format!("ext4 module output: {}", e.error)),
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(loaded, 13);
}

#[test]
fn mutated_kernels_never_panic() {
    // Minimal BTFs are small valid kernels: flip bytes of one and run every
    // fixture object against each mutant that still parses. Whatever the
    // mutant holds (loops through function prototypes, bad member indices,
    // kinds bpftool refuses), BTFGen answers Ok or Err, never panics.
    let base =
        std::fs::read(fixtures().join("oracle/mincore/fixtures-all.x86_64-6.18.btf")).unwrap();
    let files: Vec<ObjFile> = btfx_tests::fixture_files("bpf", ".bpf.o")
        .iter()
        .map(|p| {
            read_obj(&format!(
                "fixtures/bpf/{}",
                p.file_name().unwrap().to_string_lossy()
            ))
        })
        .collect();
    let objs: Vec<(Btf<'_>, BtfExt)> = files.iter().map(parse_obj).collect();
    let all: Vec<(&Btf<'_>, &BtfExt)> = objs.iter().map(|(b, e)| (b, e)).collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut parsed, mut ok, mut err) = (0, 0, 0);
    for _ in 0..3000 {
        let mut m = base.clone();
        for _ in 0..1 + next() % 4 {
            // Type section words mostly (ids, kinds, vlens), header spared.
            let i = 24 + (next() as usize) % (m.len() - 24);
            m[i] = next() as u8;
        }
        let Ok(k) = Btf::parse(&m[..]) else { continue };
        parsed += 1;
        let mut g = MinCore::new(Target::new(&k));
        let mut res = Ok(());
        for (i, (b, e)) in all.iter().enumerate() {
            res = res.and_then(|_| g.record(&format!("object #{i}"), b, e));
        }
        match res.and_then(|_| g.build()) {
            Ok(bytes) => {
                Btf::parse(&bytes[..]).expect("BTFGen output parses");
                ok += 1;
            }
            Err(_) => err += 1,
        }
    }
    eprintln!("min-core: {parsed} mutants parsed: {ok} minimised, {err} refused");
    assert!(parsed > 300, "{parsed}");
}

/// The lines of libbpf's CO-RE log that say what happened to each
/// instruction (`patched insn`, `substituting insn`, `no matching targets
/// found`, failures), for the whole object relocated as a load does. The
/// value patched by a `target_type_id` relocation is a type id of the
/// target, renumbered in a minimal BTF: it is replaced by the kind and name
/// of the type it designates.
fn outcome_log(obj: &ObjFile, target: &Btf<'_>) -> Vec<String> {
    let o = loader::object::Object::parse(&obj.data).unwrap();
    let loader::load::CoreInputs {
        btf: local,
        ext,
        mut programs,
    } = loader::load::core_inputs(&o).unwrap();
    let report = core_reloc::relocate(&local, &ext, &mut programs, Target::new(target));
    let type_id_relos: Vec<(String, usize)> = report
        .records
        .iter()
        .filter(|r| r.kind == 7)
        .map(|r| (r.program.clone(), r.index))
        .collect();
    report
        .log
        .iter()
        .filter(|l| {
            l.contains("patched insn")
                || l.contains("substituting insn")
                || l.contains("no matching targets")
                || l.contains("failed")
        })
        .map(|l| {
            let is_type_id = type_id_relos
                .iter()
                .any(|(p, i)| l.starts_with(&format!("prog '{p}': relo #{i}: patched")));
            match (is_type_id, l.rfind(" -> ")) {
                (true, Some(at)) => {
                    let id: u32 = l[at + 4..].trim().parse().unwrap();
                    let t = target.get(btf::TypeId(id)).unwrap();
                    format!("{} -> {:?} {}", &l[..at], t.kind(), target.type_name(&t))
                }
                _ => l.clone(),
            }
        })
        .collect()
}

#[test]
fn libbpf_log_outcomes_against_minimal_btf_equal_those_against_the_kernel() {
    let files: Vec<ObjFile> = every_object().iter().map(|o| read_obj(o)).collect();
    let mut lines = 0;
    for k in KERNELS {
        let data = kernel(k);
        let full = Btf::parse(&data[..]).unwrap();
        for f in &files {
            let (b, e) = parse_obj(f);
            let min_bytes = minimize(Target::new(&full), &[(&b, &e)]);
            let min = Btf::parse(&min_bytes[..]).unwrap();
            let want = outcome_log(f, &full);
            assert_eq!(outcome_log(f, &min), want, "{} on {k}", f.path.display());
            lines += want.len();
        }
    }
    eprintln!("min-core: {lines} libbpf log outcome lines equal against minimal and full BTF");
    assert!(lines > 3000, "{lines}");
}
