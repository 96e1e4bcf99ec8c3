//! Minimal BTF for CO-RE objects (BTFGen): bpftool's `gen min_core_btf`.
//!
//! Given a kernel's BTF and a set of BPF objects, BTFGen keeps the subset of
//! the kernel's types that every CO-RE relocation of the objects needs to
//! reach the same decision, so that tools can ship small BTF files for
//! kernels built without BTF (BTFHub, Tracee, Inspektor Gadget).
//!
//! # Algorithm (bpftool 7.1's `btfgen_*`)
//!
//! Each relocation is decided as libbpf decides it (the same candidate
//! search and per-object candidate cache, [`Relocator::compute_targeted`]);
//! the *target spec* of the chosen candidate (the first that matched) says
//! what to keep:
//!
//! - field relocations (`byte_off`, `byte_sz`, `field_exists`, `signed`,
//!   `lshift_u64`, `rshift_u64`): the root type, then along the raw access
//!   path every member it goes through (only those members: a struct keeps
//!   its size and the offsets of the kept members) and each member's type.
//!   Types are "marked" without following pointers: a pointer reached this
//!   way is kept but points to `void` unless its target is kept for some
//!   other reason;
//! - `target_type_id`, `type_exists`, `type_size`: the root type, following
//!   pointers, typedefs, modifiers, arrays and function prototypes, but not
//!   into struct or union members (a struct is kept with no members);
//! - `type_matches`: the root type and everything it contains, members
//!   included, except the members of composites reached through a pointer;
//! - `enumval_exists`, `enumval_value`: the enum, whole;
//! - `local_type_id` and relocations with no matching candidate: nothing.
//!
//! The kept types are then written in their original id order with their
//! references renumbered (a reference to a type not kept becomes 0, void),
//! into a new BTF whose strings are added in the order libbpf's
//! `btf__add_struct` / `btf__add_field` / `btf__add_type` add them. Kinds
//! bpftool refuses to mark (a `FWD` reached outside `type_matches`,
//! `TYPE_TAG`, `FUNC`, `VAR`, `DATASEC`, `DECL_TAG`) fail the same way.
//!
//! # Modules
//!
//! bpftool 7.1 cannot minimise module BTF. Here a [`Target`] with a module
//! ([`Target::with_module`], split BTF over the kernel's) is searched as
//! libbpf searches a live kernel: the kernel's types first, the module's
//! only when the kernel has no candidate. The output is one standalone BTF
//! holding the kernel types kept (in kernel id order) followed by the
//! module types kept (in module id order): the single file libbpf's
//! `btf_custom_path` option takes as the target of every relocation.
//!
//! ```
//! use btf::{write::Builder, Btf, Endian, IntEncoding};
//! use core_reloc::mincore::MinCore;
//! use core_reloc::{BtfExt, Target};
//!
//! // Kernel: struct task_struct { long flags; int pid; int tgid; }.
//! let mut k = Builder::new();
//! let int = k.int("int", 4, IntEncoding::Signed);
//! let long = k.int("long", 8, IntEncoding::Signed);
//! k.struct_("task_struct", 16, &[("flags", long, 0, 0), ("pid", int, 64, 0), ("tgid", int, 96, 0)]);
//! let kernel = Btf::parse(k.encode(Endian::Little)).unwrap();
//!
//! // Object: reads task_struct.pid (access string "0:0" on its own struct).
//! let mut b = Builder::new();
//! let lint = b.int("int", 4, IntEncoding::Signed);
//! b.struct_("task_struct", 4, &[("pid", lint, 0, 0)]);
//! let sec = b.string("kprobe/x");
//! let acc = b.string("0:0");
//! let local = Btf::parse(b.encode(Endian::Little)).unwrap();
//! let mut ext = vec![0x9f, 0xeb, 1, 0];
//! for w in [32u32, 0, 0, 0, 0, 0, 28] { ext.extend(w.to_le_bytes()); }
//! for w in [16u32, sec, 1, 0, 2, acc, 0] { ext.extend(w.to_le_bytes()); }
//! let ext = BtfExt::parse(&ext, &local).unwrap();
//!
//! let mut m = MinCore::new(Target::new(&kernel));
//! m.record("x.bpf.o", &local, &ext).unwrap();
//! let min = Btf::parse(m.build().unwrap()).unwrap();
//! // struct task_struct keeps its size and only the member read.
//! let t = min.get(min.find_by_name_kind("task_struct", btf::Kind::Struct).unwrap()).unwrap();
//! assert_eq!((t.size(), t.vlen()), (16, 1));
//! assert_eq!(t.members().next().unwrap().bit_offset, 64);
//! ```

