//! Passes 2 and 3: primitive types, then structs and unions by type-graph
//! equivalence (libbpf's `btf_dedup_prim_types`, `btf_dedup_struct_types`,
//! `btf_dedup_is_equiv`, `btf_dedup_merge_hypot_map`), and the base
//! preparation of split BTF (`btf_dedup_prep`).

use std::collections::HashSet;

use super::state::{Dedup, UNPROCESSED};
use super::store::MAX_NR_TYPES;
use super::table::walk;
use crate::{Kind, Result};

impl Dedup {
    /// Split BTF: every base type is canonical and a candidate.
    pub fn prep(&mut self) -> Result<()> {
        for id in 1..self.store.start_id {
            if let Some(m) = self.map.get_mut(id as usize) {
                *m = id;
            }
            let s = &self.store;
            let h = match s.kind(id) {
                Kind::Var | Kind::Datasec => continue,
                Kind::Const
                | Kind::Volatile
                | Kind::Restrict
                | Kind::Ptr
                | Kind::Fwd
                | Kind::Typedef
                | Kind::Func
                | Kind::Float
                | Kind::TypeTag => s.hash_common(id),
                Kind::Int | Kind::DeclTag => s.hash_int_tag(id),
                Kind::Enum | Kind::Enum64 => s.hash_enum(id),
                Kind::Struct | Kind::Union => s.hash_struct(id),
                Kind::Array => s.hash_array(id),
                Kind::FuncProto => s.hash_fnproto(id),
                _ => return Err(self.bad_kind(id, "unknown kind in the dedup base")),
            };
            self.table.add(h, id);
        }
        Ok(())
    }

    /// INT, ENUM, ENUM64, FWD and FLOAT: equal to a canonical one, or
    /// canonical themselves. An enum without values takes a full enum of
    /// the same name; a full enum takes over a canonical one without.
    pub fn prim_types(&mut self) -> Result<()> {
        for id in self.store.start_id..self.store.type_cnt() {
            let s = &self.store;
            let mut new = id;
            let h;
            match s.kind(id) {
                Kind::Int => {
                    h = s.hash_int_tag(id);
                    if let Some(c) = walk(self.table.get(h)).find(|&c| s.equal_int_tag(id, c)) {
                        new = c;
                    }
                }
                Kind::Enum | Kind::Enum64 => {
                    h = s.hash_enum(id);
                    let fwd = s.is_enum_fwd(id);
                    for c in walk(self.table.get(h)) {
                        if s.equal_whole(id, c) {
                            new = c;
                            break;
                        }
                        // two full enums: compatible only when equal
                        if (fwd || s.is_enum_fwd(c)) && s.compat_enum(id, c) {
                            if s.is_enum_fwd(id) {
                                new = c;
                                break;
                            }
                            if let Some(m) = self.map.get_mut(c as usize) {
                                *m = id;
                            }
                        }
                    }
                }
                Kind::Fwd | Kind::Float => {
                    h = s.hash_common(id);
                    if let Some(c) = walk(self.table.get(h)).find(|&c| s.equal_common(id, c)) {
                        new = c;
                    }
                }
                Kind::Void | Kind::Unknown(_) => {
                    return Err(self.bad_kind(id, "unknown kind in dedup input"))
                }
                _ => continue,
            }
            if let Some(m) = self.map.get_mut(id as usize) {
                *m = new;
            }
            if new == id {
                self.table.add(h, id);
            }
        }
        Ok(())
    }

    /// STRUCT and UNION: the first candidate with the same shape whose
    /// type graph is equivalent becomes canonical for it.
    pub fn struct_types(&mut self) -> Result<()> {
        let mut cands = Vec::new();
        let sigs = super::filter::struct_sigs(&self.store);
        let sig = |id: u32| sigs.as_ref().and_then(|s| s.get(id as usize).copied());
        for id in self.store.start_id..self.store.type_cnt() {
            if self.is_mapped(id) || !matches!(self.store.kind(id), Kind::Struct | Kind::Union) {
                continue;
            }
            let h = self.store.hash_struct(id);
            cands.clear();
            cands.extend(walk(self.table.get(h)));
            let mut new = id;
            for &c in &cands {
                // a FWD with a colliding hash must not be taken
                if sig(id) != sig(c) || !self.store.shallow_equal_struct(id, c) {
                    continue;
                }
                self.clear_hypot();
                if !self.is_equiv(id, c)? {
                    continue;
                }
                self.merge_hypot();
                if self.hypot_adjust_canon {
                    continue;
                }
                new = c;
                break;
            }
            if let Some(m) = self.map.get_mut(id as usize) {
                *m = new;
            }
            if new == id {
                self.table.add(h, id);
            }
        }
        Ok(())
    }

