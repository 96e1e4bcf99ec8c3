//! The loader corpus against libbpf 1.1, program by program.
//!
//! Every object under fixtures/bpf/corpus/ and fixtures/bpf/real/ has its
//! libbpf outcome recorded in fixtures/oracle/load/corpus/<stem>.txt (see
//! the README there): whether `bpf_object__open` refused the object, and,
//! for each program, whether it loaded (alone, when the whole object did
//! not). btfx loads the same objects the same way and must agree: the same
//! programs loaded, the same errno for each refused one, the same maps
//! created (type, sizes, flags, kernel name, initial contents). The
//! differences that are on purpose (section names newer libbpf knows and
//! 1.1 does not) are listed in [`NEWER_LIBBPF`] and documented in
//! crates/loader/README.md.
//!
//! Every run is counted: nothing btfx created may outlive the test.
//! Skipped (with a printed reason) where bpf(2) is not permitted.

use std::path::{Path, PathBuf};

use loader::{load, LoadOptions, ProgOutcome};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Programs libbpf 1.1 refuses (unknown section name, EINVAL) that newer
/// libbpf (1.5+) knows: btfx follows the newer table, so the kernel
/// decides; with it, each of these is `loaded` or the errno given here.
const NEWER_LIBBPF: &[(&str, &str, Option<i32>)] = &[
    ("sec_net", "s_tc_ingress", None),
    ("sec_net", "s_tc_egress", None),
    ("sec_net", "s_tcx_ingress", None),
    ("sec_net", "s_tcx_egress", None),
    ("sec_net", "s_netkit_primary", None),
    ("sec_net", "s_netkit_peer", None),
    ("sec_net", "s_sk_skb_verdict2", None),
    ("sec_net", "s_connect_unix", None),
    ("sec_net", "s_sendmsg_unix", None),
    ("sec_net", "s_recvmsg_unix", None),
    ("sec_net", "s_getpeername_unix", None),
    ("sec_net", "s_getsockname_unix", None),
    ("sec_net", "s_netfilter", None),
    ("sec_trace", "t_kprobe_session", None),
    ("sec_trace", "t_uprobe_multi", None),
    ("sec_trace", "t_uretprobe_multi", None),
    ("sec_trace", "t_uprobe_session", None),
    ("sec_trace", "t_uprobe_multi_s", None),
    ("sec_trace", "t_uretprobe_multi_s", None),
    ("sec_trace", "t_uprobe_session_s", None),
    ("sec_trace", "t_usdt_s", None),
];

/// Objects libbpf 1.1 refuses at open only because of a section name it
/// does not know (`struct_ops.s`): newer libbpf opens them, and so does
/// btfx; every program must then load.
const NEWER_LIBBPF_OBJECTS: &[&str] = &["struct_ops_sleepable"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Loaded,
    Errno(i32),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Loaded => f.write_str("loaded"),
            Outcome::Errno(e) => write!(f, "-{e}"),
        }
    }
}

fn parse_outcome(s: &str) -> Outcome {
    match s {
        "loaded" => Outcome::Loaded,
        e => Outcome::Errno(-e.parse::<i32>().unwrap()),
    }
}

struct Oracle {
    stem: String,
    object: PathBuf,
    /// `None`: open failed with this errno.
    open_err: Option<i32>,
    whole_loaded: bool,
    progs: Vec<(String, String, Outcome)>,
    maps: Vec<Vec<String>>,
}

fn oracles() -> Vec<Oracle> {
    let dir = fixtures().join("oracle/load/corpus");
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_suffix(".txt").map(str::to_string)
        })
        .collect();
    stems.sort();
    stems
        .into_iter()
        .map(|stem| {
            let text = std::fs::read_to_string(dir.join(format!("{stem}.txt"))).unwrap();
            let mut lines = text.lines();
            let head: Vec<&str> = lines.next().unwrap().split('\t').collect();
            let (open_err, whole_loaded) = match (head[0], head[1]) {
                ("open", e) => (Some(-e.parse::<i32>().unwrap()), false),
                ("whole", "loaded") => (None, true),
                ("whole", _) => (None, false),
                _ => panic!("{stem}: bad first line"),
            };
            let progs = lines
                .map(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    (f[0].to_string(), f[1].to_string(), parse_outcome(f[2]))
                })
                .collect();
            let maps = std::fs::read_to_string(dir.join(format!("{stem}.maps")))
                .unwrap_or_default()
                .lines()
                .map(|l| l.split('\t').map(str::to_string).collect())
                .collect();
            let object = match stem.strip_prefix("real__") {
                Some(rest) => {
                    let (pkg, name) = rest.split_once("__").unwrap();
                    fixtures().join(format!("bpf/real/{pkg}/{name}.o"))
                }
                None => fixtures().join(format!("bpf/corpus/{stem}.bpf.o")),
            };
            Oracle {
                stem,
                object,
                open_err,
                whole_loaded,
                progs,
                maps,
            }
        })
        .collect()
}

