//! Opening an object: libbpf's `bpf_object__open`. Parses the ELF, its BTF
//! and `.BTF.ext`, and lists programs, maps, global variables and externs,
//! without touching the kernel. What it finds can then be configured
//! (`configure.rs`) before [`OpenObject::load`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use btf::{Btf, IntEncoding, Kind, TypeId};

use crate::maps::{self, MapDef, MapOrigin};
use crate::object::Object;
use crate::progtype;
use crate::sys::{AttachType, MapType, ProgramType};
use crate::{Error, Result};

/// A parsed target BTF that several loads can share (parse
/// `/sys/kernel/btf/vmlinux` once, load many objects against it).
pub type TargetBtf = Arc<Btf<'static>>;

/// Parses a target BTF from owned bytes (raw BTF or an ELF with `.BTF`)
/// for [`OpenObject::set_target_btf`].
pub fn parse_target(bytes: Vec<u8>) -> Result<TargetBtf> {
    let raw = if btf::is_elf(&bytes) {
        btf::btf_section(&bytes)?.into_owned()
    } else {
        bytes
    };
    Ok(Arc::new(Btf::parse(raw)?))
}

/// The largest global data section [`OpenObject::open`] takes (512 MiB).
pub const MAX_GLOBAL_DATA: u64 = 512 << 20;

/// How a global variable's value can be written, from its BTF type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarShape {
    /// An integer (or enum) of `size` bytes.
    Int {
        /// Size in bytes (1, 2, 4, 8 or 16).
        size: u32,
        /// Signed encoding.
        signed: bool,
    },
    /// `bool`.
    Bool,
    /// An array of `len` one-byte chars (a C string buffer).
    CharArray {
        /// Number of chars, NUL included.
        len: u32,
    },
    /// Anything else: set from bytes of its exact size.
    Other,
}

/// A variable of `.data*`, `.rodata*` or `.bss*` with its BTF type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalVar {
    /// Variable name.
    pub name: String,
    /// ELF section (`.rodata`, `.data.custom`, ...).
    pub section: String,
    /// Internal map holding it (libbpf's name, e.g. `obj.rodata`).
    pub map: String,
    /// Byte offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// BTF id of the variable's type (in the object's BTF).
    pub type_id: TypeId,
    /// How it can be set.
    pub shape: VarShape,
    /// `static` (not visible to other objects; libbpf's skeleton omits
    /// these, but their initial value can still be set).
    pub is_static: bool,
}

/// What an extern refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternKind {
    /// A `.kconfig` value (`CONFIG_*`, `LINUX_KERNEL_VERSION`...).
    Kconfig,
    /// A `__ksym` variable.
    Ksym,
    /// A kernel function (kfunc) called from BPF.
    Kfunc,
    /// An undefined symbol in neither section (libbpf refuses the object).
    Unknown,
}

/// An extern (undefined global symbol) of the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternInfo {
    /// Symbol name.
    pub name: String,
    /// What it refers to.
    pub kind: ExternKind,
    /// Declared `__weak`: missing is not an error.
    pub weak: bool,
}

/// Per-program configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ProgConfig {
    pub(crate) autoload: bool,
    pub(crate) prog_type: Option<ProgramType>,
    pub(crate) attach_type: Option<AttachType>,
    pub(crate) log_level: Option<u32>,
    pub(crate) log_size: Option<u32>,
}

/// Per-map configuration.
#[derive(Debug, Default)]
pub(crate) struct MapConfig {
    pub(crate) max_entries: Option<u32>,
    pub(crate) flags: Option<u32>,
    pub(crate) reuse: Option<std::os::fd::OwnedFd>,
}

/// A program as opened, with its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenProgram {
    /// Function name.
    pub name: String,
    /// Section name as libbpf gives it (the ELF name without the leading
    /// `?` of `SEC("?...")`).
    pub section: String,
    /// Program type (configured, else from the section name; `None` when
    /// the section name says nothing libbpf knows).
    pub prog_type: Option<ProgramType>,
    /// Expected attach type (configured, else from the section name).
    pub expected_attach_type: Option<AttachType>,
    /// Loaded by [`OpenObject::load`].
    pub autoload: bool,
}

/// A map as opened (`.kconfig` is added at load, once externs resolve).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenMap {
    /// Map name (libbpf's).
    pub name: String,
    /// Map type.
    pub map_type: MapType,
    /// Key size.
    pub key_size: u32,
    /// Value size.
    pub value_size: u32,
    /// `max_entries` (configured value when set).
    pub max_entries: u32,
    /// `map_flags` (configured value when set).
    pub map_flags: u32,
    /// A global data section's map (`.data`, `.rodata`, `.bss`...).
    pub internal: bool,
}

