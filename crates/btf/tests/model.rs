//! The typed view, name index and resolution on hand-built BTFs, in both
//! byte orders; expected values are checked against the running kernel's
//! BTF where a real answer exists (sizes bpftool prints, libbpf's rules).

use std::sync::Arc;

use btf::write::Builder;
use btf::{essential_name, Btf, Endian, Error, IntEncoding, Kind, TypeId};

fn sample(e: Endian) -> Vec<u8> {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::Signed); // 1
    let ch = b.int("char", 1, IntEncoding::Signed); // 2
    let long = b.int("long int", 8, IntEncoding::Signed); // 3
    let ptr = b.reference(Kind::Ptr, "", int); // 4
    let arr = b.array(ch, int, 16); // 5
    b.struct_(
        "task_struct",
        32,
        &[
            ("pid", int, 0, 0),
            ("comm", arr, 32, 0),
            ("next", ptr, 192, 0),
        ],
    ); // 6
    b.struct_("task_struct___v2", 8, &[("pid", long, 0, 0)]); // 7
    b.struct_("bits", 4, &[("a", int, 0, 3), ("b", int, 3, 29)]); // 8
    let packed = b.struct_("packed", 5, &[("c", ch, 0, 0), ("i", int, 8, 0)]); // 9
    b.enum_("e", 4, true, &[("NEG", -1), ("POS", 7)]); // 10
    b.enum64("e64", 8, false, &[("BIG", 1 << 40)]); // 11
    let c = b.reference(Kind::Const, "", packed); // 12
    b.reference(Kind::Typedef, "packed_t", c); // 13
    b.encode(e)
}

#[test]
fn views_and_resolution_agree_in_both_byte_orders() {
    for e in [Endian::Little, Endian::Big] {
        let data = sample(e);
        let btf = Btf::parse(&data[..]).unwrap();
        assert_eq!(btf.endian(), e);
        assert_eq!(btf.type_count(), 14);
        let ts = btf.find_by_name_kind("task_struct", Kind::Struct).unwrap();
        assert_eq!(ts, TypeId(6));
        let names: Vec<_> = btf
            .get(ts)
            .unwrap()
            .members()
            .map(|m| btf.name(m.name_off))
            .collect();
        assert_eq!(names, ["pid", "comm", "next"]);
        assert_eq!(btf.resolve_size(TypeId(5)).unwrap(), 16);
        assert_eq!(btf.align_of(ts).unwrap(), 8);
        assert_eq!(btf.pointer_size(), 8);
        // Bitfields: kind_flag splits the offset word.
        let bits: Vec<_> = btf
            .get(TypeId(8))
            .unwrap()
            .members()
            .map(|m| (m.bit_offset, m.bitfield_size))
            .collect();
        assert_eq!(bits, [(0, 3), (3, 29)]);
        // A misaligned int member makes the struct packed (libbpf's rule).
        assert_eq!(btf.align_of(TypeId(9)).unwrap(), 1);
        // Through typedef and const.
        assert_eq!(
            btf.skip_mods_and_typedefs(TypeId(13)).unwrap().id(),
            TypeId(9)
        );
        assert_eq!(btf.resolve_size(TypeId(13)).unwrap(), 5);
        let vals: Vec<_> = btf
            .get(TypeId(10))
            .unwrap()
            .enum_values()
            .map(|v| v.as_i64())
            .collect();
        assert_eq!(vals, [-1, 7]);
        let v64: Vec<_> = btf
            .get(TypeId(11))
            .unwrap()
            .enum_values()
            .map(|v| v.value)
            .collect();
        assert_eq!(v64, [1 << 40]);
        // Flavours share an essential name; exact lookups stay exact.
        let group: Vec<_> = btf.index().by_essential(&btf, "task_struct").collect();
        assert_eq!(group, [TypeId(6), TypeId(7)]);
        let exact: Vec<_> = btf.find_by_name("task_struct___v2").collect();
        assert_eq!(exact, [TypeId(7)]);
        assert_eq!(btf.find_by_name_kind("task_struct", Kind::Union), None);
        assert!(matches!(
            btf.get(TypeId(99)),
            Err(Error::NoSuchType(TypeId(99)))
        ));
    }
}

#[test]
fn essential_names_follow_libbpf() {
    assert_eq!(essential_name("task_struct___v2"), "task_struct");
    assert_eq!(essential_name("a___b___c"), "a___b");
    assert_eq!(essential_name("__u32"), "__u32");
    assert_eq!(essential_name("a____b"), "a____b");
    assert_eq!(essential_name("x___"), "x___");
    assert_eq!(essential_name("___x"), "___x");
    assert_eq!(essential_name(""), "");
}

