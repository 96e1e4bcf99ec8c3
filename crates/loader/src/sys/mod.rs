//! The thin raw `bpf(2)` wrapper and read-only file mapping ([`FileBytes`]):
//! the only `unsafe` code in the workspace.
//!
//! Every command builds its `union bpf_attr` as a zeroed byte buffer with
//! native-endian fields at the kernel's offsets (the kernel accepts a larger
//! attr than it knows as long as the tail is zero). Pointers placed in the
//! attr come from slices borrowed for the duration of the call. Returned file
//! descriptors are wrapped in [`OwnedFd`] at once, so none leaks.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

const BPF_MAP_CREATE: u32 = 0;
const BPF_MAP_LOOKUP_ELEM: u32 = 1;
const BPF_MAP_UPDATE_ELEM: u32 = 2;
const BPF_PROG_LOAD: u32 = 5;
const BPF_OBJ_PIN: u32 = 6;
const BPF_OBJ_GET: u32 = 7;
const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
const BPF_BTF_LOAD: u32 = 18;
const BPF_MAP_FREEZE: u32 = 22;

/// Largest verifier log buffer tried (the kernel caps `log_size` near 4 GiB,
/// libbpf grows to 16 MiB for BTF; beyond that the tail is enough).
const MAX_LOG: usize = 16 << 20;
/// First verifier log buffer size.
const FIRST_LOG: usize = 64 << 10;

/// A zeroed `union bpf_attr` image with typed field writers.
struct Attr([u8; 160]);

impl Attr {
    fn new() -> Attr {
        Attr([0; 160])
    }
    fn u32(&mut self, off: usize, v: u32) {
        if let Some(d) = self.0.get_mut(off..off + 4) {
            d.copy_from_slice(&v.to_ne_bytes());
        }
    }
    fn u64(&mut self, off: usize, v: u64) {
        if let Some(d) = self.0.get_mut(off..off + 8) {
            d.copy_from_slice(&v.to_ne_bytes());
        }
    }
    fn ptr<T>(&mut self, off: usize, s: &[T]) {
        self.u64(off, s.as_ptr() as usize as u64);
    }
    fn bytes(&mut self, off: usize, b: &[u8]) {
        if let Some(d) = self.0.get_mut(off..off + b.len()) {
            d.copy_from_slice(b);
        }
    }
    fn read_u32(&self, off: usize) -> u32 {
        let mut b = [0u8; 4];
        if let Some(s) = self.0.get(off..off + 4) {
            b.copy_from_slice(s);
        }
        u32::from_ne_bytes(b)
    }
}

/// Calls `bpf(cmd, attr, size)`; returns the non-negative result.
///
/// Callers keep every buffer whose address is in `attr` alive and sized as
/// the attr says until this returns.
fn bpf(cmd: u32, attr: &mut Attr) -> io::Result<i64> {
    let size = attr.0.len() as libc::c_uint;
    // SAFETY: `attr` is a valid, writable buffer of `size` bytes for the whole
    // call; every pointer stored in it was taken from a slice that the calling
    // function in this module borrows across this call, with the length it
    // declares in the attr, so the kernel only touches memory we own.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr.0.as_mut_ptr(),
            size,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wraps a file descriptor the kernel just returned.
fn owned(fd: i64) -> io::Result<OwnedFd> {
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("fd out of range"))?;
    // SAFETY: `fd` was just returned by a successful bpf(2) call that creates
    // a new descriptor; nothing else owns it, so `OwnedFd` may close it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn name16(name: &str) -> [u8; 16] {
    // The kernel accepts [A-Za-z0-9_.] and a NUL within 16 bytes.
    let mut out = [0u8; 16];
    for (o, c) in out
        .iter_mut()
        .zip(
            name.bytes()
                .filter(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.'),
        )
        .take(15)
    {
        *o = c;
    }
    out
}

/// Arguments of `BPF_MAP_CREATE`.
#[derive(Debug, Clone, Default)]
pub struct MapCreate<'a> {
    /// `map_type`.
    pub map_type: MapType,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// Inner map template fd for map-in-map.
    pub inner_map_fd: Option<&'a OwnedFd>,
    /// `numa_node` (only used with `BPF_F_NUMA_NODE`).
    pub numa_node: u32,
    /// Map name (truncated to 15 bytes).
    pub name: &'a str,
    /// BTF the key/value type ids refer to.
    pub btf_fd: Option<&'a OwnedFd>,
    /// `btf_key_type_id`.
    pub btf_key_type_id: u32,
    /// `btf_value_type_id`.
    pub btf_value_type_id: u32,
    /// `btf_vmlinux_value_type_id` (struct_ops maps: the kernel's
    /// `bpf_struct_ops_<name>` type).
    pub btf_vmlinux_value_type_id: u32,
    /// `map_extra`.
    pub map_extra: u64,
}

