//! The name index: types grouped by essential name, built once on first use.
//!
//! The table stores no strings: each slot holds the first and last id of a
//! group of types sharing an essential name (the name with any `___flavour`
//! suffix removed, as libbpf's CO-RE defines it), and a `next` array chains
//! the ids of a group in ascending order. Hashing reads names straight out
//! of the string table. Only this blob's own types are indexed; a split
//! BTF's base has its own index.

use std::hash::BuildHasher;

use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashTable};

use crate::{Btf, StrOffset, TypeId};

/// The part of a name that CO-RE matches on: everything before the last
/// `___` that separates two non-underscore characters (`task_struct___v2`
/// gives `task_struct`; `__u32` and `a____b` are kept whole).
pub fn essential_name(name: &str) -> &str {
    // The cut is just before an ASCII '_', so it is a char boundary.
    &name[..essential_len(name.as_bytes())]
}

/// Length of the essential part of a name given as bytes.
pub fn essential_len(b: &[u8]) -> usize {
    // Visit each '_' from the end as the middle of a candidate `X___Y`
    // starting at i = p - 2: the first hit is libbpf's (largest i).
    for p in memchr::memrchr_iter(b'_', b) {
        let Some(i) = p.checked_sub(2) else { break };
        if let Some(&[x, u1, u2, u3, y]) = b.get(i..i + 5) {
            if x != b'_' && u1 == b'_' && u2 == b'_' && u3 == b'_' && y != b'_' {
                return i + 1;
            }
        }
    }
    b.len()
}

/// One name group: its lowest id (the rest follow through `next`).
#[derive(Clone, Copy)]
struct Group {
    head: u32,
}

/// Types of one BTF blob grouped by essential name.
pub struct NameIndex {
    table: HashTable<Group>,
    /// For local index `i`, the next id of the same group, or 0.
    next: Vec<u32>,
    start_id: u32,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameIndex")
            .field("names", &self.table.len())
            .finish()
    }
}

impl NameIndex {
    pub(crate) fn build(btf: &Btf<'_>) -> NameIndex {
        let start_id = btf.start_id().get();
        let start_str = btf.total_str_len() - btf.header().str_len as u32;
        let count = btf.local_type_count();
        let hasher = DefaultHashBuilder::default();
        // The table holds bare ids (4 bytes a slot) and is sized so that
        // kernel BTF (about 56% distinct names) never grows it: a one-shot
        // process pays a page fault for every fresh page it touches.
        let mut table: HashTable<Group> = HashTable::with_capacity(count / 5 * 3);
        let mut next = vec![0u32; count];
        // Flavoured names are rare: find every `___` in the local string
        // table once, so a name is scanned for a flavour only when one of
        // these positions falls inside it.
        let strs = btf.local_strings();
        let triples: Vec<u32> = memchr::memmem::find_iter(strs, b"___")
            .map(|p| p as u32 + start_str)
            .collect();
        // 512-byte blocks of the string table that hold a `___`: a name in
        // no such block needs no search at all.
        let mut marked = vec![false; strs.len() / 512 + 1];
        for &p in &triples {
            if let Some(m) = marked.get_mut(((p - start_str) / 512) as usize) {
                *m = true;
            }
        }
        let ess_of = |off: StrOffset| -> Option<&[u8]> {
            let name = btf.str_bytes(off)?;
            let end = off.0.saturating_add(name.len() as u32);
            let flavoured = off.0 < start_str || {
                let (a, b) = ((off.0 - start_str) / 512, (end - start_str) / 512);
                (a..=b).any(|blk| marked.get(blk as usize).copied().unwrap_or(false)) && {
                    let i = triples.partition_point(|&p| p < off.0);
                    triples.get(i).is_some_and(|&p| p < end)
                }
            };
            Some(if flavoured {
                essential_bytes(name)
            } else {
                name
            })
        };
        let group_name = |g: &Group| ess_of(btf.local_name_off(TypeId(g.head)));
        // Descending ids, each prepended to its group: groups end up ascending.
        for (tid, off) in btf.local_name_offsets().rev() {
            if off.is_anon() {
                continue;
            }
            let Some(ess) = ess_of(off) else {
                continue;
            };
            let id = tid.get();
            let hash = hasher.hash_one(ess);
            match table.entry(
                hash,
                |g| group_name(g) == Some(ess),
                |g| hasher.hash_one(group_name(g).unwrap_or(b"")),
            ) {
                Entry::Occupied(mut e) => {
                    let g = e.get_mut();
                    if let Some(slot) = next.get_mut((id - start_id) as usize) {
                        *slot = g.head;
                    }
                    g.head = id;
                }
                Entry::Vacant(e) => {
                    e.insert(Group { head: id });
                }
            }
        }
        NameIndex {
            table,
            next,
            start_id,
            hasher,
        }
    }

