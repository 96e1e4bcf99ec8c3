//! Program type, expected attach type and attach target from the ELF
//! section name, following libbpf's section naming.

/// How the program's attach BTF id is found in vmlinux BTF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachBtf {
    /// No attach BTF id.
    None,
    /// `fentry/`, `fexit/`, `fmod_ret/`: the FUNC named so.
    Func(String),
    /// `tp_btf/`: the typedef `btf_trace_<name>`.
    TpBtf(String),
    /// `lsm/`: the FUNC `bpf_lsm_<name>`.
    Lsm(String),
    /// `iter/`: the FUNC `bpf_iter_<name>`.
    Iter(String),
    /// `freplace/`: a function of another BPF program (needs its fd).
    Ext(String),
    /// A BTF-attached section without a target after '/'.
    Missing,
}

impl AttachBtf {
    /// The BTF name to look up and whether it is a typedef (else a FUNC).
    pub fn btf_name(&self) -> Option<(String, bool)> {
        match self {
            AttachBtf::None | AttachBtf::Ext(_) | AttachBtf::Missing => None,
            AttachBtf::Func(n) => Some((n.clone(), false)),
            AttachBtf::TpBtf(n) => Some((format!("btf_trace_{n}"), true)),
            AttachBtf::Lsm(n) => Some((format!("bpf_lsm_{n}"), false)),
            AttachBtf::Iter(n) => Some((format!("bpf_iter_{n}"), false)),
        }
    }
}

/// What a section name says about a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgSpec {
    /// `BPF_PROG_TYPE_*`.
    pub prog_type: u32,
    /// `BPF_*` expected attach type (0 when none).
    pub expected_attach_type: u32,
    /// `prog_flags` (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`).
    pub prog_flags: u32,
    /// Attach target to resolve in vmlinux BTF.
    pub attach: AttachBtf,
}

const SLEEPABLE: u32 = 1 << 4;
const XDP_FRAGS: u32 = 1 << 5;

/// Program types (`enum bpf_prog_type`).
#[allow(missing_docs)]
pub mod types {
    pub const SOCKET_FILTER: u32 = 1;
    pub const KPROBE: u32 = 2;
    pub const SCHED_CLS: u32 = 3;
    pub const SCHED_ACT: u32 = 4;
    pub const TRACEPOINT: u32 = 5;
    pub const XDP: u32 = 6;
    pub const PERF_EVENT: u32 = 7;
    pub const CGROUP_SKB: u32 = 8;
    pub const CGROUP_SOCK: u32 = 9;
    pub const LWT_IN: u32 = 10;
    pub const LWT_OUT: u32 = 11;
    pub const LWT_XMIT: u32 = 12;
    pub const SOCK_OPS: u32 = 13;
    pub const SK_SKB: u32 = 14;
    pub const CGROUP_DEVICE: u32 = 15;
    pub const SK_MSG: u32 = 16;
    pub const RAW_TRACEPOINT: u32 = 17;
    pub const CGROUP_SOCK_ADDR: u32 = 18;
    pub const LWT_SEG6LOCAL: u32 = 19;
    pub const LIRC_MODE2: u32 = 20;
    pub const SK_REUSEPORT: u32 = 21;
    pub const FLOW_DISSECTOR: u32 = 22;
    pub const CGROUP_SYSCTL: u32 = 23;
    pub const RAW_TRACEPOINT_WRITABLE: u32 = 24;
    pub const CGROUP_SOCKOPT: u32 = 25;
    pub const TRACING: u32 = 26;
    pub const STRUCT_OPS: u32 = 27;
    pub const EXT: u32 = 28;
    pub const LSM: u32 = 29;
    pub const SK_LOOKUP: u32 = 30;
    pub const SYSCALL: u32 = 31;
    pub const NETFILTER: u32 = 32;
}

use types::*;

/// `SEC_SLEEPABLE`: loaded with `BPF_F_SLEEPABLE`.
const F_SLEEP: u8 = 1;
/// `SEC_XDP_FRAGS`: loaded with `BPF_F_XDP_HAS_FRAGS`.
const F_FRAGS: u8 = 2;
/// `SEC_ATTACH_BTF`: the part after '/' names a kernel BTF attach target.
const F_BTF: u8 = 4;

