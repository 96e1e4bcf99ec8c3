//! From classes to the answer: matched classes, types without an equal,
//! roots and dependents, counterparts.

use std::collections::VecDeque;

use hashbrown::HashMap;

use super::build::{Graph, Side};
use super::intern::Interner;
use super::refine::Classes;
use super::{describe, GraphDiff, KindCount, Multiplicity, Root};
use crate::Kind;

/// How far up the search for a named referrer of an anonymous root goes.
const MAX_REFERRER_VISITS: usize = 4096;
/// How many visits all those searches may make together (hostile input:
/// many anonymous roots under a large anonymous graph); past it, anonymous
/// roots are left without counterpart.
const MAX_REFERRER_VISITS_TOTAL: usize = 1 << 22;

/// Per-node facts shared by the steps below.
pub(crate) struct Facts<'g, 'x, 'a, 'b> {
    pub g: &'g Graph<'x, 'a, 'b>,
    pub cls: &'g [u32],
    /// Whether the node's class has a member on the other side.
    pub matched: Vec<bool>,
    /// Per key: bit 1 when A has a type of that kind and name, bit 2 B.
    pub key_sides: Vec<u8>,
}

impl Facts<'_, '_, '_, '_> {
    /// Class of a slot.
    #[inline]
    pub fn class(&self, slot: u32) -> u32 {
        self.cls[slot as usize]
    }

    /// The node of a slot, if it is not fixed.
    #[inline]
    pub fn node(&self, slot: u32) -> Option<usize> {
        slot.checked_sub(self.g.fixed).map(|n| n as usize)
    }

    /// Whether node `j` is named and nothing of its kind and name exists on
    /// the other side (a type renamed, added or removed).
    pub fn orphan(&self, j: usize) -> bool {
        let other = match self.g.side(j) {
            Side::A => 2,
            Side::B => 1,
        };
        self.g.name[j] != 0 && self.key_sides[self.g.key[j] as usize] & other == 0
    }

    /// How a referrer's relaxed signature reads a reference to node `j`
    /// without an equal: its kind and name, or only its kind for an
    /// orphan (`long` on one side, `long int` on the other).
    pub fn loose_key(&self, j: usize) -> [u32; 2] {
        if self.orphan(j) {
            [2, self.g.kind[j].raw() as u32]
        } else {
            [1, self.g.key[j]]
        }
    }

    /// Whether two slots (one per side) stand for types that differ in a
    /// way of their own: different classes, unless both lack an equal and
    /// read the same in relaxed signatures (then the difference is
    /// theirs, not the referrer's).
    pub fn refs_differ(&self, sa: u32, sb: u32) -> bool {
        if self.class(sa) == self.class(sb) {
            return false;
        }
        match (self.node(sa), self.node(sb)) {
            (Some(x), Some(y)) => {
                self.matched[x] || self.matched[y] || self.loose_key(x) != self.loose_key(y)
            }
            _ => true,
        }
    }
}

