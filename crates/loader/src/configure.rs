//! Configuring an opened object before it loads: libbpf's
//! `bpf_map__set_initial_value` (here per variable, checked against its
//! BTF type), `bpf_map__set_max_entries`, `bpf_map__set_map_flags`,
//! `bpf_map__reuse_fd`, `bpf_program__set_autoload`, `bpf_program__set_type`,
//! `bpf_program__set_expected_attach_type`, `bpf_program__set_log_level`
//! and `_set_log_buf` (here a size), and a target BTF shared across loads.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use crate::open::{GlobalVar, OpenObject, TargetBtf, VarShape};
use crate::sys::{AttachType, ProgramType};
use crate::{Error, Result};

fn var_err(name: &str, why: impl Into<String>) -> Error {
    Error::Config {
        what: format!("variable '{name}'"),
        why: why.into(),
    }
}

impl OpenObject {
    fn var(&self, name: &str) -> Result<GlobalVar> {
        self.global(name)
            .cloned()
            .ok_or_else(|| var_err(name, "no such global variable (with BTF) in the object"))
    }

    fn write_var(&mut self, v: &GlobalVar, bytes: &[u8]) -> Result<()> {
        let image = self
            .images
            .get_mut(&v.map)
            .ok_or_else(|| var_err(&v.name, format!("map '{}' has no initial image", v.map)))?;
        let start = v.offset as usize;
        let slot = image
            .get_mut(start..start + bytes.len())
            .ok_or_else(|| var_err(&v.name, "lies outside its section"))?;
        slot.copy_from_slice(bytes);
        Ok(())
    }

    /// Sets the initial value of global variable `name` from raw bytes
    /// (machine byte order), which must be exactly its BTF type's size.
    pub fn set_global(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let v = self.var(name)?;
        if bytes.len() != v.size as usize {
            return Err(var_err(
                name,
                format!(
                    "is {} bytes (BTF type id {}), {} given",
                    v.size,
                    v.type_id.0,
                    bytes.len()
                ),
            ));
        }
        self.write_var(&v, bytes)
    }

    /// Sets an integer, enum or `bool` variable; the value must fit its
    /// type (range and signedness checked).
    pub fn set_global_int(&mut self, name: &str, value: i128) -> Result<()> {
        let v = self.var(name)?;
        let (size, signed) = match v.shape {
            VarShape::Int { size, signed } => (size, signed),
            VarShape::Bool => {
                if !(0..=1).contains(&value) {
                    return Err(var_err(name, format!("is a bool, {value} given")));
                }
                (1, false)
            }
            _ => {
                return Err(var_err(
                    name,
                    format!("BTF type id {} is not an integer", v.type_id.0),
                ))
            }
        };
        if !(1..=16).contains(&size) {
            return Err(var_err(name, format!("integer of odd size {size}")));
        }
        let bits = size * 8;
        let fits = if signed {
            bits >= 128 || (value >= -(1i128 << (bits - 1)) && value < (1i128 << (bits - 1)))
        } else {
            value >= 0 && (bits >= 128 || value < (1i128 << bits))
        };
        if !fits {
            return Err(var_err(
                name,
                format!(
                    "{value} does not fit a {}{bits}-bit integer",
                    if signed { "signed " } else { "unsigned " }
                ),
            ));
        }
        let all = value.to_ne_bytes();
        let bytes = if cfg!(target_endian = "big") {
            all.get(16 - size as usize..)
        } else {
            all.get(..size as usize)
        }
        .unwrap_or_default()
        .to_vec();
        self.write_var(&v, &bytes)
    }

    /// Sets a `char[N]` variable to `s`, NUL-terminated and zero-padded;
    /// `s` must leave room for the NUL and hold none itself.
    pub fn set_global_str(&mut self, name: &str, s: &str) -> Result<()> {
        let v = self.var(name)?;
        let VarShape::CharArray { len } = v.shape else {
            return Err(var_err(
                name,
                format!("BTF type id {} is not a char array", v.type_id.0),
            ));
        };
        if s.as_bytes().contains(&0) || s.len() >= len as usize {
            return Err(var_err(
                name,
                format!(
                    "is char[{len}]: a string of {} bytes with its NUL does not fit",
                    s.len()
                ),
            ));
        }
        let mut bytes = vec![0u8; len as usize];
        bytes
            .get_mut(..s.len())
            .unwrap_or_default()
            .copy_from_slice(s.as_bytes());
        self.write_var(&v, &bytes)
    }

