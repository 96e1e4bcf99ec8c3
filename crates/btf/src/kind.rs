//! Kinds and the small enumerations found inside type records.

use std::fmt;

/// A BTF kind, matched from the 5-bit (or layout-described) kind field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// `void` (id 0 only; never a record).
    Void,
    /// Integer.
    Int,
    /// Pointer.
    Ptr,
    /// Array.
    Array,
    /// Struct.
    Struct,
    /// Union.
    Union,
    /// 32-bit enum.
    Enum,
    /// Forward declaration of a struct or union.
    Fwd,
    /// Typedef.
    Typedef,
    /// `volatile` modifier.
    Volatile,
    /// `const` modifier.
    Const,
    /// `restrict` modifier.
    Restrict,
    /// Function (name, linkage and prototype).
    Func,
    /// Function prototype.
    FuncProto,
    /// Variable.
    Var,
    /// Data section.
    Datasec,
    /// Floating point.
    Float,
    /// Declaration tag.
    DeclTag,
    /// Type tag.
    TypeTag,
    /// 64-bit enum.
    Enum64,
    /// A kind newer than this code, described by the file's layout section.
    Unknown(u8),
}

impl Kind {
    /// Matches a raw kind number; numbers past ENUM64 give [`Kind::Unknown`].
    pub fn from_raw(k: u8) -> Kind {
        match k {
            0 => Kind::Void,
            1 => Kind::Int,
            2 => Kind::Ptr,
            3 => Kind::Array,
            4 => Kind::Struct,
            5 => Kind::Union,
            6 => Kind::Enum,
            7 => Kind::Fwd,
            8 => Kind::Typedef,
            9 => Kind::Volatile,
            10 => Kind::Const,
            11 => Kind::Restrict,
            12 => Kind::Func,
            13 => Kind::FuncProto,
            14 => Kind::Var,
            15 => Kind::Datasec,
            16 => Kind::Float,
            17 => Kind::DeclTag,
            18 => Kind::TypeTag,
            19 => Kind::Enum64,
            other => Kind::Unknown(other),
        }
    }

    /// The raw kind number.
    pub fn raw(self) -> u8 {
        match self {
            Kind::Void => 0,
            Kind::Int => 1,
            Kind::Ptr => 2,
            Kind::Array => 3,
            Kind::Struct => 4,
            Kind::Union => 5,
            Kind::Enum => 6,
            Kind::Fwd => 7,
            Kind::Typedef => 8,
            Kind::Volatile => 9,
            Kind::Const => 10,
            Kind::Restrict => 11,
            Kind::Func => 12,
            Kind::FuncProto => 13,
            Kind::Var => 14,
            Kind::Datasec => 15,
            Kind::Float => 16,
            Kind::DeclTag => 17,
            Kind::TypeTag => 18,
            Kind::Enum64 => 19,
            Kind::Unknown(k) => k,
        }
    }

