//! `btf::graph::compare` on kernels against copies of themselves written in
//! another order (equal), with one member moved (one root, its referrers
//! counted by an independent walk), 6.1 against 6.12 (per-kind counts as
//! bpftool reports them in fixtures/kernels/README.md), split module BTF,
//! and crafted cycles.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use btf::graph::{compare, Difference, ItemDiff};
use btf::write::{reorder, Builder};
use btf::{Btf, Endian, IntEncoding, Kind, TypeId};

fn kernel(name: &str) -> Vec<u8> {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/kernels")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The local types of `btf` written in reverse order.
fn reversed(btf: &Btf<'_>) -> Vec<u8> {
    let mut order: Vec<TypeId> = btf.types().map(|t| t.id()).collect();
    order.reverse();
    reorder(btf, &order, Endian::Little).unwrap()
}

/// Per-kind counts of the README (bpftool `format raw`), as (kind, count).
fn readme_counts(file: &str) -> Vec<(String, u32)> {
    let readme = String::from_utf8(kernel("README.md")).unwrap();
    let prefix = format!("- `{file}`: ");
    let line = readme
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no counts for {file} in README"));
    let mut v: Vec<(String, u32)> = line[prefix.len()..]
        .split(", ")
        .map(|kv| {
            let (k, n) = kv.split_once(' ').unwrap();
            (k.to_owned(), n.parse().unwrap())
        })
        .collect();
    v.sort();
    v
}

fn counts(d: &btf::graph::GraphDiff, a: bool) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = d
        .kinds
        .iter()
        .map(|k| (k.kind.to_string(), if a { k.a } else { k.b }))
        .filter(|e| e.1 > 0)
        .collect();
    v.sort();
    v
}

#[test]
fn kernel_equals_itself_renumbered() {
    let data = kernel("x86_64-6.1.btf");
    let a = Btf::parse(&data[..]).unwrap();
    let rev = reversed(&a);
    assert_ne!(rev, data, "the copy has other ids and strings");
    let b = Btf::parse(&rev[..]).unwrap();
    assert_eq!(b.get(TypeId(1)).unwrap().kind(), Kind::Datasec);
    let t = std::time::Instant::now();
    let d = compare(&a, &b).unwrap();
    eprintln!(
        "6.1 vs 6.1 reversed: {:?}, {} rounds",
        t.elapsed(),
        d.rounds
    );
    assert!(d.is_equal());
    assert_eq!(d.matched, 100750);
    assert_eq!(d.classes, 100750);
    assert_eq!(d.matched_multiple, 0);
    assert!(d.roots.is_empty() && d.dependents_a.is_empty() && d.dependents_b.is_empty());
    assert_eq!(counts(&d, true), readme_counts("x86_64-6.1"));
    assert_eq!(counts(&d, false), readme_counts("x86_64-6.1"));
}

/// Every type that reaches `target` by references (itself included),
/// walked over the `Type` API.
fn reaching(btf: &Btf<'_>, target: TypeId) -> HashSet<TypeId> {
    let mut referrers: Vec<Vec<TypeId>> = vec![Vec::new(); btf.type_count() as usize];
    for t in btf.types() {
        let mut refs: Vec<TypeId> = Vec::new();
        match t.kind() {
            Kind::Struct | Kind::Union => refs.extend(t.members().map(|m| m.ty)),
            Kind::FuncProto => {
                refs.push(t.type_ref());
                refs.extend(t.params().map(|p| p.ty));
            }
            Kind::Array => {
                let a = t.array().unwrap();
                refs.extend([a.elem, a.index]);
            }
            Kind::Datasec => refs.extend(t.datasec_vars().map(|v| v.ty)),
            k if k.has_type_ref() => refs.push(t.type_ref()),
            _ => {}
        }
        for r in refs {
            referrers[r.get() as usize].push(t.id());
        }
    }
    let mut seen = HashSet::from([target]);
    let mut queue = VecDeque::from([target]);
    while let Some(x) = queue.pop_front() {
        for &p in &referrers[x.get() as usize] {
            if seen.insert(p) {
                queue.push_back(p);
            }
        }
    }
    seen
}

