//! Map definitions: BTF-defined maps in `.maps`, legacy `maps`, global data
//! sections and the `.kconfig` map, in libbpf's creation order.

use btf::{Btf, Kind, TypeId, VarLinkage};

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
/// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
pub const PERF_EVENT_ARRAY: u32 = 4;
/// `BPF_MAP_TYPE_RINGBUF`.
pub const RINGBUF: u32 = 27;
/// `BPF_MAP_TYPE_USER_RINGBUF`.
pub const USER_RINGBUF: u32 = 31;
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
    /// A variable of `.struct_ops` / `.struct_ops.link`, by ELF index.
    StructOps(usize),
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
    /// Map name as libbpf's `bpf_map__name()` gives it: the variable, the
    /// section name for `.data.*`/`.rodata.*`, else the internal name.
    pub name: String,
    /// The name given to the kernel (at most 15 bytes; for global data
    /// libbpf's internal name, see [`internal_name`]).
    pub kernel_name: String,
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
    /// `btf_vmlinux_value_type_id` (struct_ops maps, set at load).
    pub btf_vmlinux_value_type_id: u32,
    /// The struct_ops part of a struct_ops map.
    pub struct_ops: Option<Box<crate::struct_ops::StructOps>>,
}

impl MapDef {
    /// A definition with every field zero or empty.
    pub fn new(name: &str, origin: MapOrigin) -> MapDef {
        Self::empty(name, origin)
    }

