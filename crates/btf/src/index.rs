//! The name index: types grouped by essential name, built once on first use.
//!
//! The table stores no strings: each slot holds the first and last id of a
//! group of types sharing an essential name (the name with any `___flavour`
//! suffix removed, as libbpf's CO-RE defines it), and a `next` array chains
//! the ids of a group in ascending order. Hashing reads names straight out
//! of the string table. Only this blob's own types are indexed; a split
//! BTF's base has its own index.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::{Btf, TypeId};

/// The part of a name that CO-RE matches on: everything before the last
/// `___` that separates two non-underscore characters (`task_struct___v2`
/// gives `task_struct`; `__u32` and `a____b` are kept whole).
pub fn essential_name(name: &str) -> &str {
    // The cut is just before an ASCII '_', so it is a char boundary.
    &name[..essential_len(name.as_bytes())]
}

/// Length of the essential part of a name given as bytes.
pub fn essential_len(b: &[u8]) -> usize {
    let n = b.len();
    if n < 5 {
        return n;
    }
    (0..=n - 5)
        .rev()
        .find(|&i| {
            b[i] != b'_'
                && b[i + 1] == b'_'
                && b[i + 2] == b'_'
                && b[i + 3] == b'_'
                && b[i + 4] != b'_'
        })
        .map_or(n, |i| i + 1)
}

#[derive(Clone, Copy)]
struct Group {
    head: u32,
    tail: u32,
}

/// Types of one BTF blob grouped by essential name.
pub struct NameIndex {
    table: HashTable<Group>,
    /// For local index `i`, the next id of the same group, or 0.
    next: Vec<u32>,
    start_id: u32,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameIndex")
            .field("names", &self.table.len())
            .finish()
    }
}

impl NameIndex {
    pub(crate) fn build(btf: &Btf<'_>) -> NameIndex {
        let start_id = btf.start_id().get();
        let count = btf.local_type_count();
        let hasher = DefaultHashBuilder::default();
        let mut table: HashTable<Group> = HashTable::with_capacity(count / 2);
        let mut next = vec![0u32; count];
        let ess_of = |id: u32| -> &[u8] {
            btf.type_by_id(TypeId(id))
                .and_then(|t| btf.str_bytes(t.name_off()))
                .map(essential_bytes)
                .unwrap_or(b"")
        };
        for t in btf.types() {
            if t.name_off().is_anon() {
                continue;
            }
            let id = t.id().get();
            let Some(name) = btf.str_bytes(t.name_off()) else {
                continue;
            };
            let ess = essential_bytes(name);
            let hash = hasher.hash_one(ess);
            match table.find_mut(hash, |g| ess_of(g.head) == ess) {
                Some(g) => {
                    next[(g.tail - start_id) as usize] = id;
                    g.tail = id;
                }
                None => {
                    table.insert_unique(hash, Group { head: id, tail: id }, |g| {
                        hasher.hash_one(ess_of(g.head))
                    });
                }
            }
        }
        NameIndex {
            table,
            next,
            start_id,
            hasher,
        }
    }

    /// Ids of this blob whose essential name equals `essential`, ascending.
    pub fn by_essential<'a>(&'a self, btf: &'a Btf<'_>, essential: &str) -> Chain<'a> {
        let ess = essential.as_bytes();
        let hash = self.hasher.hash_one(ess);
        let head = self
            .table
            .find(hash, |g| {
                btf.type_by_id(TypeId(g.head))
                    .and_then(|t| btf.str_bytes(t.name_off()))
                    .map(essential_bytes)
                    == Some(ess)
            })
            .map_or(0, |g| g.head);
        Chain {
            index: self,
            cur: head,
        }
    }

    /// Ids of this blob whose name equals `name` exactly, ascending.
    pub fn find<'a>(
        &'a self,
        btf: &'a Btf<'_>,
        name: &'a str,
    ) -> impl Iterator<Item = TypeId> + 'a {
        self.by_essential(btf, essential_name(name))
            .filter(move |&id| {
                btf.type_by_id(id).and_then(|t| btf.str_bytes(t.name_off()))
                    == Some(name.as_bytes())
            })
    }

    /// Number of distinct essential names.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when no type has a name.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

fn essential_bytes(name: &[u8]) -> &[u8] {
    &name[..essential_len(name)]
}

/// Ids of one name group, ascending.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    index: &'a NameIndex,
    cur: u32,
}

impl Iterator for Chain<'_> {
    type Item = TypeId;
    fn next(&mut self) -> Option<TypeId> {
        if self.cur == 0 {
            return None;
        }
        let id = self.cur;
        self.cur = self
            .index
            .next
            .get((id - self.index.start_id) as usize)
            .copied()
            .unwrap_or(0);
        Some(TypeId(id))
    }
}
