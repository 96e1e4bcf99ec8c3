//! `btf::dedup` against libbpf 1.1's `btf__dedup`, recorded by
//! scripts/record-dedup.sh into fixtures/oracle/dedup/: for every case the
//! output bytes (libbpf's `btf__raw_data`) and the raw dump
//! (`btf::dump::raw`, bpftool's `format raw`) must be identical.

mod dedup_cases;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use btf::dedup::Appender;
use btf::write::Builder;
use btf::{Btf, Endian, IntEncoding, Kind, TypeId};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn oracle_dir() -> PathBuf {
    root().join("fixtures/oracle/dedup")
}

/// Reads `path`, or `path.gz` decompressed.
fn read_maybe_gz(path: &Path) -> Vec<u8> {
    if let Ok(b) = std::fs::read(path) {
        return b;
    }
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    let f =
        std::fs::File::open(&gz).unwrap_or_else(|e| panic!("{}: {e}", Path::new(&gz).display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// `dir/*.ext` expanded (sorted, as the shell does), or the path itself.
fn expand(pattern: &str) -> Vec<PathBuf> {
    match pattern.split_once("/*") {
        Some((dir, ext)) => {
            let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().ends_with(ext))
                .collect();
            v.sort();
            v
        }
        None => vec![root().join(pattern)],
    }
}

/// Appends and dedups; the bytes as libbpf writes them (little-endian, or
/// the first split input's order).
fn dedup(base: Option<&[u8]>, inputs: &[Vec<u8>]) -> Result<Vec<u8>, btf::Error> {
    let base = base
        .map(|b| Btf::parse_any(b, None))
        .transpose()?
        .map(Arc::new);
    let mut all = match &base {
        Some(b) => Appender::new_split(b)?,
        None => Appender::new(),
    };
    let mut endian = Endian::Little;
    for (i, data) in inputs.iter().enumerate() {
        let btf = Btf::parse_any(data, base.clone())?;
        if i == 0 && base.is_some() {
            endian = btf.endian();
        }
        all.add(&btf)?;
    }
    Ok(all.dedup()?.encode(endian))
}

fn raw_dump(bytes: &[u8], base: Option<&[u8]>) -> String {
    let base = base.map(|b| Arc::new(Btf::parse_any(b, None).unwrap()));
    let btf = match base {
        Some(b) => Btf::parse_split(bytes, b).unwrap(),
        None => Btf::parse(bytes).unwrap(),
    };
    let mut out = Vec::new();
    btf::dump::raw::dump_raw(&btf, &mut out);
    String::from_utf8(out).unwrap()
}

/// Compares one case; returns (bytes identical, dump identical, types).
fn check(name: &str, base: Option<&[u8]>, inputs: &[Vec<u8>], want: &[u8]) -> (bool, bool, usize) {
    match compare(name, base, inputs, want) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// As `check`, the first difference of the raw dumps as an error.
fn compare(
    name: &str,
    base: Option<&[u8]>,
    inputs: &[Vec<u8>],
    want: &[u8],
) -> Result<(bool, bool, usize), String> {
    let got = dedup(base, inputs).map_err(|e| format!("{name}: {e}"))?;
    let (gd, wd) = (raw_dump(&got, base), raw_dump(want, base));
    let types = wd.lines().filter(|l| l.starts_with('[')).count();
    if gd != wd {
        // the first line that differs, or the first one only one side has
        let first = gd
            .lines()
            .zip(wd.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| gd.lines().count().min(wd.lines().count()));
        let line = |s: &str| s.lines().nth(first).unwrap_or("(end)").to_owned();
        return Err(format!(
            "{name}: raw dumps differ first at line {first}:\n btfx:   {}\n libbpf: {}",
            line(&gd),
            line(&wd)
        ));
    }
    Ok((got == want, true, types))
}

struct Recorded {
    name: &'static str,
    base: Option<&'static str>,
    inputs: &'static [&'static str],
}

const K61: &str = "fixtures/kernels/x86_64-6.1.btf";
const K612: &str = "fixtures/kernels/x86_64-6.12.btf";
const K618: &str = "fixtures/kernels/x86_64-6.18.btf";

const SMALL: &[Recorded] = &[
    Recorded {
        name: "objs5",
        base: None,
        inputs: &[
            "fixtures/bpf/core_fields.bpf.o",
            "fixtures/bpf/core_types.bpf.o",
            "fixtures/bpf/maps_globals.bpf.o",
            "fixtures/bpf/sock_trace.bpf.o",
            "fixtures/bpf/task_trace.bpf.o",
        ],
    },
    Recorded {
        name: "objs_all",
        base: None,
        // The 14 objects recorded (fixtures/oracle/dedup/README.md), named so
        // that objects added to fixtures/bpf later do not change the input.
        inputs: &[
            "fixtures/bpf/core_fail.bpf.o",
            "fixtures/bpf/core_fields.bpf.o",
            "fixtures/bpf/core_fields.bpfeb.o",
            "fixtures/bpf/core_flavors.bpf.o",
            "fixtures/bpf/core_subprog.bpf.o",
            "fixtures/bpf/core_types.bpf.o",
            "fixtures/bpf/fentry_fexit.bpf.o",
            "fixtures/bpf/ksyms.bpf.o",
            "fixtures/bpf/maps_globals.bpf.o",
            "fixtures/bpf/maps_globals.bpfeb.o",
            "fixtures/bpf/pin_by_name.bpf.o",
            "fixtures/bpf/regs.bpf.o",
            "fixtures/bpf/sock_trace.bpf.o",
            "fixtures/bpf/task_trace.bpf.o",
        ],
    },
    Recorded {
        name: "debian_xdp",
        base: None,
        inputs: &["fixtures/oracle/dedup/debian/*.btf"],
    },
    Recorded {
        name: "ext4",
        base: Some(K612),
        inputs: &["fixtures/kernels/modules/ext4.btf"],
    },
    Recorded {
        name: "tcp_bbr",
        base: Some(K612),
        inputs: &["fixtures/kernels/modules/tcp_bbr.btf"],
    },
    Recorded {
        name: "mod_xfs",
        base: Some(K612),
        inputs: &["fixtures/oracle/dedup/modules/xfs.btf"],
    },
    Recorded {
        name: "mod_kvm",
        base: Some(K612),
        inputs: &["fixtures/oracle/dedup/modules/kvm.btf"],
    },
    Recorded {
        name: "mod_nf_tables",
        base: Some(K612),
        inputs: &["fixtures/oracle/dedup/modules/nf_tables.btf"],
    },
    Recorded {
        name: "mod_bridge",
        base: Some(K612),
        inputs: &["fixtures/oracle/dedup/modules/bridge.btf"],
    },
    Recorded {
        name: "mod_8021q",
        base: Some(K612),
        inputs: &["fixtures/oracle/dedup/modules/8021q.btf"],
    },
    Recorded {
        name: "k61_over_k61",
        base: Some(K61),
        inputs: &[K61],
    },
];

const KERNELS: &[Recorded] = &[
    Recorded {
        name: "k61x2",
        base: None,
        inputs: &[K61, K61],
    },
    Recorded {
        name: "k618x2",
        base: None,
        inputs: &[K618, K618],
    },
    Recorded {
        name: "objs_k61",
        base: None,
        inputs: &[
            "fixtures/bpf/core_types.bpf.o",
            K61,
            "fixtures/bpf/task_trace.bpf.o",
        ],
    },
    Recorded {
        name: "k618_over_k61",
        base: Some(K61),
        inputs: &[K618],
    },
];

fn run_recorded(cases: &[Recorded]) {
    let (mut bytes, mut types) = (0, 0);
    for c in cases {
        let base = c.base.map(|b| std::fs::read(root().join(b)).unwrap());
        let inputs: Vec<Vec<u8>> = c
            .inputs
            .iter()
            .flat_map(|p| expand(p))
            .map(|p| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
            .collect();
        let want = read_maybe_gz(&oracle_dir().join(format!("{}.btf", c.name)));
        let (same, _, n) = check(c.name, base.as_deref(), &inputs, &want);
        assert!(same, "{}: raw dumps agree but the bytes differ", c.name);
        bytes += same as usize;
        types += n;
    }
    eprintln!(
        "dedup vs libbpf 1.1: {bytes}/{} cases byte-identical, {}/{} raw dumps identical ({types} types)",
        cases.len(),
        cases.len(),
        cases.len()
    );
}

#[test]
fn objects_and_modules_match_libbpf() {
    run_recorded(SMALL);
}

#[test]
fn kernels_match_libbpf() {
    run_recorded(KERNELS);
}

fn crafted_path(name: &str, what: &str) -> PathBuf {
    oracle_dir()
        .join("crafted")
        .join(format!("{name}.{what}.btf"))
}

#[test]
fn crafted_inputs_are_checked_in() {
    let bless = std::env::var_os("BTFX_BLESS_DEDUP").is_some();
    for c in dedup_cases::all() {
        assert!(!c.inputs.is_empty(), "{}: no inputs", c.name);
        let mut files: Vec<(String, &[u8])> = c
            .inputs
            .iter()
            .enumerate()
            .map(|(i, b)| ((i + 1).to_string(), &b[..]))
            .collect();
        if let Some(b) = &c.base {
            files.push(("base".into(), b));
        }
        for (what, bytes) in files {
            let p = crafted_path(c.name, &what);
            if bless {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, bytes).unwrap();
            } else {
                let have = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert_eq!(
                    have,
                    bytes,
                    "{} changed: rerun the bless and scripts/record-dedup.sh",
                    p.display()
                );
            }
        }
    }
}

/// Every crafted case, all differences reported at once.
#[test]
fn crafted_cases_match_libbpf() {
    let cases = dedup_cases::all();
    let (mut bytes, mut types) = (0, 0);
    let mut failed = Vec::new();
    for c in &cases {
        let want = std::fs::read(crafted_path(c.name, "out")).unwrap();
        match compare(c.name, c.base.as_deref(), &c.inputs, &want) {
            Ok((true, _, n)) => {
                bytes += 1;
                types += n;
            }
            Ok((false, _, _)) => {
                failed.push(format!("{}: raw dumps agree but the bytes differ", c.name))
            }
            Err(e) => failed.push(e),
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} crafted cases differ from libbpf:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
    eprintln!(
        "crafted dedup vs libbpf 1.1: {bytes}/{} byte-identical ({types} types)",
        cases.len()
    );
}

#[test]
fn result_in_big_endian_reads_the_same() {
    let inputs: Vec<Vec<u8>> = expand("fixtures/bpf/*.o")
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let mut all = Appender::new();
    for d in &inputs {
        all.add(&Btf::parse_any(d, None).unwrap()).unwrap();
    }
    let out = all.dedup().unwrap();
    let (le, be) = (out.encode(Endian::Little), out.encode(Endian::Big));
    assert_eq!(Btf::parse(&be[..]).unwrap().endian(), Endian::Big);
    assert_eq!(raw_dump(&le, None), raw_dump(&be, None));
    assert_eq!(btf::write::convert_endian(&be, Endian::Little).unwrap(), le);
}

#[test]
fn ids_map_to_their_canonical_types() {
    let cu = || {
        let mut b = Builder::new();
        let int = b.int("int", 4, IntEncoding::Signed);
        let p = b.reference(Kind::Ptr, "", int);
        b.struct_("s", 8, &[("p", p, 0, 0)]);
        Btf::parse(b.encode(Endian::Little)).unwrap()
    };
    let mut all = Appender::new();
    assert_eq!(all.add(&cu()).unwrap(), TypeId(1)..TypeId(4));
    assert_eq!(all.add(&cu()).unwrap(), TypeId(4)..TypeId(7));
    let out = all.dedup().unwrap();
    assert_eq!(out.type_count(), 3);
    for (a, b) in [(4, 1), (5, 2), (6, 3)] {
        assert_eq!(out.new_id(TypeId(a)), Some(TypeId(b)));
    }
    assert_eq!(out.new_id(TypeId(7)), None);
}

/// A pointer chain 100,000 links deep, in two inputs, behind a struct
/// member: the struct comparison and the reference pass walk it without
/// recursion.
#[test]
fn deep_chains_do_not_recurse() {
    let cu = || {
        let mut b = Builder::new();
        let mut t = b.int("int", 4, IntEncoding::Signed);
        for _ in 0..100_000 {
            t = b.reference(Kind::Ptr, "", t);
        }
        b.struct_("deep", 8, &[("p", t, 0, 0)]);
        b.encode(Endian::Little)
    };
    let (a, b) = (cu(), cu());
    let out = dedup(None, &[a, b]).unwrap();
    let btf = Btf::parse(out).unwrap();
    assert_eq!(btf.type_count(), 100_003);
}

/// Damaged or unsupported input gives an error naming the type, never a panic.
#[test]
fn bad_inputs_give_errors() {
    // a struct member whose type is a VAR: libbpf's walk fails with -EINVAL
    let cu = || {
        let mut b = Builder::new();
        let int = b.int("int", 4, IntEncoding::Signed);
        let v = b.var("v", int, 1);
        b.struct_("s", 4, &[("m", v, 0, 0)]);
        b.encode(Endian::Little)
    };
    let e = dedup(None, &[cu(), cu()]).unwrap_err();
    assert!(e.to_string().contains("type id"), "{e}");
    // a standalone BTF appended to a split appender
    let base = Btf::parse(cu()).unwrap();
    let mut all = Appender::new_split(&base).unwrap();
    assert!(all.add(&Btf::parse(cu()).unwrap()).is_err());
}

/// Deterministic mutations of real object BTF: whatever parses, dedup
/// either deduplicates or reports an error; it never panics or hangs.
#[test]
fn mutated_inputs_never_panic() {
    let objs: Vec<Vec<u8>> = [
        "fixtures/bpf/core_types.bpf.o",
        "fixtures/bpf/task_trace.bpf.o",
        "fixtures/bpf/maps_globals.bpf.o",
    ]
    .iter()
    .map(|p| {
        let elf = std::fs::read(root().join(p)).unwrap();
        btf::btf_section(&elf).unwrap().into_owned()
    })
    .collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut parsed, mut deduped) = (0, 0);
    for round in 0..3000 {
        let mut a = objs[round % objs.len()].clone();
        // flip a few bytes past the header, favouring the type section
        for _ in 0..1 + next() % 4 {
            let span = (a.len() - 24).min(if next() % 2 == 0 { 400 } else { usize::MAX });
            let i = 24 + (next() as usize) % span;
            a[i] = next() as u8;
        }
        let b = objs[(round + 1) % objs.len()].clone();
        if Btf::parse(&a[..]).is_err() {
            continue;
        }
        parsed += 1;
        if dedup(None, &[a, b]).is_ok() {
            deduped += 1;
        }
    }
    eprintln!("mutations: {parsed} parsed, {deduped} deduplicated, the rest errors");
    assert!(parsed > 100);
}

/// Dedups `inputs` on another thread; fails if it takes over a minute.
fn dedup_in_time(inputs: Vec<Vec<u8>>) -> Btf<'static> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(dedup(None, &inputs).map_err(|e| e.to_string()));
    });
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("dedup still running after 60 s")
        .unwrap();
    Btf::parse(out).unwrap()
}

