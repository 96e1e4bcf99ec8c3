//! Map definitions: BTF-defined maps in `.maps`, legacy `maps`, global data
//! sections and the `.kconfig` map, in libbpf's creation order.

use btf::{Btf, Kind, TypeId};

use crate::object::{Object, SectionKind, R_BPF_64_64, R_BPF_64_ABS64};
use crate::{Error, Result};

/// `BPF_F_RDONLY_PROG`.
pub const F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE`.
pub const F_MMAPABLE: u32 = 1 << 10;
/// `BPF_MAP_TYPE_ARRAY`.
pub const ARRAY: u32 = 2;
/// `BPF_MAP_TYPE_PROG_ARRAY`.
pub const PROG_ARRAY: u32 = 3;
/// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
pub const ARRAY_OF_MAPS: u32 = 12;
/// `BPF_MAP_TYPE_HASH_OF_MAPS`.
pub const HASH_OF_MAPS: u32 = 13;

/// Where a map comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapOrigin {
    /// A variable in `.maps` (BTF-defined).
    Btf,
    /// A `struct bpf_map_def` in `maps`.
    Legacy,
    /// A global data section (`.data`, `.rodata*`, `.bss*`), by ELF index.
    Data(usize),
    /// The `.kconfig` externs.
    Kconfig,
}

/// An initial slot value of a map-in-map or prog array (`.values = {...}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitSlot {
    /// Slot index.
    pub index: u32,
    /// Name of the inner map or program.
    pub target: String,
}

/// One map to create.
#[derive(Debug, Clone)]
pub struct MapDef {
    /// Map name (libbpf's: the variable, or `<obj>.<section>` for data).
    pub name: String,
    /// Origin.
    pub origin: MapOrigin,
    /// ELF section index and byte offset of the definition (for relocation lookup).
    pub sec_index: usize,
    /// Byte offset of the symbol in its section.
    pub sec_offset: u64,
    /// `map_type`.
    pub map_type: u32,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// `numa_node`.
    pub numa_node: u32,
    /// `map_extra`.
    pub map_extra: u64,
    /// `pinning` (`LIBBPF_PIN_BY_NAME` = 1).
    pub pinning: u32,
    /// BTF key type id (0 = none).
    pub btf_key: TypeId,
    /// BTF value type id (0 = none).
    pub btf_value: TypeId,
    /// Inner map template for map-in-map.
    pub inner: Option<Box<MapDef>>,
    /// Initial slots (`.values`).
    pub init_slots: Vec<InitSlot>,
    /// Initial contents (global data), written at key 0.
    pub data: Option<Vec<u8>>,
    /// Freeze after writing (`.rodata*`, `.kconfig`).
    pub freeze: bool,
}

impl MapDef {
    fn empty(name: &str, origin: MapOrigin) -> MapDef {
        MapDef {
            name: name.to_string(),
            origin,
            sec_index: 0,
            sec_offset: 0,
            map_type: 0,
            key_size: 0,
            value_size: 0,
            max_entries: 0,
            map_flags: 0,
            numa_node: 0,
            map_extra: 0,
            pinning: 0,
            btf_key: TypeId(0),
            btf_value: TypeId(0),
            inner: None,
            init_slots: Vec::new(),
            data: None,
            freeze: false,
        }
    }
}

fn map_err(map: &str, why: impl Into<String>) -> Error {
    Error::Map {
        map: map.to_string(),
        why: why.into(),
    }
}

/// `__uint(name, N)` is `int (*name)[N]`: N is the array's element count.
fn uint_value(btf: &Btf<'_>, map: &str, field: &str, ty: TypeId) -> Result<u32> {
    let ptr = btf.skip_mods_and_typedefs(ty)?;
    if ptr.kind() != Kind::Ptr {
        return Err(map_err(
            map,
            format!(
                "'{field}' is a {}, not __uint()'s pointer to array",
                ptr.kind()
            ),
        ));
    }
    let arr = btf.skip_mods_and_typedefs(ptr.type_ref())?;
    arr.array()
        .map(|a| a.nelems)
        .ok_or_else(|| map_err(map, format!("'{field}' does not point to an array")))
}

