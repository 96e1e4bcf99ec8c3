//! Borrowed views of type records, decoded on demand.
//!
//! A [`Type`] is a copy of the three common words of a record plus a slice of
//! its kind-specific bytes. The record's size was checked when the [`crate::Btf`]
//! was parsed, so the iterators here cannot run off their slice.

use crate::endian::word;
use crate::{Endian, FuncLinkage, IntEncoding, Kind, StrOffset, TypeId, VarLinkage};

/// Size of the common part of every record.
pub const COMMON_LEN: usize = 12;

/// One type, as a cheap copyable view.
#[derive(Debug, Clone, Copy)]
pub struct Type<'a> {
    pub(crate) id: TypeId,
    pub(crate) kind: Kind,
    pub(crate) name_off: StrOffset,
    pub(crate) info: u32,
    pub(crate) size_or_type: u32,
    pub(crate) rest: &'a [u8],
    pub(crate) endian: Endian,
}

impl<'a> Type<'a> {
    pub(crate) const VOID: Type<'static> = Type {
        id: TypeId::VOID,
        kind: Kind::Void,
        name_off: StrOffset(0),
        info: 0,
        size_or_type: 0,
        rest: &[],
        endian: Endian::NATIVE,
    };

    /// The type id.
    #[inline]
    pub fn id(&self) -> TypeId {
        self.id
    }
    /// The kind.
    #[inline]
    pub fn kind(&self) -> Kind {
        self.kind
    }
    /// Offset of the name in the string table (0 = anonymous).
    #[inline]
    pub fn name_off(&self) -> StrOffset {
        self.name_off
    }
    /// The raw info word.
    #[inline]
    pub fn info(&self) -> u32 {
        self.info
    }
    /// The vlen field (member / value / parameter count; linkage for FUNC).
    #[inline]
    pub fn vlen(&self) -> u16 {
        (self.info & 0xffff) as u16
    }
    /// The kind_flag bit.
    #[inline]
    pub fn kind_flag(&self) -> bool {
        self.info >> 31 != 0
    }
    /// The third word read as a size (meaningful for [`Kind::has_size`] kinds).
    #[inline]
    pub fn size(&self) -> u32 {
        self.size_or_type
    }
    /// The third word read as a type id (meaningful for [`Kind::has_type_ref`] kinds;
    /// the return type for FUNC_PROTO).
    #[inline]
    pub fn type_ref(&self) -> TypeId {
        TypeId(self.size_or_type)
    }
    /// The raw third word.
    #[inline]
    pub fn size_or_type(&self) -> u32 {
        self.size_or_type
    }
    /// The kind-specific bytes following the common 12.
    #[inline]
    pub fn extra_bytes(&self) -> &'a [u8] {
        self.rest
    }
    /// Byte order of the record.
    #[inline]
    pub fn endian(&self) -> Endian {
        self.endian
    }
    #[inline]
    fn w(&self, i: usize) -> u32 {
        word(self.endian, self.rest, i)
    }

    /// INT details, for [`Kind::Int`].
    pub fn int(&self) -> Option<IntInfo> {
        (self.kind == Kind::Int).then(|| IntInfo::from_raw(self.w(0)))
    }

    /// ARRAY details, for [`Kind::Array`].
    pub fn array(&self) -> Option<ArrayInfo> {
        (self.kind == Kind::Array).then(|| ArrayInfo {
            elem: TypeId(self.w(0)),
            index: TypeId(self.w(1)),
            nelems: self.w(2),
        })
    }

    /// Members of a STRUCT or UNION (empty for other kinds).
    pub fn members(&self) -> Members<'a> {
        let ok = self.kind.is_composite();
        Members {
            rest: if ok { self.rest } else { &[] },
            endian: self.endian,
            kflag: self.kind_flag(),
            index: 0,
        }
    }

    /// Values of an ENUM or ENUM64, widened to 64 bits (empty for other kinds).
    pub fn enum_values(&self) -> EnumValues<'a> {
        let stride = match self.kind {
            Kind::Enum => 8,
            Kind::Enum64 => 12,
            _ => 0,
        };
        EnumValues {
            rest: if stride == 0 { &[] } else { self.rest },
            endian: self.endian,
            stride,
            signed: self.kind_flag(),
            index: 0,
        }
    }

    /// True when an ENUM/ENUM64 declares signed values (kind_flag).
    pub fn is_signed_enum(&self) -> bool {
        self.kind.is_any_enum() && self.kind_flag()
    }

    /// Parameters of a FUNC_PROTO (empty for other kinds).
    pub fn params(&self) -> Params<'a> {
        Params {
            rest: if self.kind == Kind::FuncProto {
                self.rest
            } else {
                &[]
            },
            endian: self.endian,
            index: 0,
        }
    }

    /// Linkage of a FUNC.
    pub fn func_linkage(&self) -> Option<FuncLinkage> {
        (self.kind == Kind::Func).then(|| FuncLinkage::from_raw(self.vlen()))
    }

    /// Linkage of a VAR.
    pub fn var_linkage(&self) -> Option<VarLinkage> {
        (self.kind == Kind::Var).then(|| VarLinkage::from_raw(self.w(0)))
    }

    /// Variables of a DATASEC (empty for other kinds).
    pub fn datasec_vars(&self) -> VarSecinfos<'a> {
        VarSecinfos {
            rest: if self.kind == Kind::Datasec {
                self.rest
            } else {
                &[]
            },
            endian: self.endian,
            index: 0,
        }
    }

    /// Component index of a DECL_TAG (-1: the declaration itself).
    pub fn decl_tag_component(&self) -> Option<i32> {
        (self.kind == Kind::DeclTag).then(|| self.w(0) as i32)
    }

    /// For FWD: true when it declares a union (kind_flag), false for a struct.
    pub fn fwd_is_union(&self) -> bool {
        self.kind == Kind::Fwd && self.kind_flag()
    }
}

