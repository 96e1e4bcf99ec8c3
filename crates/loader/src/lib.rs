//! Load BPF ELF objects into the running kernel.
//!
//! [`object::Object`] reads a BPF ELF file (as clang `-target bpf` writes
//! it): its sections, symbols, programs (several per section, each named by
//! its function symbol), `.text` subprograms, license, version, the raw
//! `.BTF` / `.BTF.ext` bytes and the relocation entries of every section.
//!
//! ```no_run
//! let bytes = std::fs::read("fixtures/bpf/maps_globals.bpf.o")?;
//! let obj = loader::object::Object::parse(&bytes)?;
//! for prog in obj.programs() {
//!     println!("{} in {}: {} insns", prog.name, prog.section_name, prog.insn_count());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod attach;
pub mod btffix;
mod error;
pub mod externs;
pub mod link;
pub mod load;
pub mod map_ops;
pub mod maps;
pub mod object;
pub mod perfbuf;
pub mod progtype;
pub mod ringbuf;
pub mod sys;
pub mod test_run;

pub use error::{Error, Result};
pub use load::{load, LoadOptions, Loaded, MapResult, ProgOutcome, ProgResult};
