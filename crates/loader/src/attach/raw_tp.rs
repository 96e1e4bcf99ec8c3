//! Raw tracepoints (`raw_tp/<name>`, `raw_tracepoint/<name>`, and the
//! writable `.w` forms): `BPF_RAW_TRACEPOINT_OPEN` with the tracepoint's
//! name, as libbpf does (a cookie would need `BPF_LINK_CREATE`, 6.10+).

use std::os::fd::BorrowedFd;

use super::error::{AttachError, Result};
use super::{Link, LinkKind};
use crate::sys;

/// Attaches a raw tracepoint program to tracepoint `name` (`sys_enter`,
/// `sched_switch`...).
pub fn attach_raw_tracepoint(prog: BorrowedFd<'_>, name: &str) -> Result<Link> {
    if name.is_empty() {
        return Err(AttachError::Target {
            kind: LinkKind::RawTracepoint,
            target: String::new(),
            why: "empty tracepoint name".into(),
        });
    }
    let link = sys::raw_tracepoint_open(prog, Some(name)).map_err(|e| {
        let e = AttachError::sys(LinkKind::RawTracepoint, name, "BPF_RAW_TRACEPOINT_OPEN", e);
        match e.raw_os_error() {
            Some(libc::ENOENT) => AttachError::Target {
                kind: LinkKind::RawTracepoint,
                target: name.to_string(),
                why: "no such tracepoint in this kernel (ENOENT)".into(),
            },
            _ => e,
        }
    })?;
    Ok(Link::bpf(LinkKind::RawTracepoint, name.to_string(), link))
}

/// As [`attach_raw_tracepoint`], with a BPF cookie (6.10+).
pub fn attach_raw_tracepoint_cookie(prog: BorrowedFd<'_>, name: &str, cookie: u64) -> Result<Link> {
    let link = sys::raw_tracepoint_open_cookie(prog, Some(name), cookie).map_err(|e| {
        AttachError::sys(LinkKind::RawTracepoint, name, "BPF_RAW_TRACEPOINT_OPEN", e)
    })?;
    Ok(Link::bpf(LinkKind::RawTracepoint, name.to_string(), link))
}
