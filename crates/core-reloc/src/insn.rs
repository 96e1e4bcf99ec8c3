//! 8-byte BPF instructions, decoded for either byte order.

use btf::Endian;

use crate::{Error, Result};

/// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 64-bit immediate load.
pub const LD_IMM64: u8 = 0x18;
/// The immediate libbpf puts in a poisoned call (`0xbad2310`, "bad relo").
pub const POISON_IMM: i32 = 0xbad2310;

/// One BPF instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// Destination register.
    pub dst_reg: u8,
    /// Source register.
    pub src_reg: u8,
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

    /// Decodes one instruction from 8 bytes.
    pub fn decode(b: [u8; 8], endian: Endian) -> Insn {
        let (dst_reg, src_reg, off, imm) = match endian {
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
            dst_reg,
            src_reg,
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
                b[1] = (self.dst_reg & 0x0f) | (self.src_reg << 4);
                b[2..4].copy_from_slice(&self.off.to_le_bytes());
                b[4..8].copy_from_slice(&self.imm.to_le_bytes());
            }
            Endian::Big => {
                b[1] = (self.dst_reg << 4) | (self.src_reg & 0x0f);
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
    insns.iter().flat_map(|i| i.encode(endian)).collect()
}
