//! The first difference between a root and its counterpart, in words.

use std::fmt;

use super::build::Side;
use super::explain::Facts;
use crate::{Btf, Kind, Type, TypeId};

/// How deep a type description goes (`const struct foo **` is three).
const DESC_DEPTH: u32 = 6;

/// A referenced type: its id on its side and a short C-like description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    /// The type id.
    pub id: TypeId,
    /// `struct foo *`, `int`, `typedef u32`, `int[4]`...
    pub desc: String,
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.desc, self.id)
    }
}

/// What differs in one member, parameter, enumerator or DATASEC entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ItemDiff {
    /// Another name.
    Name {
        /// In A.
        a: String,
        /// In B.
        b: String,
    },
    /// Another bit offset (member) or byte offset (DATASEC entry).
    Offset {
        /// In A.
        a: u32,
        /// In B.
        b: u32,
    },
    /// Another bitfield size.
    BitfieldSize {
        /// In A.
        a: u32,
        /// In B.
        b: u32,
    },
    /// Another enumerator value.
    Value {
        /// In A.
        a: u64,
        /// In B.
        b: u64,
    },
    /// Another size (DATASEC entry).
    Size {
        /// In A.
        a: u32,
        /// In B.
        b: u32,
    },
    /// A reference to a type that differs.
    Type {
        /// In A.
        a: TypeRef,
        /// In B.
        b: TypeRef,
    },
    /// The item exists on one side only (the other has fewer).
    OnlyIn(Side),
}

/// The first difference between a root and its counterpart.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// No counterpart: nothing of this kind and name on the other side (for
    /// an anonymous root, nothing where it stands from its named referrer).
    Missing,
    /// The counterpart is of another kind.
    Kind {
        /// In A.
        a: Kind,
        /// In B.
        b: Kind,
    },
    /// A number of the record: `size`, `vlen`, `kind_flag`, `nelems`,
    /// `linkage`, `encoding`, `bits`, `bit offset`, `component`.
    Field {
        /// Which.
        field: &'static str,
        /// In A.
        a: u64,
        /// In B.
        b: u64,
    },
    /// A member, parameter, enumerator or DATASEC entry.
    Item {
        /// `member`, `param`, `value` or `var`.
        item: &'static str,
        /// Its position (from 0).
        index: u32,
        /// Its name (A's, or B's when only B has it).
        name: String,
        /// What differs.
        what: ItemDiff,
    },
    /// A reference of the record: `type`, `return type`, `element type`,
    /// `index type`.
    Ref {
        /// Which.
        field: &'static str,
        /// In A.
        a: TypeRef,
        /// In B.
        b: TypeRef,
    },
    /// A kind this code does not know: the records differ.
    Record,
    /// Nothing found that differs (both differ only through types that
    /// have no equal and share kind and name).
    Unexplained,
}

impl fmt::Display for ItemDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemDiff::Name { a, b } => write!(f, "name '{a}' vs '{b}'"),
            ItemDiff::Offset { a, b } => write!(f, "offset {a} vs {b}"),
            ItemDiff::BitfieldSize { a, b } => write!(f, "bitfield size {a} vs {b}"),
            ItemDiff::Value { a, b } => write!(f, "value {a} vs {b}"),
            ItemDiff::Size { a, b } => write!(f, "size {a} vs {b}"),
            ItemDiff::Type { a, b } => write!(f, "type {a} vs {b}"),
            ItemDiff::OnlyIn(Side::A) => f.write_str("only in A"),
            ItemDiff::OnlyIn(Side::B) => f.write_str("only in B"),
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Missing => f.write_str("no counterpart on the other side"),
            Difference::Kind { a, b } => write!(f, "kind {a} vs {b}"),
            Difference::Field { field, a, b } => write!(f, "{field} {a} vs {b}"),
            Difference::Item {
                item,
                index,
                name,
                what,
            } => write!(f, "{item} {index} '{name}': {what}"),
            Difference::Ref { field, a, b } => write!(f, "{field} {a} vs {b}"),
            Difference::Record => f.write_str("records differ (unknown kind)"),
            Difference::Unexplained => {
                f.write_str("differs only through types without an equal of the same names")
            }
        }
    }
}

