//! Map element commands of `bpf(2)`: lookup, update, delete, next key,
//! lookup-and-delete and the batch commands.
//!
//! The kernel writes `value_size` bytes (per-CPU maps: the value size
//! rounded up to 8, times the possible CPUs) through the value pointer, and
//! reads `key_size` bytes through the key pointer. A wrong buffer length
//! would let it write past a Rust allocation, so every call here goes
//! through a [`MapHandle`], which read the map's sizes from the kernel when
//! it was made, and checks every buffer against them before the call.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use super::{bpf, Attr};

const BPF_MAP_LOOKUP_ELEM: u32 = 1;
const BPF_MAP_UPDATE_ELEM: u32 = 2;
const BPF_MAP_DELETE_ELEM: u32 = 3;
const BPF_MAP_GET_NEXT_KEY: u32 = 4;
const BPF_MAP_LOOKUP_AND_DELETE_ELEM: u32 = 21;
const BPF_MAP_LOOKUP_BATCH: u32 = 24;
const BPF_MAP_LOOKUP_AND_DELETE_BATCH: u32 = 25;
const BPF_MAP_UPDATE_BATCH: u32 = 26;
const BPF_MAP_DELETE_BATCH: u32 = 27;

/// A map fd with the sizes the kernel reported for it: the only way to
/// reach the element commands, so that every buffer is checked.
#[derive(Debug, Clone, Copy)]
pub struct MapHandle<'fd> {
    fd: BorrowedFd<'fd>,
    info: super::MapInfo,
    /// Bytes the kernel reads or writes per value in element commands.
    value_len: usize,
}

/// A buffer whose length is not what the map needs (no syscall was made).
fn bad_len(what: &str, have: usize, need: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} buffer is {have} bytes, the map needs {need}"),
    )
}

impl<'fd> MapHandle<'fd> {
    /// Reads the map's type and sizes (`BPF_OBJ_GET_INFO_BY_FD`).
    /// `value_len` is the length of one value in element commands (for
    /// per-CPU maps, [`percpu_value_len`]); it is checked to be at least the
    /// map's value size.
    pub fn new(fd: BorrowedFd<'fd>, value_len: usize) -> io::Result<MapHandle<'fd>> {
        let info = map_info(fd)?;
        if value_len < info.value_size as usize {
            return Err(bad_len("value", value_len, info.value_size as usize));
        }
        Ok(MapHandle {
            fd,
            info,
            value_len,
        })
    }

    /// A handle from sizes already read from the kernel for this fd (no
    /// syscall): the loader's typed map keeps them.
    pub(crate) fn with_info(
        fd: BorrowedFd<'fd>,
        info: super::MapInfo,
        value_len: usize,
    ) -> MapHandle<'fd> {
        MapHandle {
            fd,
            info,
            value_len: value_len.max(info.value_size as usize),
        }
    }

    /// What the kernel said of the map.
    pub fn info(&self) -> &super::MapInfo {
        &self.info
    }

    /// Key size in bytes.
    pub fn key_len(&self) -> usize {
        self.info.key_size as usize
    }

    /// Value length in element commands (per-CPU maps: all CPUs).
    pub fn value_len(&self) -> usize {
        self.value_len
    }

    fn check_key(&self, key: &[u8]) -> io::Result<()> {
        if key.len() != self.key_len() {
            return Err(bad_len("key", key.len(), self.key_len()));
        }
        Ok(())
    }

    fn check_value(&self, value: &[u8]) -> io::Result<()> {
        if value.len() != self.value_len {
            return Err(bad_len("value", value.len(), self.value_len));
        }
        Ok(())
    }

    fn elem_attr(&self, key: &[u8], flags: u64) -> Attr {
        let mut attr = Attr::new();
        attr.u32(0, self.fd.as_raw_fd() as u32);
        // A map without keys (queue, stack) takes a NULL key.
        if !key.is_empty() {
            attr.ptr(8, key);
        }
        attr.u64(24, flags);
        attr
    }

    /// `BPF_MAP_LOOKUP_ELEM`: the value of `key` into `value`; `Ok(false)`
    /// when there is no such key (`ENOENT`).
    pub fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> io::Result<bool> {
        self.check_key(key)?;
        self.check_value(value)?;
        let mut attr = self.elem_attr(key, flags);
        attr.u64(16, value.as_mut_ptr() as usize as u64);
        not_found_is_false(bpf(BPF_MAP_LOOKUP_ELEM, &mut attr))
    }

