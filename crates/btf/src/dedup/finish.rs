//! Passes 6 and 7: compaction (canonical local types keep their order and
//! take consecutive ids) and remapping (every reference rewritten to the
//! new id of its canonical type); then the encoded blob.

use super::state::{Dedup, UNPROCESSED};
use super::store::{id_fields, kind_of, MAX_NR_TYPES};
use crate::header::{BASE_HEADER_LEN, BTF_MAGIC};
use crate::{Endian, Error, Result, TypeId};

/// The deduplicated BTF: what libbpf's `btf__raw_data` would hold after
/// `btf__dedup`.
#[derive(Debug, Clone)]
pub struct Deduped {
    /// Local records, as native words.
    words: Vec<u32>,
    /// The new string table (local part).
    strs: Vec<u8>,
    start_id: u32,
    types: u32,
    /// Appended id -> output id.
    id_map: Vec<u32>,
}

impl Dedup {
    /// Compacts and remaps; the result.
    pub fn finish(mut self) -> Result<Deduped> {
        let n = self.store.type_cnt();
        let start = self.store.start_id;
        let mut new_id = vec![UNPROCESSED; n as usize];
        for (id, v) in new_id.iter_mut().enumerate().take(start as usize) {
            *v = id as u32;
        }
        let mut words = Vec::with_capacity(self.store.words.len() / 2);
        let mut offs = Vec::new();
        let mut next = start;
        for id in start..n {
            if self.map.get(id as usize) != Some(&id) {
                continue;
            }
            new_id[id as usize] = next;
            offs.push(words.len());
            words.extend_from_slice(self.store.rec(id));
            next += 1;
        }
        offs.push(words.len());
        for (i, w) in offs.windows(2).enumerate() {
            let rec = &mut words[w[0]..w[1]];
            let info = rec.get(1).copied().unwrap_or(0);
            for f in id_fields(kind_of(info), (info & 0xffff) as usize) {
                let Some(slot) = rec.get_mut(f) else { continue };
                let r = self.resolve(*slot);
                let to = new_id.get(r as usize).copied().unwrap_or(UNPROCESSED);
                if to > MAX_NR_TYPES {
                    return Err(Error::Unresolvable {
                        id: TypeId(start + i as u32),
                        kind: kind_of(info),
                        why: "references a type dedup left without a place",
                    });
                }
                *slot = to;
            }
        }
        self.check_broken()?;
        let mut id_map = Vec::with_capacity(n as usize);
        for id in 0..n {
            let r = self.resolve(id);
            id_map.push(new_id.get(r as usize).copied().unwrap_or(UNPROCESSED));
        }
        Ok(Deduped {
            words,
            strs: std::mem::take(&mut self.store.strs),
            start_id: start,
            types: next - start,
            id_map,
        })
    }
}

impl Deduped {
    /// Number of types in the result (not counting a base or `void`).
    pub fn type_count(&self) -> u32 {
        self.types
    }

    /// The first id of the result (1, or the base's type count).
    pub fn start_id(&self) -> TypeId {
        TypeId(self.start_id)
    }

    /// The id an appended type has in the result (the id of its canonical
    /// type); `None` past the appended types.
    pub fn new_id(&self, appended: TypeId) -> Option<TypeId> {
        match self.id_map.get(appended.0 as usize) {
            Some(&v) if v <= MAX_NR_TYPES => Some(TypeId(v)),
            _ => None,
        }
    }

    /// The blob as libbpf's `btf__raw_data` lays it out: a 24-byte header
    /// (type section at 0, strings right after it), the types, the
    /// strings; in byte order `e`.
    pub fn encode(&self, e: Endian) -> Vec<u8> {
        let type_len = self.words.len() * 4;
        let mut out = Vec::with_capacity(BASE_HEADER_LEN as usize + type_len + self.strs.len());
        out.extend_from_slice(&e.u16_bytes(BTF_MAGIC));
        out.extend_from_slice(&[1, 0]);
        for v in [
            BASE_HEADER_LEN,
            0,
            type_len as u32,
            type_len as u32,
            self.strs.len() as u32,
        ] {
            out.extend_from_slice(&e.u32_bytes(v));
        }
        for &w in &self.words {
            out.extend_from_slice(&e.u32_bytes(w));
        }
        out.extend_from_slice(&self.strs);
        out
    }
}