    fn empty(name: &str, origin: MapOrigin) -> MapDef {
        MapDef {
            name: name.to_string(),
            kernel_name: kernel_name(name),
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
            btf_vmlinux_value_type_id: 0,
            struct_ops: None,
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

/// The largest zero-filled initial image kept for a `.bss` section (the
/// kernel takes array values up to KMALLOC_MAX_SIZE, 4 MiB on x86-64).
pub const MAX_ZERO_IMAGE: usize = 64 << 20;

/// `BPF_OBJ_NAME_LEN` less its NUL: the longest name the kernel keeps.
const OBJ_NAME_MAX: usize = 15;

/// The name a map is created with: its first 15 bytes, as libbpf copies
/// it into `bpf_attr.map_name` (cut on a character boundary here).
pub fn kernel_name(name: &str) -> String {
    let mut end = name.len().min(OBJ_NAME_MAX);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// libbpf's internal map name for a global data section `real` of object
/// `obj_name` (`internal_map_name()`): the section name is given at least
/// 7 bytes, the object name what is left of 15 (`globals.rodata`,
/// `ext_kcon.bss`, `ext_kco.kconfig`); a custom section (`.data.stats`,
/// a second '.') gets no object prefix. Bytes other than alphanumerics,
/// '_' and '.' become '_' (the kernel refuses them). Two long custom
/// sections may share a kernel name (`.data.a_rather_`), as with libbpf;
/// their [`MapDef::name`]s, the section names, stay distinct.
pub fn internal_name(obj_name: &str, real: &str) -> String {
    let sfx_len = real.len().max(7);
    let custom = real.get(1..).is_some_and(|r| r.contains('.'));
    let pfx_len = if custom {
        0
    } else {
        (OBJ_NAME_MAX.saturating_sub(sfx_len)).min(obj_name.len())
    };
    let joined: Vec<u8> = obj_name
        .bytes()
        .take(pfx_len)
        .chain(real.bytes().take(sfx_len))
        .take(OBJ_NAME_MAX)
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
                b
            } else {
                b'_'
            }
        })
        .collect();
    String::from_utf8_lossy(&joined).into_owned()
}

/// The user-visible name of a global data map (`bpf_map__name()`): the
/// section name for custom `.data.*` / `.rodata.*` sections, else the
/// internal name.
pub fn data_map_name(obj_name: &str, real: &str) -> String {
    if real != ".data"
        && real != ".rodata"
        && (real.starts_with(".data.") || real.starts_with(".rodata."))
    {
        real.to_string()
    } else {
        internal_name(obj_name, real)
    }
}

/// The number of possible CPUs: what a PERF_EVENT_ARRAY without
/// max_entries gets (libbpf's `libbpf_num_possible_cpus()`).
pub fn possible_cpus() -> Result<u32> {
    crate::map_ops::possible_cpus().map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// libbpf's ring buffer size adjustment (`adjust_ringbuf_sz`): the
/// smallest power-of-two multiple of the page size that holds `sz`.
pub fn ringbuf_size(sz: u32) -> u32 {
    const PAGE: u32 = 4096;
    if sz == 0 {
        return PAGE;
    }
    let pages = sz.div_ceil(PAGE);
    pages
        .checked_next_power_of_two()
        .and_then(|p| p.checked_mul(PAGE))
        .unwrap_or(sz)
}

/// Map types for which libbpf creates the map without BTF key/value
/// types (the kernel refuses them there).
pub fn creates_without_btf(map_type: u32) -> bool {
    // PERF_EVENT_ARRAY, CGROUP_ARRAY, STACK_TRACE, ARRAY_OF_MAPS,
    // HASH_OF_MAPS, DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP, SOCKMAP,
    // SOCKHASH, QUEUE, STACK
    matches!(
        map_type,
        4 | 8 | 7 | 12 | 13 | 14 | 25 | 16 | 17 | 15 | 18 | 22 | 23
    )
}

/// libbpf's adjustment at open: ring buffer sizes rounded up to a
/// power-of-two number of pages (inner map templates included).
pub fn adjust_sizes(m: &mut MapDef) {
    if matches!(m.map_type, RINGBUF | USER_RINGBUF) {
        m.max_entries = ringbuf_size(m.max_entries);
    }
    if let Some(inner) = m.inner.as_mut() {
        adjust_sizes(inner);
    }
}

/// libbpf's defaults at `BPF_MAP_CREATE` time: a PERF_EVENT_ARRAY without
/// max_entries gets the number of possible CPUs (inner map templates
/// included). Reads /sys/devices/system/cpu/possible only when needed.
pub fn create_defaults(m: &mut MapDef) -> Result<()> {
    if m.map_type == PERF_EVENT_ARRAY && m.max_entries == 0 {
        m.max_entries = possible_cpus()?;
    }
    if let Some(inner) = m.inner.as_mut() {
        create_defaults(inner)?;
    }
    Ok(())
}

/// True when libbpf makes a global data map mmapable
/// (`map_is_mmapable()`): its DATASEC holds at least one global variable
/// (not static, not hidden).
fn mmapable(btf: Option<&Btf<'_>>, ds: TypeId) -> bool {
    let Some(btf) = btf else { return false };
    let Ok(t) = btf.get(ds) else { return false };
    if ds.0 == 0 || t.kind() != Kind::Datasec {
        return false;
    }
    t.datasec_vars().any(|v| {
        btf.get(v.ty)
            .is_ok_and(|var| var.var_linkage().is_some_and(|l| l != VarLinkage::Static))
    })
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
    // libbpf 1.0+ refuses legacy `struct bpf_map_def` definitions.
    if let Some(sec) = obj
        .sections()
        .iter()
        .find(|s| s.kind == SectionKind::LegacyMaps)
    {
        return Err(Error::Section {
            index: sec.index,
            section: sec.name.clone(),
            why: "legacy map definitions in 'maps' section are not supported by libbpf v1.0+ (nor by btfx): use BTF-defined maps in '.maps'".into(),
        });
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
            adjust_sizes(&mut m);
            maps.push(m);
        }
    }
    // Global data.
    for sec in obj.sections() {
        if !sec.is_global_data() || sec.size == 0 {
            continue;
        }
        let mut m = MapDef::empty(
            &data_map_name(obj_name, &sec.name),
            MapOrigin::Data(sec.index),
        );
        m.kernel_name = internal_name(obj_name, &sec.name);
        m.sec_index = sec.index;
        m.map_type = ARRAY;
        m.key_size = 4;
        m.value_size =
            u32::try_from(sec.size).map_err(|_| map_err(&sec.name, "section too large"))?;
        m.max_entries = 1;
        if let Some(btf) = btf {
            if let Some(id) = btf.find_by_name_kind(&sec.name, Kind::Datasec) {
                m.btf_value = id;
            }
        }
        if mmapable(btf, m.btf_value) {
            m.map_flags = F_MMAPABLE;
        }
        if sec.kind == SectionKind::Rodata {
            m.map_flags |= F_RDONLY_PROG;
            m.freeze = true;
        }
        // A `.bss` image is zeros the file does not hold: its size is the
        // header's word. Past MAX_ZERO_IMAGE none is kept (a new ARRAY map
        // is zeroed by the kernel anyway, which refuses such a value size
        // with E2BIG), so a forged size cannot make the reader allocate.
        m.data = match sec.kind {
            SectionKind::Bss if m.value_size as usize > MAX_ZERO_IMAGE => None,
            SectionKind::Bss => Some(vec![0; m.value_size as usize]),
            _ => Some(sec.data.clone()),
        };
        maps.push(m);
    }
    if let Some((data, ds)) = kconfig {
        let mut m = MapDef::empty(&internal_name(obj_name, ".kconfig"), MapOrigin::Kconfig);
        m.kernel_name = m.name.clone();
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
    // struct_ops maps come last, as in libbpf.
    crate::struct_ops::collect(obj, btf, &mut maps)?;
    Ok(maps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_names_as_libbpf() {
        // Kernel names libbpf 1.1 gave (fixtures/oracle/load/corpus/*.maps).
        assert_eq!(internal_name("globals", ".data"), "globals.data");
        assert_eq!(internal_name("globals", ".rodata"), "globals.rodata");
        assert_eq!(internal_name("ext_kconfig", ".bss"), "ext_kcon.bss");
        assert_eq!(internal_name("ext_kconfig", ".kconfig"), "ext_kco.kconfig");
        assert_eq!(
            internal_name("xdp-dispatcher", ".rodata"),
            "xdp_disp.rodata"
        );
        assert_eq!(internal_name("globals", ".data.stats"), ".data.stats");
        assert_eq!(
            internal_name("globals", ".data.a_rather_long_section_name_1"),
            ".data.a_rather_"
        );
        assert_eq!(
            data_map_name("globals", ".data.a_rather_long_section_name_1"),
            ".data.a_rather_long_section_name_1"
        );
        assert_eq!(data_map_name("globals", ".rodata"), "globals.rodata");
        assert_eq!(kernel_name("m_percpu_cgroup_storage"), "m_percpu_cgroup");
    }

    #[test]
    fn sizes_as_libbpf() {
        assert_eq!(ringbuf_size(5000), 8192);
        assert_eq!(ringbuf_size(3 * 4096), 16384);
        assert_eq!(ringbuf_size(4096), 4096);
        assert_eq!(ringbuf_size(0), 4096);
        assert_eq!(ringbuf_size(u32::MAX), u32::MAX);
    }
}
