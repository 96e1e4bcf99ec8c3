//! `btfx run OBJ [--set NAME=VALUE]... [--event-type [MAP=]TYPE]...
//! [--duration S] [--count N] [--json]`.
//!
//! Loads the object as `btfx load` does, with `--set` values written into
//! its global data (`.rodata`, `.data`, `.bss`) before load and checked
//! against each variable's BTF type (`btf::value::encode`); attaches every
//! loaded program by its section name (`loader::attach::auto_attach`, with
//! `--ifname`, `--cgroup`, `--pid`, `--binary` for the targets a section
//! cannot name); then streams, until `--duration`, `--count` events,
//! SIGINT or SIGTERM:
//!
//! - every ring buffer record and perf buffer sample, decoded by the BTF
//!   type `--event-type` names for its map (or for every such map), or as
//!   length and hex without one; a record shorter than its type shows the
//!   fields it holds whole and its length;
//! - every `bpf_printk` line of the trace pipe, when a loaded program calls
//!   `bpf_trace_printk` (tracefs is mounted if needed; the pipe is shared by
//!   every BPF program on the machine, so their lines show too);
//! - lost perf samples.
//!
//! At the end every map with listable entries is printed decoded by its
//! BTF, then everything is detached and closed. Exit 0 on a clean stop, 1
//! when a program failed to load or attach, 2 for bad input or usage.

mod output;

use std::cell::RefCell;
use std::io::Read;
use std::ops::ControlFlow;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use btf::{Btf, Kind, TypeId};
use loader::attach::{self, Link, Targets};
use loader::map_ops::Map;
use loader::perfbuf::{PerfBuffer, PerfEvent};
use loader::ringbuf::RingBuffer;
use loader::sys::{self, Epoll, StopSignals};
use loader::{LoadedObject, MapType, OpenObject, ProgOutcome};

use output::{Datum, EntryValue, MapEntry, Out};

/// Arguments of `btfx run`.
#[derive(clap::Args)]
pub struct Args {
    /// The BPF ELF object.
    obj: String,
    /// Set a global variable before load: `NAME=VALUE` (integer, enumerator
    /// name, `true`/`false`, string for a char array, `[a,b]` for an array,
    /// `{field=value,...}` for a struct), checked against its BTF type;
    /// repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    sets: Vec<String>,
    /// BTF type of ring/perf buffer records: `TYPE` for every buffer map or
    /// `MAP=TYPE` for one (`event`, `struct event`); repeatable.
    #[arg(long = "event-type", value_name = "[MAP=]TYPE")]
    event_types: Vec<String>,
    /// Look `--event-type` names up in this BTF (raw BTF or an ELF with
    /// .BTF, e.g. a header compiled with clang -g) instead of the object's,
    /// for objects whose record type is only a local variable.
    #[arg(long, value_name = "FILE")]
    event_btf: Option<String>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Stop after this many events (buffer records and printk lines).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// A map's max_entries: `MAP=N` (what a tool's user space would set
    /// before load), repeatable.
    #[arg(long = "max-entries", value_name = "MAP=N")]
    max_entries: Vec<String>,
    /// Load and attach only this program (repeatable).
    #[arg(long = "prog", value_name = "NAME")]
    progs: Vec<String>,
    /// Network interface for xdp/tc/tcx programs.
    #[arg(long)]
    ifname: Option<String>,
    /// cgroup v2 directory for cgroup programs.
    #[arg(long, value_name = "PATH")]
    cgroup: Option<PathBuf>,
    /// Process for uprobes and USDT probes.
    #[arg(long)]
    pid: Option<i32>,
    /// Binary or library for uprobe/usdt sections that name none.
    #[arg(long, value_name = "PATH")]
    binary: Option<PathBuf>,
    /// Target BTF for CO-RE (default: the running kernel's).
    #[arg(long)]
    target: Option<String>,
    /// Data pages per CPU of each perf buffer (a power of two).
    #[arg(long, default_value_t = 8)]
    perf_pages: usize,
    /// JSON lines, one object per line, each with a "type".
    #[arg(long)]
    json: bool,
}

/// `bpf_trace_printk` and `bpf_trace_vprintk` helper numbers.
const PRINTK_HELPERS: [i32; 2] = [6, 177];

fn bad(a: &Args, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", a.obj)
}

