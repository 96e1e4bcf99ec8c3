//! `btfx field INPUT PATH [--base FILE] [--json]`: where a field lives
//! (`task_struct.mm->pgd`): offsets, size, bitfield, C type. Exit 1 when the
//! path does not exist in that BTF.

use std::fmt::Write as _;
use std::process::ExitCode;

use btf::path::{c_type_name, resolve, Resolution};

use crate::input::Loaded;

/// Arguments of `btfx field`.
#[derive(clap::Args)]
pub struct Args {
    /// BTF input: `vmlinux`, a raw BTF file or an ELF file with .BTF.
    input: String,
    /// Field path: `task_struct.mm->pgd`, `sk_buff.len`, `s.arr[2]`.
    path: String,
    /// Base BTF for split BTF input.
    #[arg(long)]
    base: Option<String>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Runs `btfx field`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let loaded = Loaded::open(&a.input, a.base.as_deref())?;
    let btf = loaded.btf()?;
    let r = resolve(&btf, &a.path).map_err(|e| format!("{}: {e}", a.input))?;
    let out = match (&r, a.json) {
        (Resolution::Found(f), false) => {
            let mut s = String::new();
            let _ = writeln!(s, "{}: exists", a.path);
            for (i, rd) in f.reads.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "  read {i}: {} at offset {} (bits {}) of {}",
                    rd.text,
                    rd.bit_offset / 8,
                    rd.bit_offset,
                    c_type_name(&btf, rd.base)
                );
            }
            let _ = writeln!(s, "  type: {}", f.c_type);
            let _ = writeln!(
                s,
                "  offset: {} bytes ({} bits)",
                f.byte_offset(),
                f.bit_offset
            );
            let _ = writeln!(s, "  size: {}", f.size);
            if f.bitfield_size != 0 {
                let _ = writeln!(
                    s,
                    "  bitfield: {} bits at bit {} of byte {}",
                    f.bitfield_size,
                    f.bit_offset % 8,
                    f.byte_offset()
                );
            }
            s
        }
        (Resolution::Missing(m), false) => format!(
            "{}: does not exist: component {} '{}': {}\n",
            a.path, m.index, m.component, m.why
        ),
        (Resolution::Found(f), true) => {
            let reads: Vec<_> = f
                .reads
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "path": r.text,
                        "base": c_type_name(&btf, r.base),
                        "base_type_id": r.base.0,
                        "offset": r.bit_offset / 8,
                        "bit_offset": r.bit_offset,
                    })
                })
                .collect();
            json(serde_json::json!({
                "path": a.path,
                "exists": true,
                "type": f.c_type,
                "type_id": f.ty.0,
                "offset": f.byte_offset(),
                "bit_offset": f.bit_offset,
                "size": f.size,
                "bitfield_size": f.bitfield_size,
                "reads": reads,
            }))
        }
        (Resolution::Missing(m), true) => json(serde_json::json!({
            "path": a.path,
            "exists": false,
            "failed_component": m.index,
            "component": m.component,
            "why": m.why,
        })),
    };
    crate::write_stdout(out.as_bytes())?;
    Ok(match r {
        Resolution::Found(_) => ExitCode::SUCCESS,
        Resolution::Missing(_) => ExitCode::from(crate::EXIT_FAILED),
    })
}

fn json(v: serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
