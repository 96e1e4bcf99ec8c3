//! Network attachments, each in a private network namespace: XDP (a BPF
//! link and the netlink fallback, generic on lo and native on a veth), tcx,
//! classic tc (clsact + cls_bpf, qdisc removed only when created), socket
//! filters, sk_lookup and cgroup hooks. UDP datagrams to one port are the
//! trigger; the counters must equal the number sent; afterwards nothing
//! (program, map, link, qdisc, namespace) is left.

mod attach_util;

use std::os::fd::AsFd;

use attach_util::*;
use loader::attach::{auto_attach, AttachError, LinkKind, Targets, XdpMode};

fn hits(l: &Loaded, slot: u32) -> u64 {
    count(map(l, "hits"), slot)
}

#[test]
fn xdp_generic_on_lo_by_link_then_by_netlink() {
    if !can_bpf() {
        return;
    }
    counted_in_netns(|| {
        let l = load_fixture("net.bpf.o", &["xdp_count"]);
        let p = prog(&l, "xdp_count");
        match auto_attach(&p, &Targets::default()) {
            Err(AttachError::MissingTarget { what, .. }) => assert!(what.contains("interface")),
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        let t = Targets {
            ifname: Some("lo".into()),
            xdp_mode: XdpMode::Generic,
            ..Targets::default()
        };
        let link = auto_attach(&p, &t).unwrap();
        assert_eq!(link.kind(), LinkKind::Xdp);
        assert_eq!(link.info().unwrap().link_type.raw(), 6, "BPF_LINK_TYPE_XDP");
        assert!(ip(&["link", "show", "lo"]).contains("xdpgeneric"));
        send_udp("127.0.0.1", "127.0.0.1", 10);
        assert_eq!(hits(&l, 0), 10);
        // BPF_LINK_UPDATE swaps in another program (built by hand: counts
        // every packet, XDP_PASS) without detaching.
        let other_counts = counter_map("xdp_other");
        let insns = counting_body(2, Some(&other_counts));
        let other = raw_prog(6, 37, &insns, "xdp_other", 0);
        link.update_program(other.as_fd()).unwrap();
        let other_id = prog_id(other.as_fd());
        assert_eq!(link.info().unwrap().prog_id, other_id);
        // A listener, so no ICMP error comes back: 4 packets cross lo.
        let rx = std::net::UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
        send_udp("127.0.0.1", "127.0.0.1", 4);
        let mut buf = [0u8; 16];
        for _ in 0..4 {
            rx.recv(&mut buf).unwrap();
        }
        drop(rx);
        assert_eq!(hits(&l, 0), 10);
        assert_eq!(count(other_counts.as_fd(), 0), 4);
        link.update_program(p.fd).unwrap();
        drop(link);
        assert!(!ip(&["link", "show", "lo"]).contains("xdp"));
        send_udp("127.0.0.1", "127.0.0.1", 3);
        assert_eq!(hits(&l, 0), 10);
        // The netlink way: no link fd, drop detaches by IFLA_XDP fd -1.
        let lo = loader::sys::if_nametoindex("lo").unwrap();
        let link = loader::attach::attach_xdp_netlink(p.fd, lo, XdpMode::Generic).unwrap();
        assert!(link.fd().is_none());
        assert!(ip(&["link", "show", "lo"]).contains("xdpgeneric"));
        send_udp("127.0.0.1", "127.0.0.1", 5);
        assert_eq!(hits(&l, 0), 15);
        // A second netlink attach is refused while one is there.
        let e = loader::attach::attach_xdp_netlink(p.fd, lo, XdpMode::Generic).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBUSY), "{e}");
        let mut link = link;
        assert!(link.pin("/sys/fs/bpf/never").is_err(), "no link to pin");
        link.detach().unwrap();
        assert!(!ip(&["link", "show", "lo"]).contains("xdp"));
    });
}

#[test]
fn xdp_native_on_a_veth() {
    if !can_bpf() {
        return;
    }
    counted_in_netns(|| {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["addr", "add", "10.77.0.1/24", "dev", "v0"]);
        ip(&["link", "set", "v0", "up"]);
        ip(&["link", "set", "v1", "up"]);
        // 10.77.0.9 "lives" behind v0 at v1's MAC: datagrams to it cross the pair.
        let show = ip(&["-o", "link", "show", "v1"]);
        let mac = show
            .split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap()
            .to_string();
        ip(&["neigh", "add", "10.77.0.9", "lladdr", &mac, "dev", "v0"]);
        let l = load_fixture("net.bpf.o", &["xdp_count"]);
        let t = Targets {
            ifname: Some("v1".into()),
            xdp_mode: XdpMode::Native,
            ..Targets::default()
        };
        let link = auto_attach(&prog(&l, "xdp_count"), &t).unwrap();
        let shown = ip(&["link", "show", "v1"]);
        assert!(shown.contains("xdp ") || shown.contains("xdp/"), "{shown}");
        assert!(!shown.contains("xdpgeneric"), "{shown}");
        send_udp("10.77.0.1", "10.77.0.9", 12);
        assert_eq!(hits(&l, 0), 12);
        drop(link);
        assert!(!ip(&["link", "show", "v1"]).contains("xdp"));
    });
}