    /// Ids of this blob whose essential name equals `essential`, ascending.
    pub fn by_essential<'a>(&'a self, btf: &'a Btf<'_>, essential: &str) -> Chain<'a> {
        let ess = essential.as_bytes();
        let hash = self.hasher.hash_one(ess);
        let head = self
            .table
            .find(hash, |g| {
                btf.str_bytes(btf.local_name_off(TypeId(g.head)))
                    .map(essential_bytes)
                    == Some(ess)
            })
            .map_or(0, |g| g.head);
        Chain {
            index: self,
            cur: head,
        }
    }

    /// Ids of this blob whose name equals `name` exactly, ascending.
    pub fn find<'a>(
        &'a self,
        btf: &'a Btf<'_>,
        name: &'a str,
    ) -> impl Iterator<Item = TypeId> + 'a {
        self.by_essential(btf, essential_name(name))
            .filter(move |&id| {
                btf.type_by_id(id).and_then(|t| btf.str_bytes(t.name_off()))
                    == Some(name.as_bytes())
            })
    }

    /// Number of distinct essential names.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when no type has a name.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

fn essential_bytes(name: &[u8]) -> &[u8] {
    &name[..essential_len(name)]
}

/// Ids of one name group, ascending.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    index: &'a NameIndex,
    cur: u32,
}

impl Iterator for Chain<'_> {
    type Item = TypeId;
    fn next(&mut self) -> Option<TypeId> {
        if self.cur == 0 {
            return None;
        }
        let id = self.cur;
        self.cur = self
            .index
            .next
            .get((id - self.index.start_id) as usize)
            .copied()
            .unwrap_or(0);
        Some(TypeId(id))
    }
}

/// What `scan_by_essential` tests each named type with. A 64 Ki-bit filter
/// on the first bytes of each wanted name rejects almost every type without
/// finding where its name ends. Three bytes (hashed) when every wanted name
/// has at least two: a type whose essential name is a wanted one starts with
/// the same three bytes, the third being its NUL or the '_' of a flavour
/// when the name has two. Otherwise two bytes (the second is the NUL of a
/// one-letter name).
struct EssentialFilter<'n> {
    names: &'n [&'n [u8]],
    wide: bool,
    /// Bytes of a name the filter looks at.
    plen: u32,
    bits: Vec<u64>,
}

impl<'n> EssentialFilter<'n> {
    fn new(names: &'n [&'n [u8]]) -> EssentialFilter<'n> {
        let wide = names.iter().all(|n| n.len() >= 2);
        let mut f = EssentialFilter {
            names,
            wide,
            plen: if wide { 3 } else { 2 },
            bits: vec![0u64; 1024],
        };
        for n in names {
            let k = f.key(n);
            f.bits[k >> 6] |= 1 << (k & 63);
            if wide && n.len() == 2 {
                let k = f.key(&[n[0], n[1], b'_']);
                f.bits[k >> 6] |= 1 << (k & 63);
            }
        }
        f
    }

    #[inline]
    fn key(&self, b: &[u8]) -> usize {
        let (x, y, z) = (
            b.first().copied().unwrap_or(0) as usize,
            b.get(1).copied().unwrap_or(0) as usize,
            b.get(2).copied().unwrap_or(0) as usize,
        );
        if self.wide {
            (x << 8 | y) ^ (z.wrapping_mul(0x9e5) & 0xffff)
        } else {
            x << 8 | y
        }
    }

    /// May a name starting with `head` (`plen` bytes) be a wanted one?
    #[inline]
    fn passes(&self, head: &[u8]) -> bool {
        let k = self.key(head);
        self.bits[k >> 6] & (1 << (k & 63)) != 0
    }

    /// Adds `id` to the list of each wanted name equal to `name`'s
    /// essential part.
    fn record(&self, name: &[u8], id: TypeId, out: &mut [Vec<TypeId>]) {
        let ess = essential_bytes(name);
        for (n, o) in self.names.iter().zip(out.iter_mut()) {
            if *n == ess {
                o.push(id);
            }
        }
    }
}