    /// `BPF_MAP_UPDATE_ELEM` (`flags`: `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`,
    /// `BPF_F_LOCK`).
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> io::Result<()> {
        self.check_key(key)?;
        self.check_value(value)?;
        let mut attr = self.elem_attr(key, flags);
        attr.ptr(16, value);
        bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(drop)
    }

    /// `BPF_MAP_DELETE_ELEM`; `Ok(false)` when there was no such key.
    pub fn delete(&self, key: &[u8]) -> io::Result<bool> {
        self.check_key(key)?;
        let mut attr = self.elem_attr(key, 0);
        not_found_is_false(bpf(BPF_MAP_DELETE_ELEM, &mut attr))
    }

    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key` (the first key when
    /// `key` is `None`) into `next`; `Ok(false)` at the end.
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> io::Result<bool> {
        if let Some(k) = key {
            self.check_key(k)?;
        }
        if next.len() != self.key_len() {
            return Err(bad_len("next key", next.len(), self.key_len()));
        }
        let mut attr = self.elem_attr(key.unwrap_or_default(), 0);
        attr.u64(16, next.as_mut_ptr() as usize as u64);
        not_found_is_false(bpf(BPF_MAP_GET_NEXT_KEY, &mut attr))
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (hash maps, queues, stacks);
    /// `Ok(false)` when there was nothing.
    pub fn lookup_and_delete(&self, key: &[u8], value: &mut [u8], flags: u64) -> io::Result<bool> {
        self.check_key(key)?;
        self.check_value(value)?;
        let mut attr = self.elem_attr(key, flags);
        attr.u64(16, value.as_mut_ptr() as usize as u64);
        not_found_is_false(bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM, &mut attr))
    }

    /// Length of the batch cursor buffer (`in_batch`/`out_batch`): the
    /// kernel writes a bucket number (hash maps, 4 bytes) or a key (others).
    pub fn batch_cursor_len(&self) -> usize {
        self.key_len().max(8)
    }

    /// `BPF_MAP_LOOKUP_BATCH` (or `..._AND_DELETE_BATCH` when `delete`):
    /// up to `keys.len() / key_len` elements after the cursor `in_batch`
    /// (`None`: from the start); the cursor to go on from is written to
    /// `out_batch`. Returns the number of elements read and whether the map
    /// is exhausted (`ENOENT`).
    pub fn lookup_batch(
        &self,
        delete: bool,
        in_batch: Option<&[u8]>,
        out_batch: &mut [u8],
        keys: &mut [u8],
        values: &mut [u8],
        elem_flags: u64,
    ) -> io::Result<(usize, bool)> {
        let cur = self.batch_cursor_len();
        if in_batch.is_some_and(|b| b.len() != cur) || out_batch.len() != cur {
            return Err(bad_len("batch cursor", out_batch.len(), cur));
        }
        let count = self.batch_count(keys.len(), values.len())?;
        let mut attr = Attr::new();
        if let Some(b) = in_batch {
            attr.ptr(0, b);
        }
        attr.u64(8, out_batch.as_mut_ptr() as usize as u64);
        attr.u64(16, keys.as_mut_ptr() as usize as u64);
        attr.u64(24, values.as_mut_ptr() as usize as u64);
        attr.u32(32, count);
        attr.u32(36, self.fd.as_raw_fd() as u32);
        attr.u64(40, elem_flags);
        let cmd = if delete {
            BPF_MAP_LOOKUP_AND_DELETE_BATCH
        } else {
            BPF_MAP_LOOKUP_BATCH
        };
        let res = bpf(cmd, &mut attr);
        // The kernel writes the count done back into the attr, on ENOENT too.
        let done = (attr.read_u32(32) as usize).min(count as usize);
        match res {
            Ok(_) => Ok((done, false)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok((done, true)),
            Err(e) => Err(e),
        }
    }

    /// `BPF_MAP_UPDATE_BATCH`: `keys.len() / key_len` pairs; returns how many
    /// the kernel wrote (all, unless it failed part way, then the error).
    pub fn update_batch(&self, keys: &[u8], values: &[u8], elem_flags: u64) -> io::Result<usize> {
        let count = self.batch_count(keys.len(), values.len())?;
        let mut attr = Attr::new();
        attr.ptr(16, keys);
        attr.ptr(24, values);
        attr.u32(32, count);
        attr.u32(36, self.fd.as_raw_fd() as u32);
        attr.u64(40, elem_flags);
        bpf(BPF_MAP_UPDATE_BATCH, &mut attr).map(|_| attr.read_u32(32) as usize)
    }

    /// `BPF_MAP_DELETE_BATCH`: deletes `keys.len() / key_len` keys; returns
    /// how many were deleted before the first missing one (`ENOENT`).
    pub fn delete_batch(&self, keys: &[u8]) -> io::Result<usize> {
        let kl = self.key_len();
        if kl == 0 || !keys.len().is_multiple_of(kl) {
            return Err(bad_len("keys", keys.len(), kl));
        }
        let count = u32::try_from(keys.len() / kl).map_err(|_| bad_len("keys", keys.len(), kl))?;
        let mut attr = Attr::new();
        attr.ptr(16, keys);
        attr.u32(32, count);
        attr.u32(36, self.fd.as_raw_fd() as u32);
        match bpf(BPF_MAP_DELETE_BATCH, &mut attr) {
            Ok(_) => Ok(attr.read_u32(32) as usize),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(attr.read_u32(32) as usize),
            Err(e) => Err(e),
        }
    }

    /// The element count of a batch whose key and value buffers are given:
    /// both must hold the same whole number of elements.
    fn batch_count(&self, keys: usize, values: usize) -> io::Result<u32> {
        let (kl, vl) = (self.key_len(), self.value_len);
        if kl == 0 || !keys.is_multiple_of(kl) {
            return Err(bad_len("keys", keys, kl));
        }
        let n = keys / kl;
        if n.checked_mul(vl) != Some(values) {
            return Err(bad_len("values", values, n.saturating_mul(vl)));
        }
        u32::try_from(n).map_err(|_| bad_len("keys", keys, kl))
    }
}

impl AsFd for MapHandle<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd
    }
}

/// `ENOENT` as `Ok(false)`, success as `Ok(true)`.
fn not_found_is_false(r: io::Result<i64>) -> io::Result<bool> {
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Bytes of one per-CPU value in element commands: the value size rounded
/// up to 8, times `possible_cpus` (as the kernel's `bpf_map_value_size`).
pub fn percpu_value_len(value_size: u32, possible_cpus: usize) -> usize {
    (value_size as usize).div_ceil(8) * 8 * possible_cpus
}

const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;

/// `BPF_OBJ_GET_INFO_BY_FD` of a map given by a borrowed fd.
pub fn map_info(fd: BorrowedFd<'_>) -> io::Result<super::MapInfo> {
    // struct bpf_map_info up to map_extra (offset 80).
    let mut b = [0u8; 88];
    let mut attr = Attr::new();
    attr.u32(0, fd.as_raw_fd() as u32);
    attr.u32(4, b.len() as u32);
    // The kernel writes at most the 88 bytes declared into `b`.
    attr.u64(8, b.as_mut_ptr() as usize as u64);
    bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    let u = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let mut extra = [0u8; 8];
    extra.copy_from_slice(&b[80..88]);
    Ok(super::MapInfo {
        map_type: super::MapType::from_raw(u(0)),
        id: u(4),
        key_size: u(8),
        value_size: u(12),
        max_entries: u(16),
        map_flags: u(20),
        map_extra: u64::from_ne_bytes(extra),
    })
}

const BPF_MAP_FREEZE: u32 = 22;

/// `BPF_MAP_FREEZE` of a map given by a borrowed fd.
pub fn map_freeze_fd(fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = Attr::new();
    attr.u32(0, fd.as_raw_fd() as u32);
    bpf(BPF_MAP_FREEZE, &mut attr).map(drop)
}

/// The BTF a map was created with: `(btf_id, btf_key_type_id,
/// btf_value_type_id)` from `struct bpf_map_info` (zeros without BTF).
pub fn map_btf_ids(fd: BorrowedFd<'_>) -> io::Result<(u32, u32, u32)> {
    let mut b = [0u8; 80];
    let mut attr = Attr::new();
    attr.u32(0, fd.as_raw_fd() as u32);
    attr.u32(4, b.len() as u32);
    // The kernel writes at most the 80 bytes declared into `b`.
    attr.u64(8, b.as_mut_ptr() as usize as u64);
    bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    let u = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    Ok((u(64), u(68), u(72)))
}