/// Parses one BTF map definition struct (`def`) named `name`.
fn parse_btf_def(btf: &Btf<'_>, name: &str, def: TypeId, depth: u32) -> Result<MapDef> {
    let st = btf.skip_mods_and_typedefs(def)?;
    if st.kind() != Kind::Struct {
        return Err(map_err(
            name,
            format!("definition is a {}, not a struct", st.kind()),
        ));
    }
    let mut m = MapDef::empty(name, MapOrigin::Btf);
    for mem in st.members() {
        let field = btf.name(mem.name_off);
        match field {
            "type" => m.map_type = uint_value(btf, name, field, mem.ty)?,
            "max_entries" => m.max_entries = uint_value(btf, name, field, mem.ty)?,
            "map_flags" => m.map_flags = uint_value(btf, name, field, mem.ty)?,
            "numa_node" => m.numa_node = uint_value(btf, name, field, mem.ty)?,
            "key_size" => m.key_size = uint_value(btf, name, field, mem.ty)?,
            "value_size" => m.value_size = uint_value(btf, name, field, mem.ty)?,
            "pinning" => m.pinning = uint_value(btf, name, field, mem.ty)?,
            "map_extra" => m.map_extra = u64::from(uint_value(btf, name, field, mem.ty)?),
            "key" | "value" => {
                let ptr = btf.skip_mods_and_typedefs(mem.ty)?;
                if ptr.kind() != Kind::Ptr {
                    return Err(map_err(
                        name,
                        format!("'{field}' is not __type()'s pointer"),
                    ));
                }
                let size = u32::try_from(btf.resolve_size(ptr.type_ref())?)
                    .map_err(|_| map_err(name, format!("'{field}' type too large")))?;
                if field == "key" {
                    m.key_size = size;
                    m.btf_key = ptr.type_ref();
                } else {
                    m.value_size = size;
                    m.btf_value = ptr.type_ref();
                }
            }
            "values" => {
                let arr = btf.skip_mods_and_typedefs(mem.ty)?;
                let info = arr
                    .array()
                    .ok_or_else(|| map_err(name, "'values' is not __array()'s array"))?;
                let ptr = btf.skip_mods_and_typedefs(info.elem)?;
                if ptr.kind() != Kind::Ptr {
                    return Err(map_err(name, "'values' elements are not pointers"));
                }
                let target = btf.skip_mods_and_typedefs(ptr.type_ref())?;
                if target.kind() == Kind::Struct {
                    if depth > 0 {
                        return Err(map_err(name, "nested map-in-map definitions"));
                    }
                    let inner_name = format!("{name}.inner");
                    m.inner = Some(Box::new(parse_btf_def(
                        btf,
                        &inner_name,
                        target.id(),
                        depth + 1,
                    )?));
                }
                // A prog array's values are functions: nothing to create.
                m.value_size = 4;
            }
            _ => {} // libbpf warns and ignores unknown fields in non-strict mode
        }
    }
    if m.inner.is_some() && m.map_type != ARRAY_OF_MAPS && m.map_type != HASH_OF_MAPS {
        return Err(map_err(
            name,
            "__array(values, struct ...) on a map that is not a map-in-map",
        ));
    }
    if (m.map_type == ARRAY_OF_MAPS || m.map_type == HASH_OF_MAPS) && m.inner.is_none() {
        return Err(map_err(name, "map-in-map without an inner map definition"));
    }
    Ok(m)
}

/// libbpf's internal map name: up to 8 bytes of the object name, then the
/// section name, 15 bytes in all.
pub fn internal_name(obj_name: &str, sec: &str) -> String {
    let pfx: String = obj_name.chars().take(8).collect();
    let room = 15usize.saturating_sub(pfx.len());
    let sfx: String = sec.chars().take(room).collect();
    format!("{pfx}{sfx}")
}

