//! Portability matrix: one object's CO-RE relocations decided against many
//! kernels, side by side.
//!
//! Every column is one run of [`crate::relocate`] (libbpf's whole pass, one
//! candidate cache per object, first failure aborts) against one kernel BTF;
//! nothing here decides a relocation. The matrix only reads the
//! [`Report`]s back:
//!
//! - a patched relocation shows its new value,
//! - a poisoned one shows `missing` when no candidate matched and
//!   `poisoned` otherwise,
//! - a failed one shows `ambiguous` (libbpf's field offset or decision
//!   ambiguity) or `failed(errno)`,
//! - one libbpf never reached (an earlier relocation failed, which aborts the
//!   load) shows `-`.
//!
//! # When does a program load?
//!
//! libbpf poisons an instruction it cannot relocate; the verifier rejects the
//! program only if that instruction is reachable. Reachability is decided
//! here with the CO-RE guard idiom only: a poisoned relocation is *guarded*
//! on a kernel when the same program holds an exists-kind relocation
//! (`field_exists`, `type_exists`, `type_matches`, `enumval_exists`) of the
//! same local type and the same access string (any access, for
//! `type_exists`/`type_matches`) that evaluates to 0 on that kernel
//! (`if (bpf_core_field_exists(t->x)) v = BPF_CORE_READ(t, x);`: the
//! verifier knows the branch is dead), or when the same program holds an
//! exists-kind relocation of another flavour of the same type (same
//! essential name, `task_struct___new` for `task_struct___old`) that is 1
//! there (the `else` branch of the flavour idiom). This is a heuristic: it
//! does not read the control flow. Exists-kind relocations are
//! themselves guards and never a failure. A program *loads* on a kernel when
//! libbpf's pass did not fail there and none of its relocations is poisoned
//! unguarded. Relocations of `.text` subprograms count for the subprogram
//! only (callers are not followed), and guards in another function or a
//! guard computed some other way (a kernel version check) are not seen.

use btf::{Btf, TypeId};

use crate::{relocate, BtfExt, Outcome, Program, RelocKind, Report, Target};

/// One relocation's result on one kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Patched: the value the instruction holds on that kernel.
    Value(u64),
    /// Poisoned because no candidate matched.
    Missing,
    /// Poisoned although a candidate matched.
    Poisoned,
    /// libbpf failed the load: two candidates disagree.
    Ambiguous,
    /// libbpf failed the load with this errno.
    Failed(i32),
    /// No program holds the instruction (libbpf skips the record).
    Skipped,
    /// Not reached: an earlier relocation failed and libbpf stopped.
    NotReached,
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Value(v) => write!(f, "{v}"),
            Cell::Missing => f.write_str("missing"),
            Cell::Poisoned => f.write_str("poisoned"),
            Cell::Ambiguous => f.write_str("ambiguous"),
            Cell::Failed(e) => write!(f, "failed({e})"),
            Cell::Skipped => f.write_str("skipped"),
            Cell::NotReached => f.write_str("-"),
        }
    }
}

impl Cell {
    /// Poisoned, for whatever reason (missing or not).
    pub fn is_poisoned(self) -> bool {
        matches!(self, Cell::Missing | Cell::Poisoned)
    }
}

/// One relocation (a row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// ELF section.
    pub section: String,
    /// Relocation number within the section (`relo #N`).
    pub index: usize,
    /// Program holding the instruction (`?` if no kernel's run reached it).
    pub program: String,
    /// Raw relocation kind.
    pub kind: u32,
    /// Local root type.
    pub local_type: TypeId,
    /// Essential name of the local root type (`task_struct` for `task_struct___old`).
    pub essential: String,
    /// Access string (`0:1:2`).
    pub access: String,
    /// What is accessed, from the local spec (`struct task_struct.pid`).
    pub what: String,
    /// `file:line` of the instruction, from line_info.
    pub source: Option<String>,
}

impl Row {
    /// True for the exists kinds, which are guards and never fail.
    pub fn is_exists(&self) -> bool {
        matches!(
            RelocKind::from_raw(self.kind),
            Some(
                RelocKind::FieldExists
                    | RelocKind::TypeExists
                    | RelocKind::TypeMatches
                    | RelocKind::EnumvalExists
            )
        )
    }
}

