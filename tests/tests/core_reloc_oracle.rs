//! CO-RE fidelity: for every fixture object and recorded kernel, the CO-RE
//! lines btfx's engine logs equal libbpf 1.1's (fixtures/oracle/core/*.log,
//! lines starting `libbpf: ` that are CO-RE lines, prefix stripped).

use std::path::Path;

use btf::Btf;
use btfx_tests::{first_diff, fixtures};
use core_reloc::{insn::decode_all, relocate_with, BtfExt, LogStyle, Program, Target};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

/// Programs of a BPF ELF object as libbpf discovers them: every FUNC symbol
/// of every executable section, sorted by section and offset.
fn programs(elf: &[u8], endian: btf::Endian) -> Vec<Program> {
    let file = object::File::parse(elf).expect("ELF");
    let mut out = Vec::new();
    for sec in file.sections() {
        if sec.kind() != SectionKind::Text || sec.size() == 0 {
            continue;
        }
        let name = sec.name().expect("section name").to_string();
        let data = sec.data().expect("section data");
        let insns = decode_all(data, endian).expect("insns");
        let mut syms: Vec<_> = file
            .symbols()
            .filter(|s| s.section_index() == Some(sec.index()) && s.kind() == SymbolKind::Text)
            .collect();
        syms.sort_by_key(|s| s.address());
        for s in syms {
            let off = (s.address() / 8) as usize;
            let n = (s.size() / 8) as usize;
            out.push(Program {
                name: s.name().expect("symbol name").to_string(),
                section: name.clone(),
                insn_off: off,
                insns: insns[off..off + n].to_vec(),
            });
        }
    }
    out
}

/// The CO-RE lines of a libbpf log, `libbpf: ` stripped.
fn core_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.strip_prefix("libbpf: "))
        .filter(|l| is_core_line(l))
        .map(str::to_string)
        .collect()
}

fn is_core_line(l: &str) -> bool {
    if l.starts_with("CO-RE relocating ") {
        return true;
    }
    if let Some(rest) = l.strip_prefix("sec '") {
        return rest
            .split_once("': ")
            .is_some_and(|(_, t)| t.starts_with("found ") && t.ends_with(" CO-RE relocations"));
    }
    if let Some(rest) = l.strip_prefix("prog '") {
        return rest
            .split_once("': ")
            .is_some_and(|(_, t)| t.starts_with("relo #"));
    }
    false
}

fn ours(obj: &Path, target: &Path, style: LogStyle) -> (Vec<String>, bool) {
    let elf = std::fs::read(obj).expect("object");
    let local = Btf::from_elf(&elf).expect("local BTF");
    let ext_bytes = btf::elf_section(&elf, ".BTF.ext")
        .expect("elf")
        .expect(".BTF.ext");
    let ext = BtfExt::parse(&ext_bytes, &local).expect("BTF.ext");
    let tbytes = std::fs::read(target).expect("target");
    let tbtf = Btf::parse(&tbytes[..]).expect("target BTF");
    let mut progs = programs(&elf, local.endian());
    let report = relocate_with(&local, &ext, &mut progs, Target::new(&tbtf), style);
    // `btfx reloc`'s way: candidates searched for while the target parses.
    let names = core_reloc::wanted_names(&local, &ext);
    let (tbtf2, found) =
        Btf::parse_scanning(&tbytes, None, Default::default(), &names).expect("target");
    let target2 = Target::new(&tbtf2).with_prefetched(&names, found);
    let mut progs2 = programs(&elf, local.endian());
    let report2 = relocate_with(&local, &ext, &mut progs2, target2, style);
    assert_eq!(
        report.log,
        report2.log,
        "{} on {}",
        obj.display(),
        target.display()
    );
    let failed = report.failed();
    (report.log, failed)
}

#[test]
fn core_logs_match_libbpf() {
    let dir = fixtures().join("oracle/core");
    let mut logs: Vec<_> = std::fs::read_dir(&dir)
        .expect("oracle dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    assert!(!logs.is_empty(), "no oracle logs");
    let (mut same, mut total, mut fails) = (0, 0, Vec::new());
    for log in &logs {
        let stem = log.file_stem().unwrap().to_string_lossy().to_string();
        let (object, kernel) = stem.split_once('.').expect("<object>.<kernel>");
        let obj = fixtures().join(format!("bpf/{object}.bpf.o"));
        let target = fixtures().join(format!("kernels/{kernel}.btf"));
        let oracle = core_lines(&std::fs::read_to_string(log).expect("log"));
        // The running kernel's recordings come from `bpftool -d` (see
        // fixtures/oracle/core/README.md), the others from libbpf 1.1.2.
        let style = if kernel == "x86_64-6.18" {
            LogStyle::Bpftool
        } else {
            LogStyle::Libbpf
        };
        let (mine, _) = ours(&obj, &target, style);
        total += 1;
        let a = mine.join("\n");
        let b = oracle.join("\n");
        match first_diff(a.as_bytes(), b.as_bytes()) {
            None => same += 1,
            Some(d) => fails.push(format!("{stem}: {d}")),
        }
    }
    println!("CO-RE logs identical: {same} of {total}");
    // The recorder's own 6.18 logs (libbpf 1.1.2) must match the default style.
    for log in btfx_tests::fixture_files("oracle/core/recorder", ".log") {
        let stem = log.file_stem().unwrap().to_string_lossy().to_string();
        let (object, kernel) = stem.split_once('.').expect("<object>.<kernel>");
        let obj = fixtures().join(format!("bpf/{object}.bpf.o"));
        let target = fixtures().join(format!("kernels/{kernel}.btf"));
        let oracle = core_lines(&std::fs::read_to_string(&log).expect("log"));
        let (mine, _) = ours(&obj, &target, LogStyle::Libbpf);
        total += 1;
        match first_diff(mine.join("\n").as_bytes(), oracle.join("\n").as_bytes()) {
            None => same += 1,
            Some(d) => fails.push(format!("recorder/{stem}: {d}")),
        }
    }
    println!("CO-RE logs identical (with recorder/): {same} of {total}");
    assert!(
        fails.is_empty(),
        "{same} of {total} identical; differences:\n{}",
        fails.join("\n")
    );
}