/// `BPF_MAP_CREATE`.
pub fn map_create(a: &MapCreate<'_>) -> io::Result<OwnedFd> {
    let mut attr = Attr::new();
    attr.u32(0, a.map_type.raw());
    attr.u32(4, a.key_size);
    attr.u32(8, a.value_size);
    attr.u32(12, a.max_entries);
    attr.u32(16, a.map_flags);
    if let Some(fd) = a.inner_map_fd {
        attr.u32(20, fd.as_raw_fd() as u32);
    }
    attr.u32(24, a.numa_node);
    attr.bytes(28, &name16(a.name));
    if let Some(fd) = a.btf_fd {
        attr.u32(48, fd.as_raw_fd() as u32);
        attr.u32(52, a.btf_key_type_id);
        attr.u32(56, a.btf_value_type_id);
    }
    attr.u32(60, a.btf_vmlinux_value_type_id);
    attr.u64(64, a.map_extra);
    owned(bpf(BPF_MAP_CREATE, &mut attr)?)
}

/// `BPF_MAP_UPDATE_ELEM` with `key` and `value` of the map's sizes (for
/// per-CPU maps, one 8-byte-aligned slot per possible CPU); other lengths
/// are refused with `InvalidInput` before the kernel reads them.
pub fn map_update(map: impl AsFd, key: &[u8], value: &[u8], flags: u64) -> io::Result<()> {
    let map = map.as_fd();
    let size = checked_sizes(map, key)?;
    if value.len() != size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "value is {} bytes, the map's values are {size}",
                value.len()
            ),
        ));
    }
    let mut attr = Attr::new();
    attr.u32(0, map.as_raw_fd() as u32);
    attr.ptr(8, key);
    attr.ptr(16, value);
    attr.u64(24, flags);
    bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(|_| ())
}

/// Bytes of one value as user space reads and writes it: per-CPU maps
/// hold the value rounded up to 8 bytes for each possible CPU.
fn value_bytes(info: &MapInfo) -> io::Result<usize> {
    let per_cpu = matches!(
        info.map_type,
        MapType::PercpuHash
            | MapType::PercpuArray
            | MapType::LruPercpuHash
            | MapType::PercpuCgroupStorage
    );
    let v = info.value_size as usize;
    Ok(if per_cpu {
        v.div_ceil(8) * 8 * possible_cpus()?
    } else {
        v
    })
}

/// Checks `key` against the map's key size and returns the value size the
/// kernel will read or write, so that no call hands it a short buffer.
fn checked_sizes(map: impl AsFd, key: &[u8]) -> io::Result<usize> {
    let info = map_info(map)?;
    if key.len() != info.key_size as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "key is {} bytes, the map's keys are {}",
                key.len(),
                info.key_size
            ),
        ));
    }
    value_bytes(&info)
}

