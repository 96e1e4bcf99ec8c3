//! Computing a relocation's values (`bpf_core_calc_relo`), without touching
//! any instruction.

use btf::{Btf, Kind, TypeId};

use crate::error::errno::{E2BIG, EINVAL, EOPNOTSUPP, EUCLEAN};
use crate::spec::Spec;
use crate::util::{enumerator, int_encoding_raw, int_signed, member, resolve_size, skip};
use crate::RelocKind;

/// The computed outcome of one relocation: what the instruction holds now
/// (`orig_val`) and what it must hold on the target (`new_val`), or that it
/// must be poisoned. This is libbpf's `struct bpf_core_relo_res`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fixup {
    /// Value expected in the instruction (computed from the local BTF).
    pub orig_val: u64,
    /// Value for the target.
    pub new_val: u64,
    /// The instruction must be replaced by an invalid call.
    pub poison: bool,
    /// Check the instruction's current value against `orig_val`.
    pub validate: bool,
    /// An LDX/ST/STX memory size change would be unsafe (poison on apply).
    pub fail_memsz_adjust: bool,
    /// Local field size for load/store size adjustment (0: none).
    pub orig_sz: u32,
    /// Target field size for load/store size adjustment (0: none).
    pub new_sz: u32,
    /// Local field type (for the size adjustment check).
    pub orig_type_id: TypeId,
    /// Target field type (for the size adjustment check).
    pub new_type_id: TypeId,
}

struct FieldVal {
    val: u64,
    sz: u32,
    type_id: TypeId,
    validate: bool,
}

/// What went wrong computing a value: libbpf's errno and a reason.
pub(crate) type CalcErr = (i32, String);

