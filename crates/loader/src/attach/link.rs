//! [`Link`]: an owned attachment that detaches when dropped.
//!
//! Three shapes hold an attachment alive:
//!
//! - a BPF link fd (`BPF_LINK_CREATE`, `BPF_RAW_TRACEPOINT_OPEN`), sometimes
//!   with the perf event it was made on: closing the fd detaches, unless the
//!   link was pinned in bpffs, where it lives on until the pin is removed;
//! - a legacy attachment without a link fd (perf event with
//!   `PERF_EVENT_IOC_SET_BPF`, `BPF_PROG_ATTACH`, XDP or tc over netlink,
//!   `SO_ATTACH_BPF`): the family gives a teardown that drop runs;
//! - several links made as one (a perf event per CPU, a uprobe per USDT
//!   call site), dropped together.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::error::{AttachError, Result};
use crate::sys;

/// Which family an attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkKind {
    /// `tp/`, `tracepoint/`: a perf tracepoint event.
    Tracepoint,
    /// `raw_tp/`, `raw_tracepoint/`.
    RawTracepoint,
    /// BTF-attached tracing: `tp_btf/`, `fentry/`, `fexit/`, `fmod_ret/`,
    /// `lsm/`.
    Tracing,
    /// `uprobe/`, `uretprobe/`.
    Uprobe,
    /// `usdt/`.
    Usdt,
    /// `kprobe/`, `kretprobe/`, `ksyscall/`, `kprobe.multi/`.
    Kprobe,
    /// `xdp`.
    Xdp,
    /// `tcx/ingress`, `tcx/egress`.
    Tcx,
    /// `tc`, `classifier`: clsact qdisc and cls_bpf filter.
    Tc,
    /// `cgroup/...`, `cgroup_skb/...`, `sockops`.
    Cgroup,
    /// `sk_lookup`: a network namespace.
    SkLookup,
    /// `flow_dissector`: a network namespace.
    FlowDissector,
    /// `socket`: a socket filter.
    SocketFilter,
    /// `perf_event`.
    PerfEvent,
    /// `iter/`.
    Iter,
    /// A struct_ops map.
    StructOps,
    /// `netfilter`.
    Netfilter,
    /// `sk_msg`, `sk_skb/...`: a sockmap or sockhash.
    Sockmap,
}

impl std::fmt::Display for LinkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkKind::Tracepoint => "tracepoint",
            LinkKind::RawTracepoint => "raw_tp",
            LinkKind::Tracing => "tracing",
            LinkKind::Uprobe => "uprobe",
            LinkKind::Usdt => "usdt",
            LinkKind::Kprobe => "kprobe",
            LinkKind::Xdp => "xdp",
            LinkKind::Tcx => "tcx",
            LinkKind::Tc => "tc",
            LinkKind::Cgroup => "cgroup",
            LinkKind::SkLookup => "sk_lookup",
            LinkKind::FlowDissector => "flow_dissector",
            LinkKind::SocketFilter => "socket filter",
            LinkKind::PerfEvent => "perf_event",
            LinkKind::Iter => "iter",
            LinkKind::StructOps => "struct_ops",
            LinkKind::Netfilter => "netfilter",
            LinkKind::Sockmap => "sockmap",
        })
    }
}

/// Undoes an attachment that has no BPF link fd.
pub(crate) trait Detach: Send + std::fmt::Debug {
    /// Detaches; called once, from [`Link::detach`] or drop.
    fn detach(&mut self) -> std::io::Result<()>;
}

#[derive(Debug)]
enum Held {
    /// A BPF link; `perf` is the event it was created on (closed after it).
    Bpf {
        link: OwnedFd,
        _perf: Option<OwnedFd>,
    },
    /// A legacy attachment; `None` once detached.
    Legacy(Option<Box<dyn Detach>>),
    /// Several attachments made as one.
    Many(Vec<Link>),
}

/// An attached program. Dropping it detaches the program (a pinned BPF link
/// stays attached until its pin is removed).
#[derive(Debug)]
pub struct Link {
    kind: LinkKind,
    target: String,
    held: Held,
    pinned: Option<PathBuf>,
}

impl Link {
    pub(crate) fn bpf(kind: LinkKind, target: String, link: OwnedFd) -> Link {
        Link {
            kind,
            target,
            held: Held::Bpf { link, _perf: None },
            pinned: None,
        }
    }

    pub(crate) fn bpf_on_perf(
        kind: LinkKind,
        target: String,
        link: OwnedFd,
        perf: OwnedFd,
    ) -> Link {
        Link {
            kind,
            target,
            held: Held::Bpf {
                link,
                _perf: Some(perf),
            },
            pinned: None,
        }
    }

    pub(crate) fn legacy(kind: LinkKind, target: String, d: Box<dyn Detach>) -> Link {
        Link {
            kind,
            target,
            held: Held::Legacy(Some(d)),
            pinned: None,
        }
    }

    pub(crate) fn many(kind: LinkKind, target: String, links: Vec<Link>) -> Link {
        Link {
            kind,
            target,
            held: Held::Many(links),
            pinned: None,
        }
    }

