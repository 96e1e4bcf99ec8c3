//! Perf buffer consumer for a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`, as libbpf's
//! `perf_buffer`: one `PERF_COUNT_SW_BPF_OUTPUT` event per possible CPU,
//! stored in the map at that CPU's index, each with a mapped ring; one
//! epoll over all of them.
//!
//! Each ring holds `perf_event_header` records from `data_tail` to
//! `data_head`: `PERF_RECORD_SAMPLE` carries the program's bytes
//! (`bpf_perf_event_output`) after a 4-byte size, `PERF_RECORD_LOST` the
//! number of samples the kernel dropped because the ring was full. A
//! record that wraps the end of the ring is copied into a per-ring buffer
//! kept between polls; every other record is handed out in place.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use crate::map_ops::{Map, UpdateFlags};
use crate::sys::{self, Epoll, PerfRing};
use crate::{Error, Result};

/// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
pub const PERF_EVENT_ARRAY: u32 = 4;
const PERF_RECORD_LOST: u32 = 2;
const PERF_RECORD_SAMPLE: u32 = 9;

/// What a perf buffer hands out.
#[derive(Debug, PartialEq, Eq)]
pub enum PerfEvent<'r> {
    /// A sample's bytes (as the program passed them, padded by the kernel
    /// to a multiple of 8 bytes with the 4-byte size).
    Sample(&'r [u8]),
    /// Samples the kernel dropped on this CPU since the last record.
    Lost(u64),
}

struct CpuRing {
    cpu: u32,
    event: OwnedFd,
    ring: PerfRing,
    /// Copy of the record that wraps the ring's end (reused).
    wrap: Vec<u8>,
}

/// A perf event array's per-CPU rings (libbpf's `struct perf_buffer`).
pub struct PerfBuffer<'a> {
    epoll: Epoll,
    rings: Vec<CpuRing>,
    callback: Box<dyn FnMut(u32, PerfEvent<'_>) + 'a>,
    map_id: u32,
}

impl std::fmt::Debug for PerfBuffer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerfBuffer")
            .field("map_id", &self.map_id)
            .field("cpus", &self.rings.len())
            .finish()
    }
}

fn sys_err(cmd: &'static str, what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Syscall { cmd, what, source }
}

impl<'a> PerfBuffer<'a> {
    /// Opens one BPF output event per possible CPU (up to the map's
    /// `max_entries`), maps `pages` data pages (a power of two) of each,
    /// and stores the events in `map`. Records go to `callback(cpu, event)`.
    /// The events are closed (and leave the map) when this is dropped.
    pub fn new<F, C>(map: F, pages: usize, callback: C) -> Result<PerfBuffer<'a>>
    where
        F: AsFd,
        C: FnMut(u32, PerfEvent<'_>) + 'a,
    {
        let map = Map::new(map.as_fd())?;
        let info = *map.info();
        if info.map_type.raw() != PERF_EVENT_ARRAY {
            return Err(Error::Map {
                map: format!("id {}", info.id),
                why: format!("map type {} is not a perf event array (4)", info.map_type),
            });
        }
        let cpus = crate::map_ops::possible_cpus()?.min(info.max_entries as usize);
        let epoll =
            Epoll::new(cpus.max(1)).map_err(sys_err("epoll_create1", "perf buffer".into()))?;
        let mut rings = Vec::with_capacity(cpus);
        for cpu in 0..cpus as u32 {
            let what = format!("perf buffer of map id {} on CPU {cpu}", info.id);
            let event = match sys::open_bpf_output(cpu, 1) {
                Ok(fd) => fd,
                // A possible CPU that is offline has no event (as libbpf).
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => continue,
                Err(e) => return Err(sys_err("perf_event_open", what)(e)),
            };
            let ring =
                PerfRing::new(event.as_fd(), pages).map_err(sys_err("mmap", what.clone()))?;
            sys::perf_enable(event.as_fd())
                .map_err(sys_err("PERF_EVENT_IOC_ENABLE", what.clone()))?;
            let fd32 = {
                use std::os::fd::AsRawFd;
                event.as_raw_fd() as u32
            };
            map.update(&cpu.to_ne_bytes(), &fd32.to_ne_bytes(), UpdateFlags::Any)?;
            epoll
                .add(event.as_fd(), u64::from(cpu))
                .map_err(sys_err("epoll_ctl", what))?;
            rings.push(CpuRing {
                cpu,
                event,
                ring,
                wrap: Vec::new(),
            });
        }
        Ok(PerfBuffer {
            epoll,
            rings,
            callback: Box::new(callback),
            map_id: info.id,
        })
    }

    /// CPUs with a ring.
    pub fn cpus(&self) -> usize {
        self.rings.len()
    }

    /// The epoll descriptor (readable when a ring has data).
    pub fn epoll_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    /// Waits up to `timeout` then reads the rings that woke; returns the
    /// number of records (samples and lost notes) handed out.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<usize> {
        let mut ready = Vec::new();
        ready.extend(
            self.epoll
                .wait(timeout)
                .map_err(sys_err("epoll_wait", "perf buffer".into()))?,
        );
        let mut total = 0;
        for cpu in ready {
            if let Some(i) = self.rings.iter().position(|r| u64::from(r.cpu) == cpu) {
                total += self.read_ring(i)?;
            }
        }
        Ok(total)
    }

