//! What a load produced: per-program and per-map outcomes, always complete.
//!
//! [`crate::OpenObject::load`] reports every program of the object and
//! every map, whatever failed. A failure carries the [`Stage`] that failed,
//! the errno (positive, libbpf's where libbpf names one) and the reason.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use crate::object::Insn;
use crate::sys::{AttachType, MapType, ProgramType};

/// Where a program or map failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Reading the program: no program type for its section name.
    Open,
    /// A map of the object could not be created (libbpf then loads no program).
    Map,
    /// An extern could not be resolved (libbpf then loads no program).
    Extern,
    /// CO-RE relocation failed (no target BTF, or a relocation libbpf
    /// refuses rather than poisons).
    CoRe,
    /// Linking: a relocation against a symbol the loader cannot resolve.
    Link,
    /// The attach target (`fentry/func`, `tp_btf/name`, ...) is not in the
    /// kernel's BTF.
    AttachTarget,
    /// `BPF_PROG_LOAD` refused it (the verifier, or the kernel before it).
    Verifier,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Open => "open",
            Stage::Map => "map",
            Stage::Extern => "extern",
            Stage::CoRe => "core",
            Stage::Link => "link",
            Stage::AttachTarget => "attach_target",
            Stage::Verifier => "verifier",
        })
    }
}

/// Why something did not load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The stage that failed.
    pub stage: Stage,
    /// errno (positive).
    pub errno: i32,
    /// One line saying why (for an object-level failure it names the map
    /// or extern at fault).
    pub reason: String,
    /// The last lines of the verifier log ([`Stage::Verifier`]), else empty.
    pub log_tail: String,
    /// The poisoned CO-RE relocation a verifier failure points at, if any.
    pub core: Option<String>,
}

/// What happened to a program.
#[derive(Debug)]
pub enum ProgOutcome {
    /// Loaded: kernel id and the program's fd (closed on drop).
    Loaded {
        /// Kernel program id.
        id: u32,
        /// The program.
        fd: OwnedFd,
    },
    /// Not loaded, and why.
    Failed(Failure),
    /// Not attempted: autoload was off (or `--prog` did not name it).
    Skipped,
}

/// One program's result.
#[derive(Debug)]
pub struct ProgResult {
    /// Program name.
    pub name: String,
    /// Section name as libbpf gives it (without the `?` of `SEC("?...")`).
    pub section: String,
    /// Program type it was (or would have been) loaded as.
    pub prog_type: Option<ProgramType>,
    /// Expected attach type.
    pub expected_attach_type: Option<AttachType>,
    /// The final instructions sent to the kernel (empty when it did not
    /// get that far).
    pub insns: Vec<Insn>,
    /// The verifier log, when a log level was configured (success
    /// included), else `None`.
    pub log: Option<String>,
    /// Outcome.
    pub outcome: ProgOutcome,
}

impl ProgResult {
    /// Instructions submitted (0 when it did not get that far).
    pub fn insn_cnt(&self) -> usize {
        self.insns.len()
    }

    /// True when the kernel accepted it.
    pub fn is_loaded(&self) -> bool {
        matches!(self.outcome, ProgOutcome::Loaded { .. })
    }

    /// The program fd, when loaded.
    pub fn fd(&self) -> Option<&OwnedFd> {
        match &self.outcome {
            ProgOutcome::Loaded { fd, .. } => Some(fd),
            _ => None,
        }
    }

