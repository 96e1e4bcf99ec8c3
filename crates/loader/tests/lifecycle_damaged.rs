//! Damaged objects (fixtures/damaged-objects, found by fuzzing the open
//! step): opening each gives an error naming the section, no panic, no
//! unbounded allocation, and `btfx`-style one-call loading fails the same
//! way before touching the kernel.

use std::path::PathBuf;

#[test]
fn damaged_objects_give_errors_at_open() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/damaged-objects");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "o") {
            continue;
        }
        let elf = std::fs::read(&p).unwrap();
        let err = loader::OpenObject::open(&elf, "damaged")
            .unwrap_err()
            .to_string();
        assert!(err.contains("section"), "{}: {err}", p.display());
        let err2 = loader::load(&elf, &loader::LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(err, err2);
        n += 1;
    }
    assert!(n >= 1);
}
