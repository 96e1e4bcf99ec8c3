//! BPF ring buffer consumer (`BPF_MAP_TYPE_RINGBUF`), as libbpf's
//! `ring_buffer__poll`: several maps behind one epoll, each record handed
//! to the map's callback as a slice borrowed from the shared mapping (no
//! copy, no allocation per record).
//!
//! The protocol (kernel/bpf/ringbuf.c): each record starts with an 8-byte
//! header whose first word is its length with two flag bits, BUSY (bit 31:
//! reserved, not yet committed) and DISCARD (bit 30: committed but
//! dropped). The consumer reads the producer position (acquire), walks the
//! records from its own position, stops at the first busy one, skips
//! discarded ones, and publishes its new position (release) after each
//! record, so the producer can reuse the space at once.
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use loader::ringbuf::RingBuffer;
//! # fn f(map: std::os::fd::OwnedFd) -> loader::Result<()> {
//! let mut seen = 0usize;
//! let mut rb = RingBuffer::new()?;
//! rb.add(&map, |record: &[u8]| {
//!     seen += record.len();
//!     ControlFlow::Continue(())
//! })?;
//! rb.poll(Some(std::time::Duration::from_millis(100)))?;
//! # Ok(()) }
//! ```

use std::ops::ControlFlow;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use crate::sys::{self, Epoll, RingbufMaps};
use crate::{Error, Result};

/// `BPF_MAP_TYPE_RINGBUF`.
pub const RINGBUF: u32 = 27;
const BUSY: u32 = 1 << 31;
const DISCARD: u32 = 1 << 30;
const HDR: u64 = 8;

type Callback<'a> = Box<dyn FnMut(&[u8]) -> ControlFlow<()> + 'a>;

struct Ring<'a> {
    maps: RingbufMaps,
    map_id: u32,
    callback: Callback<'a>,
}

/// Ring buffers consumed together (libbpf's `struct ring_buffer`).
pub struct RingBuffer<'a> {
    epoll: Epoll,
    rings: Vec<Ring<'a>>,
    stopped: bool,
}

impl std::fmt::Debug for RingBuffer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingBuffer")
            .field("rings", &self.rings.len())
            .finish()
    }
}

fn sys_err(cmd: &'static str, what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Syscall { cmd, what, source }
}

impl<'a> RingBuffer<'a> {
    /// An empty set of ring buffers.
    pub fn new() -> Result<RingBuffer<'a>> {
        let epoll = Epoll::new(64).map_err(sys_err("epoll_create1", "ring buffer".into()))?;
        Ok(RingBuffer {
            epoll,
            rings: Vec::new(),
            stopped: false,
        })
    }

    /// Adds a ring buffer map; its records go to `callback`, which returns
    /// `ControlFlow::Break(())` to stop the current poll (the record counts
    /// as consumed). The map stays mapped (and so alive) until this value
    /// is dropped, whatever happens to `map`.
    pub fn add<F, C>(&mut self, map: F, callback: C) -> Result<()>
    where
        F: AsFd,
        C: FnMut(&[u8]) -> ControlFlow<()> + 'a,
    {
        let fd = map.as_fd();
        let (maps, map_id) = map_ring(fd)?;
        self.epoll
            .add(fd, self.rings.len() as u64)
            .map_err(sys_err("epoll_ctl", format!("ring buffer map id {map_id}")))?;
        self.rings.push(Ring {
            maps,
            map_id,
            callback: Box::new(callback),
        });
        Ok(())
    }

    /// Number of maps.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Whether no map was added.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// The epoll descriptor: readable when a record may be waiting (to
    /// wait on it beside other descriptors, then [`RingBuffer::consume`]).
    pub fn epoll_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    /// Waits up to `timeout` (`None`: forever) for records, then consumes
    /// those of the rings that woke. Returns the number of records handed
    /// to callbacks.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<usize> {
        self.stopped = false;
        let mut ready = [0u64; 64];
        let mut n = 0;
        for t in self
            .epoll
            .wait(timeout)
            .map_err(sys_err("epoll_wait", "ring buffer".into()))?
        {
            if let Some(slot) = ready.get_mut(n) {
                *slot = t;
                n += 1;
            }
        }
        let mut total = 0;
        for &t in ready.iter().take(n) {
            if let Some(ring) = self.rings.get_mut(t as usize) {
                let (got, stop) = consume_ring(&ring.maps, ring.map_id, &mut *ring.callback)?;
                total += got;
                if stop {
                    self.stopped = true;
                    break;
                }
            }
        }
        Ok(total)
    }

    /// Consumes every available record of every ring without waiting.
    pub fn consume(&mut self) -> Result<usize> {
        self.stopped = false;
        let mut total = 0;
        for ring in &mut self.rings {
            let (got, stop) = consume_ring(&ring.maps, ring.map_id, &mut *ring.callback)?;
            total += got;
            if stop {
                self.stopped = true;
                break;
            }
        }
        Ok(total)
    }

    /// Whether a callback asked to stop during the last poll or consume.
    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

