//! `btfx diff A B [--type NAME]... [--json]`: what changed between two BTFs
//! for the named types (default: every named struct, union, enum, typedef
//! and function). Output is sorted, one change per line.
//!
//! `btfx diff --graph A B`: are they the same type graph (see
//! `diff_graph.rs`)? Exit 1 when they are not.

use std::process::ExitCode;

use btf::diff::{diff, Change};

use crate::input::Loaded;

/// Arguments of `btfx diff`.
#[derive(clap::Args)]
pub struct Args {
    /// Old BTF: `vmlinux`, a raw BTF file or an ELF file with .BTF.
    a: String,
    /// New BTF.
    b: String,
    /// Compare only types with this name (`task_struct`, or `struct task_struct`
    /// to fix the kind); repeatable.
    #[arg(long = "type", conflicts_with = "graph")]
    types: Vec<String>,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Compare A and B as type graphs, whatever their ids and string order:
    /// per-kind counts, matched types, the types that differ by themselves
    /// (roots) with their first difference, and how many differ through
    /// them. Exit 0 when the graphs are equal, 1 when they differ.
    #[arg(long)]
    graph: bool,
    /// Base BTF of split inputs (a module's BTF over vmlinux): both A and B
    /// are read over it.
    #[arg(long)]
    base: Option<String>,
}

/// Runs `btfx diff`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let la = Loaded::open(&a.a, a.base.as_deref())?;
    let lb = Loaded::open(&a.b, a.base.as_deref())?;
    let (ba, bb) = (la.btf()?, lb.btf()?);
    if a.graph {
        return super::diff_graph::run(&ba, &bb, &a.a, &a.b, a.json);
    }
    let names: Vec<&str> = a.types.iter().map(String::as_str).collect();
    let d = diff(&ba, &bb, &names).map_err(|e| format!("{} vs {}: {e}", a.a, a.b))?;
    let out = if a.json {
        let v: Vec<_> = d
            .iter()
            .map(|c| {
                let mut o = serde_json::json!({
                    "kind": c.class.word(),
                    "name": c.name,
                });
                let (what, extra) = change_json(&c.change);
                o["change"] = what.into();
                if let (Some(m), serde_json::Value::Object(e)) = (o.as_object_mut(), extra) {
                    m.extend(e);
                }
                o
            })
            .collect();
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    } else {
        let mut s = String::new();
        for c in &d {
            s.push_str(&c.to_string());
            s.push('\n');
        }
        s
    };
    crate::write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn change_json(c: &Change) -> (&'static str, serde_json::Value) {
    use serde_json::json;
    let member = |m: &btf::diff::MemberDesc| {
        json!({"member": m.name, "bit_offset": m.bit_offset, "bitfield_size": m.bitfield_size,
               "size": m.size, "type": m.c_type})
    };
    match c {
        Change::TypeAdded => ("type_added", json!({})),
        Change::TypeRemoved => ("type_removed", json!({})),
        Change::SizeChanged { from, to } => ("size_changed", json!({"from": from, "to": to})),
        Change::MemberAdded(m) => ("member_added", member(m)),
        Change::MemberRemoved(m) => ("member_removed", member(m)),
        Change::MemberRenamed {
            from,
            to,
            bit_offset,
        } => (
            "member_renamed",
            json!({"from": from, "to": to, "bit_offset": bit_offset}),
        ),
        Change::MemberOffsetChanged { name, from, to } => (
            "member_offset_changed",
            json!({"member": name, "from_bit_offset": from, "to_bit_offset": to}),
        ),
        Change::MemberSizeChanged {
            name,
            from,
            to,
            bits,
        } => (
            if *bits {
                "member_bitfield_size_changed"
            } else {
                "member_size_changed"
            },
            json!({"member": name, "from": from, "to": to}),
        ),
        Change::MemberTypeChanged { name, from, to } => (
            "member_type_changed",
            json!({"member": name, "from": from, "to": to}),
        ),
        Change::ValueAdded { name, value } => {
            ("value_added", json!({"value_name": name, "value": value}))
        }
        Change::ValueRemoved { name, value } => {
            ("value_removed", json!({"value_name": name, "value": value}))
        }
        Change::ValueChanged { name, from, to } => (
            "value_changed",
            json!({"value_name": name, "from": from, "to": to}),
        ),
        Change::TargetChanged { from, to } => ("target_changed", json!({"from": from, "to": to})),
    }
}
