//! What changed between two BTFs, type by type.
//!
//! Types are matched by kind class and name (`struct x` with `struct x`,
//! an enum with an enum or enum64 of the same name); when a name occurs more
//! than once, the lowest id is taken. Members of anonymous structs and
//! unions are flattened into their parent at their absolute offsets, so a
//! member that moved into an anonymous union is reported as the same member.
//! A member that disappeared while another appeared at the same offset with
//! the same type is reported as renamed. Types are compared through their C
//! spelling ([`crate::path::c_type_name`]), so type ids never matter.
//!
//! The result is sorted (by kind, then name, then change), hence
//! deterministic.
//!
//! ```
//! use btf::{diff::{diff, Change}, write::Builder, Btf, Endian, IntEncoding};
//!
//! let mut a = Builder::new();
//! let int = a.int("int", 4, IntEncoding::Signed);
//! a.struct_("s", 8, &[("x", int, 0, 0), ("y", int, 32, 0)]);
//! let mut b = Builder::new();
//! let int = b.int("int", 4, IntEncoding::Signed);
//! b.struct_("s", 8, &[("x", int, 0, 0), ("z", int, 32, 0)]);
//! let (a, b) = (Btf::parse(a.encode(Endian::Little))?, Btf::parse(b.encode(Endian::Little))?);
//!
//! let d = diff(&a, &b, &[])?;
//! assert_eq!(d.len(), 1);
//! assert!(matches!(&d[0].change, Change::MemberRenamed { from, to, .. } if from == "y" && to == "z"));
//! # Ok::<(), btf::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::path::c_type_name;
use crate::{Btf, Error, Kind, Result, Type, TypeId, MAX_DEPTH};

/// The kinds compared, each a namespace of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// STRUCT.
    Struct,
    /// UNION.
    Union,
    /// ENUM and ENUM64.
    Enum,
    /// TYPEDEF.
    Typedef,
    /// FUNC.
    Func,
}

impl Class {
    fn of(k: Kind) -> Option<Class> {
        Some(match k {
            Kind::Struct => Class::Struct,
            Kind::Union => Class::Union,
            Kind::Enum | Kind::Enum64 => Class::Enum,
            Kind::Typedef => Class::Typedef,
            Kind::Func => Class::Func,
            _ => return None,
        })
    }

    /// The C keyword (`struct`, `union`, `enum`, `typedef`, `func`).
    pub fn word(self) -> &'static str {
        match self {
            Class::Struct => "struct",
            Class::Union => "union",
            Class::Enum => "enum",
            Class::Typedef => "typedef",
            Class::Func => "func",
        }
    }
}

/// One member of a struct or union (anonymous members flattened).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberDesc {
    /// Name (`(anon)` for an anonymous member that is not a struct/union).
    pub name: String,
    /// Offset in bits from the start of the outer type.
    pub bit_offset: u64,
    /// Bitfield width (0: not a bitfield).
    pub bitfield_size: u32,
    /// Size in bytes of the member's type.
    pub size: u64,
    /// The member's type in C spelling.
    pub c_type: String,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// The type exists only in B.
    TypeAdded,
    /// The type exists only in A.
    TypeRemoved,
    /// Struct/union/enum size in bytes changed.
    SizeChanged {
        /// Size in A.
        from: u64,
        /// Size in B.
        to: u64,
    },
    /// A member exists only in B.
    MemberAdded(MemberDesc),
    /// A member exists only in A.
    MemberRemoved(MemberDesc),
    /// Same offset and type, other name.
    MemberRenamed {
        /// Name in A.
        from: String,
        /// Name in B.
        to: String,
        /// Offset in bits.
        bit_offset: u64,
    },
    /// A member moved.
    MemberOffsetChanged {
        /// Member name.
        name: String,
        /// Bit offset in A.
        from: u64,
        /// Bit offset in B.
        to: u64,
    },
    /// A member's size (or bitfield width) changed.
    MemberSizeChanged {
        /// Member name.
        name: String,
        /// Size in A (bits for bitfields, else bytes).
        from: u64,
        /// Size in B.
        to: u64,
        /// True when the sizes are bitfield widths in bits.
        bits: bool,
    },
    /// A member's type changed (C spelling).
    MemberTypeChanged {
        /// Member name.
        name: String,
        /// Type in A.
        from: String,
        /// Type in B.
        to: String,
    },
    /// An enumerator exists only in B.
    ValueAdded {
        /// Name.
        name: String,
        /// Value (as i64 when the enum is signed, else u64, printed).
        value: String,
    },
    /// An enumerator exists only in A.
    ValueRemoved {
        /// Name.
        name: String,
        /// Value.
        value: String,
    },
    /// An enumerator's value changed.
    ValueChanged {
        /// Name.
        name: String,
        /// Value in A.
        from: String,
        /// Value in B.
        to: String,
    },
    /// A typedef's target, or a function's prototype, changed (C spelling).
    TargetChanged {
        /// In A.
        from: String,
        /// In B.
        to: String,
    },
}

