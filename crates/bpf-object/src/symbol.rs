//! ELF symbols of a BPF object.

use object::elf;

/// One symbol table entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Symbol table index.
    pub index: usize,
    /// Name (empty for section symbols; use the section's name).
    pub name: String,
    /// Section index for defined symbols, `None` for undefined (`SHN_UNDEF`)
    /// and special (`SHN_ABS`, `SHN_COMMON`) ones.
    pub section: Option<usize>,
    /// `st_shndx` as stored.
    pub shndx: u16,
    /// `st_value`: byte offset in its section for object files.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// `ELF64_ST_TYPE` (`STT_FUNC`, `STT_OBJECT`, `STT_SECTION`, `STT_NOTYPE`...).
    pub st_type: u8,
    /// `ELF64_ST_BIND` (`STB_LOCAL`, `STB_GLOBAL`, `STB_WEAK`).
    pub bind: u8,
    /// `ELF64_ST_VISIBILITY`.
    pub visibility: u8,
}

impl Symbol {
    /// `STT_FUNC`.
    pub fn is_func(&self) -> bool {
        self.st_type == elf::STT_FUNC.0
    }
    /// `STT_SECTION`.
    pub fn is_section(&self) -> bool {
        self.st_type == elf::STT_SECTION.0
    }
    /// `STB_GLOBAL` or `STB_WEAK` (visible outside the object).
    pub fn is_global(&self) -> bool {
        self.bind == elf::STB_GLOBAL.0 || self.bind == elf::STB_WEAK.0
    }
    /// `STB_WEAK`.
    pub fn is_weak(&self) -> bool {
        self.bind == elf::STB_WEAK.0
    }
    /// `SHN_UNDEF`: an extern (`.kconfig`, `.ksyms`) in a BPF object.
    pub fn is_undefined(&self) -> bool {
        self.shndx == elf::SHN_UNDEF.0
    }
}
