//! Helpers shared by the attach tests: fixtures, loading, reading a
//! counter map, skipping where bpf(2) is not permitted.
#![allow(dead_code)]

use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

use loader::attach::Prog;
use loader::{load, LoadOptions, ProgOutcome};

/// The loader's result type (one place to change when its API moves).
pub type Loaded = loader::Loaded;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `fixtures/bpf/attach/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/bpf/attach").join(name)
}

/// Whether kernel tests can run; prints why not.
pub fn can_bpf() -> bool {
    match loader::sys::probe_bpf() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
            false
        }
    }
}

/// Loads `fixtures/bpf/attach/<name>` (only `progs` when not empty).
pub fn load_fixture(name: &str, progs: &[&str]) -> Loaded {
    let elf = std::fs::read(fixture(name)).unwrap();
    let opts = LoadOptions {
        obj_name: name.trim_end_matches(".bpf.o").into(),
        programs: progs.iter().map(|s| s.to_string()).collect(),
        ..LoadOptions::default()
    };
    load(&elf, &opts).unwrap()
}

/// The loaded program `name` as attaching takes it.
pub fn prog<'a>(l: &'a Loaded, name: &str) -> Prog<'a> {
    let p = l
        .programs
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no program {name}"));
    let ProgOutcome::Loaded { fd, .. } = &p.outcome else {
        panic!("program {name} not loaded: {:?}", p.outcome);
    };
    let spec = loader::progtype::from_section(&p.section).unwrap();
    Prog {
        fd: fd.as_fd(),
        prog_type: spec.prog_type,
        expected_attach_type: spec.expected_attach_type,
        section: &p.section,
        name: &p.name,
    }
}

/// The fd of map `name`.
pub fn map<'a>(l: &'a Loaded, name: &str) -> BorrowedFd<'a> {
    l.maps
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no map {name}"))
        .fd()
        .unwrap_or_else(|| panic!("map {name} was not created"))
        .as_fd()
}

/// `u64` value at `slot` of an array map.
pub fn count(map: BorrowedFd<'_>, slot: u32) -> u64 {
    let v = loader::map_ops::Map::new(map)
        .unwrap()
        .lookup(&slot.to_ne_bytes())
        .unwrap()
        .unwrap();
    u64::from_ne_bytes(v[..8].try_into().unwrap())
}

/// Writes `value` (4 bytes) at `slot` of an array map.
pub fn set_u32(l: &Loaded, map_name: &str, slot: u32, value: u32) {
    update(map(l, map_name), &slot.to_ne_bytes(), &value.to_ne_bytes());
}

/// `BPF_MAP_UPDATE_ELEM` (flags 0).
pub fn update(map: BorrowedFd<'_>, key: &[u8], value: &[u8]) {
    loader::sys::map_update(map, key, value, 0).unwrap();
}

/// Loads hand-built instructions as a program of `prog_type` with
/// `expected_attach_type` (and `attach_btf_id` in vmlinux), license GPL:
/// for programs the loader cannot build from a section.
pub fn raw_prog(
    prog_type: u32,
    expected_attach_type: u32,
    insns: &[u8],
    name: &str,
    attach_btf_id: u32,
) -> std::os::fd::OwnedFd {
    loader::sys::prog_load(&loader::sys::ProgLoad {
        prog_type: loader::ProgramType::from_raw(prog_type),
        expected_attach_type: (expected_attach_type != 0)
            .then(|| loader::AttachType::from_raw(expected_attach_type)),
        insns,
        license: b"GPL\0",
        name,
        attach_btf_id,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{name}: {} {}", e.error, e.log))
}

/// Kernel id of a program.
pub fn prog_id(prog: BorrowedFd<'_>) -> u32 {
    loader::sys::prog_info(prog).unwrap().0
}

/// A loaded program's name, section, and (id, fd) or its load errno.
pub type Outcome<'a> = (&'a str, &'a str, Result<(u32, BorrowedFd<'a>), i32>);

/// The programs of a load.
pub fn outcomes(l: &Loaded) -> Vec<Outcome<'_>> {
    l.programs
        .iter()
        .map(|p| {
            let o = match &p.outcome {
                ProgOutcome::Loaded { id, fd } => Ok((*id, fd.as_fd())),
                ProgOutcome::Failed(f) => Err(f.errno),
                ProgOutcome::Skipped => Err(0),
            };
            (p.name.as_str(), p.section.as_str(), o)
        })
        .collect()
}

/// Loads `elf` with LIBBPF_PIN_BY_NAME maps under `pin_root`; `None` when
/// the loader refuses the object.
pub fn load_with_pin_root(elf: &[u8], name: &str, pin_root: &std::path::Path) -> Option<Loaded> {
    let opts = LoadOptions {
        obj_name: name.into(),
        pin_root: Some(pin_root.to_path_buf()),
        ..LoadOptions::default()
    };
    load(elf, &opts).ok()
}

/// This process's tgid.
pub fn tgid() -> u32 {
    std::process::id()
}

/// A mounted bpffs, if any.
pub fn bpffs() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&"bpf"))
        .and_then(|f| f.get(1).map(PathBuf::from))
}

/// [`in_netns`] inside a counted stretch: no program, map, link or BTF the
/// closure made may outlive it.
pub fn counted_in_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let counted = loader::sys::Census::begin().unwrap();
    let out = in_netns(f);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
    out
}

/// Runs `f` on a new thread inside a new, private network namespace whose
/// loopback is up; `None` (with the reason printed) when namespaces or the
/// `ip` tool are not available. After the thread ends, checks that no task
/// is left in that namespace (it is gone with the thread).
pub fn in_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    if Command::new("ip").arg("-V").output().is_err() {
        eprintln!("skipping: no `ip` tool (iproute2)");
        return None;
    }
    let h = std::thread::spawn(move || {
        if let Err(e) = loader::sys::unshare_net() {
            eprintln!("skipping: unshare(CLONE_NEWNET): {e}");
            return None;
        }
        let ino = loader::sys::net_ns_inode().unwrap();
        ip(&["link", "set", "lo", "up"]);
        Some((f(), ino))
    });
    let (out, ino) = match h.join() {
        Ok(r) => r?,
        Err(p) => std::panic::resume_unwind(p),
    };
    let tag = format!("net:[{ino}]");
    // `join` returns once the thread's tid is cleared, which the kernel does
    // before the exiting task leaves its namespaces: give it a moment.
    let in_ns = || {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .filter(|task| {
                std::fs::read_link(task.path().join("ns/net"))
                    .ok()
                    .is_some_and(|p| p.to_str() == Some(tag.as_str()))
            })
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while in_ns() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        in_ns(),
        0,
        "a thread is still in the test's network namespace"
    );
    Some(out)
}

use std::process::Command;

/// Runs `ip ARGS` (in the calling thread's network namespace) and returns
/// its stdout; panics when it fails.
pub fn ip(args: &[&str]) -> String {
    tool("ip", args)
}

/// Runs `tc ARGS`.
pub fn tc(args: &[&str]) -> String {
    tool("tc", args)
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The UDP port the network fixtures count.
pub const PORT: u16 = 47613;

/// Sends `n` datagrams to `to`:PORT from a socket bound to `from`.
pub fn send_udp(from: &str, to: &str, n: usize) {
    let s = std::net::UdpSocket::bind((from, 0)).unwrap();
    for i in 0..n {
        s.send_to(&[i as u8; 8], (to, PORT)).unwrap();
    }
}

/// One BPF instruction, little-endian.
pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = dst | (src << 4);
    b[2..4].copy_from_slice(&off.to_le_bytes());
    b[4..8].copy_from_slice(&imm.to_le_bytes());
    b
}

/// `r0 = ret; exit`, or (with `count`, an array map of u64) first
/// `count[0] += 1`: for programs the loader cannot build from a section.
pub fn counting_body(ret: i32, count: Option<&std::os::fd::OwnedFd>) -> Vec<u8> {
    use std::os::fd::AsRawFd;
    let mut v = Vec::new();
    if let Some(map) = count {
        v.extend(insn(0x18, 1, 1, 0, map.as_raw_fd())); // r1 = map (ld_imm64)
        v.extend(insn(0, 0, 0, 0, 0));
        v.extend(insn(0x62, 10, 0, -4, 0)); // *(u32 *)(r10 - 4) = 0
        v.extend(insn(0xbf, 2, 10, 0, 0)); // r2 = r10
        v.extend(insn(0x07, 2, 0, 0, -4)); // r2 += -4
        v.extend(insn(0x85, 0, 0, 0, 1)); // call bpf_map_lookup_elem
        v.extend(insn(0x15, 0, 0, 2, 0)); // if r0 == 0 goto +2
        v.extend(insn(0xb7, 1, 0, 0, 1)); // r1 = 1
        v.extend(insn(0xdb, 0, 1, 0, 0)); // lock *(u64 *)(r0 + 0) += r1
    }
    v.extend(insn(0xb7, 0, 0, 0, ret)); // r0 = ret
    v.extend(insn(0x95, 0, 0, 0, 0)); // exit
    v
}

/// A one-slot u64 array map.
pub fn counter_map(name: &str) -> std::os::fd::OwnedFd {
    counter_map_raw(name)
}

fn counter_map_raw(name: &str) -> std::os::fd::OwnedFd {
    loader::sys::map_create(&loader::sys::MapCreate {
        map_type: loader::MapType::Array,
        key_size: 4,
        value_size: 8,
        max_entries: 1,
        name,
        ..Default::default()
    })
    .unwrap()
}