/// One entry of libbpf's `section_defs[]`: the section name pattern
/// (ending in '+': that name alone or followed by '/'; ending in '/': that
/// prefix; else the exact name), program type, expected attach type and
/// flags. The table is newest libbpf's (1.5+, in its order: the first
/// match wins); [`NOT_IN_LIBBPF_1_1`] lists the patterns libbpf 1.1 lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecDef {
    /// The pattern.
    pub sec: &'static str,
    /// `BPF_PROG_TYPE_*`.
    pub prog_type: u32,
    /// `BPF_*` expected attach type.
    pub expected_attach_type: u32,
    flags: u8,
}

const fn d(sec: &'static str, prog_type: u32, expected_attach_type: u32, flags: u8) -> SecDef {
    SecDef {
        sec,
        prog_type,
        expected_attach_type,
        flags,
    }
}

/// libbpf's section table (newest libbpf), in matching order.
pub const SEC_DEFS: &[SecDef] = &[
    d("socket", SOCKET_FILTER, 0, 0),
    d("sk_reuseport/migrate", SK_REUSEPORT, 40, 0),
    d("sk_reuseport", SK_REUSEPORT, 39, 0),
    d("kprobe+", KPROBE, 0, 0),
    d("uprobe+", KPROBE, 0, 0),
    d("uprobe.s+", KPROBE, 0, F_SLEEP),
    d("kretprobe+", KPROBE, 0, 0),
    d("uretprobe+", KPROBE, 0, 0),
    d("uretprobe.s+", KPROBE, 0, F_SLEEP),
    d("kprobe.multi+", KPROBE, 42, 0),
    d("kretprobe.multi+", KPROBE, 42, 0),
    d("kprobe.session+", KPROBE, 56, 0),
    d("uprobe.multi+", KPROBE, 48, 0),
    d("uretprobe.multi+", KPROBE, 48, 0),
    d("uprobe.session+", KPROBE, 57, 0),
    d("uprobe.multi.s+", KPROBE, 48, F_SLEEP),
    d("uretprobe.multi.s+", KPROBE, 48, F_SLEEP),
    d("uprobe.session.s+", KPROBE, 57, F_SLEEP),
    d("ksyscall+", KPROBE, 0, 0),
    d("kretsyscall+", KPROBE, 0, 0),
    d("usdt+", KPROBE, 0, 0),
    d("usdt.s+", KPROBE, 0, F_SLEEP),
    d("tc/ingress", SCHED_CLS, 46, 0),
    d("tc/egress", SCHED_CLS, 47, 0),
    d("tcx/ingress", SCHED_CLS, 46, 0),
    d("tcx/egress", SCHED_CLS, 47, 0),
    d("tc", SCHED_CLS, 0, 0),
    d("classifier", SCHED_CLS, 0, 0),
    d("action", SCHED_ACT, 0, 0),
    d("netkit/primary", SCHED_CLS, 54, 0),
    d("netkit/peer", SCHED_CLS, 55, 0),
    d("tracepoint+", TRACEPOINT, 0, 0),
    d("tp+", TRACEPOINT, 0, 0),
    d("raw_tracepoint+", RAW_TRACEPOINT, 0, 0),
    d("raw_tp+", RAW_TRACEPOINT, 0, 0),
    d("raw_tracepoint.w+", RAW_TRACEPOINT_WRITABLE, 0, 0),
    d("raw_tp.w+", RAW_TRACEPOINT_WRITABLE, 0, 0),
    d("tp_btf+", TRACING, 23, F_BTF),
    d("fentry+", TRACING, 24, F_BTF),
    d("fmod_ret+", TRACING, 26, F_BTF),
    d("fexit+", TRACING, 25, F_BTF),
    d("fentry.s+", TRACING, 24, F_BTF | F_SLEEP),
    d("fmod_ret.s+", TRACING, 26, F_BTF | F_SLEEP),
    d("fexit.s+", TRACING, 25, F_BTF | F_SLEEP),
    d("freplace+", EXT, 0, F_BTF),
    d("lsm+", LSM, 27, F_BTF),
    d("lsm.s+", LSM, 27, F_BTF | F_SLEEP),
    d("lsm_cgroup+", LSM, 43, F_BTF),
    d("iter+", TRACING, 28, F_BTF),
    d("iter.s+", TRACING, 28, F_BTF | F_SLEEP),
    d("syscall", SYSCALL, 0, F_SLEEP),
    d("xdp.frags/devmap", XDP, 33, F_FRAGS),
    d("xdp/devmap", XDP, 33, 0),
    d("xdp.frags/cpumap", XDP, 35, F_FRAGS),
    d("xdp/cpumap", XDP, 35, 0),
    d("xdp.frags", XDP, 37, F_FRAGS),
    d("xdp", XDP, 37, 0),
    d("perf_event", PERF_EVENT, 0, 0),
    d("lwt_in", LWT_IN, 0, 0),
    d("lwt_out", LWT_OUT, 0, 0),
    d("lwt_xmit", LWT_XMIT, 0, 0),
    d("lwt_seg6local", LWT_SEG6LOCAL, 0, 0),
    d("sockops", SOCK_OPS, 3, 0),
    d("sk_skb/stream_parser", SK_SKB, 4, 0),
    d("sk_skb/stream_verdict", SK_SKB, 5, 0),
    d("sk_skb/verdict", SK_SKB, 38, 0),
    d("sk_skb", SK_SKB, 0, 0),
    d("sk_msg", SK_MSG, 7, 0),
    d("lirc_mode2", LIRC_MODE2, 16, 0),
    d("flow_dissector", FLOW_DISSECTOR, 17, 0),
    d("cgroup_skb/ingress", CGROUP_SKB, 0, 0),
    d("cgroup_skb/egress", CGROUP_SKB, 1, 0),
    d("cgroup/skb", CGROUP_SKB, 0, 0),
    d("cgroup/sock_create", CGROUP_SOCK, 2, 0),
    d("cgroup/sock_release", CGROUP_SOCK, 34, 0),
    d("cgroup/sock", CGROUP_SOCK, 2, 0),
    d("cgroup/post_bind4", CGROUP_SOCK, 12, 0),
    d("cgroup/post_bind6", CGROUP_SOCK, 13, 0),
    d("cgroup/bind4", CGROUP_SOCK_ADDR, 8, 0),
    d("cgroup/bind6", CGROUP_SOCK_ADDR, 9, 0),
    d("cgroup/connect4", CGROUP_SOCK_ADDR, 10, 0),
    d("cgroup/connect6", CGROUP_SOCK_ADDR, 11, 0),
    d("cgroup/connect_unix", CGROUP_SOCK_ADDR, 49, 0),
    d("cgroup/sendmsg4", CGROUP_SOCK_ADDR, 14, 0),
    d("cgroup/sendmsg6", CGROUP_SOCK_ADDR, 15, 0),
    d("cgroup/sendmsg_unix", CGROUP_SOCK_ADDR, 50, 0),
    d("cgroup/recvmsg4", CGROUP_SOCK_ADDR, 19, 0),
    d("cgroup/recvmsg6", CGROUP_SOCK_ADDR, 20, 0),
    d("cgroup/recvmsg_unix", CGROUP_SOCK_ADDR, 51, 0),
    d("cgroup/getpeername4", CGROUP_SOCK_ADDR, 29, 0),
    d("cgroup/getpeername6", CGROUP_SOCK_ADDR, 30, 0),
    d("cgroup/getpeername_unix", CGROUP_SOCK_ADDR, 52, 0),
    d("cgroup/getsockname4", CGROUP_SOCK_ADDR, 31, 0),
    d("cgroup/getsockname6", CGROUP_SOCK_ADDR, 32, 0),
    d("cgroup/getsockname_unix", CGROUP_SOCK_ADDR, 53, 0),
    d("cgroup/sysctl", CGROUP_SYSCTL, 18, 0),
    d("cgroup/getsockopt", CGROUP_SOCKOPT, 21, 0),
    d("cgroup/setsockopt", CGROUP_SOCKOPT, 22, 0),
    d("cgroup/dev", CGROUP_DEVICE, 6, 0),
    d("struct_ops+", STRUCT_OPS, 0, 0),
    d("struct_ops.s+", STRUCT_OPS, 0, F_SLEEP),
    d("sk_lookup", SK_LOOKUP, 36, 0),
    d("netfilter", NETFILTER, 45, 0),
];