#[test]
fn one_member_offset_changed_is_the_only_root() {
    let data = kernel("x86_64-6.1.btf");
    let a = Btf::parse(&data[..]).unwrap();
    let rev = reversed(&a);
    let b = Btf::parse(&rev[..]).unwrap();
    // struct rtc_time's member 1 (tm_min) moves from bit 32 to bit 64.
    let id = b.find_by_name_kind("rtc_time", Kind::Struct).unwrap();
    let t = b.get(id).unwrap();
    let m: Vec<_> = t.members().collect();
    assert_eq!((b.name(m[1].name_off), m[1].bit_offset), ("tm_min", 32));
    let at = b.type_offset(id).unwrap() as usize + 12 + 12 + 8;
    let mut patched = rev.clone();
    patched[at..at + 4].copy_from_slice(&64u32.to_le_bytes());
    let b = Btf::parse(&patched[..]).unwrap();

    let d = compare(&a, &b).unwrap();
    assert!(!d.is_equal());
    let a_id = a.find_by_name_kind("rtc_time", Kind::Struct).unwrap();
    assert_eq!(d.roots.len(), 1, "{:#?}", &d.roots[..d.roots.len().min(5)]);
    let r = &d.roots[0];
    assert_eq!((r.kind, r.name.as_str()), (Kind::Struct, "rtc_time"));
    assert_eq!((r.a, r.b), (Some(a_id), Some(id)));
    assert!(r.a_is_root && r.b_is_root && r.via.is_none());
    assert_eq!(
        r.difference,
        Difference::Item {
            item: "member",
            index: 1,
            name: "tm_min".into(),
            what: ItemDiff::Offset { a: 32, b: 64 },
        }
    );
    assert_eq!(
        r.to_string(),
        format!("STRUCT rtc_time [A {a_id} / B {id}]: member 1 'tm_min': offset 32 vs 64")
    );
    // Everything that reaches rtc_time differs through it, on both sides.
    let reach_a = reaching(&a, a_id);
    let reach_b = reaching(&b, id);
    assert_eq!(reach_a.len(), reach_b.len());
    assert_eq!(d.dependents_a.len(), reach_a.len() - 1);
    assert_eq!(d.dependents_b.len(), reach_b.len() - 1);
    assert!(d.dependents_a.iter().all(|x| reach_a.contains(x)));
    assert_eq!(d.dependents_a.len(), 130);
    assert_eq!(d.only_a.len(), 131);
    assert_eq!(d.matched, 100750 - 131);
    assert_eq!((d.roots_a, d.roots_b), (1, 1));
}

#[test]
fn kernels_6_1_and_6_12() {
    let (da, db) = (kernel("x86_64-6.1.btf"), kernel("x86_64-6.12.btf"));
    let (a, b) = (Btf::parse(&da[..]).unwrap(), Btf::parse(&db[..]).unwrap());
    let t = std::time::Instant::now();
    let d = compare(&a, &b).unwrap();
    eprintln!("6.1 vs 6.12: {:?}, {} rounds", t.elapsed(), d.rounds);
    assert_eq!(counts(&d, true), readme_counts("x86_64-6.1"));
    assert_eq!(counts(&d, false), readme_counts("x86_64-6.12"));
    assert!(!d.is_equal());
    assert_eq!(d.classes, 184406);
    assert_eq!(d.matched, 29112);
    assert_eq!((d.only_a.len(), d.only_b.len()), (71638, 83656));
    assert_eq!((d.roots_a, d.roots_b), (6388, 14163));
    assert_eq!(d.roots.len(), 17680);
    assert_eq!((d.dependents_a.len(), d.dependents_b.len()), (65250, 69493));
    assert!(d.multiplicity.is_empty());
    // char became unsigned in 6.2 (-funsigned-char).
    let char_root = d.roots.iter().find(|r| r.name == "char").unwrap();
    assert_eq!(
        char_root.to_string(),
        "INT char [A 13 / B 7]: encoding 1 vs 0"
    );
    // The order of the inputs does not matter.
    let e = compare(&b, &a).unwrap();
    assert_eq!((e.roots_a, e.roots_b), (d.roots_b, d.roots_a));
    assert_eq!(e.classes, d.classes);
}

