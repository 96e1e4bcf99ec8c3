//! The one error type of the object reader.

/// What can be wrong with a BPF ELF object. Variants name the section,
/// symbol, relocation and byte offset involved, so a user can find the bad
/// byte.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ELF file itself could not be read (header, section table, symbol table).
    #[error("ELF: {what}: {why}")]
    Elf {
        /// What was being read.
        what: String,
        /// The `object` crate's message or our own.
        why: String,
    },
    /// A section's contents are malformed or do not fit in the file.
    #[error("section {index} '{section}': {why}")]
    Section {
        /// ELF section index.
        index: usize,
        /// Section name.
        section: String,
        /// What is wrong.
        why: String,
    },
    /// A symbol is malformed or points outside its section.
    #[error("symbol #{index} '{name}': {why}")]
    Symbol {
        /// Symbol table index.
        index: usize,
        /// Symbol name (may be empty).
        name: String,
        /// What is wrong.
        why: String,
    },
    /// A relocation entry is out of range.
    #[error("section '{section}': relocation #{reloc} at offset {offset:#x} (symbol #{symbol} '{symbol_name}'): {why}")]
    Relocation {
        /// The section whose instructions/data are relocated.
        section: String,
        /// Index of the entry in the relocation section.
        reloc: usize,
        /// Byte offset in the relocated section.
        offset: u64,
        /// Symbol table index the entry refers to.
        symbol: usize,
        /// That symbol's name (empty if out of range).
        symbol_name: String,
        /// What is wrong.
        why: String,
    },
    /// The object's BTF could not be read.
    #[error("BTF: {0}")]
    Btf(#[from] btf::Error),
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
