//! Pinning a loaded object's programs and maps under a bpffs directory,
//! all or nothing: what one call pinned is removed again when a later pin
//! fails, and pins that were there before are never touched (`BPF_OBJ_PIN`
//! refuses an existing path).

use std::path::{Path, PathBuf};

use crate::loaded::LoadedObject;
use crate::sys;
use crate::{Error, Result};

impl LoadedObject {
    /// Pins every loaded program and every map under `dir` (created when
    /// missing), named as libbpf names them ([`pin_name`]). On failure,
    /// removes what this call pinned (and `dir` if it created it) and
    /// returns the error; on success the paths are added to
    /// [`LoadedObject::pinned`].
    pub fn pin_all(&mut self, dir: &Path) -> Result<()> {
        let mut done: Vec<PathBuf> = Vec::new();
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.display().to_string(),
                source,
            })?;
            done.push(dir.to_path_buf());
        }
        let res = self.pin_into(dir, &mut done);
        match res {
            Ok(()) => {
                self.pinned.extend(done);
                Ok(())
            }
            Err(e) => {
                for p in done.iter().rev() {
                    let _ = if p.is_dir() {
                        std::fs::remove_dir(p)
                    } else {
                        std::fs::remove_file(p)
                    };
                }
                Err(e)
            }
        }
    }

    fn pin_into(&self, dir: &Path, done: &mut Vec<PathBuf>) -> Result<()> {
        for p in &self.programs {
            if let Some(fd) = p.fd() {
                pin_component(&p.name, "program")?;
                let path = dir.join(pin_name(&p.name));
                sys::obj_pin(fd, &path).map_err(|source| Error::Syscall {
                    cmd: "BPF_OBJ_PIN",
                    what: format!("program '{}' at {}", p.name, path.display()),
                    source,
                })?;
                done.push(path);
            }
        }
        for m in &self.maps {
            if let Some(fd) = m.fd() {
                pin_component(&m.name, "map")?;
                let path = dir.join(pin_name(&m.name));
                sys::obj_pin(fd, &path).map_err(|source| Error::Syscall {
                    cmd: "BPF_OBJ_PIN",
                    what: format!("map '{}' at {}", m.name, path.display()),
                    source,
                })?;
                done.push(path);
            }
        }
        Ok(())
    }
}

/// Refuses a name (from the object) that would not stay one file name
/// under the pin directory.
pub(crate) fn pin_component(name: &str, what: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::Map {
            map: name.to_string(),
            why: format!("{what} name cannot be pinned as a file name under the pin directory"),
        });
    }
    Ok(())
}

/// The file name an object is pinned under: bpffs refuses '.' in names, so
/// libbpf (and bpftool) turn it into '_' (`maps_glo.rodata` ->
/// `maps_glo_rodata`).
pub fn pin_name(name: &str) -> String {
    name.replace('.', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_names_stay_one_file_name() {
        for bad in ["", ".", "..", "../etc", "a/b", "/abs"] {
            assert!(pin_component(bad, "map").is_err(), "{bad:?}");
        }
        for good in ["btfx_pinned", "maps_glo.rodata", "..x", "a.b.c"] {
            assert!(pin_component(good, "map").is_ok(), "{good:?}");
        }
        assert_eq!(pin_name("maps_glo.rodata"), "maps_glo_rodata");
    }
}
