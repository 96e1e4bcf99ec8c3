//! The software event `PERF_COUNT_SW_BPF_OUTPUT`, one per CPU, as a BPF
//! perf event array's slots (what `bpf_perf_event_output` writes into),
//! opened through [`super::perf_event_open`].

use std::io;
use std::os::fd::OwnedFd;

use super::perf::{perf_event_open, PerfEvent, TYPE_SOFTWARE};

const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;
const PERF_SAMPLE_RAW: u64 = 1 << 10;

/// Opens a `PERF_COUNT_SW_BPF_OUTPUT` event on `cpu` (any process) that
/// wakes its reader after every `wakeup_events` samples.
pub fn open_bpf_output(cpu: u32, wakeup_events: u32) -> io::Result<OwnedFd> {
    let cpu = i32::try_from(cpu).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let ev = PerfEvent {
        pmu_type: TYPE_SOFTWARE,
        config: PERF_COUNT_SW_BPF_OUTPUT,
        sample_period: 1,
        sample_type: PERF_SAMPLE_RAW,
        wakeup_events: wakeup_events.max(1),
        ..PerfEvent::default()
    };
    perf_event_open(&ev, -1, cpu)
}
