//! Rust bindings straight from BTF: `btfx gen rust`.
//!
//! [`gen_rust`] writes one Rust module holding `#[repr(C)]` items whose
//! layout is the BTF's, byte for byte, checked by the compiler: every struct
//! and union is followed by `const` assertions of its size, alignment and
//! field offsets, so a wrong layout fails to compile.
//!
//! # What is generated
//!
//! - **Structs and unions** keep their C tag name. Every gap gets an
//!   explicit `__pad_<N>: [u8; N]` field and the tail is padded to the BTF
//!   size. A struct with a misaligned member, or a size that is not a
//!   multiple of its members' alignment, is `#[repr(C, packed)]` (alignment
//!   1, as libbpf's `btf__align_of` decides). A struct whose padding is only
//!   explained by an `aligned(N)` attribute (a member placed further than its
//!   alignment needs, or a tail past the aligned end) is
//!   `#[repr(C, align(N))]`: BTF does not record alignment, so N is inferred
//!   as pahole does, the largest power of two up to 64 (a cache line) that
//!   explains the padding and divides the size, else the smallest larger one
//!   (at most 4096). Padding left by unnamed bitfields (which BTF omits) can
//!   be read as over-alignment: the offsets and size stay exact either way. Flexible array members are zero-length arrays; empty
//!   structs are empty (size 0).
//! - **Packed containing over-aligned**: Rust forbids a packed type that
//!   (transitively) contains a `repr(align)` type, so such a member is kept
//!   as `[u8; size]` under its own name, with `unsafe fn name(&self) -> T`
//!   (an unaligned read) and `fn set_name(&mut self, v: T)`.
//! - **Bitfields**: each run of consecutive bitfields is one
//!   `_bitfield_<N>: [u8; bytes]` field covering exactly the bytes its bits
//!   touch, with `fn name(&self) -> T` and `fn set_name(&mut self, v: T)`
//!   per named bitfield (T the member's type; signed ones sign-extend,
//!   `bool` is `!= 0`). When the bitfields' declared type aligns the struct
//!   more than its byte storage does, a leading `_align: [uN; 0]` field
//!   carries that alignment (no `repr(align)`, so the struct can still sit
//!   inside a packed one). Little-endian BTF numbers bits from the least
//!   significant bit of the first storage byte; **big-endian** BTF from the
//!   most significant bit of the first byte, as big-endian C compilers lay
//!   bitfields out, so the accessors are right on the BTF's own target.
//!   Old-style bitfields (an INT with fewer bits than its size, no
//!   kind_flag) are handled the same way.
//! - **Enums** (ENUM and ENUM64) are a type alias of their integer type
//!   (`iN` when the BTF marks them signed) plus one `pub const` per
//!   enumerator, since a C enum is not a closed set. An anonymous enum that
//!   nothing names has constants of the integer type itself.
//! - **Typedefs** are type aliases; a typedef of a function prototype is the
//!   function-pointer type. **Function pointers** are
//!   `Option<unsafe extern "C" fn(..) -> R>` (variadic ones end in `...`).
//!   **Pointers** are `*const T` when the pointee is `const`, else `*mut T`;
//!   `void *` is `*mut c_void`.
//! - **Scalars**: `_Bool` is `bool`, a BTF `CHAR` is `c_char`, other ints
//!   `uN`/`iN` by size and the SIGNED flag (`__int128` is `u128`/`i128`:
//!   16-byte aligned on x86_64 since Rust 1.77 and on arm64, as in C),
//!   `float`/`double` are `f32`/`f64`; 16-byte floats (`long double`) are
//!   carried as `u128` bits and 2-byte ones as `u16` (f16/f128 are not
//!   stable). An integer of any other size is `[u8; N]`.
//! - **FWD** of a struct or union defined in the same BTF is that type;
//!   otherwise an opaque `struct name { _opaque: [u8; 0] }`.
//! - Every struct and union derives `Copy, Clone`.
//!
//! # Names
//!
//! Names are assigned over the whole BTF in id order, so the name of a type
//! does not depend on which types are emitted.
//!
//! 1. Identifiers: bytes outside `[A-Za-z0-9_]` become `_`; a leading digit
//!    gets a `_` before it; Rust keywords (`type`, `fn`, `Self`, `_`, ...)
//!    get a trailing `_` (`type_`), as bindgen does. Type items named like a
//!    Rust primitive (`u8`, `bool`, ...) also get a trailing `_`, except a
//!    typedef that names the very primitive it resolves to (the kernel's
//!    `typedef __u8 u8`, `typedef _Bool bool`), which is dropped.
//! 2. Clashes, in this priority: struct and union tags (id order), then FWDs
//!    (which become their definition when one exists), then enums, then
//!    typedefs, then generated names. The first claimant keeps the name; a
//!    later one becomes `<name>__<kind>` (`kind` = `struct`, `union`,
//!    `fwd`, `enum`, `typedef`, `anon`), then `<name>__<kind>2`,
//!    `<name>__<kind>3`, ...
//! 3. A typedef that would alias itself (`typedef struct foo foo`) is
//!    dropped; an anonymous struct, union or enum takes the name of the
//!    first typedef naming it (`typedef struct { .. } foo_t` is
//!    `struct foo_t`), and that typedef is dropped.
//! 4. Other anonymous structs, unions and enums reached from a named struct
//!    or union's members (through modifiers, arrays and pointers) are
//!    `<parent>__anon_<N>`, N counting from 1 in member order within that
//!    parent, recursively (`sk_buff__anon_1__anon_2`). Any left over are
//!    `__anon_<type id>`.
//! 5. Anonymous members are fields `__anon_<N>` (N counting anonymous
//!    members from 1); a field name used twice gets trailing `_`s.
//! 6. Enumerators share one namespace: the first (in id order) keeps its
//!    name, a later duplicate becomes `<NAME>__dup`, `<NAME>__dup2`, ...
//!
//! # Using the file
//!
//! With [`Options::inner_attributes`] (the default) the file starts with a
//! `#![allow(..)]` block silencing naming, dead-code and FFI-safety lints, so
//! it compiles without warnings as a crate root or as a module
//! (`#[path = "vmlinux.rs"] mod vmlinux;`). `include!` does not accept inner
//! attributes: generate without them and write
//! `#[allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, improper_ctypes, improper_ctypes_definitions)] mod vmlinux { include!(..); }`.
//!
//! ```
//! use btf::{write::Builder, Btf, Endian, IntEncoding};
//! use btf::dump::rust::{gen_rust, Options};
//!
//! let mut b = Builder::new();
//! let int = b.int("int", 4, IntEncoding::Signed);
//! b.struct_("pair", 8, &[("a", int, 0, 0), ("type", int, 32, 0)]);
//! let btf = Btf::parse(b.encode(Endian::Little))?;
//! let rs = gen_rust(&btf, &Options::default())?;
//! assert!(rs.contains("pub struct pair {\n    pub a: i32,\n    pub type_: i32,\n}"));
//! assert!(rs.contains("offset_of!(pair, type_) == 4"));
//! # Ok::<(), btf::Error>(())
//! ```

