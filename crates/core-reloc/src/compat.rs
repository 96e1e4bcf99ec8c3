//! Type compatibility as libbpf judges it: `bpf_core_fields_are_compat`,
//! `bpf_core_types_are_compat` and `bpf_core_types_match`.
//!
//! Results are `Ok(true)` (compatible), `Ok(false)` and `Err(errno)`.

use btf::{Btf, Kind, StrOffset, Type, TypeId};

use crate::error::errno::EINVAL;
use crate::util::{essential_len, int_signed, kind_core_compat, name_bytes, skip};

/// libbpf's recursion limit for these walks.
pub(crate) const MAX_LEVEL: i32 = 32;

fn int_offset(t: &Type<'_>) -> u8 {
    t.int().map_or(0, |i| i.offset)
}

/// Field compatibility (`bpf_core_fields_are_compat`).
pub(crate) fn fields_are_compat(
    lb: &Btf<'_>,
    mut lid: TypeId,
    tb: &Btf<'_>,
    mut tid: TypeId,
) -> Result<bool, i32> {
    // Only arrays loop here; bound them like every other walk.
    for _ in 0..MAX_LEVEL {
        let (Some(lt), Some(tt)) = (skip(lb, lid), skip(tb, tid)) else {
            return Err(EINVAL);
        };
        if lt.kind().is_composite() && tt.kind().is_composite() {
            return Ok(true);
        }
        if !kind_core_compat(lt.kind(), tt.kind()) {
            return Ok(false);
        }
        match lt.kind() {
            Kind::Ptr | Kind::Float => return Ok(true),
            Kind::Fwd | Kind::Enum | Kind::Enum64 => {
                let ln = name_bytes(lb, lt.name_off());
                let tn = name_bytes(tb, tt.name_off());
                let ll = essential_len(ln);
                let tl = essential_len(tn);
                return Ok(ll == 0 || tl == 0 || (ll == tl && ln[..ll] == tn[..tl]));
            }
            Kind::Int => return Ok(int_offset(&lt) == 0 && int_offset(&tt) == 0),
            Kind::Array => {
                let (Some(la), Some(ta)) = (lt.array(), tt.array()) else {
                    return Err(EINVAL);
                };
                lid = la.elem;
                tid = ta.elem;
            }
            _ => return Ok(false),
        }
    }
    Err(EINVAL)
}

/// Type compatibility (`__bpf_core_types_are_compat`).
pub(crate) fn types_are_compat(
    lb: &Btf<'_>,
    mut lid: TypeId,
    tb: &Btf<'_>,
    mut tid: TypeId,
    level: i32,
) -> Result<bool, i32> {
    let (Some(lt0), Some(tt0)) = (lb.type_by_id(lid), tb.type_by_id(tid)) else {
        return Err(EINVAL);
    };
    if !kind_core_compat(lt0.kind(), tt0.kind()) {
        return Ok(false);
    }
    let mut depth = MAX_LEVEL;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err(EINVAL);
        }
        let (Some(lt), Some(tt)) = (skip(lb, lid), skip(tb, tid)) else {
            return Err(EINVAL);
        };
        if !kind_core_compat(lt.kind(), tt.kind()) {
            return Ok(false);
        }
        match lt.kind() {
            Kind::Void | Kind::Struct | Kind::Union | Kind::Enum | Kind::Fwd | Kind::Enum64 => {
                return Ok(true)
            }
            Kind::Int => return Ok(int_offset(&lt) == 0 && int_offset(&tt) == 0),
            Kind::Ptr => {
                lid = lt.type_ref();
                tid = tt.type_ref();
            }
            Kind::Array => {
                let (Some(la), Some(ta)) = (lt.array(), tt.array()) else {
                    return Err(EINVAL);
                };
                lid = la.elem;
                tid = ta.elem;
            }
            Kind::FuncProto => {
                if lt.vlen() != tt.vlen() {
                    return Ok(false);
                }
                for (lp, tp) in lt.params().zip(tt.params()) {
                    if level <= 0 {
                        return Err(EINVAL);
                    }
                    let l = skip(lb, lp.ty).map_or(lp.ty, |t| t.id());
                    let t = skip(tb, tp.ty).map_or(tp.ty, |t| t.id());
                    if !types_are_compat(lb, l, tb, t, level - 1)? {
                        return Ok(false);
                    }
                }
                lid = skip(lb, lt.type_ref()).map_or(lt.type_ref(), |t| t.id());
                tid = skip(tb, tt.type_ref()).map_or(tt.type_ref(), |t| t.id());
            }
            _ => return Ok(false),
        }
    }
}

