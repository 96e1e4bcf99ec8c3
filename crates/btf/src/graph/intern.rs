//! Interning of word sequences: equal sequences, equal numbers.

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

/// Hashes a sequence of words (a multiply-rotate mix, finished by
/// murmur3's avalanche so that hashbrown's top bits are spread too).
#[inline]
pub(crate) fn hash_words(words: &[u32]) -> u64 {
    let mut h: u64 = words.len() as u64;
    for &w in words {
        h = (h.rotate_left(5) ^ w as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fmix(h)
}

/// murmur3's 64-bit finaliser.
#[inline]
pub(crate) fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Word sequences stored once each, numbered from 0 in first-seen order.
pub(crate) struct Interner {
    arena: Vec<u32>,
    starts: Vec<u32>,
    table: HashTable<u32>,
}

impl Interner {
    /// An empty interner with room for `n` sequences.
    pub fn with_capacity(n: usize) -> Interner {
        let mut starts = Vec::with_capacity(n + 1);
        starts.push(0);
        Interner {
            arena: Vec::with_capacity(n * 4),
            starts,
            table: HashTable::with_capacity(n),
        }
    }

    /// How many distinct sequences were interned.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The number of `words`, new or already seen.
    pub fn intern(&mut self, words: &[u32]) -> u32 {
        let h = hash_words(words);
        let (arena, starts) = (&self.arena, &self.starts);
        let seq = |id: u32| -> &[u32] {
            let s = starts[id as usize] as usize;
            let e = starts[id as usize + 1] as usize;
            &arena[s..e]
        };
        match self
            .table
            .entry(h, |&id| seq(id) == words, |&id| hash_words(seq(id)))
        {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(v) => {
                let id = (self.starts.len() - 1) as u32;
                v.insert(id);
                self.arena.extend_from_slice(words);
                self.starts.push(self.arena.len() as u32);
                id
            }
        }
    }
}
