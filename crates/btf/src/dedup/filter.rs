//! A necessary condition for struct equivalence, checked before the graph
//! walk: for each member, the chain of its type (through PTR, TYPEDEF,
//! modifiers, TYPE_TAG and FUNC, a few links deep) must show the same
//! kinds and names on both sides, ending in the same class of type
//! (struct-like, union-like, or the kind itself) with the same name.
//!
//! The walk compares exactly these words before it could call the pair
//! equivalent, and every link a map chain adds (FWD to STRUCT, enum
//! without values to full enum, a type to its equal canonical) keeps name
//! and class. So a candidate whose signature differs would fail the walk:
//! skipping it changes nothing but the time. (A kernel has 1,601
//! anonymous `union { event; handler; }` of one shape: doubled, libbpf
//! walks about 2.5 million such failing pairs.)
//!
//! The walk fails with an error on kinds that cannot be in a type graph
//! (VAR, DATASEC, DECL_TAG); when any reference leads to one, the filter
//! is off, so such input fails exactly where libbpf's would.

use super::store::{id_fields, kind_of, Store};
use super::table::combine;
use crate::Kind;

/// Links followed from a member's type.
const DEPTH: usize = 8;

/// Per-struct signatures (0 for other types), or none when the filter is off.
pub(crate) fn struct_sigs(s: &Store) -> Option<Vec<u64>> {
    let n = s.type_cnt();
    for id in 1..n {
        let info = s.word(id, 1);
        for f in id_fields(kind_of(info), (info & 0xffff) as usize) {
            let t = s.word(id, f);
            if matches!(
                s.kind(t),
                Kind::Var | Kind::Datasec | Kind::DeclTag | Kind::Unknown(_)
            ) && !matches!(kind_of(info), Kind::Datasec | Kind::DeclTag)
            {
                return None;
            }
        }
    }
    let mut sigs = vec![0u64; n as usize];
    for id in 1..n {
        if !matches!(s.kind(id), Kind::Struct | Kind::Union) {
            continue;
        }
        let mut h = 1i64;
        for m in s.rec(id).get(3..).unwrap_or(&[]).chunks_exact(3) {
            h = combine(h, member_sig(s, m[1]) as u32);
        }
        if let Some(v) = sigs.get_mut(id as usize) {
            *v = h as u64;
        }
    }
    Some(sigs)
}

fn member_sig(s: &Store, mut t: u32) -> i64 {
    let mut h = 7i64;
    for _ in 0..DEPTH {
        let r = s.rec(t);
        let w = |i: usize| r.get(i).copied().unwrap_or(0);
        let (name, info) = (w(0), w(1));
        let kind = kind_of(info);
        match kind {
            Kind::Ptr
            | Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::Func
            | Kind::TypeTag => {
                h = combine(combine(h, info), name);
                t = w(2);
            }
            _ => {
                let class = match kind {
                    Kind::Struct => 1,
                    Kind::Union => 2,
                    Kind::Fwd if info >> 31 != 0 => 2,
                    Kind::Fwd => 1,
                    Kind::Array => combine(combine(3, info), w(5)) as u32,
                    Kind::FuncProto => combine(4, info) as u32,
                    k => 16 + k.raw() as u32,
                };
                return combine(combine(h, class), name);
            }
        }
    }
    h
}
