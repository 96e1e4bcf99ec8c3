//! Value fuzz target: a BTF (its length in the first two bytes) and bytes
//! to decode with every type of it, then the JSON and text renderings and
//! text encoding back. Nothing may panic, hang or allocate without bound
//! (zero-sized members and elements are decoded within a budget).
#![no_main]

use btf::{value, Btf, TypeId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let n = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (raw, bytes) = rest.split_at(n);
    let Ok(btf) = Btf::parse(raw) else {
        return;
    };
    let text = String::from_utf8_lossy(bytes);
    for id in 0..btf.type_count().min(256) {
        let id = TypeId(id);
        if let Ok(d) = value::decode(&btf, id, bytes) {
            let _ = d.value.to_json();
            let _ = d.value.to_text();
        }
        let _ = value::encode(&btf, id, &text);
    }
});
