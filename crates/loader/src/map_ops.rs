//! Maps at runtime: lookup, update, delete, key iteration, batches,
//! per-CPU values, lookup-and-delete, freeze, over an owned or borrowed fd.
//!
//! ```no_run
//! use loader::map_ops::{Map, UpdateFlags};
//! # fn f(fd: std::os::fd::OwnedFd) -> loader::Result<()> {
//! let map = Map::new(fd)?;
//! map.update(&1u32.to_ne_bytes(), &7u64.to_ne_bytes(), UpdateFlags::Any)?;
//! for key in map.keys() {
//!     let key = key?;
//!     println!("{key:?} -> {:?}", map.lookup(&key)?);
//! }
//! # Ok(()) }
//! ```
//!
//! Per-CPU maps (`BPF_MAP_TYPE_PERCPU_HASH`, `PERCPU_ARRAY`,
//! `LRU_PERCPU_HASH`, `PERCPU_CGROUP_STORAGE`) hold one value per possible
//! CPU: the kernel reads and writes them as one buffer of the value size
//! rounded up to 8 bytes, times the number of possible CPUs
//! (`/sys/devices/system/cpu/possible`). [`Map::lookup_percpu`] splits it,
//! [`Map::update_percpu`] joins it.

use std::os::fd::{AsFd, OwnedFd};

use crate::sys::{self, MapHandle, MapInfo};
use crate::{Error, Result};

/// `BPF_MAP_TYPE_PERCPU_HASH`.
pub const PERCPU_HASH: u32 = 5;
/// `BPF_MAP_TYPE_PERCPU_ARRAY`.
pub const PERCPU_ARRAY: u32 = 6;
/// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
pub const LRU_PERCPU_HASH: u32 = 10;
/// `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`.
pub const PERCPU_CGROUP_STORAGE: u32 = 21;

/// The kernel's internal `ENOTSUPP` (524), which reaches user space from
/// the batch commands of map types that have none.
const ENOTSUPP: i32 = 524;

/// Whether a map type keeps one value per CPU.
pub fn is_percpu(map_type: u32) -> bool {
    matches!(
        map_type,
        PERCPU_HASH | PERCPU_ARRAY | LRU_PERCPU_HASH | PERCPU_CGROUP_STORAGE
    )
}

/// The number of possible CPUs (`sys::possible_cpus`, read once per
/// process as libbpf's `libbpf_num_possible_cpus`).
pub fn possible_cpus() -> Result<usize> {
    sys::possible_cpus().map_err(|source| Error::Io {
        path: "/sys/devices/system/cpu/possible".into(),
        source,
    })
}

/// How an update treats an existing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateFlags {
    /// `BPF_ANY`: create or replace.
    Any,
    /// `BPF_NOEXIST`: create only.
    NoExist,
    /// `BPF_EXIST`: replace only.
    Exist,
    /// `BPF_F_LOCK`: replace under the value's `bpf_spin_lock`.
    Lock,
}

impl UpdateFlags {
    fn raw(self) -> u64 {
        match self {
            UpdateFlags::Any => 0,
            UpdateFlags::NoExist => 1,
            UpdateFlags::Exist => 2,
            UpdateFlags::Lock => 4,
        }
    }
}

/// A map in the kernel, by an owned ([`OwnedFd`]) or borrowed
/// (`BorrowedFd`, `&OwnedFd`) descriptor, with its sizes read once.
#[derive(Debug)]
pub struct Map<F: AsFd = OwnedFd> {
    fd: F,
    info: MapInfo,
    cpus: usize,
    value_len: usize,
}

/// Key/value pairs read from a map (values per-CPU joined as the kernel
/// gives them).
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

impl<F: AsFd> Map<F> {
    /// Wraps a map fd; reads its type and sizes from the kernel.
    pub fn new(fd: F) -> Result<Map<F>> {
        let info = sys::map_info_of(fd.as_fd()).map_err(|source| Error::Syscall {
            cmd: "BPF_OBJ_GET_INFO_BY_FD",
            what: "map".into(),
            source,
        })?;
        let (cpus, value_len) = if is_percpu(info.map_type.raw()) {
            let cpus = possible_cpus()?;
            (cpus, sys::percpu_value_len(info.value_size, cpus))
        } else {
            (1, info.value_size as usize)
        };
        Ok(Map {
            fd,
            info,
            cpus,
            value_len,
        })
    }

    /// The map's type, id, sizes and flags as the kernel reported them.
    pub fn info(&self) -> &MapInfo {
        &self.info
    }

