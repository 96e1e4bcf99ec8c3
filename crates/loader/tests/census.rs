//! The kernel-object census that every kernel test uses to prove it left
//! nothing behind: a program loaded and kept is seen, one dropped is not.

use loader::sys::{self, Census};

#[test]
fn census_sees_a_live_program_and_not_a_dropped_one() {
    if let Err(e) = sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let counted = Census::begin().unwrap();
    let insns: [u8; 16] = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
    let fd = sys::prog_load(&sys::ProgLoad {
        prog_type: sys::ProgramType::SocketFilter,
        insns: &insns,
        license: b"GPL\0",
        name: "census",
        ..sys::ProgLoad::default()
    })
    .unwrap();
    let (id, _) = sys::prog_info(&fd).unwrap();
    let live = counted.leaks().unwrap();
    assert_eq!(live.progs, vec![id], "the live program is the one new id");
    drop(fd);
    let after = counted.leaks().unwrap();
    assert!(after.is_empty(), "left behind: {after}");
}
