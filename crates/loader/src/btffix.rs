//! The object's BTF made fit for `BPF_BTF_LOAD`: DATASEC sizes and VAR
//! offsets filled in from the ELF (clang leaves them 0), `.kconfig` laid out,
//! and kinds the running kernel lacks rewritten (sanitised) as libbpf does.

use btf::{Btf, Kind, TypeId};

use crate::externs::Externs;
use crate::object::Object;
use crate::{Error, Result};

/// BTF kinds and features the kernel accepts (libbpf probes each by loading
/// a tiny BTF). All true means no sanitising.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BtfFeatures {
    /// `BTF_KIND_VAR` / `BTF_KIND_DATASEC`.
    pub datasec: bool,
    /// `BTF_KIND_FLOAT`.
    pub float: bool,
    /// `BTF_KIND_DECL_TAG`.
    pub decl_tag: bool,
    /// `BTF_KIND_TYPE_TAG`.
    pub type_tag: bool,
    /// `BTF_KIND_ENUM64`.
    pub enum64: bool,
    /// `BTF_FUNC_GLOBAL` linkage.
    pub func_global: bool,
}

impl BtfFeatures {
    /// Everything supported (no sanitising).
    pub const ALL: BtfFeatures = BtfFeatures {
        datasec: true,
        float: true,
        decl_tag: true,
        type_tag: true,
        enum64: true,
        func_global: true,
    };

    /// Probes the running kernel by loading one small BTF per feature.
    pub fn probe() -> BtfFeatures {
        use btf::write::Builder;
        use btf::{Endian, IntEncoding};
        let try_load = |b: Builder| crate::sys::btf_load(&b.encode(Endian::NATIVE)).is_ok();
        let datasec = {
            let mut b = Builder::new();
            let int = b.int("int", 4, IntEncoding::Signed);
            let v = b.var("x", int, 1);
            b.datasec(".data", 4, &[(v, 0, 4)]);
            try_load(b)
        };
        let float = {
            let mut b = Builder::new();
            b.float("float", 4);
            try_load(b)
        };
        let decl_tag = {
            let mut b = Builder::new();
            let int = b.int("int", 4, IntEncoding::Signed);
            let v = b.var("x", int, 1);
            b.decl_tag("tag", v, -1);
            try_load(b)
        };
        let type_tag = {
            let mut b = Builder::new();
            let int = b.int("int", 4, IntEncoding::Signed);
            let t = b.reference(Kind::TypeTag, "tag", int);
            b.reference(Kind::Ptr, "", t);
            try_load(b)
        };
        let enum64 = {
            let mut b = Builder::new();
            b.enum64("e", 8, false, &[("A", 1)]);
            try_load(b)
        };
        let func_global = {
            let mut b = Builder::new();
            let proto = b.func_proto(TypeId(0), &[]);
            b.func("f", proto, 1);
            try_load(b)
        };
        BtfFeatures {
            datasec,
            float,
            decl_tag,
            type_tag,
            enum64,
            func_global,
        }
    }
}

fn put(out: &mut [u8], off: u64, v: u32, e: btf::Endian) -> Result<()> {
    let o = usize::try_from(off).unwrap_or(usize::MAX);
    let slot = out
        .get_mut(o..o.saturating_add(4))
        .ok_or(Error::Btf(btf::Error::Truncated {
            what: "fix-up",
            offset: off,
            need: 4,
            have: 0,
        }))?;
    slot.copy_from_slice(&e.u32_bytes(v));
    Ok(())
}

fn info(kind: u8, vlen: u32, kflag: bool) -> u32 {
    (u32::from(kflag) << 31) | (u32::from(kind) << 24) | (vlen & 0xffff)
}

