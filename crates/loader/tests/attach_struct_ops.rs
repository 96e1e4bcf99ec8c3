//! struct_ops: a `tcp_congestion_ops` built from vmlinux BTF (the loader
//! cannot load `.struct_ops` sections yet, so the test makes the map and
//! the three programs itself), registered by a struct_ops link and, for a
//! map without BPF_F_LINK, by the value update; the kernel lists it in
//! tcp_available_congestion_control while attached, and its cong_avoid
//! program counts ACKs of a TCP transfer in a private network namespace.
//!
//! The test kernel loads the struct_ops programs but refuses the
//! struct_ops map itself (BPF_MAP_CREATE: EINVAL, for libbpf too), so
//! there the test stops after the programs load and says so.

mod attach_util;

use std::io::{Read, Write};
use std::os::fd::AsFd;

use attach_util::counting_body as body;
use attach_util::*;
use btf::{Btf, Kind};
use loader::attach::struct_ops::BPF_F_LINK;
use loader::attach::{attach_struct_ops, LinkKind};
use loader::sys::{self, Census};

const NAME: &str = "btfx_cc";

fn available() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control").unwrap()
}

struct Ops {
    ops_id: u32,
    value_id: u32,
    value_size: u32,
    data_off: usize,
    member: std::collections::HashMap<String, (u32, usize)>,
}

fn ops() -> Ops {
    let bytes = std::fs::read("/sys/kernel/btf/vmlinux").unwrap();
    let btf = Btf::parse(bytes).unwrap();
    let ops_id = btf
        .find_by_name_kind("tcp_congestion_ops", Kind::Struct)
        .unwrap();
    let value_id = btf
        .find_by_name_kind("bpf_struct_ops_tcp_congestion_ops", Kind::Struct)
        .unwrap();
    let vt = btf.get(value_id).unwrap();
    let data_off = vt
        .members()
        .find(|m| btf.name(m.name_off) == "data")
        .unwrap()
        .byte_offset() as usize;
    let member = btf
        .get(ops_id)
        .unwrap()
        .members()
        .enumerate()
        .map(|(i, m)| {
            (
                btf.name(m.name_off).to_string(),
                (i as u32, m.byte_offset() as usize),
            )
        })
        .collect();
    Ops {
        ops_id: ops_id.0,
        value_id: value_id.0,
        value_size: vt.size(),
        data_off,
        member,
    }
}

#[test]
fn tcp_congestion_ops_registered_by_link_and_by_update() {
    if !can_bpf() {
        return;
    }
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("skipping: no vmlinux BTF");
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let o = ops();
        let counts = counter_map("btfx_cc_counts");
        let load = |member: &str, ret: i32, count: bool| {
            let (idx, _) = o.member[member];
            let insns = body(ret, count.then_some(&counts));
            raw_prog(27, idx, &insns, member, o.ops_id)
        };
        let progs = [
            ("ssthresh", load("ssthresh", 2, false)),
            ("cong_avoid", load("cong_avoid", 0, true)),
            ("undo_cwnd", load("undo_cwnd", 10, false)),
        ];
        // A map that is not struct_ops is refused by name.
        let e = attach_struct_ops(counts.as_fd()).unwrap_err();
        assert!(e.to_string().contains("not BPF_MAP_TYPE_STRUCT_OPS"), "{e}");
        for flags in [BPF_F_LINK, 0] {
            use std::os::fd::AsRawFd;
            let map = match sys::struct_ops_map_create(NAME, o.value_size, o.value_id, flags) {
                Ok(m) => m,
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    // The test kernel (6.18, no BPF trampolines) refuses
                    // struct_ops maps: libbpf's bpf_map_create with the
                    // same arguments gets EINVAL too (checked by hand).
                    eprintln!(
                        "struct_ops map refused by this kernel ({e}): registration not tested"
                    );
                    continue;
                }
                Err(e) => panic!("struct_ops map: {e}"),
            };
            let mut value = vec![0u8; o.value_size as usize];
            for (m, fd) in &progs {
                let at = o.data_off + o.member[*m].1;
                value[at..at + 8].copy_from_slice(&(fd.as_raw_fd() as u64).to_ne_bytes());
            }
            let at = o.data_off + o.member["name"].1;
            value[at..at + NAME.len()].copy_from_slice(NAME.as_bytes());
            update(map.as_fd(), &0u32.to_ne_bytes(), &value);
            let link = attach_struct_ops(map.as_fd()).unwrap();
            assert_eq!(link.kind(), LinkKind::StructOps);
            assert_eq!(link.fd().is_some(), flags == BPF_F_LINK);
            if flags == BPF_F_LINK {
                assert_eq!(
                    link.info().unwrap().link_type.raw(),
                    9,
                    "BPF_LINK_TYPE_STRUCT_OPS"
                );
            }
            assert!(
                available().split_whitespace().any(|n| n == NAME),
                "{}",
                available()
            );
            if flags == BPF_F_LINK {
                let before = count(counts.as_fd(), 0);
                in_netns(transfer);
                let acks = count(counts.as_fd(), 0) - before;
                eprintln!("cong_avoid ran {acks} times");
                assert!(acks > 0, "cong_avoid never ran");
            }
            drop(link);
            assert!(
                !available().split_whitespace().any(|n| n == NAME),
                "{}",
                available()
            );
        }
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// A 4 MB TCP transfer over lo (MTU 1500) with btfx_cc as the namespace's
/// default congestion control, which is reset before the namespace goes.
fn transfer() {
    ip(&["link", "set", "lo", "mtu", "1500"]);
    let cc = "/proc/sys/net/ipv4/tcp_congestion_control";
    std::fs::write(cc, NAME).unwrap();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let rx = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0usize;
        loop {
            let k = s.read(&mut buf).unwrap();
            if k == 0 {
                break n;
            }
            n += k;
        }
    });
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let chunk = vec![7u8; 1 << 16];
    for _ in 0..64 {
        s.write_all(&chunk).unwrap();
    }
    drop(s);
    assert_eq!(rx.join().unwrap(), 64 << 16);
    std::fs::write(cc, "cubic").unwrap();
}