/// `BPF_MAP_LOOKUP_ELEM`: the value at `key`, of the map's value size (for
/// per-CPU maps, one 8-byte-aligned slot per possible CPU). `Ok(None)`
/// when the key is absent (`ENOENT`). The key must be the map's key size.
pub fn map_lookup(map: impl AsFd, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let map = map.as_fd();
    let size = checked_sizes(map, key)?;
    let mut value = vec![0u8; size];
    let mut attr = Attr::new();
    attr.u32(0, map.as_raw_fd() as u32);
    attr.ptr(8, key);
    // The kernel writes the map's value size (checked above to be
    // `value.len()`) into `value`, which this frame owns.
    attr.u64(16, value.as_mut_ptr() as usize as u64);
    match bpf(BPF_MAP_LOOKUP_ELEM, &mut attr) {
        Ok(_) => Ok(Some(value)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `BPF_MAP_FREEZE`: no more writes from user space.
pub fn map_freeze(map: impl AsFd) -> io::Result<()> {
    let map = map.as_fd();
    let mut attr = Attr::new();
    attr.u32(0, map.as_raw_fd() as u32);
    bpf(BPF_MAP_FREEZE, &mut attr).map(|_| ())
}

/// Arguments of `BPF_PROG_LOAD`.
#[derive(Debug, Clone, Default)]
pub struct ProgLoad<'a> {
    /// `prog_type`.
    pub prog_type: ProgramType,
    /// `expected_attach_type` (`None`: 0, what the kernel takes for
    /// program types that have none).
    pub expected_attach_type: Option<AttachType>,
    /// Instructions, encoded in the machine's byte order.
    pub insns: &'a [u8],
    /// License, NUL-terminated.
    pub license: &'a [u8],
    /// `kern_version`.
    pub kern_version: u32,
    /// `prog_flags`.
    pub prog_flags: u32,
    /// Program name (truncated to 15 bytes).
    pub name: &'a str,
    /// BTF of the program (for func_info/line_info).
    pub btf_fd: Option<&'a OwnedFd>,
    /// func_info records (8 bytes each), machine byte order.
    pub func_info: &'a [u8],
    /// line_info records (16 bytes each), machine byte order.
    pub line_info: &'a [u8],
    /// `attach_btf_id`.
    pub attach_btf_id: u32,
    /// The BTF object `attach_btf_id` is in (`None`: vmlinux), e.g. a
    /// module's BTF opened with [`fd_by_id`].
    pub attach_btf_obj_fd: Option<&'a OwnedFd>,
}

/// Outcome of a failed `BPF_PROG_LOAD`: the error and the verifier log.
#[derive(Debug)]
pub struct ProgLoadError {
    /// The OS error (`EINVAL` from the verifier, `EPERM`, `EACCES`...).
    pub error: io::Error,
    /// The verifier log (empty when the kernel gave none).
    pub log: String,
}

fn prog_attr(a: &ProgLoad<'_>, log: &mut [u8], level: u32) -> Attr {
    let mut attr = Attr::new();
    attr.u32(0, a.prog_type.raw());
    attr.u32(4, (a.insns.len() / 8) as u32);
    attr.ptr(8, a.insns);
    attr.ptr(16, a.license);
    if level > 0 && !log.is_empty() {
        attr.u32(24, level);
        attr.u32(28, log.len() as u32);
        attr.ptr(32, log);
    }
    attr.u32(40, a.kern_version);
    attr.u32(44, a.prog_flags);
    attr.bytes(48, &name16(a.name));
    attr.u32(68, a.expected_attach_type.map_or(0, AttachType::raw));
    if let Some(fd) = a.btf_fd {
        attr.u32(72, fd.as_raw_fd() as u32);
        if !a.func_info.is_empty() {
            attr.u32(76, 8);
            attr.ptr(80, a.func_info);
            attr.u32(88, (a.func_info.len() / 8) as u32);
        }
        if !a.line_info.is_empty() {
            attr.u32(92, 16);
            attr.ptr(96, a.line_info);
            attr.u32(104, (a.line_info.len() / 16) as u32);
        }
    }
    attr.u32(108, a.attach_btf_id);
    if let Some(fd) = a.attach_btf_obj_fd {
        attr.u32(112, fd.as_raw_fd() as u32);
    }
    attr
}

/// `BPF_PROG_LOAD`. First without a log (as libbpf does); on failure again
/// with a verifier log, grown and retried while the kernel says `ENOSPC`.
/// `EAGAIN` is retried a few times, as libbpf does.
pub fn prog_load(a: &ProgLoad<'_>) -> Result<OwnedFd, ProgLoadError> {
    if a.license.last() != Some(&0) {
        return Err(ProgLoadError {
            error: io::Error::from_raw_os_error(libc::EINVAL),
            log: "license is not NUL-terminated".into(),
        });
    }
    let mut first = None;
    for _ in 0..5 {
        let mut attr = prog_attr(a, &mut [], 0);
        match bpf(BPF_PROG_LOAD, &mut attr) {
            Ok(fd) => {
                return owned(fd).map_err(|error| ProgLoadError {
                    error,
                    log: String::new(),
                })
            }
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => first = Some(e),
            Err(e) => {
                first = Some(e);
                break;
            }
        }
    }
    let first = first.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EAGAIN));
    let mut size = FIRST_LOG;
    loop {
        let mut log = vec![0u8; size];
        let mut attr = prog_attr(a, &mut log, 1);
        let res = bpf(BPF_PROG_LOAD, &mut attr);
        match res {
            // Loads with a log after failing without one: keep it (it is
            // a valid program), the kernel's decision is what counts.
            Ok(fd) => {
                return owned(fd).map_err(|error| ProgLoadError {
                    error,
                    log: String::new(),
                })
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && size < MAX_LOG => {
                size = size.saturating_mul(4).min(MAX_LOG);
            }
            Err(e) => {
                let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(log.get(..end).unwrap_or_default()).into_owned();
                // Report the first errno if the log run failed differently
                // only because of the log itself.
                let error = if e.raw_os_error() == Some(libc::ENOSPC) {
                    first
                } else {
                    e
                };
                return Err(ProgLoadError { error, log: text });
            }
        }
    }
}

/// `BPF_PROG_LOAD` with a verifier log from the first attempt, kept on
/// success too: `level` as the kernel takes it (1, 2, 4 or a mix), `size`
/// the buffer in bytes (0: start at 64 KiB and grow while the kernel says
/// `ENOSPC`, up to 16 MiB; a given size is not grown, as with libbpf's
/// user-supplied buffer). Returns the program and its log.
pub fn prog_load_logged(
    a: &ProgLoad<'_>,
    level: u32,
    size: u32,
) -> Result<(OwnedFd, String), ProgLoadError> {
    if a.license.last() != Some(&0) {
        return Err(ProgLoadError {
            error: io::Error::from_raw_os_error(libc::EINVAL),
            log: "license is not NUL-terminated".into(),
        });
    }
    let grow = size == 0;
    let mut size = if grow { FIRST_LOG } else { size as usize };
    loop {
        let mut log = vec![0u8; size];
        let mut attr = prog_attr(a, &mut log, level.max(1));
        let res = bpf(BPF_PROG_LOAD, &mut attr);
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        let text = String::from_utf8_lossy(log.get(..end).unwrap_or_default()).into_owned();
        match res {
            Ok(fd) => {
                return owned(fd)
                    .map(|fd| (fd, text))
                    .map_err(|error| ProgLoadError {
                        error,
                        log: String::new(),
                    })
            }
            Err(e) if grow && e.raw_os_error() == Some(libc::ENOSPC) && size < MAX_LOG => {
                size = size.saturating_mul(4).min(MAX_LOG);
            }
            Err(error) => return Err(ProgLoadError { error, log: text }),
        }
    }
}

/// What `BPF_PROG_TEST_RUN` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    /// The program's return value.
    pub retval: u32,
    /// The packet after the run (at most `data_in.len()` + 256 bytes kept).
    pub data_out: Vec<u8>,
    /// Average run time in nanoseconds.
    pub duration_ns: u32,
}

