//! BTF encoded from DWARF against pahole 1.24's recorded output
//! (`fixtures/oracle/dwarf/`, recorded by `scripts/record-dwarf-oracles.sh`
//! from the objects of `fixtures/dwarf/bin/`): byte for byte, with every
//! number of threads; refusals as pahole's; damaged input never panics.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use btf::Btf;
use dwarf_btf::elf::{ElfInput, OpenOptions};
use dwarf_btf::{encode, Options};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bin(name: &str) -> PathBuf {
    root().join("fixtures/dwarf/bin").join(name)
}

fn oracle(name: &str) -> Vec<u8> {
    let p = root()
        .join("fixtures/oracle/dwarf")
        .join(format!("{name}.btf"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn encode_file(path: &Path, base: Option<&[u8]>, threads: usize, exclude_rust: bool) -> Vec<u8> {
    // Odd thread counts read .debug_info unit by unit from the file, even
    // ones from the section read whole: both must give pahole's bytes.
    let open = OpenOptions {
        lay_out: true,
        lazy_debug_info: !threads.is_multiple_of(2),
    };
    let elf = ElfInput::open_with(path, open).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let base = base.map(|b| Arc::new(Btf::parse(b.to_vec()).expect("base parses")));
    let opts = Options {
        base,
        threads,
        exclude_rust,
    };
    encode(&elf, opts)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .btf
}

/// (input in fixtures/dwarf/bin, pahole's output name)
const WHOLE: &[(&str, &str)] = &[
    ("vmlinux-gcc-dwarf4", "vmlinux-gcc-dwarf4"),
    ("vmlinux-gcc-dwarf5", "vmlinux-gcc-dwarf5"),
    ("vmlinux-gcc-nomcount", "vmlinux-gcc-nomcount"),
    ("vmlinux-clang-dwarf5", "vmlinux-clang-dwarf5"),
    ("vmlinux-gcc-nosymtab", "vmlinux-gcc-nosymtab"),
    ("vmlinux-gcc-zlib", "vmlinux-gcc-zlib"),
    ("module-gcc-dwarf4.o", "module-gcc-dwarf4"),
    ("module-gcc-dwarf5.o", "module-gcc-dwarf5"),
    ("module-gcc-zlib.o", "module-gcc-zlib"),
];

#[test]
fn byte_identical_to_pahole_with_any_number_of_threads() {
    for &(input, name) in WHOLE {
        let want = oracle(name);
        for threads in [1, 2, 5] {
            let got = encode_file(&bin(input), None, threads, true);
            assert!(
                got == want,
                "{input} with {threads} threads: {} bytes, pahole {} bytes, not the same",
                got.len(),
                want.len()
            );
        }
    }
}

#[test]
fn modules_split_over_their_vmlinux_as_pahole_btf_base() {
    for v in ["dwarf4", "dwarf5"] {
        let base = oracle(&format!("vmlinux-gcc-{v}"));
        let want = oracle(&format!("module-gcc-{v}.split"));
        for threads in [1, 3] {
            let got = encode_file(
                &bin(&format!("module-gcc-{v}.o")),
                Some(&base),
                threads,
                true,
            );
            assert!(got == want, "module-gcc-{v} split, {threads} threads");
        }
        // What the split output says holds over that base.
        let b = Arc::new(Btf::parse(base).expect("base"));
        let split = Btf::parse_split(want, b).expect("split parses");
        assert!(split.type_count() > split.start_id().0);
    }
}

#[test]
fn rust_units_skipped_unless_kept() {
    let input = bin("vmlinux-gcc-dwarf5");
    assert!(encode_file(&input, None, 2, true) == oracle("vmlinux-gcc-dwarf5"));
    assert!(
        encode_file(&input, None, 2, false) == oracle("vmlinux-gcc-dwarf5.with-rust"),
        "without --lang_exclude=rust, as pahole"
    );
}

#[test]
fn complex_floats_are_refused_as_pahole_refuses_them() {
    let path = bin("complex-gcc-dwarf5.o");
    let elf = ElfInput::open_laid_out(&path).expect("opens");
    let err = encode(&elf, Options::default()).expect_err("pahole 1.24 refuses _Complex");
    let msg = err.to_string();
    assert!(msg.contains("complex double"), "{msg}");
    assert!(msg.contains(".debug_info at offset 0x"), "{msg}");
}

/// A little generator (xorshift), so the damaged inputs are the same on
/// every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn damaged_dwarf_gives_errors_not_panics() {
    let mut outcomes = [0usize; 2];
    for input in ["module-gcc-dwarf5.o", "vmlinux-gcc-dwarf4"] {
        let data = std::fs::read(bin(input)).expect("fixture");
        let pristine = ElfInput::parse_laid_out(&data).expect("parses");
        let info_len = pristine.debug_section(gimli_info()).len();
        assert!(info_len > 0);
        drop(pristine);
        // Find .debug_info in the file (it is stored uncompressed there).
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..250 {
            let mut d = data.clone();
            for _ in 0..1 + rng.next() % 8 {
                let at = (rng.next() % d.len() as u64) as usize;
                d[at] = rng.next() as u8;
            }
            if rng.next().is_multiple_of(5) {
                let cut = (rng.next() % d.len() as u64) as usize;
                d.truncate(cut);
            }
            let Ok(elf) = ElfInput::parse_laid_out(&d) else {
                continue;
            };
            let r = encode(
                &elf,
                Options {
                    threads: 2,
                    ..Options::default()
                },
            );
            outcomes[r.is_ok() as usize] += 1;
            if let Ok(out) = r {
                // What is produced is BTF that parses.
                Btf::parse(out.btf).expect("encoded BTF parses");
            }
        }
    }
    // Both outcomes occur: mutations that hit the DWARF are refused, the
    // rest still encode.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}

fn gimli_info() -> gimli::SectionId {
    gimli::SectionId::DebugInfo
}
