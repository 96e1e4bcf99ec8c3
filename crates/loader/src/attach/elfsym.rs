//! Finding probe locations in user-space ELF files: a binary named without
//! a path searched as libbpf does (`PATH` for programs, `LD_LIBRARY_PATH`
//! and the library directories for `.so` names), a function symbol's file
//! offset (what the uprobe PMU takes), and virtual address to file offset
//! through the program headers.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};

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

pub(crate) fn parse<'d>(kind: LinkKind, path: &Path, data: &'d [u8]) -> Result<object::File<'d>> {
    object::File::parse(data).map_err(|e| {
        target_err(
            kind,
            &path.display().to_string(),
            format!("not an ELF file: {e}"),
        )
    })
}

/// File offset of virtual address `vaddr`: through the `PT_LOAD` segment
/// holding it (`vaddr - p_vaddr + p_offset`), or the section holding it
/// when the file has no program headers.
pub fn vaddr_to_offset(file: &object::File<'_>, vaddr: u64) -> Option<u64> {
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

/// The file offset of function `func` in the ELF file at `path`.
///
/// Looks in `.symtab` first and then `.dynsym` (as libbpf): a defined
/// `STT_FUNC` or `STT_GNU_IFUNC` symbol named `func` (or `func@VERSION`). A
/// global definition wins over a weak one; two different addresses of the
/// same binding are ambiguous.
pub fn func_offset(path: &Path, func: &str) -> Result<u64> {
    let kind = LinkKind::Uprobe;
    let target = format!("{}:{func}", path.display());
    let bytes = open(path)?;
    let file = parse(kind, path, &bytes)?;
    for table in [false, true] {
        let syms: Vec<_> = if table {
            file.dynamic_symbols().collect()
        } else {
            file.symbols().collect()
        };
        // (address, weak)
        let mut found: Option<(u64, bool)> = None;
        for s in syms {
            if s.kind() != SymbolKind::Text || s.is_undefined() {
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
            let (addr, weak) = (s.address(), s.is_weak());
            found = match found {
                None => Some((addr, weak)),
                Some((a, _)) if a == addr => Some((a, weak && found.is_some_and(|f| f.1))),
                Some((_, true)) if !weak => Some((addr, weak)),
                Some((a, false)) if weak => Some((a, false)),
                Some((a, _)) => {
                    return Err(target_err(
                        kind,
                        &target,
                        format!("ambiguous: defined at {a:#x} and at {addr:#x}"),
                    ))
                }
            };
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
