//! DWARF-to-BTF encoder fuzz target: any bytes read as an ELF file with
//! its sections laid out as for a module, then encoded on one thread.
//! Nothing may panic, hang or allocate without bound, and whatever BTF
//! comes out must parse back. Seeds: the small DWARF fixtures, from the
//! repository root:
//! `cargo fuzz run dwarf_encode fuzz/corpus/dwarf_encode fixtures/dwarf/bin`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(elf) = dwarf_btf::elf::ElfInput::parse_laid_out(data) else {
        return;
    };
    let opts = dwarf_btf::Options {
        threads: 1,
        ..dwarf_btf::Options::default()
    };
    let Ok(enc) = dwarf_btf::encode(&elf, opts) else {
        return;
    };
    if let Err(e) = btf::Btf::parse(&enc.btf[..]) {
        panic!("encoded BTF ({} bytes) does not parse: {e}", enc.btf.len());
    }
});
