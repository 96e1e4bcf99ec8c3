//! Passes 4 and 5: unambiguous forward declarations
//! (`btf_dedup_resolve_fwds`), then reference types
//! (`btf_dedup_ref_types`): PTR, TYPEDEF, CONST, VOLATILE, RESTRICT,
//! TYPE_TAG, FUNC, DECL_TAG, ARRAY and FUNC_PROTO.

use hashbrown::HashMap;

use super::state::{Dedup, IN_PROGRESS};
use super::table::walk;
use crate::{Error, Kind, Result, TypeId};

/// What entering a reference type found.
enum Enter {
    /// Already canonical: its id.
    Done(u32),
    /// Now in progress: its referenced types come next.
    Entered,
}

impl Dedup {
    /// A FWD no graph comparison resolved takes the one canonical
    /// STRUCT/UNION of its name and kind, when there is exactly one
    /// STRUCT/UNION of that name (base types included).
    pub fn resolve_fwds(&mut self) {
        let mut names: HashMap<u32, u32> = HashMap::new();
        for id in 1..self.store.type_cnt() {
            if !matches!(self.store.kind(id), Kind::Struct | Kind::Union)
                || self.map.get(id as usize) != Some(&id)
            {
                continue;
            }
            names
                .entry(self.store.word(id, 0))
                .and_modify(|v| *v = 0)
                .or_insert(id);
        }
        for id in self.store.start_id..self.store.type_cnt() {
            if self.store.kind(id) != Kind::Fwd || self.map.get(id as usize) != Some(&id) {
                continue;
            }
            let Some(&cand) = names.get(&self.store.word(id, 0)) else {
                continue;
            };
            if cand == 0 {
                continue;
            }
            let union = self.store.word(id, 1) >> 31 != 0;
            match self.store.kind(cand) {
                Kind::Struct if union => continue,
                Kind::Union if !union => continue,
                _ => {}
            }
            self.set_map(id, cand);
        }
    }

    /// Every reference type, in id order.
    pub fn ref_types(&mut self) -> Result<()> {
        let mut frames = Vec::new();
        for id in self.store.start_id..self.store.type_cnt() {
            self.ref_type(id, &mut frames)?;
        }
        self.table = Default::default();
        Ok(())
    }

    /// libbpf's recursive `btf_dedup_ref_type` on an explicit stack: the
    /// types a reference type points to are made canonical first (and
    /// written into it), then it is hashed and compared whole.
    fn ref_type(&mut self, root: u32, frames: &mut Vec<(u32, usize)>) -> Result<u32> {
        frames.clear();
        match self.enter(root)? {
            Enter::Done(v) => return Ok(v),
            Enter::Entered => frames.push((root, 0)),
        }
        loop {
            let Some(&(id, child)) = frames.last() else {
                return Ok(root);
            };
            if let Some(pos) = self.ref_field(id, child) {
                let target = self.store.words.get(pos).copied().unwrap_or(0);
                match self.enter(target)? {
                    Enter::Done(v) => {
                        if let Some(w) = self.store.words.get_mut(pos) {
                            *w = v;
                        }
                        if let Some(f) = frames.last_mut() {
                            f.1 += 1;
                        }
                    }
                    Enter::Entered => frames.push((target, 0)),
                }
                continue;
            }
            let new = self.ref_finish(id);
            frames.pop();
            let Some(&(parent, pchild)) = frames.last() else {
                return Ok(new);
            };
            if let Some(pos) = self.ref_field(parent, pchild) {
                if let Some(w) = self.store.words.get_mut(pos) {
                    *w = new;
                }
            }
            if let Some(f) = frames.last_mut() {
                f.1 += 1;
            }
        }
    }

    fn enter(&mut self, id: u32) -> Result<Enter> {
        let m = self.map.get(id as usize).copied();
        match m {
            Some(IN_PROGRESS) => Err(Error::Loop {
                id: TypeId(id),
                kind: self.store.kind(id),
            }),
            Some(m) if self.is_mapped(id) => {
                let _ = m;
                Ok(Enter::Done(self.resolve(id)))
            }
            Some(_) => match self.store.kind(id) {
                Kind::Const
                | Kind::Volatile
                | Kind::Restrict
                | Kind::Ptr
                | Kind::Typedef
                | Kind::Func
                | Kind::TypeTag
                | Kind::DeclTag
                | Kind::Array
                | Kind::FuncProto => {
                    self.set_map(id, IN_PROGRESS);
                    Ok(Enter::Entered)
                }
                _ => Err(self.bad_kind(id, "a reference type leads to it, and its kind has no canonical type (libbpf: -EINVAL)")),
            },
            None => Err(Error::NoSuchType(TypeId(id))),
        }
    }

    /// Index in `words` of the `n`-th type reference a reference type
    /// resolves (ARRAY: element, then index; FUNC_PROTO: return, then
    /// parameters), or `None` past the last.
    fn ref_field(&self, id: u32, n: usize) -> Option<usize> {
        let s = &self.store;
        let w = match s.kind(id) {
            Kind::Array => match n {
                0 => 3,
                1 => 4,
                _ => return None,
            },
            Kind::FuncProto => {
                let vlen = (s.word(id, 1) & 0xffff) as usize;
                match n {
                    0 => 2,
                    n if n <= vlen => 3 + (n - 1) * 2 + 1,
                    _ => return None,
                }
            }
            _ if n == 0 => 2,
            _ => return None,
        };
        Some(s.pos(id, w))
    }

    /// A reference type whose targets are canonical: equal to a candidate,
    /// or canonical itself.
    fn ref_finish(&mut self, id: u32) -> u32 {
        let s = &self.store;
        let (h, found) = match s.kind(id) {
            Kind::DeclTag => {
                let h = s.hash_int_tag(id);
                (h, walk(self.table.get(h)).find(|&c| s.equal_int_tag(id, c)))
            }
            Kind::Array => {
                let h = s.hash_array(id);
                (h, walk(self.table.get(h)).find(|&c| s.equal_array(id, c)))
            }
            Kind::FuncProto => {
                let h = s.hash_fnproto(id);
                (h, walk(self.table.get(h)).find(|&c| s.equal_whole(id, c)))
            }
            _ => {
                let h = s.hash_common(id);
                (h, walk(self.table.get(h)).find(|&c| s.equal_common(id, c)))
            }
        };
        let new = found.unwrap_or(id);
        self.set_map(id, new);
        if new == id {
            self.table.add(h, id);
        }
        new
    }
}
