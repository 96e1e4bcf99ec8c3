//! Loading a whole object: BTF, maps, CO-RE, linking, `BPF_PROG_LOAD`.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use btf::{Btf, Endian, Kind, TypeId};

use crate::btffix::{self, BtfFeatures};
use crate::externs;
use crate::link::{self, Chunk, LinkCtx};
use crate::maps::{self, MapDef, ARRAY_OF_MAPS, HASH_OF_MAPS};
use crate::object::{Insn, Object, Program};
use crate::progtype;
use crate::sys;
use crate::{Error, Result};

/// How to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Target BTF for CO-RE (default: `/sys/kernel/btf/vmlinux`).
    pub target_btf: Option<Vec<u8>>,
    /// Load only these programs (all when empty).
    pub programs: Vec<String>,
    /// Pin programs and maps under this bpffs directory.
    pub pin: Option<PathBuf>,
    /// Object name for internal map names (default `obj`).
    pub obj_name: String,
    /// Where maps declared `pinning = LIBBPF_PIN_BY_NAME` are pinned and
    /// looked for (libbpf's `pin_root_path`; default `/sys/fs/bpf`).
    pub pin_root: Option<PathBuf>,
}

/// `LIBBPF_PIN_BY_NAME`.
const PIN_BY_NAME: u32 = 1;

/// A program the kernel accepted or refused.
#[derive(Debug)]
pub struct ProgResult {
    /// Program name.
    pub name: String,
    /// ELF section.
    pub section: String,
    /// Instructions submitted.
    pub insn_cnt: usize,
    /// Outcome.
    pub outcome: ProgOutcome,
}

/// What happened to a program.
#[derive(Debug)]
pub enum ProgOutcome {
    /// Loaded: kernel id and the program's fd (closed on drop).
    Loaded {
        /// Kernel program id.
        id: u32,
        /// The program.
        fd: OwnedFd,
    },
    /// Rejected by the kernel or before (attach target missing...).
    Rejected {
        /// errno (positive).
        errno: i32,
        /// Last lines of the verifier log, or the reason.
        log_tail: String,
        /// The poisoned CO-RE relocation the failure points at, if any.
        core: Option<String>,
    },
}

/// A created map.
#[derive(Debug)]
pub struct MapResult {
    /// Map name (libbpf's `bpf_map__name()`).
    pub name: String,
    /// The name the kernel holds (at most 15 bytes).
    pub kernel_name: String,
    /// `map_type`.
    pub map_type: u32,
    /// Kernel map id.
    pub id: u32,
    /// The map (closed on drop).
    pub fd: OwnedFd,
    /// Where it is pinned by name (`pinning = LIBBPF_PIN_BY_NAME`).
    pub pinned: Option<PathBuf>,
    /// A map already pinned there was reused instead of creating one.
    pub reused: bool,
}

/// A loaded object: everything stays alive until this is dropped.
#[derive(Debug)]
pub struct Loaded {
    /// Maps, in creation order.
    pub maps: Vec<MapResult>,
    /// Programs, in libbpf's order.
    pub programs: Vec<ProgResult>,
    /// The object's BTF in the kernel (if it loaded).
    pub btf_fd: Option<OwnedFd>,
    /// Why the kernel refused the object's BTF, when it did: like libbpf,
    /// the loader then goes on without it (programs load without
    /// func_info/line_info, maps without key/value types), and says so here.
    pub btf_error: Option<String>,
}

fn sys_err(cmd: &'static str, what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Syscall { cmd, what, source }
}

/// The plain-data program core-reloc works on (name, section, offset,
/// instructions) for an object's program or subprogram.
pub fn to_core(p: &Program) -> core_reloc::Program {
    core_reloc::Program {
        name: p.name.clone(),
        section: p.section_name.clone(),
        insn_off: p.insn_offset,
        insns: p
            .insns
            .iter()
            .map(|i| core_reloc::Insn {
                code: i.code,
                dst_reg: i.dst,
                src_reg: i.src,
                off: i.off,
                imm: i.imm,
            })
            .collect(),
    }
}

