//! `mxinfer demo`: a generated world served in-process on loopback (the DNS of
//! `mxinfer_sim::dns` on a free 127.0.0.1 port, the farm on the world's 127.x addresses),
//! then `mxinfer run` against it (its arguments parsed as the command line's are), which
//! ends with the share report and the accuracy against the world's truth.
//!
//! Nothing leaves 127.0.0.0/8: the resolver asks only the world's DNS, the prober runs
//! loopback-only with `--allow-private 127.0.0.0/8`.

use crate::cli::{Cli, Command, DemoArgs};
use crate::exit::Exit;
use crate::progress::ProgressMode;
use anyhow::{Context, bail};
use clap::Parser;
use mxinfer_core::jsonl::read as read_records;
use mxinfer_record::Truth;
use mxinfer_sim::world::ServeSettings;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a demo run produced.
pub struct DemoOutcome {
    /// The text printed on stdout: the share table and the accuracy.
    pub text: String,
    /// Where the files are (removed already unless kept).
    pub dir: PathBuf,
    pub kept: bool,
}

fn s(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{}: not UTF-8", p.display()))
}

/// `mxinfer demo`: runs it and prints the tables.
pub async fn demo(args: &DemoArgs, mode: ProgressMode) -> anyhow::Result<Exit> {
    let o = run(args, mode).await?;
    print!("{}", o.text);
    if o.kept {
        println!(
            "\nFiles (world, stage outputs, report.md/json/html, eval.md/json): {}",
            o.dir.display()
        );
    }
    Ok(Exit::Complete)
}

/// Runs the demo; see the module documentation.
pub async fn run(args: &DemoArgs, mode: ProgressMode) -> anyhow::Result<DemoOutcome> {
    let (dir, keep) = match &args.out {
        Some(d) => (d.clone(), true),
        None => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            (
                std::env::temp_dir().join(format!("mxinfer-demo-{}-{stamp}", std::process::id())),
                args.keep,
            )
        }
    };
    let result = run_in(args, mode, &dir).await;
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let text = result?;
    Ok(DemoOutcome {
        text,
        dir,
        kept: keep,
    })
}

async fn run_in(args: &DemoArgs, mode: ProgressMode, dir: &Path) -> anyhow::Result<String> {
    let t0 = Instant::now();
    let world = mxinfer_sim::world::write_world(dir, args.domains, args.seed)?;
    let mut list = String::with_capacity(args.domains as usize * 16);
    read_records::<Truth>(&dir.join("truth.jsonl"), |t| {
        list.push_str(&t.domain);
        list.push('\n');
    })?;
    let domains = dir.join("domains.txt");
    std::fs::write(&domains, list).with_context(|| format!("writing {}", domains.display()))?;
    let t_world = t0.elapsed().as_secs_f64();

    let (dns, farm, served) = mxinfer_sim::world::serve(&ServeSettings {
        dir: dir.to_path_buf(),
        dns: "127.0.0.1:0".parse()?,
        no_farm: false,
        // A free port, so the demo runs beside another served world.
        port: 0,
        command_log: None,
        no_dns: false,
        shard: None,
        ipv6: false,
        threads: 2,
        keep_log: false,
    })?;
    let ns = dns
        .as_ref()
        .context("demo: the world's DNS did not start")?
        .addr
        .to_string();
    let port = farm.as_ref().map_or(world.port, |f| f.port).to_string();
    let (ca, pfx2as, psl, truth) = (
        dir.join("ca.pem"),
        dir.join("pfx2as.txt"),
        dir.join("psl.dat"),
        dir.join("truth.jsonl"),
    );
    let argv = [
        "mxinfer",
        "run",
        s(&domains)?,
        "--out",
        s(dir)?,
        "--nameserver",
        &ns,
        "--timeout",
        "2",
        "--port",
        &port,
        "--roots",
        s(&ca)?,
        "--allow-private",
        "127.0.0.0/8",
        // Loopback answers in milliseconds; the world's silent servers (dead primaries,
        // nolisting) would otherwise hold the run for the default step timeout.
        "--step-timeout",
        "2",
        "--pfx2as",
        s(&pfx2as)?,
        "--psl",
        s(&psl)?,
        "--truth",
        s(&truth)?,
    ];
    let Command::Run(r) = Cli::try_parse_from(argv)
        .with_context(|| format!("demo: arguments {argv:?}"))?
        .command
    else {
        unreachable!("parsed as run")
    };
    let o =
        super::run::run_quiet(r, argv.iter().map(|s| s.to_string()).collect(), mode, true).await?;
    drop(farm);
    drop(dns);
    let exit = super::run::exit_of(&o);
    if exit != Exit::Complete {
        bail!("demo: the run ended with exit code {}", exit.code());
    }
    let st = &o.summary.stages;
    let secs = |k: &str| st.get(k).map_or(0.0, |s| s.duration_s);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "mxinfer demo: a world of {} domains (seed {}); {}",
        world.domains, world.seed, served
    );
    let _ = writeln!(
        text,
        "times: world {t_world:.2} s, resolve and probe (streaming) {:.2} s, label {:.2} s, total {:.2} s\n",
        secs("probe").max(secs("resolve")),
        secs("label"),
        t0.elapsed().as_secs_f64()
    );
    text.push_str(&o.text);
    Ok(text)
}
