//! Linking one program: appending the `.text` subprograms it calls (as
//! libbpf does), fixing call offsets, and resolving ELF relocations of map
//! references, global data, `.kconfig` and `__ksym` externs.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};

use btf::Btf;

use crate::externs::{Externs, Ksym, KsymValue};
use crate::maps::{MapDef, MapOrigin};
use crate::object::{
    Insn, Object, Program, SectionKind, CALL, PSEUDO_BTF_ID, PSEUDO_CALL, PSEUDO_FUNC,
    PSEUDO_KFUNC_CALL, PSEUDO_MAP_FD, PSEUDO_MAP_VALUE,
};
use crate::{Error, Result};

/// A piece of the linked program: `len` instructions of section
/// `section`, starting at `sec_insn` there, placed at `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Function name.
    pub name: String,
    /// ELF section index.
    pub section: usize,
    /// ELF section name.
    pub section_name: String,
    /// First instruction within the section.
    pub sec_insn: usize,
    /// Number of instructions.
    pub len: usize,
    /// Index of its first instruction in the linked program.
    pub start: usize,
}

/// A linked program, ready for `BPF_PROG_LOAD`.
#[derive(Debug, Clone)]
pub struct Linked {
    /// Instructions.
    pub insns: Vec<Insn>,
    /// Main program first, then appended subprograms.
    pub chunks: Vec<Chunk>,
}

/// Everything linking needs besides the object.
pub struct LinkCtx<'a> {
    /// The object.
    pub obj: &'a Object,
    /// Its functions after CO-RE (programs and subprograms, by name).
    pub funcs: &'a HashMap<String, Program>,
    /// Map definitions and their fds (same order).
    pub maps: &'a [(MapDef, OwnedFd)],
    /// Externs.
    pub externs: &'a Externs,
    /// vmlinux BTF, for `__ksym`s.
    pub vmlinux: Option<&'a Btf<'a>>,
}

fn rel_err(sec: &str, r: &crate::object::Relocation, name: &str, why: impl Into<String>) -> Error {
    Error::Relocation {
        section: sec.to_string(),
        reloc: r.index,
        offset: r.offset,
        symbol: r.symbol,
        symbol_name: name.to_string(),
        why: why.into(),
    }
}

