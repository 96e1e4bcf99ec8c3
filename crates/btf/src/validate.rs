//! The one pass over the type section: record sizes, references, names, loops.
//!
//! Every record is stepped over once. For each one the pass checks that the
//! record fits in the section, that reserved info bits are clear (a newer
//! encoding is refused, never misread), that every name offset lies inside
//! the string tables, and remembers the largest type id referenced. Only when
//! that largest id is out of range does a second, slow pass run, to name the
//! first offending record. Finally chains of typedefs, modifiers, pointers and
//! arrays are walked once each to reject loops (the kernel rejects them too).

#[cfg(target_endian = "little")]
mod fast;

use crate::header::Header;
use crate::layout::KindLayouts;
use crate::types::COMMON_LEN;
use crate::{Error, Kind, Result, TypeId};

/// Bits of `info` that no known encoding uses.
const RESERVED_INFO_BITS: u32 = 0x00ff_0000 | 0x6000_0000;

/// How the records of one kind are laid out and what they reference, in
/// 32-bit words (every known record is made of whole words).
#[derive(Clone, Copy)]
struct Shape {
    /// Words after the common 3, before any vlen elements.
    fixed: u8,
    /// Words per vlen element.
    elem: u8,
    /// `REF3`, `CHAIN3`, `CHAIN_ELEM`, `KNOWN`, `E_REF1`, `RARE` bits.
    flags: u8,
}

/// The third common word is a type id.
const REF3: u8 = 1;
/// The third common word continues a reference chain (loop check).
const CHAIN3: u8 = 2;
/// The first word after the common part (an array's element) continues a
/// chain; it and the next word are type ids.
const CHAIN_ELEM: u8 = 4;
/// A kind this code knows.
const KNOWN: u8 = 8;
/// Word 1 of each element is a type id (word 0 of each element of every
/// kind not marked `RARE` is a name offset).
const E_REF1: u8 = 16;
/// Checked off the hot path: ARRAY, DATASEC and kinds known only from the
/// layout section. Every other kind is handled by the same branch-free
/// code, bits of `flags` turned into masks, so the hot loop does not branch
/// on the kind (vmlinux interleaves FUNC, FUNC_PROTO, PTR, STRUCT...: a
/// branch per kind mispredicts most of the time).
const RARE: u8 = 32;

const fn shape(fixed: u8, elem: u8, flags: u8) -> Shape {
    Shape {
        fixed,
        elem,
        flags: flags | KNOWN,
    }
}

const UNKNOWN: Shape = Shape {
    fixed: 0,
    elem: 0,
    flags: RARE,
};

/// Shapes of all 32 kind numbers the 5-bit field can hold.
const SHAPES: [Shape; 32] = {
    let mut t = [UNKNOWN; 32];
    t[1] = shape(1, 0, 0); // INT
    t[2] = shape(0, 0, REF3 | CHAIN3); // PTR
    t[3] = shape(3, 0, CHAIN_ELEM | RARE); // ARRAY
    t[4] = shape(0, 3, E_REF1); // STRUCT
    t[5] = shape(0, 3, E_REF1); // UNION
    t[6] = shape(0, 2, 0); // ENUM
    t[7] = shape(0, 0, 0); // FWD
    t[8] = shape(0, 0, REF3 | CHAIN3); // TYPEDEF
    t[9] = shape(0, 0, REF3 | CHAIN3); // VOLATILE
    t[10] = shape(0, 0, REF3 | CHAIN3); // CONST
    t[11] = shape(0, 0, REF3 | CHAIN3); // RESTRICT
    t[12] = shape(0, 0, REF3); // FUNC (vlen is the linkage)
    t[13] = shape(0, 2, REF3 | E_REF1); // FUNC_PROTO
    t[14] = shape(1, 0, REF3 | CHAIN3); // VAR
    t[15] = shape(0, 3, RARE); // DATASEC (element word 0 is a type id)
    t[16] = shape(0, 0, 0); // FLOAT
    t[17] = shape(1, 0, REF3 | CHAIN3); // DECL_TAG
    t[18] = shape(0, 0, REF3 | CHAIN3); // TYPE_TAG
    t[19] = shape(0, 3, 0); // ENUM64
    t
};

/// All ones when `bit` is set in `flags`, else zero.
#[inline(always)]
fn mask(flags: u8, bit: u8) -> u32 {
    0u32.wrapping_sub(u32::from(flags & bit != 0))
}

/// `SHAPES[k].elem` (or `.fixed`) of every kind `k`, two bits each: all
/// known kinds have 0..=3 words there.
const fn packed_words(elem: bool) -> u64 {
    let mut v = 0u64;
    let mut k = 0;
    while k < 32 {
        let w = if elem {
            SHAPES[k].elem
        } else {
            SHAPES[k].fixed
        };
        assert!(w < 4);
        v |= (w as u64) << (2 * k);
        k += 1;
    }
    v
}

/// `SHAPES[k].fixed` of every kind `k`, two bits each.
const FIXED_BITS: u64 = packed_words(false);

/// `SHAPES[k].elem` of every kind `k`, two bits each.
const ELEM_BITS: u64 = packed_words(true);

/// Bit `k` set for every known kind `k`.
const KNOWN_BITS: u32 = {
    let mut v = 0u32;
    let mut k = 0;
    while k < 32 {
        if SHAPES[k].flags & KNOWN != 0 {
            v |= 1 << k;
        }
        k += 1;
    }
    v
};

