//! Loader semantics fuzz target (beside `parse_object`, which covers the
//! object model and the open step's setters): any bytes as a BPF ELF
//! object, then what the loader decides from it without the kernel:
//! section names (`progtype`), libbpf's refusals, map definitions, and the
//! load-time matching that normally uses vmlinux BTF (struct_ops members,
//! `__ksym` types) run against the object's own BTF as the "kernel".
//! No bpf(2) call. Nothing may panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = loader::object::Object::parse(data) else {
        return;
    };
    for p in obj.programs().iter().chain(obj.subprograms()) {
        let _ = loader::progtype::from_section(&p.section_name).map(|s| s.refusal());
    }
    let _ = loader::progtype::check_programs(&obj);
    let Some(Ok(btf)) = obj.btf().map(btf::Btf::parse) else {
        return;
    };
    if let Ok(mut maps) = loader::maps::collect(&obj, Some(&btf), "fuzz", None) {
        for m in maps.iter_mut().filter(|m| m.struct_ops.is_some()) {
            let _ = loader::struct_ops::resolve(m, &btf, &btf);
        }
    }
    // .kconfig externs read the kernel config: only __ksym ones here.
    let has_kconfig = btf
        .find_by_name_kind(".kconfig", btf::Kind::Datasec)
        .is_some();
    if !has_kconfig {
        if let Ok(mut ex) = loader::externs::collect(&obj, Some(&btf)) {
            let _ = loader::externs::resolve_ksyms(&mut ex, &btf, Some(&btf), || {
                "ffffffff81000000 T bpf_prog_put\n".to_string()
            });
        }
    }
});
