//! USDT notes and libbpf's argument spec encoding.
//!
//! `<sys/sdt.h>` probes leave an ELF note per call site in `.note.stapsdt`
//! (owner `stapsdt`, type 3): the probe's address, the link-time address of
//! `.stapsdt.base` (to correct for prelinking), the semaphore's address (0
//! when none), then provider, name and the argument string, NUL-terminated.
//! Arguments are assembler operands with a size (`-4@%edi`, `8@-16(%rbp)`,
//! `-4@$42`, negative size = signed); libbpf encodes each as a
//! `struct __bpf_usdt_arg_spec` that `usdt.bpf.h`'s `bpf_usdt_arg()` reads.

use object::read::elf::ElfFile64;
use object::{Object, ObjectSection};

/// One call site of a USDT probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtNote {
    /// Provider.
    pub provider: String,
    /// Probe name.
    pub name: String,
    /// Address of the probe, corrected by `.stapsdt.base`.
    pub addr: u64,
    /// Address of its semaphore (0: none).
    pub semaphore: u64,
    /// Argument string (`-4@%edi 8@-16(%rbp)`).
    pub args: String,
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// Every USDT note of a little-endian 64-bit ELF file; `Err` names the
/// byte offset of a malformed note in `.note.stapsdt`.
pub fn notes(file: &ElfFile64<'_>) -> Result<Vec<UsdtNote>, String> {
    let Some(sec) = file.section_by_name(".note.stapsdt") else {
        return Ok(Vec::new());
    };
    let data = sec.data().map_err(|e| format!(".note.stapsdt: {e}"))?;
    let base = file.section_by_name(".stapsdt.base").map(|s| s.address());
    parse_notes(data, base)
}

/// Parses the bytes of a `.note.stapsdt` section; `base` is the address of
/// `.stapsdt.base` in the file, if it has one.
pub fn parse_notes(data: &[u8], base: Option<u64>) -> Result<Vec<UsdtNote>, String> {
    let mut out = Vec::new();
    let mut off = 0usize;
    let align4 = |n: usize| n.checked_add(3).map(|x| x & !3);
    while off < data.len() {
        let at = off;
        let bad = |why: &str| format!(".note.stapsdt offset {at:#x}: {why}");
        let namesz = u32_at(data, off).ok_or_else(|| bad("truncated header"))? as usize;
        let descsz = u32_at(data, off + 4).ok_or_else(|| bad("truncated header"))? as usize;
        let ty = u32_at(data, off + 8).ok_or_else(|| bad("truncated header"))?;
        let name_end = align4(namesz)
            .and_then(|n| n.checked_add(off + 12))
            .ok_or_else(|| bad("name size overflows"))?;
        let desc = data
            .get(
                name_end
                    ..name_end
                        .checked_add(descsz)
                        .ok_or_else(|| bad("size overflows"))?,
            )
            .ok_or_else(|| bad("descriptor runs past the section"))?;
        let owner = data.get(off + 12..off + 12 + namesz).unwrap_or_default();
        off = align4(descsz)
            .and_then(|d| name_end.checked_add(d))
            .ok_or_else(|| bad("size overflows"))?;
        if ty != 3 || owner != b"stapsdt\0" {
            continue;
        }
        let pc = u64_at(desc, 0).ok_or_else(|| bad("descriptor too short"))?;
        let note_base = u64_at(desc, 8).ok_or_else(|| bad("descriptor too short"))?;
        let semaphore = u64_at(desc, 16).ok_or_else(|| bad("descriptor too short"))?;
        let mut strs = desc.get(24..).unwrap_or_default().split(|&c| c == 0);
        let mut next = || {
            strs.next()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .ok_or_else(|| bad("missing provider, name or arguments"))
        };
        let (provider, name, args) = (next()?, next()?, next()?);
        let addr = match base {
            Some(b) if note_base != 0 => pc.wrapping_add(b).wrapping_sub(note_base),
            _ => pc,
        };
        out.push(UsdtNote {
            provider,
            name,
            addr,
            semaphore,
            args,
        });
    }
    Ok(out)
}

