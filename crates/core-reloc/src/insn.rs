//! 8-byte BPF instructions, decoded for either byte order: the one
//! instruction type of the workspace (the object model and the loader use
//! it too), with the opcode and pseudo-source constants they need.

use btf::Endian;

use crate::{Error, Result};

/// Size of one BPF instruction in bytes.
pub const INSN_SIZE: usize = 8;
/// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 64-bit immediate load.
pub const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`: helper call, bpf-to-bpf call or kfunc call.
pub const CALL: u8 = 0x85;
/// `BPF_JMP | BPF_EXIT`.
pub const EXIT: u8 = 0x95;
/// `src` of a call to another BPF function (bpf-to-bpf call).
pub const PSEUDO_CALL: u8 = 1;
/// `src` of a call to a kernel function (kfunc).
pub const PSEUDO_KFUNC_CALL: u8 = 2;
/// `src` of an `ld_imm64` whose imm is a map fd.
pub const PSEUDO_MAP_FD: u8 = 1;
/// `src` of an `ld_imm64` whose imm is a map fd and the second half's imm
/// an offset in its value.
pub const PSEUDO_MAP_VALUE: u8 = 2;
/// `src` of an `ld_imm64` whose imm is a BTF id of a kernel variable.
pub const PSEUDO_BTF_ID: u8 = 3;
/// `src` of an `ld_imm64` loading the address of a BPF function.
pub const PSEUDO_FUNC: u8 = 4;
/// The immediate libbpf puts in a poisoned call (`0xbad2310`, "bad relo").
pub const POISON_IMM: i32 = 0xbad2310;

/// One BPF instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// Destination register (0..=10).
    pub dst: u8,
    /// Source register, or a pseudo value for calls and `ld_imm64`.
    pub src: u8,
    /// Offset.
    pub off: i16,
    /// Immediate.
    pub imm: i32,
}

impl Insn {
    /// Instruction class (low 3 bits of the opcode).
    pub fn class(&self) -> u8 {
        self.code & 0x07
    }

    /// True for the first half of a 64-bit immediate load.
    pub fn is_ld_imm64(&self) -> bool {
        self.code == LD_IMM64
    }

    /// True for a bpf-to-bpf call (`call` with `src == BPF_PSEUDO_CALL`).
    pub fn is_pseudo_call(&self) -> bool {
        self.code == CALL && self.src == PSEUDO_CALL
    }

    /// True for an `ld_imm64` of a function address (`BPF_PSEUDO_FUNC`).
    pub fn is_pseudo_func(&self) -> bool {
        self.code == LD_IMM64 && self.src == PSEUDO_FUNC
    }

    /// Decodes a whole instruction stream; trailing bytes that do not make
    /// a full instruction are ignored (callers check the length first, or
    /// use [`decode_all`], which refuses them).
    pub fn decode_all(bytes: &[u8], endian: Endian) -> Vec<Insn> {
        bytes
            .chunks_exact(INSN_SIZE)
            .map(|c| {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(c);
                Insn::decode(raw, endian)
            })
            .collect()
    }

    /// Encodes a whole instruction stream.
    pub fn encode_all(insns: &[Insn], endian: Endian) -> Vec<u8> {
        encode_all(insns, endian)
    }

    /// Decodes one instruction from 8 bytes.
    pub fn decode(b: [u8; 8], endian: Endian) -> Insn {
        let (dst, src, off, imm) = match endian {
            Endian::Little => (
                b[1] & 0x0f,
                b[1] >> 4,
                i16::from_le_bytes([b[2], b[3]]),
                i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            ),
            Endian::Big => (
                b[1] >> 4,
                b[1] & 0x0f,
                i16::from_be_bytes([b[2], b[3]]),
                i32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            ),
        };
        Insn {
            code: b[0],
            dst,
            src,
            off,
            imm,
        }
    }

    /// Encodes the instruction into 8 bytes.
    pub fn encode(&self, endian: Endian) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0] = self.code;
        match endian {
            Endian::Little => {
                b[1] = (self.dst & 0x0f) | (self.src << 4);
                b[2..4].copy_from_slice(&self.off.to_le_bytes());
                b[4..8].copy_from_slice(&self.imm.to_le_bytes());
            }
            Endian::Big => {
                b[1] = (self.dst << 4) | (self.src & 0x0f);
                b[2..4].copy_from_slice(&self.off.to_be_bytes());
                b[4..8].copy_from_slice(&self.imm.to_be_bytes());
            }
        }
        b
    }
}

/// Decodes a whole instruction stream.
pub fn decode_all(bytes: &[u8], endian: Endian) -> Result<Vec<Insn>> {
    if bytes.len() & 7 != 0 {
        return Err(Error::InsnLength { len: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            Insn::decode(a, endian)
        })
        .collect())
}

/// Encodes a whole instruction stream.
pub fn encode_all(insns: &[Insn], endian: Endian) -> Vec<u8> {
    let mut out = Vec::with_capacity(insns.len().saturating_mul(INSN_SIZE));
    for i in insns {
        out.extend_from_slice(&i.encode(endian));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_orders() {
        let i = Insn {
            code: LD_IMM64,
            dst: 1,
            src: PSEUDO_MAP_VALUE,
            off: -3,
            imm: 0x1234_5678,
        };
        for e in [Endian::Little, Endian::Big] {
            assert_eq!(Insn::decode(i.encode(e), e), i);
        }
        // r1 = map_value ld_imm64 as clang writes it little-endian.
        assert_eq!(
            i.encode(Endian::Little),
            [0x18, 0x21, 0xfd, 0xff, 0x78, 0x56, 0x34, 0x12]
        );
        assert_eq!(
            i.encode(Endian::Big),
            [0x18, 0x12, 0xff, 0xfd, 0x12, 0x34, 0x56, 0x78]
        );
    }
}
