//! The union of two BTFs as one graph: nodes, their shapes, their edges.
//!
//! Node `i < na` is A's local type `a.start_id() + i`; node `na + j` is
//! B's local type `b.start_id() + j`. References are *slots*: a slot below
//! `fixed` is a fixed point (`void`, or a type of the shared base, by its
//! id); slot `fixed + i` is node `i`.
//!
//! A node's *shape* is everything in its record except which types it
//! references: kind, name (the bytes, not the offset), size, vlen and
//! kind_flag, INT encoding, member names and offset words, enumerator
//! names and values, array length, parameter names, linkage, DATASEC entry
//! offsets and sizes, DECL_TAG component. Its *key* is its kind and name
//! alone (what a reader would call it). Both are interned: equal shapes,
//! equal numbers.

use hashbrown::hash_map::Entry as MapEntry;
use hashbrown::HashMap;

use super::intern::Interner;
use crate::{Btf, Error, Kind, Result, StrOffset, TypeId};

/// Shape number of strings that cannot be read (cannot happen after
/// validation; kept distinct from every real string).
const BAD_STRING: u32 = u32::MAX;

/// The union graph of two BTFs.
pub(crate) struct Graph<'x, 'a, 'b> {
    pub a: &'x Btf<'a>,
    pub b: &'x Btf<'b>,
    /// Number of fixed slots: `void` and the base's types.
    pub fixed: u32,
    /// Local types of A.
    pub na: u32,
    /// Local types of B.
    pub nb: u32,
    /// Node `i`'s references are `refs[ref_start[i]..ref_start[i + 1]]`.
    pub ref_start: Vec<u32>,
    /// Referenced slots, in record order.
    pub refs: Vec<u32>,
    /// Interned shape of each node.
    pub shape: Vec<u32>,
    /// Interned (kind, name) of each node.
    pub key: Vec<u32>,
    /// Interned name of each node (0: anonymous).
    pub name: Vec<u32>,
    /// Kind of each node.
    pub kind: Vec<Kind>,
}

impl<'x, 'a, 'b> Graph<'x, 'a, 'b> {
    /// Builds the union graph; both inputs standalone, or both split over
    /// bases with the same bytes.
    pub fn build(a: &'x Btf<'a>, b: &'x Btf<'b>) -> Result<Self> {
        let fixed = check_bases(a, b)?;
        let na = a.local_type_count() as u32;
        let nb = b.local_type_count() as u32;
        let n = na as usize + nb as usize;
        let mut g = Graph {
            a,
            b,
            fixed,
            na,
            nb,
            ref_start: Vec::with_capacity(n + 1),
            refs: Vec::with_capacity(n * 3),
            shape: Vec::with_capacity(n),
            key: Vec::with_capacity(n),
            name: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
        };
        let mut strings = Strings::default();
        let mut shapes = Interner::with_capacity(n);
        let mut keys = Interner::with_capacity(n / 2);
        let mut words = Vec::with_capacity(64);
        g.ref_start.push(0);
        for side in [Side::A, Side::B] {
            let btf: &Btf<'_> = match side {
                Side::A => a,
                Side::B => b,
            };
            let (start, node0) = match side {
                Side::A => (a.start_id().get(), 0),
                Side::B => (b.start_id().get(), na),
            };
            let mut cache = vec![u32::MAX - 1; btf.total_str_len() as usize];
            let slot = |id: TypeId| -> u32 {
                if id.get() < start {
                    id.get()
                } else {
                    fixed + node0 + (id.get() - start)
                }
            };
            for t in btf.types() {
                words.clear();
                let mut sid = |off: StrOffset| strings.id(btf, &mut cache, off);
                let name = sid(t.name_off());
                words.extend_from_slice(&[t.kind().raw() as u32, name]);
                shape_words(&t, &mut words, &mut sid, &mut g.refs, slot);
                g.shape.push(shapes.intern(&words));
                g.key.push(keys.intern(&[t.kind().raw() as u32, name]));
                g.name.push(name);
                g.kind.push(t.kind());
                g.ref_start.push(g.refs.len() as u32);
            }
        }
        Ok(g)
    }

    /// Total number of nodes.
    pub fn len(&self) -> usize {
        self.shape.len()
    }

    /// References of node `i`, as slots.
    #[inline]
    pub fn refs_of(&self, i: usize) -> &[u32] {
        let s = self.ref_start[i] as usize;
        let e = self.ref_start[i + 1] as usize;
        &self.refs[s..e]
    }

    /// The side and type id of node `i`.
    pub fn id_of(&self, i: usize) -> (Side, TypeId) {
        let i = i as u32;
        if i < self.na {
            (Side::A, TypeId(self.a.start_id().get() + i))
        } else {
            (Side::B, TypeId(self.b.start_id().get() + i - self.na))
        }
    }

    /// The node of a local type of one side.
    pub fn node_of(&self, side: Side, id: TypeId) -> Option<usize> {
        let (start, n, node0) = match side {
            Side::A => (self.a.start_id().get(), self.na, 0),
            Side::B => (self.b.start_id().get(), self.nb, self.na),
        };
        let k = id.get().checked_sub(start)?;
        (k < n).then_some((node0 + k) as usize)
    }

    /// The slot of a type id of one side (fixed below the local types).
    pub fn slot_of(&self, side: Side, id: TypeId) -> Option<u32> {
        if id.get() < self.fixed {
            return Some(id.get());
        }
        self.node_of(side, id).map(|i| self.fixed + i as u32)
    }

    /// The side of node `i`.
    #[inline]
    pub fn side(&self, i: usize) -> Side {
        if (i as u32) < self.na {
            Side::A
        } else {
            Side::B
        }
    }
}