/// Maximum arguments (`BPF_USDT_MAX_ARG_CNT`).
pub const MAX_ARGS: usize = 12;
/// Size of `struct __bpf_usdt_spec`.
pub const SPEC_SIZE: usize = 208;

/// One argument, as `struct __bpf_usdt_arg_spec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    /// `val_off`: the constant, or the offset from the register.
    pub val_off: u64,
    /// `arg_type`: 0 constant, 1 register, 2 memory at register + offset.
    pub arg_type: u32,
    /// `reg_off`: the register's offset in `struct pt_regs`.
    pub reg_off: i16,
    /// `arg_signed`.
    pub signed: bool,
    /// `arg_bitshift`: 64 minus the size in bits.
    pub bitshift: u8,
}

/// Offset in x86-64 `struct pt_regs` of a register by any of its names.
fn pt_regs_off(reg: &str) -> Option<i16> {
    const REGS: &[(&[&str], i16)] = &[
        (&["rip", "eip"], 128),
        (&["rax", "eax", "ax", "al"], 80),
        (&["rbx", "ebx", "bx", "bl"], 40),
        (&["rcx", "ecx", "cx", "cl"], 88),
        (&["rdx", "edx", "dx", "dl"], 96),
        (&["rsi", "esi", "si", "sil"], 104),
        (&["rdi", "edi", "di", "dil"], 112),
        (&["rbp", "ebp", "bp", "bpl"], 32),
        (&["rsp", "esp", "sp", "spl"], 152),
        (&["r8", "r8d", "r8w", "r8b"], 72),
        (&["r9", "r9d", "r9w", "r9b"], 64),
        (&["r10", "r10d", "r10w", "r10b"], 56),
        (&["r11", "r11d", "r11w", "r11b"], 48),
        (&["r12", "r12d", "r12w", "r12b"], 24),
        (&["r13", "r13d", "r13w", "r13b"], 16),
        (&["r14", "r14d", "r14w", "r14b"], 8),
        (&["r15", "r15d", "r15w", "r15b"], 0),
    ];
    REGS.iter()
        .find(|(names, _)| names.contains(&reg))
        .map(|(_, off)| *off)
}

