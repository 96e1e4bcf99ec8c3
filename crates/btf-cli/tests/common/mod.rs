//! What the CLI tests that run the `btfx` binary share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (fixtures are named from there).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the `btfx` binary from the workspace root.
pub fn btfx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btfx"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("btfx runs")
}
