//! `btfx gen min-core INPUT OUTPUT OBJ...`: the minimal BTF of a kernel
//! that keeps every CO-RE relocation decision of the objects (bpftool's
//! `gen min_core_btf`, same argument order, same output bytes), plus
//! `--base` for a kernel module's split BTF and a batch mode over a
//! directory of kernels (`--target-dir DIR --out-dir OUT OBJ...`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use btf::Btf;
use core_reloc::mincore::MinCore;
use core_reloc::{BtfExt, Target};
use loader::sys::FileBytes;

use crate::input::Loaded;

/// Arguments of `btfx gen min-core`.
#[derive(clap::Args)]
pub struct Args {
    /// `INPUT OUTPUT OBJ...` (bpftool's order): the kernel BTF (a raw BTF
    /// file, an ELF file with .BTF, or `vmlinux`), the file to write, and
    /// the BPF objects. With `--target-dir`, only the objects.
    #[arg(required = true, value_name = "INPUT OUTPUT OBJ")]
    args: Vec<String>,
    /// INPUT is a kernel module's split BTF over BASE (a raw BTF file, an
    /// ELF file with .BTF, or `vmlinux`). Candidates are searched as libbpf
    /// does on a live kernel (BASE first, the module when BASE has none);
    /// the output is one standalone BTF with the kept BASE types followed by
    /// the kept module types, usable as libbpf's `btf_custom_path`.
    #[arg(long, short = 'B', value_name = "BASE")]
    base: Option<String>,
    /// Batch mode: every file of DIR is a kernel BTF; the objects are parsed
    /// once and one minimal BTF per kernel is written to OUT under the
    /// kernel file's name.
    #[arg(long, value_name = "DIR", requires = "out_dir")]
    target_dir: Option<String>,
    /// Output directory of the batch mode (created if missing).
    #[arg(long, value_name = "OUT", requires = "target_dir")]
    out_dir: Option<String>,
}

/// One object's BTF and `.BTF.ext`, parsed once.
struct Object<'a> {
    path: &'a str,
    btf: Btf<'a>,
    ext: BtfExt,
}

fn parse_object<'a>(path: &'a str, data: &'a [u8]) -> Result<Object<'a>, String> {
    let err = |e: &dyn std::fmt::Display| format!("{path}: {e}");
    let btf = Btf::from_elf(data).map_err(|e| err(&e))?;
    let ext = btf::elf_section(data, ".BTF.ext")
        .map_err(|e| err(&e))?
        .ok_or_else(|| format!("{path}: no .BTF.ext section"))?;
    let ext = BtfExt::parse(&ext, &btf).map_err(|e| err(&e))?;
    Ok(Object { path, btf, ext })
}

/// The minimal BTF of `target` for `objects`. `Err` is a relocation libbpf
/// could not decide or a type bpftool refuses to keep: the inputs were
/// read, the job failed (exit 1).
fn minimize(target: Target<'_>, objects: &[Object<'_>]) -> Result<Vec<u8>, String> {
    let mut m = MinCore::new(target);
    for o in objects {
        m.record(o.path, &o.btf, &o.ext)
            .map_err(|e| e.to_string())?;
    }
    m.build().map_err(|e| e.to_string())
}

