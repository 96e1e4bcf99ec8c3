//! The 13 CO-RE relocation kinds.

/// A CO-RE relocation kind (`enum bpf_core_relo_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelocKind {
    /// Field byte offset.
    FieldByteOffset,
    /// Field byte size.
    FieldByteSize,
    /// Field existence.
    FieldExists,
    /// Field signedness.
    FieldSigned,
    /// Bitfield left shift for a u64 load.
    FieldLshiftU64,
    /// Bitfield right shift for a u64 load.
    FieldRshiftU64,
    /// Type id in the local BTF.
    TypeIdLocal,
    /// Type id in the target BTF.
    TypeIdTarget,
    /// Type existence.
    TypeExists,
    /// Type size.
    TypeSize,
    /// Enumerator existence.
    EnumvalExists,
    /// Enumerator value.
    EnumvalValue,
    /// Type match (`bpf_core_types_match`).
    TypeMatches,
}

impl RelocKind {
    /// Matches the raw kind number of a `.BTF.ext` record.
    pub fn from_raw(v: u32) -> Option<RelocKind> {
        Some(match v {
            0 => RelocKind::FieldByteOffset,
            1 => RelocKind::FieldByteSize,
            2 => RelocKind::FieldExists,
            3 => RelocKind::FieldSigned,
            4 => RelocKind::FieldLshiftU64,
            5 => RelocKind::FieldRshiftU64,
            6 => RelocKind::TypeIdLocal,
            7 => RelocKind::TypeIdTarget,
            8 => RelocKind::TypeExists,
            9 => RelocKind::TypeSize,
            10 => RelocKind::EnumvalExists,
            11 => RelocKind::EnumvalValue,
            12 => RelocKind::TypeMatches,
            _ => return None,
        })
    }

    /// The raw kind number.
    pub fn raw(self) -> u32 {
        match self {
            RelocKind::FieldByteOffset => 0,
            RelocKind::FieldByteSize => 1,
            RelocKind::FieldExists => 2,
            RelocKind::FieldSigned => 3,
            RelocKind::FieldLshiftU64 => 4,
            RelocKind::FieldRshiftU64 => 5,
            RelocKind::TypeIdLocal => 6,
            RelocKind::TypeIdTarget => 7,
            RelocKind::TypeExists => 8,
            RelocKind::TypeSize => 9,
            RelocKind::EnumvalExists => 10,
            RelocKind::EnumvalValue => 11,
            RelocKind::TypeMatches => 12,
        }
    }

    /// libbpf's short name (`byte_off`, `type_exists`...).
    pub fn name(self) -> &'static str {
        match self {
            RelocKind::FieldByteOffset => "byte_off",
            RelocKind::FieldByteSize => "byte_sz",
            RelocKind::FieldExists => "field_exists",
            RelocKind::FieldSigned => "signed",
            RelocKind::FieldLshiftU64 => "lshift_u64",
            RelocKind::FieldRshiftU64 => "rshift_u64",
            RelocKind::TypeIdLocal => "local_type_id",
            RelocKind::TypeIdTarget => "target_type_id",
            RelocKind::TypeExists => "type_exists",
            RelocKind::TypeMatches => "type_matches",
            RelocKind::TypeSize => "type_size",
            RelocKind::EnumvalExists => "enumval_exists",
            RelocKind::EnumvalValue => "enumval_value",
        }
    }

    /// Field-based kinds (the first six).
    pub fn is_field_based(self) -> bool {
        matches!(
            self,
            RelocKind::FieldByteOffset
                | RelocKind::FieldByteSize
                | RelocKind::FieldExists
                | RelocKind::FieldSigned
                | RelocKind::FieldLshiftU64
                | RelocKind::FieldRshiftU64
        )
    }

    /// Type-based kinds (ids, existence, size, match).
    pub fn is_type_based(self) -> bool {
        matches!(
            self,
            RelocKind::TypeIdLocal
                | RelocKind::TypeIdTarget
                | RelocKind::TypeExists
                | RelocKind::TypeMatches
                | RelocKind::TypeSize
        )
    }

    /// Enumerator-based kinds.
    pub fn is_enumval_based(self) -> bool {
        matches!(self, RelocKind::EnumvalExists | RelocKind::EnumvalValue)
    }
}

/// libbpf's name for a raw kind, `unknown` for numbers it does not know.
pub fn kind_str(raw: u32) -> &'static str {
    RelocKind::from_raw(raw).map_or("unknown", RelocKind::name)
}
