//! Kinds this kernel refuses, tested down to the error btfx gives: the
//! trampoline kinds (fentry, fexit, fmod_ret, lsm) are rejected at load;
//! kprobes, kretprobes and ksyscalls find no kprobe PMU; kprobe.multi is
//! refused by BPF_LINK_CREATE. Where a kernel has them, the same tests
//! check that they attach.

mod attach_util;

use attach_util::*;
use loader::attach::{auto_attach, AttachError, LinkKind, Targets};
use loader::sys::Census;

#[test]
fn trampolines_and_kprobes_give_clear_errors() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("refused.bpf.o", &[]);
        let kprobe_pmu = std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists();
        let all = outcomes(&l);
        for (name, section, o) in &all {
            let outcome = match o {
                Ok(_) => match auto_attach(&prog(&l, name), &Targets::default()) {
                    Ok(link) => format!("attached {}", link.kind()),
                    Err(e) => format!("attach error: {e}"),
                },
                Err(errno) => format!("load errno {errno}"),
            };
            eprintln!("{name} ({section}): {outcome}");
            match section.split('/').next().unwrap() {
                "fentry" | "fexit" | "fmod_ret" | "lsm" => {
                    // No trampolines here: EPERM (or ENOTSUPP, 524) at load.
                    if let Err(errno) = o {
                        assert!(
                            [libc::EPERM, 524, libc::EINVAL].contains(errno),
                            "{name}: {outcome}"
                        );
                    }
                }
                "kprobe" | "kretprobe" | "ksyscall" if !kprobe_pmu => {
                    assert!(outcome.contains("no kprobe PMU"), "{name}: {outcome}");
                    assert!(
                        outcome.contains("do_nanosleep") || outcome.contains("sys_nanosleep"),
                        "{outcome}"
                    );
                }
                "kprobe.multi" => {
                    assert!(
                        outcome.starts_with("attached")
                            || outcome.contains("BPF_LINK_CREATE: Operation not supported"),
                        "{name}: {outcome}"
                    );
                }
                _ => {}
            }
        }
        let rejected = all.iter().filter(|p| p.2.is_err()).count();
        eprintln!("{rejected} of {} programs rejected at load", all.len());
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn tracing_attach_checks_the_attach_type() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("trace_counts.bpf.o", &["raw_sys_enter"]);
        let e = loader::attach::attach_tracing(prog(&l, "raw_sys_enter").fd, 5, "x").unwrap_err();
        assert!(
            matches!(
                e,
                AttachError::Target {
                    kind: LinkKind::Tracing,
                    ..
                }
            ),
            "{e}"
        );
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
