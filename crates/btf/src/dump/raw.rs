//! `bpftool btf dump file X format raw`, byte for byte.

use super::{name_bytes, Out};
use crate::{Btf, Kind, Type, TypeId};

/// Renders every type of `btf` (for split BTF, only its own types, as bpftool
/// does) in bpftool's raw format.
pub fn dump_raw(btf: &Btf<'_>, out: &mut Vec<u8>) {
    out.reserve(btf.raw_bytes().len() * 5);
    for t in btf.types() {
        dump_type(btf, &t, out);
    }
}

/// Renders the listed types only, in the given order.
pub fn dump_raw_ids(btf: &Btf<'_>, ids: &[TypeId], out: &mut Vec<u8>) {
    for &id in ids {
        if let Some(t) = btf.type_by_id(id) {
            dump_type(btf, &t, out);
        }
    }
}

/// Renders one type (with its member lines) and the final newline.
pub fn dump_type(btf: &Btf<'_>, t: &Type<'_>, out: &mut Vec<u8>) {
    out.b(b"[");
    out.u(t.id().get());
    out.b(b"] ");
    out.s(t.kind().name());
    out.b(b" '");
    out.b(name_bytes(btf, t.name_off()));
    out.b(b"'");
    match t.kind() {
        Kind::Int => {
            let i = t.int().unwrap_or(crate::IntInfo::from_raw(0));
            out.b(b" size=");
            out.u(t.size());
            out.b(b" bits_offset=");
            out.u(i.offset);
            out.b(b" nr_bits=");
            out.u(i.bits);
            out.b(b" encoding=");
            out.s(i.encoding.name());
        }
        Kind::Ptr
        | Kind::Const
        | Kind::Volatile
        | Kind::Restrict
        | Kind::Typedef
        | Kind::TypeTag => {
            out.b(b" type_id=");
            out.u(t.size_or_type());
        }
        Kind::Array => {
            if let Some(a) = t.array() {
                out.b(b" type_id=");
                out.u(a.elem.get());
                out.b(b" index_type_id=");
                out.u(a.index.get());
                out.b(b" nr_elems=");
                out.u(a.nelems);
            }
        }
        Kind::Struct | Kind::Union => {
            out.b(b" size=");
            out.u(t.size());
            out.b(b" vlen=");
            out.u(t.vlen());
            for m in t.members() {
                out.b(b"\n\t'");
                out.b(name_bytes(btf, m.name_off));
                out.b(b"' type_id=");
                out.u(m.ty.get());
                out.b(b" bits_offset=");
                out.u(m.bit_offset);
                if m.bitfield_size != 0 {
                    out.b(b" bitfield_size=");
                    out.u(m.bitfield_size);
                }
            }
        }
        Kind::Enum | Kind::Enum64 => {
            let signed = t.kind_flag();
            out.b(if signed {
                b" encoding=SIGNED size="
            } else {
                b" encoding=UNSIGNED size="
            });
            out.u(t.size());
            out.b(b" vlen=");
            out.u(t.vlen());
            let is64 = t.kind() == Kind::Enum64;
            for v in t.enum_values() {
                out.b(b"\n\t'");
                out.b(name_bytes(btf, v.name_off));
                out.b(b"' val=");
                match (is64, signed) {
                    (false, false) => out.u(v.value as u32),
                    (false, true) => out.u(v.value as i32),
                    (true, false) => {
                        out.u(v.value);
                        out.b(b"ULL");
                    }
                    (true, true) => {
                        out.u(v.value as i64);
                        out.b(b"LL");
                    }
                }
            }
        }
        Kind::Fwd => {
            out.b(if t.kind_flag() {
                b" fwd_kind=union"
            } else {
                b" fwd_kind=struct"
            });
        }
        Kind::Func => {
            out.b(b" type_id=");
            out.u(t.size_or_type());
            out.b(b" linkage=");
            out.s(crate::FuncLinkage::from_raw(t.vlen()).name());
        }
        Kind::FuncProto => {
            out.b(b" ret_type_id=");
            out.u(t.size_or_type());
            out.b(b" vlen=");
            out.u(t.vlen());
            for p in t.params() {
                out.b(b"\n\t'");
                out.b(name_bytes(btf, p.name_off));
                out.b(b"' type_id=");
                out.u(p.ty.get());
            }
        }
        Kind::Var => {
            out.b(b" type_id=");
            out.u(t.size_or_type());
            out.b(b", linkage=");
            out.s(t.var_linkage().map_or("(unknown)", |l| l.name()));
        }
        Kind::Datasec => {
            out.b(b" size=");
            out.u(t.size());
            out.b(b" vlen=");
            out.u(t.vlen());
            for v in t.datasec_vars() {
                out.b(b"\n\ttype_id=");
                out.u(v.ty.get());
                out.b(b" offset=");
                out.u(v.offset);
                out.b(b" size=");
                out.u(v.size);
                if let Some(vt) = btf.type_by_id(v.ty) {
                    out.b(b" (");
                    out.s(vt.kind().name());
                    out.b(b" '");
                    out.b(name_bytes(btf, vt.name_off()));
                    out.b(b"')");
                }
            }
        }
        Kind::Float => {
            out.b(b" size=");
            out.u(t.size());
        }
        Kind::DeclTag => {
            out.b(b" type_id=");
            out.u(t.size_or_type());
            out.b(b" component_idx=");
            out.u(t.decl_tag_component().unwrap_or(-1));
        }
        Kind::Void | Kind::Unknown(_) => {}
    }
    out.b(b"\n");
}
