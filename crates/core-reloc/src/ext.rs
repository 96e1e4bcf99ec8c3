//! `.BTF.ext`: func_info, line_info and CO-RE relocation records.
//!
//! Layout (libbpf's `btf_ext_header`): magic `0xeB9F`, version 1, flags 0,
//! header length, then offset/length pairs (relative to the end of the
//! header) of the func_info, line_info and, when the header is long enough,
//! core_relo sections. Each section starts with a record size, followed by
//! per-ELF-section groups `{sec_name_off, num_info, records...}`. Records
//! larger than this crate knows are accepted and their extra bytes skipped.

use btf::{Btf, Endian, StrOffset, TypeId};

use crate::{Error, Result};

const MAGIC: u16 = 0xeb9f;
const MIN_HDR: usize = 24;
const CORE_HDR: usize = 32;

/// One func_info record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncInfo {
    /// Byte offset of the function's first instruction in its section.
    pub insn_off: u32,
    /// The FUNC type id in the local BTF.
    pub type_id: TypeId,
}

/// One line_info record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInfo {
    /// Byte offset of the instruction in its section.
    pub insn_off: u32,
    /// Source file name (local BTF string).
    pub file_name_off: StrOffset,
    /// Source line text (local BTF string).
    pub line_off: StrOffset,
    /// Line number (upper 22 bits) and column (lower 10 bits).
    pub line_col: u32,
}

impl LineInfo {
    /// Line number.
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }
    /// Column number.
    pub fn col(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

/// One CO-RE relocation record (`struct bpf_core_relo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreRelo {
    /// Byte offset of the instruction in its section.
    pub insn_off: u32,
    /// Local root type id.
    pub type_id: TypeId,
    /// Access string (`0:1:2`) in the local BTF string table.
    pub access_str_off: StrOffset,
    /// Raw relocation kind (see [`crate::RelocKind::from_raw`]).
    pub kind: u32,
}

/// The records of one ELF section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtSection<T> {
    /// Section name offset in the local BTF string table.
    pub name_off: StrOffset,
    /// Section name, resolved through the local BTF.
    pub name: String,
    /// Byte offset in the `.BTF.ext` blob of this group's header.
    pub offset: usize,
    /// The records, in file order.
    pub records: Vec<T>,
}

/// A parsed `.BTF.ext`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfExt {
    /// Byte order (the same as the `.BTF`'s).
    pub endian: Endian,
    /// func_info groups.
    pub func_info: Vec<ExtSection<FuncInfo>>,
    /// line_info groups.
    pub line_info: Vec<ExtSection<LineInfo>>,
    /// CO-RE relocation groups, in file order (libbpf processes them so).
    pub core_relos: Vec<ExtSection<CoreRelo>>,
}

struct Reader<'a> {
    data: &'a [u8],
    endian: Endian,
}

impl Reader<'_> {
    fn u32_at(&self, off: usize) -> Result<u32> {
        let b = off
            .checked_add(4)
            .and_then(|end| self.data.get(off..end))
            .ok_or_else(|| bad(off, "truncated (reading a 32-bit word)"))?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }
}

fn bad(offset: usize, what: impl Into<String>) -> Error {
    Error::BadExt {
        offset,
        what: what.into(),
    }
}

