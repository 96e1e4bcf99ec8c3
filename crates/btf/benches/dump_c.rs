//! `format c` benchmarks: the whole vmlinux header of the x86_64-6.18
//! fixture (parse included and excluded), and a single-root dump.

use std::hint::black_box;

use btf::{Btf, TypeId};
use criterion::{criterion_group, criterion_main, Criterion};

fn vmlinux_bytes() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/kernels/x86_64-6.18.btf"
    ))
    .or_else(|_| std::fs::read("/sys/kernel/btf/vmlinux"))
    .expect("no vmlinux BTF: neither the fixture nor /sys/kernel/btf/vmlinux")
}

fn benches(c: &mut Criterion) {
    let bytes = vmlinux_bytes();
    let btf = Btf::parse(&bytes[..]).unwrap();
    let mut g = c.benchmark_group("dump_c");
    g.sample_size(20);
    g.bench_function("vmlinux.h from parsed BTF", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(8 << 20);
            btf::dump::c::dump_c(black_box(&btf), &mut out).unwrap();
            out.len()
        })
    });
    g.bench_function("vmlinux.h from bytes (parse + dump)", |b| {
        b.iter(|| {
            let btf = Btf::parse(black_box(&bytes[..])).unwrap();
            let mut out = Vec::new();
            btf::dump::c::dump_c(&btf, &mut out).unwrap();
            out.len()
        })
    });
    let task: Vec<TypeId> = btf::dump::c::ids_by_name(&btf, "task_struct");
    g.bench_function("task_struct and its dependencies", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            btf::dump::c::dump_c_ids(&btf, task.iter().copied(), &mut out).unwrap();
            out.len()
        })
    });
    g.finish();
}

criterion_group!(dump_c, benches);
criterion_main!(dump_c);
