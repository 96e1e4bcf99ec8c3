//! The ELF facts the encoder needs: the debug sections (as gimli names
//! them), decompressed and, in relocatable files, relocated; the symbol
//! table; the section headers.
//!
//! # What is read
//!
//! Only what these need, whatever the file's size: the ELF header, the
//! section header table and its name table, `.symtab` with its string
//! table (and `.symtab_shndx` if present), the debug sections of
//! [`DEBUG_SECTIONS`] and, in `ET_REL` files, the relocation sections that
//! target them. [`ElfInput::open`] reads those ranges from the file one by
//! one: of Debian 6.1's 590 MB `vmlinux`, 189 MB of debug sections (164 MB
//! of `.debug_info`) and the 5 MB of `.symtab`/`.strtab`; it opens in
//! 0.3 s (0.8 s from a cold page cache) at 195 MiB peak RSS.
//! [`ElfInput::parse`] borrows the ranges from a slice and copies only the
//! sections it has to change.
//!
//! # Compressed sections
//!
//! `SHF_COMPRESSED` sections (zlib or zstd, `Elf32_Chdr`/`Elf64_Chdr`) and
//! legacy GNU `.zdebug_*` sections (zlib) are decompressed; a claimed size
//! over 4 GiB (16 GiB for all of a file's sections), larger than the
//! stream could hold, or that the stream does not produce exactly, is an
//! error (module `compress`).
//!
//! # Relocation
//!
//! In `ET_REL` files (kernel modules, `gcc -c` objects) the `SHT_RELA` and
//! `SHT_REL` sections whose `sh_info` is a debug section read here are
//! applied to its (decompressed) bytes as libdw and llvm-dwarfdump do:
//! `S + A` (PC-relative: `S + A - P`; RISC-V and LoongArch `ADD`/`SUB`
//! pairs: in place ± `S + A`), `S` the symbol's `st_value`, written in the
//! file's byte order with the relocation's width. Machines: x86-64, i386,
//! AArch64, Arm, RISC-V, LoongArch, s390x, PowerPC (32 and 64); the types
//! known are those that appear in debug sections (module `reloc`).
//! Executables and shared objects (`vmlinux`) are not relocated, even if
//! they carry `.rela.debug_*` (`--emit-relocs`): their linker applied them.
//!
//! # Limits
//!
//! - A debug section that appears more than once (`.debug_types` in COMDAT
//!   groups with `-fdebug-types-section`) is concatenated in section order,
//!   as a linker without COMDAT folding would; duplicate groups are not
//!   removed.
//! - MIPS relocations (three types per entry) and other machines than the
//!   ones above are refused when a debug section has relocations.
//! - Split DWARF (`.dwo`, `.debug_*.dwo`) and `.gnu_debugaltlink`
//!   (`DW_FORM_GNU_strp_alt`) are not read; nor are whole-file compressed
//!   modules (`.ko.xz`, `.ko.zst`): decompress them first.
//! - The relocations of sections not read here (`.debug_loclists`,
//!   `.debug_rnglists`, `.debug_frame`) are not applied, so their types
//!   (RISC-V `SET_ULEB128` ...) do not matter.
//! - TLS offsets in location expressions (`DTPOFF`, `DTPREL`, `TLS_LDO`)
//!   get `S + A`, the variable's offset in the object's TLS section.
//!
//! # Example
//!
//! ```no_run
//! use dwarf_btf::elf::ElfInput;
//! let elf = ElfInput::open(std::path::Path::new("tcp_bbr.ko"))?;
//! let info = elf.debug_section(gimli::SectionId::DebugInfo);
//! println!("{} bytes of .debug_info, {} symbols", info.len(), elf.symbols.len());
//! # Ok::<(), dwarf_btf::Error>(())
//! ```

mod compress;
mod reloc;
mod source;
mod table;

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use object::elf;

use crate::{Error, Result};
use source::{FileSource, SliceSource, Source};
use table::Tables;

/// One symbol of `.symtab`.
#[derive(Debug, Clone)]
pub struct Symbol {
    /// Its name.
    pub name: String,
    /// `st_value`: an address in executables, a section offset in `ET_REL`.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// `STT_FUNC` (exactly: not `STT_GNU_IFUNC`).
    pub is_function: bool,
    /// `STT_OBJECT` (exactly: not `STT_COMMON` nor `STT_TLS`).
    pub is_object: bool,
    /// The section it is defined in (`st_shndx`, or its `.symtab_shndx`
    /// entry), if it is a section index (not undefined, absolute, common).
    pub section: Option<usize>,
}

