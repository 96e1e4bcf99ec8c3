//! `btfx load OBJ [--target INPUT] [--prog NAME]... [--json] [--pin DIR]`.
//!
//! Creates the object's maps, loads its programs (all, or the named ones)
//! into the running kernel, prints one line per program, then closes
//! everything (unless `--pin DIR`). Exit 0 when all loaded, 1 when any was
//! rejected, 2 for bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use loader::{LoadOptions, ProgOutcome};

use crate::input::resolve_path;

/// Arguments of `btfx load`.
#[derive(clap::Args)]
pub struct Args {
    /// The BPF ELF object.
    obj: String,
    /// Target BTF for CO-RE (raw BTF, ELF with .BTF, or `vmlinux`); default
    /// the running kernel's.
    #[arg(long)]
    target: Option<String>,
    /// Load only this program (repeatable).
    #[arg(long = "prog", value_name = "NAME")]
    progs: Vec<String>,
    /// Print `{"programs":[...],"maps":[...]}`.
    #[arg(long)]
    json: bool,
    /// Pin programs and maps under this bpffs directory (they then outlive btfx).
    #[arg(long, value_name = "DIR")]
    pin: Option<PathBuf>,
    /// Where maps declared `pinning = LIBBPF_PIN_BY_NAME` are pinned, and
    /// reused from when already there (libbpf's pin_root_path).
    #[arg(long, value_name = "DIR", default_value = "/sys/fs/bpf")]
    pin_root: PathBuf,
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Runs `btfx load`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let elf = crate::input::read(&a.obj)?;
    let target_btf = match &a.target {
        Some(t) => {
            let p = resolve_path(t);
            let bytes = crate::input::read(p)?;
            if btf::is_elf(&bytes) {
                Some(
                    btf::btf_section(&bytes)
                        .map_err(|e| format!("{p}: {e}"))?
                        .into_owned(),
                )
            } else {
                Some(bytes.to_vec())
            }
        }
        None => None,
    };
    let obj_name = std::path::Path::new(&a.obj)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .unwrap_or("obj")
        .to_string();
    let opts = LoadOptions {
        target_btf,
        programs: a.progs.clone(),
        pin: a.pin.clone(),
        obj_name,
        pin_root: Some(a.pin_root.clone()),
    };
    let loaded = loader::load(&elf, &opts).map_err(|e| format!("{}: {e}", a.obj))?;
    if let Some(e) = &loaded.btf_error {
        eprintln!(
            "btfx: {}: the kernel refused the object's BTF, going on without it: {e}",
            a.obj
        );
    }
    let mut out = String::new();
    let all_ok = loaded
        .programs
        .iter()
        .all(|p| matches!(p.outcome, ProgOutcome::Loaded { .. }));
    if a.json {
        let progs: Vec<String> = loaded
            .programs
            .iter()
            .map(|p| {
                let head = format!(
                    "{{\"name\":{},\"section\":{},\"insn_cnt\":{}",
                    json_str(&p.name),
                    json_str(&p.section),
                    p.insn_cnt
                );
                match &p.outcome {
                    ProgOutcome::Loaded { id, .. } => {
                        format!("{head},\"loaded\":true,\"id\":{id}}}")
                    }
                    ProgOutcome::Rejected {
                        errno,
                        log_tail,
                        core,
                    } => format!(
                        "{head},\"loaded\":false,\"errno\":{errno},\"log\":{},\"core\":{}}}",
                        json_str(log_tail),
                        core.as_deref().map_or("null".to_string(), json_str)
                    ),
                }
            })
            .collect();
        let maps: Vec<String> = loaded
            .maps
            .iter()
            .map(|m| {
                let pinned = m.pinned.as_ref().map_or_else(
                    || "null".to_string(),
                    |p| json_str(&p.display().to_string()),
                );
                format!(
                    "{{\"name\":{},\"type\":{},\"id\":{},\"pinned\":{pinned},\"reused\":{}}}",
                    json_str(&m.name),
                    m.map_type,
                    m.id,
                    m.reused
                )
            })
            .collect();
        out = format!(
            "{{\"programs\":[{}],\"maps\":[{}]}}\n",
            progs.join(","),
            maps.join(",")
        );
    } else {
        for p in &loaded.programs {
            match &p.outcome {
                ProgOutcome::Loaded { id, .. } => out.push_str(&format!(
                    "{}\t{}\tloaded\tid={id} insns={}\n",
                    p.name, p.section, p.insn_cnt
                )),
                ProgOutcome::Rejected {
                    errno,
                    log_tail,
                    core,
                } => {
                    let err = std::io::Error::from_raw_os_error(*errno);
                    out.push_str(&format!(
                        "{}\t{}\trejected\terrno={errno} ({err})\n",
                        p.name, p.section
                    ));
                    if let Some(c) = core {
                        out.push_str(&format!("  {c}\n"));
                    }
                    for l in log_tail.lines() {
                        out.push_str(&format!("  | {l}\n"));
                    }
                }
            }
        }
    }
    if !a.json {
        for m in loaded.maps.iter().filter(|m| m.pinned.is_some()) {
            let path = m.pinned.as_ref().map(|p| p.display().to_string());
            out.push_str(&format!(
                "map {}	{} pinned map at {}	id={}
",
                m.name,
                if m.reused { "reused" } else { "created" },
                path.unwrap_or_default(),
                m.id
            ));
        }
    }
    crate::write_stdout(out.as_bytes())?;
    drop(loaded);
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    })
}
