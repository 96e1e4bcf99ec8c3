//! USDT: note parsing and argument specs against libbpf's
//! (fixtures/oracle/attach/usdt_specs.txt, scripts/record-usdt-oracle.sh),
//! then the probes of probe_target.user attached for real: btfx:tick's
//! three arguments (two stack slots, one constant) read by usdt.bpf.h's
//! bpf_usdt_arg, and btfx:sema, which only fires because the kernel raised
//! its semaphore through the uprobe's ref_ctr_offset.

mod attach_util;

use std::io::Write;
use std::os::fd::AsFd;
use std::process::{Command, Stdio};

use attach_util::*;
use loader::attach::usdt_spec::{encode_spec, notes};
use loader::attach::{attach_usdt, auto_attach, AttachError, Prog, Targets, UsdtManager, UsdtOpts};
use loader::sys::Census;

fn oracle() -> Vec<Vec<u8>> {
    let text =
        std::fs::read_to_string(root().join("fixtures/oracle/attach/usdt_specs.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let hex = l.split_whitespace().nth(1).unwrap();
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn notes_and_specs_match_libbpf() {
    let bytes = std::fs::read(fixture("probe_target.user")).unwrap();
    let file = object::read::elf::ElfFile64::<object::Endianness>::parse(&*bytes).unwrap();
    let n = notes(&file).unwrap();
    let names: Vec<String> = n
        .iter()
        .map(|n| format!("{}:{}", n.provider, n.name))
        .collect();
    assert_eq!(names, ["btfx:tick", "btfx:sema"]);
    assert!(n.iter().all(|n| n.semaphore != 0));
    let want = oracle();
    for (note, want) in n.iter().zip(&want) {
        let got = encode_spec(&note.args, 0).unwrap();
        assert_eq!(&got[..], &want[..], "{}: {}", note.name, note.args);
    }
}

fn run(n: u64, pid_cb: impl FnOnce(u32)) -> String {
    let mut child = Command::new(fixture("probe_target.user"))
        .arg(n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    pid_cb(child.id());
    child.stdin.take().unwrap().write_all(b"g").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn usdt_probes_fire_with_their_arguments() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("probes.bpf.o", &["tick", "sema"]);
        let mgr = UsdtManager::new(map(&l, "__bpf_usdt_specs")).unwrap();
        let bin = fixture("probe_target.user");
        let n = 30u64;
        let tick = prog(&l, "tick");
        // A bare "usdt" section names no probe.
        match auto_attach(&tick, &Targets::default()) {
            Err(AttachError::MissingTarget { .. }) => {}
            other => panic!("expected MissingTarget, got {other:?}"),
        }
        let mut links = Vec::new();
        let out = run(n, |pid| {
            set_u32(&l, "cfg", 0, pid);
            // tick by section name (as libbpf's usdt/<binary>:<provider>:<name>).
            let sec = format!("usdt/{}:btfx:tick", bin.display());
            let t = Targets {
                usdt: Some(&mgr),
                pid: Some(pid as i32),
                ..Targets::default()
            };
            links.push(
                auto_attach(
                    &Prog {
                        section: &sec,
                        ..tick
                    },
                    &t,
                )
                .unwrap(),
            );
            let opts = UsdtOpts {
                pid: Some(pid as i32),
                cookie: 0,
            };
            let sema = prog(&l, "sema");
            links.push(
                attach_usdt(sema.fd, &mgr, &bin.to_string_lossy(), "btfx", "sema", &opts).unwrap(),
            );
        });
        assert_eq!(mgr.slots_in_use(), 2);
        // What the spec map holds is what libbpf writes.
        let want = oracle();
        for slot in 0..2u32 {
            let got = loader::map_ops::Map::new(map(&l, "__bpf_usdt_specs"))
                .unwrap()
                .lookup(&slot.to_ne_bytes())
                .unwrap()
                .unwrap();
            assert_eq!(got, want[slot as usize], "slot {slot}");
        }
        let mut sum = 0u64;
        let mut tick_sum = 0u64;
        for i in 0..n {
            sum += i + 1000;
            tick_sum += i + sum + 42;
        }
        assert_eq!(out.trim(), sum.to_string());
        let (hits, sums) = (map(&l, "hits"), map(&l, "sums"));
        assert_eq!((count(hits, 2), count(sums, 2)), (n, tick_sum), "btfx:tick");
        assert_eq!(
            (count(hits, 3), count(sums, 3)),
            (n, (0..n).map(|i| 2 * i).sum::<u64>()),
            "btfx:sema (fires only with the semaphore raised)"
        );
        drop(links);
        assert_eq!(mgr.slots_in_use(), 0);
        // Detached: the semaphore is back to 0, nothing fires.
        run(4, |pid| set_u32(&l, "cfg", 0, pid));
        assert_eq!((count(hits, 2), count(hits, 3)), (n, n));
        let _ = tick.fd.as_fd();
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn usdt_errors() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let l = load_fixture("probes.bpf.o", &["tick"]);
        let mgr = UsdtManager::new(map(&l, "__bpf_usdt_specs")).unwrap();
        let bin = fixture("probe_target.user");
        let e = attach_usdt(
            prog(&l, "tick").fd,
            &mgr,
            &bin.to_string_lossy(),
            "btfx",
            "nope",
            &UsdtOpts::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("no such probe"), "{e}");
        // A map that is not __bpf_usdt_specs.
        let e = UsdtManager::new(map(&l, "hits")).unwrap_err();
        assert!(e.to_string().contains("__bpf_usdt_spec"), "{e}");
        assert_eq!(mgr.slots_in_use(), 0);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

/// Real binaries (recorded in fixtures/oracle/attach/usdt_probes.txt with
/// libbpf): every USDT probe of python3 (semaphores) and libstdc++
/// (`.stapsdt.base` correction) gets the same file offsets and the same
/// argument specs from btfx. Checked when this machine's files are the
/// recorded builds.
#[test]
fn real_binaries_probes_match_libbpf() {
    use std::collections::{BTreeSet, HashMap};
    let text =
        std::fs::read_to_string(root().join("fixtures/oracle/attach/usdt_probes.txt")).unwrap();
    let same: HashMap<String, bool> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# build-id "))
        .map(|l| {
            let (path, id) = l.split_once(' ').unwrap();
            let got = std::fs::read(path).ok().and_then(|b| {
                use object::Object;
                let f = object::File::parse(&*b).ok()?;
                let id = f.build_id().ok()??;
                Some(id.iter().map(|b| format!("{b:02x}")).collect::<String>())
            });
            (path.to_string(), got.as_deref() == Some(id.trim()))
        })
        .collect();
    // probe (binary, provider, name) -> offsets and specs libbpf made.
    type Probe = (String, String, String);
    let mut want: Vec<(Probe, BTreeSet<u64>, BTreeSet<String>)> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f[0] {
            "probe" => want.push((
                (f[1].into(), f[2].into(), f[3].into()),
                BTreeSet::new(),
                BTreeSet::new(),
            )),
            "offset" => {
                let o = u64::from_str_radix(f[1].trim_start_matches("0x"), 16).unwrap();
                want.last_mut().unwrap().1.insert(o);
            }
            "spec" => {
                want.last_mut().unwrap().2.insert(f[1].to_string());
            }
            other => panic!("unexpected line {other}"),
        }
    }
    let (mut probes, mut sites) = (0, 0);
    for ((bin, provider, name), offsets, specs) in &want {
        if !same.get(bin).copied().unwrap_or(false) {
            continue;
        }
        let bytes = std::fs::read(bin).unwrap();
        let file = object::read::elf::ElfFile64::<object::Endianness>::parse(&*bytes).unwrap();
        let mine: Vec<_> = notes(&file)
            .unwrap()
            .into_iter()
            .filter(|n| &n.provider == provider && &n.name == name)
            .collect();
        let got_offsets: BTreeSet<u64> = mine
            .iter()
            .map(|n| loader::attach::elfsym::vaddr_to_offset(&file, n.addr).unwrap())
            .collect();
        assert_eq!(&got_offsets, offsets, "{bin} {provider}:{name}");
        let got_specs: BTreeSet<String> = mine
            .iter()
            .map(|n| {
                encode_spec(&n.args, 0)
                    .unwrap()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })
            .collect();
        assert_eq!(&got_specs, specs, "{bin} {provider}:{name}");
        probes += 1;
        sites += offsets.len();
    }
    eprintln!("{probes} probes, {sites} call sites agree with libbpf");
}
