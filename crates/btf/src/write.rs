//! Writing BTF: a builder for new blobs, and byte-order conversion.

use std::collections::HashMap;

use crate::header::BASE_HEADER_LEN;
use crate::{Btf, Endian, IntEncoding, Kind, Result, TypeId};

/// Builds a BTF blob type by type, then encodes it in either byte order.
///
/// ```
/// use btf::{write::Builder, Btf, Endian, IntEncoding, Kind};
/// let mut b = Builder::new();
/// let int = b.int("int", 4, IntEncoding::Signed);
/// b.struct_("pair", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
/// let bytes = b.encode(Endian::Big);
/// let btf = Btf::parse(bytes).unwrap();
/// assert_eq!(btf.endian(), Endian::Big);
/// let id = btf.find_by_name_kind("pair", Kind::Struct).unwrap();
/// assert_eq!(btf.resolve_size(id).unwrap(), 8);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    strings: Vec<u8>,
    string_offs: HashMap<String, u32>,
    /// Each type as 32-bit words, encoded at the end.
    types: Vec<Vec<u32>>,
    start_id: u32,
    start_str: u32,
}

impl Builder {
    /// A builder for a base BTF (ids from 1).
    pub fn new() -> Builder {
        Builder {
            strings: vec![0],
            start_id: 1,
            ..Default::default()
        }
    }

    /// A builder for split BTF over `base`: ids and string offsets continue it.
    pub fn new_split(base: &Btf<'_>) -> Builder {
        Builder {
            strings: Vec::new(),
            start_id: base.type_count(),
            start_str: base.total_str_len(),
            ..Default::default()
        }
    }

    /// Adds a string (deduplicated); `""` is offset 0 in a base blob.
    pub fn string(&mut self, s: &str) -> u32 {
        if s.is_empty() && self.start_str == 0 {
            return 0;
        }
        if let Some(&o) = self.string_offs.get(s) {
            return o;
        }
        let off = self.start_str + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        self.string_offs.insert(s.to_owned(), off);
        off
    }

    /// Adds a record from raw parts; `extra` are the kind-specific words.
    pub fn raw(
        &mut self,
        name: &str,
        kind: Kind,
        vlen: u16,
        kflag: bool,
        size_or_type: u32,
        extra: &[u32],
    ) -> TypeId {
        let name_off = self.string(name);
        let info = ((kflag as u32) << 31) | ((kind.raw() as u32 & 0x1f) << 24) | vlen as u32;
        let mut words = vec![name_off, info, size_or_type];
        words.extend_from_slice(extra);
        self.types.push(words);
        TypeId(self.start_id + self.types.len() as u32 - 1)
    }

    /// INT with `size` bytes and `size * 8` bits.
    pub fn int(&mut self, name: &str, size: u32, enc: IntEncoding) -> TypeId {
        let e = match enc {
            IntEncoding::None => 0,
            IntEncoding::Signed => 1,
            IntEncoding::Char => 2,
            IntEncoding::Bool => 4,
            IntEncoding::Other(v) => v as u32,
        };
        self.raw(name, Kind::Int, 0, false, size, &[(e << 24) | (size * 8)])
    }

    /// PTR, TYPEDEF, CONST, VOLATILE, RESTRICT or TYPE_TAG to `target`.
    pub fn reference(&mut self, kind: Kind, name: &str, target: TypeId) -> TypeId {
        self.raw(name, kind, 0, false, target.0, &[])
    }

    /// ARRAY of `nelems` `elem`s indexed by `index`.
    pub fn array(&mut self, elem: TypeId, index: TypeId, nelems: u32) -> TypeId {
        self.raw("", Kind::Array, 0, false, 0, &[elem.0, index.0, nelems])
    }

    fn composite(
        &mut self,
        kind: Kind,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        let kflag = members.iter().any(|m| m.3 != 0);
        let mut extra = Vec::with_capacity(members.len() * 3);
        for &(n, ty, bit_off, bitfield) in members {
            let off = if kflag {
                (bitfield << 24) | bit_off
            } else {
                bit_off
            };
            extra.extend_from_slice(&[self.string(n), ty.0, off]);
        }
        self.raw(name, kind, members.len() as u16, kflag, size, &extra)
    }

    /// STRUCT; members are `(name, type, bit offset, bitfield size)`. Any
    /// bitfield member sets kind_flag.
    pub fn struct_(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        self.composite(Kind::Struct, name, size, members)
    }

    /// UNION, as [`Builder::struct_`].
    pub fn union_(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        self.composite(Kind::Union, name, size, members)
    }