/// Patterns of [`SEC_DEFS`] that libbpf 1.1 does not have: libbpf 1.1
/// refuses such programs ("missing BPF prog type", EINVAL); btfx follows
/// newer libbpf and loads them.
pub const NOT_IN_LIBBPF_1_1: &[&str] = &[
    "kprobe.session+",
    "uprobe.multi+",
    "uretprobe.multi+",
    "uprobe.session+",
    "uprobe.multi.s+",
    "uretprobe.multi.s+",
    "uprobe.session.s+",
    "usdt.s+",
    "tc/ingress",
    "tc/egress",
    "tcx/ingress",
    "tcx/egress",
    "netkit/primary",
    "netkit/peer",
    "sk_skb/verdict",
    "cgroup/connect_unix",
    "cgroup/sendmsg_unix",
    "cgroup/recvmsg_unix",
    "cgroup/getpeername_unix",
    "cgroup/getsockname_unix",
    "struct_ops.s+",
    "netfilter",
];

impl SecDef {
    /// libbpf's `sec_def_matches()`.
    pub fn matches(&self, sec: &str) -> bool {
        if let Some(pfx) = self.sec.strip_suffix('+') {
            return sec
                .strip_prefix(pfx)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        }
        if self.sec.ends_with('/') {
            return sec.starts_with(self.sec);
        }
        sec == self.sec
    }
}

