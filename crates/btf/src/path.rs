//! Field paths: where `task_struct.mm->pgd` lives in a BTF.
//!
//! A path names a root type and then a chain of steps:
//!
//! - `.name` reads member `name` of the current struct or union. Members of
//!   anonymous structs and unions are reached transparently, as in C
//!   (`sk_buff.len` finds `len` inside the anonymous union it lives in).
//! - `->name` dereferences the current pointer and reads member `name` of
//!   the pointee. The pointer is a separate read: the offset starts again at
//!   0 in the pointee, so a path is a chain of [`Read`]s.
//! - `[i]` indexes the current array (a flexible array, with 0 elements,
//!   accepts any index).
//!
//! The root is a type name, optionally spelled with its tag
//! (`struct task_struct`, `union bpf_attr`); without a tag, a struct is
//! preferred over a union, then a typedef. Typedefs and modifiers are looked
//! through at every step.
//!
//! A path that is well-formed but absent from the BTF is not an error: it
//! resolves to [`Resolution::Missing`] naming the step that failed.
//!
//! ```
//! use btf::{path::{resolve, Resolution}, write::Builder, Btf, Endian, IntEncoding, Kind};
//!
//! let mut b = Builder::new();
//! let int = b.int("int", 4, IntEncoding::Signed);
//! let inner = b.struct_("inner", 8, &[("a", int, 0, 0), ("b", int, 32, 0)]);
//! let ptr = b.reference(Kind::Ptr, "", inner);
//! b.struct_("outer", 16, &[("x", int, 0, 0), ("p", ptr, 64, 0)]);
//! let btf = Btf::parse(b.encode(Endian::Little))?;
//!
//! let Resolution::Found(f) = resolve(&btf, "outer.p->b")? else { panic!() };
//! assert_eq!(f.bit_offset, 32);
//! assert_eq!(f.size, 4);
//! assert_eq!(f.reads.len(), 2);
//! assert_eq!(f.c_type, "int");
//!
//! let Resolution::Missing(m) = resolve(&btf, "outer.p->c")? else { panic!() };
//! assert_eq!(m.component, "->c");
//! # Ok::<(), btf::Error>(())
//! ```

use crate::{Btf, Error, Kind, Result, Type, TypeId, MAX_DEPTH};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `.name`: a member of the current struct or union.
    Member(String),
    /// `->name`: a member of the struct or union the current pointer points to.
    Deref(String),
    /// `[i]`: an element of the current array.
    Index(u64),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Member(n) => write!(f, ".{n}"),
            Step::Deref(n) => write!(f, "->{n}"),
            Step::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A parsed path: a root type name and its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    /// `struct`, `union` or `None` when the root was given without a tag.
    pub tag: Option<Kind>,
    /// The root type name.
    pub root: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