    /// Opens a BPF link pinned at `path` (libbpf's `bpf_link__open`). The
    /// pin stays unless [`Link::unpin`] or [`Link::detach`] removes it;
    /// dropping the value only closes this fd.
    pub fn open_pinned(path: impl AsRef<Path>) -> Result<Link> {
        let path = path.as_ref();
        let err = |why: String| AttachError::Pin {
            path: path.display().to_string(),
            why,
        };
        let fd = sys::obj_get(path).map_err(|e| err(e.to_string()))?;
        let info = sys::link_info(fd.as_fd()).map_err(|e| err(format!("not a BPF link ({e})")))?;
        let kind = match info.link_type.raw() {
            1 => LinkKind::RawTracepoint,
            2 => LinkKind::Tracing,
            3 => LinkKind::Cgroup,
            4 => LinkKind::Iter,
            5 => LinkKind::SkLookup,
            6 => LinkKind::Xdp,
            7 => LinkKind::PerfEvent,
            8 | 12 => LinkKind::Kprobe,
            9 => LinkKind::StructOps,
            10 => LinkKind::Netfilter,
            11 => LinkKind::Tcx,
            14 => LinkKind::Sockmap,
            t => return Err(err(format!("link type {t} is not one btfx knows"))),
        };
        Ok(Link {
            kind,
            target: path.display().to_string(),
            held: Held::Bpf {
                link: fd,
                _perf: None,
            },
            pinned: Some(path.to_path_buf()),
        })
    }

    /// The family of the attachment.
    pub fn kind(&self) -> LinkKind {
        self.kind
    }

    /// The target, as attached (`syscalls/sys_enter_write`, `lo`,
    /// `/bin/true:main+0x4`...).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The BPF link fd, when the attachment is a BPF link (`None` for legacy
    /// attachments and for groups).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.held {
            Held::Bpf { link, .. } => Some(link.as_fd()),
            _ => None,
        }
    }

    /// The links of a group (a perf event per CPU, a uprobe per USDT site);
    /// empty for a single attachment.
    pub fn parts(&self) -> &[Link] {
        match &self.held {
            Held::Many(v) => v,
            _ => &[],
        }
    }

    /// Kernel id and type of the BPF link (`None` without a link fd).
    pub fn info(&self) -> Option<sys::LinkInfo> {
        self.fd().and_then(|fd| sys::link_info(fd).ok())
    }

    /// Where the link is pinned, if [`Link::pin`] pinned it.
    pub fn pinned(&self) -> Option<&Path> {
        self.pinned.as_deref()
    }

    /// Pins the BPF link at `path` in bpffs: the attachment then outlives
    /// this value (and the process) until the pin is removed. Legacy
    /// attachments and groups have no link to pin.
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let err = |why: String| AttachError::Pin {
            path: path.display().to_string(),
            why,
        };
        let fd = self.fd().ok_or_else(|| {
            err(format!(
                "this {} attachment has no BPF link (a legacy attachment or a group): pin the program instead",
                self.kind
            ))
        })?;
        sys::pin_fd(fd, path).map_err(|e| err(e.to_string()))?;
        self.pinned = Some(path.to_path_buf());
        Ok(())
    }

    /// Removes the pin made by [`Link::pin`]; the link then lives as long
    /// as this value.
    pub fn unpin(&mut self) -> Result<()> {
        if let Some(p) = self.pinned.take() {
            std::fs::remove_file(&p).map_err(|e| AttachError::Pin {
                path: p.display().to_string(),
                why: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Replaces the attached program by `new_prog` without a gap
    /// (`BPF_LINK_UPDATE`): BPF links of kinds the kernel can update (xdp,
    /// tcx, cgroup, netns, struct_ops, iter...). Legacy attachments and
    /// groups cannot.
    pub fn update_program(&self, new_prog: BorrowedFd<'_>) -> Result<()> {
        let fd = self.fd().ok_or_else(|| AttachError::Target {
            kind: self.kind,
            target: self.target.clone(),
            why: "no BPF link to update (a legacy attachment or a group)".into(),
        })?;
        sys::link_update(fd, new_prog, None)
            .map_err(|e| AttachError::sys(self.kind, &*self.target, "BPF_LINK_UPDATE", e))
    }

    /// Detaches now and reports failure (drop detaches too, silently). A
    /// pinned link is unpinned first.
    pub fn detach(mut self) -> Result<()> {
        self.unpin()?;
        self.detach_inner()
    }

    fn detach_inner(&mut self) -> Result<()> {
        let mut first = Ok(());
        match &mut self.held {
            Held::Bpf { .. } => {}
            Held::Legacy(d) => {
                if let Some(mut d) = d.take() {
                    if let Err(e) = d.detach() {
                        first = Err(AttachError::sys(self.kind, &*self.target, "detach", e));
                    }
                }
            }
            Held::Many(v) => {
                for l in v.iter_mut() {
                    let r = l.detach_inner();
                    if first.is_ok() {
                        first = r;
                    }
                }
            }
        }
        first
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.detach_inner();
    }
}

#[cfg(test)]
mod tests {
    /// Links and USDT managers can move to (and be shared with) other
    /// threads: a runner may poll on one thread and detach on another.
    #[test]
    fn links_are_send() {
        fn send<T: Send>() {}
        fn sync<T: Send + Sync>() {}
        send::<super::Link>();
        sync::<super::super::UsdtManager>();
    }
}