/// Links program `prog`.
pub fn link(cx: &LinkCtx<'_>, prog: &Program) -> Result<Linked> {
    let obj = cx.obj;
    let mut insns = cx
        .funcs
        .get(&prog.name)
        .map(|p| p.insns.clone())
        .unwrap_or_else(|| prog.insns.clone());
    let mut chunks = vec![Chunk {
        name: prog.name.clone(),
        section: prog.section_index,
        section_name: prog.section_name.clone(),
        sec_insn: prog.insn_offset,
        len: insns.len(),
        start: 0,
    }];
    let text = obj.sections().iter().find(|s| s.kind == SectionKind::Text);
    let mut i = 0usize;
    while i < insns.len() {
        let Some(chunk) = chunks
            .iter()
            .find(|c| i >= c.start && i < c.start + c.len)
            .cloned()
        else {
            break;
        };
        let sec = obj.section(chunk.section).ok_or_else(|| Error::Program {
            prog: prog.name.clone(),
            section: chunk.section_name.clone(),
            why: "section vanished".into(),
        })?;
        let sec_insn = chunk.sec_insn + (i - chunk.start);
        let byte_off = (sec_insn * 8) as u64;
        let reloc = sec.relocations.iter().find(|r| r.offset == byte_off);
        let insn = insns.get(i).copied().unwrap_or_default();
        let mut call_target: Option<usize> = None; // section insn index in .text
        if let Some(r) = reloc {
            let sym = obj
                .symbol(r.symbol)
                .ok_or_else(|| rel_err(&sec.name, r, "", "symbol index out of range"))?;
            let sym_sec = sym.section.and_then(|s| obj.section(s));
            if sym.is_undefined() {
                if let Some(k) = cx.externs.kcfg(&sym.name) {
                    if !insn.is_ld_imm64() {
                        return Err(rel_err(
                            &sec.name,
                            r,
                            &sym.name,
                            "kconfig extern used by a non-ld_imm64 instruction",
                        ));
                    }
                    let fd = cx
                        .maps
                        .iter()
                        .find(|(m, _)| m.origin == MapOrigin::Kconfig)
                        .map(|(_, fd)| fd.as_raw_fd())
                        .ok_or_else(|| rel_err(&sec.name, r, &sym.name, "no .kconfig map"))?;
                    set(&mut insns, i, |x| {
                        x.src = PSEUDO_MAP_VALUE;
                        x.imm = fd;
                    });
                    set(&mut insns, i + 1, |x| x.imm = k.offset as i32);
                } else if let Some(k) = cx.externs.ksym(&sym.name) {
                    ksym_insn(&mut insns, i, insn, k)
                        .map_err(|why| rel_err(&sec.name, r, &sym.name, why))?;
                } else {
                    return Err(rel_err(&sec.name, r, &sym.name, "undefined symbol"));
                }
            } else if insn.code == CALL && insn.src == PSEUDO_CALL {
                if sym_sec.map(|s| s.kind) != Some(SectionKind::Text) {
                    return Err(rel_err(
                        &sec.name,
                        r,
                        &sym.name,
                        "call to a symbol outside .text",
                    ));
                }
                let t = (sym.value / 8) as i64 + i64::from(insn.imm) + 1;
                call_target = usize::try_from(t).ok();
                if call_target.is_none() {
                    return Err(rel_err(&sec.name, r, &sym.name, "call target before .text"));
                }
            } else if insn.is_ld_imm64() {
                match sym_sec.map(|s| s.kind) {
                    Some(SectionKind::Text) => {
                        let t = (sym.value as i64 + i64::from(insn.imm)) / 8;
                        call_target = usize::try_from(t).ok();
                        set(&mut insns, i, |x| x.src = PSEUDO_FUNC);
                    }
                    Some(SectionKind::BtfMaps) | Some(SectionKind::LegacyMaps) => {
                        let fd = cx
                            .maps
                            .iter()
                            .find(|(m, _)| {
                                m.sec_index == sym.section.unwrap_or(0) && m.sec_offset == sym.value
                            })
                            .map(|(_, fd)| fd.as_raw_fd())
                            .ok_or_else(|| {
                                rel_err(&sec.name, r, &sym.name, "no map defined at this symbol")
                            })?;
                        set(&mut insns, i, |x| {
                            x.src = PSEUDO_MAP_FD;
                            x.imm = fd;
                        });
                    }
                    Some(SectionKind::Data | SectionKind::Rodata | SectionKind::Bss) => {
                        let s = sym.section.unwrap_or(0);
                        let fd = cx
                            .maps
                            .iter()
                            .find(|(m, _)| m.origin == MapOrigin::Data(s))
                            .map(|(_, fd)| fd.as_raw_fd())
                            .ok_or_else(|| {
                                rel_err(&sec.name, r, &sym.name, "no map for this data section")
                            })?;
                        let add = i64::from(insn.imm) + sym.value as i64;
                        let add = i32::try_from(add).map_err(|_| {
                            rel_err(&sec.name, r, &sym.name, "data offset overflows")
                        })?;
                        set(&mut insns, i, |x| {
                            x.src = PSEUDO_MAP_VALUE;
                            x.imm = fd;
                        });
                        set(&mut insns, i + 1, |x| x.imm = add);
                    }
                    _ => {
                        let n = sym_sec.map(|s| s.name.clone()).unwrap_or_default();
                        return Err(rel_err(&sec.name, r, &sym.name, format!("ld_imm64 of a symbol in section '{n}', which is not maps, data or .text")));
                    }
                }
            } else {
                return Err(rel_err(
                    &sec.name,
                    r,
                    &sym.name,
                    format!("relocation of instruction with opcode {:#04x}", insn.code),
                ));
            }
        } else if insn.code == CALL && insn.src == PSEUDO_CALL {
            // Call within the same section, no relocation.
            let t = sec_insn as i64 + i64::from(insn.imm) + 1;
            if sec.kind != SectionKind::Text {
                return Err(Error::Program {
                    prog: prog.name.clone(),
                    section: sec.name.clone(),
                    why: format!("insn #{i}: unrelocated call outside .text"),
                });
            }
            call_target = usize::try_from(t).ok();
        }
        if let Some(target) = call_target {
            let text = text.ok_or_else(|| Error::Program {
                prog: prog.name.clone(),
                section: sec.name.clone(),
                why: format!("insn #{i}: call but no .text"),
            })?;
            let sub = obj
                .subprograms()
                .iter()
                .find(|s| target >= s.insn_offset && target < s.insn_offset + s.insns.len())
                .ok_or_else(|| Error::Program {
                    prog: prog.name.clone(),
                    section: sec.name.clone(),
                    why: format!(
                        "insn #{i}: call target .text+{:#x} is in no function",
                        target * 8
                    ),
                })?;
            let start = match chunks
                .iter()
                .find(|c| c.section == text.index && c.sec_insn == sub.insn_offset)
            {
                Some(c) => c.start,
                None => {
                    let start = insns.len();
                    let body = cx
                        .funcs
                        .get(&sub.name)
                        .map(|p| p.insns.clone())
                        .unwrap_or_else(|| sub.insns.clone());
                    chunks.push(Chunk {
                        name: sub.name.clone(),
                        section: text.index,
                        section_name: text.name.clone(),
                        sec_insn: sub.insn_offset,
                        len: body.len(),
                        start,
                    });
                    insns.extend(body);
                    start
                }
            };
            let new_idx = start + (target - sub.insn_offset);
            let rel = new_idx as i64 - i as i64 - 1;
            set(&mut insns, i, |x| x.imm = rel as i32);
        }
        i += if insn.is_ld_imm64() { 2 } else { 1 };
    }
    Ok(Linked { insns, chunks })
}