#[test]
fn split_module_equals_itself_renumbered() {
    let base = Arc::new(Btf::parse(kernel("x86_64-6.12.btf")).unwrap());
    let data = kernel("modules/ext4.btf");
    let a = Btf::parse_split(&data[..], base.clone()).unwrap();
    let rev = reversed(&a);
    let b = Btf::parse_split(&rev[..], base.clone()).unwrap();
    assert_eq!(b.start_id(), TypeId(112769));
    let d = compare(&a, &b).unwrap();
    assert!(d.is_equal());
    assert_eq!(d.matched, 3074);
    assert_eq!(counts(&d, true), readme_counts("modules/ext4"));

    // Another module over the same base: compared, not equal.
    let bbr = kernel("modules/tcp_bbr.btf");
    let c = Btf::parse_split(&bbr[..], base.clone()).unwrap();
    let d = compare(&a, &c).unwrap();
    assert!(!d.is_equal());
    assert_eq!(d.only_a.len() + d.matched as usize, 3074);

    // Split against standalone: refused.
    assert!(matches!(compare(&a, &base), Err(btf::Error::Split(_))));
}

#[test]
fn split_over_different_bases_is_refused() {
    let b612 = Arc::new(Btf::parse(kernel("x86_64-6.12.btf")).unwrap());
    let mut other = kernel("x86_64-6.12.btf");
    let n = other.len();
    other[n - 2] ^= 1; // a character of the last string
    let other = Arc::new(Btf::parse(other).unwrap());
    let data = kernel("modules/tcp_bbr.btf");
    let a = Btf::parse_split(&data[..], b612).unwrap();
    let b = Btf::parse_split(&data[..], other).unwrap();
    let e = compare(&a, &b).unwrap_err();
    assert!(e.to_string().contains("different bases"), "{e}");
}

/// `struct A { struct B *b; }; struct B { struct A *a; [int x;] }`.
fn cycle(extra_member: bool, reverse: bool) -> Vec<u8> {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    // ids: 1 int, 2 A, 3 B, 4 PTR->A, 5 PTR->B
    b.struct_("A", 8, &[("b", TypeId(5), 0, 0)]);
    if extra_member {
        b.struct_("B", 16, &[("a", TypeId(4), 0, 0), ("x", int, 64, 0)]);
    } else {
        b.struct_("B", 8, &[("a", TypeId(4), 0, 0)]);
    }
    b.reference(Kind::Ptr, "", TypeId(2));
    b.reference(Kind::Ptr, "", TypeId(3));
    let bytes = b.encode(Endian::Little);
    if !reverse {
        return bytes;
    }
    let btf = Btf::parse(&bytes[..]).unwrap();
    reversed(&btf)
}

#[test]
fn cycles_equal_and_different() {
    let a = Btf::parse(cycle(false, false)).unwrap();
    let same = Btf::parse(cycle(false, true)).unwrap();
    let d = compare(&a, &same).unwrap();
    assert!(d.is_equal());
    assert_eq!(d.matched, 5);

    let more = Btf::parse(cycle(true, true)).unwrap();
    let d = compare(&a, &more).unwrap();
    assert!(!d.is_equal());
    // int matches; A, B and both pointers differ; B is the root.
    assert_eq!(d.matched, 1);
    assert_eq!(d.only_a, vec![TypeId(2), TypeId(3), TypeId(4), TypeId(5)]);
    assert_eq!(d.roots.len(), 1);
    let r = &d.roots[0];
    assert_eq!((r.kind, r.name.as_str()), (Kind::Struct, "B"));
    assert_eq!((r.a, r.b), (Some(TypeId(3)), Some(TypeId(3))));
    assert_eq!(
        r.to_string(),
        "STRUCT B [A 3 / B 3]: member 1 'x': only in B"
    );
    assert_eq!(d.dependents_a, vec![TypeId(2), TypeId(4), TypeId(5)]);
    assert_eq!(d.dependents_b, vec![TypeId(1), TypeId(2), TypeId(4)]);
}

