//! rtnetlink for the attachments that predate BPF links: XDP through
//! `IFLA_XDP` on `RTM_SETLINK`, and classic tc (a `clsact` qdisc and a
//! `cls_bpf` filter with `RTM_NEWQDISC`/`RTM_NEWTFILTER` and their deletes).
//! Also the socket options of socket filters (`SO_ATTACH_BPF`) and
//! `if_nametoindex`.
//!
//! Messages are built as byte vectors (`nlmsghdr`, then `ifinfomsg` or
//! `tcmsg`, then 4-byte aligned attributes) in native byte order; every
//! request asks for an ack, and the kernel's extended ack message (when it
//! gives one) is returned with the error.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

const NETLINK_ROUTE: i32 = 0;
const NETLINK_CAP_ACK: i32 = 10;
const NETLINK_EXT_ACK: i32 = 11;
const SOL_NETLINK: i32 = 270;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLA_F_NESTED: u16 = 0x8000;

const RTM_SETLINK: u16 = 19;
const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;

const IFLA_XDP: u16 = 43;
const IFLA_XDP_FD: u16 = 1;
const IFLA_XDP_FLAGS: u16 = 3;
const IFLA_XDP_EXPECTED_FD: u16 = 8;
/// `XDP_FLAGS_REPLACE`.
const XDP_FLAGS_REPLACE: u32 = 1 << 4;

const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_BPF_FD: u16 = 6;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;

/// `TC_H_CLSACT` (also `TC_H_INGRESS`): the clsact qdisc's parent.
pub const TC_H_CLSACT: u32 = 0xFFFF_FFF1;
/// Parent of ingress filters under clsact (`TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)`).
pub const TC_PARENT_INGRESS: u32 = 0xFFFF_FFF2;
/// Parent of egress filters under clsact.
pub const TC_PARENT_EGRESS: u32 = 0xFFFF_FFF3;
const CLSACT_HANDLE: u32 = 0xFFFF_0000;
const ETH_P_ALL: u16 = 3;

/// A netlink error: the errno and the kernel's extended ack message.
#[derive(Debug)]
pub struct NetlinkError {
    /// The error.
    pub error: io::Error,
    /// The kernel's explanation (`NLMSGERR_ATTR_MSG`), empty when none.
    pub message: String,
}

impl std::fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.error)
        } else {
            write!(f, "{} ({})", self.error, self.message)
        }
    }
}

impl std::error::Error for NetlinkError {}

impl From<io::Error> for NetlinkError {
    fn from(error: io::Error) -> Self {
        NetlinkError {
            error,
            message: String::new(),
        }
    }
}

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A `NETLINK_ROUTE` socket, bound to the network namespace of the thread
/// that opened it for its whole life.
#[derive(Debug)]
pub struct Rtnl {
    fd: OwnedFd,
    seq: u32,
}

/// A message under construction.
struct Msg(Vec<u8>);