fn bad(path: &str, offset: usize, why: &'static str) -> Error {
    Error::BadPath {
        path: path.to_owned(),
        offset,
        why,
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl FieldPath {
    /// Parses `[struct |union ]ROOT(.name|->name|[i])*`.
    pub fn parse(path: &str) -> Result<FieldPath> {
        let s = path.trim();
        let (tag, rest) = if let Some(r) = s.strip_prefix("struct ") {
            (Some(Kind::Struct), r.trim_start())
        } else if let Some(r) = s.strip_prefix("union ") {
            (Some(Kind::Union), r.trim_start())
        } else {
            (None, s)
        };
        let base = path.len() - rest.len() - (path.len() - path.trim_end().len());
        let b = rest.as_bytes();
        let ident = |mut i: usize| {
            let start = i;
            while b.get(i).is_some_and(|&c| is_ident(c)) {
                i += 1;
            }
            (start, i)
        };
        let (s0, e0) = ident(0);
        if s0 == e0 {
            return Err(bad(path, base, "expected a type name"));
        }
        let root = rest.get(s0..e0).unwrap_or_default().to_owned();
        let mut steps = Vec::new();
        let mut i = e0;
        while i < b.len() {
            let member = |at: usize, steps: &mut Vec<Step>, deref: bool| {
                let (s, e) = ident(at);
                if s == e {
                    return Err(bad(path, base + at, "expected a member name"));
                }
                let name = rest.get(s..e).unwrap_or_default().to_owned();
                steps.push(if deref {
                    Step::Deref(name)
                } else {
                    Step::Member(name)
                });
                Ok(e)
            };
            i = match b.get(i..) {
                Some([b'.', ..]) => member(i + 1, &mut steps, false)?,
                Some([b'-', b'>', ..]) => member(i + 2, &mut steps, true)?,
                Some([b'[', ..]) => {
                    let close = b
                        .iter()
                        .skip(i)
                        .position(|&c| c == b']')
                        .map(|p| p + i)
                        .ok_or_else(|| bad(path, base + i, "unclosed '['"))?;
                    let text = rest.get(i + 1..close).unwrap_or_default().trim();
                    let n = parse_index(text)
                        .ok_or_else(|| bad(path, base + i + 1, "expected an array index"))?;
                    steps.push(Step::Index(n));
                    close + 1
                }
                _ => return Err(bad(path, base + i, "expected '.', '->' or '['")),
            };
        }
        Ok(FieldPath { tag, root, steps })
    }
}

fn parse_index(t: &str) -> Option<u64> {
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        t.parse().ok()
    }
}

/// One memory read of a path: a base type and where, inside it, the next
/// pointer (or the final field) sits. A path with `n` dereferences has
/// `n + 1` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The struct or union read from (its id in the BTF).
    pub base: TypeId,
    /// The path text of this read (`task_struct.mm`, `->pgd`).
    pub text: String,
    /// Offset, in bits, from the start of `base`.
    pub bit_offset: u64,
}

/// Where a path's field lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// The root type.
    pub root: TypeId,
    /// The chain of reads; the last one holds the field.
    pub reads: Vec<Read>,
    /// The field's type as declared (typedefs and modifiers kept).
    pub ty: TypeId,
    /// The field's type in C spelling (`struct mm_struct *`).
    pub c_type: String,
    /// Offset in bits of the field from the start of the last read's base.
    pub bit_offset: u64,
    /// Size in bytes of the field's type (the storage unit type for a bitfield).
    pub size: u64,
    /// Bitfield width, 0 when the field is not a bitfield.
    pub bitfield_size: u32,
}

impl FieldInfo {
    /// Byte offset of the field (rounded down for bitfields).
    pub fn byte_offset(&self) -> u64 {
        self.bit_offset / 8
    }
}

/// Why a path does not exist in a BTF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// Index of the failed component: 0 is the root, `k` is step `k - 1`.
    pub index: usize,
    /// The failed component as written (`task_struct`, `->pgd`, `[3]`).
    pub component: String,
    /// Why it failed.
    pub why: String,
}

/// The answer for a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The path exists.
    Found(FieldInfo),
    /// The path does not exist in this BTF.
    Missing(Missing),
}

/// Parses and resolves `path` in `btf` (see the module documentation).
/// Errors are for a malformed path or a malformed BTF; absence is
/// [`Resolution::Missing`].
pub fn resolve(btf: &Btf<'_>, path: &str) -> Result<Resolution> {
    resolve_path(btf, &FieldPath::parse(path)?)
}

fn find_root(btf: &Btf<'_>, p: &FieldPath) -> Option<TypeId> {
    let kinds: &[Kind] = match p.tag {
        Some(k) => &[k][..],
        None => &[Kind::Struct, Kind::Union, Kind::Typedef][..],
    };
    kinds
        .iter()
        .find_map(|&k| btf.find_by_name_kind(&p.root, k))
}

