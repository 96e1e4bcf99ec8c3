//! Pass 1: strings (libbpf's `btf_dedup_strings`).
//!
//! A new table is built from the references alone, in the order the types
//! reference them (each type's name, then its member, value or parameter
//! names): each distinct string once, strings nobody references dropped.
//! A base BTF's table starts with the empty string. In split BTF a string
//! the base holds is pointed at the base's copy (its first occurrence) and
//! base offsets are left alone.

use hashbrown::HashMap;

use super::store::{kind_of, str_fields, Store};
use crate::{Error, Result, TypeId};

/// Rewrites every local string field of `store` (base offsets kept, pool
/// ordinals given their final offsets) and fills `store.strs`.
pub(crate) fn dedup_strings(store: &mut Store) -> Result<()> {
    let mut words = std::mem::take(&mut store.words);
    let res = remap(store, &mut words);
    store.words = words;
    store.strs = res?;
    Ok(())
}

const UNSET: u32 = u32::MAX;

fn remap(store: &Store, words: &mut [u32]) -> Result<Vec<u8>> {
    let split = store.start_id > 1;
    let mut base: HashMap<&[u8], u32> = HashMap::new();
    if split {
        let tab = &store.base_strs[..];
        let mut off = 0usize;
        while off < tab.len() {
            let n = memchr::memchr(0, &tab[off..]).unwrap_or(tab.len() - off);
            base.entry(&tab[off..off + n]).or_insert(off as u32);
            off += n + 1;
        }
    }
    let mut out: Vec<u8> = Vec::with_capacity(store.pool.byte_len());
    // pool ordinal -> final offset
    let mut new_off = vec![UNSET; store.pool.len()];
    if !split {
        out.push(0);
        if let Some(z) = new_off.first_mut() {
            *z = 0;
        }
    }
    for id in store.start_id..store.type_cnt() {
        let i = id as usize;
        let (Some(&a), Some(&b)) = (store.offs.get(i), store.offs.get(i + 1)) else {
            continue;
        };
        let rec = words.get_mut(a as usize..b as usize).unwrap_or(&mut []);
        let info = rec.get(1).copied().unwrap_or(0);
        for f in str_fields(kind_of(info), (info & 0xffff) as usize) {
            let Some(w) = rec.get_mut(f) else { continue };
            let v = *w;
            if v < store.start_str {
                continue;
            }
            let ord = v - store.start_str;
            let slot = new_off.get_mut(ord as usize).ok_or(Error::BadNameOffset {
                id: TypeId(id),
                what: "dedup",
                name_off: v,
                limit: store.start_str + store.pool.len() as u32,
            })?;
            if *slot == UNSET {
                let s = store.pool.get(ord).unwrap_or(&[]);
                *slot = match base.get(s) {
                    Some(&b) => b,
                    None => {
                        let o = store.start_str + out.len() as u32;
                        out.extend_from_slice(s);
                        out.push(0);
                        o
                    }
                };
            }
            *w = *slot;
        }
    }
    Ok(out)
}
