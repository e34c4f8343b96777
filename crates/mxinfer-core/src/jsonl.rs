//! The one JSON Lines reader and writer of the engine: every stage file, dataset and run
//! directory goes through it.
//!
//! Reading: gzip and zstd are recognised by their magic bytes whatever the file's name
//! (zstd with the `zstd` feature, on by default); a byte-order
//! mark at the start of the file is skipped; blank lines are skipped and counted; a line that
//! is not a record is handed back with its line number (the callers report it as
//! `FILE:LINE: reason`, count it, and go on). Writing: one record per line, buffered, and
//! compressed when the file's name ends in `.gz` or `.zst` ([`Output`]); an appending writer
//! and the repair of a last line cut short by a kill (for `run --resume`).

use mxinfer_record::InputCounts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Reading or writing a JSON Lines file failed (not a bad line: those are data).
#[derive(Debug, thiserror::Error)]
pub enum JsonlError {
    #[error("opening {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("creating {}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A zstd file in a build without the `zstd` feature.
    #[error("{}: zstd needs the `zstd` feature (cargo build --features zstd)", path.display())]
    NoZstd { path: PathBuf },
    /// A Parquet file where JSON Lines are read.
    #[error("{}: a Parquet file: {}", path.display(), if cfg!(feature = "parquet") { "only `label` reads Parquet (the dns and probes tables of `mxinfer export`); this reads JSON Lines" } else { "reading Parquet needs the `parquet` feature (cargo build --release --features parquet)" })]
    Parquet { path: PathBuf },
    /// A directory given as input that holds no file.
    #[error("{}: no input file in the directory", path.display())]
    EmptyDir { path: PathBuf },
}

