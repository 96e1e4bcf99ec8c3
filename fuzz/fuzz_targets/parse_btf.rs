//! Parser fuzz target: any bytes, as raw BTF or ELF, then every view,
//! resolution helper and dump that a user can reach. Nothing may panic,
//! hang or allocate without bound.
#![no_main]

use btf::{Btf, TypeId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The candidate search that runs before validation (btfx reloc) must
    // survive any bytes, and agree with the search after a parse.
    let wanted: [&[u8]; 3] = [b"task_struct", b"x", b"ab"];
    let early = btf::index::scan_unvalidated(data, &wanted);
    let Ok(btf) = Btf::parse_any(data, None) else {
        return;
    };
    if let Some(early) = early {
        assert_eq!(early, btf.scan_by_essential(&wanted));
    }
    let mut out = Vec::new();
    btf::dump::raw::dump_raw(&btf, &mut out);
    out.clear();
    btf::dump::json::dump_json(&btf, &mut out);
    for id in 0..btf.type_count().min(4096) {
        let id = TypeId(id);
        let _ = btf.resolve_size(id);
        let _ = btf.align_of(id);
        let _ = btf.skip_mods_and_typedefs(id);
        if let Ok(t) = btf.get(id) {
            let name = btf.type_name(&t).to_owned();
            let _ = btf.find_by_name_kind(&name, t.kind());
        }
    }
});
