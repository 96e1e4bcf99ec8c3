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
    for r in &report.records {
        let Some(d) = &r.decision else { continue };
        for c in d.candidates.iter().filter(|c| !c.matched) {
            // libbpf logged this candidate as non-matching too.
            let line = format!("relo #{}: non-matching candidate #{} ", r.index, c.index);
            assert!(log.contains(&line), "{line} not in libbpf's log");
            let why = c.why_not.as_deref().unwrap();
            // "no member 'X'" must name a field the target type really lacks
            // (or has with another type): check with btf::path.
            if let Some(rest) = why.split("no member '").nth(1) {
                let member = rest.split('\'').next().unwrap();
                let root = btf::essential_name(r.local_type_name.trim_start_matches("struct "));
                let path = format!("{root}.{member}");
                match resolve(&kernel, &path).unwrap() {
                    Resolution::Missing(_) => {}
                    Resolution::Found(_) => {
                        // Present: then only its type can have differed
                        // (the 2-D `comm` local against the kernel's 1-D one).
                        assert_eq!(
                            member, "comm",
                            "{path} exists on 6.1 but was reported missing"
                        );
                    }
                }
                checked += 1;
            } else {
                assert!(!why.is_empty());
            }
        }
        for c in d.candidates.iter().filter(|c| c.matched) {
            assert!(c.why_not.is_none());
        }
    }
    // state, __parent, tstamp_type (x2 kinds), comm (x2), btfx_no_such_field (x2)...
    assert!(
        checked >= 6,
        "only {checked} non-matching candidates checked"
    );
}
