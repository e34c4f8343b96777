//! The binary's [`Reporter`]: the one place that writes progress and per-line input problems
//! to stderr.
//!
//! On a terminal a live bar (indicatif); otherwise a line every [`LINE_INTERVAL`] so logs of
//! long batch runs show progress without flooding. Rejected input lines are printed one per
//! line as `FILE:LINE: REASON: "TEXT"`, whatever the mode, unless quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mxinfer_core::input::BadLine;
use mxinfer_core::progress::Reporter;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the non-terminal reporter prints a line.
pub const LINE_INTERVAL: Duration = Duration::from_secs(10);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// A bar on a terminal, periodic lines otherwise.
    Auto,
    Bar,
    Lines,
    /// Nothing but errors.
    Off,
}

pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    label: String,
    start: Instant,
    last: Mutex<Instant>,
}

impl Progress {
    pub fn new(mode: ProgressMode, label: &str) -> Self {
        let tty = std::io::stderr().is_terminal();
        let (bar, lines) = match mode {
            ProgressMode::Auto if tty => (true, false),
            ProgressMode::Auto => (false, true),
            ProgressMode::Bar => (true, false),
            ProgressMode::Lines => (false, true),
            ProgressMode::Off => (false, false),
        };
        let bar = bar.then(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix} {spinner} {pos} done, {per_sec} [{elapsed}] {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.set_prefix(label.to_string());
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Progress {
            bar,
            lines,
            label: label.to_string(),
            start: Instant::now(),
            last: Mutex::new(Instant::now()),
        }
    }

    /// Draws the bar (if any) in `multi`, so stages running at once keep one bar each.
    pub fn attach(mut self, multi: &indicatif::MultiProgress) -> Self {
        if let Some(b) = self.bar.take() {
            self.bar = Some(multi.add(b));
        }
        self
    }
}

impl Reporter for Progress {
    fn tick(&self, done: u64, msg: &dyn Fn() -> String) {
        if let Some(b) = &self.bar {
            b.set_position(done);
            if done.is_multiple_of(256) {
                b.set_message(msg());
            }
        } else if self.lines {
            let mut last = self.last.lock().expect("progress lock");
            if last.elapsed() >= LINE_INTERVAL {
                *last = Instant::now();
                let secs = self.start.elapsed().as_secs_f64();
                eprintln!(
                    "{}: {} done in {:.0} s ({:.0}/s) {}",
                    self.label,
                    done,
                    secs,
                    done as f64 / secs.max(1e-9),
                    msg()
                );
            }
        }
    }

    fn bad_line(&self, file: &str, line: &BadLine) {
        // Off mode still reports bad lines: they are errors, not progress.
        let text = format!("{file}:{}: {}: \"{}\"", line.line, line.reason, line.text);
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{text}")),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    fn warn(&self, message: &str) {
        // Shown in every mode, like bad lines.
        let text = format!("warning: {message}");
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{text}")),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    fn finish(&self, summary: &str) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        if self.bar.is_some() || self.lines {
            eprintln!("{}: {}", self.label, summary);
        }
    }
}