/// Words after the common part of a record of a known kind whose info word
/// is `info` (fixed words, then vlen elements): from constants held in
/// registers, no table load.
#[inline(always)]
fn body_words(info: u32) -> usize {
    // Twice the top byte, taken modulo 64 by the shift (which is what the
    // CPU's shift does anyway): twice the 5-bit kind, with no mask on the
    // chain of steps from record to record.
    let k2 = 2 * (info >> 24);
    (FIXED_BITS.wrapping_shr(k2) & 3) as usize
        + (ELEM_BITS.wrapping_shr(k2) & 3) as usize * (info & 0xffff) as usize
}

/// Words of the record whose info word is `info`, for kinds this code
/// knows; `None` for other kinds and for reserved bits set.
pub(crate) fn record_words(info: u32) -> Option<usize> {
    let k = ((info >> 24) & 0x1f) as usize;
    if info & RESERVED_INFO_BITS != 0 || (KNOWN_BITS >> k) & 1 == 0 {
        return None;
    }
    Some(3 + body_words(info))
}

/// The shape of a kind this code does not know, from the layout section
/// (whole words only).
#[cold]
fn layout_shape(kind: u8, layouts: Option<&KindLayouts>) -> Option<Shape> {
    let l = layouts?.get(kind)?;
    if l.info_sz % 4 != 0 || l.elem_sz % 4 != 0 {
        return None;
    }
    // Nothing in an unknown kind's record is known to be a name or an id.
    Some(Shape {
        fixed: l.info_sz / 4,
        elem: l.elem_sz / 4,
        flags: KNOWN | RARE,
    })
}

/// Scans the type section; returns the offset of each record.
pub(crate) fn scan(
    data: &[u8],
    h: &Header,
    layouts: Option<&KindLayouts>,
    start_id: u32,
    start_str: u32,
    threads: bool,
) -> Result<Vec<u32>> {
    let split = if threads { SPLIT_BYTES } else { usize::MAX };
    // One copy of the pass per byte order, so every read is a plain load.
    match h.endian {
        crate::Endian::Little => scan_e::<false>(data, h, layouts, start_id, start_str, split),
        crate::Endian::Big => scan_e::<true>(data, h, layouts, start_id, start_str, split),
    }
}

/// The `i`-th 32-bit word of `b` in the byte order `BIG`; 0 past the end
/// (unreachable for records whose size was checked).
#[inline(always)]
fn rd<const BIG: bool>(b: &[u8], i: usize) -> u32 {
    match b
        .get(i * 4..i * 4 + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
    {
        Some(w) if BIG => u32::from_be_bytes(w),
        Some(w) => u32::from_le_bytes(w),
        None => 0,
    }
}

#[inline(always)]
fn w32<const BIG: bool>(w: [u8; 4]) -> u32 {
    if BIG {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    }
}

/// Sections from which a second thread is worth its start-up cost (tens of
/// microseconds): a vmlinux type section is 3 MB, a BPF object's a few KB.
const SPLIT_BYTES: usize = 1 << 20;

/// Where a large section is cut into pieces for the two threads, in
/// thousandths of its length: more pieces balance better (records cost
/// more than their bytes: the FUNCs at the end of vmlinux are small and
/// many) but each costs a guess; the last pieces are small, so that the
/// thread that finishes first waits little for the other.
const CUTS: [usize; 11] = [140, 280, 400, 520, 620, 710, 790, 860, 910, 950, 980];

/// Records that must decode one after another from a guessed record start
/// before a piece may start there.
const GUESS_RECORDS: usize = 64;

/// Words tried as a record start before giving up on a split.
const GUESS_WORDS: usize = 4096;

/// What a walk over consecutive records found.
struct Walk {
    /// Byte offset of each record in the type section.
    offsets: Vec<u32>,
    /// Largest type id referenced.
    max_ref: u32,
    /// Largest name offset.
    max_name: u32,
    /// Local indices of types whose chain successor has a higher id (a
    /// walk that knows its ids).
    forward: Vec<u32>,
    /// (index from the walk's start, successor) of every type whose
    /// successor is above that index (a walk that does not know its ids
    /// yet; `merge` turns these into `forward` entries).
    ups: Vec<(u32, u32)>,
    /// Word where the walk stopped.
    end: usize,
}

impl Walk {
    fn new(capacity: usize) -> Walk {
        Walk {
            offsets: Vec::with_capacity(capacity),
            max_ref: 0,
            max_name: 0,
            forward: Vec::new(),
            ups: Vec::new(),
            end: 0,
        }
    }
}

/// The type section being walked, and what every walk of it needs.
#[derive(Clone, Copy)]
struct Section<'a> {
    /// The section as 32-bit words (a trailing partial word dropped).
    words: &'a [[u8; 4]],
    h: &'a Header,
    layouts: Option<&'a KindLayouts>,
    /// Length of the section in bytes.
    len: usize,
    /// Id of its first type.
    start_id: u32,
}

/// `walk`, by its fast path where there is one (little-endian BTF on a
/// little-endian host).
#[inline]
fn walk_any<const BIG: bool, const IDS: bool>(
    s: &Section<'_>,
    from: usize,
    stop: usize,
    w: &mut Walk,
) -> Result<()> {
    #[cfg(target_endian = "little")]
    if !BIG {
        return fast::walk_le::<IDS>(s, from, stop, w);
    }
    walk::<BIG, IDS>(s, from, stop, w)
}