impl Msg {
    fn new(ty: u16, flags: u16, seq: u32) -> Msg {
        let mut v = Vec::with_capacity(128);
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        Msg(v)
    }
    fn put(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }
    /// An attribute with payload `b`.
    fn attr(&mut self, ty: u16, b: &[u8]) {
        let len = (4 + b.len()) as u16;
        self.0.extend_from_slice(&len.to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.put(b);
    }
    /// Starts a nested attribute; returns where to patch its length.
    fn nest(&mut self, ty: u16) -> usize {
        let at = self.0.len();
        self.0.extend_from_slice(&0u16.to_ne_bytes());
        self.0.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        at
    }
    fn end_nest(&mut self, at: usize) {
        let len = (self.0.len() - at) as u16;
        if let Some(d) = self.0.get_mut(at..at + 2) {
            d.copy_from_slice(&len.to_ne_bytes());
        }
    }
    fn finish(mut self) -> Vec<u8> {
        let len = self.0.len() as u32;
        self.0[..4].copy_from_slice(&len.to_ne_bytes());
        self.0
    }
}

/// `struct tcmsg`: family, ifindex, handle, parent, info.
fn tcmsg(ifindex: u32, handle: u32, parent: u32, info: u32) -> [u8; 20] {
    let mut b = [0u8; 20];
    b[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    b[8..12].copy_from_slice(&handle.to_ne_bytes());
    b[12..16].copy_from_slice(&parent.to_ne_bytes());
    b[16..20].copy_from_slice(&info.to_ne_bytes());
    b
}

fn cstr_attr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// `info` of a filter: priority in the high half, protocol (network byte
/// order) in the low.
fn filter_info(prio: u16, protocol: u16) -> u32 {
    (u32::from(prio) << 16) | u32::from(protocol.to_be())
}

impl Rtnl {
    /// Opens a `NETLINK_ROUTE` socket with extended acks.
    pub fn open() -> io::Result<Rtnl> {
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let fd = cvt(unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_ROUTE,
            )
        })?;
        // SAFETY: `fd` was just created by socket(2) and is owned by no one else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let one: libc::c_int = 1;
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            // SAFETY: a pointer to a live c_int and its size; failure only
            // means older kernels without extended acks, which is fine.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    SOL_NETLINK,
                    opt,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
        // An answer that never comes (or never parses) ends the wait after
        // five seconds with EAGAIN instead of blocking forever.
        let tv = libc::timeval {
            tv_sec: 5,
            tv_usec: 0,
        };
        // SAFETY: a pointer to a live timeval and its size.
        cvt(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        })?;
        Ok(Rtnl { fd, seq: 1 })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends `msg` to the kernel and waits for its ack.
    fn request(&mut self, msg: Vec<u8>, seq: u32) -> Result<(), NetlinkError> {
        // SAFETY: an all-zero sockaddr_nl is valid (pid 0 = the kernel).
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `msg` and `addr` are live for the call with the sizes given.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error().into());
        }
        let mut buf = vec![0u8; 16384];
        loop {
            // SAFETY: `buf` is writable for its whole length during the call.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e.into());
            }
            let data = buf.get(..n as usize).unwrap_or_default();
            if let Some(r) = find_ack(data, seq) {
                return r;
            }
        }
    }

    /// Sets (`prog = Some`) or removes XDP on `ifindex` with `flags`
    /// (`XDP_FLAGS_*`); with `expected`, only if that program is the one
    /// attached (`XDP_FLAGS_REPLACE`).
    pub fn set_xdp(
        &mut self,
        ifindex: u32,
        prog: Option<BorrowedFd<'_>>,
        flags: u32,
        expected: Option<BorrowedFd<'_>>,
    ) -> Result<(), NetlinkError> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_SETLINK, 0, seq);
        // struct ifinfomsg: family, pad, type, index, flags, change.
        let mut ifi = [0u8; 16];
        ifi[4..8].copy_from_slice(&ifindex.to_ne_bytes());
        m.put(&ifi);
        let at = m.nest(IFLA_XDP);
        let fd: i32 = prog.map(|p| p.as_raw_fd()).unwrap_or(-1);
        m.attr(IFLA_XDP_FD, &fd.to_ne_bytes());
        let mut flags = flags;
        if let Some(e) = expected {
            flags |= XDP_FLAGS_REPLACE;
            m.attr(IFLA_XDP_EXPECTED_FD, &e.as_raw_fd().to_ne_bytes());
        }
        if flags != 0 {
            m.attr(IFLA_XDP_FLAGS, &flags.to_ne_bytes());
        }
        m.end_nest(at);
        self.request(m.finish(), seq)
    }

    /// Adds a `clsact` qdisc to `ifindex`; `Ok(false)` when one is there
    /// already (`EEXIST`).
    pub fn add_clsact(&mut self, ifindex: u32) -> Result<bool, NetlinkError> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, seq);
        m.put(&tcmsg(ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0));
        m.attr(TCA_KIND, &cstr_attr("clsact"));
        match self.request(m.finish(), seq) {
            Ok(()) => Ok(true),
            Err(e) if e.error.raw_os_error() == Some(libc::EEXIST) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the `clsact` qdisc of `ifindex` (and every filter under it).
    pub fn del_clsact(&mut self, ifindex: u32) -> Result<(), NetlinkError> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_DELQDISC, 0, seq);
        m.put(&tcmsg(ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0));
        m.attr(TCA_KIND, &cstr_attr("clsact"));
        self.request(m.finish(), seq)
    }

    /// Adds a direct-action `cls_bpf` filter running `prog` under `parent`
    /// ([`TC_PARENT_INGRESS`] or [`TC_PARENT_EGRESS`]) with `handle` and
    /// `prio`, for every protocol.
    pub fn add_bpf_filter(
        &mut self,
        ifindex: u32,
        parent: u32,
        handle: u32,
        prio: u16,
        prog: BorrowedFd<'_>,
        name: &str,
    ) -> Result<(), NetlinkError> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, seq);
        m.put(&tcmsg(
            ifindex,
            handle,
            parent,
            filter_info(prio, ETH_P_ALL),
        ));
        m.attr(TCA_KIND, &cstr_attr("bpf"));
        let at = m.nest(TCA_OPTIONS);
        m.attr(TCA_BPF_FD, &(prog.as_raw_fd() as u32).to_ne_bytes());
        m.attr(TCA_BPF_NAME, &cstr_attr(name));
        m.attr(TCA_BPF_FLAGS, &TCA_BPF_FLAG_ACT_DIRECT.to_ne_bytes());
        m.end_nest(at);
        self.request(m.finish(), seq)
    }

    /// Deletes the `cls_bpf` filter `handle`/`prio` under `parent`.
    pub fn del_bpf_filter(
        &mut self,
        ifindex: u32,
        parent: u32,
        handle: u32,
        prio: u16,
    ) -> Result<(), NetlinkError> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_DELTFILTER, 0, seq);
        m.put(&tcmsg(
            ifindex,
            handle,
            parent,
            filter_info(prio, ETH_P_ALL),
        ));
        m.attr(TCA_KIND, &cstr_attr("bpf"));
        self.request(m.finish(), seq)
    }
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// Finds the `NLMSG_ERROR` answering `seq` in a datagram.
fn find_ack(data: &[u8], seq: u32) -> Option<Result<(), NetlinkError>> {
    let mut off = 0usize;
    while off + 16 <= data.len() {
        let len = u32_at(data, off)? as usize;
        let ty = u16_at(data, off + 4)?;
        let flags = u16_at(data, off + 6)?;
        let s = u32_at(data, off + 8)?;
        if len < 16 || off + len > data.len() {
            return None;
        }
        if ty == NLMSG_ERROR && s == seq {
            let msg = data.get(off..off + len)?;
            let errno = u32_at(msg, 16)? as i32;
            if errno == 0 {
                return Some(Ok(()));
            }
            // With NETLINK_CAP_ACK only the request's header is echoed
            // (16 bytes); attributes follow when NLM_F_ACK_TLVS is set.
            let mut message = String::new();
            if flags & NLM_F_ACK_TLVS != 0 {
                let mut a = 16 + 4 + 16;
                while a + 4 <= msg.len() {
                    let alen = u16_at(msg, a)? as usize;
                    let aty = u16_at(msg, a + 2)? & 0x3fff;
                    if alen < 4 || a + alen > msg.len() {
                        break;
                    }
                    if aty == NLMSGERR_ATTR_MSG {
                        let body = msg.get(a + 4..a + alen)?;
                        let end = body.iter().position(|&c| c == 0).unwrap_or(body.len());
                        message = String::from_utf8_lossy(body.get(..end)?).into_owned();
                    }
                    a += (alen + 3) & !3;
                }
            }
            return Some(Err(NetlinkError {
                error: io::Error::from_raw_os_error(-errno),
                message,
            }));
        }
        off += (len + 3) & !3;
    }
    None
}

/// `if_nametoindex(3)` in the calling thread's network namespace.
pub fn if_nametoindex(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a NUL-terminated string owned by this frame.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(idx)
    }
}

/// `setsockopt(SOL_SOCKET, SO_ATTACH_BPF, prog)`: runs socket filter `prog`
/// on `sock`'s incoming packets.
pub fn so_attach_bpf(sock: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let fd: libc::c_int = prog.as_raw_fd();
    // SAFETY: a pointer to a live c_int and its size, on a borrowed fd.
    cvt(unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_BPF,
            (&fd as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

/// `setsockopt(SOL_SOCKET, SO_DETACH_BPF)`.
pub fn so_detach_bpf(sock: BorrowedFd<'_>) -> io::Result<()> {
    let zero: libc::c_int = 0;
    // SAFETY: as in `so_attach_bpf`; the kernel ignores the value.
    cvt(unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_DETACH_BPF,
            (&zero as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}
