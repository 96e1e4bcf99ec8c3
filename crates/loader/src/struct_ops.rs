//! struct_ops maps (`.struct_ops`, `.struct_ops.link`), as libbpf builds
//! them.
//!
//! Each variable of the `.struct_ops` DATASEC is one map of type
//! `BPF_MAP_TYPE_STRUCT_OPS` named after the variable. Its local type (say
//! `struct tcp_congestion_ops`) is matched by name with the kernel's; the
//! map value is the kernel's wrapper `struct bpf_struct_ops_<name>` whose
//! `data` member holds the struct. At open ([`collect`]) the variable's
//! bytes and the programs its function pointers name (the section's
//! relocations) are read; at load ([`resolve`]) every local member is
//! found by name in the kernel struct, scalar members are copied to their
//! kernel offsets (sizes must agree), and each program referenced by a
//! function pointer gets the kernel struct's BTF id as its attach BTF id and
//! the kernel member's index as its expected attach type. The map is created
//! with the wrapper's id as `btf_vmlinux_value_type_id`; its value (the
//! kernel image with program fds in the function pointer slots) is written
//! when it is attached, as libbpf does (`bpf_map__attach_struct_ops`), not
//! at load.

use std::collections::HashMap;

use btf::{Btf, Kind, TypeId};

use crate::maps::{kernel_name, MapDef, MapOrigin};
use crate::object::{Object, R_BPF_64_64, R_BPF_64_ABS64};
use crate::{Error, Result};

/// `BPF_MAP_TYPE_STRUCT_OPS`.
pub const STRUCT_OPS: u32 = 26;
/// `BPF_F_LINK`: the map is attached through a link (`.struct_ops.link`).
pub const F_LINK: u32 = 1 << 13;
/// `BPF_PROG_TYPE_STRUCT_OPS`.
const PROG_STRUCT_OPS: u32 = 27;

/// What a struct_ops map needs beyond its [`MapDef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOps {
    /// The local struct's type id in the object's BTF.
    pub local_type: TypeId,
    /// Its name (`tcp_congestion_ops`).
    pub type_name: String,
    /// The variable's bytes from the section (the local struct's layout).
    pub data: Vec<u8>,
    /// (local member index, program name) for each function pointer set.
    pub progs: Vec<(usize, String)>,
    /// After [`resolve`]: the kernel value (`bpf_struct_ops_<name>`) with
    /// the scalar members copied, program slots still zero.
    pub kern_value: Vec<u8>,
    /// After [`resolve`]: byte offsets in `kern_value` of each program's
    /// slot, as (offset, program name).
    pub kern_func_off: Vec<(usize, String)>,
}

/// How a program referenced by a struct_ops map is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgAttach {
    /// Program name.
    pub prog: String,
    /// The kernel struct's BTF id (`attach_btf_id`).
    pub attach_btf_id: u32,
    /// The kernel member's index (`expected_attach_type`).
    pub member: u32,
}

fn st_err(map: &str, why: impl Into<String>) -> Error {
    Error::Map {
        map: map.to_string(),
        why: format!("struct_ops: {}", why.into()),
    }
}

