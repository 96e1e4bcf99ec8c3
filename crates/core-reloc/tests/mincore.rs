//! BTFGen edge cases against bpftool 7.1 (fixtures/oracle/mincore/edge/,
//! recorded by scripts/record-mincore.sh on the hand-made kernel of
//! scripts/mincore-edge-kernel.py), and damaged relocation records.

use std::path::{Path, PathBuf};

use btf::write::Builder;
use btf::{Btf, Endian, IntEncoding};
use core_reloc::mincore::MinCore;
use core_reloc::{BtfExt, Error, Target};

fn edge(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/oracle/mincore/edge")
        .join(name)
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn run(kernel: &Btf<'_>, obj: &[u8]) -> core_reloc::Result<Vec<u8>> {
    let local = Btf::from_elf(obj).unwrap();
    let ext = btf::elf_section(obj, ".BTF.ext").unwrap().unwrap();
    let ext = BtfExt::parse(&ext, &local).unwrap();
    let mut m = MinCore::new(Target::new(kernel));
    m.record("obj", &local, &ext)?;
    m.build()
}

#[test]
fn kind_flag_and_pointer_following_match_bpftool() {
    let k = read(&edge("kernel.btf"));
    let kernel = Btf::parse(&k[..]).unwrap();
    let ours = run(&kernel, &read(&edge("bar.bpf.o"))).unwrap();
    assert_eq!(ours, read(&edge("bar.btf")));
    // What that is: bar keeps b (a bitfield, so kind_flag) and c, not a/d;
    // bar_t -> ptr -> bar followed by the type_exists relocation.
    let min = Btf::parse(&ours[..]).unwrap();
    let bar = min
        .get(min.find_by_name_kind("bar", btf::Kind::Struct).unwrap())
        .unwrap();
    assert!(bar.kind_flag());
    let names: Vec<&str> = bar.members().map(|m| min.name(m.name_off)).collect();
    assert_eq!(names, ["b", "c"]);
    assert!(min.find_by_name_kind("bar_t", btf::Kind::Typedef).is_some());
}

#[test]
fn a_forward_declaration_fails_as_in_bpftool() {
    let k = read(&edge("kernel.btf"));
    let kernel = Btf::parse(&k[..]).unwrap();
    let err = run(&kernel, &read(&edge("fwd.bpf.o"))).unwrap_err();
    // bpftool: "Error: unsupported kind: fwd (2)" and no output.
    let bpftool = String::from_utf8(read(&edge("fwd.err"))).unwrap();
    assert!(bpftool.contains("unsupported kind: fwd (2)"));
    assert!(matches!(&err, Error::MinCore { .. }), "{err}");
    assert!(
        err.to_string().contains("unsupported kind: fwd (2)"),
        "{err}"
    );
    assert!(err.to_string().contains("relo #0"), "{err}");
}

/// A local BTF (`struct task_struct { int pid; }`) and a `.BTF.ext` with
/// one relocation of the given kind, type id and access string.
fn object(kind: u32, type_id: u32, access: &str) -> (Vec<u8>, Vec<u8>) {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    b.struct_("task_struct", 4, &[("pid", int, 0, 0)]);
    let sec = b.string("kprobe/x");
    let acc = b.string(access);
    let local = b.encode(Endian::Little);
    let mut ext = vec![0x9f, 0xeb, 1, 0];
    for w in [32u32, 0, 0, 0, 0, 0, 28] {
        ext.extend(w.to_le_bytes());
    }
    for w in [16u32, sec, 1, 0, type_id, acc, kind] {
        ext.extend(w.to_le_bytes());
    }
    (local, ext)
}

fn kernel() -> Vec<u8> {
    let mut k = Builder::new();
    let int = k.int("int", 4, IntEncoding::Signed);
    let long = k.int("long", 8, IntEncoding::Signed);
    k.struct_(
        "task_struct",
        16,
        &[("flags", long, 0, 0), ("pid", int, 64, 0)],
    );
    k.encode(Endian::Little)
}

#[test]
fn damaged_records_are_errors_not_panics() {
    let k = kernel();
    let kernel = Btf::parse(&k[..]).unwrap();
    let mut tried = 0;
    for (kind, id, access) in [
        (0, 99, "0:0"),    // no such local type
        (0, 2, "0:7"),     // no member #7
        (0, 2, "x"),       // not an access string
        (8, 2, "0:0"),     // type relocation with a field access string
        (10, 2, "0"),      // enumerator relocation on a struct
        (77, 2, "0:0"),    // unknown kind
        (0, 2, ""),        // empty access string
        (0, 1, "0:0"),     // anonymous-free but an int has no members
        (0, 2, "0:0:0:0"), // past the end of the path
        (0, 2, "-1"),      // negative index
    ] {
        let (local, ext) = object(kind, id, access);
        let local = Btf::parse(&local[..]).unwrap();
        let Ok(ext) = BtfExt::parse(&ext, &local) else {
            continue;
        };
        tried += 1;
        let mut m = MinCore::new(Target::new(&kernel));
        let r = m.record("damaged.bpf.o", &local, &ext);
        let e = r.expect_err(&format!("kind {kind} id {id} '{access}' accepted"));
        let msg = e.to_string();
        assert!(msg.contains("damaged.bpf.o"), "{msg}");
        assert!(msg.contains("relo #0"), "{msg}");
    }
    eprintln!("{tried} damaged records reached BTFGen");
    assert!(tried >= 8, "{tried}");
}

#[test]
fn nothing_matched_gives_an_empty_btf_and_objects_add_up() {
    let k = kernel();
    let kernel = Btf::parse(&k[..]).unwrap();
    // field_exists of a member the kernel lacks: nothing kept; bpftool
    // then writes a header and the empty string (25 bytes).
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed);
    b.struct_("task_struct", 4, &[("tgid", int, 0, 0)]);
    let sec = b.string("kprobe/x");
    let acc = b.string("0:0");
    let local = Btf::parse(b.encode(Endian::Little)).unwrap();
    let mut ext = vec![0x9f, 0xeb, 1, 0];
    for w in [32u32, 0, 0, 0, 0, 0, 28] {
        ext.extend(w.to_le_bytes());
    }
    for w in [16u32, sec, 1, 0, 2, acc, 2] {
        ext.extend(w.to_le_bytes());
    }
    let ext = BtfExt::parse(&ext, &local).unwrap();
    let mut m = MinCore::new(Target::new(&kernel));
    m.record("a", &local, &ext).unwrap();
    let empty = m.build().unwrap();
    assert_eq!(empty.len(), 25);
    assert_eq!(m.kept_types(), 0);
    // A second object reading pid adds struct task_struct { pid } and int.
    let (l2, e2) = object(0, 2, "0:0");
    let l2 = Btf::parse(&l2[..]).unwrap();
    let e2 = BtfExt::parse(&e2, &l2).unwrap();
    m.record("b", &l2, &e2).unwrap();
    assert_eq!(m.relocations(), 2);
    let min = Btf::parse(m.build().unwrap()).unwrap();
    assert_eq!(min.type_count(), 3);
    let t = min
        .get(
            min.find_by_name_kind("task_struct", btf::Kind::Struct)
                .unwrap(),
        )
        .unwrap();
    assert_eq!((t.size(), t.vlen()), (16, 1));
    assert_eq!(t.members().next().unwrap().bit_offset, 64);
}