/// Returns a copy of the object's BTF with DATASEC/VAR fixed up and kinds
/// the kernel lacks sanitised.
pub fn fixup(obj: &Object, btf: &Btf<'_>, externs: &Externs, feat: BtfFeatures) -> Result<Vec<u8>> {
    let e = btf.endian();
    let mut out = btf.raw_bytes().to_vec();
    // The id of the INT that sanitised ENUM64 members will point to.
    let mut enum64: Option<u32> = None;
    let ksyms = ksyms_plan(btf);
    let mut hidden = hidden_subprograms(obj);
    for t in btf.types() {
        let id = t.id();
        let Some(at) = btf.type_offset(id) else {
            continue;
        };
        match t.kind() {
            Kind::Datasec if btf.name(t.name_off()) == ".ksyms" => {
                fix_ksyms(&mut out, btf, &t, &ksyms, feat)?;
            }
            Kind::Datasec => {
                let name = btf.name(t.name_off()).to_string();
                let sec = obj.section_by_name(&name);
                let mut size = t.size();
                if name == ".kconfig" {
                    size = externs.kcfg_data.len() as u32;
                } else if let Some(sec) = sec {
                    if size == 0 {
                        size = u32::try_from(sec.size).unwrap_or(u32::MAX);
                    }
                }
                put(&mut out, at + 8, size, e)?;
                let mut vars: Vec<(u32, u32, u32)> = Vec::new();
                for v in t.datasec_vars() {
                    let vt = btf.get(v.ty)?;
                    let vname = btf.name(vt.name_off());
                    let off = if name == ".kconfig" {
                        externs.kcfg(vname).map(|k| k.offset)
                    } else {
                        sec.and_then(|s| {
                            obj.symbols()
                                .iter()
                                .find(|sym| sym.section == Some(s.index) && sym.name == vname)
                                .and_then(|sym| u32::try_from(sym.value).ok())
                        })
                    };
                    vars.push((v.ty.0, off.unwrap_or(v.offset), v.size));
                }
                // The kernel refuses extern linkage: libbpf gives the
                // variables of the `.kconfig` map it lays out allocated
                // (global) linkage.
                // (Without DATASEC support the VARs become INTs instead.)
                if name == ".kconfig" && feat.datasec {
                    for v in t.datasec_vars() {
                        let vt = btf.get(v.ty)?;
                        if vt.kind() == Kind::Var {
                            if let Some(vat) = btf.type_offset(v.ty) {
                                put(&mut out, vat + 12, VAR_GLOBAL_ALLOCATED, e)?;
                            }
                        }
                    }
                }
                // The kernel wants variables in ascending offset order.
                vars.sort_by_key(|v| v.1);
                for (i, &(ty, off, sz)) in vars.iter().enumerate() {
                    let m = at + 12 + 12 * i as u64;
                    put(&mut out, m, ty, e)?;
                    put(&mut out, m + 4, off, e)?;
                    put(&mut out, m + 8, sz, e)?;
                }
                if !feat.datasec {
                    // Each variable becomes a member of its name and type (a
                    // VAR, itself turned into an INT below) at its offset.
                    let members: Vec<(u32, u32, u32)> = vars
                        .iter()
                        .map(|&(ty, off, _)| (name_of(btf, ty), ty, off))
                        .collect();
                    datasec_as_struct(&mut out, btf, &t, &members)?;
                }
            }
            Kind::Var if !feat.datasec => {
                // VAR -> INT of 1 byte (8 bits).
                put(&mut out, at + 4, info(Kind::Int.raw(), 0, false), e)?;
                put(&mut out, at + 8, 1, e)?;
                put(&mut out, at + 12, 8, e)?;
            }
            Kind::Float if !feat.float => {
                // FLOAT -> anonymous empty STRUCT of the same size ("float"
                // is no valid struct name).
                put(&mut out, at, 0, e)?;
                put(&mut out, at + 4, info(Kind::Struct.raw(), 0, false), e)?;
            }
            Kind::DeclTag if !feat.decl_tag => {
                // DECL_TAG -> INT 1 byte, 8 bits, keeping its name (as VAR).
                put(&mut out, at + 4, info(Kind::Int.raw(), 0, false), e)?;
                put(&mut out, at + 8, 1, e)?;
                put(&mut out, at + 12, 8, e)?;
            }
            Kind::TypeTag if !feat.type_tag => {
                put(&mut out, at, 0, e)?;
                put(&mut out, at + 4, info(Kind::Const.raw(), 0, false), e)?;
            }
            Kind::Func if !feat.func_global => {
                put(&mut out, at + 4, info(Kind::Func.raw(), 0, false), e)?;
            }
            Kind::Func
                if t.vlen() == FUNC_GLOBAL as u16 && hidden.remove(btf.name(t.name_off())) =>
            {
                // A hidden global subprogram: static, as libbpf marks it, so
                // the verifier checks it in its caller's context.
                put(&mut out, at + 4, info(Kind::Func.raw(), 0, false), e)?;
            }
            Kind::Enum if !feat.enum64 && t.kind_flag() => {
                // Kernels without ENUM64 know no signed (kind_flag) ENUM.
                put(
                    &mut out,
                    at + 4,
                    info(Kind::Enum.raw(), u32::from(t.vlen()), false),
                    e,
                )?;
            }
            Kind::Enum64 if !feat.enum64 => {
                // ENUM64 -> UNION of the same size whose members (same
                // names, 12-byte records like the enumerators) all have the
                // placeholder type appended below, at offset 0.
                let next = btf.type_count() + u32::from(ksyms.dummy.is_some());
                let placeholder = *enum64.get_or_insert(next);
                put(
                    &mut out,
                    at + 4,
                    info(Kind::Union.raw(), u32::from(t.vlen()), false),
                    e,
                )?;
                for j in 0..u64::from(t.vlen()) {
                    let m = at + 12 + 12 * j;
                    put(&mut out, m + 4, placeholder, e)?;
                    put(&mut out, m + 8, 0, e)?;
                }
            }
            _ => {}
        }
    }
    // Appended in libbpf's order: the dummy ksym variable when the object
    // is opened, the ENUM64 placeholder when its BTF is sanitised.
    let mut new = Vec::new();
    if ksyms.dummy.is_some() {
        // (Sanitised like every VAR when the kernel lacks DATASEC.)
        let words = if feat.datasec {
            [
                info(Kind::Var.raw(), 0, false),
                ksyms.int_id,
                VAR_GLOBAL_ALLOCATED,
            ]
        } else {
            [info(Kind::Int.raw(), 0, false), 1, 8]
        };
        new.push(Appended {
            name: DUMMY_KSYM,
            words,
        });
    }
    if enum64.is_some() {
        // A 1-byte INT: encoding 0 (unsigned, not char or bool), offset 0, 8 bits.
        new.push(Appended {
            name: ENUM64_PLACEHOLDER,
            words: [info(Kind::Int.raw(), 0, false), 1, 8],
        });
    }
    append_types(&out, btf, &new)
}