/// Steps over records from word `from` until word `stop` (at most the
/// section end) is reached or passed. With `IDS`, `s.start_id +
/// w.offsets.len()` is the id of the record at `from` and chain checks are
/// done here; without, the ids are not known yet, `w.offsets.len()` is the
/// record's index from the start of the piece, and chain edges that may go
/// up are kept in `ups` for the caller.
fn walk<const BIG: bool, const IDS: bool>(
    s: &Section<'_>,
    from: usize,
    stop: usize,
    w: &mut Walk,
) -> Result<()> {
    let &Section {
        words,
        h,
        layouts,
        len: types_len,
        start_id,
    } = s;
    let nwords = words.len();
    let mut max_ref = w.max_ref;
    let mut max_name = w.max_name;
    // Locals, so the hot loop keeps them in registers.
    let mut offsets = std::mem::take(&mut w.offsets);
    let mut wpos = from;
    // The record's id (IDS) or its index from the piece's start (!IDS).
    let mut id = if IDS { start_id } else { 0 } + offsets.len() as u32;
    let stop = stop.min(nwords);
    while wpos < stop {
        let Some(&[name_w, info_w, third_w]) = words.get(wpos..wpos + 3) else {
            return Err(Error::Truncated {
                what: "type record",
                offset: (h.type_start + wpos * 4) as u64,
                need: COMMON_LEN as u64,
                have: (types_len - wpos * 4) as u64,
            });
        };
        let info = w32::<BIG>(info_w);
        let raw_kind = ((info >> 24) & 0x1f) as usize;
        let mut sh = SHAPES[raw_kind];
        // The record's length comes from constants held in registers, not
        // from the table: finding the next record is the one chain of
        // dependent steps in this loop, and a load would lengthen it.
        let (mut fixed, mut elem) = (
            ((FIXED_BITS >> (2 * raw_kind)) & 3) as usize,
            ((ELEM_BITS >> (2 * raw_kind)) & 3) as usize,
        );
        if info & RESERVED_INFO_BITS != 0 || (KNOWN_BITS >> raw_kind) & 1 == 0 {
            sh = odd_record(h, wpos, id, info, layouts)?;
            (fixed, elem) = (sh.fixed as usize, sh.elem as usize);
        }
        let body = wpos + 3;
        let next = body + fixed + elem * (info & 0xffff) as usize;
        let Some(rest) = words.get(body..next) else {
            return Err(too_long(h, types_len, wpos, id, info));
        };
        let third = w32::<BIG>(third_w);
        max_name = max_name.max(w32::<BIG>(name_w));
        let next_id = if sh.flags & RARE == 0 {
            // From here on no branch depends on the kind: masks select words.
            max_ref = max_ref.max(third & mask(sh.flags, REF3));
            let ref1_m = mask(sh.flags, E_REF1);
            let elems = rest.get(fixed..).unwrap_or(&[]);
            let stride = elem.max(1);
            let mut j = 0;
            while j + 1 < elems.len() {
                max_name = max_name.max(w32::<BIG>(elems[j]));
                max_ref = max_ref.max(w32::<BIG>(elems[j + 1]) & ref1_m);
                j += stride;
            }
            third & mask(sh.flags, CHAIN3)
        } else {
            let (r, next_id) = rare_refs::<BIG>(raw_kind, rest);
            max_ref = max_ref.max(r);
            next_id
        };
        if next_id >= id {
            if IDS {
                if next_id == id {
                    return Err(Error::Loop {
                        id: TypeId(id),
                        kind: Kind::from_raw(raw_kind as u8),
                    });
                }
                w.forward.push(id - start_id);
            } else if next_id != 0 {
                w.ups.push((id, next_id));
            }
        }
        offsets.push((wpos * 4) as u32);
        wpos = next;
        id += 1;
    }
    w.offsets = offsets;
    w.max_ref = max_ref;
    w.max_name = max_name;
    w.end = wpos;
    Ok(())
}

/// The largest type id an ARRAY or DATASEC record refers to, and the id an
/// array's chain continues to (0: none). Kinds known only from the layout
/// section refer to nothing this code knows of.
#[cold]
#[inline(never)]
fn rare_refs<const BIG: bool>(raw_kind: usize, rest: &[[u8; 4]]) -> (u32, u32) {
    let w = |i: usize| rest.get(i).map_or(0, |&x| w32::<BIG>(x));
    match raw_kind {
        // ARRAY: element type (continues the chain) and index type.
        3 => (w(0).max(w(1)), w(0)),
        // DATASEC: word 0 of each element is a variable's type id.
        15 => (
            rest.chunks_exact(3)
                .map(|v| w32::<BIG>(v[0]))
                .max()
                .unwrap_or(0),
            0,
        ),
        _ => (0, 0),
    }
}

/// A word at or after `from` where `GUESS_RECORDS` records of known kinds
/// with clear reserved bits and in-range names follow one another: very
/// likely a record boundary. Only a guess: the first walk must meet it
/// exactly for the second walk's work to be used.
fn guess_boundary<const BIG: bool>(
    words: &[[u8; 4]],
    from: usize,
    str_limit: u64,
) -> Option<usize> {
    let plausible = |mut at: usize| -> bool {
        for _ in 0..GUESS_RECORDS {
            let Some(&[name_w, info_w, _]) = words.get(at..at + 3) else {
                return false;
            };
            match record_words(w32::<BIG>(info_w)) {
                Some(n) if (w32::<BIG>(name_w) as u64) < str_limit => at += n,
                _ => return false,
            }
        }
        at <= words.len()
    };
    (from..words.len().min(from + GUESS_WORDS)).find(|&at| plausible(at))
}

/// Where the pieces of a large section start: word 0, then a guessed
/// record boundary at or after each of `CUTS`.
fn piece_starts<const BIG: bool>(words: &[[u8; 4]], str_limit: u64) -> Vec<usize> {
    let mut starts = vec![0usize];
    for &cut in &CUTS {
        let from = (words.len() / 1000 * cut).max(starts[starts.len() - 1] + 1);
        if let Some(at) = guess_boundary::<BIG>(words, from, str_limit) {
            starts.push(at);
        }
    }
    starts
}