/// An opened object: parsed, listed, configurable, not in the kernel yet.
///
/// ```no_run
/// use loader::OpenObject;
/// let elf = std::fs::read("fixtures/bpf/maps_globals.bpf.o")?;
/// let mut obj = OpenObject::open(&elf, "maps_globals")?;
/// obj.set_global_int("cfg_target_tgid", 42)?;
/// obj.set_max_entries("lru", 128)?;
/// let loaded = obj.load()?;
/// for p in &loaded.programs {
///     println!("{}: {:?}", p.name, p.id());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OpenObject {
    pub(crate) obj: Object,
    pub(crate) name: String,
    pub(crate) maps: Vec<MapDef>,
    pub(crate) globals: Vec<GlobalVar>,
    pub(crate) externs: Vec<ExternInfo>,
    /// Initial images of global data maps, by map name.
    pub(crate) images: HashMap<String, Vec<u8>>,
    pub(crate) prog_cfg: Vec<ProgConfig>,
    pub(crate) map_cfg: HashMap<String, MapConfig>,
    pub(crate) log_level: u32,
    pub(crate) log_size: u32,
    pub(crate) target: Option<TargetBtf>,
    pub(crate) pin_root: PathBuf,
}

impl OpenObject {
    /// Opens `elf` as object `name` (libbpf's object name: internal maps
    /// are called `<first 8 bytes of name><section>`). No kernel access.
    ///
    /// Fails only on unreadable or damaged input (ELF, BTF, `.BTF.ext`,
    /// map definitions), with the file offset, section or type id.
    pub fn open(elf: &[u8], name: &str) -> Result<OpenObject> {
        let obj = Object::parse(elf)?;
        crate::progtype::check_programs(&obj)?;
        Self::from_object(obj, name)
    }

    /// [`OpenObject::open`] from an already parsed object.
    pub fn from_object(obj: Object, name: &str) -> Result<OpenObject> {
        // A `.bss` (NOBITS) section has no bytes in the file to bound its
        // size, and its map's initial image is allocated whole: refuse a
        // size no kernel accepts for a map value (KMALLOC_MAX_SIZE is 4 MiB
        // with 4 KiB pages, 512 MiB at most with 64 KiB pages) before
        // allocating it (found by fuzz/fuzz_targets/parse_object.rs).
        for sec in obj.sections() {
            if sec.is_global_data() && sec.size > MAX_GLOBAL_DATA {
                return Err(Error::Section {
                    index: sec.index,
                    section: sec.name.clone(),
                    why: format!(
                        "global data of {} bytes: larger than any map value a kernel accepts ({MAX_GLOBAL_DATA})",
                        sec.size
                    ),
                });
            }
        }
        let local = obj.btf().map(Btf::parse).transpose()?;
        if let (Some(b), Some(l)) = (obj.btf_ext(), local.as_ref()) {
            crate::load::parse_ext(&obj, b, l)?;
        }
        let maps = maps::collect(&obj, local.as_ref(), name, None)?;
        let globals = match &local {
            Some(btf) => globals(&obj, btf, &maps)?,
            None => Vec::new(),
        };
        let externs = externs(&obj, local.as_ref());
        let images = maps
            .iter()
            .filter(|m| matches!(m.origin, MapOrigin::Data(_)))
            .filter_map(|m| Some((m.name.clone(), m.data.clone()?)))
            .collect();
        // libbpf: `SEC("?name")` opens with autoload off.
        let prog_cfg = obj
            .programs()
            .iter()
            .map(|p| ProgConfig {
                autoload: !p.section_name.starts_with('?'),
                ..ProgConfig::default()
            })
            .collect();
        Ok(OpenObject {
            obj,
            name: name.to_string(),
            maps,
            globals,
            externs,
            images,
            prog_cfg,
            map_cfg: HashMap::new(),
            log_level: 0,
            log_size: 0,
            target: None,
            pin_root: PathBuf::from("/sys/fs/bpf"),
        })
    }

    /// The parsed ELF object.
    pub fn object(&self) -> &Object {
        &self.obj
    }

    /// The object name given to [`OpenObject::open`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every program, in libbpf's order, as configured so far.
    pub fn programs(&self) -> Vec<OpenProgram> {
        self.obj
            .programs()
            .iter()
            .zip(&self.prog_cfg)
            .map(|(p, c)| {
                let section = sec_name(&p.section_name);
                let spec = progtype::from_section(section);
                OpenProgram {
                    name: p.name.clone(),
                    section: section.to_string(),
                    prog_type: c
                        .prog_type
                        .or_else(|| spec.as_ref().map(|s| ProgramType::from_raw(s.prog_type))),
                    expected_attach_type: c.attach_type.or_else(|| {
                        spec.as_ref()
                            .map(|s| AttachType::from_raw(s.expected_attach_type))
                    }),
                    autoload: c.autoload,
                }
            })
            .collect()
    }

    /// Every map known at open (the `.kconfig` map is added at load), as
    /// configured so far.
    pub fn maps(&self) -> Vec<OpenMap> {
        self.maps
            .iter()
            .map(|m| {
                let c = self.map_cfg.get(&m.name);
                OpenMap {
                    name: m.name.clone(),
                    map_type: MapType::from_raw(m.map_type),
                    key_size: m.key_size,
                    value_size: m.value_size,
                    max_entries: c.and_then(|c| c.max_entries).unwrap_or(m.max_entries),
                    map_flags: c.and_then(|c| c.flags).unwrap_or(m.map_flags),
                    internal: matches!(m.origin, MapOrigin::Data(_) | MapOrigin::Kconfig),
                }
            })
            .collect()
    }

