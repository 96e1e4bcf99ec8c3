//! Times parse and index build of a BTF file (min and median of N runs), for quick
//! checks next to the criterion benchmarks: `Btf::parse` (two validation
//! threads for a large BTF), the same single-threaded, and the name index.
//! `cargo run --release -p btfx-btf --example parse_time [FILE] [RUNS]`
use std::time::Instant;

use btf::{Btf, ParseOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(50);
    let data = std::fs::read(&path)?;
    let single = ParseOptions::default().threads(false);
    let (mut parse, mut parse1, mut index) = (Vec::new(), Vec::new(), Vec::new());
    // Three separate loops, as scripts/libbpf-parse-time.c times libbpf:
    // interleaved, each kind of run would meet the caches and the malloc
    // state the others left, and the parse's second thread a processor
    // idle for milliseconds (slower to wake).
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let btf = Btf::parse(&data[..])?;
        parse.push(t.elapsed().as_secs_f64());
        std::hint::black_box(btf.type_count());
    }
    for _ in 0..runs.max(1) {
        let btf = Btf::parse(&data[..])?;
        let t = Instant::now();
        let n = btf.index().len();
        index.push(t.elapsed().as_secs_f64());
        std::hint::black_box(n);
    }
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let one = Btf::parse_any_with(&data[..], None, single)?;
        parse1.push(t.elapsed().as_secs_f64());
        std::hint::black_box(one.type_count());
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0] * 1e3, v[v.len() / 2] * 1e3)
    };
    let ((p0, p1), (s0, s1), (i0, i1)) = (stats(&mut parse), stats(&mut parse1), stats(&mut index));
    println!(
        "{runs} runs: parse min {p0:.3} ms median {p1:.3} ms, name index min {i0:.3} ms median {i1:.3} ms, single-threaded parse min {s0:.3} ms median {s1:.3} ms"
    );
    Ok(())
}
