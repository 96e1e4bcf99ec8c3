//! Times parse and index build of a BTF file (min of N runs), for quick
//! checks next to the criterion benchmarks.
//! `cargo run --release -p btf --example parse_time [FILE] [RUNS]`
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(50);
    let data = std::fs::read(&path)?;
    let (mut parse, mut index) = (f64::MAX, f64::MAX);
    for _ in 0..runs {
        let t = Instant::now();
        let btf = btf::Btf::parse(&data[..])?;
        let p = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let n = btf.index().len();
        let i = t.elapsed().as_secs_f64();
        std::hint::black_box(n);
        parse = parse.min(p);
        index = index.min(i);
    }
    println!(
        "min of {runs}: parse {:.3} ms, name index {:.3} ms",
        parse * 1e3,
        index * 1e3
    );
    Ok(())
}
