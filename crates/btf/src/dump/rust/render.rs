//! Rust type expressions for BTF types: `u32`, `*mut task_struct`,
//! `[u8; 16]`, `Option<unsafe extern "C" fn(..)>`.

use super::naming::{Names, Slot};
use crate::{Btf, Error, IntEncoding, Kind, Result, Type, TypeId, MAX_DEPTH};

/// The Rust spelling of an INT or FLOAT whose size Rust has a primitive for.
pub(super) fn scalar(t: &Type<'_>) -> Option<&'static str> {
    match t.kind() {
        Kind::Int => {
            let enc = t.int().map(|i| i.encoding);
            if enc == Some(IntEncoding::Bool) && t.size() == 1 {
                return Some("bool");
            }
            if enc == Some(IntEncoding::Char) && t.size() == 1 {
                return Some("::core::ffi::c_char");
            }
            int_name(t.size(), enc == Some(IntEncoding::Signed))
        }
        // f16 and f128 are not stable: half floats and `long double` are
        // carried as bits in an integer of the same size and alignment.
        Kind::Float => match t.size() {
            2 => Some("u16"),
            4 => Some("f32"),
            8 => Some("f64"),
            16 => Some("u128"),
            _ => None,
        },
        _ => None,
    }
}

/// The integer primitive of `size` bytes.
pub(super) fn int_name(size: u32, signed: bool) -> Option<&'static str> {
    Some(match (size, signed) {
        (1, false) => "u8",
        (2, false) => "u16",
        (4, false) => "u32",
        (8, false) => "u64",
        (16, false) => "u128",
        (1, true) => "i8",
        (2, true) => "i16",
        (4, true) => "i32",
        (8, true) => "i64",
        (16, true) => "i128",
        _ => return None,
    })
}

/// The integer type an ENUM or ENUM64 is carried as.
pub(super) fn enum_repr(t: &Type<'_>) -> Result<&'static str> {
    match t.size() {
        1 | 2 | 4 | 8 => int_name(t.size(), t.kind_flag()).ok_or(Error::NoSuchType(t.id())),
        _ => Err(Error::Unresolvable {
            id: t.id(),
            kind: t.kind(),
            why: "enum size is not 1, 2, 4 or 8 bytes",
        }),
    }
}

/// Writes Rust type expressions.
pub(super) struct Render<'a, 'b> {
    pub(super) btf: &'a Btf<'b>,
    pub(super) names: &'a Names,
}

impl Render<'_, '_> {
    /// Appends the Rust spelling of type `id` to `out`.
    pub(super) fn ty(&self, id: TypeId, out: &mut String) -> Result<()> {
        self.ty_depth(id, out, 0)
    }

    fn ty_depth(&self, id: TypeId, out: &mut String, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                id,
                depth: MAX_DEPTH,
            });
        }
        let t = self.btf.get(id)?;
        match t.kind() {
            k if k.is_modifier() => self.ty_depth(t.type_ref(), out, depth + 1),
            Kind::Void => {
                out.push_str("::core::ffi::c_void");
                Ok(())
            }
            Kind::Int | Kind::Float => {
                match scalar(&t) {
                    Some(s) => out.push_str(s),
                    None => {
                        out.push_str("[u8; ");
                        push_u(out, t.size() as u64);
                        out.push(']');
                    }
                }
                Ok(())
            }
            Kind::Ptr => {
                let target = t.type_ref();
                let end = self.btf.skip_mods_and_typedefs(target)?;
                if end.kind() == Kind::FuncProto {
                    return self.fn_ptr(&end, out, depth + 1);
                }
                out.push_str(if self.points_to_const(target)? {
                    "*const "
                } else {
                    "*mut "
                });
                self.ty_depth(target, out, depth + 1)
            }
            Kind::Array => {
                let a = t.array().ok_or(Error::NoSuchType(id))?;
                out.push('[');
                self.ty_depth(a.elem, out, depth + 1)?;
                out.push_str("; ");
                push_u(out, a.nelems as u64);
                out.push(']');
                Ok(())
            }
            Kind::FuncProto => self.fn_ptr(&t, out, depth + 1),
            Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Typedef | Kind::Fwd => {
                match self.names.slot(id) {
                    Slot::Name(n) => {
                        out.push_str(n);
                        Ok(())
                    }
                    Slot::Alias(to) => self.ty_depth(*to, out, depth + 1),
                    Slot::Unnamed if t.kind().is_any_enum() => {
                        out.push_str(enum_repr(&t)?);
                        Ok(())
                    }
                    Slot::Unnamed => Err(Error::Unresolvable {
                        id,
                        kind: t.kind(),
                        why: "type has no Rust name",
                    }),
                }
            }
            k => Err(Error::Unresolvable {
                id,
                kind: k,
                why: "this kind cannot be used as a Rust type",
            }),
        }
    }

    /// True when the modifiers right after a pointer include `const`.
    fn points_to_const(&self, mut id: TypeId) -> Result<bool> {
        for _ in 0..MAX_DEPTH {
            let t = self.btf.get(id)?;
            match t.kind() {
                Kind::Const => return Ok(true),
                k if k.is_modifier() => id = t.type_ref(),
                _ => return Ok(false),
            }
        }
        Err(Error::TooDeep {
            id,
            depth: MAX_DEPTH,
        })
    }

    /// `::core::option::Option<unsafe extern "C" fn(A, B, ...) -> R>`.
    fn fn_ptr(&self, proto: &Type<'_>, out: &mut String, depth: u32) -> Result<()> {
        out.push_str("::core::option::Option<unsafe extern \"C\" fn(");
        let n = proto.params().len();
        for (i, p) in proto.params().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if p.ty == TypeId::VOID {
                if i + 1 != n {
                    return Err(Error::Unresolvable {
                        id: proto.id(),
                        kind: Kind::FuncProto,
                        why: "a void parameter that is not the last (`...`) one",
                    });
                }
                out.push_str("...");
            } else {
                self.ty_depth(p.ty, out, depth + 1)?;
            }
        }
        out.push(')');
        let ret = proto.type_ref();
        if self.btf.skip_mods(ret)?.kind() != Kind::Void {
            out.push_str(" -> ");
            self.ty_depth(ret, out, depth + 1)?;
        }
        out.push('>');
        Ok(())
    }
}

/// Appends a decimal number.
pub(super) fn push_u(out: &mut String, v: u64) {
    let mut b = itoa::Buffer::new();
    out.push_str(b.format(v));
}

/// Appends a signed decimal number.
pub(super) fn push_i(out: &mut String, v: i64) {
    let mut b = itoa::Buffer::new();
    out.push_str(b.format(v));
}
