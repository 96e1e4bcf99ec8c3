//! Ring buffer consumption rate (scripts/bench-ringbuf.sh runs it beside
//! libbpf's ring_buffer__consume on the same producer).
//!
//! The producer is fixtures/bpf/run/testrun.bpf.o's `produce` (64 records
//! of 16 bytes per run, bpf_loop + bpf_ringbuf_output) driven by
//! BPF_PROG_TEST_RUN with `repeat`; the ring (4 MiB) is filled while
//! nobody consumes, then drained by `RingBuffer::consume` with a callback
//! that sums each record's first word. Prints records per second for each
//! round and the allocations made while draining (a counting allocator).
//!
//! `MODE` is `buffer` (RingBuffer: callbacks called through a pointer, as
//! libbpf's) or `reader` (RingReader: the callback inlined).
//!
//! Usage: ringbuf_bench [ROUNDS] [REPEAT] [MODE]

use std::cell::Cell;
use std::ops::ControlFlow;
use std::time::Instant;

use loader::ringbuf::{RingBuffer, RingReader};
use loader::test_run::TestRun;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

// Counts every allocation of the process (no unsafe code here: the
// wrapper is the stats_alloc crate's).
#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(Ok(10), |s| s.parse())?;
    let repeat: u32 = args.next().map_or(Ok(2000), |s| s.parse())?;
    let mode = args.next().unwrap_or_else(|| "buffer".into());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/bpf/run/testrun.bpf.o");
    let elf = std::fs::read(path)?;
    let loaded = loader::load(
        &elf,
        &loader::LoadOptions {
            obj_name: "testrun".into(),
            ..Default::default()
        },
    )?;
    let prog = loaded
        .program("produce")
        .and_then(|p| p.fd())
        .ok_or("produce did not load")?;
    let map = loaded
        .map("bench")
        .and_then(|m| m.fd())
        .ok_or("no bench map")?;
    let sum = Cell::new(0u64);
    let cb = |r: &[u8]| {
        let w = r.first_chunk::<8>().map_or(0, |b| u64::from_ne_bytes(*b));
        sum.set(sum.get().wrapping_add(w));
        ControlFlow::Continue(())
    };
    let mut buffer = None;
    let mut reader = None;
    if mode == "reader" {
        reader = Some(RingReader::new(map, cb)?);
    } else {
        let mut rb = RingBuffer::new()?;
        rb.add(map, cb)?;
        buffer = Some(rb);
    }
    let mut rates = Vec::new();
    for _ in 0..rounds {
        TestRun::new(&[0u8; 64]).repeat(repeat).run(prog)?;
        let region = Region::new(GLOBAL);
        let t = Instant::now();
        let n = match (&mut buffer, &mut reader) {
            (Some(rb), _) => rb.consume()?,
            (_, Some(rr)) => rr.consume()?.0,
            _ => 0,
        };
        let dt = t.elapsed();
        let allocs = region.change().allocations;
        let rate = n as f64 / dt.as_secs_f64();
        rates.push(rate);
        println!(
            "btfx-{mode} records={n} ns={} rate={rate:.0} allocs={allocs}",
            dt.as_nanos()
        );
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    println!(
        "btfx-{mode} median_rate={:.0} (sum {})",
        rates[rates.len() / 2],
        sum.get()
    );
    Ok(())
}
