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
    for t in btf.types() {
        let id = t.id();
        let Some(at) = btf.type_offset(id) else {
            continue;
        };
        match t.kind() {
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
                // The kernel wants variables in ascending offset order.
                vars.sort_by_key(|v| v.1);
                for (i, (ty, off, sz)) in vars.into_iter().enumerate() {
                    let m = at + 12 + 12 * i as u64;
                    put(&mut out, m, ty, e)?;
                    put(&mut out, m + 4, off, e)?;
                    put(&mut out, m + 8, sz, e)?;
                }
                if !feat.datasec {
                    // DATASEC -> STRUCT of the same size; secinfos read as members.
                    put(
                        &mut out,
                        at + 4,
                        info(Kind::Struct.raw(), u32::from(t.vlen()), false),
                        e,
                    )?;
                    for (i, v) in t.datasec_vars().enumerate() {
                        let m = at + 12 + 12 * i as u64;
                        let vname_off = btf.get(v.ty).map(|x| x.name_off().0).unwrap_or(0);
                        put(&mut out, m, vname_off, e)?;
                        put(&mut out, m + 8, v.offset.saturating_mul(8), e)?;
                    }
                }
            }
            Kind::Var if !feat.datasec => {
                // VAR -> INT of 1 byte (8 bits).
                put(&mut out, at + 4, info(Kind::Int.raw(), 0, false), e)?;
                put(&mut out, at + 8, 1, e)?;
                put(&mut out, at + 12, 8, e)?;
            }
            Kind::Float if !feat.float => {
                // FLOAT -> empty STRUCT of the same size.
                put(&mut out, at + 4, info(Kind::Struct.raw(), 0, false), e)?;
            }
            Kind::DeclTag if !feat.decl_tag => {
                // DECL_TAG -> INT 1 byte, unnamed.
                put(&mut out, at, 0, e)?;
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
            _ => {}
        }
    }
    Ok(out)
}