    /// Replaces the whole initial image of a global data map (libbpf's
    /// `bpf_map__set_initial_value`): `data` must be the map's value size.
    pub fn set_initial_value(&mut self, map: &str, data: &[u8]) -> Result<()> {
        let image = self.images.get_mut(map).ok_or_else(|| Error::Config {
            what: format!("map '{map}'"),
            why: "not a global data map of the object".into(),
        })?;
        if image.len() != data.len() {
            return Err(Error::Config {
                what: format!("map '{map}'"),
                why: format!("value is {} bytes, {} given", image.len(), data.len()),
            });
        }
        image.copy_from_slice(data);
        Ok(())
    }

    fn map_cfg(&mut self, map: &str) -> Result<&mut crate::open::MapConfig> {
        if !self.maps.iter().any(|m| m.name == map) {
            return Err(Error::Config {
                what: format!("map '{map}'"),
                why: "no such map in the object".into(),
            });
        }
        Ok(self.map_cfg.entry(map.to_string()).or_default())
    }

    /// Sets a map's `max_entries`.
    pub fn set_max_entries(&mut self, map: &str, max_entries: u32) -> Result<()> {
        self.map_cfg(map)?.max_entries = Some(max_entries);
        Ok(())
    }

    /// Sets a map's `map_flags` (replacing the object's).
    pub fn set_map_flags(&mut self, map: &str, flags: u32) -> Result<()> {
        self.map_cfg(map)?.flags = Some(flags);
        Ok(())
    }

    /// Uses an existing map instead of creating one (libbpf's
    /// `bpf_map__reuse_fd`); the load neither fills nor freezes it.
    pub fn reuse_map_fd(&mut self, map: &str, fd: OwnedFd) -> Result<()> {
        self.map_cfg(map)?.reuse = Some(fd);
        Ok(())
    }

    fn prog_idx(&self, prog: &str) -> Result<usize> {
        self.obj
            .programs()
            .iter()
            .position(|p| p.name == prog)
            .ok_or_else(|| Error::Program {
                prog: prog.to_string(),
                section: String::new(),
                why: "no such program in the object".into(),
            })
    }

    /// Whether [`OpenObject::load`] loads `prog` (default: every program).
    pub fn set_autoload(&mut self, prog: &str, on: bool) -> Result<()> {
        let i = self.prog_idx(prog)?;
        if let Some(c) = self.prog_cfg.get_mut(i) {
            c.autoload = on;
        }
        Ok(())
    }

    /// Loads only the named programs (autoload off for every other one).
    pub fn only(&mut self, progs: &[String]) -> Result<()> {
        for p in progs {
            self.prog_idx(p)?;
        }
        for (c, p) in self.prog_cfg.iter_mut().zip(self.obj.programs()) {
            c.autoload = progs.contains(&p.name);
        }
        Ok(())
    }

    /// Program type and expected attach type for `prog`, for section names
    /// libbpf does not know (or to override what the name says).
    pub fn set_program_type(
        &mut self,
        prog: &str,
        prog_type: ProgramType,
        expected_attach_type: Option<AttachType>,
    ) -> Result<()> {
        let i = self.prog_idx(prog)?;
        if let Some(c) = self.prog_cfg.get_mut(i) {
            c.prog_type = Some(prog_type);
            c.attach_type = expected_attach_type;
        }
        Ok(())
    }

    /// Verifier log for `prog`: `level` (1 = verbose, 2 = with states,
    /// 4 = stats; 0 = only on failure, the default) and buffer size in
    /// bytes (0: grown as needed up to 16 MiB). With a level set, the log
    /// is kept on success too ([`crate::ProgResult::log`]). A given size
    /// too small for the log fails the load with `ENOSPC` (the kernel's
    /// rule for a truncated log, as with libbpf's user-supplied buffer),
    /// keeping what fitted.
    pub fn set_program_log(&mut self, prog: &str, level: u32, size: u32) -> Result<()> {
        let i = self.prog_idx(prog)?;
        if let Some(c) = self.prog_cfg.get_mut(i) {
            c.log_level = Some(level);
            c.log_size = Some(size);
        }
        Ok(())
    }

    /// Verifier log level and size for every program without its own.
    pub fn set_log(&mut self, level: u32, size: u32) {
        self.log_level = level;
        self.log_size = size;
    }

    /// The target BTF CO-RE relocates against (default: the running
    /// kernel's `/sys/kernel/btf/vmlinux`, read at each load). One parsed
    /// target can serve many objects: see [`crate::open::parse_target`].
    pub fn set_target_btf(&mut self, target: TargetBtf) {
        self.target = Some(target);
    }

    /// Where maps declared `pinning = LIBBPF_PIN_BY_NAME` are pinned and
    /// looked for (libbpf's `pin_root_path`; default `/sys/fs/bpf`).
    pub fn set_pin_root(&mut self, dir: impl Into<PathBuf>) {
        self.pin_root = dir.into();
    }
}