/// Parses an object's `.BTF.ext` against its BTF; errors name the section.
fn parse_ext(obj: &Object, bytes: &[u8], local: &Btf<'_>) -> Result<core_reloc::BtfExt> {
    core_reloc::BtfExt::parse(bytes, local).map_err(|e| Error::Section {
        index: obj.section_by_name(".BTF.ext").map_or(0, |s| s.index),
        section: ".BTF.ext".into(),
        why: e.to_string(),
    })
}

/// What CO-RE relocation needs from an object: its BTF, its `.BTF.ext`
/// and its programs, ready for [`core_reloc::relocate`].
pub struct CoreInputs<'a> {
    /// The object's `.BTF`.
    pub btf: Btf<'a>,
    /// The object's `.BTF.ext`.
    pub ext: core_reloc::BtfExt,
    /// Programs and subprograms, as [`core_programs`] gives them.
    pub programs: Vec<core_reloc::Program>,
}

/// Reads [`CoreInputs`] out of an object; an object without `.BTF` or
/// `.BTF.ext` has no CO-RE relocations to decide and is an error here.
pub fn core_inputs(obj: &Object) -> Result<CoreInputs<'_>> {
    let missing = |section: &str| Error::Elf {
        what: section.into(),
        why: format!("the object has no {section} section"),
    };
    let btf = Btf::parse(obj.btf().ok_or_else(|| missing(".BTF"))?)?;
    let ext = parse_ext(obj, obj.btf_ext().ok_or_else(|| missing(".BTF.ext"))?, &btf)?;
    Ok(CoreInputs {
        btf,
        ext,
        programs: core_programs(obj),
    })
}

/// Every program and `.text` subprogram of `obj` as core-reloc programs, in
/// the order libbpf relocates them: what `btfx reloc` and `btfx check` feed
/// to [`core_reloc::relocate`].
pub fn core_programs(obj: &crate::object::Object) -> Vec<core_reloc::Program> {
    obj.programs()
        .iter()
        .chain(obj.subprograms())
        .map(to_core)
        .collect()
}

fn from_core(p: &core_reloc::Program) -> Vec<Insn> {
    p.insns
        .iter()
        .map(|i| Insn {
            code: i.code,
            dst: i.dst_reg,
            src: i.src_reg,
            off: i.off,
            imm: i.imm,
        })
        .collect()
}

fn create_map(m: &MapDef, btf_fd: Option<&OwnedFd>) -> Result<OwnedFd> {
    let inner = match &m.inner {
        Some(inner) => Some(create_map(inner, btf_fd)?),
        None => None,
    };
    let use_btf = btf_fd.is_some()
        && (m.btf_key.0 != 0 || m.btf_value.0 != 0)
        && !maps::creates_without_btf(m.map_type);
    let mut a = sys::MapCreate {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        map_flags: m.map_flags,
        inner_map_fd: inner.as_ref(),
        numa_node: m.numa_node,
        name: &m.kernel_name,
        btf_fd: if use_btf { btf_fd } else { None },
        btf_key_type_id: m.btf_key.0,
        btf_value_type_id: m.btf_value.0,
        map_extra: m.map_extra,
    };
    match sys::map_create(&a) {
        Ok(fd) => Ok(fd),
        Err(_) if a.btf_fd.is_some() => {
            // libbpf retries without BTF when the kernel refuses the types.
            a.btf_fd = None;
            sys::map_create(&a).map_err(sys_err("BPF_MAP_CREATE", format!("map '{}'", m.name)))
        }
        Err(e) => Err(sys_err("BPF_MAP_CREATE", format!("map '{}'", m.name))(e)),
    }
}