use std::collections::HashMap;

use btf::{Btf, Kind, Type, TypeId};

use crate::engine::{Relocator, TargetSpec};
use crate::{BtfExt, Error, RelocKind, Result, Target};

/// Type marked as kept.
const KEPT: u8 = 1;
/// Walked by plain marking without following pointers.
const WALKED: u8 = 2;
/// Walked by plain marking following pointers.
const WALKED_PTRS: u8 = 4;
/// Walked by `type_matches` marking, not behind a pointer.
const MATCH_WALKED: u8 = 8;
/// Walked by `type_matches` marking, behind a pointer.
const MATCH_WALKED_PTR: u8 = 16;

/// What one BTF of the target keeps: per type id a set of flags, and per
/// composite the members kept.
#[derive(Debug, Clone, Default)]
struct Marks {
    /// First id of this BTF (1, or the first id of a split BTF).
    start: u32,
    /// Flags per type, indexed by `id - start`.
    types: Vec<u8>,
    /// Kept member indices per composite type id.
    members: HashMap<u32, Vec<bool>>,
}

/// Minimal-BTF generator over one target (a kernel, optionally with one or
/// more modules): record objects with [`MinCore::record`], then write with
/// [`MinCore::build`]. Recording more objects keeps the union of what each
/// needs, as bpftool does with several objects.
pub struct MinCore<'t> {
    target: Target<'t>,
    marks: Vec<Marks>,
    relocations: usize,
}

/// A type reference being marked: which BTF of the target (0 kernel, then
/// modules) and the id.
#[derive(Debug, Clone, Copy)]
struct Ref {
    src: usize,
    id: TypeId,
}

impl<'t> MinCore<'t> {
    /// A generator keeping types of `target`.
    pub fn new(target: Target<'t>) -> MinCore<'t> {
        let mut marks = Vec::new();
        let mut src = 0;
        while let Some((_, b)) = target.source(src) {
            let start = b.start_id().0;
            let n = b.type_count().saturating_sub(start) as usize;
            marks.push(Marks {
                start,
                types: vec![0; n],
                members: HashMap::new(),
            });
            src += 1;
        }
        MinCore {
            target,
            marks,
            relocations: 0,
        }
    }

    /// The target.
    pub fn target(&self) -> &Target<'t> {
        &self.target
    }

    /// CO-RE relocations recorded so far (all objects).
    pub fn relocations(&self) -> usize {
        self.relocations
    }

    /// Records what every CO-RE relocation of one object needs. `name`
    /// names the object in errors. The object's relocations are decided
    /// with one candidate cache, in `.BTF.ext` order (bpftool's); a
    /// relocation libbpf could not decide (ambiguity, anonymous type,
    /// unknown kind) fails the whole job, as in bpftool.
    pub fn record(&mut self, name: &str, local: &Btf<'_>, ext: &BtfExt) -> Result<()> {
        let mut r = Relocator::new(local, self.target.clone());
        let mut log = Vec::new();
        for sec in &ext.core_relos {
            for (i, rec) in sec.records.iter().enumerate() {
                log.clear();
                let (_, spec) = r
                    .compute_targeted(&sec.name, i, rec, &mut log)
                    .map_err(|e| Error::MinCore {
                        what: format!(
                            "{name}: sec '{}': relo #{i}: cannot be decided: {} ({})",
                            sec.name, e.reason, e.errno
                        ),
                    })?;
                self.relocations += 1;
                if let Some(spec) = spec {
                    self.mark_spec(&spec).map_err(|what| Error::MinCore {
                        what: format!("{name}: sec '{}': relo #{i}: {what}", sec.name),
                    })?;
                }
            }
        }
        Ok(())
    }

    fn btf(&self, src: usize) -> Option<&'t Btf<'t>> {
        self.target.source(src).map(|(_, b)| b)
    }

    /// The BTF that defines `r.id`: a module's reference below its first
    /// id is a kernel type.
    fn canon(&self, r: Ref) -> Ref {
        match self.marks.get(r.src) {
            Some(m) if r.src > 0 && r.id.0 < m.start => Ref { src: 0, id: r.id },
            _ => r,
        }
    }