/// Decoded INT encoding word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntInfo {
    /// Encoding flags.
    pub encoding: IntEncoding,
    /// Bit offset (legacy; 0 in modern BTF).
    pub offset: u8,
    /// Number of value bits.
    pub bits: u8,
}

impl IntInfo {
    /// Splits the raw word.
    pub fn from_raw(v: u32) -> IntInfo {
        IntInfo {
            encoding: IntEncoding::from_raw(((v >> 24) & 0x0f) as u8),
            offset: ((v >> 16) & 0xff) as u8,
            bits: (v & 0xff) as u8,
        }
    }
}

/// Decoded ARRAY record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayInfo {
    /// Element type.
    pub elem: TypeId,
    /// Index type.
    pub index: TypeId,
    /// Element count.
    pub nelems: u32,
}

/// A struct or union member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Name (0 for anonymous members).
    pub name_off: StrOffset,
    /// Member type.
    pub ty: TypeId,
    /// Offset in bits from the start of the struct.
    pub bit_offset: u32,
    /// Bitfield width, 0 when not a bitfield.
    pub bitfield_size: u32,
    /// The raw offset word.
    pub raw_offset: u32,
}

impl Member {
    /// The byte offset (bit offset / 8, rounded down).
    pub fn byte_offset(&self) -> u32 {
        self.bit_offset / 8
    }
}

/// Iterator over [`Member`]s.
#[derive(Debug, Clone)]
pub struct Members<'a> {
    rest: &'a [u8],
    endian: Endian,
    kflag: bool,
    index: usize,
}