/// The map pinned at `path`, if there is one and it matches `m` (libbpf's
/// `bpf_object__reuse_map`): `None` when nothing is pinned there, an error
/// when something else is.
fn reuse_pinned(m: &MapDef, path: &std::path::Path) -> Result<Option<OwnedFd>> {
    let fd = match sys::obj_get(path) {
        Ok(fd) => fd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(sys_err(
                "BPF_OBJ_GET",
                format!("map '{}' at {}", m.name, path.display()),
            )(e))
        }
    };
    let info = sys::map_info(&fd).map_err(sys_err(
        "BPF_OBJ_GET_INFO_BY_FD",
        format!("map pinned at {}", path.display()),
    ))?;
    let same = info.map_type == m.map_type
        && info.key_size == m.key_size
        && info.value_size == m.value_size
        && info.max_entries == m.max_entries
        && info.map_flags == m.map_flags
        && info.map_extra == m.map_extra;
    if !same {
        return Err(Error::Map {
            map: m.name.clone(),
            why: format!(
                "couldn't reuse pinned map at '{}': parameter mismatch",
                path.display()
            ),
        });
    }
    Ok(Some(fd))
}

/// Per-chunk func_info / line_info in machine byte order.
fn ext_infos(ext: Option<&core_reloc::BtfExt>, chunks: &[Chunk]) -> (Vec<u8>, Vec<u8>) {
    let (mut fi, mut li) = (Vec::new(), Vec::new());
    let Some(ext) = ext else { return (fi, li) };
    for c in chunks {
        let range = (c.sec_insn * 8) as u32..((c.sec_insn + c.len) * 8) as u32;
        let map = |off: u32| (c.start + (off as usize / 8 - c.sec_insn)) as u32;
        if let Some(s) = ext.func_info.iter().find(|s| s.name == c.section_name) {
            for r in s.records.iter().filter(|r| range.contains(&r.insn_off)) {
                fi.extend(map(r.insn_off).to_ne_bytes());
                fi.extend(r.type_id.0.to_ne_bytes());
            }
        }
        if let Some(s) = ext.line_info.iter().find(|s| s.name == c.section_name) {
            for r in s.records.iter().filter(|r| range.contains(&r.insn_off)) {
                li.extend(map(r.insn_off).to_ne_bytes());
                li.extend(r.file_name_off.0.to_ne_bytes());
                li.extend(r.line_off.0.to_ne_bytes());
                li.extend(r.line_col.to_ne_bytes());
            }
        }
    }
    (fi, li)
}

fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Loads `elf` into the running kernel.
pub fn load(elf: &[u8], opts: &LoadOptions) -> Result<Loaded> {
    let obj = Object::parse(elf)?;
    progtype::check_programs(&obj)?;
    if obj.endian() != Endian::NATIVE {
        return Err(Error::Elf {
            what: "ELF header".into(),
            why: "object byte order differs from this machine's; the kernel cannot run it".into(),
        });
    }
    for want in &opts.programs {
        if obj.program(want).is_none() {
            return Err(Error::Program {
                prog: want.clone(),
                section: String::new(),
                why: "no such program in the object".into(),
            });
        }
    }
    let local = obj.btf().map(Btf::parse).transpose()?;
    let ext = match (obj.btf_ext(), local.as_ref()) {
        (Some(b), Some(l)) => Some(parse_ext(&obj, b, l)?),
        _ => None,
    };
    let vmlinux_bytes = sys::FileBytes::open("/sys/kernel/btf/vmlinux").ok();
    let vmlinux = vmlinux_bytes.as_deref().map(Btf::parse).transpose()?;
    let mut externs = externs::collect(&obj, local.as_ref())?;
    if let Some(l) = local.as_ref() {
        externs::resolve_ksyms(&mut externs, l, vmlinux.as_ref(), || {
            std::fs::read_to_string("/proc/kallsyms").unwrap_or_default()
        })?;
    }

    // BTF for the kernel.
    let (btf_fd, btf_error) = match &local {
        Some(l) => {
            let fixed = btffix::fixup(&obj, l, &externs, BtfFeatures::probe())?;
            match sys::btf_load(&fixed) {
                Ok(fd) => (Some(fd), None),
                Err(e) => {
                    let last = e.log.lines().last().unwrap_or("").trim();
                    (None, Some(format!("BPF_BTF_LOAD: {} ({last})", e.error)))
                }
            }
        }
        None => (None, None),
    };

    // Maps.
    let kcfg =
        (!externs.kcfg.is_empty()).then(|| (externs.kcfg_data.clone(), externs.kcfg_datasec));
    let defs = maps::collect(&obj, local.as_ref(), &opts.obj_name, kcfg)?;
    let mut created: Vec<(MapDef, OwnedFd)> = Vec::new();
    // Per created map: its pin path (pinned by name) and whether it was reused.
    let mut pins: Vec<(Option<PathBuf>, bool)> = Vec::new();
    for m in defs {
        let pin_path = match m.pinning == PIN_BY_NAME {
            true => {
                pin_component(&m.name, "map")?;
                Some(
                    opts.pin_root
                        .clone()
                        .unwrap_or_else(|| PathBuf::from("/sys/fs/bpf"))
                        .join(&m.name),
                )
            }
            false => None,
        };
        // As libbpf: a map pinned at the path is reused when it has the
        // same type, sizes, max_entries, flags and map_extra; then it is
        // neither filled nor frozen nor pinned again.
        if let Some(path) = &pin_path {
            if let Some(fd) = reuse_pinned(&m, path)? {
                created.push((m, fd));
                pins.push((pin_path, true));
                continue;
            }
        }
        let fd = create_map(&m, btf_fd.as_ref())?;
        if let Some(data) = &m.data {
            sys::map_update(&fd, &0u32.to_ne_bytes(), data, 0).map_err(sys_err(
                "BPF_MAP_UPDATE_ELEM",
                format!("map '{}' initial value", m.name),
            ))?;
        }
        if m.freeze {
            sys::map_freeze(&fd).map_err(sys_err("BPF_MAP_FREEZE", format!("map '{}'", m.name)))?;
        }
        if let Some(path) = &pin_path {
            sys::obj_pin(&fd, path).map_err(sys_err(
                "BPF_OBJ_PIN",
                format!("map '{}' at {}", m.name, path.display()),
            ))?;
        }
        created.push((m, fd));
        pins.push((pin_path, false));
    }
    // Map-in-map initial slots (not in maps reused from a pin).
    for ((m, fd), _) in created.iter().zip(&pins).filter(|(_, p)| !p.1) {
        if m.map_type == ARRAY_OF_MAPS || m.map_type == HASH_OF_MAPS {
            for s in &m.init_slots {
                let inner = created
                    .iter()
                    .find(|(x, _)| x.name == s.target)
                    .ok_or_else(|| Error::Map {
                        map: m.name.clone(),
                        why: format!(
                            "slot {} refers to '{}', which is not a map",
                            s.index, s.target
                        ),
                    })?;
                use std::os::fd::AsRawFd;
                sys::map_update(
                    fd,
                    &s.index.to_ne_bytes(),
                    &(inner.1.as_raw_fd() as u32).to_ne_bytes(),
                    0,
                )
                .map_err(sys_err(
                    "BPF_MAP_UPDATE_ELEM",
                    format!("map '{}' slot {}", m.name, s.index),
                ))?;
            }
        }
    }

    // CO-RE.
    let selected: Vec<&Program> = obj
        .programs()
        .iter()
        .filter(|p| opts.programs.is_empty() || opts.programs.contains(&p.name))
        .collect();
    let mut funcs: HashMap<String, Program> = HashMap::new();
    let mut core_report = None;
    if let (Some(l), Some(x)) = (local.as_ref(), ext.as_ref()) {
        if x.core_relo_count() > 0 {
            let target_bytes = opts.target_btf.clone();
            let target = match &target_bytes {
                Some(b) => Some(Btf::parse_any(b, None)?),
                None => None,
            };
            let target = match (target.as_ref(), vmlinux.as_ref()) {
                (Some(t), _) | (None, Some(t)) => t,
                _ => {
                    return Err(Error::Io {
                        path: "/sys/kernel/btf/vmlinux".into(),
                        source: std::io::Error::from(std::io::ErrorKind::NotFound),
                    })
                }
            };
            let mut cps: Vec<core_reloc::Program> = selected
                .iter()
                .map(|p| to_core(p))
                .chain(obj.subprograms().iter().map(to_core))
                .collect();
            let report = core_reloc::relocate(l, x, &mut cps, core_reloc::Target::new(target));
            for (cp, p) in cps
                .iter()
                .zip(selected.iter().copied().chain(obj.subprograms().iter()))
            {
                let mut q = p.clone();
                q.insns = from_core(cp);
                funcs.insert(q.name.clone(), q);
            }
            core_report = Some(report);
        }
    }
    let core_fail = core_report
        .as_ref()
        .and_then(|r| r.failure.as_ref())
        .map(|e| e.to_string());

    let license: Vec<u8> = obj
        .license()
        .unwrap_or("")
        .bytes()
        .chain(std::iter::once(0))
        .collect();
    let cx = LinkCtx {
        obj: &obj,
        funcs: &funcs,
        maps: &created,
        externs: &externs,
        vmlinux: vmlinux.as_ref(),
    };
    let mut programs = Vec::new();
    for p in selected {
        let reject = |errno: i32, why: String| ProgOutcome::Rejected {
            errno,
            log_tail: why,
            core: None,
        };
        if let Some(f) = &core_fail {
            programs.push(ProgResult {
                name: p.name.clone(),
                section: p.section_name.clone(),
                insn_cnt: 0,
                outcome: reject(libc::ESRCH, format!("CO-RE relocation failed: {f}")),
            });
            continue;
        }
        let Some(spec) = progtype::from_section(&p.section_name) else {
            programs.push(ProgResult {
                name: p.name.clone(),
                section: p.section_name.clone(),
                insn_cnt: 0,
                outcome: reject(
                    libc::EINVAL,
                    format!(
                        "missing BPF prog type, check ELF section name '{}'",
                        p.section_name
                    ),
                ),
            });
            continue;
        };
        if let Some((errno, why)) = spec.refusal() {
            programs.push(ProgResult {
                name: p.name.clone(),
                section: p.section_name.clone(),
                insn_cnt: 0,
                outcome: reject(errno, why),
            });
            continue;
        }
        let mut attach_btf_id = 0;
        if let Some((name, typedef)) = spec.attach.btf_name() {
            let kind = if typedef { Kind::Typedef } else { Kind::Func };
            match vmlinux
                .as_ref()
                .and_then(|v| v.find_by_name_kind(&name, kind))
            {
                Some(TypeId(id)) => attach_btf_id = id,
                None => {
                    programs.push(ProgResult {
                        name: p.name.clone(),
                        section: p.section_name.clone(),
                        insn_cnt: 0,
                        outcome: reject(
                            libc::ESRCH,
                            format!("attach target '{name}' not found in vmlinux BTF"),
                        ),
                    });
                    continue;
                }
            }
        }
        let linked = link::link(&cx, p)?;
        let code = Insn::encode_all(&linked.insns, Endian::NATIVE);
        let (fi, li) = if btf_fd.is_some() {
            ext_infos(ext.as_ref(), &linked.chunks)
        } else {
            (Vec::new(), Vec::new())
        };
        let args = sys::ProgLoad {
            prog_type: spec.prog_type,
            expected_attach_type: spec.expected_attach_type,
            insns: &code,
            license: &license,
            kern_version: obj.kern_version().unwrap_or(0),
            prog_flags: spec.prog_flags,
            name: &p.name,
            btf_fd: btf_fd.as_ref(),
            func_info: &fi,
            line_info: &li,
            attach_btf_id,
            attach_btf_obj_fd: 0,
        };
        let outcome = match sys::prog_load(&args) {
            Ok(fd) => {
                let (id, _) = sys::prog_info(&fd).map_err(sys_err(
                    "BPF_OBJ_GET_INFO_BY_FD",
                    format!("program '{}'", p.name),
                ))?;
                ProgOutcome::Loaded { id, fd }
            }
            Err(e) => {
                let core = core_report
                    .as_ref()
                    .and_then(|r| poisoned(r, &linked.chunks, &e.log));
                ProgOutcome::Rejected {
                    errno: e.error.raw_os_error().unwrap_or(0),
                    log_tail: tail(&e.log, 8),
                    core,
                }
            }
        };
        programs.push(ProgResult {
            name: p.name.clone(),
            section: p.section_name.clone(),
            insn_cnt: linked.insns.len(),
            outcome,
        });
    }

    maps::init_prog_array_slots(&created, |name| {
        programs.iter().find_map(|p| match &p.outcome {
            ProgOutcome::Loaded { fd, .. } if p.name == name => Some(fd),
            _ => None,
        })
    })?;
    let maps = created
        .into_iter()
        .zip(pins)
        .map(|((m, fd), (pinned, reused))| {
            let id = sys::map_id(&fd).unwrap_or(0);
            MapResult {
                name: m.name,
                kernel_name: m.kernel_name,
                map_type: m.map_type,
                id,
                fd,
                pinned,
                reused,
            }
        })
        .collect();
    let loaded = Loaded {
        maps,
        programs,
        btf_fd,
        btf_error,
    };
    if let Some(dir) = &opts.pin {
        pin(&loaded, dir)?;
    }
    Ok(loaded)
}

