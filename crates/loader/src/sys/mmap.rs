//! Shared mappings of BPF ring buffers and perf event rings, with the
//! atomic position words they share with the kernel.
//!
//! A BPF ring buffer (`BPF_MAP_TYPE_RINGBUF`) is mapped as the kernel lays
//! it out: one writable page holding the consumer position, then (read
//! only) one page holding the producer position followed by the data area
//! mapped twice in a row, so a record that wraps the end of the ring reads
//! as one contiguous slice. A perf event ring is one metadata page
//! (`struct perf_event_mmap_page`, with `data_head`/`data_tail`) and a
//! power-of-two number of data pages.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory effects; it returns -1 on error.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

/// One shared mapping, unmapped on drop.
#[derive(Debug)]
struct Region {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone; all access goes through
// atomics or shared reads of memory that is valid for the mapping's life.
unsafe impl Send for Region {}

impl Region {
    fn map(fd: BorrowedFd<'_>, len: usize, writable: bool, offset: usize) -> io::Result<Region> {
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let off =
            libc::off_t::try_from(offset).map_err(|_| io::Error::other("offset too large"))?;
        // SAFETY: a fresh shared mapping chosen by the kernel (addr NULL) of
        // a descriptor borrowed for the call; it aliases no Rust object and
        // is checked for failure before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave NULL"))?;
        Ok(Region { ptr, len })
    }

    /// The aligned 8-byte word at `off` as an atomic (`None` when
    /// misaligned or outside the mapping).
    fn u64_at(&self, off: usize) -> Option<&AtomicU64> {
        if !off.is_multiple_of(8) || off.checked_add(8)? > self.len {
            return None;
        }
        // SAFETY: in bounds and 8-byte aligned (the mapping is page-aligned),
        // valid for as long as `&self`; the kernel accesses the word
        // atomically too, so an atomic view is the right one.
        Some(unsafe { &*self.ptr.as_ptr().add(off).cast::<AtomicU64>() })
    }

