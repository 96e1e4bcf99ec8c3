//! Where the bytes of the ELF file come from: a slice the caller holds
//! (borrowed, nothing copied) or a file read piece by piece (owned, only
//! the ranges asked for).

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// A random-access byte source. Every read is bounds-checked against
/// [`Source::len`] before anything is allocated, so a header that claims a
/// range past the end of the file costs no memory.
pub(super) trait Source<'data> {
    /// The length of the whole file.
    fn len(&self) -> u64;
    /// The `size` bytes at `offset`; `what` names them in the error.
    fn bytes(&self, offset: u64, size: u64, what: &str) -> Result<Cow<'data, [u8]>, String>;
    /// The file behind the source, for sections read later on demand.
    fn file(&self) -> Option<&File> {
        None
    }
}

/// The error for a range past the end of the input.
fn out_of_range(what: &str, offset: u64, size: u64, len: u64) -> String {
    format!("{what}: bytes {offset:#x}+{size:#x} are past the end of the file ({len:#x} bytes)")
}

/// The whole file is in memory: ranges are borrowed.
pub(super) struct SliceSource<'data>(pub &'data [u8]);

impl<'data> Source<'data> for SliceSource<'data> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn bytes(&self, offset: u64, size: u64, what: &str) -> Result<Cow<'data, [u8]>, String> {
        let range = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(start, size)| Some(start..start.checked_add(size)?));
        range
            .and_then(|r| self.0.get(r))
            .map(Cow::Borrowed)
            .ok_or_else(|| out_of_range(what, offset, size, self.len()))
    }
}

/// A file on disk: each range is read into its own buffer, so only what is
/// asked for is ever in memory.
pub(super) struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    /// Wraps an open file; `len` is its size.
    pub(super) fn new(file: File) -> std::io::Result<FileSource> {
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

impl Source<'static> for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn file(&self) -> Option<&File> {
        Some(&self.file)
    }

    fn bytes(&self, offset: u64, size: u64, what: &str) -> Result<Cow<'static, [u8]>, String> {
        if offset.checked_add(size).is_none_or(|end| end > self.len) {
            return Err(out_of_range(what, offset, size, self.len));
        }
        let n = usize::try_from(size).map_err(|_| format!("{what}: {size:#x} bytes"))?;
        let mut buf = Vec::new();
        buf.try_reserve_exact(n)
            .map_err(|e| format!("{what}: cannot allocate {n:#x} bytes: {e}"))?;
        let mut file = &self.file;
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.take(size).read_to_end(&mut buf))
            .map_err(|e| format!("{what}: reading bytes {offset:#x}+{size:#x}: {e}"))?;
        if buf.len() != n {
            return Err(format!(
                "{what}: file shrank while read ({} of {n:#x} bytes at {offset:#x})",
                buf.len()
            ));
        }
        Ok(Cow::Owned(buf))
    }
}
