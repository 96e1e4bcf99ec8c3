//! The validation walk's fast path for little-endian BTF: the same checks
//! as `walk`, for most records without a loop over their members.
//!
//! Stepping from record to record is a chain of dependent loads that a
//! CPU cannot overlap, and `walk`'s loop over a record's members ends after
//! a number of rounds that changes from record to record, so the branch
//! that ends it is mispredicted about once per record that has members
//! (43,000 times in a vmlinux). Here the first `WINDOW` words after a
//! record's common part are always read as one window of vectors and masked
//! by a table row chosen by the record's layout class and length: the lanes
//! that hold name offsets and those that hold type ids. Only their lane-wise
//! maxima are kept; `lanes` holds the vectors each build uses (AVX-512,
//! AVX2, SSE4.1 and other architectures: an unsigned max; x86's SSE2
//! baseline: `f32` maxima, exact below 2^24, else the walk is redone).
//!
//! A record longer than one window (5% of vmlinux's) is read in as many
//! windows as it needs, outside the hot loop (`long_record`): a struct's or
//! prototype's lanes repeat every 12 words. Every record that is not plainly
//! well-formed goes to `walk`, one record at a time: DATASEC, kinds known
//! only from the layout section, reserved bits, unknown kinds, self-loops,
//! and the last records of the section, whose windows would run past its
//! end. So errors, offsets, maxima and chain edges are exactly those of
//! `walk`.

use super::{body_words, walk, Section, Walk, RESERVED_INFO_BITS};
use crate::Result;

/// Words after the common part that the fast path reads for every record:
/// four members of a struct, six parameters of a function prototype, six
/// enumerators (95% of vmlinux's records fit).
const WINDOW: usize = 12;

/// Records buffered before their offsets are appended: the loop makes no
/// call (a call would spill the vector registers).
const BATCH: usize = 256;

/// Layout classes: which lanes of the window hold names and type ids.
const NONE: u32 = 0;
/// STRUCT, UNION: (name, type, offset) elements.
const MEMBERS: u32 = 1;
/// FUNC_PROTO: (name, type) elements.
const PARAMS: u32 = 2;
/// ENUM: (name, value) elements.
const ENUM32: u32 = 3;
/// ENUM64: (name, lo32, hi32) elements.
const ENUM64: u32 = 4;
/// ARRAY: element type, index type, nelems.
const ARRAY: u32 = 5;

/// What the fast path needs of a kind, as masks (no branch on the kind).
#[derive(Clone, Copy)]
struct KindInfo {
    /// All ones when the third word is a type id.
    ref3: u32,
    /// All ones when the third word continues a reference chain.
    chain3: u32,
    /// All ones when the first body word continues one (arrays).
    chain_w0: u32,
    /// The class's first row of `MASKS` (`class << 4`), or `SLOW` for kinds
    /// the fast path leaves to `walk` (DATASEC, unknown kinds).
    row: u32,
}

const SLOW: u32 = 1 << 31;

static KINDS: [KindInfo; 32] = {
    const fn k(class: u32, ref3: bool, chain3: bool) -> KindInfo {
        KindInfo {
            ref3: 0u32.wrapping_sub(ref3 as u32),
            chain3: 0u32.wrapping_sub(chain3 as u32),
            chain_w0: 0u32.wrapping_sub((class == ARRAY) as u32),
            row: class << 4,
        }
    }
    let slow = KindInfo {
        ref3: 0,
        chain3: 0,
        chain_w0: 0,
        row: SLOW,
    };
    let mut t = [slow; 32];
    t[1] = k(NONE, false, false); // INT
    t[2] = k(NONE, true, true); // PTR
    t[3] = k(ARRAY, false, false);
    t[4] = k(MEMBERS, false, false); // STRUCT
    t[5] = k(MEMBERS, false, false); // UNION
    t[6] = k(ENUM32, false, false);
    t[7] = k(NONE, false, false); // FWD
    t[8] = k(NONE, true, true); // TYPEDEF
    t[9] = k(NONE, true, true); // VOLATILE
    t[10] = k(NONE, true, true); // CONST
    t[11] = k(NONE, true, true); // RESTRICT
    t[12] = k(NONE, true, false); // FUNC
    t[13] = k(PARAMS, true, false); // FUNC_PROTO
    t[14] = k(NONE, true, true); // VAR
    t[16] = k(NONE, false, false); // FLOAT
    t[17] = k(NONE, true, true); // DECL_TAG
    t[18] = k(NONE, true, true); // TYPE_TAG
    t[19] = k(ENUM64, false, false);
    t
};

