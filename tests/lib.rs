//! Helpers shared by the integration tests: fixture paths and oracle files.
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

/// The repository's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Reads a fixture file, gunzipping it when its name ends in `.gz`.
pub fn read_fixture(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out
    } else {
        raw
    }
}

/// Files in a fixture directory whose names end with `suffix`, sorted.
pub fn fixture_files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures().join(dir))
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The first differing line of two texts, for readable failures.
pub fn first_diff(ours: &[u8], theirs: &[u8]) -> Option<String> {
    let a: Vec<&[u8]> = ours.split(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = theirs.split(|&b| b == b'\n').collect();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x != y {
            let show = |l: Option<&&[u8]>| {
                l.map_or("<end>".to_string(), |l| {
                    String::from_utf8_lossy(l).into_owned()
                })
            };
            return Some(format!(
                "line {}:\n  ours:   {}\n  oracle: {}",
                i + 1,
                show(x),
                show(y)
            ));
        }
    }
    None
}