    /// ENUM of `size` bytes.
    pub fn enum_(&mut self, name: &str, size: u32, signed: bool, values: &[(&str, i64)]) -> TypeId {
        let mut extra = Vec::new();
        for &(n, v) in values {
            extra.extend_from_slice(&[self.string(n), v as u32]);
        }
        self.raw(name, Kind::Enum, values.len() as u16, signed, size, &extra)
    }

    /// ENUM64 of `size` bytes.
    pub fn enum64(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, u64)],
    ) -> TypeId {
        let mut extra = Vec::new();
        for &(n, v) in values {
            extra.extend_from_slice(&[self.string(n), v as u32, (v >> 32) as u32]);
        }
        self.raw(
            name,
            Kind::Enum64,
            values.len() as u16,
            signed,
            size,
            &extra,
        )
    }

    /// FWD of a struct (or a union when `union`).
    pub fn fwd(&mut self, name: &str, union: bool) -> TypeId {
        self.raw(name, Kind::Fwd, 0, union, 0, &[])
    }

    /// FUNC_PROTO; params are `(name, type)`; a `("", VOID)` last is `...`.
    pub fn func_proto(&mut self, ret: TypeId, params: &[(&str, TypeId)]) -> TypeId {
        let mut extra = Vec::new();
        for &(n, t) in params {
            extra.extend_from_slice(&[self.string(n), t.0]);
        }
        self.raw(
            "",
            Kind::FuncProto,
            params.len() as u16,
            false,
            ret.0,
            &extra,
        )
    }

    /// FUNC with linkage 0 static, 1 global, 2 extern.
    pub fn func(&mut self, name: &str, proto: TypeId, linkage: u16) -> TypeId {
        self.raw(name, Kind::Func, linkage, false, proto.0, &[])
    }

    /// VAR with linkage 0 static, 1 global, 2 extern.
    pub fn var(&mut self, name: &str, ty: TypeId, linkage: u32) -> TypeId {
        self.raw(name, Kind::Var, 0, false, ty.0, &[linkage])
    }

    /// DATASEC; vars are `(type, offset, size)`.
    pub fn datasec(&mut self, name: &str, size: u32, vars: &[(TypeId, u32, u32)]) -> TypeId {
        let mut extra = Vec::new();
        for &(t, o, s) in vars {
            extra.extend_from_slice(&[t.0, o, s]);
        }
        self.raw(name, Kind::Datasec, vars.len() as u16, false, size, &extra)
    }

    /// FLOAT of `size` bytes.
    pub fn float(&mut self, name: &str, size: u32) -> TypeId {
        self.raw(name, Kind::Float, 0, false, size, &[])
    }

    /// DECL_TAG on `target` (component -1 for the declaration itself).
    pub fn decl_tag(&mut self, name: &str, target: TypeId, component: i32) -> TypeId {
        self.raw(name, Kind::DeclTag, 0, false, target.0, &[component as u32])
    }

    /// Encodes the blob: classic 24-byte header, types, then strings.
    pub fn encode(&self, e: Endian) -> Vec<u8> {
        let type_len: usize = self.types.iter().map(|t| t.len() * 4).sum();
        let mut out = Vec::with_capacity(24 + type_len + self.strings.len());
        out.extend_from_slice(&e.u16_bytes(crate::header::BTF_MAGIC));
        out.extend_from_slice(&[1, 0]);
        for v in [
            BASE_HEADER_LEN,
            0,
            type_len as u32,
            type_len as u32,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&e.u32_bytes(v));
        }
        for w in self.types.iter().flatten() {
            out.extend_from_slice(&e.u32_bytes(*w));
        }
        out.extend_from_slice(&self.strings);
        out
    }
}

/// Re-encodes a valid BTF blob in the other byte order (or the same one).
///
/// Every field of the header past the magic and of the type section is a
/// 32-bit word, so conversion swaps words; strings are copied.
pub fn convert_endian(data: &[u8], to: Endian) -> Result<Vec<u8>> {
    let btf = Btf::parse(data)?;
    let h = *btf.header();
    let from = h.endian;
    let mut out = data.to_vec();
    out[0..2].copy_from_slice(&to.u16_bytes(crate::header::BTF_MAGIC));
    let swap_words = |out: &mut [u8], start: usize, len: usize| {
        for c in out[start..start + len - len % 4].chunks_exact_mut(4) {
            let v = from.u32([c[0], c[1], c[2], c[3]]);
            c.copy_from_slice(&to.u32_bytes(v));
        }
    };
    swap_words(&mut out, 4, h.hdr_len as usize - 4);
    swap_words(&mut out, h.type_start, h.type_len);
    if let Some((s, l)) = h.layout {
        for c in out[s..s + l].chunks_exact_mut(4) {
            let v = from.u16_at(c, 0).unwrap_or(0);
            c[0..2].copy_from_slice(&to.u16_bytes(v));
        }
    }
    Ok(out)
}

