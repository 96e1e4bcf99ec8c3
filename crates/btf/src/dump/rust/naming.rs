//! Rust names for BTF types, fields and enumerators.
//!
//! Names are assigned once over the whole BTF, in passes that each walk the
//! types in id order, so a type's name never depends on which types a caller
//! asked to emit. The rules are documented on [`super`].

use hashbrown::{HashMap, HashSet};

use crate::{Btf, Error, Kind, Result, TypeId, MAX_DEPTH};

/// How a type is spelled in Rust.
#[derive(Debug, Clone)]
pub(super) enum Slot {
    /// No item (scalars, pointers, arrays; anonymous enums nobody names).
    Unnamed,
    /// An item with this name.
    Name(Box<str>),
    /// No item of its own: spelled as this other type (a typedef that would
    /// alias itself, a FWD of a defined struct).
    Alias(TypeId),
}

/// Every name of a BTF.
#[derive(Debug)]
pub(super) struct Names {
    slots: Vec<Slot>,
    /// Enumerator names of each ENUM/ENUM64, in value order.
    consts: HashMap<u32, Vec<Box<str>>>,
}

/// Rust keywords (strict, reserved and edition-2024 ones) and names that
/// cannot be items; a name equal to one gets a trailing underscore.
const KEYWORDS: &[&str] = &[
    "_", "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final",
    "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Rust primitive type names: a type item with one of these names would
/// shadow the primitive the generated code relies on.
pub(super) const PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool", "char", "str",
];

/// Item names the generated code itself defines in the value namespace.
pub(super) const HELPERS: &[&str] = &["__btfx_bf_get", "__btfx_bf_set", "__btfx_bf_sext"];

