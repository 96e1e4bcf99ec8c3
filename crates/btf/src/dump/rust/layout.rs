//! The Rust layout of a BTF struct or union: which fields to emit so that
//! `#[repr(C)]` reproduces the BTF's offsets and size exactly.
//!
//! Every gap C would fill with implicit padding gets an explicit `[u8; N]`
//! field, runs of bitfields become byte-array storage, the tail is padded to
//! the BTF size. The alignment is inferred from the BTF (it is not stored):
//! the largest member alignment, or 1 when a member is misaligned or the
//! size is not a multiple of it (packed, as libbpf's `btf__align_of`
//! decides), raised to a power of two when padding before a member or at
//! the end is only explained by an `aligned(N)` attribute (over-aligned).

use std::rc::Rc;

use hashbrown::HashSet;

use super::naming::ident;
use crate::{Btf, Error, Kind, Result, Type, TypeId, MAX_DEPTH};

/// Largest alignment inferred from padding (a page).
const MAX_INFERRED_ALIGN: u64 = 4096;

/// One bitfield member inside a storage field.
#[derive(Debug, Clone)]
pub(super) struct Bit {
    /// Accessor name (the C member name), `None` for an unnamed bitfield.
    pub(super) name: Option<String>,
    /// Member type (for the accessor's value type).
    pub(super) ty: TypeId,
    /// First bit, relative to the storage's first byte.
    pub(super) rel_bit: u32,
    /// Width in bits (1..=64).
    pub(super) width: u32,
}

/// What a Rust field holds.
#[derive(Debug, Clone)]
pub(super) enum FieldKind {
    /// A C member of this type.
    Member(TypeId),
    /// A C member of this over-aligned type kept as bytes (packed parent).
    Bytes(TypeId),
    /// Explicit padding.
    Pad,
    /// Storage for a run of bitfields.
    Bitfield(Vec<Bit>),
}

/// One Rust field.
#[derive(Debug, Clone)]
pub(super) struct Field {
    /// Field name.
    pub(super) name: String,
    /// Byte offset (from the BTF).
    pub(super) offset: u64,
    /// Size in bytes.
    pub(super) size: u64,
    /// What it holds.
    pub(super) kind: FieldKind,
}

/// The Rust layout of one struct or union.
#[derive(Debug, Clone)]
pub(super) struct CompLayout {
    /// BTF size.
    pub(super) size: u64,
    /// Inferred alignment (1 when packed).
    pub(super) align: u64,
    /// `#[repr(C, packed)]`.
    pub(super) packed: bool,
    /// `#[repr(C, align(N))]`.
    pub(super) repr_align: Option<u64>,
    /// A leading zero-length `[uN; 0]` field lifting the alignment to N
    /// (bitfield storage is bytes, but the bitfields' type aligns the struct).
    pub(super) align_field: Option<u64>,
    /// The type is or transitively contains a `repr(align)` type.
    pub(super) has_repr_align: bool,
    /// Fields in offset order.
    pub(super) fields: Vec<Field>,
}

/// A member with its effective bit offset and width.
struct M {
    name: Option<String>,
    ty: TypeId,
    bit_off: u64,
    /// Bitfield width; 0 for an ordinary member.
    bits: u32,
    size: u64,
    align: u64,
    has_ra: bool,
}

enum Memo {
    Todo,
    Busy,
    Done(Rc<CompLayout>),
}

/// Computes and caches layouts.
pub(super) struct Layouts<'a, 'b> {
    btf: &'a Btf<'b>,
    memo: Vec<Memo>,
}

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a).saturating_mul(a)
}

fn bad(t: &Type<'_>, why: &'static str) -> Error {
    Error::Unresolvable {
        id: t.id(),
        kind: t.kind(),
        why,
    }
}

/// Cache-line size: the alignment kernel attributes ask for most.
const CACHELINE: u64 = 64;

