//! SIGINT and SIGTERM as a readable descriptor (`signalfd(2)`), so a
//! program's event loop can wait for them beside its other descriptors.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A signalfd for SIGINT and SIGTERM. While it lives the two signals are
/// blocked in the calling thread (and threads it starts afterwards), so they
/// queue for [`StopSignals::read`] instead of killing the process; dropping
/// it restores the previous mask.
#[derive(Debug)]
pub struct StopSignals {
    fd: OwnedFd,
    old: libc::sigset_t,
}

fn stop_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a sigset_t we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        set
    }
}

impl StopSignals {
    /// Blocks SIGINT and SIGTERM in this thread and opens a non-blocking
    /// signalfd for them.
    pub fn new() -> io::Result<StopSignals> {
        let set = stop_set();
        // SAFETY: a zeroed sigset_t is a valid output buffer.
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: both sets are valid for the call.
        let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        // SAFETY: `set` is valid; -1 asks for a new descriptor.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            // SAFETY: restores the mask saved above.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
            return Err(e);
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(StopSignals { fd, old })
    }

    /// The pending signal's number (`SIGINT`, `SIGTERM`), if one arrived.
    pub fn read(&self) -> io::Result<Option<i32>> {
        // struct signalfd_siginfo is 128 bytes; ssi_signo is its first u32.
        let mut buf = [0u8; 128];
        // SAFETY: `buf` is writable for its 128 bytes during the call.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(None);
            }
            return Err(e);
        }
        if n < 4 {
            return Ok(None);
        }
        Ok(Some(
            u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as i32
        ))
    }
}

impl AsFd for StopSignals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for StopSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `new`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}