#[test]
fn classic_tc_creates_and_removes_its_qdisc() {
    if !can_bpf() {
        return;
    }
    counted_in_netns(|| {
        let l = load_fixture("net.bpf.o", &["tc_count"]);
        let t = Targets {
            ifname: Some("lo".into()),
            ..Targets::default()
        };
        assert!(!tc(&["qdisc", "show", "dev", "lo"]).contains("clsact"));
        let link = auto_attach(&prog(&l, "tc_count"), &t).unwrap();
        assert_eq!(link.kind(), LinkKind::Tc);
        assert!(tc(&["qdisc", "show", "dev", "lo"]).contains("clsact"));
        let f = tc(&["filter", "show", "dev", "lo", "ingress"]);
        assert!(f.contains("bpf") && f.contains("direct-action"), "{f}");
        send_udp("127.0.0.1", "127.0.0.1", 10);
        assert_eq!(hits(&l, 1), 10);
        drop(link);
        assert!(!tc(&["qdisc", "show", "dev", "lo"]).contains("clsact"));
        // A qdisc that was there before stays; only the filter goes.
        tc(&["qdisc", "add", "dev", "lo", "clsact"]);
        let link = auto_attach(&prog(&l, "tc_count"), &t).unwrap();
        send_udp("127.0.0.1", "127.0.0.1", 4);
        assert_eq!(hits(&l, 1), 14);
        link.detach().unwrap();
        assert!(tc(&["qdisc", "show", "dev", "lo"]).contains("clsact"));
        assert!(!tc(&["filter", "show", "dev", "lo", "ingress"]).contains("bpf"));
        tc(&["qdisc", "del", "dev", "lo", "clsact"]);
    });
}

#[test]
fn tcx_ingress_link() {
    if !can_bpf() {
        return;
    }
    counted_in_netns(|| {
        let l = load_fixture("net.bpf.o", &["tcx_count"]);
        let t = Targets {
            ifname: Some("lo".into()),
            ..Targets::default()
        };
        let link = auto_attach(&prog(&l, "tcx_count"), &t).unwrap();
        assert_eq!(link.kind(), LinkKind::Tcx);
        assert_eq!(
            link.info().unwrap().link_type.raw(),
            11,
            "BPF_LINK_TYPE_TCX"
        );
        send_udp("127.0.0.1", "127.0.0.1", 9);
        assert_eq!(hits(&l, 2), 9);
        drop(link);
        send_udp("127.0.0.1", "127.0.0.1", 2);
        assert_eq!(hits(&l, 2), 9);
        // No qdisc was involved.
        assert!(!tc(&["qdisc", "show", "dev", "lo"]).contains("clsact"));
    });
}

