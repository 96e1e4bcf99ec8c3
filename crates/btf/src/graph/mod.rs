//! Two BTFs compared as type graphs: the same types, whatever their ids
//! and the order of their strings?
//!
//! Two encoders of the same program (pahole, a compiler, btfx) number
//! types and lay out strings differently, so their bytes say nothing. Here
//! the types of both inputs are nodes of one graph, and two types are
//! *equal* when no walk from them can tell them apart: same kind, same
//! name, same size, same members with the same offsets... and, position
//! by position, references to equal types. That is a bisimulation,
//! computed by partition refinement (refine.rs); cycles (a struct holding
//! a pointer to itself) need no special care.
//!
//! Types that are equal form a *class*. A class with one type on each side
//! is matched one-to-one; a class found on one side only holds types that
//! have no equal on the other side; a class with different counts on each
//! side is a duplicate on one side.
//!
//! For the explanation, a type without an equal is a *root* when it
//! differs by itself: no type on the other side without an equal agrees
//! with it once every reference to a type without an equal is read as
//! just its kind and name, or only its kind when nothing of that kind and
//! name exists on the other side (a struct whose member moved, a FUNC
//! whose prototype is another one; not a typedef of `long` against one of
//! `long int`: the two INTs are the roots there). An anonymous type
//! without a counterpart that references a type without an equal (a
//! pointer to a new struct) is a dependent too. The others are *dependents*: they differ
//! only because something they reference differs (a pointer to that
//! struct, the struct holding the pointer...). A root is paired with the
//! type of the same kind and name on the other side (for an anonymous
//! root: the one reached the same way from the nearest named type that
//! references it), and the first difference between the two is named.
//!
//! Split BTFs are compared over the same base: base types are fixed
//! points, equal only to themselves (the same id).
//!
//! The `dedup` module is not used: it resolves forward declarations and
//! never merges VAR and DATASEC, where this comparison takes every type
//! as written.
//!
//! ```
//! use btf::{graph, write::Builder, Btf, Endian, IntEncoding, Kind, TypeId};
//! let mut a = Builder::new();
//! let int = a.int("int", 4, IntEncoding::Signed);
//! let ptr = a.reference(Kind::Ptr, "", TypeId(3)); // to `node`, defined next
//! a.struct_("node", 16, &[("val", int, 0, 0), ("next", ptr, 64, 0)]);
//!
//! // The same types, another order.
//! let mut b = Builder::new();
//! let ptr = b.reference(Kind::Ptr, "", TypeId(3));
//! let int = b.int("int", 4, IntEncoding::Signed);
//! b.struct_("node", 16, &[("val", int, 0, 0), ("next", ptr, 64, 0)]);
//!
//! let (a, b) = (Btf::parse(a.encode(Endian::Little))?, Btf::parse(b.encode(Endian::Big))?);
//! let d = graph::compare(&a, &b)?;
//! assert!(d.is_equal());
//! assert_eq!(d.matched, 3);
//! # Ok::<(), btf::Error>(())
//! ```

mod build;
mod describe;
mod explain;
mod intern;
mod refine;

use std::fmt;

pub use build::Side;
pub use describe::{Difference, ItemDiff, TypeRef};

use crate::{Btf, Kind, Result, TypeId};

/// How many types of one kind each side holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindCount {
    /// The kind.
    pub kind: Kind,
    /// Types of that kind in A (local types only, for split BTF).
    pub a: u32,
    /// Types of that kind in B.
    pub b: u32,
}

/// Types that are equal to each other, in different numbers on each side
/// (a type duplicated on one side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multiplicity {
    /// Their kind.
    pub kind: Kind,
    /// Their name (`""` when anonymous).
    pub name: String,
    /// Their ids in A.
    pub a: Vec<TypeId>,
    /// Their ids in B.
    pub b: Vec<TypeId>,
}

/// A type that differs by itself, with its counterpart on the other side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// Its kind.
    pub kind: Kind,
    /// Its name (`""` when anonymous).
    pub name: String,
    /// The type in A (the root, or the counterpart of a root of B).
    pub a: Option<TypeId>,
    /// The type in B.
    pub b: Option<TypeId>,
    /// Whether the type in A is itself a root (else it is only the
    /// counterpart of the root in B).
    pub a_is_root: bool,
    /// Whether the type in B is itself a root.
    pub b_is_root: bool,
    /// For an anonymous root: the nearest named type referencing it, through
    /// which its counterpart was found.
    pub via: Option<(Kind, String)>,
    /// The first difference between the two (or [`Difference::Missing`]).
    pub difference: Difference,
}

/// What [`compare`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphDiff {
    /// Per kind, how many types each side holds (kinds present on either
    /// side, in kind number order).
    pub kinds: Vec<KindCount>,
    /// Number of distinct types (classes) over both sides.
    pub classes: u32,
    /// Classes with exactly one type on each side.
    pub matched: u32,
    /// Classes with the same number (two or more) of types on each side.
    pub matched_multiple: u32,
    /// Types of A with no equal in B, in id order.
    pub only_a: Vec<TypeId>,
    /// Types of B with no equal in A, in id order.
    pub only_b: Vec<TypeId>,
    /// Classes on both sides whose numbers of types differ.
    pub multiplicity: Vec<Multiplicity>,
    /// The types that differ by themselves, with their counterparts,
    /// sorted by kind number, name and ids.
    pub roots: Vec<Root>,
    /// Number of roots in A (each counted once, though a root of A may also
    /// stand as the counterpart of roots of B).
    pub roots_a: usize,
    /// Number of roots in B.
    pub roots_b: usize,
    /// Types of A with no equal in B that are not roots, in id order.
    pub dependents_a: Vec<TypeId>,
    /// Types of B with no equal in A that are not roots, in id order.
    pub dependents_b: Vec<TypeId>,
    /// Rounds of refinement run.
    pub rounds: u32,
}

impl GraphDiff {
    /// True when both inputs hold the same type graph: every type has an
    /// equal on the other side, in the same number.
    pub fn is_equal(&self) -> bool {
        self.only_a.is_empty() && self.only_b.is_empty() && self.multiplicity.is_empty()
    }
}

/// Compares `a` and `b` as type graphs, up to id numbering and string
/// order. Both standalone, or both split over bases with the same bytes
/// (their local types are compared; base types are equal only to
/// themselves).
///
/// Fails only when the inputs cannot be compared (split over different
/// bases, one split and one not).
pub fn compare(a: &Btf<'_>, b: &Btf<'_>) -> Result<GraphDiff> {
    let g = build::Graph::build(a, b)?;
    let classes = refine::refine(&g);
    Ok(explain::explain(&g, &classes))
}

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = |x: Option<TypeId>, root: bool| match x {
            Some(id) if root => format!("{id}"),
            Some(id) => format!("({id})"),
            None => "-".to_owned(),
        };
        let name = if self.name.is_empty() {
            "(anon)"
        } else {
            &self.name
        };
        write!(
            f,
            "{} {} [A {} / B {}]",
            self.kind,
            name,
            id(self.a, self.a_is_root),
            id(self.b, self.b_is_root)
        )?;
        if let Some((k, n)) = &self.via {
            write!(f, " via {k} {n}")?;
        }
        write!(f, ": {}", self.difference)
    }
}