/// Is lane `i` of a window of `class` a name offset (`name`) or a type id?
const fn lane(class: u32, i: usize, name: bool) -> bool {
    match class {
        MEMBERS => i % 3 == if name { 0 } else { 1 },
        PARAMS => i % 2 == if name { 0 } else { 1 },
        ENUM32 => name && i.is_multiple_of(2),
        ENUM64 => name && i.is_multiple_of(3),
        ARRAY => !name && i < 2,
        _ => false,
    }
}

/// Row `class << 4 | len` of the mask table: all ones in the lanes among
/// the first `len` that hold names (`names`) or type ids (`ids`). Lanes past
/// `WINDOW` are zero: they pad the row to one 16-lane vector.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Masks {
    names: [u32; 16],
    ids: [u32; 16],
}

const ROWS: usize = 128;

static MASKS: [Masks; ROWS] = {
    let none = Masks {
        names: [0; 16],
        ids: [0; 16],
    };
    let mut t = [none; ROWS];
    let mut row = 0;
    while row < ROWS {
        let (class, len) = ((row >> 4) as u32, row & 15);
        let mut i = 0;
        while i < WINDOW && i < len {
            t[row].names[i] = 0u32.wrapping_sub(lane(class, i, true) as u32);
            t[row].ids[i] = 0u32.wrapping_sub(lane(class, i, false) as u32);
            i += 1;
        }
        row += 1;
    }
    t
};

#[inline(always)]
fn word(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Lane-wise maxima of the name offsets and of the type ids read so far.
#[derive(Clone, Copy)]
struct Maxima {
    names: lanes::Acc,
    ids: lanes::Acc,
}

impl Maxima {
    const ZERO: Maxima = Maxima {
        names: lanes::ZERO,
        ids: lanes::ZERO,
    };

    /// These maxima and those of one window (`4 * lanes::READ` bytes of
    /// `b`) with the lanes of `m`.
    #[inline(always)]
    fn window(self, b: &[u8], m: &Masks) -> Maxima {
        let x = lanes::load(b);
        Maxima {
            names: lanes::add(self.names, x, &m.names),
            ids: lanes::add(self.ids, x, &m.ids),
        }
    }

    #[inline]
    fn join(self, o: Maxima) -> Maxima {
        Maxima {
            names: lanes::join(self.names, o.names),
            ids: lanes::join(self.ids, o.ids),
        }
    }

    /// The largest name offset and type id, or `None` where the maxima may
    /// not be exact.
    fn tops(self) -> Option<(u32, u32)> {
        Some((lanes::top(self.names)?, lanes::top(self.ids)?))
    }
}

/// `T` (a vector or an array of them) from the bytes of `b` at `at`.
#[inline(always)]
fn read<T: wide::bytemuck::Pod>(b: &[u8], at: usize) -> T {
    wide::bytemuck::pod_read_unaligned(&b[at..at + std::mem::size_of::<T>()])
}

/// `T` from lanes `from..` of a mask row.
#[inline(always)]
fn row<T: wide::bytemuck::Pod>(m: &[u32; 16], from: usize) -> T {
    read(wide::bytemuck::cast_slice(&m[..]), from * 4)
}

/// The vectors of one window, by what the build targets; each has an
/// unsigned 32-bit max. One 16-lane vector with AVX-512.
#[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
mod lanes {
    use wide::u32x16;
    pub(super) type Acc = u32x16;
    pub(super) type Window = u32x16;
    pub(super) const READ: usize = 16;
    pub(super) const ZERO: Acc = u32x16::ZERO;
    #[inline(always)]
    pub(super) fn load(b: &[u8]) -> Window {
        super::read(b, 0)
    }
    #[inline(always)]
    pub(super) fn add(acc: Acc, x: Window, m: &[u32; 16]) -> Acc {
        acc.max(x & super::row::<u32x16>(m, 0))
    }
    #[inline(always)]
    pub(super) fn join(a: Acc, b: Acc) -> Acc {
        a.max(b)
    }
    pub(super) fn top(a: Acc) -> Option<u32> {
        a.to_array().into_iter().max()
    }
}

/// An 8-lane and a 4-lane vector with AVX2.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    not(target_feature = "avx512f")
))]
mod lanes {
    use wide::{u32x4, u32x8};
    pub(super) type Acc = (u32x8, u32x4);
    pub(super) type Window = (u32x8, u32x4);
    pub(super) const READ: usize = 12;
    pub(super) const ZERO: Acc = (u32x8::ZERO, u32x4::ZERO);
    #[inline(always)]
    pub(super) fn load(b: &[u8]) -> Window {
        (super::read(b, 0), super::read(b, 32))
    }
    #[inline(always)]
    pub(super) fn add(acc: Acc, x: Window, m: &[u32; 16]) -> Acc {
        (
            acc.0.max(x.0 & super::row::<u32x8>(m, 0)),
            acc.1.max(x.1 & super::row::<u32x4>(m, 8)),
        )
    }
    #[inline(always)]
    pub(super) fn join(a: Acc, b: Acc) -> Acc {
        (a.0.max(b.0), a.1.max(b.1))
    }
    pub(super) fn top(a: Acc) -> Option<u32> {
        a.0.to_array().into_iter().chain(a.1.to_array()).max()
    }
}

