//! Traffic control: tcx links (`BPF_LINK_CREATE` with `BPF_TCX_INGRESS` /
//! `BPF_TCX_EGRESS`, 6.6+) and classic tc over rtnetlink (a `clsact`
//! qdisc, created if missing, and a direct-action `cls_bpf` filter, as
//! libbpf's `bpf_tc_hook_create` + `bpf_tc_attach`). Dropping a classic
//! attachment deletes its filter, and the qdisc only if this attachment
//! created it; both through the netlink socket opened at attach time, so
//! they reach the right network namespace.

use std::os::fd::BorrowedFd;

use super::error::{AttachError, Result};
use super::link::Detach;
use super::{Link, LinkKind};
use crate::sys;

/// Which direction of an interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TcHook {
    /// Packets received.
    #[default]
    Ingress,
    /// Packets sent.
    Egress,
}

/// Filter identity of a classic tc attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcOpts {
    /// Filter handle (libbpf's default 1).
    pub handle: u32,
    /// Filter priority (libbpf's default 1).
    pub priority: u16,
}

impl Default for TcOpts {
    fn default() -> Self {
        TcOpts {
            handle: 1,
            priority: 1,
        }
    }
}

/// Attaches a `SCHED_CLS` program with a tcx link.
pub fn attach_tcx(prog: BorrowedFd<'_>, ifindex: u32, hook: TcHook) -> Result<Link> {
    let target = format!("ifindex {ifindex} {hook:?}");
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: ifindex,
        attach_type: match hook {
            TcHook::Ingress => 46,
            TcHook::Egress => 47,
        },
        flags: 0,
        extra: sys::LinkExtra::Tcx {
            relative: 0,
            expected_revision: 0,
        },
    };
    let link = sys::link_create(&a)
        .map_err(|e| AttachError::sys(LinkKind::Tcx, &*target, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(LinkKind::Tcx, target, link))
}

/// Attaches a `SCHED_CLS` program as a direct-action `cls_bpf` filter under
/// the interface's `clsact` qdisc (created when there is none).
pub fn attach_tc(prog: BorrowedFd<'_>, ifindex: u32, hook: TcHook, opts: TcOpts) -> Result<Link> {
    let target = format!(
        "ifindex {ifindex} {hook:?} handle {} prio {}",
        opts.handle, opts.priority
    );
    let err = |call: &'static str, e: sys::NetlinkError| AttachError::Syscall {
        kind: LinkKind::Tc,
        target: target.clone(),
        call,
        hint: if e.message.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.message)
        },
        source: e.error,
    };
    let mut nl = sys::Rtnl::open().map_err(|e| err("socket(NETLINK_ROUTE)", e.into()))?;
    let created = nl
        .add_clsact(ifindex)
        .map_err(|e| err("RTM_NEWQDISC clsact", e))?;
    let parent = match hook {
        TcHook::Ingress => sys::TC_PARENT_INGRESS,
        TcHook::Egress => sys::TC_PARENT_EGRESS,
    };
    if let Err(e) = nl.add_bpf_filter(ifindex, parent, opts.handle, opts.priority, prog, "btfx") {
        if created {
            let _ = nl.del_clsact(ifindex);
        }
        return Err(err("RTM_NEWTFILTER cls_bpf", e));
    }
    Ok(Link::legacy(
        LinkKind::Tc,
        target,
        Box::new(TcFilter {
            nl,
            ifindex,
            parent,
            opts,
            created_qdisc: created,
        }),
    ))
}

#[derive(Debug)]
struct TcFilter {
    nl: sys::Rtnl,
    ifindex: u32,
    parent: u32,
    opts: TcOpts,
    created_qdisc: bool,
}

impl Detach for TcFilter {
    fn detach(&mut self) -> std::io::Result<()> {
        let f = self
            .nl
            .del_bpf_filter(
                self.ifindex,
                self.parent,
                self.opts.handle,
                self.opts.priority,
            )
            .map_err(|e| e.error);
        let q = if self.created_qdisc {
            self.nl.del_clsact(self.ifindex).map_err(|e| e.error)
        } else {
            Ok(())
        };
        f.and(q)
    }
}
