//! Byte order: applied when a field is read, never by swapping the input.

/// The byte order of a BTF blob, detected from its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Little-endian (x86, arm64, bpfel).
    Little,
    /// Big-endian (s390x, bpfeb).
    Big,
}

impl Endian {
    /// The byte order of the machine running this code.
    pub const NATIVE: Endian = if cfg!(target_endian = "big") {
        Endian::Big
    } else {
        Endian::Little
    };

    /// Reads a `u32` at `off`; `None` when it does not fit.
    #[inline]
    pub fn u32_at(self, b: &[u8], off: usize) -> Option<u32> {
        let raw: [u8; 4] = b.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(self.u32(raw))
    }

    /// Reads a `u16` at `off`; `None` when it does not fit.
    #[inline]
    pub fn u16_at(self, b: &[u8], off: usize) -> Option<u16> {
        let raw: [u8; 2] = b.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        })
    }

    /// Decodes four bytes.
    #[inline]
    pub fn u32(self, raw: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        }
    }

    /// Encodes a `u32`.
    #[inline]
    pub fn u32_bytes(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Encodes a `u16`.
    #[inline]
    pub fn u16_bytes(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
}

/// Reads the `i`-th `u32` of a slice already known to hold it.
///
/// Callers index records whose size was validated at parse time, so the
/// fallback of 0 is unreachable for a parsed [`crate::Btf`]; it exists so that
/// no input can make this panic.
#[inline]
pub(crate) fn word(e: Endian, b: &[u8], i: usize) -> u32 {
    e.u32_at(b, i * 4).unwrap_or(0)
}