/// What the consume loop reads and writes of a ring: the kernel's mapping
/// ([`RingbufMaps`]), or a plain buffer in the unit tests.
trait RingView {
    fn consumer_pos(&self) -> u64;
    fn set_consumer_pos(&self, pos: u64);
    fn producer_pos(&self) -> u64;
    fn header(&self, pos: u64) -> u32;
    fn data(&self, pos: u64, len: usize) -> Option<&[u8]>;
}

impl RingView for RingbufMaps {
    #[inline]
    fn consumer_pos(&self) -> u64 {
        RingbufMaps::consumer_pos(self)
    }
    #[inline]
    fn set_consumer_pos(&self, pos: u64) {
        RingbufMaps::set_consumer_pos(self, pos)
    }
    #[inline]
    fn producer_pos(&self) -> u64 {
        RingbufMaps::producer_pos(self)
    }
    #[inline]
    fn header(&self, pos: u64) -> u32 {
        RingbufMaps::header(self, pos)
    }
    #[inline]
    fn data(&self, pos: u64, len: usize) -> Option<&[u8]> {
        RingbufMaps::data(self, pos, len)
    }
}

/// Consumes one ring: (records handed out, whether the callback stopped).
#[inline]
fn consume_ring<M, C>(m: &M, map_id: u32, callback: &mut C) -> Result<(usize, bool)>
where
    M: RingView,
    C: FnMut(&[u8]) -> ControlFlow<()> + ?Sized,
{
    // A position another process wrote unaligned is taken to its record.
    let mut cons = m.consumer_pos() & !7;
    let mut count = 0;
    loop {
        let prod = m.producer_pos();
        if cons >= prod {
            return Ok((count, false));
        }
        while cons < prod {
            let hdr = m.header(cons);
            if hdr & BUSY != 0 {
                // Not committed yet: the rest waits for a later poll.
                return Ok((count, false));
            }
            let len = hdr & !(BUSY | DISCARD);
            let at = cons + HDR;
            cons += (u64::from(len) + HDR + 7) & !7;
            if hdr & DISCARD == 0 {
                let Some(rec) = m.data(at, len as usize) else {
                    return Err(corrupt(map_id, at - HDR, "record longer than the ring"));
                };
                count += 1;
                if callback(rec).is_break() {
                    m.set_consumer_pos(cons);
                    return Ok((count, true));
                }
            }
            m.set_consumer_pos(cons);
        }
    }
}

/// One ring buffer map read by one callback whose type is known, so the
/// callback is inlined into the loop (where [`RingBuffer`] calls each
/// map's callback through a pointer, as libbpf does).
pub struct RingReader<C> {
    maps: RingbufMaps,
    map_id: u32,
    epoll: Epoll,
    callback: C,
}

impl<C> std::fmt::Debug for RingReader<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingReader")
            .field("map_id", &self.map_id)
            .finish()
    }
}

impl<C: FnMut(&[u8]) -> ControlFlow<()>> RingReader<C> {
    /// Maps the ring buffer map `map` for `callback`.
    pub fn new<F: AsFd>(map: F, callback: C) -> Result<RingReader<C>> {
        let fd = map.as_fd();
        let (maps, map_id) = map_ring(fd)?;
        let epoll = Epoll::new(1).map_err(sys_err("epoll_create1", "ring buffer".into()))?;
        epoll
            .add(fd, 0)
            .map_err(sys_err("epoll_ctl", format!("ring buffer map id {map_id}")))?;
        Ok(RingReader {
            maps,
            map_id,
            epoll,
            callback,
        })
    }

    /// Consumes every available record without waiting; returns how many
    /// and whether the callback stopped.
    pub fn consume(&mut self) -> Result<(usize, bool)> {
        consume_ring(&self.maps, self.map_id, &mut self.callback)
    }

    /// Waits up to `timeout` for data, then consumes.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<(usize, bool)> {
        self.epoll
            .wait(timeout)
            .map_err(sys_err("epoll_wait", "ring buffer".into()))?
            .for_each(drop);
        self.consume()
    }

    /// The epoll descriptor (readable when records may be waiting).
    pub fn epoll_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    /// The callback (to read what it gathered).
    pub fn callback(&mut self) -> &mut C {
        &mut self.callback
    }
}

