//! netfilter programs (`netfilter` sections): `BPF_LINK_CREATE` with
//! `BPF_NETFILTER` (6.4+) at a protocol family's hook with a priority, in
//! the network namespace of the calling thread. libbpf does not attach them
//! by section (there is no target in the name); [`super::Targets::netfilter`]
//! gives the hook.

use std::os::fd::BorrowedFd;

use super::error::{AttachError, Result};
use super::{Link, LinkKind};
use crate::sys;

/// `BPF_NETFILTER`.
const BPF_NETFILTER: u32 = 45;

/// Where a netfilter program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetfilterHook {
    /// `NFPROTO_IPV4` (2) or `NFPROTO_IPV6` (10).
    pub pf: u32,
    /// `NF_INET_PRE_ROUTING` (0), `LOCAL_IN` (1), `FORWARD` (2),
    /// `LOCAL_OUT` (3), `POST_ROUTING` (4).
    pub hooknum: u32,
    /// Priority (lower runs first; the kernel refuses the extremes).
    pub priority: i32,
    /// Ask for IP defragmentation first (`BPF_F_NETFILTER_IP_DEFRAG`).
    pub defrag: bool,
}

/// Attaches a netfilter program at `hook`.
pub fn attach_netfilter(prog: BorrowedFd<'_>, hook: &NetfilterHook) -> Result<Link> {
    let target = format!(
        "pf {} hook {} priority {}",
        hook.pf, hook.hooknum, hook.priority
    );
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: 0,
        attach_type: BPF_NETFILTER,
        flags: 0,
        extra: sys::LinkExtra::Netfilter {
            pf: hook.pf,
            hooknum: hook.hooknum,
            priority: hook.priority,
            flags: u32::from(hook.defrag),
        },
    };
    let link = sys::link_create(&a)
        .map_err(|e| AttachError::sys(LinkKind::Netfilter, &*target, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(LinkKind::Netfilter, target, link))
}
