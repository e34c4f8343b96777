//! The `mxinfer` command: parse, check the arguments into the engine's settings, run one
//! subcommand, map the outcome to an exit status ([`exit::Exit`]: 0 complete, 1 fatal error,
//! 2 usage error, 3 complete with rejected input lines, 4 interrupted).
//!
//! The only code of the project that knows clap, anyhow, indicatif, signals and exit codes;
//! the engine is in `crates/` (README: Layout).

mod cli;
mod commands;
mod exit;
mod progress;
mod settings;

use clap::Parser;
use exit::Exit;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MXINFER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::dispatch(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("mxinfer: error: {e:#}");
            Exit::Fatal.into()
        }
    }
}
