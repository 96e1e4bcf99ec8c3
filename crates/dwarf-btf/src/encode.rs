//! One unit's table turned into BTF records, as pahole's BTF encoder adds
//! them: every type of the table in order (references as table indices,
//! 1-based, 0 for void), then the candidates for FUNC and VAR, which
//! [`crate::join`] accepts or drops in unit order.

use gimli::constants as dw;

use crate::cu::{BaseKind, DieRef, Param, Ty, Unit};
use crate::{Error, Result};

/// BTF kind numbers.
pub(crate) mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

pub(crate) fn info(kind: u32, vlen: usize, kflag: bool) -> u32 {
    ((kflag as u32) << 31) | (kind << 24) | (vlen as u32 & 0xffff)
}

/// A function the unit defines, proposed for a FUNC.
#[derive(Debug)]
pub(crate) struct FuncCand {
    pub name: Box<[u8]>,
    /// `DW_AT_external` (used only when the ELF file has no function
    /// symbols at all).
    pub external: bool,
    /// The FUNC_PROTO record (local references, local string offsets).
    pub proto: Vec<u32>,
    /// Its declaration tags: (component, local string offset).
    pub tags: Vec<(i32, u32)>,
}

/// A variable the unit defines, proposed for a VAR of `.data..percpu`.
#[derive(Debug)]
pub(crate) struct VarCand {
    /// The DIE's own `DW_AT_name` (not its specification's).
    pub name: Option<Box<[u8]>>,
    pub addr: u64,
    /// Local type index.
    pub ty: u32,
    pub external: bool,
    /// Its declaration tags: (component, local string offset).
    pub tags: Vec<(i32, u32)>,
}

/// One unit's records.
#[derive(Debug, Default)]
pub(crate) struct CuOut {
    /// The type records, one after another.
    pub words: Vec<u32>,
    /// How many records `words` holds.
    pub count: u32,
    /// Local string table; offset 0 is "".
    pub strs: Vec<u8>,
    pub funcs: Vec<FuncCand>,
    pub vars: Vec<VarCand>,
}

struct Enc<'u, 'a> {
    unit: &'u Unit<'a>,
    /// (DIE offset, local index or 0) sorted by offset.
    index: Vec<(DieRef, u32)>,
    strs: Vec<u8>,
    str_map: hashbrown::HashMap<&'a [u8], u32>,
    words: Vec<u32>,
}

impl<'u, 'a> Enc<'u, 'a> {
    fn str(&mut self, s: &'a [u8]) -> u32 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&o) = self.str_map.get(s) {
            return o;
        }
        let o = self.strs.len() as u32;
        self.strs.extend_from_slice(s);
        self.strs.push(0);
        self.str_map.insert(s, o);
        o
    }

    fn id(&self, r: DieRef) -> u32 {
        if r == 0 {
            return 0;
        }
        match self.index.binary_search_by_key(&r, |&(o, _)| o) {
            Ok(i) => self.index[i].1,
            Err(_) => 0,
        }
    }

    /// The name and type of a parameter, through its abstract origin.
    fn param(&self, p: &Param<'a>) -> (Option<&'a [u8]>, DieRef) {
        if p.ty != 0 || p.origin == 0 {
            return (p.name, p.ty);
        }
        match self
            .unit
            .params
            .binary_search_by_key(&p.origin, |&(o, _, _)| o)
        {
            Ok(i) => {
                let (_, n, t) = self.unit.params[i];
                (p.name.or(n), t)
            }
            Err(_) => (p.name, 0),
        }
    }

    fn proto(&mut self, ret: DieRef, params: &[Param<'a>], varargs: bool) -> Vec<u32> {
        let n = params.len() + varargs as usize;
        let mut w = vec![0, info(kind::FUNC_PROTO, n, false), self.id(ret)];
        for p in params {
            let (name, ty) = self.param(p);
            w.push(self.str(name.unwrap_or(b"")));
            w.push(self.id(ty));
        }
        if varargs {
            w.extend_from_slice(&[0, 0]);
        }
        w
    }
}