/// The files of several inputs: a file as it is, a directory as its files (not its
/// subdirectories, not names starting with `.`, not the run metadata `*.meta.json` written
/// beside each output) sorted by name, in the order given.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, JsonlError> {
    let mut out = Vec::new();
    for p in inputs {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let read_err = |source| JsonlError::Read {
            path: p.clone(),
            source,
        };
        let mut files = Vec::new();
        for e in std::fs::read_dir(p).map_err(read_err)? {
            let e = e.map_err(read_err)?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            let skipped = name.starts_with('.') || name.ends_with(META_SUFFIX);
            if !skipped && e.file_type().map_err(read_err)?.is_file() {
                files.push(e.path());
            }
        }
        if files.is_empty() {
            return Err(JsonlError::EmptyDir { path: p.clone() });
        }
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

/// The name ending of the run metadata written beside an output (`dns.jsonl.meta.json`).
pub const META_SUFFIX: &str = ".meta.json";

/// The run metadata beside `output`, if there is one and it reads as run metadata.
pub fn meta_beside(output: &Path) -> Option<mxinfer_record::RunMeta> {
    let mut p = output.as_os_str().to_owned();
    p.push(META_SUFFIX);
    let text = std::fs::read(PathBuf::from(p)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The inputs as recorded in run metadata: their paths joined with `,`.
pub fn shown(inputs: &[PathBuf]) -> String {
    inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Buffer size of readers and writers (large files, few system calls).
const BUFFER: usize = 1 << 20;

/// Opens `path` for reading, decompressing gzip (detected by its magic bytes, whatever the
/// name), as scanners' and CAIDA's files usually come compressed.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, JsonlError> {
    let file = std::fs::File::open(path).map_err(|source| JsonlError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut r = BufReader::with_capacity(BUFFER, file);
    let head = r.fill_buf().map_err(|source| JsonlError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(BufReader::with_capacity(
            BUFFER,
            flate2::bufread::MultiGzDecoder::new(r),
        )));
    }
    if head.starts_with(PARQUET_MAGIC) {
        return Err(JsonlError::Parquet {
            path: path.to_path_buf(),
        });
    }
    if head.starts_with(&ZSTD_MAGIC) {
        #[cfg(feature = "zstd")]
        {
            let d =
                zstd::stream::read::Decoder::with_buffer(r).map_err(|source| JsonlError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
            return Ok(Box::new(BufReader::with_capacity(BUFFER, d)));
        }
        #[cfg(not(feature = "zstd"))]
        return Err(JsonlError::NoZstd {
            path: path.to_path_buf(),
        });
    }
    Ok(Box::new(r))
}

/// The first bytes of a Parquet file.
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// Whether `path` starts like a Parquet file.
pub fn is_parquet(path: &Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == PARQUET_MAGIC)
}

/// The first bytes of a zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Where a stage writes: standard output or a file, compressed when the file's name ends in
/// `.gz` (gzip, level 1: fast) or `.zst` (zstd, level 3). Call [`Output::finish`] at the
/// end: it ends the compressed stream and reports what dropping would hide.
pub struct Output {
    sink: Sink,
    path: PathBuf,
}

enum Sink {
    Plain(std::io::BufWriter<Box<dyn Write + Send>>),
    Gzip(flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>),
    #[cfg(feature = "zstd")]
    Zstd(zstd::stream::write::Encoder<'static, std::io::BufWriter<std::fs::File>>),
}

impl Output {
    /// Flushes and ends the output (the compressed stream's trailer).
    pub fn finish(self) -> Result<(), JsonlError> {
        let write_err = |source| JsonlError::Write {
            path: self.path.clone(),
            source,
        };
        match self.sink {
            Sink::Plain(mut w) => w.flush().map_err(write_err),
            Sink::Gzip(w) => w.finish().and_then(|mut f| f.flush()).map_err(write_err),
            #[cfg(feature = "zstd")]
            Sink::Zstd(w) => w.finish().and_then(|mut f| f.flush()).map_err(write_err),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.sink {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
            #[cfg(feature = "zstd")]
            Sink::Zstd(w) => w.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Gzip(w) => w.write_all(buf),
            #[cfg(feature = "zstd")]
            Sink::Zstd(w) => w.write_all(buf),
        }
    }
    /// Flushes what is buffered; a compressed stream stays open until [`Output::finish`].
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            #[cfg(feature = "zstd")]
            Sink::Zstd(w) => w.flush(),
        }
    }
}

/// Calls `f(line number, bytes)` for every line of `path` that is not blank (the line
/// number is the file's own, from 1, blank lines included; a byte-order mark at the start
/// of the file is dropped, the line end is kept). `counts.lines` and `counts.blank` are updated here;
/// `f` decides what else to count.
pub fn for_each_line(
    path: &Path,
    counts: &mut InputCounts,
    mut f: impl FnMut(u64, &[u8]),
) -> Result<(), JsonlError> {
    let mut r = open(path)?;
    let mut line = Vec::new();
    // This file's line number (`counts` may add up several files).
    let mut no = 0u64;
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|source| JsonlError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            return Ok(());
        }
        counts.lines += 1;
        no += 1;
        let body = if no == 1 {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line)
        } else {
            &line
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            counts.blank += 1;
            continue;
        }
        f(no, body);
    }
}

/// Reads `path` line by line, parsing each non-blank line with `parse`; a line it cannot
/// parse is reported through `tracing` as `FILE:LINE: not a record: ERROR` and counted in
/// `counts.rejected`, the others in `counts.accepted`.
pub fn parse_lines(
    path: &Path,
    counts: &mut InputCounts,
    mut parse: impl FnMut(&[u8]) -> Result<(), serde_json::Error>,
) -> Result<(), JsonlError> {
    let (mut accepted, mut rejected) = (0, 0);
    for_each_line(path, counts, |n, line| match parse(line) {
        Ok(()) => accepted += 1,
        Err(e) => {
            rejected += 1;
            tracing::warn!("{}:{n}: not a record: {e}", path.display());
        }
    })?;
    counts.accepted += accepted;
    counts.rejected += rejected;
    Ok(())
}

