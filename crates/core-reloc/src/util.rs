//! Small BTF helpers with libbpf's semantics (NULL becomes `None`, errors
//! become negative errno values).

use btf::{Btf, Kind, Member, StrOffset, Type, TypeId};

use crate::error::errno::{E2BIG, EINVAL};

/// libbpf's `skip_mods_and_typedefs`: the resolved type and its id.
pub(crate) fn skip<'b>(btf: &'b Btf<'_>, id: TypeId) -> Option<Type<'b>> {
    btf.skip_mods_and_typedefs(id).ok()
}

/// libbpf's `btf__resolve_size` (sizes above `u32::MAX` are `-E2BIG`).
pub(crate) fn resolve_size(btf: &Btf<'_>, id: TypeId) -> Result<u64, i32> {
    match btf.resolve_size(id) {
        Ok(s) if s > u64::from(u32::MAX) => Err(E2BIG),
        Ok(s) => Ok(s),
        Err(_) => Err(EINVAL),
    }
}

/// Name bytes at `off`; empty when absent or out of range.
pub(crate) fn name_bytes<'b>(btf: &'b Btf<'_>, off: StrOffset) -> &'b [u8] {
    btf.str_bytes(off).unwrap_or(b"")
}

/// Member `idx` of a struct/union.
pub(crate) fn member(t: &Type<'_>, idx: u32) -> Option<Member> {
    t.members().nth(idx as usize)
}

/// Name offset of enumerator `idx` of an ENUM/ENUM64.
pub(crate) fn enumerator(t: &Type<'_>, idx: u32) -> Option<btf::EnumValue> {
    t.enum_values().nth(idx as usize)
}

/// libbpf's `btf_kind_str`: lower-case kind names.
pub fn kind_str(k: Kind) -> &'static str {
    match k {
        Kind::Void => "void",
        Kind::Int => "int",
        Kind::Ptr => "ptr",
        Kind::Array => "array",
        Kind::Struct => "struct",
        Kind::Union => "union",
        Kind::Enum => "enum",
        Kind::Fwd => "fwd",
        Kind::Typedef => "typedef",
        Kind::Volatile => "volatile",
        Kind::Const => "const",
        Kind::Restrict => "restrict",
        Kind::Func => "func",
        Kind::FuncProto => "func_proto",
        Kind::Var => "var",
        Kind::Datasec => "datasec",
        Kind::Float => "float",
        Kind::DeclTag => "decl_tag",
        Kind::TypeTag => "type_tag",
        Kind::Enum64 => "enum64",
        _ => "unknown",
    }
}

/// libbpf's `btf_kind_core_compat`: same kind, or ENUM vs ENUM64.
pub(crate) fn kind_core_compat(a: Kind, b: Kind) -> bool {
    a == b || (a.is_any_enum() && b.is_any_enum())
}

/// Essential name length (libbpf's `bpf_core_essential_name_len`).
pub(crate) fn essential_len(name: &[u8]) -> usize {
    btf::index::essential_len(name)
}

/// Whether an INT's encoding has the SIGNED bit.
pub(crate) fn int_signed(t: &Type<'_>) -> bool {
    t.int().is_some_and(|i| match i.encoding {
        btf::IntEncoding::Signed => true,
        btf::IntEncoding::Other(v) => v & 1 != 0,
        _ => false,
    })
}

/// Raw INT encoding value (0 none, 1 signed, 2 char, 4 bool).
pub(crate) fn int_encoding_raw(t: &Type<'_>) -> u8 {
    t.int().map_or(0, |i| match i.encoding {
        btf::IntEncoding::None => 0,
        btf::IntEncoding::Signed => 1,
        btf::IntEncoding::Char => 2,
        btf::IntEncoding::Bool => 4,
        btf::IntEncoding::Other(v) => v,
    })
}

/// The `{kind} {name}` pair libbpf prints for a type (`<anon>` when unnamed).
pub(crate) fn kind_and_name(btf: &Btf<'_>, id: TypeId) -> (&'static str, String) {
    match btf.type_by_id(id) {
        Some(t) => {
            let n = name_bytes(btf, t.name_off());
            let n = if n.is_empty() {
                "<anon>".to_string()
            } else {
                String::from_utf8_lossy(n).into_owned()
            };
            (kind_str(t.kind()), n)
        }
        None => ("unknown", "<anon>".to_string()),
    }
}

/// `[id] kind name` of a type, for explanations.
pub(crate) fn describe(btf: &Btf<'_>, id: TypeId) -> String {
    let (k, n) = kind_and_name(btf, id);
    format!("[{}] {k} {n}", id.0)
}