/// Three 4-lane vectors with SSE4.1, and on other architectures.
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "avx2"),
    all(
        any(target_arch = "x86", target_arch = "x86_64"),
        not(target_feature = "sse4.1")
    )
)))]
mod lanes {
    use wide::u32x4;
    pub(super) type Acc = [u32x4; 3];
    pub(super) type Window = [u32x4; 3];
    pub(super) const READ: usize = 12;
    pub(super) const ZERO: Acc = [u32x4::ZERO; 3];
    #[inline(always)]
    pub(super) fn load(b: &[u8]) -> Window {
        [super::read(b, 0), super::read(b, 16), super::read(b, 32)]
    }
    #[inline(always)]
    pub(super) fn add(acc: Acc, x: Window, m: &[u32; 16]) -> Acc {
        [0, 1, 2].map(|i| acc[i].max(x[i] & super::row::<u32x4>(m, 4 * i)))
    }
    #[inline(always)]
    pub(super) fn join(a: Acc, b: Acc) -> Acc {
        [0, 1, 2].map(|i| a[i].max(b[i]))
    }
    pub(super) fn top(a: Acc) -> Option<u32> {
        a.iter().flat_map(|v| v.to_array()).max()
    }
}

/// x86's baseline SSE2 has no unsigned (or signed) 32-bit max: the maxima
/// are kept as `f32`, which SSE2 compares in one instruction and which is
/// exact for values below 2^24, beside an OR of every masked word that
/// tells whether one reached 2^24. Then `top` says the maxima are not
/// exact and the caller walks again with `walk` (no real BTF comes near:
/// the kernel caps name offsets and type ids below that).
#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    not(target_feature = "sse4.1")
))]
mod lanes {
    use wide::{f32x4, i32x4};
    pub(super) type Acc = ([f32x4; 3], i32x4);
    pub(super) type Window = [i32x4; 3];
    pub(super) const READ: usize = 12;
    pub(super) const ZERO: Acc = ([f32x4::ZERO; 3], i32x4::ZERO);
    #[inline(always)]
    pub(super) fn load(b: &[u8]) -> Window {
        [super::read(b, 0), super::read(b, 16), super::read(b, 32)]
    }
    #[inline(always)]
    pub(super) fn add(acc: Acc, x: Window, m: &[u32; 16]) -> Acc {
        let (mut max, mut any) = acc;
        for i in 0..3 {
            let masked = x[i] & super::row::<i32x4>(m, 4 * i);
            any |= masked;
            max[i] = max[i].fast_max(masked.round_float());
        }
        (max, any)
    }
    #[inline(always)]
    pub(super) fn join(a: Acc, b: Acc) -> Acc {
        ([0, 1, 2].map(|i| a.0[i].fast_max(b.0[i])), a.1 | b.1)
    }
    pub(super) fn top(a: Acc) -> Option<u32> {
        if a.1.to_array().iter().fold(0, |x, &y| x | y) as u32 >= 1 << 24 {
            return None;
        }
        a.0.iter()
            .flat_map(|v| v.to_array())
            .map(|f| f as u32)
            .max()
    }
}

