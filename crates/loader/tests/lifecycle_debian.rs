//! Objects nobody on this project wrote: the BPF programs Debian ships in
//! xdp-tools, loaded one program at a time through open → configure
//! (autoload) → load, against libbpf 1.1's recorded outcome and errno
//! (fixtures/oracle/load-debian/xdp-tools.txt,
//! scripts/record-debian-load-oracle.sh). Objects not installed here are
//! skipped, saying so.

use std::path::{Path, PathBuf};

use loader::sys::Census;
use loader::{OpenObject, ProgOutcome};

/// A private pin root in the mounted bpffs, removed however the test ends:
/// xdp-filter's maps are pinned by name (LIBBPF_PIN_BY_NAME), and under the
/// default root (/sys/fs/bpf) they would outlive the test and be reused by
/// the next run.
struct PinRoot(PathBuf);

impl PinRoot {
    fn new() -> Option<PinRoot> {
        let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
        let bpffs = mounts
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.get(2) == Some(&"bpf"))
            .and_then(|f| f.get(1).map(PathBuf::from))?;
        let dir = bpffs.join(format!("btfx-debian-{}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        Some(PinRoot(dir))
    }
}

impl Drop for PinRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn xdp_tools_objects_agree_with_libbpf() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let oracle = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/oracle/load-debian/xdp-tools.txt"),
    )
    .unwrap();
    let dir = Path::new("/usr/lib/x86_64-linux-gnu/bpf");
    let counted = Census::begin().unwrap();
    let Some(pins) = PinRoot::new() else {
        eprintln!("skipping: no bpf filesystem mounted (mount -t bpf bpf /sys/fs/bpf)");
        return;
    };
    let (mut agree, mut total, mut skipped) = (0, 0, 0);
    let mut report = String::new();
    for line in oracle.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [obj, prog, section, status, errno] = f[..] else {
            panic!("bad oracle line {line:?}")
        };
        let Ok(elf) = std::fs::read(dir.join(obj)) else {
            skipped += 1;
            continue;
        };
        total += 1;
        let stem = obj.trim_end_matches(".o");
        let mut open = OpenObject::open(&elf, stem).unwrap_or_else(|e| panic!("{obj}: {e}"));
        open.only(&[prog.to_string()]).unwrap();
        open.set_pin_root(&pins.0);
        let loaded = open.load().unwrap_or_else(|e| panic!("{obj}: {e}"));
        let p = loaded.program(prog).unwrap();
        assert_eq!(p.section, section);
        let (got, got_errno) = match &p.outcome {
            ProgOutcome::Loaded { .. } => ("loaded", 0),
            ProgOutcome::Failed(f) => ("rejected", -f.errno),
            ProgOutcome::Skipped => ("skipped", 0),
        };
        if (got, got_errno.to_string().as_str()) == (status, errno) {
            agree += 1;
        } else {
            report.push_str(&format!(
                "{obj}/{prog}: libbpf {status} {errno}, btfx {got} {got_errno}: {:?}\n",
                p.failure()
            ));
        }
    }
    if total == 0 {
        eprintln!(
            "skipping: xdp-tools' BPF objects are not installed in {}",
            dir.display()
        );
    }
    eprintln!("{agree} of {total} xdp-tools programs agree with libbpf ({skipped} not installed)");
    // Pinned maps live until their pins go.
    drop(pins);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
    assert!(report.is_empty(), "{report}");
}

/// Configuring an object nobody here wrote: xdp-dispatcher's `.rodata`
/// `conf` (a 124-byte `struct xdp_dispatcher_config`, static, as bpftool
/// shows its BTF) is set from bytes before load, as libxdp does, and the
/// kernel's frozen `.rodata` map holds exactly them.
#[test]
fn xdp_dispatcher_config_set_before_load() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let Ok(elf) = std::fs::read("/usr/lib/x86_64-linux-gnu/bpf/xdp-dispatcher.o") else {
        eprintln!("skipping: xdp-tools' xdp-dispatcher.o is not installed");
        return;
    };
    let counted = Census::begin().unwrap();
    let mut open = OpenObject::open(&elf, "xdp-dispatcher").unwrap();
    let conf = open.global("conf").unwrap().clone();
    assert_eq!(
        (conf.size, conf.is_static, conf.section.as_str()),
        (124, true, ".rodata")
    );
    // magic, version 2, one program enabled, no frags; chain call actions
    // XDP_PASS (bit 2) for slot 0; run_prios; program_flags zero.
    let mut bytes = vec![0u8; 124];
    bytes[..4].copy_from_slice(&[236, 2, 1, 0]);
    bytes[4..8].copy_from_slice(&(1u32 << 2).to_ne_bytes());
    assert!(open.set_global("conf", &bytes[..123]).is_err());
    open.set_global("conf", &bytes).unwrap();
    let loaded = open.load().unwrap();
    assert!(loaded.all_loaded(), "{loaded:#?}");
    let rodata = loaded.map(&conf.map).unwrap().fd().unwrap();
    let v = loader::sys::map_lookup(rodata, &0u32.to_ne_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(&v[conf.offset as usize..][..124], &bytes[..]);
    drop(loaded);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