/// Collects every map of `obj` in libbpf's order: legacy maps, BTF maps,
/// global data sections, then `.kconfig` (its size given by the caller).
pub fn collect(
    obj: &Object,
    btf: Option<&Btf<'_>>,
    obj_name: &str,
    kconfig: Option<(Vec<u8>, TypeId)>,
) -> Result<Vec<MapDef>> {
    let mut maps = Vec::new();
    // Legacy `maps`: struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }.
    if let Some(sec) = obj
        .sections()
        .iter()
        .find(|s| s.kind == SectionKind::LegacyMaps)
    {
        let mut syms: Vec<_> = obj
            .symbols()
            .iter()
            .filter(|s| s.section == Some(sec.index) && !s.is_section() && !s.name.is_empty())
            .collect();
        syms.sort_by_key(|s| s.value);
        for s in syms {
            let e = obj.endian();
            let at = |i: usize| {
                usize::try_from(s.value)
                    .ok()
                    .and_then(|v| v.checked_add(i * 4))
                    .and_then(|o| e.u32_at(&sec.data, o))
                    .ok_or_else(|| {
                        map_err(
                            &s.name,
                            format!(
                                "definition at offset {:#x} runs past section 'maps'",
                                s.value
                            ),
                        )
                    })
            };
            let mut m = MapDef::empty(&s.name, MapOrigin::Legacy);
            m.sec_index = sec.index;
            m.sec_offset = s.value;
            m.map_type = at(0)?;
            m.key_size = at(1)?;
            m.value_size = at(2)?;
            m.max_entries = at(3)?;
            m.map_flags = at(4)?;
            maps.push(m);
        }
    }
    // BTF-defined maps.
    if let Some(sec) = obj
        .sections()
        .iter()
        .find(|s| s.kind == SectionKind::BtfMaps)
    {
        let btf = btf.ok_or_else(|| map_err(".maps", "object has .maps but no .BTF"))?;
        let ds = btf
            .find_by_name_kind(".maps", Kind::Datasec)
            .ok_or_else(|| map_err(".maps", "no DATASEC '.maps' in the object's BTF"))?;
        let ds = btf.get(ds)?;
        for vsi in ds.datasec_vars() {
            let var = btf.get(vsi.ty)?;
            if var.kind() != Kind::Var {
                continue;
            }
            let name = btf.name(var.name_off()).to_string();
            let sym = obj
                .symbols()
                .iter()
                .find(|s| s.section == Some(sec.index) && s.name == name)
                .ok_or_else(|| map_err(&name, "no ELF symbol in '.maps' for this BTF variable"))?;
            let mut m = parse_btf_def(btf, &name, var.type_ref(), 0)?;
            m.sec_index = sec.index;
            m.sec_offset = sym.value;
            // Initial `.values`: ABS64 relocations inside this variable.
            let values_off = btf
                .skip_mods_and_typedefs(var.type_ref())?
                .members()
                .find(|mm| btf.name(mm.name_off) == "values")
                .map(|mm| u64::from(mm.bit_offset / 8));
            if let Some(voff) = values_off {
                let start = sym.value.saturating_add(voff);
                let end = sym.value.saturating_add(sym.size);
                for r in &sec.relocations {
                    if r.offset < start || r.offset >= end {
                        continue;
                    }
                    if r.r_type != R_BPF_64_ABS64 && r.r_type != R_BPF_64_64 {
                        return Err(Error::Relocation {
                            section: sec.name.clone(),
                            reloc: r.index,
                            offset: r.offset,
                            symbol: r.symbol,
                            symbol_name: String::new(),
                            why: format!(
                                "unexpected relocation type {} in map '{name}' values",
                                r.r_type
                            ),
                        });
                    }
                    let target = obj
                        .symbol(r.symbol)
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    let index = u32::try_from((r.offset - start) / 8).unwrap_or(u32::MAX);
                    m.init_slots.push(InitSlot { index, target });
                }
            }
            maps.push(m);
        }
    }
    // Global data.
    for sec in obj.sections() {
        if !sec.is_global_data() || sec.size == 0 {
            continue;
        }
        let mut m = MapDef::empty(
            &internal_name(obj_name, &sec.name),
            MapOrigin::Data(sec.index),
        );
        m.sec_index = sec.index;
        m.map_type = ARRAY;
        m.key_size = 4;
        m.value_size =
            u32::try_from(sec.size).map_err(|_| map_err(&sec.name, "section too large"))?;
        m.max_entries = 1;
        m.map_flags = F_MMAPABLE;
        if sec.kind == SectionKind::Rodata {
            m.map_flags |= F_RDONLY_PROG;
            m.freeze = true;
        }
        if let Some(btf) = btf {
            if let Some(id) = btf.find_by_name_kind(&sec.name, Kind::Datasec) {
                m.btf_value = id;
            }
        }
        m.data = Some(if sec.kind == SectionKind::Bss {
            vec![0; m.value_size as usize]
        } else {
            sec.data.clone()
        });
        maps.push(m);
    }
    if let Some((data, ds)) = kconfig {
        let mut m = MapDef::empty(&internal_name(obj_name, ".kconfig"), MapOrigin::Kconfig);
        m.map_type = ARRAY;
        m.key_size = 4;
        m.value_size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        m.max_entries = 1;
        m.map_flags = F_MMAPABLE | F_RDONLY_PROG;
        m.freeze = true;
        m.btf_value = ds;
        m.data = Some(data);
        maps.push(m);
    }
    Ok(maps)
}
