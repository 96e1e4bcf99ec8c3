//! Times parse and index build of a BTF file (min and median of N runs), for quick
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
    let (mut parse, mut index) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let btf = btf::Btf::parse(&data[..])?;
        let p = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let n = btf.index().len();
        let i = t.elapsed().as_secs_f64();
        std::hint::black_box(n);
        parse.push(p);
        index.push(i);
    }
    parse.sort_by(f64::total_cmp);
    index.sort_by(f64::total_cmp);
    let ms = |v: &[f64], i: usize| v[i] * 1e3;
    let mid = parse.len() / 2;
    println!(
        "{runs} runs: parse min {:.3} ms median {:.3} ms, name index min {:.3} ms median {:.3} ms",
        ms(&parse, 0),
        ms(&parse, mid),
        ms(&index, 0),
        ms(&index, mid)
    );
    Ok(())
}
