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
        let info = sys::map_info_of(fd)
            .map_err(sys_err("BPF_OBJ_GET_INFO_BY_FD", "ring buffer map".into()))?;
        if info.map_type != RINGBUF {
            return Err(Error::Map {
                map: format!("id {}", info.id),
                why: format!("map type {} is not a ring buffer (27)", info.map_type),
            });
        }
        let what = format!("ring buffer map id {}", info.id);
        let maps = RingbufMaps::new(fd, info.max_entries as usize)
            .map_err(sys_err("mmap", what.clone()))?;
        self.epoll
            .add(fd, self.rings.len() as u64)
            .map_err(sys_err("epoll_ctl", what))?;
        self.rings.push(Ring {
            maps,
            map_id: info.id,
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
                let (got, stop) = consume_ring(ring)?;
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
            let (got, stop) = consume_ring(ring)?;
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

/// Consumes one ring: (records handed out, whether the callback stopped).
fn consume_ring(ring: &mut Ring<'_>) -> Result<(usize, bool)> {
    let m = &ring.maps;
    let mut cons = m.consumer_pos();
    let mut count = 0;
    loop {
        let prod = m.producer_pos();
        let mut progressed = false;
        while cons < prod {
            let Some(hdr) = m.header(cons) else {
                return Err(corrupt(ring.map_id, cons, "misaligned consumer position"));
            };
            if hdr & BUSY != 0 {
                // Not committed yet: the rest waits for a later poll.
                return Ok((count, false));
            }
            let len = hdr & !(BUSY | DISCARD);
            let step = (u64::from(len) + HDR).div_ceil(8) * 8;
            let stop = if hdr & DISCARD == 0 {
                let Some(rec) = m.data(cons + HDR, len as usize) else {
                    return Err(corrupt(ring.map_id, cons, "record longer than the ring"));
                };
                count += 1;
                (ring.callback)(rec).is_break()
            } else {
                false
            };
            cons += step;
            m.set_consumer_pos(cons);
            progressed = true;
            if stop {
                return Ok((count, true));
            }
        }
        if !progressed {
            return Ok((count, false));
        }
    }
}

fn corrupt(map_id: u32, pos: u64, why: &str) -> Error {
    Error::Map {
        map: format!("ring buffer id {map_id}"),
        why: format!("at position {pos}: {why}"),
    }
}