fn calc_field(btf: &Btf<'_>, kind: RelocKind, spec: Option<&Spec>) -> Result<FieldVal, CalcErr> {
    let mut out = FieldVal {
        val: 0,
        sz: 0,
        type_id: TypeId(0),
        validate: true,
    };
    if kind == RelocKind::FieldExists {
        out.val = u64::from(spec.is_some());
        return Ok(out);
    }
    let Some(spec) = spec else {
        return Err((EUCLEAN, "poison".into()));
    };
    let Some(acc) = spec.acc.last() else {
        return Err((EINVAL, "empty spec".into()));
    };
    let bit_offset =
        u32::try_from(spec.bit_offset).map_err(|_| (EINVAL, "bit offset too big".to_string()))?;
    if acc.name.is_none() {
        match kind {
            RelocKind::FieldByteOffset => {
                out.val = u64::from(bit_offset / 8);
                let sz = resolve_size(btf, acc.type_id)
                    .map_err(|_| (EINVAL, format!("cannot size [{}]", acc.type_id.0)))?;
                out.sz = sz as u32;
                out.type_id = acc.type_id;
            }
            RelocKind::FieldByteSize => {
                out.val = resolve_size(btf, acc.type_id)
                    .map_err(|_| (EINVAL, format!("cannot size [{}]", acc.type_id.0)))?;
            }
            _ => {
                return Err((
                    EINVAL,
                    format!("relo {} can't be applied to array access", kind.raw()),
                ));
            }
        }
        return Ok(out);
    }
    let t = btf
        .type_by_id(acc.type_id)
        .ok_or((EINVAL, format!("no type [{}]", acc.type_id.0)))?;
    let m = member(&t, acc.idx).ok_or((
        EINVAL,
        format!("no member {} in [{}]", acc.idx, acc.type_id.0),
    ))?;
    let mt = skip(btf, m.ty).ok_or((EINVAL, format!("no type [{}]", m.ty.0)))?;
    let field_type_id = mt.id();
    let bit_off = bit_offset;
    let mut bit_sz = m.bitfield_size;
    let bitfield = bit_sz > 0;
    let (byte_off, byte_sz) = if bitfield {
        let mut byte_sz = mt.size();
        if byte_sz == 0 {
            return Err((EINVAL, "bitfield of size 0".into()));
        }
        let mut byte_off = bit_off / 8 / byte_sz * byte_sz;
        while bit_off
            .wrapping_add(bit_sz)
            .wrapping_sub(byte_off.wrapping_mul(8))
            > byte_sz.wrapping_mul(8)
        {
            if byte_sz >= 8 {
                return Err((
                    E2BIG,
                    format!("relo {} can't be satisfied for bitfield", kind.raw()),
                ));
            }
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
        (byte_off, byte_sz)
    } else {
        let sz = resolve_size(btf, field_type_id)
            .map_err(|_| (EINVAL, format!("cannot size [{}]", field_type_id.0)))?;
        let sz = sz as u32;
        bit_sz = sz.wrapping_mul(8);
        (bit_off / 8, sz)
    };
    out.validate = !bitfield;
    match kind {
        RelocKind::FieldByteOffset => {
            out.val = u64::from(byte_off);
            if !bitfield {
                out.sz = byte_sz;
                out.type_id = field_type_id;
            }
        }
        RelocKind::FieldByteSize => out.val = u64::from(byte_sz),
        RelocKind::FieldSigned => {
            out.val = u64::from(
                (mt.kind().is_any_enum() && mt.kind_flag())
                    || (mt.kind() == Kind::Int && int_signed(&mt)),
            );
            out.validate = true;
        }
        RelocKind::FieldLshiftU64 => {
            // libbpf computes this for the host's byte order; the object's
            // byte order is the one that matters for the program.
            out.val = u64::from(match btf.endian() {
                btf::Endian::Little => 64u32.wrapping_sub(
                    bit_off
                        .wrapping_add(bit_sz)
                        .wrapping_sub(byte_off.wrapping_mul(8)),
                ),
                btf::Endian::Big => (8u32.wrapping_sub(byte_sz))
                    .wrapping_mul(8)
                    .wrapping_add(bit_off.wrapping_sub(byte_off.wrapping_mul(8))),
            });
        }
        RelocKind::FieldRshiftU64 => {
            out.val = u64::from(64u32.wrapping_sub(bit_sz));
            out.validate = true;
        }
        _ => return Err((EOPNOTSUPP, "unsupported".into())),
    }
    Ok(out)
}

fn calc_type(btf: &Btf<'_>, kind: RelocKind, spec: Option<&Spec>) -> Result<(u64, bool), CalcErr> {
    let Some(spec) = spec else {
        return Ok((0, true));
    };
    match kind {
        RelocKind::TypeIdTarget => Ok((u64::from(spec.root_type_id.0), false)),
        RelocKind::TypeExists | RelocKind::TypeMatches => Ok((1, true)),
        RelocKind::TypeSize => resolve_size(btf, spec.root_type_id)
            .map(|s| (s, true))
            .map_err(|_| (EINVAL, format!("cannot size [{}]", spec.root_type_id.0))),
        _ => Err((EOPNOTSUPP, "unsupported".into())),
    }
}

fn calc_enumval(btf: &Btf<'_>, kind: RelocKind, spec: Option<&Spec>) -> Result<u64, CalcErr> {
    match kind {
        RelocKind::EnumvalExists => Ok(u64::from(spec.is_some())),
        RelocKind::EnumvalValue => {
            let Some(spec) = spec else {
                return Err((EUCLEAN, "poison".into()));
            };
            let acc = spec.acc.first().ok_or((EINVAL, "empty spec".to_string()))?;
            let t = btf
                .type_by_id(acc.type_id)
                .ok_or((EINVAL, format!("no type [{}]", acc.type_id.0)))?;
            let e =
                enumerator(&t, acc.idx).ok_or((EINVAL, format!("no enumerator {}", acc.idx)))?;
            Ok(if t.kind() == Kind::Enum {
                // btf_enum.val is an s32: it widens with sign extension.
                e.value as u32 as i32 as i64 as u64
            } else {
                e.value
            })
        }
        _ => Err((EOPNOTSUPP, "unsupported".into())),
    }
}

/// `bpf_core_calc_relo`: values for one candidate (`targ = None`: none
/// matched). `Err` carries libbpf's errno; poisoning is `Ok` with `poison`.
pub(crate) fn calc_relo(
    lb: &Btf<'_>,
    kind: RelocKind,
    local: &Spec,
    targ: Option<(&Btf<'_>, &Spec)>,
) -> Result<Fixup, CalcErr> {
    let mut res = Fixup {
        validate: true,
        ..Fixup::default()
    };
    let tspec = targ.map(|(_, s)| s);
    let r: Result<(), CalcErr> = (|| {
        if kind.is_field_based() {
            let o = calc_field(lb, kind, Some(local))?;
            res.orig_val = o.val;
            res.orig_sz = o.sz;
            res.orig_type_id = o.type_id;
            res.validate = o.validate;
            let tb = targ.map_or(lb, |(b, _)| b);
            let n = calc_field(tb, kind, tspec)?;
            res.new_val = n.val;
            res.new_sz = n.sz;
            res.new_type_id = n.type_id;
            res.fail_memsz_adjust = false;
            if res.orig_sz != res.new_sz {
                let ot = lb.type_by_id(res.orig_type_id);
                let nt = tb.type_by_id(res.new_type_id);
                if let (Some(ot), Some(nt)) = (ot, nt) {
                    if ot.kind() == Kind::Ptr && nt.kind() == Kind::Ptr {
                        return Ok(());
                    }
                    if ot.kind() == Kind::Int
                        && nt.kind() == Kind::Int
                        && int_encoding_raw(&ot) != 1
                        && int_encoding_raw(&nt) != 1
                    {
                        return Ok(());
                    }
                }
                res.fail_memsz_adjust = true;
            }
            Ok(())
        } else if kind.is_type_based() {
            let (v, validate) = calc_type(lb, kind, Some(local))?;
            res.orig_val = v;
            res.validate = validate;
            let tb = targ.map_or(lb, |(b, _)| b);
            res.new_val = calc_type(tb, kind, tspec)?.0;
            Ok(())
        } else {
            res.orig_val = calc_enumval(lb, kind, Some(local))?;
            let tb = targ.map_or(lb, |(b, _)| b);
            res.new_val = calc_enumval(tb, kind, tspec)?;
            Ok(())
        }
    })();
    match r {
        Ok(()) => Ok(res),
        Err((e, _)) if e == EUCLEAN => {
            res.poison = true;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}
