//! How the engine tells its caller what it is doing, and how the caller tells it to stop.
//!
//! The engine never prints: each stage reports through a [`Reporter`] it is given (the
//! `mxinfer` binary draws a progress bar or prints lines; a library user may log or ignore
//! them), and stops early when the [`Cancel`] future it is given resolves (the binary
//! resolves it on ctrl-c). Rejected input lines go to the reporter too, so the caller decides
//! where `FILE:LINE: REASON: "TEXT"` appears.

use crate::input::BadLine;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::future::Future;

/// Receives a stage's progress and its rejected input lines.
pub trait Reporter: Send + Sync {
    /// `done` items are finished; `status` gives a short summary of them (called only when
    /// the reporter shows one, so it may cost a little).
    fn tick(&self, done: u64, status: &dyn Fn() -> String);
    /// One input line was rejected (it gets no record and is counted).
    fn bad_line(&self, file: &str, line: &BadLine);
    /// The stage ended; `summary` is a one-line account of it.
    fn finish(&self, summary: &str);
    /// Something the user must know that does not stop the stage (it is also in the
    /// metadata). Dropped by default.
    fn warn(&self, message: &str) {
        let _ = message;
    }
}

/// A reporter that drops everything (library use, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {
    fn tick(&self, _: u64, _: &dyn Fn() -> String) {}
    fn bad_line(&self, _: &str, _: &BadLine) {}
    fn finish(&self, _: &str) {}
}

/// A cancellation shared by every stage of a run: a future that resolves when the
/// run is to stop (records of finished work are still written, the outcome says
/// `interrupted`). Cheap to clone; every clone resolves together.
#[derive(Clone)]
pub struct Cancel(Shared<BoxFuture<'static, ()>>);

impl Cancel {
    /// Stops when `stop` resolves. The engine installs no signal handler: a caller that
    /// wants ctrl-c to stop a run gives a future that resolves on it (the binary does).
    pub fn new(stop: impl Future<Output = ()> + Send + 'static) -> Self {
        Cancel(stop.boxed().shared())
    }

    /// Never stops.
    pub fn never() -> Self {
        Cancel::new(futures::future::pending())
    }

    /// Resolves when the run is to stop.
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + 'static {
        self.0.clone()
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cancel")
    }
}
