//! BTF from DWARF: encodes the debug information of a kernel (`vmlinux`)
//! or of a kernel module (`.ko`, as split BTF over the kernel's BTF) into
//! BTF, as pahole 1.24 `-J --btf_gen_floats --lang_exclude=rust` does.
//!
//! Data flows one way: ELF bytes ([`elf`]: debug sections, decompressed and
//! relocated; symbols) → each DWARF compilation unit read with gimli into
//! its type table, functions and variables (`cu`) → BTF records per unit
//! (`encode`), on all cores → joined in unit order, where the first unit
//! defining a function symbol gives its FUNC and per-CPU variables become
//! VARs (`join`) → the btf crate's libbpf-exact deduplication. The output
//! depends only on the input, not on the number of threads.
//!
//! ```no_run
//! let elf = dwarf_btf::elf::ElfInput::open(std::path::Path::new("vmlinux"))?;
//! let out = dwarf_btf::encode(&elf, &dwarf_btf::Options::default())?;
//! std::fs::write("vmlinux.btf", &out.btf)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cu;
pub mod elf;
mod encode;
mod error;
mod join;

use std::sync::{Arc, Condvar, Mutex};

use btf::{dedup::Appender, Btf, Endian};

pub use error::{Error, Result};

/// `DW_LANG_Rust`: units pahole's `--lang_exclude=rust` skips.
const DW_LANG_RUST: u16 = 0x1c;

/// Units handed from the reading threads to the joining one.
struct Pipeline<'a> {
    /// The next unit to read.
    next: usize,
    /// Units joined so far.
    joined: usize,
    /// Units read, waiting for their turn.
    done: std::collections::BTreeMap<usize, UnitResult<'a>>,
    /// The join failed or ended: readers stop.
    stop: bool,
}

/// One unit encoded, and whether it was skipped as Rust.
type UnitResult<'a> = Result<(encode::CuOut<'a>, bool)>;

/// How to encode.
#[derive(Debug, Clone)]
pub struct Options<'b> {
    /// The kernel's BTF when encoding a module: the output is split BTF
    /// over it (pahole's `--btf_base`).
    pub base: Option<Arc<Btf<'b>>>,
    /// Threads reading units; 0: one per available CPU. The output is the
    /// same for every value.
    pub threads: usize,
    /// Skip Rust compilation units (pahole's `--lang_exclude=rust`, which
    /// the kernel build passes). Default: true.
    pub exclude_rust: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            base: None,
            threads: 0,
            exclude_rust: true,
        }
    }
}

/// What [`encode`] produced.
#[derive(Debug)]
pub struct Encoded {
    /// The deduplicated BTF, in the ELF file's byte order (split over the
    /// base when one was given).
    pub btf: Vec<u8>,
    /// Compilation units read, and of them skipped as Rust.
    pub units: usize,
    /// Units skipped by `--lang_exclude=rust`.
    pub rust_units: usize,
    /// Types before deduplication.
    pub raw_types: u32,
    /// Wall time of each phase: reading and encoding units, joining,
    /// deduplicating.
    pub phases: [std::time::Duration; 3],
}

/// Encodes the DWARF of `elf` into BTF.
pub fn encode(elf: &elf::ElfInput<'_>, opts: &Options<'_>) -> Result<Encoded> {
    let endian = if elf.little_endian {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let dwarf: cu::Dwarf<'_> = gimli::Dwarf::load(|id| {
        Ok::<_, Error>(gimli::EndianSlice::new(elf.debug_section(id), endian))
    })?;
    let mut headers = Vec::new();
    let mut it = dwarf.units();
    loop {
        match it.next() {
            Ok(Some(h)) => headers.push(h),
            Ok(None) => break,
            Err(e) => {
                return Err(Error::Dwarf {
                    section: ".debug_info",
                    offset: headers
                        .last()
                        .map(|h: &gimli::UnitHeader<_>| unit_offset(h.offset()))
                        .unwrap_or(0),
                    what: format!("unit header: {e}"),
                })
            }
        }
    }
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, headers.len().max(1));
    let (start_id, _) = match &opts.base {
        Some(b) => (b.type_count(), b.total_str_len()),
        None => (1, 0),
    };
    let mut app = match &opts.base {
        Some(base) => Appender::new_split(base)?,
        None => Appender::new(),
    };
    let syms = join::Symbols::new(elf);
    let mut joiner = join::Joiner::new(&syms);

    // Threads read units in turn, at most WINDOW ahead of the one being
    // joined; this thread joins them in unit order, so what is held at
    // once stays small and the output does not depend on the threads.
    let t0 = std::time::Instant::now();
    let window = 4 * threads;
    let shared = Mutex::new(Pipeline {
        next: 0,
        joined: 0,
        done: std::collections::BTreeMap::new(),
        stop: false,
    });
    let cond = Condvar::new();
    let work = || loop {
        let i = {
            let Ok(mut p) = shared.lock() else { return };
            loop {
                if p.stop || p.next >= headers.len() {
                    return;
                }
                if p.next < p.joined + window {
                    break;
                }
                p = match cond.wait(p) {
                    Ok(p) => p,
                    Err(_) => return,
                };
            }
            p.next += 1;
            p.next - 1
        };
        let r = cu::read_unit(&dwarf, headers[i], elf.little_endian).map(|u| {
            if opts.exclude_rust && u.language == DW_LANG_RUST {
                (encode::CuOut::default(), true)
            } else {
                (encode::encode_unit(&u), false)
            }
        });
        if let Ok(mut p) = shared.lock() {
            p.done.insert(i, r);
        }
        cond.notify_all();
    };
    let mut rust_units = 0;
    let joined: Result<()> = std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(work);
        }
        let r = (|| {
            for i in 0..headers.len() {
                let r = {
                    let mut p = shared
                        .lock()
                        .map_err(|_| Error::Elf("a reader failed".into()))?;
                    loop {
                        if let Some(r) = p.done.remove(&i) {
                            p.joined = i + 1;
                            break r;
                        }
                        p = cond
                            .wait(p)
                            .map_err(|_| Error::Elf("a reader failed".into()))?;
                    }
                };
                cond.notify_all();
                let (out, rust) = r?;
                rust_units += rust as usize;
                joiner.add(out, &mut app)?;
            }
            Ok(())
        })();
        if let Ok(mut p) = shared.lock() {
            p.stop = true;
        }
        cond.notify_all();
        r
    });
    joined?;
    joiner.finish(&mut app)?;
    let t1 = std::time::Instant::now();
    let t2 = t1;
    let raw_types = app.type_count() - start_id;
    let deduped = app.dedup()?;
    let e = if elf.little_endian {
        Endian::Little
    } else {
        Endian::Big
    };
    let btf = deduped.encode(e);
    let t3 = std::time::Instant::now();
    Ok(Encoded {
        btf,
        phases: [t1 - t0, t2 - t1, t3 - t2],
        units: headers.len(),
        rust_units,
        raw_types,
    })
}

/// A unit's offset in its section.
pub(crate) fn unit_offset(o: gimli::UnitSectionOffset<usize>) -> u64 {
    o.0 as u64
}
