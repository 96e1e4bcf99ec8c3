//! `btfx dedup` end to end: its output file against libbpf 1.1's recorded
//! `btf__dedup` (fixtures/oracle/dedup/), either byte order, errors on
//! damaged input, and the kernel accepting what it writes.

mod common;
use common::{btfx, root};
use std::io::Read;
use std::path::PathBuf;

use loader::sys::{self, Census};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("btfx-dedup-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn oracle(name: &str) -> Vec<u8> {
    let p = root().join("fixtures/oracle/dedup").join(name);
    if let Ok(b) = std::fs::read(&p) {
        return b;
    }
    let f = std::fs::File::open(format!("{}.gz", p.display())).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn run_ok(args: &[&str]) {
    let out = btfx(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "btfx {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn five_objects_as_libbpf() {
    let o = tmp("objs5.btf");
    let o_s = o.to_str().unwrap();
    run_ok(&[
        "dedup",
        "fixtures/bpf/core_fields.bpf.o",
        "fixtures/bpf/core_types.bpf.o",
        "fixtures/bpf/maps_globals.bpf.o",
        "fixtures/bpf/sock_trace.bpf.o",
        "fixtures/bpf/task_trace.bpf.o",
        "-o",
        o_s,
    ]);
    assert_eq!(std::fs::read(&o).unwrap(), oracle("objs5.btf"));
    // big-endian output: the same BTF in the other byte order
    run_ok(&[
        "dedup",
        "fixtures/bpf/core_fields.bpf.o",
        "fixtures/bpf/core_types.bpf.o",
        "fixtures/bpf/maps_globals.bpf.o",
        "fixtures/bpf/sock_trace.bpf.o",
        "fixtures/bpf/task_trace.bpf.o",
        "--endian",
        "big",
        "-o",
        o_s,
    ]);
    let be = std::fs::read(&o).unwrap();
    assert_eq!(&be[..2], &[0xeb, 0x9f]);
    assert_eq!(
        btf::write::convert_endian(&be, btf::Endian::Little).unwrap(),
        oracle("objs5.btf")
    );
}

#[test]
fn module_over_its_vmlinux_as_libbpf() {
    let o = tmp("ext4.btf");
    run_ok(&[
        "dedup",
        "--base",
        "fixtures/kernels/x86_64-6.12.btf",
        "fixtures/kernels/modules/ext4.btf",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&o).unwrap(), oracle("ext4.btf"));
    // and btfx dump reads it back as split BTF
    let out = btfx(&[
        "dump",
        "--base",
        "fixtures/kernels/x86_64-6.12.btf",
        o.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[112769] "));
}

#[test]
fn damaged_inputs_give_errors() {
    let dir = root().join("fixtures/damaged");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "btf"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "corpus has only {} files", files.len());
    let o = tmp("damaged.out");
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let out = btfx(&["dedup", f.to_str().unwrap(), "-o", o.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&name), "{name}: {stderr}");
    }
    let out = btfx(&["dedup", "fixtures/bpf/no-such.o", "-o", o.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    // parses, but libbpf's dedup refuses it (-EINVAL): a struct member
    // whose type is a VAR; the message names the file and its own type id
    let mut b = btf::write::Builder::new();
    let int = b.int("int", 4, btf::IntEncoding::Signed);
    let v = b.var("v", int, 1);
    b.struct_("s", 4, &[("m", v, 0, 0)]);
    let bad = tmp("var-member.btf");
    std::fs::write(&bad, b.encode(btf::Endian::Little)).unwrap();
    let bad = bad.to_str().unwrap();
    let out = btfx(&["dedup", bad, bad, "-o", o.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{bad}: type id 2 there")),
        "{stderr}"
    );
}

/// The kernel loads what `btfx dedup` writes (BPF_BTF_LOAD).
#[test]
fn kernel_accepts_the_result() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: bpf(2) not permitted: {e}");
        return;
    }
    let counted = Census::begin().unwrap();
    let crafted = root().join("fixtures/oracle/dedup/crafted");
    let mut inputs: Vec<String> = Vec::new();
    // (not "funcs": an extern FUNC, which BPF_BTF_LOAD refuses; not
    // "arrays": a member past its struct's size, there to test dedup only)
    for c in ["misc", "tags", "libbpf_example", "cycles", "enums"] {
        for i in 1..=3 {
            let p = crafted.join(format!("{c}.{i}.btf"));
            if p.exists() {
                inputs.push(p.to_string_lossy().into_owned());
            }
        }
    }
    let o = tmp("load.btf");
    let mut args: Vec<&str> = vec!["dedup"];
    args.extend(inputs.iter().map(String::as_str));
    args.extend(["-o", o.to_str().unwrap()]);
    run_ok(&args);
    let bytes = std::fs::read(&o).unwrap();
    let loaded = sys::btf_load(&bytes);
    let fd_ok = loaded.as_ref().map(|_| ()).map_err(|e| format!("{e:?}"));
    drop(loaded);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
    fd_ok.unwrap();
    // a kernel's BTF appended to itself and deduplicated
    let o2 = tmp("k61x2.btf");
    run_ok(&[
        "dedup",
        "fixtures/kernels/x86_64-6.1.btf",
        "fixtures/kernels/x86_64-6.1.btf",
        "-o",
        o2.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&o2).unwrap();
    let loaded = sys::btf_load(&bytes);
    let k_ok = loaded
        .as_ref()
        .map(|_| ())
        .map_err(|e| format!("{:?}: {}", e.error, e.log.lines().last().unwrap_or("")));
    drop(loaded);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
    k_ok.unwrap();
}
