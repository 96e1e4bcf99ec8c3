//! Text to the bytes of a BTF type (`--set NAME=VALUE`), checked against it.

use crate::{Btf, Endian, IntEncoding, Kind, TypeId, MAX_DEPTH};

/// Text that does not fit the type it was given for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("type id {id} ({kind}): {why}")]
pub struct EncodeError {
    /// The type (after modifiers and typedefs) the text was for.
    pub id: TypeId,
    /// Its kind.
    pub kind: Kind,
    /// What is wrong.
    pub why: String,
}

/// Where a global variable lives: its data section, offset and size there,
/// and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarPlace {
    /// The DATASEC's name (`.rodata`, `.data`, `.bss`, `.rodata.str1.1`...).
    pub section: String,
    /// The DATASEC's type id.
    pub datasec: TypeId,
    /// The VAR's type id.
    pub var: TypeId,
    /// The variable's type.
    pub ty: TypeId,
    /// Byte offset in the section.
    pub offset: u32,
    /// Size in the section.
    pub size: u32,
}

/// Every DATASEC variable named `name` (usually one; a `static` in two
/// sections can give two).
pub fn find_var(btf: &Btf<'_>, name: &str) -> Vec<VarPlace> {
    let mut out = Vec::new();
    for t in btf.types() {
        if t.kind() != Kind::Datasec {
            continue;
        }
        for vs in t.datasec_vars() {
            let Ok(v) = btf.get(vs.ty) else { continue };
            if v.kind() == Kind::Var && btf.name(v.name_off()) == name {
                out.push(VarPlace {
                    section: btf.name(t.name_off()).to_string(),
                    datasec: t.id(),
                    var: vs.ty,
                    ty: v.type_ref(),
                    offset: vs.offset,
                    size: vs.size,
                });
            }
        }
    }
    out
}

/// The bytes of `text` as a value of type `id` (the type's size, the
/// BTF's byte order).
///
/// Accepted: integers in decimal, `0x` hex or `0b` binary (negative for
/// signed types), range-checked against the type's bits; `true`/`false`
/// for `bool`; an enumerator's name (or a number) for enums; a number for
/// pointers; a decimal for floats; a string (quotes optional) for a `char`
/// array, which must leave room for its NUL; `[a,b,...]` for other arrays
/// and `{member=value,...}` for structs and unions (bitfields included),
/// nested as deep as the types go (what is not given is zero).
pub fn encode(btf: &Btf<'_>, id: TypeId, text: &str) -> Result<Vec<u8>, EncodeError> {
    let t = resolved(btf, id)?;
    let size = btf.resolve_size(id).map_err(|e| err(&t, e.to_string()))?;
    if size > 1 << 20 {
        return Err(err(
            &t,
            format!("{size} bytes is too large to set from text"),
        ));
    }
    let mut out = vec![0u8; size as usize];
    encode_into(btf, id, text, &mut out)?;
    Ok(out)
}

fn resolved<'a>(btf: &'a Btf<'_>, id: TypeId) -> Result<crate::Type<'a>, EncodeError> {
    btf.skip_mods_and_typedefs(id).map_err(|e| EncodeError {
        id,
        kind: Kind::Void,
        why: e.to_string(),
    })
}

fn err(t: &crate::Type<'_>, why: impl Into<String>) -> EncodeError {
    EncodeError {
        id: t.id(),
        kind: t.kind(),
        why: why.into(),
    }
}

/// Writes `v`'s low `out.len()` bytes in `endian`.
fn put(out: &mut [u8], v: u128, endian: Endian) {
    let n = out.len().min(16);
    let le = v.to_le_bytes();
    for (i, o) in out.iter_mut().take(n).enumerate() {
        *o = match endian {
            Endian::Little => le[i],
            Endian::Big => le[n - 1 - i],
        };
    }
}

/// Parses an integer: optional `-`, then decimal, `0x` hex or `0b` binary.
fn parse_int(text: &str) -> Option<i128> {
    let s = text.trim().replace('_', "");
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s.strip_prefix('+').unwrap_or(&s).to_string()),
    };
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u128::from_str_radix(h, 16).ok()?
    } else if let Some(b) = s.strip_prefix("0b") {
        u128::from_str_radix(b, 2).ok()?
    } else {
        s.parse::<u128>().ok()?
    };
    let v = i128::try_from(v).ok()?;
    Some(if neg { -v } else { v })
}

/// Checks `v` fits `bits` bits (signed or not) and gives its two's
/// complement bits.
fn fit(v: i128, bits: u32, signed: bool) -> Option<u128> {
    if bits == 0 || bits > 128 {
        return None;
    }
    let ok = if signed {
        let lim = 1i128.checked_shl(bits - 1).unwrap_or(i128::MAX);
        bits == 128 || (v >= -lim && v < lim)
    } else {
        v >= 0 && (bits >= 127 || v < (1i128 << bits))
    };
    ok.then_some(v as u128)
}

