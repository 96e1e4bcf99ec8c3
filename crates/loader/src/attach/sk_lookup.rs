//! Network namespace links (5.8+): sk_lookup programs (`BPF_SK_LOOKUP`,
//! choosing the socket for incoming connections and datagrams) and flow
//! dissectors (`BPF_FLOW_DISSECTOR`, one per namespace), both
//! `BPF_LINK_CREATE` on a namespace's fd.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use super::error::{AttachError, Result};
use super::{Link, LinkKind};
use crate::sys;

/// `BPF_SK_LOOKUP`.
const BPF_SK_LOOKUP: u32 = 36;

/// `BPF_FLOW_DISSECTOR`.
const BPF_FLOW_DISSECTOR: u32 = 17;

/// Attaches to the network namespace at `netns` (a `/proc/<pid>/ns/net` or
/// bind-mounted namespace file); `None` is the calling thread's
/// (`/proc/thread-self/ns/net`).
pub fn attach_sk_lookup(prog: BorrowedFd<'_>, netns: Option<&Path>) -> Result<Link> {
    attach_netns(prog, netns, BPF_SK_LOOKUP, LinkKind::SkLookup)
}

/// Attaches a flow dissector to a network namespace (as
/// [`attach_sk_lookup`]); the kernel takes one per namespace (a second
/// attach fails with `E2BIG`).
pub fn attach_flow_dissector(prog: BorrowedFd<'_>, netns: Option<&Path>) -> Result<Link> {
    attach_netns(prog, netns, BPF_FLOW_DISSECTOR, LinkKind::FlowDissector)
}

fn attach_netns(
    prog: BorrowedFd<'_>,
    netns: Option<&Path>,
    attach_type: u32,
    kind: LinkKind,
) -> Result<Link> {
    let path = netns.unwrap_or(Path::new("/proc/thread-self/ns/net"));
    let f = std::fs::File::open(path).map_err(|e| AttachError::Target {
        kind,
        target: path.display().to_string(),
        why: format!("cannot open the namespace: {e}"),
    })?;
    let target = path.display().to_string();
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: f.as_raw_fd() as u32,
        attach_type,
        flags: 0,
        extra: sys::LinkExtra::None,
    };
    let link =
        sys::link_create(&a).map_err(|e| AttachError::sys(kind, &*target, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(kind, target, link))
}