/// The type a `--event-type` names: a struct, union, typedef or other
/// named type (`struct `/`union `/`enum ` prefixes allowed).
fn find_type(btf: &Btf<'_>, name: &str) -> Option<TypeId> {
    let (kinds, bare): (&[Kind], &str) = if let Some(n) = name.strip_prefix("struct ") {
        (&[Kind::Struct], n)
    } else if let Some(n) = name.strip_prefix("union ") {
        (&[Kind::Union], n)
    } else if let Some(n) = name.strip_prefix("enum ") {
        (&[Kind::Enum, Kind::Enum64], n)
    } else {
        (
            &[
                Kind::Struct,
                Kind::Union,
                Kind::Typedef,
                Kind::Int,
                Kind::Enum,
            ],
            name,
        )
    };
    kinds
        .iter()
        .find_map(|&k| btf.find_by_name_kind(bare.trim(), k))
}

/// The object's BTF with DATASEC sizes and offsets filled in (type ids as
/// the kernel got them), for decoding.
fn decoding_btf(open: &OpenObject) -> Option<Vec<u8>> {
    let obj = open.object();
    let local = Btf::parse(obj.btf()?).ok()?;
    let externs = loader::externs::collect(obj, Some(&local)).ok()?;
    loader::btffix::fixup(obj, &local, &externs, loader::btffix::BtfFeatures::ALL).ok()
}

fn configure(a: &Args, elf: &[u8]) -> Result<OpenObject, String> {
    let name = std::path::Path::new(&a.obj)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("obj")
        .to_string();
    let mut open = OpenObject::open(elf, &name).map_err(|e| bad(a, e))?;
    if !a.progs.is_empty() {
        open.only(&a.progs).map_err(|e| bad(a, e))?;
    }
    if !a.sets.is_empty() {
        let raw = open
            .object()
            .btf()
            .ok_or_else(|| bad(a, "--set needs the object's BTF, and it has no .BTF"))?;
        let btf = Btf::parse(raw).map_err(|e| bad(a, e))?;
        let mut writes = Vec::new();
        for s in &a.sets {
            let (k, v) = s
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("--set '{s}': expected NAME=VALUE"))?;
            let g = open
                .global(k)
                .ok_or_else(|| bad(a, format!("--set {s}: no global variable '{k}'")))?;
            let bytes = btf::value::encode(&btf, g.type_id, v)
                .map_err(|e| bad(a, format!("--set {s}: variable '{k}': {e}")))?;
            writes.push((k.to_string(), bytes));
        }
        for (k, bytes) in writes {
            open.set_global(&k, &bytes).map_err(|e| bad(a, e))?;
        }
    }
    for s in &a.max_entries {
        let (k, v) = s
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("--max-entries '{s}': expected MAP=N"))?;
        let n: u32 = v
            .parse()
            .map_err(|_| format!("--max-entries {s}: '{v}' is not a u32"))?;
        open.set_max_entries(k, n).map_err(|e| bad(a, e))?;
    }
    // libbpf gives a PERF_EVENT_ARRAY declared without max_entries one
    // slot per possible CPU (the loader does too once the corpus branch's
    // map defaults are merged; this is the same rule, applied early).
    for m in open.maps() {
        if m.map_type == MapType::PerfEventArray && m.max_entries == 0 {
            let cpus = loader::map_ops::possible_cpus().map_err(|e| e.to_string())?;
            open.set_max_entries(&m.name, cpus as u32)
                .map_err(|e| bad(a, e))?;
        }
    }
    if let Some(t) = &a.target {
        let p = crate::input::resolve_path(t);
        let bytes = crate::input::read(p)?.to_vec();
        open.set_target_btf(loader::open::parse_target(bytes).map_err(|e| format!("{p}: {e}"))?);
    }
    Ok(open)
}

