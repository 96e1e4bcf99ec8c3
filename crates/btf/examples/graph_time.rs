//! Time of `btf::graph::compare` (parse excluded), min of N runs, and its
//! summary: `cargo run --release -p btfx-btf --example graph_time -- N A B [BASE]`
//! (with BASE, A and B are split over it). B may be `reversed`: A's types
//! written in reverse order.

use std::sync::Arc;
use std::time::Instant;

use btf::{Btf, Endian, TypeId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (n, a, b) = match args.as_slice() {
        [n, a, b, ..] => (n.parse::<u32>()?, a, b),
        _ => return Err("usage: graph_time N A B|reversed [BASE]".into()),
    };
    let base = match args.get(3) {
        Some(p) => Some(Arc::new(Btf::parse(std::fs::read(p)?)?)),
        None => None,
    };
    let da = std::fs::read(a)?;
    let ba = Btf::parse_any(&da, base.clone())?;
    let db = if b == "reversed" {
        let mut order: Vec<TypeId> = ba.types().map(|t| t.id()).collect();
        order.reverse();
        btf::write::reorder(&ba, &order, Endian::Little)?
    } else {
        std::fs::read(b)?
    };
    let bb = Btf::parse_any(&db, base)?;
    let mut best = f64::MAX;
    let mut d = None;
    for _ in 0..n.max(1) {
        let t = Instant::now();
        let r = btf::graph::compare(&ba, &bb)?;
        best = best.min(t.elapsed().as_secs_f64());
        d = Some(r);
    }
    if let Some(d) = d {
        println!(
            "min {:.3} s over {n}: equal {} classes {} matched {} only_a {} only_b {} roots {} (A {} B {}) deps A {} B {} multiplicity {} rounds {}",
            best,
            d.is_equal(),
            d.classes,
            d.matched,
            d.only_a.len(),
            d.only_b.len(),
            d.roots.len(),
            d.roots_a,
            d.roots_b,
            d.dependents_a.len(),
            d.dependents_b.len(),
            d.multiplicity.len(),
            d.rounds
        );
    }
    Ok(())
}
