//! Socket filters (`socket` sections): `SO_ATTACH_BPF` on a socket the
//! caller gives; dropping the link detaches (`SO_DETACH_BPF`) through a
//! duplicate of the socket's fd, which the link holds.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::error::{AttachError, Result};
use super::link::Detach;
use super::{Link, LinkKind};
use crate::sys;

/// Attaches socket filter `prog` to `sock`.
pub fn attach_socket_filter(prog: BorrowedFd<'_>, sock: BorrowedFd<'_>) -> Result<Link> {
    use std::os::fd::AsRawFd;
    let target = format!("socket fd {}", sock.as_raw_fd());
    let dup = sock
        .try_clone_to_owned()
        .map_err(|e| AttachError::sys(LinkKind::SocketFilter, &*target, "dup", e))?;
    sys::so_attach_bpf(sock, prog)
        .map_err(|e| AttachError::sys(LinkKind::SocketFilter, &*target, "SO_ATTACH_BPF", e))?;
    Ok(Link::legacy(
        LinkKind::SocketFilter,
        target,
        Box::new(SockFilter(dup)),
    ))
}

#[derive(Debug)]
struct SockFilter(OwnedFd);

impl Detach for SockFilter {
    fn detach(&mut self) -> std::io::Result<()> {
        sys::so_detach_bpf(self.0.as_fd())
    }
}
