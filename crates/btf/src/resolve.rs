//! Type resolution: skipping modifiers and typedefs, sizes, alignment.
//!
//! Chains of references were checked for loops at parse time, but nesting
//! (a struct containing a struct containing...) can still be absurd in
//! hostile input, so every walk here is bounded by [`MAX_DEPTH`] and says so
//! when it gives up.

use crate::{Btf, Error, Kind, Result, Type, TypeId};

/// How many links a resolution follows before giving up (libbpf uses 32 for
/// chains; nesting in real kernels stays far below this).
pub const MAX_DEPTH: u32 = 64;

/// How many links [`Btf::resolve_size_libbpf`] follows (libbpf's
/// `MAX_RESOLVE_DEPTH`).
pub const RESOLVE_DEPTH: u32 = 32;

impl<'data> Btf<'data> {
    /// Follows CONST/VOLATILE/RESTRICT/TYPE_TAG and TYPEDEF links to the first
    /// other type.
    pub fn skip_mods_and_typedefs(&self, id: TypeId) -> Result<Type<'_>> {
        self.skip_while(id, |k| k.is_modifier() || k == Kind::Typedef)
    }

    /// Follows CONST/VOLATILE/RESTRICT/TYPE_TAG links only.
    pub fn skip_mods(&self, id: TypeId) -> Result<Type<'_>> {
        self.skip_while(id, Kind::is_modifier)
    }

    fn skip_while(&self, id: TypeId, skip: impl Fn(Kind) -> bool) -> Result<Type<'_>> {
        let mut t = self.get(id)?;
        for _ in 0..MAX_DEPTH {
            if !skip(t.kind()) {
                return Ok(t);
            }
            t = self.get(t.type_ref())?;
        }
        Err(Error::TooDeep {
            id,
            depth: MAX_DEPTH,
        })
    }

    /// Size in bytes of a type, as libbpf's `btf__resolve_size`: modifiers,
    /// typedefs, VAR and tags are followed; arrays multiply (checked); PTR is
    /// the pointer size. FUNC_PROTO, FWD, FUNC and `void` have no size.
    /// Sizes are exact in 64 bits; see [`Btf::resolve_size_libbpf`] for
    /// libbpf's tighter limits.
    pub fn resolve_size(&self, id: TypeId) -> Result<u64> {
        self.resolve_size_within(id, MAX_DEPTH, u64::MAX)
    }

    /// [`Btf::resolve_size`] with libbpf's exact limits: at most
    /// [`RESOLVE_DEPTH`] links, and a size past `u32::MAX` is an error
    /// (libbpf's `-E2BIG`). What `btf_dump` (the C header) sees.
    pub fn resolve_size_libbpf(&self, id: TypeId) -> Result<u64> {
        self.resolve_size_within(id, RESOLVE_DEPTH, u64::from(u32::MAX))
    }

    fn resolve_size_within(&self, id: TypeId, depth: u32, cap: u64) -> Result<u64> {
        let mut t = self.get(id)?;
        let mut mult: u64 = 1;
        let (array_why, size_why) = if cap == u64::MAX {
            ("array size overflows 64 bits", "size overflows 64 bits")
        } else {
            (
                "array size larger than u32::MAX",
                "size larger than u32::MAX",
            )
        };
        for _ in 0..depth {
            let size = match t.kind() {
                Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec
                | Kind::Float => t.size() as u64,
                Kind::Ptr => self.pointer_size() as u64,
                Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag => {
                    t = self.get(t.type_ref())?;
                    continue;
                }
                Kind::Array => {
                    let a = t.array().ok_or(Error::NoSuchType(t.id()))?;
                    mult = mult
                        .checked_mul(a.nelems as u64)
                        .filter(|&m| m <= cap)
                        .ok_or(Error::Unresolvable {
                            id: t.id(),
                            kind: Kind::Array,
                            why: array_why,
                        })?;
                    t = self.get(a.elem)?;
                    continue;
                }
                k => {
                    return Err(Error::Unresolvable {
                        id: t.id(),
                        kind: k,
                        why: "this kind has no size",
                    })
                }
            };
            return mult
                .checked_mul(size)
                .filter(|&s| s <= cap)
                .ok_or(Error::Unresolvable {
                    id,
                    kind: t.kind(),
                    why: size_why,
                });
        }
        Err(Error::TooDeep { id, depth })
    }

    /// Alignment in bytes, as libbpf's `btf__align_of`: scalars align to
    /// min(size, pointer size); a struct whose member offsets or size do not
    /// respect its members' alignment is packed (alignment 1).
    pub fn align_of(&self, id: TypeId) -> Result<u32> {
        self.align_of_depth(id, 0)
    }

    fn align_of_depth(&self, id: TypeId, depth: u32) -> Result<u32> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                id,
                depth: MAX_DEPTH,
            });
        }
        let t = self.get(id)?;
        let ptr = self.pointer_size();
        match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => Ok(t.size().min(ptr)),
            Kind::Ptr => Ok(ptr),
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.align_of_depth(t.type_ref(), depth + 1)
            }
            Kind::Array => {
                let a = t.array().ok_or(Error::NoSuchType(id))?;
                self.align_of_depth(a.elem, depth + 1)
            }
            Kind::Struct | Kind::Union => {
                let mut max_align = 1u32;
                for m in t.members() {
                    let align = self.align_of_depth(m.ty, depth + 1)?;
                    if align == 0 {
                        return Err(Error::Unresolvable {
                            id,
                            kind: t.kind(),
                            why: "a member has alignment 0",
                        });
                    }
                    max_align = max_align.max(align);
                    if m.bitfield_size == 0 && m.bit_offset % (8 * align) != 0 {
                        return Ok(1);
                    }
                }
                if t.size() % max_align != 0 {
                    return Ok(1);
                }
                Ok(max_align)
            }
            k => Err(Error::Unresolvable {
                id,
                kind: k,
                why: "this kind has no alignment",
            }),
        }
    }
}
