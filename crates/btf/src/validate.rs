//! The one pass over the type section: record sizes, references, names, loops.
//!
//! Every record is stepped over once. For each one the pass checks that the
//! record fits in the section, that reserved info bits are clear (a newer
//! encoding is refused, never misread), that every name offset lies inside
//! the string tables, and remembers the largest type id referenced. Only when
//! that largest id is out of range does a second, slow pass run, to name the
//! first offending record. Finally chains of typedefs, modifiers, pointers and
//! arrays are walked once each to reject loops (the kernel rejects them too).

use crate::endian::word;
use crate::header::Header;
use crate::layout::KindLayouts;
use crate::types::COMMON_LEN;
use crate::{Btf, Error, Kind, Result, TypeId};

/// Bits of `info` that no known encoding uses.
const RESERVED_INFO_BITS: u32 = 0x00ff_0000 | 0x6000_0000;

/// Record size after the common 12 bytes, from kind and vlen.
fn extra_len(kind: Kind, vlen: usize, layouts: Option<&KindLayouts>) -> Option<usize> {
    Some(match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => 4,
        Kind::Array => 12,
        Kind::Struct | Kind::Union | Kind::Datasec | Kind::Enum64 => 12 * vlen,
        Kind::Enum | Kind::FuncProto => 8 * vlen,
        Kind::Ptr
        | Kind::Fwd
        | Kind::Typedef
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::Func
        | Kind::Float
        | Kind::TypeTag => 0,
        Kind::Void | Kind::Unknown(_) => {
            let l = layouts?.get(kind.raw())?;
            l.info_sz as usize + l.elem_sz as usize * vlen
        }
    })
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
    let e = h.endian;
    let types = &data[h.type_start..h.type_start + h.type_len];
    let str_limit = start_str as u64 + h.str_len as u64;
    // Every record takes at least 12 bytes: a safe bound for the allocation.
    let mut offsets: Vec<u32> = Vec::with_capacity(types.len() / COMMON_LEN);
    let mut pos = 0usize;
    let mut max_ref = 0u32;
    let mut id = start_id;
    let bad_name = |id: u32, what: &'static str, off: u32| Error::BadNameOffset {
        id: TypeId(id),
        what,
        name_off: off,
        limit: str_limit as u32,
    };
    while pos < types.len() {
        if id as u64 > crate::btf::MAX_TYPES {
            return Err(Error::TooManyTypes(id as u64));
        }
        let abs = (h.type_start + pos) as u64;
        let head = types.get(pos..pos + COMMON_LEN).ok_or(Error::Truncated {
            what: "type record",
            offset: abs,
            need: COMMON_LEN as u64,
            have: (types.len() - pos) as u64,
        })?;
        let name_off = word(e, head, 0);
        let info = word(e, head, 1);
        let third = word(e, head, 2);
        let kind = Kind::from_raw(((info >> 24) & 0x1f) as u8);
        let vlen = (info & 0xffff) as usize;
        if info & RESERVED_INFO_BITS != 0 {
            return Err(Error::BadType {
                id: TypeId(id),
                kind,
                offset: abs,
                why: format!(
                    "info 0x{info:08x} sets bits no known encoding uses (a wider kind/vlen format?)"
                ),
            });
        }
        let extra = extra_len(kind, vlen, layouts).ok_or(Error::UnknownKind {
            id: TypeId(id),
            offset: abs,
            kind: kind.raw(),
            info,
        })?;
        let end = pos + COMMON_LEN + extra;
        let rest = types
            .get(pos + COMMON_LEN..end)
            .ok_or_else(|| Error::BadType {
                id: TypeId(id),
                kind,
                offset: abs,
                why: format!(
                    "record needs {} bytes (vlen {vlen}) but the type section has {} left",
                    COMMON_LEN + extra,
                    types.len() - pos
                ),
            })?;
        if name_off as u64 >= str_limit {
            return Err(bad_name(id, "type", name_off));
        }
        if kind.has_type_ref() {
            max_ref = max_ref.max(third);
        }
        match kind {
            Kind::Array => {
                max_ref = max_ref.max(word(e, rest, 0)).max(word(e, rest, 1));
            }
            Kind::Struct | Kind::Union => {
                for m in rest.chunks_exact(12) {
                    let n = word(e, m, 0);
                    if n as u64 >= str_limit {
                        return Err(bad_name(id, "member", n));
                    }
                    max_ref = max_ref.max(word(e, m, 1));
                }
            }
            Kind::Enum | Kind::Enum64 => {
                let stride = if kind == Kind::Enum { 8 } else { 12 };
                for v in rest.chunks_exact(stride) {
                    let n = word(e, v, 0);
                    if n as u64 >= str_limit {
                        return Err(bad_name(id, "enumerator", n));
                    }
                }
            }
            Kind::FuncProto => {
                for p in rest.chunks_exact(8) {
                    let n = word(e, p, 0);
                    if n as u64 >= str_limit {
                        return Err(bad_name(id, "parameter", n));
                    }
                    max_ref = max_ref.max(word(e, p, 1));
                }
            }
            Kind::Datasec => {
                for v in rest.chunks_exact(12) {
                    max_ref = max_ref.max(word(e, v, 0));
                }
            }
            _ => {}
        }
        offsets.push(pos as u32);
        pos = end;
        id += 1;
    }
    let last = id - 1;
    if max_ref > last {
        return Err(find_bad_ref(data, h, &offsets, start_id, last));
    }
    check_loops(data, h, &offsets, start_id, base)?;
    Ok(offsets)
}