/// `bytes` as a Rust identifier: bytes outside `[A-Za-z0-9_]` become `_`,
/// a leading digit gets a `_` before it, keywords a `_` after.
pub(super) fn ident(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 1);
    if bytes.first().is_some_and(u8::is_ascii_digit) || bytes.is_empty() {
        s.push('_');
    }
    for &b in bytes {
        s.push(if b.is_ascii_alphanumeric() || b == b'_' {
            b as char
        } else {
            '_'
        });
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Like [`ident`], and a primitive type name also gets a trailing `_`.
fn type_ident(bytes: &[u8]) -> String {
    let mut s = ident(bytes);
    if PRIMITIVES.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// The primitive a chain of typedefs and modifiers ends in, if it is a
/// scalar rendered as a bare primitive name.
fn primitive_of(btf: &Btf<'_>, id: TypeId) -> Option<&'static str> {
    let t = btf.skip_mods_and_typedefs(id).ok()?;
    let r = super::render::scalar(&t)?;
    PRIMITIVES.iter().copied().find(|p| *p == r)
}

/// The set of names taken in one namespace, and the clash rule.
#[derive(Default)]
struct Taken(HashSet<Box<str>>);

impl Taken {
    /// `base` if free; else `base__<what>`; else `base__<what><N>`, N = 2, 3...
    fn claim(&mut self, base: String, what: &str) -> Box<str> {
        if !self.0.contains(base.as_str()) {
            let b: Box<str> = base.into();
            self.0.insert(b.clone());
            return b;
        }
        let mut n = 1u32;
        loop {
            let cand = if n == 1 {
                format!("{base}__{what}")
            } else {
                format!("{base}__{what}{n}")
            };
            if !self.0.contains(cand.as_str()) {
                let b: Box<str> = cand.into();
                self.0.insert(b.clone());
                return b;
            }
            n += 1;
        }
    }
}

impl Names {
    /// Assigns every name of `btf` (base types included for split BTF).
    pub(super) fn assign(btf: &Btf<'_>) -> Result<Names> {
        let count = btf.type_count() as usize;
        let mut slots = vec![Slot::Unnamed; count];
        let mut types = Taken::default();
        let get_name = |id: u32| -> Option<&[u8]> {
            let t = btf.type_by_id(TypeId(id))?;
            if t.name_off().is_anon() {
                return None;
            }
            btf.str_bytes(t.name_off())
        };
        // Pass 1: struct and union tags, then FWDs (which alias a definition
        // of the same name when there is one).
        let mut tag_defs: HashMap<&[u8], u32> = HashMap::new();
        for id in 1..count as u32 {
            let Some(t) = btf.type_by_id(TypeId(id)) else {
                continue;
            };
            if !t.kind().is_composite() {
                continue;
            }
            if let Some(n) = get_name(id) {
                tag_defs.entry(n).or_insert(id);
                let what = if t.kind() == Kind::Struct {
                    "struct"
                } else {
                    "union"
                };
                slots[id as usize] = Slot::Name(types.claim(type_ident(n), what));
            }
        }
        for id in 1..count as u32 {
            let Some(t) = btf.type_by_id(TypeId(id)) else {
                continue;
            };
            if t.kind() != Kind::Fwd {
                continue;
            }
            let n = get_name(id).unwrap_or(b"");
            slots[id as usize] = match tag_defs.get(n) {
                Some(&def) => Slot::Alias(TypeId(def)),
                None => Slot::Name(types.claim(type_ident(n), "fwd")),
            };
        }
        // Pass 2: named enums.
        for id in 1..count as u32 {
            let Some(t) = btf.type_by_id(TypeId(id)) else {
                continue;
            };
            if t.kind().is_any_enum() {
                if let Some(n) = get_name(id) {
                    slots[id as usize] = Slot::Name(types.claim(type_ident(n), "enum"));
                }
            }
        }
        // Pass 3: typedefs. One that would alias itself is dropped, and an
        // anonymous struct, union or enum takes the name of the first
        // typedef naming it.
        for id in 1..count as u32 {
            let Some(t) = btf.type_by_id(TypeId(id)) else {
                continue;
            };
            if t.kind() != Kind::Typedef {
                continue;
            }
            let n = get_name(id).unwrap_or(b"");
            let raw = ident(n);
            if PRIMITIVES.contains(&raw.as_str())
                && primitive_of(btf, t.type_ref()) == Some(raw.as_str())
            {
                slots[id as usize] = Slot::Alias(t.type_ref());
                continue;
            }
            let target = btf.skip_mods(t.type_ref())?;
            let tid = target.id().0 as usize;
            let named_kind = target.kind().is_composite() || target.kind().is_any_enum();
            if named_kind && target.name_off().is_anon() {
                if let Some(Slot::Unnamed) = slots.get(tid) {
                    slots[tid] = Slot::Name(types.claim(type_ident(n), "typedef"));
                    slots[id as usize] = Slot::Alias(target.id());
                    continue;
                }
            }
            let want = type_ident(n);
            if named_kind || target.kind() == Kind::Fwd {
                let same = match slots.get(tid) {
                    Some(Slot::Name(s)) => **s == *want,
                    Some(Slot::Alias(d)) => {
                        matches!(slots.get(d.0 as usize), Some(Slot::Name(s)) if **s == *want)
                    }
                    _ => false,
                };
                if same {
                    slots[id as usize] = Slot::Alias(target.id());
                    continue;
                }
            }
            slots[id as usize] = Slot::Name(types.claim(want, "typedef"));
        }
        // Pass 4: anonymous types reached from named structs and unions.
        for id in 1..count as u32 {
            if let Some(Slot::Name(p)) = slots.get(id as usize) {
                let is_comp = btf
                    .type_by_id(TypeId(id))
                    .is_some_and(|t| t.kind().is_composite());
                if is_comp {
                    let p = p.clone();
                    name_children(btf, &mut slots, &mut types, TypeId(id), &p, 0)?;
                }
            }
        }
        // Pass 5: anonymous structs and unions reached from nowhere named.
        for id in 1..count as u32 {
            let Some(t) = btf.type_by_id(TypeId(id)) else {
                continue;
            };
            if t.kind().is_composite() && matches!(slots[id as usize], Slot::Unnamed) {
                let n = types.claim(format!("__anon_{id}"), "anon");
                slots[id as usize] = Slot::Name(n.clone());
                name_children(btf, &mut slots, &mut types, TypeId(id), &n, 0)?;
            }
        }
        // Enumerators share one value namespace.
        let mut values = Taken::default();
        for h in HELPERS {
            values.0.insert((*h).into());
        }
        let mut consts = HashMap::new();
        for id in 1..count as u32 {
            let Some(t) = btf.type_by_id(TypeId(id)) else {
                continue;
            };
            if !t.kind().is_any_enum() {
                continue;
            }
            let v: Vec<Box<str>> = t
                .enum_values()
                .map(|e| values.claim(ident(btf.str_bytes(e.name_off).unwrap_or(b"")), "dup"))
                .collect();
            consts.insert(id, v);
        }
        Ok(Names { slots, consts })
    }

    /// How type `id` is spelled.
    pub(super) fn slot(&self, id: TypeId) -> &Slot {
        self.slots.get(id.0 as usize).unwrap_or(&Slot::Unnamed)
    }

    /// The enumerator names of enum `id`.
    pub(super) fn consts(&self, id: TypeId) -> &[Box<str>] {
        self.consts.get(&id.0).map_or(&[], |v| v.as_slice())
    }
}

/// Names the anonymous structs, unions and enums that `parent`'s members
/// reach through modifiers, arrays and pointers: `<parent>__anon_<N>`, N
/// counting from 1 in member order; then their own children, recursively.
fn name_children(
    btf: &Btf<'_>,
    slots: &mut [Slot],
    types: &mut Taken,
    parent: TypeId,
    pname: &str,
    depth: u32,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep {
            id: parent,
            depth: MAX_DEPTH,
        });
    }
    let t = btf.get(parent)?;
    let mut n = 0u32;
    for m in t.members() {
        let mut cur = btf.get(m.ty)?;
        let mut hops = 0;
        loop {
            hops += 1;
            if hops > MAX_DEPTH {
                return Err(Error::TooDeep {
                    id: m.ty,
                    depth: MAX_DEPTH,
                });
            }
            match cur.kind() {
                k if k.is_modifier() || k == Kind::Ptr => cur = btf.get(cur.type_ref())?,
                Kind::Array => {
                    let a = cur.array().ok_or(Error::NoSuchType(cur.id()))?;
                    cur = btf.get(a.elem)?;
                }
                _ => break,
            }
        }
        let k = cur.kind();
        if !(k.is_composite() || k.is_any_enum()) || !cur.name_off().is_anon() {
            continue;
        }
        let cid = cur.id();
        if !matches!(slots.get(cid.0 as usize), Some(Slot::Unnamed)) {
            continue;
        }
        n += 1;
        let name = types.claim(format!("{pname}__anon_{n}"), "anon");
        slots[cid.0 as usize] = Slot::Name(name.clone());
        if k.is_composite() {
            name_children(btf, slots, types, cid, &name, depth + 1)?;
        }
    }
    Ok(())
}
