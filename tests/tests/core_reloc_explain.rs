//! The reason `btfx reloc --format explain` gives for a candidate that did
//! not match names the accessor that failed, and agrees with an independent
//! look-up of the same path in the target BTF (btf::path) and with libbpf's
//! recorded "non-matching candidate" lines.

use btf::path::{resolve, Resolution};
use btf::Btf;
use btfx_tests::{fixtures, read_fixture};
use core_reloc::{relocate, Target};

#[test]
fn non_matching_candidates_say_which_accessor_failed() {
    let obj = std::fs::read(fixtures().join("bpf/core_flavors.bpf.o")).unwrap();
    let o = loader::object::Object::parse(&obj).unwrap();
    let loader::load::CoreInputs {
        btf: local,
        ext,
        mut programs,
    } = loader::load::core_inputs(&o).unwrap();
    let kdata = read_fixture(&fixtures().join("kernels/x86_64-6.1.btf"));
    let kernel = Btf::parse(&kdata[..]).unwrap();
    let report = relocate(&local, &ext, &mut programs, Target::new(&kernel));
    let log = String::from_utf8(read_fixture(
        &fixtures().join("oracle/core/core_flavors.x86_64-6.1.log"),
    ))
    .unwrap();

    let mut checked = 0;
    let mut incompatible = 0;
    for r in &report.records {
        let Some(d) = &r.decision else { continue };
        for c in d.candidates.iter().filter(|c| !c.matched) {
            // libbpf logged this candidate as non-matching too.
            let line = format!("relo #{}: non-matching candidate #{} ", r.index, c.index);
            assert!(log.contains(&line), "{line} not in libbpf's log");
            let why = c.why_not.as_deref().unwrap();
            // "no member 'X'" must name a field the target type really
            // lacks, and "member 'X' ... incompatible type" one it has:
            // check both with btf::path.
            let root = btf::essential_name(r.local_type_name.trim_start_matches("struct "));
            if let Some(rest) = why.split("no member '").nth(1) {
                let member = rest.split('\'').next().unwrap();
                let path = format!("{root}.{member}");
                assert!(
                    matches!(resolve(&kernel, &path).unwrap(), Resolution::Missing(_)),
                    "{path} exists on 6.1 but was reported missing: {why}"
                );
                checked += 1;
            } else if let Some(rest) = why.split("member '").nth(1) {
                let member = rest.split('\'').next().unwrap();
                assert!(why.contains("incompatible type"), "{why}");
                let path = format!("{root}.{member}");
                assert!(
                    matches!(resolve(&kernel, &path).unwrap(), Resolution::Found(_)),
                    "{path} is missing on 6.1 but was reported present: {why}"
                );
                incompatible += 1;
            } else {
                assert!(!why.is_empty());
            }
        }
        for c in d.candidates.iter().filter(|c| c.matched) {
            assert!(c.why_not.is_none());
        }
    }
    // Missing: state, __parent, tstamp_type (x3 kinds), btfx_no_such_field
    // (x2)...; present with another type: the 2-D `comm` (x2 kinds).
    assert!(
        checked >= 6,
        "only {checked} missing-member candidates checked"
    );
    assert!(
        incompatible >= 2,
        "only {incompatible} incompatible-member candidates checked"
    );
}
