//! Writing the minimal BTF the way bpftool 7.1 writes it (`btfgen_get_btf`
//! over libbpf 1.1's `btf__add_*` and `btf__raw_data`).
//!
//! libbpf builds a new BTF: for each kept type in id order, a struct or
//! union is added with `btf__add_struct`/`btf__add_union` (its name, its
//! size, no kind_flag) and one `btf__add_field` per kept member (which sets
//! kind_flag when a kept member is a bitfield); any other kind is copied
//! with `btf__add_type` (the record verbatim, each string re-added in the
//! order the record holds them). Strings are deduplicated whole, each new
//! one appended; the empty string is offset 0. References are renumbered
//! afterwards: a type not kept becomes 0. The blob is a 24-byte header,
//! the types, then the strings, in the host's (little-endian) byte order.
//!
//! This writer works from the parsed records directly instead of
//! [`btf::write::Builder`], which takes names as `&str` and recomputes
//! info words: libbpf copies names as bytes and info words verbatim.

use std::collections::HashMap;

use btf::{Btf, Endian, Kind, StrOffset, Type, TypeId};

use crate::mincore::MinCore;
use crate::{Error, Result};

/// libbpf's string set of a new BTF: `""` at 0, each new string appended.
struct Strings<'b> {
    data: Vec<u8>,
    offs: HashMap<&'b [u8], u32>,
}

impl<'b> Strings<'b> {
    fn new() -> Strings<'b> {
        let mut offs = HashMap::new();
        offs.insert(&b""[..], 0);
        Strings {
            data: vec![0],
            offs,
        }
    }

    fn add(&mut self, s: &'b [u8]) -> u32 {
        if let Some(&o) = self.offs.get(s) {
            return o;
        }
        let off = self.data.len() as u32;
        self.data.extend_from_slice(s);
        self.data.push(0);
        self.offs.insert(s, off);
        off
    }
}

fn bad(id: TypeId, what: &str) -> Error {
    Error::MinCore {
        what: format!("type id {}: {what}", id.0),
    }
}

fn name<'t>(b: &'t Btf<'t>, off: StrOffset) -> Result<&'t [u8]> {
    if off.0 == 0 {
        return Ok(b"");
    }
    b.str_bytes(off).ok_or(Error::MinCore {
        what: format!("string offset {} out of range", off.0),
    })
}

/// Words of a record's kind-specific part, in the host's order.
fn rest_words(t: &Type<'_>) -> Vec<u32> {
    let e = t.endian();
    t.extra_bytes()
        .chunks_exact(4)
        .map(|c| e.u32([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub(crate) fn build<'t>(m: &MinCore<'t>) -> Result<Vec<u8>> {
    let kept: Vec<(usize, &'t Btf<'t>, TypeId)> = m.kept().collect();
    let mut new_ids: HashMap<(usize, u32), u32> = HashMap::with_capacity(kept.len());
    for (i, (src, _, id)) in kept.iter().enumerate() {
        new_ids.insert((*src, id.0), i as u32 + 1);
    }
    let remap = |src: usize, id: u32| -> u32 {
        if id == 0 {
            return 0;
        }
        let (s, i) = m.canon_ref(src, TypeId(id));
        new_ids.get(&(s, i.0)).copied().unwrap_or(0)
    };
    let mut strs = Strings::new();
    let mut words: Vec<u32> = Vec::new();
    for &(src, b, id) in &kept {
        let t = b.get(id).map_err(|e| Error::MinCore {
            what: format!("type id {}: {e}", id.0),
        })?;
        let k = t.kind();
        if k == Kind::Struct || k == Kind::Union {
            let n = strs.add(name(b, t.name_off())?);
            let head = words.len();
            words.extend_from_slice(&[n, 0, t.size()]);
            let mut vlen = 0u32;
            let mut kflag = false;
            for (i, mem) in t.members().enumerate() {
                if !m.member_kept(src, id, i) {
                    continue;
                }
                let is_bitfield = mem.bitfield_size != 0 || mem.bit_offset % 8 != 0;
                if is_bitfield
                    && (mem.bitfield_size == 0
                        || mem.bitfield_size > 255
                        || mem.bit_offset > 0xff_ffff)
                {
                    return Err(bad(id, &format!("member #{i}: bitfield libbpf cannot add")));
                }
                if k == Kind::Union && mem.bit_offset != 0 {
                    return Err(bad(id, &format!("union member #{i} at a non-zero offset")));
                }
                let mn = strs.add(name(b, mem.name_off)?);
                words.extend_from_slice(&[
                    mn,
                    remap(src, mem.ty.0),
                    mem.bit_offset | (mem.bitfield_size << 24),
                ]);
                vlen += 1;
                kflag |= is_bitfield;
            }
            words[head + 1] = (u32::from(kflag) << 31) | (u32::from(k.raw()) << 24) | vlen;
            continue;
        }
        let n = strs.add(name(b, t.name_off())?);
        let mut rest = rest_words(&t);
        let size_or_type = match k {
            Kind::Ptr
            | Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::Func
            | Kind::Var
            | Kind::DeclTag
            | Kind::TypeTag
            | Kind::FuncProto => remap(src, t.size_or_type()),
            _ => t.size_or_type(),
        };
        match k {
            Kind::Array => {
                for w in rest.iter_mut().take(2) {
                    *w = remap(src, *w);
                }
            }
            Kind::Enum => {
                for c in rest.chunks_exact_mut(2) {
                    c[0] = strs.add(name(b, StrOffset(c[0]))?);
                }
            }
            Kind::Enum64 => {
                for c in rest.chunks_exact_mut(3) {
                    c[0] = strs.add(name(b, StrOffset(c[0]))?);
                }
            }
            Kind::FuncProto => {
                for c in rest.chunks_exact_mut(2) {
                    c[0] = strs.add(name(b, StrOffset(c[0]))?);
                    c[1] = remap(src, c[1]);
                }
            }
            Kind::Datasec => {
                for c in rest.chunks_exact_mut(3) {
                    c[0] = remap(src, c[0]);
                }
            }
            _ => {}
        }
        words.extend_from_slice(&[n, t.info(), size_or_type]);
        words.extend_from_slice(&rest);
    }
    let type_len = (words.len() * 4) as u32;
    let e = Endian::Little;
    let mut out = Vec::with_capacity(24 + type_len as usize + strs.data.len());
    out.extend_from_slice(&e.u16_bytes(0xeb9f));
    out.extend_from_slice(&[1, 0]);
    for v in [24, 0, type_len, type_len, strs.data.len() as u32] {
        out.extend_from_slice(&e.u32_bytes(v));
    }
    for w in &words {
        out.extend_from_slice(&e.u32_bytes(*w));
    }
    out.extend_from_slice(&strs.data);
    Ok(out)
}