/// A change to one named type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TypeChange {
    /// Kind class.
    pub class: Class,
    /// Type name.
    pub name: String,
    /// What changed.
    pub change: Change,
}

fn bits(b: u64) -> String {
    if b.is_multiple_of(8) {
        format!("{}", b / 8)
    } else {
        format!("{}:{}", b / 8, b % 8)
    }
}

impl fmt::Display for MemberDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} at offset {}",
            self.c_type,
            self.name,
            bits(self.bit_offset)
        )?;
        if self.bitfield_size != 0 {
            write!(f, " :{}", self.bitfield_size)?;
        }
        Ok(())
    }
}

impl fmt::Display for TypeChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.class.word(), self.name)?;
        match &self.change {
            Change::TypeAdded => write!(f, "added"),
            Change::TypeRemoved => write!(f, "removed"),
            Change::SizeChanged { from, to } => write!(f, "size {from} -> {to}"),
            Change::MemberAdded(m) => write!(f, "member added: {m}"),
            Change::MemberRemoved(m) => write!(f, "member removed: {m}"),
            Change::MemberRenamed {
                from,
                to,
                bit_offset,
            } => write!(
                f,
                "member renamed: {from} -> {to} at offset {}",
                bits(*bit_offset)
            ),
            Change::MemberOffsetChanged { name, from, to } => {
                write!(f, "member {name}: offset {} -> {}", bits(*from), bits(*to))
            }
            Change::MemberSizeChanged {
                name,
                from,
                to,
                bits: b,
            } => write!(
                f,
                "member {name}: {} {from} -> {to}",
                if *b { "bitfield size" } else { "size" }
            ),
            Change::MemberTypeChanged { name, from, to } => {
                write!(f, "member {name}: type {from} -> {to}")
            }
            Change::ValueAdded { name, value } => write!(f, "value added: {name} = {value}"),
            Change::ValueRemoved { name, value } => write!(f, "value removed: {name} = {value}"),
            Change::ValueChanged { name, from, to } => {
                write!(f, "value {name}: {from} -> {to}")
            }
            Change::TargetChanged { from, to } => write!(f, "{from} -> {to}"),
        }
    }
}

/// First id of every named type of the compared classes.
fn named(btf: &Btf<'_>) -> BTreeMap<(Class, String), TypeId> {
    let mut m = BTreeMap::new();
    for t in btf.types() {
        let Some(c) = Class::of(t.kind()) else {
            continue;
        };
        let name = btf.type_name(&t);
        if name.is_empty() {
            continue;
        }
        m.entry((c, name.to_owned())).or_insert(t.id());
    }
    m
}

/// Compares A and B. `names` restricts the comparison to types with these
/// names (any class; a name with a `struct `/`union `/`enum ` prefix
/// restricts the class too); empty compares every named struct, union,
/// enum, typedef and function.
pub fn diff(a: &Btf<'_>, b: &Btf<'_>, names: &[&str]) -> Result<Vec<TypeChange>> {
    let (na, nb) = (named(a), named(b));
    let wanted = |c: Class, n: &str| {
        names.is_empty()
            || names.iter().any(|w| match w.split_once(' ') {
                Some((tag, rest)) => tag == c.word() && rest == n,
                None => *w == n,
            })
    };
    let keys: BTreeSet<&(Class, String)> = na
        .keys()
        .chain(nb.keys())
        .filter(|(c, n)| wanted(*c, n))
        .collect();
    let mut out = Vec::new();
    for key in keys {
        let (class, name) = key;
        let push = |out: &mut Vec<TypeChange>, change| {
            out.push(TypeChange {
                class: *class,
                name: name.clone(),
                change,
            })
        };
        match (na.get(key), nb.get(key)) {
            (Some(_), None) => push(&mut out, Change::TypeRemoved),
            (None, Some(_)) => push(&mut out, Change::TypeAdded),
            (Some(&ia), Some(&ib)) => {
                let (ta, tb) = (a.get(ia)?, b.get(ib)?);
                let mut ch = Vec::new();
                compare(a, &ta, b, &tb, &mut ch)?;
                ch.sort();
                for c in ch {
                    push(&mut out, c);
                }
            }
            (None, None) => {}
        }
    }
    Ok(out)
}

