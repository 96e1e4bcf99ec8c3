//! kprobes, kretprobes, ksyscalls and kprobe.multi.
//!
//! A kprobe is a perf event of the `kprobe` PMU (`config1` the function's
//! name, `config2` the offset, the retprobe bit from `format/retprobe`)
//! with a `BPF_PERF_EVENT` link, as libbpf's `bpf_program__attach_kprobe_opts`.
//! `ksyscall/<name>` probes the syscall's entry function: `__x64_sys_<name>`
//! where the kernel has syscall wrappers (`/proc/kallsyms`), `sys_<name>`
//! otherwise. kprobe.multi is `BPF_LINK_CREATE` with `BPF_TRACE_KPROBE_MULTI`
//! and the functions matching its glob in tracefs
//! `available_filter_functions`.
//!
//! They need `CONFIG_KPROBES` and `CONFIG_KPROBE_EVENTS` (the PMU appears in
//! `/sys/bus/event_source/devices/kprobe`), and kprobe.multi also
//! `CONFIG_FPROBE` (else `EOPNOTSUPP`). btfx does not fall back to tracefs
//! `kprobe_events`.

use std::ffi::CString;
use std::os::fd::BorrowedFd;

use super::error::{AttachError, Result};
use super::tracepoint::attach_perf;
use super::uprobe::pmu;
use super::{tracefs, Link, LinkKind};
use crate::sys;

/// `BPF_TRACE_KPROBE_MULTI`.
const KPROBE_MULTI: u32 = 42;

/// Attaches a kprobe (or kretprobe) to kernel function `func` + `offset`.
pub fn attach_kprobe(
    prog: BorrowedFd<'_>,
    func: &str,
    offset: u64,
    retprobe: bool,
) -> Result<Link> {
    let target = if offset != 0 {
        format!("{func}+{offset:#x}")
    } else {
        func.to_string()
    };
    let (ty, ret_bit) = pmu(LinkKind::Kprobe, "kprobe", "retprobe")?;
    let mut config = 0u64;
    if retprobe {
        let bit = ret_bit.ok_or_else(|| AttachError::Target {
            kind: LinkKind::Kprobe,
            target: target.clone(),
            why: "the kprobe PMU has no format/retprobe: kretprobes unsupported".into(),
        })?;
        config |= 1u64 << (bit & 63);
    }
    let ev = sys::PerfEvent {
        pmu_type: ty,
        config,
        config1_str: Some(func.to_string()),
        config2: offset,
        sample_period: 1,
        wakeup_events: 1,
        ..sys::PerfEvent::default()
    };
    let perf = sys::perf_event_open(&ev, -1, 0)
        .map_err(|e| AttachError::sys(LinkKind::Kprobe, &*target, "perf_event_open", e))?;
    attach_perf(LinkKind::Kprobe, target, prog, perf, 0)
}

/// The kernel function a `ksyscall/<name>` probes.
pub fn syscall_function(name: &str) -> String {
    let wrapped = format!("__x64_sys_{name}");
    let has_wrapper = std::fs::read_to_string("/proc/kallsyms")
        .map(|k| {
            k.lines()
                .any(|l| l.split_whitespace().nth(2) == Some(wrapped.as_str()))
        })
        .unwrap_or(true);
    if has_wrapper {
        wrapped
    } else {
        format!("sys_{name}")
    }
}

/// Attaches a kprobe to the entry (or return) of syscall `name` (`openat`).
pub fn attach_ksyscall(prog: BorrowedFd<'_>, name: &str, retprobe: bool) -> Result<Link> {
    attach_kprobe(prog, &syscall_function(name), 0, retprobe)
}

fn glob(pat: &[u8], s: &[u8]) -> bool {
    match (pat.split_first(), s.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => glob(rest, s) || (!s.is_empty() && glob(pat, &s[1..])),
        (Some((b'?', rest)), Some((_, srest))) => glob(rest, srest),
        (Some((p, rest)), Some((c, srest))) if p == c => glob(rest, srest),
        _ => false,
    }
}

/// Attaches one program to every kernel function matching `pattern`.
pub fn attach_kprobe_multi(prog: BorrowedFd<'_>, pattern: &str, retprobe: bool) -> Result<Link> {
    let path = tracefs::root()?.join("available_filter_functions");
    let text = std::fs::read_to_string(&path).map_err(|source| AttachError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut names: Vec<CString> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| glob(pattern.as_bytes(), n.as_bytes()))
        .filter_map(|n| CString::new(n).ok())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(AttachError::Target {
            kind: LinkKind::Kprobe,
            target: pattern.to_string(),
            why: format!("no function in {} matches", path.display()),
        });
    }
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: 0,
        attach_type: KPROBE_MULTI,
        flags: 0,
        extra: sys::LinkExtra::KprobeMulti {
            flags: u32::from(retprobe),
            syms: &names,
        },
    };
    let target = format!("{pattern} ({} functions)", names.len());
    let link = sys::link_create(&a)
        .map_err(|e| AttachError::sys(LinkKind::Kprobe, &*target, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(LinkKind::Kprobe, target, link))
}

#[cfg(test)]
mod tests {
    #[test]
    fn globs() {
        assert!(super::glob(b"do_nanosl*", b"do_nanosleep"));
        assert!(super::glob(b"*sleep", b"do_nanosleep"));
        assert!(super::glob(b"do_?anosleep", b"do_nanosleep"));
        assert!(!super::glob(b"do_nano", b"do_nanosleep"));
    }
}