pub(crate) fn explain(g: &Graph<'_, '_, '_>, c: &Classes) -> GraphDiff {
    let n = g.len();
    let fixed = g.fixed as usize;
    let cls = &c.cls;
    // Types per class and side.
    let mut per = vec![(0u32, 0u32); c.count as usize];
    for i in 0..n {
        let e = &mut per[cls[fixed + i] as usize];
        match g.side(i) {
            Side::A => e.0 += 1,
            Side::B => e.1 += 1,
        }
    }
    let matched: Vec<bool> = (0..n)
        .map(|i| {
            let (x, y) = per[cls[fixed + i] as usize];
            x > 0 && y > 0
        })
        .collect();
    let (mut classes, mut one, mut multiple) = (0, 0, 0);
    for &(x, y) in &per {
        if x + y > 0 {
            classes += 1;
        }
        if x == 1 && y == 1 {
            one += 1;
        } else if x == y && x > 1 {
            multiple += 1;
        }
    }
    let mut key_sides = vec![0u8; g.key.iter().max().map_or(0, |&k| k as usize + 1)];
    for i in 0..n {
        key_sides[g.key[i] as usize] |= match g.side(i) {
            Side::A => 1,
            Side::B => 2,
        };
    }
    let facts = Facts {
        g,
        cls,
        matched,
        key_sides,
    };

    let mut kinds: Vec<KindCount> = Vec::new();
    for i in 0..n {
        let k = g.kind[i];
        let pos = match kinds.iter().position(|kc| kc.kind == k) {
            Some(p) => p,
            None => {
                kinds.push(KindCount {
                    kind: k,
                    a: 0,
                    b: 0,
                });
                kinds.len() - 1
            }
        };
        match g.side(i) {
            Side::A => kinds[pos].a += 1,
            Side::B => kinds[pos].b += 1,
        }
    }
    kinds.sort_by_key(|kc| kc.kind.raw());

    // Duplicates on one side.
    let mut multiplicity: Vec<Multiplicity> = Vec::new();
    let mut mult_of: HashMap<u32, usize> = HashMap::new();
    for i in 0..n {
        let class = cls[fixed + i];
        let (x, y) = per[class as usize];
        if x == y || x == 0 || y == 0 {
            continue;
        }
        let at = *mult_of.entry(class).or_insert_with(|| {
            multiplicity.push(Multiplicity {
                kind: g.kind[i],
                name: type_name(g, i),
                a: Vec::new(),
                b: Vec::new(),
            });
            multiplicity.len() - 1
        });
        let (side, id) = g.id_of(i);
        match side {
            Side::A => multiplicity[at].a.push(id),
            Side::B => multiplicity[at].b.push(id),
        }
    }

    // Roots: types without an equal whose relaxed signature (references
    // without an equal read as their kind and name) has no match among the
    // other side's types without an equal.
    let mut relaxed = Interner::with_capacity(64);
    let mut rid = vec![u32::MAX; n];
    let mut present: Vec<u8> = Vec::new();
    let mut words: Vec<u32> = Vec::new();
    for (i, r) in rid.iter_mut().enumerate() {
        if facts.matched[i] {
            continue;
        }
        words.clear();
        words.push(g.shape[i]);
        for &s in g.refs_of(i) {
            match facts.node(s) {
                Some(j) if !facts.matched[j] => words.extend_from_slice(&facts.loose_key(j)),
                _ => words.extend_from_slice(&[0, cls[s as usize]]),
            }
        }
        let id = relaxed.intern(&words);
        *r = id;
        present.resize(relaxed.len(), 0);
        present[id as usize] |= match g.side(i) {
            Side::A => 1,
            Side::B => 2,
        };
    }
    let mut root: Vec<bool> = (0..n)
        .map(|i| {
            !facts.matched[i] && {
                let other = match g.side(i) {
                    Side::A => 2,
                    Side::B => 1,
                };
                present[rid[i] as usize] & other == 0
            }
        })
        .collect();

    // Counterparts of the roots. An anonymous root with no counterpart
    // that references a type without an equal (a pointer to a new struct)
    // is new because of it: a dependent.
    let finder = root.contains(&true).then(|| Counterparts::new(g, &facts));
    let mut found: Vec<Found> = Vec::new();
    for (i, is_root) in root.iter_mut().enumerate() {
        let Some(finder) = finder.as_ref().filter(|_| *is_root) else {
            continue;
        };
        let (cp, via) = finder.find(i);
        let through = g
            .refs_of(i)
            .iter()
            .any(|&s| facts.node(s).is_some_and(|j| !facts.matched[j]));
        if cp.is_none() && g.name[i] == 0 && through {
            *is_root = false;
        } else {
            found.push((i, cp, via));
        }
    }

    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    let (mut dependents_a, mut dependents_b) = (Vec::new(), Vec::new());
    for (i, &is_root) in root.iter().enumerate() {
        if facts.matched[i] {
            continue;
        }
        let (side, id) = g.id_of(i);
        let (only, deps) = match side {
            Side::A => (&mut only_a, &mut dependents_a),
            Side::B => (&mut only_b, &mut dependents_b),
        };
        only.push(id);
        if !is_root {
            deps.push(id);
        }
    }

    // One entry per root, A's first with their counterparts (a counterpart
    // that is a root of B too is not listed again).
    let mut roots = Vec::new();
    let mut listed = vec![false; n];
    for &(i, cp, ref via) in &found {
        if listed[i] {
            continue;
        }
        let (x, y) = match g.side(i) {
            Side::A => (Some(i), cp),
            Side::B => (cp, Some(i)),
        };
        for k in [x, y].into_iter().flatten() {
            if root[k] {
                listed[k] = true;
            }
        }
        roots.push(Root {
            kind: g.kind[i],
            name: type_name(g, i),
            a: x.map(|k| g.id_of(k).1),
            b: y.map(|k| g.id_of(k).1),
            a_is_root: x.is_some_and(|k| root[k]),
            b_is_root: y.is_some_and(|k| root[k]),
            via: via.clone(),
            difference: match (x, y) {
                (Some(x), Some(y)) => describe::first_difference(&facts, x, y),
                _ => describe::Difference::Missing,
            },
        });
    }
    roots.sort_by(|x, y| (x.kind.raw(), &x.name, x.a, x.b).cmp(&(y.kind.raw(), &y.name, y.a, y.b)));

    GraphDiff {
        kinds,
        roots_a: only_a.len() - dependents_a.len(),
        roots_b: only_b.len() - dependents_b.len(),
        only_a,
        only_b,
        classes,
        matched: one,
        matched_multiple: multiple,
        multiplicity,
        roots,
        dependents_a,
        dependents_b,
        rounds: c.rounds,
    }
}