fn int(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = match s.strip_prefix("0x") {
        Some(h) => i64::from_str_radix(h, 16).ok()?,
        None => s.parse().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// Parses one x86-64 argument (`-4@%edi`, `8@-16(%rbp)`, `8@(%rax)`,
/// `-4@$42`).
pub fn parse_arg(arg: &str) -> Result<ArgSpec, String> {
    let bad = |why: &str| format!("argument '{arg}': {why}");
    let (size, op) = arg.split_once('@').ok_or_else(|| bad("no size@ prefix"))?;
    let size = int(size).ok_or_else(|| bad("bad size"))?;
    let bytes = size.unsigned_abs();
    if !matches!(bytes, 1 | 2 | 4 | 8) {
        return Err(bad("size is not 1, 2, 4 or 8"));
    }
    let (val_off, arg_type, reg_off) = if let Some(c) = op.strip_prefix('$') {
        (int(c).ok_or_else(|| bad("bad constant"))? as u64, 0, 0)
    } else if let Some(r) = op.strip_prefix('%') {
        (0, 1, pt_regs_off(r).ok_or_else(|| bad("unknown register"))?)
    } else if let Some((disp, rest)) = op.split_once("(%") {
        let reg = rest
            .strip_suffix(')')
            .ok_or_else(|| bad("no closing parenthesis"))?;
        let off = if disp.is_empty() {
            0
        } else {
            int(disp).ok_or_else(|| bad("bad displacement"))?
        };
        (
            off as u64,
            2,
            pt_regs_off(reg).ok_or_else(|| bad("unknown register"))?,
        )
    } else {
        return Err(bad("operand form not supported"));
    };
    Ok(ArgSpec {
        val_off,
        arg_type,
        reg_off,
        signed: size < 0,
        bitshift: (64 - bytes * 8) as u8,
    })
}

/// Encodes a probe's arguments and the user's cookie as the bytes of a
/// `struct __bpf_usdt_spec`.
pub fn encode_spec(args: &str, cookie: u64) -> Result<[u8; SPEC_SIZE], String> {
    let parsed: Vec<ArgSpec> = args
        .split_whitespace()
        .map(parse_arg)
        .collect::<Result<_, _>>()?;
    if parsed.len() > MAX_ARGS {
        return Err(format!(
            "{} arguments, usdt.bpf.h takes at most {MAX_ARGS}",
            parsed.len()
        ));
    }
    let mut b = [0u8; SPEC_SIZE];
    for (i, a) in parsed.iter().enumerate() {
        let o = i * 16;
        b[o..o + 8].copy_from_slice(&a.val_off.to_ne_bytes());
        b[o + 8..o + 12].copy_from_slice(&a.arg_type.to_ne_bytes());
        b[o + 12..o + 14].copy_from_slice(&a.reg_off.to_ne_bytes());
        b[o + 14] = u8::from(a.signed);
        b[o + 15] = a.bitshift;
    }
    b[192..200].copy_from_slice(&cookie.to_ne_bytes());
    b[200..202].copy_from_slice(&(parsed.len() as i16).to_ne_bytes());
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(8u32.to_le_bytes());
        v.extend((desc.len() as u32).to_le_bytes());
        v.extend(3u32.to_le_bytes());
        v.extend(b"stapsdt\0");
        v.extend(desc);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn notes_and_damaged_notes() {
        let mut d = Vec::new();
        d.extend(0x1000u64.to_le_bytes());
        d.extend(0x2000u64.to_le_bytes());
        d.extend(0x4000u64.to_le_bytes());
        d.extend(b"prov\0probe\0-4@%edi\0");
        let ok = note(&d);
        let n = parse_notes(&ok, Some(0x2100)).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!((n[0].addr, n[0].semaphore), (0x1100, 0x4000));
        assert_eq!(
            (n[0].provider.as_str(), n[0].name.as_str()),
            ("prov", "probe")
        );
        // Truncated in the header, in the descriptor, and a short descriptor.
        let mut two = ok.clone();
        two.extend(&ok[..8]);
        let e = parse_notes(&two, None).unwrap_err();
        assert!(e.contains(&format!("offset {:#x}", ok.len())), "{e}");
        assert!(parse_notes(&ok[..ok.len() - 8], None)
            .unwrap_err()
            .contains("past the section"));
        let short = note(&[0u8; 10]);
        assert!(parse_notes(&short, None).unwrap_err().contains("too short"));
        // A huge size does not overflow or allocate.
        let mut huge = ok.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_notes(&huge, None).is_err());
    }

    #[test]
    fn args() {
        assert_eq!(
            parse_arg("-4@%edi").unwrap(),
            ArgSpec {
                val_off: 0,
                arg_type: 1,
                reg_off: 112,
                signed: true,
                bitshift: 32
            }
        );
        assert_eq!(
            parse_arg("8@-16(%rbp)").unwrap(),
            ArgSpec {
                val_off: (-16i64) as u64,
                arg_type: 2,
                reg_off: 32,
                signed: false,
                bitshift: 0
            }
        );
        assert_eq!(
            parse_arg("-4@$42").unwrap(),
            ArgSpec {
                val_off: 42,
                arg_type: 0,
                reg_off: 0,
                signed: true,
                bitshift: 32
            }
        );
        assert_eq!(parse_arg("1@(%rax)").unwrap().bitshift, 56);
        assert!(parse_arg("3@%eax").is_err());
        assert!(parse_arg("4@%xmm0").is_err());
        assert!(parse_arg("%eax").is_err());
        let s = encode_spec("-4@%edi 8@8(%rsp)", 7).unwrap();
        assert_eq!(&s[200..202], &2i16.to_ne_bytes());
        assert_eq!(&s[192..200], &7u64.to_ne_bytes());
        assert_eq!(&s[16 + 12..16 + 14], &152i16.to_ne_bytes());
    }
}