/// Collects the struct_ops maps of `obj` (libbpf's
/// `bpf_object__init_struct_ops_maps`), in DATASEC order, for
/// `.struct_ops` then `.struct_ops.link`.
pub fn collect(obj: &Object, btf: Option<&Btf<'_>>, maps: &mut Vec<MapDef>) -> Result<()> {
    for (sec_name, flags) in [(".struct_ops", 0), (".struct_ops.link", F_LINK)] {
        let Some(sec) = obj.sections().iter().find(|s| s.name == sec_name) else {
            continue;
        };
        let btf = btf.ok_or_else(|| st_err(sec_name, "the object has no .BTF"))?;
        let ds = btf
            .find_by_name_kind(sec_name, Kind::Datasec)
            .ok_or_else(|| st_err(sec_name, format!("DATASEC {sec_name} not found")))?;
        for vsi in btf.get(ds)?.datasec_vars() {
            let var = btf.get(vsi.ty)?;
            let var_name = btf.name(var.name_off()).to_string();
            let st = btf.skip_mods_and_typedefs(var.type_ref())?;
            let tname = btf.name(st.name_off()).to_string();
            if tname.is_empty() {
                return Err(st_err(&var_name, "anonymous type is not supported"));
            }
            if st.kind() != Kind::Struct {
                return Err(st_err(&var_name, format!("{tname} is not a struct")));
            }
            let size = st.size();
            let start = vsi.offset as usize;
            let data = start
                .checked_add(size as usize)
                .and_then(|end| sec.data.get(start..end))
                .ok_or_else(|| {
                    st_err(
                        &var_name,
                        format!("var is beyond the end of DATASEC {sec_name}"),
                    )
                })?
                .to_vec();
            let mut progs = Vec::new();
            for r in &sec.relocations {
                let Some(moff) = r.offset.checked_sub(u64::from(vsi.offset)) else {
                    continue;
                };
                if moff >= u64::from(size) {
                    continue;
                }
                if r.r_type != R_BPF_64_ABS64 && r.r_type != R_BPF_64_64 {
                    return Err(st_err(
                        &var_name,
                        format!("relocation #{} of type {}", r.index, r.r_type),
                    ));
                }
                let (idx, _) = st
                    .members()
                    .enumerate()
                    .find(|(_, m)| u64::from(m.bit_offset) == moff * 8)
                    .ok_or_else(|| {
                        st_err(&var_name, format!("cannot find member at moff {moff}"))
                    })?;
                let sym = obj
                    .symbol(r.symbol)
                    .ok_or_else(|| st_err(&var_name, format!("symbol #{} not found", r.symbol)))?;
                let prog = obj
                    .programs()
                    .iter()
                    .find(|p| {
                        Some(p.section_index) == sym.section && p.byte_offset() as u64 == sym.value
                    })
                    .ok_or_else(|| {
                        st_err(
                            &var_name,
                            format!(
                                "cannot find prog at symbol '{}' to relocate func ptr",
                                sym.name
                            ),
                        )
                    })?;
                let is_st_ops = crate::progtype::from_section(&prog.section_name)
                    .is_some_and(|s| s.prog_type == PROG_STRUCT_OPS);
                if !is_st_ops {
                    return Err(st_err(
                        &var_name,
                        format!("prog {} is not struct_ops BPF program", prog.name),
                    ));
                }
                progs.push((idx, prog.name.clone()));
            }
            let mut m = MapDef::new(&var_name, MapOrigin::StructOps(sec.index));
            m.kernel_name = kernel_name(&var_name);
            m.sec_index = sec.index;
            m.sec_offset = u64::from(vsi.offset);
            m.map_type = STRUCT_OPS;
            m.key_size = 4;
            m.value_size = size;
            m.max_entries = 1;
            m.map_flags = flags;
            m.struct_ops = Some(Box::new(StructOps {
                local_type: st.id(),
                type_name: tname,
                data,
                progs,
                kern_value: Vec::new(),
                kern_func_off: Vec::new(),
            }));
            maps.push(m);
        }
    }
    Ok(())
}

