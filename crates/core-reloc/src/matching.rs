//! Matching a local spec against one candidate (`bpf_core_spec_match`).

use btf::{Btf, TypeId};

use crate::compat::{fields_are_compat, types_are_compat, types_match, MAX_LEVEL};
use crate::error::errno::{E2BIG, EINVAL};
use crate::spec::{Accessor, Spec, SPEC_MAX_LEN};
use crate::util::{enumerator, essential_len, member, name_bytes, resolve_size, skip};
use crate::RelocKind;

/// Matches `local` (over `lb`) against candidate `targ_id` of `tb`. The target
/// spec is returned even when it does not match: libbpf logs the partial spec
/// of a non-matching candidate.
pub(crate) fn spec_match(
    lb: &Btf<'_>,
    local: &Spec,
    tb: &Btf<'_>,
    targ_id: TypeId,
) -> (Result<bool, i32>, Spec) {
    let mut ts = Spec::empty(targ_id, local.kind);
    let r = spec_match_into(lb, local, tb, targ_id, &mut ts);
    (r, ts)
}

fn spec_match_into(
    lb: &Btf<'_>,
    local: &Spec,
    tb: &Btf<'_>,
    mut targ_id: TypeId,
    ts: &mut Spec,
) -> Result<bool, i32> {
    if local.kind.is_type_based() {
        return if local.kind == RelocKind::TypeMatches {
            types_match(lb, local.root_type_id, tb, targ_id, false, MAX_LEVEL)
        } else {
            types_are_compat(lb, local.root_type_id, tb, targ_id, MAX_LEVEL)
        };
    }
    if local.kind.is_enumval_based() {
        let Some(tt) = skip(tb, targ_id) else {
            return Ok(false);
        };
        if !tt.kind().is_any_enum() {
            return Ok(false);
        }
        let Some(lacc) = local.acc.first() else {
            return Err(EINVAL);
        };
        let ln = lacc.name.map_or(&b""[..], |n| name_bytes(lb, n));
        let ll = essential_len(ln);
        for i in 0..u32::from(tt.vlen()) {
            let Some(e) = enumerator(&tt, i) else { break };
            let tn = name_bytes(tb, e.name_off);
            if essential_len(tn) != ll {
                continue;
            }
            if ln[..ll] == tn[..ll] {
                ts.acc.push(Accessor {
                    type_id: tt.id(),
                    idx: i,
                    name: Some(e.name_off),
                });
                ts.raw.push(i);
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if !local.kind.is_field_based() {
        return Err(EINVAL);
    }
    for (i, lacc) in local.acc.iter().enumerate() {
        let Some(tt) = skip(tb, targ_id) else {
            return Err(EINVAL);
        };
        targ_id = tt.id();
        if lacc.name.is_some() {
            let mut next = targ_id;
            if !match_member(lb, lacc, tb, targ_id, ts, &mut next, 0)? {
                return Ok(false);
            }
            targ_id = next;
        } else {
            if i > 0 {
                let Some(a) = tt.array() else {
                    return Ok(false);
                };
                let flex = ts.acc.last().is_some_and(|prev| {
                    prev.name.is_some()
                        && a.nelems == 0
                        && tb
                            .type_by_id(prev.type_id)
                            .is_some_and(|pt| u32::from(pt.vlen()).checked_sub(1) == Some(prev.idx))
                });
                if !flex && lacc.idx >= a.nelems {
                    return Ok(false);
                }
                let Some(et) = skip(tb, a.elem) else {
                    return Err(EINVAL);
                };
                targ_id = et.id();
            }
            if ts.raw.len() == SPEC_MAX_LEN {
                return Err(E2BIG);
            }
            ts.acc.push(Accessor {
                type_id: targ_id,
                idx: lacc.idx,
                name: None,
            });
            ts.raw.push(lacc.idx);
            let sz = resolve_size(tb, targ_id)?;
            ts.bit_offset = u64::from(lacc.idx)
                .checked_mul(sz)
                .and_then(|v| v.checked_mul(8))
                .and_then(|v| v.checked_add(ts.bit_offset))
                .ok_or(EINVAL)?;
        }
    }
    Ok(true)
}

/// `bpf_core_match_member`: finds the local named member in the target,
/// descending into anonymous members; maintains the target's raw spec and
/// bit offset as libbpf does (including on failure).
fn match_member(
    lb: &Btf<'_>,
    lacc: &Accessor,
    tb: &Btf<'_>,
    targ_id: TypeId,
    ts: &mut Spec,
    next: &mut TypeId,
    depth: usize,
) -> Result<bool, i32> {
    let Some(tt) = skip(tb, targ_id) else {
        return Err(EINVAL);
    };
    let targ_id = tt.id();
    if !tt.kind().is_composite() {
        return Ok(false);
    }
    if depth > SPEC_MAX_LEN {
        return Err(E2BIG);
    }
    let Some(lt) = lb.type_by_id(lacc.type_id) else {
        return Err(EINVAL);
    };
    let Some(lm) = member(&lt, lacc.idx) else {
        return Err(EINVAL);
    };
    let lname = name_bytes(lb, lm.name_off);
    for (i, m) in tt.members().enumerate() {
        if ts.raw.len() == SPEC_MAX_LEN {
            return Err(E2BIG);
        }
        let i = i as u32;
        ts.bit_offset += u64::from(m.bit_offset);
        ts.raw.push(i);
        let tname = name_bytes(tb, m.name_off);
        if tname.is_empty() {
            let found = match_member(lb, lacc, tb, m.ty, ts, next, depth + 1);
            if !matches!(found, Ok(false)) {
                return found;
            }
        } else if lname == tname {
            ts.acc.push(Accessor {
                type_id: targ_id,
                idx: i,
                name: Some(m.name_off),
            });
            *next = m.ty;
            let found = fields_are_compat(lb, lm.ty, tb, m.ty);
            if matches!(found, Ok(false)) {
                ts.acc.pop();
            }
            return found;
        }
        ts.bit_offset -= u64::from(m.bit_offset);
        ts.raw.pop();
    }
    Ok(false)
}
