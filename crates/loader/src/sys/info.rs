//! Info queries and id lookups: `BPF_OBJ_GET_INFO_BY_FD` for programs,
//! maps, BTF objects and links, `BPF_*_GET_FD_BY_ID` and
//! `BPF_*_GET_NEXT_ID`, so a user can find and inspect what the kernel
//! holds (as `bpftool prog/map/btf/link show` do).
//!
//! Info structs are read into zeroed buffers of the size this module knows;
//! the kernel fills what it has and leaves the rest zero, so older kernels
//! give zeros for fields they lack. Array fields (`map_ids`, BTF data) are
//! fetched with a second call into a buffer of the size the first one
//! reported.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use super::types::{LinkType, MapType, ProgramType};
use super::{bpf, owned, Attr};

const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;
const BPF_PROG_GET_NEXT_ID: u32 = 11;
const BPF_MAP_GET_NEXT_ID: u32 = 12;
const BPF_PROG_GET_FD_BY_ID: u32 = 13;
const BPF_MAP_GET_FD_BY_ID: u32 = 14;
const BPF_BTF_GET_FD_BY_ID: u32 = 19;
const BPF_BTF_GET_NEXT_ID: u32 = 23;
const BPF_LINK_GET_FD_BY_ID: u32 = 30;
const BPF_LINK_GET_NEXT_ID: u32 = 31;

/// The kinds of kernel BPF objects that have ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjKind {
    /// A program.
    Prog,
    /// A map.
    Map,
    /// A BTF object.
    Btf,
    /// A link.
    Link,
}

impl ObjKind {
    fn next_cmd(self) -> u32 {
        match self {
            ObjKind::Prog => BPF_PROG_GET_NEXT_ID,
            ObjKind::Map => BPF_MAP_GET_NEXT_ID,
            ObjKind::Btf => BPF_BTF_GET_NEXT_ID,
            ObjKind::Link => BPF_LINK_GET_NEXT_ID,
        }
    }
    fn fd_cmd(self) -> u32 {
        match self {
            ObjKind::Prog => BPF_PROG_GET_FD_BY_ID,
            ObjKind::Map => BPF_MAP_GET_FD_BY_ID,
            ObjKind::Btf => BPF_BTF_GET_FD_BY_ID,
            ObjKind::Link => BPF_LINK_GET_FD_BY_ID,
        }
    }
}

