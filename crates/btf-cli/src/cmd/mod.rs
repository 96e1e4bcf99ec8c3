//! One module per `btfx` subcommand: argument struct and `run`.

pub mod dump;
pub mod gen;
pub mod load;
pub mod reloc;
