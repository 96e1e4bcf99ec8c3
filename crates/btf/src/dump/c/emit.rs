//! Emitting queued definitions (libbpf's `btf_dump_emit_type`), and the
//! enum, forward and typedef definitions.
//!
//! A struct being emitted (EMITTING) that is reached again from inside
//! gets a forward declaration; a typedef reached again is emitted early
//! (its definition doubles as its forward declaration). Anonymous structs
//! are walked through, as their members are written inline.

use super::{pfx, too_deep, CDumper, EMITTED, EMITTING, FWD_EMITTED, MAX_NESTING};
use crate::dump::Out;
use crate::types::Type;
use crate::{Kind, Result};

/// GCC's Arm SIMD typedef targets, aliased to standard types.
const MISSING_BASE_TYPES: [(&[u8], &str); 4] = [
    (b"__Poly8_t", "unsigned char"),
    (b"__Poly16_t", "unsigned short"),
    (b"__Poly64_t", "unsigned long long"),
    (b"__Poly128_t", "unsigned __int128"),
];

impl<'b> CDumper<'b, '_> {
    /// Emits `id` (and what it needs) at top level (`cont_id` 0) or as part
    /// of the struct/typedef `cont_id` being emitted.
    pub(super) fn emit_type(
        &mut self,
        id: u32,
        cont_id: u32,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Result<()> {
        if depth > MAX_NESTING {
            return Err(too_deep(id));
        }
        let st = *self.state(id);
        if st.emit() == EMITTED {
            return Ok(());
        }
        let t = self.ty(id);
        let top_level = cont_id == 0;
        if st.emit() == EMITTING {
            if st.has(FWD_EMITTED) {
                return Ok(());
            }
            match t.kind() {
                Kind::Struct | Kind::Union => {
                    // A reference to the struct being defined needs nothing;
                    // an anonymous loop cannot be declared (libbpf warns).
                    if id == cont_id || t.name_off().is_anon() {
                        return Ok(());
                    }
                    self.emit_struct_fwd(id, &t, out);
                    out.s(";\n\n");
                    self.state(id).set(FWD_EMITTED);
                }
                Kind::Typedef => {
                    if !self.is_blacklisted(&t) {
                        self.emit_typedef_def(id, &t, 0, out, depth)?;
                        out.s(";\n\n");
                    }
                    self.state(id).set(FWD_EMITTED);
                }
                _ => {}
            }
            return Ok(());
        }
        match t.kind() {
            Kind::Int => {
                self.emit_missing_aliases(id, out);
                self.state(id).set_emit(EMITTED);
            }
            Kind::Enum | Kind::Enum64 => {
                if top_level {
                    self.emit_enum_def(id, &t, 0, out);
                    out.s(";\n\n");
                }
                self.state(id).set_emit(EMITTED);
            }
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.emit_type(t.type_ref().0, cont_id, out, depth + 1)?;
            }
            Kind::Array => {
                if let Some(a) = t.array() {
                    self.emit_type(a.elem.0, cont_id, out, depth + 1)?;
                }
            }
            Kind::Fwd => {
                self.emit_fwd_def(id, &t, out);
                out.s(";\n\n");
                self.state(id).set_emit(EMITTED);
            }
            Kind::Typedef => {
                self.state(id).set_emit(EMITTING);
                self.emit_type(t.type_ref().0, id, out, depth + 1)?;
                let st = *self.state(id);
                if !st.has(FWD_EMITTED) && !self.is_blacklisted(&t) {
                    self.emit_typedef_def(id, &t, 0, out, depth)?;
                    out.s(";\n\n");
                }
                self.state(id).set_emit(EMITTED);
            }
            Kind::Struct | Kind::Union => {
                self.state(id).set_emit(EMITTING);
                let anon = t.name_off().is_anon();
                if top_level || anon {
                    let new_cont = if anon { cont_id } else { id };
                    for m in t.members() {
                        self.emit_type(m.ty.0, new_cont, out, depth + 1)?;
                    }
                } else if !self.state(id).has(FWD_EMITTED) && id != cont_id {
                    self.emit_struct_fwd(id, &t, out);
                    out.s(";\n\n");
                    self.state(id).set(FWD_EMITTED);
                }
                if top_level {
                    self.emit_struct_def(id, &t, 0, out, depth)?;
                    out.s(";\n\n");
                    self.state(id).set_emit(EMITTED);
                } else {
                    self.state(id).set_emit(0);
                }
            }
            Kind::FuncProto => {
                self.emit_type(t.type_ref().0, cont_id, out, depth + 1)?;
                for p in t.params() {
                    self.emit_type(p.ty.0, cont_id, out, depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `__builtin_va_list` is the compiler's own; never redefine it.
    fn is_blacklisted(&self, t: &Type<'b>) -> bool {
        !t.name_off().is_anon() && self.raw_name(t) == b"__builtin_va_list"
    }

    fn emit_missing_aliases(&mut self, id: u32, out: &mut Vec<u8>) {
        let name = self.type_name(id);
        for (from, to) in MISSING_BASE_TYPES {
            if name.is(from) {
                out.s("typedef ");
                out.s(to);
                out.s(" ");
                name.write(out);
                out.s(";\n\n");
                break;
            }
        }
    }

    pub(super) fn emit_struct_fwd(&mut self, id: u32, t: &Type<'b>, out: &mut Vec<u8>) {
        out.s(if t.kind() == Kind::Struct {
            "struct"
        } else {
            "union"
        });
        if !t.name_off().is_anon() {
            out.s(" ");
        }
        self.type_name(id).write(out);
    }

    pub(super) fn emit_enum_fwd(&mut self, id: u32, out: &mut Vec<u8>) {
        out.s("enum ");
        self.type_name(id).write(out);
    }

    pub(super) fn emit_enum_def(&mut self, id: u32, t: &Type<'b>, lvl: u32, out: &mut Vec<u8>) {
        out.s("enum");
        if !t.name_off().is_anon() {
            out.s(" ");
        }
        self.type_name(id).write(out);
        if t.vlen() == 0 {
            return;
        }
        out.s(" {");
        let signed = t.kind_flag();
        let is64 = t.kind() == Kind::Enum64;
        for v in t.enum_values() {
            let vname = self.btf.str_bytes(v.name_off).unwrap_or(b"(null)");
            let dups = self.name_dups_ident(vname);
            out.s("\n");
            pfx(out, lvl + 1);
            out.b(vname);
            if dups > 1 {
                out.s("___");
                out.u(dups);
            }
            out.s(" = ");
            match (is64, signed) {
                (false, true) => out.u(v.value as i64 as i32),
                (false, false) => out.u(v.value as u32),
                (true, true) => {
                    out.u(v.value as i64);
                    out.s("LL");
                }
                (true, false) => {
                    out.u(v.value);
                    out.s("ULL");
                }
            }
            out.s(",");
        }
        out.s("\n");
        pfx(out, lvl);
        out.s("}");
    }

    pub(super) fn emit_fwd_def(&mut self, id: u32, t: &Type<'b>, out: &mut Vec<u8>) {
        out.s(if t.kind_flag() { "union " } else { "struct " });
        self.type_name(id).write(out);
    }

    pub(super) fn emit_typedef_def(
        &mut self,
        id: u32,
        t: &Type<'b>,
        lvl: u32,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Result<()> {
        let name = self.ident_name(id);
        // Old GCC emits `__gnuc_va_list` as a typedef of void.
        if t.type_ref().0 == 0 && name.is(b"__gnuc_va_list") {
            out.s("typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        out.s("typedef ");
        self.emit_type_decl(t.type_ref().0, name, lvl, out, depth + 1)
    }
}