/// Re-encodes the local types of `btf` in another order: `order` lists
/// every local type id once, the type written first taking the first local
/// id. References are renumbered; strings are rebuilt in first-use order
/// (base references and strings of split BTF stay as they are). The same
/// types under other ids: what another encoder of the same program might
/// write.
///
/// ```
/// use btf::{write::{reorder, Builder}, Btf, Endian, IntEncoding, Kind, TypeId};
/// let mut b = Builder::new();
/// let int = b.int("int", 4, IntEncoding::Signed);
/// b.reference(Kind::Ptr, "", int);
/// let btf = Btf::parse(b.encode(Endian::Little))?;
/// let swapped = Btf::parse(reorder(&btf, &[TypeId(2), TypeId(1)], Endian::Little)?)?;
/// assert_eq!(swapped.get(TypeId(1))?.kind(), Kind::Ptr);
/// assert_eq!(swapped.get(TypeId(1))?.type_ref(), TypeId(2));
/// # Ok::<(), btf::Error>(())
/// ```
pub fn reorder(btf: &Btf<'_>, order: &[TypeId], e: Endian) -> Result<Vec<u8>> {
    let start = btf.start_id().get();
    let n = btf.local_type_count();
    let mut new_id = vec![u32::MAX; n];
    for (k, id) in order.iter().enumerate() {
        let slot = id
            .get()
            .checked_sub(start)
            .and_then(|i| new_id.get_mut(i as usize))
            .filter(|s| **s == u32::MAX)
            .ok_or_else(|| {
                crate::Error::BadHeader(format!(
                    "reorder: {id} is not a local type listed once (local ids {start}..{})",
                    btf.type_count()
                ))
            })?;
        *slot = start + k as u32;
    }
    if order.len() != n {
        return Err(crate::Error::BadHeader(format!(
            "reorder: {} ids given for {n} local types",
            order.len()
        )));
    }
    let map = |id: TypeId| -> u32 {
        match id.get().checked_sub(start) {
            Some(i) => new_id.get(i as usize).copied().unwrap_or(id.get()),
            None => id.get(),
        }
    };
    let mut b = match btf.base() {
        Some(base) => Builder::new_split(base),
        None => Builder::new(),
    };
    let mut words = Vec::new();
    for &id in order {
        let t = btf.get(id)?;
        let te = t.endian();
        let raw = |i: usize| crate::endian::word(te, t.extra_bytes(), i);
        words.clear();
        let mut size_or_type = t.size_or_type();
        match t.kind() {
            Kind::Ptr
            | Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::TypeTag
            | Kind::Func => size_or_type = map(t.type_ref()),
            Kind::Var | Kind::DeclTag => {
                size_or_type = map(t.type_ref());
                words.push(raw(0));
            }
            Kind::Array => {
                if let Some(a) = t.array() {
                    words.extend_from_slice(&[map(a.elem), map(a.index), a.nelems]);
                }
            }
            Kind::Struct | Kind::Union => {
                for m in t.members() {
                    let name = b.string(btf.name(m.name_off));
                    words.extend_from_slice(&[name, map(m.ty), m.raw_offset]);
                }
            }
            Kind::Enum | Kind::Enum64 => {
                let stride = if t.kind() == Kind::Enum { 2 } else { 3 };
                for (k, v) in t.enum_values().enumerate() {
                    words.push(b.string(btf.name(v.name_off)));
                    words.extend((1..stride).map(|w| raw(k * stride + w)));
                }
            }
            Kind::FuncProto => {
                size_or_type = map(t.type_ref());
                for p in t.params() {
                    let name = b.string(btf.name(p.name_off));
                    words.extend_from_slice(&[name, map(p.ty)]);
                }
            }
            Kind::Datasec => {
                for v in t.datasec_vars() {
                    words.extend_from_slice(&[map(v.ty), v.offset, v.size]);
                }
            }
            _ => words.extend((0..t.extra_bytes().len() / 4).map(raw)),
        }
        b.raw(
            btf.type_name(&t),
            t.kind(),
            t.vlen(),
            t.kind_flag(),
            size_or_type,
            &words,
        );
    }
    Ok(b.encode(e))
}
