//! `btfx diff --graph A B [--base BASE] [--json]`: A and B compared as type
//! graphs (`btf::graph::compare`): per-kind counts side by side, matched
//! types, the roots with their first difference, the dependents by kind.
//! Exit 0 when the graphs are equal, 1 when they differ.

use std::fmt::Write as _;
use std::process::ExitCode;

use btf::graph::{compare, GraphDiff};
use btf::{Btf, Kind, TypeId};
use serde_json::json;

/// Compares and prints; the exit code says whether the graphs are equal.
pub fn run(
    a: &Btf<'_>,
    b: &Btf<'_>,
    pa: &str,
    pb: &str,
    as_json: bool,
) -> Result<ExitCode, String> {
    let d = compare(a, b).map_err(|e| format!("{pa} vs {pb}: {e}"))?;
    let deps_a = by_kind(a, &d.dependents_a);
    let deps_b = by_kind(b, &d.dependents_b);
    let out = if as_json {
        let mut s = serde_json::to_string_pretty(&to_json(&d, &deps_a, &deps_b))
            .map_err(|e| format!("JSON output: {e}"))?;
        s.push('\n');
        s
    } else {
        text(&d, &deps_a, &deps_b, pa, pb)
    };
    crate::write_stdout(out.as_bytes())?;
    Ok(if d.is_equal() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    })
}

/// How many of `ids` are of each kind, in kind number order.
fn by_kind(btf: &Btf<'_>, ids: &[TypeId]) -> Vec<(Kind, usize)> {
    let mut v: Vec<(Kind, usize)> = Vec::new();
    for &id in ids {
        let k = btf.type_by_id(id).map_or(Kind::Void, |t| t.kind());
        match v.iter_mut().find(|e| e.0 == k) {
            Some(e) => e.1 += 1,
            None => v.push((k, 1)),
        }
    }
    v.sort_by_key(|e| e.0.raw());
    v
}

fn text(
    d: &GraphDiff,
    deps_a: &[(Kind, usize)],
    deps_b: &[(Kind, usize)],
    pa: &str,
    pb: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "A: {pa}\nB: {pb}\n");
    let _ = writeln!(s, "{:<12} {:>8} {:>8}", "kind", "A", "B");
    let (mut ta, mut tb) = (0, 0);
    for k in &d.kinds {
        let mark = if k.a != k.b { "  *" } else { "" };
        let _ = writeln!(s, "{:<12} {:>8} {:>8}{mark}", k.kind.to_string(), k.a, k.b);
        ta += k.a;
        tb += k.b;
    }
    let _ = writeln!(s, "{:<12} {:>8} {:>8}\n", "total", ta, tb);
    let _ = writeln!(
        s,
        "distinct types: {}; matched one-to-one: {}; matched in equal numbers: {}",
        d.classes, d.matched, d.matched_multiple
    );
    let _ = writeln!(
        s,
        "A: {} types without an equal in B ({} roots, {} dependents)",
        d.only_a.len(),
        d.roots_a,
        d.dependents_a.len()
    );
    let _ = writeln!(
        s,
        "B: {} types without an equal in A ({} roots, {} dependents)",
        d.only_b.len(),
        d.roots_b,
        d.dependents_b.len()
    );
    if !d.multiplicity.is_empty() {
        let _ = writeln!(
            s,
            "\nduplicates (equal types, in different numbers): {}",
            d.multiplicity.len()
        );
        for m in &d.multiplicity {
            let name = if m.name.is_empty() { "(anon)" } else { &m.name };
            let _ = writeln!(
                s,
                "  {} {name}: A {} {:?}, B {} {:?}",
                m.kind,
                m.a.len(),
                ids(&m.a),
                m.b.len(),
                ids(&m.b)
            );
        }
    }
    if !d.roots.is_empty() {
        let _ = writeln!(
            s,
            "\nroots: {} (an id in parentheses is the counterpart of a root, not a root itself)",
            d.roots.len()
        );
        for r in &d.roots {
            let _ = writeln!(s, "  {r}");
        }
    }
    if !deps_a.is_empty() || !deps_b.is_empty() {
        let _ = writeln!(s, "\ndependents (differ only through a root):");
        let _ = writeln!(s, "{:<12} {:>8} {:>8}", "kind", "A", "B");
        let mut kinds: Vec<Kind> = deps_a.iter().chain(deps_b).map(|e| e.0).collect();
        kinds.sort_by_key(|k| k.raw());
        kinds.dedup();
        let get = |v: &[(Kind, usize)], k: Kind| v.iter().find(|e| e.0 == k).map_or(0, |e| e.1);
        for k in kinds {
            let _ = writeln!(
                s,
                "{:<12} {:>8} {:>8}",
                k.to_string(),
                get(deps_a, k),
                get(deps_b, k)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{}",
        if d.is_equal() {
            "equal type graphs"
        } else {
            "type graphs differ"
        }
    );
    s
}

fn ids(v: &[TypeId]) -> Vec<u32> {
    v.iter().map(|i| i.get()).collect()
}

fn to_json(d: &GraphDiff, deps_a: &[(Kind, usize)], deps_b: &[(Kind, usize)]) -> serde_json::Value {
    let kinds: Vec<_> = d
        .kinds
        .iter()
        .map(|k| json!({"kind": k.kind.to_string(), "a": k.a, "b": k.b}))
        .collect();
    let roots: Vec<_> = d
        .roots
        .iter()
        .map(|r| {
            json!({
                "kind": r.kind.to_string(),
                "name": r.name,
                "a": r.a.map(|i| i.get()),
                "b": r.b.map(|i| i.get()),
                "a_is_root": r.a_is_root,
                "b_is_root": r.b_is_root,
                "via": r.via.as_ref().map(|(k, n)| json!({"kind": k.to_string(), "name": n})),
                "difference": r.difference.to_string(),
            })
        })
        .collect();
    let mult: Vec<_> = d
        .multiplicity
        .iter()
        .map(
            |m| json!({"kind": m.kind.to_string(), "name": m.name, "a": ids(&m.a), "b": ids(&m.b)}),
        )
        .collect();
    let deps = |v: &[(Kind, usize)]| {
        serde_json::Value::Object(v.iter().map(|(k, n)| (k.to_string(), json!(n))).collect())
    };
    json!({
        "equal": d.is_equal(),
        "kinds": kinds,
        "classes": d.classes,
        "matched": d.matched,
        "matched_multiple": d.matched_multiple,
        "only_a": d.only_a.len(),
        "only_b": d.only_b.len(),
        "roots_a": d.roots_a,
        "roots_b": d.roots_b,
        "dependents_a": deps(deps_a),
        "dependents_b": deps(deps_b),
        "multiplicity": mult,
        "roots": roots,
        "rounds": d.rounds,
    })
}