/// Attaches every loaded program; reports each (and each that did not
/// load). Returns the links and whether all went well.
fn attach_all(
    loaded: &LoadedObject,
    targets: &Targets<'_>,
    out: &RefCell<State>,
) -> (Vec<Link>, bool) {
    let mut links = Vec::new();
    let mut ok = true;
    for p in &loaded.programs {
        let err = match &p.outcome {
            ProgOutcome::Skipped => continue,
            ProgOutcome::Failed(f) => {
                let mut e = format!("not loaded ({}): errno {}: {}", f.stage, f.errno, f.reason);
                if let Some(line) = f.log_tail.lines().last() {
                    e.push_str(&format!(" [{line}]"));
                }
                Some(e)
            }
            ProgOutcome::Loaded { fd, .. } => {
                let prog = attach::Prog {
                    fd: fd.as_fd(),
                    prog_type: p.prog_type.map_or(0, |t| t.raw()),
                    expected_attach_type: p.expected_attach_type.map_or(0, |t| t.raw()),
                    section: &p.section,
                    name: &p.name,
                };
                match attach::auto_attach(&prog, targets) {
                    Ok(link) => {
                        links.push(link);
                        None
                    }
                    Err(e) => Some(e.to_string()),
                }
            }
        };
        ok &= err.is_none();
        out.borrow_mut()
            .out
            .attach(&p.name, &p.section, err.as_deref());
    }
    (links, ok)
}

struct State {
    out: Out,
    events: u64,
    limit: Option<u64>,
}

impl State {
    fn counted(&mut self) -> ControlFlow<()> {
        self.events += 1;
        match self.limit {
            Some(n) if self.events >= n => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }
    fn done(&self) -> bool {
        self.limit.is_some_and(|n| self.events >= n) || self.out.broken
    }
}

/// The trace pipe, read without blocking, cut into lines.
struct TracePipe {
    file: std::fs::File,
    buf: Vec<u8>,
}

impl TracePipe {
    fn open() -> Result<TracePipe, String> {
        let root = attach::tracefs::root().map_err(|e| e.to_string())?;
        let path = root.join("trace_pipe");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TracePipe {
            file,
            buf: Vec::new(),
        })
    }

    /// Throws away what is waiting in the pipe (lines of programs that ran
    /// before this one was attached).
    fn discard(&mut self) {
        let mut chunk = [0u8; 4096];
        while matches!(self.file.read(&mut chunk), Ok(n) if n > 0) {}
    }

    /// Prints every complete `bpf_trace_printk` line read so far.
    fn drain(&mut self, st: &RefCell<State>) {
        let mut chunk = [0u8; 4096];
        loop {
            match self.file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(_) => break,
            }
        }
        while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end();
            if let Some((_, text)) = line.split_once("bpf_trace_printk: ") {
                let mut s = st.borrow_mut();
                if s.done() {
                    return;
                }
                s.out.printk(line.trim_start(), text);
                let _ = s.counted();
            }
        }
    }
}

/// Whether a loaded program calls `bpf_trace_printk`/`bpf_trace_vprintk`.
fn uses_printk(l: &LoadedObject) -> bool {
    l.programs.iter().any(|p| {
        p.insns
            .iter()
            .any(|i| i.code == 0x85 && i.src == 0 && PRINTK_HELPERS.contains(&i.imm))
    })
}

/// Map types whose entries can be listed at the end.
fn listable(t: MapType) -> bool {
    matches!(
        t,
        MapType::Hash
            | MapType::Array
            | MapType::PercpuHash
            | MapType::PercpuArray
            | MapType::LruHash
            | MapType::LruPercpuHash
            | MapType::LpmTrie
    )
}

fn decode_datum(btf: Option<&Btf<'_>>, id: u32, bytes: &[u8]) -> Datum {
    match btf {
        Some(b) if id != 0 => match btf::value::decode(b, TypeId(id), bytes) {
            Ok(d) => Datum::Decoded(d.value),
            Err(_) => Datum::Raw(bytes.to_vec()),
        },
        _ => Datum::Raw(bytes.to_vec()),
    }
}

