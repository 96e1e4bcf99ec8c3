//! What goes with `BPF_PROG_LOAD` besides the instructions: the
//! func_info / line_info records of each linked chunk, and reading the
//! verifier's answer (its last lines, the poisoned CO-RE relocation a
//! failure points at).

use crate::link::Chunk;

/// Per-chunk func_info / line_info in machine byte order.
pub(crate) fn ext_infos(ext: Option<&core_reloc::BtfExt>, chunks: &[Chunk]) -> (Vec<u8>, Vec<u8>) {
    let (mut fi, mut li) = (Vec::new(), Vec::new());
    let Some(ext) = ext else { return (fi, li) };
    for c in chunks {
        let range = (c.sec_insn * 8) as u32..((c.sec_insn + c.len) * 8) as u32;
        let map = |off: u32| (c.start + (off as usize / 8 - c.sec_insn)) as u32;
        if let Some(s) = ext.func_info.iter().find(|s| s.name == c.section_name) {
            for r in s.records.iter().filter(|r| range.contains(&r.insn_off)) {
                fi.extend(map(r.insn_off).to_ne_bytes());
                fi.extend(r.type_id.0.to_ne_bytes());
            }
        }
        if let Some(s) = ext.line_info.iter().find(|s| s.name == c.section_name) {
            for r in s.records.iter().filter(|r| range.contains(&r.insn_off)) {
                li.extend(map(r.insn_off).to_ne_bytes());
                li.extend(r.file_name_off.0.to_ne_bytes());
                li.extend(r.line_off.0.to_ne_bytes());
                li.extend(r.line_col.to_ne_bytes());
            }
        }
    }
    (fi, li)
}

pub(crate) fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The poisoned CO-RE relocation a verifier failure points at.
pub(crate) fn poisoned(r: &core_reloc::Report, chunks: &[Chunk], log: &str) -> Option<String> {
    let mut best = None;
    for rec in r
        .records
        .iter()
        .filter(|x| x.outcome == core_reloc::Outcome::Poisoned)
    {
        let Some(c) = chunks.iter().find(|c| c.name == rec.program) else {
            continue;
        };
        let idx = c.start + rec.insn;
        let desc = format!(
            "insn #{idx}: CO-RE relo #{} of section '{}' ({} {} {}) was poisoned",
            rec.index,
            rec.section,
            core_reloc::kind_str(rec.kind),
            rec.local_type_name,
            rec.access
        );
        if log.contains(&format!("\n{idx}: ")) || log.starts_with(&format!("{idx}: ")) {
            return Some(desc);
        }
        best.get_or_insert(desc);
    }
    best
}
