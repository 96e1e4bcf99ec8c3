//! Bytes to [`Value`], by bpftool's `btf_dumper.c` rules.

use super::Value;
use crate::{Btf, Endian, Error, IntEncoding, Kind, Result, TypeId, MAX_DEPTH};

/// A decoded value and how much of its type the bytes held.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The value (of the fields held whole, when the bytes were short).
    pub value: Value,
    /// Size of the type in bytes.
    pub size: u64,
    /// Bytes given.
    pub len: usize,
}

impl Decoded {
    /// Whether the bytes held the whole type.
    pub fn is_complete(&self) -> bool {
        self.len as u64 >= self.size
    }
}

/// Decodes `data` as a value of type `id`, in the BTF's byte order.
///
/// Errors only for broken BTF (an id that does not resolve, a size that
/// overflows); short data is not an error (see [`Decoded::is_complete`]).
pub fn decode(btf: &Btf<'_>, id: TypeId, data: &[u8]) -> Result<Decoded> {
    decode_with(btf, id, data, btf.endian())
}

/// [`decode`] with the byte order of the data given (a big-endian object's
/// BTF describing data of this machine, say).
pub fn decode_with(btf: &Btf<'_>, id: TypeId, data: &[u8], endian: Endian) -> Result<Decoded> {
    let size = btf.resolve_size(id).unwrap_or(0);
    // Every value decoded costs one unit: zero-sized members and elements
    // (empty structs, arrays of them) could otherwise make a small input
    // decode into an enormous tree.
    let budget = (data.len() as u64).saturating_mul(4).max(1 << 16);
    let d = Decoder {
        btf,
        endian,
        budget: std::cell::Cell::new(budget),
    };
    let value = d
        .value(id, 0, data, 0)?
        .unwrap_or(Value::Struct(Vec::new()));
    Ok(Decoded {
        value,
        size,
        len: data.len(),
    })
}

struct Decoder<'b, 'd> {
    btf: &'b Btf<'d>,
    endian: Endian,
    /// Values left to decode; when it runs out, the rest counts as not
    /// held (the value is cut short, as for short data).
    budget: std::cell::Cell<u64>,
}

/// The bytes `data[off..off + n]`, if all are there.
fn take(data: &[u8], off: u64, n: u64) -> Option<&[u8]> {
    let start = usize::try_from(off).ok()?;
    let end = usize::try_from(off.checked_add(n)?).ok()?;
    data.get(start..end)
}

impl Decoder<'_, '_> {
    /// Reads `bytes` (at most 16) as an unsigned number in the data's order.
    fn uint(&self, bytes: &[u8]) -> u128 {
        let mut v = 0u128;
        match self.endian {
            Endian::Little => {
                for &b in bytes.iter().rev().take(16) {
                    v = (v << 8) | u128::from(b);
                }
            }
            Endian::Big => {
                for &b in bytes.iter().take(16) {
                    v = (v << 8) | u128::from(b);
                }
            }
        }
        v
    }

    /// Bits `[bit_off, bit_off + nr_bits)` of the bytes at `data`, counted
    /// as the compiler lays out bitfields in this byte order (bpftool's
    /// `btf_dumper_bitfield`). `None` when the bytes are not all there.
    fn bits(&self, data: &[u8], bit_off: u32, nr_bits: u32) -> Option<u128> {
        if nr_bits == 0 || nr_bits > 128 {
            return Some(0);
        }
        let total = bit_off + nr_bits;
        let nbytes = total.div_ceil(8);
        if nbytes > 16 {
            return None;
        }
        let bytes = data.get(..nbytes as usize)?;
        let raw = self.uint(bytes);
        let mask = if nr_bits == 128 {
            u128::MAX
        } else {
            (1u128 << nr_bits) - 1
        };
        Some(match self.endian {
            Endian::Little => (raw >> bit_off) & mask,
            Endian::Big => (raw >> (nbytes * 8 - total)) & mask,
        })
    }

