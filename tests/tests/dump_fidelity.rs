//! `btfx dump --format raw|json` against bpftool's recorded outputs
//! (fixtures/oracle/dump/*.{raw,json}.gz, bpftool 7.1 / libbpf 1.1).
//!
//! Every oracle file is checked: kernels of several versions and
//! architectures, split module BTF over its base, and the `.BTF` of clang
//! objects in both byte orders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use btf::Btf;
use btfx_tests::{first_diff, fixture_files, fixtures, read_fixture};

/// The input (and base) bpftool was run on for an oracle stem.
fn input_for(stem: &str) -> (PathBuf, Option<PathBuf>) {
    let f = fixtures();
    if let Some(m) = stem.strip_prefix("module-") {
        (
            f.join(format!("kernels/modules/{m}.btf")),
            Some(f.join("kernels/x86_64-6.12.btf")),
        )
    } else if let Some(o) = stem.strip_prefix("bpf-") {
        (f.join(format!("bpf/{o}.o")), None)
    } else {
        (f.join(format!("kernels/{stem}.btf")), None)
    }
}

fn render(input: &Path, base: Option<&Path>, json: bool) -> Vec<u8> {
    let data = std::fs::read(input).unwrap();
    let base_data = base.map(|b| std::fs::read(b).unwrap());
    let base_btf = base_data
        .as_deref()
        .map(|d| Arc::new(Btf::parse_any(d, None).unwrap()));
    let btf =
        Btf::parse_any(&data, base_btf).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
    let mut out = Vec::new();
    if json {
        btf::dump::json::dump_json(&btf, &mut out);
    } else {
        btf::dump::raw::dump_raw(&btf, &mut out);
    }
    out
}

fn check_all(ext: &str) -> usize {
    let json = ext == ".json.gz";
    let oracles = fixture_files("oracle/dump", ext);
    let mut failures = Vec::new();
    for o in &oracles {
        let name = o.file_name().unwrap().to_string_lossy();
        let stem = name.strip_suffix(ext).unwrap();
        let (input, base) = input_for(stem);
        let ours = render(&input, base.as_deref(), json);
        let theirs = read_fixture(o);
        if ours != theirs {
            let diff = if json {
                // Fall back to a value comparison to say where it differs.
                let a: serde_json::Value = serde_json::from_slice(&ours).unwrap();
                let b: serde_json::Value = serde_json::from_slice(&theirs).unwrap();
                if a == b {
                    continue; // same JSON value, different spelling: allowed
                }
                first_diff(&ours, &theirs)
            } else {
                first_diff(&ours, &theirs)
            };
            failures.push(format!("{name}: {}", diff.unwrap_or_default()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        oracles.len(),
        failures.join("\n")
    );
    oracles.len()
}

#[test]
fn raw_dumps_match_bpftool() {
    let n = check_all(".raw.gz");
    // 4 kernels, 2 modules, 12 objects.
    assert!(n >= 18, "only {n} raw oracles found");
}

#[test]
fn json_dumps_match_bpftool() {
    let n = check_all(".json.gz");
    assert!(n >= 18, "only {n} json oracles found");
}

/// A big-endian blob parses to the same types as its little-endian twin:
/// the running kernel's BTF converted word by word, and clang's `bpfeb`
/// objects against their `bpfel` builds.
#[test]
fn big_endian_twins_dump_identically() {
    let le = std::fs::read(fixtures().join("kernels/x86_64-6.18.btf")).unwrap();
    let be = btf::write::convert_endian(&le, btf::Endian::Big).unwrap();
    assert_ne!(le, be);
    let (a, b) = (Btf::parse(&le[..]).unwrap(), Btf::parse(&be[..]).unwrap());
    assert_eq!(b.endian(), btf::Endian::Big);
    assert_eq!(a.type_count(), b.type_count());
    let (mut x, mut y) = (Vec::new(), Vec::new());
    btf::dump::raw::dump_raw(&a, &mut x);
    btf::dump::raw::dump_raw(&b, &mut y);
    assert!(x == y, "{:?}", first_diff(&x, &y));
    // Converting back gives the original bytes.
    assert_eq!(
        btf::write::convert_endian(&be, btf::Endian::Little).unwrap(),
        le
    );

    for obj in ["core_fields", "maps_globals"] {
        let el = render(&fixtures().join(format!("bpf/{obj}.bpf.o")), None, false);
        let eb = render(&fixtures().join(format!("bpf/{obj}.bpfeb.o")), None, false);
        assert!(el == eb, "{obj}: {:?}", first_diff(&el, &eb));
    }
}