    fn bytes(&self, off: usize, len: usize) -> Option<&[u8]> {
        let end = off.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: in bounds of a mapping valid for `&self`. The callers only
        // ask for bytes the kernel has published (below the producer
        // position / data_head, read with acquire ordering) and that it does
        // not touch again until the consumer position / data_tail moves past
        // them, which happens after the slice's borrow ends.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(off), len) })
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly this mapping; no borrow of it outlives `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// A `BPF_MAP_TYPE_RINGBUF` mapped for consuming.
///
/// The hot accessors work from pointers taken once at mapping time: every
/// offset they form is masked into the data area (and rounded down to the
/// 8-byte record alignment), so no position, even one another process
/// wrote into the shared consumer page, reaches outside the mapping.
#[derive(Debug)]
pub struct RingbufMaps {
    consumer: Region,
    producer: Region,
    /// First byte of the data area (mapped twice in a row).
    data: NonNull<u8>,
    /// `size - 1`, rounded down to a multiple of 8.
    mask: usize,
    size: usize,
}

// SAFETY: the regions are owned by this value; `data` points into
// `producer`, which moves with it (the mapping itself does not move).
unsafe impl Send for RingbufMaps {}

impl RingbufMaps {
    /// Maps the ring buffer map `fd` of `size` bytes (its `max_entries`, a
    /// power of two multiple of the page size).
    pub fn new(fd: BorrowedFd<'_>, size: usize) -> io::Result<RingbufMaps> {
        let page = page_size();
        if size == 0 || !size.is_power_of_two() || !size.is_multiple_of(page) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("ring buffer size {size} is not a power-of-two multiple of the page"),
            ));
        }
        let consumer = Region::map(fd, page, true, 0)?;
        let len = size
            .checked_mul(2)
            .and_then(|n| n.checked_add(page))
            .ok_or_else(|| io::Error::other("ring buffer too large"))?;
        let producer = Region::map(fd, len, false, page)?;
        // SAFETY: `page` < `len`, so the data area's first byte is inside
        // the producer mapping.
        let data = unsafe { NonNull::new_unchecked(producer.ptr.as_ptr().add(page)) };
        Ok(RingbufMaps {
            consumer,
            producer,
            data,
            mask: (size - 1) & !7,
            size,
        })
    }

    /// Data area size.
    pub fn size(&self) -> usize {
        self.size
    }

    #[inline]
    fn consumer_word(&self) -> &AtomicU64 {
        // SAFETY: the consumer mapping is one page, page-aligned, valid for
        // `&self`; its first word is the consumer position, which the
        // kernel reads atomically.
        unsafe { &*self.consumer.ptr.as_ptr().cast::<AtomicU64>() }
    }

    /// The consumer position (acquire).
    #[inline]
    pub fn consumer_pos(&self) -> u64 {
        self.consumer_word().load(Ordering::Acquire)
    }

    /// Publishes the consumer position (release): the kernel may reuse
    /// everything before it.
    #[inline]
    pub fn set_consumer_pos(&self, pos: u64) {
        self.consumer_word().store(pos, Ordering::Release);
    }

    /// The producer position (acquire).
    #[inline]
    pub fn producer_pos(&self) -> u64 {
        // SAFETY: the producer mapping starts with the page-aligned
        // producer position word, valid for `&self`.
        let w = unsafe { &*self.producer.ptr.as_ptr().cast::<AtomicU64>() };
        w.load(Ordering::Acquire)
    }

    /// The 8-byte record header's length word at ring position `pos`
    /// (acquire: the kernel clears the busy bit with release). A position
    /// that is not 8-byte aligned reads the header it falls in.
    #[inline]
    pub fn header(&self, pos: u64) -> u32 {
        let off = (pos as usize) & self.mask;
        // SAFETY: `off` <= size - 8 and 8-aligned, so the 4-byte word is
        // inside the first copy of the data area and aligned; the kernel
        // writes it atomically.
        let w = unsafe { &*self.data.as_ptr().add(off).cast::<AtomicU32>() };
        w.load(Ordering::Acquire)
    }

    /// `len` bytes of record data starting at ring position `pos` (the
    /// double mapping makes a wrapping record contiguous); `None` if the
    /// length is beyond what the mapping can hold.
    #[inline]
    pub fn data(&self, pos: u64, len: usize) -> Option<&[u8]> {
        if len > self.size {
            return None;
        }
        let off = (pos as usize) & (self.size - 1);
        // SAFETY: off < size and len <= size, so the bytes lie inside the
        // two copies of the data area (2 * size bytes), valid for `&self`.
        // The callers ask only for committed records (below the producer
        // position, header read with acquire and not busy), which the
        // kernel leaves alone until the consumer position passes them,
        // after this borrow ends.
        Some(unsafe { std::slice::from_raw_parts(self.data.as_ptr().add(off), len) })
    }
}

/// A perf event ring (`PERF_COUNT_SW_BPF_OUTPUT` and others) mapped for
/// reading: the metadata page and `2^n` data pages.
#[derive(Debug)]
pub struct PerfRing {
    region: Region,
    page: usize,
    data_size: usize,
}

/// Offsets in `struct perf_event_mmap_page`.
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;

impl PerfRing {
    /// Maps `1 + data_pages` pages of the perf event `fd` (`data_pages` a
    /// power of two).
    pub fn new(fd: BorrowedFd<'_>, data_pages: usize) -> io::Result<PerfRing> {
        if data_pages == 0 || !data_pages.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("perf ring of {data_pages} pages: not a power of two"),
            ));
        }
        let page = page_size();
        let data_size = data_pages
            .checked_mul(page)
            .ok_or_else(|| io::Error::other("perf ring too large"))?;
        let region = Region::map(fd, data_size + page, true, 0)?;
        Ok(PerfRing {
            region,
            page,
            data_size,
        })
    }

    /// Data area size in bytes.
    pub fn data_size(&self) -> usize {
        self.data_size
    }

    /// `data_head` (acquire): where the kernel will write next.
    pub fn data_head(&self) -> u64 {
        self.region
            .u64_at(DATA_HEAD)
            .map_or(0, |w| w.load(Ordering::Acquire))
    }

    /// `data_tail`: what user space has consumed.
    pub fn data_tail(&self) -> u64 {
        self.region
            .u64_at(DATA_TAIL)
            .map_or(0, |w| w.load(Ordering::Relaxed))
    }

    /// Publishes `data_tail` (release).
    pub fn set_data_tail(&self, tail: u64) {
        if let Some(w) = self.region.u64_at(DATA_TAIL) {
            w.store(tail, Ordering::Release);
        }
    }

    /// The data area.
    pub fn data(&self) -> &[u8] {
        self.region
            .bytes(self.page, self.data_size)
            .unwrap_or_default()
    }
}
