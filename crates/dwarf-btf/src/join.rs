//! Units joined in unit order into one BTF before deduplication, as
//! pahole adds them to its one `struct btf`: each unit's types, then its
//! FUNCs (the first unit defining a name that the symbol table has as a
//! function wins), then its per-CPU VARs; the `.data..percpu` DATASEC last.

use std::collections::HashSet;

use crate::elf::ElfInput;
use crate::encode::{info, kind, CuOut};

/// The symbol-table facts FUNC and VAR selection needs.
pub(crate) struct Symbols<'e> {
    /// Names of `STT_FUNC` symbols.
    functions: HashSet<&'e [u8]>,
    /// Per-CPU variables: (section offset, size, name), sorted by offset.
    percpu: Vec<(u64, u64, &'e str)>,
    /// Address of `.data..percpu` (subtracted from executables' addresses).
    percpu_base: u64,
    has_percpu: bool,
    is_rel: bool,
}

/// pahole's `btf_name_valid`: `[A-Za-z_.][A-Za-z0-9_.]*`, under 128 bytes.
fn name_valid(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(&c) if c == b'_' || c == b'.' || c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    b.len() < 128
        && b.iter()
            .all(|&c| c == b'_' || c == b'.' || c.is_ascii_alphanumeric())
}

impl<'e> Symbols<'e> {
    pub(crate) fn new(elf: &'e ElfInput<'_>) -> Symbols<'e> {
        let functions = elf
            .symbols
            .iter()
            .filter(|s| s.is_function)
            .map(|s| s.name.as_bytes())
            .collect();
        let sec = elf.section_by_name(".data..percpu");
        let mut percpu = Vec::new();
        let mut base = 0;
        if let Some(sec) = sec {
            base = sec.address;
            for s in &elf.symbols {
                if s.section == Some(sec.index) && s.is_object && s.size != 0 && name_valid(&s.name)
                {
                    let addr = if elf.is_rel {
                        s.value
                    } else {
                        s.value.wrapping_sub(base)
                    };
                    percpu.push((addr, s.size, s.name.as_str()));
                }
            }
            percpu.sort_by_key(|&(a, _, _)| a);
        }
        Symbols {
            functions,
            percpu,
            percpu_base: base,
            has_percpu: sec.is_some(),
            is_rel: elf.is_rel,
        }
    }
}

/// The joined, not yet deduplicated BTF: type records and strings.
pub(crate) struct Joined {
    pub words: Vec<u32>,
    pub strs: Vec<u8>,
}

/// Rewrites one record's string offsets and type references from unit-
/// local to global; returns the record's length in words.
fn patch(w: &mut [u32], id_off: u32, str_base: u32) -> usize {
    let s = |x: &mut u32| {
        if *x != 0 {
            *x += str_base
        }
    };
    let t = |x: &mut u32| {
        if *x != 0 {
            *x += id_off
        }
    };
    let k = (w[1] >> 24) & 0x1f;
    let vlen = (w[1] & 0xffff) as usize;
    s(&mut w[0]);
    match k {
        kind::INT => 4,
        kind::PTR | kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::FUNC => {
            t(&mut w[2]);
            3
        }
        kind::FWD | kind::FLOAT => 3,
        kind::ARRAY => {
            t(&mut w[3]);
            t(&mut w[4]);
            6
        }
        kind::STRUCT | kind::UNION => {
            for m in 0..vlen {
                s(&mut w[3 + 3 * m]);
                t(&mut w[4 + 3 * m]);
            }
            3 + 3 * vlen
        }
        kind::ENUM => {
            for m in 0..vlen {
                s(&mut w[3 + 2 * m]);
            }
            3 + 2 * vlen
        }
        kind::ENUM64 => {
            for m in 0..vlen {
                s(&mut w[3 + 3 * m]);
            }
            3 + 3 * vlen
        }
        kind::FUNC_PROTO => {
            t(&mut w[2]);
            for m in 0..vlen {
                s(&mut w[3 + 2 * m]);
                t(&mut w[4 + 2 * m]);
            }
            3 + 2 * vlen
        }
        // VAR and DATASEC are written by the join with global values.
        _ => 3,
    }
}