/// One section header.
#[derive(Debug, Clone)]
pub struct SectionInfo {
    /// Its index in the section header table.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// `sh_addr`.
    pub address: u64,
    /// `sh_size` (as stored: compressed size for a compressed section).
    pub size: u64,
}

/// An ELF file read for DWARF.
pub struct ElfInput<'data> {
    /// Little-endian file.
    pub little_endian: bool,
    /// `ET_REL` (a kernel module or an object file).
    pub is_rel: bool,
    /// `e_machine` (62 for x86-64: `object::elf::EM_X86_64`).
    pub machine: u16,
    /// Every section header but the null one (index 0), in table order.
    pub sections: Vec<SectionInfo>,
    /// Every symbol of `.symtab` but the null one, in table order
    /// (`symbols[i]` is symbol index `i + 1`).
    pub symbols: Vec<Symbol>,
    debug: Vec<(&'static str, Cow<'data, [u8]>)>,
    /// `.debug_info` left in the file (see [`OpenOptions::lazy_debug_info`]).
    lazy_info: Option<LazyInfo>,
}

/// A section read on demand: its file and where it lies.
struct LazyInfo {
    file: std::fs::File,
    offset: u64,
    len: u64,
}

/// How [`ElfInput::open_with`] reads a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Give a relocatable file's allocated sections their own addresses
    /// (see [`ElfInput::parse_laid_out`]).
    pub lay_out: bool,
    /// Leave `.debug_info` in the file when it is stored as is (neither
    /// compressed nor relocated): [`ElfInput::debug_info_at`] reads the
    /// parts asked for, and [`ElfInput::debug_section`] gives nothing for
    /// it. `.debug_line`, which BTF encoding does not read, is skipped.
    /// A vmlinux then costs its 160 MB of `.debug_info` in no buffer.
    pub lazy_debug_info: bool,
}

impl fmt::Debug for ElfInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let debug: Vec<(&str, usize)> = self.debug.iter().map(|(n, b)| (*n, b.len())).collect();
        f.debug_struct("ElfInput")
            .field("little_endian", &self.little_endian)
            .field("is_rel", &self.is_rel)
            .field("machine", &self.machine)
            .field("sections", &self.sections.len())
            .field("symbols", &self.symbols.len())
            .field("debug", &debug)
            .finish()
    }
}

/// The debug sections read (the ones BTF encoding needs).
pub const DEBUG_SECTIONS: &[gimli::SectionId] = &[
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugAbbrev,
    // gimli's `Dwarf::unit` parses the unit's line program header
    // (`DW_AT_stmt_list`) and fails without this section.
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugStrOffsets,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugTypes,
];

