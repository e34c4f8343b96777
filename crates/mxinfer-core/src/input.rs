//! Domain lists: plain one-per-line lists and CSV (Tranco `rank,domain`, or any CSV with a
//! `domain` column in its header), from a file or standard input.
//!
//! Every line ends up in exactly one bucket of [`InputCounts`]: blank, comment, header,
//! accepted, duplicate or rejected. Rejected lines come back as [`Entry::Rejected`] with their
//! line number and reason so the caller can report them; they get no output record.
//!
//! Normalisation: surrounding space and one trailing dot removed, IDNA (UTS 46, non-transitional)
//! to ASCII, lower case. Validation: at most 253 octets, labels of 1 to 63 letters, digits, `-`
//! or `_`, no label starting or ending with `-`, at least two labels, a top-level label that is
//! not all digits. IP addresses are rejected (they are not domains).
//!
//! Lines are read with a bound ([`MAX_LINE_BYTES`]); a longer line is rejected without being
//! held in memory. Duplicates are detected on a 128-bit hash of the normalised name, which keeps
//! the memory cost at 16 bytes a domain (a collision among 10^9 names has a probability
//! below 10^-20).

use mxinfer_record::{InputCounts, InputRef};
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufRead};

/// Lines longer than this are rejected unread.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// An accepted domain and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDomain {
    pub domain: String,
    pub input: InputRef,
}

/// A line that is not a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub reason: String,
    /// The line (or its start), printable: control bytes and invalid UTF-8 escaped.
    pub text: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: \"{}\"", self.line, self.reason, self.text)
    }
}

/// What the reader yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Domain(InputDomain),
    Rejected(BadLine),
}

/// Column layout, decided on the first line that is not blank or a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    /// Not decided yet.
    Unknown,
    /// One domain per line.
    Plain,
    /// Delimited fields: which column is the domain, which the rank, names of columns.
    Columns {
        delim: char,
        domain: usize,
        rank: Option<usize>,
        names: Vec<String>,
    },
}

/// Streaming reader of a domain list.
pub struct DomainReader<R> {
    src: R,
    line: u64,
    layout: Layout,
    seen: HashSet<u128>,
    hasher: (std::hash::RandomState, std::hash::RandomState),
    counts: InputCounts,
    buf: Vec<u8>,
}

impl<R: BufRead> DomainReader<R> {
    pub fn new(src: R) -> Self {
        DomainReader {
            src,
            line: 0,
            layout: Layout::Unknown,
            seen: HashSet::new(),
            hasher: (std::hash::RandomState::new(), std::hash::RandomState::new()),
            counts: InputCounts::default(),
            buf: Vec::with_capacity(256),
        }
    }

    /// Counts so far (final once the iterator is exhausted).
    pub fn counts(&self) -> &InputCounts {
        &self.counts
    }

    /// Reads one line into `self.buf` (see [`read_line_bounded`]).
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        read_line_bounded(&mut self.src, &mut self.buf, MAX_LINE_BYTES)
    }

    fn hash(&self, name: &str) -> u128 {
        let mut a = self.hasher.0.build_hasher();
        a.write(name.as_bytes());
        let mut b = self.hasher.1.build_hasher();
        b.write(name.as_bytes());
        ((a.finish() as u128) << 64) | b.finish() as u128
    }

    fn reject(&mut self, reason: impl Into<String>, raw: &[u8]) -> Entry {
        self.counts.rejected += 1;
        Entry::Rejected(BadLine {
            line: self.line,
            reason: reason.into(),
            text: printable(raw, 120),
        })
    }

    /// Handles one content line (not blank, not a comment).
    fn content_line(&mut self, text: &str, raw: &[u8]) -> Option<Entry> {
        if self.layout == Layout::Unknown {
            self.layout = detect_layout(text);
            if let Layout::Columns { names, .. } = &self.layout
                && !names.is_empty()
            {
                self.counts.header += 1;
                return None;
            }
        }
        let mut input = InputRef {
            line: self.line,
            ..InputRef::default()
        };
        let field = match &self.layout {
            Layout::Unknown | Layout::Plain => text.trim(),
            Layout::Columns {
                delim,
                domain,
                rank,
                names,
            } => {
                let fields: Vec<&str> = text.split(*delim).map(unquote).collect();
                let Some(&d) = fields.get(*domain) else {
                    return Some(self.reject(format!("no column {}", domain + 1), raw));
                };
                if let Some(r) = rank {
                    // A row shorter than the header has no rank field (found by fuzzing).
                    let Some(&f) = fields.get(*r) else {
                        return Some(self.reject(format!("no column {} (rank)", r + 1), raw));
                    };
                    match f.parse::<u64>() {
                        Ok(v) => input.rank = Some(v),
                        Err(_) => {
                            return Some(self.reject(format!("rank {f:?} is not a number"), raw));
                        }
                    }
                }
                for (i, f) in fields.iter().enumerate() {
                    if i == *domain || Some(i) == *rank {
                        continue;
                    }
                    let key = names
                        .get(i)
                        .filter(|n| !n.is_empty())
                        .cloned()
                        .unwrap_or_else(|| format!("col{}", i + 1));
                    input.extra.insert(key, f.to_string());
                }
                d
            }
        };
        let domain = match normalize_domain(field) {
            Ok(d) => d,
            Err(reason) => return Some(self.reject(reason, raw)),
        };
        let h = self.hash(&domain);
        if !self.seen.insert(h) {
            self.counts.duplicates += 1;
            return None;
        }
        if domain != field {
            input.original = Some(field.to_string());
        }
        self.counts.accepted += 1;
        Some(Entry::Domain(InputDomain { domain, input }))
    }
}

