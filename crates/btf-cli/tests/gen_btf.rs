//! `btfx gen btf`: pahole 1.24's bytes from the DWARF fixtures, split
//! output over --base, and a failed run that leaves the output as it was.

mod common;
use common::{btfx, root};
use std::path::PathBuf;

fn path(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("btfx-gen-btf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

#[test]
fn vmlinux_and_module_fixtures_give_pahole_bytes() {
    let d = scratch("ok");
    let out = d.join("vmlinux.btf");
    let o = btfx(&[
        "gen",
        "btf",
        &path("fixtures/dwarf/bin/vmlinux-gcc-dwarf5"),
        "-o",
        out.to_str().unwrap(),
        "--stats",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("types before dedup"), "{err}");
    assert!(
        std::fs::read(&out).unwrap()
            == std::fs::read(path("fixtures/oracle/dwarf/vmlinux-gcc-dwarf5.btf")).unwrap()
    );

    let split = d.join("module.btf");
    let o = btfx(&[
        "gen",
        "btf",
        &path("fixtures/dwarf/bin/module-gcc-dwarf5.o"),
        "--base",
        &path("fixtures/oracle/dwarf/vmlinux-gcc-dwarf5.btf"),
        "-o",
        split.to_str().unwrap(),
        "-j",
        "1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        std::fs::read(&split).unwrap()
            == std::fs::read(path("fixtures/oracle/dwarf/module-gcc-dwarf5.split.btf")).unwrap()
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_failed_run_leaves_the_output_as_it_was() {
    let d = scratch("fail");
    let out = d.join("out.btf");
    std::fs::write(&out, b"the user's file").unwrap();
    // pahole 1.24 refuses _Complex; so does btfx, naming the DIE.
    let o = btfx(&[
        "gen",
        "btf",
        &path("fixtures/dwarf/bin/complex-gcc-dwarf5.o"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("complex-gcc-dwarf5.o") && err.contains("complex double"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"the user's file");
    // Nothing else was left behind.
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);

    // The output may not be the input.
    let copy = d.join("obj.o");
    std::fs::copy(path("fixtures/dwarf/bin/module-gcc-dwarf5.o"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let o = btfx(&[
        "gen",
        "btf",
        copy.to_str().unwrap(),
        "-o",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&copy).unwrap(), before);

    // An ELF file without DWARF (pahole fails on it too).
    let o = btfx(&[
        "gen",
        "btf",
        &path("fixtures/bpf/corpus/nobtf.bpf.o"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no DWARF"));
    assert_eq!(std::fs::read(&out).unwrap(), b"the user's file");

    // A missing input names itself.
    let o = btfx(&[
        "gen",
        "btf",
        "/nonexistent/vmlinux",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/vmlinux"));
    std::fs::remove_dir_all(&d).unwrap();
}
