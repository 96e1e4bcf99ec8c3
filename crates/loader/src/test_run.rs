//! `BPF_PROG_TEST_RUN`: run a loaded program on given bytes without
//! attaching it (xdp, tc / socket filter `__sk_buff` programs, raw_tp with
//! its arguments as context, and the other types the kernel can run).
//!
//! ```no_run
//! use loader::test_run::TestRun;
//! # fn f(prog: std::os::fd::OwnedFd) -> loader::Result<()> {
//! let packet = [0u8; 64];
//! let out = TestRun::new(&packet).repeat(1000).run(&prog)?;
//! println!("returned {} in {} ns, data now {:?}", out.retval, out.duration_ns, out.data);
//! # Ok(()) }
//! ```

use std::os::fd::AsFd;

use crate::sys::{self, TestRunArgs};
use crate::{Error, Result};

/// `BPF_F_TEST_RUN_ON_CPU`.
pub const ON_CPU: u32 = 1;

/// A test run to make: input data and context, repeat count.
#[derive(Debug, Clone, Default)]
pub struct TestRun<'a> {
    data: &'a [u8],
    ctx: &'a [u8],
    data_out: Option<usize>,
    ctx_out: Option<usize>,
    repeat: u32,
    flags: u32,
    cpu: u32,
}

/// What a test run gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value (XDP action, TC verdict, bytes kept...).
    pub retval: u32,
    /// Mean time of one run, nanoseconds (as the kernel measured it).
    pub duration_ns: u32,
    /// The data after the run (the packet as the program left it).
    pub data: Vec<u8>,
    /// The context after the run (empty unless [`TestRun::ctx_out`] asked).
    pub ctx: Vec<u8>,
}

impl<'a> TestRun<'a> {
    /// A run over `data` (a packet; empty for raw_tp and others that take
    /// only a context).
    pub fn new(data: &'a [u8]) -> TestRun<'a> {
        TestRun {
            data,
            ..TestRun::default()
        }
    }

    /// Context to pass (`struct __sk_buff`, `struct xdp_md`, or for raw_tp
    /// the u64 arguments).
    pub fn ctx(mut self, ctx: &'a [u8]) -> TestRun<'a> {
        self.ctx = ctx;
        self
    }

    /// Runs `n` times (the duration is the mean); raw_tp takes no repeat.
    pub fn repeat(mut self, n: u32) -> TestRun<'a> {
        self.repeat = n;
        self
    }

    /// Room for the output data (default: the input's length plus 256
    /// bytes, for programs that grow the packet).
    pub fn data_out(mut self, len: usize) -> TestRun<'a> {
        self.data_out = Some(len);
        self
    }

    /// Room for the output context (default: none; raw_tp refuses one).
    pub fn ctx_out(mut self, len: usize) -> TestRun<'a> {
        self.ctx_out = Some(len);
        self
    }

    /// Runs on CPU `cpu` (`BPF_F_TEST_RUN_ON_CPU`; raw_tp only).
    pub fn on_cpu(mut self, cpu: u32) -> TestRun<'a> {
        self.flags |= ON_CPU;
        self.cpu = cpu;
        self
    }

    /// Runs `prog`.
    pub fn run(&self, prog: impl AsFd) -> Result<TestRunResult> {
        let mut data = vec![
            0u8;
            self.data_out.unwrap_or(if self.data.is_empty() {
                0
            } else {
                self.data.len() + 256
            })
        ];
        let mut ctx = vec![0u8; self.ctx_out.unwrap_or(0)];
        let mut a = TestRunArgs {
            data_in: self.data,
            data_out: &mut data,
            ctx_in: self.ctx,
            ctx_out: &mut ctx,
            repeat: self.repeat,
            flags: self.flags,
            cpu: self.cpu,
            batch_size: 0,
        };
        let out =
            sys::prog_test_run_with(prog.as_fd(), &mut a).map_err(|source| Error::Syscall {
                cmd: "BPF_PROG_TEST_RUN",
                what: "program".into(),
                source,
            })?;
        data.truncate(out.data_size_out as usize);
        ctx.truncate(out.ctx_size_out as usize);
        Ok(TestRunResult {
            retval: out.retval,
            duration_ns: out.duration_ns,
            data,
            ctx,
        })
    }
}
