//! Helpers shared by the attach tests: fixtures, loading, reading a
//! counter map, skipping where bpf(2) is not permitted.
#![allow(dead_code)]

use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

use loader::attach::Prog;
use loader::{load, LoadOptions, Loaded, ProgOutcome};

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
    let v = loader::sys::lookup_for_tests(map, &slot.to_ne_bytes())
        .unwrap()
        .unwrap();
    u64::from_ne_bytes(v[..8].try_into().unwrap())
}

/// Writes `value` (4 bytes) at `slot` of an array map.
pub fn set_u32(l: &Loaded, map_name: &str, slot: u32, value: u32) {
    let m = l.maps.iter().find(|m| m.name == map_name).unwrap();
    loader::sys::map_update(
        m.fd().unwrap(),
        &slot.to_ne_bytes(),
        &value.to_ne_bytes(),
        0,
    )
    .unwrap();
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
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let ns = std::fs::read_link(task.path().join("ns/net")).ok();
        assert_ne!(
            ns.as_deref().and_then(|p| p.to_str()),
            Some(tag.as_str()),
            "a thread is still in the test's network namespace"
        );
    }
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
