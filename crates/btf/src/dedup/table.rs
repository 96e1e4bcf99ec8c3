//! The canonical-candidate table (libbpf's `dedup_table`) and the type
//! signature hashes that key it.
//!
//! libbpf keys a chained hash map by a 64-bit signature (`h * 31 + field`
//! over the fields that matter) and walks a key's entries newest first;
//! each time the map doubles, the entries of one key come out in the
//! opposite order. The first equal candidate wins, so where two
//! canonical types could both match, that order decides the result. This
//! table keeps each key's entries in the order libbpf would walk them: it
//! counts entries and capacity as libbpf's map does and reverses every
//! list when libbpf's would grow.

use hashbrown::HashMap;

use super::store::Store;
use crate::Kind;

/// libbpf's `hash_combine`.
#[inline]
pub(crate) fn combine(h: i64, v: u32) -> i64 {
    h.wrapping_mul(31).wrapping_add(v as i64)
}

/// Signature hashes and shallow comparisons over a [`Store`]'s records.
impl Store {
    /// name, info, size/type.
    pub fn hash_common(&self, id: u32) -> i64 {
        let r = self.rec(id);
        let w = |i: usize| r.get(i).copied().unwrap_or(0);
        combine(combine(combine(0, w(0)), w(1)), w(2))
    }

    /// INT and DECL_TAG: the common words and the fourth.
    pub fn hash_int_tag(&self, id: u32) -> i64 {
        combine(self.hash_common(id), self.word(id, 3))
    }

    /// ENUM / ENUM64 (libbpf 1.1): name, info without vlen, size.
    pub fn hash_enum(&self, id: u32) -> i64 {
        let r = self.rec(id);
        let w = |i: usize| r.get(i).copied().unwrap_or(0);
        combine(combine(combine(0, w(0)), w(1) & !0xffff), w(2))
    }

    /// STRUCT / UNION: common words, member names and offsets (not types).
    pub fn hash_struct(&self, id: u32) -> i64 {
        let mut h = self.hash_common(id);
        for m in self.rec(id).get(3..).unwrap_or(&[]).chunks_exact(3) {
            h = combine(combine(h, m[0]), m[2]);
        }
        h
    }

    /// ARRAY: common words, element and index types, count.
    pub fn hash_array(&self, id: u32) -> i64 {
        let mut h = self.hash_common(id);
        for i in 3..6 {
            h = combine(h, self.word(id, i));
        }
        h
    }

    /// FUNC_PROTO: common words, parameter names and types.
    pub fn hash_fnproto(&self, id: u32) -> i64 {
        let mut h = self.hash_common(id);
        for p in self.rec(id).get(3..).unwrap_or(&[]).chunks_exact(2) {
            h = combine(combine(h, p[0]), p[1]);
        }
        h
    }

    /// name, info and size/type equal.
    #[inline]
    pub fn equal_common(&self, a: u32, b: u32) -> bool {
        let (x, y) = (self.rec(a), self.rec(b));
        x.get(..3) == y.get(..3) || (x.len() < 3 && y.len() < 3)
    }

    /// INT / DECL_TAG equal.
    pub fn equal_int_tag(&self, a: u32, b: u32) -> bool {
        self.equal_common(a, b) && self.word(a, 3) == self.word(b, 3)
    }

    /// Whole records equal (ENUM, ENUM64 values; after the common words
    /// matched, the records have the same length).
    pub fn equal_whole(&self, a: u32, b: u32) -> bool {
        self.rec(a) == self.rec(b)
    }

    /// An ENUM or ENUM64 without values (a forward declaration).
    #[inline]
    pub fn is_enum_fwd(&self, id: u32) -> bool {
        matches!(self.kind(id), Kind::Enum | Kind::Enum64) && self.word(id, 1) & 0xffff == 0
    }

    /// libbpf 1.1's `btf_compat_enum`: equal, or one is a forward
    /// declaration with the same name, kind, flag and size.
    pub fn compat_enum(&self, a: u32, b: u32) -> bool {
        if !self.is_enum_fwd(a) && !self.is_enum_fwd(b) {
            return self.equal_whole(a, b);
        }
        let (x, y) = (self.rec(a), self.rec(b));
        let w = |r: &[u32], i: usize| r.get(i).copied().unwrap_or(0);
        w(x, 0) == w(y, 0) && w(x, 1) & !0xffff == w(y, 1) & !0xffff && w(x, 2) == w(y, 2)
    }

