//! One module per `btfx` subcommand: argument struct and `run`.

pub mod check;
pub mod diff;
pub mod dump;
pub mod field;
pub mod gen;
pub mod load;
pub mod reloc;
pub mod run;
