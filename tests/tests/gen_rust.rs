//! `btfx gen rust` (btf::dump::rust): snapshots of each hard case, built as
//! small BTFs whose sizes and offsets were recorded from clang-19 on x86_64
//! (`sizeof`, `offsetof`, `_Alignof` of the C declaration quoted on each
//! case), every generated module compiled with rustc (`-D warnings`), so its
//! layout assertions hold; bitfield accessors run against bytes clang wrote;
//! hostile BTFs give errors naming the type id; and a set of hard vmlinux
//! types from the x86_64-6.18 fixture compiles.

use std::path::PathBuf;
use std::process::Command;

use btf::dump::rust::{gen_rust, Options};
use btf::write::Builder;
use btf::{Btf, Endian, IntEncoding, Kind, TypeId};

fn gen(b: &Builder, e: Endian) -> String {
    let btf = Btf::parse(b.encode(e)).expect("parse");
    gen_rust(&btf, &Options::default()).expect("gen")
}

/// A compiled test crate in its own temporary directory, removed on drop.
struct Built {
    dir: PathBuf,
    out: PathBuf,
}

impl Drop for Built {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Compiles `src` with rustc (`RUSTC` or `rustc` on PATH); returns the
/// output, or panics with rustc's messages (leaving the directory for a look).
fn rustc(name: &str, src: &str, crate_type: &str) -> Built {
    let dir = std::env::temp_dir().join(format!("btfx-gen-rust-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("{name}.rs"));
    std::fs::write(&file, src).expect("write source");
    let out = dir.join(if crate_type == "bin" {
        name.to_owned()
    } else {
        format!("lib{name}.rlib")
    });
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let r = Command::new(rustc)
        .args([
            "--crate-type",
            crate_type,
            "--edition=2021",
            "-D",
            "warnings",
            "-o",
        ])
        .arg(&out)
        .arg(&file)
        .output()
        .expect("run rustc");
    assert!(
        r.status.success(),
        "rustc failed on {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&r.stderr)
    );
    Built { dir, out }
}

/// C (clang-19, x86_64):
/// ```c
/// struct pad { char a; long b; short c; };                     // 24, align 8, b@8 c@16
/// struct __attribute__((packed)) pk { char a; int b; short c; }; // 7, align 1, b@1 c@5
/// struct al { int a; } __attribute__((aligned(64)));           // 64, align 64
/// struct malign { char a; int b __attribute__((aligned(16))); }; // 32, align 16, b@16
/// struct __attribute__((packed)) pk_al { char c; struct al x; }; // 65, align 1, x@1
/// struct flex { int n; long data[]; };                         // 8, align 8, data@8
/// struct empty {};                                             // 0, align 1
/// struct anon { int k; union { int i; float f; }; struct { short x, y; } pt; };
///                                              // 12, align 4, i@4 pt@8 y@10
/// ```
#[test]
fn layout_cases() {
    let mut b = Builder::new();
    let ch = b.int("char", 1, IntEncoding::Signed);
    let long = b.int("long", 8, IntEncoding::Signed);
    let short = b.int("short", 2, IntEncoding::Signed);
    let int = b.int("int", 4, IntEncoding::Signed);
    let float = b.float("float", 4);
    let u32_ = b.int("unsigned int", 4, IntEncoding::None);
    b.struct_(
        "pad",
        24,
        &[("a", ch, 0, 0), ("b", long, 64, 0), ("c", short, 128, 0)],
    );
    b.struct_(
        "pk",
        7,
        &[("a", ch, 0, 0), ("b", int, 8, 0), ("c", short, 40, 0)],
    );
    let al = b.struct_("al", 64, &[("a", int, 0, 0)]);
    b.struct_("malign", 32, &[("a", ch, 0, 0), ("b", int, 128, 0)]);
    b.struct_("pk_al", 65, &[("c", ch, 0, 0), ("x", al, 8, 0)]);
    let arr = b.array(long, u32_, 0);
    b.struct_("flex", 8, &[("n", int, 0, 0), ("data", arr, 64, 0)]);
    b.struct_("empty", 0, &[]);
    let un = b.union_("", 4, &[("i", int, 0, 0), ("f", float, 0, 0)]);
    let pt = b.struct_("", 4, &[("x", short, 0, 0), ("y", short, 16, 0)]);
    b.struct_(
        "anon",
        12,
        &[("k", int, 0, 0), ("", un, 32, 0), ("pt", pt, 64, 0)],
    );
    let rs = gen(&b, Endian::Little);
    rustc("layout_cases", &rs, "lib");
    insta::assert_snapshot!(rs);
}

/// C (clang-19, x86_64): `struct bf { unsigned a:3; int b:5; unsigned long
/// c:40; char d; _Bool e:1; };` is 8 bytes, align 8, d@6; with a=5, b=-7,
/// c=0x123456789A, d=9, e=1 its bytes are 205 154 120 86 52 18 9 1.
fn bitfield_btf() -> Builder {
    let mut b = Builder::new();
    let uint = b.int("unsigned int", 4, IntEncoding::None);
    let int = b.int("int", 4, IntEncoding::Signed);
    let ulong = b.int("unsigned long", 8, IntEncoding::None);
    let ch = b.int("char", 1, IntEncoding::Signed);
    let bool_ = b.int("_Bool", 1, IntEncoding::Bool);
    b.struct_(
        "bf",
        8,
        &[
            ("a", uint, 0, 3),
            ("b", int, 3, 5),
            ("c", ulong, 8, 40),
            ("d", ch, 48, 0),
            ("e", bool_, 56, 1),
        ],
    );
    b
}

#[test]
fn bitfields_little_endian() {
    let rs = gen(&bitfield_btf(), Endian::Little);
    insta::assert_snapshot!(rs);
    let main = format!(
        "{rs}\nfn main() {{
    let bytes: [u8; 8] = [205, 154, 120, 86, 52, 18, 9, 1];
    let v: bf = unsafe {{ ::core::mem::transmute(bytes) }};
    assert_eq!((v.a(), v.b(), v.c(), v.d, v.e()), (5, -7, 0x123456789A, 9, true));
    let mut w: bf = unsafe {{ ::core::mem::zeroed() }};
    w.set_a(5); w.set_b(-7); w.set_c(0x123456789A); w.d = 9; w.set_e(true);
    let out: [u8; 8] = unsafe {{ ::core::mem::transmute(w) }};
    assert_eq!(out, bytes);
}}\n"
    );
    let exe = rustc("bitfields_le", &main, "bin");
    let r = Command::new(&exe.out).output().expect("run");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn bitfields_big_endian() {
    let rs = gen(&bitfield_btf(), Endian::Big);
    assert!(rs.contains("big-endian bitfield storage"));
    rustc("bitfields_be", &rs, "lib");
    insta::assert_snapshot!(rs);
}

#[test]
fn enums() {
    let mut b = Builder::new();
    b.enum_(
        "color",
        4,
        false,
        &[("RED", 0), ("GREEN", 1), ("BIG", 0xffff_fffe)],
    );
    b.enum_("delta", 4, true, &[("DOWN", -1), ("UP", 1)]);
    b.enum64("wide", 8, false, &[("W_MAX", u64::MAX), ("W_ONE", 1)]);
    b.enum64("swide", 8, true, &[("S_MIN", i64::MIN as u64)]);
    b.enum_("", 4, false, &[("ANON_A", 7), ("RED", 9)]);
    b.enum_("small", 1, false, &[("S_X", 255)]);
    let rs = gen(&b, Endian::Little);
    rustc("enums", &rs, "lib");
    insta::assert_snapshot!(rs);
}

#[test]
fn names_and_clashes() {
    let mut b = Builder::new();
    let uchar = b.int("unsigned char", 1, IntEncoding::None);
    let u8_td = b.reference(Kind::Typedef, "__u8", uchar);
    b.reference(Kind::Typedef, "u8", u8_td);
    let bool_ = b.int("_Bool", 1, IntEncoding::Bool);
    b.reference(Kind::Typedef, "bool", bool_);
    let int = b.int("int", 4, IntEncoding::Signed);
    let foo = b.struct_("foo", 8, &[("type", int, 0, 0), ("match", u8_td, 32, 0)]);
    b.reference(Kind::Typedef, "foo", foo);
    let fwd = b.fwd("foo", false);
    let pfwd = b.reference(Kind::Ptr, "", fwd);
    b.reference(Kind::Typedef, "foo_ptr", pfwd);
    b.enum_("foo", 4, false, &[("FOO_A", 1)]);
    let long = b.int("long", 8, IntEncoding::Signed);
    b.reference(Kind::Typedef, "foo", long);
    let anon = b.struct_("", 4, &[("v", int, 0, 0)]);
    b.reference(Kind::Typedef, "anon_t", anon);
    b.struct_("fn", 4, &[("self", int, 0, 0)]);
    b.fwd("opaque", false);
    b.struct_("u32", 4, &[("x", int, 0, 0)]);
    let rs = gen(&b, Endian::Little);
    rustc("names", &rs, "lib");
    insta::assert_snapshot!(rs);
}

#[test]
fn function_pointers() {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    let ch = b.int("char", 1, IntEncoding::Signed);
    let cch = b.reference(Kind::Const, "", ch);
    let pcch = b.reference(Kind::Ptr, "", cch);
    let vp = b.reference(Kind::Ptr, "", TypeId::VOID);
    let printf = b.func_proto(int, &[("fmt", pcch), ("", TypeId::VOID)]);
    let p_printf = b.reference(Kind::Ptr, "", printf);
    let cb = b.func_proto(TypeId::VOID, &[("arg", vp)]);
    let cb_t = b.reference(Kind::Typedef, "cb_t", cb);
    let p_cb = b.reference(Kind::Ptr, "", cb_t);
    let i128_ = b.int("__int128", 16, IntEncoding::Signed);
    let dbl = b.float("double", 8);
    b.struct_(
        "ops",
        48,
        &[
            ("printf", p_printf, 0, 0),
            ("cb", p_cb, 64, 0),
            ("name", pcch, 128, 0),
            ("big", i128_, 256, 0),
        ],
    );
    b.struct_("f", 8, &[("d", dbl, 0, 0)]);
    let rs = gen(&b, Endian::Little);
    rustc("fnptr", &rs, "lib");
    insta::assert_snapshot!(rs);
}

#[test]
fn type_selection_keeps_dependencies_only() {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    let inner = b.struct_("inner", 4, &[("v", int, 0, 0)]);
    let pin = b.reference(Kind::Ptr, "", inner);
    let outer = b.struct_("outer", 8, &[("p", pin, 0, 0)]);
    b.struct_("unrelated", 4, &[("v", int, 0, 0)]);
    let btf = Btf::parse(b.encode(Endian::Little)).expect("parse");
    let opts = Options {
        roots: Some(vec![outer]),
        ..Options::default()
    };
    let rs = gen_rust(&btf, &opts).expect("gen");
    assert!(rs.contains("pub struct outer {"));
    assert!(rs.contains("pub struct inner {"));
    assert!(!rs.contains("unrelated"));
    rustc("selection", &rs, "lib");
}

/// Hostile input: an error naming the type id, never a panic or a hang.
#[test]
fn hostile_btf_is_an_error_naming_the_type() {
    // A struct containing itself by value (type id 2).
    let mut b = Builder::new();
    b.int("int", 4, IntEncoding::Signed);
    b.struct_("loop", 8, &[("me", TypeId(2), 0, 0)]);
    let btf = Btf::parse(b.encode(Endian::Little)).expect("parse");
    let e = gen_rust(&btf, &Options::default()).unwrap_err().to_string();
    assert!(e.contains("type id 2"), "{e}");

    // A member past the end of its struct (type id 2), an absurd array.
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    b.struct_("short", 4, &[("a", int, 64, 0)]);
    let huge = b.array(int, int, u32::MAX);
    b.struct_("huge", 16, &[("a", huge, 0, 0)]);
    let btf = Btf::parse(b.encode(Endian::Little)).expect("parse");
    let e = gen_rust(&btf, &Options::default()).unwrap_err().to_string();
    assert!(e.contains("type id 2") && e.contains("past the end"), "{e}");
    let opts = Options {
        roots: Some(vec![TypeId(4)]),
        ..Options::default()
    };
    let e = gen_rust(&btf, &opts).unwrap_err().to_string();
    assert!(e.contains("type id 4") && e.contains("past the end"), "{e}");

    // Two structs containing each other (ids 2 and 3).
    let mut b = Builder::new();
    b.int("int", 4, IntEncoding::Signed);
    b.struct_("a", 4, &[("b", TypeId(3), 0, 0)]);
    b.struct_("b", 4, &[("a", TypeId(2), 0, 0)]);
    let btf = Btf::parse(b.encode(Endian::Little)).expect("parse");
    let e = gen_rust(&btf, &Options::default()).unwrap_err().to_string();
    assert!(e.contains("type id 2") || e.contains("type id 3"), "{e}");

    // Nesting deeper than the recursion bound: 200 structs, each holding
    // the next one (a higher id) by value, the last an int (id 201).
    let mut b = Builder::new();
    for i in 0..200u32 {
        b.struct_(&format!("n{i}"), 4, &[("x", TypeId(i + 2), 0, 0)]);
    }
    b.int("int", 4, IntEncoding::Signed);
    let btf = Btf::parse(b.encode(Endian::Little)).expect("parse");
    let e = gen_rust(&btf, &Options::default()).unwrap_err().to_string();
    assert!(e.contains("type id") && e.contains("gave up"), "{e}");
}

/// Hard vmlinux types (and all they depend on) from the x86_64-6.18 fixture:
/// the module compiles, layout assertions included. Sizes as pahole prints
/// them for the same file (`pahole -F btf`: sk_buff 224).
#[test]
fn vmlinux_hard_types_compile() {
    let path = btfx_tests::fixtures().join("kernels/x86_64-6.18.btf");
    let data = std::fs::read(&path).expect("fixture");
    let btf = Btf::parse(&data[..]).expect("parse");
    let mut roots = Vec::new();
    for (name, kind) in [
        ("task_struct", Kind::Struct),
        ("sk_buff", Kind::Struct),
        ("page", Kind::Struct),
        ("bpf_prog", Kind::Struct),
        ("xdp_md", Kind::Struct),
        ("x86_hw_tss", Kind::Struct),
        ("e820_entry", Kind::Struct),
    ] {
        roots.push(btf.find_by_name_kind(name, kind).expect(name));
    }
    let opts = Options {
        roots: Some(roots),
        ..Options::default()
    };
    let rs = gen_rust(&btf, &opts).expect("gen");
    assert!(rs.contains("#[repr(C, align(64))]\n#[derive(Copy, Clone)]\npub struct task_struct {"));
    assert!(rs.contains("#[repr(C, packed)]\n#[derive(Copy, Clone)]\npub struct x86_hw_tss {"));
    assert!(rs.contains("const _: () = assert!(::core::mem::size_of::<sk_buff>() == 224);"));
    rustc("vmlinux_hard", &rs, "lib");
}
