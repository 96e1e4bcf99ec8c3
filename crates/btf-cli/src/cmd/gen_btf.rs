//! `btfx gen btf ELF -o OUTPUT [--base BASE] [-j N] [--keep-rust] [--stats]`:
//! BTF from the DWARF of a vmlinux or of a kernel module (split BTF over
//! BASE), as `pahole -J --btf_gen_floats --lang_exclude=rust` encodes it;
//! the raw BTF goes to OUTPUT (as pahole's `--btf_encode_detached`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use btf::Btf;
use dwarf_btf::elf::{ElfInput, OpenOptions};
use dwarf_btf::{encode, Options};

use crate::input::resolve_path;

/// Arguments of `btfx gen btf`.
#[derive(clap::Args)]
pub struct Args {
    /// ELF file with DWARF: a vmlinux, a kernel module (.ko) or an object.
    elf: String,
    /// Output file (raw BTF); written only when encoding succeeded.
    #[arg(long, short = 'o')]
    output: String,
    /// Base BTF (the kernel's, for a module): the output is split BTF over
    /// it, as pahole's --btf_base.
    #[arg(long, short = 'B')]
    base: Option<String>,
    /// Threads reading compilation units (default: every CPU). The output
    /// is the same for every value.
    #[arg(long, short = 'j', default_value_t = 0)]
    threads: usize,
    /// Encode Rust compilation units too (by default they are skipped, as
    /// the kernel build's pahole --lang_exclude=rust does).
    #[arg(long)]
    keep_rust: bool,
    /// Print what was read and written to standard error.
    #[arg(long)]
    stats: bool,
}

/// Writes `bytes` to a new file beside `path`, then renames it over
/// `path`: a failed run leaves no partial output and nothing else touched.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".btfx-{}.tmp", std::process::id()));
    let tmp: PathBuf = path.with_file_name(tmp_name);
    let r = std::fs::File::create_new(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    r.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// Runs `btfx gen btf`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let out = Path::new(&a.output);
    if let (Ok(i), Ok(o)) = (std::fs::canonicalize(&a.elf), std::fs::canonicalize(out)) {
        if i == o {
            return Err(format!(
                "{}: the output would overwrite the input",
                a.output
            ));
        }
    }
    // The base is read into memory the encoder owns (not mapped), so that
    // it is given back once the deduplication has its copy.
    let base = match &a.base {
        Some(b) => {
            let p = resolve_path(b);
            let bytes = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
            let raw = if btf::is_elf(&bytes) {
                btf::btf_section(&bytes)
                    .map_err(|e| format!("{p}: {e}"))?
                    .into_owned()
            } else {
                bytes
            };
            let btf = Btf::parse(raw).map_err(|e| format!("{p}: {e}"))?;
            Some(Arc::new(btf))
        }
        None => None,
    };
    // Only the debug sections and the symbol table are read, not the
    // whole file (a Debian vmlinux with DWARF is 590 MB), and .debug_info
    // unit by unit as it is encoded; a module's sections are laid out as
    // pahole (libdwfl) sees them.
    let open = OpenOptions {
        lay_out: true,
        lazy_debug_info: true,
    };
    let elf =
        ElfInput::open_with(Path::new(&a.elf), open).map_err(|e| format!("{}: {e}", a.elf))?;
    let opts = Options {
        base,
        threads: a.threads,
        exclude_rust: !a.keep_rust,
    };
    let enc = encode(&elf, opts).map_err(|e| format!("{}: {e}", a.elf))?;
    write_atomic(out, &enc.btf)?;
    if a.stats {
        eprintln!(
            "{}: {} units ({} Rust units skipped), {} types before dedup, {} bytes of BTF written to {}; \
             units read and joined in {:.2?}, deduplicated in {:.2?}",
            a.elf,
            enc.units,
            enc.rust_units,
            enc.raw_types,
            enc.btf.len(),
            a.output,
            enc.phases[0],
            enc.phases[1]
        );
    }
    Ok(ExitCode::SUCCESS)
}
