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
}

impl AttachBtf {
    /// The BTF name to look up and whether it is a typedef (else a FUNC).
    pub fn btf_name(&self) -> Option<(String, bool)> {
        match self {
            AttachBtf::None => None,
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

/// Resolves a section name; `None` when libbpf would not know it either.
pub fn from_section(sec: &str) -> Option<ProgSpec> {
    let spec = |prog_type, expected_attach_type| ProgSpec {
        prog_type,
        expected_attach_type,
        prog_flags: 0,
        attach: AttachBtf::None,
    };
    // (exact or prefix-with-slash, type, attach type)
    const PLAIN: &[(&str, u32, u32)] = &[
        ("socket", SOCKET_FILTER, 0),
        ("sk_reuseport/migrate", SK_REUSEPORT, 40),
        ("sk_reuseport", SK_REUSEPORT, 39),
        ("kprobe.multi", KPROBE, 42),
        ("kretprobe.multi", KPROBE, 42),
        ("kprobe", KPROBE, 0),
        ("uprobe", KPROBE, 0),
        ("uprobe.s", KPROBE, 0),
        ("kretprobe", KPROBE, 0),
        ("uretprobe", KPROBE, 0),
        ("uretprobe.s", KPROBE, 0),
        ("ksyscall", KPROBE, 0),
        ("kretsyscall", KPROBE, 0),
        ("usdt", KPROBE, 0),
        ("tc", SCHED_CLS, 0),
        ("classifier", SCHED_CLS, 0),
        ("action", SCHED_ACT, 0),
        ("tracepoint", TRACEPOINT, 0),
        ("tp", TRACEPOINT, 0),
        ("raw_tracepoint", RAW_TRACEPOINT, 0),
        ("raw_tp", RAW_TRACEPOINT, 0),
        ("raw_tracepoint.w", RAW_TRACEPOINT_WRITABLE, 0),
        ("raw_tp.w", RAW_TRACEPOINT_WRITABLE, 0),
        ("xdp/devmap", XDP, 33),
        ("xdp/cpumap", XDP, 35),
        ("xdp", XDP, 37),
        ("perf_event", PERF_EVENT, 0),
        ("lwt_in", LWT_IN, 0),
        ("lwt_out", LWT_OUT, 0),
        ("lwt_xmit", LWT_XMIT, 0),
        ("lwt_seg6local", LWT_SEG6LOCAL, 0),
        ("sockops", SOCK_OPS, 3),
        ("sk_skb/stream_parser", SK_SKB, 4),
        ("sk_skb/stream_verdict", SK_SKB, 5),
        ("sk_skb", SK_SKB, 0),
        ("sk_msg", SK_MSG, 7),
        ("lirc_mode2", LIRC_MODE2, 16),
        ("flow_dissector", FLOW_DISSECTOR, 17),
        ("cgroup_skb/ingress", CGROUP_SKB, 0),
        ("cgroup_skb/egress", CGROUP_SKB, 1),
        ("cgroup/skb", CGROUP_SKB, 0),
        ("cgroup/sock_create", CGROUP_SOCK, 2),
        ("cgroup/sock_release", CGROUP_SOCK, 34),
        ("cgroup/sock", CGROUP_SOCK, 2),
        ("cgroup/post_bind4", CGROUP_SOCK, 12),
        ("cgroup/post_bind6", CGROUP_SOCK, 13),
        ("cgroup/dev", CGROUP_DEVICE, 6),
        ("cgroup/bind4", CGROUP_SOCK_ADDR, 8),
        ("cgroup/bind6", CGROUP_SOCK_ADDR, 9),
        ("cgroup/connect4", CGROUP_SOCK_ADDR, 10),
        ("cgroup/connect6", CGROUP_SOCK_ADDR, 11),
        ("cgroup/sendmsg4", CGROUP_SOCK_ADDR, 14),
        ("cgroup/sendmsg6", CGROUP_SOCK_ADDR, 15),
        ("cgroup/recvmsg4", CGROUP_SOCK_ADDR, 19),
        ("cgroup/recvmsg6", CGROUP_SOCK_ADDR, 20),
        ("cgroup/getpeername4", CGROUP_SOCK_ADDR, 29),
        ("cgroup/getpeername6", CGROUP_SOCK_ADDR, 30),
        ("cgroup/getsockname4", CGROUP_SOCK_ADDR, 31),
        ("cgroup/getsockname6", CGROUP_SOCK_ADDR, 32),
        ("cgroup/sysctl", CGROUP_SYSCTL, 18),
        ("cgroup/getsockopt", CGROUP_SOCKOPT, 21),
        ("cgroup/setsockopt", CGROUP_SOCKOPT, 22),
        ("struct_ops", STRUCT_OPS, 0),
        ("sk_lookup", SK_LOOKUP, 36),
        ("netfilter", NETFILTER, 45),
    ];
    let matches =
        |pfx: &str| sec == pfx || sec.strip_prefix(pfx).is_some_and(|r| r.starts_with('/'));
    // BTF-attached tracing programs first: their target is the suffix.
    const TRACING_PFX: &[(&str, u32, u32, u8)] = &[
        ("tp_btf/", TRACING, 23, 1),
        ("fentry/", TRACING, 24, 0),
        ("fentry.s/", TRACING, 24, 0),
        ("fexit/", TRACING, 25, 0),
        ("fexit.s/", TRACING, 25, 0),
        ("fmod_ret/", TRACING, 26, 0),
        ("fmod_ret.s/", TRACING, 26, 0),
        ("lsm/", LSM, 27, 2),
        ("lsm.s/", LSM, 27, 2),
        ("iter/", TRACING, 28, 3),
        ("iter.s/", TRACING, 28, 3),
    ];
    for &(pfx, t, a, how) in TRACING_PFX {
        if let Some(target) = sec.strip_prefix(pfx) {
            let target = target.to_string();
            let attach = match how {
                1 => AttachBtf::TpBtf(target),
                2 => AttachBtf::Lsm(target),
                3 => AttachBtf::Iter(target),
                _ => AttachBtf::Func(target),
            };
            return Some(ProgSpec {
                prog_type: t,
                expected_attach_type: a,
                prog_flags: if pfx.contains(".s/") { SLEEPABLE } else { 0 },
                attach,
            });
        }
    }
    if sec == "syscall" {
        return Some(ProgSpec {
            prog_flags: SLEEPABLE,
            ..spec(SYSCALL, 0)
        });
    }
    if sec == "xdp.frags" || sec.starts_with("xdp.frags/") {
        return Some(ProgSpec {
            prog_flags: XDP_FRAGS,
            ..spec(XDP, 37)
        });
    }
    PLAIN
        .iter()
        .find(|(pfx, _, _)| matches(pfx))
        .map(|&(pfx, t, a)| {
            let mut s = spec(t, a);
            if pfx.ends_with(".s") {
                s.prog_flags = SLEEPABLE;
            }
            s
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