/// Joins the units (in unit order) over a BTF whose next id is `start_id`
/// and whose strings end at `start_str`.
pub(crate) fn join(
    units: Vec<CuOut<'_>>,
    syms: &Symbols<'_>,
    start_id: u32,
    start_str: u32,
) -> Joined {
    let total: usize = units
        .iter()
        .map(|u| u.words.len() + u.funcs.len() * 8)
        .sum();
    let mut words: Vec<u32> = Vec::with_capacity(total);
    let mut strs: Vec<u8> = if start_str == 0 { vec![0] } else { Vec::new() };
    let mut next_id = start_id;
    let mut generated: HashSet<&[u8]> = HashSet::new();
    let mut int_seen = false;
    let mut secinfo: Vec<(u32, u64, u64)> = Vec::new();
    let add_str = |strs: &mut Vec<u8>, s: &[u8]| -> u32 {
        let o = start_str + strs.len() as u32;
        strs.extend_from_slice(s);
        strs.push(0);
        o
    };
    for mut u in units {
        let id_off = next_id - 1;
        let str_base = start_str + strs.len() as u32;
        strs.extend_from_slice(&u.strs);
        if u.index_record && int_seen {
            // pahole indexes arrays with the first unit's `int` once one
            // unit had one: an `int` here dedups into it.
            let n = u.words.len();
            let name = add_str(&mut strs, b"int") - str_base;
            u.words[n - 4..].copy_from_slice(&[name, info(kind::INT, 0, false), 4, (1 << 24) | 32]);
        }
        int_seen |= u.has_int;
        let mut i = 0;
        while i < u.words.len() {
            i += patch(&mut u.words[i..], id_off, str_base);
        }
        words.extend_from_slice(&u.words);
        next_id += u.count;
        for f in u.funcs.iter_mut() {
            let wanted = if syms.functions.is_empty() {
                f.external
            } else {
                syms.functions.contains(f.name)
            };
            if !wanted || !generated.insert(f.name) {
                continue;
            }
            patch(&mut f.proto, id_off, str_base);
            words.extend_from_slice(&f.proto);
            let proto_id = next_id;
            next_id += 1;
            let n = add_str(&mut strs, f.name);
            words.extend_from_slice(&[n, info(kind::FUNC, 0, false), proto_id]);
            next_id += 1;
        }
        if syms.has_percpu {
            for v in &u.vars {
                let addr = if syms.is_rel {
                    v.addr
                } else {
                    v.addr.wrapping_sub(syms.percpu_base)
                };
                let Ok(k) = syms.percpu.binary_search_by_key(&addr, |&(a, _, _)| a) else {
                    continue;
                };
                let (_, size, name) = syms.percpu[k];
                // pahole: at offset 0 (where many special symbols sit) the
                // DIE's own name must be the symbol's.
                if addr == 0 && v.name != Some(name.as_bytes()) {
                    continue;
                }
                let n = add_str(&mut strs, name.as_bytes());
                let ty = if v.ty != 0 { v.ty + id_off } else { 0 };
                words.extend_from_slice(&[n, info(kind::VAR, 0, false), ty, v.external as u32]);
                secinfo.push((next_id, addr, size));
                next_id += 1;
            }
        }
    }
    if !secinfo.is_empty() {
        secinfo.sort_by_key(|&(_, off, _)| off);
        // pahole sizes the section to the end of its last variable.
        let size = secinfo.last().map_or(0, |&(_, off, size)| off + size);
        let n = add_str(&mut strs, b".data..percpu");
        words.extend_from_slice(&[n, info(kind::DATASEC, secinfo.len(), false), size as u32]);
        for (id, off, size) in secinfo {
            words.extend_from_slice(&[id, off as u32, size as u32]);
        }
    }
    Joined { words, strs }
}