    /// STRUCT / UNION equal but for member types.
    pub fn shallow_equal_struct(&self, a: u32, b: u32) -> bool {
        if !self.equal_common(a, b) {
            return false;
        }
        let (x, y) = (self.rec(a), self.rec(b));
        let (x, y) = (x.get(3..).unwrap_or(&[]), y.get(3..).unwrap_or(&[]));
        x.len() == y.len()
            && x.chunks_exact(3)
                .zip(y.chunks_exact(3))
                .all(|(m, n)| m[0] == n[0] && m[2] == n[2])
    }

    /// ARRAY equal including element and index types.
    pub fn equal_array(&self, a: u32, b: u32) -> bool {
        self.equal_common(a, b) && self.rec(a).get(3..6) == self.rec(b).get(3..6)
    }

    /// ARRAY equal but for element and index types.
    pub fn compat_array(&self, a: u32, b: u32) -> bool {
        self.equal_common(a, b) && self.word(a, 5) == self.word(b, 5)
    }

    /// FUNC_PROTO equal but for the return and parameter types.
    pub fn compat_fnproto(&self, a: u32, b: u32) -> bool {
        let (x, y) = (self.rec(a), self.rec(b));
        if x.get(..2) != y.get(..2) {
            return false;
        }
        let (x, y) = (x.get(3..).unwrap_or(&[]), y.get(3..).unwrap_or(&[]));
        x.len() == y.len()
            && x.chunks_exact(2)
                .zip(y.chunks_exact(2))
                .all(|(p, q)| p[0] == q[0])
    }
}

/// Marks a `lists` value that indexes `multi` rather than naming an id.
const MULTI: u32 = 1 << 31;

/// Signature hash -> canonical candidates, in libbpf's walking order.
#[derive(Debug, Default)]
pub(crate) struct Table {
    /// A key's only id, or `MULTI | i` for the list `multi[i]`.
    lists: HashMap<i64, u32>,
    /// Keys with several ids: the one walked first last.
    multi: Vec<Vec<u32>>,
    /// Entries in libbpf's map.
    size: usize,
    /// Buckets in libbpf's map.
    cap: usize,
}

impl Table {
    /// Adds a candidate (`hashmap__append`).
    pub fn add(&mut self, h: i64, id: u32) {
        // libbpf's hashmap_needs_to_grow: empty, or over 75% full; a
        // grow walks each chain into the new buckets head first, so the
        // entries of one key come out reversed
        if self.cap == 0 || (self.size + 1) * 4 / 3 > self.cap {
            self.cap = (self.cap * 2).max(4);
            for l in &mut self.multi {
                l.reverse();
            }
        }
        self.size += 1;
        match self.lists.entry(h) {
            hashbrown::hash_map::Entry::Vacant(v) => {
                v.insert(id);
            }
            hashbrown::hash_map::Entry::Occupied(mut o) => {
                let cur = *o.get();
                if cur & MULTI != 0 {
                    if let Some(l) = self.multi.get_mut((cur & !MULTI) as usize) {
                        l.push(id);
                    }
                } else {
                    o.insert(MULTI | self.multi.len() as u32);
                    self.multi.push(vec![cur, id]);
                }
            }
        }
    }

    /// The candidates of a key, the one libbpf walks first last.
    #[inline]
    pub fn get(&self, h: i64) -> &[u32] {
        match self.lists.get(&h) {
            None => &[],
            Some(v) if v & MULTI != 0 => self
                .multi
                .get((v & !MULTI) as usize)
                .map_or(&[], Vec::as_slice),
            Some(v) => std::slice::from_ref(v),
        }
    }
}

/// Walks a candidate list as libbpf does (last stored first).
#[inline]
pub(crate) fn walk(list: &[u32]) -> impl Iterator<Item = u32> + '_ {
    list.iter().rev().copied()
}
