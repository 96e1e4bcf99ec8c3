//! Applying a computed [`Fixup`] to instructions (`bpf_core_patch_insn`).

use crate::calc::Fixup;
use crate::error::errno::{EINVAL, ERANGE};
use crate::insn::{Insn, POISON_IMM};

const BPF_ALU: u8 = 0x04;
const BPF_ALU64: u8 = 0x07;
const BPF_LDX: u8 = 0x01;
const BPF_ST: u8 = 0x02;
const BPF_STX: u8 = 0x03;
const BPF_LD: u8 = 0x00;
const BPF_K: u8 = 0x00;
const BPF_JMP_CALL: u8 = 0x05 | 0x80;

/// A failed patch: libbpf's errno and its warning text (without prefix).
pub type PatchErr = (i32, String);

/// Which libbpf build's log to reproduce where two builds differ.
///
/// The only difference seen in the recordings: poisoning an ld_imm64, the
/// shared libbpf 1.1.2 (`libbpf-dev`) replaces the second half first and logs
/// `substituting insn #N+1` before `#N`; the libbpf built into Debian's
/// bpftool 7.1 logs `#N` first. The instructions end up the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogStyle {
    /// libbpf 1.1.2 as a library (default).
    #[default]
    Libbpf,
    /// The libbpf inside bpftool 7.1 (`bpftool -d prog loadall`).
    Bpftool,
}

fn poison_one(prog: &str, relo: usize, idx: usize, insn: &mut Insn, log: &mut Vec<String>) {
    log.push(format!(
        "prog '{prog}': relo #{relo}: substituting insn #{idx} w/ invalid insn"
    ));
    insn.code = BPF_JMP_CALL;
    insn.dst = 0;
    insn.src = 0;
    insn.off = 0;
    insn.imm = POISON_IMM;
}

fn poison(
    prog: &str,
    relo: usize,
    insns: &mut [Insn],
    idx: usize,
    style: LogStyle,
    log: &mut Vec<String>,
) -> Result<(), PatchErr> {
    if idx >= insns.len() {
        return Err((EINVAL, format!("insn #{idx} past the end of the program")));
    }
    let is_ld = insns.get(idx).is_some_and(Insn::is_ld_imm64);
    let order: &[usize] = match (is_ld, style) {
        (false, _) => &[0],
        (true, LogStyle::Libbpf) => &[1, 0],
        (true, LogStyle::Bpftool) => &[0, 1],
    };
    if is_ld && idx + 1 >= insns.len() {
        return Err((EINVAL, format!("insn #{idx} (LDIMM64) has no second half")));
    }
    for &d in order {
        if let Some(i) = insns.get_mut(idx + d) {
            poison_one(prog, relo, idx + d, i, log);
        }
    }
    Ok(())
}

fn size_bytes(code: u8) -> i32 {
    match code & 0x18 {
        0x18 => 8,
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => -1,
    }
}

fn bytes_to_size(sz: u32) -> Option<u8> {
    match sz {
        8 => Some(0x18),
        4 => Some(0x00),
        2 => Some(0x08),
        1 => Some(0x10),
        _ => None,
    }
}

