//! `loader::sys::FileBytes`: mapped inputs hold exactly the file's bytes.

use std::path::PathBuf;

use loader::sys::FileBytes;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn regular_files_are_mapped_and_equal_their_contents() {
    for rel in [
        "fixtures/kernels/x86_64-6.1.btf",
        "fixtures/bpf/core_fields.bpf.o",
    ] {
        let p = root().join(rel);
        let mapped = FileBytes::open(&p).unwrap();
        assert!(mapped.is_mapped(), "{rel} was read, not mapped");
        assert_eq!(&mapped[..], &std::fs::read(&p).unwrap()[..], "{rel}");
    }
}

#[test]
fn sysfs_vmlinux_equals_a_read_of_it() {
    let p = "/sys/kernel/btf/vmlinux";
    let Ok(read) = std::fs::read(p) else {
        eprintln!("skipping: {p} is not readable on this machine");
        return;
    };
    let b = FileBytes::open(p).unwrap();
    // Kernels before 6.16 refuse to map it; then it is read.
    eprintln!("{p}: mapped {}", b.is_mapped());
    assert_eq!(b.len(), read.len());
    assert!(b[..] == read[..]);
}

#[test]
fn unmappable_inputs_are_read_or_refused() {
    let dir = std::env::temp_dir().join(format!("btfx-filebytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty");
    std::fs::write(&empty, b"").unwrap();
    let e = FileBytes::open(&empty).unwrap();
    assert!(!e.is_mapped());
    assert_eq!(e.len(), 0);
    // A directory is an error, not an empty input.
    assert!(FileBytes::open(&dir).is_err());
    assert!(FileBytes::open(dir.join("missing")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
