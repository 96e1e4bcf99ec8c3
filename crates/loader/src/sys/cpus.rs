//! The kernel's CPU lists (`/sys/devices/system/cpu/{possible,online}`, in
//! the `0-3,5,7-8` form): per-CPU map values hold one slot per possible CPU
//! (libbpf's `libbpf_num_possible_cpus` counts the CPUs of the list), perf
//! buffers and software perf events open one event per CPU.

use std::io;
use std::sync::OnceLock;

/// Longest range accepted in one list item (a damaged file cannot make the
/// list allocate without bound).
const MAX_RANGE: u32 = 1 << 16;

/// The CPUs of a list such as `0-3,5,7-8\n`, in the order given.
pub fn parse_cpu_list(text: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let num = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("bad CPU number '{s}' in '{}'", text.trim()))
        };
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(part)?, num(part)?),
        };
        if b < a || b - a > MAX_RANGE {
            return Err(format!("bad CPU range '{part}'"));
        }
        out.extend(a..=b);
    }
    if out.is_empty() {
        return Err(format!("no CPUs in '{}'", text.trim()));
    }
    Ok(out)
}

fn read_list(path: &str) -> io::Result<Vec<u32>> {
    let text = std::fs::read_to_string(path)?;
    parse_cpu_list(&text)
        .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {why}")))
}

/// The number of possible CPUs, read once per process (as libbpf).
pub fn possible_cpus() -> io::Result<usize> {
    static CPUS: OnceLock<Result<usize, String>> = OnceLock::new();
    CPUS.get_or_init(|| {
        read_list("/sys/devices/system/cpu/possible")
            .map(|v| v.len())
            .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))
}

/// The CPUs online now.
pub fn online_cpus() -> io::Result<Vec<u32>> {
    read_list("/sys/devices/system/cpu/online")
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Ok(vec![0, 1]));
        assert_eq!(parse_cpu_list("0"), Ok(vec![0]));
        assert_eq!(parse_cpu_list("0-3,5,7-8").map(|v| v.len()), Ok(7));
        // Counted, not highest + 1 (libbpf counts the CPUs of the mask).
        assert_eq!(parse_cpu_list("0-3,8-11").map(|v| v.len()), Ok(8));
        assert!(parse_cpu_list("").is_err());
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("0-4000000000").is_err());
        assert!(parse_cpu_list("x").is_err());
    }
}