/// A root, its counterpart, the named type it was found through.
type Found = (usize, Option<usize>, Option<(Kind, String)>);

/// The name of node `i` (`""` when anonymous).
pub(crate) fn type_name(g: &Graph<'_, '_, '_>, i: usize) -> String {
    let (side, id) = g.id_of(i);
    let t = match side {
        Side::A => g.a.type_by_id(id).map(|t| g.a.type_name(&t).to_owned()),
        Side::B => g.b.type_by_id(id).map(|t| g.b.type_name(&t).to_owned()),
    };
    t.unwrap_or_default()
}

/// One step down a path of references.
struct Step {
    /// The node the step leaves.
    parent: usize,
    /// The reference position taken.
    pos: u32,
    /// The kind of the node reached.
    kind: Kind,
}

/// Finds, for a type of one side, the type of the other side that stands
/// where it stands.
struct Counterparts<'f, 'g, 'x, 'a, 'b> {
    f: &'f Facts<'g, 'x, 'a, 'b>,
    /// Named nodes by key, per side.
    by_key: [HashMap<u32, Vec<u32>>; 2],
    rev_start: Vec<u32>,
    rev: Vec<u32>,
    /// Visits left for all searches of named referrers together.
    budget: std::cell::Cell<usize>,
}

impl<'f, 'g, 'x, 'a, 'b> Counterparts<'f, 'g, 'x, 'a, 'b> {
    fn new(g: &'g Graph<'x, 'a, 'b>, f: &'f Facts<'g, 'x, 'a, 'b>) -> Self {
        let mut by_key: [HashMap<u32, Vec<u32>>; 2] = [HashMap::new(), HashMap::new()];
        for i in 0..g.len() {
            if g.name[i] != 0 {
                let s = match g.side(i) {
                    Side::A => 0,
                    Side::B => 1,
                };
                by_key[s].entry(g.key[i]).or_default().push(i as u32);
            }
        }
        for list in by_key.iter_mut().flat_map(|m| m.values_mut()) {
            list.sort_by_key(|&x| (f.matched[x as usize], x));
        }
        let (rev_start, rev) = super::refine::reverse_edges(g);
        Counterparts {
            f,
            by_key,
            rev_start,
            rev,
            budget: std::cell::Cell::new(MAX_REFERRER_VISITS_TOTAL),
        }
    }

    /// Nodes of `side` with this key, those without an equal first.
    fn named(&self, side: Side, key: u32) -> Vec<usize> {
        let s = match side {
            Side::A => 0,
            Side::B => 1,
        };
        self.by_key[s]
            .get(&key)
            .map(|v| v.iter().map(|&x| x as usize).collect())
            .unwrap_or_default()
    }

    /// The counterpart of node `i`, and for an anonymous node the named
    /// type it was found through.
    fn find(&self, i: usize) -> (Option<usize>, Option<(Kind, String)>) {
        let g = self.f.g;
        let other = g.side(i).other();
        if g.name[i] != 0 {
            return (self.named(other, g.key[i]).first().copied(), None);
        }
        let Some((top, path)) = self.named_referrer(i) else {
            return (None, None);
        };
        let via = Some((g.kind[top], type_name(g, top)));
        for cand in self.named(other, g.key[top]) {
            if let Some(end) = self.follow(cand, &path) {
                if g.kind[end] == g.kind[i] {
                    return (Some(end), via);
                }
            }
        }
        (None, via)
    }