/// [`Btf::scan_by_essential`] on bytes not parsed yet, so that it can run
/// on another thread while they are (see [`Btf::parse_scanning`]): for the
/// raw, non-split BTF in `data`, the same lists `scan_by_essential` gives
/// once `data` parses. `None` where this plain walk does not apply (ELF
/// input, a kind layout section) or the bytes are not well-formed enough to
/// walk; whether they are valid BTF is left to the parse.
pub fn scan_unvalidated(data: &[u8], names: &[&[u8]]) -> Option<Vec<Vec<TypeId>>> {
    let h = crate::header::Header::parse(data).ok()?;
    if h.layout.is_some() {
        return None;
    }
    let types = data.get(h.type_start..h.type_start.checked_add(h.type_len)?)?;
    let strs = data.get(h.str_start..h.str_start.checked_add(h.str_len)?)?;
    let filter = EssentialFilter::new(names);
    let e = h.endian;
    let plen = filter.plen as usize;
    // Types whose names pass the filter: (id, name offset).
    let mut maybe = Vec::new();
    let (mut pos, mut id) = (0usize, 1u32);
    while pos < types.len() {
        let name = e.u32_at(types, pos)? as usize;
        let words = crate::validate::record_words(e.u32_at(types, pos + 4)?)?;
        // Anonymous types go through the filter too (offset 0 is the empty
        // string) and are dropped below, with the few that pass it.
        if let Some(head) = strs.get(name..name.saturating_add(plen)) {
            if filter.passes(head) {
                maybe.push((id, name));
            }
        }
        pos = pos.checked_add(words * 4)?;
        id = id.checked_add(1)?;
    }
    let mut out = vec![Vec::new(); names.len()];
    for (id, off) in maybe {
        if off == 0 {
            continue; // anonymous
        }
        let s = strs.get(off..)?;
        if let Some(n) = memchr::memchr(0, s) {
            filter.record(&s[..n], TypeId(id), &mut out);
        }
    }
    Some(out)
}

/// Types from which `scan_by_essential` uses a second thread.
const SCAN_SPLIT_TYPES: usize = 16 * 1024;