fn scan_e<const BIG: bool>(
    data: &[u8],
    h: &Header,
    layouts: Option<&KindLayouts>,
    start_id: u32,
    start_str: u32,
    split_bytes: usize,
) -> Result<Vec<u32>> {
    let types = &data[h.type_start..h.type_start + h.type_len];
    // Every record is made of 32-bit words: view the section as words (a
    // trailing partial word can only be the rest of a truncated record).
    let (words, _) = types.as_chunks::<4>();
    let nwords = words.len();
    let str_limit = start_str as u64 + h.str_len as u64;
    // Every record takes at least 3 words: a safe bound for the allocation.
    let mut w = Walk::new(nwords / 3);
    let tl = types.len();
    // A large section is cut into pieces at guessed record boundaries, and
    // two threads walk the pieces, taking the next one as they finish. A
    // piece's walk is used only if the piece before it ended exactly at its
    // start (walks from one boundary are the same whoever does them); from
    // the first piece that does not fit, or that found an error, this thread
    // walks on alone to the end. The result, errors included, is the same as
    // one walk's.
    let starts = if types.len() >= split_bytes {
        piece_starts::<BIG>(words, str_limit)
    } else {
        vec![0]
    };
    let sec = Section {
        words,
        h,
        layouts,
        len: tl,
        start_id,
    };
    let early = if starts.len() == 1 {
        walk_any::<BIG, true>(&sec, 0, nwords, &mut w)?;
        None
    } else {
        Some(parallel_walk::<BIG>(&sec, &starts, &mut w)?)
    };
    let Walk {
        offsets,
        max_ref,
        max_name,
        forward,
        ..
    } = w;
    if !types.len().is_multiple_of(4) {
        return Err(Error::Truncated {
            what: "type record",
            offset: (h.type_start + nwords * 4) as u64,
            need: COMMON_LEN as u64,
            have: (types.len() % 4) as u64,
        });
    }
    let count = offsets.len() as u64;
    // A u32-sized section holds fewer than 2^30 records; the limit is libbpf's.
    if start_id as u64 + count - 1 > crate::btf::MAX_TYPES {
        return Err(Error::TooManyTypes(start_id as u64 + count - 1));
    }
    let last = start_id + count as u32 - 1;
    if max_ref > last || max_name as u64 >= str_limit {
        return Err(locate_bad::<BIG>(
            types, h, &offsets, start_id, last, str_limit,
        ));
    }
    check_loops::<BIG>(words, &offsets, &forward, start_id, early)?;
    Ok(offsets)
}

/// Walks the pieces starting at `starts` (the first at word 0, into `w`)
/// on two threads; see `scan_e`. Each piece is joined to the walk before
/// it as soon as both are done, by whichever thread finished last, and the
/// loop check run on the types joined so far; so most of the joining (a
/// copy of the offsets, the chain edges sorted out, the loop check)
/// overlaps the other thread's walking. Returns the loop check so far.
fn parallel_walk<const BIG: bool>(
    sec: &Section<'_>,
    starts: &[usize],
    w: &mut Walk,
) -> Result<Loops> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, MutexGuard, TryLockError};
    let nwords = sec.words.len();
    let stop = |i: usize| starts.get(i + 1).copied().unwrap_or(nwords);
    // Every buffer is allocated here, not in the second thread: a thread's
    // first allocation would set up a malloc arena of its own, and fresh
    // pages cost a fault each. `None` until the piece is walked.
    let pieces: Vec<Mutex<(Walk, Option<Result<()>>)>> = (1..starts.len())
        .map(|i| {
            let mut p = Walk::new((stop(i) - starts[i]) / 3);
            p.ups.reserve(256);
            Mutex::new((p, None))
        })
        .collect();
    let joined = Mutex::new(Joined {
        w: std::mem::replace(w, Walk::new(0)),
        first: None,
        next: 1,
        halted: false,
        loops: Loops::new(nwords / 3),
    });
    let lock = || joined.lock().unwrap_or_else(|e| e.into_inner());
    // The loop check of the types joined so far, while the other thread
    // walks on; `check_loops` does the rest.
    let check = |j: &mut MutexGuard<'_, Joined>| {
        let Joined { w, loops, .. } = &mut **j;
        let _ = loops.run::<BIG>(sec.words, &w.offsets, &w.forward, sec.start_id, false);
    };
    // Appends to the joined walk every piece that is done and ends where
    // the next begins; a piece being walked (locked) ends the round.
    let advance = |j: &mut MutexGuard<'_, Joined>| {
        while !j.halted && matches!(j.first, Some(Ok(()))) && j.next < starts.len() {
            let mut g = match pieces[j.next - 1].try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            let (pw, res) = &mut *g;
            match res {
                None => return,
                Some(Ok(())) if j.w.end == starts[j.next] => {}
                // A guessed start that was no record start, or an error
                // (named by the walk that knows the ids, in `scan_e`).
                Some(_) => {
                    j.halted = true;
                    return;
                }
            }
            let pw = std::mem::replace(pw, Walk::new(0));
            drop(g);
            if let Err(e) = merge::<BIG>(sec.words, &mut j.w, pw, sec.start_id) {
                j.first = Some(Err(e));
                return;
            }
            j.next += 1;
            check(j);
        }
    };
    // Pieces are taken in order, each by the first thread that is free.
    let taken = AtomicUsize::new(0);
    let work = || loop {
        let i = taken.fetch_add(1, Ordering::Relaxed);
        if i >= starts.len() {
            return;
        }
        if i == 0 {
            let mut j = lock();
            let r = walk_any::<BIG, true>(sec, 0, stop(0), &mut j.w);
            j.first = Some(r);
            check(&mut j);
            advance(&mut j);
            continue;
        }
        {
            let mut g = pieces[i - 1].lock().unwrap_or_else(|e| e.into_inner());
            let (pw, res) = &mut *g;
            *res = Some(walk_any::<BIG, false>(sec, starts[i], stop(i), pw));
        }
        // The other thread may be joining: then it takes this piece too,
        // or the last round below does.
        if let Ok(mut j) = joined.try_lock() {
            advance(&mut j);
        }
    };
    std::thread::scope(|s| {
        // If no thread can be started, this one does every piece.
        let _ = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn_scoped(s, work);
        work();
    });
    advance(&mut lock());
    let j = joined.into_inner().unwrap_or_else(|e| e.into_inner());
    *w = j.w;
    j.first.unwrap_or(Ok(()))?;
    if w.end < nwords {
        let from = w.end;
        walk_any::<BIG, true>(sec, from, nwords, w)?;
    }
    Ok(j.loops)
}

