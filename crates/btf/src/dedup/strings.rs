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

/// Rewrites every local string offset of `store` and replaces its local
/// strings with the deduplicated table.
pub(crate) fn dedup_strings(store: &mut Store) -> Result<()> {
    let mut words = std::mem::take(&mut store.words);
    let res = remap(store, &mut words);
    store.words = words;
    store.strs = res?;
    Ok(())
}

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
    let mut out: Vec<u8> = Vec::with_capacity(store.strs.len());
    let mut set: HashMap<&[u8], u32> = HashMap::with_capacity(store.strs.len() / 16);
    if !split {
        out.push(0);
        set.insert(b"", 0);
    }
    for id in store.start_id..store.type_cnt() {
        let i = id as usize;
        let (Some(&a), Some(&b)) = (store.offs.get(i), store.offs.get(i + 1)) else {
            continue;
        };
        let rec = words.get_mut(a as usize..b as usize).unwrap_or(&mut []);
        let kind = kind_of(rec.get(1).copied().unwrap_or(0));
        let vlen = rec.get(1).map_or(0, |w| (w & 0xffff) as usize);
        for f in str_fields(kind, vlen) {
            let Some(w) = rec.get_mut(f) else { continue };
            let off = *w;
            if off == 0 || off < store.start_str {
                continue;
            }
            let s = store.str_at(off).ok_or_else(|| Error::BadNameOffset {
                id: TypeId(id),
                what: "dedup",
                name_off: off,
                limit: store.start_str + store.strs.len() as u32,
            })?;
            if split {
                if let Some(&b) = base.get(s) {
                    *w = b;
                    continue;
                }
            }
            let new = match set.get(s) {
                Some(&o) => o,
                None => {
                    let o = out.len() as u32;
                    out.extend_from_slice(s);
                    out.push(0);
                    set.insert(s, o);
                    o
                }
            };
            *w = store.start_str + new;
        }
    }
    Ok(out)
}
