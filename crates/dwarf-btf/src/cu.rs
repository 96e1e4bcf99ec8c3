//! One compilation unit's DWARF read into what BTF encoding needs, as
//! pahole's DWARF loader keeps it: the unit's type table (every type DIE,
//! at any depth, function bodies included), its top-level functions and
//! its top-level variables. References stay DIE offsets here; the encoder
//! turns them into table indices.

use gimli::{constants as dw, AttributeValue, EndianSlice, RunTimeEndian, UnitOffset};

use crate::{Error, Result};

/// The reader every unit is read with.
pub(crate) type R<'a> = EndianSlice<'a, RunTimeEndian>;
/// gimli's view of the whole debug information.
pub(crate) type Dwarf<'a> = gimli::Dwarf<R<'a>>;

/// A DIE offset inside the unit (0: none, i.e. void).
pub(crate) type DieRef = u64;

/// What a base type encodes as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseKind {
    Unsigned,
    Signed,
    Bool,
    Float,
}

/// One struct or union member.
#[derive(Debug, Clone)]
pub(crate) struct Member<'a> {
    pub name: &'a [u8],
    pub ty: DieRef,
    /// Bit offset from the start of the struct.
    pub bit_offset: u32,
    /// Bitfield width, 0 when not a bitfield.
    pub bitfield: u32,
}

/// One function parameter.
#[derive(Debug, Clone)]
pub(crate) struct Param<'a> {
    /// `None` when the DIE has no name (and no origin giving one).
    pub name: Option<&'a [u8]>,
    pub ty: DieRef,
    /// `DW_AT_abstract_origin` of the parameter, resolved by the encoder.
    pub origin: DieRef,
}

/// One entry of the unit's type table.
#[derive(Debug, Clone)]
pub(crate) enum Ty<'a> {
    Base {
        name: &'a [u8],
        size: u32,
        kind: BaseKind,
    },
    /// PTR, CONST, VOLATILE, RESTRICT or TYPEDEF (by DWARF tag).
    Ref {
        tag: dw::DwTag,
        name: &'a [u8],
        target: DieRef,
    },
    Composite {
        union: bool,
        name: &'a [u8],
        size: u32,
        decl: bool,
        members: Vec<Member<'a>>,
    },
    Enum {
        name: &'a [u8],
        size: u32,
        /// (name, value, read as a negative signed constant).
        values: Vec<(&'a [u8], u64, bool)>,
    },
    Array {
        elem: DieRef,
        /// Elements of every dimension, multiplied.
        nelems: u32,
    },
    Proto {
        ret: DieRef,
        params: Vec<Param<'a>>,
        varargs: bool,
    },
    /// A `btf_type_tag` annotation of a pointer (clang): TYPE_TAG.
    TypeTag { value: &'a [u8], target: DieRef },
    /// A type DIE BTF has no kind for (`DW_TAG_unspecified_type`, C++ and
    /// other languages' tags): references to it become void.
    Void,
}

/// `btf_decl_tag` annotations (clang) of a type, a function or a
/// variable: (component index, -1 for the whole, value), members' and
/// parameters' first, in their order, then the whole's.
pub(crate) type DeclTags<'a> = Vec<(i32, &'a [u8])>;

/// A top-level `DW_TAG_subprogram`.
#[derive(Debug, Clone)]
pub(crate) struct Func<'a> {
    pub offset: DieRef,
    pub name: Option<&'a [u8]>,
    pub declaration: bool,
    pub external: bool,
    pub ret: DieRef,
    pub params: Vec<Param<'a>>,
    pub varargs: bool,
    /// `DW_AT_abstract_origin`, else `DW_AT_specification` (0: none).
    pub origin: DieRef,
    /// The function's own declaration tags (component -1).
    pub decl_tags: DeclTags<'a>,
    /// Its parameters' declaration tags, in parameter order.
    pub param_tags: DeclTags<'a>,
}

