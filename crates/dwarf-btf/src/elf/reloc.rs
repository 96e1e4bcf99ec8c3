//! Relocations of debug sections in relocatable files (`ET_REL`: kernel
//! modules, `gcc -c` objects), applied as libdw and llvm-dwarfdump apply
//! them.
//!
//! In an `ET_REL` file a debug section's references to other sections
//! (`DW_FORM_strp` into `.debug_str`, `DW_AT_low_pc` into `.text`,
//! `DW_AT_stmt_list` ...) are left as zero or as an addend, with a
//! relocation saying what to put there. Each `SHT_RELA` (or `SHT_REL`)
//! section whose `sh_info` names the debug section lists entries
//! `(offset, symbol, type[, addend])`; the value written at `offset` is:
//!
//! - absolute types: `S + A` (also the TLS offsets of `DW_OP_form_tls_address`
//!   expressions: `DTPOFF`, `DTPREL`, `TLS_LDO`, where `S` is the variable's
//!   offset in the object's TLS section),
//! - PC-relative types: `S + A - P`, with `P` the offset in the section
//!   (sections of an `ET_REL` file sit at address 0),
//! - RISC-V and LoongArch `ADD`/`SUB` pairs: the bytes in place plus or
//!   minus `S + A` (`SET6`/`SUB6` and `ADD6`: the low 6 bits only),
//!
//! where `S` is the symbol's `st_value` (an offset in its section, which
//! is what DWARF wants for section offsets and low_pc alike) and `A` the
//! `r_addend` for `SHT_RELA`, or the value in place, read with the
//! relocation's width, for `SHT_REL`. The value is written in the file's
//! byte order, truncated to the relocation's width (as llvm-dwarfdump's
//! resolver does). Entries are applied in order, so a pair on one location
//! composes.
//!
//! Only the types that appear in debug sections are known, per machine;
//! any other type, an offset past the section, or a symbol index past the
//! symbol table is an error naming the relocation section, the entry's
//! index, its type and offset. Executables and shared objects are never
//! relocated here (a `vmlinux` may carry `.rela.debug_*` that its linker
//! already applied).

use object::elf::{self, Machine, RelocationType};

/// What one relocation type does, with its width in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    None,
    Abs(usize),
    Pc(usize),
    Add(usize),
    Sub(usize),
    /// Low 6 bits set to `S + A` (RISC-V `SET6`).
    Set6,
    /// Low 6 bits plus `S + A` (LoongArch `ADD6`).
    Add6,
    /// Low 6 bits minus `S + A` (RISC-V and LoongArch `SUB6`).
    Sub6,
}

