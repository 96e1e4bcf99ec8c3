//! `perf_event_open(2)` of the software event `PERF_COUNT_SW_BPF_OUTPUT`,
//! one per CPU, as a BPF perf event array's slots (what
//! `bpf_perf_event_output` writes into).
//!
//! `sys/perf.rs` opens the attach kinds' perf events (its attr has no
//! `sample_type`); enabling and disabling are its `perf_enable` /
//! `perf_disable`.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;
const PERF_SAMPLE_RAW: u64 = 1 << 10;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
/// `PERF_ATTR_SIZE_VER5`: every field this file sets is below it.
const ATTR_SIZE: usize = 112;

/// Opens a `PERF_COUNT_SW_BPF_OUTPUT` event on `cpu` (any process) that
/// wakes its reader after every `wakeup_events` samples.
pub fn open_bpf_output(cpu: u32, wakeup_events: u32) -> io::Result<OwnedFd> {
    // struct perf_event_attr, native byte order.
    let mut attr = [0u8; ATTR_SIZE];
    let mut put = |off: usize, b: &[u8]| {
        if let Some(d) = attr.get_mut(off..off + b.len()) {
            d.copy_from_slice(b);
        }
    };
    put(0, &PERF_TYPE_SOFTWARE.to_ne_bytes()); // type
    put(4, &(ATTR_SIZE as u32).to_ne_bytes()); // size
    put(8, &PERF_COUNT_SW_BPF_OUTPUT.to_ne_bytes()); // config
    put(16, &1u64.to_ne_bytes()); // sample_period
    put(24, &PERF_SAMPLE_RAW.to_ne_bytes()); // sample_type
    put(48, &wakeup_events.max(1).to_ne_bytes()); // wakeup_events
                                                  // SAFETY: `attr` is a perf_event_attr image of ATTR_SIZE bytes (its
                                                  // `size` field says so) that lives across the call; the kernel only
                                                  // reads it. The result is a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr.as_ptr(),
            -1 as libc::pid_t,
            cpu as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("fd out of range"))?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
