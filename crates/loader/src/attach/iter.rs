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

/// What an iterator walks (`union bpf_iter_link_info`).
#[derive(Debug, Clone, Copy, Default)]
pub enum IterScope<'a> {
    /// Everything of its kind (all tasks, all maps...).
    #[default]
    All,
    /// The elements of this map (`iter/bpf_map_elem`,
    /// `iter/bpf_sk_storage_map`).
    Map(BorrowedFd<'a>),
    /// The threads of one process (`iter/task`, `iter/task_file`...; 6.1+).
    Process(u32),
    /// One thread (`iter/task`...; 6.1+).
    Thread(u32),
}

/// Attaches an iterator program (`name` only names the link) over `scope`.
pub fn attach_iter(prog: BorrowedFd<'_>, name: &str, scope: IterScope<'_>) -> Result<Link> {
    let mut info = [0u8; 12];
    let mut put = |at: usize, v: u32| {
        if let Some(d) = info.get_mut(at..at + 4) {
            d.copy_from_slice(&v.to_ne_bytes());
        }
    };
    // map { map_fd } | task { tid, pid, pid_fd }
    let len = match scope {
        IterScope::All => 0,
        IterScope::Map(m) => {
            put(0, m.as_raw_fd() as u32);
            4
        }
        IterScope::Thread(tid) => {
            put(0, tid);
            12
        }
        IterScope::Process(pid) => {
            put(4, pid);
            12
        }
    };
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: 0,
        attach_type: BPF_TRACE_ITER,
        flags: 0,
        extra: match info.get(..len) {
            Some(b) if !b.is_empty() => sys::LinkExtra::Iter(b),
            _ => sys::LinkExtra::None,
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