/// The operation of relocation type `t` on `machine`, if it is one that
/// debug sections use.
fn op(machine: Machine, t: RelocationType) -> Option<Op> {
    use Op::*;
    Some(match machine {
        elf::EM_X86_64 => match t {
            elf::R_X86_64_NONE => None,
            elf::R_X86_64_64 | elf::R_X86_64_DTPOFF64 => Abs(8),
            elf::R_X86_64_32 | elf::R_X86_64_32S | elf::R_X86_64_DTPOFF32 => Abs(4),
            elf::R_X86_64_PC32 => Pc(4),
            elf::R_X86_64_PC64 => Pc(8),
            _ => return Option::None,
        },
        elf::EM_386 => match t {
            elf::R_386_NONE => None,
            elf::R_386_32 | elf::R_386_TLS_LDO_32 => Abs(4),
            elf::R_386_PC32 => Pc(4),
            _ => return Option::None,
        },
        elf::EM_AARCH64 => match t {
            elf::R_AARCH64_NONE => None,
            elf::R_AARCH64_ABS64 => Abs(8),
            elf::R_AARCH64_ABS32 => Abs(4),
            elf::R_AARCH64_ABS16 => Abs(2),
            elf::R_AARCH64_PREL64 => Pc(8),
            elf::R_AARCH64_PREL32 => Pc(4),
            elf::R_AARCH64_PREL16 => Pc(2),
            _ => return Option::None,
        },
        elf::EM_ARM => match t {
            elf::R_ARM_NONE => None,
            elf::R_ARM_ABS32 | elf::R_ARM_TLS_LDO32 => Abs(4),
            elf::R_ARM_REL32 => Pc(4),
            _ => return Option::None,
        },
        elf::EM_RISCV => match t {
            elf::R_RISCV_NONE => None,
            elf::R_RISCV_64 | elf::R_RISCV_TLS_DTPREL64 => Abs(8),
            elf::R_RISCV_32 | elf::R_RISCV_SET32 | elf::R_RISCV_TLS_DTPREL32 => Abs(4),
            elf::R_RISCV_SET16 => Abs(2),
            elf::R_RISCV_SET8 => Abs(1),
            elf::R_RISCV_32_PCREL => Pc(4),
            elf::R_RISCV_ADD64 => Add(8),
            elf::R_RISCV_ADD32 => Add(4),
            elf::R_RISCV_ADD16 => Add(2),
            elf::R_RISCV_ADD8 => Add(1),
            elf::R_RISCV_SUB64 => Sub(8),
            elf::R_RISCV_SUB32 => Sub(4),
            elf::R_RISCV_SUB16 => Sub(2),
            elf::R_RISCV_SUB8 => Sub(1),
            elf::R_RISCV_SET6 => Set6,
            elf::R_RISCV_SUB6 => Sub6,
            _ => return Option::None,
        },
        elf::EM_LOONGARCH => match t {
            elf::R_LARCH_NONE => None,
            elf::R_LARCH_64 | elf::R_LARCH_TLS_DTPREL64 => Abs(8),
            elf::R_LARCH_32 | elf::R_LARCH_TLS_DTPREL32 => Abs(4),
            elf::R_LARCH_32_PCREL => Pc(4),
            elf::R_LARCH_64_PCREL => Pc(8),
            elf::R_LARCH_ADD64 => Add(8),
            elf::R_LARCH_ADD32 => Add(4),
            elf::R_LARCH_ADD24 => Add(3),
            elf::R_LARCH_ADD16 => Add(2),
            elf::R_LARCH_ADD8 => Add(1),
            elf::R_LARCH_SUB64 => Sub(8),
            elf::R_LARCH_SUB32 => Sub(4),
            elf::R_LARCH_SUB24 => Sub(3),
            elf::R_LARCH_SUB16 => Sub(2),
            elf::R_LARCH_SUB8 => Sub(1),
            elf::R_LARCH_ADD6 => Add6,
            elf::R_LARCH_SUB6 => Sub6,
            _ => return Option::None,
        },
        elf::EM_S390 => match t {
            elf::R_390_NONE => None,
            elf::R_390_64 | elf::R_390_TLS_LDO64 => Abs(8),
            elf::R_390_32 | elf::R_390_TLS_LDO32 => Abs(4),
            elf::R_390_PC32 => Pc(4),
            elf::R_390_PC64 => Pc(8),
            _ => return Option::None,
        },
        elf::EM_PPC64 => match t {
            elf::R_PPC64_NONE => None,
            elf::R_PPC64_ADDR64 | elf::R_PPC64_DTPREL64 => Abs(8),
            elf::R_PPC64_ADDR32 => Abs(4),
            elf::R_PPC64_REL32 => Pc(4),
            elf::R_PPC64_REL64 => Pc(8),
            _ => return Option::None,
        },
        elf::EM_PPC => match t {
            elf::R_PPC_NONE => None,
            elf::R_PPC_ADDR32 | elf::R_PPC_DTPREL32 => Abs(4),
            elf::R_PPC_REL32 => Pc(4),
            _ => return Option::None,
        },
        _ => return Option::None,
    })
}

/// What the relocation pass needs to know about the file.
pub(super) struct Context<'a> {
    /// `e_machine`.
    pub machine: u16,
    /// ELFCLASS64.
    pub class64: bool,
    /// ELFDATA2LSB.
    pub little: bool,
    /// `st_value` by symbol index, of the symbol table the relocations use.
    pub values: &'a [u64],
}

/// One entry of a relocation section.
struct Entry {
    offset: u64,
    sym: u32,
    rtype: u32,
    addend: Option<i64>,
}

/// Applies the relocation section `table` (`SHT_RELA` if `rela`, else
/// `SHT_REL`; `entsize` its `sh_entsize`) to `target`. `what` names the
/// relocation section in errors.
pub(super) fn apply(
    target: &mut [u8],
    table: &[u8],
    rela: bool,
    entsize: u64,
    cx: &Context<'_>,
    what: &str,
) -> Result<(), String> {
    let size: usize = match (cx.class64, rela) {
        (true, true) => 24,
        (true, false) => 16,
        (false, true) => 12,
        (false, false) => 8,
    };
    if entsize != size as u64 && entsize != 0 {
        return Err(format!("{what}: sh_entsize is {entsize}, not {size}"));
    }
    if !table.len().is_multiple_of(size) {
        return Err(format!(
            "{what}: {} bytes is not a whole number of {size}-byte entries",
            table.len()
        ));
    }
    let machine = Machine(cx.machine);
    for (index, raw) in table.chunks_exact(size).enumerate() {
        let e = entry(raw, cx.class64, rela, cx.little);
        let fail = |why: String| {
            format!(
                "{what}: relocation #{index} (type {}, offset {:#x}, symbol {}): {why}",
                e.rtype, e.offset, e.sym
            )
        };
        let op = op(machine, RelocationType(e.rtype)).ok_or_else(|| {
            fail(format!(
                "type not known for a debug section of machine {}",
                cx.machine
            ))
        })?;
        let width = match op {
            Op::None => continue,
            Op::Abs(w) | Op::Pc(w) | Op::Add(w) | Op::Sub(w) => w,
            Op::Set6 | Op::Add6 | Op::Sub6 => 1,
        };
        let at = usize::try_from(e.offset)
            .ok()
            .filter(|&at| at.checked_add(width).is_some_and(|end| end <= target.len()))
            .ok_or_else(|| {
                fail(format!(
                    "{width} bytes at the offset do not fit the {:#x}-byte section",
                    target.len()
                ))
            })?;
        let s = match usize::try_from(e.sym).ok().and_then(|i| cx.values.get(i)) {
            Some(&v) => v,
            None if e.sym == 0 => 0,
            None => {
                return Err(fail(format!(
                    "symbol index out of range (the symbol table has {} entries)",
                    cx.values.len()
                )))
            }
        };
        let place = read(&target[at..at + width], cx.little);
        let a = match e.addend {
            Some(a) => a as u64,
            // SHT_REL: the addend is in place (the ADD/SUB pairs, which
            // use the bytes in place as their base, only exist as RELA).
            None if matches!(op, Op::Abs(_) | Op::Pc(_)) => place,
            None => 0,
        };
        let sa = s.wrapping_add(a);
        let value = match op {
            Op::None => continue,
            Op::Abs(_) => sa,
            Op::Pc(_) => sa.wrapping_sub(e.offset),
            Op::Add(_) => place.wrapping_add(sa),
            Op::Sub(_) => place.wrapping_sub(sa),
            Op::Set6 => (place & 0xc0) | (sa & 0x3f),
            Op::Add6 => (place & 0xc0) | (place.wrapping_add(sa) & 0x3f),
            Op::Sub6 => (place & 0xc0) | (place.wrapping_sub(sa) & 0x3f),
        };
        write(&mut target[at..at + width], value, cx.little);
    }
    Ok(())
}

