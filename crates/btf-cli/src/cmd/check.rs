//! `btfx check OBJ --target K... | --target-dir DIR [--json]`: decide every
//! CO-RE relocation of a BPF object against many kernel BTFs at once (in
//! parallel) and print the portability matrix (see `core_reloc::matrix` for
//! how cells and "loads" are decided). Exit 0 when every program loads on
//! every kernel (a poisoned relocation that a `bpf_core_*_exists()` guard
//! keeps from running is not a failure), 1 when some program fails on some
//! kernel (an unguarded poisoned relocation, an ambiguous match, or
//! libbpf's pass aborting), 2 for bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use btf::Btf;
use core_reloc::matrix::{column, Matrix};
use core_reloc::{BtfExt, Program, Report};

use crate::input::Loaded;

/// Arguments of `btfx check`.
#[derive(clap::Args)]
pub struct Args {
    /// BPF ELF object (with .BTF and .BTF.ext).
    object: String,
    /// Target kernel BTF (`vmlinux`, raw BTF or ELF with .BTF); repeatable.
    #[arg(long = "target", required_unless_present = "target_dir")]
    targets: Vec<String>,
    /// Every `*.btf` file of this directory is a target (sorted by name).
    #[arg(long)]
    target_dir: Option<String>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

fn stem(p: &str) -> String {
    if p == "vmlinux" {
        return "vmlinux".into();
    }
    Path::new(p)
        .file_stem()
        .map_or_else(|| p.to_string(), |s| s.to_string_lossy().into_owned())
}

/// Runs `btfx check`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let data = crate::input::read(&a.object)?;
    let obj = bpf_object::Object::parse(&data).map_err(|e| format!("{}: {e}", a.object))?;
    let bpf_object::CoreInputs {
        btf: local,
        ext,
        programs,
    } = bpf_object::core_inputs(&obj).map_err(|e| format!("{}: {e}", a.object))?;
    let mut targets = a.targets.clone();
    if let Some(dir) = &a.target_dir {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{dir}: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "btf") && p.is_file())
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(format!("{dir}: no *.btf files"));
        }
        targets.extend(found.iter().map(|p| p.to_string_lossy().into_owned()));
    }
    let columns = run_columns(&local, &ext, &programs, &targets)?;
    let m = Matrix::build(&local, &ext, columns);
    let out = if a.json { json(&m) } else { m.render_text() };
    crate::write_stdout(out.as_bytes())?;
    Ok(if every_program_loads(&m) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    })
}

/// True when no kernel aborted libbpf's pass and every program with CO-RE
/// relocations loads on every kernel (guarded poisoned relocations do not
/// count: the verifier removes their dead branch).
fn every_program_loads(m: &Matrix) -> bool {
    !m.aborted.iter().any(|&a| a) && m.programs().iter().all(|p| p.loads.iter().all(|&l| l))
}

/// Reads, parses and relocates against every target, spread over the
/// machine's cores; results come back in target order.
fn run_columns(
    local: &Btf<'_>,
    ext: &BtfExt,
    programs: &[Program],
    targets: &[String],
) -> Result<Vec<(String, Report)>, String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(targets.len().max(1));
    let one = |t: &String| -> Result<(String, Report), String> {
        let loaded = Loaded::open(t, None)?;
        let btf = loaded.btf()?;
        Ok((stem(t), column(local, ext, programs, &btf)))
    };
    let mut results: Vec<Option<Result<(String, Report), String>>> = Vec::new();
    results.resize_with(targets.len(), || None);
    std::thread::scope(|s| {
        let chunks: Vec<_> = (0..threads)
            .map(|w| {
                let one = &one;
                s.spawn(move || {
                    targets
                        .iter()
                        .enumerate()
                        .skip(w)
                        .step_by(threads)
                        .map(|(i, t)| (i, one(t)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in chunks {
            if let Ok(v) = h.join() {
                for (i, r) in v {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(r);
                    }
                }
            }
        }
    });
    results
        .into_iter()
        .zip(targets)
        .map(|(r, t)| r.unwrap_or_else(|| Err(format!("{t}: worker thread failed"))))
        .collect()
}

fn json(m: &Matrix) -> String {
    use serde_json::json;
    let rows: Vec<_> = m
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let cells: serde_json::Map<String, serde_json::Value> = m
                .kernels
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let c = m.cells.get(i).and_then(|c| c.get(k));
                    let v = match c {
                        Some(core_reloc::matrix::Cell::Value(v)) => json!(v),
                        Some(c) => json!(c.to_string()),
                        None => serde_json::Value::Null,
                    };
                    (name.clone(), v)
                })
                .collect();
            let guarded: Vec<&String> = m
                .kernels
                .iter()
                .enumerate()
                .filter(|(k, _)| {
                    m.cells
                        .get(i)
                        .and_then(|c| c.get(*k))
                        .is_some_and(|c| c.is_poisoned())
                        && !r.is_exists()
                        && m.guarded(i, *k)
                })
                .map(|(_, n)| n)
                .collect();
            json!({
                "section": r.section,
                "relo": r.index,
                "program": r.program,
                "kind": core_reloc::kind_str(r.kind),
                "local_type_id": r.local_type.0,
                "access": r.access,
                "what": r.what,
                "source": r.source,
                "cells": cells,
                "guarded_on": guarded,
            })
        })
        .collect();
    let progs: Vec<_> = m
        .programs()
        .iter()
        .map(|p| {
            let loads_on: Vec<&String> = m
                .kernels
                .iter()
                .zip(&p.loads)
                .filter(|(_, l)| **l)
                .map(|(k, _)| k)
                .collect();
            json!({"name": p.name, "loads_on": loads_on, "kernels": m.kernels.len()})
        })
        .collect();
    let v = json!({
        "kernels": m.kernels,
        "relocations": rows,
        "programs": progs,
        "aborted": m.kernels.iter().zip(&m.aborted).filter(|(_, a)| **a).map(|(k, _)| k).collect::<Vec<_>>(),
        "failed": !every_program_loads(m),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