fn dump_maps(l: &LoadedObject, btf: Option<&Btf<'_>>, out: &mut Out) {
    for m in &l.maps {
        let Some(fd) = m.fd() else { continue };
        if !listable(m.map_type) {
            continue;
        }
        let (_, kid, vid) = sys::map_btf_ids(fd.as_fd()).unwrap_or((0, 0, 0));
        let map = match Map::new(fd) {
            Ok(map) => map,
            Err(e) => {
                out.map(&m.name, &[], Some(&e.to_string()));
                continue;
            }
        };
        let datasec = btf
            .and_then(|b| b.get(TypeId(vid)).ok())
            .is_some_and(|t| t.kind() == Kind::Datasec);
        let (entries, err) = match map.entries() {
            Ok(e) => (e, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let list: Vec<MapEntry> = entries
            .iter()
            .map(|(k, v)| MapEntry {
                key: (!(datasec && kid == 0)).then(|| decode_datum(btf, kid, k)),
                value: if map.is_percpu() {
                    EntryValue::PerCpu(
                        map.split_percpu(v)
                            .iter()
                            .map(|s| decode_datum(btf, vid, s))
                            .collect(),
                    )
                } else {
                    EntryValue::One(decode_datum(btf, vid, v))
                },
            })
            .collect();
        out.map(&m.name, &list, err.as_deref());
    }
}

/// Runs `btfx run`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    // First, before any thread starts: SIGINT/SIGTERM become readable.
    let signals = StopSignals::new().map_err(|e| format!("signalfd: {e}"))?;
    if a.perf_pages == 0 || !a.perf_pages.is_power_of_two() {
        return Err(format!("--perf-pages {}: not a power of two", a.perf_pages));
    }
    let duration = match a.duration {
        Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => return Err(format!("--duration {s}: not a number of seconds")),
        None => None,
    };
    let elf = crate::input::read(&a.obj)?;
    let open = configure(&a, &elf)?;
    let fixed = decoding_btf(&open);
    let btf = fixed.as_deref().and_then(|b| Btf::parse(b).ok());
    // --event-type: (map or every buffer map, type), in --event-btf or the
    // object's BTF.
    let ev_bytes = match &a.event_btf {
        Some(p) => Some(crate::input::read(crate::input::resolve_path(p))?),
        None => None,
    };
    let ev_btf = match (&a.event_btf, ev_bytes.as_deref()) {
        (Some(p), Some(b)) => Some(Btf::parse_any(b, None).map_err(|e| format!("{p}: {e}"))?),
        _ => None,
    };
    let types_btf = ev_btf.as_ref().or(btf.as_ref());
    let mut event_types: Vec<(Option<String>, TypeId)> = Vec::new();
    for s in &a.event_types {
        let (map, ty) = match s.split_once('=') {
            Some((m, t)) => (Some(m.to_string()), t),
            None => (None, s.as_str()),
        };
        let b = types_btf.ok_or_else(|| bad(&a, "--event-type needs the object's BTF"))?;
        let id = find_type(b, ty)
            .ok_or_else(|| bad(&a, format!("--event-type {s}: no type '{ty}' in the BTF")))?;
        event_types.push((map, id));
    }
    let type_for = |map: &str| -> Option<(&Btf<'_>, TypeId)> {
        let b = types_btf?;
        event_types
            .iter()
            .find(|(m, _)| m.as_deref() == Some(map))
            .or_else(|| event_types.iter().find(|(m, _)| m.is_none()))
            .map(|(_, id)| (b, *id))
    };
    for (m, _) in &event_types {
        if let Some(m) = m {
            if open.maps().iter().all(|x| &x.name != m) {
                return Err(bad(&a, format!("--event-type: no map '{m}'")));
            }
        }
    }

    let loaded = open.load().map_err(|e| bad(&a, e))?;
    let state = RefCell::new(State {
        out: Out::new(a.json),
        events: 0,
        limit: a.count,
    });

    let usdt = loaded
        .map("__bpf_usdt_specs")
        .and_then(|m| m.fd())
        .and_then(|fd| attach::UsdtManager::new(fd.as_fd()).ok());
    let targets = Targets {
        ifname: a.ifname.clone(),
        cgroup: a.cgroup.clone(),
        pid: a.pid,
        binary: a.binary.clone(),
        usdt: usdt.as_ref(),
        ..Targets::default()
    };
    // The trace pipe is opened, and what older programs left in it thrown
    // away, before anything is attached.
    let mut setup_error = None;
    let mut trace = if uses_printk(&loaded) {
        match TracePipe::open() {
            Ok(mut t) => {
                t.discard();
                Some(t)
            }
            Err(e) => {
                setup_error = Some(format!("trace pipe: {e}"));
                None
            }
        }
    } else {
        None
    };
    let (links, all_ok) = attach_all(&loaded, &targets, &state);

    // Event sources.
    let mut rb = RingBuffer::new().map_err(|e| e.to_string())?;
    let mut perfs: Vec<PerfBuffer<'_>> = Vec::new();
    for m in &loaded.maps {
        let Some(fd) = m.fd() else { continue };
        let name = m.name.clone();
        let ty = type_for(&m.name);
        let st = &state;
        let r = match m.map_type {
            MapType::Ringbuf => rb.add(fd, move |rec: &[u8]| {
                let mut s = st.borrow_mut();
                s.out.event(&name, None, rec, ty);
                s.counted()
            }),
            MapType::PerfEventArray => PerfBuffer::new(fd, a.perf_pages, move |cpu, ev| {
                let mut s = st.borrow_mut();
                if s.done() {
                    return;
                }
                match ev {
                    PerfEvent::Sample(b) => {
                        s.out.event(&name, Some(cpu), b, ty);
                        let _ = s.counted();
                    }
                    PerfEvent::Lost(n) => s.out.lost(&name, cpu, n),
                }
            })
            .map(|pb| perfs.push(pb)),
            _ => Ok(()),
        };
        if let Err(e) = r {
            setup_error.get_or_insert(format!("map '{}': {e}", m.name));
            break;
        }
    }

    const SIG: u64 = 0;
    const RING: u64 = 1;
    const TRACE: u64 = 2;
    const PERF: u64 = 16;
    let mut poll = Epoll::new(8).map_err(|e| format!("epoll: {e}"))?;
    let add = |fd: std::os::fd::BorrowedFd<'_>, t: u64| {
        poll.add(fd, t).map_err(|e| format!("epoll_ctl: {e}"))
    };
    add(signals.as_fd(), SIG)?;
    if !rb.is_empty() {
        add(rb.epoll_fd(), RING)?;
    }
    for (i, pb) in perfs.iter().enumerate() {
        add(pb.epoll_fd(), PERF + i as u64)?;
    }
    if let Some(t) = &trace {
        add(t.file.as_fd(), TRACE)?;
    }

    // The attach lines go out before the first wait.
    state.borrow_mut().out.flush();
    let deadline = duration.map(|d| Instant::now() + d);
    let reason: String = loop {
        if let Some(e) = &setup_error {
            break format!("error: {e}");
        }
        if state.borrow().done() {
            break if state.borrow().out.broken {
                "output closed".into()
            } else {
                "count".into()
            };
        }
        let timeout = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break "duration".into();
                }
                Some(left)
            }
            None => None,
        };
        let ready: Vec<u64> = match poll.wait(timeout) {
            Ok(r) => r.collect(),
            Err(e) => break format!("error: epoll_wait: {e}"),
        };
        let mut stop = None;
        for t in ready {
            let r = match t {
                SIG => match signals.read() {
                    Ok(Some(libc::SIGINT)) => {
                        stop = Some("SIGINT".to_string());
                        Ok(0)
                    }
                    Ok(Some(_)) => {
                        stop = Some("SIGTERM".to_string());
                        Ok(0)
                    }
                    Ok(None) => Ok(0),
                    Err(e) => Err(e.to_string()),
                },
                RING => rb.consume().map_err(|e| e.to_string()),
                TRACE => {
                    if let Some(tp) = trace.as_mut() {
                        tp.drain(&state);
                    }
                    Ok(0)
                }
                t => match perfs.get_mut((t - PERF) as usize) {
                    Some(pb) => pb.consume().map_err(|e| e.to_string()),
                    None => Ok(0),
                },
            };
            if let Err(e) = r {
                stop = Some(format!("error: {e}"));
            }
        }
        state.borrow_mut().out.flush();
        if let Some(s) = stop {
            break s;
        }
    };
    // What arrived before the stop, unless the count was reached.
    if !state.borrow().done() && !reason.starts_with("error") {
        let _ = rb.consume();
        for pb in &mut perfs {
            let _ = pb.consume();
        }
        if let Some(tp) = trace.as_mut() {
            tp.drain(&state);
        }
    }
    // Detach first, then read the maps and close everything.
    drop(links);
    drop(rb);
    drop(perfs);
    let mut st = state.into_inner();
    dump_maps(&loaded, btf.as_ref(), &mut st.out);
    st.out.exit(&reason, st.events);
    st.out.flush();
    drop(usdt);
    drop(loaded);
    drop(signals);
    Ok(if reason.starts_with("error") {
        ExitCode::from(crate::EXIT_FAILED)
    } else if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    })
}
