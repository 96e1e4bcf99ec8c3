//! Text renderings of a [`crate::Btf`]: bpftool's `format raw` and its JSON.
//!
//! Each renderer appends to a `Vec<u8>` so a caller can write the whole dump
//! with one system call; names are copied as bytes, exactly as stored.

pub mod c;
pub mod json;
pub mod raw;
pub mod rust;

use crate::{Btf, StrOffset};

/// bpftool's name rule: `(anon)` for offset 0, `(invalid)` for an offset it
/// cannot read, otherwise the stored bytes.
pub(crate) fn name_bytes<'a>(btf: &'a Btf<'_>, off: StrOffset) -> &'a [u8] {
    if off.is_anon() {
        return b"(anon)";
    }
    btf.str_bytes(off).unwrap_or(b"(invalid)")
}

/// Small append helpers over a byte buffer.
pub(crate) trait Out {
    fn s(&mut self, s: &str);
    fn b(&mut self, b: &[u8]);
    fn u(&mut self, v: impl itoa::Integer);
}

impl Out for Vec<u8> {
    #[inline]
    fn s(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
    #[inline]
    fn b(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    #[inline]
    fn u(&mut self, v: impl itoa::Integer) {
        let mut buf = itoa::Buffer::new();
        self.extend_from_slice(buf.format(v).as_bytes());
    }
}
