//! Partition refinement: the coarsest partition of the nodes in which two
//! nodes share a class only if they share a shape and their references,
//! position by position, share classes (a bisimulation, as in Moore's DFA
//! minimisation).
//!
//! Classes start as shapes. Each round gives every node the signature
//! (its class, the classes of its references in order) and numbers the
//! distinct signatures; since a node's own class is part of its signature,
//! every round refines the one before, and when a round makes no more
//! classes than the one before, the partition is stable. Cycles need no
//! care: a struct pointing to itself starts in its shape's class and stays
//! with every node it cannot be told apart from.
//!
//! A round only looks at the *touched* nodes: those referencing a node
//! that moved to a new class in the round before (in the first round,
//! every node with references). The untouched members of a class still
//! share one signature, so they stay together, represented by one of
//! them; each touched member joins them or a new part. The largest part
//! keeps the class's number and the others move (Hopcroft's "smaller
//! half": a node moves O(log n) times). Work per round is then proportional to the references into the
//! nodes that moved, not to the sizes of their classes: a chain of 20000
//! pointers, split one level per round, takes 20000 short rounds.

use hashbrown::HashTable;

use super::build::Graph;
use super::intern::fmix;

/// Classes up to this size are split by comparing with each part's
/// representative instead of hashing.
const SMALL_CLASS: usize = 8;

/// The result of refinement: a class per slot (fixed slots are their own
/// class), the number of classes, and how many rounds it took.
pub(crate) struct Classes {
    /// Class of each slot (`fixed + node` for nodes).
    pub cls: Vec<u32>,
    /// One past the largest class number.
    pub count: u32,
    /// Rounds run (each over the nodes the one before touched).
    pub rounds: u32,
}

/// Refines the shapes of `g` until stable.
pub(crate) fn refine(g: &Graph<'_, '_, '_>) -> Classes {
    let fixed = g.fixed as usize;
    let n = g.len();
    // Classes: fixed slots are their own; nodes start as their shape.
    let mut cls: Vec<u32> = (0..fixed as u32)
        .chain(g.shape.iter().map(|&s| g.fixed + s))
        .collect();
    let mut count = g.fixed + g.shape.iter().max().map_or(0, |&m| m + 1);

    // Reverse edges: which nodes reference node j.
    let (rev_start, rev) = reverse_edges(g);

    // Members of each class, and each node's position in its list (a
    // node that moves is swapped out of its old list).
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); count as usize];
    let mut pos: Vec<u32> = vec![0; n];
    for i in 0..n {
        let c = cls[fixed + i] as usize;
        pos[i] = members[c].len() as u32;
        members[c].push(i as u32);
    }
    // First round: every node with references in a class of two or more.
    let mut touched: Vec<u32> = (0..n as u32)
        .filter(|&i| {
            !g.refs_of(i as usize).is_empty() && members[cls[fixed + i as usize] as usize].len() > 1
        })
        .collect();
    let mut is_touched = vec![false; n];
    for &i in &touched {
        is_touched[i as usize] = true;
    }
    let mut rounds = 0;
    let mut table: HashTable<u32> = HashTable::new();
    // Representative node of each part of the class being split.
    let mut reps: Vec<u32> = Vec::new();
    let mut moves: Vec<(u32, u32)> = Vec::new();
    // The part of each touched node of the class being split, and the
    // sizes of the parts.
    let mut assign: Vec<(u32, u32)> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    while !touched.is_empty() {
        rounds += 1;
        moves.clear();
        touched.sort_unstable_by_key(|&i| cls[fixed + i as usize]);
        // Decide every class's split from the classes of the round before,
        // then apply them all.
        for group in touched.chunk_by(|&x, &y| cls[fixed + x as usize] == cls[fixed + y as usize]) {
            let c = cls[fixed + group[0] as usize];
            let m = &members[c as usize];
            if m.len() <= 1 {
                continue;
            }
            reps.clear();
            // Part 0: the untouched members, if any, by one of them.
            if group.len() < m.len() {
                reps.extend(m.iter().copied().find(|&x| !is_touched[x as usize]));
            }
            let small = group.len() <= SMALL_CLASS;
            if !small {
                table = HashTable::with_capacity(group.len() + 1);
                if let Some(&u) = reps.first() {
                    let h = sig_hash(&cls, g.refs_of(u as usize));
                    table.insert_unique(h, 0, |_| h);
                }
            }
            for &node in group {
                let r = g.refs_of(node as usize);
                let part = if small {
                    match reps
                        .iter()
                        .position(|&rep| same_sig(&cls, r, g.refs_of(rep as usize)))
                    {
                        Some(p) => p as u32,
                        None => {
                            reps.push(node);
                            reps.len() as u32 - 1
                        }
                    }
                } else {
                    let h = sig_hash(&cls, r);
                    let found = table
                        .find(h, |&p| {
                            same_sig(&cls, r, g.refs_of(reps[p as usize] as usize))
                        })
                        .copied();
                    match found {
                        Some(p) => p,
                        None => {
                            let p = reps.len() as u32;
                            reps.push(node);
                            table.insert_unique(h, p, |&p| {
                                sig_hash(&cls, g.refs_of(reps[p as usize] as usize))
                            });
                            p
                        }
                    }
                };
                assign.push((node, part));
            }
            if reps.len() > 1 {
                // The largest part keeps the class's number: the others
                // move (each node moves O(log n) times).
                let untouched = m.len() - group.len();
                sizes.clear();
                sizes.resize(reps.len(), 0);
                sizes[0] = untouched;
                for &(_, p) in &assign {
                    sizes[p as usize] += 1;
                }
                let keep = (0..sizes.len())
                    .max_by_key(|&p| (sizes[p], usize::MAX - p))
                    .unwrap_or(0) as u32;
                let new_id = |p: u32| count + p - u32::from(p > keep);
                for &(node, p) in &assign {
                    if p != keep {
                        moves.push((node, new_id(p)));
                    }
                }
                if keep != 0 && untouched > 0 {
                    for &x in m {
                        if !is_touched[x as usize] {
                            moves.push((x, new_id(0)));
                        }
                    }
                }
                count += reps.len() as u32 - 1;
            }
            assign.clear();
        }
        for &i in &touched {
            is_touched[i as usize] = false;
        }
        members.resize(count as usize, Vec::new());
        for &(node, nc) in &moves {
            let old = cls[fixed + node as usize] as usize;
            let at = pos[node as usize] as usize;
            members[old].swap_remove(at);
            if let Some(&other) = members[old].get(at) {
                pos[other as usize] = at as u32;
            }
            cls[fixed + node as usize] = nc;
            pos[node as usize] = members[nc as usize].len() as u32;
            members[nc as usize].push(node);
        }
        // Next round: the nodes that reference a moved node.
        touched.clear();
        for &(node, _) in &moves {
            let s = rev_start[node as usize] as usize;
            let e = rev_start[node as usize + 1] as usize;
            for &p in &rev[s..e] {
                if !is_touched[p as usize] {
                    is_touched[p as usize] = true;
                    touched.push(p);
                }
            }
        }
    }
    Classes { cls, count, rounds }
}