    /// The upper-case name bpftool prints (`STRUCT`, `FUNC_PROTO`...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Void => "UNKNOWN",
            Kind::Int => "INT",
            Kind::Ptr => "PTR",
            Kind::Array => "ARRAY",
            Kind::Struct => "STRUCT",
            Kind::Union => "UNION",
            Kind::Enum => "ENUM",
            Kind::Fwd => "FWD",
            Kind::Typedef => "TYPEDEF",
            Kind::Volatile => "VOLATILE",
            Kind::Const => "CONST",
            Kind::Restrict => "RESTRICT",
            Kind::Func => "FUNC",
            Kind::FuncProto => "FUNC_PROTO",
            Kind::Var => "VAR",
            Kind::Datasec => "DATASEC",
            Kind::Float => "FLOAT",
            Kind::DeclTag => "DECL_TAG",
            Kind::TypeTag => "TYPE_TAG",
            Kind::Enum64 => "ENUM64",
            Kind::Unknown(_) => "UNKNOWN",
        }
    }

    /// Kinds whose third word is a size (INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64).
    pub fn has_size(self) -> bool {
        matches!(
            self,
            Kind::Int
                | Kind::Enum
                | Kind::Struct
                | Kind::Union
                | Kind::Datasec
                | Kind::Float
                | Kind::Enum64
        )
    }

    /// Kinds whose third word is a type id.
    pub fn has_type_ref(self) -> bool {
        matches!(
            self,
            Kind::Ptr
                | Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Func
                | Kind::FuncProto
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag
        )
    }

    /// CONST, VOLATILE, RESTRICT and TYPE_TAG.
    pub fn is_modifier(self) -> bool {
        matches!(
            self,
            Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag
        )
    }

    /// STRUCT or UNION.
    pub fn is_composite(self) -> bool {
        matches!(self, Kind::Struct | Kind::Union)
    }

    /// ENUM or ENUM64.
    pub fn is_any_enum(self) -> bool {
        matches!(self, Kind::Enum | Kind::Enum64)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Unknown(k) => write!(f, "UNKNOWN({k})"),
            other => f.write_str(other.name()),
        }
    }
}

/// Encoding bits of a BTF INT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntEncoding {
    /// No flag: unsigned.
    None,
    /// `BTF_INT_SIGNED`.
    Signed,
    /// `BTF_INT_CHAR`.
    Char,
    /// `BTF_INT_BOOL`.
    Bool,
    /// A combination or value not defined by the format.
    Other(u8),
}

impl IntEncoding {
    /// Matches the 4-bit encoding field.
    pub fn from_raw(v: u8) -> IntEncoding {
        match v {
            0 => IntEncoding::None,
            1 => IntEncoding::Signed,
            2 => IntEncoding::Char,
            4 => IntEncoding::Bool,
            o => IntEncoding::Other(o),
        }
    }

    /// bpftool's spelling: `(none)`, `SIGNED`, `CHAR`, `BOOL`, `UNKN`.
    pub fn name(self) -> &'static str {
        match self {
            IntEncoding::None => "(none)",
            IntEncoding::Signed => "SIGNED",
            IntEncoding::Char => "CHAR",
            IntEncoding::Bool => "BOOL",
            IntEncoding::Other(_) => "UNKN",
        }
    }
}

/// Linkage of a FUNC (stored in its vlen field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FuncLinkage {
    /// `static`.
    Static,
    /// `global`.
    Global,
    /// `extern`.
    Extern,
    /// Any other value.
    Other(u16),
}

impl FuncLinkage {
    /// Matches the raw value.
    pub fn from_raw(v: u16) -> FuncLinkage {
        match v {
            0 => FuncLinkage::Static,
            1 => FuncLinkage::Global,
            2 => FuncLinkage::Extern,
            o => FuncLinkage::Other(o),
        }
    }

    /// bpftool's spelling.
    pub fn name(self) -> &'static str {
        match self {
            FuncLinkage::Static => "static",
            FuncLinkage::Global => "global",
            FuncLinkage::Extern => "extern",
            FuncLinkage::Other(_) => "(unknown)",
        }
    }
}

/// Linkage of a VAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarLinkage {
    /// `static`.
    Static,
    /// Global, allocated here.
    Global,
    /// `extern`.
    Extern,
    /// Any other value.
    Other(u32),
}

impl VarLinkage {
    /// Matches the raw value.
    pub fn from_raw(v: u32) -> VarLinkage {
        match v {
            0 => VarLinkage::Static,
            1 => VarLinkage::Global,
            2 => VarLinkage::Extern,
            o => VarLinkage::Other(o),
        }
    }

    /// bpftool's spelling.
    pub fn name(self) -> &'static str {
        match self {
            VarLinkage::Static => "static",
            VarLinkage::Global => "global",
            VarLinkage::Extern => "extern",
            VarLinkage::Other(_) => "(unknown)",
        }
    }
}
