//! BTF from DWARF: encodes the debug information of a kernel (`vmlinux`)
//! or of a kernel module (`.ko`, as split BTF over the kernel's BTF) into
//! BTF, as pahole 1.24 `-J --btf_gen_floats --lang_exclude=rust` does.
//!
//! Data flows one way: ELF bytes ([`elf`]: debug sections, decompressed and
//! relocated; symbols) → DWARF compilation units read with gimli into
//! per-unit type tables → BTF records per unit (on all cores, joined in unit
//! order) → the btf crate's libbpf-exact deduplication.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod elf;
mod error;

pub use error::{Error, Result};
