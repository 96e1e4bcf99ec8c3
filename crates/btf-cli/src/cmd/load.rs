//! `btfx load OBJ [--target INPUT] [--prog NAME]... [--json] [--pin DIR]`.
//!
//! Opens the object, configures it (`--prog`, `--set`, `--max-entries`,
//! `--log-level`, `--target`), loads it into the running kernel and prints
//! every program and every map with its outcome, whatever failed (a map or
//! an extern failing is reported on each program, with its stage), then
//! closes everything (unless `--pin DIR`, which pins only when every
//! selected program loaded and otherwise removes the by-name pins the run
//! made). Exit 0 when every selected program loaded, 1 when the kernel or
//! the target refused something, 2 for unreadable or damaged input and
//! usage errors.

use std::path::PathBuf;
use std::process::ExitCode;

use loader::{LoadedObject, MapOutcome, OpenObject, ProgOutcome};
use serde_json::{json, Value};

use crate::input::resolve_path;

/// Arguments of `btfx load`.
#[derive(clap::Args)]
pub struct Args {
    /// The BPF ELF object.
    obj: String,
    /// Target BTF for CO-RE (raw BTF, ELF with .BTF, or `vmlinux`); default
    /// the running kernel's.
    #[arg(long)]
    target: Option<String>,
    /// Load only this program (repeatable); the others are reported as skipped.
    #[arg(long = "prog", value_name = "NAME")]
    progs: Vec<String>,
    /// Initial value of a global variable: `NAME=INTEGER` or `NAME=STRING`
    /// (checked against its BTF type), repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    sets: Vec<String>,
    /// Program type (and expected attach type) for a program whose section
    /// name libbpf does not know: `PROG=TYPE[:ATTACH]` with bpftool's names
    /// (`socket_filter`, `xdp`, `cgroup_sock_addr:cgroup_inet4_connect`),
    /// repeatable.
    #[arg(long = "prog-type", value_name = "PROG=TYPE[:ATTACH]")]
    prog_types: Vec<String>,
    /// A map's max_entries: `MAP=N`, repeatable.
    #[arg(long = "max-entries", value_name = "MAP=N")]
    max_entries: Vec<String>,
    /// Verifier log level for every program (1, 2 or 4); the log is then
    /// printed (JSON: `"verifier_log"`) on success too.
    #[arg(long, value_name = "LEVEL", default_value_t = 0)]
    log_level: u32,
    /// Print `{"programs":[...],"maps":[...],...}`.
    #[arg(long)]
    json: bool,
    /// Pin programs and maps under this bpffs directory (they then outlive
    /// btfx) when every selected program loaded.
    #[arg(long, value_name = "DIR")]
    pin: Option<PathBuf>,
    /// Where maps declared `pinning = LIBBPF_PIN_BY_NAME` are pinned, and
    /// reused from when already there (libbpf's pin_root_path).
    #[arg(long, value_name = "DIR", default_value = "/sys/fs/bpf")]
    pin_root: PathBuf,
}

fn split_kv<'a>(s: &'a str, what: &str) -> Result<(&'a str, &'a str), String> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("{what} '{s}': expected NAME=VALUE"))
}

fn parse_int(v: &str) -> Option<i128> {
    let (neg, body) = match v.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, v),
    };
    let n = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) => i128::from_str_radix(h, 16).ok()?,
        None => body.parse::<i128>().ok()?,
    };
    Some(if neg { -n } else { n })
}

/// Opens and configures the object as the arguments say; `Err` is a usage
/// or input error (exit 2).
fn configure(a: &Args, elf: &[u8]) -> Result<OpenObject, String> {
    let obj_name = std::path::Path::new(&a.obj)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("obj")
        .to_string();
    let mut open = OpenObject::open(elf, &obj_name).map_err(|e| format!("{}: {e}", a.obj))?;
    if !a.progs.is_empty() {
        open.only(&a.progs).map_err(|e| format!("{}: {e}", a.obj))?;
    }
    for s in &a.sets {
        let (k, v) = split_kv(s, "--set")?;
        let is_str = matches!(
            open.global(k).map(|g| g.shape),
            Some(loader::open::VarShape::CharArray { .. })
        );
        let r = match (is_str, parse_int(v)) {
            (true, _) => open.set_global_str(k, v),
            (false, Some(n)) => open.set_global_int(k, n),
            (false, None) => match v {
                "true" => open.set_global_int(k, 1),
                "false" => open.set_global_int(k, 0),
                _ => return Err(format!("--set {s}: '{v}' is not an integer")),
            },
        };
        r.map_err(|e| format!("{}: --set {s}: {e}", a.obj))?;
    }
    for s in &a.prog_types {
        let (k, v) = split_kv(s, "--prog-type")?;
        let (t, at) = match v.split_once(':') {
            Some((t, at)) => (t, Some(at)),
            None => (v, None),
        };
        let t = loader::ProgramType::from_name(t)
            .ok_or_else(|| format!("--prog-type {s}: unknown program type '{t}'"))?;
        let at = match at {
            Some(at) => Some(
                loader::AttachType::from_name(at)
                    .ok_or_else(|| format!("--prog-type {s}: unknown attach type '{at}'"))?,
            ),
            None => None,
        };
        open.set_program_type(k, t, at)
            .map_err(|e| format!("{}: --prog-type {s}: {e}", a.obj))?;
    }
    for s in &a.max_entries {
        let (k, v) = split_kv(s, "--max-entries")?;
        let n: u32 = v
            .parse()
            .map_err(|_| format!("--max-entries {s}: '{v}' is not a u32"))?;
        open.set_max_entries(k, n)
            .map_err(|e| format!("{}: --max-entries {s}: {e}", a.obj))?;
    }
    if let Some(t) = &a.target {
        let p = resolve_path(t);
        let bytes = crate::input::read(p)?.to_vec();
        open.set_target_btf(loader::open::parse_target(bytes).map_err(|e| format!("{p}: {e}"))?);
    }
    open.set_log(a.log_level, 0);
    open.set_pin_root(&a.pin_root);
    Ok(open)
}

