//! [`auto_attach`]: attach a program by its section name and program type,
//! as libbpf's `bpf_program__attach` does, with [`Targets`] supplying what a
//! section cannot name (libbpf leaves those programs unattached; here the
//! missing target is reported by name).

use super::error::{AttachError, Result};
use super::section::{parse_section, SecTarget};
use super::{Link, LinkKind, Prog, Targets, TcHook, TcOpts};
use crate::progtype::types as pt;

fn missing(p: &Prog<'_>, what: &'static str) -> AttachError {
    AttachError::MissingTarget {
        section: p.section.to_string(),
        what,
    }
}

fn not_auto(p: &Prog<'_>, why: impl Into<String>) -> AttachError {
    AttachError::NotAutoAttachable {
        section: p.section.to_string(),
        why: why.into(),
    }
}

/// Attaches `prog` where its section name (and `targets`) say.
///
/// Follows libbpf's `bpf_program__attach` per section family; sections
/// that name no target (`tp`, `raw_tp`, `xdp`, `cgroup/...`) take it from
/// `targets`, or fail with [`AttachError::MissingTarget`] saying what is
/// needed.
pub fn auto_attach(prog: &Prog<'_>, targets: &Targets<'_>) -> Result<Link> {
    let sec = parse_section(prog.section)?;
    match prog.prog_type {
        pt::TRACEPOINT => match sec {
            SecTarget::Tracepoint { category, name } => match targets.cookie {
                Some(c) => super::attach_tracepoint_cookie(prog.fd, &category, &name, c),
                None => super::attach_tracepoint(prog.fd, &category, &name),
            },
            _ => Err(missing(prog, "a tracepoint (tp/<category>/<name>)")),
        },
        pt::RAW_TRACEPOINT | pt::RAW_TRACEPOINT_WRITABLE => match sec {
            SecTarget::RawTracepoint(name) => match targets.cookie {
                Some(c) => super::attach_raw_tracepoint_cookie(prog.fd, &name, c),
                None => super::attach_raw_tracepoint(prog.fd, &name),
            },
            _ => Err(missing(prog, "a tracepoint name (raw_tp/<name>)")),
        },
        pt::TRACING | pt::LSM => match (prog.expected_attach_type, sec) {
            (23..=27, SecTarget::Tracing(t)) => match targets.cookie {
                Some(c) => super::attach_tracing_cookie(prog.fd, prog.expected_attach_type, &t, c),
                None => super::attach_tracing(prog.fd, prog.expected_attach_type, &t),
            },
            (28, SecTarget::Iter(t)) => super::attach_iter(prog.fd, &t, super::IterScope::All),
            (_, _) => Err(not_auto(
                prog,
                format!(
                    "tracing program with expected attach type {}",
                    prog.expected_attach_type
                ),
            )),
        },
        pt::KPROBE => kprobe_family(prog, sec, targets),
        pt::XDP => {
            if prog.expected_attach_type != 37 && prog.expected_attach_type != 0 {
                return Err(not_auto(
                    prog,
                    "xdp/devmap and xdp/cpumap programs run from a map entry, not an interface",
                ));
            }
            let ifindex = targets
                .resolve_ifindex(LinkKind::Xdp)
                .ok_or_else(|| missing(prog, "an interface (Targets::ifindex or ifname)"))??;
            super::attach_xdp(prog.fd, ifindex, targets.xdp_mode)
        }
        pt::SCHED_CLS => {
            let kind = if prog.section.starts_with("tc/") || prog.section.starts_with("tcx/") {
                LinkKind::Tcx
            } else {
                LinkKind::Tc
            };
            let ifindex = targets
                .resolve_ifindex(kind)
                .ok_or_else(|| missing(prog, "an interface (Targets::ifindex or ifname)"))??;
            match prog.section {
                "tc/ingress" | "tcx/ingress" => {
                    super::attach_tcx(prog.fd, ifindex, TcHook::Ingress)
                }
                "tc/egress" | "tcx/egress" => super::attach_tcx(prog.fd, ifindex, TcHook::Egress),
                _ if kind == LinkKind::Tcx => Err(AttachError::BadSection {
                    section: prog.section.to_string(),
                    why: "expected tcx/ingress or tcx/egress".into(),
                }),
                _ => super::attach_tc(prog.fd, ifindex, targets.tc_hook, TcOpts::default()),
            }
        }
        pt::SOCKET_FILTER => match targets.socket {
            Some(s) => super::attach_socket_filter(prog.fd, s),
            None => Err(missing(prog, "a socket (Targets::socket)")),
        },
        pt::CGROUP_SKB
        | pt::CGROUP_SOCK
        | pt::CGROUP_SOCK_ADDR
        | pt::CGROUP_SOCKOPT
        | pt::CGROUP_SYSCTL
        | pt::CGROUP_DEVICE
        | pt::SOCK_OPS => match &targets.cgroup {
            Some(cg) => super::attach_cgroup(prog.fd, cg, prog.expected_attach_type),
            None => Err(missing(prog, "a cgroup v2 directory (Targets::cgroup)")),
        },
        pt::SK_MSG | pt::SK_SKB => match targets.sockmap {
            Some(m) if prog.expected_attach_type != 0 => {
                super::attach_sockmap(prog.fd, m, prog.expected_attach_type)
            }
            Some(_) => Err(AttachError::BadSection {
                section: prog.section.to_string(),
                why: "a bare sk_skb section has no attach type: use sk_skb/stream_verdict, stream_parser or verdict".into(),
            }),
            None => Err(missing(prog, "a sockmap or sockhash (Targets::sockmap)")),
        },
        pt::NETFILTER => match &targets.netfilter {
            Some(h) => super::attach_netfilter(prog.fd, h),
            None => Err(missing(prog, "a netfilter hook (Targets::netfilter)")),
        },
        pt::FLOW_DISSECTOR => super::attach_flow_dissector(prog.fd, targets.netns.as_deref()),
        pt::SK_LOOKUP => super::attach_sk_lookup(prog.fd, targets.netns.as_deref()),
        pt::STRUCT_OPS => Err(not_auto(
            prog,
            "struct_ops programs are attached through their struct_ops map (attach_struct_ops)",
        )),
        pt::PERF_EVENT => match targets.perf_event {
            Some(ev) => super::attach_software_event(prog.fd, &ev),
            None => Err(missing(prog, "a perf event (Targets::perf_event)")),
        },
        other => Err(not_auto(
            prog,
            format!("btfx cannot attach programs of type {other} yet"),
        )),
    }
}

