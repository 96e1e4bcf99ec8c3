//! The dedup state shared by the passes: the canonical map, the
//! hypothetical map of one equivalence check, the candidate table.

use super::store::{Store, MAX_NR_TYPES};
use super::table::Table;
use crate::{Error, Kind, Result, TypeId};

/// Not yet given a canonical type.
pub(crate) const UNPROCESSED: u32 = u32::MAX;
/// On the current reference-type chain (a loop if met again).
pub(crate) const IN_PROGRESS: u32 = u32::MAX - 1;

/// libbpf's `struct btf_dedup`.
pub(crate) struct Dedup {
    pub store: Store,
    /// Each id's canonical (or resolved-to) id, or a marker.
    pub map: Vec<u32>,
    /// canonical-graph id -> candidate-graph id, during one check.
    pub hypot_map: Vec<u32>,
    /// The ids set in `hypot_map`, in the order they were set.
    pub hypot_list: Vec<u32>,
    /// The last check would need to change a base type.
    pub hypot_adjust_canon: bool,
    pub table: Table,
    /// Set when a chain of `map` links did not end (damaged input).
    pub broken: Option<u32>,
    /// Scratch: the pairs an equivalence check still has to compare.
    pub stack: Vec<(u32, u32)>,
}

impl Dedup {
    /// libbpf's `btf_dedup_new`: void, VAR and DATASEC are their own
    /// canonical types; everything else is unprocessed.
    pub fn new(store: Store) -> Dedup {
        let n = store.type_cnt() as usize;
        let mut map = vec![UNPROCESSED; n];
        for (id, m) in map.iter_mut().enumerate() {
            if id == 0 || matches!(store.kind(id as u32), Kind::Var | Kind::Datasec) {
                *m = id as u32;
            }
        }
        Dedup {
            store,
            map,
            hypot_map: vec![UNPROCESSED; n],
            hypot_list: Vec::new(),
            hypot_adjust_canon: false,
            table: Table::default(),
            broken: None,
            stack: Vec::new(),
        }
    }

    /// Whether `id` has a canonical type.
    #[inline]
    pub fn is_mapped(&self, id: u32) -> bool {
        self.map
            .get(id as usize)
            .is_some_and(|&m| m <= MAX_NR_TYPES)
    }

    #[inline]
    fn map_of(&self, id: u32) -> u32 {
        self.map.get(id as usize).copied().unwrap_or(UNPROCESSED)
    }

    /// Follows `map` to the end (`resolve_type_id`). A chain longer than
    /// the number of types is a loop: recorded, and the walk stops.
    #[inline]
    pub fn resolve(&mut self, mut id: u32) -> u32 {
        let mut steps = 0usize;
        loop {
            let m = self.map_of(id);
            if m > MAX_NR_TYPES || m == id {
                return id;
            }
            id = m;
            steps += 1;
            if steps > self.map.len() {
                self.broken.get_or_insert(id);
                return id;
            }
        }
    }

    /// A FWD resolved to the STRUCT/UNION it stands for, if any
    /// (`resolve_fwd_id`); other ids unchanged.
    pub fn resolve_fwd(&mut self, id: u32) -> u32 {
        if self.store.kind(id) != Kind::Fwd {
            return id;
        }
        let r = self.resolve(id);
        if self.store.kind(r) != Kind::Fwd {
            r
        } else {
            id
        }
    }

    pub fn clear_hypot(&mut self) {
        for &id in &self.hypot_list {
            if let Some(h) = self.hypot_map.get_mut(id as usize) {
                *h = UNPROCESSED;
            }
        }
        self.hypot_list.clear();
        self.hypot_adjust_canon = false;
    }

    pub fn hypot_add(&mut self, from: u32, to: u32) {
        if let Some(h) = self.hypot_map.get_mut(from as usize) {
            *h = to;
            self.hypot_list.push(from);
        }
    }

    /// The error for an id (in the appended BTF) a pass cannot handle.
    pub fn bad_kind(&self, id: u32, why: &'static str) -> Error {
        Error::Unresolvable {
            id: TypeId(id),
            kind: self.store.kind(id),
            why,
        }
    }

    /// Fails when a map chain looped.
    pub fn check_broken(&self) -> Result<()> {
        match self.broken {
            Some(id) => Err(Error::Loop {
                id: TypeId(id),
                kind: self.store.kind(id),
            }),
            None => Ok(()),
        }
    }
}
