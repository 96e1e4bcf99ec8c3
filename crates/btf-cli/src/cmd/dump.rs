//! `btfx dump INPUT [--format raw|c|json] [--type NAME]... [--base FILE]`.

use std::process::ExitCode;

use clap::ValueEnum;

use crate::input::Loaded;

/// Arguments of `btfx dump`.
#[derive(clap::Args)]
pub struct Args {
    /// Input: a raw BTF file, an ELF file with .BTF, or `vmlinux` (/sys/kernel/btf/vmlinux).
    input: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Raw)]
    format: Format,
    /// Dump only the types named NAME (repeatable; every type with exactly
    /// that name, base types first, any kind), in the order given. With
    /// `--format c` each also brings the types it needs, as bpftool's
    /// root-id mode; `raw` and `json` print just those types' records.
    #[arg(long = "type", short = 't', value_name = "NAME")]
    types: Vec<String>,
    /// Base BTF for split BTF input (a kernel module's).
    #[arg(long, short = 'B')]
    base: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// bpftool's `format raw`.
    Raw,
    /// bpftool's `format c` (a vmlinux.h-style header).
    C,
    /// bpftool's `-j` JSON.
    Json,
}

/// Runs `btfx dump`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let loaded = Loaded::open(&a.input, a.base.as_deref())?;
    let btf = loaded.btf()?;
    let mut ids = Vec::new();
    for name in &a.types {
        let found = btf::dump::c::ids_by_name(&btf, name);
        if found.is_empty() {
            return Err(format!("{}: no type named '{name}'", a.input));
        }
        ids.extend(found);
    }
    let mut out = Vec::new();
    match a.format {
        Format::Raw if !a.types.is_empty() => btf::dump::raw::dump_raw_ids(&btf, &ids, &mut out),
        Format::Raw => btf::dump::raw::dump_raw(&btf, &mut out),
        Format::Json if !a.types.is_empty() => {
            // bpftool's root-id JSON: the same wrapper, only those types.
            out.extend_from_slice(b"{\"types\":[");
            for (i, &id) in ids.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if let Some(t) = btf.type_by_id(id) {
                    btf::dump::json::dump_type(&btf, &t, &mut out);
                }
            }
            out.extend_from_slice(b"]}\n");
        }
        Format::Json => btf::dump::json::dump_json(&btf, &mut out),
        Format::C => {
            let r = if a.types.is_empty() {
                btf::dump::c::dump_c(&btf, &mut out)
            } else {
                btf::dump::c::dump_c_ids(&btf, ids, &mut out)
            };
            r.map_err(|e| format!("{}: cannot write C: {e}", a.input))?;
        }
    }
    crate::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
