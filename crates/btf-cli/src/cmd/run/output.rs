//! The lines `btfx run` prints: text for people, or JSON lines each with a
//! `"type"` (`attach`, `event`, `printk`, `lost`, `map`, `exit`).

use std::io::Write;

use btf::value::{self, Value};
use btf::{Btf, TypeId};
use serde_json::{json, Map as JsonMap, Value as Json};

/// Where lines go, and in which form.
pub struct Out {
    json: bool,
    w: std::io::BufWriter<std::io::Stdout>,
    /// A write failed (closed pipe...): stop running.
    pub broken: bool,
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// A value's JSON (as bpftool formats it) as a serde value.
fn value_json(v: &Value) -> Json {
    serde_json::from_str(&v.to_json()).unwrap_or(Json::Null)
}

impl Out {
    /// Output on stdout, JSON lines when `json`.
    pub fn new(json: bool) -> Out {
        Out {
            json,
            w: std::io::BufWriter::new(std::io::stdout()),
            broken: false,
        }
    }

    fn line(&mut self, text: impl FnOnce() -> String, js: impl FnOnce() -> Json) {
        let s = if self.json {
            serde_json::to_string(&js()).unwrap_or_default()
        } else {
            text()
        };
        if writeln!(self.w, "{s}").is_err() {
            self.broken = true;
        }
    }

    /// Sends what is buffered.
    pub fn flush(&mut self) {
        if self.w.flush().is_err() {
            self.broken = true;
        }
    }

    /// A program attached, or not (and why).
    pub fn attach(&mut self, prog: &str, section: &str, error: Option<&str>) {
        self.line(
            || match error {
                None => format!("attach {prog} ({section}): ok"),
                Some(e) => format!("attach {prog} ({section}): FAILED: {e}"),
            },
            || {
                let mut o = json!({"type": "attach", "program": prog, "section": section, "ok": error.is_none()});
                if let Some(e) = error {
                    o["error"] = json!(e);
                }
                o
            },
        );
    }

    /// A ring or perf buffer record, decoded by `ty` when given.
    pub fn event(
        &mut self,
        map: &str,
        cpu: Option<u32>,
        data: &[u8],
        ty: Option<(&Btf<'_>, TypeId)>,
    ) {
        let decoded = ty.and_then(|(btf, id)| value::decode(btf, id, data).ok());
        let place = match cpu {
            Some(c) => format!("{map}[cpu {c}]"),
            None => map.to_string(),
        };
        self.line(
            || match &decoded {
                Some(d) if d.is_complete() => format!("{place}: {}", d.value.to_text()),
                Some(d) => format!(
                    "{place}: {} ({} of {} bytes)",
                    d.value.to_text(),
                    d.len,
                    d.size
                ),
                None => format!("{place}: {} bytes: {}", data.len(), hex(data)),
            },
            || {
                let mut o = json!({"type": "event", "map": map, "size": data.len()});
                if let Some(c) = cpu {
                    o["cpu"] = json!(c);
                }
                match &decoded {
                    Some(d) => {
                        o["value"] = value_json(&d.value);
                        if !d.is_complete() {
                            o["type_size"] = json!(d.size);
                        }
                    }
                    None => o["hex"] = json!(hex(data)),
                }
                o
            },
        );
    }

    /// A `bpf_printk` line from the trace pipe.
    pub fn printk(&mut self, line: &str, text: &str) {
        self.line(
            || format!("printk: {text}"),
            || json!({"type": "printk", "text": text, "line": line}),
        );
    }

    /// Samples a perf buffer lost.
    pub fn lost(&mut self, map: &str, cpu: u32, count: u64) {
        self.line(
            || format!("{map}[cpu {cpu}]: lost {count} samples"),
            || json!({"type": "lost", "map": map, "cpu": cpu, "count": count}),
        );
    }

    /// A map's entries at the end.
    pub fn map(&mut self, name: &str, entries: &[MapEntry], error: Option<&str>) {
        self.line(
            || {
                let mut s = format!("map {name}: {} entries", entries.len());
                if let Some(e) = error {
                    s.push_str(&format!(" (error: {e})"));
                }
                for e in entries {
                    s.push_str("\n  ");
                    if let Some(k) = &e.key {
                        s.push_str(&text_of(k));
                        s.push_str(" => ");
                    }
                    match &e.value {
                        EntryValue::One(v) => s.push_str(&text_of(v)),
                        EntryValue::PerCpu(vs) => {
                            for (i, v) in vs.iter().enumerate() {
                                s.push_str(&format!("[cpu {i}] {} ", text_of(v)));
                            }
                        }
                    }
                }
                s
            },
            || {
                let list: Vec<Json> = entries
                    .iter()
                    .map(|e| {
                        let mut o = JsonMap::new();
                        if let Some(k) = &e.key {
                            o.insert("key".into(), json_of(k));
                        }
                        match &e.value {
                            EntryValue::One(v) => {
                                o.insert("value".into(), json_of(v));
                            }
                            EntryValue::PerCpu(vs) => {
                                let per: Vec<Json> = vs
                                    .iter()
                                    .enumerate()
                                    .map(|(i, v)| json!({"cpu": i, "value": json_of(v)}))
                                    .collect();
                                o.insert("values".into(), Json::Array(per));
                            }
                        }
                        Json::Object(o)
                    })
                    .collect();
                let mut o = json!({"type": "map", "name": name, "entries": list});
                if let Some(e) = error {
                    o["error"] = json!(e);
                }
                o
            },
        );
    }

    /// Why the run ended.
    pub fn exit(&mut self, reason: &str, events: u64) {
        self.line(
            || format!("exit: {reason} ({events} events)"),
            || json!({"type": "exit", "reason": reason, "events": events}),
        );
    }
}

/// A key or value: decoded, or raw bytes when the map has no BTF for it.
pub enum Datum {
    /// Decoded by BTF.
    Decoded(Value),
    /// Raw bytes.
    Raw(Vec<u8>),
}

fn text_of(d: &Datum) -> String {
    match d {
        Datum::Decoded(v) => v.to_text(),
        Datum::Raw(b) => hex(b),
    }
}

fn json_of(d: &Datum) -> Json {
    match d {
        Datum::Decoded(v) => value_json(v),
        Datum::Raw(b) => Json::Array(b.iter().map(|x| json!(format!("{x:#04x}"))).collect()),
    }
}

/// A value, or one per CPU.
pub enum EntryValue {
    /// One value.
    One(Datum),
    /// Per-CPU values, CPU 0 first.
    PerCpu(Vec<Datum>),
}

/// One map entry.
pub struct MapEntry {
    /// The key (`None` for global data sections, as bpftool omits it).
    pub key: Option<Datum>,
    /// The value.
    pub value: EntryValue,
}