/// The first definition of [`SEC_DEFS`] that `sec` matches (libbpf's
/// `find_sec_def()`).
pub fn find_sec_def(sec: &str) -> Option<&'static SecDef> {
    SEC_DEFS.iter().find(|d| d.matches(sec))
}

impl ProgSpec {
    /// Why libbpf refuses to load this program before asking the kernel,
    /// as (errno, reason): a BTF-attached program without a target after
    /// '/', or a `freplace` program (it needs a target program's fd, which
    /// a plain load does not have).
    pub fn refusal(&self) -> Option<(i32, String)> {
        match &self.attach {
            AttachBtf::Ext(_) => Some((
                libc::EINVAL,
                "attach program FD is not set (freplace needs a target program)".into(),
            )),
            AttachBtf::Missing => Some((
                libc::EINVAL,
                "no BTF-based attach target is specified after '/'".into(),
            )),
            _ => None,
        }
    }
}

/// Where a BTF-attached program's target was found by
/// [`find_attach_target`]: which of the kernel BTFs (0 = vmlinux) and the
/// type id in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachTarget {
    /// Index into the kernel BTFs given (0 is vmlinux).
    pub kernel: usize,
    /// The FUNC / TYPEDEF id.
    pub id: btf::TypeId,
}

/// Finds a program's attach target as libbpf does
/// (`find_kernel_attach_btf_id`): `kernels[0]` is vmlinux, the others are
/// module BTFs (name, split BTF over vmlinux), asked for by `modules` only
/// when vmlinux does not have the target. A target written
/// `module:func` is looked up in that module only (`vmlinux:func` in
/// vmlinux only). A module's own types are searched (ids from its start
/// id). Not found: ESRCH with the name looked for.
pub fn find_attach_target<'k>(
    attach: &AttachBtf,
    vmlinux: Option<&btf::Btf<'k>>,
    modules: impl FnOnce() -> Vec<(String, btf::Btf<'k>)>,
) -> std::result::Result<(AttachTarget, Option<String>), (i32, String)> {
    let Some((full, typedef)) = attach.btf_name() else {
        return Err((libc::EINVAL, "no BTF attach target".into()));
    };
    let kind = if typedef {
        btf::Kind::Typedef
    } else {
        btf::Kind::Func
    };
    // The prefix (`btf_trace_`, `bpf_lsm_`, `bpf_iter_`) goes before the
    // function part of `module:func`.
    let raw = match attach {
        AttachBtf::Func(n) | AttachBtf::TpBtf(n) | AttachBtf::Lsm(n) | AttachBtf::Iter(n) => {
            n.as_str()
        }
        _ => "",
    };
    let (module, func) = match raw.split_once(':') {
        Some((m, f)) => (Some(m), f),
        None => (None, raw),
    };
    let prefix = full.strip_suffix(raw).unwrap_or("");
    let name = format!("{prefix}{func}");
    if module.is_none() || module == Some("vmlinux") {
        if let Some(id) = vmlinux.and_then(|v| v.find_by_name_kind(&name, kind)) {
            return Ok((AttachTarget { kernel: 0, id }, None));
        }
        if module.is_some() {
            return Err((libc::ESRCH, format!("'{name}' not found in vmlinux BTF")));
        }
    }
    for (i, (mname, mbtf)) in modules().iter().enumerate() {
        if module.is_some_and(|m| m != mname) {
            continue;
        }
        let own = mbtf
            .find_by_name_kind(&name, kind)
            .filter(|id| id.0 >= mbtf.start_id().0);
        if let Some(id) = own {
            return Ok((AttachTarget { kernel: i + 1, id }, Some(mname.clone())));
        }
    }
    Err((
        libc::ESRCH,
        match module {
            Some(m) => format!("'{name}' not found in module '{m}' BTF"),
            None => format!("'{name}' not found in vmlinux or module BTFs"),
        },
    ))
}