    /// The kernel id, when loaded.
    pub fn id(&self) -> Option<u32> {
        match &self.outcome {
            ProgOutcome::Loaded { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The failure, when it failed.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.outcome {
            ProgOutcome::Failed(f) => Some(f),
            _ => None,
        }
    }
}

/// What happened to a map.
#[derive(Debug)]
pub enum MapOutcome {
    /// Created by this load.
    Created {
        /// Kernel map id.
        id: u32,
        /// The map (closed on drop).
        fd: OwnedFd,
    },
    /// An existing map was used: pinned by name, or an fd given with
    /// [`crate::OpenObject::reuse_map_fd`].
    Reused {
        /// Kernel map id.
        id: u32,
        /// The map.
        fd: OwnedFd,
    },
    /// Not created, and why ([`Stage::Map`]).
    Failed(Failure),
}

/// One map's result.
#[derive(Debug)]
pub struct MapResult {
    /// Map name (libbpf's `bpf_map__name()`).
    pub name: String,
    /// The name the kernel holds (at most 15 bytes; libbpf's internal name
    /// for global data maps).
    pub kernel_name: String,
    /// Map type.
    pub map_type: MapType,
    /// `max_entries` asked for (after configuration).
    pub max_entries: u32,
    /// Where it is pinned by name (`pinning = LIBBPF_PIN_BY_NAME`).
    pub pinned: Option<PathBuf>,
    /// Outcome.
    pub outcome: MapOutcome,
}

impl MapResult {
    /// The map fd, unless it failed.
    pub fn fd(&self) -> Option<&OwnedFd> {
        match &self.outcome {
            MapOutcome::Created { fd, .. } | MapOutcome::Reused { fd, .. } => Some(fd),
            MapOutcome::Failed(_) => None,
        }
    }

    /// The kernel id, unless it failed.
    pub fn id(&self) -> Option<u32> {
        match &self.outcome {
            MapOutcome::Created { id, .. } | MapOutcome::Reused { id, .. } => Some(*id),
            MapOutcome::Failed(_) => None,
        }
    }

    /// True when an existing map was used instead of creating one.
    pub fn reused(&self) -> bool {
        matches!(self.outcome, MapOutcome::Reused { .. })
    }
}

/// A loaded object: every map and program with its outcome. Everything the
/// kernel holds for it stays alive until this is dropped (or pinned).
#[derive(Debug)]
pub struct LoadedObject {
    /// Maps, in creation order (libbpf's).
    pub maps: Vec<MapResult>,
    /// Programs, in libbpf's order (every program of the object).
    pub programs: Vec<ProgResult>,
    /// The object's BTF in the kernel (if it loaded).
    pub btf_fd: Option<OwnedFd>,
    /// Why the kernel refused the object's BTF, when it did: like libbpf,
    /// the loader then goes on without it (programs load without
    /// func_info/line_info, maps without key/value types), and says so here.
    pub btf_error: Option<String>,
    /// The object-level failure (a map or an extern) that kept every
    /// program from loading, as libbpf fails the whole object for it.
    pub object_failure: Option<Failure>,
    /// The CO-RE report (libbpf's log lines and one record per
    /// relocation), when the object has CO-RE relocations.
    pub core: Option<core_reloc::Report>,
    /// Paths this load pinned (by-name maps it created), in order: what
    /// [`LoadedObject::unpin`] removes.
    pub pinned: Vec<PathBuf>,
    /// Why pinning under [`crate::LoadOptions::pin`] failed (everything
    /// this load pinned was removed again).
    pub pin_error: Option<String>,
}

impl LoadedObject {
    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&ProgResult> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The map named `name`.
    pub fn map(&self, name: &str) -> Option<&MapResult> {
        self.maps.iter().find(|m| m.name == name)
    }

    /// True when every program that was attempted loaded (skipped ones
    /// do not count) and no map failed.
    pub fn all_loaded(&self) -> bool {
        self.object_failure.is_none()
            && self
                .programs
                .iter()
                .all(|p| !matches!(p.outcome, ProgOutcome::Failed(_)))
            && self
                .maps
                .iter()
                .all(|m| !matches!(m.outcome, MapOutcome::Failed(_)))
            && self.pin_error.is_none()
    }

    /// Removes every pin this load (or [`LoadedObject::pin_all`]) created,
    /// in reverse order; pins that existed before are never touched.
    /// Returns the paths that could not be removed.
    pub fn unpin(&mut self) -> Vec<(PathBuf, std::io::Error)> {
        let mut left = Vec::new();
        while let Some(p) = self.pinned.pop() {
            let r = if p.is_dir() {
                std::fs::remove_dir(&p)
            } else {
                std::fs::remove_file(&p)
            };
            if let Err(e) = r {
                left.push((p, e));
            }
        }
        left
    }
}