/// Essential names every object looks up, for one scan of each kernel.
fn wanted<'a>(objects: &'a [Object<'a>]) -> Vec<&'a [u8]> {
    let mut names: Vec<&[u8]> = Vec::new();
    for o in objects {
        for n in core_reloc::wanted_names(&o.btf, &o.ext) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `btfx gen min-core`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let (kernel, output, objs) = match &a.target_dir {
        Some(_) => (None, None, &a.args[..]),
        None => {
            if a.args.len() < 3 {
                return Err("gen min-core: expected INPUT OUTPUT OBJ... \
                            (or --target-dir DIR --out-dir OUT OBJ...)"
                    .into());
            }
            (Some(&a.args[0]), Some(&a.args[1]), &a.args[2..])
        }
    };
    let datas: Vec<FileBytes> = objs
        .iter()
        .map(|p| crate::input::read(p))
        .collect::<Result<_, _>>()?;
    let objects: Vec<Object<'_>> = objs
        .iter()
        .zip(&datas)
        .map(|(p, d)| parse_object(p, d))
        .collect::<Result<_, _>>()?;
    let names = wanted(&objects);
    if let (Some(dir), Some(out)) = (&a.target_dir, &a.out_dir) {
        if a.base.is_some() {
            return Err("gen min-core: --base does not combine with --target-dir".into());
        }
        return batch(Path::new(dir), Path::new(out), &objects, &names);
    }
    let (Some(kernel), Some(output)) = (kernel, output) else {
        return Err("gen min-core: expected INPUT OUTPUT OBJ...".into());
    };
    // A module under /sys/kernel/btf is split BTF over vmlinux, as in
    // `btfx dump`: it gets vmlinux as its base without --base.
    let resolved = crate::input::resolve_path(kernel);
    let base = a.base.clone().or_else(|| {
        (resolved.starts_with("/sys/kernel/btf/") && resolved != crate::input::VMLINUX)
            .then(|| "vmlinux".to_string())
    });
    let done = match &base {
        None => {
            let loaded = Loaded::open(kernel, None)?;
            let (btf, found) = loaded.btf_scanning(&names)?;
            let target = Target::new(&btf).with_prefetched(&names, found);
            minimize(target, &objects)
        }
        Some(base) => {
            let base_loaded = Loaded::open(base, None)?;
            let (base_btf, found) = base_loaded.btf_scanning(&names)?;
            let base_btf = std::sync::Arc::new(base_btf);
            let data = crate::input::read(crate::input::resolve_path(kernel))?;
            let module = Btf::parse_any(&data, Some(base_btf.clone()))
                .map_err(|e| format!("{kernel}: {e}"))?;
            let module_name = Path::new(kernel)
                .file_stem()
                .map_or_else(|| kernel.clone(), |s| s.to_string_lossy().into_owned());
            let target = Target::new(&base_btf)
                .with_prefetched(&names, found)
                .with_module(module_name, &module);
            minimize(target, &objects)
        }
    };
    match done {
        Ok(bytes) => {
            write(Path::new(output), &bytes)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("btfx: {kernel}: {e}");
            Ok(ExitCode::from(crate::EXIT_FAILED))
        }
    }
}

/// `--target-dir DIR --out-dir OUT`: each kernel parsed once, scanned once
/// for every object's names, decided and written; a kernel that cannot be
/// read or minimised is reported and the others still written (exit 1).
fn batch(
    dir: &Path,
    out: &Path,
    objects: &[Object<'_>],
    names: &[&[u8]],
) -> Result<ExitCode, String> {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    kernels.sort();
    // Files that are neither BTF nor ELF (a README, a checksum list) are
    // not kernels; a damaged BTF or ELF file is, and fails.
    let total = kernels.len();
    kernels.retain(|p| looks_like_btf_or_elf(p));
    if kernels.len() < total {
        eprintln!(
            "btfx: {}: skipped {} file(s) that are neither BTF nor ELF",
            dir.display(),
            total - kernels.len()
        );
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    // Each kernel is parsed, decided and written by whichever of two
    // threads takes it next; messages are printed in kernel order.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(usize, Result<(), String>)> = std::thread::scope(|s| {
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(k) = kernels.get(i) else { break };
                done.push((i, one_kernel(k, out, objects, names)));
            }
            done
        };
        let other = s.spawn(work);
        let mut mine = work();
        match other.join() {
            Ok(theirs) => mine.extend(theirs),
            Err(_) => mine.push((usize::MAX, Err("a worker thread failed".into()))),
        }
        mine
    });
    let mut results = results;
    results.sort_by_key(|r| r.0);
    let mut failed = 0usize;
    for (_, r) in results {
        if let Err(e) = r {
            eprintln!("btfx: {e}");
            failed += 1;
        }
    }
    eprintln!(
        "btfx: {} of {} kernels written to {}",
        kernels.len().saturating_sub(failed),
        kernels.len(),
        out.display()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    })
}

/// One kernel of the batch: parse, scan for the objects' names, decide,
/// write OUT/<kernel file name>.
fn one_kernel(k: &Path, out: &Path, objects: &[Object<'_>], names: &[&[u8]]) -> Result<(), String> {
    let path = k.display().to_string();
    let file = k
        .file_name()
        .ok_or_else(|| format!("{path}: not a file name"))?;
    let loaded = Loaded::open(&path, None)?;
    let (btf, found) = loaded.btf_scanning(names)?;
    let target = Target::new(&btf).with_prefetched(names, found);
    let bytes = minimize(target, objects).map_err(|e| format!("{path}: {e}"))?;
    write(&out.join(file), &bytes)
}

/// Whether a file starts with the BTF magic (either byte order) or ELF's.
fn looks_like_btf_or_elf(p: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    let ok = std::fs::File::open(p).and_then(|mut f| f.read_exact(&mut head));
    ok.is_ok() && (head[..2] == [0x9f, 0xeb] || head[..2] == [0xeb, 0x9f] || btf::is_elf(&head))
}