/// Runs `btfx load`.
pub fn run(a: Args) -> Result<ExitCode, String> {
    let elf = crate::input::read(&a.obj)?;
    let open = configure(&a, &elf)?;
    let mut loaded = open.load().map_err(|e| format!("{}: {e}", a.obj))?;
    if let Some(dir) = &a.pin {
        if loaded.all_loaded() {
            if let Err(e) = loaded.pin_all(dir) {
                loaded.pin_error = Some(e.to_string());
                loaded.unpin();
            }
        }
    }
    if let Some(e) = &loaded.btf_error {
        eprintln!(
            "btfx: {}: the kernel refused the object's BTF, going on without it: {e}",
            a.obj
        );
    }
    let out = if a.json {
        let mut s = serde_json::to_string(&to_json(&loaded)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        text(&loaded)
    };
    crate::write_stdout(out.as_bytes())?;
    let ok = loaded.all_loaded();
    drop(loaded);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    })
}

fn failure_json(f: &loader::Failure) -> Value {
    json!({
        "stage": f.stage.to_string(),
        "errno": f.errno,
        "reason": f.reason,
    })
}

/// The whole result: every program and map, each with its status.
pub fn to_json(l: &LoadedObject) -> Value {
    let programs: Vec<Value> = l
        .programs
        .iter()
        .map(|p| {
            let mut v = json!({
                "name": p.name,
                "section": p.section,
                "type": p.prog_type.map(|t| t.to_string()),
                "expected_attach_type": p.expected_attach_type.map(|t| t.to_string()),
                "insn_cnt": p.insn_cnt(),
            });
            let o = match &p.outcome {
                ProgOutcome::Loaded { id, .. } => {
                    json!({"status": "loaded", "loaded": true, "id": id})
                }
                ProgOutcome::Skipped => json!({"status": "skipped", "loaded": false}),
                ProgOutcome::Failed(f) => json!({
                    "status": "failed",
                    "loaded": false,
                    "stage": f.stage.to_string(),
                    "errno": f.errno,
                    "reason": f.reason,
                    "log": f.log_tail,
                    "core": f.core,
                }),
            };
            merge(&mut v, o);
            if let Some(log) = &p.log {
                merge(&mut v, json!({ "verifier_log": log }));
            }
            v
        })
        .collect();
    let maps: Vec<Value> = l
        .maps
        .iter()
        .map(|m| {
            let mut v = json!({
                "name": m.name,
                "type": m.map_type.raw(),
                "type_name": m.map_type.to_string(),
                "max_entries": m.max_entries,
                "pinned": m.pinned.as_ref().map(|p| p.display().to_string()),
                "reused": m.reused(),
            });
            let o = match &m.outcome {
                MapOutcome::Created { id, .. } => json!({"status": "created", "id": id}),
                MapOutcome::Reused { id, .. } => json!({"status": "reused", "id": id}),
                MapOutcome::Failed(f) => {
                    let mut o = failure_json(f);
                    merge(&mut o, json!({"status": "failed"}));
                    o
                }
            };
            merge(&mut v, o);
            v
        })
        .collect();
    json!({
        "programs": programs,
        "maps": maps,
        "btf_error": l.btf_error,
        "object_failure": l.object_failure.as_ref().map(failure_json),
        "pin_error": l.pin_error,
    })
}

fn merge(v: &mut Value, o: Value) {
    if let (Value::Object(a), Value::Object(b)) = (v, o) {
        a.extend(b);
    }
}

/// The errno's text without std's " (os error N)" tail.
fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn text(l: &LoadedObject) -> String {
    let mut out = String::new();
    for p in &l.programs {
        match &p.outcome {
            ProgOutcome::Loaded { id, .. } => out.push_str(&format!(
                "{}\t{}\tloaded\tid={id} insns={}\n",
                p.name,
                p.section,
                p.insn_cnt()
            )),
            ProgOutcome::Skipped => out.push_str(&format!("{}\t{}\tskipped\n", p.name, p.section)),
            ProgOutcome::Failed(f) => {
                out.push_str(&format!(
                    "{}\t{}\tfailed\t{}: errno={} ({}): {}\n",
                    p.name,
                    p.section,
                    f.stage,
                    f.errno,
                    strerror(f.errno),
                    f.reason
                ));
                if let Some(c) = &f.core {
                    out.push_str(&format!("  {c}\n"));
                }
                for line in f.log_tail.lines() {
                    out.push_str(&format!("  | {line}\n"));
                }
            }
        }
        if let Some(log) = &p.log {
            for line in log.lines() {
                out.push_str(&format!("  > {line}\n"));
            }
        }
    }
    for m in &l.maps {
        match &m.outcome {
            MapOutcome::Failed(f) => out.push_str(&format!(
                "map {}\tfailed\t{}: errno={}: {}\n",
                m.name, f.stage, f.errno, f.reason
            )),
            _ if m.pinned.is_some() => {
                let path = m.pinned.as_ref().map(|p| p.display().to_string());
                out.push_str(&format!(
                    "map {}\t{} pinned map at {}\tid={}\n",
                    m.name,
                    if m.reused() { "reused" } else { "created" },
                    path.unwrap_or_default(),
                    m.id().unwrap_or(0)
                ));
            }
            _ => {}
        }
    }
    if let Some(e) = &l.pin_error {
        out.push_str(&format!("pin failed (nothing left pinned): {e}\n"));
    }
    out
}
