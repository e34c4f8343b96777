//! The exit status of every command, written once (README: "Exit codes and bad input").

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: every input line was read and accounted for, all outputs written.
    Complete,
    /// 1: a fatal error (bad argument value, unreadable input or data file, output that
    /// cannot be written); outputs are missing or incomplete.
    Fatal,
    /// 2: a usage error (unknown flag, missing argument). clap exits with it itself.
    Usage,
    /// 3: complete, but some input lines or rows were rejected (each reported on stderr).
    Rejected,
    /// 4: interrupted (ctrl-c); what was written is kept (`run`: continue with `--resume`).
    Interrupted,
}

impl Exit {
    /// Complete, or [`Exit::Rejected`] when `rejected` lines were not accepted.
    pub fn rejected_if(rejected: u64) -> Exit {
        if rejected > 0 {
            Exit::Rejected
        } else {
            Exit::Complete
        }
    }

    /// The status of a stage run: interrupted first, then rejected lines.
    pub fn of_stage(interrupted: bool, rejected: u64) -> Exit {
        if interrupted {
            Exit::Interrupted
        } else {
            Exit::rejected_if(rejected)
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Exit::Complete => 0,
            Exit::Fatal => 1,
            Exit::Usage => 2,
            Exit::Rejected => 3,
            Exit::Interrupted => 4,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}
