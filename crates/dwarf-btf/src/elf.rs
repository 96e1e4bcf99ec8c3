//! The ELF facts the encoder needs: the debug sections (as gimli names
//! them), the symbol table and the section headers.
//!
//! Minimal version: executables (`vmlinux`) with uncompressed debug
//! sections. Relocatable objects (`.ko`) and compressed sections are not
//! handled yet.

use std::borrow::Cow;

use object::{Object, ObjectKind, ObjectSection, ObjectSymbol, SectionIndex, SymbolKind};

use crate::{Error, Result};

/// One symbol of `.symtab`.
#[derive(Debug, Clone)]
pub struct Symbol {
    /// Its name.
    pub name: String,
    /// `st_value`: an address in executables, a section offset in `ET_REL`.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// `STT_FUNC`.
    pub is_function: bool,
    /// `STT_OBJECT`.
    pub is_object: bool,
    /// The section it is defined in (`st_shndx`), if any.
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
    /// `sh_size`.
    pub size: u64,
}

/// An ELF file read for DWARF.
#[derive(Debug)]
pub struct ElfInput<'data> {
    /// Little-endian file.
    pub little_endian: bool,
    /// `ET_REL` (a kernel module or an object file).
    pub is_rel: bool,
    /// Every section header.
    pub sections: Vec<SectionInfo>,
    /// Every symbol of `.symtab`, in table order.
    pub symbols: Vec<Symbol>,
    debug: Vec<(&'static str, Cow<'data, [u8]>)>,
}

/// The debug sections read (the ones BTF encoding needs).
pub const DEBUG_SECTIONS: &[gimli::SectionId] = &[
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugStrOffsets,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugTypes,
];

impl<'data> ElfInput<'data> {
    /// Reads `data` as an ELF file.
    pub fn parse(data: &'data [u8]) -> Result<ElfInput<'data>> {
        let file = object::File::parse(data).map_err(|e| Error::Elf(e.to_string()))?;
        let is_rel = file.kind() == ObjectKind::Relocatable;
        let mut sections = Vec::new();
        let mut debug = Vec::new();
        for s in file.sections() {
            let name = s.name().map_err(|e| Error::Elf(e.to_string()))?;
            sections.push(SectionInfo {
                index: s.index().0,
                name: name.to_owned(),
                address: s.address(),
                size: s.size(),
            });
            if let Some(id) = DEBUG_SECTIONS.iter().find(|id| id.name() == name) {
                let bytes = s
                    .data()
                    .map_err(|e| Error::Elf(format!("section {name}: {e}")))?;
                debug.push((id.name(), Cow::Borrowed(bytes)));
            }
        }
        let mut symbols = Vec::new();
        for sym in file.symbols() {
            let name = sym.name().unwrap_or("").to_owned();
            symbols.push(Symbol {
                name,
                value: sym.address(),
                size: sym.size(),
                is_function: sym.kind() == SymbolKind::Text,
                is_object: sym.kind() == SymbolKind::Data,
                section: sym.section_index().map(|SectionIndex(i)| i),
            });
        }
        Ok(ElfInput {
            little_endian: file.is_little_endian(),
            is_rel,
            sections,
            symbols,
            debug,
        })
    }

    /// The bytes of a debug section (empty if absent).
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
}
