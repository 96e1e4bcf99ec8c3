//! `btfx diff --graph` end to end: exit codes (0 equal, 1 different, 2
//! errors), the text report and the JSON one, on kernels, a kernel written
//! in another order, a module over its base.

mod common;
use common::{btfx, root};
use std::path::PathBuf;
use std::process::Output;

use btf::{Btf, Endian, TypeId};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("btfx-diff-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// 6.1's types written in reverse order, in a temporary file.
fn reversed_6_1() -> PathBuf {
    let data = std::fs::read(root().join("fixtures/kernels/x86_64-6.1.btf")).unwrap();
    let btf = Btf::parse(&data[..]).unwrap();
    let mut order: Vec<TypeId> = btf.types().map(|t| t.id()).collect();
    order.reverse();
    let p = tmp("6.1-reversed.btf");
    std::fs::write(
        &p,
        btf::write::reorder(&btf, &order, Endian::Little).unwrap(),
    )
    .unwrap();
    p
}

#[test]
fn renumbered_kernel_is_equal() {
    let rev = reversed_6_1();
    let o = btfx(&[
        "diff",
        "--graph",
        "fixtures/kernels/x86_64-6.1.btf",
        rev.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = stdout(&o);
    assert!(s.contains("FUNC            44546    44546\n"), "{s}");
    assert!(s.contains("total          100750   100750\n"), "{s}");
    assert!(s.contains(
        "distinct types: 100750; matched one-to-one: 100750; matched in equal numbers: 0\n"
    ));
    assert!(s.contains("A: 0 types without an equal in B (0 roots, 0 dependents)\n"));
    assert!(!s.contains("roots:"));
    assert!(s.ends_with("\nequal type graphs\n"), "{s}");
}

#[test]
fn kernels_6_1_and_6_12_differ() {
    let o = btfx(&[
        "diff",
        "--graph",
        "fixtures/kernels/x86_64-6.1.btf",
        "fixtures/kernels/x86_64-6.12.btf",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = stdout(&o);
    // Per-kind counts side by side, as bpftool counts them (fixtures/kernels/README.md).
    for line in [
        "INT                15       15\n",
        "STRUCT           8721     9910  *\n",
        "FUNC            44546    49766  *\n",
        "FUNC_PROTO      23684    26202  *\n",
        "DATASEC             1        1\n",
        "total          100750   112768\n",
    ] {
        assert!(s.contains(line), "{line}");
    }
    assert!(s.contains(
        "distinct types: 184406; matched one-to-one: 29112; matched in equal numbers: 0\n"
    ));
    assert!(s.contains("A: 71638 types without an equal in B (6388 roots, 65250 dependents)\n"));
    assert!(s.contains("B: 83656 types without an equal in A (14163 roots, 69493 dependents)\n"));
    assert!(s.contains("\nroots: 17680 "));
    assert!(s.contains("\n  INT char [A 13 / B 7]: encoding 1 vs 0\n"));
    assert!(s.contains(
        "\n  ENUM64 ib_uverbs_device_cap_flags [A 13467 / B 53876]: value 25 'IB_UVERBS_DEVICE_FLUSH_GLOBAL': only in B\n"
    ));
    assert!(s.contains("\ndependents (differ only through a root):\n"));
    assert!(s.contains("\nPTR              8200     9654\n"));
    assert!(s.contains("\nFUNC            31292    30910\n"));
    assert!(s.ends_with("\ntype graphs differ\n"));
}

#[test]
fn json_report() {
    let o = btfx(&[
        "diff",
        "--graph",
        "--json",
        "fixtures/kernels/x86_64-6.1.btf",
        "fixtures/kernels/x86_64-6.12.btf",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["equal"], false);
    assert_eq!(v["matched"], 29112);
    assert_eq!(v["classes"], 184406);
    assert_eq!(
        (v["only_a"].clone(), v["only_b"].clone()),
        (71638.into(), 83656.into())
    );
    assert_eq!(
        (v["roots_a"].clone(), v["roots_b"].clone()),
        (6388.into(), 14163.into())
    );
    assert_eq!(v["roots"].as_array().unwrap().len(), 17680);
    let kinds = v["kinds"].as_array().unwrap();
    let func = kinds.iter().find(|k| k["kind"] == "FUNC").unwrap();
    assert_eq!(
        (func["a"].clone(), func["b"].clone()),
        (44546.into(), 49766.into())
    );
    let deps_a: u64 = v["dependents_a"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(deps_a, 65250);
    let char_root = v["roots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "char")
        .unwrap();
    assert_eq!(
        char_root,
        &serde_json::json!({"kind": "INT", "name": "char", "a": 13, "b": 7,
            "a_is_root": true, "b_is_root": true, "via": null,
            "difference": "encoding 1 vs 0"})
    );
}

#[test]
fn split_module_over_base() {
    let o = btfx(&[
        "diff",
        "--graph",
        "fixtures/kernels/modules/ext4.btf",
        "fixtures/kernels/modules/ext4.btf",
        "--base",
        "fixtures/kernels/x86_64-6.12.btf",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["equal"], true);
    assert_eq!(v["matched"], 3074);

    let o = btfx(&[
        "diff",
        "--graph",
        "fixtures/kernels/modules/ext4.btf",
        "fixtures/kernels/modules/tcp_bbr.btf",
        "--base",
        "fixtures/kernels/x86_64-6.12.btf",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("total            3074       30\n"));
}

#[test]
fn errors_exit_2() {
    // A split BTF without its base.
    let o = btfx(&[
        "diff",
        "--graph",
        "fixtures/kernels/modules/ext4.btf",
        "fixtures/kernels/x86_64-6.12.btf",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("fixtures/kernels/modules/ext4.btf: "));
    // A missing file.
    let o = btfx(&[
        "diff",
        "--graph",
        "fixtures/kernels/none.btf",
        "fixtures/kernels/x86_64-6.1.btf",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("fixtures/kernels/none.btf"));
    // --type has no meaning for a graph comparison.
    let o = btfx(&["diff", "--graph", "--type", "task_struct", "a", "b"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}
