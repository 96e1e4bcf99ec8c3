//! Object reader fuzz target: any bytes as a BPF ELF object, through
//! everything that needs no kernel: the object model, CO-RE inputs, and the
//! loader's open step (maps, global variables with their BTF types,
//! externs) with its setters. Nothing may panic, hang or allocate without
//! bound; damaged input is an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = bpf_object::Object::parse(data) else {
        return;
    };
    for p in obj.programs().iter().chain(obj.subprograms()) {
        let _ = (p.insn_count(), p.byte_offset());
    }
    let _ = bpf_object::core_inputs(&obj);
    let Ok(mut open) = loader::OpenObject::from_object(obj, "fuzz") else {
        return;
    };
    let names: Vec<String> = open.globals().iter().map(|g| g.name.clone()).collect();
    for n in names {
        let _ = open.set_global_int(&n, 1);
        let _ = open.set_global_str(&n, "x");
        let _ = open.set_global(&n, &[0; 8]);
    }
    let maps: Vec<String> = open.maps().into_iter().map(|m| m.name).collect();
    for m in maps {
        let _ = open.set_max_entries(&m, 1);
    }
    let _ = open.programs();
});
