//! The relocation pass: libbpf's `bpf_object__relocate_core` and
//! `bpf_core_calc_relo_insn`, with the computation kept apart from patching.

use std::collections::HashMap;

use btf::{Btf, TypeId};

use crate::calc::{calc_relo, Fixup};
use crate::cands::{find_cands, Cand, Target};
use crate::ext::{BtfExt, CoreRelo};
use crate::insn::Insn;
use crate::matching::spec_match;
use crate::patch::{apply_fixup, LogStyle};
use crate::spec::{format_spec, parse_spec};
use crate::util::{kind_and_name, name_bytes};
use crate::{Error, RelocKind};

/// A program as the loader sees it before any linking: its name (the
/// function symbol), ELF section, offset within the section (in
/// instructions) and its own instructions. Subprograms of `.text` are
/// programs too: libbpf relocates them once, under their own name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// Program (function symbol) name.
    pub name: String,
    /// ELF section name.
    pub section: String,
    /// Offset of the first instruction within the section, in instructions.
    pub insn_off: usize,
    /// Instructions.
    pub insns: Vec<Insn>,
}

/// What happened to one candidate of a relocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateOutcome {
    /// Candidate number (`candidate #K`).
    pub index: usize,
    /// Name of the BTF holding it (`vmlinux` or a module).
    pub btf: String,
    /// Type id in that BTF.
    pub id: TypeId,
    /// The candidate's spec as libbpf prints it (partial when not matching).
    pub spec: String,
    /// Whether the local spec matched it.
    pub matched: bool,
    /// For a candidate that did not match, the step that failed (derived
    /// from how far the target spec got); `None` when it matched.
    pub why_not: Option<String>,
}

/// The computed decision for one relocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The local spec as libbpf prints it.
    pub local_spec: String,
    /// Every candidate tried, in order.
    pub candidates: Vec<CandidateOutcome>,
    /// The values to patch (or poison).
    pub fixup: Fixup,
    /// True when no candidate matched (the value is the "missing" value).
    pub no_match: bool,
}

/// How one relocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The instruction was patched.
    Patched,
    /// The instruction was replaced by an invalid call.
    Poisoned,
    /// The relocation failed; libbpf aborts the load here.
    Failed {
        /// libbpf's errno.
        errno: i32,
        /// Why.
        reason: String,
    },
    /// No program holds the instruction (libbpf skips the record).
    Skipped,
}

/// Everything known about one relocation after the pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocRecord {
    /// ELF section.
    pub section: String,
    /// Index within the section (`relo #N`).
    pub index: usize,
    /// Program the instruction belongs to.
    pub program: String,
    /// Instruction index within the program.
    pub insn: usize,
    /// Byte offset of the instruction within its section.
    pub insn_off: u32,
    /// Raw relocation kind.
    pub kind: u32,
    /// Local root type.
    pub local_type: TypeId,
    /// `kind name` of the local root type (`struct task_struct`).
    pub local_type_name: String,
    /// Access string.
    pub access: String,
    /// The decision, when it could be computed.
    pub decision: Option<Decision>,
    /// How it ended.
    pub outcome: Outcome,
}

/// The result of relocating an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// libbpf's CO-RE log lines, without the `libbpf: ` prefix.
    pub log: Vec<String>,
    /// One record per relocation processed, in order.
    pub records: Vec<RelocRecord>,
    /// Set when a relocation failed (libbpf stops at the first failure).
    pub failure: Option<Error>,
}

impl Report {
    /// True when libbpf would fail the load.
    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }
}

/// The target side of a relocation's decision: which candidate was chosen
/// and the low-level accessor path into it (libbpf's target
/// `bpf_core_spec`: root id and raw spec). BTFGen keeps exactly the types
/// and members these paths touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// Candidate source: 0 the kernel (`vmlinux`), then modules in the
    /// order given to [`Target::with_module`].
    pub src: usize,
    /// The chosen candidate's type id in that BTF (not skipped).
    pub root_type_id: TypeId,
    /// Relocation kind.
    pub kind: RelocKind,
    /// Every access index, anonymous members included (for enumerator
    /// relocations: the enumerator's index).
    pub raw: Vec<u32>,
}

/// A failed computation: libbpf's errno and the reason (already logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeError {
    /// libbpf's errno.
    pub errno: i32,
    /// Why.
    pub reason: String,
}

