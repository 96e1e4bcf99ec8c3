//! The real Debian debug kernel (6.1.0-56-cloud-amd64, 6.1.192-2) and 14
//! of its modules, against pahole 1.24 and the kernel's own BTF. The
//! packages are large and stay out of git: `scripts/fetch-debug-kernel.sh`
//! unpacks them into `$BTFX_DEBUG_KERNEL_DIR` (default /work/dl/kernel) and
//! `scripts/record-pahole-kernel.sh` runs pahole there and records the
//! summaries checked in as
//! `fixtures/oracle/dwarf/kernel-6.1.0-56-cloud-amd64.summary`. Without the
//! directory the test says so and checks nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use btf::graph::compare;
use btf::Btf;
use dwarf_btf::elf::{ElfInput, OpenOptions};
use dwarf_btf::{encode, Options};

const MODULES: &[&str] = &[
    "tcp_bbr",
    "sch_fq",
    "nfnetlink",
    "veth",
    "virtio_net",
    "wireguard",
    "nf_conntrack",
    "fuse",
    "overlay",
    "nf_tables",
    "kvm",
    "kvm-intel",
    "btrfs",
    "xfs",
];

fn kernel_dir() -> Option<PathBuf> {
    let d = std::env::var_os("BTFX_DEBUG_KERNEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/dl/kernel"));
    d.join("vmlinux").exists().then_some(d)
}

/// The recorded summary: block name -> (key -> value).
fn summary() -> BTreeMap<String, BTreeMap<String, String>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/oracle/dwarf/kernel-6.1.0-56-cloud-amd64.summary");
    let text = std::fs::read_to_string(&p).expect("summary");
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut cur = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            cur = name.to_owned();
        } else if let Some((k, v)) = line.split_once(' ') {
            out.entry(cur.clone())
                .or_default()
                .insert(k.to_owned(), v.to_owned());
        }
    }
    out
}

fn gen(path: &Path, base: Option<Arc<Btf<'static>>>) -> Vec<u8> {
    let open = OpenOptions {
        lay_out: true,
        lazy_debug_info: true,
    };
    let elf = ElfInput::open_with(path, open).unwrap_or_else(|e| panic!("{e}"));
    let opts = Options {
        base,
        ..Options::default()
    };
    encode(&elf, &opts)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .btf
}

/// Per-kind counts of a (split) BTF's own types, with bpftool's names.
fn counts(b: &Btf<'_>) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, u32> = BTreeMap::new();
    for t in b.types() {
        *m.entry(t.kind().name().to_owned()).or_default() += 1;
    }
    let mut out: BTreeMap<String, String> =
        m.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    out.insert("types".into(), b.local_type_count().to_string());
    out
}

#[test]
fn debian_vmlinux_and_modules_as_pahole_encodes_them() {
    let Some(dir) = kernel_dir() else {
        eprintln!(
            "skipped: no debug kernel (run scripts/fetch-debug-kernel.sh, or set BTFX_DEBUG_KERNEL_DIR)"
        );
        return;
    };
    let rec = summary();
    let pahole_block = &rec["vmlinux.pahole"];

    let ours = gen(&dir.join("vmlinux"), None);
    // Byte for byte pahole's single-threaded output, when it is there.
    let pahole_out = dir.join("pahole/vmlinux.btf");
    if let Ok(p) = std::fs::read(&pahole_out) {
        assert!(ours == p, "vmlinux: not pahole 1.24's bytes");
    }
    let ours = Btf::parse(ours).expect("parses");
    let c = counts(&ours);
    for (k, v) in &c {
        assert_eq!(pahole_block.get(k), Some(v), "vmlinux {k}");
    }
    assert_eq!(pahole_block["bytes"], ours.raw_bytes().len().to_string());

    // Against the kernel's own BTF (built with pahole -j): every type of
    // ours has its equal there; the kernel's extras are the -j run's
    // second FUNCs for names already encoded, and their prototypes.
    let kernel =
        Btf::parse(std::fs::read(dir.join("vmlinux.BTF")).expect("vmlinux.BTF")).expect("parses");
    let d = compare(&kernel, &ours).expect("compares");
    assert_eq!(d.only_b.len(), 0, "a type of ours the kernel lacks");
    let mut extra: BTreeMap<&str, usize> = BTreeMap::new();
    for &id in &d.only_a {
        let k = kernel.type_by_id(id).expect("id").kind().name();
        *extra.entry(k).or_default() += 1;
    }
    assert_eq!(
        extra,
        BTreeMap::from([("FUNC", 444), ("FUNC_PROTO", 40)]),
        "the kernel's -j duplicates"
    );

    // Modules, split over the kernel's BTF as the kernel build does.
    let base = Arc::new(
        Btf::parse(std::fs::read(dir.join("vmlinux.BTF")).expect("base")).expect("base parses"),
    );
    for m in MODULES {
        let ko = dir.join(format!("modules/{m}.ko"));
        let got = gen(&ko, Some(base.clone()));
        if let Ok(p) = std::fs::read(dir.join(format!("pahole/modules/{m}.btf"))) {
            assert!(got == p, "{m}: not pahole 1.24's bytes");
        }
        let b = Btf::parse_split(got, base.clone()).expect("split parses");
        let block = &rec[&format!("module.{m}.pahole")];
        for (k, v) in counts(&b) {
            assert_eq!(block.get(&k), Some(&v), "{m} {k}");
        }
        // Against the .BTF shipped in the module (the kernel build's pahole
        // -j): the same graph, but for the -j run's second FUNC of a name
        // (kvm: kvm_arch_set_irq_inatomic; btrfs: fill_inode_item, with its
        // other prototype).
        let shipped =
            std::fs::read(dir.join(format!("modules/{m}.shipped.BTF"))).expect("shipped .BTF");
        let shipped = Btf::parse_split(shipped, base.clone()).expect("shipped parses");
        let d = compare(&shipped, &b).expect("compares");
        assert!(
            d.only_b.is_empty(),
            "{m}: a type of ours the shipped BTF lacks"
        );
        let extra: Vec<String> = d
            .only_a
            .iter()
            .map(|&id| {
                let t = shipped.type_by_id(id).expect("id");
                format!("{} {}", t.kind().name(), shipped.type_name(&t))
            })
            .collect();
        let want: &[&str] = match *m {
            "kvm" => &["FUNC kvm_arch_set_irq_inatomic"],
            "btrfs" => &["FUNC_PROTO ", "FUNC fill_inode_item"],
            _ => &[],
        };
        assert_eq!(extra, want, "{m} vs its shipped .BTF");
    }
}
