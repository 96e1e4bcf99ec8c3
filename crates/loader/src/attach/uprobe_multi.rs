//! uprobe.multi (`uprobe.multi/<binary>:<pattern>`, `uretprobe.multi/...`):
//! one `BPF_LINK_CREATE` of type `BPF_TRACE_UPROBE_MULTI` (6.6+) probing
//! every function of a binary whose name matches a glob, as libbpf's
//! `bpf_program__attach_uprobe_multi`. The program must have been loaded
//! with that expected attach type (48).

use std::ffi::CString;
use std::os::fd::BorrowedFd;

use super::error::{AttachError, Result};
use super::{elfsym, Link, LinkKind};
use crate::sys;

/// `BPF_TRACE_UPROBE_MULTI`.
pub const UPROBE_MULTI: u32 = 48;

/// Attaches `prog` to every function of `binary` matching `pattern`
/// (`*`/`?` glob), at entry or, with `retprobe`, at return; only in process
/// `pid` when given.
pub fn attach_uprobe_multi(
    prog: BorrowedFd<'_>,
    binary: &str,
    pattern: &str,
    retprobe: bool,
    pid: Option<i32>,
) -> Result<Link> {
    let path = elfsym::resolve_binary(LinkKind::Uprobe, binary)?;
    let funcs = elfsym::func_offsets_matching(&path, pattern)?;
    let offsets: Vec<u64> = funcs.iter().map(|f| f.1).collect();
    let target = format!("{}:{pattern} ({} functions)", path.display(), offsets.len());
    let cpath =
        CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| AttachError::Target {
            kind: LinkKind::Uprobe,
            target: target.clone(),
            why: "path holds a NUL byte".into(),
        })?;
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: 0,
        attach_type: UPROBE_MULTI,
        flags: 0,
        extra: sys::LinkExtra::UprobeMulti {
            path: &cpath,
            offsets: &offsets,
            ref_ctr_offsets: &[],
            cookies: &[],
            flags: u32::from(retprobe),
            pid: pid.map(|p| p as u32).unwrap_or(0),
        },
    };
    let link = sys::link_create(&a)
        .map_err(|e| AttachError::sys(LinkKind::Uprobe, &*target, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(LinkKind::Uprobe, target, link))
}
