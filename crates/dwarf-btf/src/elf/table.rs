//! The ELF header, the section header table with its names, and `.symtab`,
//! decoded into plain structs (endianness applied at each field read by
//! `object`'s on-disk types, so alignment never matters). Everything after
//! this module works on these structs and is independent of the ELF class.

use std::mem::size_of;

use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::Endianness;

use super::source::Source;
use super::{SectionInfo, Symbol};

/// One section header, class-independent.
#[derive(Debug, Clone)]
pub(super) struct Shdr {
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub entsize: u64,
}

impl Shdr {
    /// `name (index N)`, for error messages.
    pub(super) fn label(&self, index: usize) -> String {
        format!("section {} (index {index})", self.name)
    }

    /// The section's bytes as stored in the file (empty for `SHT_NOBITS`).
    pub(super) fn raw<'data>(
        &self,
        index: usize,
        src: &dyn Source<'data>,
    ) -> Result<std::borrow::Cow<'data, [u8]>, String> {
        if self.sh_type == elf::SHT_NOBITS.0 {
            return Ok(std::borrow::Cow::Borrowed(&[]));
        }
        src.bytes(self.offset, self.size, &self.label(index))
    }
}

/// What the header and the tables say.
#[derive(Debug)]
pub(super) struct Tables {
    pub class64: bool,
    pub little_endian: bool,
    pub e_type: u16,
    pub machine: u16,
    /// Every section header, index 0 (the null one) included.
    pub shdrs: Vec<Shdr>,
    /// The index of `.symtab` (`SHT_SYMTAB`), if there is one.
    pub symtab: Option<usize>,
    /// `st_value` of every symbol of `.symtab`, by symbol index (0 included).
    pub values: Vec<u64>,
    /// Every symbol but the null one, in table order.
    pub symbols: Vec<Symbol>,
}

impl Tables {
    /// The public view of the section headers (the null section left out).
    pub(super) fn section_infos(&self) -> Vec<SectionInfo> {
        self.shdrs
            .iter()
            .enumerate()
            .skip(1)
            .map(|(index, s)| SectionInfo {
                index,
                name: s.name.clone(),
                address: s.addr,
                size: s.size,
            })
            .collect()
    }
}

impl Tables {
    /// Gives every allocated section of a relocatable file its own
    /// address range, in section order (as libdwfl reports an `ET_REL`
    /// file, which is how pahole reads modules), and moves the symbols
    /// defined in them along: relocated addresses then tell sections
    /// apart (a `.bss` variable at offset 8 is not the per-CPU variable
    /// at offset 8).
    pub(super) fn lay_out(&mut self) {
        let mut bases = vec![0u64; self.shdrs.len()];
        let mut cursor = 0u64;
        for (i, s) in self.shdrs.iter_mut().enumerate().skip(1) {
            if s.flags & elf::SHF_ALLOC.0 != 0 {
                bases[i] = cursor;
                s.addr = cursor;
                cursor = cursor.saturating_add(s.size.max(1)).saturating_add(15) & !15;
            }
        }
        for (i, sym) in self.symbols.iter_mut().enumerate() {
            let base = sym.section.and_then(|x| bases.get(x)).copied().unwrap_or(0);
            sym.value = sym.value.wrapping_add(base);
            if let Some(v) = self.values.get_mut(i + 1) {
                *v = sym.value;
            }
        }
    }
}

/// Reads the header, the section headers and `.symtab`.
pub(super) fn read<'data>(src: &dyn Source<'data>) -> Result<Tables, String> {
    let ident = src.bytes(0, 16, "ELF identification")?;
    if ident.get(..4) != Some(&elf::ELFMAG[..]) {
        return Err("not an ELF file (bad magic)".into());
    }
    // e_ident[EI_CLASS] and e_ident[EI_DATA].
    let (class, data) = (elf::FileClass(ident[4]), elf::DataEncoding(ident[5]));
    let little = match data {
        elf::ELFDATA2LSB => true,
        elf::ELFDATA2MSB => false,
        other => return Err(format!("unknown ELF data encoding {}", other.0)),
    };
    match class {
        elf::ELFCLASS64 => read_class::<elf::FileHeader64<Endianness>>(src, little),
        elf::ELFCLASS32 => read_class::<elf::FileHeader32<Endianness>>(src, little),
        other => Err(format!("unknown ELF class {}", other.0)),
    }
}

