//! Sizes and alignments as libbpf 1.1 computes them for `btf_dump`
//! (`btf__resolve_size`, `btf__align_of`, the packed-struct test), with
//! alignments cached per type id and recursion bounded.

use super::{CDumper, MAX_NESTING};
use crate::types::Type;
use crate::{Kind, TypeId};

impl CDumper<'_, '_> {
    /// Size in bytes of a type, or `None` where libbpf's
    /// `btf__resolve_size` returns an error ([`crate::Btf::resolve_size_libbpf`]
    /// follows the same rules).
    pub(super) fn resolve_size(&self, id: u32) -> Option<u64> {
        self.btf.resolve_size_libbpf(TypeId(id)).ok()
    }

    /// Alignment in bytes; 0 where libbpf's `btf__align_of` fails.
    pub(super) fn align_of(&mut self, id: u32) -> u32 {
        self.align_depth(id, 0)
    }

    fn align_depth(&mut self, id: u32, depth: u32) -> u32 {
        if let Some(&a) = self.aligns.get(id as usize) {
            if a != u32::MAX {
                return a;
            }
        }
        if depth > MAX_NESTING {
            return 0;
        }
        let t = self.ty(id);
        let a = match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => t.size().min(self.ptr_sz),
            Kind::Ptr => self.ptr_sz,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.align_depth(t.type_ref().0, depth + 1)
            }
            Kind::Array => match t.array() {
                Some(a) => self.align_depth(a.elem.0, depth + 1),
                None => 0,
            },
            Kind::Struct | Kind::Union => self.record_align(&t, depth),
            _ => 0,
        };
        if let Some(slot) = self.aligns.get_mut(id as usize) {
            *slot = a;
        }
        a
    }

    fn record_align(&mut self, t: &Type<'_>, depth: u32) -> u32 {
        let mut max_align = 1u32;
        for m in t.members() {
            let align = self.align_depth(m.ty.0, depth + 1);
            if align == 0 {
                return 0;
            }
            max_align = max_align.max(align);
            // A member off its natural alignment means the struct is packed.
            if m.bitfield_size == 0 && u64::from(m.bit_offset) % (8 * u64::from(align)) != 0 {
                return 1;
            }
        }
        if !t.size().is_multiple_of(max_align) {
            return 1;
        }
        max_align
    }

    /// libbpf's `btf_is_struct_packed`: some non-bitfield member is off its
    /// natural alignment, or the size is not a multiple of the largest one.
    pub(super) fn is_packed(&mut self, t: &Type<'_>) -> bool {
        let mut max_align = 1u32;
        for m in t.members() {
            let align = self.align_of(m.ty.0);
            if align != 0
                && m.bitfield_size == 0
                && u64::from(m.raw_offset) % (8 * u64::from(align)) != 0
            {
                return true;
            }
            max_align = max_align.max(align);
        }
        !t.size().is_multiple_of(max_align)
    }
}
