//! The public low-level API over bpf(2): info by fd and by id, ids, fds
//! by id, BTF data, typed program/map types, checked map access, test runs;
//! values compared with what the loader created and with the kernel's own
//! vmlinux BTF.

use std::path::PathBuf;

use loader::sys::{self, Census, ObjKind};
use loader::{MapType, OpenObject, ProgramType};

#[test]
fn info_ids_and_fds_by_id_agree() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let counted = Census::begin().unwrap();
    let elf = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bpf/odd_section.bpf.o"),
    )
    .unwrap();
    let mut obj = OpenObject::open(&elf, "odd_section").unwrap();
    obj.set_autoload("custom_section", false).unwrap();
    let loaded = obj.load().unwrap();
    assert!(loaded.all_loaded());
    let prog = loaded.program("known_socket").unwrap();
    let info = sys::prog_info_full(prog.fd().unwrap()).unwrap();
    assert_eq!(info.prog_type, ProgramType::SocketFilter);
    assert_eq!(info.name, "known_socket");
    assert_eq!(Some(info.id), prog.id());
    // It uses `hits`, .rodata and .data.
    let mut want: Vec<u32> = ["hits", "odd_sect.rodata", "odd_sect.data"]
        .iter()
        .map(|m| loaded.map(m).unwrap().id().unwrap())
        .collect();
    want.sort();
    let mut got = info.map_ids.clone();
    got.sort();
    assert_eq!(got, want);
    assert!(sys::ids(ObjKind::Prog).unwrap().contains(&info.id));
    let again = sys::fd_by_id(ObjKind::Prog, info.id).unwrap();
    assert_eq!(sys::prog_info_full(&again).unwrap().tag, info.tag);

    let hits = loaded.map("hits").unwrap();
    let m = sys::map_info_full(hits.fd().unwrap()).unwrap();
    assert_eq!(
        (
            m.map_type,
            m.key_size,
            m.value_size,
            m.max_entries,
            m.name.as_str()
        ),
        (MapType::Array, 4, 8, 4, "hits")
    );
    let by_id = sys::fd_by_id(ObjKind::Map, m.id).unwrap();
    assert_eq!(sys::map_info_full(&by_id).unwrap(), m);
    // Checked access: wrong key or value sizes never reach the kernel.
    assert!(sys::map_lookup(&by_id, &[0u8; 3]).is_err());
    assert!(sys::map_update(&by_id, &0u32.to_ne_bytes(), &[0u8; 4], 0).is_err());
    sys::map_update(&by_id, &2u32.to_ne_bytes(), &77u64.to_ne_bytes(), 0).unwrap();
    let v = sys::map_lookup(hits.fd().unwrap(), &2u32.to_ne_bytes()).unwrap();
    assert_eq!(v, Some(77u64.to_ne_bytes().to_vec()));

    // The object's BTF, read back from the kernel, is the one the map uses.
    let btf_fd = loaded.btf_fd.as_ref().unwrap();
    let bi = sys::btf_info(btf_fd).unwrap();
    assert_eq!(bi.id, m.btf_id);
    assert_eq!(bi.id, info.btf_id);
    assert!(!bi.kernel_btf);
    let data = sys::btf_data(btf_fd).unwrap();
    assert_eq!(data.len(), bi.size as usize);
    let btf = btf::Btf::parse(&data[..]).unwrap();
    assert!(btf
        .find_by_name_kind("known_socket", btf::Kind::Func)
        .is_some());

    // vmlinux's BTF is among the BTF ids, named so, and the same bytes as
    // /sys/kernel/btf/vmlinux.
    let vmlinux = sys::ids(ObjKind::Btf)
        .unwrap()
        .into_iter()
        .filter_map(|id| sys::fd_by_id(ObjKind::Btf, id).ok())
        .find(|fd| sys::btf_info(fd).is_ok_and(|i| i.name == "vmlinux" && i.kernel_btf))
        .unwrap();
    let bytes = sys::btf_data(&vmlinux).unwrap();
    assert_eq!(bytes, std::fs::read("/sys/kernel/btf/vmlinux").unwrap());

    drop((again, by_id, vmlinux, loaded));
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
