//! Access specs: libbpf's `bpf_core_parse_spec` and `bpf_core_format_spec`.

use std::fmt::Write;

use btf::{Btf, StrOffset, TypeId};

use crate::error::errno::{E2BIG, EINVAL};
use crate::util::{enumerator, kind_str, member, name_bytes, resolve_size, skip};
use crate::RelocKind;

/// libbpf's `BPF_CORE_SPEC_MAX_LEN`.
pub(crate) const SPEC_MAX_LEN: usize = 64;

/// One high-level accessor: a named field, an array index or the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accessor {
    /// The (skipped) type the accessor indexes into.
    pub type_id: TypeId,
    /// Member, element or enumerator index.
    pub idx: u32,
    /// Field or enumerator name (`None` for array accesses).
    pub name: Option<StrOffset>,
}

/// A parsed or matched spec (libbpf's `struct bpf_core_spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Root type id as given (not skipped).
    pub root_type_id: TypeId,
    /// Relocation kind.
    pub kind: RelocKind,
    /// Low-level spec: every access index, anonymous members included.
    pub raw: Vec<u32>,
    /// High-level spec: named fields and array indices.
    pub acc: Vec<Accessor>,
    /// Bit offset of the accessed field from the root.
    pub bit_offset: u64,
}

impl Spec {
    pub(crate) fn empty(root: TypeId, kind: RelocKind) -> Spec {
        Spec {
            root_type_id: root,
            kind,
            raw: Vec::new(),
            acc: Vec::new(),
            bit_offset: 0,
        }
    }
}

/// Parses one `%d` as `sscanf` does (leading blanks, optional sign).
fn scan_int(s: &[u8]) -> Option<(i64, usize)> {
    let mut i = 0;
    while s.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut v: i64 = 0;
    while let Some(c) = s.get(i).filter(|c| c.is_ascii_digit()) {
        v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
        if v > i64::from(i32::MAX) + 1 {
            return None;
        }
        i += 1;
    }
    if i == start {
        return None;
    }
    Some((if neg { -v } else { v }, i))
}

/// Whether an array accessed through `acc` is a flexible array member.
fn is_flex_arr(btf: &Btf<'_>, acc: Option<&Accessor>, nelems: u32) -> bool {
    let Some(acc) = acc else { return false };
    if acc.name.is_none() || nelems > 0 {
        return false;
    }
    btf.type_by_id(acc.type_id)
        .is_some_and(|t| u32::from(t.vlen()).checked_sub(1) == Some(acc.idx))
}

