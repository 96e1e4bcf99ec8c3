//! Input resolution: `vmlinux`, raw BTF files, ELF files, split BTF bases.

use std::sync::Arc;

use btf::{Btf, ParseOptions, TypeId};
use loader::sys::FileBytes;

/// Where `vmlinux` points.
pub const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Files read for one BTF input: the input and its base, if any.
pub struct Loaded {
    path: String,
    data: FileBytes,
    base: Option<(String, FileBytes)>,
}

/// Maps the word `vmlinux` to the kernel's BTF.
pub fn resolve_path(input: &str) -> &str {
    if input == "vmlinux" {
        VMLINUX
    } else {
        input
    }
}

/// Maps (or reads) a whole input file; errors name the path.
pub fn read(path: &str) -> Result<FileBytes, String> {
    FileBytes::open(path).map_err(|e| format!("{path}: {e}"))
}

impl Loaded {
    /// Reads the input (and base) files. A module under /sys/kernel/btf gets
    /// vmlinux as its base automatically, as bpftool does.
    pub fn open(input: &str, base: Option<&str>) -> Result<Loaded, String> {
        let path = resolve_path(input).to_owned();
        let data = read(&path)?;
        let base = match base {
            Some(b) => Some(resolve_path(b).to_owned()),
            None if path.starts_with("/sys/kernel/btf/") && path != VMLINUX => {
                Some(VMLINUX.to_owned())
            }
            None => None,
        };
        let base = match base {
            Some(b) => {
                let d = read(&b)?;
                Some((b, d))
            }
            None => None,
        };
        Ok(Loaded { path, data, base })
    }

    /// Parses what was read, single-threaded: in a process that lives a
    /// few milliseconds, a second validation thread costs more than it
    /// saves (one-shot `btfx reloc` against vmlinux: 5.4-7.9 ms single,
    /// 5.7-8.3 ms with two threads, on a 2-vCPU VM).
    pub fn btf(&self) -> Result<Btf<'_>, String> {
        let opts = ParseOptions::default().threads(false);
        let base = self.base_btf(opts)?;
        Btf::parse_any_with(&self.data, base, opts).map_err(|e| format!("{}: {e}", self.path))
    }

    fn base_btf(&self, opts: ParseOptions) -> Result<Option<Arc<Btf<'_>>>, String> {
        match &self.base {
            Some((p, d)) => Btf::parse_any_with(d, None, opts)
                .map(|b| Some(Arc::new(b)))
                .map_err(|e| format!("{p}: {e}")),
            None => Ok(None),
        }
    }

    /// [`Loaded::btf`], and the types of these essential names in it
    /// (`Btf::scan_by_essential`), searched for on a second thread while
    /// the BTF is parsed (`Btf::parse_scanning`).
    pub fn btf_scanning(&self, names: &[&[u8]]) -> Result<(Btf<'_>, Vec<Vec<TypeId>>), String> {
        let opts = ParseOptions::default().threads(false);
        let base = self.base_btf(opts)?;
        Btf::parse_scanning(&self.data, base, opts, names)
            .map_err(|e| format!("{}: {e}", self.path))
    }
}
