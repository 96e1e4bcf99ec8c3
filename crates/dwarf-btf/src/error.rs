//! Errors: each names what was being read (file, section, DIE offset, type).

/// What went wrong encoding BTF from DWARF.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The ELF file is damaged or not what is needed.
    #[error("ELF: {0}")]
    Elf(String),
    /// A debug section is damaged (name, offset, what).
    #[error("DWARF {section} at offset {offset:#x}: {what}")]
    Dwarf {
        /// The section, `.debug_info` mostly.
        section: &'static str,
        /// The offset of the unit or DIE.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The BTF produced or given as base is refused by the btf crate.
    #[error("BTF: {0}")]
    Btf(#[from] btf::Error),
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;
