//! Portability tools against the fixture kernels: `btf::path` (btfx field)
//! offsets checked against bpftool's raw dumps, `btf::diff` (btfx diff) and
//! `core_reloc::matrix` (btfx check) snapshots, matrix cells checked against
//! libbpf's recorded CO-RE logs and the kernel's recorded load results.

use std::collections::HashMap;

use btf::path::{resolve, Resolution};
use btf::Btf;
use core_reloc::matrix::{column, Cell, Matrix};

const KERNELS: [&str; 4] = ["arm64-6.12", "x86_64-6.1", "x86_64-6.12", "x86_64-6.18"];

fn kernel(name: &str) -> Vec<u8> {
    std::fs::read(btfx_tests::fixtures().join(format!("kernels/{name}.btf"))).unwrap()
}

/// Composite types of a bpftool raw dump: id -> (name, members (name, type, bits, bitfield)).
type Raw = HashMap<u32, (String, Vec<(String, u32, u64, u32)>)>;

fn raw_dump(name: &str) -> Raw {
    let text = btfx_tests::read_fixture(
        &btfx_tests::fixtures().join(format!("oracle/dump/{name}.raw.gz")),
    );
    let text = String::from_utf8(text).unwrap();
    let mut out = Raw::new();
    let mut cur: Option<u32> = None;
    for l in text.lines() {
        if let Some(m) = l.strip_prefix('\t') {
            let Some(id) = cur else { continue };
            let name = m.split('\'').nth(1).unwrap().to_string();
            let field = |k: &str| {
                m.split(' ')
                    .find_map(|w| w.strip_prefix(k))
                    .map(|v| v.parse::<u64>().unwrap())
            };
            let (Some(ty), Some(bits)) = (field("type_id="), field("bits_offset=")) else {
                continue;
            };
            let bf = field("bitfield_size=").unwrap_or(0) as u32;
            out.get_mut(&id)
                .unwrap()
                .1
                .push((name, ty as u32, bits, bf));
        } else {
            cur = None;
            let id: u32 = l[1..l.find(']').unwrap()].parse().unwrap();
            if l.contains("] STRUCT '") || l.contains("] UNION '") {
                let name = l.split('\'').nth(1).unwrap().to_string();
                out.insert(id, (name, Vec::new()));
                cur = Some(id);
            }
        }
    }
    out
}

/// Every named member reachable from `id` through anonymous members, with
/// its absolute bit offset and bitfield size, from the raw dump alone.
fn flatten(raw: &Raw, id: u32, base: u64, out: &mut Vec<(String, u64, u32)>) {
    for (name, ty, bits, bf) in &raw[&id].1 {
        if name == "(anon)" {
            if raw.contains_key(ty) {
                flatten(raw, *ty, base + bits, out);
            }
        } else {
            out.push((name.clone(), base + bits, *bf));
        }
    }
}

fn found(btf: &Btf<'_>, p: &str) -> btf::path::FieldInfo {
    match resolve(btf, p).unwrap() {
        Resolution::Found(f) => f,
        Resolution::Missing(m) => panic!("{p}: {m:?}"),
    }
}

