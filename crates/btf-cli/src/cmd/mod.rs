//! One module per `btfx` subcommand: argument struct and `run`.

pub mod check;
pub mod dedup;
pub mod diff;
pub mod diff_graph;
pub mod dump;
pub mod field;
pub mod gen;
pub mod gen_btf;
pub mod load;
pub mod min_core;
pub mod reloc;
pub mod run;
