//! The BPF ELF object model, read without the kernel.
//!
//! [`Object::parse`] reads a BPF ELF file (as clang `-target bpf` writes
//! it) and checks it once: its sections, symbols, programs (several per
//! section, each named by its function symbol), `.text` subprograms,
//! license, version, the raw `.BTF` / `.BTF.ext` bytes and the relocation
//! entries of every section. [`core_inputs`] hands a CO-RE engine what it
//! needs from an object. Both `btfx reloc`/`btfx check` (no kernel) and the
//! loader build on it.
//!
//! ```no_run
//! let bytes = std::fs::read("fixtures/bpf/maps_globals.bpf.o")?;
//! let obj = bpf_object::Object::parse(&bytes)?;
//! for prog in obj.programs() {
//!     println!("{} in {}: {} insns", prog.name, prog.section_name, prog.insn_count());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod core;
mod error;
mod insn;
mod object;
mod program;
mod reloc;
mod section;
mod symbol;

pub use crate::core::{core_inputs, core_programs, to_core, CoreInputs};
pub use error::{Error, Result};
pub use insn::*;
pub use object::Object;
pub use program::Program;
pub use reloc::*;
pub use section::{Section, SectionKind};
pub use symbol::Symbol;