/// Resolves an already parsed path.
pub fn resolve_path(btf: &Btf<'_>, p: &FieldPath) -> Result<Resolution> {
    let missing = |index: usize, component: String, why: String| {
        Ok(Resolution::Missing(Missing {
            index,
            component,
            why,
        }))
    };
    let Some(root) = find_root(btf, p) else {
        let what = match p.tag {
            Some(Kind::Union) => "union",
            Some(_) => "struct",
            None => "struct, union or typedef",
        };
        return missing(0, p.root.clone(), format!("no {what} named '{}'", p.root));
    };
    let mut reads = vec![Read {
        base: root,
        text: p.root.clone(),
        bit_offset: 0,
    }];
    // The current object: its declared type, bit offset in the current read,
    // bitfield size.
    let mut cur = root;
    let mut bit_off: u64 = 0;
    let mut bf: u32 = 0;
    for (k, step) in p.steps.iter().enumerate() {
        let comp = step.to_string();
        let t = btf.skip_mods_and_typedefs(cur)?;
        let (name, base_t) = match step {
            Step::Index(i) => {
                let Some(a) = t.array() else {
                    return missing(
                        k + 1,
                        comp,
                        format!("{} is not an array", c_type_name(btf, cur)),
                    );
                };
                if a.nelems != 0 && *i >= u64::from(a.nelems) {
                    return missing(
                        k + 1,
                        comp,
                        format!("index {i} is past the end of {}", c_type_name(btf, cur)),
                    );
                }
                let esz = btf.resolve_size(a.elem)?;
                let add = i
                    .checked_mul(esz)
                    .and_then(|v| v.checked_mul(8))
                    .and_then(|v| v.checked_add(bit_off))
                    .ok_or(Error::Unresolvable {
                        id: t.id(),
                        kind: Kind::Array,
                        why: "element offset overflows 64 bits",
                    })?;
                bit_off = add;
                cur = a.elem;
                bf = 0;
                if let Some(r) = reads.last_mut() {
                    r.text.push_str(&comp);
                }
                continue;
            }
            Step::Member(n) => (n, t),
            Step::Deref(n) => {
                if t.kind() != Kind::Ptr {
                    return missing(
                        k + 1,
                        comp,
                        format!("{} is not a pointer", c_type_name(btf, cur)),
                    );
                }
                if let Some(r) = reads.last_mut() {
                    r.bit_offset = bit_off;
                }
                let pointee = btf.skip_mods_and_typedefs(t.type_ref())?;
                reads.push(Read {
                    base: pointee.id(),
                    text: String::new(),
                    bit_offset: 0,
                });
                bit_off = 0;
                (n, pointee)
            }
        };
        if !base_t.kind().is_composite() {
            return missing(
                k + 1,
                comp,
                format!("{} is not a struct or union", c_type_name(btf, base_t.id())),
            );
        }
        match find_member(btf, &base_t, name, 0)? {
            Some((m_off, m_ty, m_bf)) => {
                bit_off = bit_off.checked_add(m_off).ok_or(Error::Unresolvable {
                    id: base_t.id(),
                    kind: base_t.kind(),
                    why: "member offset overflows 64 bits",
                })?;
                cur = m_ty;
                bf = m_bf;
                if let Some(r) = reads.last_mut() {
                    r.text.push_str(&comp);
                }
            }
            None => {
                return missing(
                    k + 1,
                    comp,
                    format!("{} has no member '{name}'", c_type_name(btf, base_t.id())),
                )
            }
        }
    }
    if let Some(r) = reads.last_mut() {
        r.bit_offset = bit_off;
    }
    let size = btf.resolve_size(cur)?;
    Ok(Resolution::Found(FieldInfo {
        root,
        reads,
        ty: cur,
        c_type: c_type_name(btf, cur),
        bit_offset: bit_off,
        size,
        bitfield_size: bf,
    }))
}

