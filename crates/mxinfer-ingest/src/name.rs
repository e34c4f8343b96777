//! Domain names as the records keep them: IDNA to ASCII, lower case, no trailing dot, and
//! the checks a name must pass to be a domain (not an address, not a single label, label and
//! name lengths, characters; `_` is allowed as real zones use it).

/// Normalises and validates one domain name; the error says what is wrong.
pub fn normalize_domain(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty domain".into());
    }
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.parse::<std::net::IpAddr>().is_ok() {
        return Err("an IP address, not a domain name".into());
    }
    if s.chars().any(char::is_whitespace) {
        return Err("whitespace inside the name".into());
    }
    let ascii = if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(s).map_err(|e| format!("IDNA conversion failed ({e})"))?
    };
    validate_ascii_domain(&ascii)?;
    Ok(ascii)
}

/// Checks an ASCII, lower-case name (no trailing dot) against the rules above.
pub fn validate_ascii_domain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err(format!("name longer than 253 octets ({})", s.len()));
    }
    let labels: Vec<&str> = s.split('.').collect();
    if labels.len() < 2 {
        return Err("a single label, not a domain name".into());
    }
    for l in &labels {
        if l.is_empty() {
            return Err("empty label".into());
        }
        if l.len() > 63 {
            return Err(format!("label longer than 63 octets ({})", l.len()));
        }
        if let Some(c) = l
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!("invalid character {c:?}"));
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err(format!("label {l:?} starts or ends with '-'"));
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return Err("numeric top-level label".into());
    }
    Ok(())
}
