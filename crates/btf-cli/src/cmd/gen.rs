//! `btfx gen rust INPUT [--type NAME]... [-o FILE]`: Rust bindings from BTF;
//! `btfx gen min-core INPUT OUTPUT OBJ...` (see [`super::min_core`]);
//! `btfx gen btf ELF -o OUT [--base BASE]` (see [`super::gen_btf`]).

use std::process::ExitCode;

use btf::dump::rust::{gen_rust, is_item_kind, Options};
use btf::{Btf, TypeId};

use crate::input::Loaded;

/// Arguments of `btfx gen`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    lang: Lang,
}

#[derive(clap::Subcommand)]
enum Lang {
    /// Rust module of `#[repr(C)]` types with compile-time layout assertions.
    Rust(RustArgs),
    /// Minimal BTF keeping every CO-RE relocation decision of the objects
    /// (bpftool gen min_core_btf, byte for byte).
    #[command(name = "min-core")]
    MinCore(super::min_core::Args),
    /// BTF from an ELF file's DWARF (a vmlinux, or a module as split BTF
    /// over --base), as pahole -J --btf_gen_floats --lang_exclude=rust.
    Btf(super::gen_btf::Args),
}

#[derive(clap::Args)]
struct RustArgs {
    /// Input: a raw BTF file, an ELF file with .BTF, or `vmlinux` (/sys/kernel/btf/vmlinux).
    input: String,
    /// Emit only this type (struct, union, enum, typedef) and its dependencies; repeatable.
    #[arg(long = "type", value_name = "NAME")]
    types: Vec<String>,
    /// Write to FILE instead of standard output.
    #[arg(long, short)]
    output: Option<String>,
    /// Base BTF for split BTF input (a kernel module's).
    #[arg(long, short = 'B')]
    base: Option<String>,
    /// Leave out the `#![allow(..)]` inner attributes (for use with `include!`).
    #[arg(long)]
    no_inner_attributes: bool,
}

/// Every type named `name` that becomes an item, base types included.
fn find_roots(btf: &Btf<'_>, name: &str, out: &mut Vec<TypeId>) -> bool {
    let before = out.len();
    let mut scan = |b: &Btf<'_>| {
        for id in b.find_by_name(name) {
            if b.type_by_id(id).is_some_and(|t| is_item_kind(t.kind())) {
                out.push(id);
            }
        }
    };
    if let Some(base) = btf.base() {
        scan(base);
    }
    scan(btf);
    out.len() > before
}

/// Runs `btfx gen`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let a = match a.lang {
        Lang::Rust(a) => a,
        Lang::MinCore(a) => return super::min_core::run(a),
        Lang::Btf(a) => return super::gen_btf::run(a),
    };
    let loaded = Loaded::open(&a.input, a.base.as_deref())?;
    let btf = loaded.btf()?;
    let roots = if a.types.is_empty() {
        None
    } else {
        let mut roots = Vec::new();
        for name in &a.types {
            if !find_roots(&btf, name, &mut roots) {
                return Err(format!(
                    "{}: no struct, union, enum or typedef named '{name}'",
                    a.input
                ));
            }
        }
        Some(roots)
    };
    let opts = Options {
        roots,
        inner_attributes: !a.no_inner_attributes,
    };
    let text = gen_rust(&btf, &opts).map_err(|e| format!("{}: {e}", a.input))?;
    match &a.output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))?,
        None => crate::write_stdout(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
