//! Parse, index and lookup benchmarks on the running kernel's vmlinux BTF
//! (or the checked-in fixture when the machine has none).

use std::hint::black_box;

use btf::{Btf, Kind};
use criterion::{criterion_group, criterion_main, Criterion};

fn vmlinux_bytes() -> Vec<u8> {
    std::fs::read("/sys/kernel/btf/vmlinux")
        .or_else(|_| {
            std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../fixtures/kernels/x86_64-6.18.btf"
            ))
        })
        .expect("no vmlinux BTF: neither /sys/kernel/btf/vmlinux nor the fixture")
}

fn benches(c: &mut Criterion) {
    let bytes = vmlinux_bytes();
    c.bench_function("parse vmlinux from memory", |b| {
        b.iter(|| Btf::parse(black_box(&bytes[..])).unwrap())
    });
    c.bench_function("parse vmlinux from path", |b| {
        b.iter(|| {
            let data = std::fs::read("/sys/kernel/btf/vmlinux").unwrap_or_else(|_| bytes.clone());
            Btf::parse(data).unwrap().type_count()
        })
    });
    let btf = Btf::parse(&bytes[..]).unwrap();
    c.bench_function("build name index", |b| {
        b.iter(|| {
            let fresh = Btf::parse(&bytes[..]).unwrap();
            fresh.index().len()
        })
    });
    // 1000 lookups by name and kind, names taken from the BTF itself.
    let names: Vec<(String, Kind)> = btf
        .types()
        .filter(|t| !t.name_off().is_anon())
        .step_by((btf.local_type_count() / 1000).max(1))
        .take(1000)
        .map(|t| (btf.type_name(&t).to_owned(), t.kind()))
        .collect();
    btf.index();
    c.bench_function("1000 lookups by name and kind", |b| {
        b.iter(|| {
            names
                .iter()
                .filter_map(|(n, k)| btf.find_by_name_kind(n, *k))
                .count()
        })
    });
    let mut out = Vec::new();
    c.bench_function("dump raw vmlinux", |b| {
        b.iter(|| {
            out.clear();
            btf::dump::raw::dump_raw(&btf, &mut out);
            out.len()
        })
    });
    c.bench_function("dump json vmlinux", |b| {
        b.iter(|| {
            out.clear();
            btf::dump::json::dump_json(&btf, &mut out);
            out.len()
        })
    });
}

criterion_group!(name = group; config = Criterion::default().sample_size(30); targets = benches);
criterion_main!(group);