/// A short C-like description of a type.
pub(crate) fn describe(btf: &Btf<'_>, id: TypeId) -> String {
    let mut s = String::new();
    desc_into(btf, id, DESC_DEPTH, &mut s);
    s
}

fn desc_into(btf: &Btf<'_>, id: TypeId, depth: u32, out: &mut String) {
    let Some(t) = btf.type_by_id(id) else {
        out.push('?');
        return;
    };
    if depth == 0 {
        out.push_str("...");
        return;
    }
    let name = btf.type_name(&t);
    let named = |out: &mut String, word: &str| {
        out.push_str(word);
        out.push(' ');
        out.push_str(if name.is_empty() { "(anon)" } else { name });
    };
    match t.kind() {
        Kind::Void => out.push_str("void"),
        Kind::Struct => named(out, "struct"),
        Kind::Union => named(out, "union"),
        Kind::Enum | Kind::Enum64 => named(out, "enum"),
        Kind::Fwd if t.fwd_is_union() => named(out, "union (fwd)"),
        Kind::Fwd => named(out, "struct (fwd)"),
        Kind::Func => named(out, "func"),
        Kind::Var => named(out, "var"),
        Kind::Datasec => named(out, "datasec"),
        Kind::Ptr => {
            desc_into(btf, t.type_ref(), depth - 1, out);
            out.push_str(" *");
        }
        Kind::Const | Kind::Volatile | Kind::Restrict => {
            out.push_str(match t.kind() {
                Kind::Const => "const ",
                Kind::Volatile => "volatile ",
                _ => "restrict ",
            });
            desc_into(btf, t.type_ref(), depth - 1, out);
        }
        Kind::TypeTag => {
            out.push_str("__tag(");
            out.push_str(name);
            out.push_str(") ");
            desc_into(btf, t.type_ref(), depth - 1, out);
        }
        Kind::DeclTag => named(out, "decl_tag"),
        Kind::Array => {
            if let Some(a) = t.array() {
                desc_into(btf, a.elem, depth - 1, out);
                out.push_str(&format!("[{}]", a.nelems));
            }
        }
        Kind::FuncProto => {
            desc_into(btf, t.type_ref(), depth - 1, out);
            out.push_str(&format!(" (*)({} params)", t.vlen()));
        }
        Kind::Int | Kind::Float | Kind::Typedef => out.push_str(name),
        Kind::Unknown(k) => out.push_str(&format!("kind {k}")),
    }
}

/// The first difference between node `i` (in A) and node `j` (in B).
pub(crate) fn first_difference(f: &Facts<'_, '_, '_, '_>, i: usize, j: usize) -> Difference {
    let g = f.g;
    let (_, ia) = g.id_of(i);
    let (_, ib) = g.id_of(j);
    let (Some(ta), Some(tb)) = (g.a.type_by_id(ia), g.b.type_by_id(ib)) else {
        return Difference::Unexplained;
    };
    Cmp { f, ta, tb }.run()
}

struct Cmp<'f, 'g, 'x, 'a, 'b, 't> {
    f: &'f Facts<'g, 'x, 'a, 'b>,
    ta: Type<'t>,
    tb: Type<'t>,
}

/// Returns from the enclosing function when the two differ.
macro_rules! check {
    ($e:expr) => {
        if let Some(d) = $e {
            return d;
        }
    };
}

impl Cmp<'_, '_, '_, '_, '_, '_> {
    fn field(&self, field: &'static str, a: u64, b: u64) -> Option<Difference> {
        (a != b).then_some(Difference::Field { field, a, b })
    }

    /// Whether the references `a` (in A) and `b` (in B) differ by themselves.
    fn refs_differ(&self, a: TypeId, b: TypeId) -> bool {
        let g = self.f.g;
        match (g.slot_of(Side::A, a), g.slot_of(Side::B, b)) {
            (Some(sa), Some(sb)) => self.f.refs_differ(sa, sb),
            _ => a != b,
        }
    }

