//! Times parsing a BTF file from its path (min and median of N runs): the
//! file mapped with `loader::sys::FileBytes` (what `btfx` does), and read
//! into memory with `std::fs::read` for comparison. The libbpf comparator is
//! `btf__parse(path)` in scripts/libbpf-parse-time.c.
//! `cargo run --release -p btfx-loader --example parse_path_time [FILE] [RUNS]`
use std::time::Instant;

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0] * 1e3, v[v.len() / 2] * 1e3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    let runs: usize = args
        .next()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50)
        .max(1);
    let (mut mapped, mut read) = (Vec::new(), Vec::new());
    let mut was_mapped = false;
    for _ in 0..runs {
        let t = Instant::now();
        let bytes = loader::sys::FileBytes::open(&path)?;
        let n = btf::Btf::parse(&bytes[..])?.type_count();
        mapped.push(t.elapsed().as_secs_f64());
        was_mapped = bytes.is_mapped();
        std::hint::black_box(n);
        let t = Instant::now();
        let bytes = std::fs::read(&path)?;
        let n = btf::Btf::parse(&bytes[..])?.type_count();
        read.push(t.elapsed().as_secs_f64());
        std::hint::black_box(n);
    }
    let (mmin, mmed) = stats(mapped);
    let (rmin, rmed) = stats(read);
    println!(
        "{runs} runs from path: FileBytes ({}) + parse min {mmin:.3} ms median {mmed:.3} ms; fs::read + parse min {rmin:.3} ms median {rmed:.3} ms",
        if was_mapped { "mapped" } else { "read" }
    );
    Ok(())
}