/// [`encode`] into `out`, which must be the type's size.
pub fn encode_into(
    btf: &Btf<'_>,
    id: TypeId,
    text: &str,
    out: &mut [u8],
) -> Result<(), EncodeError> {
    encode_depth(btf, id, text, out, 0)
}

fn encode_depth(
    btf: &Btf<'_>,
    id: TypeId,
    text: &str,
    out: &mut [u8],
    depth: u32,
) -> Result<(), EncodeError> {
    let t = resolved(btf, id)?;
    if depth > MAX_DEPTH {
        return Err(err(&t, "types nest too deep"));
    }
    let size = btf.resolve_size(id).map_err(|e| err(&t, e.to_string()))?;
    if out.len() as u64 != size {
        return Err(err(
            &t,
            format!("{} bytes given for a {size}-byte type", out.len()),
        ));
    }
    let endian = btf.endian();
    let text = text.trim();
    match t.kind() {
        Kind::Int => {
            let info = t.int().ok_or_else(|| err(&t, "no INT record"))?;
            let bits = u32::from(info.bits);
            let v = match (info.encoding, text) {
                (IntEncoding::Bool, "true") => 1,
                (IntEncoding::Bool, "false") => 0,
                _ => {
                    parse_int(text).ok_or_else(|| err(&t, format!("'{text}' is not an integer")))?
                }
            };
            let signed = info.encoding == IntEncoding::Signed;
            let raw = fit(v, bits, signed).ok_or_else(|| {
                err(
                    &t,
                    format!(
                        "{v} does not fit in {} {bits}-bit integer '{}'",
                        if signed { "a signed" } else { "an unsigned" },
                        btf.name(t.name_off())
                    ),
                )
            })?;
            put(out, raw, endian);
            Ok(())
        }
        Kind::Ptr => {
            let v = parse_int(text)
                .and_then(|v| fit(v, out.len() as u32 * 8, false))
                .ok_or_else(|| err(&t, format!("'{text}' is not a pointer value")))?;
            put(out, v, endian);
            Ok(())
        }
        Kind::Enum | Kind::Enum64 => {
            let found = t
                .enum_values()
                .find(|e| btf.name(e.name_off) == text)
                .map(|e| i128::from(e.value as i64));
            let v = match found.or_else(|| parse_int(text)) {
                Some(v) => v,
                None => {
                    let names: Vec<&str> = t.enum_values().map(|e| btf.name(e.name_off)).collect();
                    return Err(err(
                        &t,
                        format!(
                            "'{text}' is not an enumerator of '{}' ({})",
                            btf.name(t.name_off()),
                            names.join(", ")
                        ),
                    ));
                }
            };
            let bits = out.len() as u32 * 8;
            // Either reading (signed or not) of the enum's bits is accepted.
            let raw = fit(v, bits, true)
                .or_else(|| fit(v, bits, false))
                .ok_or_else(|| err(&t, format!("{v} does not fit in {bits} bits")))?;
            put(out, raw, endian);
            Ok(())
        }
        Kind::Float => {
            let f: f64 = text
                .parse()
                .map_err(|_| err(&t, format!("'{text}' is not a number")))?;
            match out.len() {
                4 => put(out, u128::from((f as f32).to_bits()), endian),
                8 => put(out, u128::from(f.to_bits()), endian),
                n => return Err(err(&t, format!("{n}-byte floats are not supported"))),
            }
            Ok(())
        }
        Kind::Array => {
            let a = t.array().ok_or_else(|| err(&t, "no ARRAY record"))?;
            let e = btf
                .skip_mods_and_typedefs(a.elem)
                .map_err(|x| err(&t, x.to_string()))?;
            let is_char = e.kind() == Kind::Int && e.size() == 1 && !text.starts_with('[');
            if is_char {
                let s = text
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .unwrap_or(text);
                if s.len() >= out.len() {
                    return Err(err(
                        &t,
                        format!(
                            "string of {} bytes does not fit char[{}] with its NUL",
                            s.len(),
                            a.nelems
                        ),
                    ));
                }
                out.fill(0);
                if let Some(d) = out.get_mut(..s.len()) {
                    d.copy_from_slice(s.as_bytes());
                }
                return Ok(());
            }
            let inner = text
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .ok_or_else(|| err(&t, format!("'{text}' is not a list like [1,2,3]")))?;
            let items = split_top(inner);
            if items.len() > a.nelems as usize {
                return Err(err(
                    &t,
                    format!("{} items for {} elements", items.len(), a.nelems),
                ));
            }
            let esize = (out.len() as u64)
                .checked_div(u64::from(a.nelems))
                .unwrap_or(0) as usize;
            out.fill(0);
            for (item, chunk) in items.iter().zip(out.chunks_mut(esize.max(1))) {
                encode_depth(btf, a.elem, item, chunk, depth + 1)?;
            }
            Ok(())
        }
        Kind::Struct | Kind::Union => {
            let inner = text
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .ok_or_else(|| err(&t, format!("'{text}' is not a struct like {{a=1,b=[1,2]}}")))?;
            out.fill(0);
            for item in split_top(inner) {
                let (name, val) = item
                    .split_once('=')
                    .ok_or_else(|| err(&t, format!("'{item}': expected MEMBER=VALUE")))?;
                let name = name.trim();
                let m = t
                    .members()
                    .find(|m| !name.is_empty() && btf.name(m.name_off) == name)
                    .ok_or_else(|| {
                        let names: Vec<&str> = t.members().map(|m| btf.name(m.name_off)).collect();
                        err(
                            &t,
                            format!(
                                "no member '{name}' in '{}' ({})",
                                btf.name(t.name_off()),
                                names.join(", ")
                            ),
                        )
                    })?;
                encode_member(btf, &t, &m, val, out, depth)?;
            }
            Ok(())
        }
        k => Err(err(
            &t,
            format!("a {k} cannot be set from text; set a scalar, enum, string, array or struct"),
        )),
    }
}

