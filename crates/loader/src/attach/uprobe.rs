//! uprobes and uretprobes (`uprobe/<binary>:<function>[+<offset>]`):
//! a perf event of the `uprobe` PMU (type from
//! `/sys/bus/event_source/devices/uprobe/type`, `config1` the binary's path,
//! `config2` the file offset, the retprobe bit from its `format/retprobe`)
//! and a `BPF_PERF_EVENT` link on it, as libbpf's
//! `bpf_program__attach_uprobe_opts`. A pid limits the probe to one process
//! (`perf_event_open(pid, cpu = -1)`); without one it fires in every process
//! (`pid = -1, cpu = 0`). Kernels without the PMU (before 4.17) get a
//! tracefs `uprobe_events` probe instead ([`super::probe_events`]).

use std::os::fd::BorrowedFd;
use std::path::Path;

use super::error::{AttachError, Result};
use super::tracepoint::attach_perf;
use super::{elfsym, Link, LinkKind};
use crate::sys;

/// Options of a uprobe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UprobeOpts {
    /// Fire on return instead of entry.
    pub retprobe: bool,
    /// Only in this process (all processes when `None`).
    pub pid: Option<i32>,
    /// File offset of a reference counter (USDT semaphore) the kernel
    /// increments while the probe is attached (0: none).
    pub ref_ctr_offset: u64,
    /// `bpf_get_attach_cookie()` value.
    pub cookie: u64,
    /// Use a tracefs `uprobe_events` probe instead of the uprobe PMU (what
    /// kernels before 4.17 need; also chosen when the PMU is missing).
    pub legacy_tracefs: bool,
}

/// A dynamic PMU's type and the bit of `config` that its `format/<field>`
/// names (`config:0`).
pub(crate) fn pmu(
    kind: LinkKind,
    target: &str,
    name: &str,
    field: &str,
) -> Result<(u32, Option<u32>)> {
    let dir = Path::new("/sys/bus/event_source/devices").join(name);
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| AttachError::Io {
            path: p.display().to_string(),
            source,
        })
    };
    let ty_path = dir.join("type");
    let ty = match read(&ty_path) {
        Ok(t) => t,
        Err(AttachError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(AttachError::Target {
                kind,
                target: target.to_string(),
                why: format!(
                    "this kernel has no {name} PMU ({} missing): it needs CONFIG_{}_EVENTS; btfx does not fall back to tracefs {name}_events",
                    ty_path.display(),
                    name.to_ascii_uppercase()
                ),
            })
        }
        Err(e) => return Err(e),
    };
    let ty: u32 = ty.trim().parse().map_err(|_| AttachError::Target {
        kind,
        target: target.to_string(),
        why: format!("{}: not a number", ty_path.display()),
    })?;
    let bit = read(&dir.join("format").join(field))
        .ok()
        .and_then(|s| s.trim().strip_prefix("config:")?.parse().ok());
    Ok((ty, bit))
}

/// Attaches a uprobe to `binary` (a path, or a name searched as libbpf
/// does) at function `func` plus `offset`, or at file offset `offset` when
/// `func` is `None`.
pub fn attach_uprobe(
    prog: BorrowedFd<'_>,
    binary: &str,
    func: Option<&str>,
    offset: u64,
    opts: &UprobeOpts,
) -> Result<Link> {
    let path = elfsym::resolve_binary(LinkKind::Uprobe, binary)?;
    let file_off = match func {
        Some(f) => elfsym::func_offset(&path, f)?
            .checked_add(offset)
            .ok_or_else(|| AttachError::Target {
                kind: LinkKind::Uprobe,
                target: format!("{binary}:{f}+{offset:#x}"),
                why: "offset overflows".into(),
            })?,
        None => offset,
    };
    let name = match func {
        Some(f) if offset != 0 => format!("{}:{f}+{offset:#x}", path.display()),
        Some(f) => format!("{}:{f}", path.display()),
        None => format!("{}:{offset:#x}", path.display()),
    };
    attach_uprobe_at(LinkKind::Uprobe, prog, &path, file_off, name, opts)
}

/// Attaches at file offset `file_off` of `path` (no symbol lookup).
pub(crate) fn attach_uprobe_at(
    kind: LinkKind,
    prog: BorrowedFd<'_>,
    path: &Path,
    file_off: u64,
    target: String,
    opts: &UprobeOpts,
) -> Result<Link> {
    let pmu_there = Path::new("/sys/bus/event_source/devices/uprobe/type").exists();
    if opts.legacy_tracefs || !pmu_there {
        return super::probe_events::attach_uprobe_tracefs(
            kind, prog, path, file_off, target, opts,
        );
    }
    let (ty, ret_bit) = pmu(kind, &target, "uprobe", "retprobe")?;
    let mut config = 0u64;
    if opts.retprobe {
        let bit = ret_bit.ok_or_else(|| AttachError::Target {
            kind,
            target: target.clone(),
            why: "the uprobe PMU has no format/retprobe: uretprobes unsupported".into(),
        })?;
        config |= 1u64 << (bit & 63);
    }
    // PERF_UPROBE_REF_CTR_OFFSET_SHIFT (format/ref_ctr_offset is config:32-63).
    if opts.ref_ctr_offset != 0 {
        if opts.ref_ctr_offset > u64::from(u32::MAX) {
            return Err(AttachError::Target {
                kind,
                target,
                why: "semaphore offset does not fit in 32 bits".into(),
            });
        }
        config |= opts.ref_ctr_offset << 32;
    }
    let ev = sys::PerfEvent {
        pmu_type: ty,
        config,
        config1_str: Some(path.to_string_lossy().into_owned()),
        config2: file_off,
        sample_period: 1,
        wakeup_events: 1,
        ..sys::PerfEvent::default()
    };
    let (pid, cpu) = match opts.pid {
        Some(p) => (p, -1),
        None => (-1, 0),
    };
    let perf = sys::perf_event_open(&ev, pid, cpu)
        .map_err(|e| AttachError::sys(kind, &*target, "perf_event_open", e))?;
    attach_perf(kind, target, prog, perf, opts.cookie)
}