mod emit;
mod layout;
mod naming;
mod render;

use crate::{Btf, Kind, Result, TypeId};

/// The lints the header allows.
pub const ALLOWED_LINTS: &str = "non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, improper_ctypes, improper_ctypes_definitions, clippy::all";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Types to emit, with everything they depend on; `None` emits every
    /// type of the BTF (for split BTF: its own types and what they use of
    /// the base).
    pub roots: Option<Vec<TypeId>>,
    /// Start with a `#![allow(..)]` inner-attribute block (module or crate
    /// root use); turn off for `include!`.
    pub inner_attributes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            roots: None,
            inner_attributes: true,
        }
    }
}

/// Kinds that become an item of their own.
pub fn is_item_kind(k: Kind) -> bool {
    matches!(
        k,
        Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Typedef | Kind::Fwd
    )
}

/// Generates the Rust module for `btf`.
///
/// Errors name the type id that cannot be expressed (a member past the end
/// of its struct, overlapping members, a struct containing itself, chains
/// deeper than [`crate::MAX_DEPTH`]...).
pub fn gen_rust(btf: &Btf<'_>, opts: &Options) -> Result<String> {
    let names = naming::Names::assign(btf)?;
    let selected = select(btf, &names, opts.roots.as_deref())?;
    let mut em = emit::Emitter::new(btf, &names);
    for (i, &sel) in selected.iter().enumerate() {
        if sel {
            em.item(TypeId(i as u32))?;
        }
    }
    let mut out = String::with_capacity(em.out.len() + 4096);
    out.push_str("// Rust bindings generated by btfx from BTF; do not edit.\n");
    out.push_str("// Layout is checked at compile time: each struct and union is followed by\n");
    out.push_str("// assertions of its size, alignment and field offsets as the BTF gives them.\n");
    if opts.inner_attributes {
        out.push_str("#![allow(");
        out.push_str(ALLOWED_LINTS);
        out.push_str(")]\n");
    }
    out.push('\n');
    if em.used_bitfields {
        out.push_str(emit::helpers(btf.endian()));
        out.push_str(emit::sext_helper());
        out.push('\n');
    }
    out.push_str(&em.out);
    Ok(out)
}

/// Marks the roots (all local types when `None`) and every type they
/// reference, transitively.
fn select(btf: &Btf<'_>, names: &naming::Names, roots: Option<&[TypeId]>) -> Result<Vec<bool>> {
    let n = btf.type_count() as usize;
    let mut seen = vec![false; n];
    let mut stack: Vec<TypeId> = match roots {
        Some(r) => r.to_vec(),
        None => (btf.start_id().0..btf.type_count()).map(TypeId).collect(),
    };
    while let Some(id) = stack.pop() {
        match seen.get_mut(id.0 as usize) {
            Some(s) if !*s => *s = true,
            Some(_) => continue,
            None => return Err(crate::Error::NoSuchType(id)),
        }
        let t = btf.get(id)?;
        match t.kind() {
            Kind::Struct | Kind::Union => stack.extend(t.members().map(|m| m.ty)),
            Kind::FuncProto => {
                stack.push(t.type_ref());
                stack.extend(t.params().map(|p| p.ty));
            }
            Kind::Array => {
                if let Some(a) = t.array() {
                    stack.push(a.elem);
                }
            }
            Kind::Fwd => {
                if let naming::Slot::Alias(d) = names.slot(id) {
                    stack.push(*d);
                }
            }
            k if k.has_type_ref() && !matches!(k, Kind::Func | Kind::Var | Kind::DeclTag) => {
                stack.push(t.type_ref())
            }
            _ => {}
        }
    }
    Ok(seen)
}
