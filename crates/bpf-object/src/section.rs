//! ELF sections of a BPF object and what libbpf makes of them.

use crate::reloc::Relocation;

/// What a section is for, classified by name and type as libbpf does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SectionKind {
    /// Executable section other than `.text`: holds programs.
    Program,
    /// `.text`: holds subprograms (bpf-to-bpf call targets).
    Text,
    /// `.data` or `.data.*`: writable global data.
    Data,
    /// `.rodata` or `.rodata.*`: read-only global data (frozen after load).
    Rodata,
    /// `.bss` or `.bss.*`: zero-initialised global data.
    Bss,
    /// `.maps`: BTF-defined map definitions.
    BtfMaps,
    /// `maps`: legacy `struct bpf_map_def` definitions.
    LegacyMaps,
    /// `license`: NUL-terminated license string.
    License,
    /// `version`: 4-byte kernel version.
    Version,
    /// `.BTF`.
    Btf,
    /// `.BTF.ext`.
    BtfExt,
    /// Anything else (debug info, symbol tables, relocation sections...).
    Other,
}

impl std::fmt::Display for SectionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SectionKind::Program => "program",
            SectionKind::Text => "text",
            SectionKind::Data => "data",
            SectionKind::Rodata => "rodata",
            SectionKind::Bss => "bss",
            SectionKind::BtfMaps => "btf_maps",
            SectionKind::LegacyMaps => "legacy_maps",
            SectionKind::License => "license",
            SectionKind::Version => "version",
            SectionKind::Btf => "btf",
            SectionKind::BtfExt => "btf_ext",
            SectionKind::Other => "other",
        })
    }
}

/// One ELF section with its bytes and, for sections libbpf relocates
/// (programs, `.text`, `.maps`), its relocation entries.
#[derive(Debug, Clone)]
pub struct Section {
    /// ELF section index.
    pub index: usize,
    /// Section name.
    pub name: String,
    /// Classification.
    pub kind: SectionKind,
    /// `sh_type`.
    pub sh_type: u32,
    /// `sh_flags`.
    pub sh_flags: u64,
    /// Size in bytes (`sh_size`; for `SHT_NOBITS` there are no bytes in the file).
    pub size: u64,
    /// `sh_addralign`.
    pub align: u64,
    /// Contents (empty for `SHT_NOBITS`).
    pub data: Vec<u8>,
    /// Relocation entries applying to this section, in file order.
    pub relocations: Vec<Relocation>,
}

impl Section {
    /// True for an executable section (`SHF_EXECINSTR`).
    pub fn is_exec(&self) -> bool {
        self.sh_flags & object::elf::SHF_EXECINSTR.0 != 0
    }

    /// True for global-data sections (`.data*`, `.rodata*`, `.bss*`).
    pub fn is_global_data(&self) -> bool {
        matches!(
            self.kind,
            SectionKind::Data | SectionKind::Rodata | SectionKind::Bss
        )
    }
}

/// Classifies a section the way libbpf's ELF collection does.
pub(crate) fn classify(name: &str, sh_type: u32, sh_flags: u64, size: u64) -> SectionKind {
    let (nobits, progbits) = (object::elf::SHT_NOBITS.0, object::elf::SHT_PROGBITS.0);
    let prefixed =
        |base: &str| name == base || name.strip_prefix(base).is_some_and(|r| r.starts_with('.'));
    match name {
        "license" => return SectionKind::License,
        "version" => return SectionKind::Version,
        ".BTF" => return SectionKind::Btf,
        ".BTF.ext" => return SectionKind::BtfExt,
        ".maps" => return SectionKind::BtfMaps,
        "maps" => return SectionKind::LegacyMaps,
        _ => {}
    }
    if sh_type == progbits && size > 0 {
        if sh_flags & object::elf::SHF_EXECINSTR.0 != 0 {
            if name == ".text" {
                return SectionKind::Text;
            }
            return SectionKind::Program;
        }
        if prefixed(".data") {
            return SectionKind::Data;
        }
        if prefixed(".rodata") {
            return SectionKind::Rodata;
        }
    }
    if sh_type == nobits && prefixed(".bss") {
        return SectionKind::Bss;
    }
    SectionKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;
    const SHT_NOBITS: u32 = object::elf::SHT_NOBITS.0;
    const SHT_PROGBITS: u32 = object::elf::SHT_PROGBITS.0;

    #[test]
    fn classification() {
        let x = object::elf::SHF_EXECINSTR.0;
        assert_eq!(classify(".text", SHT_PROGBITS, x, 8), SectionKind::Text);
        assert_eq!(
            classify("kprobe/x", SHT_PROGBITS, x, 8),
            SectionKind::Program
        );
        assert_eq!(classify("kprobe/x", SHT_PROGBITS, x, 0), SectionKind::Other);
        assert_eq!(
            classify(".data.stats", SHT_PROGBITS, 3, 8),
            SectionKind::Data
        );
        assert_eq!(
            classify(".database", SHT_PROGBITS, 3, 8),
            SectionKind::Other
        );
        assert_eq!(classify(".rodata", SHT_PROGBITS, 2, 8), SectionKind::Rodata);
        assert_eq!(classify(".bss", SHT_NOBITS, 3, 8), SectionKind::Bss);
    }
}
