//! Reading a BPF ELF object: sections, symbols, programs, relocations.
//!
//! [`Object::parse`] reads everything a loader (or a CO-RE tool) needs and
//! checks it once: every section's bytes lie inside the file, every
//! relocation's symbol exists, every function symbol lies inside its
//! section. After that the data is plain owned values.
//!
//! * [`Object::programs`]: functions in executable sections other than
//!   `.text`, in libbpf's order (section index, then offset). Several may
//!   share a section; [`Program::insn_offset`] is where each starts.
//! * [`Object::subprograms`]: functions in `.text` (bpf-to-bpf call targets).
//! * [`Object::sections`]: every section, with [`Section::relocations`] for
//!   executable sections and `.maps`.
//! * [`Object::symbols`], [`Object::license`], [`Object::kern_version`],
//!   [`Object::btf`], [`Object::btf_ext`] (raw bytes, parse with `btf`).

use btf::Endian;
use object::elf::{self, FileHeader64};
use object::read::elf::{FileHeader, Rel as _, SectionHeader as _, Sym as _};
use object::Endianness;

use crate::program::{self, Program};
use crate::reloc::Relocation;
use crate::section::{self, Section, SectionKind};
use crate::symbol::Symbol;
use crate::{Error, Result};

/// A parsed BPF ELF object (owned; the input bytes can be dropped).
#[derive(Debug, Clone)]
pub struct Object {
    endian: Endian,
    sections: Vec<Section>,
    symbols: Vec<Symbol>,
    programs: Vec<Program>,
    subprograms: Vec<Program>,
    license: Option<String>,
    kern_version: Option<u32>,
}

fn elf_err(what: &str) -> impl FnOnce(object::read::Error) -> Error + '_ {
    move |e| Error::Elf {
        what: what.to_string(),
        why: e.to_string(),
    }
}

