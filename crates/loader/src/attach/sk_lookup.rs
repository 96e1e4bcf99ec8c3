//! sk_lookup programs: `BPF_LINK_CREATE` with `BPF_SK_LOOKUP` on a network
//! namespace's fd (5.9+); they then choose the socket for incoming
//! connections and datagrams in that namespace.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use super::error::{AttachError, Result};
use super::{Link, LinkKind};
use crate::sys;

/// `BPF_SK_LOOKUP`.
const BPF_SK_LOOKUP: u32 = 36;

/// Attaches to the network namespace at `netns` (a `/proc/<pid>/ns/net` or
/// bind-mounted namespace file); `None` is the calling thread's
/// (`/proc/thread-self/ns/net`).
pub fn attach_sk_lookup(prog: BorrowedFd<'_>, netns: Option<&Path>) -> Result<Link> {
    let path = netns.unwrap_or(Path::new("/proc/thread-self/ns/net"));
    let f = std::fs::File::open(path).map_err(|e| AttachError::Target {
        kind: LinkKind::SkLookup,
        target: path.display().to_string(),
        why: format!("cannot open the namespace: {e}"),
    })?;
    let target = path.display().to_string();
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: f.as_raw_fd() as u32,
        attach_type: BPF_SK_LOOKUP,
        flags: 0,
        extra: sys::LinkExtra::None,
    };
    let link = sys::link_create(&a)
        .map_err(|e| AttachError::sys(LinkKind::SkLookup, &*target, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(LinkKind::SkLookup, target, link))
}
