//! [`Btf`]: a parsed, validated BTF blob (optionally split over a base).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::header::Header;
use crate::index::NameIndex;
use crate::layout::KindLayouts;
use crate::types::{Type, COMMON_LEN};
use crate::{Endian, Error, Kind, Result, StrOffset, TypeId};

/// The largest number of types a blob may hold (ids are 31-bit in libbpf).
pub const MAX_TYPES: u64 = 0x7fff_ffff;

/// A parsed BTF blob: validated once, then read through borrowed views.
///
/// The bytes are kept as given (borrowed or owned) and never swapped in
/// place: byte order is applied when a field is read. One pass at parse time
/// records where each type starts and checks every record size, type
/// reference and name offset, so later lookups are plain indexing.
///
/// ```no_run
/// let bytes = std::fs::read("/sys/kernel/btf/vmlinux")?;
/// let btf = btf::Btf::parse(bytes)?;
/// let id = btf.find_by_name_kind("task_struct", btf::Kind::Struct).unwrap();
/// let size = btf.resolve_size(id)?;
/// println!("struct task_struct: id {id}, {size} bytes");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Btf<'data> {
    data: Cow<'data, [u8]>,
    header: Header,
    /// Offset of each local type's record, relative to the type section.
    offsets: Vec<u32>,
    base: Option<Arc<Btf<'data>>>,
    /// First local type id (1 for a base BTF).
    start_id: u32,
    /// First local string offset (0 for a base BTF).
    start_str: u32,
    layouts: Option<KindLayouts>,
    index: OnceLock<NameIndex>,
    ptr_size: OnceLock<u32>,
}

impl std::fmt::Debug for Btf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf")
            .field("endian", &self.header.endian)
            .field("types", &self.offsets.len())
            .field("start_id", &self.start_id)
            .field("split", &self.base.is_some())
            .finish()
    }
}

/// How [`Btf::parse_any_with`] parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Whether a large type section (over 1 MiB, e.g. vmlinux) may be
    /// validated by two threads. On by default: it shortens a parse in a
    /// long-lived process. A short-lived process may do better without:
    /// starting a thread and the memory it writes cost more there than the
    /// walk saves (`btfx` itself parses single-threaded).
    pub threads: bool,
}

impl Default for ParseOptions {
    fn default() -> ParseOptions {
        ParseOptions { threads: true }
    }
}

impl ParseOptions {
    /// These options with `threads` set.
    pub fn threads(mut self, on: bool) -> ParseOptions {
        self.threads = on;
        self
    }
}

impl<'data> Btf<'data> {
    /// Parses a standalone (base) BTF blob.
    pub fn parse(data: impl Into<Cow<'data, [u8]>>) -> Result<Btf<'data>> {
        Self::parse_inner(data.into(), None, ParseOptions::default())
    }

    /// Parses split BTF (a kernel module's) whose ids and string offsets
    /// continue those of `base`.
    pub fn parse_split(
        data: impl Into<Cow<'data, [u8]>>,
        base: Arc<Btf<'data>>,
    ) -> Result<Btf<'data>> {
        Self::parse_inner(data.into(), Some(base), ParseOptions::default())
    }