/// The power of two `p >= from` taken to explain `align_up(at, p) == target`
/// in a type of `size` bytes (`p` must divide `size`): the largest such `p`
/// up to a cache line, as pahole infers `__aligned__` attributes, else the
/// smallest larger one.
fn explaining_align(at: u64, target: u64, from: u64, size: u64) -> Option<u64> {
    let mut p = from.max(1);
    let mut best = None;
    while p <= MAX_INFERRED_ALIGN {
        let up = align_up(at, p);
        if up > target {
            break;
        }
        if up == target && size.is_multiple_of(p) {
            if p > CACHELINE {
                return best.or(Some(p));
            }
            best = Some(p);
        }
        p *= 2;
    }
    best
}

impl<'a, 'b> Layouts<'a, 'b> {
    /// An empty cache over `btf`.
    pub(super) fn new(btf: &'a Btf<'b>) -> Self {
        let n = btf.type_count() as usize;
        let mut memo = Vec::with_capacity(n);
        memo.resize_with(n, || Memo::Todo);
        Layouts { btf, memo }
    }

    /// Alignment of a type used as a member, and whether it (transitively)
    /// holds a `repr(align)` type.
    pub(super) fn type_align(&mut self, id: TypeId, depth: u32) -> Result<(u64, bool)> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                id,
                depth: MAX_DEPTH,
            });
        }
        let t = self.btf.skip_mods_and_typedefs(id)?;
        match t.kind() {
            Kind::Int | Kind::Float | Kind::Enum | Kind::Enum64 => {
                let s = t.size() as u64;
                Ok((
                    if matches!(s, 1 | 2 | 4 | 8 | 16) {
                        s
                    } else {
                        1
                    },
                    false,
                ))
            }
            Kind::Ptr => Ok((self.btf.pointer_size() as u64, false)),
            Kind::Array => {
                let a = t.array().ok_or(Error::NoSuchType(t.id()))?;
                self.type_align(a.elem, depth + 1)
            }
            Kind::Struct | Kind::Union => {
                let l = self.layout_depth(t.id(), depth + 1)?;
                Ok((l.align, l.has_repr_align))
            }
            _ => Err(bad(&t, "a member of this kind has no layout")),
        }
    }

    /// The layout of struct or union `id`.
    pub(super) fn layout(&mut self, id: TypeId) -> Result<Rc<CompLayout>> {
        self.layout_depth(id, 0)
    }

    fn layout_depth(&mut self, id: TypeId, depth: u32) -> Result<Rc<CompLayout>> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                id,
                depth: MAX_DEPTH,
            });
        }
        let t = self.btf.get(id)?;
        match self.memo.get(id.0 as usize) {
            Some(Memo::Done(l)) => return Ok(l.clone()),
            Some(Memo::Busy) => return Err(Error::Loop { id, kind: t.kind() }),
            Some(Memo::Todo) => {}
            None => return Err(Error::NoSuchType(id)),
        }
        self.memo[id.0 as usize] = Memo::Busy;
        let r = self.compute(&t, depth);
        self.memo[id.0 as usize] = match &r {
            Ok(l) => Memo::Done(l.clone()),
            Err(_) => Memo::Todo,
        };
        r
    }

    fn members(&mut self, t: &Type<'_>, depth: u32) -> Result<Vec<M>> {
        let size = t.size() as u64;
        let mut out = Vec::with_capacity(t.vlen() as usize);
        for m in t.members() {
            let name = if m.name_off.is_anon() {
                None
            } else {
                Some(ident(self.btf.str_bytes(m.name_off).unwrap_or(b"")))
            };
            let mut bit_off = m.bit_offset as u64;
            let mut bits = m.bitfield_size;
            if bits == 0 {
                // Old-style bitfield: an INT with fewer bits than its size.
                let base = self.btf.skip_mods_and_typedefs(m.ty)?;
                if let Some(i) = base.int() {
                    if (i.bits as u32) < base.size().saturating_mul(8) || i.offset != 0 {
                        bits = i.bits as u32;
                        bit_off += i.offset as u64;
                    }
                }
            }
            let (align, has_ra) = self.type_align(m.ty, depth + 1)?;
            if bits > 0 {
                if bits > 64 {
                    return Err(bad(t, "a bitfield is wider than 64 bits"));
                }
                if bit_off + bits as u64 > size * 8 {
                    return Err(bad(t, "a bitfield extends past the end of the type"));
                }
                out.push(M {
                    name,
                    ty: m.ty,
                    bit_off,
                    bits,
                    size: 0,
                    align,
                    has_ra,
                });
                continue;
            }
            let msize = self.btf.resolve_size(m.ty)?;
            if !bit_off.is_multiple_of(8) {
                return Err(bad(
                    t,
                    "a member that is not a bitfield starts inside a byte",
                ));
            }
            if bit_off / 8 + msize > size {
                return Err(bad(t, "a member extends past the end of the type"));
            }
            out.push(M {
                name,
                ty: m.ty,
                bit_off,
                bits: 0,
                size: msize,
                align,
                has_ra,
            });
        }
        Ok(out)
    }

    fn compute(&mut self, t: &Type<'_>, depth: u32) -> Result<Rc<CompLayout>> {
        let is_union = t.kind() == Kind::Union;
        let size = t.size() as u64;
        let ms = self.members(t, depth)?;
        let nat = ms.iter().map(|m| m.align).max().unwrap_or(1);
        let packed = !size.is_multiple_of(nat)
            || ms
                .iter()
                .any(|m| m.bits == 0 && !(m.bit_off / 8).is_multiple_of(m.align));
        let mut align = nat;
        if is_union {
            if ms.iter().any(|m| m.bits == 0 && m.bit_off != 0) {
                return Err(bad(t, "a union member at a nonzero offset"));
            }
            let end = ms.iter().map(end_byte).max().unwrap_or(0);
            if !packed && size > align_up(end, align) {
                align = explaining_align(end, size, align * 2, size).unwrap_or(align);
            }
        } else if !packed {
            let mut prev = 0u64;
            for m in &ms {
                if m.bits == 0 && m.bit_off / 8 > align_up(prev, m.align) {
                    if let Some(p) = explaining_align(prev, m.bit_off / 8, m.align * 2, size) {
                        align = align.max(p);
                    }
                }
                prev = prev.max(end_byte(m));
            }
            if size > align_up(prev, align) {
                if let Some(p) = explaining_align(prev, size, align * 2, size) {
                    align = p;
                }
            }
            if !size.is_multiple_of(align) {
                align = nat;
            }
        }
        if packed {
            align = 1;
        }
        let mut names = FieldNames::new(&ms);
        let mut fields = Vec::with_capacity(ms.len() + 2);
        let mut has_ra = false;
        let mut emitted_align = 1u64;
        if is_union {
            for m in &ms {
                let name = names.member(m);
                if m.bits > 0 {
                    let bit = Bit {
                        name: m.name.clone(),
                        ty: m.ty,
                        rel_bit: m.bit_off as u32,
                        width: m.bits,
                    };
                    fields.push(Field {
                        name: names.fresh("_bitfield_"),
                        offset: 0,
                        size: end_byte(m),
                        kind: FieldKind::Bitfield(vec![bit]),
                    });
                    continue;
                }
                let kind = if packed && m.has_ra {
                    FieldKind::Bytes(m.ty)
                } else {
                    emitted_align = emitted_align.max(m.align);
                    has_ra |= m.has_ra;
                    FieldKind::Member(m.ty)
                };
                fields.push(Field {
                    name,
                    offset: 0,
                    size: m.size,
                    kind,
                });
            }
            let end = ms.iter().map(end_byte).max().unwrap_or(0);
            if size > end || ms.is_empty() {
                fields.push(Field {
                    name: names.fresh("__pad_"),
                    offset: 0,
                    size,
                    kind: FieldKind::Pad,
                });
            }
        } else {
            let mut cur = 0u64;
            let mut i = 0;
            while let Some(m) = ms.get(i) {
                if m.bits > 0 {
                    let mut j = i;
                    let mut start = u64::MAX;
                    let mut end = 0u64;
                    let mut bits = Vec::new();
                    while let Some(b) = ms.get(j).filter(|b| b.bits > 0) {
                        start = start.min(b.bit_off / 8);
                        end = end.max(end_byte(b));
                        j += 1;
                    }
                    for b in &ms[i..j] {
                        bits.push(Bit {
                            name: b.name.clone(),
                            ty: b.ty,
                            rel_bit: (b.bit_off - start * 8) as u32,
                            width: b.bits,
                        });
                    }
                    if start < cur {
                        return Err(bad(t, "bitfields overlap the member before them"));
                    }
                    pad(&mut fields, &mut names, cur, start);
                    fields.push(Field {
                        name: names.fresh("_bitfield_"),
                        offset: start,
                        size: end - start,
                        kind: FieldKind::Bitfield(bits),
                    });
                    cur = end;
                    i = j;
                    continue;
                }
                let off = m.bit_off / 8;
                if off < cur {
                    return Err(bad(t, "members overlap"));
                }
                pad(&mut fields, &mut names, cur, off);
                let kind = if packed && m.has_ra {
                    FieldKind::Bytes(m.ty)
                } else {
                    emitted_align = emitted_align.max(m.align);
                    has_ra |= m.has_ra;
                    FieldKind::Member(m.ty)
                };
                fields.push(Field {
                    name: names.member(m),
                    offset: off,
                    size: m.size,
                    kind,
                });
                cur = off + m.size;
                i += 1;
            }
            pad(&mut fields, &mut names, cur, size);
        }
        let (mut repr_align, mut align_field) = (None, None);
        if !packed && align > emitted_align {
            if align > nat || align > 16 {
                repr_align = Some(align);
                has_ra = true;
            } else {
                align_field = Some(align);
            }
        }
        Ok(Rc::new(CompLayout {
            size,
            align,
            packed,
            repr_align,
            align_field,
            has_repr_align: has_ra,
            fields,
        }))
    }
}

