//! Small crafted inputs, one per dedup rule, built with the Builder. Their
//! bytes are checked in under fixtures/oracle/dedup/crafted/ (written by
//! `BTFX_BLESS_DEDUP=1 cargo test -p btfx-btf --test dedup`), where
//! scripts/record-dedup.sh runs libbpf on them. identical.rs: the cases of
//! libbpf's identical-structs workaround.

pub mod identical;

use btf::write::Builder;
use btf::{Btf, Endian, IntEncoding as E, Kind};
use identical::Member;

/// A crafted case: its name, an optional base, the inputs appended in order.
pub struct Crafted {
    pub name: &'static str,
    pub base: Option<Vec<u8>>,
    pub inputs: Vec<Vec<u8>>,
}

fn le(b: &Builder) -> Vec<u8> {
    b.encode(Endian::Little)
}

fn case(name: &'static str, inputs: Vec<Builder>) -> Crafted {
    Crafted {
        name,
        base: None,
        inputs: inputs.iter().map(le).collect(),
    }
}

/// `struct A { int a; struct S *s; }` with S a FWD or `struct S { int x; }`.
fn fwd_to_struct() -> Crafted {
    let mut cu1 = Builder::new();
    let int = cu1.int("int", 4, E::Signed);
    let s = cu1.fwd("S", false);
    let ps = cu1.reference(Kind::Ptr, "", s);
    cu1.struct_("A", 16, &[("a", int, 0, 0), ("s", ps, 64, 0)]);
    let mut cu2 = Builder::new();
    let int = cu2.int("int", 4, E::Signed);
    let s = cu2.struct_("S", 4, &[("x", int, 0, 0)]);
    let ps = cu2.reference(Kind::Ptr, "", s);
    cu2.struct_("A", 16, &[("a", int, 0, 0), ("s", ps, 64, 0)]);
    // a FWD no graph reaches: resolved by name (unique)
    let mut cu3 = Builder::new();
    let f = cu3.fwd("S", false);
    cu3.reference(Kind::Ptr, "", f);
    case("fwd_to_struct", vec![cu1, cu2, cu3])
}

