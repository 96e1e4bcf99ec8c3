//! Peak memory of parsing a BTF file: reads VmHWM from /proc/self/status
//! before and after `read + parse` (with and without building the name index)
//! and prints the growth next to the file size.
//!
//! `cargo run --release -p btfx-btf --example parse_peak [FILE]`

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    let before = vm_hwm_kib();
    let data = std::fs::read(&path)?;
    let size_kib = data.len() as u64 / 1024;
    let btf = btf::Btf::parse(data)?;
    let parsed = vm_hwm_kib();
    let names = btf.index().len();
    let indexed = vm_hwm_kib();
    println!(
        "{path}: {} types, file {size_kib} KiB",
        btf.type_count() - 1
    );
    println!(
        "peak growth: read+parse {} KiB (file + {} KiB); +name index ({names} names) {} KiB",
        parsed - before,
        (parsed - before) as i64 - size_kib as i64,
        indexed - before
    );
    Ok(())
}
