//! CO-RE relocation engine, decision for decision equal to libbpf 1.1.
//!
//! Given a BPF program's instructions, its local BTF, its `.BTF.ext` CO-RE
//! records and a target kernel BTF, this crate decides every relocation as
//! libbpf does (`relo_core.c`, `bpf_object__relocate_core`), patches the
//! instructions, and writes libbpf's CO-RE debug lines (without the
//! `libbpf: ` prefix).
//!
//! Computing is separate from applying: [`Relocator::compute`] answers
//! "what would relocation #N become on this kernel?" and returns a
//! [`Fixup`]; [`apply_fixup`] patches instructions with it. [`relocate`]
//! runs libbpf's whole pass over an object.
//!
//! The crate knows nothing about ELF: programs are given as [`Program`]s.
//!
//! # Example
//!
//! ```
//! use btf::{write::Builder, Btf, Endian, IntEncoding};
//! use core_reloc::{relocate, BtfExt, Insn, Program, Target};
//!
//! // Local BTF: struct task_struct { int pid; } and the section name.
//! let mut b = Builder::new();
//! let int = b.int("int", 4, IntEncoding::Signed);
//! let _task = b.struct_("task_struct", 4, &[("pid", int, 0, 0)]);
//! let sec = b.string("kprobe/x");
//! let acc = b.string("0:0");
//! let local = Btf::parse(b.encode(Endian::Little)).unwrap();
//!
//! // Target: the pid sits at byte 8.
//! let mut t = Builder::new();
//! let tint = t.int("int", 4, IntEncoding::Signed);
//! let pad = t.int("long", 8, IntEncoding::Signed);
//! t.struct_("task_struct", 12, &[("flags", pad, 0, 0), ("pid", tint, 64, 0)]);
//! let target = Btf::parse(t.encode(Endian::Little)).unwrap();
//!
//! // .BTF.ext with one FIELD_BYTE_OFFSET relocation of insn #0.
//! let mut ext = vec![0x9f, 0xeb, 1, 0];
//! for w in [32u32, 0, 0, 0, 0, 0, 28] { ext.extend(w.to_le_bytes()); }
//! for w in [16u32, sec, 1, 0, 2, acc, 0] { ext.extend(w.to_le_bytes()); }
//! let ext = BtfExt::parse(&ext, &local).unwrap();
//!
//! // r1 += 0 (the compiler's local offset of pid).
//! let insn = Insn { code: 0x07, dst: 1, src: 0, off: 0, imm: 0 };
//! let mut progs = vec![Program {
//!     name: "probe".into(), section: "kprobe/x".into(), insn_off: 0, insns: vec![insn],
//! }];
//! let report = relocate(&local, &ext, &mut progs, Target::new(&target));
//! assert!(!report.failed());
//! assert_eq!(progs[0].insns[0].imm, 8);
//! assert_eq!(report.log.last().unwrap(),
//!            "prog 'probe': relo #0: patched insn #0 (ALU/ALU64) imm 0 -> 8");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod calc;
mod cands;
mod compat;
mod engine;
mod error;
pub mod ext;
pub mod insn;
mod kind;
mod matching;
pub mod matrix;
pub mod mincore;
mod mincore_write;
mod patch;
mod spec;
mod util;

pub use calc::Fixup;
pub use cands::{Cand, Target};
pub use engine::{
    relocate, relocate_with, wanted_names, CandidateOutcome, ComputeError, Decision, Outcome,
    Program, RelocRecord, Relocator, Report, TargetSpec,
};
pub use error::{Error, Result};
pub use ext::{BtfExt, CoreRelo, FuncInfo, LineInfo};
pub use insn::Insn;
pub use kind::{kind_str, RelocKind};
pub use patch::{apply_fixup, LogStyle, PatchErr};
pub use util::kind_str as btf_kind_str;

/// Fuzzing entry point: parses `.BTF.ext` bytes against a local BTF and, if
/// that works, relocates zero-filled programs covering every record against
/// the local BTF itself. Must never panic, whatever the bytes.
pub fn fuzz_relocate(btf_bytes: &[u8], ext_bytes: &[u8]) {
    let Ok(local) = btf::Btf::parse(btf_bytes) else {
        return;
    };
    let Ok(ext) = BtfExt::parse(ext_bytes, &local) else {
        return;
    };
    let mut progs: Vec<Program> = ext
        .core_relos
        .iter()
        .map(|s| Program {
            name: "fuzz".into(),
            section: s.name.clone(),
            insn_off: 0,
            insns: vec![
                Insn::default();
                s.records
                    .iter()
                    .map(|r| r.insn_off as usize / 8 + 2)
                    .max()
                    .unwrap_or(0)
                    .min(1 << 16)
            ],
        })
        .collect();
    let _ = relocate(&local, &ext, &mut progs, Target::new(&local));
}

/// libbpf's `bpf_core_types_are_compat()`: whether local type `local_id`
/// and target type `targ_id` are compatible in the CO-RE sense (what
/// libbpf checks a kfunc's or typed `__ksym`'s declared type with).
/// Damaged or too deeply nested types count as incompatible.
pub fn types_are_compat(
    local: &btf::Btf<'_>,
    local_id: btf::TypeId,
    target: &btf::Btf<'_>,
    targ_id: btf::TypeId,
) -> bool {
    compat::types_are_compat(local, local_id, target, targ_id, compat::MAX_LEVEL).unwrap_or(false)
}