/// Two structs differing only in a member's name stay two.
fn member_name() -> Crafted {
    let mut cu1 = Builder::new();
    let int = cu1.int("int", 4, E::Signed);
    cu1.struct_("P", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
    let mut cu2 = Builder::new();
    let int = cu2.int("int", 4, E::Signed);
    cu2.struct_("P", 8, &[("a", int, 0, 0), ("c", int, 32, 0)]);
    let mut cu3 = Builder::new();
    let int = cu3.int("int", 4, E::Signed);
    cu3.struct_("P", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
    // same names, a different member type
    let ch = cu3.int("char", 1, E::Char);
    cu3.struct_("P", 8, &[("a", int, 0, 0), ("b", ch, 32, 0)]);
    case("member_name", vec![cu1, cu2, cu3])
}

/// Self and mutual cycles through pointers, twice.
fn cycles() -> Crafted {
    let cu = || {
        let mut b = Builder::new();
        let int = b.int("int", 4, E::Signed);
        let fwd_b = b.fwd("B", false);
        let pb = b.reference(Kind::Ptr, "", fwd_b);
        // node -> node
        let node_fwd = b.fwd("node", false);
        let pn = b.reference(Kind::Ptr, "", node_fwd);
        b.struct_("node", 16, &[("v", int, 0, 0), ("next", pn, 64, 0)]);
        let a = b.struct_("A", 8, &[("b", pb, 0, 0)]);
        let pa = b.reference(Kind::Ptr, "", a);
        b.struct_("B", 8, &[("a", pa, 0, 0)]);
        b
    };
    case("cycles", vec![cu(), cu()])
}

/// enum, enum64, enum forward declarations, signed and anonymous enums.
fn enums() -> Crafted {
    let mut cu1 = Builder::new();
    cu1.enum_("E", 4, false, &[]);
    cu1.enum_("", 4, false, &[("X", 1)]);
    cu1.enum_("S", 4, true, &[("M", -1)]);
    let mut cu2 = Builder::new();
    cu2.enum_("E", 4, false, &[("A", 1), ("B", 2)]);
    cu2.enum_("", 4, false, &[("X", 1)]);
    cu2.enum_("", 4, false, &[("Y", 1)]);
    cu2.enum_("S", 4, false, &[("M", 0xffff_ffff)]);
    let mut cu3 = Builder::new();
    cu3.enum64("E", 8, false, &[("A", 1), ("B", 1 << 40)]);
    cu3.enum_("E", 4, false, &[]);
    cu3.enum64("F", 8, false, &[]);
    cu3.enum64("F", 8, false, &[("Z", 3)]);
    cu3.enum_("E", 4, false, &[("A", 1), ("B", 2)]);
    case("enums", vec![cu1, cu2, cu3])
}

/// Arrays: equal, different counts, and a struct using two identical
/// array types (what compilers sometimes emit).
fn arrays() -> Crafted {
    let cu = |n: u32, dup: bool| {
        let mut b = Builder::new();
        let int = b.int("int", 4, E::Signed);
        let idx = b.int("__ARRAY_SIZE_TYPE__", 4, E::None);
        let a1 = b.array(int, idx, n);
        let a2 = if dup { b.array(int, idx, n) } else { a1 };
        b.struct_("W", 32, &[("x", a1, 0, 0), ("y", a2, 128, 0)]);
        b.array(a1, idx, 2);
        b
    };
    case("arrays", vec![cu(4, false), cu(4, true), cu(8, false)])
}

/// Function prototypes and functions: equal, differing parameter names,
/// variadic.
fn funcs() -> Crafted {
    let cu = |pname: &str| {
        let mut b = Builder::new();
        let int = b.int("int", 4, E::Signed);
        let ch = b.int("char", 1, E::Char);
        let pc = b.reference(Kind::Ptr, "", ch);
        let p = b.func_proto(int, &[("a", int), (pname, pc)]);
        b.func("f", p, 1);
        let v = b.func_proto(int, &[("fmt", pc), ("", btf::TypeId::VOID)]);
        b.func("printk", v, 2);
        let pf = b.reference(Kind::Ptr, "", p);
        b.struct_("ops", 8, &[("cb", pf, 0, 0)]);
        b
    };
    case("funcs", vec![cu("b"), cu("b"), cu("other")])
}

/// Declaration tags and type tags.
fn tags() -> Crafted {
    let cu = |tag: &str| {
        let mut b = Builder::new();
        let int = b.int("int", 4, E::Signed);
        let tt = b.reference(Kind::TypeTag, "user", int);
        let p = b.reference(Kind::Ptr, "", tt);
        let s = b.struct_("T", 8, &[("p", p, 0, 0)]);
        b.decl_tag(tag, s, -1);
        b.decl_tag(tag, s, 0);
        b
    };
    case("tags", vec![cu("a"), cu("a"), cu("b")])
}

/// FWDs with no unique struct: two different `struct S`, a union `U`
/// and a FWD of a struct named `U`.
fn fwd_ambiguous() -> Crafted {
    let mut cu1 = Builder::new();
    let int = cu1.int("int", 4, E::Signed);
    cu1.struct_("S", 4, &[("x", int, 0, 0)]);
    cu1.union_("U", 4, &[("x", int, 0, 0)]);
    let mut cu2 = Builder::new();
    let int = cu2.int("int", 4, E::Signed);
    cu2.struct_("S", 8, &[("x", int, 0, 0), ("y", int, 32, 0)]);
    let mut cu3 = Builder::new();
    cu3.fwd("S", false);
    cu3.fwd("U", false);
    cu3.fwd("U", true);
    case("fwd_ambiguous", vec![cu1, cu2, cu3])
}

/// libbpf's own example: two CUs each knowing half of S, A and B.
fn libbpf_example() -> Crafted {
    let mut cu1 = Builder::new();
    let int = cu1.int("int", 4, E::Signed);
    let s = cu1.fwd("S", false);
    let b = cu1.fwd("B", false);
    let a_fwd = cu1.fwd("A", false);
    let pa = cu1.reference(Kind::Ptr, "", a_fwd);
    let ps = cu1.reference(Kind::Ptr, "", s);
    let pb = cu1.reference(Kind::Ptr, "", b);
    let a = cu1.struct_(
        "A",
        24,
        &[
            ("a", int, 0, 0),
            ("self", pa, 64, 0),
            ("parent", ps, 128, 0),
        ],
    );
    let pa2 = cu1.reference(Kind::Ptr, "", a);
    cu1.struct_("S", 16, &[("a_ptr", pa2, 0, 0), ("b_ptr", pb, 64, 0)]);
    let mut cu2 = Builder::new();
    let int = cu2.int("int", 4, E::Signed);
    let s = cu2.fwd("S", false);
    let a = cu2.fwd("A", false);
    let b_fwd = cu2.fwd("B", false);
    let pbf = cu2.reference(Kind::Ptr, "", b_fwd);
    let ps = cu2.reference(Kind::Ptr, "", s);
    let b = cu2.struct_(
        "B",
        24,
        &[
            ("b", int, 0, 0),
            ("self", pbf, 64, 0),
            ("parent", ps, 128, 0),
        ],
    );
    let pa = cu2.reference(Kind::Ptr, "", a);
    let pb = cu2.reference(Kind::Ptr, "", b);
    cu2.struct_("S", 16, &[("a_ptr", pa, 0, 0), ("b_ptr", pb, 64, 0)]);
    case("libbpf_example", vec![cu1, cu2])
}

/// Modifiers, typedefs, floats, VAR and DATASEC (never merged).
fn misc() -> Crafted {
    let cu = || {
        let mut b = Builder::new();
        let int = b.int("int", 4, E::Signed);
        let c = b.reference(Kind::Const, "", int);
        let v = b.reference(Kind::Volatile, "", c);
        let td = b.reference(Kind::Typedef, "cvint", v);
        let p = b.reference(Kind::Ptr, "", td);
        b.reference(Kind::Restrict, "", p);
        b.float("double", 8);
        b.int("long", 8, E::Signed);
        let var = b.var("counter", int, 1);
        b.datasec(".data", 4, &[(var, 0, 4)]);
        b
    };
    case("misc", vec![cu(), cu()])
}

/// Split BTF: a base with `struct S` as a FWD and `struct A { S *s; }`;
/// the split defines S and its own A (which cannot collapse into the
/// base's: that would resolve a base FWD), plus types equal to base ones.
fn split_base_fwd() -> Crafted {
    let mut base = Builder::new();
    let int = base.int("int", 4, E::Signed);
    let s = base.fwd("S", false);
    let ps = base.reference(Kind::Ptr, "", s);
    base.struct_("A", 8, &[("s", ps, 0, 0)]);
    base.struct_("Q", 4, &[("q", int, 0, 0)]);
    let base_bytes = le(&base);
    let Ok(parsed) = Btf::parse(base_bytes.clone()) else {
        return Crafted {
            name: "split_base_fwd",
            base: None,
            inputs: vec![],
        };
    };
    let mut sp = Builder::new_split(&parsed);
    let int2 = sp.int("int", 4, E::Signed);
    let s2 = sp.struct_("S", 4, &[("x", int2, 0, 0)]);
    let ps2 = sp.reference(Kind::Ptr, "", s2);
    sp.struct_("A", 8, &[("s", ps2, 0, 0)]);
    sp.struct_("Q", 4, &[("q", int2, 0, 0)]);
    sp.reference(Kind::Ptr, "", int);
    Crafted {
        name: "split_base_fwd",
        base: Some(base_bytes),
        inputs: vec![le(&sp)],
    }
}

/// Split BTF over a base that holds equal types several times (a base is
/// not deduplicated): the split's `int` and `struct X` take whichever base
/// copy libbpf's candidate map walks first, which its growth reorders.
fn split_dup_base(name: &'static str, pad: usize, tail: usize) -> Crafted {
    let mut base = Builder::new();
    for round in 0..3 {
        let int = base.int("int", 4, E::Signed);
        base.struct_("X", 4, &[("a", int, 0, 0)]);
        for i in 0..pad * (round + 1) {
            base.int(&format!("pad{round}_{i}"), 4, E::None);
        }
    }
    for i in 0..tail {
        base.int(&format!("tail{i}"), 4, E::None);
    }
    let base_bytes = le(&base);
    let Ok(parsed) = Btf::parse(base_bytes.clone()) else {
        return Crafted {
            name,
            base: None,
            inputs: vec![],
        };
    };
    let mut sp = Builder::new_split(&parsed);
    let int = sp.int("int", 4, E::Signed);
    let x = sp.struct_("X", 4, &[("a", int, 0, 0)]);
    sp.reference(Kind::Ptr, "", x);
    Crafted {
        name,
        base: Some(base_bytes),
        inputs: vec![le(&sp)],
    }
}

/// Every crafted case.
pub fn all() -> Vec<Crafted> {
    vec![
        fwd_to_struct(),
        member_name(),
        cycles(),
        enums(),
        arrays(),
        funcs(),
        tags(),
        fwd_ambiguous(),
        libbpf_example(),
        misc(),
        split_base_fwd(),
        split_dup_base("split_dup_base_a", 1, 0),
        split_dup_base("split_dup_base_b", 3, 0),
        split_dup_base("split_dup_base_c", 7, 0),
        split_dup_base("split_dup_base_d", 1, 5),
        split_dup_base("split_dup_base_e", 2, 30),
        identical::appended("ident_structs", Member::None),
        identical::appended("ident_structs_nested", Member::Struct),
        identical::appended("ident_structs_union", Member::Union),
        identical::appended("ident_structs_array", Member::Array),
        identical::appended("ident_structs_differ", Member::Differs),
        identical::appended("ident_structs_tree", Member::Tree(16)),
        identical::appended("ident_structs_deep", Member::Chain(100)),
        identical::split("ident_structs_split", Member::None),
        identical::split("ident_structs_split_nested", Member::Struct),
    ]
}