    fn refs(&self, a: TypeId, b: TypeId) -> (TypeRef, TypeRef) {
        (
            TypeRef {
                id: a,
                desc: describe(self.f.g.a, a),
            },
            TypeRef {
                id: b,
                desc: describe(self.f.g.b, b),
            },
        )
    }

    fn reference(&self, field: &'static str, a: TypeId, b: TypeId) -> Option<Difference> {
        self.refs_differ(a, b).then(|| {
            let (a, b) = self.refs(a, b);
            Difference::Ref { field, a, b }
        })
    }

    fn name_a(&self, off: crate::StrOffset) -> String {
        self.f.g.a.name(off).to_owned()
    }

    fn name_b(&self, off: crate::StrOffset) -> String {
        self.f.g.b.name(off).to_owned()
    }

    fn item(&self, item: &'static str, index: usize, name: String, what: ItemDiff) -> Difference {
        Difference::Item {
            item,
            index: index as u32,
            name,
            what,
        }
    }

    /// Items of both sides compared in order; `cmp` gives the first
    /// difference of a pair; then the one side's extra items.
    fn items<T: Copy>(
        &self,
        item: &'static str,
        a: impl Iterator<Item = T>,
        b: impl Iterator<Item = T>,
        name_a: impl Fn(&T) -> String,
        name_b: impl Fn(&T) -> String,
        cmp: impl Fn(&T, &T) -> Option<ItemDiff>,
    ) -> Option<Difference> {
        let (a, b): (Vec<T>, Vec<T>) = (a.collect(), b.collect());
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            let (nx, ny) = (name_a(x), name_b(y));
            if nx != ny {
                return Some(self.item(item, k, nx.clone(), ItemDiff::Name { a: nx, b: ny }));
            }
            if let Some(what) = cmp(x, y) {
                return Some(self.item(item, k, nx, what));
            }
        }
        let k = a.len().min(b.len());
        if let Some(x) = a.get(k) {
            return Some(self.item(item, k, name_a(x), ItemDiff::OnlyIn(Side::A)));
        }
        if let Some(y) = b.get(k) {
            return Some(self.item(item, k, name_b(y), ItemDiff::OnlyIn(Side::B)));
        }
        None
    }

    fn type_item(&self, a: TypeId, b: TypeId) -> Option<ItemDiff> {
        self.refs_differ(a, b).then(|| {
            let (a, b) = self.refs(a, b);
            ItemDiff::Type { a, b }
        })
    }

    fn run(&self) -> Difference {
        let (ta, tb) = (&self.ta, &self.tb);
        if ta.kind() != tb.kind() {
            return Difference::Kind {
                a: ta.kind(),
                b: tb.kind(),
            };
        }
        match ta.kind() {
            Kind::Int => {
                if let (Some(x), Some(y)) = (ta.int(), tb.int()) {
                    check!(self.field("size", ta.size().into(), tb.size().into()));
                    check!(self.field("bits", x.bits.into(), y.bits.into()));
                    check!(self.field("bit offset", x.offset.into(), y.offset.into()));
                    let enc = |v: crate::IntEncoding| match v {
                        crate::IntEncoding::None => 0,
                        crate::IntEncoding::Signed => 1,
                        crate::IntEncoding::Char => 2,
                        crate::IntEncoding::Bool => 4,
                        crate::IntEncoding::Other(o) => o as u64,
                    };
                    check!(self.field("encoding", enc(x.encoding), enc(y.encoding)));
                }
            }
            Kind::Struct | Kind::Union => {
                check!(self.items(
                    "member",
                    ta.members(),
                    tb.members(),
                    |m| self.name_a(m.name_off),
                    |m| self.name_b(m.name_off),
                    |x, y| {
                        if x.bit_offset != y.bit_offset {
                            return Some(ItemDiff::Offset {
                                a: x.bit_offset,
                                b: y.bit_offset,
                            });
                        }
                        if x.bitfield_size != y.bitfield_size {
                            return Some(ItemDiff::BitfieldSize {
                                a: x.bitfield_size,
                                b: y.bitfield_size,
                            });
                        }
                        self.type_item(x.ty, y.ty)
                    },
                ));
                check!(self.field("size", ta.size().into(), tb.size().into()));
            }
            Kind::Enum | Kind::Enum64 => {
                check!(self.items(
                    "value",
                    ta.enum_values(),
                    tb.enum_values(),
                    |v| self.name_a(v.name_off),
                    |v| self.name_b(v.name_off),
                    |x, y| {
                        (x.value != y.value).then_some(ItemDiff::Value {
                            a: x.value,
                            b: y.value,
                        })
                    },
                ));
                check!(self.field("size", ta.size().into(), tb.size().into()));
            }
            Kind::FuncProto => {
                check!(self.reference("return type", ta.type_ref(), tb.type_ref()));
                check!(self.items(
                    "param",
                    ta.params(),
                    tb.params(),
                    |p| self.name_a(p.name_off),
                    |p| self.name_b(p.name_off),
                    |x, y| self.type_item(x.ty, y.ty),
                ));
            }
            Kind::Datasec => {
                check!(self.items(
                    "var",
                    ta.datasec_vars(),
                    tb.datasec_vars(),
                    |v| desc_name(self.f.g.a, v.ty),
                    |v| desc_name(self.f.g.b, v.ty),
                    |x, y| {
                        if x.offset != y.offset {
                            return Some(ItemDiff::Offset {
                                a: x.offset,
                                b: y.offset,
                            });
                        }
                        if x.size != y.size {
                            return Some(ItemDiff::Size {
                                a: x.size,
                                b: y.size,
                            });
                        }
                        self.type_item(x.ty, y.ty)
                    },
                ));
                check!(self.field("size", ta.size().into(), tb.size().into()));
            }
            Kind::Array => {
                if let (Some(x), Some(y)) = (ta.array(), tb.array()) {
                    check!(self.field("nelems", x.nelems.into(), y.nelems.into()));
                    check!(self.reference("element type", x.elem, y.elem));
                    check!(self.reference("index type", x.index, y.index));
                }
            }
            Kind::Func => {
                check!(self.field("linkage", ta.vlen().into(), tb.vlen().into()));
                check!(self.reference("type", ta.type_ref(), tb.type_ref()));
            }
            Kind::Var => {
                let l = |t: &Type<'_>| {
                    t.extra_bytes()
                        .get(..4)
                        .map_or(0, |b| t.endian().u32([b[0], b[1], b[2], b[3]]))
                };
                check!(self.field("linkage", l(ta).into(), l(tb).into()));
                check!(self.reference("type", ta.type_ref(), tb.type_ref()));
            }
            Kind::DeclTag => {
                let c = |t: &Type<'_>| t.decl_tag_component().unwrap_or(-1) as i64 as u64;
                check!(self.field("component", c(ta), c(tb)));
                check!(self.reference("type", ta.type_ref(), tb.type_ref()));
            }
            Kind::Ptr
            | Kind::Typedef
            | Kind::Const
            | Kind::Volatile
            | Kind::Restrict
            | Kind::TypeTag => {
                check!(self.reference("type", ta.type_ref(), tb.type_ref()));
            }
            Kind::Float => check!(self.field("size", ta.size().into(), tb.size().into())),
            Kind::Fwd | Kind::Void => {}
            Kind::Unknown(_) => {
                if ta.size_or_type() != tb.size_or_type() || ta.extra_bytes() != tb.extra_bytes() {
                    return Difference::Record;
                }
            }
        }
        check!(self.field("kind_flag", ta.kind_flag().into(), tb.kind_flag().into()));
        check!(self.field("vlen", ta.vlen().into(), tb.vlen().into()));
        Difference::Unexplained
    }
}

/// The name of a DATASEC entry's variable (`""` when it has none).
fn desc_name(btf: &Btf<'_>, id: TypeId) -> String {
    btf.type_by_id(id)
        .map(|t| btf.type_name(&t).to_owned())
        .unwrap_or_default()
}
