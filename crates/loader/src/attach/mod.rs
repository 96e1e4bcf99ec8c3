//! Attaching loaded programs to their hooks: owned [`Link`] values that
//! detach when dropped (and can be pinned), one module per family, and
//! [`auto_attach`], which follows libbpf's `bpf_program__attach` rules to
//! attach a program by its ELF section name.
//!
//! Every function takes plain inputs: the program's fd (a [`BorrowedFd`]),
//! its program type and expected attach type where they matter, and the
//! target. What each family needs from the kernel is in the crate README.
//!
//! ```no_run
//! use loader::attach::{auto_attach, Link, Prog, Targets};
//! use loader::progtype::types::TRACEPOINT;
//! use std::os::fd::BorrowedFd;
//!
//! /// Attaches a loaded `tp/syscalls/sys_enter_write` program (its fd from
//! /// the loader); the returned link detaches when dropped.
//! fn attach_write_tracer(fd: BorrowedFd<'_>) -> loader::attach::Result<Link> {
//!     let prog = Prog {
//!         fd,
//!         prog_type: TRACEPOINT,
//!         expected_attach_type: 0,
//!         section: "tp/syscalls/sys_enter_write",
//!         name: "handle_write",
//!     };
//!     auto_attach(&prog, &Targets::default())
//! }
//! ```

use std::os::fd::BorrowedFd;

use crate::sys;

mod auto;
pub mod cgroup;
pub mod elfsym;
mod error;
pub mod iter;
pub mod kprobe;
mod link;
pub mod netfilter;
pub mod perf_event;
mod probe_events;
pub mod raw_tp;
pub mod section;
pub mod sk_lookup;
pub mod socket;
pub mod sockmap;
pub mod struct_ops;
pub mod tc;
pub mod tracefs;
pub mod tracepoint;
pub mod tracing;
pub mod uprobe;
pub mod uprobe_multi;
pub mod usdt;
pub mod usdt_spec;
pub mod xdp;

pub use auto::auto_attach;
pub use cgroup::{attach_cgroup, attach_cgroup_legacy};
pub use error::{load_refusal_hint, AttachError, Result};
pub use iter::{attach_iter, read_iter, IterScope};
pub use kprobe::{attach_kprobe, attach_kprobe_multi, attach_ksyscall};
pub use link::{Link, LinkKind};
pub use netfilter::{attach_netfilter, NetfilterHook};
pub use perf_event::{attach_perf_event, attach_software_event, SoftwareEvent};
pub use raw_tp::{attach_raw_tracepoint, attach_raw_tracepoint_cookie};
pub use section::{parse_section, SecTarget};
pub use sk_lookup::{attach_flow_dissector, attach_sk_lookup};
pub use socket::attach_socket_filter;
pub use sockmap::attach_sockmap;
pub use struct_ops::attach_struct_ops;
pub use tc::{attach_tc, attach_tcx, TcHook, TcOpts};
pub use tracepoint::{
    attach_tracepoint, attach_tracepoint_cookie, attach_tracepoint_with, PerfMethod,
};
pub use tracing::{attach_tracing, attach_tracing_cookie};
pub use uprobe::{attach_uprobe, UprobeOpts};
pub use uprobe_multi::attach_uprobe_multi;
pub use usdt::{attach_usdt, UsdtManager, UsdtOpts};
pub use xdp::{attach_xdp, attach_xdp_netlink, XdpMode};

/// A loaded program, as attaching needs it.
#[derive(Debug, Clone, Copy)]
pub struct Prog<'a> {
    /// The program's fd.
    pub fd: BorrowedFd<'a>,
    /// `BPF_PROG_TYPE_*` it was loaded as.
    pub prog_type: u32,
    /// `expected_attach_type` it was loaded with (0 when none).
    pub expected_attach_type: u32,
    /// Its ELF section name (`tp/syscalls/sys_enter_write`...).
    pub section: &'a str,
    /// Its name (for messages).
    pub name: &'a str,
}

/// Targets a section name cannot give (an interface, a cgroup, a process,
/// a binary, a socket...): what `btfx run --ifname/--cgroup/--pid/--binary`
/// passes. Fields left empty are reported as missing by [`auto_attach`]
/// when the program needs them.
#[derive(Debug, Clone, Default)]
pub struct Targets<'a> {
    /// Network interface by index (xdp, tc, tcx).
    pub ifindex: Option<u32>,
    /// Network interface by name (xdp, tc, tcx), used when `ifindex` is not set.
    pub ifname: Option<String>,
    /// cgroup v2 directory (cgroup hooks).
    pub cgroup: Option<std::path::PathBuf>,
    /// Process to probe (uprobe, usdt); all processes when `None`.
    pub pid: Option<i32>,
    /// Binary or library for uprobe/usdt sections that name none.
    pub binary: Option<std::path::PathBuf>,
    /// Function for bare `uprobe`/`uretprobe` sections.
    pub function: Option<String>,
    /// Network namespace file for sk_lookup (default: the caller's,
    /// `/proc/self/ns/net`).
    pub netns: Option<std::path::PathBuf>,
    /// Socket for socket filters.
    pub socket: Option<BorrowedFd<'a>>,
    /// Software event for `perf_event` programs (opened on every CPU).
    pub perf_event: Option<SoftwareEvent>,
    /// XDP mode (`xdp` sections).
    pub xdp_mode: XdpMode,
    /// Sockmap or sockhash for `sk_msg` and `sk_skb` programs.
    pub sockmap: Option<BorrowedFd<'a>>,
    /// BPF cookie (`bpf_get_attach_cookie()`) for the kinds that take one:
    /// tracepoint, raw_tp, tp_btf/fentry/fexit/fmod_ret/lsm, uprobe.
    pub cookie: Option<u64>,
    /// Hook for `netfilter` programs.
    pub netfilter: Option<NetfilterHook>,
    /// The object's USDT spec slots (usdt sections).
    pub usdt: Option<&'a UsdtManager>,
    /// Direction for `tc`/`classifier` sections (`tc/ingress`,
    /// `tcx/egress`... name their own).
    pub tc_hook: TcHook,
}

impl Targets<'_> {
    /// The interface index: `ifindex`, else `ifname` looked up in the
    /// calling thread's network namespace.
    pub fn resolve_ifindex(&self, kind: LinkKind) -> Option<Result<u32>> {
        if let Some(i) = self.ifindex {
            return Some(Ok(i));
        }
        let name = self.ifname.as_deref()?;
        Some(sys::if_nametoindex(name).map_err(|e| AttachError::Target {
            kind,
            target: name.to_string(),
            why: format!("no such interface: {e}"),
        }))
    }
}
