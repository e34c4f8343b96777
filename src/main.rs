//! The `mxinfer` command: parse, validate, run, map the outcome to an exit code.
//!
//! Exit codes: 0 complete; 1 fatal error (nothing or not everything written); 2 usage error;
//! 3 complete, but some input lines were rejected; 4 interrupted (outputs partial).

use clap::Parser;
use mxinfer::cli::{Cli, Command, SimCommand};
use mxinfer::commands;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let label_args = match &cli.command {
        Command::Label(a) => Some(a.clone()),
        _ => None,
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MXINFER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let pure = match &cli.command {
        Command::Report(a) => Some(mxinfer::report::files::report_command(a)),
        Command::Eval(a) => Some(mxinfer::report::files::eval_command(a)),
        Command::Ingest(a) => Some(mxinfer::ingest::command::run(a, std::env::args().collect())),
        Command::Diff(a) => Some(mxinfer::diff::command(a)),
        Command::Export(a) => Some(mxinfer::export::command(a)),
        _ => None,
    };
    if let Some(r) = pure {
        return match r {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("mxinfer: error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    if let Some(args) = label_args {
        // Pure computation: no async runtime needed.
        return match commands::label(args, std::env::args().collect(), cli.progress) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("mxinfer: error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mxinfer: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Resolve(args) => {
                commands::resolve(args, std::env::args().collect(), cli.progress).await
            }
            Command::Label(_)
            | Command::Report(_)
            | Command::Eval(_)
            | Command::Ingest(_)
            | Command::Diff(_)
            | Command::Export(_) => {
                unreachable!("handled above")
            }
            Command::Probe(args) => {
                let loopback_only =
                    std::env::var_os("MXINFER_LOOPBACK_ONLY").is_some_and(|v| v == "1");
                commands::probe(
                    args,
                    std::env::args().collect(),
                    cli.progress,
                    loopback_only,
                )
                .await
            }
            Command::Run(args) => {
                let loopback_only =
                    std::env::var_os("MXINFER_LOOPBACK_ONLY").is_some_and(|v| v == "1");
                let o = mxinfer::run::run(
                    args,
                    std::env::args().collect(),
                    cli.progress,
                    loopback_only,
                )
                .await?;
                if o.code == 4 {
                    eprintln!(
                        "mxinfer run: interrupted; the outputs so far are kept: continue with the same command and --resume"
                    );
                } else {
                    print!("{}", o.text);
                }
                Ok(o.code)
            }
            Command::Demo(args) => {
                let o = mxinfer::demo::run(&args, cli.progress).await?;
                print!("{}", o.text);
                if o.kept {
                    println!(
                        "\nFiles (world, stage outputs, report.md/json/html, eval.md/json): {}",
                        o.dir.display()
                    );
                }
                Ok(0)
            }
            Command::Sim(args) => match args.command {
                SimCommand::Farm(f) => sim_farm(f).await,
                SimCommand::World(w) => {
                    let s = mxinfer::sim::world::write_world(&w.out, w.domains, w.seed)?;
                    eprintln!(
                        "world: {} domains, {} personas in {}",
                        s.domains,
                        s.personas,
                        w.out.display()
                    );
                    Ok(0)
                }
                SimCommand::Serve(a) => {
                    let (_dns, _farm, msg) = mxinfer::sim::world::serve(&a)?;
                    eprintln!("{msg}");
                    tokio::signal::ctrl_c().await?;
                    Ok(0)
                }
            },
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mxinfer: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `mxinfer sim farm`: serves until ctrl-c.
async fn sim_farm(args: mxinfer::cli::FarmArgs) -> anyhow::Result<u8> {
    let (farm, msg) = mxinfer::sim::farm::start_cli(args).await?;
    eprintln!("{msg}");
    tokio::signal::ctrl_c().await?;
    drop(farm);
    Ok(0)
}