impl<R: BufRead> Iterator for DomainReader<R> {
    type Item = io::Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let complete = match self.read_line() {
                Ok(None) => return None,
                Ok(Some(c)) => c,
                Err(e) => return Some(Err(e)),
            };
            self.line += 1;
            self.counts.lines += 1;
            let raw = std::mem::take(&mut self.buf);
            let out = self.classify(&raw, complete);
            self.buf = raw;
            if let Some(e) = out {
                return Some(Ok(e));
            }
        }
    }
}

impl<R: BufRead> DomainReader<R> {
    fn classify(&mut self, raw: &[u8], complete: bool) -> Option<Entry> {
        if !complete {
            return Some(self.reject(format!("line longer than {MAX_LINE_BYTES} bytes"), raw));
        }
        let mut bytes = raw;
        if self.line == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes = &bytes[3..];
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => return Some(self.reject("not valid UTF-8", bytes)),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            self.counts.blank += 1;
            return None;
        }
        if trimmed.starts_with('#') {
            self.counts.comments += 1;
            return None;
        }
        if trimmed.chars().any(|c| c.is_control() && c != '\t') {
            return Some(self.reject("control characters (binary data?)", bytes));
        }
        self.content_line(text, bytes)
    }
}

fn unquote(f: &str) -> &str {
    let f = f.trim();
    f.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(f)
}

/// Decides the layout from the first content line.
fn detect_layout(line: &str) -> Layout {
    let delim = if line.contains(',') {
        ','
    } else if line.contains('\t') {
        '\t'
    } else {
        return Layout::Plain;
    };
    let fields: Vec<&str> = line.split(delim).map(unquote).collect();
    // A header names its columns; the domain column is called domain, name or host.
    let lower: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
    if let Some(d) = lower.iter().position(|f| {
        matches!(
            f.as_str(),
            "domain" | "name" | "host" | "hostname" | "query_name"
        )
    }) {
        let rank = lower.iter().position(|f| f == "rank");
        return Layout::Columns {
            delim,
            domain: d,
            rank,
            names: fields.iter().map(|f| f.to_string()).collect(),
        };
    }
    if fields.len() >= 2 && fields[0].parse::<u64>().is_ok() {
        return Layout::Columns {
            delim,
            domain: 1,
            rank: Some(0),
            names: Vec::new(),
        };
    }
    Layout::Columns {
        delim,
        domain: 0,
        rank: None,
        names: Vec::new(),
    }
}

pub use mxinfer_ingest::name::{normalize_domain, validate_ascii_domain};