/// `bpf_core_names_match`: essential names equal; an anonymous target only
/// matches an anonymous local.
fn names_match(lb: &Btf<'_>, loff: StrOffset, tb: &Btf<'_>, toff: StrOffset) -> bool {
    let ln = name_bytes(lb, loff);
    let tn = name_bytes(tb, toff);
    if tn.is_empty() {
        return ln.is_empty();
    }
    let tl = essential_len(tn);
    let ll = essential_len(ln);
    tl == ll && ln[..ll] == tn[..tl]
}

fn enums_match(lb: &Btf<'_>, lt: &Type<'_>, tb: &Btf<'_>, tt: &Type<'_>) -> bool {
    if lt.size() != tt.size() || lt.vlen() > tt.vlen() {
        return false;
    }
    lt.enum_values().all(|le| {
        tt.enum_values()
            .any(|te| names_match(lb, le.name_off, tb, te.name_off))
    })
}

fn composites_match(
    lb: &Btf<'_>,
    lt: &Type<'_>,
    tb: &Btf<'_>,
    tt: &Type<'_>,
    behind_ptr: bool,
    level: i32,
) -> Result<bool, i32> {
    if lt.vlen() > tt.vlen() {
        return Ok(false);
    }
    for lm in lt.members() {
        let mut matched = false;
        for tm in tt.members() {
            if !names_match(lb, lm.name_off, tb, tm.name_off) {
                continue;
            }
            if types_match(lb, lm.ty, tb, tm.ty, behind_ptr, level - 1)? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Type match (`__bpf_core_types_match`).
pub(crate) fn types_match(
    lb: &Btf<'_>,
    mut lid: TypeId,
    tb: &Btf<'_>,
    mut tid: TypeId,
    mut behind_ptr: bool,
    level: i32,
) -> Result<bool, i32> {
    if level <= 0 {
        return Err(EINVAL);
    }
    let mut depth = MAX_LEVEL;
    loop {
        depth -= 1;
        if depth < 0 {
            return Err(EINVAL);
        }
        let (Some(lt), Some(tt)) = (skip(lb, lid), skip(tb, tid)) else {
            return Err(EINVAL);
        };
        if !names_match(lb, lt.name_off(), tb, tt.name_off()) {
            return Ok(false);
        }
        let (lk, tk) = (lt.kind(), tt.kind());
        match lk {
            Kind::Void => return Ok(lk == tk),
            Kind::Fwd => {
                let lf = lt.kind_flag();
                if behind_ptr {
                    if lk == tk {
                        return Ok(lf == tt.kind_flag());
                    }
                    return Ok((tk == Kind::Struct && !lf) || (tk == Kind::Union && lf));
                }
                return Ok(lk == tk && lf == tt.kind_flag());
            }
            Kind::Enum | Kind::Enum64 => {
                return Ok(tk.is_any_enum() && enums_match(lb, &lt, tb, &tt));
            }
            Kind::Struct | Kind::Union => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    if tk != Kind::Fwd {
                        return Ok(false);
                    }
                    return Ok((lk == Kind::Union) == tt.kind_flag());
                }
                if lk != tk {
                    return Ok(false);
                }
                return composites_match(lb, &lt, tb, &tt, behind_ptr, level);
            }
            Kind::Int => {
                return Ok(lk == tk
                    && lt.size() == tt.size()
                    && int_signed(&lt) == int_signed(&tt));
            }
            Kind::Ptr => {
                if lk != tk {
                    return Ok(false);
                }
                behind_ptr = true;
                lid = lt.type_ref();
                tid = tt.type_ref();
            }
            Kind::Array => {
                if lk != tk {
                    return Ok(false);
                }
                let (Some(la), Some(ta)) = (lt.array(), tt.array()) else {
                    return Err(EINVAL);
                };
                if la.nelems != ta.nelems {
                    return Ok(false);
                }
                lid = la.elem;
                tid = ta.elem;
            }
            Kind::FuncProto => {
                if lk != tk || lt.vlen() != tt.vlen() {
                    return Ok(false);
                }
                for (lp, tp) in lt.params().zip(tt.params()) {
                    if !types_match(lb, lp.ty, tb, tp.ty, behind_ptr, level - 1)? {
                        return Ok(false);
                    }
                }
                lid = lt.type_ref();
                tid = tt.type_ref();
            }
            _ => return Ok(false),
        }
    }
}
