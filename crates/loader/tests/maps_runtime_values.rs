//! Map values decoded by BTF (btf::value) against bpftool's recorded
//! `bpftool -j map dump` of fixtures/bpf/run/values.bpf.o's maps
//! (fixtures/oracle/values/, scripts/record-value-oracle.sh): offline, the
//! recorded raw bytes decoded with the BTF the loader hands the kernel
//! (DATASEC sizes and offsets filled in, as libbpf does), then the same
//! maps loaded and filled by btfx, dumped back and compared (kernel).

use btf::{value, Btf, Kind, TypeId};
use loader::btffix::{self, BtfFeatures};
use loader::map_ops::{Map, UpdateFlags};
use loader::object::Object;
use loader::sys::{self, Census};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hex_bytes(v: &serde_json::Value) -> Vec<u8> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| u8::from_str_radix(b.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
        .collect()
}

fn recorded(map: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read(root().join(format!("fixtures/oracle/values/{map}.json"))).unwrap();
    serde_json::from_slice(&text).unwrap()
}

/// The object's BTF as the loader sends it to the kernel.
fn fixed_btf(elf: &[u8]) -> Vec<u8> {
    let obj = Object::parse(elf).unwrap();
    let local = Btf::parse(obj.btf().unwrap()).unwrap();
    let externs = loader::externs::collect(&obj, Some(&local)).unwrap();
    btffix::fixup(&obj, &local, &externs, BtfFeatures::ALL).unwrap()
}

fn to_json(v: &value::Value) -> serde_json::Value {
    serde_json::from_str(&v.to_json()).unwrap()
}

/// Map name -> (key type, value type) in the fixture.
fn types(btf: &Btf<'_>) -> Vec<(&'static str, Option<TypeId>, TypeId)> {
    let id = |n: &str, k: Kind| btf.find_by_name_kind(n, k).unwrap();
    vec![
        (
            "shapes",
            Some(id("__u32", Kind::Typedef)),
            id("value", Kind::Struct),
        ),
        (
            "by_key",
            Some(id("key2", Kind::Struct)),
            id("__u64", Kind::Typedef),
        ),
        (
            "per_cpu",
            Some(id("__u32", Kind::Typedef)),
            id("inner", Kind::Struct),
        ),
        ("values_rodata", None, id(".rodata", Kind::Datasec)),
        ("values_data", None, id(".data", Kind::Datasec)),
        ("values_bss", None, id(".bss", Kind::Datasec)),
    ]
}

/// bpftool 7.1's JSON writer prints a backslash as `\n`; btfx prints `\\`.
fn undo_backslash_bug(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s == "q\"uo\nte" => *s = "q\"uo\\te".into(),
        serde_json::Value::Object(o) => o.values_mut().for_each(undo_backslash_bug),
        _ => {}
    }
}

#[test]
fn recorded_bytes_decode_as_bpftool_formatted_them() {
    let elf = std::fs::read(root().join("fixtures/bpf/run/values.bpf.o")).unwrap();
    let fixed = fixed_btf(&elf);
    let btf = Btf::parse(&fixed[..]).unwrap();
    let mut checked = 0;
    for (map, kt, vt) in types(&btf) {
        for e in recorded(map) {
            let f = &e["formatted"];
            if let Some(kt) = kt {
                let d = value::decode(&btf, kt, &hex_bytes(&e["key"])).unwrap();
                assert_eq!(to_json(&d.value), f["key"], "{map}");
            }
            if let Some(slots) = e["values"].as_array() {
                for (i, s) in slots.iter().enumerate() {
                    let d = value::decode(&btf, vt, &hex_bytes(&s["value"])).unwrap();
                    assert_eq!(to_json(&d.value), f["values"][i]["value"], "{map} cpu {i}");
                    checked += 1;
                }
                continue;
            }
            let d = value::decode(&btf, vt, &hex_bytes(&e["value"])).unwrap();
            assert!(d.is_complete(), "{map}: {} of {} bytes", d.len, d.size);
            let mut want = f["value"].clone();
            undo_backslash_bug(&mut want);
            assert_eq!(to_json(&d.value), want, "{map}");
            checked += 1;
        }
    }
    // 5 shapes, 3 by_key, 2 x 2 per-CPU slots, 3 data sections.
    assert_eq!(checked, 15);
}

#[test]
fn loaded_maps_filled_by_btfx_read_back_as_recorded() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: bpf(2) not permitted: {e}");
        return;
    }
    let elf = std::fs::read(root().join("fixtures/bpf/run/values.bpf.o")).unwrap();
    let fixed = fixed_btf(&elf);
    let btf = Btf::parse(&fixed[..]).unwrap();
    let counted = Census::begin().unwrap();
    {
        let loaded = loader::load(
            &elf,
            &loader::LoadOptions {
                obj_name: "values".into(),
                ..Default::default()
            },
        )
        .unwrap();
        for (name, kt, vt) in types(&btf) {
            let kernel_name = name.replace("values_", "values.");
            let m = loaded
                .maps
                .iter()
                .find(|m| m.name == kernel_name)
                .unwrap_or_else(|| panic!("no map {kernel_name}"));
            let map = Map::new(m.fd().unwrap()).unwrap();
            // Fill as the recording did (.rodata is frozen: it already holds
            // its initial value; .data too).
            for e in recorded(name) {
                let key = hex_bytes(&e["key"]);
                if let Some(slots) = e["values"].as_array() {
                    let vals: Vec<Vec<u8>> = slots.iter().map(|s| hex_bytes(&s["value"])).collect();
                    let refs: Vec<&[u8]> = vals.iter().map(|v| &v[..]).collect();
                    map.update_percpu(&key, &refs, UpdateFlags::Any).unwrap();
                } else if name != "values_rodata" && name != "values_data" {
                    map.update(&key, &hex_bytes(&e["value"]), UpdateFlags::Any)
                        .unwrap();
                }
            }
            let mut got: Vec<serde_json::Value> = Vec::new();
            for (k, v) in map.entries().unwrap() {
                let key = kt.map(|kt| to_json(&value::decode(&btf, kt, &k).unwrap().value));
                let val = if map.is_percpu() {
                    serde_json::Value::Array(
                        map.split_percpu(&v)
                            .iter()
                            .map(|s| to_json(&value::decode(&btf, vt, s).unwrap().value))
                            .collect(),
                    )
                } else {
                    to_json(&value::decode(&btf, vt, &v).unwrap().value)
                };
                got.push(serde_json::json!([key, val]));
            }
            let mut want: Vec<serde_json::Value> = recorded(name)
                .iter()
                .map(|e| {
                    let f = &e["formatted"];
                    let key = kt.map(|_| f["key"].clone());
                    let mut val = match f["values"].as_array() {
                        Some(s) => {
                            serde_json::Value::Array(s.iter().map(|x| x["value"].clone()).collect())
                        }
                        None => f["value"].clone(),
                    };
                    undo_backslash_bug(&mut val);
                    serde_json::json!([key, val])
                })
                .collect();
            let key = |v: &serde_json::Value| v.to_string();
            got.sort_by_key(key);
            want.sort_by_key(key);
            assert_eq!(got, want, "{name}");
        }
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