/// `BPF_*_GET_NEXT_ID`: the first id of `kind` greater than `after`
/// (`None` when there is none).
pub fn next_id(kind: ObjKind, after: u32) -> io::Result<Option<u32>> {
    let mut attr = Attr::new();
    attr.u32(0, after);
    match bpf(kind.next_cmd(), &mut attr) {
        Ok(_) => Ok(Some(attr.read_u32(4))),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every id of `kind` alive now, in increasing order.
pub fn ids(kind: ObjKind) -> io::Result<Vec<u32>> {
    let mut out: Vec<u32> = Vec::new();
    let mut at = 0;
    while let Some(id) = next_id(kind, at)? {
        // Ids come back increasing; anything else would loop forever.
        if id <= at && at != 0 {
            break;
        }
        out.push(id);
        at = id;
    }
    Ok(out)
}

/// `BPF_*_GET_FD_BY_ID`: opens the object with this id (needs
/// `CAP_SYS_ADMIN`; `ENOENT` when it is gone).
pub fn fd_by_id(kind: ObjKind, id: u32) -> io::Result<OwnedFd> {
    let mut attr = Attr::new();
    attr.u32(0, id);
    bpf(kind.fd_cmd(), &mut attr).and_then(owned)
}

/// Fills `buf` with the object's info struct; returns the length the
/// kernel reported.
fn info_into(fd: impl AsFd, buf: &mut [u8]) -> io::Result<u32> {
    let mut attr = Attr::new();
    attr.u32(0, fd.as_fd().as_raw_fd() as u32);
    attr.u32(4, u32::try_from(buf.len()).unwrap_or(u32::MAX));
    // The kernel writes at most `info_len` (= `buf.len()`) bytes into
    // `buf`, which the caller owns for the call.
    attr.u64(8, buf.as_mut_ptr() as usize as u64);
    bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    Ok(attr.read_u32(4))
}

fn rd32(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(off..off + 4) {
        a.copy_from_slice(s);
    }
    u32::from_ne_bytes(a)
}

fn rd64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(off..off + 8) {
        a.copy_from_slice(s);
    }
    u64::from_ne_bytes(a)
}

fn name_at(b: &[u8], off: usize) -> String {
    let s = b.get(off..off + 16).unwrap_or_default();
    let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
    String::from_utf8_lossy(s.get(..end).unwrap_or_default()).into_owned()
}

/// What the kernel tells of a loaded program (`struct bpf_prog_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgInfo {
    /// Program type.
    pub prog_type: ProgramType,
    /// Kernel id.
    pub id: u32,
    /// The program's tag (a hash of its instructions).
    pub tag: [u8; 8],
    /// JIT-compiled length in bytes.
    pub jited_len: u32,
    /// Translated (post-verifier) length in bytes.
    pub xlated_len: u32,
    /// Load time, ns since boot.
    pub load_time: u64,
    /// Uid of the loader.
    pub created_by_uid: u32,
    /// Ids of the maps it uses.
    pub map_ids: Vec<u32>,
    /// Name (15 bytes at most).
    pub name: String,
    /// Id of its BTF (0 when none).
    pub btf_id: u32,
    /// Run time in ns (with `kernel.bpf_stats_enabled`).
    pub run_time_ns: u64,
    /// Run count (with `kernel.bpf_stats_enabled`).
    pub run_cnt: u64,
    /// Instructions the verifier processed.
    pub verified_insns: u32,
    /// `attach_btf_obj_id` (0: vmlinux).
    pub attach_btf_obj_id: u32,
    /// `attach_btf_id`.
    pub attach_btf_id: u32,
}

const PROG_INFO_LEN: usize = 232;

/// `BPF_OBJ_GET_INFO_BY_FD` of a program, map ids included.
pub fn prog_info_full(fd: impl AsFd) -> io::Result<ProgInfo> {
    let fd = fd.as_fd();
    let mut b = [0u8; PROG_INFO_LEN];
    info_into(fd, &mut b)?;
    let nr_maps = rd32(&b, 52) as usize;
    let mut map_ids = Vec::new();
    if nr_maps > 0 {
        let mut ids = vec![0u32; nr_maps];
        let mut again = [0u8; PROG_INFO_LEN];
        again[52..56].copy_from_slice(&(nr_maps as u32).to_ne_bytes());
        again[56..64].copy_from_slice(&(ids.as_mut_ptr() as usize as u64).to_ne_bytes());
        // The kernel writes at most `nr_map_ids` (= `ids.len()`) u32s into
        // `ids`, which this frame owns.
        info_into(fd, &mut again)?;
        let n = (rd32(&again, 52) as usize).min(nr_maps);
        ids.truncate(n);
        map_ids = ids;
    }
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&b[8..16]);
    Ok(ProgInfo {
        prog_type: ProgramType::from_raw(rd32(&b, 0)),
        id: rd32(&b, 4),
        tag,
        jited_len: rd32(&b, 16),
        xlated_len: rd32(&b, 20),
        load_time: rd64(&b, 40),
        created_by_uid: rd32(&b, 48),
        map_ids,
        name: name_at(&b, 64),
        btf_id: rd32(&b, 128),
        run_time_ns: rd64(&b, 192),
        run_cnt: rd64(&b, 200),
        verified_insns: rd32(&b, 216),
        attach_btf_obj_id: rd32(&b, 220),
        attach_btf_id: rd32(&b, 224),
    })
}