/// Finds member `name` of composite `t`, looking into anonymous struct and
/// union members depth-first in declaration order (C's rule). Returns the
/// bit offset from `t`, the member type and its bitfield size.
fn find_member(
    btf: &Btf<'_>,
    t: &Type<'_>,
    name: &str,
    depth: u32,
) -> Result<Option<(u64, TypeId, u32)>> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep {
            id: t.id(),
            depth: MAX_DEPTH,
        });
    }
    for m in t.members() {
        if m.name_off.is_anon() {
            let inner = btf.skip_mods_and_typedefs(m.ty)?;
            if inner.kind().is_composite() {
                if let Some((off, ty, bf)) = find_member(btf, &inner, name, depth + 1)? {
                    return Ok(Some((u64::from(m.bit_offset) + off, ty, bf)));
                }
            }
        } else if btf.name(m.name_off) == name {
            return Ok(Some((u64::from(m.bit_offset), m.ty, m.bitfield_size)));
        }
    }
    Ok(None)
}

/// The C spelling of a type as a declaration without a name would show it:
/// `unsigned int`, `struct mm_struct *`, `char[16]`, `const char *`,
/// `int (*)(void *)`. Anonymous structs print as `struct {...}`. Loops and
/// absurd nesting end in `...`.
pub fn c_type_name(btf: &Btf<'_>, id: TypeId) -> String {
    let (mut left, right) = decl(btf, id, 0);
    if !right.is_empty() {
        if !left.ends_with('*') && !left.ends_with(' ') && !right.starts_with('[') {
            left.push(' ');
        }
        left.push_str(&right);
    }
    left
}