#[test]
fn duplicates_on_one_side() {
    // Two equal self-referential lists in A, one in B.
    let list = |copies: u32| {
        let mut b = Builder::new();
        for k in 0..copies {
            let me = TypeId(2 * k + 1);
            b.struct_("list", 8, &[("next", TypeId(me.get() + 1), 0, 0)]);
            b.reference(Kind::Ptr, "", me);
        }
        Btf::parse(b.encode(Endian::Little)).unwrap()
    };
    let d = compare(&list(2), &list(1)).unwrap();
    assert!(!d.is_equal());
    assert!(d.only_a.is_empty() && d.only_b.is_empty());
    assert_eq!(d.multiplicity.len(), 2);
    assert_eq!(d.multiplicity[0].kind, Kind::Struct);
    assert_eq!(d.multiplicity[0].a, vec![TypeId(1), TypeId(3)]);
    assert_eq!(d.multiplicity[0].b, vec![TypeId(1)]);
    let d = compare(&list(2), &list(2)).unwrap();
    assert!(d.is_equal());
    assert_eq!((d.matched, d.matched_multiple), (0, 2));
}

#[test]
fn func_with_another_proto_is_a_root() {
    // f's parameter goes from int to long; both prototypes exist on both
    // sides (g and h use them), so only f differs, by itself.
    let build = |f_long: bool| {
        let mut b = Builder::new();
        let int = b.int("int", 4, IntEncoding::Signed);
        let long = b.int("long", 8, IntEncoding::Signed);
        let p_int = b.func_proto(int, &[("a", int)]);
        let p_long = b.func_proto(int, &[("a", long)]);
        b.func("g", p_int, 1);
        b.func("h", p_long, 1);
        b.func("f", if f_long { p_long } else { p_int }, 1);
        Btf::parse(b.encode(Endian::Little)).unwrap()
    };
    let d = compare(&build(false), &build(true)).unwrap();
    assert_eq!(d.roots.len(), 1);
    assert_eq!(
        d.roots[0].to_string(),
        "FUNC f [A 7 / B 7]: type int (*)(1 params) [3] vs int (*)(1 params) [4]"
    );
    assert!(d.dependents_a.is_empty() && d.dependents_b.is_empty());
    assert_eq!(d.matched, 6);
}

