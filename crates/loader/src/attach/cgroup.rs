//! cgroup hooks (`cgroup_skb/ingress`, `cgroup/connect4`, `sockops`,
//! `cgroup/sysctl`, ...): `BPF_LINK_CREATE` on a cgroup v2 directory's fd
//! with the program's expected attach type (5.7+), else the legacy
//! `BPF_PROG_ATTACH` with `BPF_F_ALLOW_MULTI`, undone on drop with
//! `BPF_PROG_DETACH`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use super::error::{AttachError, Result};
use super::link::Detach;
use super::{Link, LinkKind};
use crate::sys;

/// `BPF_F_ALLOW_MULTI`.
const ALLOW_MULTI: u32 = 1 << 1;

/// Opens a cgroup v2 directory.
pub(crate) fn open_dir(kind: LinkKind, path: &Path) -> Result<OwnedFd> {
    let f = std::fs::File::open(path).map_err(|e| AttachError::Target {
        kind,
        target: path.display().to_string(),
        why: format!("cannot open: {e}"),
    })?;
    Ok(OwnedFd::from(f))
}

/// The cgroup v2 mount point, from `/proc/mounts`.
pub fn cgroup2_root() -> Option<std::path::PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(2) == Some(&"cgroup2")).then(|| f.get(1).map(std::path::PathBuf::from))?
    })
}

/// Attaches `prog` to the cgroup at `path` for `attach_type` (its expected
/// attach type: 0 ingress, 1 egress, 3 sock_ops, 10 connect4, ...).
pub fn attach_cgroup(prog: BorrowedFd<'_>, path: &Path, attach_type: u32) -> Result<Link> {
    let cg = open_dir(LinkKind::Cgroup, path)?;
    attach_cgroup_fd(prog, cg, attach_type, path.display().to_string())
}

/// As [`attach_cgroup`], with an open cgroup directory.
pub fn attach_cgroup_fd(
    prog: BorrowedFd<'_>,
    cgroup: OwnedFd,
    attach_type: u32,
    name: String,
) -> Result<Link> {
    let target = format!("{name} (attach type {attach_type})");
    let a = sys::LinkCreate {
        prog_fd: prog,
        target: cgroup.as_raw_fd() as u32,
        attach_type,
        flags: 0,
        extra: sys::LinkExtra::None,
    };
    match sys::link_create(&a) {
        Ok(link) => Ok(Link::bpf(LinkKind::Cgroup, target, link)),
        // Kernels before cgroup links.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            prog_attach_legacy(prog, cgroup, attach_type, target)
                .map_err(|_| AttachError::sys(LinkKind::Cgroup, name, "BPF_LINK_CREATE", e))
        }
        Err(e) => Err(AttachError::sys(
            LinkKind::Cgroup,
            target,
            "BPF_LINK_CREATE",
            e,
        )),
    }
}

/// Attaches with the legacy `BPF_PROG_ATTACH` (`BPF_F_ALLOW_MULTI`), as
/// kernels before 5.7 need; dropping the link runs `BPF_PROG_DETACH`.
pub fn attach_cgroup_legacy(prog: BorrowedFd<'_>, path: &Path, attach_type: u32) -> Result<Link> {
    let cg = open_dir(LinkKind::Cgroup, path)?;
    let target = format!(
        "{} (attach type {attach_type}, BPF_PROG_ATTACH)",
        path.display()
    );
    prog_attach_legacy(prog, cg, attach_type, target)
}

fn prog_attach_legacy(
    prog: BorrowedFd<'_>,
    cgroup: OwnedFd,
    attach_type: u32,
    target: String,
) -> Result<Link> {
    sys::prog_attach(prog, cgroup.as_fd(), attach_type, ALLOW_MULTI)
        .map_err(|e| AttachError::sys(LinkKind::Cgroup, &*target, "BPF_PROG_ATTACH", e))?;
    let prog = prog
        .try_clone_to_owned()
        .map_err(|e| AttachError::sys(LinkKind::Cgroup, &*target, "dup", e))?;
    Ok(Link::legacy(
        LinkKind::Cgroup,
        target,
        Box::new(ProgAttach {
            prog,
            target: cgroup,
            attach_type,
        }),
    ))
}

/// A `BPF_PROG_ATTACH` attachment, undone by `BPF_PROG_DETACH`.
#[derive(Debug)]
pub(crate) struct ProgAttach {
    pub(crate) prog: OwnedFd,
    pub(crate) target: OwnedFd,
    pub(crate) attach_type: u32,
}

impl Detach for ProgAttach {
    fn detach(&mut self) -> std::io::Result<()> {
        sys::prog_detach(self.prog.as_fd(), self.target.as_fd(), self.attach_type)
    }
}
