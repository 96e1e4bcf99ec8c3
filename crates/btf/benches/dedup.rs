//! Dedup benchmarks: the 6.18 kernel's BTF appended to itself (what
//! scripts/bench-dedup.sh compares with libbpf), the fixture objects, and
//! appending alone.

use std::hint::black_box;

use btf::dedup::Appender;
use btf::Btf;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn appender(inputs: &[Btf<'_>]) -> Appender {
    let mut a = Appender::new();
    for i in inputs {
        a.add(i).unwrap();
    }
    a
}

fn benches(c: &mut Criterion) {
    let kernel = fixture("fixtures/kernels/x86_64-6.18.btf");
    let k = Btf::parse(&kernel[..]).unwrap();
    let doubled = [Btf::parse(&kernel[..]).unwrap(), k];
    let mut g = c.benchmark_group("dedup");
    g.sample_size(10);
    g.bench_function("append 6.18 twice", |b| {
        b.iter(|| appender(black_box(&doubled)).type_count())
    });
    g.bench_function("dedup 6.18 doubled", |b| {
        b.iter_batched(
            || appender(&doubled),
            |a| a.dedup().unwrap().type_count(),
            BatchSize::LargeInput,
        )
    });
    let dir = format!("{}/../../fixtures/bpf", env!("CARGO_MANIFEST_DIR"));
    let mut objs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    objs.sort();
    let parsed: Vec<Btf<'_>> = objs.iter().map(|o| Btf::from_elf(o).unwrap()).collect();
    g.bench_function("dedup fixture objects", |b| {
        b.iter_batched(
            || appender(&parsed),
            |a| a.dedup().unwrap().type_count(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(dedup, benches);
criterion_main!(dedup);
