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
//! let out = dwarf_btf::encode(&elf, dwarf_btf::Options::default())?;
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
struct Pipeline {
    /// The next unit to read.
    next: usize,
    /// Units joined so far.
    joined: usize,
    /// Units read, waiting for their turn.
    done: std::collections::BTreeMap<usize, UnitResult>,
    /// The join failed or ended: readers stop.
    stop: bool,
}

/// One unit encoded, and whether it was skipped as Rust.
type UnitResult = Result<(encode::CuOut, bool)>;

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
    /// Compilation units read (Rust ones included).
    pub units: usize,
    /// Units skipped by `--lang_exclude=rust`.
    pub rust_units: usize,
    /// Types before deduplication.
    pub raw_types: u32,
    /// Wall time of the two phases: units read, encoded and joined;
    /// deduplicated and written.
    pub phases: [std::time::Duration; 2],
}

/// Encodes the DWARF of `elf` into BTF. The options are taken whole: the
/// base BTF is let go as soon as the deduplication holds its own copy (a
/// caller that keeps no other handle gets its memory back).
pub fn encode(elf: &elf::ElfInput<'_>, opts: Options<'_>) -> Result<Encoded> {
    let endian = if elf.little_endian {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    // .debug_info is not given to gimli whole: each unit is read on its
    // own (from the file when the ELF layer left the section there).
    let dwarf: cu::Dwarf<'_> = gimli::Dwarf::load(|id| {
        let b = if id == gimli::SectionId::DebugInfo {
            &[][..]
        } else {
            elf.debug_section(id)
        };
        Ok::<_, Error>(gimli::EndianSlice::new(b, endian))
    })?;
    let units = unit_ranges(elf, endian)?;
    if units.is_empty() {
        // pahole fails too (it then looks for .BTF instead).
        return Err(Error::Elf(
            "no DWARF: .debug_info is absent or empty".into(),
        ));
    }
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, units.len().max(1));
    let Options {
        base, exclude_rust, ..
    } = opts;
    let start_id = base.as_ref().map_or(1, |b| b.type_count());
    let mut app = match &base {
        Some(b) => Appender::new_split(b)?,
        None => Appender::new(),
    };
    drop(base);
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
                if p.stop || p.next >= units.len() {
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
        let (start, len) = units[i];
        // A bug that panics in one unit becomes that unit's error: the
        // joining thread waits for every unit in turn and must not wait
        // for one that never comes.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_and_encode(elf, &dwarf, endian, start, len, exclude_rust)
        }))
        .unwrap_or_else(|_| {
            Err(Error::Dwarf {
                section: ".debug_info",
                offset: start,
                what: "internal error while encoding this unit".into(),
            })
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
            for i in 0..units.len() {
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
    let raw_types = app.type_count() - start_id;
    let deduped = app.dedup()?;
    let e = if elf.little_endian {
        Endian::Little
    } else {
        Endian::Big
    };
    let btf = deduped.encode(e);
    let t2 = std::time::Instant::now();
    Ok(Encoded {
        btf,
        phases: [t1 - t0, t2 - t1],
        units: units.len(),
        rust_units,
        raw_types,
    })
}

/// Reads the unit at `start` (`len` bytes with its length field) and
/// encodes it; `true` when it was skipped as Rust.
fn read_and_encode(
    elf: &elf::ElfInput<'_>,
    dwarf: &cu::Dwarf<'_>,
    endian: gimli::RunTimeEndian,
    start: u64,
    len: u64,
    exclude_rust: bool,
) -> UnitResult {
    let bytes = elf.debug_info_at(start, len)?;
    let derr = |what: String| Error::Dwarf {
        section: ".debug_info",
        offset: start,
        what,
    };
    let header = gimli::DebugInfo::new(&bytes, endian)
        .units()
        .next()
        .map_err(|e| derr(format!("unit header: {e}")))?
        .ok_or_else(|| derr("no unit header".into()))?;
    let u = cu::read_unit(dwarf, header, start, endian == gimli::RunTimeEndian::Little)?;
    Ok(if exclude_rust && u.language == DW_LANG_RUST {
        (encode::CuOut::default(), true)
    } else {
        (encode::encode_unit(&u)?, false)
    })
}

/// Where each unit of `.debug_info` lies: (offset, length with its
/// length field), read from the unit length fields alone.
fn unit_ranges(elf: &elf::ElfInput<'_>, endian: gimli::RunTimeEndian) -> Result<Vec<(u64, u64)>> {
    let total = elf.debug_info_len();
    let mut out = Vec::new();
    let mut at = 0u64;
    let word = |b: &[u8]| -> u64 {
        let mut v = 0u64;
        for (i, &x) in b.iter().enumerate() {
            v |= (x as u64)
                << if endian == gimli::RunTimeEndian::Little {
                    8 * i
                } else {
                    8 * (b.len() - 1 - i)
                };
        }
        v
    };
    while at < total {
        let err = |what: &str| Error::Dwarf {
            section: ".debug_info",
            offset: at,
            what: what.into(),
        };
        let head = elf.debug_info_at(at, (total - at).min(12))?;
        if head.len() < 4 {
            return Err(err("unit length cut short"));
        }
        let len32 = word(&head[..4]);
        let len = match len32 {
            0xffff_ffff if head.len() == 12 => word(&head[4..12]).checked_add(12),
            0xffff_ffff => return Err(err("64-bit unit length cut short")),
            l if l >= 0xffff_fff0 => return Err(err("reserved unit length")),
            // Shorter than any unit header (DWARF 2: version, abbrev
            // offset, address size): refused here, so that a section of
            // zeros is not first listed as millions of empty units.
            l if l < 7 => return Err(err("unit shorter than its header")),
            l => Some(l + 4),
        }
        .filter(|&l| l <= total - at)
        .ok_or_else(|| err("unit runs past the end of .debug_info"))?;
        out.push((at, len));
        at += len;
    }
    Ok(out)
}