/// What [`long_record`] found.
struct Long {
    maxima: Maxima,
    max_name: u32,
    max_ref: u32,
    /// Word after the record.
    next: usize,
}

/// The record at word `pos` when it is well-formed but longer than one
/// window: its body read in whole windows (a struct's or prototype's lanes
/// repeat every 12 words), its offset and chain edge added to `w`. `None`
/// (nothing done) for any other record, and where its windows would run
/// past the section: `walk` takes those.
fn long_record<const IDS: bool>(
    types: &[u8],
    pos: usize,
    start_id: u32,
    w: &mut Walk,
) -> Option<Long> {
    let at = pos.checked_mul(4)?;
    let info = word(types.get(at..at + 8)?, 4);
    let k = ((info >> 24) & 0x1f) as usize;
    let len = body_words(info);
    let ki = &KINDS[k];
    if (info & RESERVED_INFO_BITS) | (ki.row & SLOW) != 0 || len <= WINDOW {
        return None;
    }
    let windows = len.div_ceil(WINDOW);
    let rec = types.get(at..at + 12 + 4 * ((windows - 1) * WINDOW + lanes::READ))?;
    let third = word(rec, 8);
    let id = if IDS { start_id } else { 0 } + w.offsets.len() as u32;
    let next_id = (third & ki.chain3) | (word(rec, 12) & ki.chain_w0);
    if next_id >= id {
        if IDS {
            if next_id == id {
                return None; // a self-loop: `walk` names it
            }
            w.forward.push(id - start_id);
        } else if next_id != 0 {
            w.ups.push((id, next_id));
        }
    }
    let mut l = Long {
        maxima: Maxima::ZERO,
        max_name: word(rec, 0),
        max_ref: third & ki.ref3,
        next: pos + 3 + len,
    };
    for c in 0..windows {
        let left = len - c * WINDOW;
        let m = &MASKS[(ki.row as usize | left.min(WINDOW)) & (ROWS - 1)];
        l.maxima = l.maxima.window(&rec[12 + 4 * WINDOW * c..], m);
    }
    w.offsets.push(at as u32);
    Some(l)
}