    /// Global variables of `.data*`, `.rodata*` and `.bss*`, with their
    /// BTF types (empty for an object without BTF).
    pub fn globals(&self) -> &[GlobalVar] {
        &self.globals
    }

    /// The global variable named `name`.
    pub fn global(&self, name: &str) -> Option<&GlobalVar> {
        self.globals.iter().find(|g| g.name == name)
    }

    /// Externs: `.kconfig` values, `__ksym` variables and kfuncs.
    pub fn externs(&self) -> &[ExternInfo] {
        &self.externs
    }

    /// The current initial image of a global data map (section bytes, as
    /// changed by the setters).
    pub fn initial_value(&self, map: &str) -> Option<&[u8]> {
        self.images.get(map).map(Vec::as_slice)
    }
}

/// libbpf's section name of a program: the ELF section name without the
/// `?` that only turns autoload off.
pub(crate) fn sec_name(elf_name: &str) -> &str {
    elf_name.strip_prefix('?').unwrap_or(elf_name)
}

/// Every variable of every global data section, located by its ELF symbol
/// (or its DATASEC entry) and typed by its BTF VAR.
fn globals(obj: &Object, btf: &Btf<'_>, maps: &[MapDef]) -> Result<Vec<GlobalVar>> {
    let mut out = Vec::new();
    for m in maps {
        let MapOrigin::Data(idx) = m.origin else {
            continue;
        };
        let Some(sec) = obj.section(idx) else {
            continue;
        };
        let Some(ds) = btf.find_by_name_kind(&sec.name, Kind::Datasec) else {
            continue;
        };
        for vs in btf.get(ds)?.datasec_vars() {
            let var = btf.get(vs.ty)?;
            if var.kind() != Kind::Var {
                continue;
            }
            let name = btf.name(var.name_off()).to_string();
            let sym = obj
                .symbols()
                .iter()
                .find(|s| s.section == Some(idx) && s.name == name);
            let offset = sym
                .and_then(|s| u32::try_from(s.value).ok())
                .unwrap_or(vs.offset);
            let ty = var.type_ref();
            let size = u32::try_from(btf.resolve_size(ty)?).unwrap_or(u32::MAX);
            if u64::from(offset) + u64::from(size) > sec.size {
                return Err(Error::Section {
                    index: idx,
                    section: sec.name.clone(),
                    why: format!(
                        "variable '{name}' (BTF id {}) at offset {offset} size {size} ends past the section's {} bytes",
                        vs.ty.0, sec.size
                    ),
                });
            }
            out.push(GlobalVar {
                name,
                section: sec.name.clone(),
                map: m.name.clone(),
                offset,
                size,
                type_id: ty,
                shape: shape(btf, ty)?,
                is_static: var.var_linkage() == Some(btf::VarLinkage::Static),
            });
        }
    }
    Ok(out)
}

fn shape(btf: &Btf<'_>, ty: TypeId) -> Result<VarShape> {
    let t = btf.skip_mods_and_typedefs(ty)?;
    Ok(match t.kind() {
        Kind::Int => match t.int().map(|i| i.encoding) {
            Some(IntEncoding::Bool) => VarShape::Bool,
            e => VarShape::Int {
                size: t.size(),
                signed: e == Some(IntEncoding::Signed),
            },
        },
        Kind::Enum | Kind::Enum64 => VarShape::Int {
            size: t.size(),
            signed: t.is_signed_enum(),
        },
        Kind::Array => {
            let Some(a) = t.array() else {
                return Ok(VarShape::Other);
            };
            let e = btf.skip_mods_and_typedefs(a.elem)?;
            if e.kind() == Kind::Int && e.size() == 1 {
                VarShape::CharArray { len: a.nelems }
            } else {
                VarShape::Other
            }
        }
        _ => VarShape::Other,
    })
}

/// Undefined global symbols, classified by the DATASEC that lists them.
fn externs(obj: &Object, btf: Option<&Btf<'_>>) -> Vec<ExternInfo> {
    let in_sec = |sec: &str, name: &str| -> Option<Kind> {
        let btf = btf?;
        let ds = btf.find_by_name_kind(sec, Kind::Datasec)?;
        btf.get(ds).ok()?.datasec_vars().find_map(|v| {
            let t = btf.get(v.ty).ok()?;
            (btf.name(t.name_off()) == name).then(|| t.kind())
        })
    };
    obj.symbols()
        .iter()
        .filter(|s| s.is_undefined() && s.is_global() && !s.name.is_empty())
        .map(|s| {
            let kind = if in_sec(".kconfig", &s.name).is_some() {
                ExternKind::Kconfig
            } else {
                match in_sec(".ksyms", &s.name) {
                    Some(Kind::Func) => ExternKind::Kfunc,
                    Some(_) => ExternKind::Ksym,
                    None => ExternKind::Unknown,
                }
            };
            ExternInfo {
                name: s.name.clone(),
                kind,
                weak: s.is_weak(),
            }
        })
        .collect()
}
