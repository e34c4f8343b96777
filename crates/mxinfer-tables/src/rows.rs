//! The rows of the export tables (`labels`, `dns`, `probes`), made from the stage records,
//! and their CSV fields. The columns are documented in docs/ingest.md, "Tables".

use mxinfer_record::{DomainDns, DomainLabel, HostProbe};

/// One provider of a label row.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderCell {
    pub id: String,
    pub company: Option<String>,
    pub weight: f64,
    pub credit: String,
    pub self_hosted: bool,
}

/// One row of the `labels` table.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRow {
    pub domain: String,
    pub rank: Option<u64>,
    pub input_line: u64,
    pub status: String,
    pub approach: String,
    pub dns_status: String,
    pub registered_domain: Option<String>,
    pub primary_preference: Option<i32>,
    pub exchangers: Vec<String>,
    pub sources: Vec<String>,
    pub self_hosted: bool,
    pub flagged: bool,
    pub top_provider: Option<String>,
    pub top_company: Option<String>,
    pub top_credit: Option<String>,
    pub top_weight: Option<f64>,
    pub providers: Vec<ProviderCell>,
}

fn kebab<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|x| x.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl LabelRow {
    /// The row of a label record: its chosen approach's result (a record without it is
    /// [`mxinfer_record::MissingApproach`]).
    pub fn from_label(l: &DomainLabel) -> Result<LabelRow, mxinfer_record::MissingApproach> {
        let res = l.result(l.approach)?;
        let top = l
            .providers
            .iter()
            .max_by(|a, b| a.weight.total_cmp(&b.weight).then_with(|| b.id.cmp(&a.id)));
        let mut sources: Vec<String> = res
            .exchangers
            .iter()
            .filter_map(|e| e.source.map(|s| s.as_str().to_string()))
            .collect();
        sources.sort();
        sources.dedup();
        Ok(LabelRow {
            domain: l.domain.clone(),
            rank: l.input.rank,
            input_line: l.input.line,
            status: l.status.as_str().to_string(),
            approach: l.approach.as_str().to_string(),
            dns_status: l.dns_status.as_str().to_string(),
            registered_domain: l.registered_domain.clone(),
            primary_preference: l.primary_preference.map(i32::from),
            exchangers: l.exchangers.iter().map(|e| e.name.clone()).collect(),
            sources,
            self_hosted: l.self_hosted,
            flagged: res.exchangers.iter().any(|e| !e.flags.is_empty()),
            top_provider: top.map(|p| p.id.clone()),
            top_company: top.and_then(|p| p.company.clone()),
            top_credit: top.map(|p| p.credit.clone()),
            top_weight: top.map(|p| p.weight),
            providers: l
                .providers
                .iter()
                .map(|p| ProviderCell {
                    id: p.id.clone(),
                    company: p.company.clone(),
                    weight: p.weight,
                    credit: p.credit.clone(),
                    self_hosted: p.self_hosted,
                })
                .collect(),
        })
    }
}

/// One exchanger of a dns row.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangerCell {
    pub name: String,
    pub preference: i32,
    pub addresses: Vec<String>,
}

/// One row of the `dns` table.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsRow {
    pub domain: String,
    pub rank: Option<u64>,
    pub input_line: u64,
    pub status: String,
    pub flags: Vec<String>,
    pub config_class: String,
    pub mx_count: i32,
    pub exchangers: Vec<ExchangerCell>,
    pub resolved_at: String,
    pub error: Option<String>,
}

impl DnsRow {
    pub fn from_dns(d: &DomainDns) -> DnsRow {
        DnsRow {
            domain: d.domain.clone(),
            rank: d.input.rank,
            input_line: d.input.line,
            status: d.status.as_str().to_string(),
            flags: d.flags.iter().map(kebab).collect(),
            config_class: kebab(&d.config_class),
            mx_count: d.mx.len() as i32,
            exchangers: d
                .exchangers
                .iter()
                .map(|e| ExchangerCell {
                    name: e.name.clone(),
                    preference: i32::from(e.preference),
                    addresses: e.addresses.iter().map(|a| a.ip.to_string()).collect(),
                })
                .collect(),
            resolved_at: d.resolved_at.clone(),
            error: d.error.clone(),
        }
    }
}

/// One row of the `probes` table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRow {
    pub ip: String,
    pub port: i32,
    pub names: Vec<String>,
    pub status: String,
    pub banner: Option<String>,
    pub ehlo: Option<String>,
    pub starttls: bool,
    pub tls_version: Option<String>,
    pub cert_subject_cn: Option<String>,
    pub cert_san_dns: Vec<String>,
    pub cert_sha256: Option<String>,
    pub chain_trusted: Option<bool>,
    pub chain_reason: Option<String>,
    pub started_at: String,
}