/// `walk::<false, IDS>` over the same range, with the same result.
pub(super) fn walk_le<const IDS: bool>(
    s: &Section<'_>,
    from: usize,
    stop: usize,
    w: &mut Walk,
) -> Result<()> {
    let (words, start_id) = (s.words, s.start_id);
    let types = words.as_flattened();
    let nwords = words.len();
    let stop = stop.min(nwords);
    // What to restore if the maxima cannot be trusted.
    let entry = (
        w.offsets.len(),
        w.forward.len(),
        w.ups.len(),
        w.max_name,
        w.max_ref,
    );
    // A record at `pos <= last_fast` has its whole window in the section.
    let last_fast = nwords.checked_sub(3 + lanes::READ);
    let (mut max_name, mut max_ref) = (0u32, 0u32);
    let mut maxima = Maxima::ZERO;
    let mut pos = from;
    let mut batch = [0u32; BATCH];
    // Chain edges of the batch that `walk` would keep: (id, successor).
    let mut edges = [(0u32, 0u32); BATCH];
    while pos < stop {
        let (mut n, mut ne) = (0, 0);
        // The id (IDS) or the index from the walk's start of the record at
        // `pos`, as `walk` counts.
        let first = if IDS { start_id } else { 0 } + w.offsets.len() as u32;
        // Records at or after `limit` are not for the fast path.
        let limit = last_fast.map_or(0, |l| stop.min(l + 1));
        while n < BATCH && pos < limit {
            // A fixed-size chunk: its length is known, so the reads below
            // check nothing, and `get(pos..)` cannot overflow.
            let Some(rec) = words
                .get(pos..)
                .and_then(<[[u8; 4]]>::first_chunk::<{ 3 + lanes::READ }>)
            else {
                break;
            };
            let rec = rec.as_flattened();
            let info = word(rec, 4);
            let k = ((info >> 24) & 0x1f) as usize;
            let len = body_words(info);
            let ki = &KINDS[k];
            if (info & RESERVED_INFO_BITS) | (ki.row & SLOW) != 0 || len > WINDOW {
                break;
            }
            let third = word(rec, 8);
            let id = first + n as u32;
            // The chain successor: the third word, or an array's element.
            let next_id = (third & ki.chain3) | (word(rec, 12) & ki.chain_w0);
            if IDS && next_id == id {
                break; // a self-loop: `walk` names it
            }
            // Kept without a branch: in a piece whose ids are not known yet
            // most chain edges qualify, in no pattern a predictor learns.
            let keep = if IDS {
                next_id > id
            } else {
                next_id >= id && next_id != 0
            };
            edges[ne] = (id, next_id);
            ne += usize::from(keep);
            max_name = max_name.max(word(rec, 0));
            max_ref = max_ref.max(third & ki.ref3);
            let m = &MASKS[(ki.row as usize | len) & (ROWS - 1)];
            maxima = maxima.window(&rec[12..], m);
            batch[n] = (pos * 4) as u32;
            n += 1;
            pos += 3 + len;
        }
        w.offsets.extend_from_slice(&batch[..n]);
        if IDS {
            let start = start_id;
            w.forward
                .extend(edges[..ne].iter().map(|&(id, _)| id - start));
        } else {
            w.ups.extend_from_slice(&edges[..ne]);
        }
        if n == BATCH || pos >= stop {
            continue;
        }
        // A record too long for one window, in as many as it needs.
        if let Some(l) = long_record::<IDS>(types, pos, start_id, w) {
            maxima = maxima.join(l.maxima);
            max_name = max_name.max(l.max_name);
            max_ref = max_ref.max(l.max_ref);
            pos = l.next;
            continue;
        }
        // One record `walk`'s way, or all the rest near the section's end.
        let until = match last_fast {
            Some(l) if pos <= l => pos + 1,
            _ => stop,
        };
        walk::<false, IDS>(s, pos, until, w)?;
        pos = w.end;
    }
    let Some((top_name, top_ref)) = maxima.tops() else {
        // A name offset or type id too large for an exact f32: walk again.
        let (offsets, forward, ups, mn, mr) = entry;
        w.offsets.truncate(offsets);
        w.forward.truncate(forward);
        w.ups.truncate(ups);
        (w.max_name, w.max_ref) = (mn, mr);
        return walk::<false, IDS>(s, from, stop, w);
    };
    w.max_name = w.max_name.max(max_name).max(top_name);
    w.max_ref = w.max_ref.max(max_ref).max(top_ref);
    w.end = pos;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::guess_boundary;
    use super::super::tests::{kernel, put};
    use super::*;
    use crate::header::Header;

    type Seen = (Vec<u32>, u32, u32, Vec<u32>, Vec<(u32, u32)>, usize);

    /// Runs `f` on `data`'s type section (ids from 1).
    fn on_section<T>(data: &[u8], f: impl FnOnce(&Section<'_>) -> T) -> T {
        let h = Header::parse(data).unwrap();
        let types = &data[h.type_start..h.type_start + h.type_len];
        let (words, _) = types.as_chunks::<4>();
        f(&Section {
            words,
            h: &h,
            layouts: None,
            len: types.len(),
            start_id: 1,
        })
    }

    /// What a walk found, or its error.
    fn seen(w: Walk, r: Result<()>) -> std::result::Result<Seen, String> {
        r.map(|()| (w.offsets, w.max_name, w.max_ref, w.forward, w.ups, w.end))
            .map_err(|e| e.to_string())
    }

    /// Walks `data`'s type section from word `from` with `walk` and with
    /// the fast path; both must agree on everything, errors included.
    fn agree<const IDS: bool>(data: &[u8], from: usize) -> std::result::Result<Seen, String> {
        on_section(data, |sec| {
            let run = |fast: bool| {
                let mut w = Walk::new(16);
                let end = sec.words.len();
                let r = if fast {
                    walk_le::<IDS>(sec, from, end, &mut w)
                } else {
                    walk::<false, IDS>(sec, from, end, &mut w)
                };
                seen(w, r)
            };
            let (exact, fast) = (run(false), run(true));
            assert_eq!(exact, fast);
            exact
        })
    }

    #[test]
    fn fast_path_equals_walk_on_real_kernels() {
        for k in [
            "x86_64-6.18.btf",
            "x86_64-6.12.btf",
            "x86_64-6.1.btf",
            "arm64-6.12.btf",
        ] {
            let data = kernel(k);
            let (offsets, ..) = agree::<true>(&data, 0).unwrap();
            assert!(offsets.len() > 100_000, "{k}");
            // A piece from a guessed boundary, ids unknown.
            let h = Header::parse(&data).unwrap();
            let (words, _) = data[h.type_start..h.type_start + h.type_len].as_chunks::<4>();
            let mid = guess_boundary::<false>(words, words.len() / 2, h.str_len as u64).unwrap();
            let (_, _, _, _, ups, _) = agree::<false>(&data, mid).unwrap();
            assert!(!ups.is_empty(), "{k}");
        }
    }

    /// Damage at many places, of the kinds the walk must catch or carry:
    /// every result, error or not, is `walk`'s.
    #[test]
    fn fast_path_equals_walk_on_damaged_records() {
        let clean = kernel("x86_64-6.18.btf");
        let h = Header::parse(&clean).unwrap();
        let (offsets, ..) = agree::<true>(&clean, 0).unwrap();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut errors, mut oks) = (0, 0);
        for round in 0..300 {
            let mut d = clean.clone();
            let i = (rnd() % offsets.len() as u64) as usize;
            let at = h.type_start + offsets[i] as usize;
            let info = u32::from_le_bytes(d[at + 4..at + 8].try_into().unwrap());
            match round % 6 {
                // Another kind, same vlen: lengths and lanes change.
                0 => put(
                    &mut d,
                    at + 4,
                    (info & 0xffff) | ((rnd() % 21) as u32) << 24,
                ),
                // Reserved bits.
                1 => put(&mut d, at + 4, info | 0x0010_0000),
                // A struct of 4095 members.
                2 => put(&mut d, at + 4, (4 << 24) | 0x0fff),
                // A pointer to itself.
                3 => {
                    put(&mut d, at + 4, 2 << 24);
                    put(&mut d, at + 8, i as u32 + 1);
                }
                // A name offset or type id of 2^24 or more in the body.
                4 => put(
                    &mut d,
                    at + 12 + 4 * (rnd() % 4) as usize,
                    (1 << 24) + rnd() as u32 % 7,
                ),
                // Any word of the first six.
                _ => put(&mut d, at + (rnd() % 6) as usize * 4, rnd() as u32),
            }
            match agree::<true>(&d, 0) {
                Ok(_) => oks += 1,
                Err(_) => errors += 1,
            }
        }
        assert!(errors > 30 && oks > 30, "{errors} errors, {oks} clean");
    }

    /// A name offset and a type id far into a long struct (past its first
    /// window) are seen: the maxima move to them, as `walk`'s do.
    #[test]
    fn long_records_are_read_to_their_end() {
        let mut d = kernel("x86_64-6.18.btf");
        let h = Header::parse(&d).unwrap();
        let (offsets, max_name, max_ref, ..) = agree::<true>(&d, 0).unwrap();
        let st = offsets
            .iter()
            .map(|&o| h.type_start + o as usize)
            .find(|&at| {
                let info = u32::from_le_bytes(d[at + 4..at + 8].try_into().unwrap());
                (info >> 24) & 0x1f == 4 && (info & 0xffff) >= 12
            })
            .unwrap();
        // Member 10: words 30 (name) and 31 (type) of the body.
        put(&mut d, st + 12 + 30 * 4, max_name + 1);
        put(&mut d, st + 12 + 31 * 4, max_ref + 1);
        let (_, n, r, ..) = agree::<true>(&d, 0).unwrap();
        assert_eq!((n, r), (max_name + 1, max_ref + 1));
    }

    /// A member name offset of 2^24 or more is kept exactly: by the
    /// unsigned lanes, or (SSE2's f32 lanes cannot hold it) by walking
    /// again with `walk`.
    #[test]
    fn large_values_are_exact() {
        let mut d = kernel("x86_64-6.18.btf");
        let h = Header::parse(&d).unwrap();
        let (offsets, ..) = agree::<true>(&d, 0).unwrap();
        let types = h.type_start;
        let st = offsets
            .iter()
            .map(|&o| types + o as usize)
            .find(|&at| {
                let info = u32::from_le_bytes(d[at + 4..at + 8].try_into().unwrap());
                (info >> 24) & 0x1f == 4 && (1..=4).contains(&(info & 0xffff))
            })
            .unwrap();
        put(&mut d, st + 12, (1 << 24) + 1);
        let (_, max_name, ..) = agree::<true>(&d, 0).unwrap();
        assert_eq!(max_name, (1 << 24) + 1);
    }
}