impl Btf<'_> {
    /// True once the name index has been built (see [`Btf::index`]).
    pub fn index_built(&self) -> bool {
        self.index_if_built().is_some()
    }

    /// For each essential name asked for, the ids of this blob (not its
    /// base) with that essential name, ascending: what
    /// [`NameIndex::by_essential`] gives, found by one pass over the types
    /// instead of building the whole index. Cheaper when a few dozen names
    /// are wanted once (a one-shot relocation); the index wins when the
    /// same BTF answers many lookups.
    pub fn scan_by_essential(&self, names: &[&[u8]]) -> Vec<Vec<TypeId>> {
        let filter = EssentialFilter::new(names);
        let scan = |ids: std::ops::Range<usize>| -> Vec<Vec<TypeId>> {
            let mut out = vec![Vec::new(); names.len()];
            for (id, off) in self.local_name_offsets_in(ids) {
                if off.is_anon() {
                    continue;
                }
                let Some(head) = self.str_prefix(off, filter.plen) else {
                    continue;
                };
                if !filter.passes(head) {
                    continue;
                }
                if let Some(name) = self.str_bytes(off) {
                    filter.record(name, id, &mut out);
                }
            }
            out
        };
        let count = self.local_type_count();
        if count < SCAN_SPLIT_TYPES {
            return scan(0..count);
        }
        // Two halves on two threads; the second half's ids follow the
        // first's, so each list stays ascending.
        let mid = count / 2;
        let (mut out, rest) = std::thread::scope(|s| {
            let second = std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn_scoped(s, || scan(mid..count));
            let first = scan(0..mid);
            let rest = match second {
                Ok(t) => t.join().ok(),
                Err(_) => None,
            };
            (first, rest)
        });
        let rest = rest.unwrap_or_else(|| scan(mid..count));
        for (o, r) in out.iter_mut().zip(rest) {
            o.extend(r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every named type is in its essential name's group, in id order:
    /// vmlinux, and a module's split BTF over its base.
    #[test]
    fn index_groups_every_named_type() {
        use std::collections::HashMap;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/kernels");
        let read = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
        let check = |btf: &Btf<'_>| {
            let mut expect: HashMap<&[u8], Vec<TypeId>> = HashMap::new();
            for id in btf.start_id().get()..btf.type_count() {
                let t = btf.get(TypeId(id)).unwrap();
                if !t.name_off().is_anon() {
                    let name = btf.str_bytes(t.name_off()).unwrap();
                    expect
                        .entry(essential_bytes(name))
                        .or_default()
                        .push(TypeId(id));
                }
            }
            let index = btf.index();
            assert_eq!(index.len(), expect.len());
            for (ess, ids) in &expect {
                let ess = std::str::from_utf8(ess).unwrap();
                let got: Vec<TypeId> = index.by_essential(btf, ess).collect();
                assert_eq!(&got, ids, "{ess}");
            }
            expect.len()
        };
        assert!(check(&Btf::parse(read("x86_64-6.18.btf")).unwrap()) > 50_000);
        let base = std::sync::Arc::new(Btf::parse(read("x86_64-6.12.btf")).unwrap());
        let ext4 = Btf::parse_split(read("modules/ext4.btf"), base).unwrap();
        assert!(check(&ext4) > 1000);
    }

    /// `scan_by_essential` (both filters, split in two threads or not)
    /// finds exactly what the index finds, in the same order.
    #[test]
    fn scan_by_essential_equals_the_index() {
        let data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/kernels/x86_64-6.18.btf"
        ))
        .unwrap();
        let btf = Btf::parse(&data[..]).unwrap();
        let mut names: Vec<Vec<u8>> = btf
            .types()
            .filter(|t| !t.name_off().is_anon())
            .step_by(997)
            .map(|t| essential_bytes(btf.str_bytes(t.name_off()).unwrap()).to_vec())
            .collect();
        // Two-letter names (the three-byte filter's edge) and absent ones.
        names.extend(
            btf.types()
                .map(|t| btf.str_bytes(t.name_off()).unwrap())
                .filter(|n| n.len() == 2)
                .take(5)
                .map(<[u8]>::to_vec),
        );
        names.push(b"btfx_not_a_kernel_type".to_vec());
        assert!(names.iter().any(|n| n.len() == 2));
        let expect = |names: &[&[u8]]| -> Vec<Vec<TypeId>> {
            names
                .iter()
                .map(|n| {
                    let s = std::str::from_utf8(n).unwrap();
                    btf.index().by_essential(&btf, s).collect()
                })
                .collect()
        };
        let wide: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        let found = btf.scan_by_essential(&wide);
        assert_eq!(found, expect(&wide));
        assert!(found.iter().filter(|f| !f.is_empty()).count() > 50);
        // Before the parse, and during it.
        assert_eq!(scan_unvalidated(&data, &wide).as_ref(), Some(&found));
        let (parsed, during) = Btf::parse_scanning(&data, None, Default::default(), &wide).unwrap();
        assert_eq!(parsed.type_count(), btf.type_count());
        assert_eq!(during, found);
        // The other byte order.
        let big = crate::write::convert_endian(&data, crate::Endian::Big).unwrap();
        assert_eq!(scan_unvalidated(&big, &wide).as_ref(), Some(&found));
        // A one-letter name switches to the two-byte filter.
        let mut narrow = wide.clone();
        narrow.push(b"x");
        let found = btf.scan_by_essential(&narrow);
        assert_eq!(found, expect(&narrow));
        assert_eq!(scan_unvalidated(&data, &narrow), Some(found));
    }

    /// Split BTF (a module over its base): searched after the parse, the
    /// same lists as `scan_by_essential`.
    #[test]
    fn parse_scanning_split_btf() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/kernels");
        let base = std::fs::read(format!("{dir}/x86_64-6.12.btf")).unwrap();
        let ext4 = std::fs::read(format!("{dir}/modules/ext4.btf")).unwrap();
        let base = std::sync::Arc::new(Btf::parse(&base[..]).unwrap());
        let wanted: [&[u8]; 3] = [b"ext4_sb_info", b"super_block", b"inode"];
        let (m, found) =
            Btf::parse_scanning(&ext4, Some(base.clone()), Default::default(), &wanted).unwrap();
        assert_eq!(found, m.scan_by_essential(&wanted));
        assert!(!found[0].is_empty());
    }

    /// On damaged bytes the scan before the parse gives up or agrees with
    /// the scan after it; it never panics, and an input that does not parse
    /// is the parse's to report.
    #[test]
    fn scan_unvalidated_on_damaged_bytes() {
        let clean = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/kernels/x86_64-6.1.btf"
        ))
        .unwrap();
        let wanted: [&[u8]; 4] = [b"task_struct", b"sock", b"pt_regs", b"x"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let (mut parsed, mut refused) = (0, 0);
        for round in 0..400 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut d = clean.clone();
            let at = 24 + (seed as usize >> 8) % (d.len() - 28);
            let v = if round % 2 == 0 {
                seed as u32
            } else {
                0x0100_0000 + round
            };
            d[at..at + 4].copy_from_slice(&v.to_le_bytes());
            let early = scan_unvalidated(&d, &wanted);
            match Btf::parse(&d[..]) {
                Ok(btf) => {
                    parsed += 1;
                    if let Some(early) = early {
                        assert_eq!(early, btf.scan_by_essential(&wanted), "round {round}");
                    }
                }
                Err(_) => refused += 1,
            }
        }
        assert!(
            parsed > 20 && refused > 20,
            "{parsed} parsed, {refused} refused"
        );
        for cut in [0, 10, 24, 100, clean.len() / 2] {
            let _ = scan_unvalidated(&clean[..cut], &wanted);
        }
    }

    /// Flavours, `____` that is no separator, and name offsets pointing
    /// into the middle of a string: `scan_by_essential` and the index agree.
    #[test]
    fn scan_by_essential_strings_handles_suffixes_and_flavours() {
        use crate::write::Builder;
        use crate::{Endian, Kind};
        let names = [
            "task_struct",
            "task_struct___v1",
            "xtask_struct",
            "my_task_struct___v2",
            "sock",
            "sock___a___b",
            "a____b",
            "task_struct_",
            "zz___sock",
            "struct",
        ];
        let mut b = Builder::new();
        for n in names {
            b.raw(n, Kind::Fwd, 0, false, 0, &[]);
        }
        // Types 11.. point into strings: "task_struct" in "xtask_struct",
        // "task_struct___v2" in "my_task_struct___v2", "struct" in
        // "task_struct", "sock" in "zz___sock", "___sock" in "zz___sock".
        let patches = [(3, 1), (4, 3), (1, 5), (9, 5), (9, 2)];
        for _ in patches {
            b.raw("", Kind::Fwd, 0, false, 0, &[]);
        }
        let mut data = b.encode(Endian::Little);
        let first = Btf::parse(data.clone()).unwrap();
        for (k, &(of, plus)) in patches.iter().enumerate() {
            let off = first.type_by_id(TypeId(of)).unwrap().name_off().0 + plus;
            let at = first.type_offset(TypeId(11 + k as u32)).unwrap() as usize;
            data[at..at + 4].copy_from_slice(&off.to_le_bytes());
        }
        let btf = Btf::parse(&data[..]).unwrap();
        let wanted: Vec<&[u8]> = [
            "task_struct",
            "sock",
            "sock___a",
            "a____b",
            "struct",
            "___sock",
        ]
        .iter()
        .map(|n| n.as_bytes())
        .collect();
        let by_index: Vec<Vec<TypeId>> = wanted
            .iter()
            .map(|n| {
                let s = std::str::from_utf8(n).unwrap();
                btf.index().by_essential(&btf, s).collect()
            })
            .collect();
        let ids = |v: &[u32]| v.iter().map(|&i| TypeId(i)).collect::<Vec<_>>();
        assert_eq!(by_index[0], ids(&[1, 2, 11, 12]));
        assert_eq!(by_index[1], ids(&[5, 14]));
        assert_eq!(btf.scan_by_essential(&wanted), by_index);
        assert_eq!(scan_unvalidated(&data, &wanted), Some(by_index));
    }
}
