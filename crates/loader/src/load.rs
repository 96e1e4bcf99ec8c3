//! Loading an opened object (libbpf's `bpf_object__load`): externs, BTF,
//! maps, CO-RE, linking, `BPF_PROG_LOAD`, with every program's and map's
//! outcome reported.
//!
//! What a failure does to the rest follows libbpf 1.1, whose per-program
//! unit is "load this program with every other one's autoload off":
//!
//! * a strong extern that does not resolve, or a map the kernel refuses,
//!   fails `bpf_object__load` before any program is loaded, whichever
//!   programs are selected (libbpf resolves every extern and creates every
//!   map of the object). So here every selected program is reported as not
//!   loaded, with that stage ([`Stage::Extern`], [`Stage::Map`]), its errno
//!   and the reason naming the extern or map; every map is still attempted
//!   and reported, and none of the programs is loaded.
//! * the kernel refusing the object's BTF: libbpf goes on without it, and
//!   so does this ([`LoadedObject::btf_error`]).
//! * a CO-RE relocation that fails (rather than poisons) fails the
//!   programs whose relocations fail when each is relocated alone; the
//!   others load. No target BTF at all fails every program ([`Stage::CoRe`]).
//! * an unknown section name (EINVAL, [`Stage::Open`]), a missing attach
//!   target (ESRCH, [`Stage::AttachTarget`]) and the verifier are per program.
//! * a PROG_ARRAY `.values` slot naming a program that did not load
//!   (refused, or autoload off) fails the object after the programs load:
//!   libbpf 1.1 then unloads them all (EBADF, [`Stage::Map`]), so the
//!   programs that had loaded are reported failed with that reason.
//!
//! libbpf then stops at the first program the kernel refuses and unloads
//! the rest; this loader goes on with the others, which is what loading
//! each alone gives (the recorded oracles in `fixtures/oracle/load/`).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

use btf::{Btf, Endian};

use crate::btffix::{self, BtfFeatures};
use crate::externs::{self, Externs};
use crate::link::{self, LinkCtx};
use crate::loaded::{Failure, LoadedObject, MapOutcome, MapResult, ProgOutcome, ProgResult, Stage};
use crate::maps::{self, MapDef, ARRAY_OF_MAPS, HASH_OF_MAPS, PROG_ARRAY};
use crate::object::{Insn, Object, Program};
use crate::open::OpenObject;
use crate::pin::pin_component;
pub use crate::pin::pin_name;
use crate::progload::{ext_infos, poisoned, tail};
use crate::progtype;
use crate::struct_ops;
use crate::sys::{self, AttachType, MapType, ProgramType};
use crate::{Error, Result};

/// How to load, for the one-call [`load`].
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Target BTF for CO-RE (default: `/sys/kernel/btf/vmlinux`).
    pub target_btf: Option<Vec<u8>>,
    /// Load only these programs (all when empty); the others are reported
    /// as skipped.
    pub programs: Vec<String>,
    /// Pin programs and maps under this bpffs directory when every selected
    /// program loaded; when one did not, nothing is pinned there (and, as
    /// after every failed load, the by-name pins this load made are removed
    /// again).
    pub pin: Option<PathBuf>,
    /// Object name for internal map names (default `obj`).
    pub obj_name: String,
    /// Where maps declared `pinning = LIBBPF_PIN_BY_NAME` are pinned and
    /// looked for (libbpf's `pin_root_path`; default `/sys/fs/bpf`).
    pub pin_root: Option<PathBuf>,
}

/// `LIBBPF_PIN_BY_NAME`.
const PIN_BY_NAME: u32 = 1;

fn sys_err(cmd: &'static str, what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Syscall { cmd, what, source }
}

fn fail(stage: Stage, errno: i32, reason: impl Into<String>) -> Failure {
    Failure {
        stage,
        errno,
        reason: reason.into(),
        log_tail: String::new(),
        core: None,
    }
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EINVAL)
}

pub use bpf_object::{core_inputs, core_programs, to_core, CoreInputs};

