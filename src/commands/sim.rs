//! `mxinfer sim`: the simulated Internet (farm, world, serve) until ctrl-c.

use crate::cli::{FarmArgs, ServeArgs, SimArgs, SimCommand};
use crate::exit::Exit;
use mxinfer_sim::farm::FarmSettings;
use mxinfer_sim::world::ServeSettings;

pub async fn sim(args: SimArgs) -> anyhow::Result<Exit> {
    match args.command {
        SimCommand::Farm(f) => {
            let (farm, msg) = mxinfer_sim::farm::start_cli(farm_settings(f)).await?;
            eprintln!("{msg}");
            tokio::signal::ctrl_c().await?;
            drop(farm);
        }
        SimCommand::World(w) => {
            let s = mxinfer_sim::world::write_world(&w.out, w.domains, w.seed)?;
            eprintln!(
                "world: {} domains, {} personas in {}",
                s.domains,
                s.personas,
                w.out.display()
            );
        }
        SimCommand::Serve(a) => {
            let (_dns, _farm, msg) = mxinfer_sim::world::serve(&serve_settings(a))?;
            eprintln!("{msg}");
            tokio::signal::ctrl_c().await?;
        }
    }
    Ok(Exit::Complete)
}

fn farm_settings(a: FarmArgs) -> FarmSettings {
    FarmSettings {
        first: a.first,
        count: a.count,
        port: a.port,
        personas: a.personas,
        latency_ms: a.latency_ms,
        tarpit_share: a.tarpit_share,
        ca_out: a.ca_out,
        targets_out: a.targets_out,
        command_log: a.command_log,
        threads: a.threads,
    }
}

pub fn serve_settings(a: ServeArgs) -> ServeSettings {
    ServeSettings {
        dir: a.dir,
        dns: a.dns,
        no_farm: a.no_farm,
        port: a.port,
        command_log: a.command_log,
        ipv6: a.ipv6,
        no_dns: a.no_dns,
        shard: a.shard.map(|s| (s.index as usize, s.count as usize)),
        threads: a.threads,
        keep_log: false,
    }
}