/// libbpf's object name: the file name up to its first '.'.
fn obj_name(path: &Path) -> String {
    let f = path.file_name().unwrap().to_str().unwrap();
    f.split('.').next().unwrap().to_string()
}

fn outcome(p: &loader::ProgResult) -> (Outcome, String) {
    match &p.outcome {
        ProgOutcome::Loaded { .. } => (Outcome::Loaded, String::new()),
        ProgOutcome::Failed(f) => (
            Outcome::Errno(f.errno),
            format!(
                "{:?}: {} {}",
                f.stage,
                f.reason,
                f.log_tail.lines().last().unwrap_or("")
            ),
        ),
        ProgOutcome::Skipped => (Outcome::Errno(0), "skipped".into()),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

struct Run {
    total: usize,
    agree: usize,
    report: Vec<String>,
    /// (corpus or real, what) -> (agreeing, total).
    tally: std::collections::BTreeMap<(&'static str, &'static str), (usize, usize)>,
    origin: &'static str,
}

impl Run {
    fn count(&mut self, what: &'static str, agreed: bool) {
        let e = self.tally.entry((self.origin, what)).or_default();
        e.1 += 1;
        if agreed {
            e.0 += 1;
        }
    }
}

impl Run {
    fn check(&mut self, what: &str, want: &Outcome, got: &Outcome, why: &str) {
        self.count("programs", want == got);
        self.total += 1;
        if want == got {
            self.agree += 1;
        } else {
            self.report
                .push(format!("{what}: libbpf {want}, btfx {got} ({why})"));
        }
    }
}

fn compare_maps(run: &mut Run, o: &Oracle, l: &loader::LoadedObject) {
    for want in &o.maps {
        run.total += 1;
        let name = &want[0];
        let Some(m) = l.maps.iter().find(|m| &m.name == name) else {
            run.report
                .push(format!("{}: map '{name}' not created", o.stem));
            continue;
        };
        let Some(fd) = m.fd() else {
            run.report
                .push(format!("{}: map '{name}' failed: {:?}", o.stem, m.outcome));
            continue;
        };
        let info = loader::sys::map_info(fd).unwrap();
        let mut got = vec![
            m.name.clone(),
            m.kernel_name.clone(),
            info.map_type.raw().to_string(),
            info.key_size.to_string(),
            info.value_size.to_string(),
            info.max_entries.to_string(),
            format!("{:#x}", info.map_flags),
            info.map_extra.to_string(),
        ];
        if want.len() > 8 {
            match loader::sys::map_lookup(fd, &0u32.to_ne_bytes()) {
                Ok(Some(v)) => {
                    got.push(hex(&v));
                    // Writable from user space, or frozen (`.rodata*`,
                    // `.kconfig`): the value read is written back.
                    got.push(
                        match loader::sys::map_update(fd, &0u32.to_ne_bytes(), &v, 0) {
                            Ok(()) => "0".into(),
                            Err(e) => format!("-{}", e.raw_os_error().unwrap_or(0)),
                        },
                    );
                }
                Ok(None) => got.push("lookup:-2".into()),
                Err(e) => got.push(format!("lookup:-{}", e.raw_os_error().unwrap_or(0))),
            }
        }
        // `0` prints as "0", not "0x0", in the oracle (C's %#x).
        if got[6] == "0x0" {
            got[6] = "0".into();
        }
        run.count("maps", &got == want);
        if &got == want {
            run.agree += 1;
        } else {
            run.report.push(format!(
                "{}: map '{name}': libbpf {want:?}, btfx {got:?}",
                o.stem
            ));
        }
    }
    if l.maps.len() != o.maps.len() && !o.maps.is_empty() {
        run.report.push(format!(
            "{}: libbpf created {} maps, btfx {}",
            o.stem,
            o.maps.len(),
            l.maps.len()
        ));
    }
}

fn run_one(run: &mut Run, o: &Oracle, pin_root: &Path) {
    let elf = std::fs::read(&o.object).unwrap();
    let opts = |progs: Vec<String>| LoadOptions {
        programs: progs,
        obj_name: obj_name(&o.object),
        pin_root: Some(pin_root.to_path_buf()),
        ..LoadOptions::default()
    };
    if o.open_err.is_some() && NEWER_LIBBPF_OBJECTS.contains(&o.stem.as_str()) {
        let l = load(&elf, &opts(Vec::new())).unwrap();
        for p in &l.programs {
            let (got, why) = outcome(p);
            run.check(
                &format!("{}/{}", o.stem, p.name),
                &Outcome::Loaded,
                &got,
                &why,
            );
        }
        return;
    }
    if let Some(e) = o.open_err {
        run.total += 1;
        match load(&elf, &opts(Vec::new())) {
            Err(err) => {
                run.count("refused objects", true);
                run.agree += 1;
                eprintln!("{}: refused as libbpf (-{e}): {err}", o.stem);
            }
            // Refused at load instead of open: every program failed with
            // the object-level reason.
            Ok(l) if l.object_failure.is_some() && l.programs.iter().all(|p| !p.is_loaded()) => {
                run.count("refused objects", true);
                run.agree += 1;
                eprintln!(
                    "{}: refused as libbpf (-{e}) at load: {:?}",
                    o.stem, l.object_failure
                );
            }
            Ok(l) => {
                run.count("refused objects", false);
                run.report.push(format!(
                    "{}: libbpf refuses the object (-{e}), btfx loaded {} programs",
                    o.stem,
                    l.programs.iter().filter(|p| p.is_loaded()).count()
                ))
            }
        }
        return;
    }
    if o.whole_loaded {
        match load(&elf, &opts(Vec::new())) {
            Ok(l) => {
                let names: Vec<_> = l.programs.iter().map(|p| &p.name).collect();
                let want: Vec<_> = o.progs.iter().map(|p| &p.0).collect();
                assert_eq!(names, want, "{}: program order", o.stem);
                for (w, p) in o.progs.iter().zip(&l.programs) {
                    let (got, why) = outcome(p);
                    run.check(&format!("{}/{}", o.stem, w.0), &w.2, &got, &why);
                }
                compare_maps(run, o, &l);
            }
            Err(e) => {
                for w in &o.progs {
                    run.check(
                        &format!("{}/{}", o.stem, w.0),
                        &w.2,
                        &Outcome::Errno(0),
                        &e.to_string(),
                    );
                }
            }
        }
        return;
    }
    for w in &o.progs {
        let (got, why) = match load(&elf, &opts(vec![w.0.clone()])) {
            Ok(l) => {
                let p = l.programs.iter().find(|p| p.name == w.0).unwrap();
                outcome(p)
            }
            Err(e) => (Outcome::Errno(0), e.to_string()),
        };
        let want = match NEWER_LIBBPF
            .iter()
            .find(|(s, p, _)| *s == o.stem && *p == w.0)
        {
            Some((_, _, Some(e))) => Outcome::Errno(*e),
            Some((_, _, None)) => Outcome::Loaded,
            None => w.2.clone(),
        };
        run.check(&format!("{}/{}", o.stem, w.0), &want, &got, &why);
    }
}

#[test]
fn corpus_agrees_with_libbpf() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    // The outcomes are the recording kernel's (major.minor in VERSIONS).
    let versions = std::fs::read_to_string(fixtures().join("oracle/load/corpus/VERSIONS")).unwrap();
    let recorded = versions
        .split_whitespace()
        .skip_while(|w| *w != "on")
        .nth(1)
        .unwrap()
        .to_string();
    let running = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let major_minor = |r: &str| r.split('.').take(2).collect::<Vec<_>>().join(".");
    if major_minor(&recorded) != major_minor(running.trim()) {
        eprintln!(
            "skipping: the oracle was recorded on Linux {recorded}, this is {}",
            running.trim()
        );
        return;
    }
    let guard = PinRoot::new("corpus");
    let pin_root = guard.0.clone();
    let counted = loader::sys::Census::begin().unwrap();
    let mut run = Run {
        total: 0,
        agree: 0,
        report: Vec::new(),
        tally: Default::default(),
        origin: "corpus",
    };
    let only = std::env::var("CORPUS_ONLY").ok();
    for o in oracles() {
        if only.as_deref().is_some_and(|s| !o.stem.contains(s)) {
            continue;
        }
        run.origin = if o.stem.starts_with("real__") {
            "real"
        } else {
            "corpus"
        };
        run_one(&mut run, &o, &pin_root);
        // Pins by name are the run's own: remove them between objects.
        for e in std::fs::read_dir(&pin_root).unwrap() {
            std::fs::remove_file(e.unwrap().path()).unwrap();
        }
    }
    drop(guard);
    let leaks = counted.leaks().unwrap();
    eprintln!(
        "{} of {} programs and maps agree with libbpf 1.1",
        run.agree, run.total
    );
    for ((origin, what), (agree, total)) in &run.tally {
        eprintln!("  {origin} {what}: {agree} of {total}");
    }
    for r in &run.report {
        eprintln!("  {r}");
    }
    assert!(leaks.is_empty(), "left behind: {leaks}");
    assert!(!pin_root.exists());
    assert!(run.report.is_empty(), "{} disagreements", run.report.len());
}

/// A private pin root under /sys/fs/bpf, removed with what is in it when
/// dropped (a failing assertion included).
struct PinRoot(PathBuf);

impl PinRoot {
    fn new(what: &str) -> PinRoot {
        let p = PathBuf::from(format!("/sys/fs/bpf/btfx-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        PinRoot(p)
    }
}

impl Drop for PinRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tsv(name: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(fixtures().join(format!("oracle/load/corpus/{name}")))
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// `LIBBPF_PIN_BY_NAME` as libbpf 1.1 (pinned.reuse.tsv,
/// pinned.mismatch.tsv): a second load reuses the map the first pinned;
/// a map of other parameters pinned at the path fails the object (EINVAL,
/// "parameter mismatch") and is left as it was.
#[test]
fn pin_by_name_reuse_and_mismatch_as_libbpf() {
    if let Err(e) = loader::sys::probe_bpf() {
        eprintln!("skipping: BPF_PROG_LOAD of a trivial program failed: {e}");
        return;
    }
    let guard = PinRoot::new("corpus-pin");
    let root = guard.0.clone();
    let counted = loader::sys::Census::begin().unwrap();
    let elf = std::fs::read(fixtures().join("bpf/corpus/pinned.bpf.o")).unwrap();
    let opts = LoadOptions {
        obj_name: "pinned".into(),
        pin_root: Some(root.clone()),
        ..LoadOptions::default()
    };
    let path = root.join("corpus_pinned");

    let first = load(&elf, &opts).unwrap();
    assert!(first.all_loaded());
    let first_id = first.map("corpus_pinned").unwrap().id().unwrap();
    drop(first);
    assert!(path.exists(), "the pin outlives the first load");
    let reuse = tsv("pinned.reuse.tsv");
    let second = load(&elf, &opts).unwrap();
    assert_eq!(reuse[0], ["whole", "loaded"]);
    assert_eq!(second.all_loaded(), reuse[1][2] == "loaded");
    let m = second.map("corpus_pinned").unwrap();
    assert!(matches!(m.outcome, loader::MapOutcome::Reused { .. }));
    assert_eq!(m.id(), Some(first_id));
    drop(second);
    std::fs::remove_file(&path).unwrap();

    let other = loader::sys::map_create(&loader::sys::MapCreate {
        map_type: loader::MapType::Hash,
        key_size: 4,
        value_size: 4,
        max_entries: 16,
        name: "corpus_pinned",
        ..Default::default()
    })
    .unwrap();
    loader::sys::obj_pin(&other, &path).unwrap();
    let other_id = loader::sys::map_info(&other).unwrap().id;
    let mismatch = tsv("pinned.mismatch.tsv");
    let third = load(&elf, &opts).unwrap();
    let p = third.program("uses_pinned").unwrap();
    let want_errno: i32 = -mismatch[1][2].parse::<i32>().unwrap();
    match &p.outcome {
        ProgOutcome::Failed(f) => assert_eq!(f.errno, want_errno, "{f:?}"),
        o => panic!("libbpf fails the object, btfx: {o:?}"),
    }
    let reason = format!("{:?}", third.map("corpus_pinned").unwrap().outcome);
    assert!(reason.contains("parameter mismatch"), "{reason}");
    drop(third);
    let still = loader::sys::obj_get(&path).unwrap();
    assert_eq!(
        loader::sys::map_info(&still).unwrap().id,
        other_id,
        "left as it was"
    );
    drop((still, other));
    std::fs::remove_file(&path).unwrap();
    drop(guard);
    assert!(!root.exists());
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
