//! Values of BTF types: bytes decoded into a tree, rendered as `bpftool`
//! renders map contents, and text encoded back into bytes.
//!
//! [`decode`] follows bpftool's `btf_dumper.c` (what `bpftool map dump`
//! prints under `"formatted"`): integers as numbers (bitfields, integers of
//! odd widths and 128-bit integers as `"0x..."` strings), `bool` as a JSON
//! boolean, arrays of `char` that hold a NUL-terminated printable string as
//! that string, other arrays as lists, structs and unions as objects keyed
//! by member name, enums by enumerator name (the number when no name
//! matches), pointers as unsigned numbers, VARs as `{name: value}` and
//! DATASECs as `{section: [vars...]}`. [`Value::to_json`] writes that JSON;
//! [`Value::to_text`] a one-line `field=value` form for people (pointers in
//! hex there). One difference from bpftool 7.1 on purpose: a FLOAT is
//! decoded as a number, where bpftool prints `(unsupported-kind)` and stops.
//!
//! Bytes shorter than the type are decoded as far as they hold whole
//! fields ([`Decoded::is_complete`] tells): ring-buffer records often end
//! with a variable-length tail.
//!
//! [`encode`] turns text (`42`, `-1`, `0x10`, `true`, an enumerator's name,
//! a string for a `char` array) into the bytes of a type, checked against
//! it; [`find_var`] finds a global variable in the object's data sections.
//!
//! ```
//! use btf::{write::Builder, Btf, Endian, IntEncoding, Kind, value};
//!
//! let mut b = Builder::new();
//! let int = b.int("int", 4, IntEncoding::Signed);
//! let ch = b.int("char", 1, IntEncoding::Signed);
//! let comm = b.array(ch, int, 8);
//! let ev = b.struct_("event", 12, &[("pid", int, 0, 0), ("comm", comm, 32, 0)]);
//! let btf = Btf::parse(b.encode(Endian::Little))?;
//!
//! let mut bytes = value::encode(&btf, int, "-7").unwrap();
//! bytes.extend(value::encode(&btf, comm, "bash").unwrap());
//! let d = value::decode(&btf, ev, &bytes)?;
//! assert_eq!(d.value.to_json(), r#"{"pid":-7,"comm":"bash"}"#);
//! assert_eq!(d.value.to_text(), r#"pid=-7 comm="bash""#);
//! # Ok::<(), btf::Error>(())
//! ```

mod decode;
mod encode;
mod render;

pub use decode::{decode, decode_with, Decoded};
pub use encode::{encode, encode_into, find_var, EncodeError, VarPlace};

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An unsigned integer of 8, 16, 32 or 64 bits.
    Uint(u64),
    /// A signed integer of 8, 16, 32 or 64 bits.
    Int(i64),
    /// A `bool` (BTF_INT_BOOL).
    Bool(bool),
    /// A character (BTF_INT_CHAR encoding).
    Char(u8),
    /// A bitfield, an integer of another width, or a 128-bit integer:
    /// bpftool prints these as hex strings.
    Bits(u128),
    /// A `char` array holding a NUL-terminated printable string.
    Str(String),
    /// An enumerator's name.
    Enum(String),
    /// A pointer's value.
    Ptr(u64),
    /// A floating-point number (FLOAT of 4 or 8 bytes).
    Float(f64),
    /// Array elements.
    Array(Vec<Value>),
    /// Struct or union members, in order (anonymous members have an empty
    /// name, as bpftool prints them).
    Struct(Vec<(String, Value)>),
    /// A VAR: its name and value.
    Var(String, Box<Value>),
    /// A DATASEC: its name and its variables.
    Section(String, Vec<Value>),
    /// A kind bpftool prints as a marker: `(unknown)` for void,
    /// `(fwd-kind-invalid)`, `(unsupported-kind)`.
    Marker(&'static str),
}

impl Value {
    /// The member named `name` of a struct value (the first one).
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(m) => m.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            Value::Var(_, v) => v.field(name),
            _ => None,
        }
    }

    /// The value as an unsigned number, where it is an integer or pointer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Uint(v) | Value::Ptr(v) => Some(v),
            Value::Int(v) => u64::try_from(v).ok(),
            Value::Bits(v) => u64::try_from(v).ok(),
            Value::Char(c) => Some(u64::from(c)),
            Value::Bool(b) => Some(u64::from(b)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
