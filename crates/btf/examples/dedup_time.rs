//! Times `Appender::dedup` alone (the inputs appended before each round,
//! outside the timing), as scripts/libbpf-dedup.c times `btf__dedup`:
//! prints one `dedup_ns N` line per round and `maxrss_kb N` at the end.
//! `cargo run --release -p btfx-btf --example dedup_time -- ROUNDS [-B BASE] INPUT...`
use std::sync::Arc;
use std::time::Instant;

use btf::dedup::Appender;
use btf::Btf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        return Err("usage: dedup_time ROUNDS [-B BASE] INPUT...".into());
    }
    let rounds: usize = args.remove(0).parse()?;
    let mut base_data = None;
    if args.first().map(String::as_str) == Some("-B") && args.len() > 1 {
        base_data = Some(std::fs::read(&args[1])?);
        args.drain(..2);
    }
    let base = match &base_data {
        Some(d) => Some(Arc::new(Btf::parse_any(d, None)?)),
        None => None,
    };
    let datas: Vec<Vec<u8>> = args.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let inputs: Vec<Btf<'_>> = datas
        .iter()
        .map(|d| Btf::parse_any(d, base.clone()))
        .collect::<Result<_, _>>()?;
    let assemble = || -> Result<Appender, btf::Error> {
        let mut a = match &base {
            Some(b) => Appender::new_split(b)?,
            None => Appender::new(),
        };
        for i in &inputs {
            a.add(i)?;
        }
        Ok(a)
    };
    for _ in 0..rounds {
        let a = assemble()?;
        let t = Instant::now();
        let out = a.dedup()?;
        let ns = t.elapsed().as_nanos();
        println!("dedup_ns {ns}");
        std::hint::black_box(out.type_count());
    }
    let status = std::fs::read_to_string("/proc/self/status")?;
    if let Some(l) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        let kb: String = l.chars().filter(char::is_ascii_digit).collect();
        println!("maxrss_kb {kb}");
    }
    Ok(())
}
