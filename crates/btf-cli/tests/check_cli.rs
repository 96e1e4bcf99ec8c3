//! `btfx check` exit codes: 0 when every program loads on every kernel
//! (a poisoned relocation behind a `bpf_core_*_exists()` guard is what the
//! guard is for, not a failure), 1 when a program fails on some kernel,
//! 2 for bad input. No kernel access: relocating needs no syscalls.

use std::path::Path;
use std::process::Command;

fn check(obj: &str, targets: &[&str]) -> (i32, serde_json::Value) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_btfx"));
    cmd.arg("check").arg(root.join(format!("bpf/{obj}.bpf.o")));
    for t in targets {
        cmd.arg("--target")
            .arg(root.join(format!("kernels/{t}.btf")));
    }
    let out = cmd.arg("--json").output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn exit_codes_follow_program_verdicts() {
    let all = ["x86_64-6.1", "x86_64-6.12", "x86_64-6.18", "arm64-6.12"];
    // Guarded relocations poisoned on some kernels, every program loads.
    let (code, v) = check("core_types", &all);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["failed"], false);
    assert!(v["relocations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| !r["guarded_on"].as_array().unwrap().is_empty()));
    // flavors_skb fails on arm64-6.12 (README of fixtures/kernels).
    let (code, v) = check("core_flavors", &all);
    assert_eq!(code, 1);
    assert_eq!(v["failed"], true);
    let (code, _) = check("core_flavors", &["x86_64-6.18"]);
    assert_eq!(code, 0);
    // An unguarded poisoned relocation fails everywhere.
    let (code, _) = check("core_fail", &["x86_64-6.18"]);
    assert_eq!(code, 1);
    // Bad input.
    let out = Command::new(env!("CARGO_BIN_EXE_btfx"))
        .args(["check", "/nonexistent.bpf.o", "--target", "vmlinux"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
