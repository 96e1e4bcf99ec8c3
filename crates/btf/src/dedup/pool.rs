//! The appended strings, each distinct string once (libbpf's `strset`,
//! which `btf__add_btf` fills through `btf__add_str`). Types refer to a
//! string by its ordinal here until the string pass gives it its final
//! offset.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Distinct strings, numbered in the order they were first added.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pool {
    /// The strings, each followed by a NUL.
    bytes: Vec<u8>,
    /// Ordinal -> start in `bytes`; one extra entry for the end.
    starts: Vec<u32>,
    /// Ordinals, found by the bytes they name.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Pool {
    /// A pool holding `""` as ordinal 0.
    pub fn new() -> Pool {
        let mut p = Pool {
            starts: vec![0],
            ..Default::default()
        };
        p.add(b"");
        p
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Bytes held (NULs included).
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// The string with this ordinal (without its NUL).
    #[inline]
    pub fn get(&self, ord: u32) -> Option<&[u8]> {
        let i = ord as usize;
        let (&a, &b) = (self.starts.get(i)?, self.starts.get(i + 1)?);
        self.bytes.get(a as usize..(b as usize).saturating_sub(1))
    }

    /// The ordinal of `s`, added if new.
    pub fn add(&mut self, s: &[u8]) -> u32 {
        let h = self.hasher.hash_one(s);
        let (bytes, starts) = (&self.bytes, &self.starts);
        let get = |o: u32| -> &[u8] {
            let i = o as usize;
            match (starts.get(i), starts.get(i + 1)) {
                (Some(&a), Some(&b)) => bytes.get(a as usize..b as usize - 1).unwrap_or(&[]),
                _ => &[],
            }
        };
        if let Some(&o) = self.index.find(h, |&o| get(o) == s) {
            return o;
        }
        let ord = self.len() as u32;
        let hasher = &self.hasher;
        self.index
            .insert_unique(h, ord, |&o| hasher.hash_one(get(o)));
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
        self.starts.push(self.bytes.len() as u32);
        ord
    }
}