    /// Reads every ring without waiting.
    pub fn consume(&mut self) -> Result<usize> {
        let mut total = 0;
        for i in 0..self.rings.len() {
            total += self.read_ring(i)?;
        }
        Ok(total)
    }

    fn read_ring(&mut self, i: usize) -> Result<usize> {
        let map_id = self.map_id;
        let Some(r) = self.rings.get_mut(i) else {
            return Ok(0);
        };
        let cb = &mut self.callback;
        let size = r.ring.data_size() as u64;
        let head = r.ring.data_head();
        let mut tail = r.ring.data_tail();
        let mut count = 0;
        while tail < head {
            let data = r.ring.data();
            let off = (tail % size) as usize;
            // The 8-byte header never wraps (records are 8-byte aligned).
            let Some(h) = data.get(off..off + 8) else {
                return Err(corrupt(map_id, r.cpu, tail, "header outside the ring"));
            };
            let typ = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]);
            let len = usize::from(u16::from_ne_bytes([h[6], h[7]]));
            if len < 8 || len as u64 > head - tail {
                return Err(corrupt(map_id, r.cpu, tail, "bad record size"));
            }
            let rec: &[u8] = if off + len <= data.len() {
                data.get(off..off + len).unwrap_or_default()
            } else {
                r.wrap.clear();
                r.wrap
                    .extend_from_slice(data.get(off..).unwrap_or_default());
                r.wrap
                    .extend_from_slice(data.get(..len - (data.len() - off)).unwrap_or_default());
                &r.wrap
            };
            match typ {
                PERF_RECORD_SAMPLE => {
                    let n = rec
                        .get(8..12)
                        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize);
                    let raw = rec.get(12..12 + n).unwrap_or_default();
                    cb(r.cpu, PerfEvent::Sample(raw));
                    count += 1;
                }
                PERF_RECORD_LOST => {
                    let lost = rec.get(16..24).map_or(0, |b| {
                        u64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
                    });
                    cb(r.cpu, PerfEvent::Lost(lost));
                    count += 1;
                }
                _ => {}
            }
            tail += len as u64;
            r.ring.set_data_tail(tail);
        }
        Ok(count)
    }
}

impl Drop for PerfBuffer<'_> {
    fn drop(&mut self) {
        for r in &self.rings {
            let _ = sys::perf_disable(r.event.as_fd());
        }
    }
}

fn corrupt(map_id: u32, cpu: u32, pos: u64, why: &str) -> Error {
    Error::Map {
        map: format!("perf event array id {map_id}"),
        why: format!("CPU {cpu} ring at {pos}: {why}"),
    }
}
