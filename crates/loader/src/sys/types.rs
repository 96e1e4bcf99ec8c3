//! The kernel's numbered enums (program types, map types, attach types) as
//! Rust enums, named as bpftool prints them.
//!
//! A value read from the kernel or an object that this crate does not name
//! is kept as `Other(n)`, never lost; [`ProgramType::from_raw`] (and the
//! others) always return the named variant for a known value, so two values
//! compare equal exactly when their raw numbers do.

macro_rules! kernel_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($var:ident = $val:literal => $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", $s, "` (", stringify!($val), ")")]
                $var,
            )*
            /// A value this crate does not name (newer kernels add more).
            Other(u32),
        }

        impl $name {
            /// The variant for the kernel's number.
            pub fn from_raw(v: u32) -> Self {
                match v {
                    $($val => Self::$var,)*
                    v => Self::Other(v),
                }
            }

            /// The kernel's number.
            pub fn raw(self) -> u32 {
                match self {
                    $(Self::$var => $val,)*
                    Self::Other(v) => v,
                }
            }

            /// bpftool's name, `None` for [`Self::Other`].
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$var => Some($s),)*
                    Self::Other(_) => None,
                }
            }

            /// The variant bpftool calls `name`.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($s => Some(Self::$var),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            /// bpftool's name, or `<what> N` for a value without one.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{} {}", $what, self.raw()),
                }
            }
        }

        impl From<u32> for $name {
            fn from(v: u32) -> Self {
                Self::from_raw(v)
            }
        }

        impl From<$name> for u32 {
            fn from(v: $name) -> u32 {
                v.raw()
            }
        }
    };
}

kernel_enum! {
    /// `enum bpf_prog_type`.
    ProgramType, "prog type" {
        Unspec = 0 => "unspec",
        SocketFilter = 1 => "socket_filter",
        Kprobe = 2 => "kprobe",
        SchedCls = 3 => "sched_cls",
        SchedAct = 4 => "sched_act",
        Tracepoint = 5 => "tracepoint",
        Xdp = 6 => "xdp",
        PerfEvent = 7 => "perf_event",
        CgroupSkb = 8 => "cgroup_skb",
        CgroupSock = 9 => "cgroup_sock",
        LwtIn = 10 => "lwt_in",
        LwtOut = 11 => "lwt_out",
        LwtXmit = 12 => "lwt_xmit",
        SockOps = 13 => "sock_ops",
        SkSkb = 14 => "sk_skb",
        CgroupDevice = 15 => "cgroup_device",
        SkMsg = 16 => "sk_msg",
        RawTracepoint = 17 => "raw_tracepoint",
        CgroupSockAddr = 18 => "cgroup_sock_addr",
        LwtSeg6local = 19 => "lwt_seg6local",
        LircMode2 = 20 => "lirc_mode2",
        SkReuseport = 21 => "sk_reuseport",
        FlowDissector = 22 => "flow_dissector",
        CgroupSysctl = 23 => "cgroup_sysctl",
        RawTracepointWritable = 24 => "raw_tracepoint_writable",
        CgroupSockopt = 25 => "cgroup_sockopt",
        Tracing = 26 => "tracing",
        StructOps = 27 => "struct_ops",
        Ext = 28 => "ext",
        Lsm = 29 => "lsm",
        SkLookup = 30 => "sk_lookup",
        Syscall = 31 => "syscall",
        Netfilter = 32 => "netfilter",
    }
}

kernel_enum! {
    /// `enum bpf_map_type`.
    MapType, "map type" {
        Unspec = 0 => "unspec",
        Hash = 1 => "hash",
        Array = 2 => "array",
        ProgArray = 3 => "prog_array",
        PerfEventArray = 4 => "perf_event_array",
        PercpuHash = 5 => "percpu_hash",
        PercpuArray = 6 => "percpu_array",
        StackTrace = 7 => "stack_trace",
        CgroupArray = 8 => "cgroup_array",
        LruHash = 9 => "lru_hash",
        LruPercpuHash = 10 => "lru_percpu_hash",
        LpmTrie = 11 => "lpm_trie",
        ArrayOfMaps = 12 => "array_of_maps",
        HashOfMaps = 13 => "hash_of_maps",
        Devmap = 14 => "devmap",
        Sockmap = 15 => "sockmap",
        Cpumap = 16 => "cpumap",
        Xskmap = 17 => "xskmap",
        Sockhash = 18 => "sockhash",
        CgroupStorage = 19 => "cgroup_storage",
        ReuseportSockarray = 20 => "reuseport_sockarray",
        PercpuCgroupStorage = 21 => "percpu_cgroup_storage",
        Queue = 22 => "queue",
        Stack = 23 => "stack",
        SkStorage = 24 => "sk_storage",
        DevmapHash = 25 => "devmap_hash",
        StructOps = 26 => "struct_ops",
        Ringbuf = 27 => "ringbuf",
        InodeStorage = 28 => "inode_storage",
        TaskStorage = 29 => "task_storage",
        BloomFilter = 30 => "bloom_filter",
        UserRingbuf = 31 => "user_ringbuf",
        CgrpStorage = 32 => "cgrp_storage",
        Arena = 33 => "arena",
    }
}

kernel_enum! {
    /// `enum bpf_attach_type`.
    AttachType, "attach type" {
        CgroupInetIngress = 0 => "cgroup_inet_ingress",
        CgroupInetEgress = 1 => "cgroup_inet_egress",
        CgroupInetSockCreate = 2 => "cgroup_inet_sock_create",
        CgroupSockOps = 3 => "cgroup_sock_ops",
        SkSkbStreamParser = 4 => "sk_skb_stream_parser",
        SkSkbStreamVerdict = 5 => "sk_skb_stream_verdict",
        CgroupDevice = 6 => "cgroup_device",
        SkMsgVerdict = 7 => "sk_msg_verdict",
        CgroupInet4Bind = 8 => "cgroup_inet4_bind",
        CgroupInet6Bind = 9 => "cgroup_inet6_bind",
        CgroupInet4Connect = 10 => "cgroup_inet4_connect",
        CgroupInet6Connect = 11 => "cgroup_inet6_connect",
        CgroupInet4PostBind = 12 => "cgroup_inet4_post_bind",
        CgroupInet6PostBind = 13 => "cgroup_inet6_post_bind",
        CgroupUdp4Sendmsg = 14 => "cgroup_udp4_sendmsg",
        CgroupUdp6Sendmsg = 15 => "cgroup_udp6_sendmsg",
        LircMode2 = 16 => "lirc_mode2",
        FlowDissector = 17 => "flow_dissector",
        CgroupSysctl = 18 => "cgroup_sysctl",
        CgroupUdp4Recvmsg = 19 => "cgroup_udp4_recvmsg",
        CgroupUdp6Recvmsg = 20 => "cgroup_udp6_recvmsg",
        CgroupGetsockopt = 21 => "cgroup_getsockopt",
        CgroupSetsockopt = 22 => "cgroup_setsockopt",
        TraceRawTp = 23 => "trace_raw_tp",
        TraceFentry = 24 => "trace_fentry",
        TraceFexit = 25 => "trace_fexit",
        ModifyReturn = 26 => "modify_return",
        LsmMac = 27 => "lsm_mac",
        TraceIter = 28 => "trace_iter",
        CgroupInet4Getpeername = 29 => "cgroup_inet4_getpeername",
        CgroupInet6Getpeername = 30 => "cgroup_inet6_getpeername",
        CgroupInet4Getsockname = 31 => "cgroup_inet4_getsockname",
        CgroupInet6Getsockname = 32 => "cgroup_inet6_getsockname",
        XdpDevmap = 33 => "xdp_devmap",
        CgroupInetSockRelease = 34 => "cgroup_inet_sock_release",
        XdpCpumap = 35 => "xdp_cpumap",
        SkLookup = 36 => "sk_lookup",
        Xdp = 37 => "xdp",
        SkSkbVerdict = 38 => "sk_skb_verdict",
        SkReuseportSelect = 39 => "sk_reuseport_select",
        SkReuseportSelectOrMigrate = 40 => "sk_reuseport_select_or_migrate",
        PerfEvent = 41 => "perf_event",
        TraceKprobeMulti = 42 => "trace_kprobe_multi",
        LsmCgroup = 43 => "lsm_cgroup",
        StructOps = 44 => "struct_ops",
        Netfilter = 45 => "netfilter",
        TcxIngress = 46 => "tcx_ingress",
        TcxEgress = 47 => "tcx_egress",
        TraceUprobeMulti = 48 => "trace_uprobe_multi",
        CgroupUnixConnect = 49 => "cgroup_unix_connect",
        CgroupUnixSendmsg = 50 => "cgroup_unix_sendmsg",
        CgroupUnixRecvmsg = 51 => "cgroup_unix_recvmsg",
        CgroupUnixGetpeername = 52 => "cgroup_unix_getpeername",
        CgroupUnixGetsockname = 53 => "cgroup_unix_getsockname",
        NetkitPrimary = 54 => "netkit_primary",
        NetkitPeer = 55 => "netkit_peer",
        TraceKprobeSession = 56 => "trace_kprobe_session",
        TraceUprobeSession = 57 => "trace_uprobe_session",
    }
}

kernel_enum! {
    /// `enum bpf_link_type`.
    LinkType, "link type" {
        Unspec = 0 => "unspec",
        RawTracepoint = 1 => "raw_tracepoint",
        Tracing = 2 => "tracing",
        Cgroup = 3 => "cgroup",
        Iter = 4 => "iter",
        Netns = 5 => "netns",
        Xdp = 6 => "xdp",
        PerfEvent = 7 => "perf_event",
        KprobeMulti = 8 => "kprobe_multi",
        StructOps = 9 => "struct_ops",
        Netfilter = 10 => "netfilter",
        Tcx = 11 => "tcx",
        UprobeMulti = 12 => "uprobe_multi",
        Netkit = 13 => "netkit",
        Sockmap = 14 => "sockmap",
    }
}

// The enums come out of a macro that cannot mark one variant `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for ProgramType {
    fn default() -> Self {
        ProgramType::Unspec
    }
}

#[allow(clippy::derivable_impls)]
impl Default for MapType {
    fn default() -> Self {
        MapType::Unspec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names() {
        for v in 0..40 {
            assert_eq!(ProgramType::from_raw(v).raw(), v);
            assert_eq!(MapType::from_raw(v).raw(), v);
            assert_eq!(AttachType::from_raw(v).raw(), v);
        }
        assert_eq!(ProgramType::Xdp.to_string(), "xdp");
        assert_eq!(MapType::from_raw(27).to_string(), "ringbuf");
        assert_eq!(AttachType::from_raw(37), AttachType::Xdp);
        assert_eq!(MapType::from_raw(999).to_string(), "map type 999");
        assert_eq!(
            ProgramType::from_name("tracing"),
            Some(ProgramType::Tracing)
        );
    }
}
