//! `btfx reloc OBJ [--target INPUT] [--format log|json|explain]`: decide every
//! CO-RE relocation of a BPF object as libbpf 1.1 does, and explain it.

use std::fmt::Write as _;
use std::process::ExitCode;

use btf::Btf;
use clap::ValueEnum;
use core_reloc::{relocate_with, BtfExt, LogStyle, Outcome, Report, Target};

use crate::input::Loaded;

/// Arguments of `btfx reloc`.
#[derive(clap::Args)]
pub struct Args {
    /// BPF ELF object (with .BTF and .BTF.ext).
    object: String,
    /// Target kernel BTF: `vmlinux` (/sys/kernel/btf/vmlinux), a raw BTF file
    /// or an ELF file with .BTF.
    #[arg(long, short, default_value = "vmlinux")]
    target: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Log)]
    format: Format,
    /// Whose log to reproduce where libbpf builds differ: the libbpf 1.1.2
    /// library (default) or the libbpf inside bpftool 7.1 (only the order of
    /// the two `substituting insn` lines of a poisoned ld_imm64 differs).
    #[arg(long, value_enum, default_value_t = Style::Libbpf)]
    log_style: Style,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// libbpf's CO-RE debug lines, without the `libbpf: ` prefix.
    Log,
    /// The same facts, structured.
    Json,
    /// A human view: source line, local spec, each candidate and why.
    Explain,
}

#[derive(Clone, Copy, ValueEnum)]
enum Style {
    /// libbpf 1.1.2 (libbpf-dev).
    Libbpf,
    /// bpftool 7.1's embedded libbpf (`bpftool -d prog loadall`).
    Bpftool,
}

/// Runs `btfx reloc`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let data = crate::input::read(&a.object)?;
    let obj = bpf_object::Object::parse(&data).map_err(|e| format!("{}: {e}", a.object))?;
    let bpf_object::CoreInputs {
        btf: local,
        ext,
        mut programs,
    } = bpf_object::core_inputs(&obj).map_err(|e| format!("{}: {e}", a.object))?;
    let loaded = Loaded::open(&a.target, None)?;
    let names = core_reloc::wanted_names(&local, &ext);
    let (target, found) = loaded.btf_scanning(&names)?;
    let style = match a.log_style {
        Style::Libbpf => LogStyle::Libbpf,
        Style::Bpftool => LogStyle::Bpftool,
    };
    let target = Target::new(&target).with_prefetched(&names, found);
    let report = relocate_with(&local, &ext, &mut programs, target, style);
    let out = match a.format {
        Format::Log => {
            let mut s = String::new();
            for l in &report.log {
                s.push_str(l);
                s.push('\n');
            }
            s
        }
        Format::Json => json(&report),
        Format::Explain => explain(&report, &ext, &local),
    };
    crate::write_stdout(out.as_bytes())?;
    if let Some(f) = &report.failure {
        eprintln!("btfx: {}: {f}", a.object);
        return Ok(ExitCode::from(crate::EXIT_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Patched => "patched",
        Outcome::Poisoned => "poisoned",
        Outcome::Failed { .. } => "failed",
        Outcome::Skipped => "skipped",
    }
}

fn json(report: &Report) -> String {
    use serde_json::json;
    let relos: Vec<_> = report
        .records
        .iter()
        .map(|r| {
            let d = r.decision.as_ref();
            json!({
                "section": r.section,
                "relo": r.index,
                "program": r.program,
                "insn": r.insn,
                "kind": core_reloc::kind_str(r.kind),
                "local_type_id": r.local_type.0,
                "local_type": r.local_type_name,
                "access": r.access,
                "local_spec": d.map(|d| d.local_spec.clone()),
                "candidates": d.map(|d| d.candidates.iter().map(|c| json!({
                    "index": c.index, "btf": c.btf, "type_id": c.id.0,
                    "spec": c.spec, "matched": c.matched, "why_not": c.why_not,
                })).collect::<Vec<_>>()),
                "no_match": d.map(|d| d.no_match),
                "orig_val": d.map(|d| d.fixup.orig_val),
                "new_val": d.map(|d| d.fixup.new_val),
                "poison": d.map(|d| d.fixup.poison),
                "outcome": outcome_word(&r.outcome),
                "error": match &r.outcome {
                    Outcome::Failed { errno, reason } => json!({"errno": errno, "reason": reason}),
                    _ => serde_json::Value::Null,
                },
            })
        })
        .collect();
    let v = json!({
        "relocations": relos,
        "failed": report.failed(),
        "failure": report.failure.as_ref().map(|f| f.to_string()),
        "log": report.log,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

fn explain(report: &Report, ext: &BtfExt, local: &Btf<'_>) -> String {
    let mut s = String::new();
    for r in &report.records {
        let _ = writeln!(
            s,
            "{} relo #{} in prog '{}' insn #{}: <{}> {} access {}",
            r.section,
            r.index,
            r.program,
            r.insn,
            core_reloc::kind_str(r.kind),
            r.local_type_name,
            r.access
        );
        if let Some(li) = ext.line_for(&r.section, r.insn_off) {
            let file = local.name(li.file_name_off);
            let line = local.name(li.line_off);
            let _ = writeln!(s, "  source: {}:{}:{}", file, li.line(), li.col());
            if !line.is_empty() {
                let _ = writeln!(s, "          {}", line.trim());
            }
        }
        if let Some(d) = &r.decision {
            let _ = writeln!(s, "  local:  {}", d.local_spec);
            if d.candidates.is_empty() && !d.no_match && d.fixup.orig_val == d.fixup.new_val {
                let _ = writeln!(
                    s,
                    "  (no candidate search: local type id or type with no target)"
                );
            }
            for c in &d.candidates {
                let why = match &c.why_not {
                    None => {
                        "taken: the access path resolves and the types are compatible".to_string()
                    }
                    Some(w) => format!("not taken: {w}"),
                };
                let _ = writeln!(
                    s,
                    "  candidate #{} [{}] {}: {}",
                    c.index, c.btf, c.spec, why
                );
            }
            if d.no_match {
                let _ = writeln!(
                    s,
                    "  no candidate matched: the value is the missing-target value"
                );
            }
            let f = &d.fixup;
            if f.poison {
                let _ = writeln!(
                    s,
                    "  result: instruction poisoned (call 0xbad2310); fatal only if reachable"
                );
            } else {
                let _ = writeln!(s, "  result: {} -> {}", f.orig_val, f.new_val);
            }
        }
        match &r.outcome {
            Outcome::Failed { errno, reason } => {
                let _ = writeln!(s, "  FAILED ({errno}): {reason}");
            }
            Outcome::Skipped => {
                let _ = writeln!(s, "  skipped: no program holds this instruction");
            }
            o => {
                let _ = writeln!(s, "  {}", outcome_word(o));
            }
        }
    }
    if let Some(f) = &report.failure {
        let _ = writeln!(s, "libbpf would fail the load: {f}");
    }
    s
}
