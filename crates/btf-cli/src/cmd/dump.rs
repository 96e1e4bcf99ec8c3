//! `btfx dump INPUT [--format raw|json] [--base FILE]`.

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
    /// Base BTF for split BTF input (a kernel module's).
    #[arg(long, short = 'B')]
    base: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// bpftool's `format raw`.
    Raw,
    /// bpftool's `-j` JSON.
    Json,
}

/// Runs `btfx dump`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let loaded = Loaded::open(&a.input, a.base.as_deref())?;
    let btf = loaded.btf()?;
    let mut out = Vec::new();
    match a.format {
        Format::Raw => btf::dump::raw::dump_raw(&btf, &mut out),
        Format::Json => btf::dump::json::dump_json(&btf, &mut out),
    }
    crate::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
