//! A criterion measurement of the CPU time of the benchmark's own thread.
//!
//! The machine the figures are taken on is shared: other builds take the cores for a while, and
//! wall-clock medians taken a few seconds apart drift by tens of percent, which makes the ratio
//! of a case to its baseline meaningless. A single-threaded case uses CPU only on its own thread,
//! and that thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`) does not count the time it waits for a
//! core. Cases whose work runs on other threads (W8) keep criterion's wall clock.

use std::time::Duration;

use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// Criterion's wall-clock measurement, whose duration formatter [`ThreadCpuTime`] borrows.
static WALL_TIME: WallTime = WallTime;

/// The CPU time of the thread that runs the benchmark.
pub(crate) struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = ThreadTime;
    type Value = Duration;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }

    fn end(&self, start: ThreadTime) -> Duration {
        start.elapsed()
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_secs_f64() * 1e9
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}
