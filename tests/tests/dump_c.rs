//! `format c` fidelity: btfx's C header against bpftool 7.1's.
//!
//! - every recorded `fixtures/oracle/dump/*.c.gz` (kernels, module split
//!   BTF, the `.BTF` of every `fixtures/bpf` object) must be reproduced byte
//!   for byte;
//! - hand-built BTFs, one per tricky case, are compared with bpftool's output
//!   for the very same bytes, recorded under `fixtures/oracle/c-cases/`
//!   (`<case>.btf` + `<case>.h`), and kept as insta snapshots;
//! - damaged or hostile BTF ends in an error or a header, never a panic.
//!
//! Re-record the cases with `BTFX_RECORD_C_CASES=1 cargo test -p btfx-tests
//! --test dump_c` (needs bpftool); see fixtures/oracle/c-cases/README.md.

use std::path::PathBuf;
use std::sync::Arc;

use btf::write::Builder;
use btf::{Btf, Endian, Error, IntEncoding, Kind, TypeId};
use btfx_tests::{first_diff, fixture_files, fixtures, read_fixture};

fn dump(btf: &Btf<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    btf::dump::c::dump_c(btf, &mut out).unwrap_or_else(|e| panic!("dump_c: {e}"));
    out
}

fn check(what: &str, ours: &[u8], oracle: &[u8]) {
    if let Some(d) = first_diff(ours, oracle) {
        panic!("{what}: differs from bpftool at {d}");
    }
}

/// The BTF input behind an oracle stem, as scripts/record-dump-oracles.sh names them.
fn input_of(stem: &str) -> (PathBuf, Option<PathBuf>) {
    let f = fixtures();
    if let Some(m) = stem.strip_prefix("module-") {
        (
            f.join(format!("kernels/modules/{m}.btf")),
            Some(f.join("kernels/x86_64-6.12.btf")),
        )
    } else if let Some(o) = stem.strip_prefix("bpf-") {
        (f.join(format!("bpf/{}.o", o.replace("__", "/"))), None)
    } else {
        (f.join(format!("kernels/{stem}.btf")), None)
    }
}

#[test]
fn every_recorded_bpftool_header_is_reproduced() {
    let oracles = fixture_files("oracle/dump", ".c.gz");
    let stems: Vec<String> = oracles
        .iter()
        .map(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.trim_end_matches(".c.gz").to_string()
        })
        .collect();
    // The brief's set: four kernels and every fixtures/bpf object.
    for k in ["x86_64-6.18", "x86_64-6.1", "x86_64-6.12", "arm64-6.12"] {
        assert!(stems.iter().any(|s| s == k), "no oracle for kernel {k}");
    }
    let objects = fixture_files("bpf", ".o");
    assert!(!objects.is_empty(), "no fixtures/bpf objects");
    for o in &objects {
        let stem = format!("bpf-{}", o.file_stem().unwrap().to_string_lossy());
        assert!(
            stems.contains(&stem),
            "no oracle {stem}.c.gz for {}",
            o.display()
        );
    }
    let mut identical = 0;
    for (stem, oracle) in stems.iter().zip(&oracles) {
        let (input, base) = input_of(stem);
        let data = std::fs::read(&input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let base_data = base.map(|b| std::fs::read(b).unwrap());
        let base_btf = base_data
            .as_deref()
            .map(|d| Arc::new(Btf::parse_any(d, None).unwrap()));
        let btf = Btf::parse_any(&data, base_btf).unwrap_or_else(|e| panic!("{stem}: {e}"));
        check(stem, &dump(&btf), &read_fixture(oracle));
        identical += 1;
    }
    assert_eq!(identical, oracles.len());
    eprintln!(
        "{identical} of {} bpftool C headers byte-identical",
        oracles.len()
    );
}

// ---------------------------------------------------------------------------
// Hand-built cases, each backed by bpftool's output for the same bytes.