fn read_class<'data, Elf: FileHeader<Endian = Endianness>>(
    src: &dyn Source<'data>,
    little: bool,
) -> Result<Tables, String> {
    let hbytes = src.bytes(0, size_of::<Elf>() as u64, "ELF header")?;
    let header = Elf::parse(&hbytes[..]).map_err(|e| format!("ELF header: {e}"))?;
    let endian = if little {
        Endianness::Little
    } else {
        Endianness::Big
    };
    let shdrs = section_headers(src, header, endian)?;
    let (symtab, values, symbols) = match shdrs.iter().position(|s| s.sh_type == elf::SHT_SYMTAB.0)
    {
        Some(i) => {
            let (values, symbols) = symbols::<Elf>(src, &shdrs, i, endian)?;
            (Some(i), values, symbols)
        }
        None => (None, Vec::new(), Vec::new()),
    };
    Ok(Tables {
        class64: header.is_class_64(),
        little_endian: little,
        e_type: header.e_type(endian).0,
        machine: header.e_machine(endian).0,
        shdrs,
        symtab,
        values,
        symbols,
    })
}

/// The section header table, with names from the section name table.
/// Extended numbering (`e_shnum` 0, `e_shstrndx` `SHN_XINDEX`) is read from
/// section 0 as the ELF specification says.
fn section_headers<'data, Elf: FileHeader<Endian = Endianness>>(
    src: &dyn Source<'data>,
    header: &Elf,
    endian: Endianness,
) -> Result<Vec<Shdr>, String> {
    let shoff: u64 = header.e_shoff(endian).into();
    if shoff == 0 {
        return Err("no section header table (e_shoff is 0)".into());
    }
    let entsize = u64::from(header.e_shentsize(endian));
    if entsize != size_of::<Elf::SectionHeader>() as u64 {
        return Err(format!(
            "e_shentsize is {entsize}, not {}",
            size_of::<Elf::SectionHeader>()
        ));
    }
    let first = src.bytes(shoff, entsize, "section header 0")?;
    let (s0, _) = object::pod::from_bytes::<Elf::SectionHeader>(&first)
        .map_err(|()| "section header 0: truncated".to_string())?;
    let mut count = u64::from(header.e_shnum(endian));
    if count == 0 {
        count = s0.sh_size(endian).into();
    }
    let shstrndx = match header.e_shstrndx(endian) {
        elf::SHN_XINDEX => s0.sh_link(endian),
        other => u32::from(other.0),
    };
    // Bounded by the file: each header is read from it.
    let table_size = count
        .checked_mul(entsize)
        .ok_or_else(|| format!("{count} section headers"))?;
    let bytes = src.bytes(shoff, table_size, "section header table")?;
    let n = usize::try_from(count).map_err(|_| format!("{count} section headers"))?;
    let (raw, _) = object::pod::slice_from_bytes::<Elf::SectionHeader>(&bytes, n)
        .map_err(|()| "section header table: truncated".to_string())?;
    let mut shdrs: Vec<Shdr> = raw
        .iter()
        .map(|s| Shdr {
            name: String::new(),
            sh_type: s.sh_type(endian).0,
            flags: s.sh_flags(endian).0,
            addr: s.sh_addr(endian).into(),
            offset: s.sh_offset(endian).into(),
            size: s.sh_size(endian).into(),
            link: s.sh_link(endian),
            info: s.sh_info(endian),
            entsize: s.sh_entsize(endian).into(),
        })
        .collect();
    let names_at: Vec<u32> = raw.iter().map(|s| s.sh_name(endian)).collect();
    drop(bytes);
    let strtab_hdr = usize::try_from(shstrndx)
        .ok()
        .filter(|&i| i != 0)
        .and_then(|i| shdrs.get(i).map(|s| (i, s)));
    let Some((strndx, strhdr)) = strtab_hdr else {
        return Err(format!(
            "section name table index {shstrndx} is not one of the {count} sections"
        ));
    };
    let names = strhdr.raw(strndx, src)?;
    for (i, (s, at)) in shdrs.iter_mut().zip(names_at).enumerate() {
        if i == 0 && at == 0 {
            continue;
        }
        s.name = string_at(&names, at)
            .ok_or_else(|| format!("section {i}: name offset {at:#x} outside the name table"))?;
    }
    Ok(shdrs)
}