/// The pieces joined so far by `parallel_walk`.
struct Joined {
    /// The first piece and those appended to it.
    w: Walk,
    /// The first piece's walk, or the first error in joining.
    first: Option<Result<()>>,
    /// The next piece to append.
    next: usize,
    /// A piece could not be appended: the rest is walked again after.
    halted: bool,
    /// The loop check so far.
    loops: Loops,
}

/// Appends the second walk to the first, which ended exactly where the
/// second began: ids are known now, so its upward chain edges become
/// forward edges or self-loop errors, in id order as one walk would find them.
fn merge<const BIG: bool>(words: &[[u8; 4]], w: &mut Walk, w2: Walk, start_id: u32) -> Result<()> {
    let at = w.offsets.len() as u32;
    for (i, next_id) in w2.ups {
        let id = start_id + at + i;
        if next_id == id {
            let info = w2
                .offsets
                .get(i as usize)
                .and_then(|&o| words.get(o as usize / 4 + 1))
                .map_or(0, |&x| w32::<BIG>(x));
            return Err(Error::Loop {
                id: TypeId(id),
                kind: Kind::from_raw(((info >> 24) & 0x1f) as u8),
            });
        }
        if next_id > id {
            w.forward.push(at + i);
        }
    }
    w.offsets.extend_from_slice(&w2.offsets);
    w.max_ref = w.max_ref.max(w2.max_ref);
    w.max_name = w.max_name.max(w2.max_name);
    w.end = w2.end;
    Ok(())
}

/// A record with reserved info bits set or a kind this code does not know:
/// an error, or the shape the layout section gives the kind.
#[cold]
fn odd_record(
    h: &Header,
    wpos: usize,
    id: u32,
    info: u32,
    layouts: Option<&KindLayouts>,
) -> Result<Shape> {
    let raw_kind = ((info >> 24) & 0x1f) as u8;
    let offset = (h.type_start + wpos * 4) as u64;
    if info & RESERVED_INFO_BITS != 0 {
        return Err(Error::BadType {
            id: TypeId(id),
            kind: Kind::from_raw(raw_kind),
            offset,
            why: format!(
                "info 0x{info:08x} sets bits no known encoding uses (a wider kind/vlen format?)"
            ),
        });
    }
    layout_shape(raw_kind, layouts).ok_or(Error::UnknownKind {
        id: TypeId(id),
        offset,
        kind: raw_kind,
        info,
    })
}

#[cold]
fn too_long(h: &Header, types_len: usize, wpos: usize, id: u32, info: u32) -> Error {
    let raw_kind = ((info >> 24) & 0x1f) as u8;
    let vlen = info & 0xffff;
    let sh = SHAPES[raw_kind as usize];
    let need = COMMON_LEN + 4 * (sh.fixed as usize + sh.elem as usize * vlen as usize);
    Error::BadType {
        id: TypeId(id),
        kind: Kind::from_raw(raw_kind),
        offset: (h.type_start + wpos * 4) as u64,
        why: format!(
            "record needs {need} bytes (vlen {vlen}) but the type section has {} left",
            types_len - wpos * 4
        ),
    }
}