/// Printable form of raw bytes for error messages, at most `max` characters.
pub fn printable(raw: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads one line of `src` into `buf` (without the line end, a CR before the LF removed),
/// holding at most `max` bytes of it. Returns `Ok(None)` at the end, `Ok(Some(false))` when the
/// line was longer than `max` (the rest is read and dropped), `Ok(Some(true))` otherwise.
pub fn read_line_bounded<R: BufRead + ?Sized>(
    src: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<bool>> {
    buf.clear();
    let mut any = false;
    let mut overlong = false;
    loop {
        let chunk = match src.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let body = if done { &chunk[..take - 1] } else { chunk };
        if !overlong {
            if buf.len() + body.len() > max {
                overlong = true;
                let room = max.saturating_sub(buf.len());
                buf.extend_from_slice(&body[..room.min(body.len())]);
            } else {
                buf.extend_from_slice(body);
            }
        }
        src.consume(take);
        if done {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(!overlong))
}

/// Opens `path` (`-` for standard input) as a buffered reader.
pub fn open(path: &str) -> io::Result<Box<dyn BufRead + Send>> {
    if path == "-" {
        Ok(Box::new(io::BufReader::with_capacity(1 << 16, io::stdin())))
    } else {
        let f = std::fs::File::open(path)?;
        Ok(Box::new(io::BufReader::with_capacity(1 << 16, f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn extra_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn read(s: &[u8]) -> (Vec<Entry>, InputCounts) {
        let mut r = DomainReader::new(io::Cursor::new(s.to_vec()));
        let v: Vec<Entry> = r.by_ref().map(|e| e.unwrap()).collect();
        (v, r.counts().clone())
    }

    fn domains(v: &[Entry]) -> Vec<&str> {
        v.iter()
            .filter_map(|e| match e {
                Entry::Domain(d) => Some(d.domain.as_str()),
                _ => None,
            })
            .collect()
    }

    fn balanced(c: &InputCounts) -> bool {
        c.lines == c.blank + c.comments + c.header + c.accepted + c.duplicates + c.rejected
    }

    #[test]
    fn plain_list_normalises_and_dedups() {
        let (v, c) =
            read(b"Example.COM.\n\n# comment\nexample.com\nb\xC3\xBCcher.de\n  spaced.org  \n");
        assert_eq!(
            domains(&v),
            ["example.com", "xn--bcher-kva.de", "spaced.org"]
        );
        assert_eq!(c.duplicates, 1);
        assert_eq!(c.blank, 1);
        assert_eq!(c.comments, 1);
        assert_eq!(c.accepted, 3);
        assert!(balanced(&c));
        let Entry::Domain(d) = &v[0] else { panic!() };
        assert_eq!(d.input.line, 1);
        assert_eq!(d.input.original.as_deref(), Some("Example.COM."));
    }

    #[test]
    fn tranco_csv_keeps_rank() {
        let (v, c) = read(b"1,google.com\n2,Facebook.com\nx,bad.com\n");
        let Entry::Domain(d) = &v[1] else { panic!() };
        assert_eq!(d.domain, "facebook.com");
        assert_eq!(d.input.rank, Some(2));
        assert_eq!(d.input.line, 2);
        assert!(matches!(&v[2], Entry::Rejected(b) if b.line == 3 && b.reason.contains("rank")));
        assert_eq!(c.accepted, 2);
        assert!(balanced(&c));
    }

    #[test]
    fn header_csv_passes_extra_columns() {
        let (v, c) = read(b"rank,domain,category\r\n5,a.example,news\r\n");
        assert_eq!(c.header, 1);
        let Entry::Domain(d) = &v[0] else { panic!() };
        assert_eq!(d.domain, "a.example");
        assert_eq!(d.input.rank, Some(5));
        assert_eq!(d.input.extra, extra_map(&[("category", "news")]));
        assert!(balanced(&c));
    }

    #[test]
    fn headerless_extra_columns_are_numbered() {
        let (v, _) = read(b"a.example,x,y\n");
        let Entry::Domain(d) = &v[0] else { panic!() };
        assert_eq!(d.input.extra, extra_map(&[("col2", "x"), ("col3", "y")]));
    }

    #[test]
    fn bad_lines_are_rejected_with_line_numbers() {
        let long_label = format!("{}.com\n", "a".repeat(64));
        let mut input = Vec::new();
        input.extend_from_slice(b"\xEF\xBB\xBFok.example\n");
        input.extend_from_slice(b"foo..bar\n");
        input.extend_from_slice(long_label.as_bytes());
        input.extend_from_slice(b"\x00\x01\x02junk\n");
        input.extend_from_slice(b"\xff\xfe.com\n");
        input.extend_from_slice(b"192.0.2.1\n");
        input.extend_from_slice(b"localhost\n");
        input.extend_from_slice(b"-bad.com\n");
        input.extend_from_slice(b"has space.com\n");
        input.extend_from_slice(b"ex!ample.com\n");
        input.extend_from_slice(b"last.example");
        let (v, c) = read(&input);
        assert_eq!(domains(&v), ["ok.example", "last.example"]);
        let bad: Vec<(u64, &str)> = v
            .iter()
            .filter_map(|e| match e {
                Entry::Rejected(b) => Some((b.line, b.reason.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(bad.len(), 9);
        assert_eq!(bad[0], (2, "empty label"));
        assert!(bad[1].1.starts_with("label longer than 63"));
        assert!(bad[2].1.starts_with("control characters"));
        assert_eq!(bad[3], (5, "not valid UTF-8"));
        assert!(bad[4].1.contains("IP address"));
        assert!(bad[5].1.contains("single label"));
        assert!(bad[6].1.contains("starts or ends"));
        assert!(bad[7].1.contains("whitespace"));
        assert!(bad[8].1.contains("invalid character"));
        assert_eq!(c.rejected, 9);
        assert!(balanced(&c));
    }

    #[test]
    fn overlong_lines_are_bounded() {
        let mut input = vec![b'a'; MAX_LINE_BYTES * 3];
        input.extend_from_slice(b"\nfine.example\n");
        let mut r = DomainReader::new(io::BufReader::with_capacity(1024, io::Cursor::new(input)));
        let first = r.next().unwrap().unwrap();
        match first {
            Entry::Rejected(b) => {
                assert_eq!(b.line, 1);
                assert!(b.reason.contains("longer than"));
                assert!(b.text.chars().count() <= 121);
            }
            other => panic!("{other:?}"),
        }
        assert!(r.buf.capacity() <= MAX_LINE_BYTES * 2);
        let second = r.next().unwrap().unwrap();
        assert!(
            matches!(second, Entry::Domain(d) if d.domain == "fine.example" && d.input.line == 2)
        );
    }

    #[test]
    fn empty_input_has_no_entries() {
        let (v, c) = read(b"");
        assert!(v.is_empty());
        assert_eq!(c.lines, 0);
    }

    #[test]
    fn total_name_length_is_checked() {
        let name = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        assert!(normalize_domain(&name).unwrap_err().contains("253"));
    }
}
