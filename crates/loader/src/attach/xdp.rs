//! XDP: `BPF_LINK_CREATE` with attach type `BPF_XDP` on an interface index
//! (5.9+), in generic (SKB), native (driver) or offload (hardware) mode, as
//! libbpf's `bpf_program__attach_xdp`; or the netlink way (`IFLA_XDP` on
//! `RTM_SETLINK`, libbpf's `bpf_xdp_attach`), used when the kernel has no
//! XDP links or when asked for. A netlink attachment is removed on drop
//! only while it is still this program (`XDP_FLAGS_REPLACE` with the
//! program as the expected one), through the netlink socket opened at
//! attach time, so it reaches the right network namespace.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::error::{AttachError, Result};
use super::link::Detach;
use super::{Link, LinkKind};
use crate::sys;

/// `BPF_XDP`.
const BPF_XDP: u32 = 37;

/// Where XDP runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum XdpMode {
    /// Native when the driver has it, else generic (flags 0).
    #[default]
    Auto,
    /// Generic XDP in the network stack, any device (`XDP_FLAGS_SKB_MODE`).
    Generic,
    /// In the driver (`XDP_FLAGS_DRV_MODE`): veth, most 10G+ NICs.
    Native,
    /// On the NIC (`XDP_FLAGS_HW_MODE`): offload-capable devices only.
    Offload,
}

impl XdpMode {
    /// The `XDP_FLAGS_*` bits of the mode.
    pub fn flags(self) -> u32 {
        match self {
            XdpMode::Auto => 0,
            XdpMode::Generic => 1 << 1,
            XdpMode::Native => 1 << 2,
            XdpMode::Offload => 1 << 3,
        }
    }
}

/// Attaches an XDP program to `ifindex` with a BPF link, or over netlink
/// when the kernel refuses XDP links (`EINVAL`, before 5.9).
pub fn attach_xdp(prog: BorrowedFd<'_>, ifindex: u32, mode: XdpMode) -> Result<Link> {
    let target = format!("ifindex {ifindex} ({mode:?})");
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: ifindex,
        attach_type: BPF_XDP,
        flags: mode.flags(),
        extra: sys::LinkExtra::None,
    };
    match sys::link_create(&a) {
        Ok(link) => Ok(Link::bpf(LinkKind::Xdp, target, link)),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => attach_xdp_netlink(prog, ifindex, mode)
            .map_err(|_| AttachError::sys(LinkKind::Xdp, target, "BPF_LINK_CREATE", e)),
        Err(e) => Err(AttachError::sys(
            LinkKind::Xdp,
            target,
            "BPF_LINK_CREATE",
            e,
        )),
    }
}

/// Attaches over netlink (`IFLA_XDP`), failing if a program is there
/// already (`XDP_FLAGS_UPDATE_IF_NOEXIST`).
pub fn attach_xdp_netlink(prog: BorrowedFd<'_>, ifindex: u32, mode: XdpMode) -> Result<Link> {
    let target = format!("ifindex {ifindex} ({mode:?}, netlink)");
    let err = |e: sys::NetlinkError| AttachError::Syscall {
        kind: LinkKind::Xdp,
        target: target.clone(),
        call: "RTM_SETLINK IFLA_XDP",
        hint: if e.message.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.message)
        },
        source: e.error,
    };
    let mut nl = sys::Rtnl::open().map_err(|e| err(e.into()))?;
    let owned = prog
        .try_clone_to_owned()
        .map_err(|e| AttachError::sys(LinkKind::Xdp, &*target, "dup", e))?;
    const UPDATE_IF_NOEXIST: u32 = 1;
    nl.set_xdp(ifindex, Some(prog), mode.flags() | UPDATE_IF_NOEXIST, None)
        .map_err(err)?;
    Ok(Link::legacy(
        LinkKind::Xdp,
        target,
        Box::new(XdpNetlink {
            nl,
            ifindex,
            flags: mode.flags(),
            prog: owned,
        }),
    ))
}

#[derive(Debug)]
struct XdpNetlink {
    nl: sys::Rtnl,
    ifindex: u32,
    flags: u32,
    prog: OwnedFd,
}

impl Detach for XdpNetlink {
    fn detach(&mut self) -> std::io::Result<()> {
        self.nl
            .set_xdp(self.ifindex, None, self.flags, Some(self.prog.as_fd()))
            .map_err(|e| e.error)
    }
}
