//! The one error type of the crate.

/// Everything that can go wrong while reading an object or loading it.
///
/// Variants name the section, symbol, relocation and byte offset involved,
/// so a user can find the bad byte.
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
    /// A relocation entry cannot be applied.
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
    /// The ELF object is damaged (see [`bpf_object::Error`]).
    #[error(transparent)]
    Object(bpf_object::Error),
    /// BTF of the object (or kernel) could not be read or used.
    #[error("BTF: {0}")]
    Btf(#[from] btf::Error),
    /// A map definition is invalid.
    #[error("map '{map}': {why}")]
    Map {
        /// Map name.
        map: String,
        /// What is wrong.
        why: String,
    },
    /// A program cannot be prepared for loading.
    #[error("program '{prog}' (section '{section}'): {why}")]
    Program {
        /// Program name.
        prog: String,
        /// Its ELF section.
        section: String,
        /// What is wrong.
        why: String,
    },
    /// A `bpf(2)` command failed.
    #[error("bpf({cmd}) for {what}: {source}")]
    Syscall {
        /// The command name (`BPF_MAP_CREATE`, ...).
        cmd: &'static str,
        /// Which object the call was about.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A configuration call named something the object lacks or a value
    /// that does not fit (wrong size, out of range for its BTF type).
    #[error("{what}: {why}")]
    Config {
        /// The variable, map or program concerned.
        what: String,
        /// What is wrong.
        why: String,
    },
    /// Reading a file (kernel config, BTF) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl From<bpf_object::Error> for Error {
    fn from(e: bpf_object::Error) -> Error {
        // The object reader's variants keep their own shape here, so
        // callers match one set of variants whichever layer found the fault.
        match e {
            bpf_object::Error::Elf { what, why } => Error::Elf { what, why },
            bpf_object::Error::Section {
                index,
                section,
                why,
            } => Error::Section {
                index,
                section,
                why,
            },
            bpf_object::Error::Symbol { index, name, why } => Error::Symbol { index, name, why },
            bpf_object::Error::Relocation {
                section,
                reloc,
                offset,
                symbol,
                symbol_name,
                why,
            } => Error::Relocation {
                section,
                reloc,
                offset,
                symbol,
                symbol_name,
                why,
            },
            bpf_object::Error::Btf(b) => Error::Btf(b),
            other => Error::Object(other),
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
