//! Sans-IO reader of SMTP replies (RFC 5321 section 4.2): bytes in, replies out.
//!
//! A reply is one or more lines `CODE-text` ending with a line `CODE text` (or a bare
//! `CODE`). The reader is fed whatever the socket gave ([`ReplyReader::feed`]) and yields
//! complete replies ([`ReplyReader::next_reply`]). It never waits and never allocates without
//! bound:
//! - a line longer than [`Limits::max_line`] (without its end) is an error as soon as that many
//!   bytes are buffered without a line end (an endless line cannot fill memory);
//! - a reply with more than [`Limits::max_lines`] lines is an error;
//! - more than [`Limits::max_bytes`] bytes over the reader's whole life (the session) is an
//!   error.
//!
//! Lines may end in CRLF or a bare LF (both are seen in the wild); a stray CR before the line
//! end is removed. Invalid UTF-8 is replaced (U+FFFD), NUL bytes are kept as U+FFFD too.

use mxinfer_record::SmtpReply;

/// Bounds of one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line accepted, line end excluded (RFC 5321 4.5.3.1.5 says 512 with CRLF;
    /// real servers exceed it, so the default is more generous).
    pub max_line: usize,
    /// Most lines in one reply.
    pub max_lines: usize,
    /// Most bytes read over the whole session.
    pub max_bytes: usize,
}

/// Default longest reply line.
pub const DEFAULT_MAX_LINE: usize = 2048;
/// Default most lines per reply.
pub const DEFAULT_MAX_LINES: usize = 100;
/// Default most bytes per session (see `--max-reply-bytes`).
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: DEFAULT_MAX_LINE,
            max_lines: DEFAULT_MAX_LINES,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Why the byte stream is not a valid reply. The lines read so far are kept in the error
/// (`partial`) so a record can still show what the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// A line, a reply or the session exceeded its bound.
    TooLarge {
        what: &'static str,
        partial: Vec<String>,
    },
    /// A line that is not `DDD`, `DDD text` or `DDD-text`, or a code that changes inside a
    /// multi-line reply.
    Syntax { line: String, partial: Vec<String> },
}

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyError::TooLarge { what, .. } => write!(f, "reply too large: {what}"),
            ReplyError::Syntax { line, .. } => {
                let mut shown: String = line.chars().take(80).collect();
                if shown.len() < line.len() {
                    shown.push('…');
                }
                write!(f, "not an SMTP reply line: {shown:?}")
            }
        }
    }
}

impl ReplyError {
    /// The lines of the unfinished reply (and the offending line for syntax errors).
    pub fn partial(&self) -> &[String] {
        match self {
            ReplyError::TooLarge { partial, .. } | ReplyError::Syntax { partial, .. } => partial,
        }
    }
}

/// The reader state: buffered bytes and the lines of the reply being read.
#[derive(Debug)]
pub struct ReplyReader {
    limits: Limits,
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    pos: usize,
    lines: Vec<String>,
    code: Option<u16>,
    total: usize,
    failed: bool,
}

/// How a line starts.
enum LineKind {
    Last(u16),
    More(u16),
}

fn classify(line: &[u8]) -> Option<LineKind> {
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    // RFC 5321 4.2: the first digit is 2-5, the second 0-5; we accept 1-5 for the first (old
    // servers) and any second digit, and judge codes later.
    if !(b'1'..=b'5').contains(&line[0]) {
        return None;
    }
    let code =
        (line[0] - b'0') as u16 * 100 + (line[1] - b'0') as u16 * 10 + (line[2] - b'0') as u16;
    match line.get(3) {
        None | Some(b' ') => Some(LineKind::Last(code)),
        Some(b'-') => Some(LineKind::More(code)),
        // Some servers use a tab or other text right after the code: treat as last line.
        Some(b'\t') => Some(LineKind::Last(code)),
        _ => None,
    }
}

fn to_text(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s.into_owned()
    }
}

impl ReplyReader {
    pub fn new(limits: Limits) -> Self {
        ReplyReader {
            limits,
            buf: Vec::with_capacity(512),
            pos: 0,
            lines: Vec::new(),
            code: None,
            total: 0,
            failed: false,
        }
    }

    /// Bytes read over the session so far.
    pub fn total_bytes(&self) -> usize {
        self.total
    }

