//! `btfx load` on every failure path: the JSON always lists every program
//! and every map with its status (and the stage, errno and reason of a
//! failure), exit codes follow the contract (0 all loaded, 1 something
//! refused, 2 bad input or usage), and `--pin` leaves nothing behind from
//! a failed run while never touching pins that were there before. Every
//! test counts the kernel's objects before and after (loader::sys::Census).

use std::path::{Path, PathBuf};
use std::process::Command;

use loader::sys::{self, Census};
use serde_json::Value;

fn fixture(stem: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../fixtures/bpf/{stem}.bpf.o"))
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

fn bpffs() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&"bpf"))
        .and_then(|f| f.get(1).map(PathBuf::from))
}

/// Runs btfx; returns (exit code, stdout, stderr).
fn btfx(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_btfx"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn load_json(stem: &str, extra: &[&str]) -> (i32, Value) {
    let obj = fixture(stem);
    let mut args = vec!["load", obj.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = btfx(&args);
    assert!(!err.contains("panicked"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn progs(v: &Value) -> Vec<(String, String)> {
    v["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn prog<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
}

fn check_leaks(counted: &loader::sys::Counted) {
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn every_program_and_map_on_every_failure_path() {
    if !bpf_allowed() {
        return;
    }
    let counted = Census::begin().unwrap();

    // All loaded: exit 0, 4 programs, 15 maps (10 BTF, 4 data, .kconfig).
    let (code, v) = load_json("maps_globals", &[]);
    assert_eq!(code, 0, "{v}");
    assert!(progs(&v).iter().all(|(_, s)| s == "loaded"), "{v}");
    assert_eq!(progs(&v).len(), 4);
    let maps = v["maps"].as_array().unwrap();
    assert_eq!(maps.len(), 15);
    assert!(maps.iter().all(|m| m["status"] == "created"), "{v}");

    // A map the kernel refuses: every program reported, failed at "map".
    let (code, v) = load_json("maps_globals", &["--max-entries", "unlinks=0"]);
    assert_eq!(code, 1);
    assert_eq!(progs(&v).len(), 4);
    for p in v["programs"].as_array().unwrap() {
        assert_eq!(
            (&p["status"], &p["stage"], &p["errno"]),
            (&"failed".into(), &"map".into(), &22.into()),
            "{p}"
        );
    }
    assert_eq!(v["maps"].as_array().unwrap().len(), 15);
    assert_eq!(v["object_failure"]["stage"], "map");

    // A strong extern missing: every program failed at "extern", ESRCH.
    let (code, v) = load_json("extern_missing", &[]);
    assert_eq!(code, 1);
    assert_eq!(progs(&v).len(), 2);
    for p in v["programs"].as_array().unwrap() {
        assert_eq!(
            (&p["stage"], &p["errno"]),
            (&"extern".into(), &3.into()),
            "{p}"
        );
    }

    // The verifier refuses one program (a poisoned CO-RE relocation); its
    // neighbour loads.
    let (code, v) = load_json("core_fail", &[]);
    assert_eq!(code, 1);
    let bad = prog(&v, "fail_missing_field");
    assert_eq!(
        (&bad["status"], &bad["stage"]),
        (&"failed".into(), &"verifier".into())
    );
    assert!(
        bad["core"].as_str().unwrap().contains("was poisoned"),
        "{bad}"
    );
    assert_eq!(prog(&v, "fail_ok_neighbour")["status"], "loaded");

    // An unknown section name: that program fails at "open", EINVAL, as
    // libbpf; --prog selects the other, and the first is reported skipped.
    let (code, v) = load_json("odd_section", &[]);
    assert_eq!(code, 1);
    let odd = prog(&v, "custom_section");
    assert_eq!((&odd["stage"], &odd["errno"]), (&"open".into(), &22.into()));
    assert_eq!(prog(&v, "known_socket")["status"], "loaded");
    assert_eq!(prog(&v, "off_by_default")["status"], "skipped");
    let (code, v) = load_json("odd_section", &["--prog", "known_socket"]);
    assert_eq!(code, 0);
    assert_eq!(prog(&v, "custom_section")["status"], "skipped");
    // SEC("?socket") loads when asked for.
    let (code, v) = load_json("odd_section", &["--prog", "off_by_default"]);
    assert_eq!(code, 0);
    assert_eq!(prog(&v, "off_by_default")["section"], "socket");
    assert_eq!(prog(&v, "off_by_default")["status"], "loaded");

    // ... and loads once its type is given.
    let (code, v) = load_json(
        "odd_section",
        &["--prog-type", "custom_section=socket_filter"],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(prog(&v, "custom_section")["type"], "socket_filter");

    // The verifier log on request, success included.
    let (code, v) = load_json(
        "odd_section",
        &["--prog", "known_socket", "--log-level", "1"],
    );
    assert_eq!(code, 0);
    let log = prog(&v, "known_socket")["verifier_log"].as_str().unwrap();
    assert!(log.contains("processed"), "{log}");

    check_leaks(&counted);
}

#[test]
fn bad_input_and_usage_exit_2() {
    let counted = bpf_allowed().then(|| Census::begin().unwrap());
    let dir = std::env::temp_dir().join(format!("btfx-load-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let whole = std::fs::read(fixture("maps_globals")).unwrap();
    let cut = dir.join("cut.bpf.o");
    std::fs::write(&cut, &whole[..whole.len() / 3]).unwrap();
    let obj = fixture("odd_section");
    let obj = obj.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["load", cut.to_str().unwrap(), "--json"], "cut.bpf.o"),
        (vec!["load", "/nonexistent/x.bpf.o"], "/nonexistent/x.bpf.o"),
        (vec!["load", obj, "--prog", "nosuch"], "nosuch"),
        (vec!["load", obj, "--set", "cfg_snaplen=abc"], "abc"),
        (vec!["load", obj, "--set", "nosuch=1"], "nosuch"),
        (vec!["load", obj, "--set", "cfg_snaplen=-1"], "cfg_snaplen"),
        (
            vec!["load", obj, "--set", "cfg_tag=much_too_long"],
            "cfg_tag",
        ),
        (vec!["load", obj, "--max-entries", "nosuch=4"], "nosuch"),
        (vec!["load", obj, "--bogus-flag"], "bogus"),
        (
            vec!["load", obj, "--prog-type", "custom_section=nosuch"],
            "nosuch",
        ),
        (vec!["load", obj, "--prog-type", "nosuch=xdp"], "nosuch"),
    ];
    for (args, needle) in cases {
        let (code, out, err) = btfx(&args);
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    if let Some(c) = counted {
        check_leaks(&c);
    }
}

#[test]
fn a_failed_run_leaves_no_pin_and_keeps_earlier_ones() {
    if !bpf_allowed() {
        return;
    }
    let Some(root) = bpffs() else {
        eprintln!("skipping: no bpf filesystem mounted");
        return;
    };
    let counted = Census::begin().unwrap();
    let obj = fixture("odd_section");
    let obj = obj.to_str().unwrap();
    let dir = root.join(format!("btfx-load-cli-pin-{}", std::process::id()));
    let d = dir.to_str().unwrap();

    // A failed run (custom_section is refused) pins nothing: not even the dir.
    let (code, _, _) = btfx(&["load", obj, "--pin", d]);
    assert_eq!(code, 1);
    assert!(!dir.exists());

    // A good run pins every program and map.
    let (code, out, err) = btfx(&["load", obj, "--prog", "known_socket", "--pin", d]);
    assert_eq!(code, 0, "{out} {err}");
    let mut before: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    before.sort();
    assert!(before.contains(&dir.join("known_socket")), "{before:?}");
    assert!(before.contains(&dir.join("hits")), "{before:?}");
    let id_before = sys::prog_info(sys::obj_get(&dir.join("known_socket")).unwrap())
        .unwrap()
        .0;

    // Pinning again there fails (names taken): exit 1, a pin_error, and
    // the directory holds exactly what it held, the same program.
    let (code, out, _) = btfx(&["load", obj, "--prog", "known_socket", "--pin", d, "--json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["pin_error"].is_string(), "{v}");
    let mut after: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    after.sort();
    assert_eq!(before, after);
    let id_after = sys::prog_info(sys::obj_get(&dir.join("known_socket")).unwrap())
        .unwrap()
        .0;
    assert_eq!(id_before, id_after);

    std::fs::remove_dir_all(&dir).unwrap();
    check_leaks(&counted);
}