    /// The nearest named node that reaches `i` by references, and the
    /// reference positions leading from it to `i` (kind of each step kept
    /// to check the walk on the other side).
    fn named_referrer(&self, i: usize) -> Option<(usize, Vec<Step>)> {
        let g = self.f.g;
        let mut parent: HashMap<u32, (u32, u32)> = HashMap::new();
        let mut queue = VecDeque::from([i as u32]);
        parent.insert(i as u32, (u32::MAX, 0));
        while let Some(x) = queue.pop_front() {
            let s = self.rev_start[x as usize] as usize;
            let e = self.rev_start[x as usize + 1] as usize;
            for &p in &self.rev[s..e] {
                if parent.contains_key(&p) {
                    continue;
                }
                let Some(pos) = g.refs_of(p as usize).iter().position(|&r| r == g.fixed + x) else {
                    continue;
                };
                parent.insert(p, (x, pos as u32));
                if g.name[p as usize] != 0 {
                    // Walk back down from p to i.
                    let mut path = Vec::new();
                    let mut at = p;
                    while at != i as u32 {
                        let (child, pos) = *parent.get(&at)?;
                        path.push(Step {
                            parent: at as usize,
                            pos,
                            kind: g.kind[child as usize],
                        });
                        at = child;
                    }
                    return Some((p as usize, path));
                }
                let left = self.budget.get();
                if parent.len() > MAX_REFERRER_VISITS || left == 0 {
                    return None;
                }
                self.budget.set(left - 1);
                queue.push_back(p);
            }
        }
        None
    }

    /// Walks `path` from node `start`: the node reached, if every step
    /// exists and has the expected kind. A step into a named member or
    /// parameter goes to the item of that name (members come and go
    /// between versions); other steps keep their position.
    fn follow(&self, start: usize, path: &[Step]) -> Option<usize> {
        let g = self.f.g;
        let mut at = start;
        for step in path {
            let pos = match self.item_name(step.parent, step.pos) {
                Some(name) => self.item_named(at, &name)?,
                None => step.pos,
            };
            let slot = *g.refs_of(at).get(pos as usize)?;
            let next = self.f.node(slot)?;
            if g.kind[next] != step.kind {
                return None;
            }
            at = next;
        }
        Some(at)
    }

    /// The type of node `i`, read from its side.
    fn with_type<R>(
        &self,
        i: usize,
        f: impl FnOnce(&crate::Btf<'_>, crate::Type<'_>) -> R,
    ) -> Option<R> {
        let g = self.f.g;
        match g.id_of(i) {
            (Side::A, id) => g.a.type_by_id(id).map(|t| f(g.a, t)),
            (Side::B, id) => g.b.type_by_id(id).map(|t| f(g.b, t)),
        }
    }

    /// The name of the member or parameter behind reference `pos` of node
    /// `i` (none when anonymous or not a member or parameter).
    fn item_name(&self, i: usize, pos: u32) -> Option<Vec<u8>> {
        self.with_type(i, |btf, t| {
            let off = match t.kind() {
                Kind::Struct | Kind::Union => t.members().nth(pos as usize)?.name_off,
                Kind::FuncProto => t.params().nth((pos as usize).checked_sub(1)?)?.name_off,
                _ => return None,
            };
            btf.str_bytes(off)
                .filter(|b| !b.is_empty())
                .map(<[u8]>::to_vec)
        })
        .flatten()
    }

    /// The reference position of the member or parameter of node `i` with
    /// this name.
    fn item_named(&self, i: usize, name: &[u8]) -> Option<u32> {
        self.with_type(i, |btf, t| match t.kind() {
            Kind::Struct | Kind::Union => t
                .members()
                .position(|m| btf.str_bytes(m.name_off) == Some(name))
                .map(|p| p as u32),
            Kind::FuncProto => t
                .params()
                .position(|p| btf.str_bytes(p.name_off) == Some(name))
                .map(|p| p as u32 + 1),
            _ => None,
        })
        .flatten()
    }
}