/// The `.text` functions that are global (or weak) but `STV_HIDDEN` or
/// `STV_INTERNAL` (`__hidden`, as libbpf's `usdt.bpf.h` declares its
/// helpers): libbpf gives the first global FUNC of each such name static
/// linkage in the BTF it loads.
fn hidden_subprograms(obj: &Object) -> std::collections::HashSet<&str> {
    const STV_INTERNAL: u8 = 1;
    const STV_HIDDEN: u8 = 2;
    let text = obj.section_by_name(".text").map(|s| s.index);
    obj.symbols()
        .iter()
        .filter(|s| {
            s.is_func()
                && s.is_global()
                && text.is_some()
                && s.section == text
                && (s.visibility == STV_HIDDEN || s.visibility == STV_INTERNAL)
        })
        .map(|s| s.name.as_str())
        .collect()
}

/// libbpf's name for the variable that kfunc slots of `.ksyms` point to.
const DUMMY_KSYM: &str = "dummy_ksym";

/// What the `.ksyms` rewrite needs to know before the types are walked.
struct KsymsPlan {
    /// Id of the dummy variable to append (when `.ksyms` holds a FUNC).
    dummy: Option<u32>,
    /// Offset its name will have in the string section.
    dummy_name_off: u32,
    /// The first 32-bit INT of the object (libbpf's `find_int_btf_id`; 0
    /// when there is none).
    int_id: u32,
}

