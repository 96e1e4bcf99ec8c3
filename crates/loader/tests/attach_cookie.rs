//! BPF cookies through auto_attach (`Targets::cookie`): a tracepoint (perf
//! link), a raw tracepoint and a tp_btf program (BPF_LINK_CREATE with the
//! cookie) and a uprobe each add `bpf_get_attach_cookie()` per event; the
//! sums are the cookie times the number of events.

mod attach_util;

use std::io::Write;
use std::process::{Command, Stdio};

use attach_util::*;
use loader::attach::{auto_attach, Targets};
use loader::sys::Census;

#[test]
fn cookies_reach_the_programs() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("cookies.bpf.o", &[]);
        set_u32(&l, "cfg", 0, std::process::id());
        let mut links = Vec::new();
        for (name, cookie) in [("tp_cookie", 11u64), ("raw_cookie", 22), ("btf_cookie", 33)] {
            let t = Targets {
                cookie: Some(cookie),
                ..Targets::default()
            };
            links.push(auto_attach(&prog(&l, name), &t).unwrap_or_else(|e| panic!("{name}: {e}")));
        }
        let n = 7u64;
        for _ in 0..n {
            // getppid(2): std::os::unix::process::parent_id.
            std::hint::black_box(std::os::unix::process::parent_id());
        }
        let sums = map(&l, "sums");
        assert_eq!(
            (count(sums, 0), count(sums, 1), count(sums, 2)),
            (11 * n, 22 * n, 33 * n)
        );
        drop(links);
        // The uprobe in a child, pid-filtered, cookie 44.
        let mut child = Command::new(fixture("probe_target.user"))
            .arg("5")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        set_u32(&l, "cfg", 0, child.id());
        let t = Targets {
            cookie: Some(44),
            pid: Some(child.id() as i32),
            binary: Some(fixture("probe_target.user")),
            function: Some("btfx_add".into()),
            ..Targets::default()
        };
        let link = auto_attach(&prog(&l, "uprobe_cookie"), &t).unwrap();
        child.stdin.take().unwrap().write_all(b"g").unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(count(sums, 3), 44 * 5);
        drop(link);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