/// `BPF_PROG_TEST_RUN`: runs a loaded program (socket filter, XDP, tc,
/// flow dissector, ...) `repeat` times (0 = once) on `data_in` as its
/// packet, without attaching it.
pub fn prog_test_run(prog: impl AsFd, data_in: &[u8], repeat: u32) -> io::Result<TestRun> {
    let mut out = vec![0u8; data_in.len() + 256];
    let r = prog_test_run_with(
        prog.as_fd(),
        &mut TestRunArgs {
            data_in,
            data_out: &mut out,
            repeat,
            ..TestRunArgs::default()
        },
    )?;
    out.truncate((r.data_size_out as usize).min(out.len()));
    Ok(TestRun {
        retval: r.retval,
        data_out: out,
        duration_ns: r.duration_ns,
    })
}

/// `BPF_BTF_LOAD`; on failure returns the error and the kernel's BTF log.
pub fn btf_load(btf: &[u8]) -> Result<OwnedFd, ProgLoadError> {
    let mut attr = Attr::new();
    attr.ptr(0, btf);
    attr.u32(16, btf.len() as u32);
    match bpf(BPF_BTF_LOAD, &mut attr) {
        Ok(fd) => owned(fd).map_err(|error| ProgLoadError {
            error,
            log: String::new(),
        }),
        Err(first) => {
            let mut log = vec![0u8; FIRST_LOG];
            let mut attr = Attr::new();
            attr.ptr(0, btf);
            attr.u32(16, btf.len() as u32);
            attr.ptr(8, &log);
            attr.u32(20, log.len() as u32);
            attr.u32(24, 1);
            let res = bpf(BPF_BTF_LOAD, &mut attr);
            if let Ok(fd) = res {
                return owned(fd).map_err(|error| ProgLoadError {
                    error,
                    log: String::new(),
                });
            }
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(log.get(..end).unwrap_or_default()).into_owned();
            log.clear();
            Err(ProgLoadError {
                error: first,
                log: text,
            })
        }
    }
}

