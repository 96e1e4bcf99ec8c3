//! `perf_event_open(2)` and the perf event ioctls that tracepoint, uprobe,
//! kprobe and perf_event attachments use.
//!
//! The `struct perf_event_attr` is built as a zeroed 128-byte image
//! (`PERF_ATTR_SIZE_VER7`) with native-endian fields at the kernel's offsets.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

const ATTR_SIZE: usize = 128;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
const IOC_ENABLE: libc::c_ulong = 0x2400;
const IOC_DISABLE: libc::c_ulong = 0x2401;
const IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// `PERF_TYPE_SOFTWARE`.
pub const TYPE_SOFTWARE: u32 = 1;
/// `PERF_TYPE_TRACEPOINT`.
pub const TYPE_TRACEPOINT: u32 = 2;

/// What to open; turned into a `struct perf_event_attr`.
#[derive(Debug, Clone, Default)]
pub struct PerfEvent {
    /// `type`: `PERF_TYPE_*`, or a dynamic PMU's type (uprobe, kprobe).
    pub pmu_type: u32,
    /// `config`: the event (tracepoint id, software counter, retprobe bit
    /// and `ref_ctr_offset << 32` for probe PMUs).
    pub config: u64,
    /// `config1` as a string (probe PMUs: the binary's path or the kernel
    /// function); the kernel reads it through a pointer during the call.
    pub config1_str: Option<String>,
    /// `config2` (probe PMUs: the offset).
    pub config2: u64,
    /// `sample_period` (or frequency with `freq`).
    pub sample_period: u64,
    /// Sample at `sample_period` Hz instead of every `sample_period` events.
    pub freq: bool,
    /// `sample_type` (`PERF_SAMPLE_RAW` for a BPF output event).
    pub sample_type: u64,
    /// `wakeup_events`.
    pub wakeup_events: u32,
    /// Open disabled (enable with [`perf_enable`]).
    pub disabled: bool,
}

/// `perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC)`.
pub fn perf_event_open(ev: &PerfEvent, pid: i32, cpu: i32) -> io::Result<OwnedFd> {
    let c1 = match &ev.config1_str {
        Some(s) => {
            Some(CString::new(s.as_str()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?)
        }
        None => None,
    };
    let mut a = [0u8; ATTR_SIZE];
    let put32 = |a: &mut [u8; ATTR_SIZE], off: usize, v: u32| {
        a[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    };
    put32(&mut a, 0, ev.pmu_type);
    put32(&mut a, 4, ATTR_SIZE as u32);
    put32(&mut a, 48, ev.wakeup_events);
    let put64 = |a: &mut [u8; ATTR_SIZE], off: usize, v: u64| {
        a[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    };
    put64(&mut a, 8, ev.config);
    put64(&mut a, 16, ev.sample_period);
    put64(&mut a, 24, ev.sample_type);
    let mut flags = 0u64;
    if ev.disabled {
        flags |= 1;
    }
    if ev.freq {
        flags |= 1 << 10;
    }
    put64(&mut a, 40, flags);
    if let Some(c) = &c1 {
        put64(&mut a, 56, c.as_ptr() as usize as u64);
    }
    put64(&mut a, 64, ev.config2);
    // SAFETY: `a` is a valid perf_event_attr image of the size written in
    // its `size` field, alive for the call; the only pointer in it (config1)
    // points to `c1`, a NUL-terminated string this frame owns until after
    // the call. The kernel reads `a` and writes nothing back we rely on.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            a.as_mut_ptr(),
            pid as libc::c_long,
            cpu as libc::c_long,
            -1 as libc::c_long,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(ret).map_err(|_| io::Error::other("fd out of range"))?;
    // SAFETY: `fd` was just returned by a successful perf_event_open and is
    // owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ioctl(fd: BorrowedFd<'_>, req: libc::c_ulong, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the perf ioctls used here take an integer argument (no
    // pointer), on a descriptor the caller borrows for the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), req, arg) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `PERF_EVENT_IOC_SET_BPF`: runs `prog` on each event (the pre-link way;
/// closing the perf fd detaches it).
pub fn perf_set_bpf(perf: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    ioctl(perf, IOC_SET_BPF, prog.as_raw_fd() as libc::c_ulong)
}

/// `PERF_EVENT_IOC_ENABLE`.
pub fn perf_enable(perf: BorrowedFd<'_>) -> io::Result<()> {
    ioctl(perf, IOC_ENABLE, 0)
}

/// `PERF_EVENT_IOC_DISABLE`.
pub fn perf_disable(perf: BorrowedFd<'_>) -> io::Result<()> {
    ioctl(perf, IOC_DISABLE, 0)
}
