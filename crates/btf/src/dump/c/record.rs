//! Struct and union bodies: members, bitfields, explicit padding and the
//! `__attribute__((packed))` decision, as libbpf's `btf_dump_emit_struct_def`.
//!
//! Padding is written so that a compiler reproduces the recorded offsets:
//! the widest of `long`/`int`/`short`/`char` that reaches a natural boundary
//! within the gap is chosen, a `<type>: 0;` marker forces that boundary when
//! natural alignment alone would not land on it (always inside bitfields,
//! where the marker counts the bits), and the rest of the gap is filled
//! with `<type>: <bits>;` fields.

use super::names::Name;
use super::{pfx, CDumper};
use crate::dump::Out;
use crate::types::Type;
use crate::{Error, Kind, Result, TypeId};

/// Padding fields allowed in one gap before the size is judged absurd: 65536
/// `long` fields are 512 KiB of padding (the recorded kernels need at most
/// 511 in a row), while an absurd size would print billions of lines.
const MAX_PAD_FIELDS: u32 = 1 << 16;

fn roundup(x: i64, y: i64) -> i64 {
    if y <= 0 {
        return x;
    }
    (x + y - 1) / y * y
}

impl<'b> CDumper<'b, '_> {
    pub(super) fn emit_struct_def(
        &mut self,
        id: u32,
        t: &Type<'b>,
        lvl: u32,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Result<()> {
        let is_struct = t.kind() == Kind::Struct;
        let align = self.align_of(id);
        let packed = is_struct && self.is_packed(t);
        out.s(if is_struct { "struct" } else { "union" });
        if !t.name_off().is_anon() {
            out.s(" ");
        }
        self.type_name(id).write(out);
        out.s(" {");
        let mut off: i64 = 0;
        let mut prev_bitfield = false;
        for m in t.members() {
            let fname = self.btf.str_bytes(m.name_off).unwrap_or(b"(null)");
            let m_sz = i64::from(m.bitfield_size);
            let m_off = i64::from(m.bit_offset);
            let m_align = if packed { 1 } else { self.align_of(m.ty.0) };
            let in_bitfield = prev_bitfield && m_sz != 0;
            self.emit_bit_padding(id, t, off, m_off, m_align, in_bitfield, lvl + 1, out)?;
            out.s("\n");
            pfx(out, lvl + 1);
            self.emit_type_decl(m.ty.0, Name::plain(fname), lvl + 1, out, depth + 1)?;
            if m_sz != 0 {
                out.s(": ");
                out.u(m_sz);
                off = m_off + m_sz;
                prev_bitfield = true;
            } else {
                let sz = self.resolve_size(m.ty.0).unwrap_or(0) as i64;
                off = m_off + sz * 8;
                prev_bitfield = false;
            }
            out.s(";");
        }
        if is_struct {
            let end = i64::from(t.size()) * 8;
            self.emit_bit_padding(id, t, off, end, align, false, lvl + 1, out)?;
        }
        if t.vlen() != 0 || t.size() != 0 {
            out.s("\n");
            pfx(out, lvl);
        }
        out.s("}");
        if packed {
            out.s(" __attribute__((packed))");
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_bit_padding(
        &self,
        id: u32,
        t: &Type<'b>,
        mut cur: i64,
        next: i64,
        next_align: u32,
        in_bitfield: bool,
        lvl: u32,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if cur >= next {
            return Ok(());
        }
        let pads: [(&str, i64); 4] = [
            ("long", i64::from(self.ptr_sz) * 8),
            ("int", 32),
            ("short", 16),
            ("char", 8),
        ];
        let (mut pad_type, mut pad_bits, mut new_off) = ("char", 8, 0);
        for (name, bits) in pads {
            pad_type = name;
            pad_bits = bits;
            new_off = roundup(cur, bits);
            if new_off <= next {
                break;
            }
        }
        let mut fields = 0u32;
        let mut field = |out: &mut Vec<u8>, ty: &str, bits: i64| -> Result<()> {
            fields += 1;
            if fields > MAX_PAD_FIELDS {
                return Err(Error::Unresolvable {
                    id: TypeId(id),
                    kind: t.kind(),
                    why: "absurd size or offset: more than 65536 padding fields needed",
                });
            }
            out.s("\n");
            pfx(out, lvl);
            out.s(ty);
            out.s(": ");
            out.u(bits);
            out.s(";");
            Ok(())
        };
        if new_off > cur && new_off <= next {
            let align_bits = i64::from(next_align) * 8;
            if in_bitfield
                || (new_off == next && roundup(cur, align_bits) != new_off)
                || (new_off != next && next - new_off <= new_off - cur)
            {
                field(out, pad_type, if in_bitfield { new_off - cur } else { 0 })?;
            }
            cur = new_off;
        }
        while cur != next {
            let bits = (next - cur).min(pad_bits);
            if bits == pad_bits {
                field(out, pad_type, pad_bits)?;
                cur += bits;
                continue;
            }
            // The last piece: the smallest type that holds it.
            for &(name, b) in pads.iter().rev() {
                pad_type = name;
                pad_bits = b;
                if b < bits {
                    continue;
                }
                field(out, name, bits)?;
                cur += bits;
                break;
            }
            if pad_bits < bits {
                // Wider than `long`: cannot happen, as `bits <= pad_bits`
                // on entry; stop rather than loop.
                break;
            }
        }
        Ok(())
    }
}
