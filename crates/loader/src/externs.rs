//! Extern symbols: `.kconfig` values (laid out as libbpf does) and `__ksym`s.

use std::collections::HashMap;
use std::io::Read;

use btf::{Btf, IntEncoding, Kind, TypeId};

use crate::object::Object;
use crate::{Error, Result};

/// One `__kconfig` extern, placed in the `.kconfig` map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kcfg {
    /// Extern name (`LINUX_KERNEL_VERSION`, `CONFIG_...`).
    pub name: String,
    /// Its VAR type id in the object's BTF.
    pub var: TypeId,
    /// Offset in the map value.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// `__weak`.
    pub weak: bool,
}

/// One `__ksym` extern (kernel variable or kfunc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ksym {
    /// Symbol name.
    pub name: String,
    /// True for a function (kfunc), false for a variable.
    pub func: bool,
    /// `__weak`.
    pub weak: bool,
    /// A typeless ksym (`extern const void x __ksym`): its address comes
    /// from /proc/kallsyms, not from BTF.
    pub typeless: bool,
    /// The extern's own type in the object's BTF: the FUNC_PROTO of a
    /// kfunc, the VAR's type of a variable (0 for typeless ones).
    pub local_type: TypeId,
    /// What it resolved to in the running kernel ([`resolve_ksyms`]).
    pub value: KsymValue,
}

/// What a `__ksym` resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsymValue {
    /// Not resolved (yet, or a missing `__weak` one).
    Missing,
    /// A FUNC or VAR of vmlinux BTF.
    Btf(TypeId),
    /// An address from /proc/kallsyms (typeless ksyms).
    Addr(u64),
}

/// All externs of an object.
#[derive(Debug, Clone, Default)]
pub struct Externs {
    /// `.kconfig` externs in map layout order.
    pub kcfg: Vec<Kcfg>,
    /// The `.kconfig` map value (empty when there are no kconfig externs).
    pub kcfg_data: Vec<u8>,
    /// `.kconfig` DATASEC id (0 if absent).
    pub kcfg_datasec: TypeId,
    /// `.ksyms` externs.
    pub ksyms: Vec<Ksym>,
}

impl Externs {
    /// The kconfig extern named `name`.
    pub fn kcfg(&self, name: &str) -> Option<&Kcfg> {
        self.kcfg.iter().find(|k| k.name == name)
    }
    /// The ksym named `name`.
    pub fn ksym(&self, name: &str) -> Option<&Ksym> {
        self.ksyms.iter().find(|k| k.name == name)
    }
}

/// The running kernel's release string, from `/proc/sys/kernel/osrelease`.
pub fn kernel_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string())
}

/// `KERNEL_VERSION(a, b, c)` of a release string such as `6.18.44-fc`.
pub fn kernel_version(release: &str) -> u32 {
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let a = it.next().unwrap_or(0);
    let b = it.next().unwrap_or(0);
    let c = it.next().unwrap_or(0).min(255);
    (a << 16) | (b << 8) | c
}

