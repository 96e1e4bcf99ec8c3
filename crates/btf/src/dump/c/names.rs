//! Unique names: libbpf gives the second and later distinct types sharing a
//! name a `___N` suffix (N = occurrence count), separately in the tag
//! namespace (struct, union, enum) and the ordinary one (typedefs and
//! enumerators). Forward declarations and empty enums keep their names.

use super::{CDumper, NAME_RESOLVED};
use crate::Kind;

/// libbpf formats a suffixed name into a 256-byte buffer, so a longer one
/// is cut to this many bytes.
const MAX_SUFFIXED_LEN: usize = 255;

/// A type's name as emitted: the stored bytes plus, when `dup > 1`, the
/// `___dup` suffix.
#[derive(Clone, Copy, Debug)]
pub(super) struct Name<'b> {
    pub(super) base: &'b [u8],
    pub(super) dup: usize,
}

impl<'b> Name<'b> {
    /// A name taken as stored (member and parameter names).
    pub(super) fn plain(base: &'b [u8]) -> Name<'b> {
        Name { base, dup: 0 }
    }

    /// True for the empty name (nothing is written).
    pub(super) fn is_empty(&self) -> bool {
        self.base.is_empty() && self.dup <= 1
    }

    /// True when the emitted name is exactly `s`.
    pub(super) fn is(&self, s: &[u8]) -> bool {
        self.dup <= 1 && self.base == s
    }

    /// Appends the name.
    pub(super) fn write(&self, out: &mut Vec<u8>) {
        if self.dup <= 1 {
            out.extend_from_slice(self.base);
            return;
        }
        let start = out.len();
        out.extend_from_slice(self.base);
        out.extend_from_slice(b"___");
        let mut buf = itoa::Buffer::new();
        out.extend_from_slice(buf.format(self.dup).as_bytes());
        if out.len() - start > MAX_SUFFIXED_LEN {
            out.truncate(start + MAX_SUFFIXED_LEN);
        }
    }
}

#[derive(Clone, Copy)]
enum Space {
    Tag,
    Ident,
}

impl<'b> CDumper<'b, '_> {
    /// Name of a struct/union/enum/fwd (tag namespace).
    pub(super) fn type_name(&mut self, id: u32) -> Name<'b> {
        self.resolve_name(id, Space::Tag)
    }

    /// Name of a typedef (ordinary identifier namespace).
    pub(super) fn ident_name(&mut self, id: u32) -> Name<'b> {
        self.resolve_name(id, Space::Ident)
    }

    fn resolve_name(&mut self, id: u32, space: Space) -> Name<'b> {
        let t = self.ty(id);
        if t.name_off().is_anon() {
            return Name::plain(b"");
        }
        let base = self.raw_name(&t);
        if self.state(id).has(NAME_RESOLVED) {
            let dup = self.renamed.get(&id).copied().unwrap_or(0);
            return Name { base, dup };
        }
        self.state(id).set(NAME_RESOLVED);
        if t.kind() == Kind::Fwd || (t.kind() == Kind::Enum && t.vlen() == 0) {
            return Name::plain(base);
        }
        let map = match space {
            Space::Tag => &mut self.type_names,
            Space::Ident => &mut self.ident_names,
        };
        let dup = bump(map, base);
        if dup > 1 {
            self.renamed.insert(id, dup);
        }
        Name { base, dup }
    }

    /// Counts one more enumerator named `name`; returns the count so far.
    pub(super) fn name_dups_ident(&mut self, name: &'b [u8]) -> usize {
        bump(&mut self.ident_names, name)
    }
}

fn bump<'b>(map: &mut hashbrown::HashMap<&'b [u8], usize>, name: &'b [u8]) -> usize {
    let c = map.entry(name).or_insert(0);
    *c += 1;
    *c
}
