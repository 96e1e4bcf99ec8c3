//! Compressed debug sections.
//!
//! Two layouts exist:
//! - `SHF_COMPRESSED` (ELF gABI): the section starts with a compression
//!   header, `Elf32_Chdr` (type, size, alignment: 3 × 4 bytes) or
//!   `Elf64_Chdr` (type, reserved, size, alignment: 4 + 4 + 8 + 8 bytes) in
//!   the file's byte order; the type is `ELFCOMPRESS_ZLIB` (a zlib stream)
//!   or `ELFCOMPRESS_ZSTD` (zstd frames).
//! - Legacy GNU `.zdebug_*` sections: the magic `ZLIB`, the uncompressed
//!   size as 8 big-endian bytes, then a zlib stream.
//!
//! The claimed size is checked before anything is allocated: over 4 GiB
//! (or what is left of the file's budget, 16 GiB for all its compressed
//! sections), or more than the stream could produce at the format's
//! highest possible ratio, is refused. A stream that ends short of its claimed size, or
//! produces more, is refused too.

use std::io::Read;

use object::elf;

/// The largest uncompressed section accepted.
pub(super) const MAX_SIZE: u64 = 4 << 30;
/// zlib (deflate) never expands more than 1032:1.
const ZLIB_MAX_RATIO: u64 = 1032;
/// A zstd block of at least 4 bytes (an RLE block) yields at most 128 KiB.
const ZSTD_MAX_RATIO: u64 = 1 << 15;
/// Headers and trailers of tiny streams.
const SLACK: u64 = 1024;

/// Decompresses an `SHF_COMPRESSED` section of at most `limit` bytes;
/// `what` names it in errors.
pub(super) fn decompress_chdr(
    data: &[u8],
    class64: bool,
    little: bool,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, String> {
    let (ch_type, ch_size, header) = if class64 {
        let t = read_u32(data, 0, little);
        let s = read_u64(data, 8, little);
        (t, s, 24)
    } else {
        let t = read_u32(data, 0, little);
        let s = read_u32(data, 4, little).map(u64::from);
        (t, s, 12)
    };
    let (Some(ch_type), Some(size), Some(stream)) = (ch_type, ch_size, data.get(header..)) else {
        return Err(format!(
            "{what}: SHF_COMPRESSED but only {} bytes, shorter than its compression header ({header} bytes)",
            data.len()
        ));
    };
    match elf::CompressionType(ch_type) {
        elf::ELFCOMPRESS_ZLIB => inflate(stream, size, limit, what),
        elf::ELFCOMPRESS_ZSTD => unzstd(stream, size, limit, what),
        _ => Err(format!(
            "{what}: unknown compression type {ch_type} in its compression header"
        )),
    }
}

/// Decompresses a legacy `.zdebug_*` section.
pub(super) fn decompress_zdebug(data: &[u8], limit: u64, what: &str) -> Result<Vec<u8>, String> {
    if data.get(..4) != Some(b"ZLIB") {
        return Err(format!("{what}: .zdebug section without the ZLIB magic"));
    }
    let size = data
        .get(4..12)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| format!("{what}: truncated .zdebug header"))?;
    inflate(&data[12..], size, limit, what)
}

/// Refuses a claimed size over `limit` or that the stream cannot hold,
/// then allocates it.
fn output(stream: &[u8], size: u64, ratio: u64, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let possible = (stream.len() as u64)
        .saturating_mul(ratio)
        .saturating_add(SLACK);
    if size > limit || size > possible {
        return Err(format!(
            "{what}: claims {size:#x} uncompressed bytes from a {:#x}-byte stream (absurd)",
            stream.len()
        ));
    }
    let n = usize::try_from(size).map_err(|_| format!("{what}: {size:#x} bytes"))?;
    let mut out = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|e| format!("{what}: cannot allocate {n:#x} bytes: {e}"))?;
    Ok(out)
}

fn inflate(stream: &[u8], size: u64, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let mut out = output(stream, size, ZLIB_MAX_RATIO, limit, what)?;
    let mut dec = flate2::read::ZlibDecoder::new(stream);
    (&mut dec)
        .take(size)
        .read_to_end(&mut out)
        .map_err(|e| format!("{what}: zlib stream: {e}"))?;
    if out.len() as u64 != size {
        return Err(format!(
            "{what}: zlib stream ends after {:#x} of the {size:#x} bytes claimed",
            out.len()
        ));
    }
    let mut more = [0u8; 1];
    match dec.read(&mut more) {
        Ok(0) => Ok(out),
        Ok(_) => Err(format!(
            "{what}: zlib stream produces more than the {size:#x} bytes claimed"
        )),
        Err(e) => Err(format!("{what}: zlib stream: {e}")),
    }
}

fn unzstd(stream: &[u8], size: u64, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let mut out = output(stream, size, ZSTD_MAX_RATIO, limit, what)?;
    // The decoder refuses windows over 128 MiB (its default limit, which
    // is also zstd's own default for decompression); assemblers use a few
    // MiB whatever the section size.
    let mut dec = ruzstd::decoding::FrameDecoder::new();
    out.resize(out.capacity(), 0);
    let n = dec.decode_all(stream, &mut out).map_err(|e| match e {
        ruzstd::decoding::errors::FrameDecoderError::TargetTooSmall => {
            format!("{what}: zstd stream produces more than the {size:#x} bytes claimed")
        }
        e => format!("{what}: zstd stream: {e}"),
    })?;
    if n as u64 != size {
        return Err(format!(
            "{what}: zstd stream ends after {n:#x} of the {size:#x} bytes claimed"
        ));
    }
    Ok(out)
}

fn read_u32(data: &[u8], at: usize, little: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

fn read_u64(data: &[u8], at: usize, little: bool) -> Option<u64> {
    let b: [u8; 8] = data.get(at..at + 8)?.try_into().ok()?;
    Some(if little {
        u64::from_le_bytes(b)
    } else {
        u64::from_be_bytes(b)
    })
}
