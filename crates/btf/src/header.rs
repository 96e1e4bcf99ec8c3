//! The BTF header: magic, version, section offsets.

use crate::{Endian, Error, Result};

/// `0xeB9F` as stored by a little-endian producer.
pub const BTF_MAGIC: u16 = 0xeb9f;
/// Size of the classic header (kernels up to 2025).
pub const BASE_HEADER_LEN: u32 = 24;
/// Size of the header that adds the kind layout section.
pub const LAYOUT_HEADER_LEN: u32 = 32;

/// A parsed header; offsets are absolute (from the blob's first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Byte order of the blob.
    pub endian: Endian,
    /// Header flags byte (no flag is defined today).
    pub flags: u8,
    /// Declared header length.
    pub hdr_len: u32,
    /// Type section start.
    pub type_start: usize,
    /// Type section length.
    pub type_len: usize,
    /// String section start.
    pub str_start: usize,
    /// String section length.
    pub str_len: usize,
    /// Kind layout section (start, length), when the header has one.
    pub layout: Option<(usize, usize)>,
}

fn trunc(what: &'static str, offset: usize, need: usize, have: usize) -> Error {
    Error::Truncated {
        what,
        offset: offset as u64,
        need: need as u64,
        have: have as u64,
    }
}

impl Header {
    /// Reads and checks the header of `data`.
    ///
    /// Sections must lie inside `data`; the type section must end before the
    /// string section starts (libbpf's rule); a layout section, when present,
    /// must not overlap either. Header bytes past the fields this version
    /// knows must be zero, as the kernel requires, so a newer header is
    /// refused rather than misread.
    pub fn parse(data: &[u8]) -> Result<Header> {
        if data.len() < 4 {
            return Err(trunc("BTF header", 0, 4, data.len()));
        }
        let endian = match [data[0], data[1]] {
            [0x9f, 0xeb] => Endian::Little,
            [0xeb, 0x9f] => Endian::Big,
            [a, b] => {
                return Err(Error::BadMagic {
                    found: u16::from_le_bytes([a, b]),
                })
            }
        };
        if data[2] != 1 {
            return Err(Error::BadVersion(data[2]));
        }
        let flags = data[3];
        let w = |off: usize| endian.u32_at(data, off);
        let hdr_len = w(4).ok_or_else(|| trunc("BTF header", 0, 8, data.len()))?;
        if hdr_len < BASE_HEADER_LEN {
            return Err(Error::BadHeader(format!(
                "hdr_len {hdr_len} at offset 4 is smaller than the minimum {BASE_HEADER_LEN}"
            )));
        }
        if hdr_len as usize > data.len() {
            return Err(trunc("BTF header", 0, hdr_len as usize, data.len()));
        }
        let field = |off: usize| w(off).unwrap_or(0) as usize;
        let (type_off, type_len, str_off, str_len) = (field(8), field(12), field(16), field(20));
        let mut layout = None;
        let known = if hdr_len >= LAYOUT_HEADER_LEN {
            let (l_off, l_len) = (field(24), field(28));
            if l_len != 0 {
                layout = Some((l_off, l_len));
            }
            LAYOUT_HEADER_LEN
        } else {
            BASE_HEADER_LEN
        };
        if let Some(pos) = data[known as usize..hdr_len as usize]
            .iter()
            .position(|&b| b != 0)
        {
            return Err(Error::BadHeader(format!(
                "hdr_len {hdr_len}: header byte at offset {} is non-zero in a field this version does not know",
                known as usize + pos
            )));
        }
        let base = hdr_len as usize;
        let total = data.len() - base;
        let check = |section: &'static str, off: usize, len: usize| -> Result<(usize, usize)> {
            let end = off.checked_add(len).filter(|&e| e <= total);
            match end {
                Some(_) => Ok((base + off, len)),
                None => Err(Error::BadSection {
                    section,
                    start: (base + off) as u64,
                    end: (base as u64) + off as u64 + len as u64,
                    why: "past the end of the data",
                }),
            }
        };
        let (type_start, type_len) = check("type", type_off, type_len)?;
        let (str_start, str_len) = check("string", str_off, str_len)?;
        if type_off % 4 != 0 {
            return Err(Error::BadSection {
                section: "type",
                start: type_start as u64,
                end: (type_start + type_len) as u64,
                why: "type section is not 4-byte aligned",
            });
        }
        if type_off + type_len > str_off {
            return Err(Error::BadSection {
                section: "type",
                start: type_start as u64,
                end: (type_start + type_len) as u64,
                why: "type section overlaps or follows the string section",
            });
        }
        let layout = match layout {
            None => None,
            Some((off, len)) => {
                let (start, len) = check("layout", off, len)?;
                let overlaps = |s: usize, l: usize| start < s + l && s < start + len;
                if overlaps(type_start, type_len) || overlaps(str_start, str_len) {
                    return Err(Error::BadSection {
                        section: "layout",
                        start: start as u64,
                        end: (start + len) as u64,
                        why: "overlaps the type or string section",
                    });
                }
                Some((start, len))
            }
        };
        Ok(Header {
            endian,
            flags,
            hdr_len,
            type_start,
            type_len,
            str_start,
            str_len,
            layout,
        })
    }
}