/// Relocations × kernels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// Column names (kernel file stems), in order.
    pub kernels: Vec<String>,
    /// Rows, in `.BTF.ext` order.
    pub rows: Vec<Row>,
    /// `cells[row][kernel]`.
    pub cells: Vec<Vec<Cell>>,
    /// Per kernel: whether libbpf's pass failed (the whole object fails).
    pub aborted: Vec<bool>,
}

/// Relocates a copy of `programs` against `target`: one column's input.
pub fn column<'a>(
    local: &'a Btf<'a>,
    ext: &BtfExt,
    programs: &[Program],
    target: &'a Btf<'a>,
) -> Report {
    let mut progs = programs.to_vec();
    relocate(local, ext, &mut progs, Target::new(target))
}

fn what(spec: &str) -> String {
    // "<byte_off> [7] struct task_struct.pid (0:7 @ offset 20)"
    let s = spec.split_once("] ").map_or(spec, |(_, r)| r);
    let s = s.rsplit_once(" (").map_or(s, |(l, _)| l);
    s.to_string()
}

fn cell(r: &crate::RelocRecord) -> Cell {
    match &r.outcome {
        Outcome::Patched => Cell::Value(r.decision.as_ref().map_or(0, |d| d.fixup.new_val)),
        Outcome::Poisoned => {
            if r.decision.as_ref().is_some_and(|d| d.no_match) {
                Cell::Missing
            } else {
                Cell::Poisoned
            }
        }
        Outcome::Failed { errno, reason } => {
            if reason.contains("ambiguity") {
                Cell::Ambiguous
            } else {
                Cell::Failed(*errno)
            }
        }
        Outcome::Skipped => Cell::Skipped,
    }
}

/// Per-program verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSummary {
    /// Program name.
    pub name: String,
    /// Per kernel: whether the program loads (see the module documentation).
    pub loads: Vec<bool>,
}

impl Matrix {
    /// Builds the matrix from one [`Report`] per kernel (`(name, report)`).
    pub fn build(local: &Btf<'_>, ext: &BtfExt, columns: Vec<(String, Report)>) -> Matrix {
        let mut rows = Vec::new();
        let mut cells = Vec::new();
        for sec in &ext.core_relos {
            for (i, rec) in sec.records.iter().enumerate() {
                let found: Vec<Option<&crate::RelocRecord>> = columns
                    .iter()
                    .map(|(_, rep)| {
                        rep.records
                            .iter()
                            .find(|r| r.section == sec.name && r.index == i)
                    })
                    .collect();
                let any = found.iter().flatten().next();
                let access = local
                    .str_bytes(rec.access_str_off)
                    .map_or_else(String::new, |a| String::from_utf8_lossy(a).into_owned());
                let what = match found_spec(&found) {
                    Some(spec) => what(&spec),
                    None => any.map_or_else(
                        || format!("[{}] {access}", rec.type_id.0),
                        |r| format!("{} {}", r.local_type_name, r.access),
                    ),
                };
                let source = ext.line_for(&sec.name, rec.insn_off).map(|li| {
                    let file = local.name(li.file_name_off);
                    let base = file.rsplit('/').next().unwrap_or(file);
                    format!("{base}:{}", li.line())
                });
                rows.push(Row {
                    section: sec.name.clone(),
                    index: i,
                    program: any.map_or_else(|| "?".to_string(), |r| r.program.clone()),
                    kind: rec.kind,
                    local_type: rec.type_id,
                    essential: local.type_by_id(rec.type_id).map_or_else(String::new, |t| {
                        btf::essential_name(local.type_name(&t)).to_string()
                    }),
                    access,
                    what,
                    source,
                });
                cells.push(
                    found
                        .iter()
                        .map(|r| r.map_or(Cell::NotReached, cell))
                        .collect(),
                );
            }
        }
        Matrix {
            aborted: columns.iter().map(|(_, r)| r.failed()).collect(),
            kernels: columns.into_iter().map(|(n, _)| n).collect(),
            rows,
            cells,
        }
    }

    fn cell(&self, row: usize, k: usize) -> Cell {
        self.cells
            .get(row)
            .and_then(|c| c.get(k))
            .copied()
            .unwrap_or(Cell::NotReached)
    }

