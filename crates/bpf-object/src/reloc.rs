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
