//! The crate's one error type.

use btf::TypeId;

/// Everything that can go wrong while reading CO-RE inputs or relocating.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `.BTF.ext` blob is malformed.
    #[error(".BTF.ext: {what} (at byte offset {offset})")]
    BadExt {
        /// Byte offset in the `.BTF.ext` blob where the problem was found.
        offset: usize,
        /// What was wrong.
        what: String,
    },
    /// A CO-RE relocation record could not be used (bad access string,
    /// out-of-range type id, offset past the program...).
    #[error("sec '{section}': relo #{relo}: {what}")]
    BadRelo {
        /// ELF section the relocation belongs to.
        section: String,
        /// Index of the relocation within its section.
        relo: usize,
        /// What was wrong.
        what: String,
    },
    /// A relocation failed the way libbpf fails it (the load is aborted).
    #[error("prog '{prog}': relo #{relo}: {what} ({errno})")]
    Failed {
        /// Program the relocation belongs to.
        prog: String,
        /// Index of the relocation within its section.
        relo: usize,
        /// libbpf's negative errno for this failure.
        errno: i32,
        /// What went wrong.
        what: String,
    },
    /// Minimal BTF generation (BTFGen) failed: a relocation libbpf could not
    /// decide, or a type bpftool refuses to keep.
    #[error("min-core: {what}")]
    MinCore {
        /// What went wrong, naming the object, section, relocation or type id.
        what: String,
    },
    /// A type id does not exist in the BTF it was looked up in.
    #[error("type id {0} does not exist")]
    NoSuchType(TypeId),
    /// Instruction bytes are not a whole number of 8-byte instructions.
    #[error("instruction bytes: length {len} is not a multiple of 8")]
    InsnLength {
        /// Length in bytes.
        len: usize,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// libbpf's errno values used in its CO-RE code.
pub(crate) mod errno {
    pub const EINVAL: i32 = -22;
    pub const E2BIG: i32 = -7;
    pub const EOPNOTSUPP: i32 = -95;
    pub const ERANGE: i32 = -34;
    pub const EUCLEAN: i32 = -117;
}
