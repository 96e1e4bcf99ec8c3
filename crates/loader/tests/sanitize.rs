//! Sanitising the object's BTF for kernels that lack a kind, as libbpf's
//! `bpf_object__sanitize_btf` does: with each feature switched off, every
//! fixture object's BTF still validates, no record of the missing kind is
//! left, the rewrite is libbpf's, and this kernel accepts the result.

use std::path::PathBuf;

use btf::{Btf, FuncLinkage, IntEncoding, Kind, TypeId};
use loader::btffix::{fixup, BtfFeatures};
use loader::object::Object;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bpf");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(v.len() >= 10);
    v
}

fn kernel_checks() -> bool {
    match loader::sys::probe_bpf() {
        Ok(()) => true,
        Err(e) => {
            eprintln!(
                "not loading into the kernel: BPF_PROG_LOAD of a trivial program failed: {e}"
            );
            false
        }
    }
}

/// Every feature off in turn (and all at once).
fn feature_sets() -> Vec<(&'static str, BtfFeatures)> {
    let all = BtfFeatures::ALL;
    vec![
        (
            "datasec",
            BtfFeatures {
                datasec: false,
                ..all
            },
        ),
        (
            "float",
            BtfFeatures {
                float: false,
                ..all
            },
        ),
        (
            "decl_tag",
            BtfFeatures {
                decl_tag: false,
                ..all
            },
        ),
        (
            "type_tag",
            BtfFeatures {
                type_tag: false,
                ..all
            },
        ),
        (
            "enum64",
            BtfFeatures {
                enum64: false,
                ..all
            },
        ),
        (
            "func_global",
            BtfFeatures {
                func_global: false,
                ..all
            },
        ),
        (
            "none",
            BtfFeatures {
                datasec: false,
                float: false,
                decl_tag: false,
                type_tag: false,
                enum64: false,
                func_global: false,
            },
        ),
    ]
}