#[test]
fn socket_filter_and_sk_lookup() {
    if !can_bpf() {
        return;
    }
    counted_in_netns(|| {
        let l = load_fixture("net.bpf.o", &["sock_count", "lookup_count"]);
        let rx = std::net::UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
        let sf = prog(&l, "sock_count");
        match auto_attach(&sf, &Targets::default()) {
            Err(AttachError::MissingTarget { what, .. }) => assert!(what.contains("socket")),
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        let t = Targets {
            socket: Some(rx.as_fd()),
            ..Targets::default()
        };
        let filter = auto_attach(&sf, &t).unwrap();
        let lookup = auto_attach(&prog(&l, "lookup_count"), &Targets::default()).unwrap();
        assert_eq!(lookup.kind(), LinkKind::SkLookup);
        assert_eq!(
            lookup.info().unwrap().link_type.raw(),
            5,
            "BPF_LINK_TYPE_NETNS"
        );
        send_udp("127.0.0.1", "127.0.0.1", 7);
        let mut buf = [0u8; 64];
        for _ in 0..7 {
            rx.recv(&mut buf).unwrap();
        }
        assert_eq!((hits(&l, 3), hits(&l, 6)), (7, 7));
        drop(filter);
        drop(lookup);
        send_udp("127.0.0.1", "127.0.0.1", 2);
        for _ in 0..2 {
            rx.recv(&mut buf).unwrap();
        }
        assert_eq!((hits(&l, 3), hits(&l, 6)), (7, 7));
    });
}

#[test]
fn cgroup_connect4_and_skb_egress_on_the_root_cgroup() {
    if !can_bpf() {
        return;
    }
    let Some(root) = loader::attach::cgroup::cgroup2_root() else {
        eprintln!("skipping: no cgroup2 mount");
        return;
    };
    counted_in_netns(move || {
        let l = load_fixture("net.bpf.o", &["connect4_count", "egress_count"]);
        set_u32(&l, "cfg", 0, std::process::id());
        let c4 = prog(&l, "connect4_count");
        match auto_attach(&c4, &Targets::default()) {
            Err(AttachError::MissingTarget { what, .. }) => assert!(what.contains("cgroup")),
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        let t = Targets {
            cgroup: Some(root.clone()),
            ..Targets::default()
        };
        let a = auto_attach(&c4, &t).unwrap();
        let b = auto_attach(&prog(&l, "egress_count"), &t).unwrap();
        assert_eq!(a.info().unwrap().link_type.raw(), 3, "BPF_LINK_TYPE_CGROUP");
        for _ in 0..5 {
            let s = std::net::UdpSocket::bind(("127.0.0.1", 0)).unwrap();
            s.connect(("127.0.0.1", PORT)).unwrap();
        }
        send_udp("127.0.0.1", "127.0.0.1", 8);
        assert_eq!((hits(&l, 4), hits(&l, 5)), (5, 8));
        drop((a, b));
        send_udp("127.0.0.1", "127.0.0.1", 2);
        assert_eq!(hits(&l, 5), 8);
    });
}

/// BPF_PROG_ATTACH, the way before cgroup links: no link fd, drop detaches
/// with BPF_PROG_DETACH.
#[test]
fn cgroup_by_prog_attach() {
    if !can_bpf() {
        return;
    }
    let Some(root) = loader::attach::cgroup::cgroup2_root() else {
        eprintln!("skipping: no cgroup2 mount");
        return;
    };
    counted_in_netns(move || {
        let l = load_fixture("net.bpf.o", &["connect4_count"]);
        set_u32(&l, "cfg", 0, std::process::id());
        let link =
            loader::attach::attach_cgroup_legacy(prog(&l, "connect4_count").fd, &root, 10).unwrap();
        assert!(link.fd().is_none());
        for _ in 0..3 {
            let s = std::net::UdpSocket::bind(("127.0.0.1", 0)).unwrap();
            s.connect(("127.0.0.1", PORT)).unwrap();
        }
        assert_eq!(hits(&l, 4), 3);
        drop(link);
        let s = std::net::UdpSocket::bind(("127.0.0.1", 0)).unwrap();
        s.connect(("127.0.0.1", PORT)).unwrap();
        assert_eq!(hits(&l, 4), 3);
    });
}

/// sockops on the cgroup: each TCP connection this process makes to PORT
/// (in a private netns) is seen established once.
#[test]
fn sockops_sees_tcp_connections() {
    if !can_bpf() {
        return;
    }
    let Some(root) = loader::attach::cgroup::cgroup2_root() else {
        eprintln!("skipping: no cgroup2 mount");
        return;
    };
    counted_in_netns(move || {
        let l = load_fixture("net.bpf.o", &["sockops_count"]);
        let t = Targets {
            cgroup: Some(root),
            ..Targets::default()
        };
        let link = auto_attach(&prog(&l, "sockops_count"), &t).unwrap();
        assert_eq!(link.kind(), LinkKind::Cgroup);
        let server = std::net::TcpListener::bind(("127.0.0.1", PORT)).unwrap();
        let mut conns = Vec::new();
        for _ in 0..4 {
            let c = std::net::TcpStream::connect(("127.0.0.1", PORT)).unwrap();
            conns.push((c, server.accept().unwrap()));
        }
        assert_eq!(hits(&l, 7), 4);
        drop(link);
        let _c = std::net::TcpStream::connect(("127.0.0.1", PORT)).unwrap();
        assert_eq!(hits(&l, 7), 4);
    });
}

/// netfilter: a BPF program at IPv4 LOCAL_IN in a private netns sees each
/// datagram delivered to a listening socket once (the program is built by
/// hand: it returns NF_ACCEPT after counting).
#[test]
fn netfilter_local_in() {
    if !can_bpf() {
        return;
    }
    counted_in_netns(|| {
        let counts = counter_map("nf_counts");
        let insns = counting_body(1, Some(&counts));
        let prog = raw_prog(32, 45, &insns, "nf_count", 0);
        let p = loader::attach::Prog {
            fd: prog.as_fd(),
            prog_type: 32,
            expected_attach_type: 45,
            section: "netfilter",
            name: "nf_count",
        };
        match auto_attach(&p, &Targets::default()) {
            Err(AttachError::MissingTarget { what, .. }) => assert!(what.contains("netfilter")),
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        let t = Targets {
            netfilter: Some(loader::attach::NetfilterHook {
                pf: 2,
                hooknum: 1,
                priority: -100,
                defrag: false,
            }),
            ..Targets::default()
        };
        let link = match auto_attach(&p, &t) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("netfilter link refused here: {e}");
                return;
            }
        };
        assert_eq!(
            link.info().unwrap().link_type.raw(),
            10,
            "BPF_LINK_TYPE_NETFILTER"
        );
        let rx = std::net::UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
        send_udp("127.0.0.1", "127.0.0.1", 6);
        let mut buf = [0u8; 16];
        for _ in 0..6 {
            rx.recv(&mut buf).unwrap();
        }
        assert_eq!(count(counts.as_fd(), 0), 6);
        drop(link);
        send_udp("127.0.0.1", "127.0.0.1", 1);
        rx.recv(&mut buf).unwrap();
        assert_eq!(count(counts.as_fd(), 0), 6);
    });
}

/// sk_msg on a sockmap: messages sent on a TCP socket added to the map
/// after the attach are each seen once; a socket added after the link is
/// dropped is not.
#[test]
fn sk_msg_on_a_sockmap() {
    if !can_bpf() {
        return;
    }
    counted_in_netns(|| {
        use std::io::{Read, Write};
        use std::os::fd::AsRawFd;
        let l = load_fixture("net.bpf.o", &["msg_count"]);
        let p = prog(&l, "msg_count");
        match auto_attach(&p, &Targets::default()) {
            Err(AttachError::MissingTarget { what, .. }) => assert!(what.contains("sockmap")),
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        let socks = map(&l, "socks");
        let t = Targets {
            sockmap: Some(socks),
            ..Targets::default()
        };
        let link = auto_attach(&p, &t).unwrap();
        assert_eq!(link.kind(), LinkKind::Sockmap);
        // A sockmap link (6.10+); older kernels get BPF_PROG_ATTACH.
        if let Some(info) = link.info() {
            assert_eq!(info.link_type.raw(), 14, "BPF_LINK_TYPE_SOCKMAP");
        }
        let server = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = server.local_addr().unwrap();
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        let (mut s, _) = server.accept().unwrap();
        let fd = c.as_raw_fd() as u64;
        update(socks, &0u32.to_ne_bytes(), &fd.to_ne_bytes());
        let mut buf = [0u8; 8];
        for i in 0..5u8 {
            c.write_all(&[i; 8]).unwrap();
            s.read_exact(&mut buf).unwrap();
            assert_eq!(buf, [i; 8]);
        }
        let msgs = map(&l, "msgs");
        assert_eq!(count(msgs, 0), 5);
        drop(link);
        let mut c2 = std::net::TcpStream::connect(addr).unwrap();
        let (mut s2, _) = server.accept().unwrap();
        let fd2 = c2.as_raw_fd() as u64;
        update(socks, &1u32.to_ne_bytes(), &fd2.to_ne_bytes());
        c2.write_all(&[9; 8]).unwrap();
        s2.read_exact(&mut buf).unwrap();
        assert_eq!(count(msgs, 0), 5);
    });
}

/// flow_dissector: a namespace link; the kernel takes one per namespace
/// (a second attach is E2BIG until the first link is dropped). Nothing
/// here makes the stack dissect a flow, so only the attachment is checked.
#[test]
fn flow_dissector_one_per_namespace() {
    if !can_bpf() {
        return;
    }
    counted_in_netns(|| {
        let insns = counting_body(0, None);
        let prog = raw_prog(22, 17, &insns, "flow_ok", 0);
        let p = loader::attach::Prog {
            fd: prog.as_fd(),
            prog_type: 22,
            expected_attach_type: 17,
            section: "flow_dissector",
            name: "flow_ok",
        };
        let link = auto_attach(&p, &Targets::default()).unwrap();
        assert_eq!(link.kind(), LinkKind::FlowDissector);
        assert_eq!(
            link.info().unwrap().link_type.raw(),
            5,
            "BPF_LINK_TYPE_NETNS"
        );
        let e = auto_attach(&p, &Targets::default()).unwrap_err();
        // The kernel says E2BIG: the namespace's one slot is taken.
        assert_eq!(e.raw_os_error(), Some(libc::E2BIG), "{e}");
        drop(link);
        let again = auto_attach(&p, &Targets::default()).unwrap();
        drop(again);
    });
}
