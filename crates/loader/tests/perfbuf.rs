//! The perf buffer consumer on samples written by an XDP program run with
//! BPF_PROG_TEST_RUN (fixtures/bpf/run/testrun.bpf.o, `perf_produce`):
//! every sample in order across records that wrap the ring's end, and the
//! lost count when the ring overflows (samples + lost = sent).

use std::cell::RefCell;
use std::time::Duration;

use loader::perfbuf::{PerfBuffer, PerfEvent};
use loader::sys::{self, Census};
use loader::test_run::TestRun;
use loader::{LoadOptions, Loaded};

fn load() -> Loaded {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/bpf/run/testrun.bpf.o");
    let elf = std::fs::read(path).unwrap();
    loader::load(
        &elf,
        &LoadOptions {
            obj_name: "testrun".into(),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Runs perf_produce for `n` samples numbered from `start`, on CPU 0.
fn produce(l: &Loaded, n: u32, start: u32) {
    let fd = l.program("perf_produce").and_then(|p| p.fd()).unwrap();
    let mut pkt = [0u8; 64];
    pkt[..4].copy_from_slice(&n.to_ne_bytes());
    pkt[4..8].copy_from_slice(&start.to_ne_bytes());
    assert_eq!(TestRun::new(&pkt).run(fd).unwrap().retval, 2);
}

#[derive(Debug, Default)]
struct Seen {
    seqs: Vec<u32>,
    lost: u64,
    bad: usize,
}

#[test]
fn samples_across_wraps_and_lost_counts() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: bpf(2) not permitted: {e}");
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load();
        let map = l.map("perf_out").and_then(|m| m.fd()).unwrap();
        let seen = RefCell::new(Seen::default());
        // One data page: 4096 bytes, 80 bytes a sample record.
        let mut pb = PerfBuffer::new(map, 1, |_cpu, ev| {
            let mut s = seen.borrow_mut();
            match ev {
                PerfEvent::Sample(b) => {
                    // 64 bytes sent, padded to 68 by the kernel.
                    if b.len() != 68 || b[4] != 0xee || b[63] != 0x77 {
                        s.bad += 1;
                    }
                    s.seqs.push(u32::from_ne_bytes(b[..4].try_into().unwrap()));
                }
                PerfEvent::Lost(n) => s.lost += n,
            }
        })
        .unwrap();
        assert!(pb.cpus() >= 1);
        // 30 samples (2400 bytes) a round, consumed between rounds: the
        // second round's records cross the end of the 4096-byte ring.
        let mut next = 0;
        for _ in 0..5 {
            produce(&l, 30, next);
            next += 30;
            let mut got = 0;
            while got < 30 {
                got += pb.poll(Some(Duration::from_secs(1))).unwrap();
            }
        }
        {
            let s = seen.borrow();
            assert_eq!(s.seqs, (0..150).collect::<Vec<_>>());
            assert_eq!(s.lost, 0);
            assert_eq!(s.bad, 0);
        }
        // 200 samples at once overflow the ring: some arrive, the rest are
        // counted as lost. The kernel writes the LOST record before the
        // next sample that fits, so one more is sent after consuming.
        seen.borrow_mut().seqs.clear();
        produce(&l, 200, 1000);
        pb.consume().unwrap();
        assert_eq!(
            seen.borrow().lost,
            0,
            "no LOST record before the next sample"
        );
        produce(&l, 1, 5000);
        pb.consume().unwrap();
        let s = seen.borrow();
        assert!(s.lost > 0, "the ring overflowed");
        assert_eq!(s.seqs.last(), Some(&5000));
        assert_eq!(s.seqs.len() as u64 - 1 + s.lost, 200, "{s:?}");
        assert_eq!(s.seqs[0], 1000);
        eprintln!("200 sent: {} read, {} lost", s.seqs.len() - 1, s.lost);
        assert_eq!(s.bad, 0);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
