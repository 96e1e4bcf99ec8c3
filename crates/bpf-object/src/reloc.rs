//! ELF relocation entries (`SHT_REL`) of a BPF object.

/// `R_BPF_NONE`.
pub const R_BPF_NONE: u32 = 0;
/// `R_BPF_64_64`: the 64-bit immediate of an `ld_imm64` (map, global data, function address).
pub const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_ABS64`: a 64-bit data word (e.g. `.maps` initial values in map-in-map).
pub const R_BPF_64_ABS64: u32 = 2;
/// `R_BPF_64_ABS32`: a 32-bit data word (DWARF, BTF).
pub const R_BPF_64_ABS32: u32 = 3;
/// `R_BPF_64_NODYLD32`: a 32-bit data word not relocated at load (`.BTF.ext`).
pub const R_BPF_64_NODYLD32: u32 = 4;
/// `R_BPF_64_32`: the 32-bit immediate of a call instruction.
pub const R_BPF_64_32: u32 = 10;

/// One relocation entry, as stored (BPF objects use `REL`, no explicit addend:
/// the addend lives in the relocated instruction or data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relocation {
    /// Index of the entry in its relocation section.
    pub index: usize,
    /// Byte offset in the relocated section (`r_offset`).
    pub offset: u64,
    /// Symbol table index (`ELF64_R_SYM`), already checked to be in range.
    pub symbol: usize,
    /// Relocation type (`ELF64_R_TYPE`), one of the `R_BPF_*` constants.
    pub r_type: u32,
}

/// The `R_BPF_*` relocation types as an enum (the raw value stays in
/// [`Relocation::r_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RelocType {
    /// `R_BPF_NONE`.
    None,
    /// `R_BPF_64_64`: an `ld_imm64`'s 64-bit immediate.
    Imm64,
    /// `R_BPF_64_ABS64`: a 64-bit data word.
    Abs64,
    /// `R_BPF_64_ABS32`: a 32-bit data word.
    Abs32,
    /// `R_BPF_64_NODYLD32`: a 32-bit data word not relocated at load.
    NoDyld32,
    /// `R_BPF_64_32`: a call instruction's 32-bit immediate.
    Call32,
    /// A value this crate does not name.
    Other(u32),
}

impl RelocType {
    /// The variant for a raw `ELF64_R_TYPE`.
    pub fn from_raw(v: u32) -> RelocType {
        match v {
            R_BPF_NONE => RelocType::None,
            R_BPF_64_64 => RelocType::Imm64,
            R_BPF_64_ABS64 => RelocType::Abs64,
            R_BPF_64_ABS32 => RelocType::Abs32,
            R_BPF_64_NODYLD32 => RelocType::NoDyld32,
            R_BPF_64_32 => RelocType::Call32,
            v => RelocType::Other(v),
        }
    }
}

impl std::fmt::Display for RelocType {
    /// The ELF name (`R_BPF_64_64`), or the number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RelocType::None => f.write_str("R_BPF_NONE"),
            RelocType::Imm64 => f.write_str("R_BPF_64_64"),
            RelocType::Abs64 => f.write_str("R_BPF_64_ABS64"),
            RelocType::Abs32 => f.write_str("R_BPF_64_ABS32"),
            RelocType::NoDyld32 => f.write_str("R_BPF_64_NODYLD32"),
            RelocType::Call32 => f.write_str("R_BPF_64_32"),
            RelocType::Other(v) => write!(f, "relocation type {v}"),
        }
    }
}

impl Relocation {
    /// The relocation type as an enum.
    pub fn kind(&self) -> RelocType {
        RelocType::from_raw(self.r_type)
    }
}
