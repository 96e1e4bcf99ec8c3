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
    let (ty, ret_bit) = pmu(LinkKind::Kprobe, &target, "kprobe", "retprobe")?;
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

/// `*` and `?` glob match, in O(pattern x name) steps (one backtrack point,
/// the last `*`).
pub(crate) fn glob(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, i));
                p += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == s.get(i) => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat.get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Kernel functions that can be probed: tracefs `available_filter_functions`
/// (`name [module]` lines), or, when ftrace is off and that file cannot be
/// read, the text symbols of `/proc/kallsyms` (as libbpf 1.1 does).
fn probeable_functions() -> Result<(String, Vec<String>)> {
    let path = tracefs::root()?.join("available_filter_functions");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let names = text
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect();
        return Ok((path.display().to_string(), names));
    }
    let k = "/proc/kallsyms";
    let text = std::fs::read_to_string(k).map_err(|source| AttachError::Io {
        path: k.into(),
        source,
    })?;
    let names = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, ty, name) = (f.next()?, f.next()?, f.next()?);
            matches!(ty, "t" | "T").then(|| name.to_string())
        })
        .collect();
    Ok((k.into(), names))
}

/// Attaches one program to every kernel function matching `pattern`.
pub fn attach_kprobe_multi(prog: BorrowedFd<'_>, pattern: &str, retprobe: bool) -> Result<Link> {
    let (path, all) = probeable_functions()?;
    let mut names: Vec<CString> = all
        .iter()
        .filter(|n| glob(pattern.as_bytes(), n.as_bytes()))
        .filter_map(|n| CString::new(n.as_str()).ok())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(AttachError::Target {
            kind: LinkKind::Kprobe,
            target: pattern.to_string(),
            why: format!("no function in {path} matches"),
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
        assert!(super::glob(b"*", b""));
        assert!(super::glob(b"a*b*c", b"axxbyyc"));
        assert!(!super::glob(b"a*b*c", b"axxbyy"));
        let long = vec![b'a'; 4000];
        assert!(!super::glob(b"*a*a*a*a*a*a*a*a*b", &long));
    }
}