    /// Whether the graphs from `cand` and `canon` are equivalent. libbpf
    /// recurses; this walks the same pairs in the same (depth-first,
    /// left-to-right) order from an explicit stack, stopping at the first
    /// pair that differs.
    fn is_equiv(&mut self, cand: u32, canon: u32) -> Result<bool> {
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push((cand, canon));
        let mut res = Ok(true);
        while let Some((c, k)) = stack.pop() {
            match self.equiv_pair(c, k, &mut stack) {
                Ok(true) => {}
                other => {
                    res = other;
                    break;
                }
            }
        }
        self.stack = stack;
        res
    }

    /// One pair of `is_equiv`: false when they differ; their referenced
    /// pairs pushed (last to be compared first) when they may match.
    fn equiv_pair(&mut self, cand: u32, canon: u32, stack: &mut Vec<(u32, u32)>) -> Result<bool> {
        if self.resolve(cand) == self.resolve(canon) {
            return Ok(true);
        }
        let canon = self.resolve_fwd(canon);
        let hypot = self
            .hypot_map
            .get(canon as usize)
            .copied()
            .unwrap_or(UNPROCESSED);
        if hypot <= MAX_NR_TYPES {
            // a cycle back to the same pair; or identical arrays or
            // structs the compiler emitted twice (libbpf's workarounds)
            return Ok(hypot == cand
                || self.identical_arrays(hypot, cand)
                || self.identical_structs(hypot, cand));
        }
        self.hypot_add(canon, cand);
        let s = &self.store;
        let (ck, kk) = (s.kind(cand), s.kind(canon));
        if s.word(cand, 0) != s.word(canon, 0) {
            return Ok(false);
        }
        if (ck == Kind::Fwd || kk == Kind::Fwd) && ck != kk {
            let fwd_kind = |id: u32| {
                if s.word(id, 1) >> 31 != 0 {
                    Kind::Union
                } else {
                    Kind::Struct
                }
            };
            let (real, fwd) = if ck == Kind::Fwd {
                (kk, fwd_kind(cand))
            } else {
                (ck, fwd_kind(canon))
            };
            if ck != Kind::Fwd && fwd == real && canon < s.start_id {
                // would resolve a base FWD
                self.hypot_adjust_canon = true;
            }
            return Ok(fwd == real);
        }
        if ck != kk {
            return Ok(false);
        }
        Ok(match ck {
            Kind::Int => s.equal_int_tag(cand, canon),
            Kind::Enum | Kind::Enum64 => s.compat_enum(cand, canon),
            Kind::Fwd | Kind::Float => s.equal_common(cand, canon),
            Kind::Const
            | Kind::Volatile
            | Kind::Restrict
            | Kind::Ptr
            | Kind::Typedef
            | Kind::Func
            | Kind::TypeTag => {
                if s.word(cand, 1) != s.word(canon, 1) {
                    return Ok(false);
                }
                stack.push((s.word(cand, 2), s.word(canon, 2)));
                true
            }
            Kind::Array => {
                if !s.compat_array(cand, canon) {
                    return Ok(false);
                }
                // index type first, then element type
                stack.push((s.word(cand, 3), s.word(canon, 3)));
                stack.push((s.word(cand, 4), s.word(canon, 4)));
                true
            }
            Kind::Struct | Kind::Union => {
                if !s.shallow_equal_struct(cand, canon) {
                    return Ok(false);
                }
                let (a, b) = (s.rec(cand), s.rec(canon));
                let (a, b) = (a.get(3..).unwrap_or(&[]), b.get(3..).unwrap_or(&[]));
                for (m, n) in a.chunks_exact(3).zip(b.chunks_exact(3)).rev() {
                    stack.push((m[1], n[1]));
                }
                true
            }
            Kind::FuncProto => {
                if !s.compat_fnproto(cand, canon) {
                    return Ok(false);
                }
                let (a, b) = (s.rec(cand), s.rec(canon));
                let (pa, pb) = (a.get(3..).unwrap_or(&[]), b.get(3..).unwrap_or(&[]));
                for (p, q) in pa.chunks_exact(2).zip(pb.chunks_exact(2)).rev() {
                    stack.push((p[1], q[1]));
                }
                stack.push((s.word(cand, 2), s.word(canon, 2)));
                true
            }
            _ => return Err(self.bad_kind(cand, "a struct, pointer, array or prototype leads to it, and its kind cannot be compared (libbpf: -EINVAL)")),
        })
    }