    fn parse_inner(
        data: Cow<'data, [u8]>,
        base: Option<Arc<Btf<'data>>>,
        opts: ParseOptions,
    ) -> Result<Btf<'data>> {
        let header = Header::parse(&data)?;
        let (start_id, start_str) = match &base {
            Some(b) => {
                if b.header.endian != header.endian {
                    return Err(Error::Split(
                        "base and split BTF have different byte orders".into(),
                    ));
                }
                (b.type_count(), b.total_str_len())
            }
            None => (1, 0),
        };
        check_strings(&data, &header, base.is_some())?;
        let layouts = match header.layout {
            Some((s, l)) => Some(KindLayouts::parse(&data[s..s + l], header.endian, s)?),
            None => None,
        };
        let offsets = crate::validate::scan(
            &data,
            &header,
            layouts.as_ref(),
            start_id,
            start_str,
            opts.threads,
        )?;
        Ok(Btf {
            data,
            header,
            offsets,
            base,
            start_id,
            start_str,
            layouts,
            index: OnceLock::new(),
            ptr_size: OnceLock::new(),
        })
    }

    /// Finds the `.BTF` section of an ELF file and parses it.
    pub fn from_elf(elf: &'data [u8]) -> Result<Btf<'data>> {
        Self::parse(crate::elf::btf_section(elf)?)
    }

    /// Finds the `.BTF` section of an ELF file and parses it as split BTF over `base`.
    pub fn from_elf_split(elf: &'data [u8], base: Arc<Btf<'data>>) -> Result<Btf<'data>> {
        Self::parse_split(crate::elf::btf_section(elf)?, base)
    }

    /// Parses `data` as raw BTF, or as an ELF file holding `.BTF`, judged by
    /// its first bytes.
    pub fn parse_any(data: &'data [u8], base: Option<Arc<Btf<'data>>>) -> Result<Btf<'data>> {
        Self::parse_any_with(data, base, ParseOptions::default())
    }

    /// [`Btf::parse_any`] with options.
    pub fn parse_any_with(
        data: &'data [u8],
        base: Option<Arc<Btf<'data>>>,
        opts: ParseOptions,
    ) -> Result<Btf<'data>> {
        let bytes: Cow<'data, [u8]> = if crate::elf::is_elf(data) {
            crate::elf::btf_section(data)?
        } else {
            Cow::Borrowed(data)
        };
        Self::parse_inner(bytes, base, opts)
    }

    /// [`Btf::parse_any_with`], and meanwhile, on a second thread, the
    /// search [`Btf::scan_by_essential`] makes for `names` (by
    /// [`crate::index::scan_unvalidated`]; after the parse where that does
    /// not apply: split BTF, ELF input). For a short-lived process that
    /// parses a kernel's BTF to look up a few names once, as `btfx reloc`
    /// does: the search is no longer on its critical path. The lists are
    /// exactly those of `scan_by_essential`.
    pub fn parse_scanning(
        data: &'data [u8],
        base: Option<Arc<Btf<'data>>>,
        opts: ParseOptions,
        names: &[&[u8]],
    ) -> Result<(Btf<'data>, Vec<Vec<TypeId>>)> {
        if names.is_empty() || base.is_some() || crate::elf::is_elf(data) {
            let btf = Self::parse_any_with(data, base, opts)?;
            let found = btf.scan_by_essential(names);
            return Ok((btf, found));
        }
        let (parsed, scanned) = std::thread::scope(|s| {
            let scan = std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn_scoped(s, || crate::index::scan_unvalidated(data, names));
            let parsed = Self::parse_any_with(data, None, opts);
            let scanned = scan.ok().and_then(|t| t.join().ok()).flatten();
            (parsed, scanned)
        });
        let btf = parsed?;
        let found = match scanned {
            Some(found) => found,
            None => btf.scan_by_essential(names),
        };
        Ok((btf, found))
    }

    /// The raw bytes of this blob (header included).
    pub fn raw_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Byte order of the blob.
    pub fn endian(&self) -> Endian {
        self.header.endian
    }

    /// The base of a split BTF.
    pub fn base(&self) -> Option<&Arc<Btf<'data>>> {
        self.base.as_ref()
    }

    /// The first id that belongs to this blob (1, or the base's type count).
    pub fn start_id(&self) -> TypeId {
        TypeId(self.start_id)
    }

    /// One past the last type id, counting the base and `void` (libbpf's `btf__type_cnt`).
    pub fn type_count(&self) -> u32 {
        self.start_id + self.offsets.len() as u32
    }

    /// The last valid type id.
    pub fn last_id(&self) -> TypeId {
        TypeId(self.type_count() - 1)
    }

    /// Number of types defined by this blob itself.
    pub fn local_type_count(&self) -> usize {
        self.offsets.len()
    }

    /// Size of all string tables, base included.
    pub fn total_str_len(&self) -> u32 {
        self.start_str + self.header.str_len as u32
    }

    /// The kind layout section, when the header has one.
    pub fn kind_layouts(&self) -> Option<&KindLayouts> {
        self.layouts.as_ref()
    }

    /// The type with this id (`void` for id 0); `None` past the last id.
    #[inline]
    pub fn type_by_id(&self, id: TypeId) -> Option<Type<'_>> {
        let raw = id.0;
        if raw < self.start_id {
            return match &self.base {
                Some(b) => b.type_by_id(id),
                None if raw == 0 => Some(Type::VOID),
                None => None,
            };
        }
        let idx = (raw - self.start_id) as usize;
        let start = *self.offsets.get(idx)? as usize;
        let end = match self.offsets.get(idx + 1) {
            Some(&e) => e as usize,
            None => self.header.type_len,
        };
        let types = self.types_section();
        let rec = types.get(start..end)?;
        let e = self.header.endian;
        let w = |i: usize| crate::endian::word(e, rec, i);
        let info = w(1);
        Some(Type {
            id,
            kind: Kind::from_raw(((info >> 24) & 0x1f) as u8),
            name_off: StrOffset(w(0)),
            info,
            size_or_type: w(2),
            rest: rec.get(COMMON_LEN..).unwrap_or(&[]),
            endian: e,
        })
    }

    /// Like [`Btf::type_by_id`], but an error names the missing id.
    pub fn get(&self, id: TypeId) -> Result<Type<'_>> {
        self.type_by_id(id).ok_or(Error::NoSuchType(id))
    }

    /// The types of this blob (not the base), in id order.
    pub fn types(&self) -> impl ExactSizeIterator<Item = Type<'_>> + '_ {
        (self.start_id..self.type_count())
            .map(move |i| self.type_by_id(TypeId(i)).unwrap_or(Type::VOID))
    }

    /// The name offset of each local type, in id order, read straight from
    /// the records (cheaper than building [`Type`] views).
    pub(crate) fn local_name_offsets(
        &self,
    ) -> impl DoubleEndedIterator<Item = (TypeId, StrOffset)> + '_ {
        self.local_name_offsets_in(0..self.offsets.len())
    }

    /// [`Btf::local_name_offsets`] of the local types with these indices
    /// (ids from the first local one).
    pub(crate) fn local_name_offsets_in(
        &self,
        idx: std::ops::Range<usize>,
    ) -> impl DoubleEndedIterator<Item = (TypeId, StrOffset)> + '_ {
        let types = self.types_section();
        let e = self.header.endian;
        let start = self.start_id;
        let lo = idx.start;
        self.offsets
            .get(idx)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(move |(i, &o)| {
                (
                    TypeId(start + (lo + i) as u32),
                    StrOffset(e.u32_at(types, o as usize).unwrap_or(0)),
                )
            })
    }

    /// The name offset of a local type, read straight from its record (0
    /// for ids outside this blob).
    #[inline]
    pub(crate) fn local_name_off(&self, id: TypeId) -> StrOffset {
        let off =
            id.0.checked_sub(self.start_id)
                .and_then(|i| self.offsets.get(i as usize));
        StrOffset(off.map_or(0, |&o| {
            self.header
                .endian
                .u32_at(self.types_section(), o as usize)
                .unwrap_or(0)
        }))
    }

    /// Byte offset (from the blob's start) of a local type's record.
    pub fn type_offset(&self, id: TypeId) -> Option<u64> {
        let idx = id.0.checked_sub(self.start_id)? as usize;
        self.offsets
            .get(idx)
            .map(|&o| (self.header.type_start + o as usize) as u64)
    }

    fn types_section(&self) -> &[u8] {
        &self.data[self.header.type_start..self.header.type_start + self.header.type_len]
    }

    /// This blob's own string table (not the base's).
    pub fn local_strings(&self) -> &[u8] {
        self.strings_section()
    }

    fn strings_section(&self) -> &[u8] {
        &self.data[self.header.str_start..self.header.str_start + self.header.str_len]
    }

    /// The bytes of the NUL-terminated string at `off` (without the NUL).
    #[inline]
    pub fn str_bytes(&self, off: StrOffset) -> Option<&[u8]> {
        if off.0 < self.start_str {
            return self.base.as_ref()?.str_bytes(off);
        }
        let s = self
            .strings_section()
            .get((off.0 - self.start_str) as usize..)?;
        let n = memchr::memchr(0, s)?;
        Some(&s[..n])
    }

    /// The `len` bytes of the string table at `off` (no NUL search).
    #[inline]
    pub fn str_prefix(&self, off: StrOffset, len: u32) -> Option<&[u8]> {
        if off.0 < self.start_str {
            return self.base.as_ref()?.str_prefix(off, len);
        }
        let s = (off.0 - self.start_str) as usize;
        self.strings_section().get(s..s.checked_add(len as usize)?)
    }

    /// The string at `off` as UTF-8; `"(invalid)"` when it is not valid UTF-8
    /// or out of range (bpftool's word for a name it cannot read). Use
    /// [`Btf::str_bytes`] to get the bytes exactly.
    #[inline]
    pub fn name(&self, off: StrOffset) -> &str {
        match self.str_bytes(off) {
            Some(b) => std::str::from_utf8(b).unwrap_or("(invalid)"),
            None => "(invalid)",
        }
    }

    /// The name of a type (`""` when anonymous).
    #[inline]
    pub fn type_name(&self, t: &Type<'_>) -> &str {
        self.name(t.name_off())
    }

    /// The name index if something already built it.
    pub fn index_if_built(&self) -> Option<&NameIndex> {
        self.index.get()
    }

    /// The name index, built on first use.
    pub fn index(&self) -> &NameIndex {
        self.index.get_or_init(|| NameIndex::build(self))
    }

    /// The first type (lowest id, base included) with this exact name and kind,
    /// as libbpf's `btf__find_by_name_kind`.
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<TypeId> {
        if let Some(b) = &self.base {
            if let Some(id) = b.find_by_name_kind(name, kind) {
                return Some(id);
            }
        }
        self.index()
            .find(self, name)
            .find(|&id| self.type_by_id(id).is_some_and(|t| t.kind() == kind))
    }

    /// All types of this blob (not the base) with this exact name, in id order.
    pub fn find_by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = TypeId> + 'a {
        self.index().find(self, name)
    }

    /// Pointer size of the target: 4 or 8, guessed as libbpf does from the size
    /// of `long`; 8 when the BTF has no `long`.
    pub fn pointer_size(&self) -> u32 {
        if let Some(b) = &self.base {
            return b.pointer_size();
        }
        *self.ptr_size.get_or_init(|| {
            for t in self.types() {
                if t.kind() != Kind::Int {
                    continue;
                }
                let n = self.name(t.name_off());
                if matches!(
                    n,
                    "long int" | "long unsigned int" | "long" | "unsigned long" | "long signed int"
                ) && matches!(t.size(), 4 | 8)
                {
                    return t.size();
                }
            }
            8
        })
    }
}

/// String section checks, as libbpf makes them: the table ends with a NUL,
/// and a base table starts with one (offset 0 is the empty name).
fn check_strings(data: &[u8], h: &Header, split: bool) -> Result<()> {
    let s = &data[h.str_start..h.str_start + h.str_len];
    if !split && s.first() != Some(&0) {
        return Err(Error::BadStrings {
            offset: h.str_start as u64,
            why: if s.is_empty() {
                "string section is empty (it must hold at least the empty name)"
            } else {
                "string section does not start with the empty name (a NUL byte)"
            },
        });
    }
    if let Some(&last) = s.last() {
        if last != 0 {
            return Err(Error::BadStrings {
                offset: (h.str_start + h.str_len - 1) as u64,
                why: "string section does not end with a NUL byte",
            });
        }
    }
    if h.str_len as u64 > 0x7fff_ffff {
        return Err(Error::BadStrings {
            offset: h.str_start as u64,
            why: "string section larger than 2 GiB",
        });
    }
    Ok(())
}