/// Decodes one entry (`raw` has exactly the entry's size).
fn entry(raw: &[u8], class64: bool, rela: bool, little: bool) -> Entry {
    let word = |i: usize| {
        if class64 {
            read(&raw[i * 8..i * 8 + 8], little)
        } else {
            read(&raw[i * 4..i * 4 + 4], little)
        }
    };
    let (offset, info) = (word(0), word(1));
    let (sym, rtype) = if class64 {
        ((info >> 32) as u32, info as u32)
    } else {
        ((info >> 8) as u32, (info & 0xff) as u32)
    };
    let addend = rela.then(|| {
        let a = word(2);
        if class64 {
            a as i64
        } else {
            i64::from(a as u32 as i32)
        }
    });
    Entry {
        offset,
        sym,
        rtype,
        addend,
    }
}

/// Reads 1 to 8 bytes as an unsigned integer in the file's byte order.
fn read(bytes: &[u8], little: bool) -> u64 {
    let fold = |v: u64, &b: &u8| (v << 8) | u64::from(b);
    if little {
        bytes.iter().rev().fold(0, fold)
    } else {
        bytes.iter().fold(0, fold)
    }
}

/// Writes the low `bytes.len()` bytes of `value` in the file's byte order.
fn write(bytes: &mut [u8], value: u64, little: bool) {
    let n = bytes.len();
    for (i, b) in bytes.iter_mut().enumerate() {
        let shift = if little { i } else { n - 1 - i } * 8;
        *b = (value >> shift) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_write_both_orders() {
        let mut b = [0u8; 3];
        write(&mut b, 0x0012_3456, true);
        assert_eq!(b, [0x56, 0x34, 0x12]);
        assert_eq!(read(&b, true), 0x12_3456);
        write(&mut b, 0x0012_3456, false);
        assert_eq!(b, [0x12, 0x34, 0x56]);
        assert_eq!(read(&b, false), 0x12_3456);
    }

    fn rela64(offset: u64, sym: u32, rtype: u32, addend: i64) -> Vec<u8> {
        let mut v = offset.to_le_bytes().to_vec();
        v.extend_from_slice(&((u64::from(sym) << 32) | u64::from(rtype)).to_le_bytes());
        v.extend_from_slice(&addend.to_le_bytes());
        v
    }

    #[test]
    fn riscv_add_sub_pair_composes() {
        // high_pc - low_pc as ADD32 sym2 / SUB32 sym1 on the same word.
        let values = [0, 0x10, 0x58];
        let cx = Context {
            machine: elf::EM_RISCV.0,
            class64: true,
            little: true,
            values: &values,
        };
        let mut table = rela64(4, 2, elf::R_RISCV_ADD32.0, 0);
        table.extend(rela64(4, 1, elf::R_RISCV_SUB32.0, 0));
        let mut target = [0u8; 8];
        apply(&mut target, &table, true, 24, &cx, "t").unwrap();
        assert_eq!(u32::from_le_bytes(target[4..8].try_into().unwrap()), 0x48);
    }

    #[test]
    fn rel_takes_addend_in_place_and_pc_subtracts_offset() {
        let values = [0, 0x100];
        let cx = Context {
            machine: elf::EM_386.0,
            class64: false,
            little: true,
            values: &values,
        };
        let mut table = Vec::new();
        for (off, t) in [(0u32, elf::R_386_32.0), (4, elf::R_386_PC32.0)] {
            table.extend_from_slice(&off.to_le_bytes());
            table.extend_from_slice(&((1 << 8) | t).to_le_bytes());
        }
        let mut target = [7, 0, 0, 0, 7, 0, 0, 0];
        apply(&mut target, &table, false, 8, &cx, "t").unwrap();
        assert_eq!(target, [0x07, 1, 0, 0, 0x03, 1, 0, 0]);
    }
}