/// First byte past a member.
fn end_byte(m: &M) -> u64 {
    if m.bits > 0 {
        (m.bit_off + m.bits as u64).div_ceil(8)
    } else {
        m.bit_off / 8 + m.size
    }
}

fn pad(fields: &mut Vec<Field>, names: &mut FieldNames, from: u64, to: u64) {
    if to > from {
        fields.push(Field {
            name: names.fresh("__pad_"),
            offset: from,
            size: to - from,
            kind: FieldKind::Pad,
        });
    }
}

/// Unique field names within one struct: C names first, then generated ones.
struct FieldNames {
    /// Every C member name, so generated names keep away from them.
    c_names: HashSet<String>,
    /// Names already given to a field.
    used: HashSet<String>,
    anon: u32,
    pads: u32,
    bitfields: u32,
}

impl FieldNames {
    fn new(ms: &[M]) -> Self {
        let mut c_names = HashSet::new();
        for m in ms {
            if let Some(n) = &m.name {
                c_names.insert(n.clone());
            }
        }
        let mut used = HashSet::new();
        used.insert("_align".to_owned());
        FieldNames {
            c_names,
            used,
            anon: 0,
            pads: 0,
            bitfields: 0,
        }
    }

    /// A member's field name: its C name, or `__anon_<N>` when anonymous.
    fn member(&mut self, m: &M) -> String {
        match &m.name {
            Some(n) => self.unique(n.clone()),
            None => {
                self.anon += 1;
                let base = format!("__anon_{}", self.anon);
                self.unique(base)
            }
        }
    }

    /// `__pad_<N>` or `_bitfield_<N>` with the next N.
    fn fresh(&mut self, prefix: &str) -> String {
        let n = if prefix == "__pad_" {
            self.pads += 1;
            self.pads
        } else {
            self.bitfields += 1;
            self.bitfields
        };
        self.unique(format!("{prefix}{n}"))
    }

    /// `s`, or `s` with underscores appended until it is unused.
    fn unique(&mut self, mut s: String) -> String {
        let generated = !self.c_names.contains(&s);
        while self.used.contains(&s) || (generated && self.c_names.contains(&s)) {
            s.push('_');
        }
        self.used.insert(s.clone());
        s
    }
}