    /// Whether values are per CPU.
    pub fn is_percpu(&self) -> bool {
        is_percpu(self.info.map_type.raw())
    }

    /// CPUs a value is kept for (1 unless per-CPU).
    pub fn value_cpus(&self) -> usize {
        self.cpus
    }

    /// Bytes of one value as element commands pass it (per-CPU: every
    /// CPU's slot, each rounded up to 8 bytes).
    pub fn value_len(&self) -> usize {
        self.value_len
    }

    /// The fd.
    pub fn fd(&self) -> &F {
        &self.fd
    }

    fn handle(&self) -> MapHandle<'_> {
        MapHandle::with_info(self.fd.as_fd(), self.info, self.value_len)
    }

    fn err(&self, cmd: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        let what = format!("map id {}", self.info.id);
        move |source| Error::Syscall { cmd, what, source }
    }

    /// The value of `key` (per-CPU maps: all CPUs' slots joined), `None`
    /// when absent.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut v = vec![0u8; self.value_len];
        let found = self
            .handle()
            .lookup(key, &mut v, 0)
            .map_err(self.err("BPF_MAP_LOOKUP_ELEM"))?;
        Ok(found.then_some(v))
    }

    /// The value of `key` into `value` (of [`Map::value_len`] bytes);
    /// `false` when absent. No allocation.
    pub fn lookup_into(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        self.handle()
            .lookup(key, value, 0)
            .map_err(self.err("BPF_MAP_LOOKUP_ELEM"))
    }

    /// A per-CPU value split into one `value_size` slice per possible CPU.
    pub fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
        Ok(self.lookup(key)?.map(|v| self.split_percpu(&v)))
    }

    /// Splits a joined per-CPU value into each CPU's `value_size` bytes.
    pub fn split_percpu(&self, joined: &[u8]) -> Vec<Vec<u8>> {
        let stride = (self.info.value_size as usize).div_ceil(8) * 8;
        let vs = self.info.value_size as usize;
        joined
            .chunks(stride.max(1))
            .map(|c| c.get(..vs).unwrap_or(c).to_vec())
            .collect()
    }

    /// Writes `value` (per-CPU maps: every CPU's slots joined, see
    /// [`Map::update_percpu`]) under `key`.
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<()> {
        self.handle()
            .update(key, value, flags.raw())
            .map_err(self.err("BPF_MAP_UPDATE_ELEM"))
    }

    /// Writes one value per possible CPU (each `value_size` bytes).
    pub fn update_percpu(&self, key: &[u8], values: &[&[u8]], flags: UpdateFlags) -> Result<()> {
        let vs = self.info.value_size as usize;
        let stride = vs.div_ceil(8) * 8;
        if values.len() != self.cpus || values.iter().any(|v| v.len() != vs) {
            return Err(Error::Map {
                map: format!("id {}", self.info.id),
                why: format!(
                    "a per-CPU update takes {} values of {vs} bytes, got {} ({:?} bytes)",
                    self.cpus,
                    values.len(),
                    values.iter().map(|v| v.len()).collect::<Vec<_>>()
                ),
            });
        }
        let mut joined = vec![0u8; self.value_len];
        for (slot, v) in joined.chunks_mut(stride.max(1)).zip(values) {
            if let Some(d) = slot.get_mut(..vs) {
                d.copy_from_slice(v);
            }
        }
        self.update(key, &joined, flags)
    }

    /// Deletes `key`; `false` when it was not there.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.handle()
            .delete(key)
            .map_err(self.err("BPF_MAP_DELETE_ELEM"))
    }

    /// Reads and removes `key`'s value (hash maps; queues and stacks with
    /// an empty key: pop). `None` when there was nothing.
    pub fn lookup_and_delete(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut v = vec![0u8; self.value_len];
        let found = self
            .handle()
            .lookup_and_delete(key, &mut v, 0)
            .map_err(self.err("BPF_MAP_LOOKUP_AND_DELETE_ELEM"))?;
        Ok(found.then_some(v))
    }

    /// `BPF_MAP_FREEZE`: no more writes from user space.
    pub fn freeze(&self) -> Result<()> {
        let h = self.handle();
        sys::map_freeze_fd(h.as_fd()).map_err(self.err("BPF_MAP_FREEZE"))
    }

    /// The key after `key` (`None`: the first key), `None` at the end.
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
        let mut next = vec![0u8; self.info.key_size as usize];
        let found = self
            .handle()
            .next_key(key, &mut next)
            .map_err(self.err("BPF_MAP_GET_NEXT_KEY"))?;
        Ok(found.then_some(next))
    }

    /// Every key, by `BPF_MAP_GET_NEXT_KEY`. The iterator stops after the
    /// first error.
    pub fn keys(&self) -> Keys<'_, F> {
        Keys {
            map: self,
            last: None,
            done: false,
        }
    }

    /// Every key/value pair: by batch lookup where the kernel has it for
    /// this map type, else key by key (a key deleted meanwhile is skipped).
    pub fn entries(&self) -> Result<Entries> {
        match self.lookup_batch_all(false, 64) {
            Ok(e) => Ok(e),
            Err(Error::Syscall { source, .. })
                if matches!(
                    source.raw_os_error(),
                    Some(libc::EINVAL) | Some(ENOTSUPP) | Some(libc::EOPNOTSUPP)
                ) =>
            {
                let mut out = Vec::new();
                for key in self.keys() {
                    let key = key?;
                    if let Some(v) = self.lookup(&key)? {
                        out.push((key, v));
                    }
                }
                Ok(out)
            }
            Err(e) => Err(e),
        }
    }

    /// Every pair by `BPF_MAP_LOOKUP_BATCH` (or `..._AND_DELETE_BATCH` when
    /// `delete`), `chunk` elements a call. Map types without batch support
    /// give `EINVAL` (or `ENOTSUPP`) in [`Error::Syscall`].
    pub fn lookup_batch_all(&self, delete: bool, chunk: usize) -> Result<Entries> {
        let h = self.handle();
        let (kl, vl) = (h.key_len(), h.value_len());
        let chunk = chunk.clamp(1, (self.info.max_entries as usize).max(1));
        let mut keys = vec![0u8; kl * chunk];
        let mut vals = vec![0u8; vl * chunk];
        let cur_len = h.batch_cursor_len();
        let (mut cur_in, mut cur_out) = (vec![0u8; cur_len], vec![0u8; cur_len]);
        let mut first = true;
        let mut out = Vec::new();
        let cmd = if delete {
            "BPF_MAP_LOOKUP_AND_DELETE_BATCH"
        } else {
            "BPF_MAP_LOOKUP_BATCH"
        };
        loop {
            let (n, end) = h
                .lookup_batch(
                    delete,
                    (!first).then_some(&cur_in[..]),
                    &mut cur_out,
                    &mut keys,
                    &mut vals,
                    0,
                )
                .map_err(self.err(cmd))?;
            for i in 0..n {
                let k = keys.get(i * kl..(i + 1) * kl).unwrap_or_default();
                let v = vals.get(i * vl..(i + 1) * vl).unwrap_or_default();
                out.push((k.to_vec(), v.to_vec()));
            }
            if end {
                return Ok(out);
            }
            std::mem::swap(&mut cur_in, &mut cur_out);
            first = false;
        }
    }

    /// Writes many pairs in one `BPF_MAP_UPDATE_BATCH`: `keys` and `values`
    /// are the keys and values (of [`Map::value_len`] bytes) laid end to end.
    pub fn update_batch(&self, keys: &[u8], values: &[u8], flags: UpdateFlags) -> Result<usize> {
        self.handle()
            .update_batch(keys, values, flags.raw())
            .map_err(self.err("BPF_MAP_UPDATE_BATCH"))
    }

    /// Deletes many keys (laid end to end) in one `BPF_MAP_DELETE_BATCH`;
    /// returns how many were deleted before a missing one.
    pub fn delete_batch(&self, keys: &[u8]) -> Result<usize> {
        self.handle()
            .delete_batch(keys)
            .map_err(self.err("BPF_MAP_DELETE_BATCH"))
    }
}

/// Iterator over a map's keys ([`Map::keys`]).
#[derive(Debug)]
pub struct Keys<'m, F: AsFd> {
    map: &'m Map<F>,
    last: Option<Vec<u8>>,
    done: bool,
}

impl<F: AsFd> Iterator for Keys<'_, F> {
    type Item = Result<Vec<u8>>;
    fn next(&mut self) -> Option<Result<Vec<u8>>> {
        if self.done {
            return None;
        }
        match self.map.next_key(self.last.as_deref()) {
            Ok(Some(k)) => {
                self.last = Some(k.clone());
                Some(Ok(k))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percpu_slots_rounded_to_8() {
        assert_eq!(sys::percpu_value_len(12, 2), 32);
        assert_eq!(sys::percpu_value_len(8, 3), 24);
    }
}
