//! C declarator syntax for a chain of types (libbpf's
//! `btf_dump_emit_type_decl` / `btf_dump_emit_type_chain`).
//!
//! The chain from a declaration's type down to its terminal type (int,
//! float, struct, union, enum, fwd, typedef, void) is pushed on a stack;
//! popping it writes the C text: qualifiers before a terminal type but after
//! a `*`, parentheses around a pointer to an array or function, one frame of
//! the shared stack per nested declaration (function parameters, members of
//! inlined anonymous structs).

use super::names::Name;
use super::{too_deep, CDumper, MAX_NESTING};
use crate::dump::Out;
use crate::Result;
use crate::{Kind, TypeId};

/// This declaration's part of the shared stack: `start..start + cnt`.
struct Frame {
    start: usize,
    cnt: usize,
}

impl<'b> CDumper<'b, '_> {
    /// Writes the declaration of `fname` with type `id` (`fname` empty for
    /// an abstract declarator).
    pub(super) fn emit_type_decl(
        &mut self,
        mut id: u32,
        fname: Name<'b>,
        lvl: u32,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Result<()> {
        if depth > MAX_NESTING {
            return Err(too_deep(id));
        }
        let start = self.decl_stack.len();
        loop {
            self.decl_stack.push(id);
            if self.decl_stack.len() - start > MAX_NESTING as usize {
                self.decl_stack.truncate(start);
                return Err(too_deep(id));
            }
            if id == 0 {
                break;
            }
            let t = self.ty(id);
            match t.kind() {
                Kind::Ptr
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::FuncProto
                | Kind::TypeTag => id = t.type_ref().0,
                Kind::Array => match t.array() {
                    Some(a) => id = a.elem.0,
                    None => break,
                },
                // Terminal kinds, and kinds libbpf warns about and stops at.
                _ => break,
            }
        }
        let mut frame = Frame {
            start,
            cnt: self.decl_stack.len() - start,
        };
        let r = self.emit_type_chain(&mut frame, fname, lvl, out, depth + 1);
        self.decl_stack.truncate(start);
        r
    }

    #[inline]
    fn top(&self, f: &Frame) -> u32 {
        self.decl_stack
            .get(f.start + f.cnt - 1)
            .copied()
            .unwrap_or(0)
    }

    fn emit_mods(&self, f: &mut Frame, out: &mut Vec<u8>) {
        while f.cnt > 0 {
            let t = self.ty(self.top(f));
            match t.kind() {
                Kind::Volatile => out.s("volatile "),
                Kind::Const => out.s("const "),
                Kind::Restrict => out.s("restrict "),
                _ => return,
            }
            f.cnt -= 1;
        }
    }

    fn drop_mods(&self, f: &mut Frame) {
        while f.cnt > 0 {
            let t = self.ty(self.top(f));
            if !matches!(
                t.kind(),
                Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
            ) {
                return;
            }
            f.cnt -= 1;
        }
    }

    fn emit_type_chain(
        &mut self,
        f: &mut Frame,
        fname: Name<'b>,
        lvl: u32,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Result<()> {
        if depth > MAX_NESTING {
            return Err(too_deep(self.top(f)));
        }
        let mut last_was_ptr = true;
        while f.cnt > 0 {
            let id = self.top(f);
            f.cnt -= 1;
            if id == 0 {
                self.emit_mods(f, out);
                out.s("void");
                last_was_ptr = false;
                continue;
            }
            let t = self.ty(id);
            let kind = t.kind();
            match kind {
                Kind::Int | Kind::Float => {
                    self.emit_mods(f, out);
                    out.b(self.raw_name(&t));
                }
                Kind::Struct | Kind::Union => {
                    self.emit_mods(f, out);
                    if t.name_off().is_anon() {
                        self.emit_struct_def(id, &t, lvl, out, depth)?;
                    } else {
                        self.emit_struct_fwd(id, &t, out);
                    }
                }
                Kind::Enum | Kind::Enum64 => {
                    self.emit_mods(f, out);
                    if t.name_off().is_anon() {
                        self.emit_enum_def(id, &t, lvl, out);
                    } else {
                        self.emit_enum_fwd(id, out);
                    }
                }
                Kind::Fwd => {
                    self.emit_mods(f, out);
                    self.emit_fwd_def(id, &t, out);
                }
                Kind::Typedef => {
                    self.emit_mods(f, out);
                    self.ident_name(id).write(out);
                }
                Kind::Ptr => out.s(if last_was_ptr { "*" } else { " *" }),
                Kind::Volatile => out.s(" volatile"),
                Kind::Const => out.s(" const"),
                Kind::Restrict => out.s(" restrict"),
                Kind::TypeTag => {
                    self.emit_mods(f, out);
                    out.s(" __attribute__((btf_type_tag(\"");
                    out.b(self.raw_name(&t));
                    out.s("\")))");
                }
                Kind::Array => {
                    let nelems = t.array().map_or(0, |a| a.nelems);
                    self.drop_mods(f);
                    if f.cnt == 0 {
                        emit_name(out, fname, last_was_ptr);
                        array_dim(out, nelems);
                        return Ok(());
                    }
                    let multidim = self.ty(self.top(f)).kind() == Kind::Array;
                    if !fname.is_empty() && !last_was_ptr {
                        out.s(" ");
                    }
                    if !multidim {
                        out.s("(");
                    }
                    self.emit_type_chain(f, fname, lvl, out, depth + 1)?;
                    if !multidim {
                        out.s(")");
                    }
                    array_dim(out, nelems);
                    return Ok(());
                }
                Kind::FuncProto => {
                    self.drop_mods(f);
                    if f.cnt > 0 {
                        out.s(" (");
                        self.emit_type_chain(f, fname, lvl, out, depth + 1)?;
                        out.s(")");
                    } else {
                        emit_name(out, fname, last_was_ptr);
                    }
                    out.s("(");
                    let vlen = t.vlen() as usize;
                    let mut params = t.params();
                    let first_void = t.params().next().is_some_and(|p| p.ty == TypeId::VOID);
                    if vlen == 0 || (vlen == 1 && first_void) {
                        out.s("void)");
                        return Ok(());
                    }
                    for i in 0..vlen {
                        let Some(p) = params.next() else { break };
                        if i > 0 {
                            out.s(", ");
                        }
                        if i == vlen - 1 && p.ty == TypeId::VOID {
                            out.s("...");
                            break;
                        }
                        let pname = self.btf.str_bytes(p.name_off).unwrap_or(b"(null)");
                        self.emit_type_decl(p.ty.0, Name::plain(pname), lvl, out, depth + 1)?;
                    }
                    out.s(")");
                    return Ok(());
                }
                // libbpf warns ("unexpected type in decl chain") and stops.
                _ => return Ok(()),
            }
            last_was_ptr = kind == Kind::Ptr;
        }
        emit_name(out, fname, last_was_ptr);
        Ok(())
    }
}

fn emit_name(out: &mut Vec<u8>, fname: Name<'_>, last_was_ptr: bool) {
    if !fname.is_empty() && !last_was_ptr {
        out.s(" ");
    }
    fname.write(out);
}

fn array_dim(out: &mut Vec<u8>, n: u32) {
    out.s("[");
    out.u(n);
    out.s("]");
}