#[test]
fn sanitised_btf_has_no_missing_kind_and_loads() {
    let kernel = kernel_checks();
    let mut rewritten = 0;
    for (name, bytes) in fixtures() {
        let obj = Object::parse(&bytes).unwrap();
        let Some(raw) = obj.btf() else { continue };
        let local = Btf::parse(raw).unwrap();
        // An object whose strong externs do not resolve here never reaches
        // BTF loading (libbpf fails it first): fixtures/bpf/extern_missing.
        let externs = match loader::externs::collect(&obj, Some(&local)) {
            Ok(x) => x,
            Err(e) if name == "extern_missing.bpf.o" => {
                eprintln!("{name}: skipped: {e}");
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        for (what, feat) in feature_sets() {
            let fixed = fixup(&obj, &local, &externs, feat).unwrap();
            let out =
                Btf::parse(&fixed[..]).unwrap_or_else(|e| panic!("{name} without {what}: {e}"));
            for t in out.types() {
                let k = t.kind();
                if !feat.datasec && local.get(t.id()).is_ok_and(|l| l.kind() == Kind::Var) {
                    // VAR -> INT of 1 byte, 8 bits, no encoding.
                    let int = t.int().unwrap();
                    assert_eq!(
                        (t.size(), int.bits, int.encoding),
                        (1, 8, IntEncoding::None)
                    );
                }
                assert!(
                    feat.datasec || !matches!(k, Kind::Datasec | Kind::Var),
                    "{name}: {k:?} left"
                );
                assert!(feat.float || k != Kind::Float, "{name}: FLOAT left");
                assert!(feat.decl_tag || k != Kind::DeclTag, "{name}: DECL_TAG left");
                assert!(feat.type_tag || k != Kind::TypeTag, "{name}: TYPE_TAG left");
                assert!(feat.enum64 || k != Kind::Enum64, "{name}: ENUM64 left");
                assert!(
                    feat.enum64 || k != Kind::Enum || !t.kind_flag(),
                    "{name}: signed ENUM left"
                );
                assert!(
                    feat.func_global || t.func_linkage() != Some(FuncLinkage::Global),
                    "{name}: global FUNC left"
                );
            }
            if fixed != fixup(&obj, &local, &externs, BtfFeatures::ALL).unwrap() {
                rewritten += 1;
            }
            if kernel {
                if let Err(e) = loader::sys::btf_load(&fixed) {
                    panic!(
                        "{name} without {what}: BPF_BTF_LOAD: {}\n{}",
                        e.error, e.log
                    );
                }
            }
        }
    }
    // Every feature rewrote something in at least one fixture.
    assert!(rewritten >= 6, "only {rewritten} rewrites");
}

/// With every feature present (this kernel), the fixed-up BTF of every
/// fixture loads: extern variables included (libbpf gives `.kconfig` and
/// `.ksyms` variables allocated linkage, ksyms a 4-byte int type).
#[test]
fn fixed_up_btf_loads() {
    if !kernel_checks() {
        return;
    }
    let mut failed = Vec::new();
    for (name, bytes) in fixtures() {
        let obj = Object::parse(&bytes).unwrap();
        let Some(raw) = obj.btf() else { continue };
        let local = Btf::parse(raw).unwrap();
        // An object whose strong externs do not resolve here never reaches
        // BTF loading (libbpf fails it first): fixtures/bpf/extern_missing.
        let externs = match loader::externs::collect(&obj, Some(&local)) {
            Ok(x) => x,
            Err(e) if name == "extern_missing.bpf.o" => {
                eprintln!("{name}: skipped: {e}");
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        let fixed = fixup(&obj, &local, &externs, BtfFeatures::ALL).unwrap();
        if let Err(e) = loader::sys::btf_load(&fixed) {
            let last = e.log.lines().last().unwrap_or("").to_string();
            failed.push(format!("{name}: {} ({last})", e.error));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// libbpf: each ENUM64 becomes a UNION of the same size and vlen whose
/// members keep the enumerators' names and have type `enum64_placeholder`
/// (a 1-byte INT appended as the last type) at offset 0.
#[test]
fn enum64_becomes_a_union_of_placeholders() {
    let (_, bytes) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "core_types.bpf.o")
        .unwrap();
    let obj = Object::parse(&bytes).unwrap();
    let local = Btf::parse(obj.btf().unwrap()).unwrap();
    let externs = loader::externs::collect(&obj, Some(&local)).unwrap();
    let feat = BtfFeatures {
        enum64: false,
        ..BtfFeatures::ALL
    };
    let fixed = fixup(&obj, &local, &externs, feat).unwrap();
    let out = Btf::parse(&fixed[..]).unwrap();
    assert_eq!(out.type_count(), local.type_count() + 1);
    let placeholder = TypeId(local.type_count());
    let p = out.type_by_id(placeholder).unwrap();
    assert_eq!(out.name(p.name_off()), "enum64_placeholder");
    assert_eq!(p.kind(), Kind::Int);
    assert_eq!(p.size(), 1);
    let int = p.int().unwrap();
    assert_eq!(
        (int.encoding, int.offset, int.bits),
        (IntEncoding::None, 0, 8)
    );
    let mut seen = 0;
    for t in local.types().filter(|t| t.kind() == Kind::Enum64) {
        let u = out.type_by_id(t.id()).unwrap();
        assert_eq!(u.kind(), Kind::Union);
        assert!(!u.kind_flag());
        assert_eq!((u.vlen(), u.size()), (t.vlen(), t.size()));
        assert_eq!(out.name(u.name_off()), local.name(t.name_off()));
        for (m, v) in u.members().zip(t.enum_values()) {
            assert_eq!(out.name(m.name_off), local.name(v.name_off));
            assert_eq!((m.ty, m.raw_offset), (placeholder, 0));
        }
        seen += 1;
    }
    assert!(seen >= 1);
    // Nothing else changed: every other type dumps as after the fix-ups
    // every kernel gets (DATASEC sizes and offsets).
    let dump = |b: &Btf<'_>| {
        let mut s = Vec::new();
        btf::dump::raw::dump_raw(b, &mut s);
        String::from_utf8(s).unwrap()
    };
    let plain = fixup(&obj, &local, &externs, BtfFeatures::ALL).unwrap();
    let before = dump(&Btf::parse(&plain[..]).unwrap());
    let after = dump(&out);
    let differ = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .count();
    // The ENUM64 header line and its enumerator lines.
    let e = local.types().find(|t| t.kind() == Kind::Enum64).unwrap();
    assert_eq!(differ, 1 + e.vlen() as usize);
}

/// libbpf clears the kind_flag (signedness) of ENUMs for kernels without
/// ENUM64, which know no signed ENUM; a signed ENUM64 becomes the same
/// unsigned-placeholder UNION. (No fixture has a signed enum: built here.)
#[test]
fn signed_enums_lose_their_sign_without_enum64() {
    use btf::write::Builder;
    let (_, bytes) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "core_types.bpf.o")
        .unwrap();
    let obj = Object::parse(&bytes).unwrap();
    let local = Btf::parse(obj.btf().unwrap()).unwrap();
    let externs = loader::externs::collect(&obj, Some(&local)).unwrap();
    let mut b = Builder::new();
    let e32 = b.enum_("s32", 4, true, &[("NEG", -1), ("POS", 1)]);
    let e64 = b.enum64("s64", 8, true, &[("BIG", (-(1i64 << 40)) as u64)]);
    let raw = b.encode(btf::Endian::NATIVE);
    let built = Btf::parse(&raw[..]).unwrap();
    let feat = BtfFeatures {
        enum64: false,
        ..BtfFeatures::ALL
    };
    let fixed = fixup(&obj, &built, &externs, feat).unwrap();
    let out = Btf::parse(&fixed[..]).unwrap();
    let t = out.type_by_id(e32).unwrap();
    assert_eq!((t.kind(), t.kind_flag(), t.vlen()), (Kind::Enum, false, 2));
    let u = out.type_by_id(e64).unwrap();
    assert_eq!((u.kind(), u.kind_flag(), u.size()), (Kind::Union, false, 8));
    let p = out.type_by_id(u.members().next().unwrap().ty).unwrap();
    assert_eq!(out.name(p.name_off()), "enum64_placeholder");
    // With ENUM64 support nothing changes.
    let same = fixup(&obj, &built, &externs, BtfFeatures::ALL).unwrap();
    assert_eq!(same, raw);
    if kernel_checks() {
        loader::sys::btf_load(&fixed).unwrap();
    }
}

/// The BTF the loader hands to BPF_BTF_LOAD is the one libbpf hands it:
/// for every fixture bpftool loads whole, the kernel's copy of libbpf's BTF
/// (fixtures/oracle/kernel-btf/, scripts/record-kernel-btf-oracle.sh) dumps
/// exactly as ours fixed up for the same kernel's features.
#[test]
fn fixed_up_btf_is_what_libbpf_loads() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/oracle/kernel-btf");
    let mut compared = 0;
    for (name, bytes) in fixtures() {
        let stem = name.trim_end_matches(".bpf.o");
        let Ok(want) = std::fs::read_to_string(dir.join(format!("{stem}.raw"))) else {
            continue;
        };
        let obj = Object::parse(&bytes).unwrap();
        let local = Btf::parse(obj.btf().unwrap()).unwrap();
        // An object whose strong externs do not resolve here never reaches
        // BTF loading (libbpf fails it first): fixtures/bpf/extern_missing.
        let externs = match loader::externs::collect(&obj, Some(&local)) {
            Ok(x) => x,
            Err(e) if name == "extern_missing.bpf.o" => {
                eprintln!("{name}: skipped: {e}");
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        // The recording kernel (6.18) supports every kind.
        let fixed = fixup(&obj, &local, &externs, BtfFeatures::ALL).unwrap();
        let mut got = Vec::new();
        btf::dump::raw::dump_raw(&Btf::parse(&fixed[..]).unwrap(), &mut got);
        let got = String::from_utf8(got).unwrap();
        if got != want {
            let first = got
                .lines()
                .zip(want.lines())
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("ours:   {a}\nlibbpf: {b}"));
            panic!(
                "{stem}: differs from libbpf's\n{}",
                first.unwrap_or_else(|| "(length)".into())
            );
        }
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} objects compared");
}

/// Without DATASEC support the `.ksyms` section becomes a struct `_ksyms`
/// whose kfunc slots are members named and typed after `dummy_ksym`, 4
/// bytes apart (libbpf sanitises after pointing the slots to the dummy).
#[test]
fn ksyms_without_datasec_is_a_struct_of_dummies() {
    let (_, bytes) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "ksyms.bpf.o")
        .unwrap();
    let obj = Object::parse(&bytes).unwrap();
    let local = Btf::parse(obj.btf().unwrap()).unwrap();
    let externs = loader::externs::collect(&obj, Some(&local)).unwrap();
    let feat = BtfFeatures {
        datasec: false,
        ..BtfFeatures::ALL
    };
    let fixed = fixup(&obj, &local, &externs, feat).unwrap();
    let out = Btf::parse(&fixed[..]).unwrap();
    let s = out
        .types()
        .find(|t| out.name(t.name_off()) == "_ksyms")
        .expect("no struct _ksyms");
    assert_eq!((s.kind(), s.size(), s.vlen()), (Kind::Struct, 8, 2));
    let dummy = TypeId(local.type_count());
    for (i, m) in s.members().enumerate() {
        assert_eq!(out.name(m.name_off), "dummy_ksym");
        assert_eq!((m.ty, m.bit_offset), (dummy, 32 * i as u32));
    }
    if kernel_checks() {
        loader::sys::btf_load(&fixed).unwrap();
    }
}