/// Builds a C abstract declarator: text left of the (absent) name, text
/// right of it.
fn decl(btf: &Btf<'_>, id: TypeId, depth: u32) -> (String, String) {
    if depth > MAX_DEPTH {
        return ("...".into(), String::new());
    }
    let Some(t) = btf.type_by_id(id) else {
        return (format!("<bad type id {id}>"), String::new());
    };
    let name = btf.type_name(&t);
    let tagged = |tag: &str| {
        if name.is_empty() {
            format!("{tag} {{...}}")
        } else {
            format!("{tag} {name}")
        }
    };
    match t.kind() {
        Kind::Void => ("void".into(), String::new()),
        Kind::Int | Kind::Float | Kind::Typedef => (name.to_owned(), String::new()),
        Kind::Struct => (tagged("struct"), String::new()),
        Kind::Union => (tagged("union"), String::new()),
        Kind::Enum | Kind::Enum64 => (tagged("enum"), String::new()),
        Kind::Fwd => (
            tagged(if t.fwd_is_union() { "union" } else { "struct" }),
            String::new(),
        ),
        Kind::Ptr => {
            let inner = btf.type_by_id(t.type_ref());
            let (mut l, r) = decl(btf, t.type_ref(), depth + 1);
            if inner.is_some_and(|i| matches!(i.kind(), Kind::Array | Kind::FuncProto)) {
                l.push_str(" (*");
                (l, format!("){r}"))
            } else {
                if !l.ends_with('*') {
                    l.push(' ');
                }
                l.push('*');
                (l, r)
            }
        }
        Kind::Const | Kind::Volatile | Kind::Restrict => {
            let q = match t.kind() {
                Kind::Const => "const",
                Kind::Volatile => "volatile",
                _ => "restrict",
            };
            let (l, r) = decl(btf, t.type_ref(), depth + 1);
            if l.ends_with('*') {
                (format!("{l} {q}"), r)
            } else {
                (format!("{q} {l}"), r)
            }
        }
        Kind::TypeTag | Kind::Var | Kind::DeclTag => decl(btf, t.type_ref(), depth + 1),
        Kind::Array => {
            let Some(a) = t.array() else {
                return ("?".into(), String::new());
            };
            let (l, r) = decl(btf, a.elem, depth + 1);
            (l, format!("[{}]{r}", a.nelems))
        }
        Kind::FuncProto => {
            let (l, r) = decl(btf, t.type_ref(), depth + 1);
            let mut ps = String::from("(");
            let n = t.params().len();
            for (i, p) in t.params().enumerate() {
                if i > 0 {
                    ps.push_str(", ");
                }
                if p.ty == TypeId::VOID && i + 1 == n {
                    ps.push_str("...");
                } else {
                    ps.push_str(&c_type_name(btf, p.ty));
                }
            }
            if n == 0 {
                ps.push_str("void");
            }
            ps.push(')');
            (l, format!("{ps}{r}"))
        }
        Kind::Func => decl(btf, t.type_ref(), depth + 1),
        Kind::Datasec => (format!("SEC(\"{name}\")"), String::new()),
        Kind::Unknown(k) => (format!("<kind {k}>"), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::Builder;
    use crate::{Endian, IntEncoding};

    #[test]
    fn parse_errors_name_the_offset() {
        for (p, off) in [
            ("", 0),
            ("a.", 2),
            ("a->", 3),
            ("a[x]", 2),
            ("a[1", 1),
            ("a+b", 1),
        ] {
            match FieldPath::parse(p) {
                Err(Error::BadPath { offset, .. }) => assert_eq!(offset, off, "{p}"),
                other => panic!("{p}: {other:?}"),
            }
        }
        let p = FieldPath::parse("struct  a.b->c[3][0x10]").unwrap();
        assert_eq!(p.tag, Some(Kind::Struct));
        assert_eq!(
            p.steps,
            [
                Step::Member("b".into()),
                Step::Deref("c".into()),
                Step::Index(3),
                Step::Index(16)
            ]
        );
    }

    #[test]
    fn anonymous_members_bitfields_arrays_and_loops() {
        for endian in [Endian::Little, Endian::Big] {
            let mut b = Builder::new();
            let int = b.int("int", 4, IntEncoding::Signed);
            let uint = b.int("unsigned int", 4, IntEncoding::None);
            let anon = b.union_("", 4, &[("u", int, 0, 0), ("v", uint, 0, 0)]);
            let arr = b.array(int, int, 4);
            let fwd_ptr = b.reference(Kind::Ptr, "", TypeId(6));
            // struct s { int a; union { int u; unsigned v; }; unsigned f:3, g:5; int arr[4]; struct s *next; }
            b.struct_(
                "s",
                40,
                &[
                    ("a", int, 0, 0),
                    ("", anon, 32, 0),
                    ("f", uint, 64, 3),
                    ("g", uint, 67, 5),
                    ("arr", arr, 96, 0),
                    ("next", fwd_ptr, 256, 0),
                ],
            );
            let btf = Btf::parse(b.encode(endian)).unwrap();
            let get = |p: &str| match resolve(&btf, p).unwrap() {
                Resolution::Found(f) => f,
                Resolution::Missing(m) => panic!("{p}: {m:?}"),
            };
            assert_eq!(get("s.v").bit_offset, 32);
            assert_eq!(get("s.v").c_type, "unsigned int");
            let g = get("s.g");
            assert_eq!((g.bit_offset, g.bitfield_size, g.size), (67, 5, 4));
            assert_eq!(get("s.arr[2]").bit_offset, 96 + 64);
            assert_eq!(get("s.arr").c_type, "int[4]");
            let n = get("s.next->next->arr[3]");
            assert_eq!(n.reads.len(), 3);
            assert_eq!(n.reads[0].bit_offset, 256);
            assert_eq!(n.bit_offset, 96 + 96);
            assert_eq!(n.c_type, "int");
            assert_eq!(get("s.next").c_type, "struct s *");
            let m = |p: &str| match resolve(&btf, p).unwrap() {
                Resolution::Missing(m) => m,
                Resolution::Found(f) => panic!("{p}: {f:?}"),
            };
            assert_eq!(m("s.arr[4]").index, 2);
            assert_eq!(m("s.zz").component, ".zz");
            assert_eq!(m("s.a->b").why, "int is not a pointer");
            assert_eq!(m("s.next.a").why, "struct s * is not a struct or union");
            assert_eq!(m("t.a").index, 0);
            assert_eq!(m("union s.a").index, 0);
        }
    }
}
