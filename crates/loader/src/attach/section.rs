//! The attach target a section name carries after its prefix, parsed as
//! libbpf's attach functions read it (`attach_tp`, `attach_raw_tp`,
//! `attach_kprobe`, `attach_ksyscall`, `attach_uprobe`, `attach_usdt`...).
//! The program type itself comes from the loader's section table; this
//! only reads what follows the prefix.

use super::error::{AttachError, Result};

/// What a section name says about where to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecTarget {
    /// `tp/<category>/<name>`, `tracepoint/<category>/<name>`.
    Tracepoint {
        /// Category (`syscalls`).
        category: String,
        /// Name (`sys_enter_write`).
        name: String,
    },
    /// `raw_tp/<name>`, `raw_tracepoint/<name>` (and `.w`).
    RawTracepoint(String),
    /// `tp_btf/`, `fentry/`, `fexit/`, `fmod_ret/`, `lsm/` (and `.s`): the
    /// target was fixed at load; this is its name.
    Tracing(String),
    /// `iter/<name>` (`task`, `bpf_map`...).
    Iter(String),
    /// `kprobe/<func>[+<offset>]`, `kretprobe/<func>`.
    Kprobe {
        /// Return probe.
        retprobe: bool,
        /// Kernel function.
        func: String,
        /// Offset into it.
        offset: u64,
    },
    /// `ksyscall/<syscall>`, `kretsyscall/<syscall>`.
    Ksyscall {
        /// Return probe.
        retprobe: bool,
        /// Syscall name (`openat`).
        name: String,
    },
    /// `kprobe.multi/<pattern>`, `kretprobe.multi/<pattern>`.
    KprobeMulti {
        /// Return probe.
        retprobe: bool,
        /// Glob of kernel functions.
        pattern: String,
    },
    /// `uprobe/<binary>:<func>[+<offset>]`, `uretprobe/...` (and `.s`).
    Uprobe {
        /// Return probe.
        retprobe: bool,
        /// Binary or library (a path, or a name to search for).
        binary: String,
        /// Function symbol, or `None` when the section gives an address.
        func: Option<String>,
        /// Offset (added to the symbol's, or the file offset itself).
        offset: u64,
    },
    /// `uprobe.multi/<binary>:<pattern>`, `uretprobe.multi/...`.
    UprobeMulti {
        /// Return probe.
        retprobe: bool,
        /// Binary or library.
        binary: String,
        /// Glob of function names.
        pattern: String,
    },
    /// `usdt/<binary>:<provider>:<name>`.
    Usdt {
        /// Binary or library.
        binary: String,
        /// Provider.
        provider: String,
        /// Probe name.
        name: String,
    },
    /// The section names no target (`tp`, `raw_tp`, `uprobe`, `usdt`,
    /// `kprobe`, `xdp`, `tc`, `cgroup/...`, `socket`, ...): where to attach
    /// comes from the program type and [`super::Targets`].
    None,
}

fn bad(section: &str, why: impl Into<String>) -> AttachError {
    AttachError::BadSection {
        section: section.to_string(),
        why: why.into(),
    }
}

/// Splits `section` at the first `/` when its head is one of `prefixes`.
fn after<'s>(section: &'s str, prefixes: &[&str]) -> Option<Option<&'s str>> {
    for p in prefixes {
        if section == *p {
            return Some(None);
        }
        if let Some(rest) = section.strip_prefix(p).and_then(|r| r.strip_prefix('/')) {
            return Some(Some(rest));
        }
    }
    None
}

