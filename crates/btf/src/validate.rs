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

/// How the records of one kind are laid out and what they reference, in
/// 32-bit words (every known record is made of whole words).
#[derive(Clone, Copy)]
struct Shape {
    /// Words after the common 3, before any vlen elements.
    fixed: u8,
    /// Words per vlen element.
    elem: u8,
    /// `REF3`, `CHAIN3`, `CHAIN_ELEM`, `KNOWN` bits.
    flags: u8,
}

/// The third common word is a type id.
const REF3: u8 = 1;
/// The third common word continues a reference chain (loop check).
const CHAIN3: u8 = 2;
/// The first word after the common part (an array's element) continues a chain.
const CHAIN_ELEM: u8 = 4;
/// A kind this code knows.
const KNOWN: u8 = 8;

const fn shape(fixed: u8, elem: u8, flags: u8) -> Shape {
    Shape {
        fixed,
        elem,
        flags: flags | KNOWN,
    }
}

const UNKNOWN: Shape = Shape {
    fixed: 0,
    elem: 0,
    flags: 0,
};

/// Shapes of all 32 kind numbers the 5-bit field can hold.
const SHAPES: [Shape; 32] = {
    let mut t = [UNKNOWN; 32];
    t[1] = shape(1, 0, 0); // INT
    t[2] = shape(0, 0, REF3 | CHAIN3); // PTR
    t[3] = shape(3, 0, CHAIN_ELEM); // ARRAY
    t[4] = shape(0, 3, 0); // STRUCT
    t[5] = shape(0, 3, 0); // UNION
    t[6] = shape(0, 2, 0); // ENUM
    t[7] = shape(0, 0, 0); // FWD
    t[8] = shape(0, 0, REF3 | CHAIN3); // TYPEDEF
    t[9] = shape(0, 0, REF3 | CHAIN3); // VOLATILE
    t[10] = shape(0, 0, REF3 | CHAIN3); // CONST
    t[11] = shape(0, 0, REF3 | CHAIN3); // RESTRICT
    t[12] = shape(0, 0, REF3); // FUNC (vlen is the linkage)
    t[13] = shape(0, 2, REF3); // FUNC_PROTO
    t[14] = shape(1, 0, REF3 | CHAIN3); // VAR
    t[15] = shape(0, 3, 0); // DATASEC
    t[16] = shape(0, 0, 0); // FLOAT
    t[17] = shape(1, 0, REF3 | CHAIN3); // DECL_TAG
    t[18] = shape(0, 0, REF3 | CHAIN3); // TYPE_TAG
    t[19] = shape(0, 3, 0); // ENUM64
    t
};