    /// True when the poisoned relocation `row` is guarded on kernel `k` by an
    /// exists-kind relocation of the same program, type and access that is 0
    /// there.
    pub fn guarded(&self, row: usize, k: usize) -> bool {
        let Some(r) = self.rows.get(row) else {
            return false;
        };
        self.rows.iter().enumerate().any(|(j, g)| {
            if !g.is_exists() || g.program != r.program {
                return false;
            }
            let v = self.cell(j, k);
            if g.local_type == r.local_type {
                let whole_type = matches!(
                    RelocKind::from_raw(g.kind),
                    Some(RelocKind::TypeExists | RelocKind::TypeMatches)
                );
                (whole_type || g.access == r.access) && v == Cell::Value(0)
            } else {
                // `if (exists(new->f)) ... else read(old->g)`: another
                // flavour of the same type exists, so this branch is dead.
                !r.essential.is_empty() && g.essential == r.essential && v == Cell::Value(1)
            }
        })
    }

    /// True when relocation `row` makes its program fail on kernel `k`.
    pub fn fails(&self, row: usize, k: usize) -> bool {
        let Some(r) = self.rows.get(row) else {
            return false;
        };
        match self.cell(row, k) {
            Cell::Ambiguous | Cell::Failed(_) => true,
            c if c.is_poisoned() => !r.is_exists() && !self.guarded(row, k),
            _ => false,
        }
    }

    /// One verdict per program (in order of first appearance).
    pub fn programs(&self) -> Vec<ProgramSummary> {
        let mut out: Vec<ProgramSummary> = Vec::new();
        for r in &self.rows {
            if !out.iter().any(|p| p.name == r.program) {
                out.push(ProgramSummary {
                    name: r.program.clone(),
                    loads: self.aborted.iter().map(|a| !a).collect(),
                });
            }
        }
        for (i, r) in self.rows.iter().enumerate() {
            let Some(p) = out.iter_mut().find(|p| p.name == r.program) else {
                continue;
            };
            for (k, l) in p.loads.iter_mut().enumerate() {
                if self.fails(i, k) {
                    *l = false;
                }
            }
        }
        out
    }

    /// True when a relocation other than an exists-kind is poisoned, or
    /// libbpf's pass failed, on some kernel (`btfx check` exits 1).
    pub fn failed(&self) -> bool {
        self.aborted.iter().any(|&a| a)
            || self.rows.iter().enumerate().any(|(i, r)| {
                !r.is_exists() && (0..self.kernels.len()).any(|k| self.cell(i, k).is_poisoned())
            })
    }

    /// The text form: an aligned table (relocation columns, then one column
    /// per kernel), then one summary line per program.
    pub fn render_text(&self) -> String {
        let mut head = vec![
            "program".to_string(),
            "relo".into(),
            "kind".into(),
            "access".into(),
            "source".into(),
        ];
        head.extend(self.kernels.iter().cloned());
        let mut table = vec![head];
        for (i, r) in self.rows.iter().enumerate() {
            let mut line = vec![
                r.program.clone(),
                format!("#{}", r.index),
                crate::kind_str(r.kind).to_string(),
                r.what.clone(),
                r.source.clone().unwrap_or_else(|| "-".into()),
            ];
            for k in 0..self.kernels.len() {
                let c = self.cell(i, k);
                let mut s = c.to_string();
                if c.is_poisoned() && !r.is_exists() && self.guarded(i, k) {
                    s.push_str(" (guarded)");
                }
                line.push(s);
            }
            table.push(line);
        }
        let ncol = table.first().map_or(0, Vec::len);
        let widths: Vec<usize> = (0..ncol)
            .map(|c| {
                table
                    .iter()
                    .map(|l| l.get(c).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for l in &table {
            let mut s = String::new();
            for (c, cell) in l.iter().enumerate() {
                if c > 0 {
                    s.push_str("  ");
                }
                let w = widths.get(c).copied().unwrap_or(0);
                s.push_str(cell);
                for _ in cell.chars().count()..w {
                    s.push(' ');
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        }
        out.push('\n');
        let n = self.kernels.len();
        for p in self.programs() {
            let ok = p.loads.iter().filter(|&&l| l).count();
            out.push_str(&format!("prog '{}': loads on {ok}/{n} kernels", p.name));
            let bad: Vec<&str> = p
                .loads
                .iter()
                .zip(&self.kernels)
                .filter(|(l, _)| !**l)
                .map(|(_, k)| k.as_str())
                .collect();
            if !bad.is_empty() {
                out.push_str(&format!(" (fails on {})", bad.join(", ")));
            }
            out.push('\n');
        }
        out
    }
}

fn found_spec(found: &[Option<&crate::RelocRecord>]) -> Option<String> {
    found
        .iter()
        .flatten()
        .find_map(|r| r.decision.as_ref().map(|d| d.local_spec.clone()))
}
