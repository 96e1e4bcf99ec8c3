//! The one pass over the type section: record sizes, references, names, loops.
//!
//! Every record is stepped over once. For each one the pass checks that the
//! record fits in the section, that reserved info bits are clear (a newer
//! encoding is refused, never misread), that every name offset lies inside
//! the string tables, and remembers the largest type id referenced. Only when
//! that largest id is out of range does a second, slow pass run, to name the
//! first offending record. Finally chains of typedefs, modifiers, pointers and
//! arrays are walked once each to reject loops (the kernel rejects them too).

use crate::header::Header;
use crate::layout::KindLayouts;
use crate::types::COMMON_LEN;
use crate::{Btf, Error, Kind, Result, TypeId};

/// Bits of `info` that no known encoding uses.
const RESERVED_INFO_BITS: u32 = 0x00ff_0000 | 0x6000_0000;

/// How the records of one kind are laid out and what they reference.
#[derive(Clone, Copy)]
struct Shape {
    /// Bytes after the common 12, before any vlen elements.
    fixed: u8,
    /// Bytes per vlen element.
    elem: u8,
    /// The third common word is a type id.
    ref3: bool,
    /// Which id continues a reference chain (for the loop check).
    chain: Chain,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chain {
    /// The kind ends chains (struct, int, func_proto...).
    None,
    /// The third common word.
    Third,
    /// The array's element type.
    ArrayElem,
}

const fn shape(fixed: u8, elem: u8, ref3: bool, chain: Chain) -> Option<Shape> {
    Some(Shape {
        fixed,
        elem,
        ref3,
        chain,
    })
}

/// Shapes of kinds 0..=19 (kind 0 has no records).
const SHAPES: [Option<Shape>; 20] = [
    None,                                  // UNKN
    shape(4, 0, false, Chain::None),       // INT
    shape(0, 0, true, Chain::Third),       // PTR
    shape(12, 0, false, Chain::ArrayElem), // ARRAY
    shape(0, 12, false, Chain::None),      // STRUCT
    shape(0, 12, false, Chain::None),      // UNION
    shape(0, 8, false, Chain::None),       // ENUM
    shape(0, 0, false, Chain::None),       // FWD
    shape(0, 0, true, Chain::Third),       // TYPEDEF
    shape(0, 0, true, Chain::Third),       // VOLATILE
    shape(0, 0, true, Chain::Third),       // CONST
    shape(0, 0, true, Chain::Third),       // RESTRICT
    shape(0, 0, true, Chain::None),        // FUNC
    shape(0, 8, true, Chain::None),        // FUNC_PROTO
    shape(4, 0, true, Chain::Third),       // VAR
    shape(0, 12, false, Chain::None),      // DATASEC
    shape(0, 0, false, Chain::None),       // FLOAT
    shape(4, 0, true, Chain::Third),       // DECL_TAG
    shape(0, 0, true, Chain::Third),       // TYPE_TAG
    shape(0, 12, false, Chain::None),      // ENUM64
];

/// The shape of a kind this code does not know, from the layout section.
#[cold]
fn layout_shape(kind: u8, layouts: Option<&KindLayouts>) -> Option<Shape> {
    let l = layouts?.get(kind)?;
    shape(l.info_sz, l.elem_sz, false, Chain::None)
}

/// Scans the type section; returns the offset of each record.
pub(crate) fn scan(
    data: &[u8],
    h: &Header,
    layouts: Option<&KindLayouts>,
    start_id: u32,
    start_str: u32,
    base: Option<&Btf<'_>>,
) -> Result<Vec<u32>> {
    // One copy of the pass per byte order, so every read is a plain load.
    match h.endian {
        crate::Endian::Little => scan_e::<false>(data, h, layouts, start_id, start_str, base),
        crate::Endian::Big => scan_e::<true>(data, h, layouts, start_id, start_str, base),
    }
}

/// The `i`-th 32-bit word of `b` in the byte order `BIG`; 0 past the end
/// (unreachable for records whose size was checked).
#[inline(always)]
fn rd<const BIG: bool>(b: &[u8], i: usize) -> u32 {
    match b
        .get(i * 4..i * 4 + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
    {
        Some(w) if BIG => u32::from_be_bytes(w),
        Some(w) => u32::from_le_bytes(w),
        None => 0,
    }
}

#[inline(always)]
fn w32<const BIG: bool>(w: [u8; 4]) -> u32 {
    if BIG {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    }
}

fn scan_e<const BIG: bool>(
    data: &[u8],
    h: &Header,
    layouts: Option<&KindLayouts>,
    start_id: u32,
    start_str: u32,
    base: Option<&Btf<'_>>,
) -> Result<Vec<u32>> {
    let types = &data[h.type_start..h.type_start + h.type_len];
    // Every record is made of 32-bit words: view the section as words (a
    // trailing partial word can only be the rest of a truncated record).
    let (words, _) = types.as_chunks::<4>();
    let str_limit = start_str as u64 + h.str_len as u64;
    // Every record takes at least 3 words: a safe bound for the allocations.
    let bound = words.len() / 3;
    let mut offsets: Vec<u32> = Vec::with_capacity(bound);
    // For each local type, the id its reference chain continues to (0: none).
    let mut chain: Vec<u32> = Vec::with_capacity(bound);
    // The hot loop only keeps maxima; a slow pass names an offender.
    let mut max_ref = 0u32;
    let mut max_name = 0u32;
    let mut wpos = 0usize;
    let mut id = start_id;
    while wpos < words.len() {
        let abs = (h.type_start + wpos * 4) as u64;
        let Some(&[name_w, info_w, third_w]) = words.get(wpos..wpos + 3) else {
            return Err(Error::Truncated {
                what: "type record",
                offset: abs,
                need: COMMON_LEN as u64,
                have: (types.len() - wpos * 4) as u64,
            });
        };
        let info = w32::<BIG>(info_w);
        let third = w32::<BIG>(third_w);
        max_name = max_name.max(w32::<BIG>(name_w));
        let raw_kind = ((info >> 24) & 0x1f) as u8;
        let vlen = (info & 0xffff) as usize;
        if info & RESERVED_INFO_BITS != 0 {
            return Err(Error::BadType {
                id: TypeId(id),
                kind: Kind::from_raw(raw_kind),
                offset: abs,
                why: format!(
                    "info 0x{info:08x} sets bits no known encoding uses (a wider kind/vlen format?)"
                ),
            });
        }
        let shape = match SHAPES.get(raw_kind as usize) {
            Some(&Some(s)) => s,
            _ => match layout_shape(raw_kind, layouts) {
                Some(s) => s,
                None => {
                    return Err(Error::UnknownKind {
                        id: TypeId(id),
                        offset: abs,
                        kind: raw_kind,
                        info,
                    })
                }
            },
        };
        let extra = shape.fixed as usize + shape.elem as usize * vlen;
        let rest = match words.get(wpos + 3..wpos + 3 + extra / 4) {
            Some(r) if extra.is_multiple_of(4) => r,
            _ => {
                return Err(Error::BadType {
                    id: TypeId(id),
                    kind: Kind::from_raw(raw_kind),
                    offset: abs,
                    why: format!(
                        "record needs {} bytes (vlen {vlen}) but the type section has {} left",
                        COMMON_LEN + extra,
                        types.len() - wpos * 4
                    ),
                })
            }
        };
        if shape.ref3 {
            max_ref = max_ref.max(third);
        }
        let first = rest.first().map_or(0, |&w| w32::<BIG>(w));
        chain.push(match shape.chain {
            Chain::None => 0,
            Chain::Third => third,
            Chain::ArrayElem => first,
        });
        match raw_kind {
            3 => {
                // ARRAY: element and index types.
                let index = rest.get(1).map_or(0, |&w| w32::<BIG>(w));
                max_ref = max_ref.max(first).max(index);
            }
            4 | 5 => {
                for m in rest.as_chunks::<3>().0 {
                    max_name = max_name.max(w32::<BIG>(m[0]));
                    max_ref = max_ref.max(w32::<BIG>(m[1]));
                }
            }
            6 => {
                for v in rest.as_chunks::<2>().0 {
                    max_name = max_name.max(w32::<BIG>(v[0]));
                }
            }
            19 => {
                for v in rest.as_chunks::<3>().0 {
                    max_name = max_name.max(w32::<BIG>(v[0]));
                }
            }
            13 => {
                for p in rest.as_chunks::<2>().0 {
                    max_name = max_name.max(w32::<BIG>(p[0]));
                    max_ref = max_ref.max(w32::<BIG>(p[1]));
                }
            }
            15 => {
                for v in rest.as_chunks::<3>().0 {
                    max_ref = max_ref.max(w32::<BIG>(v[0]));
                }
            }
            _ => {}
        }
        offsets.push((wpos * 4) as u32);
        wpos += 3 + extra / 4;
        id += 1;
    }
    if !types.len().is_multiple_of(4) {
        return Err(Error::Truncated {
            what: "type record",
            offset: (h.type_start + wpos * 4) as u64,
            need: COMMON_LEN as u64,
            have: (types.len() % 4) as u64,
        });
    }
    // A u32-sized section holds fewer than 2^30 records, so this cannot
    // overflow; the limit is libbpf's.
    if id as u64 - 1 > crate::btf::MAX_TYPES {
        return Err(Error::TooManyTypes(id as u64 - 1));
    }
    let last = id - 1;
    if max_ref > last || max_name as u64 >= str_limit {
        return Err(locate_bad::<BIG>(
            types, h, &offsets, start_id, last, str_limit,
        ));
    }
    check_loops::<BIG>(types, &offsets, &chain, start_id)?;
    let _ = base;
    Ok(offsets)
}

/// Slow path: names the first record holding a name offset past the string
/// tables or a reference to a missing id.
fn locate_bad<const BIG: bool>(
    types: &[u8],
    h: &Header,
    offsets: &[u32],
    start_id: u32,
    last: u32,
    str_limit: u64,
) -> Error {
    for (i, &off) in offsets.iter().enumerate() {
        let id = start_id + i as u32;
        let rec = types.get(off as usize..).unwrap_or(&[]);
        let info = rd::<BIG>(rec, 1);
        let kind = Kind::from_raw(((info >> 24) & 0x1f) as u8);
        let vlen = (info & 0xffff) as usize;
        let rest = rec.get(COMMON_LEN..).unwrap_or(&[]);
        let w = |j: usize| rd::<BIG>(rest, j);
        let mut names: Vec<(&'static str, u32)> = vec![("type", rd::<BIG>(rec, 0))];
        let mut refs: Vec<(&'static str, u32)> = Vec::new();
        if kind.has_type_ref() {
            refs.push(("type", rd::<BIG>(rec, 2)));
        }
        match kind {
            Kind::Array => {
                refs.push(("element type", w(0)));
                refs.push(("index type", w(1)));
            }
            Kind::Struct | Kind::Union => {
                names.extend((0..vlen).map(|j| ("member", w(j * 3))));
                refs.extend((0..vlen).map(|j| ("member", w(j * 3 + 1))));
            }
            Kind::Enum => names.extend((0..vlen).map(|j| ("enumerator", w(j * 2)))),
            Kind::Enum64 => names.extend((0..vlen).map(|j| ("enumerator", w(j * 3)))),
            Kind::FuncProto => {
                names.extend((0..vlen).map(|j| ("parameter", w(j * 2))));
                refs.extend((0..vlen).map(|j| ("parameter", w(j * 2 + 1))));
            }
            Kind::Datasec => refs.extend((0..vlen).map(|j| ("variable", w(j * 3)))),
            _ => {}
        }
        if let Some(&(what, name_off)) = names.iter().find(|n| n.1 as u64 >= str_limit) {
            return Error::BadNameOffset {
                id: TypeId(id),
                what,
                name_off,
                limit: str_limit as u32,
            };
        }
        if let Some(&(what, target)) = refs.iter().find(|r| r.1 > last) {
            return Error::BadTypeRef {
                id: TypeId(id),
                kind,
                offset: (h.type_start + off as usize) as u64,
                what,
                target,
                last,
            };
        }
    }
    Error::BadHeader("internal: an out-of-range reference could not be located".into())
}

/// Rejects reference chains that loop. Every local type has at most one
/// chain successor, so one colouring walk visits each type once.
fn check_loops<const BIG: bool>(
    types: &[u8],
    offsets: &[u32],
    chain: &[u32],
    start_id: u32,
) -> Result<()> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; chain.len()];
    // Local index of the chain successor; None ends the walk (void, no
    // successor, or a base type: base chains were checked with the base).
    let next = |i: usize| -> Option<usize> {
        let n = *chain.get(i)?;
        n.checked_sub(start_id).map(|v| v as usize)
    };
    for start in 0..chain.len() {
        // Most types end chains (or were visited): nothing to walk.
        if chain[start] < start_id || state[start] != NEW {
            continue;
        }
        let mut cur = start;
        loop {
            state[cur] = ON_PATH;
            let Some(ni) = next(cur) else { break };
            match state.get(ni) {
                Some(&NEW) => cur = ni,
                Some(&ON_PATH) => {
                    let info = types
                        .get(offsets[cur] as usize..)
                        .map_or(0, |r| rd::<BIG>(r, 1));
                    return Err(Error::Loop {
                        id: TypeId(start_id + ni as u32),
                        kind: Kind::from_raw(((info >> 24) & 0x1f) as u8),
                    });
                }
                _ => break,
            }
        }
        let mut cur = start;
        while state[cur] == ON_PATH {
            state[cur] = DONE;
            match next(cur) {
                Some(ni) if ni < state.len() => cur = ni,
                _ => break,
            }
        }
    }
    Ok(())
}