fn ksyms_plan(btf: &Btf<'_>) -> KsymsPlan {
    let has_func = btf
        .types()
        .filter(|t| t.kind() == Kind::Datasec && btf.name(t.name_off()) == ".ksyms")
        .flat_map(|t| t.datasec_vars())
        .any(|v| btf.get(v.ty).is_ok_and(|t| t.kind() == Kind::Func));
    let int_id = btf
        .types()
        .find(|t| t.int().is_some_and(|i| i.bits == 32))
        .map_or(0, |t| t.id().0);
    KsymsPlan {
        dummy: has_func.then(|| btf.type_count()),
        dummy_name_off: btf.header().str_len as u32,
        int_id,
    }
}

/// libbpf's rewrite of the `.ksyms` DATASEC (`bpf_object__collect_externs`):
/// the kernel refuses extern linkage, so each slot becomes 4 bytes at the
/// next multiple of 4; a variable gets allocated linkage and the object's
/// 32-bit int type; a kfunc's slot points to the appended dummy variable,
/// the FUNC becomes global and its unnamed parameters take the dummy's name.
fn fix_ksyms(
    out: &mut [u8],
    btf: &Btf<'_>,
    t: &btf::Type<'_>,
    plan: &KsymsPlan,
    feat: BtfFeatures,
) -> Result<()> {
    let e = btf.endian();
    let Some(at) = btf.type_offset(t.id()) else {
        return Ok(());
    };
    let mut off = 0u32;
    for (i, v) in t.datasec_vars().enumerate() {
        let vt = btf.get(v.ty)?;
        let Some(vat) = btf.type_offset(v.ty) else {
            continue;
        };
        let slot = at + 12 + 12 * i as u64;
        match (vt.kind(), plan.dummy) {
            (Kind::Func, Some(dummy)) => {
                if let Some(proto_at) = btf.type_offset(vt.type_ref()) {
                    let proto = btf.get(vt.type_ref())?;
                    for (j, p) in proto.params().enumerate() {
                        if p.ty.0 != 0 && p.name_off.0 == 0 {
                            put(out, proto_at + 12 + 8 * j as u64, plan.dummy_name_off, e)?;
                        }
                    }
                }
                put(out, slot, dummy, e)?;
                // (Global, then static again where the kernel lacks global
                // functions, as libbpf's later sanitising makes it.)
                let linkage = if feat.func_global { FUNC_GLOBAL } else { 0 };
                put(out, vat + 4, info(Kind::Func.raw(), linkage, false), e)?;
            }
            (Kind::Var, _) if feat.datasec => {
                put(out, vat + 8, plan.int_id, e)?;
                put(out, vat + 12, VAR_GLOBAL_ALLOCATED, e)?;
            }
            _ => {}
        }
        put(out, slot + 4, off, e)?;
        put(out, slot + 8, 4, e)?;
        off += 4;
    }
    put(out, at + 8, off, e)?;
    if !feat.datasec {
        // Then sanitised like any DATASEC (kfunc slots keep the dummy).
        let mut members = Vec::new();
        for (i, v) in t.datasec_vars().enumerate() {
            // A kfunc slot already points to the dummy: member of its name.
            let (name_off, ty) = match (btf.get(v.ty)?.kind(), plan.dummy) {
                (Kind::Func, Some(dummy)) => (plan.dummy_name_off, dummy),
                _ => (name_of(btf, v.ty.0), v.ty.0),
            };
            members.push((name_off, ty, 4 * i as u32));
        }
        datasec_as_struct(out, btf, t, &members)?;
    }
    Ok(())
}

/// The name offset of type `id` (0 when there is no such type).
fn name_of(btf: &Btf<'_>, id: u32) -> u32 {
    btf.get(TypeId(id)).map_or(0, |x| x.name_off().0)
}

/// libbpf's DATASEC -> STRUCT sanitising of the DATASEC `t` in `out`: a
/// STRUCT of the same size, named with '.' and '?' turned into '_' (in the
/// string table, as libbpf does), whose members are `(name_off, type, byte
/// offset)`, one per variable slot.
fn datasec_as_struct(
    out: &mut [u8],
    btf: &Btf<'_>,
    t: &btf::Type<'_>,
    members: &[(u32, u32, u32)],
) -> Result<()> {
    let e = btf.endian();
    let Some(at) = btf.type_offset(t.id()) else {
        return Ok(());
    };
    put(
        out,
        at + 4,
        info(Kind::Struct.raw(), u32::from(t.vlen()), false),
        e,
    )?;
    rename_for_c(out, btf, t.name_off())?;
    for (i, &(name_off, ty, off)) in members.iter().enumerate() {
        let m = at + 12 + 12 * i as u64;
        put(out, m, name_off, e)?;
        put(out, m + 4, ty, e)?;
        put(out, m + 8, off.saturating_mul(8), e)?;
    }
    Ok(())
}

