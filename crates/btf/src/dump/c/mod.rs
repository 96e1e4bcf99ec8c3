//! bpftool's `btf dump ... format c`: a compilable C header (`vmlinux.h`).
//!
//! The output is byte-identical to what bpftool 7.1 prints (libbpf 1.1's
//! `btf_dump` behind bpftool's header guard and `preserve_access_index`
//! pragma). The work is split the way libbpf splits it:
//!
//! - `layout.rs`: size and alignment of types, as `btf__resolve_size` and
//!   `btf__align_of` compute them;
//! - `order.rs`: the topological walk that decides which named definitions
//!   must come before which (strong links: embedding; weak links: through a
//!   pointer to a named type, satisfiable by a forward declaration);
//! - `emit.rs`: emitting the queued definitions, with forward declarations
//!   where a cycle through pointers needs one;
//! - `decl.rs`: C declarator syntax for a chain of types (pointers, arrays,
//!   function prototypes, qualifiers);
//! - `record.rs`: struct/union bodies, bitfields, explicit padding, packing;
//! - `names.rs`: the `___N` suffixes that keep the tag and ordinary
//!   namespaces free of duplicates.
//!
//! Hostile input (reference loops through structs, absurd nesting or
//! padding) ends in an [`Error`], never a panic or an endless loop.
//!
//! ```
//! use btf::{write::Builder, Btf, Endian, IntEncoding, Kind, TypeId};
//!
//! let mut b = Builder::new();
//! let int = b.int("int", 4, IntEncoding::Signed); // [1]
//! let node = TypeId(2);
//! let next = TypeId(3);
//! b.struct_("node", 16, &[("val", int, 0, 0), ("next", next, 64, 0)]); // [2]
//! b.reference(Kind::Ptr, "", node); // [3]
//! let btf = Btf::parse(b.encode(Endian::Little))?;
//!
//! let mut out = Vec::new();
//! btf::dump::c::dump_c(&btf, &mut out)?;
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.starts_with("#ifndef __VMLINUX_H__\n"));
//! assert!(text.contains("struct node {\n\tint val;\n\tstruct node *next;\n};\n\n"));
//! # Ok::<(), btf::Error>(())
//! ```

mod decl;
mod emit;
mod layout;
mod names;
mod order;
mod record;

use hashbrown::HashMap;

use crate::types::Type;
use crate::{Btf, Error, Kind, Result, TypeId};

/// The lines bpftool prints before the first type.
pub const PROLOGUE: &str = "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
#endif\n\n";

/// The lines bpftool prints after the last type.
pub const EPILOGUE: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute pop\n\
#endif\n\n\
#endif /* __VMLINUX_H__ */\n";

/// Limit on nested recursion (type graph walks and nested declarations).
/// Every recorded kernel and object dumps well within it; the limit stops
/// hostile input (absurdly deep chains) before the stack does.
pub const MAX_NESTING: u32 = 512;

/// Dumps every type of `btf` (base types included, for split BTF) as
/// `bpftool btf dump file X format c` does, appending to `out`.
pub fn dump_c(btf: &Btf<'_>, out: &mut Vec<u8>) -> Result<()> {
    let last = btf.type_count();
    // A kernel header is about 20 bytes per type.
    out.reserve(last as usize * 20);
    dump_c_ids(btf, (1..last).map(TypeId), out)
}

/// Dumps the given types, in the given order, with everything they need,
/// between bpftool's prologue and epilogue: bpftool's "root id" mode, where
/// each id goes through `btf_dump__dump_type` in turn (a type already
/// emitted for an earlier id is not emitted again).
pub fn dump_c_ids(
    btf: &Btf<'_>,
    ids: impl IntoIterator<Item = TypeId>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut d = CDumper::new(btf)?;
    out.extend_from_slice(PROLOGUE.as_bytes());
    for id in ids {
        d.dump_type(id, out)?;
    }
    out.extend_from_slice(EPILOGUE.as_bytes());
    Ok(())
}

/// The ids of every type named exactly `name` (base types first, then in id
/// order), whatever their kind: the mapping `btfx dump --type NAME` uses.
/// A struct and a typedef of the same name are both kept, in id order; in C
/// output FUNC, VAR, DATASEC and DECL_TAG ids emit nothing (as in libbpf's
/// `btf_dump`), INT and FLOAT only what they need (nothing, usually).
pub fn ids_by_name(btf: &Btf<'_>, name: &str) -> Vec<TypeId> {
    let mut v = Vec::new();
    if let Some(b) = btf.base() {
        v.extend(ids_by_name(b, name));
    }
    v.extend(btf.find_by_name(name));
    v
}

/// Per-type state, as libbpf's `btf_dump_type_aux_state`, packed in a byte.
#[derive(Clone, Copy, Default)]
struct State(u8);

const ORDER_MASK: u8 = 0b11;
const ORDERING: u8 = 1;
const ORDERED: u8 = 2;
const EMIT_SHIFT: u8 = 2;
const EMITTING: u8 = 1;
const EMITTED: u8 = 2;
const FWD_EMITTED: u8 = 1 << 4;
const NAME_RESOLVED: u8 = 1 << 5;
const REFERENCED: u8 = 1 << 6;

impl State {
    fn order(self) -> u8 {
        self.0 & ORDER_MASK
    }
    fn set_order(&mut self, v: u8) {
        self.0 = (self.0 & !ORDER_MASK) | v;
    }
    fn emit(self) -> u8 {
        (self.0 >> EMIT_SHIFT) & 0b11
    }
    fn set_emit(&mut self, v: u8) {
        self.0 = (self.0 & !(0b11 << EMIT_SHIFT)) | (v << EMIT_SHIFT);
    }
    fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }
    fn set(&mut self, flag: u8) {
        self.0 |= flag;
    }
}

