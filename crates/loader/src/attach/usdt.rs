//! USDT probes (`usdt/<binary>:<provider>:<name>`), as libbpf's
//! `bpf_program__attach_usdt`: every call site of the probe in the binary
//! (its `.note.stapsdt` notes) gets a uprobe at its file offset, with the
//! semaphore's file offset as the uprobe's `ref_ctr_offset` (the kernel
//! counts attached probes there, so `if (provider_name_ENABLED())` code
//! runs). The BPF side is the object's own `usdt.bpf.h` code: the argument
//! specs go into its `__bpf_usdt_specs` array map, one slot per distinct
//! spec, and each uprobe's BPF cookie is the slot (kernels with BPF cookies,
//! 5.15+; the `__bpf_usdt_ip_to_spec_id` map that older kernels need is not
//! filled, and such kernels are refused).
//!
//! Slots are handed out by a [`UsdtManager`], one per loaded object, and
//! given back when the link is dropped.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use super::error::{AttachError, Result};
use super::link::Detach;
use super::uprobe::{attach_uprobe_at, UprobeOpts};
use super::usdt_spec::{encode_spec, notes, SPEC_SIZE};
use super::{elfsym, Link, LinkKind};
use crate::sys;

/// The spec slots of one object's `__bpf_usdt_specs` map.
#[derive(Debug, Clone)]
pub struct UsdtManager {
    inner: Arc<Mutex<Slots>>,
}

#[derive(Debug)]
struct Slots {
    specs: OwnedFd,
    used: Vec<bool>,
}

impl UsdtManager {
    /// Takes the object's `__bpf_usdt_specs` map (duplicating its fd);
    /// checks that its values are `struct __bpf_usdt_spec` as libbpf 1.x
    /// lays it out.
    pub fn new(specs_map: BorrowedFd<'_>) -> Result<UsdtManager> {
        let fd = specs_map
            .try_clone_to_owned()
            .map_err(|e| AttachError::sys(LinkKind::Usdt, "__bpf_usdt_specs", "dup", e))?;
        let info = sys::map_info(specs_map).map_err(|e| {
            AttachError::sys(
                LinkKind::Usdt,
                "__bpf_usdt_specs",
                "BPF_OBJ_GET_INFO_BY_FD",
                e,
            )
        })?;
        if info.value_size as usize != SPEC_SIZE || info.key_size != 4 || info.map_type.raw() != 2 {
            return Err(AttachError::Target {
                kind: LinkKind::Usdt,
                target: "__bpf_usdt_specs".into(),
                why: format!(
                    "expected an array of {SPEC_SIZE}-byte struct __bpf_usdt_spec (usdt.bpf.h), found map type {} key {} value {}",
                    info.map_type, info.key_size, info.value_size
                ),
            });
        }
        Ok(UsdtManager {
            inner: Arc::new(Mutex::new(Slots {
                specs: fd,
                used: vec![false; info.max_entries as usize],
            })),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Slots in use (for tests and diagnostics).
    pub fn slots_in_use(&self) -> usize {
        self.lock().used.iter().filter(|u| **u).count()
    }
}

/// Gives slots back when a USDT link is dropped.
#[derive(Debug)]
struct Release {
    mgr: UsdtManager,
    ids: Vec<u32>,
}

impl Detach for Release {
    fn detach(&mut self) -> std::io::Result<()> {
        let mut s = self.mgr.lock();
        for id in self.ids.drain(..) {
            if let Some(u) = s.used.get_mut(id as usize) {
                *u = false;
            }
        }
        Ok(())
    }
}

/// Options of a USDT attachment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsdtOpts {
    /// Only in this process.
    pub pid: Option<i32>,
    /// `bpf_usdt_cookie()` value.
    pub cookie: u64,
}

/// Attaches `prog` to every call site of `provider:name` in `binary`.
pub fn attach_usdt(
    prog: BorrowedFd<'_>,
    mgr: &UsdtManager,
    binary: &str,
    provider: &str,
    name: &str,
    opts: &UsdtOpts,
) -> Result<Link> {
    let path = elfsym::resolve_binary(LinkKind::Usdt, binary)?;
    let target = format!("{}:{provider}:{name}", path.display());
    let bytes = elfsym::open(&path)?;
    let file = elfsym::parse(LinkKind::Usdt, &path, &bytes)?;
    let err = |why: String| AttachError::Target {
        kind: LinkKind::Usdt,
        target: target.clone(),
        why,
    };
    let sites: Vec<_> = notes(&file)
        .map_err(err)?
        .into_iter()
        .filter(|n| n.provider == provider && n.name == name)
        .collect();
    if sites.is_empty() {
        return Err(err("no such probe in .note.stapsdt".into()));
    }
    // Encode every site's spec, give each distinct one a slot.
    let mut specs: Vec<[u8; SPEC_SIZE]> = Vec::new();
    let mut plan = Vec::new();
    for s in &sites {
        let spec = encode_spec(&s.args, opts.cookie)
            .map_err(|e| err(format!("{e} (at {:#x})", s.addr)))?;
        let idx = match specs.iter().position(|x| *x == spec) {
            Some(i) => i,
            None => {
                specs.push(spec);
                specs.len() - 1
            }
        };
        let off = elfsym::vaddr_to_offset(&file, s.addr)
            .ok_or_else(|| err(format!("probe address {:#x} is in no segment", s.addr)))?;
        let sema = if s.semaphore == 0 {
            0
        } else {
            elfsym::vaddr_to_offset(&file, s.semaphore).ok_or_else(|| {
                err(format!(
                    "semaphore address {:#x} is in no segment",
                    s.semaphore
                ))
            })?
        };
        plan.push((idx, off, sema));
    }
    let ids = {
        let mut slots = mgr.lock();
        let free: Vec<u32> = slots
            .used
            .iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .map(|(i, _)| i as u32)
            .take(specs.len())
            .collect();
        if free.len() < specs.len() {
            return Err(err(format!(
                "__bpf_usdt_specs is full ({} slots)",
                slots.used.len()
            )));
        }
        for (id, spec) in free.iter().zip(&specs) {
            sys::map_update(&slots.specs, &id.to_ne_bytes(), spec, 0).map_err(|e| {
                AttachError::sys(
                    LinkKind::Usdt,
                    &*target,
                    "BPF_MAP_UPDATE_ELEM __bpf_usdt_specs",
                    e,
                )
            })?;
        }
        for id in &free {
            if let Some(u) = slots.used.get_mut(*id as usize) {
                *u = true;
            }
        }
        free
    };
    // The release goes first in the group so slots return even when a
    // later uprobe fails (the group drops everything attached so far).
    let mut parts = vec![Link::legacy(
        LinkKind::Usdt,
        target.clone(),
        Box::new(Release {
            mgr: mgr.clone(),
            ids: ids.clone(),
        }),
    )];
    for (idx, off, sema) in plan {
        let id = ids.get(idx).copied().unwrap_or(0);
        let uo = UprobeOpts {
            retprobe: false,
            pid: opts.pid,
            ref_ctr_offset: sema,
            cookie: u64::from(id),
            legacy_tracefs: false,
        };
        let site = format!("{target} @ {off:#x}");
        let l = attach_uprobe_at(LinkKind::Usdt, prog, &path, off, site, &uo)?;
        if l.fd().is_none() {
            return Err(err(
                "this kernel has no BPF perf links with cookies (5.15+); btfx does not fill __bpf_usdt_ip_to_spec_id".into(),
            ));
        }
        parts.push(l);
    }
    Ok(Link::many(LinkKind::Usdt, target, parts))
}
