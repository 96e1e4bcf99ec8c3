//! Legacy probes through tracefs, as libbpf does for kernels without the
//! uprobe PMU: a line `p:uprobes/<event> <path>:0x<offset>` (`r:` for a
//! return probe, `(0x<ref_ctr>)` for a semaphore) appended to
//! `uprobe_events` creates a tracepoint; its id from
//! `events/uprobes/<event>/id` opens a `PERF_TYPE_TRACEPOINT` perf event,
//! which gets the program like any tracepoint. Dropping the link closes the
//! event first, then removes the probe (`-:uprobes/<event>`).

use std::io::Write;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::error::{AttachError, Result};
use super::link::Detach;
use super::tracepoint::attach_perf;
use super::uprobe::UprobeOpts;
use super::{tracefs, Link, LinkKind};
use crate::sys;

static NEXT: AtomicU32 = AtomicU32::new(0);

fn append(file: &Path, line: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().append(true).open(file)?;
    f.write_all(line.as_bytes())
}

/// An event name unique to this process and call: `btfx_<pid>_<n>`.
fn event_name() -> String {
    format!(
        "btfx_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Attaches a uprobe through tracefs `uprobe_events`.
pub(crate) fn attach_uprobe_tracefs(
    kind: LinkKind,
    prog: BorrowedFd<'_>,
    path: &Path,
    file_off: u64,
    target: String,
    opts: &UprobeOpts,
) -> Result<Link> {
    let root = tracefs::root()?;
    let events = root.join("uprobe_events");
    let name = event_name();
    let spec = path
        .to_str()
        .filter(|p| !p.contains(char::is_whitespace))
        .ok_or_else(|| AttachError::Target {
            kind,
            target: target.clone(),
            why: "uprobe_events cannot name a path with spaces or non-UTF-8 bytes".into(),
        })?;
    let mut line = format!(
        "{}:uprobes/{name} {spec}:{file_off:#x}",
        if opts.retprobe { 'r' } else { 'p' }
    );
    if opts.ref_ctr_offset != 0 {
        line.push_str(&format!("({:#x})", opts.ref_ctr_offset));
    }
    line.push('\n');
    append(&events, &line).map_err(|source| AttachError::Io {
        path: format!("{} ({})", events.display(), line.trim_end()),
        source,
    })?;
    // From here on the probe exists: remove it on every way out.
    let mut probe = TracefsProbe {
        events: events.clone(),
        name: name.clone(),
        link: None,
    };
    let id = tracefs::tracepoint_id("uprobes", &name)?;
    let ev = sys::PerfEvent {
        pmu_type: sys::TYPE_TRACEPOINT,
        config: id,
        sample_period: 1,
        wakeup_events: 1,
        ..sys::PerfEvent::default()
    };
    let (pid, cpu) = match opts.pid {
        Some(p) => (p, -1),
        None => (-1, 0),
    };
    let perf = sys::perf_event_open(&ev, pid, cpu)
        .map_err(|e| AttachError::sys(kind, &*target, "perf_event_open", e))?;
    probe.link = Some(attach_perf(kind, target.clone(), prog, perf, opts.cookie)?);
    Ok(Link::legacy(
        kind,
        format!("{target} (uprobes/{name})"),
        Box::new(probe),
    ))
}

/// A tracefs probe and the perf link on it.
#[derive(Debug)]
struct TracefsProbe {
    events: PathBuf,
    name: String,
    link: Option<Link>,
}

impl TracefsProbe {
    fn remove(&mut self) -> std::io::Result<()> {
        // The perf event must be closed before the probe can go.
        drop(self.link.take());
        if self.name.is_empty() {
            return Ok(());
        }
        let r = append(&self.events, &format!("-:uprobes/{}\n", self.name));
        self.name.clear();
        r
    }
}

impl Detach for TracefsProbe {
    fn detach(&mut self) -> std::io::Result<()> {
        self.remove()
    }
}

impl Drop for TracefsProbe {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}