/// Parses an object's `.BTF.ext` against its BTF; errors name the section.
pub(crate) fn parse_ext(obj: &Object, bytes: &[u8], local: &Btf<'_>) -> Result<core_reloc::BtfExt> {
    Ok(obj.parse_ext(bytes, local)?)
}

/// Loads `elf` into the running kernel in one call: open, configure from
/// `opts`, load, and pin when asked ([`LoadOptions::pin`]).
///
/// `Err` only for unreadable or damaged input and for naming a program the
/// object lacks; everything the kernel or a target refuses is in the
/// per-program and per-map outcomes.
pub fn load(elf: &[u8], opts: &LoadOptions) -> Result<LoadedObject> {
    let name = if opts.obj_name.is_empty() {
        "obj"
    } else {
        &opts.obj_name
    };
    let mut open = OpenObject::open(elf, name)?;
    if !opts.programs.is_empty() {
        open.only(&opts.programs)?;
    }
    if let Some(t) = &opts.target_btf {
        open.set_target_btf(crate::open::parse_target(t.clone())?);
    }
    if let Some(root) = &opts.pin_root {
        open.set_pin_root(root);
    }
    let mut loaded = open.load()?;
    if let Some(dir) = &opts.pin {
        if loaded.all_loaded() {
            if let Err(e) = loaded.pin_all(dir) {
                loaded.pin_error = Some(e.to_string());
                loaded.unpin();
            }
        }
    }
    Ok(loaded)
}

/// A map to create, after configuration.
struct Planned {
    def: MapDef,
    reuse: Option<OwnedFd>,
    pin_path: Option<PathBuf>,
}