/// The kernel config as `NAME -> value` (from `/proc/config.gz`, else
/// `/boot/config-<release>`); empty when neither is readable.
pub fn kernel_config() -> HashMap<String, String> {
    let mut text = String::new();
    let ok = std::fs::File::open("/proc/config.gz")
        .ok()
        .and_then(|f| {
            flate2::read::GzDecoder::new(f)
                .read_to_string(&mut text)
                .ok()
        })
        .is_some();
    if !ok {
        text = kernel_release()
            .and_then(|r| std::fs::read_to_string(format!("/boot/config-{r}")).ok())
            .unwrap_or_default();
    }
    text.lines()
        .filter(|l| l.starts_with("CONFIG_"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ext_err(name: &str, why: impl Into<String>) -> Error {
    Error::Symbol {
        index: 0,
        name: name.to_string(),
        why: why.into(),
    }
}

/// Encodes a config value for an extern of BTF type `ty` (size `size`).
fn encode(btf: &Btf<'_>, name: &str, ty: TypeId, size: u32, v: &str, out: &mut [u8]) -> Result<()> {
    let t = btf.skip_mods_and_typedefs(ty)?;
    let is_bool = t.int().is_some_and(|i| i.encoding == IntEncoding::Bool);
    let tristate = t.kind() == Kind::Enum && btf.name(t.name_off()) == "libbpf_tristate";
    // libbpf's KCFG_CHAR: any one-byte integer that is not a bool.
    let is_char = t.int().is_some() && !is_bool && size == 1;
    let num: Option<i64> = match (v, is_bool || tristate) {
        // libbpf: a `char` extern gets the letter itself.
        ("y" | "n" | "m", false) if is_char => v.bytes().next().map(i64::from),
        ("y", true) => Some(1),
        ("n", true) => Some(0),
        ("m", true) if tristate => Some(2),
        (_, true) => {
            return Err(ext_err(
                name,
                format!("value '{v}' does not fit a bool/tristate"),
            ))
        }
        _ => None,
    };
    if let Some(n) = num {
        if let Some(b) = out.first_mut() {
            *b = n as u8;
        }
        return Ok(());
    }
    if let Some(s) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        if t.kind() != Kind::Array {
            return Err(ext_err(name, "string value for a non-array extern"));
        }
        for (o, b) in out
            .iter_mut()
            .zip(s.bytes().take(size.saturating_sub(1) as usize))
        {
            *o = b;
        }
        return Ok(());
    }
    let n = if let Some(h) = v.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else {
        v.parse::<i64>().ok()
    }
    .ok_or_else(|| ext_err(name, format!("value '{v}' is not a number")))?;
    let bytes = n.to_le_bytes();
    let bytes = if cfg!(target_endian = "big") {
        n.to_be_bytes()
    } else {
        bytes
    };
    let n = size.min(8) as usize;
    match (out.get_mut(..n), cfg!(target_endian = "big")) {
        (Some(o), false) => o.copy_from_slice(bytes.get(..n).unwrap_or_default()),
        (Some(o), true) => o.copy_from_slice(bytes.get(8 - n..).unwrap_or_default()),
        (None, _) => {}
    }
    Ok(())
}

/// Collects the externs of `obj`, lays out `.kconfig` (alignment descending,
/// then size ascending, then name, as libbpf sorts) and fills its values.
pub fn collect(obj: &Object, btf: Option<&Btf<'_>>) -> Result<Externs> {
    let mut ex = Externs::default();
    let externs: Vec<_> = obj
        .symbols()
        .iter()
        .filter(|s| s.is_undefined() && s.is_global() && !s.name.is_empty())
        .collect();
    if externs.is_empty() {
        return Ok(ex);
    }
    let btf = btf.ok_or_else(|| ext_err(&externs[0].name, "extern without .BTF in the object"))?;
    let find_in = |sec: &str, name: &str| -> Option<TypeId> {
        let ds = btf.find_by_name_kind(sec, Kind::Datasec)?;
        btf.get(ds).ok()?.datasec_vars().map(|v| v.ty).find(|&id| {
            btf.get(id)
                .map(|t| btf.name(t.name_off()) == name)
                .unwrap_or(false)
        })
    };
    let mut kc = Vec::new();
    for s in externs {
        if let Some(var) = find_in(".kconfig", &s.name) {
            let ty = btf.get(var)?.type_ref();
            let size = u32::try_from(btf.resolve_size(ty)?).unwrap_or(u32::MAX);
            let align = btf.align_of(ty)?;
            kc.push((align, size, s.name.clone(), var, s.is_weak()));
        } else if let Some(id) = find_in(".ksyms", &s.name) {
            let t = btf.get(id)?;
            let func = t.kind() == Kind::Func;
            let local_type = match func {
                true => t.type_ref(),
                false => btf.skip_mods_and_typedefs(t.type_ref())?.id(),
            };
            ex.ksyms.push(Ksym {
                name: s.name.clone(),
                func,
                weak: s.is_weak(),
                typeless: !func && local_type.0 == 0,
                local_type,
                value: KsymValue::Missing,
            });
        } else {
            return Err(Error::Symbol {
                index: s.index,
                name: s.name.clone(),
                why: "undefined symbol is neither a .kconfig nor a .ksyms extern".into(),
            });
        }
    }
    kc.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut off = 0u32;
    for (align, size, name, var, weak) in kc {
        let align = align.max(1);
        off = off.div_ceil(align).saturating_mul(align);
        ex.kcfg.push(Kcfg {
            name,
            var,
            offset: off,
            size,
            weak,
        });
        off = off.saturating_add(size);
    }
    if !ex.kcfg.is_empty() {
        ex.kcfg_datasec = btf
            .find_by_name_kind(".kconfig", Kind::Datasec)
            .unwrap_or(TypeId(0));
        // As libbpf: the map (and its DATASEC) end where the last value
        // ends, unrounded.
        if off as usize > crate::maps::MAX_ZERO_IMAGE {
            return Err(ext_err(
                &ex.kcfg.last().map(|k| k.name.clone()).unwrap_or_default(),
                format!("the .kconfig externs take {off} bytes, more than a map value can hold"),
            ));
        }
        ex.kcfg_data = vec![0; off as usize];
        let config = kernel_config();
        let release = kernel_release().unwrap_or_default();
        for k in &ex.kcfg {
            let ty = btf.get(k.var)?.type_ref();
            let start = k.offset as usize;
            let slot = ex
                .kcfg_data
                .get_mut(start..start + k.size as usize)
                .ok_or_else(|| ext_err(&k.name, "layout overflow"))?;
            let value = if k.name == "LINUX_KERNEL_VERSION" {
                Some(kernel_version(&release).to_string())
            } else if k.name == "LINUX_HAS_SYSCALL_WRAPPER" {
                Some(if has_syscall_wrapper() { "y" } else { "n" }.to_string())
            } else if k.name == "LINUX_HAS_BPF_COOKIE" {
                // bpf_get_attach_cookie exists since 5.15.
                Some(
                    if kernel_version(&release) >= (5 << 16 | 15 << 8) {
                        "y"
                    } else {
                        "n"
                    }
                    .to_string(),
                )
            } else if k.name.starts_with("CONFIG_") {
                config.get(&k.name).cloned()
            } else {
                None
            };
            match value {
                Some(v) => encode(btf, &k.name, ty, k.size, &v, slot)?,
                None if k.weak => {}
                None => {
                    return Err(ext_err(
                        &k.name,
                        "strong .kconfig extern not found in the kernel config",
                    ))
                }
            }
        }
    }
    Ok(ex)
}

/// Resolves every `__ksym` of `ex` against the running kernel as libbpf
/// does (`bpf_object__resolve_externs`): kfuncs and typed variables by
/// name in vmlinux BTF (kfuncs must have a compatible prototype, typed
/// variables a compatible type), typeless ones from `kallsyms` (the text
/// of /proc/kallsyms). A missing `__weak` extern stays
/// [`KsymValue::Missing`]; a missing strong one is an error naming it.
/// Module BTFs are not searched (this loader does not read them yet).
pub fn resolve_ksyms(
    ex: &mut Externs,
    local: &Btf<'_>,
    vmlinux: Option<&Btf<'_>>,
    kallsyms: impl FnOnce() -> String,
) -> Result<()> {
    let mut kallsyms = Some(kallsyms);
    let mut addrs: HashMap<String, u64> = HashMap::new();
    let typeless: Vec<String> = ex
        .ksyms
        .iter()
        .filter(|k| k.typeless)
        .map(|k| k.name.clone())
        .collect();
    for k in &mut ex.ksyms {
        if k.typeless {
            if let Some(read) = kallsyms.take() {
                let wanted: std::collections::HashSet<&str> =
                    typeless.iter().map(String::as_str).collect();
                for line in read().lines() {
                    let mut f = line.split_whitespace();
                    let (Some(a), Some(_), Some(n)) = (f.next(), f.next(), f.next()) else {
                        continue;
                    };
                    if !wanted.contains(n) {
                        continue;
                    }
                    if let Ok(a) = u64::from_str_radix(a, 16) {
                        addrs.entry(n.to_string()).or_insert(a);
                    }
                }
            }
            match addrs.get(&k.name) {
                Some(&a) => k.value = KsymValue::Addr(a),
                None if k.weak => {}
                None => {
                    return Err(ext_err(
                        &k.name,
                        "extern (ksym) not found in /proc/kallsyms (strong extern not resolved)",
                    ))
                }
            }
            continue;
        }
        let kind = if k.func { Kind::Func } else { Kind::Var };
        let what = if k.func { "func ksym" } else { "var ksym" };
        let Some(id) = vmlinux.and_then(|v| v.find_by_name_kind(&k.name, kind)) else {
            if k.weak {
                continue;
            }
            return Err(ext_err(
                &k.name,
                format!("extern ({what}) not found in kernel BTF (strong extern not resolved)"),
            ));
        };
        let v = vmlinux.ok_or_else(|| ext_err(&k.name, "no vmlinux BTF"))?;
        let kt = v.get(id)?;
        let (kern_type, local_type) = match k.func {
            true => (kt.type_ref(), k.local_type),
            false => (v.skip_mods_and_typedefs(kt.type_ref())?.id(), k.local_type),
        };
        if !core_reloc::types_are_compat(local, local_type, v, kern_type) {
            return Err(ext_err(
                &k.name,
                format!(
                    "extern ({what}): {} [{}] incompatible with kernel [{}]",
                    if k.func { "func_proto" } else { "type" },
                    local_type.0,
                    kern_type.0
                ),
            ));
        }
        k.value = KsymValue::Btf(id);
    }
    Ok(())
}

/// [`resolve_ksyms`] against the running kernel: /proc/kallsyms is read
/// only when a typeless ksym needs it.
pub fn resolve_running(ex: &mut Externs, local: &Btf<'_>, vmlinux: Option<&Btf<'_>>) -> Result<()> {
    resolve_ksyms(ex, local, vmlinux, || {
        std::fs::read_to_string("/proc/kallsyms").unwrap_or_default()
    })
}

/// libbpf's probe for `LINUX_HAS_SYSCALL_WRAPPER`: it creates a kprobe on
/// `__<arch>_sys_bpf`, so the answer is yes only where that symbol exists
/// and kprobes can be made (a kprobe PMU or tracefs `kprobe_events`).
fn has_syscall_wrapper() -> bool {
    let sym = if cfg!(target_arch = "x86_64") {
        "__x64_sys_bpf"
    } else if cfg!(target_arch = "aarch64") {
        "__arm64_sys_bpf"
    } else if cfg!(target_arch = "s390x") {
        "__s390x_sys_bpf"
    } else {
        return false;
    };
    let kprobes = std::path::Path::new("/sys/bus/event_source/devices/kprobe/type").exists()
        || std::path::Path::new("/sys/kernel/tracing/kprobe_events").exists()
        || std::path::Path::new("/sys/kernel/debug/tracing/kprobe_events").exists();
    kprobes
        && std::fs::read_to_string("/proc/kallsyms")
            .is_ok_and(|t| t.lines().any(|l| l.split_whitespace().nth(2) == Some(sym)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions() {
        assert_eq!(
            super::kernel_version("6.18.44-fc-v782"),
            (6 << 16) | (18 << 8) | 44
        );
        assert_eq!(super::kernel_version("5.4.300"), (5 << 16) | (4 << 8) | 255);
    }
}
