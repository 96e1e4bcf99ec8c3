//! The kind layout section of newer headers: the size of each kind's records,
//! so that a kind unknown to this code can still be stepped over.
//!
//! Each entry is 4 bytes: `u16 flags, u8 info_sz, u8 elem_sz`, one entry per
//! kind number starting at 0. A record of kind `k` then takes
//! `12 + info_sz + elem_sz * vlen` bytes.

use crate::{Endian, Error, Result};

/// Size of one layout entry.
pub const LAYOUT_ENTRY_LEN: usize = 4;

/// One kind's record shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindLayout {
    /// Flags (none are interpreted).
    pub flags: u16,
    /// Bytes following the common 12-byte part.
    pub info_sz: u8,
    /// Bytes per vlen element.
    pub elem_sz: u8,
}

/// All entries of the layout section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindLayouts {
    entries: Vec<KindLayout>,
}

impl KindLayouts {
    /// Parses the section bytes; `at` is the section's offset, for errors.
    pub fn parse(bytes: &[u8], endian: Endian, at: usize) -> Result<KindLayouts> {
        if !bytes.len().is_multiple_of(LAYOUT_ENTRY_LEN) || bytes.len() > 256 * LAYOUT_ENTRY_LEN {
            return Err(Error::BadSection {
                section: "layout",
                start: at as u64,
                end: (at + bytes.len()) as u64,
                why: "length is not a whole number of 4-byte entries (at most 256)",
            });
        }
        let entries = bytes
            .chunks_exact(LAYOUT_ENTRY_LEN)
            .map(|c| KindLayout {
                flags: endian.u16_at(c, 0).unwrap_or(0),
                info_sz: c[2],
                elem_sz: c[3],
            })
            .collect();
        Ok(KindLayouts { entries })
    }

    /// The layout of kind number `kind`.
    pub fn get(&self, kind: u8) -> Option<KindLayout> {
        self.entries.get(kind as usize).copied()
    }

    /// Number of kinds described.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no kind is described.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