/// Rewrites the instruction at `i` that refers to `__ksym` `k`, as libbpf
/// does (`RELO_EXTERN_CALL` / `RELO_EXTERN_LD64`):
///
/// - a call of a kfunc: `BPF_PSEUDO_KFUNC_CALL` with the kernel BTF id
///   (0 for a missing weak kfunc, which the verifier accepts only in dead
///   code: guard it with `bpf_ksym_exists()`);
/// - an `ld_imm64` of a kfunc or typed variable that the kernel has:
///   `BPF_PSEUDO_BTF_ID` with the BTF id (and 0, vmlinux, as the BTF fd);
/// - an `ld_imm64` of a typeless ksym: its kallsyms address;
/// - an `ld_imm64` of a missing weak ksym: the constant 0.
fn ksym_insn(
    insns: &mut [Insn],
    i: usize,
    insn: Insn,
    k: &Ksym,
) -> std::result::Result<(), String> {
    if insn.code == CALL {
        if !k.func {
            return Err("call of a __ksym that is not a function".into());
        }
        let id = match k.value {
            KsymValue::Btf(id) => id.0 as i32,
            _ => 0,
        };
        set(insns, i, |x| {
            x.src = PSEUDO_KFUNC_CALL;
            x.imm = id;
            x.off = 0;
        });
        return Ok(());
    }
    if !insn.is_ld_imm64() {
        return Err(format!(
            "__ksym used by an instruction with opcode {:#04x} (neither call nor ld_imm64)",
            insn.code
        ));
    }
    let (src, lo, hi) = match k.value {
        KsymValue::Btf(id) => (PSEUDO_BTF_ID, id.0 as i32, 0),
        KsymValue::Addr(a) => (0, a as u32 as i32, (a >> 32) as u32 as i32),
        KsymValue::Missing => (0, 0, 0),
    };
    set(insns, i, |x| {
        x.src = src;
        x.imm = lo;
    });
    set(insns, i + 1, |x| x.imm = hi);
    Ok(())
}

fn set(insns: &mut [Insn], i: usize, f: impl FnOnce(&mut Insn)) {
    if let Some(x) = insns.get_mut(i) {
        f(x);
    }
}
