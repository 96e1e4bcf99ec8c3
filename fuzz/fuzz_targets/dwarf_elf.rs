//! ELF layer of the DWARF-to-BTF crate: any bytes as an ELF file read for
//! its debug sections (section headers, `.symtab`, compressed sections,
//! `ET_REL` debug relocations). Nothing may panic, hang or allocate
//! without bound; what parses is read back whole.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(elf) = dwarf_btf::elf::ElfInput::parse(data) else {
        return;
    };
    let mut sum = 0usize;
    for &id in dwarf_btf::elf::DEBUG_SECTIONS {
        sum = sum.wrapping_add(elf.debug_section(id).iter().map(|&b| b as usize).sum());
    }
    for s in &elf.symbols {
        sum = sum.wrapping_add(s.name.len());
    }
    for s in &elf.sections {
        let _ = elf.section_by_name(&s.name);
    }
    std::hint::black_box(sum);
});
