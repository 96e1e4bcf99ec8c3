//! Eight-byte BPF instructions, decoded with the object's byte order.

use btf::Endian;

/// Size of one BPF instruction in bytes.
pub const INSN_SIZE: usize = 8;

/// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 16-byte `ld_imm64`.
pub const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`: helper call, bpf-to-bpf call or kfunc call.
pub const CALL: u8 = 0x85;
/// `BPF_JMP | BPF_EXIT`.
pub const EXIT: u8 = 0x95;
/// `src_reg` of a call to another BPF function (bpf-to-bpf call).
pub const PSEUDO_CALL: u8 = 1;
/// `src_reg` of a call to a kernel function (kfunc).
pub const PSEUDO_KFUNC_CALL: u8 = 2;
/// `src_reg` of an `ld_imm64` whose imm is a map fd.
pub const PSEUDO_MAP_FD: u8 = 1;
/// `src_reg` of an `ld_imm64` whose imm is a map fd and imm of the second half an offset in its value.
pub const PSEUDO_MAP_VALUE: u8 = 2;
/// `src_reg` of an `ld_imm64` whose imm is a BTF id of a kernel variable.
pub const PSEUDO_BTF_ID: u8 = 3;
/// `src_reg` of an `ld_imm64` loading the address of a BPF function.
pub const PSEUDO_FUNC: u8 = 4;

/// One BPF instruction (`struct bpf_insn`), fields already decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// Destination register (0..=10).
    pub dst: u8,
    /// Source register, or a pseudo value for calls and `ld_imm64`.
    pub src: u8,
    /// Signed 16-bit offset.
    pub off: i16,
    /// Signed 32-bit immediate.
    pub imm: i32,
}

impl Insn {
    /// Decodes one instruction from eight bytes in `endian` byte order.
    ///
    /// In big-endian objects the register nibbles are swapped as well
    /// (`dst_reg` is the high nibble), as the C bitfield layout dictates.
    pub fn decode(raw: [u8; 8], endian: Endian) -> Insn {
        let regs = raw[1];
        let (dst, src) = match endian {
            Endian::Little => (regs & 0xf, regs >> 4),
            Endian::Big => (regs >> 4, regs & 0xf),
        };
        let off = [raw[2], raw[3]];
        let imm = [raw[4], raw[5], raw[6], raw[7]];
        let (off, imm) = match endian {
            Endian::Little => (i16::from_le_bytes(off), i32::from_le_bytes(imm)),
            Endian::Big => (i16::from_be_bytes(off), i32::from_be_bytes(imm)),
        };
        Insn {
            code: raw[0],
            dst,
            src,
            off,
            imm,
        }
    }

    /// Encodes the instruction in `endian` byte order (the kernel wants the
    /// machine's own, [`Endian::NATIVE`]).
    pub fn encode(&self, endian: Endian) -> [u8; 8] {
        let regs = match endian {
            Endian::Little => (self.dst & 0xf) | (self.src << 4),
            Endian::Big => (self.dst << 4) | (self.src & 0xf),
        };
        let (off, imm) = match endian {
            Endian::Little => (self.off.to_le_bytes(), self.imm.to_le_bytes()),
            Endian::Big => (self.off.to_be_bytes(), self.imm.to_be_bytes()),
        };
        [
            self.code, regs, off[0], off[1], imm[0], imm[1], imm[2], imm[3],
        ]
    }

    /// Decodes a whole instruction stream; trailing bytes that do not make a
    /// full instruction are ignored (callers check the length first).
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
        let mut out = Vec::with_capacity(insns.len().saturating_mul(INSN_SIZE));
        for i in insns {
            out.extend_from_slice(&i.encode(endian));
        }
        out
    }

    /// True for the first half of an `ld_imm64` (which spans two slots).
    pub fn is_ld_imm64(&self) -> bool {
        self.code == LD_IMM64
    }

    /// True for a bpf-to-bpf call (`call` with `src_reg == BPF_PSEUDO_CALL`).
    pub fn is_pseudo_call(&self) -> bool {
        self.code == CALL && self.src == PSEUDO_CALL
    }

    /// True for an `ld_imm64` of a function address (`BPF_PSEUDO_FUNC`).
    pub fn is_pseudo_func(&self) -> bool {
        self.code == LD_IMM64 && self.src == PSEUDO_FUNC
    }
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
