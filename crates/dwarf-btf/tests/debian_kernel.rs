//! The real Debian debug kernel (6.1.0-56-cloud-amd64, 6.1.192-2) and 14
//! of its modules, against pahole 1.24 and the kernel's own BTF. The
//! packages are large and stay out of git: `scripts/fetch-debug-kernel.sh`
//! unpacks them into `$BTFX_DEBUG_KERNEL_DIR` (default /work/dl/kernel) and
//! `scripts/record-pahole-kernel.sh` runs pahole there and records the
//! summaries checked in as
//! `fixtures/oracle/dwarf/kernel-6.1.0-56-cloud-amd64.summary`. Without the
//! directory the test says so and checks nothing.

mod common;
use common::{counts, gen, summary};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use btf::graph::compare;
use btf::Btf;

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

#[test]
fn debian_vmlinux_and_modules_as_pahole_encodes_them() {
    let Some(dir) = kernel_dir() else {
        eprintln!(
            "skipped: no debug kernel (run scripts/fetch-debug-kernel.sh, or set BTFX_DEBUG_KERNEL_DIR)"
        );
        return;
    };
    let rec = summary("6.1.0-56-cloud-amd64");
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
