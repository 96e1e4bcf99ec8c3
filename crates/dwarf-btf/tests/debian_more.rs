//! More real Debian debug kernels beyond 6.1 cloud-amd64 (see
//! `debian_kernel.rs`): 6.12 cloud-amd64, 6.1 cloud-arm64 and the
//! big-endian 6.1 s390x, each with 5 modules, against pahole 1.24 run
//! single-threaded on this machine. The packages are large and stay out of
//! git: `scripts/fetch-more-kernels.sh` unpacks each into
//! `$BTFX_KERNELS_DIR/NAME` (default /work/dl/kernels/NAME), runs pahole
//! there (vmlinux; modules over pahole's vmlinux BTF) and records
//! `fixtures/oracle/dwarf/kernel-NAME.summary`. A kernel whose directory
//! is not there is skipped with a printed reason.
//!
//!
//! The arm64 vmlinux tells apart where pahole 1.24 checks a per-CPU
//! variable's name: where the DIE's own address is 0 (x86's per-CPU
//! section starts at 0), not at section offset 0 (arm64's does not), so
//! `this_cpu_vector`, first in arm64's `.data..percpu`, is encoded.

mod common;
use common::{counts, gen, summary};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use btf::Btf;

/// Modules recorded for every kernel (scripts/fetch-more-kernels.sh).
const MODULES: &[&str] = &["tcp_bbr", "sch_fq", "veth", "nf_conntrack", "overlay"];

fn kernel_dir(name: &str) -> Option<PathBuf> {
    let root = std::env::var_os("BTFX_KERNELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/dl/kernels"));
    let d = root.join(name);
    (d.join("vmlinux").exists() && d.join("pahole/vmlinux.btf").exists()).then_some(d)
}

/// Every kind count of `c` is the recorded block's, and no recorded kind
/// is missing from `c`.
fn assert_counts(what: &str, c: &BTreeMap<String, String>, block: &BTreeMap<String, String>) {
    for (k, v) in c {
        assert_eq!(block.get(k), Some(v), "{what} {k}");
    }
    for k in block.keys() {
        if k.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_') {
            assert!(c.contains_key(k), "{what}: no {k}, recorded {}", block[k]);
        }
    }
}

/// btfx's vmlinux and modules (over pahole's vmlinux BTF) byte-identical
/// to pahole 1.24's, kinds as recorded.
fn check_kernel(name: &str) {
    let Some(dir) = kernel_dir(name) else {
        eprintln!(
            "skipped {name}: no unpacked kernel with pahole outputs \
             (run scripts/fetch-more-kernels.sh {name}, or set BTFX_KERNELS_DIR)"
        );
        return;
    };
    let rec = summary(name);

    let ours = gen(&dir.join("vmlinux"), None);
    let pahole = std::fs::read(dir.join("pahole/vmlinux.btf")).expect("pahole vmlinux.btf");
    let pahole = Btf::parse(pahole).expect("pahole parses");
    let block = &rec["vmlinux.pahole"];
    assert_counts(&format!("{name} pahole vmlinux"), &counts(&pahole), block);
    assert_eq!(block["bytes"], pahole.raw_bytes().len().to_string());
    assert!(
        ours == pahole.raw_bytes(),
        "{name} vmlinux: not pahole 1.24's bytes"
    );

    // Modules over pahole's vmlinux BTF (the base the pahole outputs used).
    let base = Arc::new(pahole);
    for m in MODULES {
        let ko = dir.join(format!("modules/{m}.ko"));
        let want = dir.join(format!("pahole/modules/{m}.over-pahole.btf"));
        if !ko.exists() || !want.exists() {
            eprintln!(
                "skipped {name} {m}: no {} or {}",
                ko.display(),
                want.display()
            );
            continue;
        }
        let got = gen(&ko, Some(base.clone()));
        let want = std::fs::read(&want).expect("pahole module");
        assert!(got == want, "{name} {m}: not pahole 1.24's bytes");
        let b = Btf::parse_split(got, base.clone()).expect("split parses");
        let block = &rec[&format!("module.{m}.over-pahole")];
        assert_counts(&format!("{name} {m}"), &counts(&b), block);
        assert_eq!(
            block["bytes"],
            b.raw_bytes().len().to_string(),
            "{name} {m}"
        );
    }
}

#[test]
fn debian_6_12_cloud_amd64_as_pahole_encodes_it() {
    check_kernel("6.12.118-cloud-amd64");
}

#[test]
fn debian_6_1_cloud_arm64_as_pahole_encodes_it() {
    check_kernel("6.1.0-57-cloud-arm64");
}

#[test]
fn debian_6_1_s390x_big_endian_as_pahole_encodes_it() {
    check_kernel("6.1.0-50-s390x");
}
