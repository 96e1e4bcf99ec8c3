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

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use btf::{dedup::Appender, Btf, Endian};

pub use error::{Error, Result};

/// `DW_LANG_Rust`: units pahole's `--lang_exclude=rust` skips.
const DW_LANG_RUST: u16 = 0x1c;

/// One unit encoded, and whether it was skipped as Rust.
type UnitResult<'a> = Result<(encode::CuOut<'a>, bool)>;

/// How to encode.
#[derive(Debug, Clone, Default)]
pub struct Options<'b> {
    /// The kernel's BTF when encoding a module: the output is split BTF
    /// over it (pahole's `--btf_base`).
    pub base: Option<Arc<Btf<'b>>>,
    /// Threads reading units; 0: one per available CPU. The output is the
    /// same for every value.
    pub threads: usize,
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

    // Units are taken in turn by the threads; results go to their slot.
    let slots: Vec<Mutex<Option<UnitResult<'_>>>> =
        headers.iter().map(|_| Mutex::new(None)).collect();
    let t0 = std::time::Instant::now();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(h) = headers.get(i) else { break };
        let r = cu::read_unit(&dwarf, *h, elf.little_endian).map(|u| {
            if u.language == DW_LANG_RUST {
                (encode::CuOut::default(), true)
            } else {
                (encode::encode_unit(&u), false)
            }
        });
        if let Ok(mut s) = slots[i].lock() {
            *s = Some(r);
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work();
    });
    let mut outs = Vec::with_capacity(slots.len());
    let mut rust_units = 0;
    for s in slots {
        let r = s
            .into_inner()
            .ok()
            .flatten()
            .ok_or_else(|| Error::Elf("a unit was not read".into()))?;
        let (out, rust) = r?;
        rust_units += rust as usize;
        outs.push(out);
    }

    let t1 = std::time::Instant::now();
    let syms = join::Symbols::new(elf);
    let (start_id, start_str) = match &opts.base {
        Some(b) => (b.type_count(), b.total_str_len()),
        None => (1, 0),
    };
    let joined = join::join(outs, &syms, start_id, start_str);
    let raw = raw_btf(&joined);
    drop(joined);
    let (parsed, mut app) = match &opts.base {
        Some(base) => (
            Btf::parse_split(raw, base.clone())?,
            Appender::new_split(base)?,
        ),
        None => (Btf::parse(raw)?, Appender::new()),
    };
    app.add(&parsed)?;
    drop(parsed);
    let t2 = std::time::Instant::now();
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

/// The joined records as a little-endian raw BTF blob.
fn raw_btf(j: &join::Joined) -> Vec<u8> {
    let type_len = j.words.len() * 4;
    let mut out = Vec::with_capacity(24 + type_len + j.strs.len());
    out.extend_from_slice(&0xeb9fu16.to_le_bytes());
    out.push(1);
    out.push(0);
    for v in [
        24u32,
        0,
        type_len as u32,
        type_len as u32,
        j.strs.len() as u32,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for w in &j.words {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&j.strs);
    out
}
