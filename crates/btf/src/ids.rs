//! Typed integers: type ids and string offsets.

use std::fmt;

/// A BTF type id. Id 0 is `void`; split BTF continues the ids of its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TypeId(pub u32);

impl TypeId {
    /// The `void` type.
    pub const VOID: TypeId = TypeId(0);

    /// The raw id.
    #[inline]
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// An offset into the (combined base + split) string table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StrOffset(pub u32);

impl StrOffset {
    /// True for offset 0, the empty name of anonymous types.
    #[inline]
    pub fn is_anon(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for StrOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