/// One of the two inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The first BTF.
    A,
    /// The second BTF.
    B,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// The number of fixed slots, after checking that the inputs can be compared.
fn check_bases(a: &Btf<'_>, b: &Btf<'_>) -> Result<u32> {
    match (a.base(), b.base()) {
        (None, None) => Ok(1),
        (Some(ba), Some(bb)) => {
            if ba.type_count() != bb.type_count() || ba.raw_bytes() != bb.raw_bytes() {
                return Err(Error::Split(format!(
                    "the two split BTFs have different bases ({} and {} types, or different bytes): \
                     base types are compared by id, so the bases must be the same",
                    ba.type_count() - 1,
                    bb.type_count() - 1
                )));
            }
            Ok(a.start_id().get())
        }
        _ => Err(Error::Split(
            "one BTF is split over a base and the other is not: compare both standalone \
             or both over the same base"
                .into(),
        )),
    }
}

/// Appends the shape words of `t` after its kind and name, and its
/// references (as slots) to `refs`.
fn shape_words(
    t: &crate::Type<'_>,
    w: &mut Vec<u32>,
    sid: &mut impl FnMut(StrOffset) -> u32,
    refs: &mut Vec<u32>,
    slot: impl Fn(TypeId) -> u32,
) {
    // kind_flag and vlen (FUNC's linkage is its vlen).
    w.push(t.info() & 0x8000_ffff);
    match t.kind() {
        Kind::Int => {
            w.push(t.size());
            w.push(t.int().map_or(0, |i| {
                ((match i.encoding {
                    crate::IntEncoding::None => 0,
                    crate::IntEncoding::Signed => 1,
                    crate::IntEncoding::Char => 2,
                    crate::IntEncoding::Bool => 4,
                    crate::IntEncoding::Other(v) => v as u32,
                }) << 24)
                    | ((i.offset as u32) << 16)
                    | i.bits as u32
            }));
        }
        Kind::Ptr | Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict => {
            refs.push(slot(t.type_ref()));
        }
        Kind::TypeTag | Kind::Func => refs.push(slot(t.type_ref())),
        Kind::Array => {
            if let Some(a) = t.array() {
                w.push(a.nelems);
                refs.push(slot(a.elem));
                refs.push(slot(a.index));
            }
        }
        Kind::Struct | Kind::Union => {
            w.push(t.size());
            for m in t.members() {
                w.push(sid(m.name_off));
                w.push(m.raw_offset);
                refs.push(slot(m.ty));
            }
        }
        Kind::Enum | Kind::Enum64 => {
            w.push(t.size());
            for v in t.enum_values() {
                w.push(sid(v.name_off));
                w.push(v.value as u32);
                w.push((v.value >> 32) as u32);
            }
        }
        Kind::Fwd => {}
        Kind::FuncProto => {
            refs.push(slot(t.type_ref()));
            for p in t.params() {
                w.push(sid(p.name_off));
                refs.push(slot(p.ty));
            }
        }
        Kind::Var => {
            w.push(t.var_linkage().map_or(0, |l| match l {
                crate::VarLinkage::Static => 0,
                crate::VarLinkage::Global => 1,
                crate::VarLinkage::Extern => 2,
                crate::VarLinkage::Other(v) => v,
            }));
            refs.push(slot(t.type_ref()));
        }
        Kind::Datasec => {
            w.push(t.size());
            for v in t.datasec_vars() {
                w.push(v.offset);
                w.push(v.size);
                refs.push(slot(v.ty));
            }
        }
        Kind::Float => w.push(t.size()),
        Kind::DeclTag => {
            w.push(t.decl_tag_component().unwrap_or(-1) as u32);
            refs.push(slot(t.type_ref()));
        }
        // A kind this code does not know: its whole record is its shape
        // (any type ids inside are compared as numbers).
        Kind::Void | Kind::Unknown(_) => {
            w.push(t.size_or_type());
            w.extend(t.extra_bytes().chunks(4).map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(b)
            }));
        }
    }
}

/// Strings of both inputs, numbered by their bytes (0 is the empty name).
#[derive(Default)]
struct Strings<'s> {
    ids: HashMap<&'s [u8], u32>,
}

impl<'s> Strings<'s> {
    /// The number of the string at `off` in `btf`; `cache` remembers it by
    /// offset for this input.
    fn id(&mut self, btf: &'s Btf<'_>, cache: &mut [u32], off: StrOffset) -> u32 {
        if off.is_anon() {
            return 0;
        }
        if let Some(&c) = cache.get(off.0 as usize) {
            if c != u32::MAX - 1 {
                return c;
            }
        }
        let id = match btf.str_bytes(off) {
            Some([]) => 0,
            Some(bytes) => {
                let next = self.ids.len() as u32 + 1;
                match self.ids.entry(bytes) {
                    MapEntry::Occupied(e) => *e.get(),
                    MapEntry::Vacant(e) => *e.insert(next),
                }
            }
            None => BAD_STRING,
        };
        if let Some(c) = cache.get_mut(off.0 as usize) {
            *c = id;
        }
        id
    }
}
