//! `BPF_PROG_TEST_RUN`: run a loaded program on given data and context.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::{bpf, Attr};

const BPF_PROG_TEST_RUN: u32 = 10;

/// Inputs and outputs of one `BPF_PROG_TEST_RUN`. The kernel writes at most
/// `data_out.len()` / `ctx_out.len()` bytes (it says `ENOSPC` when the
/// result was longer, after writing what fits).
#[derive(Debug, Default)]
pub struct TestRunArgs<'a> {
    /// Packet or input data.
    pub data_in: &'a [u8],
    /// Where the (possibly changed) data is written.
    pub data_out: &'a mut [u8],
    /// Context in (`struct __sk_buff`, `struct xdp_md`, raw_tp arguments...).
    pub ctx_in: &'a [u8],
    /// Where the context is written back.
    pub ctx_out: &'a mut [u8],
    /// Runs (0 or 1: once).
    pub repeat: u32,
    /// `BPF_F_TEST_RUN_ON_CPU` and others.
    pub flags: u32,
    /// CPU with `BPF_F_TEST_RUN_ON_CPU`.
    pub cpu: u32,
    /// XDP: `batch_size` with `BPF_F_TEST_XDP_LIVE_FRAMES`.
    pub batch_size: u32,
}

/// What the kernel reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRunOut {
    /// The program's return value.
    pub retval: u32,
    /// Mean duration of one run, in nanoseconds.
    pub duration_ns: u32,
    /// Bytes of output data (may exceed the buffer: then `ENOSPC`).
    pub data_size_out: u32,
    /// Bytes of output context.
    pub ctx_size_out: u32,
}

fn len32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "buffer over 4 GiB"))
}

/// `BPF_PROG_TEST_RUN` of `prog` with every input the command takes
/// (context, flags, CPU; [`super::prog_test_run`] is the data-only form).
pub fn prog_test_run_with(prog: BorrowedFd<'_>, a: &mut TestRunArgs<'_>) -> io::Result<TestRunOut> {
    let mut attr = Attr::new();
    attr.u32(0, prog.as_raw_fd() as u32);
    attr.u32(8, len32(a.data_in.len())?);
    attr.u32(12, len32(a.data_out.len())?);
    if !a.data_in.is_empty() {
        attr.ptr(16, a.data_in);
    }
    if !a.data_out.is_empty() {
        // The kernel writes at most data_size_out (the buffer's length).
        attr.u64(24, a.data_out.as_mut_ptr() as usize as u64);
    }
    attr.u32(32, a.repeat);
    attr.u32(40, len32(a.ctx_in.len())?);
    attr.u32(44, len32(a.ctx_out.len())?);
    if !a.ctx_in.is_empty() {
        attr.ptr(48, a.ctx_in);
    }
    if !a.ctx_out.is_empty() {
        attr.u64(56, a.ctx_out.as_mut_ptr() as usize as u64);
    }
    attr.u32(64, a.flags);
    attr.u32(68, a.cpu);
    attr.u32(72, a.batch_size);
    bpf(BPF_PROG_TEST_RUN, &mut attr)?;
    Ok(TestRunOut {
        retval: attr.read_u32(4),
        duration_ns: attr.read_u32(36),
        data_size_out: attr.read_u32(12),
        ctx_size_out: attr.read_u32(44),
    })
}