/// Parses a number as C's `%li` does: decimal, `0x` hex or leading-`0` octal.
fn c_number(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// Reads the attach target out of `section`.
pub fn parse_section(section: &str) -> Result<SecTarget> {
    if let Some(rest) = after(section, &["tp", "tracepoint"]) {
        let Some(rest) = rest else {
            return Ok(SecTarget::None);
        };
        let (cat, name) = rest.split_once('/').ok_or_else(|| {
            bad(
                section,
                "expected <category>/<name> after the prefix (tp/syscalls/sys_enter_write)",
            )
        })?;
        if cat.is_empty() || name.is_empty() || name.contains('/') {
            return Err(bad(section, "expected <category>/<name> after the prefix"));
        }
        return Ok(SecTarget::Tracepoint {
            category: cat.into(),
            name: name.into(),
        });
    }
    if let Some(rest) = after(
        section,
        &["raw_tp", "raw_tracepoint", "raw_tp.w", "raw_tracepoint.w"],
    ) {
        return Ok(match rest {
            Some(n) if !n.is_empty() => SecTarget::RawTracepoint(n.into()),
            Some(_) => return Err(bad(section, "empty tracepoint name")),
            None => SecTarget::None,
        });
    }
    if let Some(rest) = after(
        section,
        &[
            "tp_btf",
            "fentry",
            "fentry.s",
            "fexit",
            "fexit.s",
            "fmod_ret",
            "fmod_ret.s",
            "lsm",
            "lsm.s",
            "lsm_cgroup",
            "freplace",
        ],
    ) {
        return Ok(SecTarget::Tracing(rest.unwrap_or_default().into()));
    }
    if let Some(rest) = after(section, &["iter", "iter.s"]) {
        return Ok(SecTarget::Iter(rest.unwrap_or_default().into()));
    }
    if let Some(rest) = after(
        section,
        &["kprobe.multi", "kretprobe.multi", "kprobe.session"],
    ) {
        return Ok(match rest {
            Some(p) => SecTarget::KprobeMulti {
                retprobe: section.starts_with("kret"),
                pattern: p.into(),
            },
            None => SecTarget::None,
        });
    }
    if let Some(rest) = after(section, &["kprobe", "kretprobe"]) {
        let retprobe = section.starts_with("kret");
        let Some(rest) = rest else {
            return Ok(SecTarget::None);
        };
        // libbpf: "%m[a-zA-Z0-9_.]+%li"; kretprobes take no offset.
        let (func, offset) = match rest.split_once('+') {
            Some((f, o)) => (
                f,
                c_number(o).ok_or_else(|| bad(section, format!("bad offset '{o}'")))?,
            ),
            None => (rest, 0),
        };
        if func.is_empty()
            || !func
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        {
            return Err(bad(section, format!("bad kernel function name '{func}'")));
        }
        if retprobe && offset != 0 {
            return Err(bad(section, "kretprobes do not take an offset"));
        }
        return Ok(SecTarget::Kprobe {
            retprobe,
            func: func.into(),
            offset,
        });
    }
    if let Some(rest) = after(section, &["ksyscall", "kretsyscall"]) {
        return Ok(match rest {
            Some(n) if !n.is_empty() => SecTarget::Ksyscall {
                retprobe: section.starts_with("kret"),
                name: n.into(),
            },
            _ => SecTarget::None,
        });
    }
    if let Some(rest) = after(
        section,
        &[
            "uprobe.multi",
            "uretprobe.multi",
            "uprobe.multi.s",
            "uretprobe.multi.s",
        ],
    ) {
        let Some(rest) = rest else {
            return Ok(SecTarget::None);
        };
        let (binary, pattern) = rest
            .split_once(':')
            .filter(|(b, p)| !b.is_empty() && !p.is_empty())
            .ok_or_else(|| bad(section, "expected uprobe.multi/<binary>:<pattern>"))?;
        return Ok(SecTarget::UprobeMulti {
            retprobe: section.starts_with("uret"),
            binary: binary.into(),
            pattern: pattern.into(),
        });
    }
    if let Some(rest) = after(section, &["uprobe", "uretprobe", "uprobe.s", "uretprobe.s"]) {
        let Some(rest) = rest else {
            return Ok(SecTarget::None);
        };
        return parse_uprobe(section, rest);
    }
    if let Some(rest) = after(section, &["usdt"]) {
        let Some(rest) = rest else {
            return Ok(SecTarget::None);
        };
        let parts: Vec<&str> = rest.split(':').collect();
        let [binary, provider, name] = parts.as_slice() else {
            return Err(bad(section, "expected usdt/<binary>:<provider>:<name>"));
        };
        if binary.is_empty() || provider.is_empty() || name.is_empty() {
            return Err(bad(section, "expected usdt/<binary>:<provider>:<name>"));
        }
        return Ok(SecTarget::Usdt {
            binary: (*binary).into(),
            provider: (*provider).into(),
            name: (*name).into(),
        });
    }
    Ok(SecTarget::None)
}

fn parse_uprobe(section: &str, rest: &str) -> Result<SecTarget> {
    let retprobe = section.starts_with("uret");
    // libbpf: "%m[^/]/%m[^:]:%m[^\n]": binary up to the first ':'.
    let (binary, spec) = rest.split_once(':').ok_or_else(|| {
        bad(
            section,
            "missing ':function[+offset]' after the binary (uprobe/<binary>:<function>)",
        )
    })?;
    if binary.is_empty() || spec.is_empty() {
        return Err(bad(
            section,
            "expected uprobe/<binary>:<function>[+<offset>]",
        ));
    }
    // A trailing "+<number>" is an offset; otherwise the whole thing is the
    // function name (libbpf keeps it when the number does not parse).
    let (func, mut offset) = match spec.rsplit_once('+') {
        Some((f, o)) => match c_number(o) {
            Some(n) => (f, n),
            None => (spec, 0),
        },
        None => (spec, 0),
    };
    let mut func = Some(func.to_string());
    // A bare address ("uprobe/bin:0x1234") is a file offset, no symbol.
    if let Some(n) = func.as_deref().and_then(c_number) {
        if func
            .as_deref()
            .is_some_and(|f| f.starts_with(|c: char| c.is_ascii_digit()))
        {
            offset = offset.saturating_add(n);
            func = None;
        }
    }
    if retprobe && offset != 0 && func.is_some() {
        return Err(bad(
            section,
            "uretprobes attach at function entry: no offset",
        ));
    }
    Ok(SecTarget::Uprobe {
        retprobe,
        binary: binary.into(),
        func,
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_section("tp/syscalls/sys_enter_write").unwrap(),
            SecTarget::Tracepoint {
                category: "syscalls".into(),
                name: "sys_enter_write".into()
            }
        );
        assert_eq!(parse_section("tp").unwrap(), SecTarget::None);
        assert!(parse_section("tracepoint/syscalls").is_err());
        assert_eq!(
            parse_section("raw_tp/sys_enter").unwrap(),
            SecTarget::RawTracepoint("sys_enter".into())
        );
        assert_eq!(
            parse_section("kprobe/do_unlinkat+0x10").unwrap(),
            SecTarget::Kprobe {
                retprobe: false,
                func: "do_unlinkat".into(),
                offset: 16
            }
        );
        assert!(parse_section("kretprobe/x+4").is_err());
        assert_eq!(
            parse_section("uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc+8").unwrap(),
            SecTarget::Uprobe {
                retprobe: false,
                binary: "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                func: Some("malloc".into()),
                offset: 8
            }
        );
        assert_eq!(
            parse_section("uretprobe/libc.so.6:free").unwrap(),
            SecTarget::Uprobe {
                retprobe: true,
                binary: "libc.so.6".into(),
                func: Some("free".into()),
                offset: 0
            }
        );
        assert_eq!(
            parse_section("uprobe/bin:0x1040").unwrap(),
            SecTarget::Uprobe {
                retprobe: false,
                binary: "bin".into(),
                func: None,
                offset: 0x1040
            }
        );
        assert!(parse_section("uprobe/bin").is_err());
        assert_eq!(
            parse_section("uretprobe.multi//bin/x:f*").unwrap(),
            SecTarget::UprobeMulti {
                retprobe: true,
                binary: "/bin/x".into(),
                pattern: "f*".into()
            }
        );
        assert!(parse_section("uprobe.multi/bin").is_err());
        assert_eq!(
            parse_section("usdt/./prog:btfx:tick").unwrap(),
            SecTarget::Usdt {
                binary: "./prog".into(),
                provider: "btfx".into(),
                name: "tick".into()
            }
        );
        assert!(parse_section("usdt/a:b").is_err());
        assert_eq!(
            parse_section("ksyscall/openat").unwrap(),
            SecTarget::Ksyscall {
                retprobe: false,
                name: "openat".into()
            }
        );
        assert_eq!(parse_section("xdp").unwrap(), SecTarget::None);
        assert_eq!(
            parse_section("fentry/do_unlinkat").unwrap(),
            SecTarget::Tracing("do_unlinkat".into())
        );
    }

    /// Section names cut and spliced from real ones never panic the parser.
    #[test]
    fn mutated_names_do_not_panic() {
        let seeds = [
            "tp/syscalls/sys_enter_write",
            "uprobe//usr/lib/libc.so.6:malloc+0x10",
            "uretprobe.multi/bin:f*",
            "usdt/./p:prov:name",
            "kprobe/do_unlinkat+0x1f",
            "ksyscall/openat",
            "raw_tp.w/sys_enter",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"/:+0x9aZ*._- \0\xff";
        for _ in 0..20_000 {
            let seed = seeds[(next() % seeds.len() as u64) as usize].as_bytes();
            let mut b = seed.to_vec();
            for _ in 0..(next() % 4) {
                let at = (next() % (b.len() as u64 + 1)) as usize;
                match next() % 3 {
                    0 => b.truncate(at),
                    1 => b.insert(at, alphabet[(next() % alphabet.len() as u64) as usize]),
                    _ => {
                        if at < b.len() {
                            b.remove(at);
                        }
                    }
                }
            }
            let s = String::from_utf8_lossy(&b);
            let _ = parse_section(&s);
        }
    }
}