    /// Bytes received but not yet part of a complete reply (used to detect plaintext sent
    /// after the reply to STARTTLS).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos + self.lines.iter().map(|l| l.len() + 2).sum::<usize>()
    }

    /// Forgets buffered bytes and any unfinished reply (after STARTTLS, before TLS).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.lines.clear();
        self.code = None;
    }

    /// Adds received bytes. Returns an error at once when the session bound is exceeded.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), ReplyError> {
        self.total += data.len();
        if self.total > self.limits.max_bytes {
            self.failed = true;
            return Err(ReplyError::TooLarge {
                what: "session bytes",
                partial: std::mem::take(&mut self.lines),
            });
        }
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// The next complete reply, if the buffered bytes hold one; `Ok(None)` means "feed more".
    pub fn next_reply(&mut self) -> Result<Option<SmtpReply>, ReplyError> {
        if self.failed {
            return Err(ReplyError::TooLarge {
                what: "session bytes",
                partial: Vec::new(),
            });
        }
        loop {
            let rest = &self.buf[self.pos..];
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > self.limits.max_line + 1 {
                    self.failed = true;
                    return Err(ReplyError::TooLarge {
                        what: "line length",
                        partial: std::mem::take(&mut self.lines),
                    });
                }
                // Compact so the buffer only holds the unfinished line.
                if self.pos > 0 {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                }
                return Ok(None);
            };
            let mut line = &rest[..nl];
            while let [head @ .., b'\r'] = line {
                line = head;
            }
            if line.len() > self.limits.max_line {
                self.failed = true;
                return Err(ReplyError::TooLarge {
                    what: "line length",
                    partial: std::mem::take(&mut self.lines),
                });
            }
            let text = to_text(line);
            let kind = classify(line);
            self.pos += nl + 1;
            let (code, last) = match kind {
                Some(LineKind::Last(c)) => (c, true),
                Some(LineKind::More(c)) => (c, false),
                None => {
                    self.failed = true;
                    return Err(ReplyError::Syntax {
                        line: text,
                        partial: std::mem::take(&mut self.lines),
                    });
                }
            };
            if let Some(c0) = self.code
                && c0 != code
            {
                self.failed = true;
                return Err(ReplyError::Syntax {
                    line: text,
                    partial: std::mem::take(&mut self.lines),
                });
            }
            self.code = Some(code);
            self.lines.push(text);
            if last {
                self.code = None;
                return Ok(Some(SmtpReply {
                    code,
                    lines: std::mem::take(&mut self.lines),
                }));
            }
            if self.lines.len() >= self.limits.max_lines {
                self.failed = true;
                return Err(ReplyError::TooLarge {
                    what: "lines per reply",
                    partial: std::mem::take(&mut self.lines),
                });
            }
        }
    }
}

pub use mxinfer_ingest::smtp::capabilities;