/// libbpf's `bpf_core_parse_spec`. Errors are negative errno values, plus a
/// reason for humans.
pub(crate) fn parse_spec(
    btf: &Btf<'_>,
    type_id: TypeId,
    access: &[u8],
    kind: RelocKind,
) -> Result<Spec, (i32, String)> {
    let inval = |why: String| Err((EINVAL, why));
    if access.is_empty() || access[0] == b':' {
        return inval(format!(
            "bad access string '{}'",
            String::from_utf8_lossy(access)
        ));
    }
    let mut spec = Spec::empty(type_id, kind);
    if kind.is_type_based() {
        if access != b"0" {
            return inval(format!(
                "type-based relocation with access string '{}' (expected '0')",
                String::from_utf8_lossy(access)
            ));
        }
        return Ok(spec);
    }
    let mut s = access;
    while !s.is_empty() {
        if s[0] == b':' {
            s = &s[1..];
        }
        let Some((v, n)) = scan_int(s) else {
            return inval(format!(
                "bad access string '{}'",
                String::from_utf8_lossy(access)
            ));
        };
        if spec.raw.len() == SPEC_MAX_LEN {
            return Err((E2BIG, "access string longer than 64 accessors".into()));
        }
        let Ok(v) = u32::try_from(v) else {
            return inval(format!("negative access index {v}"));
        };
        spec.raw.push(v);
        s = &s[n..];
    }
    if spec.raw.is_empty() {
        return inval("empty access string".into());
    }
    let Some(t) = skip(btf, type_id) else {
        return inval(format!("type id {} does not exist", type_id.0));
    };
    let mut id = t.id();
    let first = spec.raw[0];
    spec.acc.push(Accessor {
        type_id: id,
        idx: first,
        name: None,
    });
    if kind.is_enumval_based() {
        if !t.kind().is_any_enum() || spec.raw.len() > 1 || first >= u32::from(t.vlen()) {
            return inval(format!(
                "enumerator access '{}' does not fit [{}]",
                String::from_utf8_lossy(access),
                id.0
            ));
        }
        spec.acc[0].name = enumerator(&t, first).map(|e| e.name_off);
        return Ok(spec);
    }
    if !kind.is_field_based() {
        return inval("unknown relocation kind".into());
    }
    let sz = resolve_size(btf, id).map_err(|e| (e, format!("cannot size [{}]", id.0)))?;
    spec.bit_offset = u64::from(first)
        .checked_mul(sz)
        .and_then(|v| v.checked_mul(8))
        .ok_or((EINVAL, "bit offset overflows".to_string()))?;
    for i in 1..spec.raw.len() {
        let Some(t) = skip(btf, id) else {
            return inval(format!("type id {} does not exist", id.0));
        };
        id = t.id();
        let idx = spec.raw[i];
        if t.kind().is_composite() {
            if idx >= u32::from(t.vlen()) {
                return inval(format!(
                    "member index {idx} past the {} members of [{}]",
                    t.vlen(),
                    id.0
                ));
            }
            let Some(m) = member(&t, idx) else {
                return inval(format!("member {idx} of [{}] unreadable", id.0));
            };
            spec.bit_offset = spec
                .bit_offset
                .checked_add(u64::from(m.bit_offset))
                .ok_or((EINVAL, "bit offset overflows".to_string()))?;
            if m.name_off.0 != 0 {
                if name_bytes(btf, m.name_off).is_empty() {
                    return inval(format!("member {idx} of [{}] has a bad name", id.0));
                }
                spec.acc.push(Accessor {
                    type_id: id,
                    idx,
                    name: Some(m.name_off),
                });
            }
            id = m.ty;
        } else if let Some(a) = t.array() {
            let Some(et) = skip(btf, a.elem) else {
                return inval(format!("array element type {} does not exist", a.elem.0));
            };
            id = et.id();
            let flex = is_flex_arr(btf, spec.acc.last(), a.nelems);
            if !flex && idx >= a.nelems {
                return inval(format!(
                    "array index {idx} out of bounds ({} elements)",
                    a.nelems
                ));
            }
            spec.acc.push(Accessor {
                type_id: id,
                idx,
                name: None,
            });
            let sz = resolve_size(btf, id).map_err(|e| (e, format!("cannot size [{}]", id.0)))?;
            spec.bit_offset = u64::from(idx)
                .checked_mul(sz)
                .and_then(|v| v.checked_mul(8))
                .and_then(|v| v.checked_add(spec.bit_offset))
                .ok_or((EINVAL, "bit offset overflows".to_string()))?;
        } else {
            return inval(format!(
                "access at idx {i} captures type [{}] of unexpected kind {}",
                id.0,
                kind_str(t.kind())
            ));
        }
    }
    Ok(spec)
}

/// libbpf's `bpf_core_format_spec`: `<kind> [id] struct name.a[3] (0:1:3 @ offset 8)`.
pub(crate) fn format_spec(btf: &Btf<'_>, spec: &Spec) -> String {
    let mut out = String::new();
    let root = spec.root_type_id;
    let (kstr, name) = crate::util::kind_and_name(btf, root);
    let _ = write!(out, "<{}> [{}] {} {}", spec.kind.name(), root.0, kstr, name);
    if spec.kind.is_type_based() {
        return out;
    }
    if spec.kind.is_enumval_based() {
        let Some(t) = skip(btf, root) else { return out };
        let idx = spec.raw.first().copied().unwrap_or(0);
        if let Some(e) = enumerator(&t, idx) {
            let n = String::from_utf8_lossy(name_bytes(btf, e.name_off));
            let signed = t.kind_flag();
            if t.kind() == btf::Kind::Enum {
                let v32 = e.value as u32;
                if signed {
                    let _ = write!(out, "::{} = {}", n, v32 as i32);
                } else {
                    let _ = write!(out, "::{} = {}", n, v32);
                }
            } else if signed {
                let _ = write!(out, "::{} = {}", n, e.value as i64);
            } else {
                let _ = write!(out, "::{} = {}", n, e.value);
            }
        }
        return out;
    }
    for (i, a) in spec.acc.iter().enumerate() {
        if let Some(n) = a.name {
            let _ = write!(out, ".{}", String::from_utf8_lossy(name_bytes(btf, n)));
        } else if i > 0 || a.idx > 0 {
            let _ = write!(out, "[{}]", a.idx);
        }
    }
    out.push_str(" (");
    for (i, r) in spec.raw.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{}", *r as i32);
    }
    if spec.bit_offset & 7 != 0 {
        let _ = write!(
            out,
            " @ offset {}.{})",
            spec.bit_offset / 8,
            spec.bit_offset % 8
        );
    } else {
        let _ = write!(out, " @ offset {})", spec.bit_offset / 8);
    }
    out
}