/// libbpf's identical-structs check on copies of a struct that holds
/// itself by value (libbpf 1.1.2 recurses until SIGSEGV): not identical.
/// So the first copy of the second CU stays, the second collapses into
/// it through the ordinary graph check, and its `S` (and the pointer to
/// it) stay: 5 types of the first CU, then A, PTR, S.
#[test]
fn self_nesting_structs_end() {
    use dedup_cases::identical::{hostile, Member};
    let btf = dedup_in_time(hostile(Member::SelfNest));
    assert_eq!(btf.type_count(), 9);
    assert_eq!(
        btf.find_by_name_kind("S", Kind::Struct),
        Some(TypeId(5)),
        "the first S"
    );
}

/// Copies that share nested copies: `T<k> { T<k-1> l, r; }` 60 levels
/// deep (libbpf walks 2^60 paths; `ident_structs_tree` records it at 16
/// levels), and a chain of 100,000 nested copies (deeper than any call
/// stack): both identical, so the second CU collapses into the first.
#[test]
fn deep_identical_structs_end() {
    use dedup_cases::identical::{hostile, Member};
    for (member, first_cu) in [(Member::Tree(60), 66), (Member::Chain(100_000), 100_006)] {
        let btf = dedup_in_time(hostile(member));
        assert_eq!(btf.type_count(), first_cu + 1);
    }
}
