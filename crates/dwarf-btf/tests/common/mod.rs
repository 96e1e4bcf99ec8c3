//! What the real-kernel tests share: the recorded summaries, encoding a
//! file as `btfx gen btf` does, and per-kind counts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use btf::Btf;
use dwarf_btf::elf::{ElfInput, OpenOptions};
use dwarf_btf::{encode, Options};

/// `fixtures/oracle/dwarf/kernel-NAME.summary`: block -> (key -> value).
pub fn summary(name: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../fixtures/oracle/dwarf/kernel-{name}.summary"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut cur = String::new();
    for line in text.lines() {
        if let Some(block) = line.strip_prefix("== ") {
            cur = block.to_owned();
        } else if let Some((k, v)) = line.split_once(' ') {
            out.entry(cur.clone())
                .or_default()
                .insert(k.to_owned(), v.to_owned());
        }
    }
    out
}

/// The BTF `btfx gen btf` writes for `path` (laid out, `.debug_info` read
/// unit by unit, every CPU).
pub fn gen(path: &Path, base: Option<Arc<Btf<'static>>>) -> Vec<u8> {
    let open = OpenOptions {
        lay_out: true,
        lazy_debug_info: true,
    };
    let elf = ElfInput::open_with(path, open).unwrap_or_else(|e| panic!("{e}"));
    let opts = Options {
        base,
        ..Options::default()
    };
    encode(&elf, opts)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .btf
}

/// Per-kind counts of a (split) BTF's own types, with bpftool's names,
/// and `types`.
pub fn counts(b: &Btf<'_>) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, u32> = BTreeMap::new();
    for t in b.types() {
        *m.entry(t.kind().name().to_owned()).or_default() += 1;
    }
    let mut out: BTreeMap<String, String> =
        m.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    out.insert("types".into(), b.local_type_count().to_string());
    out
}
