//! Iterators: `iter/task` attached by section name, read twice; its lines
//! list this process's threads with their names, as /proc does.

mod attach_util;

use attach_util::*;
use loader::attach::{auto_attach, read_iter, LinkKind, Targets};
use loader::sys::Census;

#[test]
fn task_iterator_lists_this_process() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("iter.bpf.o", &[]);
        let link = auto_attach(&prog(&l, "dump_task"), &Targets::default()).unwrap();
        assert_eq!(link.kind(), LinkKind::Iter);
        assert_eq!(
            link.info().unwrap().link_type.raw(),
            4,
            "BPF_LINK_TYPE_ITER"
        );
        let text = String::from_utf8(read_iter(&link).unwrap()).unwrap();
        let me = std::process::id();
        let mine: Vec<(u32, String)> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.splitn(3, ' ');
                let tgid: u32 = f.next()?.parse().ok()?;
                let tid: u32 = f.next()?.parse().ok()?;
                (tgid == me).then(|| (tid, f.next().unwrap_or("").to_string()))
            })
            .collect();
        // Every thread /proc lists now, with its comm, is in the output
        // (threads that started after the walk cannot be).
        let mut seen = 0;
        for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let tid: u32 = t.file_name().to_str().unwrap().parse().unwrap();
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap();
            if let Some((_, c)) = mine.iter().find(|(x, _)| *x == tid) {
                assert_eq!(c, comm.trim_end(), "thread {tid}");
                seen += 1;
            }
        }
        assert!(seen >= 1, "no thread of this process in:\n{text}");
        let me_line = mine.iter().find(|(tid, _)| *tid == me);
        assert!(me_line.is_some(), "main thread {me} missing");
        // A second walk works too.
        assert!(!read_iter(&link).unwrap().is_empty());
        let lines = text.lines().count();
        let procs = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .count();
        assert!(
            lines >= procs / 2,
            "{lines} task lines, {procs} processes in /proc"
        );
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// A task iterator scoped by BPF_LINK_CREATE's iter_info: to this process
/// (every line is one of its threads, the main one among them), and to one
/// thread (exactly one line).
#[test]
fn task_iterator_scoped_to_a_process_and_a_thread() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        use loader::attach::{attach_iter, IterScope};
        let l = load_fixture("iter.bpf.o", &["dump_task"]);
        let p = prog(&l, "dump_task");
        let me = std::process::id();
        let link = attach_iter(p.fd, "task", IterScope::Process(me)).unwrap();
        let text = String::from_utf8(read_iter(&link).unwrap()).unwrap();
        let tids: Vec<(u32, u32)> = text
            .lines()
            .map(|l| {
                let mut f = l.split(' ');
                (
                    f.next().unwrap().parse().unwrap(),
                    f.next().unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert!(tids.iter().all(|(tgid, _)| *tgid == me), "{text}");
        assert!(tids.iter().any(|(_, tid)| *tid == me), "{text}");
        drop(link);
        let link = attach_iter(p.fd, "task", IterScope::Thread(me)).unwrap();
        let text = String::from_utf8(read_iter(&link).unwrap()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with(&format!("{me} {me} ")), "{text}");
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
