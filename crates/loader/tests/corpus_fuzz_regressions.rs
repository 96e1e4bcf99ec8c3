//! The object fuzz target's saved inputs (fuzz/regressions/object/) run
//! through what the targets run (`fuzz/fuzz_targets/object.rs`, the
//! open step of `parse_object.rs`): each must
//! finish quickly without a panic. CI runs this; `cargo fuzz` is not needed.

use std::time::{Duration, Instant};

#[test]
fn saved_fuzz_inputs_stay_fixed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/regressions/object");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let t = Instant::now();
        if let Ok(obj) = loader::object::Object::parse(&data) {
            for p in obj.programs().iter().chain(obj.subprograms()) {
                let _ = loader::progtype::from_section(&p.section_name).map(|s| s.refusal());
            }
            let _ = loader::progtype::check_programs(&obj);
            if let Some(Ok(btf)) = obj.btf().map(btf::Btf::parse) {
                if let Ok(mut maps) = loader::maps::collect(&obj, Some(&btf), "fuzz", None) {
                    for m in maps.iter_mut().filter(|m| m.struct_ops.is_some()) {
                        let _ = loader::struct_ops::resolve(m, &btf, &btf);
                    }
                }
            }
            if let Ok(open) = loader::OpenObject::from_object(obj, "fuzz") {
                let _ = open.programs();
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{}: {:?}",
            path.display(),
            t.elapsed()
        );
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn a_forged_bss_size_allocates_nothing() {
    // fuzz/regressions/object/bss-size-1.7GB: a `.bss` header claiming
    // 0x6674625f bytes. The map is still listed (the kernel refuses it
    // with E2BIG at load), without a 1.7 GB image of zeros.
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/regressions/object/bss-size-1.7GB"
    ))
    .unwrap();
    let obj = loader::object::Object::parse(&data).unwrap();
    let btf = obj.btf().map(|b| btf::Btf::parse(b).unwrap());
    let maps = loader::maps::collect(&obj, btf.as_ref(), "fuzz", None).unwrap();
    let bss = maps.iter().find(|m| m.name == "fuzz.bss").unwrap();
    assert_eq!(bss.value_size, 0x6674625f);
    assert!(bss.data.is_none());
}
