//! The ring buffer consumer on records written by BPF programs run with
//! BPF_PROG_TEST_RUN (fixtures/bpf/run/testrun.bpf.o): every record in
//! order with its bytes, discarded records skipped, two maps in one poll,
//! the consumer position published, a callback that stops the poll.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::time::Duration;

use loader::ringbuf::RingBuffer;
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

fn run(l: &Loaded, name: &str) {
    let fd = l.program(name).and_then(|p| p.fd()).unwrap();
    assert_eq!(TestRun::new(&[0u8; 64]).run(fd).unwrap().retval, 2);
}

fn bench_map(l: &Loaded) -> &std::os::fd::OwnedFd {
    l.map("bench").and_then(|m| m.fd()).unwrap()
}

fn rec(r: &[u8]) -> (u64, u64) {
    (
        u64::from_ne_bytes(r[..8].try_into().unwrap()),
        u64::from_ne_bytes(r[8..16].try_into().unwrap()),
    )
}

#[test]
fn records_in_order_discards_skipped_two_maps_one_poll() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: bpf(2) not permitted: {e}");
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let (a, b) = (load(), load());
        let got_a = RefCell::new(Vec::new());
        let got_b = RefCell::new(Vec::new());
        let mut rb = RingBuffer::new().unwrap();
        rb.add(bench_map(&a), |r| {
            got_a.borrow_mut().push((r.len(), rec(r)));
            ControlFlow::Continue(())
        })
        .unwrap();
        rb.add(bench_map(&b), |r| {
            got_b.borrow_mut().push((r.len(), rec(r)));
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(rb.len(), 2);
        // Nothing yet: a poll times out with no records.
        assert_eq!(rb.poll(Some(Duration::from_millis(10))).unwrap(), 0);
        run(&a, "produce");
        run(&b, "produce_mixed");
        run(&a, "produce");
        let mut n = 0;
        while n < 130 {
            n += rb.poll(Some(Duration::from_secs(1))).unwrap();
        }
        assert_eq!(n, 130);
        let a_recs = got_a.borrow();
        assert_eq!(a_recs.len(), 128);
        for (i, (len, (seq, fill))) in a_recs.iter().enumerate() {
            assert_eq!(*len, 16);
            assert_eq!(*seq, (i % 64) as u64);
            assert_eq!(*fill, 0x5a5a5a5a5a5a5a5a);
        }
        // produce_mixed submitted 100 and 102, discarded 101 and 103.
        let b_recs: Vec<u64> = got_b.borrow().iter().map(|(_, (s, _))| *s).collect();
        assert_eq!(b_recs, [100, 102]);
        assert_eq!(rb.consume().unwrap(), 0, "everything was consumed");
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn a_callback_can_stop_the_poll() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: bpf(2) not permitted: {e}");
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load();
        let seen = RefCell::new(0u64);
        let mut rb = RingBuffer::new().unwrap();
        rb.add(bench_map(&l), |r| {
            *seen.borrow_mut() += 1;
            if rec(r).0 == 9 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        run(&l, "produce");
        assert_eq!(rb.consume().unwrap(), 10);
        assert!(rb.stopped());
        // The rest is still there, from record 10 on.
        assert_eq!(rb.consume().unwrap(), 54);
        assert_eq!(*seen.borrow(), 64);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn ring_reader_inlines_one_callback() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: bpf(2) not permitted: {e}");
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load();
        let mut seqs = Vec::new();
        let mut rr = loader::ringbuf::RingReader::new(bench_map(&l), |r: &[u8]| {
            seqs.push(rec(r).0);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(
            rr.poll(Some(Duration::from_millis(10))).unwrap(),
            (0, false)
        );
        run(&l, "produce");
        run(&l, "produce_mixed");
        let (n, stopped) = rr.poll(Some(Duration::from_secs(1))).unwrap();
        assert_eq!((n, stopped), (66, false));
        drop(rr);
        let mut want: Vec<u64> = (0..64).collect();
        want.extend([100, 102]);
        assert_eq!(seqs, want);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
