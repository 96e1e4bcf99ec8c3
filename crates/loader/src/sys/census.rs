//! What the kernel holds: the ids of every BPF program, map, link and BTF
//! object, read with the `BPF_*_GET_NEXT_ID` commands (as `bpftool prog
//! list` walks them).
//!
//! Tests take a [`Census`] before touching the kernel and ask
//! [`Census::leaks_since`] afterwards: an object whose id is new and still
//! alive was left behind. Freeing is asynchronous in the kernel (a closed
//! program lingers until an RCU grace period ends), so the comparison
//! retries for a short while before it reports.

use std::collections::BTreeSet;
use std::io;
use std::time::{Duration, Instant};

use super::{bpf, Attr};

const BPF_PROG_GET_NEXT_ID: u32 = 11;
const BPF_MAP_GET_NEXT_ID: u32 = 12;
const BPF_BTF_GET_NEXT_ID: u32 = 23;
const BPF_LINK_GET_NEXT_ID: u32 = 31;

/// The ids of the BPF objects alive in the kernel at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// Program ids.
    pub progs: BTreeSet<u32>,
    /// Map ids.
    pub maps: BTreeSet<u32>,
    /// Link ids.
    pub links: BTreeSet<u32>,
    /// BTF object ids (vmlinux's own is among them).
    pub btfs: BTreeSet<u32>,
}

/// Objects alive now that a earlier [`Census`] did not see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leaks {
    /// New program ids.
    pub progs: Vec<u32>,
    /// New map ids.
    pub maps: Vec<u32>,
    /// New link ids.
    pub links: Vec<u32>,
    /// New BTF ids.
    pub btfs: Vec<u32>,
}

impl Leaks {
    /// True when nothing new is alive.
    pub fn is_empty(&self) -> bool {
        self.progs.is_empty()
            && self.maps.is_empty()
            && self.links.is_empty()
            && self.btfs.is_empty()
    }
}

impl std::fmt::Display for Leaks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "progs {:?}, maps {:?}, links {:?}, btf {:?}",
            self.progs, self.maps, self.links, self.btfs
        )
    }
}

/// Every id the kernel returns for one `GET_NEXT_ID` command, in order.
fn ids(cmd: u32) -> io::Result<BTreeSet<u32>> {
    let mut out = BTreeSet::new();
    let mut next = 0u32;
    loop {
        let mut attr = Attr::new();
        attr.u32(0, next);
        match bpf(cmd, &mut attr) {
            Ok(_) => {
                next = attr.read_u32(4);
                // The kernel returns ids in increasing order; a repeat would
                // loop forever on a broken kernel, so stop there.
                if !out.insert(next) {
                    return Ok(out);
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(out),
            Err(e) => return Err(e),
        }
    }
}

impl Census {
    /// Reads every program, map, link and BTF id now alive.
    pub fn take() -> io::Result<Census> {
        Ok(Census {
            progs: ids(BPF_PROG_GET_NEXT_ID)?,
            maps: ids(BPF_MAP_GET_NEXT_ID)?,
            links: ids(BPF_LINK_GET_NEXT_ID)?,
            btfs: ids(BPF_BTF_GET_NEXT_ID)?,
        })
    }

    /// Objects alive now whose ids this census did not hold. The kernel frees
    /// closed objects after a grace period, so this looks again for up to two
    /// seconds before it answers with what is still there.
    pub fn leaks_since(&self) -> io::Result<Leaks> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let now = Census::take()?;
            let new = |before: &BTreeSet<u32>, after: &BTreeSet<u32>| -> Vec<u32> {
                after.difference(before).copied().collect()
            };
            let leaks = Leaks {
                progs: new(&self.progs, &now.progs),
                maps: new(&self.maps, &now.maps),
                links: new(&self.links, &now.links),
                btfs: new(&self.btfs, &now.btfs),
            };
            if leaks.is_empty() || Instant::now() >= deadline {
                return Ok(leaks);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A stretch of work whose kernel objects are counted: [`Census::begin`]
/// takes the process-wide lock (so two tests in one process do not see each
/// other's objects) and a census; [`Counted::leaks`] compares.
#[derive(Debug)]
pub struct Counted {
    _lock: std::sync::MutexGuard<'static, ()>,
    before: Census,
}

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Census {
    /// Locks out other counted stretches of this process, then takes a census.
    pub fn begin() -> io::Result<Counted> {
        // A test that panicked while holding the lock poisons it; the census
        // itself is still right, so carry on.
        let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        Ok(Counted {
            _lock: lock,
            before: Census::take()?,
        })
    }
}

impl Counted {
    /// What is alive now that was not when the stretch began.
    pub fn leaks(&self) -> io::Result<Leaks> {
        self.before.leaks_since()
    }
}
