//! What can go wrong while attaching: a target the section cannot name, a
//! target that does not exist, a kernel that refuses.

use std::io;

use super::LinkKind;

/// An attachment that could not be made (or undone).
///
/// Attaching has its own error type, apart from [`crate::Error`] (which is
/// about reading and loading objects): its variants name the section, the
/// target and the call the kernel refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    /// The section name does not say where to attach and [`super::Targets`]
    /// does not either.
    #[error("section '{section}': {what} needed to attach it (the section name gives none; pass it in Targets)")]
    MissingTarget {
        /// The program's ELF section.
        section: String,
        /// What is missing (`"an interface (ifindex or ifname)"`...).
        what: &'static str,
    },
    /// The section is of a kind that is not attached through a program
    /// (struct_ops) or that libbpf does not attach either.
    #[error("section '{section}': not attachable by section name: {why}")]
    NotAutoAttachable {
        /// The program's ELF section.
        section: String,
        /// Why, and what to do instead.
        why: String,
    },
    /// The part of the section name after its prefix is malformed.
    #[error("section '{section}': bad attach target: {why}")]
    BadSection {
        /// The program's ELF section.
        section: String,
        /// What is wrong with it.
        why: String,
    },
    /// The target does not exist or cannot be used (no such tracepoint,
    /// symbol not found in the binary, no such interface...).
    #[error("{kind} target {target}: {why}")]
    Target {
        /// Kind of attachment.
        kind: LinkKind,
        /// The target as given.
        target: String,
        /// What is wrong.
        why: String,
    },
    /// A system call failed.
    #[error("{kind} attach to {target}: {call}: {source}{hint}")]
    Syscall {
        /// Kind of attachment.
        kind: LinkKind,
        /// The target as given.
        target: String,
        /// The call (`BPF_LINK_CREATE`, `perf_event_open`...).
        call: &'static str,
        /// The OS error.
        source: io::Error,
        /// What the error usually means here (may be empty).
        hint: String,
    },
    /// Reading a file the attachment needs failed (tracefs, an ELF binary).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: io::Error,
    },
    /// Pinning or unpinning a link failed, or the link has no BPF link fd.
    #[error("pin {path}: {why}")]
    Pin {
        /// The bpffs path.
        path: String,
        /// What went wrong.
        why: String,
    },
}

/// Result alias of attaching.
pub type Result<T, E = AttachError> = std::result::Result<T, E>;

impl AttachError {
    /// A failed call, with a hint chosen from the errno and kind.
    pub(crate) fn sys(
        kind: LinkKind,
        target: impl Into<String>,
        call: &'static str,
        source: io::Error,
    ) -> AttachError {
        let hint = hint(kind, call, &source);
        AttachError::Syscall {
            kind,
            target: target.into(),
            call,
            source,
            hint,
        }
    }

    /// The errno of a failed call, if this is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            AttachError::Syscall { source, .. } | AttachError::Io { source, .. } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }
}

fn hint(kind: LinkKind, call: &str, e: &io::Error) -> String {
    let errno = e.raw_os_error().unwrap_or(0);
    let s = match (kind, errno) {
        (LinkKind::Kprobe, libc::ENOENT) if call == "perf_event_open" => {
            " (this kernel has no kprobe PMU or does not know the function: kprobes need CONFIG_KPROBE_EVENTS and the symbol in /proc/kallsyms)"
        }
        (LinkKind::Kprobe, libc::EOPNOTSUPP) => {
            " (kprobe.multi needs CONFIG_FPROBE and a kernel that allows it)"
        }
        (LinkKind::Tracing, libc::EPERM | ENOTSUPP) => {
            " (BPF trampolines are not available: fentry/fexit/fmod_ret/lsm/freplace need CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, an architecture with trampoline support, and lsm also CONFIG_BPF_LSM with \"bpf\" in lsm=)"
        }
        (_, libc::EPERM) => " (needs CAP_BPF and CAP_PERFMON/CAP_NET_ADMIN/CAP_SYS_ADMIN)",
        (LinkKind::Xdp | LinkKind::Tc | LinkKind::Tcx, libc::EEXIST) => {
            " (a program is already attached there)"
        }
        (LinkKind::FlowDissector, libc::E2BIG) => {
            " (this network namespace has its flow dissector already)"
        }
        (LinkKind::Xdp, libc::EOPNOTSUPP) => {
            " (the driver has no native XDP: use generic (SKB) mode)"
        }
        _ => "",
    };
    s.to_string()
}

/// `ENOTSUPP` (524), the kernel-internal errno bpf(2) can leak.
const ENOTSUPP: i32 = 524;

/// What a kernel's refusal to *load* a program usually means for attaching
/// it, for the kinds that fail before any attach call: the BPF trampoline
/// kinds (fentry, fexit, fmod_ret, lsm, freplace; EPERM or ENOTSUPP at
/// `BPF_PROG_LOAD` where the kernel cannot build trampolines). `None` when
/// there is nothing specific to say.
pub fn load_refusal_hint(
    prog_type: u32,
    expected_attach_type: u32,
    errno: i32,
) -> Option<&'static str> {
    use crate::progtype::types as pt;
    let trampoline = match prog_type {
        pt::TRACING => (24..=26).contains(&expected_attach_type),
        pt::LSM | pt::EXT => true,
        _ => false,
    };
    if !trampoline || !matches!(errno, libc::EPERM | ENOTSUPP | libc::EOPNOTSUPP) {
        return None;
    }
    Some(if prog_type == pt::LSM {
        "lsm programs need BPF trampolines (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS and architecture support), CONFIG_BPF_LSM and \"bpf\" in the lsm= boot list"
    } else {
        "fentry/fexit/fmod_ret/freplace programs need BPF trampolines: CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, architecture support, and a kernel that allows them (this one refuses them at load)"
    })
}
