//! `perf_event` programs: run on samples of a perf event. Software events
//! (`PERF_TYPE_SOFTWARE`: cpu-clock, task-clock, page faults, context
//! switches...) are opened once per online CPU for every process, as
//! libbpf-bootstrap's `profile` does; each gets a `BPF_PERF_EVENT` link
//! (or the `PERF_EVENT_IOC_SET_BPF` fallback), all in one [`Link`] group.

use std::os::fd::{BorrowedFd, OwnedFd};

use super::error::{AttachError, Result};
use super::tracepoint::attach_perf;
use super::{Link, LinkKind};
use crate::sys;

/// `PERF_COUNT_SW_*` counters.
#[allow(missing_docs)]
pub mod sw {
    pub const CPU_CLOCK: u64 = 0;
    pub const TASK_CLOCK: u64 = 1;
    pub const PAGE_FAULTS: u64 = 2;
    pub const CONTEXT_SWITCHES: u64 = 3;
    pub const CPU_MIGRATIONS: u64 = 4;
    pub const PAGE_FAULTS_MIN: u64 = 5;
    pub const PAGE_FAULTS_MAJ: u64 = 6;
    pub const DUMMY: u64 = 9;
}

/// A software perf event to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftwareEvent {
    /// `PERF_COUNT_SW_*` (see [`sw`]).
    pub config: u64,
    /// Sample every `period` events, or at `period` Hz with `freq`.
    pub period: u64,
    /// `period` is a frequency.
    pub freq: bool,
}

impl Default for SoftwareEvent {
    /// cpu-clock at 99 Hz, the profiler's usual choice.
    fn default() -> Self {
        SoftwareEvent {
            config: sw::CPU_CLOCK,
            period: 99,
            freq: true,
        }
    }
}

/// The online CPUs, from `/sys/devices/system/cpu/online` (`0-3,5`).
pub fn online_cpus() -> Result<Vec<u32>> {
    sys::online_cpus().map_err(|source| AttachError::Io {
        path: "/sys/devices/system/cpu/online".into(),
        source,
    })
}

/// Opens `ev` on every online CPU (all processes) and runs `prog` on its
/// samples.
pub fn attach_software_event(prog: BorrowedFd<'_>, ev: &SoftwareEvent) -> Result<Link> {
    let pe = sys::PerfEvent {
        pmu_type: sys::TYPE_SOFTWARE,
        config: ev.config,
        sample_period: ev.period,
        freq: ev.freq,
        ..sys::PerfEvent::default()
    };
    let mut links = Vec::new();
    for cpu in online_cpus()? {
        let target = format!("software:{} cpu {cpu}", ev.config);
        let fd = sys::perf_event_open(&pe, -1, cpu as i32)
            .map_err(|e| AttachError::sys(LinkKind::PerfEvent, &*target, "perf_event_open", e))?;
        links.push(attach_perf(LinkKind::PerfEvent, target, prog, fd, 0)?);
    }
    Ok(Link::many(
        LinkKind::PerfEvent,
        format!("software:{} on {} CPUs", ev.config, links.len()),
        links,
    ))
}

/// Runs `prog` on a perf event the caller opened (any type, any CPU or
/// task); the link owns the event.
pub fn attach_perf_event(prog: BorrowedFd<'_>, perf: OwnedFd) -> Result<Link> {
    attach_perf(LinkKind::PerfEvent, "perf event".into(), prog, perf, 0)
}
