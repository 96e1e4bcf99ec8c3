//! The working copy dedup rewrites: every type (base ones included) as
//! native 32-bit words, and the local strings appended as given.
//!
//! Appending follows libbpf's `btf__add_btf`: an input's types go after the
//! ones already here, its type ids shifted by the number of local types
//! before it, its strings added to one pool of distinct strings. Until the
//! string pass, a local string field holds `start_str + ordinal` of its
//! string in the pool; a value below `start_str` is a base string offset.

use hashbrown::HashMap;

use super::pool::Pool;
use crate::{Btf, Error, Kind, Result, TypeId};

/// libbpf's `BTF_MAX_NR_TYPES`: ids above it are markers, not types.
pub(crate) const MAX_NR_TYPES: u32 = 0x7fff_ffff;

/// Words a record takes: `(fixed words, words per vlen entry)`; `None` for
/// kinds dedup does not know (libbpf 1.1 refuses them too).
pub(crate) fn record_shape(kind: Kind) -> Option<(usize, usize)> {
    Some(match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => (4, 0),
        Kind::Ptr
        | Kind::Fwd
        | Kind::Typedef
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::Func
        | Kind::Float
        | Kind::TypeTag => (3, 0),
        Kind::Array => (6, 0),
        Kind::Struct | Kind::Union | Kind::Datasec | Kind::Enum64 => (3, 3),
        Kind::Enum | Kind::FuncProto => (3, 2),
        Kind::Void | Kind::Unknown(_) => return None,
    })
}

/// The kind in an info word.
#[inline]
pub(crate) fn kind_of(info: u32) -> Kind {
    Kind::from_raw(((info >> 24) & 0x1f) as u8)
}

/// The types and strings being deduplicated.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    /// Every record, id 1 first; id 0 (`void`) has none.
    pub words: Vec<u32>,
    /// `offs[id]..offs[id + 1]` are the words of type `id`; `offs[0] == offs[1]`.
    pub offs: Vec<u32>,
    /// First local id (1 without a base).
    pub start_id: u32,
    /// First local string offset (0 without a base).
    pub start_str: u32,
    /// The distinct local strings appended.
    pub pool: Pool,
    /// The final local string table (filled by the string pass).
    pub strs: Vec<u8>,
    /// The base's string table (split BTF only).
    pub base_strs: Vec<u8>,
}

impl Store {
    /// An empty store (libbpf's `btf__new_empty`).
    pub fn new() -> Store {
        Store {
            words: Vec::new(),
            offs: vec![0, 0],
            start_id: 1,
            start_str: 0,
            pool: Pool::new(),
            strs: Vec::new(),
            base_strs: Vec::new(),
        }
    }

    /// An empty store over `base` (`btf__new_empty_split`): the base's
    /// types are copied in, fixed.
    pub fn new_split(base: &Btf<'_>) -> Result<Store> {
        if base.base().is_some() {
            return Err(Error::Split(
                "the base of a dedup must not itself be split BTF".into(),
            ));
        }
        let mut s = Store::new();
        s.copy_types(base, Ok, Ok)?;
        s.start_id = base.type_count();
        s.start_str = base.total_str_len();
        s.base_strs = base.local_strings().to_vec();
        Ok(s)
    }

    /// One past the last id.
    #[inline]
    pub fn type_cnt(&self) -> u32 {
        (self.offs.len() - 1) as u32
    }