impl OpenObject {
    /// Loads the object into the running kernel (libbpf's
    /// `bpf_object__load`); see the module documentation for what each
    /// failure does to the rest.
    ///
    /// `Err` only for damaged input (and an object in the other byte
    /// order, which the kernel cannot run); every refusal by the kernel or
    /// a target is an outcome in the returned [`LoadedObject`].
    pub fn load(mut self) -> Result<LoadedObject> {
        let obj = &self.obj;
        if obj.endian() != Endian::NATIVE {
            return Err(Error::Elf {
                what: "ELF header".into(),
                why: "object byte order differs from this machine's; the kernel cannot run it"
                    .into(),
            });
        }
        let local = obj.btf().map(Btf::parse).transpose()?;
        let ext = match (obj.btf_ext(), local.as_ref()) {
            (Some(b), Some(l)) => Some(parse_ext(obj, b, l)?),
            _ => None,
        };
        let vmlinux_bytes = sys::FileBytes::open("/sys/kernel/btf/vmlinux").ok();
        let vmlinux = vmlinux_bytes.as_deref().map(Btf::parse).transpose()?;

        let mut object_failure: Option<Failure> = None;
        let mut externs = match externs::collect(obj, local.as_ref()) {
            Ok(x) => x,
            Err(e) => {
                object_failure = Some(fail(Stage::Extern, libc::ESRCH, e.to_string()));
                Externs::default()
            }
        };
        if let (Some(l), None) = (local.as_ref(), &object_failure) {
            // A missing strong __ksym, a kfunc of another prototype: EINVAL.
            if let Err(e) = externs::resolve_running(&mut externs, l, vmlinux.as_ref()) {
                object_failure = Some(fail(Stage::Extern, libc::EINVAL, e.to_string()));
            }
        }

        // BTF for the kernel.
        let (btf_fd, btf_error) = match (&local, &object_failure) {
            (Some(l), None) => {
                let fixed = btffix::fixup(obj, l, &externs, BtfFeatures::probe())?;
                match sys::btf_load(&fixed) {
                    Ok(fd) => (Some(fd), None),
                    Err(e) => {
                        let last = e.log.lines().last().unwrap_or("").trim();
                        (None, Some(format!("BPF_BTF_LOAD: {} ({last})", e.error)))
                    }
                }
            }
            _ => (None, None),
        };

        // Maps, as configured.
        let kcfg =
            (!externs.kcfg.is_empty()).then(|| (externs.kcfg_data.clone(), externs.kcfg_datasec));
        let mut defs = maps::collect(obj, local.as_ref(), &self.name, kcfg)?;
        let st_attach = struct_ops::resolve_maps(&mut defs, local.as_ref(), vmlinux.as_ref())
            .unwrap_or_else(|e| {
                object_failure.get_or_insert(fail(Stage::Map, libc::ENOTSUP, e.to_string()));
                HashMap::new()
            });
        let mut planned = Vec::with_capacity(defs.len());
        for mut def in defs {
            if let Err(e) = maps::create_defaults(&mut def) {
                object_failure.get_or_insert(fail(Stage::Map, libc::EINVAL, e.to_string()));
            }
            if let Some(image) = self.images.get(&def.name) {
                def.data = Some(image.clone());
            }
            let mut reuse = None;
            if let Some(c) = self.map_cfg.get_mut(&def.name) {
                if let Some(n) = c.max_entries {
                    def.max_entries = n;
                }
                if let Some(f) = c.flags {
                    def.map_flags = f;
                }
                reuse = c.reuse.take();
            }
            let pin_path = if def.pinning == PIN_BY_NAME {
                pin_component(&def.name, "map")?;
                Some(self.pin_root.join(&def.name))
            } else {
                None
            };
            planned.push(Planned {
                def,
                reuse,
                pin_path,
            });
        }
        let mut maps_out: Vec<MapResult> = Vec::with_capacity(planned.len());
        let mut created: Vec<(MapDef, OwnedFd)> = Vec::new();
        let mut pinned: Vec<PathBuf> = Vec::new();
        for p in planned {
            let outcome = match &object_failure {
                Some(f) => MapOutcome::Failed(Failure {
                    reason: format!("not created: {}", f.reason),
                    ..f.clone()
                }),
                None => make_map(&p, btf_fd.as_ref(), &mut pinned),
            };
            let result = MapResult {
                name: p.def.name.clone(),
                kernel_name: p.def.kernel_name.clone(),
                map_type: MapType::from_raw(p.def.map_type),
                max_entries: p.def.max_entries,
                pinned: p.pin_path.clone(),
                outcome,
            };
            maps_out.push(result);
            // `created` keeps its own fd for linking.
            if let Some(fd) = maps_out.last().and_then(|m| m.fd()) {
                if let Ok(dup) = fd.try_clone() {
                    created.push((p.def, dup));
                }
            }
        }
        if object_failure.is_none() {
            object_failure = maps_out.iter().find_map(|m| match &m.outcome {
                MapOutcome::Failed(f) => Some(Failure {
                    reason: format!("map '{}': {}", m.name, f.reason),
                    ..f.clone()
                }),
                _ => None,
            });
        }
        if object_failure.is_none() {
            if let Err(f) = fill_map_slots(&created, &maps_out) {
                object_failure = Some(f);
            }
        }

        // Which programs, and their configured types.
        let selected: Vec<usize> = (0..obj.programs().len())
            .filter(|&i| self.prog_cfg.get(i).is_some_and(|c| c.autoload))
            .collect();

        // CO-RE.
        let mut core_fail: HashMap<String, Failure> = HashMap::new();
        let mut funcs: HashMap<String, Program> = HashMap::new();
        let mut core_report = None;
        if let (Some(l), Some(x), None) = (local.as_ref(), ext.as_ref(), &object_failure) {
            if x.core_relo_count() > 0 {
                let target: Option<&Btf<'_>> = match &self.target {
                    Some(t) => Some(t),
                    None => vmlinux.as_ref(),
                };
                // Module BTFs are candidates only against the running
                // kernel's own BTF, after vmlinux, as libbpf (never with a
                // target given: libbpf's btf_custom_path).
                let modules = match (&self.target, vmlinux_bytes.as_deref()) {
                    (None, Some(v)) => progtype::running_modules(v),
                    _ => Vec::new(),
                };
                match target {
                    None => {
                        for &i in &selected {
                            if let Some(p) = obj.programs().get(i) {
                                core_fail.insert(
                                    p.name.clone(),
                                    fail(
                                        Stage::CoRe,
                                        libc::ESRCH,
                                        "no target BTF: /sys/kernel/btf/vmlinux is missing and none was given",
                                    ),
                                );
                            }
                        }
                    }
                    Some(t) => {
                        let progs: Vec<&Program> = selected
                            .iter()
                            .filter_map(|&i| obj.programs().get(i))
                            .collect();
                        let report =
                            relocate_into(l, x, t, &modules, &progs, obj.subprograms(), &mut funcs);
                        if let Some(f) = &report.failure {
                            // Each alone, as libbpf with the others' autoload off.
                            funcs.clear();
                            let whole = f.to_string();
                            for p in &progs {
                                let r = relocate_into(
                                    l,
                                    x,
                                    t,
                                    &modules,
                                    &[p],
                                    obj.subprograms(),
                                    &mut funcs,
                                );
                                if let Some(e) = r.failure {
                                    core_fail.insert(
                                        p.name.clone(),
                                        fail(
                                            Stage::CoRe,
                                            libc::ESRCH,
                                            format!("CO-RE relocation failed: {e}"),
                                        ),
                                    );
                                }
                            }
                            if core_fail.is_empty() {
                                // A subprogram's relocation failed with every program.
                                for p in &progs {
                                    core_fail.insert(
                                        p.name.clone(),
                                        fail(
                                            Stage::CoRe,
                                            libc::ESRCH,
                                            format!("CO-RE relocation failed: {whole}"),
                                        ),
                                    );
                                }
                            }
                        }
                        core_report = Some(report);
                    }
                }
            }
        }