/// What the kernel tells of a map (`struct bpf_map_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapInfoFull {
    /// Map type.
    pub map_type: MapType,
    /// Kernel id.
    pub id: u32,
    /// Key size.
    pub key_size: u32,
    /// Value size.
    pub value_size: u32,
    /// Max entries.
    pub max_entries: u32,
    /// Flags.
    pub map_flags: u32,
    /// Name.
    pub name: String,
    /// Id of its BTF (0 when none).
    pub btf_id: u32,
    /// BTF key type id.
    pub btf_key_type_id: u32,
    /// BTF value type id.
    pub btf_value_type_id: u32,
    /// `map_extra`.
    pub map_extra: u64,
}

/// `BPF_OBJ_GET_INFO_BY_FD` of a map.
pub fn map_info_full(fd: impl AsFd) -> io::Result<MapInfoFull> {
    let mut b = [0u8; 88];
    info_into(fd, &mut b)?;
    Ok(MapInfoFull {
        map_type: MapType::from_raw(rd32(&b, 0)),
        id: rd32(&b, 4),
        key_size: rd32(&b, 8),
        value_size: rd32(&b, 12),
        max_entries: rd32(&b, 16),
        map_flags: rd32(&b, 20),
        name: name_at(&b, 24),
        btf_id: rd32(&b, 64),
        btf_key_type_id: rd32(&b, 68),
        btf_value_type_id: rd32(&b, 72),
        map_extra: rd64(&b, 80),
    })
}

/// What the kernel tells of a BTF object (`struct bpf_btf_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfInfo {
    /// Kernel id.
    pub id: u32,
    /// Size of the raw BTF in bytes.
    pub size: u32,
    /// Name (`vmlinux`, a module's name; empty for a program's BTF).
    pub name: String,
    /// True for the kernel's own BTF (vmlinux, modules).
    pub kernel_btf: bool,
}

/// `BPF_OBJ_GET_INFO_BY_FD` of a BTF object.
pub fn btf_info(fd: impl AsFd) -> io::Result<BtfInfo> {
    let fd = fd.as_fd();
    let mut name = [0u8; 64];
    let mut b = [0u8; 32];
    b[16..24].copy_from_slice(&(name.as_mut_ptr() as usize as u64).to_ne_bytes());
    b[24..28].copy_from_slice(&(name.len() as u32).to_ne_bytes());
    // The kernel writes at most `name_len` (= 64) bytes into `name`.
    info_into(fd, &mut b)?;
    let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
    Ok(BtfInfo {
        id: rd32(&b, 12),
        size: rd32(&b, 8),
        name: String::from_utf8_lossy(name.get(..end).unwrap_or_default()).into_owned(),
        kernel_btf: rd32(&b, 28) != 0,
    })
}

/// The raw bytes of a BTF object in the kernel (parse with `btf`).
pub fn btf_data(fd: impl AsFd) -> io::Result<Vec<u8>> {
    let fd = fd.as_fd();
    let size = btf_info(fd)?.size as usize;
    let mut data = vec![0u8; size];
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&(data.as_mut_ptr() as usize as u64).to_ne_bytes());
    b[8..12].copy_from_slice(&(size as u32).to_ne_bytes());
    // The kernel writes at most `btf_size` (= `data.len()`) bytes into `data`.
    info_into(fd, &mut b)?;
    data.truncate((rd32(&b, 8) as usize).min(size));
    Ok(data)
}

/// What the kernel tells of a link (`struct bpf_link_info`, common part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Link type.
    pub link_type: LinkType,
    /// Kernel id.
    pub id: u32,
    /// Id of the program it attaches.
    pub prog_id: u32,
}

/// `BPF_OBJ_GET_INFO_BY_FD` of a link.
pub fn link_info(fd: impl AsFd) -> io::Result<LinkInfo> {
    // The common head and the largest union member this module leaves zero.
    let mut b = [0u8; 64];
    info_into(fd, &mut b)?;
    Ok(LinkInfo {
        link_type: LinkType::from_raw(rd32(&b, 0)),
        id: rd32(&b, 4),
        prog_id: rd32(&b, 8),
    })
}
