//! uprobes and uretprobes: on a function of a test program
//! (fixtures/bpf/attach/probe_target.user, pid-filtered) and on libc's
//! getpid in this process (the section names the library); the counters
//! and argument sums prove each probe ran once per call with the right
//! arguments; afterwards nothing is left.

mod attach_util;

use std::io::Write;
use std::process::{Command, Stdio};

use attach_util::*;
use loader::attach::{auto_attach, AttachError, LinkKind, Targets};
use loader::sys::Census;

/// Runs probe_target.user with `n` iterations; `attach` runs between spawn
/// and go (it gets the child's pid). Returns the child's stdout.
pub fn run_target<T>(n: u64, attach: impl FnOnce(u32) -> T) -> (T, String) {
    let mut child = Command::new(fixture("probe_target.user"))
        .arg(n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let held = attach(child.id());
    child.stdin.take().unwrap().write_all(b"g").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    (held, String::from_utf8(out.stdout).unwrap())
}

#[test]
fn uprobe_and_uretprobe_on_a_function_of_one_process() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("probes.bpf.o", &["add_entry", "add_return"]);
        let entry = prog(&l, "add_entry");
        // A bare "uprobe" section needs the binary and the function.
        match auto_attach(&entry, &Targets::default()) {
            Err(AttachError::MissingTarget { what, .. }) => assert!(what.contains("binary")),
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        let n = 40u64;
        let (links, out) = run_target(n, |pid| {
            set_u32(&l, "cfg", 0, pid);
            let t = Targets {
                binary: Some(fixture("probe_target.user")),
                function: Some("btfx_add".into()),
                pid: Some(pid as i32),
                ..Targets::default()
            };
            let a = auto_attach(&entry, &t).unwrap();
            let b = auto_attach(&prog(&l, "add_return"), &t).unwrap();
            assert_eq!(a.kind(), LinkKind::Uprobe);
            assert!(
                a.target().ends_with("probe_target.user:btfx_add"),
                "{}",
                a.target()
            );
            (a, b)
        });
        // sum of (i + 1000) for i < n
        let expect_sum: u64 = (0..n).map(|i| i + 1000).sum();
        assert_eq!(out.trim(), expect_sum.to_string());
        let hits = map(&l, "hits");
        let sums = map(&l, "sums");
        assert_eq!((count(hits, 0), count(hits, 1)), (n, n));
        assert_eq!(count(sums, 0), (0..n).sum::<u64>(), "first arguments");
        assert_eq!(count(sums, 1), expect_sum, "return values");
        drop(links);
        // Detached: another run adds nothing.
        let ((), _) = run_target(3, |pid| set_u32(&l, "cfg", 0, pid));
        assert_eq!((count(hits, 0), count(hits, 1)), (n, n));
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn uprobe_on_libc_named_by_the_section() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("probes.bpf.o", &["libc_getpid"]);
        set_u32(&l, "cfg", 0, std::process::id());
        let link = match auto_attach(&prog(&l, "libc_getpid"), &Targets::default()) {
            Ok(link) => link,
            Err(e) => panic!("uprobe/libc.so.6:getpid: {e}"),
        };
        assert!(
            link.target().contains("libc.so.6:getpid"),
            "{}",
            link.target()
        );
        for _ in 0..20 {
            std::hint::black_box(std::process::id());
        }
        assert_eq!(count(map(&l, "hits"), 4), 20);
        drop(link);
        std::hint::black_box(std::process::id());
        assert_eq!(count(map(&l, "hits"), 4), 20);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn uprobe_target_errors() {
    let p = fixture("probe_target.user");
    let e = loader::attach::elfsym::func_offset(&p, "no_such_function").unwrap_err();
    assert!(e.to_string().contains("no function symbol"), "{e}");
    let e = loader::attach::elfsym::resolve_binary(LinkKind::Uprobe, "libnosuch.so.9").unwrap_err();
    assert!(e.to_string().contains("library not found"), "{e}");
    let e = loader::attach::elfsym::func_offset(&fixture("probes.bpf.c"), "x").unwrap_err();
    assert!(e.to_string().contains("not a 64-bit ELF file"), "{e}");
}

/// Offsets against libbpf's (fixtures/oracle/attach/uprobe_offsets.txt,
/// scripts/record-uprobe-oracle.sh): every line of the checked-in fixture
/// binary; a system library's lines when this machine's file is the
/// recorded build (its build id is in the header).
#[test]
fn function_offsets_match_libbpf() {
    use std::collections::HashMap;
    let text =
        std::fs::read_to_string(root().join("fixtures/oracle/attach/uprobe_offsets.txt")).unwrap();
    let build_id = |path: &str| -> Option<String> {
        use object::Object;
        let b = std::fs::read(path).ok()?;
        let f = object::File::parse(&*b).ok()?;
        let id = f.build_id().ok()??;
        Some(id.iter().map(|b| format!("{b:02x}")).collect())
    };
    let same: HashMap<String, bool> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# build-id "))
        .map(|l| {
            let (path, id) = l.split_once(' ').unwrap();
            (
                path.to_string(),
                build_id(path).as_deref() == Some(id.trim()),
            )
        })
        .collect();
    let (mut checked, mut errors, mut skipped) = (0, 0, 0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (bin, func) = (f[0], f[1]);
        if bin.starts_with('/') && !same.get(bin).copied().unwrap_or(false) {
            skipped += 1;
            continue;
        }
        let path = if bin.starts_with('/') {
            std::path::PathBuf::from(bin)
        } else {
            root().join(bin)
        };
        let got = loader::attach::elfsym::func_offset(&path, func);
        match (f[2], got) {
            ("error", Err(_)) => errors += 1,
            ("error", Ok(off)) => panic!("{line}: btfx found {off:#x}"),
            (want, Ok(off)) => assert_eq!(format!("{off:#x}"), want, "{line}"),
            (_, Err(e)) => panic!("{line}: {e}"),
        }
        checked += 1;
    }
    assert!(checked >= 2);
    eprintln!(
        "{checked} lines agree with libbpf ({errors} refused by both); {skipped} skipped (other builds)"
    );
}

/// uprobe.multi: one link for every function matching a glob (6.6+), by
/// section name; the program is built by hand (the loader's section table
/// does not know uprobe.multi yet) with expected attach type 48.
#[test]
fn uprobe_multi_by_pattern() {
    if !can_bpf() {
        return;
    }
    let bin = fixture("probe_target.user");
    // The pattern resolution: offsets as libbpf's (the oracle's btfx_add and main).
    let all = loader::attach::elfsym::func_offsets_matching(&bin, "*").unwrap();
    assert!(all.contains(&("btfx_add".into(), 0x1160)), "{all:?}");
    assert!(all.contains(&("main".into(), 0x1170)), "{all:?}");
    let counted = Census::begin().unwrap();
    {
        use std::os::fd::AsFd;
        let counts = counter_map("umulti");
        let insns = counting_body(0, Some(&counts));
        for retprobe in [false, true] {
            let prog = raw_prog(
                2,
                loader::attach::uprobe_multi::UPROBE_MULTI,
                &insns,
                "umulti",
                0,
            );
            let before = count(counts.as_fd(), 0);
            let sec = format!(
                "{}/{}:btfx_a*",
                if retprobe {
                    "uretprobe.multi"
                } else {
                    "uprobe.multi"
                },
                bin.display()
            );
            let p = loader::attach::Prog {
                fd: prog.as_fd(),
                prog_type: 2,
                expected_attach_type: 48,
                section: &sec,
                name: "umulti",
            };
            let (link, _) = run_target(17, |pid| {
                let t = Targets {
                    pid: Some(pid as i32),
                    ..Targets::default()
                };
                auto_attach(&p, &t).unwrap()
            });
            assert_eq!(
                link.info().unwrap().link_type.raw(),
                12,
                "BPF_LINK_TYPE_UPROBE_MULTI"
            );
            assert_eq!(count(counts.as_fd(), 0) - before, 17, "retprobe {retprobe}");
            drop(link);
            run_target(2, |_| ());
            assert_eq!(count(counts.as_fd(), 0) - before, 17);
        }
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// The tracefs way (`uprobe_events`, for kernels without the uprobe PMU),
/// forced: entry and return probes count every call; after the links are
/// dropped the probes are gone from uprobe_events.
#[test]
fn uprobe_through_tracefs_uprobe_events() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    let events = loader::attach::tracefs::root()
        .unwrap()
        .join("uprobe_events");
    {
        let l = load_fixture("probes.bpf.o", &["add_entry", "add_return"]);
        let bin = fixture("probe_target.user");
        let n = 9u64;
        let (links, _) = run_target(n, |pid| {
            set_u32(&l, "cfg", 0, pid);
            let mut v = Vec::new();
            for (name, retprobe) in [("add_entry", false), ("add_return", true)] {
                let opts = loader::attach::UprobeOpts {
                    retprobe,
                    pid: Some(pid as i32),
                    legacy_tracefs: true,
                    ..Default::default()
                };
                let link = loader::attach::attach_uprobe(
                    prog(&l, name).fd,
                    &bin.to_string_lossy(),
                    Some("btfx_add"),
                    0,
                    &opts,
                )
                .unwrap();
                assert!(link.target().contains("uprobes/btfx_"), "{}", link.target());
                v.push(link);
            }
            v
        });
        let mine = format!("btfx_{}_", std::process::id());
        let listed = std::fs::read_to_string(&events).unwrap();
        assert_eq!(listed.matches(&mine).count(), 2, "{listed}");
        let (hits, sums) = (map(&l, "hits"), map(&l, "sums"));
        assert_eq!((count(hits, 0), count(hits, 1)), (n, n));
        assert_eq!(count(sums, 0), (0..n).sum::<u64>());
        drop(links);
        let listed = std::fs::read_to_string(&events).unwrap();
        assert!(
            !listed.contains(&mine),
            "probes left in uprobe_events: {listed}"
        );
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// Damaged ELF input (every truncation of the fixture binary, and bytes
/// flipped in its headers) gives errors, never a panic, from the symbol
/// lookup and the USDT note reader.
#[test]
fn damaged_binaries_give_errors() {
    let bytes = std::fs::read(fixture("probe_target.user")).unwrap();
    let dir = std::env::temp_dir().join(format!("btfx-attach-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bin");
    let (mut errors, mut found) = (0, 0);
    let mut cases: Vec<Vec<u8>> = (0..bytes.len())
        .step_by(97)
        .map(|n| bytes[..n].to_vec())
        .collect();
    for at in (0..0x400).step_by(3) {
        let mut b = bytes.clone();
        b[at] ^= 0xa5;
        cases.push(b);
    }
    for b in &cases {
        std::fs::write(&path, b).unwrap();
        match loader::attach::elfsym::func_offset(&path, "btfx_add") {
            Ok(_) => found += 1,
            Err(_) => errors += 1,
        }
        if let Ok(f) = object::read::elf::ElfFile64::<object::Endianness>::parse(&b[..]) {
            let _ = loader::attach::usdt_spec::notes(&f);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "{} damaged inputs: {errors} errors, {found} still found btfx_add",
        cases.len()
    );
    assert!(errors > 0);
}
