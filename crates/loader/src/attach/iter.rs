//! BPF iterators (`iter/task`, `iter/bpf_map`, `iter/bpf_map_elem`...): a
//! `BPF_LINK_CREATE` of type `BPF_TRACE_ITER` (with a map for map-element
//! iterators), then `BPF_ITER_CREATE` for each walk, read to the end (what
//! the program `bpf_seq_printf`s or `bpf_seq_write`s).

use std::io::Read;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::error::{AttachError, Result};
use super::{Link, LinkKind};
use crate::sys;

/// `BPF_TRACE_ITER`.
const BPF_TRACE_ITER: u32 = 28;

/// Attaches an iterator program; `map` is the map to walk for
/// `iter/bpf_map_elem` and `iter/bpf_sk_storage_map` (else `None`).
pub fn attach_iter(prog: BorrowedFd<'_>, name: &str, map: Option<BorrowedFd<'_>>) -> Result<Link> {
    // union bpf_iter_link_info { struct { __u32 map_fd; } map; ... }
    let info = map.map(|m| (m.as_raw_fd() as u32).to_ne_bytes());
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: 0,
        attach_type: BPF_TRACE_ITER,
        flags: 0,
        extra: match &info {
            Some(b) => sys::LinkExtra::Iter(b),
            None => sys::LinkExtra::None,
        },
    };
    let link = sys::link_create(&a)
        .map_err(|e| AttachError::sys(LinkKind::Iter, name, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(LinkKind::Iter, name.to_string(), link))
}

/// Runs the iterator once (`BPF_ITER_CREATE`) and returns all it wrote.
pub fn read_iter(link: &Link) -> Result<Vec<u8>> {
    let fd = link
        .fd()
        .filter(|_| link.kind() == LinkKind::Iter)
        .ok_or_else(|| AttachError::Target {
            kind: link.kind(),
            target: link.target().to_string(),
            why: "not an iterator link".into(),
        })?;
    let it = sys::iter_create(fd)
        .map_err(|e| AttachError::sys(LinkKind::Iter, link.target(), "BPF_ITER_CREATE", e))?;
    let mut f = std::fs::File::from(it);
    let mut out = Vec::new();
    f.read_to_end(&mut out).map_err(|source| AttachError::Io {
        path: format!("iterator {}", link.target()),
        source,
    })?;
    Ok(out)
}
