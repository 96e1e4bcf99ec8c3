//! Tracepoints, raw tracepoints and tp_btf: attached by section name, the
//! trigger (getpid(2), counted per process) runs, the counters say each
//! program ran exactly once per call, and after the links are dropped the
//! programs stop and nothing is left in the kernel.

mod attach_util;

use attach_util::*;
use loader::attach::{auto_attach, AttachError, LinkKind, Prog, Targets};
use loader::sys::Census;

/// getpid(2): glibc (2.25 and later) does not cache it, so each call
/// enters the kernel and fires the syscall tracepoints.
fn getpid() -> u32 {
    std::process::id()
}

#[test]
fn tracepoint_raw_tp_and_tp_btf_count_getpid() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("trace_counts.bpf.o", &[]);
        set_u32(&l, "cfg", 0, tgid());
        let names = [
            "tp_getpid",
            "raw_sys_enter",
            "btf_sys_enter",
            "tp_exit_getpid",
        ];
        let mut links = Vec::new();
        for n in names {
            let link = auto_attach(&prog(&l, n), &Targets::default()).unwrap();
            links.push(link);
        }
        assert_eq!(
            links.iter().map(|l| l.kind()).collect::<Vec<_>>(),
            [
                LinkKind::Tracepoint,
                LinkKind::RawTracepoint,
                LinkKind::Tracing,
                LinkKind::Tracepoint
            ]
        );
        assert_eq!(links[0].target(), "syscalls/sys_enter_getpid");
        assert_eq!(links[1].target(), "sys_enter");
        // Every attachment is a BPF link on this kernel: perf event links
        // (BPF_LINK_TYPE_PERF_EVENT = 7) for tracepoints, raw tracepoint
        // links (1) for raw_tp and for tp_btf (the kernel makes a raw_tp
        // link for BPF_TRACE_RAW_TP programs).
        let types: Vec<u32> = links
            .iter()
            .map(|l| l.info().unwrap().link_type.raw())
            .collect();
        assert_eq!(types, [7, 1, 1, 7]);
        let counts = map(&l, "counts");
        let before: Vec<u64> = (0..4).map(|s| count(counts, s)).collect();
        assert_eq!(before, [0, 0, 0, 0]);
        for _ in 0..25 {
            let _ = getpid();
        }
        let after: Vec<u64> = (0..4).map(|s| count(counts, s)).collect();
        assert_eq!(after, [25, 25, 25, 25]);
        drop(links);
        for _ in 0..5 {
            let _ = getpid();
        }
        let end: Vec<u64> = (0..4).map(|s| count(counts, s)).collect();
        assert_eq!(
            end,
            [25, 25, 25, 25],
            "programs ran after their links were dropped"
        );
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn pinned_link_outlives_its_value_until_unpinned() {
    if !can_bpf() {
        return;
    }
    let Some(fs) = bpffs() else {
        eprintln!("skipping: no bpf filesystem mounted");
        return;
    };
    let counted = Census::begin().unwrap();
    let pin = fs.join(format!("btfx-attach-pin-{}", std::process::id()));
    {
        let l = load_fixture("trace_counts.bpf.o", &["raw_sys_enter"]);
        set_u32(&l, "cfg", 0, tgid());
        let mut link = auto_attach(&prog(&l, "raw_sys_enter"), &Targets::default()).unwrap();
        link.pin(&pin).unwrap();
        assert_eq!(link.pinned(), Some(pin.as_path()));
        let id = link.info().unwrap().id;
        drop(link);
        drop(l);
        // The pinned link keeps the program (and its maps) alive.
        let live = counted.leaks().unwrap();
        assert_eq!(live.links, vec![id]);
        assert_eq!(live.progs.len(), 1);
        // Reopened from its pin (bpf_link__open), then detached: the pin
        // goes and the link with it.
        let again = loader::attach::Link::open_pinned(&pin).unwrap();
        assert_eq!(again.info().unwrap().id, id);
        assert_eq!(again.kind(), LinkKind::RawTracepoint);
        again.detach().unwrap();
    }
    assert!(!pin.exists());
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn explicit_detach_and_missing_targets() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("trace_counts.bpf.o", &["tp_getpid", "raw_sys_enter"]);
        let tp = prog(&l, "tp_getpid");
        // A bare "tp" section names no tracepoint.
        let bare = Prog {
            section: "tp",
            ..tp
        };
        match auto_attach(&bare, &Targets::default()) {
            Err(AttachError::MissingTarget { section, what }) => {
                assert_eq!(section, "tp");
                assert!(what.contains("tp/<category>/<name>"), "{what}");
            }
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        // A tracepoint that does not exist.
        let nope = Prog {
            section: "tp/syscalls/sys_enter_no_such_call",
            ..tp
        };
        let e = auto_attach(&nope, &Targets::default()).unwrap_err();
        assert!(
            matches!(
                &e,
                AttachError::Target {
                    kind: LinkKind::Tracepoint,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("no such tracepoint"), "{e}");
        let raw = prog(&l, "raw_sys_enter");
        let e = loader::attach::attach_raw_tracepoint(raw.fd, "no_such_tracepoint").unwrap_err();
        assert!(e.to_string().contains("no such tracepoint"), "{e}");
        // A malformed section.
        let e = auto_attach(
            &Prog {
                section: "tp/syscalls",
                ..tp
            },
            &Targets::default(),
        )
        .unwrap_err();
        assert!(matches!(e, AttachError::BadSection { .. }), "{e}");
        // detach() reports success and leaves nothing.
        let link = auto_attach(&tp, &Targets::default()).unwrap();
        link.detach().unwrap();
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn perf_event_samples_cpu_clock_on_every_cpu() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("trace_counts.bpf.o", &["on_sample"]);
        let p = prog(&l, "on_sample");
        match auto_attach(&p, &Targets::default()) {
            Err(AttachError::MissingTarget { what, .. }) => assert!(what.contains("perf event")),
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        // cpu-clock every 100 µs of CPU time on each CPU.
        let ev = loader::attach::SoftwareEvent {
            config: loader::attach::perf_event::sw::CPU_CLOCK,
            period: 100_000,
            freq: false,
        };
        let t = Targets {
            perf_event: Some(ev),
            ..Targets::default()
        };
        let link = auto_attach(&p, &t).unwrap();
        let cpus = loader::attach::perf_event::online_cpus().unwrap();
        assert_eq!(link.parts().len(), cpus.len());
        assert!(link
            .parts()
            .iter()
            .all(|p| p.info().unwrap().link_type.raw() == 7));
        // Burn ~50 ms of CPU on this thread: about 500 samples on its CPU.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(50) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let n = count(map(&l, "samples"), 0);
        assert!(n >= 100, "only {n} samples in 50 ms of CPU at 10 kHz");
        drop(link);
        let frozen = count(map(&l, "samples"), 0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(count(map(&l, "samples"), 0), frozen);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// The pre-link way (`PERF_EVENT_IOC_SET_BPF`), which kernels before 5.15
/// get: no link fd, and dropping the link (closing the event) detaches.
#[test]
fn tracepoint_by_ioctl() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("trace_counts.bpf.o", &["tp_getpid"]);
        set_u32(&l, "cfg", 0, tgid());
        let link = loader::attach::attach_tracepoint_with(
            prog(&l, "tp_getpid").fd,
            "syscalls",
            "sys_enter_getpid",
            loader::attach::PerfMethod::Ioctl,
        )
        .unwrap();
        assert!(link.fd().is_none() && link.info().is_none());
        for _ in 0..12 {
            let _ = getpid();
        }
        assert_eq!(count(map(&l, "counts"), 0), 12);
        link.detach().unwrap();
        let _ = getpid();
        assert_eq!(count(map(&l, "counts"), 0), 12);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