/// Matches a struct_ops map with the kernel (libbpf's
/// `bpf_map__init_kern_struct_ops`): sets its value size and
/// `btf_vmlinux_value_type_id`, builds the kernel value, and returns how
/// each referenced program is to be loaded. Errors name the map and the
/// member at fault (libbpf fails the object the same way).
pub fn resolve(m: &mut MapDef, local: &Btf<'_>, kern: &Btf<'_>) -> Result<Vec<ProgAttach>> {
    let name = m.name.clone();
    let Some(st) = m.struct_ops.as_mut() else {
        return Ok(Vec::new());
    };
    let tname = &st.type_name;
    let kern_type_id = kern
        .find_by_name_kind(tname, Kind::Struct)
        .ok_or_else(|| st_err(&name, format!("struct {tname} is not found in kernel BTF")))?;
    let wrapper = format!("bpf_struct_ops_{tname}");
    let kern_vtype_id = kern
        .find_by_name_kind(&wrapper, Kind::Struct)
        .ok_or_else(|| {
            st_err(
                &name,
                format!("struct {wrapper} is not found in kernel BTF"),
            )
        })?;
    let kern_vtype = kern.get(kern_vtype_id)?;
    let data_off = kern_vtype
        .members()
        .find(|mm| mm.ty == kern_type_id)
        .map(|mm| mm.bit_offset as usize / 8)
        .ok_or_else(|| {
            st_err(
                &name,
                format!("struct {tname} data is not found in struct {wrapper}"),
            )
        })?;
    let vsize = kern_vtype.size();
    if vsize as usize > crate::maps::MAX_ZERO_IMAGE {
        return Err(st_err(&name, format!("struct {wrapper} is too large")));
    }
    let mut value = vec![0u8; vsize as usize];
    let kern_type = kern.get(kern_type_id)?;
    let ltype = local.get(st.local_type)?;
    let mut attach = Vec::new();
    let mut func_off = Vec::new();
    for (i, mem) in ltype.members().enumerate() {
        let mname = local.name(mem.name_off);
        let moff = mem.bit_offset as usize / 8;
        let (kidx, kmem) = kern_type
            .members()
            .enumerate()
            .find(|(_, k)| kern.name(k.name_off) == mname)
            .ok_or_else(|| st_err(&name, format!("Cannot find member {mname} in kernel BTF")))?;
        if mem.bitfield_size != 0 || kmem.bitfield_size != 0 {
            return Err(st_err(&name, format!("bitfield {mname} is not supported")));
        }
        let kmoff = kmem.bit_offset as usize / 8;
        let mtype = local.skip_mods_and_typedefs(mem.ty)?;
        let kmtype = kern.skip_mods_and_typedefs(kmem.ty)?;
        if mtype.kind() != kmtype.kind() {
            return Err(st_err(
                &name,
                format!(
                    "mismatch kind of member {mname}: {} vs kernel {}",
                    mtype.kind(),
                    kmtype.kind()
                ),
            ));
        }
        if mtype.kind() == Kind::Ptr {
            let Some((_, prog)) = st.progs.iter().find(|(idx, _)| *idx == i) else {
                continue;
            };
            if kern.skip_mods_and_typedefs(kmtype.type_ref())?.kind() != Kind::FuncProto {
                return Err(st_err(
                    &name,
                    format!("kernel member {mname} is not a func ptr"),
                ));
            }
            attach.push(ProgAttach {
                prog: prog.clone(),
                attach_btf_id: kern_type_id.0,
                member: u32::try_from(kidx).unwrap_or(u32::MAX),
            });
            func_off.push((data_off + kmoff, prog.clone()));
            continue;
        }
        let msize = local.resolve_size(mem.ty)?;
        let kmsize = kern.resolve_size(kmem.ty)?;
        if msize != kmsize {
            return Err(st_err(
                &name,
                format!("size mismatch for member {mname}: {msize} != {kmsize} (kernel)"),
            ));
        }
        let src = moff
            .checked_add(msize as usize)
            .and_then(|end| st.data.get(moff..end));
        let dst = (data_off + kmoff)
            .checked_add(msize as usize)
            .and_then(|end| value.get_mut(data_off + kmoff..end));
        match (src, dst) {
            (Some(s), Some(d)) => d.copy_from_slice(s),
            _ => {
                return Err(st_err(
                    &name,
                    format!("member {mname} lies outside the struct"),
                ))
            }
        }
    }
    st.kern_value = value;
    st.kern_func_off = func_off;
    m.value_size = vsize;
    m.btf_vmlinux_value_type_id = kern_vtype_id.0;
    Ok(attach)
}

/// [`resolve`] for every struct_ops map of `defs`: program name ->
/// (attach BTF id, member index). Without BTF (the object's or the
/// kernel's) a struct_ops map cannot be matched: an error naming it.
pub fn resolve_maps(
    defs: &mut [MapDef],
    local: Option<&Btf<'_>>,
    kern: Option<&Btf<'_>>,
) -> Result<HashMap<String, (u32, u32)>> {
    let mut out = HashMap::new();
    for m in defs.iter_mut().filter(|m| m.struct_ops.is_some()) {
        let (Some(l), Some(k)) = (local, kern) else {
            return Err(st_err(&m.name, "needs the object's BTF and vmlinux BTF"));
        };
        for a in resolve(m, l, k)? {
            out.insert(a.prog, (a.attach_btf_id, a.member));
        }
    }
    Ok(out)
}