/// Encodes one unit.
/// What BTF can hold of one type, checked before encoding (libbpf refuses
/// the same when pahole adds such a type, and pahole stops).
fn check(unit: &Unit<'_>) -> Result<()> {
    let err = |off: DieRef, what: String| Error::Dwarf {
        section: ".debug_info",
        offset: unit.unit_start + off,
        what,
    };
    let too_many = |n: usize| n > 0xffff;
    for (off, t) in &unit.types {
        let n = match t {
            Ty::Composite { members, .. } => {
                for m in members {
                    if m.bitfield > 0xff || (m.bitfield != 0 && m.bit_offset > 0xff_ffff) {
                        return Err(err(
                            *off,
                            format!(
                                "member '{}': a {}-bit bitfield at bit {} does not fit BTF",
                                String::from_utf8_lossy(m.name),
                                m.bitfield,
                                m.bit_offset
                            ),
                        ));
                    }
                }
                members.len()
            }
            Ty::Enum { values, .. } => values.len(),
            Ty::Proto {
                params, varargs, ..
            } => params.len() + *varargs as usize,
            _ => 0,
        };
        if too_many(n) {
            return Err(err(
                *off,
                format!("{n} members or parameters: BTF holds 65535"),
            ));
        }
    }
    for f in &unit.funcs {
        if too_many(f.params.len() + f.varargs as usize) {
            return Err(err(f.offset, "more than 65535 parameters".into()));
        }
    }
    Ok(())
}

