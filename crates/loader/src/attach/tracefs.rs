//! Finding tracefs (tracepoint ids, the trace pipe): where it is mounted,
//! or mounted at `/sys/kernel/tracing` when it is not.

use std::path::{Path, PathBuf};

use super::error::{AttachError, Result};
use crate::sys;

/// Where tracefs is mounted, read from `/proc/mounts` (tracefs itself, or
/// `tracing/` under a debugfs mount); mounts it at `/sys/kernel/tracing`
/// when neither is there (needs CAP_SYS_ADMIN).
pub fn root() -> Result<PathBuf> {
    if let Some(p) = mounted()? {
        return Ok(p);
    }
    let at = Path::new("/sys/kernel/tracing");
    sys::mount_pseudo("tracefs", at).map_err(|source| AttachError::Io {
        path: format!("mount -t tracefs nodev {}", at.display()),
        source,
    })?;
    Ok(at.to_path_buf())
}

fn mounted() -> Result<Option<PathBuf>> {
    let mounts = std::fs::read_to_string("/proc/mounts").map_err(|source| AttachError::Io {
        path: "/proc/mounts".into(),
        source,
    })?;
    let mut debugfs = None;
    for line in mounts.lines() {
        let mut f = line.split_whitespace();
        let (Some(_), Some(dir), Some(fs)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        match fs {
            "tracefs" => return Ok(Some(PathBuf::from(dir))),
            "debugfs" => debugfs = Some(PathBuf::from(dir).join("tracing")),
            _ => {}
        }
    }
    Ok(debugfs.filter(|p| p.join("events").is_dir()))
}

/// The id of tracepoint `category/name` (`events/<category>/<name>/id`).
pub fn tracepoint_id(category: &str, name: &str) -> Result<u64> {
    let bad = |why: &str| AttachError::Target {
        kind: super::LinkKind::Tracepoint,
        target: format!("{category}/{name}"),
        why: why.to_string(),
    };
    let ok = |s: &str| !s.is_empty() && !s.contains('/') && s != "." && s != "..";
    if !ok(category) || !ok(name) {
        return Err(bad("category and name must be single path components"));
    }
    let path = root()?.join("events").join(category).join(name).join("id");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad(&format!(
                "no such tracepoint ({} does not exist)",
                path.display()
            )))
        }
        Err(source) => {
            return Err(AttachError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    };
    text.trim().parse().map_err(|_| {
        bad(&format!(
            "{}: not a number: {:?}",
            path.display(),
            text.trim()
        ))
    })
}
