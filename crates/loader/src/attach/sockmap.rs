//! Programs of a sockmap or sockhash (`sk_msg`, `sk_skb/stream_verdict`,
//! `sk_skb/stream_parser`, `sk_skb/verdict`): `BPF_LINK_CREATE` on the map
//! fd with the program's attach type (sockmap links, 6.10+), else the
//! legacy `BPF_PROG_ATTACH` to the map, undone on drop with
//! `BPF_PROG_DETACH` (libbpf's `bpf_program__attach_sockmap` and
//! `bpf_prog_attach`). Sockets pick up the map's programs when they are
//! added to it, so attach before inserting sockets.

use std::os::fd::{AsRawFd, BorrowedFd};

use super::cgroup::ProgAttach;
use super::error::{AttachError, Result};
use super::{Link, LinkKind};
use crate::sys;

/// Attaches `prog` to sockmap/sockhash `map` for `attach_type`
/// (`BPF_SK_MSG_VERDICT` 7, `BPF_SK_SKB_STREAM_PARSER` 4,
/// `BPF_SK_SKB_STREAM_VERDICT` 5, `BPF_SK_SKB_VERDICT` 38).
pub fn attach_sockmap(prog: BorrowedFd<'_>, map: BorrowedFd<'_>, attach_type: u32) -> Result<Link> {
    if !matches!(attach_type, 4 | 5 | 7 | 38) {
        return Err(AttachError::Target {
            kind: LinkKind::Sockmap,
            target: format!("attach type {attach_type}"),
            why: "not a sockmap attach type (4, 5, 7 or 38)".into(),
        });
    }
    let target = format!("map fd {} (attach type {attach_type})", map.as_raw_fd());
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: map.as_raw_fd() as u32,
        attach_type,
        flags: 0,
        extra: sys::LinkExtra::None,
    };
    match sys::link_create(&a) {
        Ok(link) => Ok(Link::bpf(LinkKind::Sockmap, target, link)),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            sys::prog_attach(prog, map, attach_type, 0)
                .map_err(|_| AttachError::sys(LinkKind::Sockmap, &*target, "BPF_LINK_CREATE", e))?;
            let dup = |fd: BorrowedFd<'_>| {
                fd.try_clone_to_owned()
                    .map_err(|e| AttachError::sys(LinkKind::Sockmap, &*target, "dup", e))
            };
            let held = ProgAttach {
                prog: dup(prog)?,
                target: dup(map)?,
                attach_type,
            };
            Ok(Link::legacy(
                LinkKind::Sockmap,
                target.clone(),
                Box::new(held),
            ))
        }
        Err(e) => Err(AttachError::sys(
            LinkKind::Sockmap,
            target,
            "BPF_LINK_CREATE",
            e,
        )),
    }
}