impl ProbeRow {
    pub fn from_probe(p: &HostProbe) -> ProbeRow {
        let leaf = p.tls.as_ref().and_then(|t| t.chain.first());
        let verdict = p.tls.as_ref().and_then(|t| t.verdict.as_ref());
        ProbeRow {
            ip: p.ip.to_string(),
            port: i32::from(p.port),
            names: p.names.clone(),
            status: kebab(&p.status),
            banner: p.banner.as_ref().map(|r| r.lines.join("\n")),
            ehlo: p.ehlo.as_ref().map(|r| r.lines.join("\n")),
            starttls: p.tls.is_some(),
            tls_version: p.tls.as_ref().and_then(|t| t.version.clone()),
            cert_subject_cn: leaf.and_then(|c| c.subject_cn.clone()),
            cert_san_dns: leaf.map(|c| c.san_dns.clone()).unwrap_or_default(),
            cert_sha256: leaf.map(|c| c.sha256.clone()).filter(|s| !s.is_empty()),
            chain_trusted: verdict.map(|v| v.trusted),
            chain_reason: verdict.and_then(|v| v.reason.as_ref().map(kebab)),
            started_at: p.started_at.clone(),
        }
    }
}

/// A CSV field: quoted when it holds a comma, quote, CR or LF (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// CSV header and rows. Lists are joined with `;`; providers as `id=weight` items.
pub trait CsvRow {
    const HEADER: &'static str;
    fn fields(&self) -> Vec<String>;
}

impl CsvRow for LabelRow {
    const HEADER: &'static str = "domain,rank,input_line,status,approach,dns_status,registered_domain,primary_preference,exchangers,sources,self_hosted,flagged,top_provider,top_company,top_credit,top_weight,providers";
    fn fields(&self) -> Vec<String> {
        vec![
            self.domain.clone(),
            opt(&self.rank),
            self.input_line.to_string(),
            self.status.clone(),
            self.approach.clone(),
            self.dns_status.clone(),
            opt(&self.registered_domain),
            opt(&self.primary_preference),
            self.exchangers.join(";"),
            self.sources.join(";"),
            self.self_hosted.to_string(),
            self.flagged.to_string(),
            opt(&self.top_provider),
            opt(&self.top_company),
            opt(&self.top_credit),
            opt(&self.top_weight),
            self.providers
                .iter()
                .map(|p| format!("{}={}", p.id, p.weight))
                .collect::<Vec<_>>()
                .join(";"),
        ]
    }
}

impl CsvRow for DnsRow {
    const HEADER: &'static str = "domain,rank,input_line,status,flags,config_class,mx_count,exchangers,addresses,resolved_at,error";
    fn fields(&self) -> Vec<String> {
        vec![
            self.domain.clone(),
            opt(&self.rank),
            self.input_line.to_string(),
            self.status.clone(),
            self.flags.join(";"),
            self.config_class.clone(),
            self.mx_count.to_string(),
            self.exchangers
                .iter()
                .map(|e| format!("{}={}", e.preference, e.name))
                .collect::<Vec<_>>()
                .join(";"),
            self.exchangers
                .iter()
                .flat_map(|e| e.addresses.iter().cloned())
                .collect::<Vec<_>>()
                .join(";"),
            self.resolved_at.clone(),
            opt(&self.error),
        ]
    }
}

impl CsvRow for ProbeRow {
    const HEADER: &'static str = "ip,port,names,status,banner,ehlo,starttls,tls_version,cert_subject_cn,cert_san_dns,cert_sha256,chain_trusted,chain_reason,started_at";
    fn fields(&self) -> Vec<String> {
        vec![
            self.ip.clone(),
            self.port.to_string(),
            self.names.join(";"),
            self.status.clone(),
            opt(&self.banner),
            opt(&self.ehlo),
            self.starttls.to_string(),
            opt(&self.tls_version),
            opt(&self.cert_subject_cn),
            self.cert_san_dns.join(";"),
            opt(&self.cert_sha256),
            opt(&self.chain_trusted),
            opt(&self.chain_reason),
            self.started_at.clone(),
        ]
    }
}

/// A table's rows as Arrow record batches (feature `arrow`): the schema of every batch of a
/// table is the same, an empty slice gives it.
pub trait TableRow: CsvRow {
    #[cfg(feature = "arrow")]
    fn record_batch(rows: &[Self]) -> Result<arrow_array::RecordBatch, arrow_schema::ArrowError>
    where
        Self: Sized;
}

impl TableRow for LabelRow {
    #[cfg(feature = "arrow")]
    fn record_batch(rows: &[Self]) -> Result<arrow_array::RecordBatch, arrow_schema::ArrowError> {
        crate::to_arrow::labels(rows)
    }
}

impl TableRow for DnsRow {
    #[cfg(feature = "arrow")]
    fn record_batch(rows: &[Self]) -> Result<arrow_array::RecordBatch, arrow_schema::ArrowError> {
        crate::to_arrow::dns(rows)
    }
}

impl TableRow for ProbeRow {
    #[cfg(feature = "arrow")]
    fn record_batch(rows: &[Self]) -> Result<arrow_array::RecordBatch, arrow_schema::ArrowError> {
        crate::to_arrow::probes(rows)
    }
}