/// Whether the capability list has `keyword` (case-insensitive, whole keyword only).
pub fn has_capability(caps: &[String], keyword: &str) -> bool {
    caps.iter().any(|c| {
        c.split(' ')
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(r: &mut ReplyReader) -> Vec<SmtpReply> {
        let mut v = Vec::new();
        while let Some(rep) = r.next_reply().unwrap() {
            v.push(rep);
        }
        v
    }

    #[test]
    fn single_line() {
        let mut r = ReplyReader::new(Limits::default());
        r.feed(b"220 mx.example.org ESMTP ready\r\n").unwrap();
        let v = read_all(&mut r);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].code, 220);
        assert_eq!(v[0].lines, vec!["220 mx.example.org ESMTP ready"]);
    }

    #[test]
    fn multi_line_in_pieces() {
        let mut r = ReplyReader::new(Limits::default());
        let text = b"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n";
        for chunk in text.chunks(3) {
            r.feed(chunk).unwrap();
            if let Some(rep) = r.next_reply().unwrap() {
                assert_eq!(rep.code, 250);
                assert_eq!(rep.lines.len(), 4);
                assert_eq!(rep.lines[3], "250 STARTTLS");
                return;
            }
        }
        panic!("no reply");
    }

    #[test]
    fn bare_lf_and_bare_code() {
        let mut r = ReplyReader::new(Limits::default());
        r.feed(b"220-a\n220\n250 ok\r\r\n").unwrap();
        let v = read_all(&mut r);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].lines, vec!["220-a", "220"]);
        assert_eq!(v[1].lines, vec!["250 ok"]);
    }

    #[test]
    fn incomplete_waits() {
        let mut r = ReplyReader::new(Limits::default());
        r.feed(b"220-first\r\n220 sec").unwrap();
        assert_eq!(r.next_reply().unwrap(), None);
        assert!(r.buffered() > 0);
        r.feed(b"ond\r\n").unwrap();
        let rep = r.next_reply().unwrap().unwrap();
        assert_eq!(rep.lines, vec!["220-first", "220 second"]);
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn invalid_utf8_replaced() {
        let mut r = ReplyReader::new(Limits::default());
        r.feed(b"220 caf\xe9 \x00 ok\r\n").unwrap();
        let rep = r.next_reply().unwrap().unwrap();
        assert_eq!(rep.lines[0], "220 caf\u{FFFD} \u{FFFD} ok");
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            &b"hello there\r\n"[..],
            b"22 short\r\n",
            b"220x\r\n",
            b"\x16\x03\x01\x00\x05hello\n",
            b"620 six\r\n",
        ] {
            let mut r = ReplyReader::new(Limits::default());
            r.feed(bad).unwrap();
            assert!(
                matches!(r.next_reply(), Err(ReplyError::Syntax { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn code_change_inside_reply() {
        let mut r = ReplyReader::new(Limits::default());
        r.feed(b"250-a\r\n251 b\r\n").unwrap();
        match r.next_reply() {
            Err(ReplyError::Syntax { partial, .. }) => assert_eq!(partial, vec!["250-a"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn endless_line_is_bounded() {
        let limits = Limits {
            max_line: 100,
            ..Limits::default()
        };
        let mut r = ReplyReader::new(limits);
        let mut got = None;
        for _ in 0..10 {
            r.feed(&[b'a'; 50]).unwrap();
            match r.next_reply() {
                Ok(None) => continue,
                other => {
                    got = Some(other);
                    break;
                }
            }
        }
        assert!(matches!(
            got,
            Some(Err(ReplyError::TooLarge {
                what: "line length",
                ..
            }))
        ));
    }

    #[test]
    fn long_complete_line_rejected() {
        let limits = Limits {
            max_line: 10,
            ..Limits::default()
        };
        let mut r = ReplyReader::new(limits);
        r.feed(b"220 0123456789\r\n").unwrap();
        assert!(matches!(r.next_reply(), Err(ReplyError::TooLarge { .. })));
        // Exactly at the bound is fine.
        let mut r = ReplyReader::new(limits);
        r.feed(b"220 012345\r\n").unwrap();
        assert!(r.next_reply().unwrap().is_some());
    }

    #[test]
    fn too_many_lines() {
        let limits = Limits {
            max_lines: 3,
            ..Limits::default()
        };
        let mut r = ReplyReader::new(limits);
        r.feed(b"250-a\r\n250-b\r\n250-c\r\n250-d\r\n250 e\r\n")
            .unwrap();
        match r.next_reply() {
            Err(ReplyError::TooLarge { what, partial }) => {
                assert_eq!(what, "lines per reply");
                assert_eq!(partial.len(), 3);
            }
            other => panic!("{other:?}"),
        }
        let mut r = ReplyReader::new(limits);
        r.feed(b"250-a\r\n250-b\r\n250 c\r\n").unwrap();
        assert_eq!(r.next_reply().unwrap().unwrap().lines.len(), 3);
    }

    #[test]
    fn session_bytes_bounded() {
        let limits = Limits {
            max_bytes: 20,
            ..Limits::default()
        };
        let mut r = ReplyReader::new(limits);
        r.feed(b"220 0123456789\r\n").unwrap();
        assert!(r.next_reply().unwrap().is_some());
        assert!(matches!(
            r.feed(b"250 0123456789\r\n"),
            Err(ReplyError::TooLarge { .. })
        ));
        assert!(r.next_reply().is_err());
    }

    #[test]
    fn pipelined_replies_and_buffered() {
        let mut r = ReplyReader::new(Limits::default());
        r.feed(b"220 go ahead\r\n250 injected\r\n").unwrap();
        let rep = r.next_reply().unwrap().unwrap();
        assert_eq!(rep.code, 220);
        assert_eq!(r.buffered(), 14);
        r.clear();
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn capability_keywords() {
        let ehlo = SmtpReply {
            code: 250,
            lines: vec![
                "250-mx.example.org Hello".into(),
                "250-pipelining".into(),
                "250-SIZE 35882577".into(),
                "250-X-NOSTARTTLS".into(),
                "250-AUTH PLAIN LOGIN".into(),
                "250-8BITMIME".into(),
                "250 STARTTLSX".into(),
            ],
        };
        let caps = capabilities(&ehlo);
        assert_eq!(
            caps,
            vec![
                "PIPELINING",
                "SIZE 35882577",
                "X-NOSTARTTLS",
                "AUTH PLAIN LOGIN",
                "8BITMIME",
                "STARTTLSX"
            ]
        );
        // Substring matches are not keywords.
        assert!(!has_capability(&caps, "STARTTLS"));
        assert!(has_capability(&caps, "size"));
        let ehlo2 = SmtpReply {
            code: 250,
            lines: vec![
                "250-STARTTLS is mentioned here".into(),
                "250 starttls".into(),
            ],
        };
        // The first line is the greeting, never a keyword.
        let caps2 = capabilities(&ehlo2);
        assert_eq!(caps2, vec!["STARTTLS"]);
        assert!(has_capability(&caps2, "STARTTLS"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small deterministic fuzz: every prefix split of a mixed stream.
        let data: Vec<u8> = (0u32..2000)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for split in [1, 2, 7, 64, 500] {
            let mut r = ReplyReader::new(Limits {
                max_line: 64,
                max_lines: 4,
                max_bytes: 1500,
            });
            for c in data.chunks(split) {
                if r.feed(c).is_err() {
                    break;
                }
                if r.next_reply().is_err() {
                    break;
                }
            }
        }
    }
}