#[test]
fn field_offsets_equal_bpftool_raw_dump() {
    let structs = [
        "task_struct",
        "sk_buff",
        "sock",
        "mm_struct",
        "file",
        "inode",
        "bpf_prog",
    ];
    let mut checked = 0;
    for k in KERNELS {
        let data = kernel(k);
        let btf = Btf::parse(&data[..]).unwrap();
        let raw = raw_dump(k);
        for s in structs {
            // The first STRUCT of that name, as btf::path picks it.
            let id = raw
                .iter()
                .filter(|(_, (n, _))| n == s)
                .map(|(id, _)| *id)
                .filter(|id| btf.get(btf::TypeId(*id)).unwrap().kind() == btf::Kind::Struct)
                .min()
                .unwrap();
            let mut members = Vec::new();
            flatten(&raw, id, 0, &mut members);
            assert!(members.len() > 10, "{k} {s}");
            for (name, bits, bf) in members {
                let f = found(&btf, &format!("{s}.{name}"));
                assert_eq!(
                    (f.bit_offset, f.bitfield_size),
                    (bits, bf),
                    "{k} {s}.{name}"
                );
                checked += 1;
            }
        }
        // A chain of reads: task_struct.mm, then mm_struct.pgd.
        let f = found(&btf, "task_struct.mm->pgd");
        assert_eq!(f.reads.len(), 2);
        assert_eq!(
            f.reads[0].bit_offset,
            found(&btf, "task_struct.mm").bit_offset
        );
        assert_eq!(f.bit_offset, found(&btf, "mm_struct.pgd").bit_offset);
        assert_eq!(f.size, 8);
        // Arrays: comm is char[16] in every kernel.
        let comm = found(&btf, "task_struct.comm");
        assert_eq!(comm.c_type, "char[16]");
        assert_eq!(
            found(&btf, "task_struct.comm[5]").bit_offset,
            comm.bit_offset + 40
        );
        assert!(matches!(
            resolve(&btf, "task_struct.comm[16]").unwrap(),
            Resolution::Missing(m) if m.index == 2
        ));
    }
    assert!(checked > 1000, "{checked}");
}

#[test]
fn field_answers_snapshot() {
    let data = kernel("x86_64-6.18");
    let btf = Btf::parse(&data[..]).unwrap();
    let mut s = String::new();
    for p in [
        "task_struct.mm->pgd",
        "sk_buff.len",
        "sock.__sk_common.skc_family",
        "task_struct.thread_info.flags",
        "sk_buff.pkt_type",
        "task_struct.real_parent->pid",
        "task_struct.nope",
    ] {
        match resolve(&btf, p).unwrap() {
            Resolution::Found(f) => s.push_str(&format!(
                "{p}: reads {:?} offset {} bits {} size {} bitfield {} type {}\n",
                f.reads
                    .iter()
                    .map(|r| (r.text.as_str(), r.bit_offset))
                    .collect::<Vec<_>>(),
                f.byte_offset(),
                f.bit_offset,
                f.size,
                f.bitfield_size,
                f.c_type
            )),
            Resolution::Missing(m) => s.push_str(&format!(
                "{p}: missing at {} {}: {}\n",
                m.index, m.component, m.why
            )),
        }
    }
    insta::assert_snapshot!("field_x86_64_6_18", s);
}

#[test]
fn diff_snapshot_and_offsets_agree_with_paths() {
    let (da, db) = (kernel("x86_64-6.1"), kernel("x86_64-6.18"));
    let (a, b) = (Btf::parse(&da[..]).unwrap(), Btf::parse(&db[..]).unwrap());
    let names = [
        "task_struct",
        "sk_buff",
        "enum bpf_prog_type",
        "mm_struct",
        "nonexistent_type",
    ];
    let d = btf::diff::diff(&a, &b, &names).unwrap();
    let text: String = d.iter().map(|c| format!("{c}\n")).collect();
    insta::assert_snapshot!("diff_6_1_to_6_18", text);
    let mut moved = 0;
    for c in &d {
        if let btf::diff::Change::MemberOffsetChanged { name, from, to } = &c.change {
            let p = format!("{}.{name}", c.name);
            assert_eq!(found(&a, &p).bit_offset, *from, "{p}");
            assert_eq!(found(&b, &p).bit_offset, *to, "{p}");
            moved += 1;
        }
    }
    assert!(moved > 10);
    // Deterministic and sorted.
    let mut sorted = d.clone();
    sorted.sort();
    assert_eq!(sorted, d);
    assert_eq!(btf::diff::diff(&a, &a, &[]).unwrap(), []);
}

fn matrix(obj: &str) -> Matrix {
    let data = std::fs::read(btfx_tests::fixtures().join(format!("bpf/{obj}.bpf.o"))).unwrap();
    let o = loader::object::Object::parse(&data).unwrap();
    let loader::load::CoreInputs {
        btf: local,
        ext,
        programs,
    } = loader::load::core_inputs(&o).unwrap();
    let kernels: Vec<Vec<u8>> = KERNELS.iter().map(|k| kernel(k)).collect();
    let btfs: Vec<Btf<'_>> = kernels
        .iter()
        .map(|d| Btf::parse(&d[..]).unwrap())
        .collect();
    let cols = KERNELS
        .iter()
        .zip(&btfs)
        .map(|(k, t)| (k.to_string(), column(&local, &ext, &programs, t)))
        .collect();
    Matrix::build(&local, &ext, cols)
}