/// Maps a ring buffer map after checking its type.
fn map_ring(fd: BorrowedFd<'_>) -> Result<(RingbufMaps, u32)> {
    let info = sys::map_info_of(fd)
        .map_err(sys_err("BPF_OBJ_GET_INFO_BY_FD", "ring buffer map".into()))?;
    if info.map_type.raw() != RINGBUF {
        return Err(Error::Map {
            map: format!("id {}", info.id),
            why: format!("map type {} is not a ring buffer (27)", info.map_type),
        });
    }
    let maps = RingbufMaps::new(fd, info.max_entries as usize)
        .map_err(sys_err("mmap", format!("ring buffer map id {}", info.id)))?;
    Ok((maps, info.id))
}

fn corrupt(map_id: u32, pos: u64, why: &str) -> Error {
    Error::Map {
        map: format!("ring buffer id {map_id}"),
        why: format!("at position {pos}: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A ring of `size` bytes as the kernel lays records out in it.
    struct Fake {
        cons: Cell<u64>,
        prod: Cell<u64>,
        size: usize,
        /// The data area twice, as mapped.
        area: Vec<u8>,
    }

    impl Fake {
        fn new(size: usize) -> Fake {
            Fake {
                cons: Cell::new(0),
                prod: Cell::new(0),
                size,
                area: vec![0; 2 * size],
            }
        }
        /// Writes a record (header flags given) at the producer position.
        fn push(&mut self, body: &[u8], flags: u32) {
            let pos = self.prod.get();
            let mut rec = (body.len() as u32 | flags).to_ne_bytes().to_vec();
            rec.extend([0; 4]);
            rec.extend(body);
            for (i, b) in rec.iter().enumerate() {
                let at = (pos as usize + i) % self.size;
                self.area[at] = *b;
                self.area[at + self.size] = *b;
            }
            self.prod.set(pos + ((body.len() as u64 + 8 + 7) & !7));
        }
        /// Clears the busy bit of the record at `pos`.
        fn commit(&mut self, pos: u64) {
            let at = pos as usize % self.size;
            let h = (self.header(pos) & !BUSY).to_ne_bytes();
            self.area[at..at + 4].copy_from_slice(&h);
            self.area[at + self.size..at + self.size + 4].copy_from_slice(&h);
        }
    }

    impl RingView for Fake {
        fn consumer_pos(&self) -> u64 {
            self.cons.get()
        }
        fn set_consumer_pos(&self, pos: u64) {
            self.cons.set(pos)
        }
        fn producer_pos(&self) -> u64 {
            self.prod.get()
        }
        fn header(&self, pos: u64) -> u32 {
            let at = (pos as usize) & (self.size - 1) & !7;
            let a = &self.area;
            u32::from_ne_bytes([a[at], a[at + 1], a[at + 2], a[at + 3]])
        }
        fn data(&self, pos: u64, len: usize) -> Option<&[u8]> {
            if len > self.size {
                return None;
            }
            let at = (pos as usize) & (self.size - 1);
            self.area.get(at..at + len)
        }
    }

    fn drain(f: &Fake) -> (Vec<Vec<u8>>, bool) {
        let mut got = Vec::new();
        let (n, stop) = consume_ring(f, 0, &mut |r: &[u8]| {
            got.push(r.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(n, got.len());
        (got, stop)
    }

    #[test]
    fn busy_records_wait_discarded_are_skipped_wraps_are_whole() {
        let mut f = Fake::new(64);
        f.push(b"one", 0);
        f.push(b"skip", DISCARD);
        let busy_at = f.prod.get();
        f.push(b"busy", BUSY);
        f.push(b"after", 0);
        // Stops at the busy record: the one after it waits too.
        let (got, _) = drain(&f);
        assert_eq!(got, [b"one".to_vec()]);
        assert_eq!(
            f.cons.get(),
            busy_at,
            "consumer published up to the busy record"
        );
        f.commit(busy_at);
        let (got, _) = drain(&f);
        assert_eq!(got, [b"busy".to_vec(), b"after".to_vec()]);
        assert_eq!(f.cons.get(), f.prod.get());
        // A 40-byte record brings the producer to offset 48 of 64; the
        // next one, 20 bytes at 56..76, wraps the end and comes out whole.
        f.push(&[1u8; 40], 0);
        assert_eq!(drain(&f).0, [vec![1u8; 40]]);
        assert_eq!(f.prod.get() % 64, 48);
        f.push(&[7u8; 20], 0);
        let (got, _) = drain(&f);
        assert_eq!(got, [vec![7u8; 20]]);
    }

    #[test]
    fn a_length_past_the_ring_is_an_error() {
        let mut f = Fake::new(64);
        f.push(&[0u8; 8], 0);
        // Rewrite the length to 1000 (more than the ring).
        f.area[..4].copy_from_slice(&1000u32.to_ne_bytes());
        let e = consume_ring(&f, 9, &mut |_: &[u8]| ControlFlow::Continue(())).unwrap_err();
        assert!(e.to_string().contains("record longer than the ring"), "{e}");
    }
}
