//! `btfx gen min-core`: bpftool's argument order and bytes (oracles from
//! scripts/record-mincore.sh), the batch mode over a directory of kernels,
//! `--base` for module BTF, and exit codes.

mod common;
use common::{btfx, root};
use std::path::PathBuf;

fn fixture_objects() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("fixtures/bpf"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bpf.o"))
        .map(|n| format!("fixtures/bpf/{n}"))
        .collect();
    v.sort();
    v
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("btfx-min-core-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn single_kernel_matches_bpftool_bytes() {
    let d = tmpdir("single");
    let out = d.join("min.btf");
    let mut args = vec![
        "gen",
        "min-core",
        "fixtures/kernels/x86_64-6.18.btf",
        out.to_str().unwrap(),
    ];
    let objs = fixture_objects();
    args.extend(objs.iter().map(String::as_str));
    let o = btfx(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = std::fs::read(root().join("fixtures/oracle/mincore/fixtures-all.x86_64-6.18.btf"));
    assert_eq!(std::fs::read(&out).unwrap(), want.unwrap());
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn batch_mode_writes_one_file_per_kernel() {
    let d = tmpdir("batch");
    let kernels = d.join("kernels");
    std::fs::create_dir_all(&kernels).unwrap();
    let names = ["x86_64-6.18", "x86_64-6.1", "x86_64-6.12", "arm64-6.12"];
    for k in names {
        std::fs::copy(
            root().join(format!("fixtures/kernels/{k}.btf")),
            kernels.join(format!("{k}.btf")),
        )
        .unwrap();
    }
    std::fs::write(kernels.join("SHA256SUMS"), "not a kernel\n").unwrap();
    let out = d.join("out");
    let mut args = vec![
        "gen",
        "min-core",
        "--target-dir",
        kernels.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ];
    let objs = fixture_objects();
    args.extend(objs.iter().map(String::as_str));
    let o = btfx(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("skipped 1 file"), "{stderr}");
    for k in names {
        let want =
            std::fs::read(root().join(format!("fixtures/oracle/mincore/fixtures-all.{k}.btf")))
                .unwrap();
        assert_eq!(
            std::fs::read(out.join(format!("{k}.btf"))).unwrap(),
            want,
            "{k}"
        );
    }
    // A damaged kernel is reported by name; the others are still written.
    let mut bad = std::fs::read(root().join("fixtures/kernels/x86_64-6.1.btf")).unwrap();
    bad.truncate(5000);
    std::fs::write(kernels.join("broken.btf"), bad).unwrap();
    let o = btfx(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.btf"), "{stderr}");
    assert!(stderr.contains("4 of 5 kernels written"), "{stderr}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn module_base_gives_a_standalone_btf() {
    let d = tmpdir("module");
    let out = d.join("ext4.min.btf");
    let o = btfx(&[
        "gen",
        "min-core",
        "--base",
        "fixtures/kernels/x86_64-6.12.btf",
        "fixtures/kernels/modules/ext4.btf",
        out.to_str().unwrap(),
        "fixtures/oracle/mincore/objects/module_ext4.bpf.o",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Standalone: it dumps without a base, module and vmlinux types both.
    let dump = btfx(&["dump", out.to_str().unwrap()]);
    assert!(dump.status.success());
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.contains("STRUCT 'ext4_inode_info' size=1160 vlen=5"),
        "{text}"
    );
    assert!(text.contains("STRUCT 'task_struct'"), "{text}");
    // And relocating against it patches what kernel + module would.
    let reloc = btfx(&[
        "reloc",
        "fixtures/oracle/mincore/objects/module_ext4.bpf.o",
        "--target",
        out.to_str().unwrap(),
    ]);
    let log = String::from_utf8_lossy(&reloc.stdout);
    assert!(reloc.status.success(), "{log}");
    assert!(
        log.contains("relo #0: patched insn #3 (ALU/ALU64) imm 8 -> 248"),
        "{log}"
    );
    assert!(!log.contains("no matching targets"), "{log}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn usage_and_input_errors_exit_2() {
    let o = btfx(&[
        "gen",
        "min-core",
        "fixtures/kernels/x86_64-6.18.btf",
        "/tmp/x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    // An object without CO-RE information (raw BTF is no ELF object).
    let d = tmpdir("errors");
    let out = d.join("x.btf");
    let o = btfx(&[
        "gen",
        "min-core",
        "fixtures/kernels/x86_64-6.18.btf",
        out.to_str().unwrap(),
        "fixtures/kernels/modules/tcp_bbr.btf",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tcp_bbr.btf"), "{stderr}");
    assert!(!out.exists());
    std::fs::remove_dir_all(d).unwrap();
}
