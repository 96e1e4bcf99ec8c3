//! BTF deduplication, as libbpf 1.1's `btf__dedup`: the same types, in
//! the same order, with the same ids and the same bytes.
//!
//! # Why
//!
//! Every compilation unit describes the types it uses; joined together
//! (a kernel's objects, several BPF objects) the same `struct` appears
//! many times, sometimes only as a forward declaration. Dedup keeps one
//! type for each distinct C type and points every reference at it.
//!
//! # How (libbpf's algorithm, pass by pass)
//!
//! 1. **Strings** (strings.rs): one table rebuilt from the references, in
//!    the order types reference them; unreferenced strings dropped.
//! 2. **Primitive types** (INT, ENUM, ENUM64, FWD, FLOAT): hashed by their
//!    contents; the first equal canonical type found wins, else the type
//!    is canonical. An enum without values resolves to a full enum of its
//!    name.
//! 3. **Structs and unions**: a candidate with the same name, size and
//!    member names/offsets is compared by walking both type graphs side by
//!    side. A *hypothetical map* records which canonical-graph type stands
//!    for which candidate-graph type; meeting a pair again either agrees
//!    with it (a cycle) or contradicts it (not equivalent). A FWD on either
//!    side matches a STRUCT/UNION of its name. When the graphs agree, the
//!    FWDs met are resolved for good.
//! 4. **Forward declarations** still unresolved take the only canonical
//!    STRUCT/UNION of their name, if there is exactly one.
//! 5. **Reference types** (PTR, TYPEDEF, modifiers, TYPE_TAG, FUNC,
//!    DECL_TAG, ARRAY, FUNC_PROTO): their targets are made canonical first,
//!    then they are compared whole. A chain that loops back without a
//!    struct is an error.
//! 6. **Compaction**: canonical local types keep their relative order and
//!    take consecutive ids.
//! 7. **Remapping**: every type reference points at the new id of its
//!    canonical type.
//!
//! VAR and DATASEC are never merged. In split BTF the base types are fixed
//! canonical candidates: local types may collapse into them, they never
//! change; a comparison that would need to resolve a base FWD fails.
//!
//! Candidates with one signature are tried in the order libbpf's hash map
//! walks them (table.rs), so where two canonical types could both match,
//! the same one wins. The recursive walks of libbpf run on explicit stacks
//! here: hostile input cannot exhaust the call stack.
//!
//! ```
//! use btf::{dedup::Appender, write::Builder, Btf, Endian, IntEncoding, Kind};
//! let mut cu = Builder::new();
//! let int = cu.int("int", 4, IntEncoding::Signed);
//! cu.struct_("pair", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
//! let one = Btf::parse(cu.encode(Endian::Little))?;
//!
//! let mut all = Appender::new();
//! all.add(&one)?;
//! all.add(&one)?; // ids 3 and 4: the same two types again
//! let out = all.dedup()?;
//! assert_eq!(out.type_count(), 2);
//! assert_eq!(out.new_id(btf::TypeId(4)), Some(btf::TypeId(2)));
//! let btf = Btf::parse(out.encode(Endian::Little))?;
//! assert_eq!(btf.find_by_name_kind("pair", Kind::Struct), Some(btf::TypeId(2)));
//! # Ok::<(), btf::Error>(())
//! ```

mod equiv;
mod filter;
mod finish;
mod pool;
mod refs;
mod state;
mod store;
mod strings;
mod table;

pub use finish::Deduped;

use crate::{Btf, Result};
use state::Dedup;
use store::Store;

/// BTF inputs joined for deduplication, as libbpf's `btf__new_empty` (or
/// `btf__new_empty_split`) followed by `btf__add_btf` for each.
#[derive(Debug, Clone)]
pub struct Appender {
    store: Store,
}

impl Default for Appender {
    fn default() -> Self {
        Appender::new()
    }
}

impl Appender {
    /// Nothing appended yet; the result will be a base BTF.
    pub fn new() -> Appender {
        Appender {
            store: Store::new(),
        }
    }

    /// Nothing appended yet; the result will be split BTF over `base`,
    /// whose types stay as they are.
    pub fn new_split(base: &Btf<'_>) -> Result<Appender> {
        Ok(Appender {
            store: Store::new_split(base)?,
        })
    }

    /// Appends the types of `btf` (`btf__add_btf`): they take the next
    /// ids, their references shifted alike; their strings are carried.
    /// For an appender over a base, `btf` must be split over that base.
    /// Returns the ids the appended types took.
    pub fn add(&mut self, btf: &Btf<'_>) -> Result<std::ops::Range<crate::TypeId>> {
        let r = self.store.append(btf)?;
        Ok(crate::TypeId(r.start)..crate::TypeId(r.end))
    }

    /// Appends records built elsewhere (an encoder's), as `btf__add_type`
    /// would one by one: `words` are the records in native byte order,
    /// their type ids already in this appender's numbering (each below
    /// the id after the last record of `words`), their string offsets
    /// into `strs`, a table of NUL-terminated strings where 0 is `""`.
    /// A batch with a malformed record, a dangling id or a bad string
    /// offset is refused whole. Returns the ids the records took.
    pub fn add_records(
        &mut self,
        words: &[u32],
        strs: &[u8],
    ) -> Result<std::ops::Range<crate::TypeId>> {
        let r = self.store.append_records(words, strs)?;
        Ok(crate::TypeId(r.start)..crate::TypeId(r.end))
    }

    /// One past the last id appended so far (libbpf's `btf__type_cnt`).
    pub fn type_count(&self) -> u32 {
        self.store.type_cnt()
    }

    /// Deduplicates what was appended (`btf__dedup`).
    pub fn dedup(self) -> Result<Deduped> {
        let mut store = self.store;
        strings::dedup_strings(&mut store)?;
        let mut d = Dedup::new(store);
        d.prep()?;
        d.prim_types()?;
        d.struct_types()?;
        d.resolve_fwds();
        d.ref_types()?;
        d.check_broken()?;
        d.finish()
    }
}
