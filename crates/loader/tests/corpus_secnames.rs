//! btfx's SEC_DEF table and matching rules against libbpf 1.1's
//! `libbpf_prog_type_by_name()` for 140 section names
//! (fixtures/oracle/load/corpus/sec-names.tsv, recorded by
//! scripts/record-corpus-oracle.sh): the same program type and expected
//! attach type, or no match, for every name; the names only newer libbpf
//! knows ([`progtype::NOT_IN_LIBBPF_1_1`]) are unknown to 1.1 and known
//! to btfx. No kernel needed.

use loader::progtype::{self, find_sec_def, from_section, NOT_IN_LIBBPF_1_1};

#[test]
fn section_names_resolve_as_libbpf() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/oracle/load/corpus/sec-names.tsv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let (mut same, mut newer) = (0, 0);
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let name = f[0];
        let got = from_section(name).map(|s| (s.prog_type, s.expected_attach_type));
        let only_newer = find_sec_def(name).is_some_and(|d| NOT_IN_LIBBPF_1_1.contains(&d.sec));
        match f.as_slice() {
            [_, err] => {
                assert_eq!(
                    *err, "-3",
                    "{name}: libbpf 1.1 gives ESRCH for unknown names"
                );
                if only_newer {
                    assert!(got.is_some(), "{name}: newer libbpf knows it");
                    newer += 1;
                } else {
                    assert_eq!(got, None, "{name}");
                    same += 1;
                }
            }
            [_, t, a] => {
                assert!(!only_newer, "{name}: libbpf 1.1 knows it");
                let want = (t.parse::<u32>().unwrap(), a.parse::<u32>().unwrap());
                assert_eq!(got, Some(want), "{name}");
                same += 1;
            }
            _ => panic!("bad line {line:?}"),
        }
    }
    eprintln!("{same} section names resolve as libbpf 1.1, {newer} as newer libbpf only");
    assert_eq!(same + newer, 140);
}

#[test]
fn flags_and_attach_targets() {
    let s = from_section("fentry.s/do_unlinkat").unwrap();
    assert_eq!(s.prog_flags, 1 << 4, "sleepable");
    assert_eq!(
        s.attach,
        progtype::AttachBtf::Func("do_unlinkat".into()),
        "target after the first '/'"
    );
    assert_eq!(from_section("xdp.frags/cpumap").unwrap().prog_flags, 1 << 5);
    assert_eq!(from_section("syscall").unwrap().prog_flags, 1 << 4);
    assert_eq!(
        from_section("lsm_cgroup/socket_bind")
            .unwrap()
            .attach
            .btf_name(),
        Some(("bpf_lsm_socket_bind".into(), false))
    );
    assert_eq!(
        from_section("iter.s/task").unwrap().attach.btf_name(),
        Some(("bpf_iter_task".into(), false))
    );
    // libbpf refuses these before the kernel sees them.
    assert_eq!(
        from_section("fentry")
            .and_then(|s| s.refusal())
            .map(|r| r.0),
        Some(libc::EINVAL)
    );
    assert_eq!(
        from_section("freplace/x")
            .and_then(|s| s.refusal())
            .map(|r| r.0),
        Some(libc::EINVAL)
    );
    assert_eq!(from_section("tp_btf/x").and_then(|s| s.refusal()), None);
}

/// Attach targets in module BTFs, as libbpf's `find_kernel_attach_btf_id`
/// (newest libbpf, `module:func` included), on Debian's 6.12 kernel BTF
/// and two of its modules' split BTF (fixtures/kernels/; type ids from
/// `bpftool btf dump file modules/<m>.btf -B x86_64-6.12.btf`).
#[test]
fn attach_targets_in_module_btfs() {
    use std::sync::Arc;
    let k = |f: &str| {
        std::fs::read(format!(
            "{}/../../fixtures/kernels/{f}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let vmlinux_bytes = k("x86_64-6.12.btf");
    let (ext4, bbr) = (k("modules/ext4.btf"), k("modules/tcp_bbr.btf"));
    let vmlinux = btf::Btf::parse(&vmlinux_bytes[..]).unwrap();
    let base = Arc::new(btf::Btf::parse(&vmlinux_bytes[..]).unwrap());
    let modules = || {
        vec![
            (
                "tcp_bbr".to_string(),
                btf::Btf::parse_split(&bbr[..], base.clone()).unwrap(),
            ),
            (
                "ext4".to_string(),
                btf::Btf::parse_split(&ext4[..], base.clone()).unwrap(),
            ),
        ]
    };
    let find = |sec: &str| {
        let spec = from_section(sec).unwrap();
        progtype::find_attach_target(&spec.attach, Some(&vmlinux), modules)
            .map(|(t, m)| (t.kernel, t.id.0, m))
            .map_err(|e| e.0)
    };
    assert_eq!(find("fentry/do_unlinkat"), Ok((0, 44649, None)));
    assert_eq!(
        find("fentry/ext4_readdir"),
        Ok((2, 112962, Some("ext4".into())))
    );
    assert_eq!(
        find("fexit/ext4:ext4_file_open"),
        Ok((2, 113155, Some("ext4".into())))
    );
    assert_eq!(
        find("fentry/tcp_bbr:bbr_ssthresh"),
        Ok((1, 112780, Some("tcp_bbr".into())))
    );
    assert_eq!(find("fentry/vmlinux:do_unlinkat"), Ok((0, 44649, None)));
    // Qualified by the wrong module, or missing everywhere: ESRCH.
    assert_eq!(find("fentry/tcp_bbr:ext4_readdir"), Err(libc::ESRCH));
    assert_eq!(find("fentry/vmlinux:ext4_readdir"), Err(libc::ESRCH));
    assert_eq!(find("fentry/no_such_function"), Err(libc::ESRCH));
}