        let license: Vec<u8> = obj
            .license()
            .unwrap_or("")
            .bytes()
            .chain(std::iter::once(0))
            .collect();
        let cx = LinkCtx {
            obj,
            funcs: &funcs,
            maps: &created,
            externs: &externs,
            vmlinux: vmlinux.as_ref(),
        };
        let mut programs = Vec::with_capacity(obj.programs().len());
        for (i, p) in obj.programs().iter().enumerate() {
            let cfg = self.prog_cfg.get(i).cloned().unwrap_or_default();
            let section = crate::open::sec_name(&p.section_name);
            let spec = progtype::from_section(section);
            let prog_type = cfg
                .prog_type
                .or_else(|| spec.as_ref().map(|s| ProgramType::from_raw(s.prog_type)));
            let attach_type = cfg.attach_type.or_else(|| {
                spec.as_ref()
                    .map(|s| AttachType::from_raw(s.expected_attach_type))
            });
            let mut r = ProgResult {
                name: p.name.clone(),
                section: section.to_string(),
                prog_type,
                expected_attach_type: attach_type,
                insns: Vec::new(),
                log: None,
                outcome: ProgOutcome::Skipped,
            };
            if !cfg.autoload {
                programs.push(r);
                continue;
            }
            let level = cfg.log_level.unwrap_or(self.log_level);
            let size = cfg.log_size.unwrap_or(self.log_size);
            r.outcome = ProgOutcome::Failed(match (&object_failure, core_fail.remove(&p.name)) {
                (Some(f), _) => f.clone(),
                (None, Some(f)) => f,
                (None, None) => {
                    let Some(prog_type) = prog_type else {
                        r.outcome = ProgOutcome::Failed(fail(
                            Stage::Open,
                            libc::EINVAL,
                            format!("missing BPF prog type, check ELF section name '{section}'"),
                        ));
                        programs.push(r);
                        continue;
                    };
                    if let Some((errno, why)) = spec.as_ref().and_then(|s| s.refusal()) {
                        r.outcome = ProgOutcome::Failed(fail(Stage::AttachTarget, errno, why));
                        programs.push(r);
                        continue;
                    }
                    let mut attach_btf_id = 0;
                    let mut attach_type = attach_type;
                    if let Some(&(id, member)) = st_attach.get(&p.name) {
                        attach_btf_id = id;
                        attach_type = Some(AttachType::from_raw(member));
                        r.expected_attach_type = attach_type;
                    }
                    // vmlinux, then module BTFs (`module:func` too), as libbpf.
                    let mut module_fd = None;
                    if let Some(s) = spec.as_ref().filter(|s| s.attach.btf_name().is_some()) {
                        let mods = || {
                            progtype::running_modules(vmlinux_bytes.as_deref().unwrap_or_default())
                        };
                        let found = progtype::find_attach_target(&s.attach, vmlinux.as_ref(), mods)
                            .and_then(|(t, m)| match m {
                                None => Ok((t.id.0, None)),
                                Some(m) => progtype::module_btf_fd(&m)
                                    .map(|fd| (t.id.0, Some(fd)))
                                    .map_err(|e| (libc::ESRCH, format!("module '{m}': {e}"))),
                            });
                        match found {
                            Ok((id, fd)) => (attach_btf_id, module_fd) = (id, fd),
                            Err((errno, why)) => {
                                let why = format!("attach target: {why}");
                                r.outcome =
                                    ProgOutcome::Failed(fail(Stage::AttachTarget, errno, why));
                                programs.push(r);
                                continue;
                            }
                        }
                    }
                    let linked = match link::link(&cx, p) {
                        Ok(l) => l,
                        Err(e) => {
                            r.outcome =
                                ProgOutcome::Failed(fail(Stage::Link, libc::EINVAL, e.to_string()));
                            programs.push(r);
                            continue;
                        }
                    };
                    let code = Insn::encode_all(&linked.insns, Endian::NATIVE);
                    let (fi, li) = if btf_fd.is_some() {
                        ext_infos(ext.as_ref(), &linked.chunks)
                    } else {
                        (Vec::new(), Vec::new())
                    };
                    let args = sys::ProgLoad {
                        prog_type,
                        expected_attach_type: attach_type,
                        insns: &code,
                        license: &license,
                        kern_version: obj.kern_version().unwrap_or(0),
                        prog_flags: spec.as_ref().map_or(0, |s| s.prog_flags),
                        name: &p.name,
                        btf_fd: btf_fd.as_ref(),
                        func_info: &fi,
                        line_info: &li,
                        attach_btf_id,
                        attach_btf_obj_fd: module_fd.as_ref(),
                    };
                    r.insns = linked.insns.clone();
                    let res = if level > 0 {
                        sys::prog_load_logged(&args, level, size).map(|(fd, log)| {
                            r.log = Some(log);
                            fd
                        })
                    } else {
                        sys::prog_load(&args)
                    };
                    match res {
                        Ok(fd) => match sys::prog_info(&fd) {
                            Ok((id, _)) => {
                                r.outcome = ProgOutcome::Loaded { id, fd };
                                programs.push(r);
                                continue;
                            }
                            Err(e) => fail(
                                Stage::Verifier,
                                errno_of(&e),
                                format!("BPF_OBJ_GET_INFO_BY_FD of the loaded program: {e}"),
                            ),
                        },
                        Err(e) => {
                            if level > 0 {
                                r.log = Some(e.log.clone());
                            }
                            let core = core_report
                                .as_ref()
                                .and_then(|rep| poisoned(rep, &linked.chunks, &e.log));
                            // The verifier's last word, else the errno's text.
                            let reason = e
                                .log
                                .lines()
                                .rev()
                                .map(str::trim)
                                .find(|l| !l.is_empty() && !l.starts_with("processed "))
                                .map_or_else(|| e.error.to_string(), str::to_string);
                            Failure {
                                stage: Stage::Verifier,
                                errno: e.error.raw_os_error().unwrap_or(0),
                                reason,
                                log_tail: tail(&e.log, 8),
                                core,
                            }
                        }
                    }
                }
            });
            programs.push(r);
        }