/// The running kernel's module BTFs (`/sys/kernel/btf/<module>`), each
/// split over vmlinux (`vmlinux_bytes`), for [`find_attach_target`]. A
/// file that cannot be read or parsed is left out.
pub fn running_modules(vmlinux_bytes: &[u8]) -> Vec<(String, btf::Btf<'static>)> {
    let Ok(dir) = std::fs::read_dir("/sys/kernel/btf") else {
        return Vec::new();
    };
    let files: Vec<(String, std::path::PathBuf)> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, _)| name != "vmlinux")
        .collect();
    // A kernel without modules (or without module BTF) costs no base parse.
    if files.is_empty() {
        return Vec::new();
    }
    let Ok(base) = btf::Btf::parse(vmlinux_bytes.to_vec()) else {
        return Vec::new();
    };
    let base = std::sync::Arc::new(base);
    let mut out: Vec<(String, btf::Btf<'static>)> = files
        .into_iter()
        .filter_map(|(name, path)| {
            let bytes = std::fs::read(path).ok()?;
            let btf = btf::Btf::parse_split(bytes, base.clone()).ok()?;
            Some((name, btf))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The fd of the kernel BTF object named `name` (a module's), found by
/// walking the kernel's BTF ids, for `attach_btf_obj_fd`.
pub fn module_btf_fd(name: &str) -> std::io::Result<std::os::fd::OwnedFd> {
    use crate::sys::{self, ObjKind};
    for id in sys::ids(ObjKind::Btf)? {
        let Ok(fd) = sys::fd_by_id(ObjKind::Btf, id) else {
            continue; // freed meanwhile
        };
        if sys::btf_info(&fd).is_ok_and(|i| i.kernel_btf && i.name == name) {
            return Ok(fd);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("no kernel BTF object named '{name}'"),
    ))
}

/// Refuses what libbpf 1.0+ refuses when it opens an object: a static
/// (`STB_LOCAL`) function in a program section ("program is static and
/// not supported"; libbpf returns ENOTSUP).
pub fn check_programs(obj: &crate::object::Object) -> crate::Result<()> {
    match obj.programs().iter().find(|p| !p.global) {
        Some(p) => Err(crate::Error::Program {
            prog: p.name.clone(),
            section: p.section_name.clone(),
            why: "program is static and not supported (libbpf 1.0+ refuses the object too)".into(),
        }),
        None => Ok(()),
    }
}

/// Resolves a section name as libbpf does; `None` when no definition
/// matches (libbpf then refuses the program at load: "missing BPF prog
/// type, check ELF section name", EINVAL).
pub fn from_section(sec: &str) -> Option<ProgSpec> {
    let def = find_sec_def(sec)?;
    let mut prog_flags = 0;
    if def.flags & F_SLEEP != 0 {
        prog_flags |= SLEEPABLE;
    }
    if def.flags & F_FRAGS != 0 {
        prog_flags |= XDP_FRAGS;
    }
    let attach = if def.flags & F_BTF != 0 {
        match sec.split_once('/') {
            None => AttachBtf::Missing,
            Some((_, target)) => {
                let target = target.to_string();
                match (def.prog_type, def.expected_attach_type) {
                    (EXT, _) => AttachBtf::Ext(target),
                    (_, 23) => AttachBtf::TpBtf(target),
                    (_, 27 | 43) => AttachBtf::Lsm(target),
                    (_, 28) => AttachBtf::Iter(target),
                    _ => AttachBtf::Func(target),
                }
            }
        }
    } else {
        AttachBtf::None
    };
    Some(ProgSpec {
        prog_type: def.prog_type,
        expected_attach_type: def.expected_attach_type,
        prog_flags,
        attach,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            from_section("kprobe/do_unlinkat").map(|s| s.prog_type),
            Some(KPROBE)
        );
        assert_eq!(
            from_section("ksyscall/openat").map(|s| s.prog_type),
            Some(KPROBE)
        );
        let t = from_section("tp_btf/sched_process_fork").unwrap();
        assert_eq!((t.prog_type, t.expected_attach_type), (TRACING, 23));
        assert_eq!(
            t.attach.btf_name(),
            Some(("btf_trace_sched_process_fork".into(), true))
        );
        assert_eq!(
            from_section("tracepoint/sched/sched_process_exec").map(|s| s.prog_type),
            Some(TRACEPOINT)
        );
        assert_eq!(
            from_section("raw_tp/sched_switch").map(|s| s.prog_type),
            Some(RAW_TRACEPOINT)
        );
        assert_eq!(
            from_section("xdp").map(|s| s.expected_attach_type),
            Some(37)
        );
        assert_eq!(from_section("tpx"), None);
        assert_eq!(
            from_section("cgroup_skb/egress").map(|s| s.expected_attach_type),
            Some(1)
        );
    }
}
