//! Writing the Rust items: structs and unions with their accessors and
//! layout assertions, enums, typedefs, opaque forward declarations.

use std::fmt::Write;

use super::layout::{Bit, CompLayout, FieldKind, Layouts};
use super::naming::{Names, Slot};
use super::render::{enum_repr, push_i, push_u, Render};
use crate::{Btf, Endian, Error, IntEncoding, Kind, Result, Type, TypeId};

/// Writes items into one string.
pub(super) struct Emitter<'a, 'b> {
    render: Render<'a, 'b>,
    layouts: Layouts<'a, 'b>,
    /// The generated text.
    pub(super) out: String,
    /// Whether any bitfield accessor was written (the helpers are needed).
    pub(super) used_bitfields: bool,
}

impl<'a, 'b> Emitter<'a, 'b> {
    /// An emitter over `btf` with its names.
    pub(super) fn new(btf: &'a Btf<'b>, names: &'a Names) -> Self {
        Emitter {
            render: Render { btf, names },
            layouts: Layouts::new(btf),
            out: String::with_capacity(1 << 20),
            used_bitfields: false,
        }
    }

    /// Writes the item of type `id`, if it has one.
    pub(super) fn item(&mut self, id: TypeId) -> Result<()> {
        let btf = self.render.btf;
        let t = btf.get(id)?;
        let names = self.render.names;
        let name = match names.slot(id) {
            Slot::Name(n) => Some(&**n),
            Slot::Alias(_) => return Ok(()),
            Slot::Unnamed => None,
        };
        match (t.kind(), name) {
            (Kind::Struct | Kind::Union, Some(n)) => self.composite(&t, n),
            (Kind::Enum | Kind::Enum64, _) => self.enumeration(&t, name),
            (Kind::Typedef, Some(n)) => {
                self.out.push_str("pub type ");
                self.out.push_str(n);
                self.out.push_str(" = ");
                self.render.ty(t.type_ref(), &mut self.out)?;
                self.out.push_str(";\n");
                Ok(())
            }
            (Kind::Fwd, Some(n)) => {
                self.out.push_str("/// Declared but never defined in this BTF (opaque).\n#[repr(C)]\n#[derive(Copy, Clone)]\npub struct ");
                self.out.push_str(n);
                self.out.push_str(" {\n    _opaque: [u8; 0],\n}\n");
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn enumeration(&mut self, t: &Type<'_>, name: Option<&str>) -> Result<()> {
        let repr = enum_repr(t)?;
        let ty = match name {
            Some(n) => {
                self.out.push_str("pub type ");
                self.out.push_str(n);
                self.out.push_str(" = ");
                self.out.push_str(repr);
                self.out.push_str(";\n");
                n
            }
            None => repr,
        };
        let bits = t.size() * 8;
        let consts = self.render.names.consts(t.id());
        for (v, c) in t.enum_values().zip(consts) {
            self.out.push_str("pub const ");
            self.out.push_str(c);
            self.out.push_str(": ");
            self.out.push_str(ty);
            self.out.push_str(" = ");
            let raw = if bits >= 64 {
                v.value
            } else {
                v.value & ((1u64 << bits) - 1)
            };
            if t.kind_flag() {
                let sh = 64 - bits;
                push_i(&mut self.out, ((raw << sh) as i64) >> sh);
            } else {
                push_u(&mut self.out, raw);
            }
            self.out.push_str(";\n");
        }
        Ok(())
    }

    fn composite(&mut self, t: &Type<'_>, name: &str) -> Result<()> {
        let l = self.layouts.layout(t.id())?;
        let is_union = t.kind() == Kind::Union;
        let o = &mut self.out;
        o.push_str("#[repr(C");
        if l.packed {
            o.push_str(", packed");
        }
        if let Some(a) = l.repr_align {
            o.push_str(", align(");
            push_u(o, a);
            o.push(')');
        }
        o.push_str(")]\n#[derive(Copy, Clone)]\npub ");
        o.push_str(if is_union { "union " } else { "struct " });
        o.push_str(name);
        o.push_str(" {\n");
        if let Some(a) = l.align_field {
            o.push_str("    pub _align: [u");
            push_u(o, a * 8);
            o.push_str("; 0],\n");
        }
        for f in &l.fields {
            self.out.push_str("    pub ");
            self.out.push_str(&f.name);
            self.out.push_str(": ");
            match &f.kind {
                FieldKind::Member(ty) => self.render.ty(*ty, &mut self.out)?,
                FieldKind::Bytes(_) | FieldKind::Pad | FieldKind::Bitfield(_) => {
                    self.out.push_str("[u8; ");
                    push_u(&mut self.out, f.size);
                    self.out.push(']');
                }
            }
            self.out.push_str(",\n");
        }
        self.out.push_str("}\n");
        self.accessors(name, &l, is_union, t)?;
        self.assertions(name, &l);
        Ok(())
    }

    fn accessors(
        &mut self,
        name: &str,
        l: &CompLayout,
        is_union: bool,
        t: &Type<'_>,
    ) -> Result<()> {
        let needed = l.fields.iter().any(|f| match &f.kind {
            FieldKind::Bytes(_) => true,
            FieldKind::Bitfield(bits) => bits.iter().any(|b| b.name.is_some()),
            _ => false,
        });
        if !needed {
            return Ok(());
        }
        let mut methods: Vec<String> = Vec::new();
        let mut body = String::new();
        for f in &l.fields {
            match &f.kind {
                FieldKind::Bitfield(bits) => {
                    for b in bits {
                        self.bitfield(&mut body, &mut methods, &f.name, b, is_union, t)?;
                    }
                }
                FieldKind::Bytes(ty) => {
                    let mut tyname = String::new();
                    self.render.ty(*ty, &mut tyname)?;
                    let (get, set) = (
                        unique(&mut methods, &f.name),
                        unique(&mut methods, &format!("set_{}", f.name)),
                    );
                    let n = &f.name;
                    // Writing to a String cannot fail.
                    let _ = write!(
                        body,
                        "    /// Reads `{n}`, kept as bytes because its type is over-aligned and this type is packed.\n    \
                         ///\n    /// # Safety\n    /// The bytes must hold a valid value of the type.\n    \
                         #[inline]\n    pub unsafe fn {get}(&self) -> {tyname} {{\n        \
                         unsafe {{ ::core::ptr::read_unaligned(self.{n}.as_ptr().cast::<{tyname}>()) }}\n    }}\n    \
                         /// Writes `{n}` (see its getter).\n    #[inline]\n    pub fn {set}(&mut self, v: {tyname}) {{\n        \
                         unsafe {{ ::core::ptr::write_unaligned(self.{n}.as_mut_ptr().cast::<{tyname}>(), v) }}\n    }}\n"
                    );
                }
                _ => {}
            }
        }
        self.out.push_str("impl ");
        self.out.push_str(name);
        self.out.push_str(" {\n");
        self.out.push_str(&body);
        self.out.push_str("}\n");
        Ok(())
    }

    fn bitfield(
        &mut self,
        body: &mut String,
        methods: &mut Vec<String>,
        storage: &str,
        b: &Bit,
        is_union: bool,
        t: &Type<'_>,
    ) -> Result<()> {
        let Some(bname) = &b.name else {
            return Ok(());
        };
        let btf = self.render.btf;
        let base = btf.skip_mods_and_typedefs(b.ty)?;
        let (signed, is_bool) = match base.kind() {
            Kind::Int => {
                let enc = base.int().map(|i| i.encoding);
                (
                    enc == Some(IntEncoding::Signed),
                    enc == Some(IntEncoding::Bool),
                )
            }
            Kind::Enum | Kind::Enum64 => (base.kind_flag(), false),
            _ => {
                return Err(Error::Unresolvable {
                    id: t.id(),
                    kind: t.kind(),
                    why: "a bitfield whose type is not an integer or enum",
                })
            }
        };
        let mut vty = String::new();
        self.render.ty(b.ty, &mut vty)?;
        if vty.starts_with('[') {
            return Err(Error::Unresolvable {
                id: t.id(),
                kind: t.kind(),
                why: "a bitfield of an integer type with no Rust primitive",
            });
        }
        self.used_bitfields = true;
        let (get, set) = (
            unique(methods, bname),
            unique(methods, &format!("set_{bname}")),
        );
        let (open, close) = if is_union {
            ("unsafe { ", " }")
        } else {
            ("", "")
        };
        let mut args = String::new();
        args.push_str(storage);
        args.push_str(", ");
        push_u(&mut args, b.rel_bit as u64);
        args.push_str(", ");
        push_u(&mut args, b.width as u64);
        body.push_str("    /// Bitfield `");
        body.push_str(bname);
        body.push_str("`: ");
        push_u(body, b.width as u64);
        body.push_str(" bits from bit ");
        push_u(body, b.rel_bit as u64);
        body.push_str(" of `");
        body.push_str(storage);
        body.push_str("`.\n    #[inline]\n    pub fn ");
        body.push_str(&get);
        body.push_str("(&self) -> ");
        body.push_str(&vty);
        body.push_str(" {\n        let v = ");
        body.push_str(open);
        body.push_str("__btfx_bf_get(&self.");
        body.push_str(&args);
        body.push(')');
        body.push_str(close);
        body.push_str(";\n        ");
        if is_bool {
            body.push_str("v != 0");
        } else if signed {
            body.push_str("__btfx_bf_sext(v, ");
            push_u(body, b.width as u64);
            body.push_str(") as ");
            body.push_str(&vty);
        } else {
            body.push_str("v as ");
            body.push_str(&vty);
        }
        body.push_str("\n    }\n    /// Sets bitfield `");
        body.push_str(bname);
        body.push_str("` (bits past its width are dropped).\n    #[inline]\n    pub fn ");
        body.push_str(&set);
        body.push_str("(&mut self, v: ");
        body.push_str(&vty);
        body.push_str(") {\n        ");
        body.push_str(open);
        body.push_str("__btfx_bf_set(&mut self.");
        body.push_str(&args);
        body.push_str(", v as u64)");
        body.push_str(close);
        body.push_str("\n    }\n");
        Ok(())
    }

    fn assertions(&mut self, name: &str, l: &CompLayout) {
        let o = &mut self.out;
        let head = "const _: () = assert!(::core::mem::";
        o.push_str(head);
        o.push_str("size_of::<");
        o.push_str(name);
        o.push_str(">() == ");
        push_u(o, l.size);
        o.push_str(");\n");
        o.push_str(head);
        o.push_str("align_of::<");
        o.push_str(name);
        o.push_str(">() == ");
        push_u(o, l.align);
        o.push_str(");\n");
        for f in &l.fields {
            if matches!(f.kind, FieldKind::Pad) {
                continue;
            }
            o.push_str(head);
            o.push_str("offset_of!(");
            o.push_str(name);
            o.push_str(", ");
            o.push_str(&f.name);
            o.push_str(") == ");
            push_u(o, f.offset);
            o.push_str(");\n");
        }
    }
}

/// `want`, or `want` with underscores appended, unused among `taken`.
fn unique(taken: &mut Vec<String>, want: &str) -> String {
    let mut s = want.to_owned();
    while taken.contains(&s) {
        s.push('_');
    }
    taken.push(s.clone());
    s
}

/// The bitfield helpers, for the BTF's byte order.
pub(super) fn helpers(endian: Endian) -> &'static str {
    match endian {
        Endian::Little => HELPERS_LE,
        Endian::Big => HELPERS_BE,
    }
}

const SEXT: &str = "/// Sign-extends the low `width` bits of `v`.
#[inline]
const fn __btfx_bf_sext(v: u64, width: usize) -> i64 {
    ((v << (64 - width)) as i64) >> (64 - width)
}
";

const HELPERS_LE: &str = "/// Reads `width` bits from bit `bit` of little-endian bitfield storage
/// (bit 0 is the least significant bit of byte 0).
#[inline]
fn __btfx_bf_get(s: &[u8], bit: usize, width: usize) -> u64 {
    let mut v = 0u64;
    for i in 0..width {
        let b = bit + i;
        v |= (((s[b / 8] >> (b % 8)) & 1) as u64) << i;
    }
    v
}
/// Writes the low `width` bits of `v` at bit `bit` of little-endian storage.
#[inline]
fn __btfx_bf_set(s: &mut [u8], bit: usize, width: usize, v: u64) {
    for i in 0..width {
        let b = bit + i;
        let m = 1u8 << (b % 8);
        if (v >> i) & 1 != 0 {
            s[b / 8] |= m;
        } else {
            s[b / 8] &= !m;
        }
    }
}
";

const HELPERS_BE: &str = "/// Reads `width` bits from bit `bit` of big-endian bitfield storage
/// (bit 0 is the most significant bit of byte 0; the first bit read is the
/// value's most significant).
#[inline]
fn __btfx_bf_get(s: &[u8], bit: usize, width: usize) -> u64 {
    let mut v = 0u64;
    for i in 0..width {
        let b = bit + i;
        v = (v << 1) | (((s[b / 8] >> (7 - b % 8)) & 1) as u64);
    }
    v
}
/// Writes the low `width` bits of `v` at bit `bit` of big-endian storage.
#[inline]
fn __btfx_bf_set(s: &mut [u8], bit: usize, width: usize, v: u64) {
    for i in 0..width {
        let b = bit + i;
        let m = 1u8 << (7 - b % 8);
        if (v >> (width - 1 - i)) & 1 != 0 {
            s[b / 8] |= m;
        } else {
            s[b / 8] &= !m;
        }
    }
}
";

/// The sign-extension helper (shared by both byte orders).
pub(super) fn sext_helper() -> &'static str {
    SEXT
}
