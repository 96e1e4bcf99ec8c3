//! `mount(2)` of the pseudo file systems attaching needs (tracefs for
//! tracepoint ids, bpffs for pins) and `unshare(2)` of a network namespace
//! (tests run network attachments in a private one).

#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::path::Path;

fn cstr(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `mount(fstype, target, fstype, 0, NULL)`: mounts the pseudo file system
/// `fstype` (`"tracefs"`, `"bpf"`) at `target`, which must exist.
pub fn mount_pseudo(fstype: &str, target: &Path) -> io::Result<()> {
    let src = cstr(fstype.as_bytes())?;
    let dst = cstr(target.as_os_str().as_encoded_bytes())?;
    // SAFETY: three NUL-terminated strings owned by this frame for the call
    // and a NULL data pointer, as mount(2) accepts.
    let ret = unsafe {
        libc::mount(
            src.as_ptr(),
            dst.as_ptr(),
            src.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `unshare(CLONE_NEWNET)`: moves the calling thread into a new, empty
/// network namespace (only its loopback, down). Other threads keep theirs;
/// processes the thread spawns afterwards start in the new one.
pub fn unshare_net() -> io::Result<()> {
    // SAFETY: unshare takes a flag word and touches no memory of ours.
    let ret = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The inode number of the calling thread's network namespace (to tell
/// namespaces apart).
pub fn net_ns_inode() -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())
}