/// `BPF_OBJ_PIN`: pins a map or program at `path` (on a bpffs).
pub fn obj_pin(fd: impl AsFd, path: &std::path::Path) -> io::Result<()> {
    let fd = fd.as_fd();
    let p = c_path(path)?;
    let mut attr = Attr::new();
    attr.ptr(0, &p);
    attr.u32(8, fd.as_raw_fd() as u32);
    bpf(BPF_OBJ_PIN, &mut attr).map(|_| ())
}

/// `path` as the NUL-terminated bytes the kernel reads (`EINVAL` if it
/// holds a NUL itself).
fn c_path(path: &std::path::Path) -> io::Result<Vec<u8>> {
    let mut p = path.as_os_str().as_encoded_bytes().to_vec();
    if p.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    p.push(0);
    Ok(p)
}

/// `BPF_OBJ_GET`: opens the object pinned at `path` in bpffs.
pub fn obj_get(path: &std::path::Path) -> io::Result<OwnedFd> {
    let p = c_path(path)?;
    let mut attr = Attr::new();
    attr.ptr(0, &p);
    bpf(BPF_OBJ_GET, &mut attr).and_then(owned)
}

/// What `BPF_OBJ_GET_INFO_BY_FD` tells of a map (the fields libbpf compares
/// before reusing a pinned map).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapInfo {
    /// `type`.
    pub map_type: MapType,
    /// `id`.
    pub id: u32,
    /// `key_size`.
    pub key_size: u32,
    /// `value_size`.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// `map_extra`.
    pub map_extra: u64,
}

/// `BPF_OBJ_GET_INFO_BY_FD` of a map.
pub fn map_info(fd: impl AsFd) -> io::Result<MapInfo> {
    // struct bpf_map_info up to map_extra (offset 80).
    let b: [u8; 88] = obj_info(fd)?;
    let u = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let mut extra = [0u8; 8];
    extra.copy_from_slice(&b[80..88]);
    Ok(MapInfo {
        map_type: MapType::from_raw(u(0)),
        id: u(4),
        key_size: u(8),
        value_size: u(12),
        max_entries: u(16),
        map_flags: u(20),
        map_extra: u64::from_ne_bytes(extra),
    })
}

/// `BPF_OBJ_GET_INFO_BY_FD`: the first `N` bytes of the info struct
/// (`bpf_prog_info`, `bpf_map_info`), native byte order.
fn obj_info<const N: usize>(fd: impl AsFd) -> io::Result<[u8; N]> {
    let fd = fd.as_fd();
    let mut info = [0u8; N];
    let mut attr = Attr::new();
    attr.u32(0, fd.as_raw_fd() as u32);
    attr.u32(4, N as u32);
    // The kernel writes into `info`, which this frame owns.
    attr.u64(8, info.as_mut_ptr() as usize as u64);
    bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    Ok(info)
}

/// Kernel id and translated length (bytes) of a loaded program.
pub fn prog_info(fd: impl AsFd) -> io::Result<(u32, u32)> {
    let info: [u8; 24] = obj_info(fd)?;
    let a = Attr({
        let mut b = [0u8; 160];
        b[..24].copy_from_slice(&info);
        b
    });
    Ok((a.read_u32(4), a.read_u32(20)))
}

/// Kernel id of a map.
pub fn map_id(fd: impl AsFd) -> io::Result<u32> {
    let info: [u8; 8] = obj_info(fd)?;
    Ok(u32::from_ne_bytes([info[4], info[5], info[6], info[7]]))
}

/// Loads `r0 = 0; exit` as a socket filter: `Ok` when this process may use
/// bpf(2), the error (`EPERM`...) otherwise. Tests use it to decide to skip.
pub fn probe_bpf() -> io::Result<()> {
    let insns: [u8; 16] = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
    let a = ProgLoad {
        prog_type: ProgramType::SocketFilter,
        insns: &insns,
        license: b"GPL\0",
        name: "btfx_probe",
        ..ProgLoad::default()
    };
    prog_load(&a).map(drop).map_err(|e| e.error)
}

/// The bytes of an input file: mapped read-only where the kernel allows it,
/// read into memory otherwise.
///
/// Reading a 5.5 MB vmlinux BTF costs a fresh zeroed page per 4 KiB of the
/// buffer (and, from `/sys/kernel/btf/vmlinux`, one `read(2)` per 4 KiB,
/// since sysfs binary files return at most a page per call). A private
/// read-only mapping with `MAP_POPULATE` instead shares the page cache pages
/// (or, for `/sys/kernel/btf/vmlinux` on kernels 6.16 and later, the kernel's
/// own BTF pages) and installs them in one call. Files that cannot be mapped
/// (pipes, empty files, sysfs module BTF) are read.
///
/// A mapped file that another process truncates while it is mapped raises
/// `SIGBUS` on access, as for every program that maps its input; the bytes
/// are otherwise treated as untrusted like any other input.
pub struct FileBytes {
    inner: FileInner,
}