/// Reads the `T` records of `path` (see [`parse_lines`]), with the counts of its lines.
pub fn read_counted<T: DeserializeOwned>(
    path: &Path,
    counts: &mut InputCounts,
    mut f: impl FnMut(T),
) -> Result<(), JsonlError> {
    parse_lines(path, counts, |line| {
        serde_json::from_slice::<T>(line).map(&mut f)
    })
}

/// Reads the `T` records of `path` (see [`parse_lines`]); returns the number of lines that
/// are not such a record.
pub fn read<T: DeserializeOwned>(path: &Path, f: impl FnMut(T)) -> Result<u64, JsonlError> {
    let mut counts = InputCounts::default();
    read_counted(path, &mut counts, f)?;
    Ok(counts.rejected)
}

/// Where a stage writes its JSON Lines: a file (created or truncated; compressed when its
/// name ends in `.gz` or `.zst`), or standard output for `-`.
pub fn create(path: &str) -> Result<Output, JsonlError> {
    let p = PathBuf::from(path);
    if path == "-" {
        let out: Box<dyn Write + Send> = Box::new(std::io::stdout());
        return Ok(Output {
            sink: Sink::Plain(std::io::BufWriter::with_capacity(1 << 16, out)),
            path: p,
        });
    }
    let f = std::fs::File::create(path).map_err(|source| JsonlError::Create {
        path: p.clone(),
        source,
    })?;
    let sink = if path.ends_with(".gz") {
        Sink::Gzip(flate2::write::GzEncoder::new(
            std::io::BufWriter::with_capacity(1 << 16, f),
            flate2::Compression::fast(),
        ))
    } else if path.ends_with(".zst") {
        #[cfg(feature = "zstd")]
        {
            let e =
                zstd::stream::write::Encoder::new(std::io::BufWriter::with_capacity(1 << 16, f), 3)
                    .map_err(|source| JsonlError::Create {
                        path: p.clone(),
                        source,
                    })?;
            Sink::Zstd(e)
        }
        #[cfg(not(feature = "zstd"))]
        return Err(JsonlError::NoZstd { path: p });
    } else {
        let out: Box<dyn Write + Send> = Box::new(f);
        Sink::Plain(std::io::BufWriter::with_capacity(1 << 16, out))
    };
    Ok(Output { sink, path: p })
}

/// Opens `path` for appending records (created if missing).
pub fn append(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, JsonlError> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| JsonlError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(std::io::BufWriter::with_capacity(1 << 16, f))
}

/// Writes one record as a JSON line.
pub fn write<T: Serialize>(out: &mut dyn Write, rec: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, rec)?;
    out.write_all(b"\n")
}

