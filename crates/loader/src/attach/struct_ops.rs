//! struct_ops: a `BPF_MAP_TYPE_STRUCT_OPS` map whose value (a kernel
//! struct such as `tcp_congestion_ops`, with program fds in its function
//! pointers) has been written is registered with the kernel subsystem. A
//! map created with `BPF_F_LINK` is registered by `BPF_LINK_CREATE`
//! (`BPF_STRUCT_OPS`, 6.0+) and unregistered when the link is closed; an
//! older-style map is registered by the value update itself, and the link
//! made here unregisters it on drop (`BPF_MAP_DELETE_ELEM`), as libbpf's
//! `bpf_map__attach_struct_ops`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::error::{AttachError, Result};
use super::link::Detach;
use super::{Link, LinkKind};
use crate::sys;

/// `BPF_F_LINK`.
pub const BPF_F_LINK: u32 = 1 << 13;
/// `BPF_STRUCT_OPS`.
const BPF_STRUCT_OPS: u32 = 44;

/// Registers the struct_ops map `map` (its value already written).
pub fn attach_struct_ops(map: BorrowedFd<'_>) -> Result<Link> {
    let owned = map
        .try_clone_to_owned()
        .map_err(|e| AttachError::sys(LinkKind::StructOps, "map", "dup", e))?;
    let info = sys::map_info(map)
        .map_err(|e| AttachError::sys(LinkKind::StructOps, "map", "BPF_OBJ_GET_INFO_BY_FD", e))?;
    let target = format!("struct_ops map id {}", info.id);
    if info.map_type.raw() != 26 {
        return Err(AttachError::Target {
            kind: LinkKind::StructOps,
            target,
            why: format!(
                "map type {} is not BPF_MAP_TYPE_STRUCT_OPS (26)",
                info.map_type
            ),
        });
    }
    if info.map_flags & BPF_F_LINK == 0 {
        // Registered when its value was written: only unregister on drop.
        return Ok(Link::legacy(
            LinkKind::StructOps,
            target,
            Box::new(Unregister(owned)),
        ));
    }
    let a = sys::LinkCreate {
        prog_fd: map,
        target: 0,
        attach_type: BPF_STRUCT_OPS,
        flags: 0,
        extra: sys::LinkExtra::None,
    };
    let link = sys::link_create(&a)
        .map_err(|e| AttachError::sys(LinkKind::StructOps, &*target, "BPF_LINK_CREATE", e))?;
    Ok(Link::bpf(LinkKind::StructOps, target, link))
}

#[derive(Debug)]
struct Unregister(OwnedFd);

impl Detach for Unregister {
    fn detach(&mut self) -> std::io::Result<()> {
        sys::struct_ops_unregister(self.0.as_fd())
    }
}