fn oracle(name: &str) -> Vec<u8> {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/oracle/graph")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// pahole -J's BTF of the same six compilation units built by clang and by
/// gcc (fixtures/oracle/graph/, scripts/record-graph-pahole.sh).
#[test]
fn pahole_btf_of_clang_and_gcc_builds() {
    let (c, cj, g) = (
        oracle("clang.btf"),
        oracle("clang-j.btf"),
        oracle("gcc.btf"),
    );
    let c = Btf::parse(&c[..]).unwrap();
    let d = compare(&c, &Btf::parse(&cj[..]).unwrap()).unwrap();
    assert!(d.is_equal());
    assert_eq!(d.matched, 171);

    let g = Btf::parse(&g[..]).unwrap();
    let d = compare(&c, &g).unwrap();
    assert!(!d.is_equal());
    let array = d.kinds.iter().find(|k| k.kind == Kind::Array).unwrap();
    assert_eq!((array.a, array.b), (15, 14));
    assert_eq!((d.classes, d.matched), (280, 61));
    assert_eq!((d.only_a.len(), d.only_b.len()), (110, 109));
    // The roots are the base types the compilers name differently, plus
    // clang's `__ARRAY_SIZE_TYPE__` and a char[3] gcc has no use for;
    // everything else differs through them.
    assert_eq!((d.roots_a, d.roots_b), (7, 6));
    assert_eq!((d.dependents_a.len(), d.dependents_b.len()), (103, 103));
    let lines: Vec<String> = d.roots.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        lines,
        [
            "INT __ARRAY_SIZE_TYPE__ [A 3 / B -]: no counterpart on the other side",
            "INT long [A 14 / B -]: no counterpart on the other side",
            "INT long int [A - / B 12]: no counterpart on the other side",
            "INT long long int [A - / B 46]: no counterpart on the other side",
            "INT long long unsigned int [A - / B 51]: no counterpart on the other side",
            "INT long unsigned int [A - / B 2]: no counterpart on the other side",
            "INT short [A 68 / B -]: no counterpart on the other side",
            "INT short int [A - / B 8]: no counterpart on the other side",
            "INT short unsigned int [A - / B 6]: no counterpart on the other side",
            "INT unsigned long [A 27 / B -]: no counterpart on the other side",
            "INT unsigned long long [A 105 / B -]: no counterpart on the other side",
            "INT unsigned short [A 15 / B -]: no counterpart on the other side",
            "ARRAY (anon) [A 1 / B -]: no counterpart on the other side",
        ]
    );
    // size_t (unsigned long / long unsigned int) differs through them.
    let size_t = c.find_by_name_kind("size_t", Kind::Typedef).unwrap();
    assert!(d.dependents_a.contains(&size_t));
}

/// A chain of `n` pointers ending in `int` (or `long`): each round of
/// refinement tells one more level apart.
fn chain(n: u32, long: bool) -> Btf<'static> {
    let mut b = Builder::new();
    let end = if long {
        b.int("long", 8, IntEncoding::Signed)
    } else {
        b.int("int", 4, IntEncoding::Signed)
    };
    let mut at = end;
    for _ in 0..n {
        at = b.reference(Kind::Ptr, "", at);
    }
    Btf::parse(b.encode(Endian::Little)).unwrap()
}

#[test]
fn long_chains_stay_fast() {
    let n = 100_000;
    let t = std::time::Instant::now();
    let d = compare(&chain(n, false), &chain(n, true)).unwrap();
    eprintln!("chain of {n}: {:?}, {} rounds", t.elapsed(), d.rounds);
    assert_eq!(d.rounds, n);
    assert_eq!((d.only_a.len(), d.matched), (n as usize + 1, 0));
    assert_eq!(d.roots.len(), 2);
    assert_eq!(d.dependents_a.len(), n as usize);
    let d = compare(&chain(n, false), &chain(n, false)).unwrap();
    assert!(d.is_equal());
}

/// A Debian-shipped object (xdp-tools 1.3.1-1's xdp-dispatcher.o) against
/// its own BTF deduplicated: clang wrote 13 equal FUNC_PROTOs (`bpftool btf
/// dump file xdp-dispatcher.o | grep -c FUNC_PROTO` prints 13), dedup
/// keeps one; every other type is matched one-to-one.
#[test]
fn debian_object_against_its_dedup() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/bpf/real/libxdp1_1.3.1-1/xdp-dispatcher.o");
    let obj = std::fs::read(p).unwrap();
    let a = Btf::from_elf(&obj).unwrap();
    let mut app = btf::dedup::Appender::new();
    app.add(&a).unwrap();
    let deduped = app.dedup().unwrap().encode(Endian::Little);
    let b = Btf::parse(&deduped[..]).unwrap();
    let d = compare(&a, &b).unwrap();
    assert!(!d.is_equal());
    assert!(d.only_a.is_empty() && d.only_b.is_empty() && d.roots.is_empty());
    assert_eq!(d.matched, 35);
    assert_eq!(d.multiplicity.len(), 1);
    let m = &d.multiplicity[0];
    assert_eq!(m.kind, Kind::FuncProto);
    let ids: Vec<u32> = m.a.iter().map(|i| i.get()).collect();
    assert_eq!(ids, [5, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]);
    assert_eq!(m.b, [TypeId(5)]);
}