fn compare(
    a: &Btf<'_>,
    ta: &Type<'_>,
    b: &Btf<'_>,
    tb: &Type<'_>,
    out: &mut Vec<Change>,
) -> Result<()> {
    match ta.kind() {
        Kind::Struct | Kind::Union => {
            if ta.size() != tb.size() {
                out.push(Change::SizeChanged {
                    from: ta.size().into(),
                    to: tb.size().into(),
                });
            }
            let mut ma = Vec::new();
            flatten(a, ta, 0, 0, &mut ma)?;
            let mut mb = Vec::new();
            flatten(b, tb, 0, 0, &mut mb)?;
            members(ma, mb, out);
        }
        Kind::Enum | Kind::Enum64 => {
            if ta.size() != tb.size() {
                out.push(Change::SizeChanged {
                    from: ta.size().into(),
                    to: tb.size().into(),
                });
            }
            let vals = |btf: &Btf<'_>, t: &Type<'_>| {
                let mut m = BTreeMap::new();
                for v in t.enum_values() {
                    let s = if v.signed {
                        v.as_i64().to_string()
                    } else {
                        v.value.to_string()
                    };
                    m.entry(btf.name(v.name_off).to_owned()).or_insert(s);
                }
                m
            };
            let (va, vb) = (vals(a, ta), vals(b, tb));
            for (n, x) in &va {
                match vb.get(n) {
                    None => out.push(Change::ValueRemoved {
                        name: n.clone(),
                        value: x.clone(),
                    }),
                    Some(y) if y != x => out.push(Change::ValueChanged {
                        name: n.clone(),
                        from: x.clone(),
                        to: y.clone(),
                    }),
                    Some(_) => {}
                }
            }
            for (n, y) in &vb {
                if !va.contains_key(n) {
                    out.push(Change::ValueAdded {
                        name: n.clone(),
                        value: y.clone(),
                    });
                }
            }
        }
        _ => {
            let (x, y) = (c_type_name(a, ta.type_ref()), c_type_name(b, tb.type_ref()));
            if x != y {
                out.push(Change::TargetChanged { from: x, to: y });
            }
        }
    }
    Ok(())
}

fn flatten(
    btf: &Btf<'_>,
    t: &Type<'_>,
    base: u64,
    depth: u32,
    out: &mut Vec<MemberDesc>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep {
            id: t.id(),
            depth: MAX_DEPTH,
        });
    }
    for m in t.members() {
        let off = base + u64::from(m.bit_offset);
        if m.name_off.is_anon() {
            let inner = btf.skip_mods_and_typedefs(m.ty)?;
            if inner.kind().is_composite() {
                flatten(btf, &inner, off, depth + 1, out)?;
                continue;
            }
        }
        let name = btf.name(m.name_off);
        out.push(MemberDesc {
            name: if name.is_empty() {
                "(anon)".into()
            } else {
                name.into()
            },
            bit_offset: off,
            bitfield_size: m.bitfield_size,
            size: btf.resolve_size(m.ty).unwrap_or(0),
            c_type: c_type_name(btf, m.ty),
        });
    }
    Ok(())
}

