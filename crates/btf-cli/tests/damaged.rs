//! Every file of the damaged corpus (fixtures/damaged, made by
//! scripts/make-damaged-corpus.py) makes `btfx dump` exit with code 2 and a
//! message naming the file and the place of the defect, never a panic.

use std::path::Path;
use std::process::Command;

#[test]
fn damaged_inputs_give_clear_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/damaged");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "btf"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "corpus has only {} files", files.len());
    let mut report = String::new();
    let mut messages = std::collections::HashSet::new();
    for f in &files {
        for format in ["raw", "json"] {
            let out = Command::new(env!("CARGO_BIN_EXE_btfx"))
                .args(["dump", "--format", format])
                .arg(f)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let name = f.file_name().unwrap().to_string_lossy();
            assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
            assert!(out.stdout.is_empty(), "{name}: printed output");
            assert!(!stderr.contains("panicked"), "{name}: {stderr}");
            assert!(
                stderr.contains(&*name),
                "{name}: message does not name the file: {stderr}"
            );
            if format == "raw" {
                let msg = stderr
                    .trim()
                    .replace(&*dir.to_string_lossy(), "fixtures/damaged");
                let msg = msg
                    .split_once(": ")
                    .map_or(msg.clone(), |(_, m)| m.to_owned());
                messages.insert(
                    msg.split_once(": ")
                        .map_or(String::new(), |(_, m)| m.to_owned()),
                );
                report.push_str(&format!("{name}\n    {msg}\n"));
            }
        }
    }
    // Each defect has its own message.
    assert_eq!(
        messages.len(),
        files.len(),
        "two defects share a message:\n{report}"
    );
    insta::assert_snapshot!(report);
}