/// Slow path: names the first record that references a missing id.
fn find_bad_ref(data: &[u8], h: &Header, offsets: &[u32], start_id: u32, last: u32) -> Error {
    let e = h.endian;
    let types = &data[h.type_start..h.type_start + h.type_len];
    for (i, &off) in offsets.iter().enumerate() {
        let id = start_id + i as u32;
        let rec = &types[off as usize..];
        let info = word(e, rec, 1);
        let kind = Kind::from_raw(((info >> 24) & 0x1f) as u8);
        let vlen = (info & 0xffff) as usize;
        let rest = &rec[COMMON_LEN..];
        let mut refs: Vec<(&'static str, u32)> = Vec::new();
        if kind.has_type_ref() {
            refs.push(("type", word(e, rec, 2)));
        }
        match kind {
            Kind::Array => {
                refs.push(("element type", word(e, rest, 0)));
                refs.push(("index type", word(e, rest, 1)));
            }
            Kind::Struct | Kind::Union => {
                refs.extend((0..vlen).map(|j| ("member", word(e, rest, j * 3 + 1))))
            }
            Kind::FuncProto => {
                refs.extend((0..vlen).map(|j| ("parameter", word(e, rest, j * 2 + 1))))
            }
            Kind::Datasec => refs.extend((0..vlen).map(|j| ("variable", word(e, rest, j * 3)))),
            _ => {}
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
    Error::BadHeader("internal: a reference past the last id could not be located".into())
}

/// The id a chain kind points to, or `None` when the kind ends chains.
fn chain_next(kind: Kind, rec: &[u8], e: crate::Endian) -> Option<u32> {
    match kind {
        Kind::Ptr
        | Kind::Typedef
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::TypeTag
        | Kind::Var
        | Kind::DeclTag => Some(word(e, rec, 2)),
        Kind::Array => Some(word(e, rec, 3)),
        _ => None,
    }
}

/// Rejects reference chains that loop. Each local type is visited once.
fn check_loops(
    data: &[u8],
    h: &Header,
    offsets: &[u32],
    start_id: u32,
    _base: Option<&Btf<'_>>,
) -> Result<()> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let e = h.endian;
    let types = &data[h.type_start..h.type_start + h.type_len];
    let mut state = vec![NEW; offsets.len()];
    let next_of = |idx: usize| -> (Kind, Option<u32>) {
        let rec = &types[offsets[idx] as usize..];
        let info = word(e, rec, 1);
        let kind = Kind::from_raw(((info >> 24) & 0x1f) as u8);
        (kind, chain_next(kind, rec, e))
    };
    for start in 0..offsets.len() {
        if state[start] != NEW {
            continue;
        }
        // Walk forward marking the path.
        let mut cur = start;
        loop {
            state[cur] = ON_PATH;
            let (kind, next) = next_of(cur);
            let Some(n) = next else { break };
            let Some(ni) = n.checked_sub(start_id).map(|v| v as usize) else {
                break; // void or a base type: base chains were checked with the base
            };
            match state[ni] {
                NEW => cur = ni,
                ON_PATH => {
                    return Err(Error::Loop {
                        id: TypeId(start_id + ni as u32),
                        kind,
                    })
                }
                _ => break,
            }
        }
        // Mark the path done.
        let mut cur = start;
        while state[cur] == ON_PATH {
            state[cur] = DONE;
            match next_of(cur).1.and_then(|n| n.checked_sub(start_id)) {
                Some(ni) => cur = ni as usize,
                None => break,
            }
        }
    }
    Ok(())
}