fn members(ma: Vec<MemberDesc>, mb: Vec<MemberDesc>, out: &mut Vec<Change>) {
    let by_name = |v: &[MemberDesc]| -> BTreeMap<String, MemberDesc> {
        let mut m = BTreeMap::new();
        for d in v {
            m.entry(d.name.clone()).or_insert_with(|| d.clone());
        }
        m
    };
    let (a, b) = (by_name(&ma), by_name(&mb));
    let mut removed: Vec<&MemberDesc> = Vec::new();
    for (n, x) in &a {
        let Some(y) = b.get(n) else {
            removed.push(x);
            continue;
        };
        if x.bit_offset != y.bit_offset {
            out.push(Change::MemberOffsetChanged {
                name: n.clone(),
                from: x.bit_offset,
                to: y.bit_offset,
            });
        }
        if x.bitfield_size != y.bitfield_size {
            out.push(Change::MemberSizeChanged {
                name: n.clone(),
                from: x.bitfield_size.into(),
                to: y.bitfield_size.into(),
                bits: true,
            });
        } else if x.size != y.size {
            out.push(Change::MemberSizeChanged {
                name: n.clone(),
                from: x.size,
                to: y.size,
                bits: false,
            });
        }
        if x.c_type != y.c_type {
            out.push(Change::MemberTypeChanged {
                name: n.clone(),
                from: x.c_type.clone(),
                to: y.c_type.clone(),
            });
        }
    }
    let mut added: Vec<&MemberDesc> = b
        .iter()
        .filter(|(n, _)| !a.contains_key(*n))
        .map(|(_, d)| d)
        .collect();
    for x in removed {
        let same = |y: &&MemberDesc| {
            y.bit_offset == x.bit_offset
                && y.c_type == x.c_type
                && y.bitfield_size == x.bitfield_size
        };
        if let Some(pos) = added.iter().position(same) {
            let y = added.remove(pos);
            out.push(Change::MemberRenamed {
                from: x.name.clone(),
                to: y.name.clone(),
                bit_offset: x.bit_offset,
            });
        } else {
            out.push(Change::MemberRemoved(x.clone()));
        }
    }
    for y in added {
        out.push(Change::MemberAdded(y.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::Builder;
    use crate::{Endian, IntEncoding};

    #[test]
    fn every_change_kind() {
        let mut a = Builder::new();
        let int = a.int("int", 4, IntEncoding::Signed);
        let long = a.int("long", 8, IntEncoding::Signed);
        a.struct_(
            "s",
            16,
            &[("x", int, 0, 0), ("y", int, 32, 0), ("gone", long, 64, 0)],
        );
        a.enum_("e", 4, false, &[("A", 0), ("B", 1), ("C", 2)]);
        a.reference(Kind::Typedef, "t", int);
        a.struct_("old", 4, &[("x", int, 0, 0)]);
        let mut b = Builder::new();
        let int = b.int("int", 4, IntEncoding::Signed);
        let long = b.int("long", 8, IntEncoding::Signed);
        let anon = b.union_("", 8, &[("y", long, 0, 0), ("w", int, 0, 0)]);
        b.struct_(
            "s",
            24,
            &[("x", int, 0, 3), ("", anon, 64, 0), ("new", long, 128, 0)],
        );
        b.enum_("e", 4, false, &[("A", 0), ("B", 5), ("D", 3)]);
        b.reference(Kind::Typedef, "t", long);
        b.struct_("fresh", 4, &[("x", int, 0, 0)]);
        for e in [Endian::Little, Endian::Big] {
            let pa = Btf::parse(a.encode(e)).unwrap();
            let pb = Btf::parse(b.encode(Endian::Little)).unwrap();
            let d: Vec<String> = diff(&pa, &pb, &[])
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect();
            assert_eq!(
                d,
                [
                    "struct fresh: added",
                    "struct old: removed",
                    "struct s: size 16 -> 24",
                    "struct s: member added: long new at offset 16",
                    "struct s: member added: int w at offset 8",
                    "struct s: member removed: long gone at offset 8",
                    "struct s: member y: offset 4 -> 8",
                    "struct s: member x: bitfield size 0 -> 3",
                    "struct s: member y: size 4 -> 8",
                    "struct s: member y: type int -> long",
                    "enum e: value added: D = 3",
                    "enum e: value removed: C = 2",
                    "enum e: value B: 1 -> 5",
                    "typedef t: int -> long",
                ]
            );
            let only = diff(&pa, &pb, &["enum e"]).unwrap();
            assert_eq!(only.len(), 3);
        }
    }
}
