//! `bpf(2)` commands that attach programs: `BPF_LINK_CREATE`,
//! `BPF_RAW_TRACEPOINT_OPEN`, `BPF_LINK_DETACH`, the legacy
//! `BPF_PROG_ATTACH`/`BPF_PROG_DETACH`, `BPF_ITER_CREATE`, link info, and a
//! private element lookup that attach tests use to read counters (the
//! runtime map API replaces it).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::{bpf, owned, Attr};

const BPF_PROG_ATTACH: u32 = 8;
const BPF_PROG_DETACH: u32 = 9;
const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
const BPF_RAW_TRACEPOINT_OPEN: u32 = 17;
const BPF_LINK_CREATE: u32 = 28;
const BPF_LINK_UPDATE: u32 = 29;
const BPF_ITER_CREATE: u32 = 33;
const BPF_LINK_DETACH: u32 = 34;

fn raw(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

/// The attach-type-specific tail of `BPF_LINK_CREATE` (the union at byte 16
/// of `link_create`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LinkExtra<'a> {
    /// Nothing (cgroup, xdp, sk_lookup, struct_ops...).
    #[default]
    None,
    /// `perf_event.bpf_cookie` (attach type `BPF_PERF_EVENT`).
    PerfCookie(u64),
    /// `tracing.target_btf_id` and `tracing.cookie` (fentry, fexit, ...).
    Tracing {
        /// BTF id of the target (0: the one given at load).
        target_btf_id: u32,
        /// `bpf_get_attach_cookie()` value.
        cookie: u64,
    },
    /// `iter_info`: the bytes of a `union bpf_iter_link_info`.
    Iter(&'a [u8]),
    /// `kprobe_multi`: `flags` (`BPF_F_KPROBE_MULTI_RETURN`) and the
    /// kernel functions by name.
    KprobeMulti {
        /// `kprobe_multi.flags`.
        flags: u32,
        /// Function names.
        syms: &'a [std::ffi::CString],
    },
    /// `uprobe_multi`: one binary, several file offsets (6.6+).
    UprobeMulti {
        /// The binary's path.
        path: &'a std::ffi::CStr,
        /// File offsets to probe.
        offsets: &'a [u64],
        /// Reference counter offsets (empty, or one per offset).
        ref_ctr_offsets: &'a [u64],
        /// BPF cookies (empty, or one per offset).
        cookies: &'a [u64],
        /// `BPF_F_UPROBE_MULTI_RETURN` (1) for return probes.
        flags: u32,
        /// Only this process (0: all).
        pid: u32,
    },
    /// `netfilter`: protocol family, hook, priority, flags (6.4+).
    Netfilter {
        /// `NFPROTO_IPV4` (2) or `NFPROTO_IPV6` (10).
        pf: u32,
        /// `NF_INET_PRE_ROUTING` (0) ... `NF_INET_POST_ROUTING` (4).
        hooknum: u32,
        /// Priority among the hook's functions.
        priority: i32,
        /// `BPF_F_NETFILTER_IP_DEFRAG` (1).
        flags: u32,
    },
    /// `tcx.relative_fd` or `relative_id` and `expected_revision`.
    Tcx {
        /// Relative program or link (fd or id, per `flags`).
        relative: u32,
        /// `expected_revision` (0: any).
        expected_revision: u64,
    },
}

/// Arguments of `BPF_LINK_CREATE`.
#[derive(Debug, Clone, Copy)]
pub struct LinkCreate<'a> {
    /// The program (or, for struct_ops, the map) to link.
    pub prog_fd: BorrowedFd<'a>,
    /// `target_fd` or `target_ifindex`: a cgroup, netns, perf event fd, or
    /// an interface index (0 where the target is the program's BTF id).
    pub target: u32,
    /// `attach_type` (`enum bpf_attach_type`).
    pub attach_type: u32,
    /// `flags` (`XDP_FLAGS_*` for xdp, `BPF_F_BEFORE`... for tcx).
    pub flags: u32,
    /// Type-specific tail.
    pub extra: LinkExtra<'a>,
}