    /// The words of type `id` (empty for `void` and ids past the end).
    #[inline]
    pub fn rec(&self, id: u32) -> &[u32] {
        let i = id as usize;
        match (self.offs.get(i), self.offs.get(i + 1)) {
            (Some(&a), Some(&b)) => self.words.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Word `w` of type `id` (0 when absent: `void` reads as all zeros).
    #[inline]
    pub fn word(&self, id: u32, w: usize) -> u32 {
        self.rec(id).get(w).copied().unwrap_or(0)
    }

    /// Index in `words` of word `w` of type `id`.
    #[inline]
    pub fn pos(&self, id: u32, w: usize) -> usize {
        self.offs.get(id as usize).map_or(0, |&o| o as usize + w)
    }

    /// The kind of type `id` (`Void` for id 0).
    #[inline]
    pub fn kind(&self, id: u32) -> Kind {
        kind_of(self.word(id, 1))
    }

    /// Appends the local types and strings of `src` (`btf__add_btf`). A
    /// split `src` must be split over this store's base; its base ids and
    /// strings are kept, its own ones shifted.
    pub fn append(&mut self, src: &Btf<'_>) -> Result<std::ops::Range<u32>> {
        let src_start = src.start_id().0;
        let src_str = src.total_str_len() - src.local_strings().len() as u32;
        match src.base() {
            Some(b)
                if self.start_id == 1
                    || b.type_count() != self.start_id
                    || b.total_str_len() != self.start_str =>
            {
                return Err(Error::Split(format!(
                    "an appended split BTF must be split over the dedup base \
                     (its base has {} types and {} string bytes, the dedup base {} and {})",
                    b.type_count(),
                    b.total_str_len(),
                    self.start_id,
                    self.start_str
                )));
            }
            None if self.start_id != 1 && src.local_type_count() > 0 => {
                return Err(Error::Split(
                    "a standalone BTF cannot be appended to a dedup over a base".into(),
                ));
            }
            _ => {}
        }
        let first = self.type_cnt();
        let start_str = self.start_str;
        let mut seen: HashMap<u32, u32> = HashMap::new();
        let mut pool = std::mem::take(&mut self.pool);
        let id_shift = first - src_start;
        let total = src.type_count();
        let res = self.copy_types(
            src,
            |v| {
                if v >= total {
                    return Err(Error::NoSuchType(TypeId(v)));
                }
                // void and base ids stay; the input's own ids follow the
                // types already here
                Ok(if v < src_start.max(1) {
                    v
                } else {
                    v + id_shift
                })
            },
            |off| {
                if off < src_str {
                    // void's name, or a string of the base
                    return Ok(off);
                }
                intern(&mut pool, &mut seen, start_str, off, |o| {
                    src.str_bytes(crate::StrOffset(o))
                })
            },
        );
        self.pool = pool;
        res?;
        Ok(first..self.type_cnt())
    }

    /// Appends records given as native words (libbpf's `btf__add_type`
    /// one after another): type ids already in this store's numbering,
    /// each below the id after the last record appended; string offsets
    /// into `strs`, a NUL-separated table (0 is `""`). Every record is
    /// checked before anything is appended.
    pub fn append_records(&mut self, words: &[u32], strs: &[u8]) -> Result<std::ops::Range<u32>> {
        let first = self.type_cnt();
        let bad = |rec: u64, at: usize, why: String| Error::BadType {
            id: TypeId((first as u64 + rec).min(u32::MAX as u64) as u32),
            kind: Kind::Unknown(0),
            offset: at as u64 * 4,
            why,
        };
        // Shapes first: the id bound is the count after the append.
        let mut n = 0u64;
        let mut i = 0;
        while i < words.len() {
            let info = *words
                .get(i + 1)
                .ok_or_else(|| bad(n, i, "record cut short".into()))?;
            let kind = kind_of(info);
            let (fixed, per) =
                record_shape(kind).ok_or_else(|| bad(n, i, format!("unknown kind {kind:?}")))?;
            let vlen = if per == 0 {
                0
            } else {
                (info & 0xffff) as usize
            };
            let len = fixed + vlen * per;
            if i + len > words.len() {
                return Err(bad(n, i, "record cut short".into()));
            }
            i += len;
            n += 1;
        }
        let end = first as u64 + n;
        if end > MAX_NR_TYPES as u64 || (self.words.len() + words.len()) > u32::MAX as usize {
            return Err(Error::TooManyTypes(end));
        }
        let start_str = self.start_str;
        let mut seen: HashMap<u32, u32> = HashMap::new();
        let mut pool = std::mem::take(&mut self.pool);
        let mut map_str = |off: u32| -> Result<u32> {
            if off == 0 {
                return Ok(0);
            }
            intern(&mut pool, &mut seen, start_str, off, |o| {
                strs.get(o as usize..)
                    .and_then(|t| t.iter().position(|&b| b == 0).map(|e| &t[..e]))
            })
        };
        let mut res = Ok(());
        let mut i = 0;
        self.words.reserve(words.len());
        self.offs.reserve(n as usize);
        while i < words.len() {
            let info = words[i + 1];
            let kind = kind_of(info);
            let (fixed, per) = record_shape(kind).unwrap_or((3, 0));
            let vlen = if per == 0 {
                0
            } else {
                (info & 0xffff) as usize
            };
            let len = fixed + vlen * per;
            let start = self.words.len();
            self.words.extend_from_slice(&words[i..i + len]);
            let rec = &mut self.words[start..];
            for f in str_fields(kind, vlen) {
                if let Some(w) = rec.get_mut(f) {
                    match map_str(*w) {
                        Ok(v) => *w = v,
                        Err(e) => res = Err(e),
                    }
                }
            }
            for f in id_fields(kind, vlen) {
                if rec.get(f).is_some_and(|&v| v as u64 >= end) {
                    res = Err(Error::NoSuchType(TypeId(rec[f])));
                }
            }
            if res.is_err() {
                self.words.truncate(start);
                break;
            }
            if let Some(last) = self.offs.last_mut() {
                *last = start as u32;
            }
            self.offs.push(self.words.len() as u32);
            i += len;
        }
        self.pool = pool;
        if let Err(e) = res {
            // Nothing of a refused batch stays.
            let keep = self.offs[first as usize] as usize;
            self.offs.truncate(first as usize + 1);
            self.words.truncate(keep);
            return Err(e);
        }
        Ok(first..self.type_cnt())
    }

    /// Copies the local records of `src`, mapping type ids and string
    /// offsets through the closures.
    fn copy_types(
        &mut self,
        src: &Btf<'_>,
        mut map_id: impl FnMut(u32) -> Result<u32>,
        mut map_str: impl FnMut(u32) -> Result<u32>,
    ) -> Result<()> {
        self.words.reserve(src.header().type_len / 4);
        self.offs.reserve(src.local_type_count());
        for t in src.types() {
            let kind = t.kind();
            let Some((fixed, per)) = record_shape(kind) else {
                return Err(Error::BadType {
                    id: t.id(),
                    kind,
                    offset: src.type_offset(t.id()).unwrap_or(0),
                    why: "dedup (as libbpf 1.1) does not know this kind".into(),
                });
            };
            let vlen = if per == 0 { 0 } else { t.vlen() as usize };
            let rest = t.extra_bytes();
            let n = fixed - 3 + vlen * per;
            if rest.len() != n * 4 {
                return Err(Error::BadType {
                    id: t.id(),
                    kind,
                    offset: src.type_offset(t.id()).unwrap_or(0),
                    why: format!("record has {} extra bytes, expected {}", rest.len(), n * 4),
                });
            }
            let e = t.endian();
            let start = self.words.len();
            self.words.push(t.name_off().0);
            self.words.push(t.info());
            self.words.push(t.size_or_type());
            for c in rest.chunks_exact(4) {
                self.words.push(e.u32([c[0], c[1], c[2], c[3]]));
            }
            let rec = &mut self.words[start..];
            for f in str_fields(kind, vlen) {
                if let Some(w) = rec.get_mut(f) {
                    *w = map_str(*w)?;
                }
            }
            for f in id_fields(kind, vlen) {
                if let Some(w) = rec.get_mut(f) {
                    *w = map_id(*w)?;
                }
            }
            let end = self.words.len();
            if end > u32::MAX as usize || self.offs.len() as u64 > MAX_NR_TYPES as u64 {
                return Err(Error::TooManyTypes(self.offs.len() as u64));
            }
            if let Some(last) = self.offs.last_mut() {
                *last = start as u32;
            }
            self.offs.push(end as u32);
        }
        Ok(())
    }
}

/// The pool offset of input string `off` (`bytes` reads it), added to the
/// pool the first time; `seen` remembers offsets already mapped.
#[inline]
fn intern<'s>(
    pool: &mut Pool,
    seen: &mut HashMap<u32, u32>,
    start_str: u32,
    off: u32,
    bytes: impl FnOnce(u32) -> Option<&'s [u8]>,
) -> Result<u32> {
    if let Some(&v) = seen.get(&off) {
        return Ok(v);
    }
    let b = bytes(off).ok_or(Error::BadStrings {
        offset: off as u64,
        why: "string offset past the string table",
    })?;
    let v = start_str + pool.add(b);
    seen.insert(off, v);
    Ok(v)
}

/// Positions (word indices in the record) of the string offsets of a record,
/// in libbpf's visiting order: the name, then member / value / parameter names.
pub(crate) fn str_fields(kind: Kind, vlen: usize) -> impl Iterator<Item = usize> {
    let (start, step) = match kind {
        Kind::Struct | Kind::Union | Kind::Enum64 => (3, 3),
        Kind::Enum | Kind::FuncProto => (3, 2),
        _ => (3, 1),
    };
    let n = match kind {
        Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::FuncProto => vlen,
        _ => 0,
    };
    std::iter::once(0).chain((0..n).map(move |i| start + i * step))
}

/// Positions of the type ids a record references, in libbpf's visiting order.
pub(crate) fn id_fields(kind: Kind, vlen: usize) -> impl Iterator<Item = usize> {
    let (head, start, step, n): (&'static [usize], usize, usize, usize) = match kind {
        Kind::Ptr
        | Kind::Typedef
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::Func
        | Kind::Var
        | Kind::DeclTag
        | Kind::TypeTag => (&[2], 0, 0, 0),
        Kind::Array => (&[3, 4], 0, 0, 0),
        Kind::Struct | Kind::Union => (&[], 4, 3, vlen),
        Kind::FuncProto => (&[2], 4, 2, vlen),
        Kind::Datasec => (&[], 3, 3, vlen),
        _ => (&[], 0, 0, 0),
    };
    head.iter()
        .copied()
        .chain((0..n).map(move |i| start + i * step))
}
