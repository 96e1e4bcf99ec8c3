//! `bpftool -j btf dump file X`: the same JSON value, keys in bpftool's order.

use super::{name_bytes, Out};
use crate::{Btf, Kind, Type};

/// Renders all types of `btf` (split: its own types only) as
/// `{"types":[...]}`, compact, as bpftool does.
pub fn dump_json(btf: &Btf<'_>, out: &mut Vec<u8>) {
    out.reserve(btf.raw_bytes().len() * 10);
    out.b(b"{\"types\":[");
    for (i, t) in btf.types().enumerate() {
        if i > 0 {
            out.b(b",");
        }
        dump_type(btf, &t, out);
    }
    out.b(b"]}\n");
}

fn key(out: &mut Vec<u8>, k: &str) {
    out.b(b",\"");
    out.s(k);
    out.b(b"\":");
}

fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.b(b"\"");
    let mut last = 0;
    for (i, &c) in s.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\t' => b"\\t",
            b'\r' => b"\\r",
            0x08 => b"\\b",
            0x0c => b"\\f",
            c if c < 0x20 => {
                out.b(&s[last..i]);
                out.b(b"\\u00");
                out.b(&[HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
                last = i + 1;
                continue;
            }
            _ => continue,
        };
        out.b(&s[last..i]);
        out.b(esc);
        last = i + 1;
    }
    out.b(&s[last..]);
    out.b(b"\"");
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn kv_u(out: &mut Vec<u8>, k: &str, v: impl itoa::Integer) {
    key(out, k);
    out.u(v);
}

fn kv_s(out: &mut Vec<u8>, k: &str, v: &[u8]) {
    key(out, k);
    string(out, v);
}

/// Renders one type object.
pub fn dump_type(btf: &Btf<'_>, t: &Type<'_>, out: &mut Vec<u8>) {
    out.b(b"{\"id\":");
    out.u(t.id().get());
    kv_s(out, "kind", t.kind().name().as_bytes());
    kv_s(out, "name", name_bytes(btf, t.name_off()));
    match t.kind() {
        Kind::Int => {
            let i = t.int().unwrap_or(crate::IntInfo::from_raw(0));
            kv_u(out, "size", t.size());
            kv_u(out, "bits_offset", i.offset);
            kv_u(out, "nr_bits", i.bits);
            kv_s(out, "encoding", i.encoding.name().as_bytes());
        }
        Kind::Ptr
        | Kind::Const
        | Kind::Volatile
        | Kind::Restrict
        | Kind::Typedef
        | Kind::TypeTag => kv_u(out, "type_id", t.size_or_type()),
        Kind::Array => {
            if let Some(a) = t.array() {
                kv_u(out, "type_id", a.elem.get());
                kv_u(out, "index_type_id", a.index.get());
                kv_u(out, "nr_elems", a.nelems);
            }
        }
        Kind::Struct | Kind::Union => {
            kv_u(out, "size", t.size());
            kv_u(out, "vlen", t.vlen());
            key(out, "members");
            out.b(b"[");
            for (i, m) in t.members().enumerate() {
                if i > 0 {
                    out.b(b",");
                }
                out.b(b"{\"name\":");
                string(out, name_bytes(btf, m.name_off));
                kv_u(out, "type_id", m.ty.get());
                kv_u(out, "bits_offset", m.bit_offset);
                if m.bitfield_size != 0 {
                    kv_u(out, "bitfield_size", m.bitfield_size);
                }
                out.b(b"}");
            }
            out.b(b"]");
        }
        Kind::Enum | Kind::Enum64 => {
            let signed = t.kind_flag();
            kv_s(
                out,
                "encoding",
                if signed { b"SIGNED" } else { b"UNSIGNED" },
            );
            kv_u(out, "size", t.size());
            kv_u(out, "vlen", t.vlen());
            key(out, "values");
            out.b(b"[");
            let is64 = t.kind() == Kind::Enum64;
            for (i, v) in t.enum_values().enumerate() {
                if i > 0 {
                    out.b(b",");
                }
                out.b(b"{\"name\":");
                string(out, name_bytes(btf, v.name_off));
                match (is64, signed) {
                    // bpftool widens the stored `__s32` to its u64 field
                    // with sign extension, even for unsigned enums.
                    (false, false) => kv_u(out, "val", v.value as u32 as i32 as i64 as u64),
                    (false, true) => kv_u(out, "val", v.value as i32),
                    (true, false) => kv_u(out, "val", v.value),
                    (true, true) => kv_u(out, "val", v.value as i64),
                }
                out.b(b"}");
            }
            out.b(b"]");
        }
        Kind::Fwd => kv_s(
            out,
            "fwd_kind",
            if t.kind_flag() { b"union" } else { b"struct" },
        ),
        Kind::Func => {
            kv_u(out, "type_id", t.size_or_type());
            kv_s(
                out,
                "linkage",
                crate::FuncLinkage::from_raw(t.vlen()).name().as_bytes(),
            );
        }
        Kind::FuncProto => {
            kv_u(out, "ret_type_id", t.size_or_type());
            kv_u(out, "vlen", t.vlen());
            key(out, "params");
            out.b(b"[");
            for (i, p) in t.params().enumerate() {
                if i > 0 {
                    out.b(b",");
                }
                out.b(b"{\"name\":");
                string(out, name_bytes(btf, p.name_off));
                kv_u(out, "type_id", p.ty.get());
                out.b(b"}");
            }
            out.b(b"]");
        }
        Kind::Var => {
            kv_u(out, "type_id", t.size_or_type());
            kv_s(
                out,
                "linkage",
                t.var_linkage().map_or("(unknown)", |l| l.name()).as_bytes(),
            );
        }
        Kind::Datasec => {
            kv_u(out, "size", t.size());
            kv_u(out, "vlen", t.vlen());
            key(out, "vars");
            out.b(b"[");
            for (i, v) in t.datasec_vars().enumerate() {
                if i > 0 {
                    out.b(b",");
                }
                out.b(b"{\"type_id\":");
                out.u(v.ty.get());
                kv_u(out, "offset", v.offset);
                kv_u(out, "size", v.size);
                out.b(b"}");
            }
            out.b(b"]");
        }
        Kind::Float => kv_u(out, "size", t.size()),
        Kind::DeclTag => {
            kv_u(out, "type_id", t.size_or_type());
            kv_u(out, "component_idx", t.decl_tag_component().unwrap_or(-1));
        }
        Kind::Void | Kind::Unknown(_) => {}
    }
    out.b(b"}");
}