impl<'data> ElfInput<'data> {
    /// Reads `data` as an ELF file. Sections that need no change
    /// (uncompressed, not relocated) are borrowed from `data`.
    pub fn parse(data: &'data [u8]) -> Result<ElfInput<'data>> {
        build(&SliceSource(data), OpenOptions::default()).map_err(Error::Elf)
    }

    /// [`ElfInput::parse`], but a relocatable file's allocated sections
    /// each get their own address range first (as libdwfl, and so pahole,
    /// sees a module): relocated DWARF addresses of different sections
    /// never collide, and `sections`/`symbols` carry those addresses.
    /// Executables are read as by `parse`.
    pub fn parse_laid_out(data: &'data [u8]) -> Result<ElfInput<'data>> {
        let opts = OpenOptions {
            lay_out: true,
            ..OpenOptions::default()
        };
        build(&SliceSource(data), opts).map_err(Error::Elf)
    }

    /// The bytes of a debug section (empty if absent): decompressed, and
    /// relocated in an `ET_REL` file.
    pub fn debug_section(&self, id: gimli::SectionId) -> &[u8] {
        self.debug
            .iter()
            .find(|(n, _)| *n == id.name())
            .map(|(_, b)| &b[..])
            .unwrap_or(&[])
    }

    /// The section header named `name`.
    pub fn section_by_name(&self, name: &str) -> Option<&SectionInfo> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The length of `.debug_info`, read or left in the file.
    pub fn debug_info_len(&self) -> u64 {
        match &self.lazy_info {
            Some(l) => l.len,
            None => self.debug_section(gimli::SectionId::DebugInfo).len() as u64,
        }
    }

    /// `len` bytes of `.debug_info` from `offset`: borrowed when the
    /// section was read, read from the file when it was left there.
    pub fn debug_info_at(&self, offset: u64, len: u64) -> Result<Cow<'_, [u8]>> {
        let bad = || {
            Error::Elf(format!(
                ".debug_info: bytes {offset:#x}+{len:#x} are past its end ({:#x} bytes)",
                self.debug_info_len()
            ))
        };
        let end = offset.checked_add(len).ok_or_else(bad)?;
        if end > self.debug_info_len() {
            return Err(bad());
        }
        match &self.lazy_info {
            None => {
                let b = self.debug_section(gimli::SectionId::DebugInfo);
                Ok(Cow::Borrowed(&b[offset as usize..end as usize]))
            }
            Some(l) => {
                use std::os::unix::fs::FileExt;
                let n = usize::try_from(len).map_err(|_| bad())?;
                let mut buf = Vec::new();
                buf.try_reserve_exact(n)
                    .map_err(|e| Error::Elf(format!(".debug_info: {n:#x} bytes: {e}")))?;
                buf.resize(n, 0);
                l.file
                    .read_exact_at(&mut buf, l.offset + offset)
                    .map_err(|e| {
                        Error::Elf(format!(
                            ".debug_info: reading bytes {offset:#x}+{len:#x}: {e}"
                        ))
                    })?;
                Ok(Cow::Owned(buf))
            }
        }
    }
}

impl ElfInput<'static> {
    /// Opens the ELF file at `path`, reading only the ranges needed (see
    /// the module documentation), each into its own buffer.
    pub fn open(path: &Path) -> Result<ElfInput<'static>> {
        let at = |e: String| Error::Elf(format!("{}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| at(e.to_string()))?;
        let src = FileSource::new(file).map_err(|e| at(e.to_string()))?;
        build(&src, OpenOptions::default()).map_err(at)
    }

    /// [`ElfInput::open`] with [`ElfInput::parse_laid_out`]'s addresses.
    pub fn open_laid_out(path: &Path) -> Result<ElfInput<'static>> {
        let opts = OpenOptions {
            lay_out: true,
            ..OpenOptions::default()
        };
        Self::open_with(path, opts)
    }