/// Hash of the classes of a node's references (its own class is the same
/// for every node compared).
#[inline]
fn sig_hash(cls: &[u32], refs: &[u32]) -> u64 {
    let mut h: u64 = refs.len() as u64;
    for &r in refs {
        h = (h.rotate_left(5) ^ cls[r as usize] as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fmix(h)
}

#[inline]
fn same_sig(cls: &[u32], x: &[u32], y: &[u32]) -> bool {
    x.len() == y.len()
        && x.iter()
            .zip(y)
            .all(|(&p, &q)| cls[p as usize] == cls[q as usize])
}

/// For each node, the nodes referencing it (CSR: starts, list).
pub(crate) fn reverse_edges(g: &Graph<'_, '_, '_>) -> (Vec<u32>, Vec<u32>) {
    let n = g.len();
    let fixed = g.fixed;
    let mut deg = vec![0u32; n + 1];
    for &r in &g.refs {
        if r >= fixed {
            deg[(r - fixed) as usize + 1] += 1;
        }
    }
    for i in 0..n {
        deg[i + 1] += deg[i];
    }
    let mut fill = deg.clone();
    let mut rev = vec![0u32; deg[n] as usize];
    for i in 0..n {
        for &r in g.refs_of(i) {
            if r >= fixed {
                let j = (r - fixed) as usize;
                rev[fill[j] as usize] = i as u32;
                fill[j] += 1;
            }
        }
    }
    (deg, rev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::intern::Interner;
    use crate::Btf;

    /// Moore's algorithm without the worklist: every node, every round,
    /// until the number of classes stops growing.
    fn naive(g: &Graph<'_, '_, '_>) -> Vec<u32> {
        let fixed = g.fixed as usize;
        let mut cls: Vec<u32> = (0..g.fixed)
            .chain(g.shape.iter().map(|&s| g.fixed + s))
            .collect();
        let mut count = 0;
        loop {
            let mut intern = Interner::with_capacity(g.len());
            let mut next = cls.clone();
            for i in 0..g.len() {
                let mut w = vec![cls[fixed + i]];
                w.extend(g.refs_of(i).iter().map(|&r| cls[r as usize]));
                next[fixed + i] = g.fixed + intern.intern(&w);
            }
            cls = next;
            if intern.len() == count {
                return cls;
            }
            count = intern.len();
        }
    }

    /// Same partition: the map between class numbers is one-to-one.
    fn same_partition(x: &[u32], y: &[u32]) -> bool {
        let mut xy = std::collections::HashMap::new();
        let mut yx = std::collections::HashMap::new();
        x.iter()
            .zip(y)
            .all(|(&p, &q)| *xy.entry(p).or_insert(q) == q && *yx.entry(q).or_insert(p) == p)
    }

    fn kernel(name: &str) -> Vec<u8> {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/kernels/");
        std::fs::read(format!("{p}{name}")).unwrap()
    }

    #[test]
    fn worklist_rounds_give_moores_partition() {
        for (x, y, classes) in [
            ("x86_64-6.1.btf", "x86_64-6.12.btf", 184406),
            ("x86_64-6.12.btf", "arm64-6.12.btf", 200034),
        ] {
            let (da, db) = (kernel(x), kernel(y));
            let (a, b) = (Btf::parse(&da[..]).unwrap(), Btf::parse(&db[..]).unwrap());
            let g = Graph::build(&a, &b).unwrap();
            let fast = refine(&g);
            let slow = naive(&g);
            assert!(same_partition(&fast.cls, &slow), "{x} vs {y}");
            let distinct: std::collections::HashSet<_> =
                fast.cls[g.fixed as usize..].iter().collect();
            assert_eq!(distinct.len(), classes);
        }
    }
}
