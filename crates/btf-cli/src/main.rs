//! `btfx`: read, explain and apply BTF and CO-RE. See `btfx --help`.
//!
//! Exit codes: 0 done; 1 the job ran but something failed (a relocation
//! error, a program the kernel rejected); 2 bad input or usage.
#![forbid(unsafe_code)]

mod cmd;
mod input;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when the job ran but something failed.
pub const EXIT_FAILED: u8 = 1;

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
    Dump(cmd::dump::Args),
    /// Generate from a BTF: Rust bindings (`gen rust`), minimal BTF for CO-RE objects (`gen min-core`).
    Gen(cmd::gen::Args),
    /// Decide a BPF object's CO-RE relocations against a kernel BTF, as libbpf 1.1.
    Reloc(cmd::reloc::Args),
    /// Load a BPF object's maps and programs into the running kernel.
    Load(cmd::load::Args),
    /// Load, set globals, attach every program, stream ring/perf buffer
    /// events and bpf_printk lines decoded by BTF, dump the maps, detach.
    Run(cmd::run::Args),
    /// Relocation matrix of a BPF object over many kernel BTFs (which relocations fail where).
    Check(cmd::check::Args),
    /// What changed between two BTFs (types, members, offsets, sizes, enum values);
    /// with --graph, whether they are the same type graph whatever the ids.
    Diff(cmd::diff::Args),
    /// Where a field path (`task_struct.mm->pgd`) lives in a BTF.
    Field(cmd::field::Args),
    /// Append BTFs and deduplicate them as libbpf 1.1's btf__dedup.
    Dedup(cmd::dedup::Args),
}

/// The CPU features this build was compiled to use (see
/// `.cargo/config.toml`) that this CPU lacks: a btfx built for x86-64-v3
/// would otherwise die of an illegal instruction somewhere.
fn missing_cpu_features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut missing = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! check {
            ($($f:tt),*) => {$(
                if cfg!(target_feature = $f) && !std::arch::is_x86_feature_detected!($f) {
                    missing.push($f);
                }
            )*};
        }
        check!(
            "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "bmi1", "bmi2", "fma", "lzcnt", "movbe",
            "f16c", "avx512f", "avx512bw", "avx512dq", "avx512vl"
        );
    }
    missing
}

fn main() -> ExitCode {
    let missing = missing_cpu_features();
    if !missing.is_empty() {
        eprintln!(
            "btfx: this build uses CPU features this CPU lacks ({}); rebuild with \
             RUSTFLAGS=\"-C target-cpu=x86-64\" (or \"-C target-cpu=native\")",
            missing.join(", ")
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Dump(a) => cmd::dump::run(a),
        Cmd::Gen(a) => cmd::gen::run(a),
        Cmd::Reloc(a) => cmd::reloc::run(a),
        Cmd::Load(a) => cmd::load::run(a),
        Cmd::Run(a) => cmd::run::run(a),
        Cmd::Check(a) => cmd::check::run(a),
        Cmd::Diff(a) => cmd::diff::run(a),
        Cmd::Field(a) => cmd::field::run(a),
        Cmd::Dedup(a) => cmd::dedup::run(a),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("btfx: {msg}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Writes the whole output at once; a closed pipe is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("writing output: {e}")),
    }
}
