//! Units joined in unit order into one BTF before deduplication, as
//! pahole adds them to its one `struct btf`: each unit's types, then its
//! FUNCs (the first unit defining a name that the symbol table has as a
//! function wins), then its per-CPU VARs; the `.data..percpu` DATASEC last.

use hashbrown::HashSet;

use btf::dedup::Appender;

use crate::elf::ElfInput;
use crate::encode::{info, kind, CuOut};
use crate::Result;

/// The symbol-table facts FUNC and VAR selection needs.
pub(crate) struct Symbols<'e> {
    /// Names of `STT_FUNC` symbols.
    functions: HashSet<&'e [u8]>,
    /// Per-CPU variables: (section offset, size, name), sorted by offset.
    percpu: Vec<(u64, u64, &'e str)>,
    /// Address of `.data..percpu` (subtracted from variable addresses).
    percpu_base: u64,
    has_percpu: bool,
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
                    let addr = s.value.wrapping_sub(base);
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
        }
    }
}

/// Rewrites one record's type references from unit-local (table index,
/// 0 for void) to the appender's ids; returns the record's length in words.
fn patch(w: &mut [u32], id_off: u32) -> usize {
    let k = (w[1] >> 24) & 0x1f;
    let vlen = (w[1] & 0xffff) as usize;
    let mut t = |i: usize| {
        if w[i] != 0 {
            w[i] += id_off
        }
    };
    match k {
        kind::INT => 4,
        kind::PTR
        | kind::TYPEDEF
        | kind::VOLATILE
        | kind::CONST
        | kind::RESTRICT
        | kind::FUNC
        | kind::TYPE_TAG => {
            t(2);
            3
        }
        kind::DECL_TAG => {
            t(2);
            4
        }
        kind::ARRAY => {
            t(3);
            t(4);
            6
        }
        kind::STRUCT | kind::UNION => {
            for m in 0..vlen {
                t(4 + 3 * m);
            }
            3 + 3 * vlen
        }
        kind::ENUM => 3 + 2 * vlen,
        kind::ENUM64 => 3 + 3 * vlen,
        kind::FUNC_PROTO => {
            t(2);
            for m in 0..vlen {
                t(4 + 2 * m);
            }
            3 + 2 * vlen
        }
        // FWD, FLOAT; VAR and DATASEC are written by the join itself.
        _ => 3,
    }
}

/// Joins units in unit order into an appender (the dedup's input).
pub(crate) struct Joiner<'s, 'e> {
    syms: &'s Symbols<'e>,
    /// Function names that got their FUNC.
    generated: HashSet<Vec<u8>>,
    /// (VAR id, section offset, size) of the per-CPU variables.
    secinfo: Vec<(u32, u64, u64)>,
}

impl<'s, 'e> Joiner<'s, 'e> {
    pub(crate) fn new(syms: &'s Symbols<'e>) -> Self {
        Joiner {
            syms,
            generated: HashSet::new(),
            secinfo: Vec::new(),
        }
    }

    /// Appends one unit: its types, then its FUNCs, then its VARs.
    pub(crate) fn add(&mut self, mut u: CuOut, app: &mut Appender) -> Result<()> {
        let syms = self.syms;
        let first_id = app.type_count();
        let id_off = first_id - 1;
        let mut strs = std::mem::take(&mut u.strs);
        let add_str = |strs: &mut Vec<u8>, s: &[u8]| -> u32 {
            let o = strs.len() as u32;
            strs.extend_from_slice(s);
            strs.push(0);
            o
        };
        let mut words = std::mem::take(&mut u.words);
        let mut i = 0;
        while i < words.len() {
            i += patch(&mut words[i..], id_off);
        }
        let mut next_id = first_id + u.count;
        for f in u.funcs.iter_mut() {
            let wanted = if syms.functions.is_empty() {
                f.external
            } else {
                syms.functions.contains(&f.name[..])
            };
            if !wanted || self.generated.contains(&f.name[..]) {
                continue;
            }
            self.generated.insert(f.name.to_vec());
            patch(&mut f.proto, id_off);
            words.extend_from_slice(&f.proto);
            let proto_id = next_id;
            let n = add_str(&mut strs, &f.name);
            words.extend_from_slice(&[n, info(kind::FUNC, 0, false), proto_id]);
            let func_id = next_id + 1;
            next_id += 2;
            for &(comp, value) in &f.tags {
                words.extend_from_slice(&[
                    value,
                    info(kind::DECL_TAG, 0, false),
                    func_id,
                    comp as u32,
                ]);
                next_id += 1;
            }
        }
        if syms.has_percpu {
            for v in &u.vars {
                // Section-relative (a module's sections have their own
                // addresses when read laid out).
                let addr = v.addr.wrapping_sub(syms.percpu_base);
                let Ok(k) = syms.percpu.binary_search_by_key(&addr, |&(a, _, _)| a) else {
                    continue;
                };
                let (_, size, name) = syms.percpu[k];
                // pahole: at offset 0 (where many special symbols sit) the
                // DIE's own name must be the symbol's.
                if addr == 0 && v.name.as_deref() != Some(name.as_bytes()) {
                    continue;
                }
                let n = add_str(&mut strs, name.as_bytes());
                let ty = if v.ty != 0 { v.ty + id_off } else { 0 };
                words.extend_from_slice(&[n, info(kind::VAR, 0, false), ty, v.external as u32]);
                self.secinfo.push((next_id, addr, size));
                let var_id = next_id;
                next_id += 1;
                for &(comp, value) in &v.tags {
                    words.extend_from_slice(&[
                        value,
                        info(kind::DECL_TAG, 0, false),
                        var_id,
                        comp as u32,
                    ]);
                    next_id += 1;
                }
            }
        }
        app.add_records(&words, &strs)?;
        Ok(())
    }

    /// Appends the `.data..percpu` DATASEC, if any variable went in.
    pub(crate) fn finish(mut self, app: &mut Appender) -> Result<()> {
        if self.secinfo.is_empty() {
            return Ok(());
        }
        if self.secinfo.len() > 0xffff
            || self
                .secinfo
                .iter()
                .any(|&(_, off, size)| off.checked_add(size).is_none_or(|e| e > u32::MAX as u64))
        {
            return Err(crate::Error::Elf(format!(
                ".data..percpu: {} variables, or one past 4 GiB: BTF cannot hold the DATASEC",
                self.secinfo.len()
            )));
        }
        self.secinfo.sort_by_key(|&(_, off, _)| off);
        // pahole sizes the section to the end of its last variable.
        let size = self.secinfo.last().map_or(0, |&(_, off, size)| off + size);
        let mut words = vec![
            1,
            info(kind::DATASEC, self.secinfo.len(), false),
            size as u32,
        ];
        for &(id, off, size) in &self.secinfo {
            words.extend_from_slice(&[id, off as u32, size as u32]);
        }
        app.add_records(&words, b"\0.data..percpu\0")?;
        Ok(())
    }
}
