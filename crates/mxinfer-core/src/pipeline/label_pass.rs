//! The second pass of `label`: the resolve records read again and labelled one by one, on
//! every core, written in input order.
//!
//! One thread reads the files and cuts them into chunks of lines; `workers` threads label
//! whole chunks (the labeller is shared read-only after `finish`) and serialise them; the
//! calling thread writes the chunks in their order. The queues are bounded, so memory stays
//! at a few chunks per thread whatever the number of domains.

use crate::jsonl;
use crate::progress::Reporter;
use crate::{Error, Result};
use mxinfer_label::Labeller;
use mxinfer_record::{DomainDnsView, InputCounts, LabelStatus};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Lines per chunk: large enough that handing chunks between threads costs nothing next to
/// labelling them, small enough that a few per thread are little memory.
const CHUNK_LINES: usize = 4096;

/// Lines of one chunk, back to back, with where each ends; or (from a Parquet table) the
/// records already read. A chunk holds records of one kind only.
struct Chunk {
    seq: u64,
    text: Vec<u8>,
    ends: Vec<usize>,
    views: Vec<DomainDnsView<'static>>,
}

impl Chunk {
    fn is_empty(&self) -> bool {
        self.ends.is_empty() && self.views.is_empty()
    }
}

/// A chunk labelled: its records serialised, and how many of each status.
struct Done {
    seq: u64,
    out: Vec<u8>,
    counts: BTreeMap<LabelStatus, u64>,
    records: u64,
}

/// Labels every record of `files` with `lab` and writes the labels to `out` in input order;
/// returns the count per status. Lines that are not records were counted and reported by
/// the first pass and are skipped here.
pub(super) fn label_files(
    lab: &Labeller,
    files: &[PathBuf],
    out: &mut dyn Write,
    workers: usize,
    progress: &dyn Reporter,
) -> Result<BTreeMap<LabelStatus, u64>> {
    let workers = workers.max(1);
    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(workers * 2);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (done_tx, done_rx) = sync_channel::<std::result::Result<Done, Error>>(workers * 2);
    std::thread::scope(|s| {
        let reader = s.spawn(move || read_chunks(files, chunk_tx));
        for _ in 0..workers {
            let (rx, tx) = (chunk_rx.clone(), done_tx.clone());
            s.spawn(move || label_chunks(lab, &rx, &tx));
        }
        // Only the workers hold the queues now: when they stop, the reader's sends fail and
        // the writer's loop ends.
        drop(chunk_rx);
        drop(done_tx);
        let written = write_in_order(done_rx, out, progress);
        // The reader ends when its queue is closed (the workers stop at an error).
        let read = reader.join().unwrap_or(Err(Error::ReaderPanicked));
        let counts = written?;
        read?;
        Ok(counts)
    })
}

/// Reads the files into chunks of lines (or of records, from Parquet).
fn read_chunks(files: &[PathBuf], tx: SyncSender<Chunk>) -> Result<()> {
    let mut seq = 0;
    let mut chunk = new_chunk(seq);
    let mut stopped = false;
    for f in files {
        if jsonl::is_parquet(f) {
            // A chunk of one kind: the lines read so far go first.
            if !chunk.is_empty() && !stopped {
                seq += 1;
                let full = std::mem::replace(&mut chunk, new_chunk(seq));
                stopped = tx.send(full).is_err();
            }
            super::parquet_rows::dns_views(f, |d| {
                if stopped {
                    return;
                }
                chunk.views.push(d);
                if chunk.views.len() == CHUNK_LINES {
                    seq += 1;
                    let full = std::mem::replace(&mut chunk, new_chunk(seq));
                    stopped = tx.send(full).is_err();
                }
            })?;
            if !chunk.is_empty() && !stopped {
                seq += 1;
                let full = std::mem::replace(&mut chunk, new_chunk(seq));
                stopped = tx.send(full).is_err();
            }
            continue;
        }
        let mut counts = InputCounts::default();
        jsonl::for_each_line(f, &mut counts, |_, line| {
            if stopped {
                return;
            }
            chunk.text.extend_from_slice(line);
            chunk.ends.push(chunk.text.len());
            if chunk.ends.len() == CHUNK_LINES {
                seq += 1;
                let full = std::mem::replace(&mut chunk, new_chunk(seq));
                stopped = tx.send(full).is_err();
            }
        })?;
    }
    if !chunk.is_empty() && !stopped {
        let _ = tx.send(chunk);
    }
    Ok(())
}

fn new_chunk(seq: u64) -> Chunk {
    Chunk {
        seq,
        text: Vec::with_capacity(CHUNK_LINES * 512),
        ends: Vec::with_capacity(CHUNK_LINES),
        views: Vec::new(),
    }
}

/// Labels chunks until the queue is empty and closed (or the writer is gone).
fn label_chunks(
    lab: &Labeller,
    rx: &Mutex<Receiver<Chunk>>,
    tx: &SyncSender<std::result::Result<Done, Error>>,
) {
    loop {
        let chunk = match rx.lock() {
            Ok(r) => match r.recv() {
                Ok(c) => c,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let done = label_chunk(lab, chunk);
        let failed = done.is_err();
        if tx.send(done).is_err() || failed {
            return;
        }
    }
}

fn label_chunk(lab: &Labeller, c: Chunk) -> std::result::Result<Done, Error> {
    let mut out = Vec::with_capacity(c.text.len() * 3);
    let mut counts = BTreeMap::new();
    let mut records = 0;
    let mut start = 0;
    let mut one = |d: DomainDnsView<'_>| -> std::result::Result<(), Error> {
        let rec = lab.label_view(d)?;
        mxinfer_label::json::write_label(&mut out, &rec);
        out.push(b'\n');
        *counts.entry(rec.status).or_default() += 1;
        records += 1;
        Ok(())
    };
    for &end in &c.ends {
        let line = &c.text[start..end];
        start = end;
        // Not a record: reported and counted by the first pass.
        let Ok(d) = serde_json::from_slice::<DomainDnsView<'_>>(line) else {
            continue;
        };
        one(d)?;
    }
    for d in c.views {
        one(d)?;
    }
    Ok(Done {
        seq: c.seq,
        out,
        counts,
        records,
    })
}

/// Writes the labelled chunks in their order; returns the count per status.
fn write_in_order(
    rx: Receiver<std::result::Result<Done, Error>>,
    out: &mut dyn Write,
    progress: &dyn Reporter,
) -> Result<BTreeMap<LabelStatus, u64>> {
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 0;
    let mut counts: BTreeMap<LabelStatus, u64> = BTreeMap::new();
    let mut written = 0u64;
    for done in rx {
        let done = done?;
        pending.insert(done.seq, done);
        while let Some(d) = pending.remove(&next) {
            out.write_all(&d.out).map_err(Error::Output)?;
            for (k, v) in d.counts {
                *counts.entry(k).or_default() += v;
            }
            written += d.records;
            progress.tick(written, &|| "domains labelled".to_string());
            next += 1;
        }
    }
    out.flush().map_err(Error::Output)?;
    Ok(counts)
}