impl Iterator for Members<'_> {
    type Item = Member;
    fn next(&mut self) -> Option<Member> {
        let b = self.rest.get(self.index * 12..self.index * 12 + 12)?;
        self.index += 1;
        let name_off = StrOffset(word(self.endian, b, 0));
        let ty = TypeId(word(self.endian, b, 1));
        let raw = word(self.endian, b, 2);
        let (bit_offset, bitfield_size) = if self.kflag {
            (raw & 0x00ff_ffff, raw >> 24)
        } else {
            (raw, 0)
        };
        Some(Member {
            name_off,
            ty,
            bit_offset,
            bitfield_size,
            raw_offset: raw,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.rest.len() / 12).saturating_sub(self.index);
        (n, Some(n))
    }
}
impl ExactSizeIterator for Members<'_> {}

/// An enumerator of an ENUM or ENUM64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue {
    /// Name.
    pub name_off: StrOffset,
    /// Value: for ENUM, the 32-bit value sign- or zero-extended per kind_flag.
    pub value: u64,
    /// Whether the enum is signed (kind_flag).
    pub signed: bool,
}

impl EnumValue {
    /// The value as a signed number.
    pub fn as_i64(&self) -> i64 {
        self.value as i64
    }
}

/// Iterator over [`EnumValue`]s.
#[derive(Debug, Clone)]
pub struct EnumValues<'a> {
    rest: &'a [u8],
    endian: Endian,
    stride: usize,
    signed: bool,
    index: usize,
}

impl Iterator for EnumValues<'_> {
    type Item = EnumValue;
    fn next(&mut self) -> Option<EnumValue> {
        if self.stride == 0 {
            return None;
        }
        let s = self.index * self.stride;
        let b = self.rest.get(s..s + self.stride)?;
        self.index += 1;
        let name_off = StrOffset(word(self.endian, b, 0));
        let lo = word(self.endian, b, 1);
        let value = if self.stride == 8 {
            if self.signed {
                lo as i32 as i64 as u64
            } else {
                lo as u64
            }
        } else {
            ((word(self.endian, b, 2) as u64) << 32) | lo as u64
        };
        Some(EnumValue {
            name_off,
            value,
            signed: self.signed,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self
            .rest
            .len()
            .checked_div(self.stride)
            .unwrap_or(0)
            .saturating_sub(self.index);
        (n, Some(n))
    }
}
impl ExactSizeIterator for EnumValues<'_> {}

/// A FUNC_PROTO parameter. A last parameter with name 0 and type 0 is `...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Name (0 when unnamed).
    pub name_off: StrOffset,
    /// Type (0 for the variadic marker).
    pub ty: TypeId,
}

/// Iterator over [`Param`]s.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    rest: &'a [u8],
    endian: Endian,
    index: usize,
}

impl Iterator for Params<'_> {
    type Item = Param;
    fn next(&mut self) -> Option<Param> {
        let b = self.rest.get(self.index * 8..self.index * 8 + 8)?;
        self.index += 1;
        Some(Param {
            name_off: StrOffset(word(self.endian, b, 0)),
            ty: TypeId(word(self.endian, b, 1)),
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.rest.len() / 8).saturating_sub(self.index);
        (n, Some(n))
    }
}
impl ExactSizeIterator for Params<'_> {}

/// A DATASEC entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarSecinfo {
    /// The VAR (or FUNC, for ksyms) type.
    pub ty: TypeId,
    /// Offset in the section.
    pub offset: u32,
    /// Size in the section.
    pub size: u32,
}

/// Iterator over [`VarSecinfo`]s.
#[derive(Debug, Clone)]
pub struct VarSecinfos<'a> {
    rest: &'a [u8],
    endian: Endian,
    index: usize,
}

impl Iterator for VarSecinfos<'_> {
    type Item = VarSecinfo;
    fn next(&mut self) -> Option<VarSecinfo> {
        let b = self.rest.get(self.index * 12..self.index * 12 + 12)?;
        self.index += 1;
        Some(VarSecinfo {
            ty: TypeId(word(self.endian, b, 0)),
            offset: word(self.endian, b, 1),
            size: word(self.endian, b, 2),
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.rest.len() / 12).saturating_sub(self.index);
        (n, Some(n))
    }
}
impl ExactSizeIterator for VarSecinfos<'_> {}
