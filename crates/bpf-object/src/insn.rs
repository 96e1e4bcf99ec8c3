//! Eight-byte BPF instructions: the workspace's one instruction type lives
//! in core-reloc (which patches them); the object model decodes into it.

pub use core_reloc::insn::{
    Insn, CALL, EXIT, INSN_SIZE, LD_IMM64, PSEUDO_BTF_ID, PSEUDO_CALL, PSEUDO_FUNC,
    PSEUDO_KFUNC_CALL, PSEUDO_MAP_FD, PSEUDO_MAP_VALUE,
};
