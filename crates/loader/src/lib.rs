//! Load BPF ELF objects into the running kernel, in libbpf's lifecycle:
//! [`OpenObject::open`] (parse, no kernel) → configure (global variables,
//! map sizes and flags, map reuse, autoload, program types, verifier log,
//! a shared target BTF) → [`OpenObject::load`] → a [`LoadedObject`] with
//! every program's and map's outcome, fds and ids by name, the CO-RE
//! report and the instructions sent to the kernel.
//!
//! ```no_run
//! use loader::{OpenObject, ProgOutcome};
//! let elf = std::fs::read("fixtures/bpf/maps_globals.bpf.o")?;
//! let mut obj = OpenObject::open(&elf, "maps_globals")?;
//! obj.set_global_int("cfg_target_tgid", 1)?;
//! let loaded = obj.load()?;
//! for p in &loaded.programs {
//!     match &p.outcome {
//!         ProgOutcome::Loaded { id, .. } => println!("{}: id {id}", p.name),
//!         ProgOutcome::Failed(f) => println!("{}: {} failed: {}", p.name, f.stage, f.reason),
//!         ProgOutcome::Skipped => println!("{}: skipped", p.name),
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`object::Object`] reads a BPF ELF file on its own (no kernel), and
//! [`sys`] is the typed, safe `bpf(2)` layer underneath.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod attach;
pub mod btffix;
mod configure;
mod error;
pub mod externs;
pub mod link;
pub mod load;
mod loaded;
pub mod map_ops;
pub mod maps;
pub mod open;
pub mod perfbuf;
mod pin;
mod progload;
pub mod progtype;
pub mod ringbuf;
pub mod struct_ops;
/// The ELF object model (the `btfx-bpf-object` crate), re-exported.
pub use bpf_object as object;
pub mod sys;
pub mod test_run;

pub use error::{Error, Result};
pub use load::{load, LoadOptions};
pub use loaded::{Failure, LoadedObject, MapOutcome, MapResult, ProgOutcome, ProgResult, Stage};
pub use open::{OpenObject, TargetBtf};
pub use pin::pin_name;
pub use sys::{AttachType, MapType, ProgramType};

/// The former name of [`LoadedObject`].
pub type Loaded = LoadedObject;