/// A C header writer over one BTF; keeps libbpf's `btf_dump` state across
/// calls so that a type is defined once even when several roots need it.
pub struct CDumper<'b, 'd> {
    btf: &'b Btf<'d>,
    ptr_sz: u32,
    states: Vec<State>,
    /// Cached alignment per id (`u32::MAX`: not computed yet).
    aligns: Vec<u32>,
    /// Names given a `___N` suffix, by type id.
    renamed: HashMap<u32, usize>,
    /// Occurrences of struct/union/enum names (the tag namespace).
    type_names: HashMap<&'b [u8], usize>,
    /// Occurrences of typedef and enumerator names (ordinary identifiers).
    ident_names: HashMap<&'b [u8], usize>,
    emit_queue: Vec<u32>,
    decl_stack: Vec<u32>,
}

impl std::fmt::Debug for CDumper<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CDumper")
            .field("types", &self.states.len())
            .finish()
    }
}

impl<'b, 'd> CDumper<'b, 'd> {
    /// Prepares a dumper: marks every type referenced by another type (an
    /// anonymous enum nobody references is a top-level declaration).
    pub fn new(btf: &'b Btf<'d>) -> Result<CDumper<'b, 'd>> {
        let n = btf.type_count() as usize;
        let mut states = vec![State::default(); n.max(1)];
        if let Some(s) = states.get_mut(0) {
            s.set_order(ORDERED);
            s.set_emit(EMITTED);
        }
        let mut d = CDumper {
            btf,
            ptr_sz: btf.pointer_size(),
            states,
            aligns: vec![u32::MAX; n.max(1)],
            renamed: HashMap::new(),
            // About a third of a kernel's types carry a tag or typedef name.
            type_names: HashMap::with_capacity(n / 4),
            ident_names: HashMap::with_capacity(n / 4),
            emit_queue: Vec::new(),
            decl_stack: Vec::new(),
        };
        for i in 1..n as u32 {
            d.mark_referenced(d.ty(i))?;
        }
        Ok(d)
    }

    /// Emits `id` and every type it needs that was not emitted yet, as
    /// libbpf's `btf_dump__dump_type`. After an error the output and the
    /// dumper's state are partial: drop both.
    pub fn dump_type(&mut self, id: TypeId, out: &mut Vec<u8>) -> Result<()> {
        if id.0 as usize >= self.states.len() {
            return Err(Error::NoSuchType(id));
        }
        self.emit_queue.clear();
        self.order_type(id.0, false, 0)?;
        let queue = std::mem::take(&mut self.emit_queue);
        let mut res = Ok(());
        for &qid in &queue {
            res = self.emit_type(qid, 0, out, 0);
            if res.is_err() {
                break;
            }
        }
        self.emit_queue = queue;
        res
    }

    fn mark_referenced(&mut self, t: Type<'b>) -> Result<()> {
        let mark = |states: &mut Vec<State>, id: TypeId| {
            if let Some(s) = states.get_mut(id.0 as usize) {
                s.set(REFERENCED);
            }
        };
        match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::Float => {}
            Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::Ptr
            | Kind::Typedef
            | Kind::Func
            | Kind::Var
            | Kind::DeclTag
            | Kind::TypeTag => mark(&mut self.states, t.type_ref()),
            Kind::Array => {
                if let Some(a) = t.array() {
                    mark(&mut self.states, a.index);
                    mark(&mut self.states, a.elem);
                }
            }
            Kind::Struct | Kind::Union => {
                for m in t.members() {
                    mark(&mut self.states, m.ty);
                }
            }
            Kind::FuncProto => {
                for p in t.params() {
                    mark(&mut self.states, p.ty);
                }
            }
            Kind::Datasec => {
                for v in t.datasec_vars() {
                    mark(&mut self.states, v.ty);
                }
            }
            k => return Err(unsupported(t.id(), k)),
        }
        Ok(())
    }

    /// The type with this id; `void` for an id the BTF lacks (ids were
    /// checked at parse time, so this only guards the impossible).
    #[inline]
    fn ty(&self, id: u32) -> Type<'b> {
        self.btf.type_by_id(TypeId(id)).unwrap_or(Type::VOID)
    }

    #[inline]
    fn state(&mut self, id: u32) -> &mut State {
        // Ids are in range (checked at parse time and in `dump_type`); the
        // fallback slot 0 is void, whose state never changes meaningfully.
        let i = if (id as usize) < self.states.len() {
            id as usize
        } else {
            0
        };
        &mut self.states[i]
    }

    #[inline]
    fn raw_name(&self, t: &Type<'b>) -> &'b [u8] {
        self.btf.str_bytes(t.name_off()).unwrap_or(b"(null)")
    }
}

fn unsupported(id: TypeId, kind: Kind) -> Error {
    Error::Unresolvable {
        id,
        kind,
        why: "this kind cannot be written as C (libbpf's btf_dump rejects it)",
    }
}

fn too_deep(id: u32) -> Error {
    Error::TooDeep {
        id: TypeId(id),
        depth: MAX_NESTING,
    }
}

/// Appends `lvl` tabs, at most 13 (libbpf's indentation cap).
#[inline]
fn pfx(out: &mut Vec<u8>, lvl: u32) {
    const TABS: &[u8] = b"\t\t\t\t\t\t\t\t\t\t\t\t\t";
    let n = (lvl as usize).min(TABS.len());
    out.extend_from_slice(&TABS[..n]);
}