        // PROG_ARRAY `.values` slots, once the programs are loaded. As in
        // libbpf 1.1, a slot whose program is not loaded (refused, or
        // autoload off) fails the whole object: the programs that did load
        // are unloaded and reported with that failure.
        if object_failure.is_none() {
            if let Err(f) = fill_prog_slots(&created, &maps_out, &programs) {
                for p in &mut programs {
                    if p.is_loaded() {
                        p.outcome = ProgOutcome::Failed(f.clone());
                    }
                }
                object_failure = Some(f);
            }
        }

        let mut loaded = LoadedObject {
            maps: maps_out,
            programs,
            btf_fd,
            btf_error,
            object_failure,
            core: core_report,
            pinned,
            pin_error: None,
        };
        // As libbpf after a failed load: maps this load pinned by name
        // (not reused ones) are unpinned again.
        if !loaded.all_loaded() {
            let gone = loaded.pinned.clone();
            loaded.unpin();
            for m in &mut loaded.maps {
                if m.pinned.as_ref().is_some_and(|p| gone.contains(p)) {
                    m.pinned = None;
                }
            }
        }
        Ok(loaded)
    }
}

/// Relocates `progs` (and every subprogram) against `target` (then
/// `modules`, split over it), storing the patched copies in `funcs` by name.
fn relocate_into(
    local: &Btf<'_>,
    ext: &core_reloc::BtfExt,
    target: &Btf<'_>,
    modules: &[(String, Btf<'static>)],
    progs: &[&Program],
    subs: &[Program],
    funcs: &mut HashMap<String, Program>,
) -> core_reloc::Report {
    let mut cps: Vec<core_reloc::Program> = progs
        .iter()
        .map(|p| to_core(p))
        .chain(subs.iter().map(to_core))
        .collect();
    let target = modules
        .iter()
        .fold(core_reloc::Target::new(target), |t, (name, btf)| {
            t.with_module(name.clone(), btf)
        });
    let report = core_reloc::relocate(local, ext, &mut cps, target);
    for (cp, p) in cps.iter().zip(progs.iter().copied().chain(subs.iter())) {
        let mut q = p.clone();
        q.insns = cp.insns.clone();
        funcs.insert(q.name.clone(), q);
    }
    report
}

/// Creates (or reuses) one map, fills and freezes it, pins it by name.
fn make_map(p: &Planned, btf_fd: Option<&OwnedFd>, pinned: &mut Vec<PathBuf>) -> MapOutcome {
    let m = &p.def;
    let failed = |e: Error| {
        let errno = match &e {
            Error::Syscall { source, .. } => errno_of(source),
            _ => libc::EINVAL,
        };
        MapOutcome::Failed(fail(Stage::Map, errno, e.to_string()))
    };
    if let Some(fd) = &p.reuse {
        return match fd.try_clone().and_then(|fd| Ok((sys::map_id(&fd)?, fd))) {
            Ok((id, fd)) => MapOutcome::Reused { id, fd },
            Err(e) => failed(sys_err(
                "BPF_OBJ_GET_INFO_BY_FD",
                format!("map '{}' reused fd", m.name),
            )(e)),
        };
    }
    // As libbpf: a map pinned at the path is reused when it has the
    // same type, sizes, max_entries, flags and map_extra; then it is
    // neither filled nor frozen nor pinned again.
    if let Some(path) = &p.pin_path {
        match reuse_pinned(m, path) {
            Ok(Some(fd)) => {
                return match sys::map_id(&fd) {
                    Ok(id) => MapOutcome::Reused { id, fd },
                    Err(e) => failed(sys_err(
                        "BPF_OBJ_GET_INFO_BY_FD",
                        format!("map '{}'", m.name),
                    )(e)),
                }
            }
            Ok(None) => {}
            Err(e) => return failed(e),
        }
    }
    let fd = match create_map(m, btf_fd) {
        Ok(fd) => fd,
        Err(e) => return failed(e),
    };
    if let Some(data) = &m.data {
        if let Err(e) = sys::map_update(&fd, &0u32.to_ne_bytes(), data, 0) {
            return failed(sys_err(
                "BPF_MAP_UPDATE_ELEM",
                format!("map '{}' initial value", m.name),
            )(e));
        }
    }
    if m.freeze {
        if let Err(e) = sys::map_freeze(&fd) {
            return failed(sys_err("BPF_MAP_FREEZE", format!("map '{}'", m.name))(e));
        }
    }
    if let Some(path) = &p.pin_path {
        if let Err(e) = sys::obj_pin(&fd, path) {
            return failed(sys_err(
                "BPF_OBJ_PIN",
                format!("map '{}' at {}", m.name, path.display()),
            )(e));
        }
        pinned.push(path.clone());
    }
    match sys::map_id(&fd) {
        Ok(id) => MapOutcome::Created { id, fd },
        Err(e) => failed(sys_err(
            "BPF_OBJ_GET_INFO_BY_FD",
            format!("map '{}'", m.name),
        )(e)),
    }
}

/// Map-in-map initial slots (not in maps reused from a pin or an fd).
fn fill_map_slots(created: &[(MapDef, OwnedFd)], results: &[MapResult]) -> Result<(), Failure> {
    for (m, fd) in created {
        let fresh = results
            .iter()
            .any(|r| r.name == m.name && matches!(r.outcome, MapOutcome::Created { .. }));
        if !fresh || !(m.map_type == ARRAY_OF_MAPS || m.map_type == HASH_OF_MAPS) {
            continue;
        }
        for s in &m.init_slots {
            let Some((_, inner)) = created.iter().find(|(x, _)| x.name == s.target) else {
                return Err(fail(
                    Stage::Map,
                    libc::EINVAL,
                    format!(
                        "map '{}': slot {} refers to '{}', which is not a map",
                        m.name, s.index, s.target
                    ),
                ));
            };
            let v = (inner.as_raw_fd() as u32).to_ne_bytes();
            sys::map_update(fd, &s.index.to_ne_bytes(), &v, 0).map_err(|e| {
                fail(
                    Stage::Map,
                    errno_of(&e),
                    format!(
                        "map '{}': failed to initialize slot [{}]: {e}",
                        m.name, s.index
                    ),
                )
            })?;
        }
    }
    Ok(())
}

/// PROG_ARRAY initial slots: each names a program of the object, written
/// once it is loaded (libbpf's `bpf_object_init_prog_arrays`).
fn fill_prog_slots(
    created: &[(MapDef, OwnedFd)],
    results: &[MapResult],
    programs: &[ProgResult],
) -> Result<(), Failure> {
    for (m, fd) in created {
        let fresh = results
            .iter()
            .any(|r| r.name == m.name && matches!(r.outcome, MapOutcome::Created { .. }));
        if !fresh || m.map_type != PROG_ARRAY {
            continue;
        }
        for s in &m.init_slots {
            // libbpf 1.1 writes the fd of a program that did not load (-2)
            // and fails with EBADF.
            let Some(pfd) = programs
                .iter()
                .find(|p| p.name == s.target)
                .and_then(|p| p.fd())
            else {
                return Err(fail(
                    Stage::Map,
                    libc::EBADF,
                    format!(
                        "map '{}': failed to initialize slot [{}] to prog '{}': the program is not loaded",
                        m.name, s.index, s.target
                    ),
                ));
            };
            let v = (pfd.as_raw_fd() as u32).to_ne_bytes();
            sys::map_update(fd, &s.index.to_ne_bytes(), &v, 0).map_err(|e| {
                fail(
                    Stage::Map,
                    errno_of(&e),
                    format!(
                        "map '{}': failed to initialize slot [{}] to prog '{}': {e}",
                        m.name, s.index, s.target
                    ),
                )
            })?;
        }
    }
    Ok(())
}

fn create_map(m: &MapDef, btf_fd: Option<&OwnedFd>) -> Result<OwnedFd> {
    let inner = match &m.inner {
        Some(inner) => Some(create_map(inner, btf_fd)?),
        None => None,
    };
    // The kernel wants the object's BTF with a struct_ops map too (its
    // value type is the kernel's, but the program's BTF must exist).
    let use_btf = btf_fd.is_some()
        && (m.btf_key.0 != 0 || m.btf_value.0 != 0 || m.btf_vmlinux_value_type_id != 0)
        && !maps::creates_without_btf(m.map_type);
    let mut a = sys::MapCreate {
        map_type: MapType::from_raw(m.map_type),
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
        btf_vmlinux_value_type_id: m.btf_vmlinux_value_type_id,
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
    let same = info.map_type.raw() == m.map_type
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
