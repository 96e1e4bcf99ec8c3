//! `btfx`: read, explain and apply BTF and CO-RE. See `btfx --help`.
#![forbid(unsafe_code)]

mod input;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code for bad input or usage.
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "btfx",
    version,
    about = "Read, explain and apply BTF and CO-RE"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Dump the types of a BTF: raw BTF file, ELF object with .BTF, or `vmlinux`.
    Dump {
        /// Input: a raw BTF file, an ELF file, or `vmlinux` (/sys/kernel/btf/vmlinux).
        input: String,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = Format::Raw)]
        format: Format,
        /// Base BTF for split BTF input (a kernel module's).
        #[arg(long, short = 'B')]
        base: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// bpftool's `format raw`.
    Raw,
    /// bpftool's `-j` JSON.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("btfx: {msg}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.cmd {
        Cmd::Dump {
            input,
            format,
            base,
        } => {
            let loaded = input::Loaded::open(&input, base.as_deref())?;
            let btf = loaded.btf()?;
            let mut out = Vec::new();
            match format {
                Format::Raw => btf::dump::raw::dump_raw(&btf, &mut out),
                Format::Json => btf::dump::json::dump_json(&btf, &mut out),
            }
            write_stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`btfx dump vmlinux | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("writing output: {e}")),
    }
}