pub(crate) fn encode_unit(unit: &Unit<'_>) -> Result<CuOut> {
    check(unit)?;
    // Local ids: every type DIE but the ones BTF cannot express.
    let mut index = Vec::with_capacity(unit.types.len());
    let mut next = 1u32;
    let mut int_id = 0;
    for (off, t) in &unit.types {
        if matches!(t, Ty::Void) {
            index.push((*off, 0));
        } else {
            if int_id == 0 {
                if let Ty::Base { name: b"int", .. } = t {
                    int_id = next;
                }
            }
            index.push((*off, next));
            next += 1;
        }
    }
    // The table is in pahole's order, not the DIEs' (structs follow the
    // types nested in them).
    index.sort_unstable_by_key(|&(o, _)| o);
    let count_types = next - 1;
    let has_arrays = unit
        .types
        .iter()
        .any(|(_, t)| matches!(t, Ty::Array { .. }));
    let index_record = has_arrays && int_id == 0;
    let index_id = if index_record { next } else { int_id };

    let mut e = Enc {
        unit,
        index,
        strs: vec![0],
        str_map: hashbrown::HashMap::new(),
        words: Vec::with_capacity(unit.types.len() * 4),
    };
    for (_, t) in &unit.types {
        match t {
            Ty::Void => {}
            Ty::Base { name, size, kind } => {
                let n = e.str(name);
                if *kind == BaseKind::Float {
                    e.words
                        .extend_from_slice(&[n, info(kind::FLOAT, 0, false), *size]);
                } else if !matches!(size, 1 | 2 | 4 | 8 | 16) {
                    // BTF has no such INT: pahole writes a 4-byte stand-in.
                    let n = e.str(b"__SANITIZED_FAKE_INT__");
                    e.words
                        .extend_from_slice(&[n, info(kind::INT, 0, false), 4, 32]);
                } else {
                    let enc = match kind {
                        BaseKind::Signed => 1,
                        BaseKind::Bool => 4,
                        _ => 0,
                    };
                    e.words.extend_from_slice(&[
                        n,
                        info(kind::INT, 0, false),
                        *size,
                        (enc << 24) | size.wrapping_mul(8),
                    ]);
                }
            }
            Ty::Ref { tag, name, target } => {
                let k = match *tag {
                    dw::DW_TAG_pointer_type => kind::PTR,
                    dw::DW_TAG_const_type => kind::CONST,
                    dw::DW_TAG_volatile_type => kind::VOLATILE,
                    dw::DW_TAG_restrict_type => kind::RESTRICT,
                    _ => kind::TYPEDEF,
                };
                let n = if k == kind::TYPEDEF { e.str(name) } else { 0 };
                let t = e.id(*target);
                e.words.extend_from_slice(&[n, info(k, 0, false), t]);
            }
            Ty::Composite {
                union,
                name,
                size,
                decl,
                members,
            } => {
                let n = e.str(name);
                if *decl {
                    e.words
                        .extend_from_slice(&[n, info(kind::FWD, 0, *union), 0]);
                    continue;
                }
                let kflag = members.iter().any(|m| m.bitfield != 0);
                let k = if *union { kind::UNION } else { kind::STRUCT };
                e.words
                    .extend_from_slice(&[n, info(k, members.len(), kflag), *size]);
                for m in members {
                    let mn = e.str(m.name);
                    let mt = e.id(m.ty);
                    let off = if kflag {
                        (m.bitfield << 24) | (m.bit_offset & 0xff_ffff)
                    } else {
                        m.bit_offset
                    };
                    e.words.extend_from_slice(&[mn, mt, off]);
                }
            }
            Ty::Enum { name, size, values } => {
                let n = e.str(name);
                if *size <= 4 {
                    // Signed iff some enumerator was written as a
                    // negative constant (pahole: `u32_full_e`, 0xffffffff
                    // as DW_FORM_data4, stays unsigned).
                    let signed = values.iter().any(|&(_, _, neg)| neg);
                    e.words
                        .extend_from_slice(&[n, info(kind::ENUM, values.len(), signed), *size]);
                    for &(vn, v, _) in values {
                        let vn = e.str(vn);
                        e.words.extend_from_slice(&[vn, v as u32]);
                    }
                } else {
                    let signed = values.iter().any(|&(_, _, neg)| neg);
                    e.words.extend_from_slice(&[
                        n,
                        info(kind::ENUM64, values.len(), signed),
                        *size,
                    ]);
                    for &(vn, v, _) in values {
                        let vn = e.str(vn);
                        e.words.extend_from_slice(&[vn, v as u32, (v >> 32) as u32]);
                    }
                }
            }
            Ty::Array { elem, nelems } => {
                let t = e.id(*elem);
                e.words.extend_from_slice(&[
                    0,
                    info(kind::ARRAY, 0, false),
                    0,
                    t,
                    index_id,
                    *nelems,
                ]);
            }
            Ty::Proto {
                ret,
                params,
                varargs,
            } => {
                let w = e.proto(*ret, params, *varargs);
                e.words.extend_from_slice(&w);
            }
            Ty::TypeTag { value, target } => {
                let n = e.str(value);
                let t = e.id(*target);
                e.words
                    .extend_from_slice(&[n, info(kind::TYPE_TAG, 0, false), t]);
            }
        }
    }
    let mut count = count_types;
    if index_record {
        // pahole adds an `int` to index the arrays of a unit without one.
        let n = e.str(b"int");
        e.words
            .extend_from_slice(&[n, info(kind::INT, 0, false), 4, (1 << 24) | 32]);
        count += 1;
    }
    // Declaration tags of types (clang's btf_decl_tag), in table order.
    for (off, _) in &unit.types {
        let Ok(k) = unit.type_decl_tags.binary_search_by_key(off, |t| t.0) else {
            continue;
        };
        let id = e.id(*off);
        for &(comp, value) in &unit.type_decl_tags[k].1 {
            let n = e.str(value);
            e.words
                .extend_from_slice(&[n, info(kind::DECL_TAG, 0, false), id, comp as u32]);
            count += 1;
        }
    }

    // Functions (pahole 1.24: not declarations, every parameter named;
    // the symbol check and first-wins are the join's).
    let mut funcs = Vec::new();
    for f in &unit.funcs {
        if f.declaration {
            continue;
        }
        let origin = if f.origin != 0 {
            unit.funcs
                .binary_search_by_key(&f.origin, |g| g.offset)
                .ok()
                .map(|i| &unit.funcs[i])
        } else {
            None
        };
        let Some(name) = f.name.or_else(|| origin.and_then(|o| o.name)) else {
            continue;
        };
        if f.params.iter().any(|p| e.param(p).0.is_none()) {
            continue;
        }
        // An out-of-line copy has its return type and varargs in its
        // abstract origin.
        let (ret, varargs) = match origin {
            Some(o) if f.ret == 0 => (o.ret, f.varargs || o.varargs),
            _ => (f.ret, f.varargs),
        };
        let proto = e.proto(ret, &f.params, varargs);
        let tags = f
            .param_tags
            .iter()
            .chain(&f.decl_tags)
            .map(|&(c, v)| (c, e.str(v)))
            .collect();
        funcs.push(FuncCand {
            tags,
            name: name.into(),
            external: f.external || origin.is_some_and(|o| o.external),
            proto,
        });
    }

    // Variables with an address (pahole: global scope or a specification).
    let mut vars = Vec::new();
    for v in &unit.vars {
        if v.declaration && v.spec == 0 {
            continue;
        }
        if v.addr.is_none() && v.spec == 0 {
            continue;
        }
        let spec = if v.spec != 0 {
            unit.vars
                .binary_search_by_key(&v.spec, |w| w.offset)
                .ok()
                .map(|i| &unit.vars[i])
        } else {
            None
        };
        let (ty, external) = match spec {
            Some(s) => (s.ty, s.external),
            None => (v.ty, v.external),
        };
        let tags = v.decl_tags.iter().map(|&(c, t)| (c, e.str(t))).collect();
        vars.push(VarCand {
            tags,
            name: v.name.map(Box::from),
            addr: v.addr.unwrap_or(0),
            ty: e.id(ty),
            external,
        });
    }

    Ok(CuOut {
        words: e.words,
        count,
        strs: e.strs,
        funcs,
        vars,
    })
}