/// Computes relocations of one object against one target, keeping libbpf's
/// per-object candidate cache (candidates are pruned as relocations rule
/// them out, so order matters exactly as in libbpf).
pub struct Relocator<'a> {
    local: &'a Btf<'a>,
    target: Target<'a>,
    cache: HashMap<u32, Vec<Cand>>,
}

impl<'a> Relocator<'a> {
    /// A relocator for an object with BTF `local`.
    pub fn new(local: &'a Btf<'a>, target: Target<'a>) -> Relocator<'a> {
        Relocator {
            local,
            target,
            cache: HashMap::new(),
        }
    }

    /// Computes relocation `relo` (number `relo_idx` of its section, in
    /// program `prog`) without patching anything. libbpf's log lines for
    /// the search and the decision are appended to `log`.
    pub fn compute(
        &mut self,
        prog: &str,
        relo_idx: usize,
        relo: &CoreRelo,
        log: &mut Vec<String>,
    ) -> Result<Decision, ComputeError> {
        self.compute_targeted(prog, relo_idx, relo, log)
            .map(|(d, _)| d)
    }

    /// [`Relocator::compute`], also giving the target spec of the chosen
    /// candidate (the first one that matched), as libbpf's
    /// `bpf_core_calc_relo_insn` hands it to bpftool's BTFGen: `None` for
    /// `local_type_id` relocations and when no candidate matched.
    pub fn compute_targeted(
        &mut self,
        prog: &str,
        relo_idx: usize,
        relo: &CoreRelo,
        log: &mut Vec<String>,
    ) -> Result<(Decision, Option<TargetSpec>), ComputeError> {
        let lb = self.local;
        let local_id = relo.type_id;
        let fail = |log: &mut Vec<String>, errno: i32, msg: String| {
            log.push(msg.clone());
            ComputeError { errno, reason: msg }
        };
        let Some(lt) = lb.type_by_id(local_id) else {
            return Err(ComputeError {
                errno: crate::error::errno::EINVAL,
                reason: format!("local type id {} does not exist", local_id.0),
            });
        };
        let kind = RelocKind::from_raw(relo.kind);
        if kind != Some(RelocKind::TypeIdLocal) && !self.cache.contains_key(&local_id.0) {
            match find_cands(lb, local_id, &self.target, log) {
                Ok(c) => {
                    self.cache.insert(local_id.0, c);
                }
                Err(e) => {
                    let (k, n) = kind_and_name(lb, local_id);
                    let n = if name_bytes(lb, lt.name_off()).is_empty() {
                        ""
                    } else {
                        n.as_str()
                    };
                    return Err(fail(
                        log,
                        e,
                        format!("prog '{prog}': relo #{relo_idx}: target candidate search failed for [{}] {k} {n}: {e}", local_id.0),
                    ));
                }
            }
        }
        let access = lb.str_bytes(relo.access_str_off);
        let parsed = match kind {
            Some(k) => parse_spec(lb, local_id, access.unwrap_or(b""), k),
            None => Err((
                crate::error::errno::EINVAL,
                format!("unknown relocation kind {}", relo.kind),
            )),
        };
        let local = match parsed {
            Ok(s) => s,
            Err((e, why)) => {
                let (k, n) = kind_and_name(lb, local_id);
                let a = access.map_or("<?>".to_string(), |a| {
                    String::from_utf8_lossy(a).into_owned()
                });
                let msg = format!(
                    "prog '{prog}': relo #{relo_idx}: parsing [{}] {k} {n} + {a} failed: {e}",
                    local_id.0
                );
                log.push(msg);
                return Err(ComputeError {
                    errno: crate::error::errno::EINVAL,
                    reason: why,
                });
            }
        };
        let kind = local.kind;
        let local_spec = format_spec(lb, &local);
        log.push(format!("prog '{prog}': relo #{relo_idx}: {local_spec}"));
        if kind == RelocKind::TypeIdLocal {
            let v = u64::from(local.root_type_id.0);
            return Ok((
                Decision {
                    local_spec,
                    candidates: Vec::new(),
                    fixup: Fixup {
                        orig_val: v,
                        new_val: v,
                        validate: false,
                        ..Fixup::default()
                    },
                    no_match: false,
                },
                None,
            ));
        }
        if name_bytes(lb, lt.name_off()).is_empty() {
            return Err(fail(
                log,
                crate::error::errno::EOPNOTSUPP,
                format!("prog '{prog}': relo #{relo_idx}: <{}> ({}) relocation doesn't support anonymous types", kind.name(), relo.kind),
            ));
        }
        let cands = self.cache.get(&local_id.0).cloned().unwrap_or_default();
        let mut kept: Vec<Cand> = Vec::new();
        let mut outcomes = Vec::with_capacity(cands.len());
        let mut chosen: Option<(Fixup, u64)> = None;
        let mut target_spec: Option<TargetSpec> = None;
        for (i, c) in cands.iter().enumerate() {
            let Some((bname, tb)) = self.target.source(c.src) else {
                continue;
            };
            let (r, ts) = spec_match(lb, &local, tb, c.id);
            let spec_text = format_spec(tb, &ts);
            let matched = match r {
                Err(e) => {
                    return Err(fail(
                        log,
                        e,
                        format!("prog '{prog}': relo #{relo_idx}: error matching candidate #{i} {spec_text}: {e}"),
                    ));
                }
                Ok(m) => m,
            };
            log.push(format!(
                "prog '{prog}': relo #{relo_idx}: {} candidate #{i} {spec_text}",
                if matched { "matching" } else { "non-matching" }
            ));
            outcomes.push(CandidateOutcome {
                index: i,
                btf: bname.to_string(),
                id: c.id,
                spec: spec_text,
                matched,
                why_not: (!matched).then(|| why_not(lb, &local, tb, &ts)),
            });
            if !matched {
                continue;
            }
            let res = self.calc(prog, relo_idx, relo, kind, &local, Some((tb, &ts)), log)?;
            match &chosen {
                None => {
                    chosen = Some((res, ts.bit_offset));
                    target_spec = Some(TargetSpec {
                        src: c.src,
                        root_type_id: ts.root_type_id,
                        kind: ts.kind,
                        raw: ts.raw.clone(),
                    });
                }
                Some((prev, bit_off)) => {
                    if ts.bit_offset != *bit_off {
                        return Err(fail(
                            log,
                            crate::error::errno::EINVAL,
                            format!(
                                "prog '{prog}': relo #{relo_idx}: field offset ambiguity: {} != {}",
                                ts.bit_offset as u32, *bit_off as u32
                            ),
                        ));
                    }
                    if res.poison != prev.poison || res.new_val != prev.new_val {
                        let word = |p: bool| if p { "failure" } else { "success" };
                        return Err(fail(
                            log,
                            crate::error::errno::EINVAL,
                            format!(
                                "prog '{prog}': relo #{relo_idx}: relocation decision ambiguity: {} {} != {} {}",
                                word(res.poison),
                                res.new_val,
                                word(prev.poison),
                                prev.new_val
                            ),
                        ));
                    }
                }
            }
            kept.push(*c);
        }
        if !kept.is_empty() {
            self.cache.insert(local_id.0, kept);
        }
        let (fixup, no_match) = match chosen {
            Some((f, _)) => (f, false),
            None => {
                log.push(format!(
                    "prog '{prog}': relo #{relo_idx}: no matching targets found"
                ));
                (
                    self.calc(prog, relo_idx, relo, kind, &local, None, log)?,
                    true,
                )
            }
        };
        Ok((
            Decision {
                local_spec,
                candidates: outcomes,
                fixup,
                no_match,
            },
            target_spec,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn calc(
        &self,
        prog: &str,
        relo_idx: usize,
        relo: &CoreRelo,
        kind: RelocKind,
        local: &crate::spec::Spec,
        targ: Option<(&Btf<'_>, &crate::spec::Spec)>,
        log: &mut Vec<String>,
    ) -> Result<Fixup, ComputeError> {
        calc_relo(self.local, kind, local, targ).map_err(|(e, why)| {
            if e == crate::error::errno::EOPNOTSUPP {
                log.push(format!(
                    "prog '{prog}': relo #{relo_idx}: unrecognized CO-RE relocation {} ({}) at insn #{}",
                    kind.name(),
                    relo.kind,
                    relo.insn_off / 8
                ));
            }
            ComputeError { errno: e, reason: why }
        })
    }
}

/// Relocates every CO-RE record of `ext` in `programs` against `target`,
/// exactly as libbpf 1.1 does when loading an object: sections in `.BTF.ext`
/// order, one candidate cache for the object, first failure aborts.
pub fn relocate<'a>(
    local: &'a Btf<'a>,
    ext: &BtfExt,
    programs: &mut [Program],
    target: Target<'a>,
) -> Report {
    relocate_with(local, ext, programs, target, LogStyle::Libbpf)
}

/// The essential names whose target candidates relocating this object
/// looks up, each once, in the order of its CO-RE records. A one-shot
/// loader can search the target for them while it parses it
/// ([`btf::Btf::parse_scanning`]) and hand the result to
/// [`Target::with_prefetched`].
pub fn wanted_names<'a>(local: &'a Btf<'a>, ext: &BtfExt) -> Vec<&'a [u8]> {
    let mut names: Vec<&[u8]> = Vec::new();
    for rec in ext.core_relos.iter().flat_map(|s| s.records.iter()) {
        if let Some(t) = local.type_by_id(rec.type_id) {
            let n = crate::util::name_bytes(local, t.name_off());
            let ess = &n[..crate::util::essential_len(n)];
            if !ess.is_empty() && !names.contains(&ess) {
                names.push(ess);
            }
        }
    }
    names
}

/// [`relocate`] reproducing the log of a given libbpf build (see [`LogStyle`]).
pub fn relocate_with<'a>(
    local: &'a Btf<'a>,
    ext: &BtfExt,
    programs: &mut [Program],
    target: Target<'a>,
    style: LogStyle,
) -> Report {
    let mut report = Report::default();
    let mut target = target;
    // The names this object will search for, fetched in one pass when the
    // target's index is not built yet (and they were not given).
    target.prefetch(&wanted_names(local, ext));
    let mut r = Relocator::new(local, target);
    for sec in &ext.core_relos {
        report.log.push(format!(
            "sec '{}': found {} CO-RE relocations",
            sec.name,
            sec.records.len()
        ));
        for (i, rec) in sec.records.iter().enumerate() {
            if let Err(e) = one(&mut r, &sec.name, i, rec, programs, style, &mut report) {
                report.failure = Some(e);
                return report;
            }
        }
    }
    report
}

fn one(
    r: &mut Relocator<'_>,
    section: &str,
    i: usize,
    rec: &CoreRelo,
    programs: &mut [Program],
    style: LogStyle,
    report: &mut Report,
) -> Result<(), Error> {
    let lb = r.local;
    let (k, n) = kind_and_name(lb, rec.type_id);
    let access = lb
        .str_bytes(rec.access_str_off)
        .map_or("<?>".to_string(), |a| {
            String::from_utf8_lossy(a).into_owned()
        });
    let mut record = RelocRecord {
        section: section.to_string(),
        index: i,
        program: String::new(),
        insn: 0,
        insn_off: rec.insn_off,
        kind: rec.kind,
        local_type: rec.type_id,
        local_type_name: format!("{k} {n}"),
        access,
        decision: None,
        outcome: Outcome::Skipped,
    };
    let bad = |what: String| Error::BadRelo {
        section: section.to_string(),
        relo: i,
        what,
    };
    if rec.insn_off & 7 != 0 {
        let e = bad(format!(
            "instruction offset {} is not a multiple of 8",
            rec.insn_off
        ));
        record.outcome = Outcome::Failed {
            errno: -22,
            reason: e.to_string(),
        };
        report.records.push(record);
        return Err(e);
    }
    let sec_idx = (rec.insn_off / 8) as usize;
    let Some(prog) = programs.iter_mut().find(|p| {
        p.section == section && sec_idx >= p.insn_off && sec_idx - p.insn_off < p.insns.len()
    }) else {
        // libbpf: "skipping CO-RE relocation ... belonging to eliminated weak subprogram"
        report.records.push(record);
        return Ok(());
    };
    let idx = sec_idx - prog.insn_off;
    record.program = prog.name.clone();
    record.insn = idx;
    let decision = match r.compute(&prog.name, i, rec, &mut report.log) {
        Ok(d) => d,
        Err(e) => {
            report.log.push(format!(
                "prog '{}': relo #{i}: failed to relocate: {}",
                prog.name, e.errno
            ));
            record.outcome = Outcome::Failed {
                errno: e.errno,
                reason: e.reason.clone(),
            };
            report.records.push(record);
            return Err(Error::Failed {
                prog: prog.name.clone(),
                relo: i,
                errno: e.errno,
                what: format!("failed to relocate: {}", e.reason),
            });
        }
    };
    let before = report.log.len();
    let applied = apply_fixup(
        &prog.name,
        i,
        &mut prog.insns,
        idx,
        &decision.fixup,
        style,
        &mut report.log,
    );
    let poisoned = report.log[before..]
        .iter()
        .any(|l| l.ends_with("w/ invalid insn"));
    record.decision = Some(decision);
    match applied {
        Ok(()) => {
            record.outcome = if poisoned {
                Outcome::Poisoned
            } else {
                Outcome::Patched
            };
            report.records.push(record);
            Ok(())
        }
        Err((errno, why)) => {
            report.log.push(format!(
                "prog '{}': relo #{i}: failed to patch insn #{idx}: {errno}",
                prog.name
            ));
            record.outcome = Outcome::Failed {
                errno,
                reason: why.clone(),
            };
            report.records.push(record);
            Err(Error::Failed {
                prog: prog.name.clone(),
                relo: i,
                errno,
                what: format!("failed to patch insn #{idx}: {why}"),
            })
        }
    }
}

/// Why a candidate did not match: the first local accessor the target spec
/// could not follow, and for a named member whether the target lacks it or
/// has it with an incompatible type.
fn why_not(
    lb: &Btf<'_>,
    local: &crate::spec::Spec,
    tb: &Btf<'_>,
    ts: &crate::spec::Spec,
) -> String {
    let name = |a: &crate::spec::Accessor| {
        a.name
            .map(|n| String::from_utf8_lossy(crate::util::name_bytes(lb, n)).into_owned())
    };
    if local.kind.is_type_based() {
        return if local.kind == RelocKind::TypeMatches {
            "the target type does not match the local one (type_matches rules)".into()
        } else {
            "the target type is not compatible with the local one".into()
        };
    }
    if local.kind.is_enumval_based() {
        return match local.acc.first().and_then(name) {
            Some(n) => format!("the target enum has no enumerator '{n}'"),
            None => "the target is not an enum".into(),
        };
    }
    let k = ts.acc.len();
    let total = local.acc.len();
    match local.acc.get(k) {
        Some(a) => match name(a) {
            Some(n) => {
                let container = target_container(tb, ts);
                let what = container.map_or_else(String::new, |c| {
                    format!(" {}", crate::util::describe(tb, c))
                });
                match container.and_then(|c| find_member(tb, c, n.as_bytes(), 0)) {
                    Some(ty) => format!(
                        "accessor {} of {total}: member '{n}' of the target{what} has an incompatible type ({} there, {} here)",
                        k + 1,
                        crate::util::describe(tb, ty),
                        local_member_type(lb, a).map_or_else(
                            || "?".to_string(),
                            |t| crate::util::describe(lb, t)
                        ),
                    ),
                    None => format!(
                        "accessor {} of {total}: no member '{n}' in the target{what}",
                        k + 1
                    ),
                }
            }
            None => format!(
                "accessor {} of {total}: index [{}] is past the target array, or the target is not an array",
                k + 1,
                a.idx
            ),
        },
        None => "the target field's type is not compatible with the local one".into(),
    }
}

/// The target type the next local accessor looks into: the root, or the
/// (skipped) type of the last target field or array element matched.
fn target_container(tb: &Btf<'_>, ts: &crate::spec::Spec) -> Option<TypeId> {
    let last = ts.acc.last()?;
    if ts.acc.len() == 1 {
        return Some(last.type_id);
    }
    let t = tb.type_by_id(last.type_id)?;
    let next = match t.array() {
        Some(a) => a.elem,
        None => crate::util::member(&t, last.idx)?.ty,
    };
    crate::util::skip(tb, next).map(|t| t.id())
}

/// The type of the member called `name` of `id`, looking through anonymous
/// members as libbpf's member matching does.
fn find_member(tb: &Btf<'_>, id: TypeId, name: &[u8], depth: usize) -> Option<TypeId> {
    let t = crate::util::skip(tb, id)?;
    if !t.kind().is_composite() || depth > crate::spec::SPEC_MAX_LEN {
        return None;
    }
    t.members().find_map(|m| {
        let n = crate::util::name_bytes(tb, m.name_off);
        if n.is_empty() {
            find_member(tb, m.ty, name, depth + 1)
        } else {
            (n == name).then_some(m.ty)
        }
    })
}

/// The type of the local member a named accessor selects.
fn local_member_type(lb: &Btf<'_>, a: &crate::spec::Accessor) -> Option<TypeId> {
    let t = lb.type_by_id(a.type_id)?;
    Some(crate::util::member(&t, a.idx)?.ty)
}
