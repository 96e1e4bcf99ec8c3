//! `.BTF.ext` + CO-RE fuzz target: the input is split into a BTF blob and a
//! `.BTF.ext` blob (first 4 bytes give the BTF length), then parsed and
//! relocated against itself. Nothing may panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let n = (u32::from_le_bytes(*len) as usize).min(rest.len());
    let (btf, ext) = rest.split_at(n);
    core_reloc::fuzz_relocate(btf, ext);
});