/// `BTF_FUNC_GLOBAL`.
const FUNC_GLOBAL: u32 = 1;

/// Turns '.' and '?' into '_' in the string at `name_off` of the copy
/// `out` of `btf` (`.bss` becomes `_bss`, a valid struct name).
fn rename_for_c(out: &mut [u8], btf: &Btf<'_>, name_off: btf::StrOffset) -> Result<()> {
    let h = btf.header();
    let len = btf.str_bytes(name_off).map_or(0, <[u8]>::len);
    let start = h.str_start + name_off.0 as usize;
    if let Some(name) = out.get_mut(start..start + len) {
        for c in name.iter_mut().filter(|c| **c == b'.' || **c == b'?') {
            *c = b'_';
        }
    }
    Ok(())
}

/// `BTF_VAR_GLOBAL_ALLOCATED`.
const VAR_GLOBAL_ALLOCATED: u32 = 1;

/// libbpf's name for the 1-byte INT that sanitised ENUM64 members point to.
const ENUM64_PLACEHOLDER: &str = "enum64_placeholder";

/// A type appended to the object's BTF: its name and the three words after
/// the name offset (info, size or type, one kind-specific word).
struct Appended {
    name: &'static str,
    words: [u32; 3],
}

/// `blob` (the fixed-up copy of `btf`) with `new` appended as the next ids
/// and their names appended to the strings, as libbpf's `btf__add_*` do.
fn append_types(blob: &[u8], btf: &Btf<'_>, new: &[Appended]) -> Result<Vec<u8>> {
    if new.is_empty() {
        return Ok(blob.to_vec());
    }
    let h = btf.header();
    let e = btf.endian();
    let bad = |what: &'static str| {
        Error::Btf(btf::Error::BadHeader(format!(
            "cannot append {}: {what}",
            new.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
        )))
    };
    let hdr_len = usize::try_from(h.hdr_len).map_err(|_| bad("header length"))?;
    let types = blob
        .get(h.type_start..h.type_start + h.type_len)
        .ok_or_else(|| bad("type section out of bounds"))?;
    let strs = blob
        .get(h.str_start..h.str_start + h.str_len)
        .ok_or_else(|| bad("string section out of bounds"))?;
    let header = blob.get(..hdr_len).ok_or_else(|| bad("short header"))?;
    if h.layout.is_some() {
        return Err(bad("the blob has a kind-layout section"));
    }
    let type_len = h.type_len + new.len() * 16;
    let str_len = h.str_len + new.iter().map(|a| a.name.len() + 1).sum::<usize>();
    let too_large = |_| bad("section too large");
    let mut out = Vec::with_capacity(hdr_len + type_len + str_len);
    out.extend_from_slice(header);
    // type_off stays 0 (types right after the header); strings follow them.
    let words = [
        (8u64, 0u32),
        (12, u32::try_from(type_len).map_err(too_large)?),
        (16, u32::try_from(type_len).map_err(too_large)?),
        (20, u32::try_from(str_len).map_err(too_large)?),
    ];
    for (off, v) in words {
        put(&mut out, off, v, e)?;
    }
    out.extend_from_slice(types);
    let mut name_off = h.str_len;
    for a in new {
        out.extend_from_slice(&e.u32_bytes(u32::try_from(name_off).map_err(too_large)?));
        for w in a.words {
            out.extend_from_slice(&e.u32_bytes(w));
        }
        name_off += a.name.len() + 1;
    }
    out.extend_from_slice(strs);
    for a in new {
        out.extend_from_slice(a.name.as_bytes());
        out.push(0);
    }
    Ok(out)
}
