//! Programs and subprograms: function symbols in executable sections.

use btf::Endian;

use crate::insn::{Insn, INSN_SIZE};
use crate::section::{Section, SectionKind};
use crate::symbol::Symbol;
use crate::{Error, Result};

/// A function in an executable section: a program (in a non-`.text`
/// section) or a subprogram (in `.text`).
///
/// Several programs may share one section; each is named by its `STT_FUNC`
/// symbol and starts at [`Program::insn_offset`] instructions into the section.
#[derive(Debug, Clone)]
pub struct Program {
    /// Function symbol name.
    pub name: String,
    /// ELF section name, e.g. `kprobe/do_unlinkat` (libbpf's "section name",
    /// which decides program type and attach point).
    pub section_name: String,
    /// ELF section index.
    pub section_index: usize,
    /// Symbol table index of the function symbol.
    pub symbol: usize,
    /// Offset of the first instruction within the section, in instructions
    /// (the symbol's value / 8).
    pub insn_offset: usize,
    /// The function's instructions (its symbol's size / 8 of them), decoded
    /// from the object's byte order.
    pub insns: Vec<Insn>,
    /// `STB_GLOBAL`/`STB_WEAK` (a global subprogram is verified on its own).
    pub global: bool,
}

impl Program {
    /// Number of instruction slots (an `ld_imm64` counts as two).
    pub fn insn_count(&self) -> usize {
        self.insns.len()
    }

    /// Byte offset of the first instruction within its section.
    pub fn byte_offset(&self) -> usize {
        self.insn_offset.saturating_mul(INSN_SIZE)
    }

    /// True when `byte_off` (an offset in the section) falls inside this function.
    pub fn contains(&self, byte_off: u64) -> bool {
        let start = self.byte_offset() as u64;
        let end = start.saturating_add((self.insns.len() * INSN_SIZE) as u64);
        byte_off >= start && byte_off < end
    }
}

/// Collects the functions of every executable section, ordered by section
/// index then by offset (libbpf's program order).
pub(crate) fn collect(
    sections: &[Section],
    symbols: &[Symbol],
    endian: Endian,
) -> Result<(Vec<Program>, Vec<Program>)> {
    let mut progs = Vec::new();
    let mut subs = Vec::new();
    for sec in sections {
        if !matches!(sec.kind, SectionKind::Program | SectionKind::Text) {
            continue;
        }
        if sec.data.len() % INSN_SIZE != 0 {
            return Err(Error::Section {
                index: sec.index,
                section: sec.name.clone(),
                why: format!(
                    "size {} is not a multiple of the {INSN_SIZE}-byte instruction size",
                    sec.data.len()
                ),
            });
        }
        let mut funcs: Vec<&Symbol> = symbols
            .iter()
            .filter(|s| s.section == Some(sec.index) && s.is_func())
            .collect();
        funcs.sort_by_key(|s| (s.value, s.index));
        for sym in funcs {
            let bad = |why: String| Error::Symbol {
                index: sym.index,
                name: sym.name.clone(),
                why: format!("in section '{}': {why}", sec.name),
            };
            if sym.value % INSN_SIZE as u64 != 0 || sym.size % INSN_SIZE as u64 != 0 {
                return Err(bad(format!(
                    "offset {:#x} or size {} is not a multiple of {INSN_SIZE}",
                    sym.value, sym.size
                )));
            }
            let end = sym.value.checked_add(sym.size);
            let bytes = end
                .and_then(|end| {
                    sec.data
                        .get(usize::try_from(sym.value).ok()?..usize::try_from(end).ok()?)
                })
                .ok_or_else(|| {
                    bad(format!(
                        "function at offset {:#x} size {} crosses the section's end ({} bytes)",
                        sym.value,
                        sym.size,
                        sec.data.len()
                    ))
                })?;
            if sym.name.is_empty() {
                return Err(bad("function symbol without a name".into()));
            }
            let prog = Program {
                name: sym.name.clone(),
                section_name: sec.name.clone(),
                section_index: sec.index,
                symbol: sym.index,
                insn_offset: (sym.value / INSN_SIZE as u64) as usize,
                insns: Insn::decode_all(bytes, endian),
                global: sym.is_global(),
            };
            if sec.kind == SectionKind::Text {
                subs.push(prog);
            } else {
                progs.push(prog);
            }
        }
    }
    Ok((progs, subs))
}