const OBJECTS: [&str; 10] = [
    "core_fail",
    "core_fields",
    "core_flavors",
    "core_subprog",
    "core_types",
    "fentry_fexit",
    "maps_globals",
    "regs",
    "sock_trace",
    "task_trace",
];

/// Every cell equals libbpf's recorded decision: `patched ... A -> B` gives
/// B, `substituting insn` a poisoned cell.
#[test]
fn matrix_cells_equal_libbpf_logs() {
    let mut cells = 0;
    for obj in OBJECTS {
        let m = matrix(obj);
        for (k, kname) in KERNELS.iter().enumerate() {
            let log = std::fs::read_to_string(
                btfx_tests::fixtures().join(format!("oracle/core/{obj}.{kname}.log")),
            )
            .unwrap();
            let mut want: HashMap<(String, usize), String> = HashMap::new();
            for l in log.lines() {
                let Some(rest) = l.strip_prefix("libbpf: prog '") else {
                    continue;
                };
                let Some((prog, rest)) = rest.split_once("': relo #") else {
                    continue;
                };
                let Some((n, rest)) = rest.split_once(": ") else {
                    continue;
                };
                let n: usize = n.parse().unwrap();
                if rest.starts_with("patched insn") {
                    let v = rest.rsplit(" -> ").next().unwrap().to_string();
                    want.entry((prog.into(), n)).or_insert(v);
                } else if rest.ends_with("w/ invalid insn") {
                    want.insert((prog.into(), n), "poisoned".into());
                }
            }
            for (i, r) in m.rows.iter().enumerate() {
                let c = m.cells[i][k];
                let Some(w) = want.get(&(r.program.clone(), r.index)) else {
                    continue;
                };
                let ours = match c {
                    Cell::Value(v) => (v as i64 as u64).to_string(),
                    c if c.is_poisoned() => "poisoned".into(),
                    c => c.to_string(),
                };
                // libbpf prints imm/off as signed 32-bit numbers.
                let w = w
                    .parse::<i64>()
                    .map_or(w.clone(), |v| (v as u64).to_string());
                let ours = ours.parse::<u64>().map_or(ours.clone(), |v| {
                    if v > u32::MAX as u64 {
                        v.to_string()
                    } else {
                        (v as u32 as i32 as i64 as u64).to_string()
                    }
                });
                assert_eq!(ours, w, "{obj} {kname} {} relo #{}", r.program, r.index);
                cells += 1;
            }
        }
    }
    assert!(cells > 100, "{cells}");
}

/// The running kernel (x86_64-6.18) rejected exactly the programs the matrix
/// says fail there (fixtures/oracle/load, recorded with bpftool); for the
/// other objects, every program the matrix fails was rejected.
#[test]
fn matrix_loads_agree_with_kernel() {
    for obj in OBJECTS {
        let m = matrix(obj);
        let rec =
            std::fs::read_to_string(btfx_tests::fixtures().join(format!("oracle/load/{obj}.txt")))
                .unwrap();
        let loaded: HashMap<&str, bool> = rec
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                Some((*f.first()?, *f.last()? == "loaded"))
            })
            .collect();
        for p in m.programs() {
            let ours = p.loads[3];
            if let Some(&k) = loaded.get(p.name.as_str()) {
                if obj == "core_fail" || !ours {
                    assert_eq!(ours, k, "{obj} {}", p.name);
                }
            }
        }
    }
}

#[test]
fn matrix_snapshots() {
    for obj in ["core_fail", "core_fields", "core_types", "task_trace"] {
        let m = matrix(obj);
        insta::assert_snapshot!(format!("check_{obj}"), m.render_text());
    }
    assert!(matrix("core_fail").failed());
}