    fn flags(&mut self, r: Ref) -> Option<&mut u8> {
        let m = self.marks.get_mut(r.src)?;
        let i = r.id.0.checked_sub(m.start)? as usize;
        m.types.get_mut(i)
    }

    fn ty(&self, r: Ref) -> std::result::Result<Type<'t>, String> {
        self.btf(r.src)
            .and_then(|b| b.type_by_id(r.id))
            .ok_or_else(|| format!("type id {} does not exist in the target", r.id.0))
    }

    fn mark_member(&mut self, r: Ref, idx: u32, vlen: u16) {
        if let Some(m) = self.marks.get_mut(r.src) {
            let v = m
                .members
                .entry(r.id.0)
                .or_insert_with(|| vec![false; usize::from(vlen)]);
            if let Some(b) = v.get_mut(idx as usize) {
                *b = true;
            }
        }
    }

    fn mark_spec(&mut self, spec: &TargetSpec) -> std::result::Result<(), String> {
        let root = self.canon(Ref {
            src: spec.src,
            id: spec.root_type_id,
        });
        match spec.kind {
            RelocKind::TypeIdLocal => Ok(()),
            RelocKind::TypeIdTarget | RelocKind::TypeExists | RelocKind::TypeSize => {
                self.mark_type(root, true)
            }
            RelocKind::TypeMatches => self.mark_type_match(root),
            RelocKind::EnumvalExists | RelocKind::EnumvalValue => self.mark_type(root, false),
            _ => self.mark_field_path(root, &spec.raw),
        }
    }

    /// bpftool's `btfgen_record_field_relo`: the root, then each member
    /// the raw spec goes through and its type.
    fn mark_field_path(&mut self, root: Ref, raw: &[u32]) -> std::result::Result<(), String> {
        let mut cur = root;
        let mut t = self.ty(cur)?;
        self.mark_type(cur, false)?;
        for &idx in raw.iter().skip(1) {
            let mut hops = 0;
            while t.kind().is_modifier() || t.kind() == Kind::Typedef {
                hops += 1;
                if hops > btf::MAX_DEPTH {
                    return Err(format!("type id {}: reference chain too long", cur.id.0));
                }
                cur = self.canon(Ref {
                    src: cur.src,
                    id: t.type_ref(),
                });
                t = self.ty(cur)?;
            }
            match t.kind() {
                Kind::Struct | Kind::Union => {
                    let m = t
                        .members()
                        .nth(idx as usize)
                        .ok_or_else(|| format!("type id {}: no member #{idx}", cur.id.0))?;
                    self.mark_member(cur, idx, t.vlen());
                    cur = self.canon(Ref {
                        src: cur.src,
                        id: m.ty,
                    });
                    t = self.ty(cur)?;
                    self.mark_type(cur, false)?;
                }
                Kind::Array => {
                    let a = t
                        .array()
                        .ok_or_else(|| format!("type id {}: bad array", cur.id.0))?;
                    cur = self.canon(Ref {
                        src: cur.src,
                        id: a.elem,
                    });
                    t = self.ty(cur)?;
                }
                k => {
                    return Err(format!(
                        "unsupported kind: {} ({})",
                        crate::util::kind_str(k),
                        t.type_ref().0
                    ))
                }
            }
        }
        Ok(())
    }

    /// bpftool's `btfgen_mark_type`: keeps `start` and what it refers to,
    /// through pointers when `follow`, never into members.
    fn mark_type(&mut self, start: Ref, follow: bool) -> std::result::Result<(), String> {
        let walked = if follow { WALKED_PTRS } else { WALKED };
        let mut stack = vec![start];
        while let Some(r) = stack.pop() {
            if r.id.0 == 0 {
                continue;
            }
            let t = self.ty(r)?;
            let Some(f) = self.flags(r) else {
                return Err(format!("type id {} does not exist in the target", r.id.0));
            };
            let done = *f & (WALKED_PTRS | if follow { 0 } else { WALKED }) != 0;
            *f |= KEPT | walked;
            if done {
                continue;
            }
            let mut next: Vec<TypeId> = Vec::new();
            match t.kind() {
                Kind::Void
                | Kind::Int
                | Kind::Float
                | Kind::Enum
                | Kind::Enum64
                | Kind::Struct
                | Kind::Union => {}
                Kind::Ptr => {
                    if follow {
                        next.push(t.type_ref());
                    }
                }
                Kind::Const | Kind::Restrict | Kind::Volatile | Kind::Typedef => {
                    next.push(t.type_ref())
                }
                Kind::Array => {
                    if let Some(a) = t.array() {
                        next.push(a.elem);
                        next.push(a.index);
                    }
                }
                Kind::FuncProto => {
                    next.push(t.type_ref());
                    next.extend(t.params().map(|p| p.ty));
                }
                k => {
                    return Err(format!(
                        "unsupported kind: {} ({})",
                        crate::util::kind_str(k),
                        r.id.0
                    ))
                }
            }
            for id in next.into_iter().rev() {
                let c = self.canon(Ref { src: r.src, id });
                stack.push(c);
            }
        }
        Ok(())
    }

    /// bpftool's `btfgen_mark_type_match`: everything `start` contains,
    /// members included, but not the members of composites behind a
    /// pointer.
    fn mark_type_match(&mut self, start: Ref) -> std::result::Result<(), String> {
        let mut stack = vec![(start, false)];
        while let Some((r, behind)) = stack.pop() {
            if r.id.0 == 0 {
                continue;
            }
            let t = self.ty(r)?;
            let Some(f) = self.flags(r) else {
                return Err(format!("type id {} does not exist in the target", r.id.0));
            };
            let done = *f & (MATCH_WALKED | if behind { MATCH_WALKED_PTR } else { 0 }) != 0;
            *f |= KEPT
                | if behind {
                    MATCH_WALKED_PTR
                } else {
                    MATCH_WALKED
                };
            if done {
                continue;
            }
            let mut next: Vec<(TypeId, bool)> = Vec::new();
            match t.kind() {
                Kind::Void | Kind::Int | Kind::Float | Kind::Enum | Kind::Enum64 => {}
                Kind::Struct | Kind::Union => {
                    if !behind {
                        let vlen = t.vlen();
                        for (i, m) in t.members().enumerate() {
                            self.mark_member(r, i as u32, vlen);
                            next.push((m.ty, false));
                        }
                    }
                }
                Kind::Const | Kind::Fwd | Kind::Restrict | Kind::Typedef | Kind::Volatile => {
                    next.push((t.type_ref(), behind))
                }
                Kind::Ptr => next.push((t.type_ref(), true)),
                Kind::Array => {
                    if let Some(a) = t.array() {
                        next.push((a.elem, false));
                        next.push((a.index, false));
                    }
                }
                Kind::FuncProto => {
                    next.push((t.type_ref(), false));
                    next.extend(t.params().map(|p| (p.ty, false)));
                }
                k => {
                    return Err(format!(
                        "unsupported kind: {} ({})",
                        crate::util::kind_str(k),
                        r.id.0
                    ))
                }
            }
            for (id, b) in next.into_iter().rev() {
                let c = self.canon(Ref { src: r.src, id });
                stack.push((c, b));
            }
        }
        Ok(())
    }

    /// Number of types kept so far.
    pub fn kept_types(&self) -> usize {
        self.marks
            .iter()
            .map(|m| m.types.iter().filter(|f| **f & KEPT != 0).count())
            .sum()
    }

    /// Writes the kept types as a standalone little-endian BTF, byte for
    /// byte what bpftool 7.1's `gen min_core_btf` writes for the same
    /// kernel and objects.
    pub fn build(&self) -> Result<Vec<u8>> {
        crate::mincore_write::build(self)
    }

    /// The kept types in output order: (source, its BTF, id); the kernel's
    /// first, then each module's, each in id order.
    pub(crate) fn kept(&self) -> impl Iterator<Item = (usize, &'t Btf<'t>, TypeId)> + '_ {
        self.marks.iter().enumerate().flat_map(move |(src, m)| {
            let b = self.btf(src);
            m.types
                .iter()
                .enumerate()
                .filter(|(_, f)| **f & KEPT != 0)
                .filter_map(move |(i, _)| Some((src, b?, TypeId(m.start + i as u32))))
        })
    }

    /// Whether member `idx` of composite `id` of source `src` is kept.
    pub(crate) fn member_kept(&self, src: usize, id: TypeId, idx: usize) -> bool {
        self.marks
            .get(src)
            .and_then(|m| m.members.get(&id.0))
            .and_then(|v| v.get(idx))
            .copied()
            .unwrap_or(false)
    }

    /// Where the type `id` referenced from source `src` lives.
    pub(crate) fn canon_ref(&self, src: usize, id: TypeId) -> (usize, TypeId) {
        let r = self.canon(Ref { src, id });
        (r.src, r.id)
    }
}