/// The NUL-terminated string at `at` (invalid UTF-8 replaced).
fn string_at(table: &[u8], at: u32) -> Option<String> {
    let tail = table.get(usize::try_from(at).ok()?..)?;
    let end = tail.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&tail[..end]).into_owned())
}

/// `.symtab` (section `index`): every `st_value` by symbol index, and the
/// public symbols (index 0 left out). `STT_FUNC` and `STT_OBJECT` are taken
/// from `st_info` exactly (`STT_GNU_IFUNC` and `STT_COMMON` are neither).
fn symbols<'data, Elf: FileHeader<Endian = Endianness>>(
    src: &dyn Source<'data>,
    shdrs: &[Shdr],
    index: usize,
    endian: Endianness,
) -> Result<(Vec<u64>, Vec<Symbol>), String> {
    let hdr = &shdrs[index];
    let label = hdr.label(index);
    let entsize = size_of::<Elf::Sym>() as u64;
    if hdr.entsize != entsize {
        return Err(format!(
            "{label}: sh_entsize is {}, not {entsize}",
            hdr.entsize
        ));
    }
    let bytes = hdr.raw(index, src)?;
    let count = hdr.size / entsize;
    let n = usize::try_from(count).map_err(|_| format!("{label}: {count} symbols"))?;
    let (syms, _) = object::pod::slice_from_bytes::<Elf::Sym>(&bytes, n)
        .map_err(|()| format!("{label}: truncated"))?;
    let strndx = usize::try_from(hdr.link).unwrap_or(usize::MAX);
    let strhdr = shdrs
        .get(strndx)
        .filter(|_| strndx != 0)
        .ok_or_else(|| format!("{label}: string table index {} out of range", hdr.link))?;
    let strings = strhdr.raw(strndx, src)?;
    // Extended section indexes (SHN_XINDEX), in SHT_SYMTAB_SHNDX.
    let shndx_bytes = match shdrs
        .iter()
        .enumerate()
        .find(|(_, s)| s.sh_type == elf::SHT_SYMTAB_SHNDX.0 && s.link as usize == index)
    {
        Some((i, s)) => Some(s.raw(i, src)?),
        None => None,
    };
    let xindex = |sym_index: usize| -> Option<u32> {
        let b = shndx_bytes.as_ref()?;
        let at = sym_index.checked_mul(4)?;
        let w: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if endian == Endianness::Little {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    let mut values = Vec::with_capacity(n);
    let mut out = Vec::with_capacity(n.saturating_sub(1));
    for (i, sym) in syms.iter().enumerate() {
        let value: u64 = sym.st_value(endian).into();
        values.push(value);
        if i == 0 {
            continue;
        }
        let at = sym.st_name(endian);
        let name = string_at(&strings, at).ok_or_else(|| {
            format!("{label}: symbol {i}: name offset {at:#x} outside its string table")
        })?;
        let shndx = sym.st_shndx(endian);
        let section = if shndx == elf::SHN_XINDEX {
            let x = xindex(i).ok_or_else(|| {
                format!("{label}: symbol {i}: SHN_XINDEX without an extended index")
            })?;
            (x != 0).then_some(x as usize)
        } else {
            shndx.index().map(usize::from)
        };
        let st_type = sym.st_type();
        out.push(Symbol {
            name,
            value,
            size: sym.st_size(endian).into(),
            is_function: st_type == elf::STT_FUNC,
            is_object: st_type == elf::STT_OBJECT,
            section,
        });
    }
    Ok((values, out))
}
