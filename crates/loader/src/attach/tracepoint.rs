//! Tracepoints (`tp/<category>/<name>`, `tracepoint/...`): a perf event of
//! type `PERF_TYPE_TRACEPOINT` for the tracepoint's id, then a
//! `BPF_LINK_CREATE` of type `BPF_PERF_EVENT` on it, or, on kernels before
//! 5.15, `PERF_EVENT_IOC_SET_BPF` (as libbpf's `bpf_program__attach_perf_event`).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::error::{AttachError, Result};
use super::link::Detach;
use super::{tracefs, Link, LinkKind};
use crate::sys;

/// `BPF_PERF_EVENT` attach type.
const BPF_PERF_EVENT: u32 = 41;

/// How a program is put on a perf event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PerfMethod {
    /// A `BPF_PERF_EVENT` link, or the ioctl where the kernel has no perf
    /// links (libbpf's choice).
    #[default]
    Auto,
    /// `PERF_EVENT_IOC_SET_BPF` + `PERF_EVENT_IOC_ENABLE` only (no link fd;
    /// closing the event detaches).
    Ioctl,
}

/// Attaches a tracepoint program to `category/name`.
pub fn attach_tracepoint(prog: BorrowedFd<'_>, category: &str, name: &str) -> Result<Link> {
    attach_tracepoint_with(prog, category, name, PerfMethod::Auto)
}

/// As [`attach_tracepoint`], with a BPF cookie (perf links, 5.15+).
pub fn attach_tracepoint_cookie(
    prog: BorrowedFd<'_>,
    category: &str,
    name: &str,
    cookie: u64,
) -> Result<Link> {
    let id = tracefs::tracepoint_id(category, name)?;
    let ev = sys::PerfEvent {
        pmu_type: sys::TYPE_TRACEPOINT,
        config: id,
        sample_period: 1,
        wakeup_events: 1,
        ..sys::PerfEvent::default()
    };
    let target = format!("{category}/{name}");
    let perf = sys::perf_event_open(&ev, -1, 0)
        .map_err(|e| AttachError::sys(LinkKind::Tracepoint, &*target, "perf_event_open", e))?;
    attach_perf(LinkKind::Tracepoint, target, prog, perf, cookie)
}

/// As [`attach_tracepoint`], choosing the method.
pub fn attach_tracepoint_with(
    prog: BorrowedFd<'_>,
    category: &str,
    name: &str,
    method: PerfMethod,
) -> Result<Link> {
    let id = tracefs::tracepoint_id(category, name)?;
    let ev = sys::PerfEvent {
        pmu_type: sys::TYPE_TRACEPOINT,
        config: id,
        sample_period: 1,
        wakeup_events: 1,
        ..sys::PerfEvent::default()
    };
    let target = format!("{category}/{name}");
    let perf = sys::perf_event_open(&ev, -1, 0)
        .map_err(|e| AttachError::sys(LinkKind::Tracepoint, &*target, "perf_event_open", e))?;
    match method {
        PerfMethod::Auto => attach_perf(LinkKind::Tracepoint, target, prog, perf, 0),
        PerfMethod::Ioctl => attach_perf_ioctl(LinkKind::Tracepoint, target, prog, perf),
    }
}

/// Runs `prog` on the perf event `perf`: a BPF link where the kernel has
/// perf links, else the ioctl (closing the event detaches).
pub(crate) fn attach_perf(
    kind: LinkKind,
    target: String,
    prog: BorrowedFd<'_>,
    perf: OwnedFd,
    cookie: u64,
) -> Result<Link> {
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: perf_raw(&perf),
        attach_type: BPF_PERF_EVENT,
        flags: 0,
        extra: sys::LinkExtra::PerfCookie(cookie),
    };
    match sys::link_create(&a) {
        Ok(link) => Ok(Link::bpf_on_perf(kind, target, link, perf)),
        // Kernels without perf links say EINVAL (unknown attach type) or
        // EOPNOTSUPP; a cookie cannot be passed that way.
        Err(e)
            if cookie == 0 && matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP)) =>
        {
            attach_perf_ioctl(kind, target, prog, perf)
        }
        Err(e) => Err(AttachError::sys(kind, target, "BPF_LINK_CREATE", e)),
    }
}

/// The pre-link way: `PERF_EVENT_IOC_SET_BPF`, then enable.
fn attach_perf_ioctl(
    kind: LinkKind,
    target: String,
    prog: BorrowedFd<'_>,
    perf: OwnedFd,
) -> Result<Link> {
    sys::perf_set_bpf(perf.as_fd(), prog)
        .map_err(|e| AttachError::sys(kind, &*target, "PERF_EVENT_IOC_SET_BPF", e))?;
    sys::perf_enable(perf.as_fd())
        .map_err(|e| AttachError::sys(kind, &*target, "PERF_EVENT_IOC_ENABLE", e))?;
    Ok(Link::legacy(kind, target, Box::new(PerfIoctl(Some(perf)))))
}

fn perf_raw(fd: &OwnedFd) -> u32 {
    use std::os::fd::AsRawFd;
    fd.as_raw_fd() as u32
}

/// A perf event running a program through the ioctl: disabled, then closed.
#[derive(Debug)]
struct PerfIoctl(Option<OwnedFd>);

impl Detach for PerfIoctl {
    fn detach(&mut self) -> std::io::Result<()> {
        match self.0.take() {
            Some(fd) => sys::perf_disable(fd.as_fd()),
            None => Ok(()),
        }
    }
}
