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
/// binary; the libc lines when this machine's libc is the recorded build.
#[test]
fn function_offsets_match_libbpf() {
    let text =
        std::fs::read_to_string(root().join("fixtures/oracle/attach/uprobe_offsets.txt")).unwrap();
    let want_libc = text
        .lines()
        .find_map(|l| l.strip_prefix("# libc build-id "))
        .unwrap()
        .trim()
        .to_string();
    let libc = std::path::Path::new("/lib/x86_64-linux-gnu/libc.so.6");
    let libc_same = std::fs::read(libc)
        .ok()
        .and_then(|b| {
            use object::Object;
            let f = object::File::parse(&*b).ok()?;
            let id = f.build_id().ok()??;
            Some(id.iter().map(|b| format!("{b:02x}")).collect::<String>())
        })
        .is_some_and(|id| id == want_libc);
    if !libc_same {
        eprintln!("libc differs from the recorded one: checking the fixture binary only");
    }
    let (mut checked, mut errors) = (0, 0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (bin, func) = (f[0], f[1]);
        if bin.starts_with("/lib") && !libc_same {
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
    eprintln!("{checked} offsets agree with libbpf ({errors} refused by both)");
}