fn case_dir() -> PathBuf {
    fixtures().join("oracle/c-cases")
}

fn record(name: &str, bytes: &[u8]) {
    let dir = case_dir();
    let btf_path = dir.join(format!("{name}.btf"));
    std::fs::write(&btf_path, bytes).unwrap();
    let out = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file"])
        .arg(&btf_path)
        .args(["format", "c"])
        .output()
        .expect("bpftool");
    assert!(
        out.status.success(),
        "bpftool on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join(format!("{name}.h")), &out.stdout).unwrap();
}

/// Compares btfx's header for `b` with bpftool's recorded one (and the
/// recorded bytes with the builder's, so the oracle is about these bytes),
/// then snapshots it.
fn case(name: &str, b: &Builder) {
    let bytes = b.encode(Endian::Little);
    if std::env::var_os("BTFX_RECORD_C_CASES").is_some() {
        record(name, &bytes);
    }
    let dir = case_dir();
    let recorded = std::fs::read(dir.join(format!("{name}.btf")))
        .unwrap_or_else(|e| panic!("{name}.btf not recorded ({e}); set BTFX_RECORD_C_CASES=1"));
    assert_eq!(recorded, bytes, "{name}: builder output changed; re-record");
    let oracle = read_fixture(&dir.join(format!("{name}.h")));
    let btf = Btf::parse(&bytes[..]).unwrap();
    let ours = dump(&btf);
    check(name, &ours, &oracle);
    // The same header from big-endian bytes.
    let be = Btf::parse(b.encode(Endian::Big)).unwrap();
    check(&format!("{name} (big-endian)"), &dump(&be), &oracle);
    insta::assert_snapshot!(name, String::from_utf8(ours).unwrap());
}

struct Base {
    b: Builder,
    int: TypeId,
    uint: TypeId,
    char_: TypeId,
    long: TypeId,
}

fn base() -> Base {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    let uint = b.int("unsigned int", 4, IntEncoding::None);
    let char_ = b.int("char", 1, IntEncoding::Signed);
    let long = b.int("long int", 8, IntEncoding::Signed);
    Base {
        b,
        int,
        uint,
        char_,
        long,
    }
}

#[test]
fn case_forward_cycle() {
    let Base { mut b, int, .. } = base();
    // Ids 5.. are known in advance, so records may refer forward.
    let (a, sb, sc, pb, pc) = (TypeId(5), TypeId(6), TypeId(7), TypeId(8), TypeId(9));
    // struct a { struct b *b; int x; }: needs b through a pointer only;
    // struct b { struct a a; struct c *c; }: embeds a;
    // struct c { struct b *back; }.
    assert_eq!(b.struct_("a", 16, &[("b", pb, 0, 0), ("x", int, 64, 0)]), a);
    assert_eq!(b.struct_("b", 24, &[("a", a, 0, 0), ("c", pc, 128, 0)]), sb);
    assert_eq!(b.struct_("c", 8, &[("back", pb, 0, 0)]), sc);
    assert_eq!(b.reference(Kind::Ptr, "", sb), pb);
    assert_eq!(b.reference(Kind::Ptr, "", sc), pc);
    // typedef struct a a_t; typedef a_t *a_ptr_t; struct d { a_ptr_t p; };
    let a_t = b.reference(Kind::Typedef, "a_t", a);
    let pa = b.reference(Kind::Ptr, "", a_t);
    let a_ptr_t = b.reference(Kind::Typedef, "a_ptr_t", pa);
    b.struct_("d", 8, &[("p", a_ptr_t, 0, 0)]);
    // A list node pointing to itself through a typedef of its pointer.
    let node = TypeId(a_ptr_t.0 + 2);
    let pnode_t = TypeId(a_ptr_t.0 + 4);
    assert_eq!(
        b.struct_("node", 16, &[("next", pnode_t, 0, 0), ("v", int, 64, 0)]),
        node
    );
    let pnode = b.reference(Kind::Ptr, "", node);
    assert_eq!(b.reference(Kind::Typedef, "node_p", pnode), pnode_t);
    case("forward_cycle", &b);
}

#[test]
fn case_name_conflicts() {
    let Base {
        mut b, int, long, ..
    } = base();
    let s = b.struct_("foo", 4, &[("x", int, 0, 0)]);
    let u = b.union_("foo", 8, &[("y", long, 0, 0)]);
    b.enum_("foo", 4, false, &[("A", 0)]);
    b.reference(Kind::Typedef, "foo", int);
    b.reference(Kind::Typedef, "foo", long);
    b.enum_("e1", 4, false, &[("X", 1), ("Y", 2)]);
    b.enum_("e2", 4, false, &[("X", 3), ("A", 4)]);
    b.fwd("foo", false);
    b.struct_("user", 16, &[("s", s, 0, 0), ("u", u, 64, 0)]);
    case("name_conflicts", &b);
}

#[test]
fn case_bitfields_padding() {
    let Base {
        mut b,
        int,
        uint,
        char_,
        long,
    } = base();
    let short = b.int("short int", 2, IntEncoding::Signed);
    b.struct_(
        "bf",
        32,
        &[
            ("a", uint, 0, 3),
            ("b", uint, 8, 5),
            ("c", char_, 32, 0),
            ("d", long, 128, 0),
            ("e", int, 192, 4),
        ],
    );
    // A gap the compiler would not leave by itself, and one inside bitfields.
    b.struct_(
        "gaps",
        24,
        &[("x", char_, 0, 0), ("y", short, 32, 0), ("z", long, 128, 0)],
    );
    b.struct_(
        "bits",
        16,
        &[("p", uint, 0, 1), ("q", uint, 40, 2), ("r", long, 64, 0)],
    );
    b.struct_("tail", 16, &[("v", char_, 0, 0)]);
    b.struct_("empty", 0, &[]);
    b.struct_("only_pad", 8, &[]);
    case("bitfields_padding", &b);
}

#[test]
fn case_packed() {
    let Base {
        mut b,
        int,
        char_,
        long,
        ..
    } = base();
    b.struct_("p", 5, &[("a", char_, 0, 0), ("b", int, 8, 0)]);
    b.struct_("q", 9, &[("x", long, 0, 0), ("y", char_, 64, 0)]);
    let inner = b.struct_("inner", 6, &[("a", char_, 0, 0), ("b", int, 16, 0)]);
    b.struct_("outer", 7, &[("c", char_, 0, 0), ("i", inner, 8, 0)]);
    b.union_("un", 5, &[("a", int, 0, 0), ("b", char_, 0, 0)]);
    case("packed", &b);
}

#[test]
fn case_func_protos() {
    let Base {
        mut b,
        int,
        char_,
        long,
        ..
    } = base();
    let pchar = b.reference(Kind::Ptr, "", char_);
    let cchar = b.reference(Kind::Const, "", char_);
    let pcchar = b.reference(Kind::Ptr, "", cchar);
    // typedef int (*cb_t)(int, char *);
    let p1 = b.func_proto(int, &[("x", int), ("", pchar)]);
    let pp1 = b.reference(Kind::Ptr, "", p1);
    b.reference(Kind::Typedef, "cb_t", pp1);
    // typedef int fn_t(const char *fmt, ...);
    let p2 = b.func_proto(int, &[("fmt", pcchar), ("", TypeId::VOID)]);
    b.reference(Kind::Typedef, "fn_t", p2);
    // typedef void (*(*signal_t)(int, void (*)(int)))(int);
    let handler = b.func_proto(TypeId::VOID, &[("", int)]);
    let phandler = b.reference(Kind::Ptr, "", handler);
    let sig = b.func_proto(phandler, &[("sig", int), ("h", phandler)]);
    let psig = b.reference(Kind::Ptr, "", sig);
    b.reference(Kind::Typedef, "signal_t", psig);
    // no-argument protos: vlen 0 and a single void parameter.
    let none = b.func_proto(long, &[]);
    let pnone = b.reference(Kind::Ptr, "", none);
    let void1 = b.func_proto(int, &[("", TypeId::VOID)]);
    let pvoid1 = b.reference(Kind::Ptr, "", void1);
    let arr = b.array(pnone, int, 4);
    let ops = TypeId(arr.0 + 5);
    let pops = b.reference(Kind::Ptr, "", ops);
    let open = b.func_proto(int, &[("o", pops)]);
    let popen = b.reference(Kind::Ptr, "", open);
    let cpopen = b.reference(Kind::Const, "", popen);
    let got = b.struct_(
        "ops",
        56,
        &[
            ("open", popen, 0, 0),
            ("get", pvoid1, 64, 0),
            ("table", arr, 128, 0),
            ("ro", cpopen, 384, 0),
        ],
    );
    assert_eq!(got, ops);
    b.func("do_open", open, 1);
    case("func_protos", &b);
}

#[test]
fn case_arrays() {
    let Base {
        mut b, int, char_, ..
    } = base();
    let row = b.array(int, int, 3);
    let m = b.array(row, int, 2);
    let pchar = b.reference(Kind::Ptr, "", char_);
    let names = b.array(pchar, int, 4);
    let ten = b.array(int, int, 10);
    let pten = b.reference(Kind::Ptr, "", ten);
    let cint = b.reference(Kind::Const, "", int);
    let ca = b.array(cint, int, 5);
    let row_t = b.reference(Kind::Typedef, "row_t", ten);
    let grid = b.array(row_t, int, 2);
    let tail = b.array(int, int, 0);
    let anon = b.struct_("", 8, &[("k", int, 0, 0), ("v", int, 32, 0)]);
    let anons = b.array(anon, int, 2);
    let cube = b.array(m, int, 4);
    b.struct_(
        "arrs",
        384,
        &[
            ("m", m, 0, 0),
            ("names", names, 192, 0),
            ("pa", pten, 448, 0),
            ("ca", ca, 512, 0),
            ("grid", grid, 672, 0),
            ("kv", anons, 1312, 0),
            ("cube", cube, 1440, 0),
            ("tail", tail, 3072, 0),
        ],
    );
    case("arrays", &b);
}

#[test]
fn case_qualifiers() {
    let Base {
        mut b, int, char_, ..
    } = base();
    let cchar = b.reference(Kind::Const, "", char_);
    let pcchar = b.reference(Kind::Ptr, "", cchar);
    let pchar = b.reference(Kind::Ptr, "", char_);
    let cpchar = b.reference(Kind::Const, "", pchar);
    let vint = b.reference(Kind::Volatile, "", int);
    let cvint = b.reference(Kind::Const, "", vint);
    let pint = b.reference(Kind::Ptr, "", int);
    let rpint = b.reference(Kind::Restrict, "", pint);
    let cpcchar = b.reference(Kind::Const, "", pcchar);
    let ppc = b.reference(Kind::Ptr, "", cpcchar);
    let x = b.struct_("x", 4, &[("v", int, 0, 0)]);
    let vx = b.reference(Kind::Volatile, "", x);
    let pvx = b.reference(Kind::Ptr, "", vx);
    let cint = b.reference(Kind::Const, "", int);
    let cint_t = b.reference(Kind::Typedef, "cint", cint);
    b.struct_(
        "quals",
        64,
        &[
            ("s", pcchar, 0, 0),
            ("cp", cpchar, 64, 0),
            ("cv", cvint, 128, 0),
            ("rp", rpint, 192, 0),
            ("pp", ppc, 256, 0),
            ("vp", pvx, 320, 0),
            ("ci", cint_t, 384, 0),
        ],
    );
    case("qualifiers", &b);
}

#[test]
fn case_anonymous() {
    let Base {
        mut b, int, long, ..
    } = base();
    let inner = b.struct_("", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
    let un = b.union_("", 8, &[("u1", int, 0, 0), ("u2", long, 0, 0)]);
    let en = b.enum_("", 4, false, &[("E_A", 0), ("E_B", 1)]);
    let deep = b.struct_("", 4, &[("deep", int, 0, 0)]);
    let mid = b.struct_("", 4, &[("d", deep, 0, 0)]);
    let pmid = b.reference(Kind::Ptr, "", mid);
    b.struct_(
        "outer",
        32,
        &[
            ("in", inner, 0, 0),
            ("", un, 64, 0),
            ("kind", en, 128, 0),
            ("pnest", pmid, 192, 0),
        ],
    );
    b.enum_("", 4, false, &[("TOP_ONE", 1), ("TOP_TWO", 2)]);
    let anon_t = b.struct_("", 4, &[("z", int, 0, 0)]);
    b.reference(Kind::Typedef, "anon_t", anon_t);
    case("anonymous", &b);
}

#[test]
fn case_enums() {
    let Base { mut b, .. } = base();
    b.enum_(
        "sgn",
        4,
        true,
        &[("NEG", -5), ("ZERO", 0), ("MAXI", i32::MAX as i64)],
    );
    b.enum_("uns", 4, false, &[("BIG", 0xffff_fff0), ("ONE", 1)]);
    b.enum64("e64u", 8, false, &[("HUGE", u64::MAX), ("SMALL", 2)]);
    b.enum64(
        "e64s",
        8,
        true,
        &[("MIN", i64::MIN as u64), ("M1", (-1i64) as u64)],
    );
    b.enum64("e64small", 8, false, &[("FITS", 7)]);
    b.enum_("byte", 1, false, &[("B0", 0), ("B1", 1)]);
    let fwd_enum = b.enum_("later", 4, false, &[]);
    let p = b.reference(Kind::Ptr, "", fwd_enum);
    b.struct_("uses", 8, &[("e", p, 0, 0)]);
    case("enums", &b);
}

#[test]
fn case_floats_typedefs() {
    let Base { mut b, int, .. } = base();
    let f = b.float("float", 4);
    let d = b.float("double", 8);
    let ld = b.float("long double", 16);
    let t1 = b.reference(Kind::Typedef, "t1", int);
    let t2 = b.reference(Kind::Typedef, "t2", t1);
    let t3 = b.reference(Kind::Typedef, "t3", t2);
    let pv = b.reference(Kind::Ptr, "", TypeId::VOID);
    let handle = b.reference(Kind::Typedef, "handle_t", pv);
    let va = b.reference(Kind::Ptr, "", TypeId::VOID);
    b.reference(Kind::Typedef, "__builtin_va_list", va);
    b.reference(Kind::Typedef, "__gnuc_va_list", TypeId::VOID);
    b.struct_(
        "nums",
        48,
        &[
            ("f", f, 0, 0),
            ("d", d, 64, 0),
            ("ld", ld, 128, 0),
            ("t", t3, 256, 0),
            ("h", handle, 320, 0),
        ],
    );
    case("floats_typedefs", &b);
}

#[test]
fn case_tags_and_non_types() {
    let Base { mut b, int, .. } = base();
    let tag = b.reference(Kind::TypeTag, "user", int);
    let ptag = b.reference(Kind::Ptr, "", tag);
    let s = b.struct_("tagged", 8, &[("p", ptag, 0, 0)]);
    b.decl_tag("my_decl", s, -1);
    b.decl_tag("my_member", s, 0);
    let ps = b.reference(Kind::Ptr, "", s);
    let proto = b.func_proto(int, &[("t", ps)]);
    let f = b.func("handler", proto, 1);
    b.decl_tag("fn_tag", f, -1);
    let v = b.var("counter", int, 1);
    b.datasec(".data", 4, &[(v, 0, 4)]);
    case("tags_and_non_types", &b);
}

#[test]
fn case_fwds() {
    let Base { mut b, .. } = base();
    let fs = b.fwd("opaque", false);
    let fu = b.fwd("opaque_u", true);
    let ps = b.reference(Kind::Ptr, "", fs);
    let pu = b.reference(Kind::Ptr, "", fu);
    b.struct_("holder", 16, &[("s", ps, 0, 0), ("u", pu, 64, 0)]);
    b.struct_("opaque", 4, &[]);
    case("fwds", &b);
}

/// Compiler-made BTF: `declarators.bpf.c` built by clang for both byte
/// orders; bpftool's header for each object recorded next to it.
#[test]
fn clang_built_declarator_cases() {
    let objs: Vec<PathBuf> = fixture_files("oracle/c-cases", ".o");
    assert_eq!(objs.len(), 2, "{objs:?}");
    for o in objs {
        let elf = std::fs::read(&o).unwrap();
        let btf = Btf::from_elf(&elf).unwrap();
        let oracle = std::fs::read(o.with_extension("h")).unwrap();
        check(&o.display().to_string(), &dump(&btf), &oracle);
    }
}

// ---------------------------------------------------------------------------
// Root-id mode (`--type`): bpftool dumps a map's key and value types with
// btf_dump__dump_type in order; recorded from a map created over the BTF.

/// Key and value of the map: they share types, so the second root only
/// emits what the first did not; `unused` is never emitted.
fn roots_btf() -> (Builder, TypeId, TypeId) {
    let Base {
        mut b,
        int,
        uint,
        long,
        ..
    } = base();
    let lh = TypeId(6);
    let plh = b.reference(Kind::Ptr, "", lh);
    assert_eq!(
        b.struct_(
            "list_head",
            16,
            &[("next", plh, 0, 0), ("prev", plh, 64, 0)]
        ),
        lh
    );
    let u32_t = b.reference(Kind::Typedef, "u32_t", uint);
    let color = b.enum_("color", 4, false, &[("RED", 0), ("GREEN", 1)]);
    let key = b.struct_(
        "key",
        24,
        &[
            ("id", u32_t, 0, 0),
            ("lh", plh, 64, 0),
            ("c", color, 128, 0),
        ],
    );
    let un = b.union_("", 8, &[("a", int, 0, 0), ("b", long, 0, 0)]);
    let other = TypeId(un.0 + 3);
    let pother = b.reference(Kind::Ptr, "", other);
    let val = b.struct_(
        "val",
        64,
        &[
            ("k", key, 0, 0),
            ("lh", lh, 192, 0),
            ("n", u32_t, 320, 0),
            ("u", un, 384, 0),
            ("o", pother, 448, 0),
        ],
    );
    assert_eq!(b.struct_("other", 4, &[("z", int, 0, 0)]), other);
    b.struct_("unused", 4, &[("q", int, 0, 0)]);
    (b, key, val)
}

#[test]
fn root_ids_follow_bpftool_map_dump() {
    let (b, key, val) = roots_btf();
    let bytes = b.encode(Endian::Little);
    let dir = case_dir();
    if std::env::var_os("BTFX_RECORD_C_CASES").is_some() {
        std::fs::write(dir.join("roots.btf"), &bytes).unwrap();
        std::fs::write(dir.join("roots.ids"), format!("{key} {val}\n")).unwrap();
    }
    assert_eq!(std::fs::read(dir.join("roots.btf")).unwrap(), bytes);
    let ids = std::fs::read_to_string(dir.join("roots.ids")).unwrap();
    assert_eq!(ids.trim(), format!("{key} {val}"));
    let oracle = std::fs::read(dir.join("roots.h"))
        .unwrap_or_else(|e| panic!("roots.h ({e}): run fixtures/oracle/c-cases/record-roots.sh"));
    let btf = Btf::parse(&bytes[..]).unwrap();
    // --type maps a name to every type of that name.
    assert_eq!(btf::dump::c::ids_by_name(&btf, "key"), [key]);
    assert_eq!(btf::dump::c::ids_by_name(&btf, "val"), [val]);
    let mut out = Vec::new();
    btf::dump::c::dump_c_ids(&btf, [key, val], &mut out).unwrap();
    check("roots", &out, &oracle);
    // `--type` with raw: just those records, as bpftool's map dump.
    let mut raw = Vec::new();
    btf::dump::raw::dump_raw_ids(&btf, &[key, val], &mut raw);
    check(
        "roots (raw)",
        &raw,
        &std::fs::read(dir.join("roots.raw")).unwrap(),
    );
}

// ---------------------------------------------------------------------------
// Hostile input.

fn dump_result(bytes: &[u8]) -> Option<btf::Result<Vec<u8>>> {
    let btf = Btf::parse(bytes).ok()?;
    let mut out = Vec::new();
    Some(btf::dump::c::dump_c(&btf, &mut out).map(|()| out))
}

#[test]
fn struct_embedding_itself_is_an_unsatisfiable_cycle() {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    // struct a { int x; struct a self; } (id 2 refers to itself).
    b.struct_("a", 8, &[("x", int, 0, 0), ("self", TypeId(2), 32, 0)]);
    let r = dump_result(&b.encode(Endian::Little)).expect("parses");
    assert_eq!(
        r.unwrap_err(),
        Error::Loop {
            id: TypeId(2),
            kind: Kind::Struct
        }
    );
}

#[test]
fn anonymous_struct_pointing_to_itself_is_an_error_not_a_hang() {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    // struct { int x; <anon> *next; } [2], ptr [3]
    b.struct_("", 16, &[("x", int, 0, 0), ("next", TypeId(3), 64, 0)]);
    b.reference(Kind::Ptr, "", TypeId(2));
    b.struct_("holder", 16, &[("s", TypeId(2), 0, 0)]);
    let r = dump_result(&b.encode(Endian::Little)).expect("parses");
    assert!(matches!(r, Err(Error::Loop { id: TypeId(2), .. })), "{r:?}");
}

#[test]
fn absurd_struct_size_is_refused() {
    let mut b = Builder::new();
    b.struct_("huge", u32::MAX, &[]);
    let r = dump_result(&b.encode(Endian::Little)).expect("parses");
    assert!(
        matches!(
            r,
            Err(Error::Unresolvable {
                id: TypeId(1),
                kind: Kind::Struct,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn absurd_nesting_is_refused() {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    let mut t = int;
    for _ in 0..5000 {
        t = b.array(t, int, 1);
    }
    b.struct_("deep", 4, &[("a", t, 0, 0)]);
    let r = dump_result(&b.encode(Endian::Little)).expect("parses");
    assert!(matches!(r, Err(Error::TooDeep { .. })), "{r:?}");
}

/// Flips bytes of a rich BTF blob many times over: each mutant that still
/// parses must dump to an error or a header, without panicking.
#[test]
fn mutated_blobs_never_panic() {
    let data = std::fs::read(fixtures().join("bpf/core_fields.bpf.o")).unwrap();
    let btf_bytes = btf::btf_section(&data).unwrap().into_owned();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut parsed = 0;
    for _ in 0..3000 {
        let mut m = btf_bytes.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % m.len();
            m[i] = next() as u8;
        }
        if let Some(r) = dump_result(&m) {
            parsed += 1;
            if let Ok(out) = r {
                assert!(out.ends_with(b"#endif /* __VMLINUX_H__ */\n"));
            }
        }
    }
    assert!(parsed > 100, "only {parsed} mutants parsed");
}
