//! BTF-attached tracing programs: `tp_btf/`, `fentry/`, `fexit/`,
//! `fmod_ret/`, `lsm/` (and sleepable `.s` forms). The target was fixed at
//! load (`attach_btf_id`), so attaching names nothing: `BPF_LINK_CREATE`
//! with the expected attach type, or `BPF_RAW_TRACEPOINT_OPEN` without a
//! name on kernels before 5.x links (libbpf's `bpf_program__attach_trace`
//! and `_lsm`).
//!
//! fentry/fexit/fmod_ret/lsm run through a BPF trampoline, which needs
//! `CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS` and architecture support (lsm
//! also `CONFIG_BPF_LSM` and `bpf` in the `lsm=` list); a kernel without
//! them refuses them at `BPF_PROG_LOAD` already (EPERM or ENOTSUPP), so no
//! fd reaches this module. tp_btf needs no trampoline.

use std::os::fd::BorrowedFd;

use super::error::{AttachError, Result};
use super::{Link, LinkKind};
use crate::sys;

/// `BPF_LSM_MAC`.
const LSM_MAC: u32 = 27;

/// Attaches a loaded tracing or LSM program (its target fixed at load);
/// `expected_attach_type` is the one it was loaded with (23 tp_btf, 24
/// fentry, 25 fexit, 26 fmod_ret, 27 lsm). `target` only names the
/// attachment (the section's suffix).
pub fn attach_tracing(
    prog: BorrowedFd<'_>,
    expected_attach_type: u32,
    target: &str,
) -> Result<Link> {
    if !(23..=27).contains(&expected_attach_type) {
        return Err(AttachError::Target {
            kind: LinkKind::Tracing,
            target: target.to_string(),
            why: format!(
                "expected attach type {expected_attach_type} is not tp_btf/fentry/fexit/fmod_ret/lsm (23..=27)"
            ),
        });
    }
    // libbpf uses BPF_RAW_TRACEPOINT_OPEN (no name) unless a cookie is set;
    // it works for tp_btf, fentry, fexit, fmod_ret and lsm alike on every
    // kernel that has them. LINK_CREATE is the fallback for lsm on kernels
    // that refuse raw_tp_open for it.
    match sys::raw_tracepoint_open(prog, None) {
        Ok(link) => Ok(Link::bpf(LinkKind::Tracing, target.to_string(), link)),
        Err(first) => {
            if expected_attach_type == LSM_MAC {
                let a = sys::LinkCreate {
                    prog_fd: prog,
                    target: 0,
                    attach_type: expected_attach_type,
                    flags: 0,
                    extra: sys::LinkExtra::None,
                };
                if let Ok(link) = sys::link_create(&a) {
                    return Ok(Link::bpf(LinkKind::Tracing, target.to_string(), link));
                }
            }
            Err(AttachError::sys(
                LinkKind::Tracing,
                target,
                "BPF_RAW_TRACEPOINT_OPEN",
                first,
            ))
        }
    }
}

/// As [`attach_tracing`], with a BPF cookie: `BPF_LINK_CREATE` with the
/// expected attach type and `tracing.cookie` (5.19+; tp_btf 6.10+).
pub fn attach_tracing_cookie(
    prog: BorrowedFd<'_>,
    expected_attach_type: u32,
    target: &str,
    cookie: u64,
) -> Result<Link> {
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: 0,
        attach_type: expected_attach_type,
        flags: 0,
        extra: sys::LinkExtra::Tracing {
            target_btf_id: 0,
            cookie,
        },
    };
    let link = sys::link_create(&a)
        .map_err(|e| AttachError::sys(LinkKind::Tracing, target, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(LinkKind::Tracing, target.to_string(), link))
}