/// The poisoned CO-RE relocation a verifier failure points at.
fn poisoned(r: &core_reloc::Report, chunks: &[Chunk], log: &str) -> Option<String> {
    let mut best = None;
    for rec in r
        .records
        .iter()
        .filter(|x| x.outcome == core_reloc::Outcome::Poisoned)
    {
        let Some(c) = chunks.iter().find(|c| c.name == rec.program) else {
            continue;
        };
        let idx = c.start + rec.insn;
        let desc = format!(
            "insn #{idx}: CO-RE relo #{} of section '{}' ({} {} {}) was poisoned",
            rec.index,
            rec.section,
            core_reloc::kind_str(rec.kind),
            rec.local_type_name,
            rec.access
        );
        if log.contains(&format!("\n{idx}: ")) || log.starts_with(&format!("{idx}: ")) {
            return Some(desc);
        }
        best.get_or_insert(desc);
    }
    best
}

fn pin(l: &Loaded, dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for p in &l.programs {
        if let ProgOutcome::Loaded { fd, .. } = &p.outcome {
            pin_component(&p.name, "program")?;
            sys::obj_pin(fd, &dir.join(pin_name(&p.name)))
                .map_err(sys_err("BPF_OBJ_PIN", format!("program '{}'", p.name)))?;
        }
    }
    for m in &l.maps {
        pin_component(&m.name, "map")?;
        sys::obj_pin(&m.fd, &dir.join(pin_name(&m.name)))
            .map_err(sys_err("BPF_OBJ_PIN", format!("map '{}'", m.name)))?;
    }
    Ok(())
}

/// Refuses a name (from the object) that would not stay one file name
/// under the pin directory.
fn pin_component(name: &str, what: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::Map {
            map: name.to_string(),
            why: format!("{what} name cannot be pinned as a file name under the pin directory"),
        });
    }
    Ok(())
}

/// The file name an object is pinned under: bpffs refuses '.' in names, so
/// libbpf (and bpftool) turn it into '_' (`maps_glo.rodata` ->
/// `maps_glo_rodata`).
pub fn pin_name(name: &str) -> String {
    name.replace('.', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_names_stay_one_file_name() {
        for bad in ["", ".", "..", "../etc", "a/b", "/abs"] {
            assert!(pin_component(bad, "map").is_err(), "{bad:?}");
        }
        for good in ["btfx_pinned", "maps_glo.rodata", "..x", "a.b.c"] {
            assert!(pin_component(good, "map").is_ok(), "{good:?}");
        }
        assert_eq!(pin_name("maps_glo.rodata"), "maps_glo_rodata");
    }
}