/// The shape of a kind this code does not know, from the layout section
/// (whole words only).
#[cold]
fn layout_shape(kind: u8, layouts: Option<&KindLayouts>) -> Option<Shape> {
    let l = layouts?.get(kind)?;
    if l.info_sz % 4 != 0 || l.elem_sz % 4 != 0 {
        return None;
    }
    Some(shape(l.info_sz / 4, l.elem_sz / 4, 0))
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
    let nwords = words.len();
    let str_limit = start_str as u64 + h.str_len as u64;
    // Every record takes at least 3 words: a safe bound for the allocations.
    let bound = nwords / 3;
    let mut offsets: Vec<u32> = Vec::with_capacity(bound);
    // The hot loop only keeps maxima; a slow pass names an offender.
    let mut max_ref = 0u32;
    let mut max_name = 0u32;
    // Types whose reference chain goes to a higher id: every loop of two or
    // more types has such an edge, so the loop check starts only from these.
    let mut forward: Vec<u32> = Vec::new();
    let mut wpos = 0usize;
    let mut id = start_id;
    while wpos < nwords {
        let Some(&[name_w, info_w, third_w]) = words.get(wpos..wpos + 3) else {
            return Err(Error::Truncated {
                what: "type record",
                offset: (h.type_start + wpos * 4) as u64,
                need: COMMON_LEN as u64,
                have: (types.len() - wpos * 4) as u64,
            });
        };
        let info = w32::<BIG>(info_w);
        let third = w32::<BIG>(third_w);
        max_name = max_name.max(w32::<BIG>(name_w));
        let raw_kind = ((info >> 24) & 0x1f) as usize;
        let vlen = (info & 0xffff) as usize;
        let mut sh = SHAPES[raw_kind];
        if info & RESERVED_INFO_BITS != 0 || sh.flags & KNOWN == 0 {
            sh = odd_record(h, wpos, id, info, layouts)?;
        }
        let body = wpos + 3;
        let next = body + sh.fixed as usize + sh.elem as usize * vlen;
        let Some(rest) = words.get(body..next) else {
            return Err(too_long(h, types.len(), wpos, id, info));
        };
        let first = rest.first().map_or(0, |&w| w32::<BIG>(w));
        if sh.flags & REF3 != 0 {
            max_ref = max_ref.max(third);
        }
        let next_id = if sh.flags & CHAIN3 != 0 {
            third
        } else if sh.flags & CHAIN_ELEM != 0 {
            first
        } else {
            0
        };
        if next_id >= id {
            if next_id == id {
                return Err(Error::Loop {
                    id: TypeId(id),
                    kind: Kind::from_raw(raw_kind as u8),
                });
            }
            forward.push(id - start_id);
        }
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
        wpos = next;
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
    check_loops::<BIG>(words, &offsets, &forward, start_id)?;
    let _ = base;
    Ok(offsets)
}

/// A record with reserved info bits set or a kind this code does not know:
/// an error, or the shape the layout section gives the kind.
#[cold]
fn odd_record(
    h: &Header,
    wpos: usize,
    id: u32,
    info: u32,
    layouts: Option<&KindLayouts>,
) -> Result<Shape> {
    let raw_kind = ((info >> 24) & 0x1f) as u8;
    let offset = (h.type_start + wpos * 4) as u64;
    if info & RESERVED_INFO_BITS != 0 {
        return Err(Error::BadType {
            id: TypeId(id),
            kind: Kind::from_raw(raw_kind),
            offset,
            why: format!(
                "info 0x{info:08x} sets bits no known encoding uses (a wider kind/vlen format?)"
            ),
        });
    }
    layout_shape(raw_kind, layouts).ok_or(Error::UnknownKind {
        id: TypeId(id),
        offset,
        kind: raw_kind,
        info,
    })
}

#[cold]
fn too_long(h: &Header, types_len: usize, wpos: usize, id: u32, info: u32) -> Error {
    let raw_kind = ((info >> 24) & 0x1f) as u8;
    let vlen = info & 0xffff;
    let sh = SHAPES[raw_kind as usize];
    let need = COMMON_LEN + 4 * (sh.fixed as usize + sh.elem as usize * vlen as usize);
    Error::BadType {
        id: TypeId(id),
        kind: Kind::from_raw(raw_kind),
        offset: (h.type_start + wpos * 4) as u64,
        why: format!(
            "record needs {need} bytes (vlen {vlen}) but the type section has {} left",
            types_len - wpos * 4
        ),
    }
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

/// The id the reference chain of the record at word `wpos` continues to
/// (0: the kind ends chains).
#[inline]
fn chain_next<const BIG: bool>(words: &[[u8; 4]], wpos: usize) -> u32 {
    let w = |i: usize| words.get(wpos + i).map_or(0, |&x| w32::<BIG>(x));
    let flags = SHAPES[((w(1) >> 24) & 0x1f) as usize].flags;
    if flags & CHAIN3 != 0 {
        w(2)
    } else if flags & CHAIN_ELEM != 0 {
        w(3)
    } else {
        0
    }
}

/// Rejects reference chains that loop. Every local type has at most one
/// chain successor (read again from its record: no per-type array is kept
/// for this), so one colouring walk visits each type once. Walks start only
/// at types whose successor has a higher id: a loop of two or more types
/// must contain such an edge (self-loops were caught in the main pass).
fn check_loops<const BIG: bool>(
    words: &[[u8; 4]],
    offsets: &[u32],
    forward: &[u32],
    start_id: u32,
) -> Result<()> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    // Two bits a type: a quarter of the memory of a byte each.
    let mut state = vec![0u8; offsets.len().div_ceil(4)];
    let get = |st: &[u8], i: usize| (st[i >> 2] >> ((i & 3) * 2)) & 3;
    let set = |st: &mut [u8], i: usize, v: u8| {
        let sh = (i & 3) * 2;
        st[i >> 2] = (st[i >> 2] & !(3 << sh)) | (v << sh);
    };
    // Local index of the chain successor; None ends the walk (void, no
    // successor, or a base type: base chains were checked with the base).
    let next = |i: usize| -> Option<usize> {
        let wpos = *offsets.get(i)? as usize / 4;
        let n = chain_next::<BIG>(words, wpos);
        n.checked_sub(start_id)
            .map(|v| v as usize)
            .filter(|&v| v < offsets.len())
    };
    for &start in forward {
        let start = start as usize;
        if get(&state, start) != NEW {
            continue;
        }
        let Some(first) = next(start) else {
            continue; // ends chains: nothing to walk, nothing to mark
        };
        set(&mut state, start, ON_PATH);
        let mut cur = start;
        let mut ni = first;
        loop {
            match get(&state, ni) {
                NEW => {
                    set(&mut state, ni, ON_PATH);
                    cur = ni;
                    match next(cur) {
                        Some(n) => ni = n,
                        None => break,
                    }
                }
                ON_PATH => {
                    let info = offsets
                        .get(cur)
                        .and_then(|&o| words.get(o as usize / 4 + 1))
                        .map_or(0, |&w| w32::<BIG>(w));
                    return Err(Error::Loop {
                        id: TypeId(start_id + ni as u32),
                        kind: Kind::from_raw(((info >> 24) & 0x1f) as u8),
                    });
                }
                _ => break,
            }
        }
        let mut cur = start;
        while get(&state, cur) == ON_PATH {
            set(&mut state, cur, DONE);
            match next(cur) {
                Some(n) => cur = n,
                None => break,
            }
        }
    }
    Ok(())
}