/// Applies `res` to instruction `idx` of `insns` (a program's instructions,
/// indices relative to its start), logging libbpf's lines into `log`.
pub fn apply_fixup(
    prog: &str,
    relo: usize,
    insns: &mut [Insn],
    idx: usize,
    res: &Fixup,
    style: LogStyle,
    log: &mut Vec<String>,
) -> Result<(), PatchErr> {
    if res.poison {
        return poison(prog, relo, insns, idx, style, log);
    }
    let Some(&insn) = insns.get(idx) else {
        return Err((EINVAL, format!("insn #{idx} past the end of the program")));
    };
    let (orig_val, new_val) = (res.orig_val, res.new_val);
    match insn.class() {
        BPF_ALU | BPF_ALU64 => {
            if insn.code & 0x08 != BPF_K {
                return Err((
                    EINVAL,
                    format!("insn #{idx} (ALU/ALU64) is not an immediate operation"),
                ));
            }
            let imm = insn.imm as i64 as u64;
            if res.validate && imm != orig_val {
                let w = format!(
                    "prog '{prog}': relo #{relo}: unexpected insn #{idx} (ALU/ALU64) value: got {}, exp {orig_val} -> {new_val}",
                    insn.imm as u32
                );
                log.push(w.clone());
                return Err((EINVAL, w));
            }
            if let Some(i) = insns.get_mut(idx) {
                i.imm = new_val as i32;
            }
            log.push(format!(
                "prog '{prog}': relo #{relo}: patched insn #{idx} (ALU/ALU64) imm {imm} -> {new_val}"
            ));
        }
        BPF_LDX | BPF_ST | BPF_STX => {
            let off = insn.off as i64 as u64;
            if res.validate && off != orig_val {
                let w = format!(
                    "prog '{prog}': relo #{relo}: unexpected insn #{idx} (LDX/ST/STX) value: got {}, exp {orig_val} -> {new_val}",
                    insn.off as i32 as u32
                );
                log.push(w.clone());
                return Err((EINVAL, w));
            }
            if new_val > i16::MAX as u64 {
                let w = format!(
                    "prog '{prog}': relo #{relo}: insn #{idx} (LDX/ST/STX) value too big: {new_val}"
                );
                log.push(w.clone());
                return Err((ERANGE, w));
            }
            if res.fail_memsz_adjust {
                log.push(format!(
                    "prog '{prog}': relo #{relo}: insn #{idx} (LDX/ST/STX) accesses field incorrectly. Make sure you are accessing pointers, unsigned integers, or fields of matching type and size."
                ));
                return poison(prog, relo, insns, idx, style, log);
            }
            let mut code = insn.code;
            log.push(format!(
                "prog '{prog}': relo #{relo}: patched insn #{idx} (LDX/ST/STX) off {off} -> {new_val}"
            ));
            if res.new_sz != res.orig_sz {
                let have = size_bytes(insn.code);
                if have != res.orig_sz as i32 {
                    let w = format!(
                        "prog '{prog}': relo #{relo}: insn #{idx} (LDX/ST/STX) unexpected mem size: got {have}, exp {}",
                        res.orig_sz
                    );
                    log.push(w.clone());
                    return Err((EINVAL, w));
                }
                let Some(sz) = bytes_to_size(res.new_sz) else {
                    let w = format!(
                        "prog '{prog}': relo #{relo}: insn #{idx} (LDX/ST/STX) invalid new mem size: {}",
                        res.new_sz
                    );
                    log.push(w.clone());
                    return Err((EINVAL, w));
                };
                code = (insn.code & 0xe0) | sz | insn.class();
                log.push(format!(
                    "prog '{prog}': relo #{relo}: patched insn #{idx} (LDX/ST/STX) mem_sz {} -> {}",
                    res.orig_sz, res.new_sz
                ));
            }
            if let Some(i) = insns.get_mut(idx) {
                i.off = new_val as i16;
                i.code = code;
            }
        }
        BPF_LD => {
            let second = insns.get(idx + 1).copied();
            let ok = insn.is_ld_imm64()
                && insn.src == 0
                && insn.off == 0
                && second.is_some_and(|s| s.code == 0 && s.dst == 0 && s.src == 0 && s.off == 0);
            let Some(second) = second.filter(|_| ok) else {
                let w = format!(
                    "prog '{prog}': relo #{relo}: insn #{idx} (LDIMM64) has unexpected form"
                );
                log.push(w.clone());
                return Err((EINVAL, w));
            };
            let imm = u64::from(insn.imm as u32) | (u64::from(second.imm as u32) << 32);
            if res.validate && imm != orig_val {
                let w = format!(
                    "prog '{prog}': relo #{relo}: unexpected insn #{idx} (LDIMM64) value: got {imm}, exp {orig_val} -> {new_val}"
                );
                log.push(w.clone());
                return Err((EINVAL, w));
            }
            if let Some(i) = insns.get_mut(idx) {
                i.imm = new_val as u32 as i32;
            }
            if let Some(i) = insns.get_mut(idx + 1) {
                i.imm = (new_val >> 32) as u32 as i32;
            }
            log.push(format!(
                "prog '{prog}': relo #{relo}: patched insn #{idx} (LDIMM64) imm64 {imm} -> {new_val}"
            ));
        }
        _ => {
            let w = format!(
                "prog '{prog}': relo #{relo}: trying to relocate unrecognized insn #{idx}, code:{:#x}, src:{:#x}, dst:{:#x}, off:{:#x}, imm:{:#x}",
                insn.code, insn.src, insn.dst, insn.off as i32 as u32, insn.imm as u32
            );
            log.push(w.clone());
            return Err((EINVAL, w));
        }
    }
    Ok(())
}