/// `BPF_PROG_TYPE_KPROBE` covers kprobes, uprobes and usdt: the section says which.
fn kprobe_family(prog: &Prog<'_>, sec: SecTarget, targets: &Targets<'_>) -> Result<Link> {
    let head = prog.section.split('/').next().unwrap_or_default();
    match sec {
        SecTarget::Uprobe {
            retprobe,
            binary,
            func,
            offset,
        } => {
            let opts = super::UprobeOpts {
                retprobe,
                pid: targets.pid,
                cookie: targets.cookie.unwrap_or(0),
                ..Default::default()
            };
            super::attach_uprobe(prog.fd, &binary, func.as_deref(), offset, &opts)
        }
        SecTarget::None if head.starts_with("uprobe") || head.starts_with("uretprobe") => {
            let binary = targets
                .binary
                .as_ref()
                .ok_or_else(|| missing(prog, "a binary (Targets::binary) and a function"))?;
            let func = targets
                .function
                .as_deref()
                .ok_or_else(|| missing(prog, "a function (Targets::function)"))?;
            let opts = super::UprobeOpts {
                retprobe: head.starts_with("uret"),
                pid: targets.pid,
                cookie: targets.cookie.unwrap_or(0),
                ..Default::default()
            };
            super::attach_uprobe(prog.fd, &binary.to_string_lossy(), Some(func), 0, &opts)
        }
        SecTarget::UprobeMulti {
            retprobe,
            binary,
            pattern,
        } => super::attach_uprobe_multi(prog.fd, &binary, &pattern, retprobe, targets.pid),
        SecTarget::Kprobe {
            retprobe,
            func,
            offset,
        } => super::attach_kprobe(prog.fd, &func, offset, retprobe),
        SecTarget::Ksyscall { retprobe, name } => super::attach_ksyscall(prog.fd, &name, retprobe),
        SecTarget::KprobeMulti { retprobe, pattern } => {
            super::attach_kprobe_multi(prog.fd, &pattern, retprobe)
        }
        SecTarget::Usdt {
            binary,
            provider,
            name,
        } => {
            let mgr = targets.usdt.ok_or_else(|| {
                missing(
                    prog,
                    "the object's __bpf_usdt_specs map (Targets::usdt, a UsdtManager)",
                )
            })?;
            let opts = super::UsdtOpts {
                pid: targets.pid,
                cookie: 0,
            };
            super::attach_usdt(prog.fd, mgr, &binary, &provider, &name, &opts)
        }
        _ if head == "usdt" => Err(missing(
            prog,
            "a probe (usdt/<binary>:<provider>:<name>; bare usdt sections need attach_usdt)",
        )),
        _ => Err(missing(
            prog,
            "a kernel function (kprobe/<function>[+<offset>])",
        )),
    }
}
