//! `btfx run` end to end against the running kernel, with this test
//! process as the one whose write(2) calls the fixture programs watch
//! (fixtures/bpf/run/): the helloworld shape prints its bpf_printk line;
//! the ring/perf buffer object's events come out decoded with field names;
//! `--set` changes what the programs filter; SIGINT ends the run cleanly
//! with exit 0 (SIGTERM too); a program that cannot attach is reported (exit 1) while
//! the others run; bad input exits 2. Every kernel test counts the
//! kernel's objects before and after (loader::sys::Census).
//!
//! (These live in the btf-cli package, not tests/tests/, because only a
//! test of the package that builds `btfx` gets its path from Cargo.)

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use loader::sys::{self, Census};
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/bpf")
        .join(rel)
}

fn bpf_allowed() -> bool {
    match sys::probe_bpf() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
            false
        }
    }
}

/// Writes to /dev/null from this process (2 bytes and 5000 bytes every
/// 10 ms) until dropped: the write(2) calls the fixtures trace.
struct Writer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start() -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .unwrap();
            let big = vec![b'x'; 5000];
            while !s.load(Ordering::Relaxed) {
                let _ = f.write(b"x\n");
                let _ = f.write(&big);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Writer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs btfx to the end: (exit code, JSON lines, stderr).
fn btfx_json(args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_btfx"))
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

#[test]
fn hello_prints_its_printk_line_for_the_pid_set() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let me = std::process::id().to_string();
    let hello = fixture("run/hello.bpf.o");
    let _w = Writer::start();
    let (code, lines, err) = btfx_json(&[
        "run",
        hello.to_str().unwrap(),
        "--set",
        &format!("targ_pid={me}"),
        "--count",
        "3",
        "--duration",
        "20",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let attach = of_type(&lines, "attach");
    assert_eq!(attach.len(), 1);
    assert_eq!(attach[0]["program"], "handle_write");
    assert_eq!(attach[0]["section"], "tp/syscalls/sys_enter_write");
    assert_eq!(attach[0]["ok"], true);
    // The pipe is shared with every BPF program on the machine: ours are
    // the lines with our text, and with targ_pid set all of them are ours.
    let want = format!("btfx hello from pid {me}");
    let ours: Vec<_> = of_type(&lines, "printk")
        .into_iter()
        .filter(|l| {
            l["text"]
                .as_str()
                .unwrap()
                .starts_with("btfx hello from pid")
        })
        .collect();
    assert!(ours.len() >= 3, "{lines:?}");
    assert!(ours.iter().all(|l| l["text"] == want.as_str()), "{ours:?}");
    // The .rodata map dumped at the end shows the value --set wrote.
    let rodata = of_type(&lines, "map")
        .into_iter()
        .find(|m| m["name"] == "hello.rodata")
        .unwrap();
    assert_eq!(
        rodata["entries"][0]["value"][".rodata"][0]["targ_pid"],
        me.parse::<u64>().unwrap()
    );
    let exit = lines.last().unwrap();
    assert_eq!(exit["type"], "exit");
    assert_eq!(exit["reason"], "count");
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn a_pid_nobody_has_filters_every_line_out() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let hello = fixture("run/hello.bpf.o");
    let _w = Writer::start();
    let (code, lines, err) = btfx_json(&[
        "run",
        hello.to_str().unwrap(),
        "--set",
        "targ_pid=2147483646",
        "--duration",
        "1",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let ours = of_type(&lines, "printk")
        .into_iter()
        .filter(|l| {
            l["text"]
                .as_str()
                .unwrap()
                .starts_with("btfx hello from pid")
        })
        .count();
    assert_eq!(ours, 0, "{lines:?}");
    assert_eq!(lines.last().unwrap()["reason"], "duration");
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn ring_and_perf_events_decoded_and_filtered_by_set() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let me = std::process::id();
    let events = fixture("run/events.bpf.o");
    let _w = Writer::start();
    let (code, lines, err) = btfx_json(&[
        "run",
        events.to_str().unwrap(),
        "--set",
        &format!("targ_pid={me}"),
        "--set",
        "min_count=4096",
        // The type from a BTF given apart (here the object's own file).
        "--event-btf",
        events.to_str().unwrap(),
        "--event-type",
        "struct event",
        "--count",
        "6",
        "--duration",
        "20",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let evs = of_type(&lines, "event");
    assert!(evs.len() >= 6, "{lines:?}");
    let (mut ring, mut perf) = (0, 0);
    for e in &evs {
        let v = &e["value"];
        assert_eq!(v["pid"], me, "{e}");
        // min_count=4096 keeps only the 5000-byte writes.
        assert_eq!(v["count"], 5000, "{e}");
        assert_eq!(v["kind"], "KIND_BIG_WRITE");
        assert_eq!(v["tail_len"], 4);
        assert!(v["comm"].is_string());
        if e["map"] == "events" {
            // The ring buffer record stops 4 bytes into `tail`.
            assert_eq!(e["size"], 44);
            assert_eq!(e["type_size"], 72);
            assert_eq!(v["tail"], serde_json::json!([116, 97, 105, 108]));
            assert!(e.get("cpu").is_none());
            ring += 1;
        } else {
            assert_eq!(e["map"], "perf_events");
            assert!(e["cpu"].is_u64());
            // 72 bytes padded by the kernel to 76 (with the size word, 80).
            assert_eq!(e["size"], 76);
            assert_eq!(v["tail"], "tail");
            perf += 1;
        }
    }
    assert!(ring > 0 && perf > 0, "ring {ring} perf {perf}");
    // The counts map at the end holds this process only.
    let counts = of_type(&lines, "map")
        .into_iter()
        .find(|m| m["name"] == "counts")
        .unwrap();
    let entries = counts["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{counts}");
    assert_eq!(entries[0]["key"], me);
    assert!(entries[0]["value"].as_u64().unwrap() >= 3);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn sigint_stops_cleanly_and_leaves_nothing() {
    stop_by_signal("INT", "SIGINT");
}

#[test]
fn sigterm_stops_cleanly_and_leaves_nothing() {
    stop_by_signal("TERM", "SIGTERM");
}

fn stop_by_signal(sig: &str, reason: &str) {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    let events = fixture("run/events.bpf.o");
    let mut child = Command::new(env!("CARGO_BIN_EXE_btfx"))
        .args(["run", events.to_str().unwrap(), "--json"])
        .args(["--set", "targ_pid=2147483646"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let attach: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(attach["type"], "attach");
    assert_eq!(attach["ok"], true);
    // Attached and running: the program is in the kernel now.
    assert!(!counted.leaks().unwrap().progs.is_empty());
    let kill = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let rest: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let exit = rest.last().unwrap();
    assert_eq!(exit["type"], "exit");
    assert_eq!(exit["reason"], reason);
    assert!(rest
        .iter()
        .any(|l| l["type"] == "map" && l["name"] == "counts"));
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn unattachable_programs_are_reported_and_the_others_run() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();
    // kprobes cannot attach on this kind of kernel (no kprobe PMU); the
    // tp_btf programs can. Where kprobes work, every program attaches.
    let obj = fixture("maps_globals.bpf.o");
    let (code, lines, err) =
        btfx_json(&["run", obj.to_str().unwrap(), "--duration", "0.2", "--json"]);
    let attach = of_type(&lines, "attach");
    assert_eq!(attach.len(), 4, "{lines:?}");
    let failed: Vec<_> = attach.iter().filter(|a| a["ok"] == false).collect();
    for f in &failed {
        assert!(
            f["section"].as_str().unwrap().starts_with("kprobe/")
                || f["section"].as_str().unwrap().starts_with("kretprobe/")
        );
        assert!(f["error"].as_str().unwrap().contains("kprobe"), "{f}");
    }
    assert_eq!(code, if failed.is_empty() { 0 } else { 1 }, "{err}");
    assert_eq!(lines.last().unwrap()["reason"], "duration");
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn bad_input_exits_2_naming_what_is_wrong() {
    let hello = fixture("run/hello.bpf.o");
    let h = hello.to_str().unwrap();
    for (args, want) in [
        (vec!["--set", "nosuch=1"], "no global variable 'nosuch'"),
        (vec!["--set", "targ_pid=abc"], "'abc' is not an integer"),
        (vec!["--set", "targ_pid=4294967296"], "does not fit"),
        (vec!["--set", "targ_pid"], "expected NAME=VALUE"),
        (vec!["--event-type", "nosuch"], "no type 'nosuch'"),
        (
            vec!["--event-btf", "/nonexistent.btf", "--event-type", "x"],
            "/nonexistent.btf",
        ),
        (vec!["--event-type", "nomap=int"], "no map 'nomap'"),
        (vec!["--duration=-1"], "--duration -1"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_btfx"))
            .args(["run", h])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