#[test]
fn split_btf_continues_ids_and_strings() {
    let base = Arc::new(Btf::parse(sample(Endian::Little)).unwrap());
    let mut b = Builder::new_split(&base);
    let p = b.reference(Kind::Ptr, "", TypeId(6));
    b.struct_("module_thing", 8, &[("task", p, 0, 0)]);
    let split = Btf::parse_split(b.encode(Endian::Little), base.clone()).unwrap();
    assert_eq!(split.start_id(), TypeId(14));
    assert_eq!(split.type_count(), 16);
    let t = split.get(TypeId(15)).unwrap();
    assert_eq!(split.type_name(&t), "module_thing");
    // Base types and names resolve through the split view.
    assert_eq!(
        split.type_name(&split.get(TypeId(6)).unwrap()),
        "task_struct"
    );
    assert_eq!(
        split.find_by_name_kind("task_struct", Kind::Struct),
        Some(TypeId(6))
    );
    assert_eq!(
        split.find_by_name_kind("module_thing", Kind::Struct),
        Some(TypeId(15))
    );
    assert_eq!(split.resolve_size(TypeId(15)).unwrap(), 8);
    // Split over a base of the other byte order is refused.
    let be = Arc::new(Btf::parse(sample(Endian::Big)).unwrap());
    assert!(matches!(
        Btf::parse_split(b.encode(Endian::Little), be),
        Err(Error::Split(_))
    ));
}

/// A newer header with a kind layout section: a kind unknown to this code is
/// stepped over using the sizes the file gives, and the types after it read.
#[test]
fn layout_section_carries_unknown_kinds() {
    let mut b = Builder::new();
    let int = b.int("int", 4, IntEncoding::None);
    // Kind 25 with 2 elements of 8 bytes and 4 bytes of info.
    b.raw(
        "future",
        Kind::Unknown(25),
        2,
        false,
        int.get(),
        &[0xaaaa, 1, 2, 3, 4],
    );
    b.reference(Kind::Typedef, "after", int);
    let classic = b.encode(Endian::Little);
    // Unknown without a layout: refused, naming the type.
    assert!(matches!(
        Btf::parse(&classic[..]),
        Err(Error::UnknownKind { kind: 25, .. })
    ));
    // Rebuild with a 32-byte header and a layout section of 26 entries.
    let mut layout = vec![0u8; 26 * 4];
    layout[25 * 4 + 2] = 4; // info_sz
    layout[25 * 4 + 3] = 8; // elem_sz
    let body = &classic[24..];
    let (type_len, str_len) = (
        u32::from_le_bytes(classic[12..16].try_into().unwrap()),
        u32::from_le_bytes(classic[20..24].try_into().unwrap()),
    );
    let mut data = Vec::new();
    data.extend_from_slice(&classic[..4]);
    for v in [
        32u32,
        0,
        type_len,
        type_len,
        str_len,
        type_len + str_len + 3,
        layout.len() as u32,
    ] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    data.extend_from_slice(body);
    data.extend_from_slice(&[0, 0, 0]); // pad to 4
    data.extend_from_slice(&layout);
    let btf = Btf::parse(&data[..]).unwrap();
    assert_eq!(btf.get(TypeId(2)).unwrap().kind(), Kind::Unknown(25));
    assert_eq!(btf.get(TypeId(2)).unwrap().extra_bytes().len(), 20);
    assert_eq!(
        btf.find_by_name_kind("after", Kind::Typedef),
        Some(TypeId(3))
    );
}

/// `resolve_size` and `align_of` for every struct, union, typedef and array
/// of three kernels equal libbpf's `btf__resolve_size` / `btf__align_of`
/// (recorded by scripts/libbpf-layout.c; libbpf's -22/0 are our errors).
#[test]
fn sizes_and_alignments_match_libbpf() {
    use std::io::Read;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
    for k in ["x86_64-6.18", "x86_64-6.1", "arm64-6.12"] {
        let data = std::fs::read(format!("{root}/kernels/{k}.btf")).unwrap();
        let btf = Btf::parse(&data[..]).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open(format!("{root}/oracle/layout/{k}.txt.gz")).unwrap(),
        )
        .read_to_string(&mut text)
        .unwrap();
        let mut n = 0;
        for line in text.lines() {
            let f: Vec<i64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
            let id = TypeId(f[0] as u32);
            let size = btf.resolve_size(id).map_or(-22, |s| s as i64);
            let align = btf.align_of(id).map_or(0, |a| a as i64);
            assert_eq!((size, align), (f[1], f[2]), "{k}: type id {id}");
            n += 1;
        }
        assert!(n > 14_000, "{k}: only {n} oracle lines");
    }
}

/// The running kernel's (fixture) BTF: numbers checked against bpftool's
/// dump of the same file (`[N] STRUCT 'task_struct' size=...`).
#[test]
fn kernel_fixture_lookups() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/kernels/x86_64-6.18.btf"
    );
    let data = std::fs::read(path).unwrap();
    let btf = Btf::parse(&data[..]).unwrap();
    assert_eq!(btf.last_id(), TypeId(126699)); // bpftool's last line: [126699]
    let id = btf.find_by_name_kind("task_struct", Kind::Struct).unwrap();
    let t = btf.get(id).unwrap();
    // Cross-check against the recorded bpftool raw dump of this file.
    let oracle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/oracle/dump/x86_64-6.18.raw.gz"
    );
    let mut text = String::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(std::fs::File::open(oracle).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let line = format!(
        "[{}] STRUCT 'task_struct' size={} vlen={}",
        id,
        t.size(),
        t.vlen()
    );
    assert!(text.contains(&line), "{line} not in bpftool's dump");
    assert_eq!(btf.pointer_size(), 8);
}
