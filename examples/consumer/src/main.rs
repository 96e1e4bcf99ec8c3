//! What a user's program does with btfx's loader: open an object, look at
//! it, configure it, load it, use what was loaded.
//!
//! ```text
//! btfx-consumer-example OBJ [--set VAR=INT]... [--type PROG=TYPE]... [--run PROG]
//! ```
//!
//! `--type` gives a program type (bpftool's names: `socket_filter`, `xdp`,
//! ...) for a program whose section name libbpf does not know; `--run`
//! runs a loaded program once with BPF_PROG_TEST_RUN on a 64-byte zero
//! packet and prints its return value. Exit 0 when every program loaded.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use loader::{OpenObject, ProgOutcome, ProgramType};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("consumer: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: OBJ [--set VAR=INT]... [--type PROG=TYPE]... [--run PROG]")?;
    let mut sets = Vec::new();
    let mut types = Vec::new();
    let mut run = None;
    while let Some(a) = args.next() {
        let v = args.next().ok_or(format!("{a} needs a value"))?;
        let (k, x) = match v.split_once('=') {
            Some((k, x)) => (k.to_string(), x.to_string()),
            None => (v.clone(), String::new()),
        };
        match a.as_str() {
            "--set" => sets.push((k, x.parse::<i128>()?)),
            "--type" => types.push((k, x)),
            "--run" => run = Some(v),
            _ => return Err(format!("unknown option {a}").into()),
        }
    }

    // Open: parse, no kernel.
    let elf = std::fs::read(&path)?;
    let name = std::path::Path::new(&path)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .unwrap_or("obj")
        .to_string();
    let mut obj = OpenObject::open(&elf, &name)?;
    for p in obj.programs() {
        let ty = p.prog_type.map_or("?".to_string(), |t| t.to_string());
        println!("program {} ({}): {ty}", p.name, p.section);
    }
    for g in obj.globals() {
        println!(
            "global {} in {}: {} bytes, {:?}",
            g.name, g.section, g.size, g.shape
        );
    }

    // Configure.
    for (var, v) in &sets {
        obj.set_global_int(var, *v)?;
    }
    for (prog, ty) in &types {
        let t = ProgramType::from_name(ty).ok_or(format!("unknown program type {ty}"))?;
        obj.set_program_type(prog, t, None)?;
    }

    // Load, and use what was loaded.
    let loaded = obj.load()?;
    for p in &loaded.programs {
        match &p.outcome {
            ProgOutcome::Loaded { id, .. } => {
                println!("loaded {} id {id}, {} insns", p.name, p.insn_cnt())
            }
            ProgOutcome::Failed(f) => println!(
                "failed {} at {}: errno {}: {}",
                p.name, f.stage, f.errno, f.reason
            ),
            ProgOutcome::Skipped => println!("skipped {}", p.name),
        }
    }
    for m in &loaded.maps {
        println!("map {} ({}) id {:?}", m.name, m.map_type, m.id());
    }
    if let Some(prog) = run {
        let fd = loaded
            .program(&prog)
            .and_then(|p| p.fd())
            .ok_or(format!("{prog} is not loaded"))?;
        let r = loader::sys::prog_test_run(fd, &[0u8; 64], 0)?;
        println!("run {prog}: retval {}", r.retval);
    }
    Ok(loaded.all_loaded())
}