/// `BPF_LINK_CREATE`: the new link's fd.
pub fn link_create(a: &LinkCreate<'_>) -> io::Result<OwnedFd> {
    let mut attr = Attr::new();
    // Pointers to the kprobe.multi names, alive until the call returns.
    let mut sym_ptrs: Vec<u64> = Vec::new();
    attr.u32(0, raw(a.prog_fd));
    attr.u32(4, a.target);
    attr.u32(8, a.attach_type);
    attr.u32(12, a.flags);
    match a.extra {
        LinkExtra::None => {}
        LinkExtra::PerfCookie(c) => attr.u64(16, c),
        LinkExtra::Tracing {
            target_btf_id,
            cookie,
        } => {
            attr.u32(16, target_btf_id);
            attr.u64(24, cookie);
        }
        LinkExtra::KprobeMulti { flags, syms } => {
            sym_ptrs.extend(syms.iter().map(|c| c.as_ptr() as usize as u64));
            attr.u32(16, flags);
            attr.u32(20, sym_ptrs.len() as u32);
            attr.ptr(24, &sym_ptrs);
        }
        LinkExtra::UprobeMulti {
            path,
            offsets,
            ref_ctr_offsets,
            cookies,
            flags,
            pid,
        } => {
            let n = offsets.len();
            if (!ref_ctr_offsets.is_empty() && ref_ctr_offsets.len() != n)
                || (!cookies.is_empty() && cookies.len() != n)
            {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            attr.u64(16, path.as_ptr() as usize as u64);
            attr.ptr(24, offsets);
            if !ref_ctr_offsets.is_empty() {
                attr.ptr(32, ref_ctr_offsets);
            }
            if !cookies.is_empty() {
                attr.ptr(40, cookies);
            }
            attr.u32(48, n as u32);
            attr.u32(52, flags);
            attr.u32(56, pid);
        }
        LinkExtra::Netfilter {
            pf,
            hooknum,
            priority,
            flags,
        } => {
            attr.u32(16, pf);
            attr.u32(20, hooknum);
            attr.u32(24, priority as u32);
            attr.u32(28, flags);
        }
        LinkExtra::Iter(info) => {
            attr.ptr(16, info);
            attr.u32(24, info.len() as u32);
        }
        LinkExtra::Tcx {
            relative,
            expected_revision,
        } => {
            attr.u32(16, relative);
            attr.u64(24, expected_revision);
        }
    }
    // `iter_info`, the uprobe.multi arrays (checked to hold `cnt` entries)
    // and the kprobe.multi names are borrowed from `a`, and
    // `sym_ptrs` lives in this frame, across the call.
    bpf(BPF_LINK_CREATE, &mut attr).and_then(owned)
}

/// `BPF_RAW_TRACEPOINT_OPEN`: attaches a raw tracepoint program to the
/// tracepoint `name`, or (with `None`) a BTF-attached tracing program to the
/// target it was loaded for. Returns the link fd.
pub fn raw_tracepoint_open(prog: BorrowedFd<'_>, name: Option<&str>) -> io::Result<OwnedFd> {
    raw_tracepoint_open_cookie(prog, name, 0)
}

/// As [`raw_tracepoint_open`], with a BPF cookie (`raw_tracepoint.cookie`,
/// 6.10+; older kernels refuse a non-zero one with `EINVAL`).
pub fn raw_tracepoint_open_cookie(
    prog: BorrowedFd<'_>,
    name: Option<&str>,
    cookie: u64,
) -> io::Result<OwnedFd> {
    let cname = match name {
        Some(n) => {
            if n.as_bytes().contains(&0) {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            let mut v = n.as_bytes().to_vec();
            v.push(0);
            Some(v)
        }
        None => None,
    };
    let mut attr = Attr::new();
    if let Some(c) = &cname {
        attr.ptr(0, c);
    }
    attr.u32(8, raw(prog));
    attr.u64(16, cookie);
    // `cname` lives until the end of this function.
    bpf(BPF_RAW_TRACEPOINT_OPEN, &mut attr).and_then(owned)
}

/// `BPF_LINK_UPDATE`: puts `new_prog` in place of the link's program
/// (with `old_prog`, only if that one is attached: `BPF_F_REPLACE`).
pub fn link_update(
    link: BorrowedFd<'_>,
    new_prog: BorrowedFd<'_>,
    old_prog: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let mut attr = Attr::new();
    attr.u32(0, raw(link));
    attr.u32(4, raw(new_prog));
    if let Some(old) = old_prog {
        attr.u32(8, 1 << 2); // BPF_F_REPLACE
        attr.u32(12, raw(old));
    }
    bpf(BPF_LINK_UPDATE, &mut attr).map(|_| ())
}

/// `BPF_LINK_DETACH`: detaches the link's program now (the fd stays open
/// and the link becomes defunct), even if the link is pinned elsewhere.
pub fn link_detach(link: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = Attr::new();
    attr.u32(0, raw(link));
    bpf(BPF_LINK_DETACH, &mut attr).map(|_| ())
}

/// `BPF_PROG_ATTACH` (the pre-link interface): attaches `prog` to `target`
/// (a cgroup fd, netns fd, sockmap...) with `attach_type` and `flags`
/// (`BPF_F_ALLOW_MULTI`...).
pub fn prog_attach(
    prog: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    attach_type: u32,
    flags: u32,
) -> io::Result<()> {
    let mut attr = Attr::new();
    attr.u32(0, raw(target));
    attr.u32(4, raw(prog));
    attr.u32(8, attach_type);
    attr.u32(12, flags);
    bpf(BPF_PROG_ATTACH, &mut attr).map(|_| ())
}

/// `BPF_PROG_DETACH` of `prog` from `target` for `attach_type`.
pub fn prog_detach(
    prog: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    attach_type: u32,
) -> io::Result<()> {
    let mut attr = Attr::new();
    attr.u32(0, raw(target));
    attr.u32(4, raw(prog));
    attr.u32(8, attach_type);
    bpf(BPF_PROG_DETACH, &mut attr).map(|_| ())
}

/// `BPF_ITER_CREATE`: a new readable fd of an iterator link.
pub fn iter_create(link: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut attr = Attr::new();
    attr.u32(0, raw(link));
    bpf(BPF_ITER_CREATE, &mut attr).and_then(owned)
}

/// `BPF_OBJ_GET_INFO_BY_FD` of a program: its `type` (`enum bpf_prog_type`).
pub fn prog_type_of(prog: BorrowedFd<'_>) -> io::Result<u32> {
    let mut info = [0u8; 4];
    let mut attr = Attr::new();
    attr.u32(0, raw(prog));
    attr.u32(4, info.len() as u32);
    // The kernel writes up to 4 bytes into `info`, owned by this frame.
    attr.u64(8, info.as_mut_ptr() as usize as u64);
    bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    Ok(u32::from_ne_bytes(info))
}

/// `BPF_OBJ_PIN` of any BPF fd (link, program, map) at `path` in bpffs.
pub fn pin_fd(fd: impl AsFd, path: &std::path::Path) -> io::Result<()> {
    let p = super::c_path(path)?;
    let mut attr = Attr::new();
    attr.ptr(0, &p);
    attr.u32(8, fd.as_fd().as_raw_fd() as u32);
    bpf(super::BPF_OBJ_PIN, &mut attr).map(|_| ())
}

const BPF_MAP_CREATE: u32 = 0;
const BPF_MAP_DELETE_ELEM: u32 = 3;

/// `BPF_MAP_CREATE` of a `BPF_MAP_TYPE_STRUCT_OPS` map (one entry, key
/// `u32`) whose value is vmlinux BTF type `vmlinux_value_type_id`
/// (`struct bpf_struct_ops_<name>`); `flags` may hold `BPF_F_LINK`.
pub fn struct_ops_map_create(
    name: &str,
    value_size: u32,
    vmlinux_value_type_id: u32,
    flags: u32,
) -> io::Result<OwnedFd> {
    let mut attr = Attr::new();
    attr.u32(0, 26);
    attr.u32(4, 4);
    attr.u32(8, value_size);
    attr.u32(12, 1);
    attr.u32(16, flags);
    attr.bytes(28, &super::name16(name));
    attr.u32(60, vmlinux_value_type_id);
    bpf(BPF_MAP_CREATE, &mut attr).and_then(owned)
}

/// `BPF_MAP_DELETE_ELEM` of key 0 of a struct_ops map: unregisters a
/// struct_ops map registered without a link.
pub fn struct_ops_unregister(map: BorrowedFd<'_>) -> io::Result<()> {
    let key = 0u32.to_ne_bytes();
    let mut attr = Attr::new();
    attr.u32(0, raw(map));
    attr.ptr(8, &key);
    bpf(BPF_MAP_DELETE_ELEM, &mut attr).map(|_| ())
}