    /// The value of type `id` at the start of `data`; `bit_off` (0-7) is a
    /// non-bitfield member's offset within its first byte. `None` when the
    /// data does not hold it whole (composites: what they hold).
    fn value(&self, id: TypeId, bit_off: u32, data: &[u8], depth: u32) -> Result<Option<Value>> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep {
                id,
                depth: MAX_DEPTH,
            });
        }
        let left = self.budget.get();
        if left == 0 {
            return Ok(None);
        }
        self.budget.set(left - 1);
        if id.0 == 0 {
            return Ok(Some(Value::Marker("(unknown)")));
        }
        let t = self.btf.get(id)?;
        match t.kind() {
            Kind::Int => Ok(self.int(&t, bit_off, data)),
            Kind::Ptr => {
                let n = u64::from(self.btf.pointer_size());
                Ok(take(data, 0, n).map(|b| Value::Ptr(self.uint(b) as u64)))
            }
            Kind::Float => Ok(match t.size() {
                4 => take(data, 0, 4)
                    .map(|b| Value::Float(f64::from(f32::from_bits(self.uint(b) as u32)))),
                8 => take(data, 0, 8).map(|b| Value::Float(f64::from_bits(self.uint(b) as u64))),
                _ => Some(Value::Marker("(unsupported-kind)")),
            }),
            Kind::Enum | Kind::Enum64 => Ok(self.enumeration(&t, data)),
            Kind::Array => self.array(&t, data, depth),
            Kind::Struct | Kind::Union => self.composite(&t, data, depth),
            Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::TypeTag
            | Kind::DeclTag => self.value(t.type_ref(), bit_off, data, depth + 1),
            Kind::Var => {
                let name = self.btf.name(t.name_off()).to_string();
                Ok(self
                    .value(t.type_ref(), bit_off, data, depth + 1)?
                    .map(|v| Value::Var(name, Box::new(v))))
            }
            Kind::Datasec => {
                let mut vars = Vec::new();
                for vs in t.datasec_vars() {
                    let Some(at) = data.get(vs.offset as usize..) else {
                        break;
                    };
                    // A variable the section does not hold whole ends it.
                    if (at.len() as u64) < u64::from(vs.size) {
                        break;
                    }
                    match self.value(vs.ty, 0, at, depth + 1)? {
                        Some(v) => vars.push(v),
                        None => break,
                    }
                }
                Ok(Some(Value::Section(
                    self.btf.name(t.name_off()).to_string(),
                    vars,
                )))
            }
            Kind::Fwd => Ok(Some(Value::Marker("(fwd-kind-invalid)"))),
            _ => Ok(Some(Value::Marker("(unsupported-kind)"))),
        }
    }

    fn int(&self, t: &crate::Type<'_>, bit_off: u32, data: &[u8]) -> Option<Value> {
        let info = t.int()?;
        let nr = u32::from(info.bits);
        let total_off = bit_off + u32::from(info.offset);
        if total_off != 0 || nr % 8 != 0 {
            let at = data.get((total_off / 8) as usize..)?;
            return self.bits(at, total_off % 8, nr).map(Value::Bits);
        }
        if nr == 128 {
            return take(data, 0, 16).map(|b| Value::Bits(self.uint(b)));
        }
        let raw = self.uint(take(data, 0, u64::from(nr / 8))?);
        Some(match info.encoding {
            IntEncoding::Bool => Value::Bool(raw & 0xff != 0),
            IntEncoding::Char => Value::Char(raw as u8),
            IntEncoding::Signed => match nr {
                8 => Value::Int(i64::from(raw as u8 as i8)),
                16 => Value::Int(i64::from(raw as u16 as i16)),
                32 => Value::Int(i64::from(raw as u32 as i32)),
                64 => Value::Int(raw as u64 as i64),
                _ => Value::Bits(raw),
            },
            _ => match nr {
                8 | 16 | 32 | 64 => Value::Uint(raw as u64),
                _ => Value::Bits(raw),
            },
        })
    }

    fn enumeration(&self, t: &crate::Type<'_>, data: &[u8]) -> Option<Value> {
        let size = t.size();
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Some(Value::Marker("(unsupported-kind)"));
        }
        let raw = self.uint(take(data, 0, u64::from(size))?) as u64;
        // bpftool reads the data sign-extended from the enum's size and
        // compares it with each 32-bit enumerator sign-extended (ENUM), or
        // with the whole 64-bit value (ENUM64); with no match, it prints
        // the sign-extended number.
        let shift = 64 - size * 8;
        let value = ((raw << shift) as i64) >> shift;
        let is64 = t.kind() == Kind::Enum64;
        for e in t.enum_values() {
            let want = if is64 {
                e.value as i64
            } else {
                i64::from(e.value as u32 as i32)
            };
            if want == value {
                return Some(Value::Enum(self.btf.name(e.name_off).to_string()));
            }
        }
        Some(Value::Int(value))
    }

    fn array(&self, t: &crate::Type<'_>, data: &[u8], depth: u32) -> Result<Option<Value>> {
        let Some(a) = t.array() else {
            return Ok(None);
        };
        if let Some(s) = self.string(a.elem, a.nelems, data)? {
            return Ok(Some(Value::Str(s)));
        }
        let esize = self.btf.resolve_size(a.elem)?;
        let mut out = Vec::new();
        for i in 0..u64::from(a.nelems) {
            let off = i.saturating_mul(esize);
            let Some(at) = usize::try_from(off).ok().and_then(|o| data.get(o..)) else {
                break;
            };
            if (at.len() as u64) < esize {
                // A partial last element: a composite shows what it holds.
                if let Some(v) = self.partial(a.elem, at, depth)? {
                    out.push(v);
                }
                break;
            }
            match self.value(a.elem, 0, at, depth + 1)? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Some(Value::Array(out)))
    }

    /// bpftool's `is_str_array`: an array of a 1-byte `char` (named `char`
    /// or of CHAR encoding; modifiers skipped, typedefs not) whose bytes
    /// reach a NUL before any byte outside 0x20..0x7e.
    fn string(&self, elem: TypeId, nelems: u32, data: &[u8]) -> Result<Option<String>> {
        if nelems == 0 {
            return Ok(None);
        }
        let e = self.btf.skip_mods(elem)?;
        let is_char = e.kind() == Kind::Int
            && e.size() == 1
            && e.int().is_some_and(|i| i.encoding == IntEncoding::Char)
            || (e.kind() == Kind::Int && e.size() == 1 && self.btf.name(e.name_off()) == "char");
        if !is_char {
            return Ok(None);
        }
        let held = data
            .get(..(nelems as usize).min(data.len()))
            .unwrap_or_default();
        for (i, &b) in held.iter().enumerate() {
            if b == 0 {
                let s = held.get(..i).unwrap_or_default();
                return Ok(Some(String::from_utf8_lossy(s).into_owned()));
            }
            if !(0x20..0x7f).contains(&b) {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// What a composite (struct, union, array) holds of itself when the
    /// data ends inside it; `None` for other kinds.
    fn partial(&self, id: TypeId, data: &[u8], depth: u32) -> Result<Option<Value>> {
        let t = self.btf.skip_mods_and_typedefs(id)?;
        match t.kind() {
            Kind::Struct | Kind::Union => self.composite(&t, data, depth + 1),
            Kind::Array => self.array(&t, data, depth + 1),
            _ => Ok(None),
        }
    }

    fn composite(&self, t: &crate::Type<'_>, data: &[u8], depth: u32) -> Result<Option<Value>> {
        let mut out = Vec::new();
        for m in t.members() {
            let name = self.btf.name(m.name_off).to_string();
            let byte = (m.bit_offset / 8) as usize;
            let Some(at) = data.get(byte..) else {
                break;
            };
            if m.bitfield_size != 0 {
                match self.bits(at, m.bit_offset % 8, m.bitfield_size) {
                    Some(v) => out.push((name, Value::Bits(v))),
                    None => break,
                }
                continue;
            }
            let size = self.btf.resolve_size(m.ty)?;
            if (at.len() as u64) < size {
                if let Some(v) = self.partial(m.ty, at, depth)? {
                    out.push((name, v));
                }
                break;
            }
            match self.value(m.ty, m.bit_offset % 8, at, depth + 1)? {
                Some(v) => out.push((name, v)),
                None => break,
            }
        }
        Ok(Some(Value::Struct(out)))
    }
}
