//! Relocating core_fields.bpf.o (95 relocations, 56 in one section) against
//! the running kernel's vmlinux, target parsed and indexed once and shared.

use btf::Btf;
use core_reloc::{insn::decode_all, relocate, BtfExt, Program, Target};
use criterion::{criterion_group, criterion_main, Criterion};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

fn programs(elf: &[u8], endian: btf::Endian) -> Vec<Program> {
    let file = object::File::parse(elf).expect("ELF");
    let mut out = Vec::new();
    for sec in file.sections() {
        if sec.kind() != SectionKind::Text || sec.size() == 0 {
            continue;
        }
        let name = sec.name().expect("name").to_string();
        let insns = decode_all(sec.data().expect("data"), endian).expect("insns");
        for s in file.symbols() {
            if s.section_index() == Some(sec.index()) && s.kind() == SymbolKind::Text {
                let off = (s.address() / 8) as usize;
                let n = (s.size() / 8) as usize;
                out.push(Program {
                    name: s.name().expect("sym").to_string(),
                    section: name.clone(),
                    insn_off: off,
                    insns: insns[off..off + n].to_vec(),
                });
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
    let target_bytes = std::fs::read("/sys/kernel/btf/vmlinux")
        .or_else(|_| std::fs::read(format!("{root}/kernels/x86_64-6.18.btf")))
        .expect("vmlinux");
    let target = Btf::parse(&target_bytes[..]).expect("target");
    let _ = target.index();
    for obj in ["core_fields", "sock_trace"] {
        let elf = std::fs::read(format!("{root}/bpf/{obj}.bpf.o")).expect("object");
        let local = Btf::from_elf(&elf).expect("local");
        let ext_bytes = btf::elf_section(&elf, ".BTF.ext")
            .expect("elf")
            .expect(".BTF.ext");
        let ext = BtfExt::parse(&ext_bytes, &local).expect("ext");
        let progs = programs(&elf, local.endian());
        c.bench_function(
            &format!("relocate {obj} ({} relos)", ext.core_relo_count()),
            |b| {
                b.iter(|| {
                    let mut p = progs.clone();
                    let r = relocate(&local, &ext, &mut p, Target::new(&target));
                    assert!(!r.failed());
                    r
                })
            },
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