    fn identical_arrays(&self, a: u32, b: u32) -> bool {
        let s = &self.store;
        s.kind(a) == Kind::Array && s.kind(b) == Kind::Array && s.equal_array(a, b)
    }

    /// libbpf's `btf_dedup_identical_structs`: two STRUCTs (or UNIONs)
    /// equal down to their member type ids, a member's types also
    /// counting as equal when they are identical arrays or, recursively,
    /// identical structs (libbpf 1.1.2 has the recursion: the crafted
    /// `ident_structs_{nested,union,array}` cases merge only with it).
    ///
    /// libbpf recurses without bound; this walks the same pairs in the
    /// same order from an explicit stack, so nesting of any depth gives
    /// libbpf's answer (`ident_structs_deep`: 101 levels). Where libbpf
    /// never answers, the answer is "not identical": a pair met again
    /// inside itself (a struct holding itself by value, which C cannot
    /// say: libbpf recurses until its stack overflows). Pairs found
    /// identical are remembered for the rest of the walk, so copies that
    /// share nested copies cost one visit per pair where libbpf walks
    /// every path (2^n for n levels of `T<k> { T<k-1> l, r; }`). Any
    /// pair that differs decides the whole walk, hence no other memory.
    fn identical_structs(&self, a: u32, b: u32) -> bool {
        let s = &self.store;
        let shallow = |x: u32, y: u32| {
            let k = s.kind(x);
            matches!(k, Kind::Struct | Kind::Union)
                && s.kind(y) == k
                && s.shallow_equal_struct(x, y)
        };
        if !shallow(a, b) {
            return false;
        }
        // the pairs being compared (with their next member), outermost first
        let mut path: Vec<(u32, u32, usize)> = vec![(a, b, 0)];
        let mut open: HashSet<(u32, u32)> = HashSet::from([(a, b)]);
        let mut done: HashSet<(u32, u32)> = HashSet::new();
        while let Some(top) = path.last_mut() {
            let (x, y, m) = *top;
            if m == (s.word(x, 1) & 0xffff) as usize {
                path.pop();
                open.remove(&(x, y));
                done.insert((x, y));
                continue;
            }
            top.2 += 1;
            let (mx, my) = (s.word(x, 4 + 3 * m), s.word(y, 4 + 3 * m));
            if mx == my || self.identical_arrays(mx, my) || done.contains(&(mx, my)) {
                continue;
            }
            if open.contains(&(mx, my)) || !shallow(mx, my) {
                return false;
            }
            path.push((mx, my, 0));
            open.insert((mx, my));
        }
        true
    }

    /// Records what a successful check established: FWDs resolved to
    /// STRUCT/UNIONs (in either graph), and structs of the candidate graph
    /// mapped to canonical ones. When the check would have had to resolve
    /// a base FWD, only FWDs of the canonical graph are pointed.
    fn merge_hypot(&mut self) {
        for i in 0..self.hypot_list.len() {
            let canon = self.hypot_list[i];
            let targ = self.hypot_map.get(canon as usize).copied().unwrap_or(0);
            let t = self.resolve(targ);
            let c = self.resolve(canon);
            let (tk, ck) = (self.store.kind(t), self.store.kind(c));
            if tk != Kind::Fwd && ck == Kind::Fwd {
                self.set_map(c, t);
            }
            if self.hypot_adjust_canon {
                continue;
            }
            if tk == Kind::Fwd && ck != Kind::Fwd {
                self.set_map(t, c);
            }
            if matches!(tk, Kind::Struct | Kind::Union)
                && ck != Kind::Fwd
                && self.is_mapped(c)
                && !self.is_mapped(t)
            {
                self.set_map(t, c);
            }
        }
    }

    #[inline]
    pub fn set_map(&mut self, id: u32, to: u32) {
        if let Some(m) = self.map.get_mut(id as usize) {
            *m = to;
        }
    }
}
