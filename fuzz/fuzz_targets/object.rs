//! Object reader fuzz target: any bytes as a BPF ELF object, then what
//! `OpenObject::open` builds from it (programs, section-name lookup, map
//! definitions, global variables, externs) and the CO-RE inputs `btfx
//! reloc` reads. No bpf(2) call: opening never touches the kernel.
//! Nothing may panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = loader::object::Object::parse(data) else {
        return;
    };
    for p in obj.programs().iter().chain(obj.subprograms()) {
        let _ = loader::progtype::from_section(&p.section_name).map(|s| s.refusal());
        let _ = p.insn_count();
    }
    let _ = loader::load::core_inputs(&obj);
    let Ok(open) = loader::OpenObject::from_object(obj, "fuzz") else {
        return;
    };
    let _ = open.programs();
});