/// A top-level `DW_TAG_variable`.
#[derive(Debug, Clone)]
pub(crate) struct Var<'a> {
    pub offset: DieRef,
    pub name: Option<&'a [u8]>,
    pub declaration: bool,
    pub external: bool,
    pub ty: DieRef,
    /// `DW_AT_specification` (0: none).
    pub spec: DieRef,
    /// The address of a `DW_OP_addr`/`DW_OP_addrx` location.
    pub addr: Option<u64>,
    pub decl_tags: DeclTags<'a>,
}

/// A unit read.
#[derive(Debug, Default)]
pub(crate) struct Unit<'a> {
    /// Type DIEs in DIE order, with their offsets.
    pub types: Vec<(DieRef, Ty<'a>)>,
    pub funcs: Vec<Func<'a>>,
    pub vars: Vec<Var<'a>>,
    /// Parameters of functions met anywhere (for `DW_AT_abstract_origin`
    /// of out-of-line copies): offset → (name, type).
    pub params: Vec<(DieRef, Option<&'a [u8]>, DieRef)>,
    /// `DW_LANG_*` of the unit.
    pub language: u16,
    /// Declaration tags of types, by the type's DIE offset (sorted).
    pub type_decl_tags: Vec<(DieRef, DeclTags<'a>)>,
    /// The unit's offset in `.debug_info` (DIE offsets are relative to it).
    pub unit_start: u64,
}

/// Whether `tag` is a type DIE kept in the type table.
fn is_type_tag(tag: dw::DwTag) -> bool {
    matches!(
        tag,
        dw::DW_TAG_base_type
            | dw::DW_TAG_pointer_type
            | dw::DW_TAG_const_type
            | dw::DW_TAG_volatile_type
            | dw::DW_TAG_restrict_type
            | dw::DW_TAG_typedef
            | dw::DW_TAG_structure_type
            | dw::DW_TAG_union_type
            | dw::DW_TAG_class_type
            | dw::DW_TAG_enumeration_type
            | dw::DW_TAG_array_type
            | dw::DW_TAG_subroutine_type
            | dw::DW_TAG_unspecified_type
            | dw::DW_TAG_atomic_type
            | dw::DW_TAG_reference_type
            | dw::DW_TAG_rvalue_reference_type
            | dw::DW_TAG_ptr_to_member_type
    )
}

/// `DW_TAG_LLVM_annotation` (clang's `btf_decl_tag` / `btf_type_tag`).
const DW_TAG_LLVM_ANNOTATION: dw::DwTag = dw::DwTag(0x6000);

/// The attributes of one DIE that any encoder rule reads.
#[derive(Default)]
struct Attrs<'a> {
    name: Option<&'a [u8]>,
    ty: DieRef,
    byte_size: Option<u64>,
    bit_size: Option<u64>,
    bit_offset: Option<u64>,
    data_bit_offset: Option<u64>,
    member_location: Option<u64>,
    encoding: Option<u8>,
    declaration: bool,
    external: bool,
    origin: DieRef,
    spec: DieRef,
    const_value: Option<u64>,
    /// `DW_AT_const_value` was a negative `DW_FORM_sdata`.
    const_negative: bool,
    const_str: Option<&'a [u8]>,
    upper_bound: Option<u64>,
    count: Option<u64>,
    location: Option<u64>,
}

fn unit_ref(v: &AttributeValue<R<'_>>, unit_start: u64) -> DieRef {
    match *v {
        AttributeValue::UnitRef(UnitOffset(o)) => o as u64,
        // A reference into another unit: not followed (void), as the
        // kernel's C never uses them.
        AttributeValue::DebugInfoRef(o) => (o.0 as u64).saturating_sub(unit_start),
        _ => 0,
    }
}

fn flag(v: &AttributeValue<R<'_>>) -> bool {
    matches!(v, AttributeValue::Flag(true))
}

fn unsigned(v: &AttributeValue<R<'_>>) -> Option<u64> {
    match *v {
        AttributeValue::Data1(x) => Some(x as u64),
        AttributeValue::Data2(x) => Some(x as u64),
        AttributeValue::Data4(x) => Some(x as u64),
        AttributeValue::Data8(x) => Some(x),
        AttributeValue::Udata(x) => Some(x),
        AttributeValue::Sdata(x) => Some(x as u64),
        _ => None,
    }
}

struct Reader<'d, 'a> {
    dwarf: &'d Dwarf<'a>,
    header: &'d gimli::UnitHeader<R<'a>>,
    str_offsets_base: gimli::DebugStrOffsetsBase<usize>,
    addr_base: gimli::DebugAddrBase<usize>,
    unit_start: u64,
}

impl<'d, 'a> Reader<'d, 'a> {
    fn attrs(&self, entry: &gimli::DebuggingInformationEntry<R<'a>>) -> Result<Attrs<'a>> {
        let mut a = Attrs::default();
        for at in entry.attrs() {
            let v = at.value();
            match at.name() {
                dw::DW_AT_name => a.name = Some(self.string(entry, v)?),
                dw::DW_AT_type => a.ty = unit_ref(&v, self.unit_start),
                dw::DW_AT_byte_size => a.byte_size = unsigned(&v),
                dw::DW_AT_bit_size => a.bit_size = unsigned(&v),
                dw::DW_AT_bit_offset => a.bit_offset = unsigned(&v),
                dw::DW_AT_data_bit_offset => a.data_bit_offset = unsigned(&v),
                dw::DW_AT_data_member_location => {
                    a.member_location = match v {
                        AttributeValue::Exprloc(e) => plus_uconst(e),
                        ref other => unsigned(other),
                    }
                }
                dw::DW_AT_encoding => {
                    if let AttributeValue::Encoding(e) = v {
                        a.encoding = Some(e.0)
                    }
                }
                dw::DW_AT_declaration => a.declaration = flag(&v),
                dw::DW_AT_external => a.external = flag(&v),
                dw::DW_AT_abstract_origin => a.origin = unit_ref(&v, self.unit_start),
                dw::DW_AT_specification => a.spec = unit_ref(&v, self.unit_start),
                dw::DW_AT_const_value => match v {
                    AttributeValue::String(_)
                    | AttributeValue::DebugStrRef(_)
                    | AttributeValue::DebugStrOffsetsIndex(_) => {
                        a.const_str = Some(self.string(entry, v)?)
                    }
                    ref other => {
                        a.const_negative = matches!(other, AttributeValue::Sdata(x) if *x < 0);
                        a.const_value = unsigned(other)
                    }
                },
                dw::DW_AT_upper_bound => a.upper_bound = unsigned(&v),
                dw::DW_AT_count => a.count = unsigned(&v),
                dw::DW_AT_location => {
                    if let AttributeValue::Exprloc(e) = v {
                        a.location = self.location_addr(e);
                    }
                }
                _ => {}
            }
        }
        Ok(a)
    }

    /// A string attribute's bytes (gimli's `attr_string` without a
    /// `gimli::Unit`, whose line program this encoder never needs).
    fn string(
        &self,
        entry: &gimli::DebuggingInformationEntry<R<'a>>,
        v: AttributeValue<R<'a>>,
    ) -> Result<&'a [u8]> {
        let d = self.dwarf;
        let r = match v {
            AttributeValue::String(s) => Ok(s),
            AttributeValue::DebugStrRef(o) => d.debug_str.get_str(o),
            AttributeValue::DebugLineStrRef(o) => d.debug_line_str.get_str(o),
            AttributeValue::DebugStrOffsetsIndex(i) => d
                .debug_str_offsets
                .get_str_offset(self.header.format(), self.str_offsets_base, i)
                .and_then(|o| d.debug_str.get_str(o)),
            _ => return Err(self.err(entry, "DW_AT_name is not a string".into())),
        };
        r.map(|s| s.slice())
            .map_err(|e| self.err(entry, format!("DW_AT_name: {e}")))
    }

    /// The address of a location that is exactly `DW_OP_addr X` or
    /// `DW_OP_addrx i`.
    fn location_addr(&self, e: gimli::Expression<R<'a>>) -> Option<u64> {
        let mut ops = e.operations(self.header.encoding());
        let first = ops.next().ok()??;
        if ops.next().ok()?.is_some() {
            return None;
        }
        match first {
            gimli::Operation::Address { address } => Some(address),
            gimli::Operation::AddressIndex { index } => self
                .dwarf
                .debug_addr
                .get_address(self.header.address_size(), self.addr_base, index)
                .ok(),
            _ => None,
        }
    }

    fn err(&self, entry: &gimli::DebuggingInformationEntry<R<'a>>, what: String) -> Error {
        Error::Dwarf {
            section: ".debug_info",
            offset: self.unit_start + entry.offset().0 as u64,
            what,
        }
    }
}

/// `DW_OP_plus_uconst N` (DWARF 2 member locations).
fn plus_uconst(e: gimli::Expression<R<'_>>) -> Option<u64> {
    let b = e.0.slice();
    if b.first() != Some(&dw::DW_OP_plus_uconst.0) {
        return None;
    }
    let mut r = EndianSlice::new(&b[1..], RunTimeEndian::Little);
    gimli::leb128::read::unsigned(&mut r).ok()
}

/// Bit offset of a member (pahole's rules): DWARF 5's data_bit_offset, or
/// the byte offset, corrected by DWARF 4's big-endian-counted bit_offset
/// for bitfields.
fn member_bit_offset(a: &Attrs<'_>, little_endian: bool, type_size: Option<u64>) -> u64 {
    if let Some(d) = a.data_bit_offset {
        return d;
    }
    let byte = a.member_location.unwrap_or(0);
    match (a.bit_size, a.bit_offset) {
        (Some(bits), Some(bo)) if bits != 0 => {
            let storage = a.byte_size.or(type_size).unwrap_or(0) * 8;
            if little_endian {
                (byte * 8 + storage).wrapping_sub(bo + bits)
            } else {
                byte * 8 + bo
            }
        }
        _ => byte * 8,
    }
}

/// Reads one unit.
pub(crate) fn read_unit<'a>(
    dwarf: &Dwarf<'a>,
    header: gimli::UnitHeader<R<'a>>,
    unit_start: u64,
    little_endian: bool,
) -> Result<Unit<'a>> {
    let derr = |what: String| Error::Dwarf {
        section: ".debug_info",
        offset: unit_start,
        what,
    };
    let abbrevs = dwarf
        .abbreviations(&header)
        .map_err(|e| derr(format!("abbreviations: {e}")))?;
    let mut rd = Reader {
        dwarf,
        header: &header,
        str_offsets_base: gimli::DebugStrOffsetsBase(0),
        addr_base: gimli::DebugAddrBase(0),
        unit_start,
    };
    let mut out = Unit {
        unit_start,
        ..Unit::default()
    };
    // Sizes of base types met so far (DWARF 4 bitfields without
    // DW_AT_byte_size take their storage size from the member's type).
    let mut sizes: hashbrown::HashMap<DieRef, u64> = hashbrown::HashMap::new();

    // What the DIEs above the current one are.
    #[derive(Clone, Copy, PartialEq)]
    enum Parent {
        Unit,
        Composite(usize),
        Enum(usize),
        Array(usize),
        Proto(usize),
        /// A pointer: its children may be `btf_type_tag`s.
        Ptr(usize),
        /// Any other type DIE.
        Leaf(usize),
        /// Member `m` of composite `i`.
        Member(usize, usize),
        Func(usize),
        /// Parameter `p` of function `f`.
        FuncParam(usize, usize),
        Var(usize),
        Other,
    }
    impl Parent {
        fn type_index(self) -> Option<usize> {
            match self {
                Parent::Composite(i)
                | Parent::Enum(i)
                | Parent::Array(i)
                | Parent::Proto(i)
                | Parent::Ptr(i)
                | Parent::Leaf(i) => Some(i),
                _ => None,
            }
        }
    }
    let mut stack: Vec<Parent> = Vec::new();
    // The table's order, as pahole's loader adds types: a type after the
    // types nested in it (a struct's anonymous members, a pointer's type
    // tags), that is, when its subtree ends.
    let mut seq: Vec<u32> = Vec::new();
    let mut next_seq = 0u32;
    fn close(stack: &mut Vec<Parent>, seq: &mut [u32], next_seq: &mut u32, depth: usize) {
        while stack.len() > depth {
            if let Some(i) = stack.pop().and_then(Parent::type_index) {
                seq[i] = *next_seq;
                *next_seq += 1;
            }
        }
    }
    // Type tags of pointers: (pointer index, tag indices in DIE order).
    let mut ptr_tags: Vec<(usize, Vec<usize>)> = Vec::new();
    // Declaration tags of types by table index (members' then own).
    let mut type_tags: Vec<(usize, DeclTags<'a>, DeclTags<'a>)> = Vec::new();
    let mut type_tag_pos: hashbrown::HashMap<usize, usize> = hashbrown::HashMap::new();
    fn push_tag<'a>(
        v: &mut Vec<(usize, DeclTags<'a>, DeclTags<'a>)>,
        at: &mut hashbrown::HashMap<usize, usize>,
        i: usize,
        comp: i32,
        value: &'a [u8],
    ) {
        let pos = *at.entry(i).or_insert_with(|| {
            v.push((i, Vec::new(), Vec::new()));
            v.len() - 1
        });
        if comp < 0 {
            v[pos].2.push((comp, value));
        } else {
            v[pos].1.push((comp, value));
        }
    }
    let mut entries = header.entries(&abbrevs);
    while let Some(entry) = entries.next_dfs().map_err(|e| derr(e.to_string()))? {
        let depth = entry.depth();
        if depth < 0 {
            return Err(derr("DIE tree above its unit".into()));
        }
        close(&mut stack, &mut seq, &mut next_seq, depth as usize);
        let parent = stack.last().copied();
        let tag = entry.tag();
        let off = entry.offset().0 as u64;
        let mut me = Parent::Other;
        if depth == 0 {
            if tag != dw::DW_TAG_compile_unit && tag != dw::DW_TAG_partial_unit {
                me = Parent::Other;
            } else {
                for at in entry.attrs() {
                    match at.value() {
                        AttributeValue::Language(l) => out.language = l.0,
                        AttributeValue::DebugStrOffsetsBase(b) => rd.str_offsets_base = b,
                        AttributeValue::DebugAddrBase(b) => rd.addr_base = b,
                        _ => {}
                    }
                }
                me = Parent::Unit;
            }
            stack.push(me);
            continue;
        }
        if is_type_tag(tag) {
            let a = rd.attrs(entry)?;
            let name = a.name.unwrap_or(b"");
            let ty = match tag {
                dw::DW_TAG_base_type => {
                    let size = a.byte_size.unwrap_or(0);
                    sizes.insert(off, size);
                    let kind = match a.encoding.map(gimli::DwAte) {
                        Some(dw::DW_ATE_complex_float) | Some(dw::DW_ATE_imaginary_float) => {
                            // pahole 1.24 stops here too ("Complex, interval
                            // and imaginary float types are not supported").
                            return Err(rd.err(
                                entry,
                                format!(
                                    "base type '{}': complex and imaginary float types have no BTF encoding",
                                    String::from_utf8_lossy(name)
                                ),
                            ));
                        }
                        Some(dw::DW_ATE_signed) | Some(dw::DW_ATE_signed_char) => BaseKind::Signed,
                        Some(dw::DW_ATE_boolean) => BaseKind::Bool,
                        Some(dw::DW_ATE_float) => BaseKind::Float,
                        _ => BaseKind::Unsigned,
                    };
                    Ty::Base {
                        name,
                        size: size as u32,
                        kind,
                    }
                }
                dw::DW_TAG_pointer_type
                | dw::DW_TAG_const_type
                | dw::DW_TAG_volatile_type
                | dw::DW_TAG_restrict_type
                | dw::DW_TAG_typedef => {
                    me = if tag == dw::DW_TAG_pointer_type {
                        Parent::Ptr(out.types.len())
                    } else {
                        Parent::Leaf(out.types.len())
                    };
                    Ty::Ref {
                        tag,
                        name,
                        target: a.ty,
                    }
                }
                dw::DW_TAG_structure_type | dw::DW_TAG_union_type | dw::DW_TAG_class_type => {
                    me = Parent::Composite(out.types.len());
                    Ty::Composite {
                        union: tag == dw::DW_TAG_union_type,
                        name,
                        size: a.byte_size.unwrap_or(0) as u32,
                        decl: a.declaration,
                        members: Vec::new(),
                    }
                }
                dw::DW_TAG_enumeration_type => {
                    me = Parent::Enum(out.types.len());
                    Ty::Enum {
                        name,
                        size: a.byte_size.unwrap_or(4) as u32,
                        values: Vec::new(),
                    }
                }
                dw::DW_TAG_array_type => {
                    me = Parent::Array(out.types.len());
                    Ty::Array {
                        elem: a.ty,
                        nelems: u32::MAX,
                    }
                }
                dw::DW_TAG_subroutine_type => {
                    me = Parent::Proto(out.types.len());
                    Ty::Proto {
                        ret: a.ty,
                        params: Vec::new(),
                        varargs: false,
                    }
                }
                _ => Ty::Void,
            };
            if me == Parent::Other {
                me = Parent::Leaf(out.types.len());
            }
            out.types.push((off, ty));
            seq.push(u32::MAX);
            stack.push(me);
            continue;
        }
        if tag == DW_TAG_LLVM_ANNOTATION {
            let a = rd.attrs(entry)?;
            let value = a.const_str.unwrap_or(b"");
            match (parent, a.name) {
                (Some(Parent::Ptr(p)), Some(b"btf_type_tag")) => {
                    let i = out.types.len();
                    out.types.push((off, Ty::TypeTag { value, target: 0 }));
                    seq.push(u32::MAX);
                    stack.push(Parent::Leaf(i));
                    match ptr_tags.last_mut() {
                        Some((q, v)) if *q == p => v.push(i),
                        _ => ptr_tags.push((p, vec![i])),
                    }
                    continue;
                }
                (Some(parent), Some(b"btf_decl_tag")) => match parent {
                    Parent::Composite(i) | Parent::Leaf(i) => {
                        push_tag(&mut type_tags, &mut type_tag_pos, i, -1, value)
                    }
                    Parent::Member(i, m) => {
                        push_tag(&mut type_tags, &mut type_tag_pos, i, m as i32, value)
                    }
                    Parent::Func(f) => out.funcs[f].decl_tags.push((-1, value)),
                    Parent::FuncParam(f, p) => out.funcs[f].param_tags.push((p as i32, value)),
                    Parent::Var(v) => out.vars[v].decl_tags.push((-1, value)),
                    _ => {}
                },
                _ => {}
            }
            stack.push(Parent::Other);
            continue;
        }
        match (parent, tag) {
            // Namespaces (Rust's crates and modules, C++) are read through,
            // as pahole does: their functions and variables are the unit's.
            (Some(Parent::Unit), dw::DW_TAG_namespace) => me = Parent::Unit,
            (Some(Parent::Composite(i)), dw::DW_TAG_member) => {
                let a = rd.attrs(entry)?;
                let tsize = sizes.get(&a.ty).copied();
                let bit_offset = member_bit_offset(&a, little_endian, tsize);
                if let Ty::Composite { members, .. } = &mut out.types[i].1 {
                    me = Parent::Member(i, members.len());
                    members.push(Member {
                        name: a.name.unwrap_or(b""),
                        ty: a.ty,
                        bit_offset: bit_offset as u32,
                        bitfield: a.bit_size.unwrap_or(0) as u32,
                    });
                }
            }
            (Some(Parent::Enum(i)), dw::DW_TAG_enumerator) => {
                let a = rd.attrs(entry)?;
                if let Ty::Enum { values, .. } = &mut out.types[i].1 {
                    values.push((
                        a.name.unwrap_or(b""),
                        a.const_value.unwrap_or(0),
                        a.const_negative,
                    ));
                }
            }
            (Some(Parent::Array(i)), dw::DW_TAG_subrange_type) => {
                let a = rd.attrs(entry)?;
                let n = match (a.count, a.upper_bound) {
                    (Some(c), _) => c,
                    (None, Some(u)) => u.wrapping_add(1),
                    (None, None) => 0,
                };
                if let Ty::Array { nelems, .. } = &mut out.types[i].1 {
                    let prev = if *nelems == u32::MAX {
                        1
                    } else {
                        *nelems as u64
                    };
                    *nelems = prev.wrapping_mul(n) as u32;
                }
            }
            (Some(Parent::Proto(i)), dw::DW_TAG_formal_parameter) => {
                let a = rd.attrs(entry)?;
                if let Ty::Proto { params, .. } = &mut out.types[i].1 {
                    params.push(Param {
                        name: a.name,
                        ty: a.ty,
                        origin: a.origin,
                    });
                }
            }
            (Some(Parent::Proto(i)), dw::DW_TAG_unspecified_parameters) => {
                if let Ty::Proto { varargs, .. } = &mut out.types[i].1 {
                    *varargs = true;
                }
            }
            (Some(Parent::Unit), dw::DW_TAG_subprogram) => {
                let a = rd.attrs(entry)?;
                me = Parent::Func(out.funcs.len());
                out.funcs.push(Func {
                    offset: off,
                    name: a.name,
                    declaration: a.declaration,
                    external: a.external,
                    ret: a.ty,
                    params: Vec::new(),
                    varargs: false,
                    origin: if a.origin != 0 { a.origin } else { a.spec },
                    decl_tags: Vec::new(),
                    param_tags: Vec::new(),
                });
            }
            (Some(Parent::Func(i)), dw::DW_TAG_formal_parameter) => {
                let a = rd.attrs(entry)?;
                out.params.push((off, a.name, a.ty));
                me = Parent::FuncParam(i, out.funcs[i].params.len());
                out.funcs[i].params.push(Param {
                    name: a.name,
                    ty: a.ty,
                    origin: a.origin,
                });
            }
            (Some(Parent::Func(i)), dw::DW_TAG_unspecified_parameters) => {
                out.funcs[i].varargs = true;
            }
            (Some(Parent::Unit), dw::DW_TAG_variable) => {
                let a = rd.attrs(entry)?;
                me = Parent::Var(out.vars.len());
                out.vars.push(Var {
                    offset: off,
                    name: a.name,
                    declaration: a.declaration,
                    external: a.external,
                    ty: a.ty,
                    spec: a.spec,
                    addr: a.location,
                    decl_tags: Vec::new(),
                });
            }
            (_, dw::DW_TAG_formal_parameter) => {
                // Parameters of inlined or nested functions: kept for
                // origins only.
                let a = rd.attrs(entry)?;
                out.params.push((off, a.name, a.ty));
            }
            _ => {}
        }
        stack.push(me);
    }
    close(&mut stack, &mut seq, &mut next_seq, 0);
    // A pointer points at its last type tag, each tag at the one before,
    // the first at the pointee.
    for (p, tags) in ptr_tags {
        let pointee = match out.types[p].1 {
            Ty::Ref { target, .. } => target,
            _ => 0,
        };
        let mut prev = pointee;
        for &t in &tags {
            if let Ty::TypeTag { target, .. } = &mut out.types[t].1 {
                *target = prev;
            }
            prev = out.types[t].0;
        }
        if let Ty::Ref { target, .. } = &mut out.types[p].1 {
            *target = prev;
        }
    }
    for (i, mut members, own) in type_tags {
        members.extend(own);
        out.type_decl_tags.push((out.types[i].0, members));
    }
    out.type_decl_tags.sort_unstable_by_key(|e| e.0);
    let mut order: Vec<usize> = (0..out.types.len()).collect();
    order.sort_unstable_by_key(|&i| seq[i]);
    let mut slots: Vec<Option<(DieRef, Ty<'a>)>> = out.types.drain(..).map(Some).collect();
    out.types = order.iter().filter_map(|&i| slots[i].take()).collect();
    for (_, t) in &mut out.types {
        if let Ty::Array { nelems, .. } = t {
            if *nelems == u32::MAX {
                *nelems = 0;
            }
        }
    }
    Ok(out)
}