    /// [`ElfInput::open`] with options.
    pub fn open_with(path: &Path, opts: OpenOptions) -> Result<ElfInput<'static>> {
        let at = |e: String| Error::Elf(format!("{}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| at(e.to_string()))?;
        let src = FileSource::new(file).map_err(|e| at(e.to_string()))?;
        build(&src, opts).map_err(at)
    }
}

/// The debug section `name` stands for, and whether it is a legacy
/// `.zdebug_*` one.
fn debug_id(name: &str) -> Option<(gimli::SectionId, bool)> {
    let (plain, zdebug) = match name.strip_prefix(".zdebug_") {
        Some(rest) => (format!(".debug_{rest}"), true),
        None => (name.to_owned(), false),
    };
    DEBUG_SECTIONS
        .iter()
        .find(|id| id.name() == plain)
        .map(|&id| (id, zdebug))
}

/// Every compressed section together may not claim more than this.
const TOTAL_DECOMPRESSED: u64 = 16 << 30;

fn build<'data>(
    src: &dyn Source<'data>,
    opts: OpenOptions,
) -> std::result::Result<ElfInput<'data>, String> {
    let mut t = table::read(src)?;
    let is_rel = t.e_type == elf::ET_REL.0;
    if is_rel && opts.lay_out {
        t.lay_out();
    }
    // Relocation sections by the section they apply to, in table order.
    let mut relocs: Vec<(usize, usize)> = Vec::new();
    if is_rel {
        for (ri, rs) in t.shdrs.iter().enumerate() {
            if rs.sh_type == elf::SHT_RELA.0 || rs.sh_type == elf::SHT_REL.0 {
                relocs.push((rs.info as usize, ri));
            }
        }
        relocs.sort_unstable();
    }
    let mut reader = Reader {
        src,
        t: &t,
        budget: TOTAL_DECOMPRESSED,
    };
    let mut debug: Vec<(&'static str, Cow<'data, [u8]>)> = Vec::new();
    let mut lazy_info = None;
    let infos = t
        .shdrs
        .iter()
        .filter(|s| debug_id(&s.name).is_some_and(|(id, _)| id == gimli::SectionId::DebugInfo))
        .count();
    for (index, sh) in t.shdrs.iter().enumerate().skip(1) {
        let Some((id, zdebug)) = debug_id(&sh.name) else {
            continue;
        };
        let first = relocs.partition_point(|&(target, _)| target < index);
        let relocated = relocs.get(first).is_some_and(|&(t, _)| t == index);
        if opts.lazy_debug_info {
            if id == gimli::SectionId::DebugLine {
                continue;
            }
            let plain = !zdebug && sh.flags & elf::SHF_COMPRESSED.0 == 0 && !relocated;
            if id == gimli::SectionId::DebugInfo && plain && infos == 1 {
                if let Some(f) = src.file() {
                    if sh.offset.checked_add(sh.size).is_none_or(|e| e > src.len()) {
                        return Err(format!(
                            "{}: bytes {:#x}+{:#x} are past the end of the file",
                            sh.label(index),
                            sh.offset,
                            sh.size
                        ));
                    }
                    let file = f
                        .try_clone()
                        .map_err(|e| format!("{}: {e}", sh.label(index)))?;
                    lazy_info = Some(LazyInfo {
                        file,
                        offset: sh.offset,
                        len: sh.size,
                    });
                    continue;
                }
            }
        }
        let mut bytes = reader.contents(index, zdebug)?;
        for &(_, ri) in relocs[first..].iter().take_while(|&&(t, _)| t == index) {
            reader.relocate(ri, &mut bytes)?;
        }
        match debug.iter_mut().find(|(n, _)| *n == id.name()) {
            Some((_, first)) => first.to_mut().extend_from_slice(&bytes),
            None => debug.push((id.name(), bytes)),
        }
    }
    Ok(ElfInput {
        little_endian: t.little_endian,
        is_rel,
        machine: t.machine,
        sections: t.section_infos(),
        symbols: t.symbols,
        debug,
        lazy_info,
    })
}

/// Reads sections of one file, with what is left of the decompression
/// budget.
struct Reader<'a, 'data> {
    src: &'a dyn Source<'data>,
    t: &'a Tables,
    budget: u64,
}

impl<'data> Reader<'_, 'data> {
    /// The contents of section `index`, decompressed.
    fn contents(
        &mut self,
        index: usize,
        zdebug: bool,
    ) -> std::result::Result<Cow<'data, [u8]>, String> {
        let sh = &self.t.shdrs[index];
        let raw = sh.raw(index, self.src)?;
        let compressed = sh.flags & elf::SHF_COMPRESSED.0 != 0;
        if !compressed && !zdebug {
            return Ok(raw);
        }
        let what = sh.label(index);
        let limit = self.budget.min(compress::MAX_SIZE);
        let out = if compressed {
            compress::decompress_chdr(&raw, self.t.class64, self.t.little_endian, limit, &what)?
        } else {
            compress::decompress_zdebug(&raw, limit, &what)?
        };
        self.budget -= out.len() as u64;
        Ok(Cow::Owned(out))
    }

    /// Applies relocation section `ri` to `bytes`.
    fn relocate(
        &mut self,
        ri: usize,
        bytes: &mut Cow<'data, [u8]>,
    ) -> std::result::Result<(), String> {
        let rs = &self.t.shdrs[ri];
        let what = rs.label(ri);
        if self.t.symtab != Some(rs.link as usize) {
            return Err(format!(
                "{what}: its symbol table is section {}, not .symtab",
                rs.link
            ));
        }
        let cx = reloc::Context {
            machine: self.t.machine,
            class64: self.t.class64,
            little: self.t.little_endian,
            values: &self.t.values,
        };
        let rela = rs.sh_type == elf::SHT_RELA.0;
        let table = self.contents(ri, false)?;
        reloc::apply(bytes.to_mut(), &table, rela, rs.entsize, &cx, &what)
    }
}
