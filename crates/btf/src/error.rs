//! The one error type of the crate.

use crate::{Kind, TypeId};

/// Everything that can go wrong while reading or resolving BTF.
///
/// Each variant names the place in the input (byte offset, type id) so a user
/// can find the bad byte. Offsets are relative to the start of the BTF blob
/// (the header's first byte), not to any enclosing ELF file.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before a structure that had to be there.
    #[error("truncated BTF: need {need} bytes at offset {offset}, only {have} available ({what})")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset of the read.
        offset: u64,
        /// Bytes needed.
        need: u64,
        /// Bytes available from `offset`.
        have: u64,
    },
    /// The first two bytes are not 0xeB9F in either byte order.
    #[error("bad BTF magic 0x{found:04x} at offset 0 (expected 0xeb9f)")]
    BadMagic {
        /// The 16-bit value found, read little-endian.
        found: u16,
    },
    /// A header version other than 1.
    #[error("unsupported BTF version {0} at offset 2 (only version 1 exists)")]
    BadVersion(u8),
    /// A header field is inconsistent.
    #[error("bad BTF header: {0}")]
    BadHeader(String),
    /// A section lies outside the blob, or overlaps another.
    #[error("BTF {section} section [{start}, {end}): {why}")]
    BadSection {
        /// `"type"`, `"string"` or `"layout"`.
        section: &'static str,
        /// Start offset (from the blob's start).
        start: u64,
        /// End offset (from the blob's start).
        end: u64,
        /// Why it is rejected.
        why: &'static str,
    },
    /// The string table is malformed.
    #[error("bad BTF string section at offset {offset}: {why}")]
    BadStrings {
        /// Offset of the problem.
        offset: u64,
        /// What is wrong.
        why: &'static str,
    },
    /// A string offset points past the string table.
    #[error("type id {id}: {what} name offset {name_off} is past the string table (size {limit})")]
    BadNameOffset {
        /// The type holding the reference.
        id: TypeId,
        /// Which name (type, member, parameter...).
        what: &'static str,
        /// The offending offset.
        name_off: u32,
        /// Size of all string tables (base included).
        limit: u32,
    },
    /// A type references a type id that does not exist.
    #[error("type id {id} ({kind}) at offset {offset}: {what} references type id {target}, but the last type id is {last}")]
    BadTypeRef {
        /// The referring type.
        id: TypeId,
        /// Its kind.
        kind: Kind,
        /// Byte offset of the referring record.
        offset: u64,
        /// Which field.
        what: &'static str,
        /// The missing id.
        target: u32,
        /// The largest valid id.
        last: u32,
    },
    /// A kind value that this version does not know and the file does not describe.
    #[error("type id {id} at offset {offset}: unknown kind {kind} (info 0x{info:08x}) and no layout section describes it")]
    UnknownKind {
        /// The type id.
        id: TypeId,
        /// Byte offset of the record.
        offset: u64,
        /// The raw kind number.
        kind: u8,
        /// The raw info word.
        info: u32,
    },
    /// A type record is malformed (bad vlen, bad size, reserved bits set...).
    #[error("type id {id} ({kind}) at offset {offset}: {why}")]
    BadType {
        /// The type id.
        id: TypeId,
        /// Its kind.
        kind: Kind,
        /// Byte offset of the record.
        offset: u64,
        /// What is wrong.
        why: String,
    },
    /// Too many types for a 31-bit type id space.
    #[error("too many types: {0}")]
    TooManyTypes(u64),
    /// A chain of references loops (e.g. a typedef naming itself).
    #[error("type id {id}: reference loop through {kind} (ids chained by type references return to {id})")]
    Loop {
        /// A type on the loop.
        id: TypeId,
        /// Its kind.
        kind: Kind,
    },
    /// Resolution followed more links than allowed.
    #[error("type id {id}: resolution gave up after {depth} links (loop or absurd nesting)")]
    TooDeep {
        /// Where resolution started.
        id: TypeId,
        /// The depth limit.
        depth: u32,
    },
    /// A type id that the caller asked for does not exist.
    #[error("no type with id {0}")]
    NoSuchType(TypeId),
    /// A resolution helper was asked for something that has no answer.
    #[error("type id {id} ({kind}): {why}")]
    Unresolvable {
        /// The type id.
        id: TypeId,
        /// Its kind.
        kind: Kind,
        /// Why it has no answer.
        why: &'static str,
    },
    /// The ELF file could not be read, or has no `.BTF` section.
    #[error("ELF: {0}")]
    Elf(String),
    /// Split BTF needs its base, and none was given (or the wrong one).
    #[error("split BTF: {0}")]
    Split(String),
    /// A field path (`task_struct.mm->pgd`, see [`crate::path`]) is malformed.
    #[error("bad field path '{path}' at character {offset}: {why}")]
    BadPath {
        /// The path as given.
        path: String,
        /// Byte offset of the problem in the path.
        offset: usize,
        /// What was expected.
        why: &'static str,
    },
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
