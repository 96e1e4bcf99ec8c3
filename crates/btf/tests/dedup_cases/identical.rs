//! Crafted cases for libbpf's identical-structs workaround
//! (`btf_dedup_identical_structs`): a CU that holds two copies of one
//! struct, both used where the other CU uses a single one. The copies
//! only match when the comparison accepts two candidate-graph types
//! standing for the same canonical type because they are identical.
//!
//! Every case is the cycle `struct A { ...; struct S *p; }` and
//! `struct S { struct A x; struct A y; }`: the first CU has one `A`; the
//! second has two, `x` of the first copy and `y` of the second.

use btf::write::Builder;
use btf::{Btf, IntEncoding as E, Kind, TypeId};

use super::Crafted;

/// What `struct A` holds besides `p`, and how the copies of the second
/// CU differ.
#[derive(Clone, Copy, PartialEq)]
pub enum Member {
    /// Nothing: the copies are equal down to their member type ids.
    None,
    /// `struct B { int v; } b`, each copy with its own (identical) `B`.
    Struct,
    /// `union B { int v; } b`, each copy with its own (identical) `B`.
    Union,
    /// `int a[4]`, each copy with its own (identical) array type.
    Array,
    /// `struct B b`, the two copies' `B`s differing in a member's type
    /// (`int v` and `unsigned int v`): not identical.
    Differs,
    /// `struct T<n> b`, each copy with its own chain where `T<k>` holds a
    /// `T<k-1>`: identical copies nested deeper than any real struct.
    Chain(u32),
    /// Hostile: `struct A b`, each copy holding itself (C cannot say so;
    /// libbpf 1.1 recurses until its stack overflows).
    SelfNest,
    /// Hostile: `struct T<n> b`, each copy with its own tree where
    /// `T<k>` holds two members of one `T<k-1>` (2^n paths through n + 1
    /// types: libbpf 1.1 walks every path).
    Tree(u32),
}

/// One CU: `copies` copies of `struct A` (1 or 2) after an `int`, each
/// with its own nested member type. `b` is the builder (base or split).
fn cu(mut b: Builder, member: Member, copies: usize) -> Builder {
    let int = b.int("int", 4, E::Signed);
    let uint = if member == Member::Differs {
        b.int("unsigned int", 4, E::None)
    } else {
        int
    };
    let mut last = b.int("__ARRAY_SIZE_TYPE__", 4, E::None);
    let idx = last;
    // the nested member type of each copy
    let mut nested = Vec::new();
    for i in 0..copies {
        let t = match member {
            Member::None | Member::SelfNest => None,
            Member::Struct => Some(b.struct_("B", 4, &[("v", int, 0, 0)])),
            Member::Union => Some(b.union_("B", 4, &[("v", int, 0, 0)])),
            Member::Array => Some(b.array(int, idx, 4)),
            Member::Differs => {
                let v = if i == 0 { int } else { uint };
                Some(b.struct_("B", 4, &[("v", v, 0, 0)]))
            }
            Member::Chain(n) => {
                let mut t = b.struct_("T0", 4, &[("v", int, 0, 0)]);
                for k in 1..=n {
                    t = b.struct_(&format!("T{k}"), 4, &[("l", t, 0, 0)]);
                }
                Some(t)
            }
            Member::Tree(n) => {
                let mut t = b.struct_("T0", 4, &[("v", int, 0, 0)]);
                for k in 1..=n {
                    t = b.struct_(&format!("T{k}"), 4, &[("l", t, 0, 0), ("r", t, 0, 0)]);
                }
                Some(t)
            }
        };
        last = t.unwrap_or(last);
        nested.push(t);
    }
    // ids: the copies of A, then the pointer to S, then S
    let first_a = last.0 + 1;
    let (ptr, s) = (
        TypeId(first_a + copies as u32),
        TypeId(first_a + copies as u32 + 1),
    );
    // A: `b` (at most 16 bytes) at 0, `p` after it; S: two A's
    let b_size = if member == Member::Array { 16 } else { 8 };
    let size_a = if member == Member::None {
        8
    } else {
        b_size + 8
    };
    let mut a_ids = Vec::new();
    for (i, t) in nested.iter().enumerate() {
        let t = match (member, t) {
            (Member::SelfNest, _) => Some(TypeId(first_a + i as u32)),
            (_, t) => *t,
        };
        let id = match t {
            None => b.struct_("A", size_a, &[("p", ptr, 0, 0)]),
            Some(t) => b.struct_("A", size_a, &[("b", t, 0, 0), ("p", ptr, 8 * b_size, 0)]),
        };
        a_ids.push(id);
    }
    let got_ptr = b.reference(Kind::Ptr, "", s);
    let got_s = b.struct_(
        "S",
        2 * size_a,
        &[
            ("x", a_ids[0], 0, 0),
            ("y", a_ids[copies - 1], 8 * size_a, 0),
        ],
    );
    debug_assert_eq!((got_ptr, got_s), (ptr, s));
    b
}

/// Two CUs appended: one `A`, then two identical copies of it.
pub fn appended(name: &'static str, member: Member) -> Crafted {
    super::case(
        name,
        vec![cu(Builder::new(), member, 1), cu(Builder::new(), member, 2)],
    )
}

/// Hostile input for btfx alone (libbpf 1.1 crashes or runs for ages):
/// the CUs of [`appended`], each input's bytes.
pub fn hostile(member: Member) -> Vec<Vec<u8>> {
    appended("hostile", member).inputs
}

/// Split BTF: the base is the CU with one `A`; the split holds the two
/// copies.
pub fn split(name: &'static str, member: Member) -> Crafted {
    let base = super::le(&cu(Builder::new(), member, 1));
    let Ok(parsed) = Btf::parse(base.clone()) else {
        return Crafted {
            name,
            base: None,
            inputs: vec![],
        };
    };
    let sp = cu(Builder::new_split(&parsed), member, 2);
    Crafted {
        name,
        base: Some(base),
        inputs: vec![super::le(&sp)],
    }
}