impl Object {
    /// Parses a 64-bit ELF file of machine `EM_BPF` (either byte order).
    pub fn parse(data: &[u8]) -> Result<Object> {
        let header = FileHeader64::<Endianness>::parse(data).map_err(elf_err("ELF header"))?;
        let e = header.endian().map_err(elf_err("ELF header"))?;
        let endian = match e {
            Endianness::Little => Endian::Little,
            Endianness::Big => Endian::Big,
        };
        let machine = header.e_machine(e).0;
        if machine != elf::EM_BPF.0 {
            return Err(Error::Elf {
                what: "ELF header".into(),
                why: format!("e_machine is {machine}, not EM_BPF ({})", elf::EM_BPF.0),
            });
        }
        let table = header.sections(e, data).map_err(elf_err("section table"))?;

        let mut sections = Vec::with_capacity(table.len());
        for (idx, sh) in table.enumerate() {
            let index = idx.0;
            let name = table.section_name(e, sh).map_err(elf_err("section name"))?;
            let name = String::from_utf8_lossy(name).into_owned();
            let sh_type = sh.sh_type(e).0;
            let sh_flags = sh.sh_flags(e).0;
            let size = sh.sh_size(e);
            let bytes = if sh_type == elf::SHT_NOBITS.0 {
                Vec::new()
            } else {
                sh.data(e, data)
                    .map_err(|_| Error::Section {
                        index,
                        section: name.clone(),
                        why: format!(
                            "contents [{:#x}, +{size:#x}) lie outside the {}-byte file",
                            sh.sh_offset(e),
                            data.len()
                        ),
                    })?
                    .to_vec()
            };
            let kind = section::classify(&name, sh_type, sh_flags, size);
            sections.push(Section {
                index,
                name,
                kind,
                sh_type,
                sh_flags,
                size,
                align: sh.sh_addralign(e),
                data: bytes,
                relocations: Vec::new(),
            });
        }

        let symtab = table
            .symbols(e, data, elf::SHT_SYMTAB)
            .map_err(elf_err("symbol table"))?;
        let mut symbols = Vec::with_capacity(symtab.len());
        for (idx, sym) in symtab.enumerate() {
            let index = idx.0;
            let name = symtab.symbol_name(e, sym).map_err(|err| Error::Symbol {
                index,
                name: String::new(),
                why: format!("name: {err}"),
            })?;
            let shndx = sym.st_shndx(e).0;
            let section = match shndx {
                0 => None,
                s if s >= elf::SHN_LORESERVE => None,
                s => {
                    let s = usize::from(s);
                    if s >= sections.len() {
                        return Err(Error::Symbol {
                            index,
                            name: String::from_utf8_lossy(name).into_owned(),
                            why: format!(
                                "section index {s} out of range (the file has {} sections)",
                                sections.len()
                            ),
                        });
                    }
                    Some(s)
                }
            };
            symbols.push(Symbol {
                index,
                name: String::from_utf8_lossy(name).into_owned(),
                section,
                shndx,
                value: sym.st_value(e),
                size: sym.st_size(e),
                st_type: sym.st_type().0,
                bind: sym.st_bind().0,
                visibility: sym.st_visibility().0,
            });
        }

        // Relocation sections: attach their entries to the section they patch.
        for (idx, sh) in table.enumerate() {
            let Some((rels, _link)) = sh.rel(e, data).map_err(|err| Error::Section {
                index: idx.0,
                section: sections
                    .get(idx.0)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                why: format!("relocation entries: {err}"),
            })?
            else {
                continue;
            };
            let target = sh.sh_info(e) as usize;
            let rel_name = sections
                .get(idx.0)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let Some(tsec) = sections.get(target) else {
                return Err(Error::Section {
                    index: idx.0,
                    section: rel_name,
                    why: format!("relocates section index {target}, which does not exist"),
                });
            };
            // struct_ops variables' function pointers name their programs.
            let wanted = matches!(
                tsec.kind,
                SectionKind::Program | SectionKind::Text | SectionKind::BtfMaps
            ) || tsec.name == ".struct_ops"
                || tsec.name == ".struct_ops.link";
            if !wanted {
                continue;
            }
            let tname = tsec.name.clone();
            let tsize = tsec.size;
            let mut out = Vec::with_capacity(rels.len());
            for (i, r) in rels.iter().enumerate() {
                let symbol = r.r_sym(e) as usize;
                let offset = r.r_offset(e);
                let r_type = r.r_type(e).0;
                if symbol >= symbols.len() {
                    return Err(Error::Relocation {
                        section: tname,
                        reloc: i,
                        offset,
                        symbol,
                        symbol_name: String::new(),
                        why: format!(
                            "symbol index out of range (the symbol table has {} entries)",
                            symbols.len()
                        ),
                    });
                }
                if offset >= tsize {
                    return Err(Error::Relocation {
                        section: tname,
                        reloc: i,
                        offset,
                        symbol,
                        symbol_name: symbols
                            .get(symbol)
                            .map(|s| s.name.clone())
                            .unwrap_or_default(),
                        why: format!("offset past the section's end ({tsize} bytes)"),
                    });
                }
                out.push(Relocation {
                    index: i,
                    offset,
                    symbol,
                    r_type,
                });
            }
            if let Some(t) = sections.get_mut(target) {
                t.relocations.extend(out);
            }
        }

        let (programs, subprograms) = program::collect(&sections, &symbols, endian)?;

        let license = sections
            .iter()
            .find(|s| s.kind == SectionKind::License)
            .map(|s| {
                let end = s.data.iter().position(|&b| b == 0).unwrap_or(s.data.len());
                String::from_utf8_lossy(s.data.get(..end).unwrap_or_default()).into_owned()
            });
        let kern_version = match sections.iter().find(|s| s.kind == SectionKind::Version) {
            None => None,
            Some(s) => Some(
                endian
                    .u32_at(&s.data, 0)
                    .filter(|_| s.data.len() == 4)
                    .ok_or_else(|| Error::Section {
                        index: s.index,
                        section: s.name.clone(),
                        why: format!("is {} bytes, a kernel version is 4", s.data.len()),
                    })?,
            ),
        };

        Ok(Object {
            endian,
            sections,
            symbols,
            programs,
            subprograms,
            license,
            kern_version,
        })
    }

    /// Byte order of the object (and of its instructions and BTF).
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Every ELF section, indexed by ELF section index.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section with ELF index `index`.
    pub fn section(&self, index: usize) -> Option<&Section> {
        self.sections.get(index)
    }

    /// The first section named `name`.
    pub fn section_by_name(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Every symbol, indexed by symbol table index (entry 0 is the null symbol).
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// The symbol with table index `index`.
    pub fn symbol(&self, index: usize) -> Option<&Symbol> {
        self.symbols.get(index)
    }

    /// Programs (functions outside `.text`), ordered by section index then
    /// offset, as libbpf orders them.
    pub fn programs(&self) -> &[Program] {
        &self.programs
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// Subprograms: functions in `.text`, ordered by offset.
    pub fn subprograms(&self) -> &[Program] {
        &self.subprograms
    }

    /// The `license` section's string (up to its NUL).
    pub fn license(&self) -> Option<&str> {
        self.license.as_deref()
    }

    /// The `version` section's value.
    pub fn kern_version(&self) -> Option<u32> {
        self.kern_version
    }

    /// Raw `.BTF` bytes, as stored (DATASEC sizes and VAR offsets still 0).
    pub fn btf(&self) -> Option<&[u8]> {
        self.section_by_name(".BTF").map(|s| s.data.as_slice())
    }

    /// Raw `.BTF.ext` bytes.
    pub fn btf_ext(&self) -> Option<&[u8]> {
        self.section_by_name(".BTF.ext").map(|s| s.data.as_slice())
    }
}