/// Cuts a file after its last newline: a record cut short by a kill is dropped (it is
/// redone). Returns the bytes dropped; a missing file drops nothing.
pub fn drop_cut_line(path: &Path) -> Result<u64, JsonlError> {
    let read_err = |source| JsonlError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(source) => {
            return Err(JsonlError::Open {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let len = f.metadata().map_err(read_err)?.len();
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start)).map_err(read_err)?;
        f.read_exact(&mut buf[..n]).map_err(read_err)?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            end = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    if end < len {
        f.set_len(end).map_err(|source| JsonlError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(len - end)
}

/// The number of lines (newlines) of `path`.
pub fn count_lines(path: &Path) -> Result<u64, JsonlError> {
    let read_err = |source| JsonlError::Read {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(|source| JsonlError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut r = BufReader::with_capacity(BUFFER, f);
    let mut n = 0;
    loop {
        let buf = r.fill_buf().map_err(read_err)?;
        if buf.is_empty() {
            return Ok(n);
        }
        n += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        let l = buf.len();
        r.consume(l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_gzip_with_bom_blank_and_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let text = "\u{feff}{\"a\":1}\n\n{\"a\":2}\nnot json\n{\"a\":3}";
        let plain = dir.path().join("x.jsonl");
        std::fs::write(&plain, text).unwrap();
        let gz = dir.path().join("x.jsonl.gz");
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap();
        #[derive(serde::Deserialize)]
        struct R {
            a: u32,
        }
        for p in [&plain, &gz] {
            let mut counts = InputCounts::default();
            let mut got = Vec::new();
            read_counted::<R>(p, &mut counts, |r| got.push(r.a)).unwrap();
            assert_eq!(got, [1, 2, 3], "{}", p.display());
            assert_eq!(
                (counts.lines, counts.blank, counts.accepted, counts.rejected),
                (5, 1, 3, 1)
            );
            assert_eq!(read::<R>(p, |_| {}).unwrap(), 1);
        }
    }

    #[test]
    fn line_numbers_and_the_byte_order_mark_are_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        std::fs::write(&a, "{}\n{}\n").unwrap();
        std::fs::write(&b, "\u{feff}{}\nbad\n").unwrap();
        let mut counts = InputCounts::default();
        let mut seen = Vec::new();
        for p in [&a, &b] {
            for_each_line(p, &mut counts, |n, l| seen.push((n, l.to_vec()))).unwrap();
        }
        assert_eq!(counts.lines, 4);
        assert_eq!(
            seen,
            [
                (1, b"{}\n".to_vec()),
                (2, b"{}\n".to_vec()),
                (1, b"{}\n".to_vec()),
                (2, b"bad\n".to_vec())
            ]
        );
    }

    #[test]
    fn a_cut_last_line_is_dropped_and_whole_lines_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, "{\"a\":1}\n{\"a\":2}\n{\"a\":").unwrap();
        assert_eq!(drop_cut_line(&p).unwrap(), 5);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
        assert_eq!(drop_cut_line(&p).unwrap(), 0);
        assert_eq!(count_lines(&p).unwrap(), 2);
        assert_eq!(drop_cut_line(&dir.path().join("missing")).unwrap(), 0);
        let mut w = append(&p).unwrap();
        write(&mut w, &serde_json::json!({"a": 3})).unwrap();
        drop(w);
        assert_eq!(count_lines(&p).unwrap(), 3);
    }

    #[test]
    fn outputs_named_gz_or_zst_are_compressed_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        for (name, magic) in [
            ("x.jsonl", &b"{\"a\""[..]),
            ("x.jsonl.gz", &[0x1f, 0x8b][..]),
            ("x.jsonl.zst", &ZSTD_MAGIC[..]),
        ] {
            let p = dir.path().join(name);
            let mut w = create(p.to_str().unwrap()).unwrap();
            for a in 0..1000 {
                write(&mut w, &serde_json::json!({ "a": a })).unwrap();
            }
            w.finish().unwrap();
            assert!(std::fs::read(&p).unwrap().starts_with(magic), "{name}");
            let mut got = Vec::new();
            assert_eq!(
                read::<serde_json::Value>(&p, |v| got.push(v["a"].clone())).unwrap(),
                0
            );
            assert_eq!(got.len(), 1000, "{name}");
            assert_eq!(got[999], 999);
        }
    }

    #[test]
    fn a_directory_is_its_files_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["b.jsonl", "a.jsonl", ".hidden"] {
            std::fs::write(dir.path().join(f), "{}\n").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let files = expand(&[dir.path().to_path_buf(), PathBuf::from("/x/c.jsonl")]).unwrap();
        let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                dir.path().join("a.jsonl").display().to_string(),
                dir.path().join("b.jsonl").display().to_string(),
                "/x/c.jsonl".to_string()
            ]
        );
        let empty = dir.path().join("sub");
        assert!(matches!(expand(&[empty]), Err(JsonlError::EmptyDir { .. })));
    }

    #[test]
    fn errors_name_the_file() {
        let e = read::<serde_json::Value>(Path::new("/nonexistent/x.jsonl"), |_| {}).unwrap_err();
        assert_eq!(e.to_string(), "opening /nonexistent/x.jsonl");
    }
}
