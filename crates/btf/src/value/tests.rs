//! Decoding against bpftool's recorded map dumps
//! (fixtures/oracle/values/, scripts/record-value-oracle.sh), short
//! records, encoding.

use super::*;
use crate::write::Builder;
use crate::{Btf, Endian, IntEncoding, Kind, TypeId};

fn fixture(rel: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn hex_bytes(v: &serde_json::Value) -> Vec<u8> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| u8::from_str_radix(b.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
        .collect()
}

fn id_of(btf: &Btf<'_>, name: &str, kind: Kind) -> TypeId {
    btf.find_by_name_kind(name, kind)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn json(v: &Value) -> serde_json::Value {
    serde_json::from_str(&v.to_json()).unwrap_or_else(|e| panic!("{e}: {}", v.to_json()))
}

/// bpftool 7.1's JSON writer prints a backslash as `\n` (its `jsonw_puts`
/// bug); btfx writes `\\`. The recorded dump is read with that undone.
pub(crate) fn undo_backslash_bug(v: &mut serde_json::Value, raw: &[u8]) {
    if let serde_json::Value::String(s) = v {
        if s.contains('\n') && raw.contains(&b'\\') {
            *s = s.replace('\n', "\\");
        }
    }
    if let Some(o) = v.as_object_mut() {
        for x in o.values_mut() {
            undo_backslash_bug(x, raw);
        }
    }
}

#[test]
fn decodes_as_bpftool_map_dump() {
    let obj = fixture("fixtures/bpf/run/values.bpf.o");
    let btf = Btf::from_elf(&obj).unwrap();
    let u32_id = id_of(&btf, "__u32", Kind::Typedef);
    let u64_id = id_of(&btf, "__u64", Kind::Typedef);
    // The data sections' maps are checked in crates/loader/tests/
    // maps_runtime_values.rs: their DATASEC offsets are 0 in the object
    // until the loader fills them in (btffix), as libbpf does.
    let maps: [(&str, Option<TypeId>, TypeId); 3] = [
        ("shapes", Some(u32_id), id_of(&btf, "value", Kind::Struct)),
        ("by_key", Some(id_of(&btf, "key2", Kind::Struct)), u64_id),
        ("per_cpu", Some(u32_id), id_of(&btf, "inner", Kind::Struct)),
    ];
    let mut checked = 0;
    for (map, key_ty, val_ty) in maps {
        let text = fixture(&format!("fixtures/oracle/values/{map}.json"));
        let entries: Vec<serde_json::Value> = serde_json::from_slice(&text).unwrap();
        assert!(!entries.is_empty(), "{map}: no entries recorded");
        for e in entries {
            let f = &e["formatted"];
            let key = hex_bytes(&e["key"]);
            if let Some(k) = key_ty {
                let d = decode(&btf, k, &key).unwrap();
                assert!(d.is_complete());
                assert_eq!(json(&d.value), f["key"], "{map} key {key:?}");
            }
            if let Some(per_cpu) = e["values"].as_array() {
                for (i, slot) in per_cpu.iter().enumerate() {
                    let d = decode(&btf, val_ty, &hex_bytes(&slot["value"])).unwrap();
                    assert_eq!(json(&d.value), f["values"][i]["value"], "{map} cpu {i}");
                    checked += 1;
                }
                continue;
            }
            let raw = hex_bytes(&e["value"]);
            let d = decode(&btf, val_ty, &raw).unwrap();
            assert!(d.is_complete());
            let mut want = f["value"].clone();
            undo_backslash_bug(&mut want, &raw);
            assert_eq!(json(&d.value), want, "{map} key {key:?}");
            checked += 1;
        }
    }
    // 5 shapes, 3 by_key, 2x2 per-CPU slots.
    assert_eq!(checked, 12);
}

#[test]
fn short_records_keep_whole_fields() {
    let obj = fixture("fixtures/bpf/run/events.bpf.o");
    let btf = Btf::from_elf(&obj).unwrap();
    let ev = id_of(&btf, "event", Kind::Struct);
    let mut rec = Vec::new();
    rec.extend(7u32.to_le_bytes());
    rec.extend(8u32.to_le_bytes());
    rec.extend(4096u64.to_le_bytes());
    rec.extend(2u32.to_le_bytes());
    rec.extend(b"cat\0\0\0\0\0\0\0\0\0\0\0\0\0");
    rec.extend(4u32.to_le_bytes());
    rec.extend(b"tail");
    let d = decode(&btf, ev, &rec).unwrap();
    assert_eq!(d.size, 72);
    assert_eq!(d.len, 44);
    assert!(!d.is_complete());
    // The tail array holds 4 of its 32 chars: no NUL, so a list of them.
    assert_eq!(
        d.value.to_json(),
        r#"{"pid":7,"tid":8,"count":4096,"kind":"KIND_BIG_WRITE","comm":"cat","tail_len":4,"tail":[116,97,105,108]}"#
    );
    // Cut inside `comm`: the members before it only.
    let d = decode(&btf, ev, &rec[..22]).unwrap();
    assert_eq!(
        d.value.to_text(),
        "pid=7 tid=8 count=4096 kind=KIND_BIG_WRITE comm=[99,97]"
    );
    let d = decode(&btf, ev, &[]).unwrap();
    assert_eq!(d.value.to_json(), "{}");
}

#[test]
fn encodes_scalars_enums_strings() {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    let u8_ = b.int("unsigned char", 1, IntEncoding::None);
    let ch = b.int("char", 1, IntEncoding::Signed);
    let bo = b.int("_Bool", 1, IntEncoding::Bool);
    let name = b.array(ch, int, 8);
    let arr = b.array(int, int, 3);
    let color = b.enum_("color", 4, true, &[("RED", 1), ("BLUE", -3)]);
    let cint = b.reference(Kind::Const, "", int);
    let vint = b.reference(Kind::Volatile, "", cint);
    let st = b.struct_("s", 4, &[("x", int, 0, 0)]);
    let btf = Btf::parse(b.encode(Endian::Little)).unwrap();
    assert_eq!(encode(&btf, vint, "-2").unwrap(), (-2i32).to_le_bytes());
    assert_eq!(encode(&btf, int, "0x10").unwrap(), 16i32.to_le_bytes());
    assert!(encode(&btf, int, "2147483648").is_err());
    assert_eq!(encode(&btf, u8_, "255").unwrap(), [255]);
    let e = encode(&btf, u8_, "-1").unwrap_err();
    assert!(e.why.contains("does not fit"), "{e}");
    assert_eq!(encode(&btf, bo, "true").unwrap(), [1]);
    assert_eq!(encode(&btf, color, "BLUE").unwrap(), (-3i32).to_le_bytes());
    assert_eq!(encode(&btf, color, "1").unwrap(), 1i32.to_le_bytes());
    let e = encode(&btf, color, "GREEN").unwrap_err();
    assert!(e.why.contains("RED, BLUE"), "{e}");
    assert_eq!(encode(&btf, name, "bash").unwrap(), *b"bash\0\0\0\0");
    assert_eq!(encode(&btf, name, "\"a b\"").unwrap(), *b"a b\0\0\0\0\0");
    assert!(
        encode(&btf, name, "12345678").is_err(),
        "no room for the NUL"
    );
    let three: Vec<u8> = [1i32, -1, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(encode(&btf, arr, "[1,-1]").unwrap(), three);
    assert!(encode(&btf, st, "1").is_err());
    // Round trip through decode.
    let d = decode(&btf, color, &encode(&btf, color, "BLUE").unwrap()).unwrap();
    assert_eq!(d.value, Value::Enum("BLUE".into()));
}

#[test]
fn finds_globals_in_data_sections() {
    let obj = fixture("fixtures/bpf/run/values.bpf.o");
    let btf = Btf::from_elf(&obj).unwrap();
    let p = find_var(&btf, "ro_color");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].section, ".rodata");
    assert_eq!(p[0].size, 4);
    assert_eq!(
        encode(&btf, p[0].ty, "BLUE").unwrap(),
        (-3i32).to_le_bytes()
    );
    assert_eq!(find_var(&btf, "data_counter")[0].section, ".data");
    assert!(find_var(&btf, "nope").is_empty());
}

#[test]
fn big_endian_bitfields() {
    // struct { unsigned a:3, b:5; } in both byte orders: a is the first
    // bits in memory order of each.
    let mut b = Builder::new();
    let ui = b.int("unsigned int", 4, IntEncoding::None);
    let s = b.struct_("bf", 4, &[("a", ui, 0, 3), ("b", ui, 3, 5)]);
    for (endian, bytes) in [
        (Endian::Little, [0b1010_1101u8, 0, 0, 0]),
        (Endian::Big, [0b1011_0101u8, 0, 0, 0]),
    ] {
        let btf = Btf::parse(b.encode(endian)).unwrap();
        let d = decode(&btf, s, &bytes).unwrap();
        assert_eq!(d.value.to_json(), r#"{"a":"0x5","b":"0x15"}"#, "{endian:?}");
    }
}

#[test]
fn zero_sized_nests_stay_within_the_budget() {
    // struct e {}; struct b { struct e x[1 << 30]; }; and a struct of
    // 60,000 of those: billions of empty values if decoded naively.
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    let e = b.struct_("e", 0, &[]);
    let arr = b.array(e, int, 1 << 30);
    let inner = b.struct_("b", 0, &[("x", arr, 0, 0)]);
    let many: Vec<(&str, TypeId, u32, u32)> = (0..60_000).map(|_| ("m", inner, 0, 0)).collect();
    let outer = b.struct_("o", 0, &many);
    let btf = Btf::parse(b.encode(Endian::Little)).unwrap();
    let t = std::time::Instant::now();
    let d = decode(&btf, outer, &[]).unwrap();
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    assert!(d.value.to_json().len() < 10 << 20);
}

#[test]
fn encodes_structs_with_bitfields_and_nesting() {
    for endian in [Endian::Little, Endian::Big] {
        let mut b = Builder::new();
        let int = b.int("int", 4, IntEncoding::Signed);
        let ui = b.int("unsigned int", 4, IntEncoding::None);
        let ch = b.int("char", 1, IntEncoding::Signed);
        let name = b.array(ch, int, 8);
        let pair = b.struct_("pair", 8, &[("x", int, 0, 0), ("y", int, 32, 0)]);
        let pairs = b.array(pair, int, 2);
        let cfg = b.struct_(
            "cfg",
            36,
            &[
                ("a", ui, 0, 3),
                ("b", ui, 3, 5),
                ("s", int, 8, 7),
                ("name", name, 32, 0),
                ("pairs", pairs, 96, 0),
                ("last", int, 224, 0),
            ],
        );
        let btf = Btf::parse(b.encode(endian)).unwrap();
        let text = r#"{a=5, b=21, s=-3, name="a,b", pairs=[{x=1,y=-1},{y=7}], last=0x10}"#;
        let bytes = encode(&btf, cfg, text).unwrap();
        let d = decode(&btf, cfg, &bytes).unwrap();
        assert_eq!(
            d.value.to_json(),
            r#"{"a":"0x5","b":"0x15","s":"0x7d","name":"a,b","pairs":[{"x":1,"y":-1},{"x":0,"y":7}],"last":16}"#,
            "{endian:?}"
        );
        let e = encode(&btf, cfg, "{a=8}").unwrap_err();
        assert!(e.why.contains("3-bit field 'a'"), "{e}");
        let e = encode(&btf, cfg, "{s=-65}").unwrap_err();
        assert!(e.why.contains("7-bit field 's'"), "{e}");
        let e = encode(&btf, cfg, "{zz=1}").unwrap_err();
        assert!(e.why.contains("no member 'zz' in 'cfg'"), "{e}");
        assert!(encode(&btf, cfg, "5").is_err());
    }
}