enum FileInner {
    Mapped {
        ptr: std::ptr::NonNull<u8>,
        len: usize,
    },
    Read(Vec<u8>),
}

// SAFETY: the mapping is private and read-only, owned by this value alone and
// never written through, so sharing or moving it between threads is as safe
// as for a `Box<[u8]>`.
unsafe impl Send for FileBytes {}
// SAFETY: see `Send`; `&FileBytes` only ever hands out `&[u8]`.
unsafe impl Sync for FileBytes {}

impl FileBytes {
    /// Maps (or reads) the whole file at `path`.
    pub fn open(path: impl AsRef<std::path::Path>) -> io::Result<FileBytes> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        let len = usize::try_from(meta.len()).unwrap_or(0);
        if meta.is_file() && len > 0 {
            // SAFETY: a fresh mapping chosen by the kernel (addr NULL), of a
            // descriptor we hold open for the call, read-only and private:
            // it aliases no Rust object. The result is checked before use.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_POPULATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr != libc::MAP_FAILED {
                if let Some(ptr) = std::ptr::NonNull::new(ptr.cast::<u8>()) {
                    return Ok(FileBytes {
                        inner: FileInner::Mapped { ptr, len },
                    });
                }
            }
        }
        let mut data = Vec::with_capacity(len);
        file.read_to_end(&mut data)?;
        Ok(FileBytes {
            inner: FileInner::Read(data),
        })
    }

    /// Whether the bytes are a mapping of the file (not a copy).
    pub fn is_mapped(&self) -> bool {
        matches!(self.inner, FileInner::Mapped { .. })
    }
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.inner {
            // SAFETY: `ptr` is the start of a live read-only mapping of `len`
            // bytes that lasts until `drop`, which needs `&mut self`.
            FileInner::Mapped { ptr, len } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr(), *len)
            },
            FileInner::Read(v) => v,
        }
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        if let FileInner::Mapped { ptr, len } = self.inner {
            // SAFETY: unmaps exactly the mapping `open` created; no slice
            // borrowed from it outlives `&self`.
            unsafe {
                libc::munmap(ptr.as_ptr().cast(), len);
            }
        }
    }
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBytes")
            .field("len", &self.len())
            .field("mapped", &self.is_mapped())
            .finish()
    }
}

mod census;
mod cpus;
pub use cpus::{online_cpus, parse_cpu_list, possible_cpus};
mod info;
mod types;
pub use census::{Census, Counted, Leaks};
mod maps;
pub use maps::{map_btf_ids, map_freeze_fd, map_info as map_info_of, percpu_value_len, MapHandle};
mod epoll;
mod mmap;
mod perf_output;
mod signal;
mod test_run;
pub use epoll::Epoll;
pub use mmap::{page_size, PerfRing, RingbufMaps};
pub use perf_output::open_bpf_output;
pub use signal::StopSignals;
pub use test_run::{prog_test_run_with, TestRunArgs, TestRunOut};

mod link;
pub use link::{
    iter_create, link_create, link_detach, link_update, pin_fd, prog_attach, prog_detach,
    prog_type_of, raw_tracepoint_open, raw_tracepoint_open_cookie, struct_ops_map_create,
    struct_ops_unregister, LinkCreate, LinkExtra,
};
mod perf;
pub use perf::{
    perf_disable, perf_enable, perf_event_open, perf_set_bpf, PerfEvent, TYPE_SOFTWARE,
    TYPE_TRACEPOINT,
};
mod mount;
pub use mount::{mount_pseudo, net_ns_inode, unshare_net};
mod netlink;
pub use info::{
    btf_data, btf_info, fd_by_id, ids, link_info, map_info_full, next_id, prog_info_full, BtfInfo,
    LinkInfo, MapInfoFull, ObjKind, ProgInfo,
};
pub use netlink::{
    if_nametoindex, so_attach_bpf, so_detach_bpf, NetlinkError, Rtnl, TC_H_CLSACT,
    TC_PARENT_EGRESS, TC_PARENT_INGRESS,
};
pub use types::{AttachType, LinkType, MapType, ProgramType};
