//! BPF Type Format (BTF): parse, validate, query and render.
//!
//! [`Btf`] reads raw BTF (`/sys/kernel/btf/vmlinux`), the `.BTF` section of an
//! ELF file, and split BTF (a kernel module's types over vmlinux), in either
//! byte order. The bytes are validated once, then read through small
//! borrowed views ([`Type`], [`Members`], [`EnumValues`]...) decoded on demand.
//!
//! ```
//! use btf::{write::Builder, Btf, Endian, IntEncoding, Kind};
//!
//! let mut b = Builder::new();
//! let int = b.int("int", 4, IntEncoding::Signed);
//! let ptr = b.reference(Kind::Ptr, "", int);
//! b.struct_("node", 16, &[("val", int, 0, 0), ("next", ptr, 64, 0)]);
//! let btf = Btf::parse(b.encode(Endian::Little))?;
//!
//! let id = btf.find_by_name_kind("node", Kind::Struct).unwrap();
//! let node = btf.get(id)?;
//! let names: Vec<&str> = node.members().map(|m| btf.name(m.name_off)).collect();
//! assert_eq!(names, ["val", "next"]);
//! assert_eq!(btf.align_of(id)?, 8);
//!
//! let mut raw = Vec::new();
//! btf::dump::raw::dump_raw(&btf, &mut raw);
//! assert!(raw.starts_with(b"[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n"));
//! # Ok::<(), btf::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod btf;
pub mod dedup;
pub mod diff;
pub mod dump;
mod elf;
mod endian;
mod error;
pub mod graph;
pub mod header;
mod ids;
pub mod index;
mod kind;
pub mod layout;
pub mod path;
mod resolve;
mod types;
mod validate;
pub mod value;
pub mod write;

pub use crate::btf::{Btf, ParseOptions, MAX_TYPES};
pub use elf::{btf_section, is_elf, section as elf_section};
pub use endian::Endian;
pub use error::{Error, Result};
pub use ids::{StrOffset, TypeId};
pub use index::{essential_name, NameIndex};
pub use kind::{FuncLinkage, IntEncoding, Kind, VarLinkage};
pub use resolve::{MAX_DEPTH, RESOLVE_DEPTH};
pub use types::{
    ArrayInfo, EnumValue, EnumValues, IntInfo, Member, Members, Param, Params, Type, VarSecinfo,
    VarSecinfos,
};
