//! What CO-RE relocation needs from an object, as plain data for
//! `core_reloc::relocate` (no ELF, no kernel).

use btf::Btf;

use crate::object::Object;
use crate::program::Program;
use crate::{Error, Result};

/// The plain-data program core-reloc works on (name, section, offset,
/// instructions) for an object's program or subprogram.
pub fn to_core(p: &Program) -> core_reloc::Program {
    core_reloc::Program {
        name: p.name.clone(),
        section: p.section_name.clone(),
        insn_off: p.insn_offset,
        insns: p.insns.clone(),
    }
}

/// An object's BTF, its `.BTF.ext` and its programs, ready for
/// `core_reloc::relocate`.
pub struct CoreInputs<'a> {
    /// The object's `.BTF`.
    pub btf: Btf<'a>,
    /// The object's `.BTF.ext`.
    pub ext: core_reloc::BtfExt,
    /// Programs and subprograms, as [`core_programs`] gives them.
    pub programs: Vec<core_reloc::Program>,
}

/// Reads [`CoreInputs`] out of an object; an object without `.BTF` or
/// `.BTF.ext` has no CO-RE relocations to decide and is an error here.
pub fn core_inputs(obj: &Object) -> Result<CoreInputs<'_>> {
    let missing = |section: &str| Error::Elf {
        what: section.into(),
        why: format!("the object has no {section} section"),
    };
    let btf = Btf::parse(obj.btf().ok_or_else(|| missing(".BTF"))?)?;
    let ext = obj.parse_ext(obj.btf_ext().ok_or_else(|| missing(".BTF.ext"))?, &btf)?;
    Ok(CoreInputs {
        btf,
        ext,
        programs: core_programs(obj),
    })
}

/// Every program and `.text` subprogram of `obj` as core-reloc programs, in
/// the order libbpf relocates them: what `btfx reloc` and `btfx check` feed
/// to `core_reloc::relocate`.
pub fn core_programs(obj: &Object) -> Vec<core_reloc::Program> {
    obj.programs()
        .iter()
        .chain(obj.subprograms())
        .map(to_core)
        .collect()
}

impl Object {
    /// Parses `.BTF.ext` bytes against the object's parsed BTF; errors name
    /// the section.
    pub fn parse_ext(&self, bytes: &[u8], local: &Btf<'_>) -> Result<core_reloc::BtfExt> {
        core_reloc::BtfExt::parse(bytes, local).map_err(|e| Error::Section {
            index: self.section_by_name(".BTF.ext").map_or(0, |s| s.index),
            section: ".BTF.ext".into(),
            why: e.to_string(),
        })
    }
}
