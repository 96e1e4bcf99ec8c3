//! `btfx gen rust` benchmark: the whole Rust module for a vmlinux BTF
//! (the x86_64-6.18 fixture), from a parsed `Btf` to the finished string.

use std::hint::black_box;

use btf::dump::rust::{gen_rust, Options};
use btf::Btf;
use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/kernels/x86_64-6.18.btf"
    );
    let bytes = std::fs::read(path).expect("fixtures/kernels/x86_64-6.18.btf");
    let btf = Btf::parse(&bytes[..]).expect("parse the fixture");
    let opts = Options::default();
    c.bench_function("gen rust vmlinux x86_64-6.18", |b| {
        b.iter(|| gen_rust(black_box(&btf), &opts).expect("gen").len())
    });
    let roots = ["task_struct", "sk_buff"]
        .iter()
        .filter_map(|n| btf.find_by_name_kind(n, btf::Kind::Struct))
        .collect();
    let opts = Options {
        roots: Some(roots),
        ..Options::default()
    };
    c.bench_function("gen rust task_struct + sk_buff closure", |b| {
        b.iter(|| gen_rust(black_box(&btf), &opts).expect("gen").len())
    });
}

criterion_group!(name = group; config = Criterion::default().sample_size(20); targets = benches);
criterion_main!(group);
