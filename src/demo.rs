//! `mxinfer demo`: a generated world served in-process on loopback (the DNS of
//! [`crate::sim::dns`] on a free 127.0.0.1 port, the farm on the world's 127.x addresses),
//! the three stages run against it by the same code as their subcommands
//! ([`crate::commands`]), then the share report and the accuracy against the world's truth.
//!
//! Nothing leaves 127.0.0.0/8: the resolver asks only the world's DNS, the prober runs
//! loopback-only with `--allow-private 127.0.0.0/8`.

use crate::cli::{Cli, Command, DemoArgs, ServeArgs};
use crate::progress::ProgressMode;
use crate::record::{DomainLabel, Truth};
use crate::report::eval::{Evaluation, Evaluator};
use crate::report::files::{read_records, write_report_dir};
use crate::report::{Report, ReportOptions, ShareTally, render};
use anyhow::{Context, bail};
use clap::Parser;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a demo run produced.
pub struct DemoOutcome {
    /// The text printed on stdout: the share table and the accuracy.
    pub text: String,
    pub report: Report,
    pub evaluation: Evaluation,
    /// Where the files are (removed already unless kept).
    pub dir: PathBuf,
    pub kept: bool,
}

/// A stage's arguments parsed by the command line's own definitions (so defaults and checks
/// are the subcommand's), with the command line for its metadata.
fn parse(argv: &[&str]) -> anyhow::Result<(Command, Vec<String>)> {
    let cmd = Cli::try_parse_from(argv)
        .with_context(|| format!("demo: arguments {argv:?}"))?
        .command;
    Ok((cmd, argv.iter().map(|s| s.to_string()).collect()))
}

fn stage_ok(name: &str, code: u8) -> anyhow::Result<()> {
    match code {
        0 => Ok(()),
        c => bail!("demo: {name} ended with exit code {c}"),
    }
}

fn s(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{}: not UTF-8", p.display()))
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
    let (text, report, evaluation) = result?;
    Ok(DemoOutcome {
        text,
        report,
        evaluation,
        dir,
        kept: keep,
    })
}

async fn run_in(
    args: &DemoArgs,
    mode: ProgressMode,
    dir: &Path,
) -> anyhow::Result<(String, Report, Evaluation)> {
    let t0 = Instant::now();
    let world = crate::sim::world::write_world(dir, args.domains, args.seed)?;
    let mut truth: Vec<Truth> = Vec::new();
    read_records::<Truth>(&dir.join("truth.jsonl"), |t| truth.push(t))?;
    let domains = dir.join("domains.txt");
    let mut list = String::with_capacity(truth.len() * 16);
    for t in &truth {
        list.push_str(&t.domain);
        list.push('\n');
    }
    std::fs::write(&domains, list).with_context(|| format!("writing {}", domains.display()))?;
    let t_world = t0.elapsed().as_secs_f64();

    let (dns, farm, served) = crate::sim::world::serve(&ServeArgs {
        dir: dir.to_path_buf(),
        dns: "127.0.0.1:0".parse()?,
        no_farm: false,
        // A free port, so the demo runs beside another served world.
        port: 0,
        threads: 2,
    })?;
    let ns = dns.addr.to_string();
    let (dns_out, probes, labels, claims) = (
        dir.join("dns.jsonl"),
        dir.join("probes.jsonl"),
        dir.join("labels.jsonl"),
        dir.join("claims.jsonl"),
    );
    let port = farm.as_ref().map_or(world.port, |f| f.port).to_string();
    let roots = dir.join("ca.pem");
    let (pfx2as, psl) = (dir.join("pfx2as.txt"), dir.join("psl.dat"));

    let t = Instant::now();
    let (Command::Resolve(r), argv) = parse(&[
        "mxinfer",
        "resolve",
        s(&domains)?,
        "--nameserver",
        &ns,
        "--timeout",
        "2",
        "--out",
        s(&dns_out)?,
    ])?
    else {
        unreachable!("parsed as resolve")
    };
    stage_ok("resolve", crate::commands::resolve(r, argv, mode).await?)?;
    let t_resolve = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (Command::Probe(p), argv) = parse(&[
        "mxinfer",
        "probe",
        s(&dns_out)?,
        "--port",
        &port,
        "--roots",
        s(&roots)?,
        "--allow-private",
        "127.0.0.0/8",
        // Loopback answers in milliseconds; the world's silent servers (dead primaries,
        // nolisting) would otherwise hold the run for the default step timeout.
        "--step-timeout",
        "2",
        "--out",
        s(&probes)?,
    ])?
    else {
        unreachable!("parsed as probe")
    };
    stage_ok("probe", crate::commands::probe(p, argv, mode, true).await?)?;
    let t_probe = t.elapsed().as_secs_f64();
    drop(farm);
    drop(dns);

    let t = Instant::now();
    let (Command::Label(l), argv) = parse(&[
        "mxinfer",
        "label",
        "--dns",
        s(&dns_out)?,
        "--probes",
        s(&probes)?,
        "--pfx2as",
        s(&pfx2as)?,
        "--psl",
        s(&psl)?,
        "--claims",
        s(&claims)?,
        "--out",
        s(&labels)?,
    ])?
    else {
        unreachable!("parsed as label")
    };
    stage_ok("label", crate::commands::label(l, argv, mode)?)?;
    let t_label = t.elapsed().as_secs_f64();

    let mut tally = ShareTally::new(ReportOptions::default());
    let groups = crate::report::files::label_groups(&meta_path(&labels))?;
    let mut ev = Evaluator::new(truth, 20).with_groups(&groups);
    let bad = read_records::<DomainLabel>(&labels, |l| {
        tally.add(&l);
        ev.add(&l);
    })?;
    if bad > 0 {
        bail!(
            "demo: {bad} lines of {} are not label records",
            labels.display()
        );
    }
    let report = tally.finish();
    let evaluation = ev.finish();
    write_report_dir(dir, &report)?;
    std::fs::write(dir.join("eval.md"), render::eval_markdown(&evaluation))?;
    std::fs::write(dir.join("eval.json"), render::eval_json(&evaluation))?;

    let mut text = String::new();
    let _ = writeln!(
        text,
        "mxinfer demo: a world of {} domains (seed {}); {}",
        world.domains, world.seed, served
    );
    let _ = writeln!(
        text,
        "times: world {t_world:.2} s, resolve {t_resolve:.2} s, probe {t_probe:.2} s, label {t_label:.2} s, total {:.2} s\n",
        t0.elapsed().as_secs_f64()
    );
    text.push_str(&render::report_text(&report));
    text.push('\n');
    text.push_str(&accuracy_text(&evaluation));
    Ok((text, report, evaluation))
}

fn meta_path(p: &std::path::Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.meta.json", p.display()))
}

/// The accuracy of the four approaches, overall and per hard-case class, as a text table:
/// a header line `accuracy  domains  mx-only  certificate  banner  priority`, then one line
/// per row with percentages.
pub fn accuracy_text(e: &Evaluation) -> String {
    let cells = crate::report::render::accuracy_cells(e, "accuracy", 1);
    let mut s = format!(
        "Accuracy against the ground truth ({} of {} label records compared; correct = the weighted provider IDs equal the truth's, weights within 0.01):\n\n",
        e.compared, e.labels
    );
    s.push_str(&crate::report::render::text_table(&cells));
    s
}
