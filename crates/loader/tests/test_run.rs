//! BPF_PROG_TEST_RUN on fixtures/bpf/run/testrun.bpf.o: xdp (data changed,
//! verdict by content), tc (skb length), socket filter (a .rodata value),
//! raw_tp (context arguments summed into a map), repeat.

use loader::map_ops::Map;
use loader::sys::{self, Census};
use loader::test_run::TestRun;
use loader::LoadOptions;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn prog<'l>(l: &'l loader::Loaded, name: &str) -> &'l std::os::fd::OwnedFd {
    let p = l.program(name).unwrap();
    p.fd()
        .unwrap_or_else(|| panic!("{name} not loaded: {:?}", p.failure()))
}

#[test]
fn runs_xdp_tc_socket_and_raw_tp() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: bpf(2) not permitted: {e}");
        return;
    }
    let elf = std::fs::read(root().join("fixtures/bpf/run/testrun.bpf.o")).unwrap();
    let counted = Census::begin().unwrap();
    {
        let l = loader::load(
            &elf,
            &LoadOptions {
                obj_name: "testrun".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let mut pkt = [0u8; 64];
        pkt[0] = 1;
        pkt[1] = 2;
        let r = TestRun::new(&pkt).run(prog(&l, "xdp_edit")).unwrap();
        assert_eq!(r.retval, 2, "XDP_PASS");
        assert_eq!(r.data.len(), 64);
        assert_eq!(&r.data[..3], &[1, 0xab, 0]);
        pkt[0] = 0xff;
        let r = TestRun::new(&pkt)
            .repeat(1000)
            .run(prog(&l, "xdp_edit"))
            .unwrap();
        assert_eq!(r.retval, 1, "XDP_DROP");
        assert!(r.duration_ns < 1_000_000, "{} ns a run", r.duration_ns);

        let r = TestRun::new(&[0u8; 100]).run(prog(&l, "tc_len")).unwrap();
        assert_eq!(r.retval, 100, "skb->len");
        // A struct __sk_buff context in and out: cb[0] (offset 48) and
        // priority (offset 32) go in, come back; the rest stays zero.
        let mut skb = [0u8; 192];
        skb[32..36].copy_from_slice(&5u32.to_ne_bytes());
        skb[48..52].copy_from_slice(&0x1234u32.to_ne_bytes());
        let r = TestRun::new(&[0u8; 100])
            .ctx(&skb)
            .ctx_out(192)
            .run(prog(&l, "tc_len"))
            .unwrap();
        assert_eq!(r.retval, 100);
        assert_eq!(r.ctx.len(), 192);
        assert_eq!(r.ctx[32..36], 5u32.to_ne_bytes());
        assert_eq!(r.ctx[48..52], 0x1234u32.to_ne_bytes());
        let r = TestRun::new(&[0u8; 60]).run(prog(&l, "sock_keep")).unwrap();
        assert_eq!(r.retval, 4, "the .rodata 'keep'");

        let args: Vec<u8> = [3u64, 4].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let raw = prog(&l, "raw_sum");
        assert_eq!(TestRun::new(&[]).ctx(&args).run(raw).unwrap().retval, 7);
        assert_eq!(
            TestRun::new(&[])
                .ctx(&args)
                .on_cpu(0)
                .run(raw)
                .unwrap()
                .retval,
            7
        );
        let sums = l.map("sums").and_then(|m| m.fd()).unwrap();
        let v = Map::new(sums).unwrap().lookup(&0u32.to_ne_bytes()).unwrap();
        assert_eq!(v, Some(14u64.to_ne_bytes().to_vec()));
        // raw_tp has no repeat: the kernel says EINVAL, named in the error.
        let e = TestRun::new(&[]).ctx(&args).repeat(5).run(raw).unwrap_err();
        assert!(e.to_string().contains("BPF_PROG_TEST_RUN"), "{e}");
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
