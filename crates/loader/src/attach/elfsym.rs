//! Finding probe locations in user-space ELF files: a binary named without
//! a path searched as libbpf does (`PATH` for programs, `LD_LIBRARY_PATH`
//! and the library directories for `.so` names), a function symbol's file
//! offset (what the uprobe PMU takes), and virtual address to file offset
//! through the program headers.

use std::path::{Path, PathBuf};

use object::elf::{STB_WEAK, STT_FUNC};
use object::read::elf::{ElfFile64, Sym};
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};

use super::error::{AttachError, Result};
use super::LinkKind;
use crate::sys::FileBytes;

/// Library directories searched after `LD_LIBRARY_PATH` (libbpf's list,
/// with the multiarch directories Debian uses).
const LIB_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib64",
    "/lib",
];

fn target_err(kind: LinkKind, target: &str, why: impl Into<String>) -> AttachError {
    AttachError::Target {
        kind,
        target: target.to_string(),
        why: why.into(),
    }
}

/// The file a uprobe/usdt binary name refers to: a name with a `/` is a
/// path; a library name (`libc.so.6`, containing `.so`) is searched in
/// `LD_LIBRARY_PATH` and the library directories; any other name in `PATH`.
pub fn resolve_binary(kind: LinkKind, name: &str) -> Result<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        if !p.exists() {
            return Err(target_err(kind, name, "no such file"));
        }
        return Ok(p);
    }
    let dirs: Vec<PathBuf> = if name.contains(".so") {
        std::env::var_os("LD_LIBRARY_PATH")
            .map(|v| std::env::split_paths(&v).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .chain(LIB_DIRS.iter().map(PathBuf::from))
            .collect()
    } else {
        std::env::var_os("PATH")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default()
    };
    dirs.iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            target_err(
                kind,
                name,
                if name.contains(".so") {
                    "library not found in LD_LIBRARY_PATH or the library directories"
                } else {
                    "not found in PATH"
                },
            )
        })
}

/// Maps `path` and parses it as ELF.
pub(crate) fn open(path: &Path) -> Result<FileBytes> {
    FileBytes::open(path).map_err(|source| AttachError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Parses a 64-bit ELF file (uprobes and USDT notes are read from x86_64
/// binaries).
pub(crate) fn parse<'d>(kind: LinkKind, path: &Path, data: &'d [u8]) -> Result<ElfFile64<'d>> {
    ElfFile64::parse(data).map_err(|e| {
        target_err(
            kind,
            &path.display().to_string(),
            format!("not a 64-bit ELF file: {e}"),
        )
    })
}

/// File offset of virtual address `vaddr`: through the `PT_LOAD` segment
/// holding it (`vaddr - p_vaddr + p_offset`), or the section holding it
/// when the file has no program headers.
pub fn vaddr_to_offset(file: &ElfFile64<'_>, vaddr: u64) -> Option<u64> {
    for seg in file.segments() {
        let (off, filesz) = seg.file_range();
        let start = seg.address();
        if vaddr >= start && vaddr - start < filesz {
            return Some(vaddr - start + off);
        }
    }
    for sec in file.sections() {
        let start = sec.address();
        if let Some((off, size)) = sec.file_range() {
            if start != 0 && vaddr >= start && vaddr - start < size {
                return Some(vaddr - start + off);
            }
        }
    }
    None
}

/// The file offset of function `func` in the ELF file at `path`, as
/// libbpf 1.1's `elf_find_func_offset` finds it.
///
/// `.symtab` is searched first, `.dynsym` only when `.symtab` has no match.
/// A match is a defined `STT_FUNC` symbol named `func` or `func@VERSION`
/// (`STT_GNU_IFUNC` resolvers are not functions to probe; libbpf skips
/// them too). Two non-weak matches are ambiguous (libc's versioned
/// `pthread_create`s), a weak one gives way to a non-weak one.
pub fn func_offset(path: &Path, func: &str) -> Result<u64> {
    let kind = LinkKind::Uprobe;
    let target = format!("{}:{func}", path.display());
    let bytes = open(path)?;
    let file = parse(kind, path, &bytes)?;
    let endian = file.endian();
    for dynamic in [false, true] {
        let syms: Vec<_> = if dynamic {
            file.dynamic_symbols().collect()
        } else {
            file.symbols().collect()
        };
        // (address, weak)
        let mut found: Option<(u64, bool)> = None;
        for s in syms {
            let raw = s.elf_symbol();
            if raw.st_type() != STT_FUNC || s.is_undefined() {
                continue;
            }
            let Ok(name) = s.name() else { continue };
            let matches = name == func
                || name
                    .strip_prefix(func)
                    .is_some_and(|rest| rest.starts_with('@'));
            if !matches {
                continue;
            }
            let weak = raw.st_bind() == STB_WEAK;
            let addr = raw.st_value(endian);
            match found {
                None => found = Some((addr, weak)),
                Some((a, false)) if !weak => {
                    return Err(target_err(
                        kind,
                        &target,
                        format!("ambiguous: two non-weak definitions, at {a:#x} and at {addr:#x}"),
                    ))
                }
                Some((_, true)) if !weak => found = Some((addr, false)),
                Some(_) => {}
            }
        }
        if let Some((addr, _)) = found {
            return vaddr_to_offset(&file, addr).ok_or_else(|| {
                target_err(
                    kind,
                    &target,
                    format!("symbol address {addr:#x} is in no loadable segment"),
                )
            });
        }
    }
    Err(target_err(
        kind,
        &target,
        "no function symbol of that name in .symtab or .dynsym",
    ))
}

/// File offsets of every defined `STT_FUNC` symbol of `.symtab` and
/// `.dynsym` whose name matches glob `pattern` (`*`, `?`), as libbpf's
/// uprobe.multi pattern resolution; sorted by name, one entry per distinct
/// offset.
pub fn func_offsets_matching(path: &Path, pattern: &str) -> Result<Vec<(String, u64)>> {
    let kind = LinkKind::Uprobe;
    let bytes = open(path)?;
    let file = parse(kind, path, &bytes)?;
    let endian = file.endian();
    let mut out: Vec<(String, u64)> = Vec::new();
    for s in file.symbols().chain(file.dynamic_symbols()) {
        let raw = s.elf_symbol();
        if raw.st_type() != STT_FUNC || s.is_undefined() {
            continue;
        }
        let Ok(name) = s.name() else { continue };
        let bare = name.split('@').next().unwrap_or(name);
        if !super::kprobe::glob(pattern.as_bytes(), bare.as_bytes()) {
            continue;
        }
        if let Some(off) = vaddr_to_offset(&file, raw.st_value(endian)) {
            out.push((bare.to_string(), off));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    out.dedup_by(|a, b| a.1 == b.1);
    out.sort();
    if out.is_empty() {
        return Err(target_err(
            kind,
            &format!("{}:{pattern}", path.display()),
            "no function symbol matches",
        ));
    }
    Ok(out)
}