/// Slow path: names the first record holding a name offset past the string
/// tables or a reference to a missing id.
fn locate_bad<const BIG: bool>(
    types: &[u8],
    h: &Header,
    offsets: &[u32],
    start_id: u32,
    last: u32,
    str_limit: u64,
) -> Error {
    for (i, &off) in offsets.iter().enumerate() {
        let id = start_id + i as u32;
        let rec = types.get(off as usize..).unwrap_or(&[]);
        let info = rd::<BIG>(rec, 1);
        let kind = Kind::from_raw(((info >> 24) & 0x1f) as u8);
        let vlen = (info & 0xffff) as usize;
        let rest = rec.get(COMMON_LEN..).unwrap_or(&[]);
        let w = |j: usize| rd::<BIG>(rest, j);
        let mut names: Vec<(&'static str, u32)> = vec![("type", rd::<BIG>(rec, 0))];
        let mut refs: Vec<(&'static str, u32)> = Vec::new();
        if kind.has_type_ref() {
            refs.push(("type", rd::<BIG>(rec, 2)));
        }
        match kind {
            Kind::Array => {
                refs.push(("element type", w(0)));
                refs.push(("index type", w(1)));
            }
            Kind::Struct | Kind::Union => {
                names.extend((0..vlen).map(|j| ("member", w(j * 3))));
                refs.extend((0..vlen).map(|j| ("member", w(j * 3 + 1))));
            }
            Kind::Enum => names.extend((0..vlen).map(|j| ("enumerator", w(j * 2)))),
            Kind::Enum64 => names.extend((0..vlen).map(|j| ("enumerator", w(j * 3)))),
            Kind::FuncProto => {
                names.extend((0..vlen).map(|j| ("parameter", w(j * 2))));
                refs.extend((0..vlen).map(|j| ("parameter", w(j * 2 + 1))));
            }
            Kind::Datasec => refs.extend((0..vlen).map(|j| ("variable", w(j * 3)))),
            _ => {}
        }
        if let Some(&(what, name_off)) = names.iter().find(|n| n.1 as u64 >= str_limit) {
            return Error::BadNameOffset {
                id: TypeId(id),
                what,
                name_off,
                limit: str_limit as u32,
            };
        }
        if let Some(&(what, target)) = refs.iter().find(|r| r.1 > last) {
            return Error::BadTypeRef {
                id: TypeId(id),
                kind,
                offset: (h.type_start + off as usize) as u64,
                what,
                target,
                last,
            };
        }
    }
    Error::BadHeader("internal: an out-of-range reference could not be located".into())
}

/// The id the reference chain of the record at word `wpos` continues to
/// (0: the kind ends chains).
#[inline]
fn chain_next<const BIG: bool>(words: &[[u8; 4]], wpos: usize) -> u32 {
    let w = |i: usize| words.get(wpos + i).map_or(0, |&x| w32::<BIG>(x));
    let flags = SHAPES[((w(1) >> 24) & 0x1f) as usize].flags;
    if flags & CHAIN3 != 0 {
        w(2)
    } else if flags & CHAIN_ELEM != 0 {
        w(3)
    } else {
        0
    }
}

/// Rejects reference chains that loop. Every local type has at most one
/// chain successor (read again from its record: no per-type array is kept
/// for this), so one colouring walk visits each type once. Walks start only
/// at types whose successor has a higher id: a loop of two or more types
/// must contain such an edge (self-loops were caught in the main pass).
/// `early` is what `parallel_walk` already checked while joining pieces.
fn check_loops<const BIG: bool>(
    words: &[[u8; 4]],
    offsets: &[u32],
    forward: &[u32],
    start_id: u32,
    early: Option<Loops>,
) -> Result<()> {
    let fresh = || Loops::new(offsets.len());
    let Some(mut lc) = early.filter(|lc| !lc.found) else {
        return fresh().run::<BIG>(words, offsets, forward, start_id, true);
    };
    match lc.run::<BIG>(words, offsets, forward, start_id, true) {
        Ok(()) => Ok(()),
        // Found in another order than one walk's: the error is the one
        // walk's, which a check from scratch names.
        Err(_) => fresh().run::<BIG>(words, offsets, forward, start_id, true),
    }
}

const NEW: u8 = 0;
const ON_PATH: u8 = 1;
const DONE: u8 = 2;
/// On a walk put off because it reached a type not joined yet.
const PENDING: u8 = 3;

/// The colouring of `check_loops`, which `parallel_walk` runs in part on
/// each piece it joins, while the other thread walks on.
struct Loops {
    /// Two bits a type (`NEW`, `ON_PATH`, `DONE`, `PENDING`): a quarter of the memory
    /// of a byte each.
    state: Vec<u8>,
    /// The types on the current walk.
    path: Vec<usize>,
    /// Walks that reached a type not joined yet, to be done again.
    deferred: Vec<u32>,
    /// Entries of `forward` taken so far.
    next: usize,
    /// A loop was found early: the final check starts from scratch.
    found: bool,
    /// Types walked over, all walks together.
    #[cfg(test)]
    walked: usize,
}

impl Loops {
    fn new(types: usize) -> Loops {
        Loops {
            state: vec![0u8; types.div_ceil(4)],
            path: Vec::new(),
            deferred: Vec::new(),
            next: 0,
            found: false,
            #[cfg(test)]
            walked: 0,
        }
    }

    /// `colour_walk` from `start`.
    #[inline(always)]
    fn walk<const BIG: bool>(
        &mut self,
        words: &[[u8; 4]],
        offsets: &[u32],
        start: u32,
        start_id: u32,
        complete: bool,
    ) -> Result<bool> {
        let Loops { state, path, .. } = self;
        let r = colour_walk::<BIG>(
            state,
            path,
            words,
            offsets,
            start as usize,
            start_id,
            complete,
        );
        #[cfg(test)]
        {
            self.walked += self.path.len();
        }
        self.path.clear();
        r
    }

    /// Walks from the starts in `forward[self.next..]` (after the deferred
    /// ones when `complete`). `offsets` are the types known so far; unless
    /// `complete`, a walk that reaches a type past them (or a `PENDING`
    /// one) is put off, its types left `PENDING`, and a loop only sets
    /// `found`.
    fn run<const BIG: bool>(
        &mut self,
        words: &[[u8; 4]],
        offsets: &[u32],
        forward: &[u32],
        start_id: u32,
        complete: bool,
    ) -> Result<()> {
        if self.found {
            return Ok(());
        }
        if complete {
            for start in std::mem::take(&mut self.deferred) {
                self.walk::<BIG>(words, offsets, start, start_id, true)?;
            }
        }
        while let Some(&start) = forward.get(self.next) {
            self.next += 1;
            match self.walk::<BIG>(words, offsets, start, start_id, complete) {
                Ok(true) => {}
                Ok(false) => self.deferred.push(start),
                Err(e) if complete => return Err(e),
                Err(_) => {
                    self.found = true;
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Colour `i` of `state` (two bits a type).
#[inline]
fn colour(state: &[u8], i: usize) -> u8 {
    state
        .get(i >> 2)
        .map_or(DONE, |&b| (b >> ((i & 3) * 2)) & 3)
}

#[inline]
fn paint(state: &mut [u8], i: usize, v: u8) {
    let sh = (i & 3) * 2;
    if let Some(b) = state.get_mut(i >> 2) {
        *b = (*b & !(3 << sh)) | (v << sh);
    }
}

/// The chain successor of `i` is past `offsets` (not joined yet).
const LATER: usize = usize::MAX;
/// The chain of `i` ends there (no successor, void or a base type).
const ENDS: usize = usize::MAX - 1;

/// One colouring walk of `Loops` (its parts as arguments, so the compiler
/// knows that growing `path` leaves `state` where it was), leaving the
/// types it walked over in `path`; `Ok(false)`:
/// put off, it reached a type past `offsets` or a `PENDING` one (only
/// when not `complete`: then such a type ends chains, and `PENDING` ones
/// are walked as new).
#[inline(always)]
fn colour_walk<const BIG: bool>(
    state: &mut [u8],
    path: &mut Vec<usize>,
    words: &[[u8; 4]],
    offsets: &[u32],
    start: usize,
    start_id: u32,
    complete: bool,
) -> Result<bool> {
    // Local index of the chain successor, `ENDS` or `LATER`.
    let next = |i: usize| -> usize {
        let Some(&o) = offsets.get(i) else {
            return LATER;
        };
        let n = chain_next::<BIG>(words, o as usize / 4);
        let v = n.wrapping_sub(start_id) as usize;
        if v < offsets.len() {
            v
        } else if n < start_id || complete {
            // Void, or a base type: base chains were checked with the base.
            ENDS
        } else {
            LATER
        }
    };
    // A type on a walk that was put off (`PENDING`) is where a later walk
    // stops too, until the check is `complete`: so a type is walked over
    // at most once before, and once after, and a long chain that runs into
    // a piece not joined yet costs its length once, not once per start.
    let open = |c: u8| c == NEW || (complete && c == PENDING);
    if !open(colour(state, start)) {
        return Ok(true);
    }
    path.push(start);
    let mut ni = match next(start) {
        ENDS => return Ok(true),
        LATER => LATER,
        n => n,
    };
    paint(state, start, ON_PATH);
    let mut cur = start;
    let mut finished = ni != LATER;
    while finished {
        match colour(state, ni) {
            c if open(c) => {
                paint(state, ni, ON_PATH);
                path.push(ni);
                cur = ni;
                match next(cur) {
                    ENDS => break,
                    LATER => finished = false,
                    n => ni = n,
                }
            }
            ON_PATH => {
                let info = offsets
                    .get(cur)
                    .and_then(|&o| words.get(o as usize / 4 + 1))
                    .map_or(0, |&w| w32::<BIG>(w));
                return Err(Error::Loop {
                    id: TypeId(start_id + ni as u32),
                    kind: Kind::from_raw(((info >> 24) & 0x1f) as u8),
                });
            }
            PENDING => finished = false,
            _ => break,
        }
    }
    let mark = if finished { DONE } else { PENDING };
    for &i in path.iter() {
        paint(state, i, mark);
    }
    Ok(finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kernel BTF of `fixtures/kernels`.
    pub(super) fn kernel(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../fixtures/kernels/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn vmlinux() -> Vec<u8> {
        kernel("x86_64-6.18.btf")
    }

    /// Scans with and without the second thread; both must agree exactly,
    /// offsets or error.
    fn both(data: &[u8]) -> std::result::Result<Vec<u32>, String> {
        let h = Header::parse(data).unwrap();
        let one = scan_e::<false>(data, &h, None, 1, 0, usize::MAX);
        let two = scan_e::<false>(data, &h, None, 1, 0, 0);
        let one = one.map_err(|e| e.to_string());
        let two = two.map_err(|e| e.to_string());
        assert_eq!(one, two);
        one
    }

    /// Writes a little-endian word at byte `at`.
    pub(super) fn put(data: &mut [u8], at: usize, v: u32) {
        data[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// The damaged corpus and the BPF objects' BTF, small sections cut into
    /// pieces anyway (a piece every word where the cuts round down): the
    /// same offsets or error as one walk.
    #[test]
    fn small_sections_cut_anyway_equal_one_walk() {
        let root = format!("{}/../../fixtures", env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for dir in ["damaged", "bpf"] {
            for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    continue; // subfolders (attach, corpus, real) hold their own objects
                }
                let data = std::fs::read(&path).unwrap();
                let data = match crate::elf::is_elf(&data) {
                    false => data,
                    true => match crate::elf::btf_section(&data) {
                        Ok(btf) => btf.into_owned(),
                        Err(_) => continue,
                    },
                };
                let Ok(h) = Header::parse(&data) else {
                    continue;
                };
                if h.endian == crate::Endian::Little {
                    let _ = both(&data);
                    seen += 1;
                }
            }
        }
        assert!(seen > 30, "{seen}");
    }

    /// A chain of 200,000 typedefs, each naming the next (a forward edge
    /// from every type, through every piece): the loop check of the pieces
    /// joined so far stops where the last one ends, and walks each type at
    /// most twice in all (it had walked the chain again from each start:
    /// seconds, not milliseconds).
    #[test]
    fn a_chain_through_every_piece_is_walked_twice_at_most() {
        use crate::write::Builder;
        use crate::{Endian, IntEncoding};
        let n = 200_000;
        let mut b = Builder::new();
        for i in 1..n {
            b.reference(Kind::Typedef, "", TypeId(i + 1));
        }
        b.int("int", 4, IntEncoding::Signed);
        let data = b.encode(Endian::Little);
        assert_eq!(both(&data).unwrap().len(), n as usize);
        let h = Header::parse(&data).unwrap();
        let types = &data[h.type_start..h.type_start + h.type_len];
        let (words, _) = types.as_chunks::<4>();
        let starts = piece_starts::<false>(words, h.str_len as u64);
        assert!(starts.len() > 10);
        let sec = Section {
            words,
            h: &h,
            layouts: None,
            len: types.len(),
            start_id: 1,
        };
        let mut w = Walk::new(words.len() / 3);
        let mut loops = parallel_walk::<false>(&sec, &starts, &mut w).unwrap();
        loops
            .run::<false>(words, &w.offsets, &w.forward, 1, true)
            .unwrap();
        assert_eq!(w.forward.len(), n as usize - 1);
        assert!(loops.walked <= 2 * n as usize, "{}", loops.walked);
    }

    #[test]
    fn split_walk_equals_one_walk() {
        let data = vmlinux();
        let offsets = both(&data).unwrap();
        assert_eq!(offsets.len(), 126_699);
        let h = Header::parse(&data).unwrap();
        let types = &data[h.type_start..h.type_start + h.type_len];
        let (words, _) = types.as_chunks::<4>();
        // The guess lands on a real record boundary.
        let mid = guess_boundary::<false>(words, words.len() / 2, h.str_len as u64).unwrap();
        assert!(offsets.binary_search(&((mid * 4) as u32)).is_ok());
    }

    /// Record offsets (from the data start) of the types of `kind` in the
    /// second half of the section.
    fn second_half(data: &[u8], kind: u32) -> Vec<(u32, usize)> {
        let h = Header::parse(data).unwrap();
        of_kind(data, kind, h.type_len / 2 + 64 * 1024)
    }

    /// The same for the types of `kind` past byte `from` of the section.
    fn of_kind(data: &[u8], kind: u32, from: usize) -> Vec<(u32, usize)> {
        let h = Header::parse(data).unwrap();
        let offsets = both(data).unwrap();
        offsets
            .iter()
            .enumerate()
            .filter(|&(_, &o)| o as usize > from)
            .map(|(i, &o)| (i as u32 + 1, h.type_start + o as usize))
            .filter(|&(_, at)| {
                let info = u32::from_le_bytes(data[at + 4..at + 8].try_into().unwrap());
                (info >> 24) & 0x1f == kind
            })
            .collect()
    }

    #[test]
    fn errors_past_the_middle_are_those_of_one_walk() {
        let clean = vmlinux();
        // The second half of a vmlinux section is FUNCs and FUNC_PROTOs;
        // a FUNC record (3 words) is turned into a pointer or a typedef
        // (also 3 words) where a chain is needed.
        let funcs = second_half(&clean, 12);
        assert!(funcs.len() > 1000);
        // A pointer to itself.
        let mut d = clean.clone();
        let (id, at) = funcs[10];
        put(&mut d, at + 4, 2 << 24);
        put(&mut d, at + 8, id);
        let e = both(&d).unwrap_err();
        assert!(e.contains(&format!("{id}")), "{e}");
        // Two typedefs naming each other.
        let mut d = clean.clone();
        let ((a, aat), (b, bat)) = (funcs[300], funcs[301]);
        put(&mut d, aat + 4, 8 << 24);
        put(&mut d, aat + 8, b);
        put(&mut d, bat + 4, 8 << 24);
        put(&mut d, bat + 8, a);
        both(&d).unwrap_err();
        // Typedefs naming each other across pieces, around a loop of three
        // in the first piece, and two loops at once: the error named is
        // the one walk's, whichever thread met the loop first.
        let ptrs = of_kind(&clean, 2, 0);
        let (p0, p1, p2) = (ptrs[40], ptrs[41], ptrs[42]);
        assert!(p2.1 < clean.len() / 10, "in the first piece");
        let ring = |d: &mut Vec<u8>, ts: &[(u32, usize)]| {
            for (i, &(_, at)) in ts.iter().enumerate() {
                put(d, at + 4, 8 << 24);
                put(d, at + 8, ts[(i + 1) % ts.len()].0);
            }
        };
        for loops in [
            vec![vec![funcs[20], funcs[funcs.len() - 20]]],
            vec![vec![
                funcs[funcs.len() - 3],
                funcs[40],
                funcs[funcs.len() / 2],
            ]],
            vec![vec![p0, p1, p2]],
            vec![vec![p0, funcs[funcs.len() - 5]]],
            vec![vec![funcs[900], funcs[60]], vec![funcs[100], funcs[2000]]],
            vec![vec![funcs[2000], funcs[2001]], vec![p2, p0]],
        ] {
            let mut d = clean.clone();
            for ts in &loops {
                ring(&mut d, ts);
            }
            let e = both(&d).unwrap_err();
            assert!(e.contains("loop"), "{e}");
        }
        // Reserved info bits.
        let mut d = clean.clone();
        let (id, at) = funcs[20];
        put(&mut d, at + 4, (12 << 24) | 0x0010_0000);
        let e = both(&d).unwrap_err();
        assert!(e.contains(&format!("{id}")), "{e}");
        // A reference past the last type, then a self-loop before it: the
        // self-loop (found by the walk) wins, as in one walk.
        let mut d = clean.clone();
        put(&mut d, funcs[30].1 + 8, 0x00ff_ffff);
        both(&d).unwrap_err();
        let (id, at) = funcs[5];
        put(&mut d, at + 4, 2 << 24);
        put(&mut d, at + 8, id);
        let e = both(&d).unwrap_err();
        assert!(e.contains(&format!("{id}")), "{e}");
        // A record made longer than the section.
        let mut d = clean.clone();
        let (id, at) = *second_half(&clean, 13).iter().rev().nth(3).unwrap();
        put(&mut d, at + 4, (13 << 24) | 0xffff);
        let e = both(&d).unwrap_err();
        assert!(e.contains(&format!("{id}")), "{e}");
    }
}
