//! The shards of a label run's inputs: a sharded scan is labelled from every shard's output
//! at once (the batch counts need them all), so a missing shard or shards of two different
//! scans must not pass unnoticed.

use mxinfer_record::{Shard, ShardSet, ShardsSeen};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which stage's output a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Dns,
    Probes,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Dns => "resolve",
            Stage::Probes => "probe",
        }
    }
}

/// Inputs whose shards do not make one whole scan.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// Two different N in one stage's output.
    #[error(
        "the {stage} output mixes shards of different scans: {} is shard {a} and {} is shard {b}",
        a_file.display(),
        b_file.display()
    )]
    MixedCounts {
        stage: &'static str,
        a: Shard,
        a_file: PathBuf,
        b: Shard,
        b_file: PathBuf,
    },
    /// Sharded and unsharded resolve output together (domains could be counted twice).
    #[error(
        "the resolve output mixes a sharded scan ({} is shard {shard}) with an unsharded one ({})",
        sharded_file.display(),
        unsharded_file.display()
    )]
    MixedSharding {
        shard: Shard,
        sharded_file: PathBuf,
        unsharded_file: PathBuf,
    },
    /// Shards of 0..N without any output.
    #[error(
        "the {stage} output of shard{} {} of {count} is missing: give every shard's files (or --allow-missing-shards to label what is there)",
        if missing.len() > 1 { "s" } else { "" },
        missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    )]
    Missing {
        stage: &'static str,
        count: u32,
        missing: Vec<u32>,
    },
}

#[derive(Default)]
struct StageTally {
    /// N -> (the first file with it, an example shard, the indexes seen).
    by_count: BTreeMap<u32, (PathBuf, Shard, BTreeSet<u32>)>,
    /// The first file with an unsharded record.
    unsharded: Option<PathBuf>,
    /// The last shard noted (most records repeat it: no map lookup for them).
    last: Option<Option<Shard>>,
}

/// The shards seen in a label run's records and the metadata beside its files.
#[derive(Default)]
pub struct ShardTally {
    dns: StageTally,
    probes: StageTally,
}

impl ShardTally {
    /// Notes the shard of one record (or of a file's metadata) of `stage`, read from `file`.
    pub fn note(&mut self, stage: Stage, shard: Option<Shard>, file: &Path) {
        let t = match stage {
            Stage::Dns => &mut self.dns,
            Stage::Probes => &mut self.probes,
        };
        if t.last == Some(shard) {
            return;
        }
        t.last = Some(shard);
        match shard {
            None => {
                t.unsharded.get_or_insert_with(|| file.to_path_buf());
            }
            Some(s) => {
                t.by_count
                    .entry(s.count)
                    .or_insert_with(|| (file.to_path_buf(), s, BTreeSet::new()))
                    .2
                    .insert(s.index);
            }
        }
    }

    /// The shards found, checked: one N per stage, no sharded resolve output beside an
    /// unsharded one, and (unless `allow_missing`) every shard of 0..N present.
    pub fn finish(self, allow_missing: bool) -> Result<Option<ShardsSeen>, ShardError> {
        let dns = check(Stage::Dns, self.dns, allow_missing)?;
        let probes = check(Stage::Probes, self.probes, allow_missing)?;
        Ok((dns.is_some() || probes.is_some()).then_some(ShardsSeen { dns, probes }))
    }
}

fn check(stage: Stage, t: StageTally, allow_missing: bool) -> Result<Option<ShardSet>, ShardError> {
    let mut counts = t.by_count.into_iter();
    let Some((count, (file, shard, seen))) = counts.next() else {
        return Ok(None);
    };
    if let Some((_, (b_file, b, _))) = counts.next() {
        return Err(ShardError::MixedCounts {
            stage: stage.name(),
            a: shard,
            a_file: file,
            b,
            b_file,
        });
    }
    if stage == Stage::Dns
        && let Some(unsharded_file) = t.unsharded
    {
        // Probe records of other sources (an ingested scan) may sit beside sharded ones;
        // resolve records may not: the same domain could then be counted twice.
        return Err(ShardError::MixedSharding {
            shard,
            sharded_file: file,
            unsharded_file,
        });
    }
    let missing: Vec<u32> = (0..count).filter(|i| !seen.contains(i)).collect();
    if !missing.is_empty() && !allow_missing {
        return Err(ShardError::Missing {
            stage: stage.name(),
            count,
            missing,
        });
    }
    Ok(Some(ShardSet {
        count,
        seen: seen.into_iter().collect(),
        missing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(i: u32, n: u32) -> Option<Shard> {
        Some(Shard::new(i, n).unwrap())
    }

    #[test]
    fn a_whole_scan_passes_and_is_described() {
        let mut t = ShardTally::default();
        for i in [2, 0, 1, 1] {
            t.note(Stage::Dns, s(i, 3), Path::new("d"));
        }
        t.note(Stage::Probes, s(1, 2), Path::new("p"));
        t.note(Stage::Probes, None, Path::new("zgrab2.jsonl"));
        t.note(Stage::Probes, s(0, 2), Path::new("p"));
        let seen = t.finish(false).unwrap().unwrap();
        assert_eq!(seen.dns.unwrap().seen, vec![0, 1, 2]);
        assert_eq!(seen.probes.unwrap().count, 2);
    }

    #[test]
    fn unsharded_inputs_say_nothing() {
        let mut t = ShardTally::default();
        t.note(Stage::Dns, None, Path::new("d"));
        t.note(Stage::Probes, None, Path::new("p"));
        assert!(t.finish(false).unwrap().is_none());
    }

    #[test]
    fn a_missing_shard_is_an_error_unless_allowed() {
        let tally = || {
            let mut t = ShardTally::default();
            t.note(Stage::Dns, s(0, 3), Path::new("d0"));
            t.note(Stage::Dns, s(2, 3), Path::new("d2"));
            t
        };
        let e = tally().finish(false).unwrap_err().to_string();
        assert!(
            e.contains("resolve output of shard 1 of 3 is missing"),
            "{e}"
        );
        let seen = tally().finish(true).unwrap().unwrap();
        assert_eq!(seen.dns.unwrap().missing, vec![1]);
    }

    #[test]
    fn different_counts_or_sharded_beside_unsharded_are_errors() {
        let mut t = ShardTally::default();
        t.note(Stage::Probes, s(0, 3), Path::new("a.jsonl"));
        t.note(Stage::Probes, s(1, 4), Path::new("b.jsonl"));
        let e = t.finish(true).unwrap_err().to_string();
        assert!(
            e.contains("a.jsonl is shard 0/3") && e.contains("b.jsonl is shard 1/4"),
            "{e}"
        );
        let mut t = ShardTally::default();
        t.note(Stage::Dns, s(0, 1), Path::new("a.jsonl"));
        t.note(Stage::Dns, None, Path::new("b.jsonl"));
        let e = t.finish(true).unwrap_err().to_string();
        assert!(e.contains("unsharded one (b.jsonl)"), "{e}");
    }
}
