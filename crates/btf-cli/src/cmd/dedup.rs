//! `btfx dedup INPUT... -o OUTPUT [--base FILE] [--endian little|big]`:
//! appends the inputs (libbpf's `btf__add_btf`) and deduplicates them as
//! libbpf 1.1's `btf__dedup`; writes what `btf__raw_data` would hold.

use std::process::ExitCode;
use std::sync::Arc;

use btf::dedup::Appender;
use btf::{Btf, Endian, ParseOptions};
use clap::ValueEnum;

use crate::input::{read, resolve_path, VMLINUX};

/// Arguments of `btfx dedup`.
#[derive(clap::Args)]
pub struct Args {
    /// Inputs, appended in order: raw BTF files, ELF files with .BTF, or
    /// `vmlinux`. With --base, split BTF over that base.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Output file.
    #[arg(long, short = 'o')]
    output: String,
    /// Base BTF: the inputs are split BTF over it, and so is the output
    /// (base types never change). Several inputs over one base are
    /// appended as well (libbpf 1.1 refuses to append split BTF: this has
    /// no libbpf counterpart). Default for /sys/kernel/btf/MODULE inputs:
    /// vmlinux.
    #[arg(long, short = 'B')]
    base: Option<String>,
    /// Byte order of the output (default: little-endian; with --base, the
    /// first input's, as libbpf keeps it).
    #[arg(long, value_enum)]
    endian: Option<Order>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Order {
    /// Little-endian.
    Little,
    /// Big-endian.
    Big,
}

/// Runs `btfx dedup`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let opts = ParseOptions::default().threads(false);
    // a module under /sys/kernel/btf gets vmlinux as its base, as in `dump`
    let base_path = a.base.as_deref().map(resolve_path).or_else(|| {
        a.inputs
            .iter()
            .map(|i| resolve_path(i))
            .any(|p| p.starts_with("/sys/kernel/btf/") && p != VMLINUX)
            .then_some(VMLINUX)
    });
    let base_data = match base_path {
        Some(p) => Some((p, read(p)?)),
        None => None,
    };
    let base = match &base_data {
        Some((p, d)) => Some(Arc::new(
            Btf::parse_any_with(d, None, opts).map_err(|e| format!("{p}: {e}"))?,
        )),
        None => None,
    };
    let mut all = match &base {
        Some(b) => {
            Appender::new_split(b).map_err(|e| format!("{}: {e}", base_path.unwrap_or_default()))?
        }
        None => Appender::new(),
    };
    let mut first_endian = None;
    // where each input's types went: (appended ids, path, the input's first id)
    let mut placed = Vec::new();
    for input in &a.inputs {
        let path = resolve_path(input);
        let data = read(path)?;
        let btf =
            Btf::parse_any_with(&data, base.clone(), opts).map_err(|e| format!("{path}: {e}"))?;
        first_endian.get_or_insert(btf.endian());
        let ids = all.add(&btf).map_err(|e| format!("{path}: {e}"))?;
        placed.push((ids, path.to_owned(), btf.start_id().0));
    }
    let out = all.dedup().map_err(|e| {
        let id = match &e {
            btf::Error::Unresolvable { id, .. } | btf::Error::Loop { id, .. } => Some(id.0),
            _ => None,
        };
        let whose = id.and_then(|id| {
            placed
                .iter()
                .find(|(r, _, _)| r.start.0 <= id && id < r.end.0)
                .map(|(r, p, s)| format!("{p}: type id {} there: ", id - r.start.0 + s))
        });
        format!("dedup: {}{e} (ids as appended)", whose.unwrap_or_default())
    })?;
    let endian = match a.endian {
        Some(Order::Little) => Endian::Little,
        Some(Order::Big) => Endian::Big,
        None if base.is_some() => first_endian.unwrap_or(Endian::Little),
        None => Endian::Little,
    };
    std::fs::write(&a.output, out.encode(endian)).map_err(|e| format!("{}: {e}", a.output))?;
    Ok(ExitCode::SUCCESS)
}