impl BtfExt {
    /// Parses `.BTF.ext` bytes; section names are resolved through `local`
    /// (the object's `.BTF`), whose byte order the blob must share.
    pub fn parse(data: &[u8], local: &Btf<'_>) -> Result<BtfExt> {
        let magic = data
            .get(0..2)
            .ok_or_else(|| bad(0, "shorter than its magic"))?;
        let endian = if u16::from_le_bytes([magic[0], magic[1]]) == MAGIC {
            Endian::Little
        } else if u16::from_be_bytes([magic[0], magic[1]]) == MAGIC {
            Endian::Big
        } else {
            return Err(bad(
                0,
                format!("bad magic {:02x}{:02x}", magic[0], magic[1]),
            ));
        };
        if endian != local.endian() {
            return Err(bad(0, "byte order differs from the .BTF's"));
        }
        let r = Reader { data, endian };
        let version = *data.get(2).ok_or_else(|| bad(2, "truncated header"))?;
        let flags = *data.get(3).ok_or_else(|| bad(3, "truncated header"))?;
        if version != 1 {
            return Err(bad(2, format!("unsupported version {version}")));
        }
        if flags != 0 {
            return Err(bad(3, format!("unsupported flags {flags:#x}")));
        }
        let hdr_len = r.u32_at(4)? as usize;
        if hdr_len < MIN_HDR {
            return Err(bad(4, format!("header length {hdr_len} < {MIN_HDR}")));
        }
        if hdr_len > data.len() {
            return Err(bad(
                4,
                format!("header length {hdr_len} past the end ({})", data.len()),
            ));
        }
        let func = section(&r, hdr_len, 8, 8, local, |r, o| {
            Ok(FuncInfo {
                insn_off: r.u32_at(o)?,
                type_id: TypeId(r.u32_at(o + 4)?),
            })
        })?;
        let line = section(&r, hdr_len, 16, 16, local, |r, o| {
            Ok(LineInfo {
                insn_off: r.u32_at(o)?,
                file_name_off: StrOffset(r.u32_at(o + 4)?),
                line_off: StrOffset(r.u32_at(o + 8)?),
                line_col: r.u32_at(o + 12)?,
            })
        })?;
        let core = if hdr_len >= CORE_HDR {
            section(&r, hdr_len, 24, 16, local, |r, o| {
                Ok(CoreRelo {
                    insn_off: r.u32_at(o)?,
                    type_id: TypeId(r.u32_at(o + 4)?),
                    access_str_off: StrOffset(r.u32_at(o + 8)?),
                    kind: r.u32_at(o + 12)?,
                })
            })?
        } else {
            Vec::new()
        };
        Ok(BtfExt {
            endian,
            func_info: func,
            line_info: line,
            core_relos: core,
        })
    }

    /// The line_info record that covers byte offset `insn_off` of `section`
    /// (the last one at or before it).
    pub fn line_for(&self, section: &str, insn_off: u32) -> Option<&LineInfo> {
        let sec = self.line_info.iter().find(|s| s.name == section)?;
        sec.records
            .iter()
            .filter(|l| l.insn_off <= insn_off)
            .max_by_key(|l| l.insn_off)
    }

    /// Total number of CO-RE relocation records.
    pub fn core_relo_count(&self) -> usize {
        self.core_relos.iter().map(|s| s.records.len()).sum()
    }
}

/// Parses one info section whose off/len pair is at header byte `pair_at`.
fn section<T>(
    r: &Reader<'_>,
    hdr_len: usize,
    pair_at: usize,
    min_rec: usize,
    local: &Btf<'_>,
    rec: impl Fn(&Reader<'_>, usize) -> Result<T>,
) -> Result<Vec<ExtSection<T>>> {
    let off = r.u32_at(pair_at)? as usize;
    let len = r.u32_at(pair_at + 4)? as usize;
    if len == 0 {
        return Ok(Vec::new());
    }
    if off & 3 != 0 {
        return Err(bad(
            pair_at,
            format!("info offset {off} not 4-byte aligned"),
        ));
    }
    let start = hdr_len
        .checked_add(off)
        .ok_or_else(|| bad(pair_at, "info offset overflows"))?;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= r.data.len())
        .ok_or_else(|| bad(pair_at, format!("info {off}+{len} past the end of data")))?;
    if len < 4 {
        return Err(bad(start, "info shorter than its record size"));
    }
    let rec_size = r.u32_at(start)? as usize;
    if rec_size < min_rec || rec_size & 3 != 0 {
        return Err(bad(start, format!("bad record size {rec_size}")));
    }
    let mut out = Vec::new();
    let mut pos = start + 4;
    while pos < end {
        if end - pos < 8 {
            return Err(bad(pos, "truncated section header"));
        }
        let name_off = StrOffset(r.u32_at(pos)?);
        let num = r.u32_at(pos + 4)? as usize;
        if num == 0 {
            return Err(bad(pos + 4, "section with no records"));
        }
        let name = local
            .str_bytes(name_off)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| bad(pos, format!("bad section name offset {}", name_off.0)))?;
        let name = String::from_utf8_lossy(name).into_owned();
        let body = num
            .checked_mul(rec_size)
            .and_then(|b| b.checked_add(pos + 8))
            .filter(|&e| e <= end)
            .ok_or_else(|| bad(pos, format!("section '{name}': {num} records past the end")))?;
        let mut records = Vec::with_capacity(num);
        let mut o = pos + 8;
        while o < body {
            records.push(rec(r, o)?);
            o += rec_size;
        }
        out.push(ExtSection {
            name_off,
            name,
            offset: pos,
            records,
        });
        pos = body;
    }
    Ok(out)
}