/// Writes member `m` of struct `t` (a bitfield or a whole member) into
/// `out`, the struct's bytes.
fn encode_member(
    btf: &Btf<'_>,
    t: &crate::Type<'_>,
    m: &crate::Member,
    val: &str,
    out: &mut [u8],
    depth: u32,
) -> Result<(), EncodeError> {
    let size = btf.resolve_size(m.ty).map_err(|e| err(t, e.to_string()))?;
    let start = (m.bit_offset / 8) as usize;
    if m.bitfield_size == 0 {
        if !m.bit_offset.is_multiple_of(8) {
            return Err(err(t, "a member at a bit offset that is not a byte"));
        }
        let slot = usize::try_from(size)
            .ok()
            .and_then(|n| out.get_mut(start..start.checked_add(n)?))
            .ok_or_else(|| err(t, "a member outside the struct"))?;
        return encode_depth(btf, m.ty, val, slot, depth + 1);
    }
    // A bitfield: the value encoded as its whole type, then fitted into
    // the field's bits.
    let mut full = vec![0u8; usize::try_from(size).unwrap_or(0).min(16)];
    encode_depth(btf, m.ty, val, &mut full, depth + 1)?;
    let endian = btf.endian();
    let raw = read_uint(&full, endian);
    let bits = m.bitfield_size;
    let width = full.len() as u32 * 8;
    let signed = btf
        .skip_mods_and_typedefs(m.ty)
        .ok()
        .is_some_and(|x| x.int().is_some_and(|i| i.encoding == IntEncoding::Signed));
    let value = if signed && width > 0 && width < 128 {
        let shift = 128 - width;
        ((raw << shift) as i128) >> shift
    } else {
        raw as i128
    };
    let field = fit(value, bits, signed).ok_or_else(|| {
        err(
            t,
            format!(
                "{value} does not fit the {bits}-bit field '{}'",
                btf.name(m.name_off)
            ),
        )
    })?;
    let off = m.bit_offset % 8;
    let nbytes = (off + bits).div_ceil(8) as usize;
    let slot = out
        .get_mut(start..start + nbytes)
        .filter(|_| nbytes <= 16)
        .ok_or_else(|| err(t, "a bitfield outside the struct"))?;
    let mut word = read_uint(slot, endian);
    let mask = if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let shift = match endian {
        Endian::Little => off,
        Endian::Big => nbytes as u32 * 8 - off - bits,
    };
    word = (word & !(mask << shift)) | ((field & mask) << shift);
    put(slot, word, endian);
    Ok(())
}

/// `bytes` (at most 16) as an unsigned number in `endian`.
fn read_uint(bytes: &[u8], endian: Endian) -> u128 {
    let mut v = 0u128;
    let it: Box<dyn Iterator<Item = &u8>> = match endian {
        Endian::Little => Box::new(bytes.iter().rev()),
        Endian::Big => Box::new(bytes.iter()),
    };
    for &b in it.take(16) {
        v = (v << 8) | u128::from(b);
    }
    v
}

/// Splits `a, [b, c], {d=1, e="x,y"}, "s"` at its top-level commas.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in s.char_indices() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_and_fit() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("-0x10"), Some(-16));
        assert_eq!(parse_int("0b101"), Some(5));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("x"), None);
        assert_eq!(fit(255, 8, false), Some(255));
        assert_eq!(fit(256, 8, false), None);
        assert_eq!(fit(-1, 8, false), None);
        assert_eq!(fit(-128, 8, true), Some((-128i128) as u128));
        assert_eq!(fit(128, 8, true), None);
        assert_eq!(fit(u64::MAX as i128, 64, false), Some(u128::from(u64::MAX)));
        assert_eq!(
            split_top(r#"a=1, b=[1,2], c={d=1,e="x,y\"z"}, "s,t""#),
            ["a=1", "b=[1,2]", r#"c={d=1,e="x,y\"z"}"#, r#""s,t""#]
        );
    }
}
