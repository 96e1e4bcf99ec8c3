//! [`Value`] as bpftool's BTF-formatted JSON, and as one line of text.

use std::fmt::Write as _;

use super::Value;

/// A JSON string literal (quotes, backslash and control characters
/// escaped; bpftool escapes the same characters, and others never reach it
/// from a string array, which is printable by definition).
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as JSON (non-finite values have no JSON number: strings).
fn json_float(out: &mut String, f: f64) {
    if f.is_finite() {
        let _ = write!(out, "{f:?}");
    } else {
        json_str(out, &f.to_string());
    }
}

impl Value {
    /// The value as bpftool prints it under `"formatted"` in
    /// `bpftool -j map dump` (compact JSON).
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    /// Appends [`Value::to_json`] to `out`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Uint(v) | Value::Ptr(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Char(c) => {
                // bpftool: the character when printable, else "\u00XX".
                if (0x20..0x7f).contains(c) {
                    json_str(out, &char::from(*c).to_string());
                } else {
                    let _ = write!(out, "\"\\u00{c:02x}\"");
                }
            }
            Value::Bits(v) => {
                let _ = write!(out, "\"{v:#x}\"");
            }
            Value::Str(s) | Value::Enum(s) => json_str(out, s),
            Value::Float(f) => json_float(out, *f),
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            Value::Struct(members) => {
                out.push('{');
                for (i, (n, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_str(out, n);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
            Value::Var(n, v) => {
                out.push('{');
                json_str(out, n);
                out.push(':');
                v.write_json(out);
                out.push('}');
            }
            Value::Section(n, vars) => {
                out.push('{');
                json_str(out, n);
                out.push_str(":[");
                for (i, v) in vars.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push_str("]}");
            }
            Value::Marker(m) => json_str(out, m),
        }
    }

    /// One line for people: a struct's members as `name=value` separated by
    /// spaces, nested structs in braces, arrays in brackets, strings quoted,
    /// pointers and bitfields in hex.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        match self {
            Value::Struct(members) => text_members(&mut s, members),
            Value::Var(n, v) => {
                s.push_str(n);
                s.push('=');
                v.write_text(&mut s);
            }
            Value::Section(_, vars) => {
                for (i, v) in vars.iter().enumerate() {
                    if i > 0 {
                        s.push(' ');
                    }
                    if let Value::Var(n, v) = v {
                        s.push_str(n);
                        s.push('=');
                        v.write_text(&mut s);
                    } else {
                        v.write_text(&mut s);
                    }
                }
            }
            v => v.write_text(&mut s),
        }
        s
    }

    fn write_text(&self, out: &mut String) {
        match self {
            Value::Uint(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Ptr(v) => {
                let _ = write!(out, "{v:#x}");
            }
            Value::Bits(v) => {
                let _ = write!(out, "{v:#x}");
            }
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Char(c) => {
                if (0x20..0x7f).contains(c) {
                    let _ = write!(out, "'{}'", char::from(*c));
                } else {
                    let _ = write!(out, "'\\x{c:02x}'");
                }
            }
            Value::Str(s) => json_str(out, s),
            Value::Enum(s) => out.push_str(s),
            Value::Float(f) => {
                let _ = write!(out, "{f}");
            }
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_text(out);
                }
                out.push(']');
            }
            Value::Struct(members) => {
                out.push('{');
                text_members(out, members);
                out.push('}');
            }
            Value::Var(n, v) => {
                out.push('{');
                out.push_str(n);
                out.push('=');
                v.write_text(out);
                out.push('}');
            }
            Value::Section(n, vars) => {
                out.push_str(n);
                out.push('{');
                for (i, v) in vars.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_text(out);
                }
                out.push('}');
            }
            Value::Marker(m) => out.push_str(m),
        }
    }
}

fn text_members(out: &mut String, members: &[(String, Value)]) {
    for (i, (n, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if !n.is_empty() {
            out.push_str(n);
            out.push('=');
        }
        v.write_text(out);
    }
}
