//! Target candidates: types of the target with the same essential name and a
//! compatible kind (`bpf_core_find_cands` / `bpf_core_add_cands`).

use std::collections::HashMap;

use btf::{Btf, TypeId};

use crate::util::{essential_len, kind_and_name, kind_core_compat, kind_str, name_bytes};

/// The BTFs relocations are resolved against: the kernel's (`vmlinux`) and,
/// optionally, kernel module BTFs split over it.
#[derive(Debug, Clone)]
pub struct Target<'t> {
    vmlinux: &'t Btf<'t>,
    modules: Vec<(String, &'t Btf<'t>)>,
    /// vmlinux candidates by essential name, found by one pass over the
    /// types (see [`Target::prefetch`]); names not here use the index.
    prefetched: HashMap<Vec<u8>, Vec<TypeId>>,
}

impl<'t> Target<'t> {
    /// A target made of one kernel BTF, named `vmlinux` in the log (libbpf
    /// names a `btf_custom_path` target so too).
    pub fn new(vmlinux: &'t Btf<'t>) -> Target<'t> {
        Target {
            vmlinux,
            modules: Vec::new(),
            prefetched: HashMap::new(),
        }
    }

    /// Finds the vmlinux types of these essential names in one pass over
    /// its types, unless its name index is already built. A one-shot
    /// relocation asks for a few dozen names once, which costs less than
    /// building the whole index; the candidates (and their order) are the
    /// same either way.
    pub fn prefetch(&mut self, names: &[&[u8]]) {
        if self.vmlinux.index_built() {
            return;
        }
        let missing: Vec<&[u8]> = names
            .iter()
            .copied()
            .filter(|n| !self.prefetched.contains_key(*n))
            .collect();
        if missing.is_empty() {
            return;
        }
        let found = self.vmlinux.scan_by_essential(&missing);
        self.with_found(&missing, found);
    }

    /// This target with the vmlinux candidates of `names` already found:
    /// `found[i]` must list the vmlinux types of essential name `names[i]`
    /// in ascending id order, as [`Btf::scan_by_essential`] or
    /// [`Btf::parse_scanning`] give them.
    pub fn with_prefetched(mut self, names: &[&[u8]], found: Vec<Vec<TypeId>>) -> Target<'t> {
        self.with_found(names, found);
        self
    }

    fn with_found(&mut self, names: &[&[u8]], found: Vec<Vec<TypeId>>) {
        for (n, ids) in names.iter().zip(found) {
            self.prefetched.insert(n.to_vec(), ids);
        }
    }

    /// Adds a kernel module BTF (split over the vmlinux BTF), searched only
    /// when vmlinux has no candidate, as libbpf does.
    pub fn with_module(mut self, name: impl Into<String>, btf: &'t Btf<'t>) -> Target<'t> {
        self.modules.push((name.into(), btf));
        self
    }

    /// The kernel BTF.
    pub fn vmlinux(&self) -> &'t Btf<'t> {
        self.vmlinux
    }

    /// The BTF of candidate source `src` (0 is vmlinux, then modules).
    pub fn source(&self, src: usize) -> Option<(&str, &'t Btf<'t>)> {
        if src == 0 {
            return Some(("vmlinux", self.vmlinux));
        }
        self.modules.get(src - 1).map(|(n, b)| (n.as_str(), *b))
    }
}

/// One candidate: a type of one of the target's BTFs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cand {
    /// Source index (0 vmlinux, 1.. modules in the order given).
    pub src: usize,
    /// Type id in that BTF.
    pub id: TypeId,
}

fn add_cands(
    local: &Btf<'_>,
    local_id: TypeId,
    (src, src_name): (usize, &str),
    targ: &Btf<'_>,
    prefetched: Option<&HashMap<Vec<u8>, Vec<TypeId>>>,
    out: &mut Vec<Cand>,
    log: &mut Vec<String>,
) {
    let Some(lt) = local.type_by_id(local_id) else {
        return;
    };
    let lname = name_bytes(local, lt.name_off());
    let ll = essential_len(lname);
    let ess = &lname[..ll];
    let mut consider = |id: TypeId| {
        let Some(t) = targ.type_by_id(id) else { return };
        if !kind_core_compat(t.kind(), lt.kind()) {
            return;
        }
        let tn = name_bytes(targ, t.name_off());
        if tn.is_empty() || essential_len(tn) != ll || &tn[..ll] != ess {
            return;
        }
        let (_, ln) = kind_and_name(local, local_id);
        log.push(format!(
            "CO-RE relocating [{}] {} {}: found target candidate [{}] {} {} in [{}]",
            local_id.0,
            kind_str(lt.kind()),
            ln,
            id.0,
            kind_str(t.kind()),
            String::from_utf8_lossy(tn),
            src_name
        ));
        out.push(Cand { src, id });
    };
    if let Some(ids) = prefetched.and_then(|p| p.get(ess)) {
        for &id in ids {
            consider(id);
        }
        return;
    }
    match std::str::from_utf8(ess) {
        Ok(s) => {
            for id in targ.index().by_essential(targ, s) {
                consider(id);
            }
        }
        Err(_) => {
            for id in targ.start_id().0..targ.type_count() {
                consider(TypeId(id));
            }
        }
    }
}

/// Finds the candidates of local type `local_id`, logging each as libbpf.
/// `Err` is libbpf's errno (anonymous or missing local type).
pub(crate) fn find_cands(
    local: &Btf<'_>,
    local_id: TypeId,
    target: &Target<'_>,
    log: &mut Vec<String>,
) -> Result<Vec<Cand>, i32> {
    let lt = local
        .type_by_id(local_id)
        .ok_or(crate::error::errno::EINVAL)?;
    if name_bytes(local, lt.name_off()).is_empty() {
        return Err(crate::error::errno::EINVAL);
    }
    let mut out = Vec::new();
    add_cands(
        local,
        local_id,
        (0, "vmlinux"),
        target.vmlinux,
        Some(&target.prefetched),
        &mut out,
        log,
    );
    if !out.is_empty() {
        return Ok(out);
    }
    for (i, (name, m)) in target.modules.iter().enumerate() {
        add_cands(local, local_id, (i + 1, name), m, None, &mut out, log);
    }
    Ok(out)
}
