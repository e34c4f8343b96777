//! `mxinfer sim world`: a reproducible simulated Internet with ground truth.
//!
//! One seed gives byte-identical files:
//! - `world.zone`: ONE zone for the root (`.`) in master format. Serving the root makes a single
//!   authoritative server answer for the world's domains (under the suffixes `example`, `test`
//!   and `sim`) and for the real providers' public host names (`aspmx.l.google.com`, …) alike,
//!   with no delegations to get wrong. Load it as zone `.` (NSD: `zone: name: "."`).
//! - `personas.json`: an array of farm personas ([`Persona`]), each with its `addr`.
//! - `pfx2as.txt`: CAIDA RouteViews pfx2as lines (prefix TAB length TAB AS) for the 127/8 blocks.
//! - `truth.jsonl`: one [`Truth`] per domain, written from what the generator built.
//! - `ca.pem`, `intermediate.pem`: the world's "public" CA ([`TestCa::from_seed`]).
//! - `psl.dat`: the embedded Public Suffix List with the world's suffixes added to its ICANN
//!   section: the labeller only takes provider IDs under listed suffixes, so label a world
//!   with `--psl DIR/psl.dat` (self-hosted IDs such as `acme1.test` need it).
//! - `world.json`: seed, size, port and file list.
//!
//! The provider facts (host names, IDs, ASNs, banner styles, certificate names) come from the
//! generator's own table ([`PROVIDERS`]), never from the labeller's data files, so agreement
//! between labeller and truth is evidence. Sources: data/README.md.
//!
//! Address plan (all in 127/8): provider `k` of the table owns 127.(160+k).0.0/16, split into
//! /18 blocks mapped to its first (up to four) real ASNs; self-hosted servers are numbered from
//! 127.64.0.1 on, each /16 of 127.64-127.127 mapped to a private-use ASN 4200000000+n (the
//! "other ISPs"); IPv6-only exchangers get [`SIM_IPV6_PREFIX`] addresses: served only by
//! `sim serve --ipv6`, inside a network namespace where that prefix is local (the demo and
//! loopback-only runs record them as `skipped-ipv6`).

use super::certs::{CertError, CertKind, TestCa};
use super::dns::DnsError;
use super::farm::{Failure, FarmError, Persona, StarttlsMode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// What went wrong writing, reading or serving a world: the file (or seed) and step, with
/// the underlying error as the source.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The world directory or one of its files could not be created.
    #[error("creating {}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing (or flushing) one of the world's files failed.
    #[error("writing {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// One of the world's files could not be read.
    #[error("reading {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// world.json could not be written (serialized).
    #[error("serializing {}", path.display())]
    SerializeSummary {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// world.json does not parse (the source gives its line and column).
    #[error("parsing {}", path.display())]
    ParseSummary {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// personas.json does not load.
    #[error("loading {}", path.display())]
    Personas {
        path: PathBuf,
        #[source]
        source: FarmError,
    },
    /// world.zone does not parse (the source gives the line).
    #[error("parsing {}", path.display())]
    Zone {
        path: PathBuf,
        #[source]
        source: DnsError,
    },
    /// The world's CA could not be derived from its seed.
    #[error("deriving the world's CA from seed {seed}")]
    Ca {
        seed: u64,
        #[source]
        source: CertError,
    },
    /// The world's DNS server did not start (`sim serve`).
    #[error("starting the world's DNS server")]
    Dns {
        #[source]
        source: DnsError,
    },
    /// The world's SMTP farm did not start (`sim serve`).
    #[error("starting the world's SMTP farm from {}", dir.display())]
    Farm {
        dir: PathBuf,
        #[source]
        source: FarmError,
    },
}

/// A write of the generator that failed: which of its files, and the error.
#[derive(Debug)]
pub(crate) struct GenWriteError {
    file: &'static str,
    source: std::io::Error,
}

const ZONE_FILE: &str = "world.zone";
const PERSONAS_FILE: &str = "personas.json";
const TRUTH_FILE: &str = "truth.jsonl";

/// Tags an IO error (or a serde_json error, through its IO conversion) with the generator's
/// file it was writing.
fn to(file: &'static str) -> impl FnOnce(std::io::Error) -> GenWriteError {
    move |source| GenWriteError { file, source }
}

/// The unique-local prefix of the world's IPv6-only exchangers (RFC 4193; "mx" in its
/// global ID).
pub const SIM_IPV6_PREFIX: &str = "fd00:6d78::/32";

/// Whether `ip` is inside [`SIM_IPV6_PREFIX`].
pub fn in_sim_ipv6_prefix(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(a) => a.segments()[0] == 0xfd00 && a.segments()[1] == 0x6d78,
        IpAddr::V4(_) => false,
    }
}

/// The SMTP port of every persona of a world.
pub const WORLD_PORT: u16 = 2525;
/// Suffixes of the world's domains (reserved or undelegated, single label).
pub const SUFFIXES: [&str; 3] = ["example", "test", "sim"];

/// Every hard-case class the generator emits (the evaluator's list).
pub use mxinfer_record::TRUTH_CLASSES as CLASSES;
pub use mxinfer_record::{Truth, TruthProvider};

/// What kind of service a provider sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mailbox,
    /// A filtering gateway in front of a mailbox provider.
    Gateway,
    /// Web hosting: customers' `mx.<domain>` names point at shared servers.
    Hosting,
}

/// How a provider's MX names look for a customer.
#[derive(Debug, Clone, Copy)]
pub enum MxStyle {
    /// The same names for every customer (preference, name).
    Shared(&'static [(u16, &'static str)]),
    /// A name per customer: `{}` is replaced by a customer token.
    PerCustomer(&'static [(u16, &'static str)]),
    /// `mx.<domain>` pointing at one shared server (hosting defaults).
    HostingDefault,
}

/// One real provider as the generator knows it (public facts; see data/README.md).
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    pub id: &'static str,
    pub company: &'static str,
    pub asns: &'static [u32],
    pub kind: Kind,
    pub mx: MxStyle,
    /// Front-end name pattern for banners and EHLO: `{n}` is the front-end number.
    pub frontend: &'static str,
    /// Banner text after the front-end name.
    pub banner_tail: &'static str,
    pub cert_names: &'static [&'static str],
    /// Number of front-end addresses.
    pub pool: u32,
    /// Share of the world's domains that are plain customers (see [`MIX`]).
    pub share: f64,
}

/// The provider table. Shares are the generator's mix, chosen between the published figures
/// of METHOD.md 12 (popular domains vs a random .com sample): e.g. Google 20% plain (+ vanity
/// and split) between 11.5% (.com) and 33.3% (popular); Microsoft 10% (+) between 7.0% and
/// 12.6%; GoDaddy 6% between 1.8% and 35.3%; UnitedInternet 4% (5.7% .com); Yandex 3% (5.3%
/// popular); Proofpoint 3% (3.5%); Mimecast 2% (2.5%); Zoho 1.5% (1.5%); EIG 1.2% (1.8%);
/// OVH 1.5% (1.6%); Barracuda 1.5% (9.1% of .gov, small elsewhere).
pub const PROVIDERS: &[Provider] = &[
    Provider {
        id: "google.com",
        company: "Google",
        asns: &[15169],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[
            (1, "aspmx.l.google.com"),
            (5, "alt1.aspmx.l.google.com"),
            (5, "alt2.aspmx.l.google.com"),
            (10, "alt3.aspmx.l.google.com"),
            (10, "alt4.aspmx.l.google.com"),
        ]),
        frontend: "mx.google.com",
        banner_tail: "ESMTP {n}si{n}abc - gsmtp",
        cert_names: &[
            "mx.google.com",
            "aspmx.l.google.com",
            "*.aspmx.l.google.com",
            "smtp.google.com",
            "aspmx2.googlemail.com",
        ],
        pool: 10,
        share: 0.20,
    },
    Provider {
        id: "outlook.com",
        company: "Microsoft",
        asns: &[8075],
        kind: Kind::Mailbox,
        mx: MxStyle::PerCustomer(&[(0, "{}.mail.protection.outlook.com")]),
        frontend: "AM{n}PEPF00000{n}A.mail.protection.outlook.com",
        banner_tail: "Microsoft ESMTP MAIL Service ready",
        cert_names: &[
            "mail.protection.outlook.com",
            "*.mail.protection.outlook.com",
            "*.mx.microsoft",
            "mx.microsoft",
        ],
        pool: 16,
        share: 0.10,
    },
    Provider {
        id: "secureserver.net",
        company: "GoDaddy",
        asns: &[26496, 398101],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[
            (0, "smtp.secureserver.net"),
            (10, "mailstore1.secureserver.net"),
        ]),
        frontend: "p3plibsmtp0{n}-0{n}.prod.phx3.secureserver.net",
        banner_tail: "bizsmtp ESMTP server ready",
        cert_names: &["*.prod.phx3.secureserver.net", "smtp.secureserver.net"],
        pool: 8,
        share: 0.06,
    },
    Provider {
        id: "ionos.de",
        company: "UnitedInternet",
        asns: &[8560],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[(10, "mx00.ionos.de"), (10, "mx01.ionos.de")]),
        frontend: "mxeue00{n}.kundenserver.de",
        banner_tail: "Nemesis ESMTP Service ready",
        cert_names: &["mx00.ionos.de", "mx01.ionos.de"],
        pool: 4,
        share: 0.04,
    },
    Provider {
        id: "yandex.net",
        company: "Yandex",
        asns: &[13238],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[(10, "mx.yandex.net")]),
        frontend: "mail-nwsmtp-mxfront-production-main-{n}.vla.yp-c.yandex.net",
        banner_tail: "ESMTP (Want to use Yandex.Mail for your domain? Visit http://pdd.yandex.ru)",
        cert_names: &["mx.yandex.net", "mx.yandex.ru", "*.mx.yandex.net"],
        pool: 4,
        share: 0.03,
    },
    Provider {
        id: "pphosted.com",
        company: "Proofpoint",
        asns: &[26211, 22843, 13916],
        kind: Kind::Gateway,
        mx: MxStyle::PerCustomer(&[(10, "mx0a-{}.pphosted.com"), (10, "mx0b-{}.pphosted.com")]),
        frontend: "mx0{n}-ppfe.pphosted.com",
        banner_tail: "ESMTP mfa-m0{n}",
        cert_names: &["*.pphosted.com", "pphosted.com"],
        pool: 8,
        share: 0.03,
    },
    Provider {
        id: "mimecast.com",
        company: "Mimecast",
        asns: &[30031, 42427],
        kind: Kind::Gateway,
        mx: MxStyle::Shared(&[
            (10, "us-smtp-inbound-1.mimecast.com"),
            (10, "us-smtp-inbound-2.mimecast.com"),
        ]),
        frontend: "us-smtp-{n}.mimecast.com",
        banner_tail: "ESMTP Mimecast",
        cert_names: &["*.mimecast.com", "mimecast.com"],
        pool: 4,
        share: 0.02,
    },
    Provider {
        id: "barracudanetworks.com",
        company: "Barracuda",
        asns: &[15324, 13009],
        kind: Kind::Gateway,
        mx: MxStyle::PerCustomer(&[
            (10, "d{}a.ess.barracudanetworks.com"),
            (10, "d{}b.ess.barracudanetworks.com"),
        ]),
        frontend: "mx-inbound{n}.ess.barracudanetworks.com",
        banner_tail: "ESMTP (ESS)",
        cert_names: &["*.ess.barracudanetworks.com"],
        pool: 6,
        share: 0.015,
    },
    Provider {
        id: "zoho.com",
        company: "Zoho",
        asns: &[2639],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[
            (10, "mx.zoho.com"),
            (20, "mx2.zoho.com"),
            (50, "mx3.zoho.com"),
        ]),
        frontend: "mx.zoho.com",
        banner_tail: "SMTP Server ready",
        cert_names: &["mx.zoho.com", "mx2.zoho.com", "mx3.zoho.com", "*.zoho.com"],
        pool: 3,
        share: 0.015,
    },
    Provider {
        id: "ovh.net",
        company: "OVH",
        asns: &[16276],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[
            (1, "mx1.mail.ovh.net"),
            (5, "mx2.mail.ovh.net"),
            (100, "mx3.mail.ovh.net"),
        ]),
        frontend: "mx{n}.mail.ovh.net",
        banner_tail: "ESMTP OVH",
        cert_names: &["*.mail.ovh.net"],
        pool: 3,
        share: 0.015,
    },
    Provider {
        id: "rzone.de",
        company: "Strato",
        asns: &[6724],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[(5, "smtpin.rzone.de")]),
        frontend: "smtpin.rzone.de",
        banner_tail: "(RZmta) ESMTP",
        cert_names: &["smtpin.rzone.de", "*.rzone.de"],
        pool: 2,
        share: 0.01,
    },
    Provider {
        id: "messagingengine.com",
        company: "Fastmail",
        asns: &[11403],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[
            (10, "in1-smtp.messagingengine.com"),
            (20, "in2-smtp.messagingengine.com"),
        ]),
        frontend: "mx{n}.messagingengine.com",
        banner_tail: "ESMTP ready",
        cert_names: &["*.messagingengine.com"],
        pool: 2,
        share: 0.005,
    },
    Provider {
        id: "gandi.net",
        company: "Gandi",
        asns: &[29169],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[(10, "spool.mail.gandi.net"), (50, "fb.mail.gandi.net")]),
        frontend: "spool{n}.mail.gandi.net",
        banner_tail: "ESMTP Postfix",
        cert_names: &["*.mail.gandi.net"],
        pool: 2,
        share: 0.005,
    },
    Provider {
        id: "privateemail.com",
        company: "NameCheap",
        asns: &[22612],
        kind: Kind::Mailbox,
        mx: MxStyle::Shared(&[(10, "mx1.privateemail.com"), (10, "mx2.privateemail.com")]),
        frontend: "mx{n}.privateemail.com",
        banner_tail: "ESMTP Postfix",
        cert_names: &["*.privateemail.com"],
        pool: 2,
        share: 0.008,
    },
    Provider {
        id: "bluehost.com",
        company: "EIG",
        asns: &[46606],
        kind: Kind::Hosting,
        mx: MxStyle::HostingDefault,
        frontend: "box{n}.bluehost.com",
        banner_tail: "ESMTP Exim 4.96.2 #2",
        cert_names: &["*.bluehost.com", "bluehost.com"],
        pool: 64,
        share: 0.012,
    },
    Provider {
        id: "web-hosting.com",
        company: "NameCheap",
        asns: &[22612],
        kind: Kind::Hosting,
        mx: MxStyle::HostingDefault,
        frontend: "server{n}.web-hosting.com",
        banner_tail: "ESMTP Exim 4.96.2 #2",
        cert_names: &["*.web-hosting.com"],
        pool: 64,
        share: 0.008,
    },
];

const GOOGLE: usize = 0;
const MICROSOFT: usize = 1;
const GODADDY: usize = 2;
const OVH: usize = 9;

/// The scenarios besides plain provider customers, with their shares. Each hard case gets 1.5%
/// so a 10,000-domain world has each above 1% with margin; what is left is self-hosted.
pub const SCENARIOS: [(Scenario, f64); 12] = [
    (Scenario::Vanity(GOOGLE), 0.015),
    (Scenario::Vanity(MICROSOFT), 0.012),
    (Scenario::VpsCustomer(GODADDY), 0.008),
    (Scenario::VpsCustomer(OVH), 0.007),
    (Scenario::FakeBanner, 0.015),
    (Scenario::Split, 0.015),
    (Scenario::NullMx, 0.015),
    (Scenario::ImplicitMx, 0.015),
    (Scenario::Nolisting, 0.015),
    (Scenario::DeadPrimary, 0.015),
    (Scenario::Ipv6Only, 0.015),
    (Scenario::SelfHosted, 0.0), // the rest
];

/// Shares of certificate/STARTTLS defects among plain self-hosted servers.
const SELF_DEFECT: f64 = 0.055;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Provider(usize),
    Vanity(usize),
    VpsCustomer(usize),
    FakeBanner,
    Split,
    NullMx,
    ImplicitMx,
    Nolisting,
    DeadPrimary,
    Ipv6Only,
    SelfHosted,
}

/// The cumulative scenario table (probability, scenario).
fn scenario_table() -> Vec<(f64, Scenario)> {
    let mut v = Vec::new();
    let mut acc = 0.0;
    for (i, p) in PROVIDERS.iter().enumerate() {
        acc += p.share;
        v.push((acc, Scenario::Provider(i)));
    }
    for (s, w) in SCENARIOS {
        if w > 0.0 {
            acc += w;
            v.push((acc, s));
        }
    }
    v.push((1.0, Scenario::SelfHosted));
    v
}

/// The expected share of each company (weighted truth) in the mix; self-hosted under "".
pub fn expected_company_shares() -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    let mut prev = 0.0;
    for (c, s) in scenario_table() {
        let w = c - prev;
        prev = c;
        match s {
            Scenario::Provider(i) | Scenario::Vanity(i) => {
                *m.entry(PROVIDERS[i].company.to_string()).or_insert(0.0) += w
            }
            Scenario::Split => {
                for i in [GOOGLE, MICROSOFT] {
                    *m.entry(PROVIDERS[i].company.to_string()).or_insert(0.0) += w / 2.0;
                }
            }
            Scenario::NullMx => {}
            _ => *m.entry(String::new()).or_insert(0.0) += w,
        }
    }
    m
}

/// SplitMix64: small, fast, and fixed forever (the world must not change with a crate update).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const WORDS: [&str; 16] = [
    "acme", "blue", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "iris", "juniper",
    "kestrel", "lumen", "maple", "nova", "orchid", "pine",
];

const SOFTWARE: [&str; 4] = [
    "ESMTP Postfix",
    "ESMTP Exim 4.97",
    "ESMTP Sendmail 8.17.1",
    "Microsoft ESMTP MAIL Service ready",
];

fn ehlo_lines(host: &str, starttls: bool) -> Vec<String> {
    let mut v = vec![
        format!("250-{host} Hello"),
        "250-PIPELINING".to_string(),
        "250-SIZE 52428800".to_string(),
    ];
    if starttls {
        v.push("250-STARTTLS".to_string());
    }
    v.push("250 8BITMIME".to_string());
    v
}

fn persona(name: String, addr: IpAddr, banner: String, host: &str) -> Persona {
    Persona {
        name,
        banner: vec![banner],
        ehlo: ehlo_lines(host, true),
        ehlo_reject: None,
        helo: Vec::new(),
        starttls: StarttlsMode::Accept,
        starttls_reply: None,
        inject: None,
        cert: CertKind::Ca,
        rsa: false,
        tls: Default::default(),
        delay_ms: 0,
        step_delay_ms: Default::default(),
        failure: Failure::None,
        note: String::new(),
        cert_names: Vec::new(),
        addr: Some(addr),
    }
}

/// Address of provider `k`'s `i`-th host: /18 blocks cycle over its ASNs.
fn provider_addr(k: usize, i: u32) -> Ipv4Addr {
    let nsub = PROVIDERS[k].asns.len().min(4) as u32;
    let sub = i % nsub;
    let j = i / nsub;
    Ipv4Addr::new(
        127,
        160 + k as u8,
        (64 * sub + j / 250) as u8,
        (j % 250 + 1) as u8,
    )
}

/// First index of provider addresses used for VPS customers (after the front-ends).
const VPS_BASE: u32 = 1000;

fn frontend_name(p: &Provider, n: u32) -> String {
    p.frontend.replace("{n}", &(n + 1).to_string())
}

/// Everything written while the world is generated.
pub(crate) struct Writers<'a> {
    zone: &'a mut dyn Write,
    personas: &'a mut dyn Write,
    truth: &'a mut dyn Write,
    first_persona: bool,
}

impl Writers<'_> {
    fn persona(&mut self, p: &Persona) -> Result<(), GenWriteError> {
        self.personas
            .write_all(if self.first_persona { b"[\n" } else { b",\n" })
            .map_err(to(PERSONAS_FILE))?;
        self.first_persona = false;
        serde_json::to_writer(&mut *self.personas, p)
            .map_err(std::io::Error::from)
            .map_err(to(PERSONAS_FILE))?;
        Ok(())
    }
}

/// Counts of what was generated (for world.json and tests).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WorldSummary {
    pub seed: u64,
    pub domains: u64,
    pub port: u16,
    pub zone_origin: String,
    pub personas: u64,
    pub classes: BTreeMap<String, u64>,
    pub files: Vec<String>,
}

/// Generates a world of `n` domains into the writers (the CA and world.json are separate).
fn generate_into(n: u64, seed: u64, w: &mut Writers) -> Result<WorldSummary, GenWriteError> {
    let mut sum = WorldSummary {
        seed,
        domains: n,
        port: WORLD_PORT,
        zone_origin: ".".into(),
        ..Default::default()
    };
    writeln!(
        w.zone,
        "; mxinfer sim world, seed {seed}, {n} domains: the root zone of the simulated Internet\n\
         $TTL 3600\n\
         .\tIN\tSOA\tns.sim. hostmaster.sim. 1 3600 600 86400 300\n\
         .\tIN\tNS\tns.sim.\n\
         ns.sim.\tIN\tA\t127.0.0.53"
    )
    .map_err(to(ZONE_FILE))?;
    // Provider front-ends: personas and the shared names.
    for (k, p) in PROVIDERS.iter().enumerate() {
        for i in 0..p.pool {
            let addr = IpAddr::V4(provider_addr(k, i));
            let fe = frontend_name(p, i);
            let mut per = persona(
                format!("prov-{}", p.id),
                addr,
                format!(
                    "220 {fe} {}",
                    p.banner_tail.replace("{n}", &(i + 1).to_string())
                ),
                &fe,
            );
            per.cert_names = p.cert_names.iter().map(|s| s.to_string()).collect();
            per.delay_ms = 5 + (i as u64 * 7) % 20;
            per.note = format!("{} front-end", p.company);
            w.persona(&per)?;
            sum.personas += 1;
        }
        if let MxStyle::Shared(names) = p.mx {
            for (j, (_, name)) in names.iter().enumerate() {
                for a in pool_addrs(k, j as u64) {
                    writeln!(w.zone, "{name}.\tIN\tA\t{a}").map_err(to(ZONE_FILE))?;
                }
            }
        }
    }
    let table = scenario_table();
    let mut self_counter: u32 = 0;
    let mut vps_counter = [0u32; 2];
    let mut next_self = || -> Ipv4Addr {
        loop {
            let a = Ipv4Addr::from(0x7f40_0000u32 + 1 + self_counter);
            self_counter += 1;
            let last = a.octets()[3];
            if last != 0 && last != 255 {
                return a;
            }
        }
    };
    let mut zone = String::with_capacity(256);
    for i in 0..n {
        let mut rng = Rng::new(seed ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let word = WORDS[rng.below(WORDS.len() as u64) as usize];
        let suffix = SUFFIXES[rng.below(SUFFIXES.len() as u64) as usize];
        let d = format!("{word}{i}.{suffix}");
        let u = rng.f64();
        let sc = table
            .iter()
            .find(|(c, _)| u < *c)
            .map(|x| x.1)
            .unwrap_or(Scenario::SelfHosted);
        // Unique per domain: the index, then four random hex digits.
        let token = format!("{i:x}{:04x}", rng.below(0x1_0000));
        zone.clear();
        let mut classes: Vec<&str> = Vec::new();
        let mut note = String::new();
        let prov = |k: usize, weight: f64| TruthProvider {
            id: PROVIDERS[k].id.into(),
            company: Some(PROVIDERS[k].company.into()),
            weight,
        };
        let me = TruthProvider {
            id: d.clone(),
            company: None,
            weight: 1.0,
        };
        let mut providers = Vec::new();
        match sc {
            Scenario::Provider(k) => {
                provider_mx(k, &d, &token, None, &mut zone, &mut rng);
                providers.push(prov(k, 1.0));
                if PROVIDERS[k].kind == Kind::Gateway {
                    classes.push("gateway");
                    let mb = if rng.below(2) == 0 { GOOGLE } else { MICROSOFT };
                    note = format!(
                        "filtering gateway in front of a mailbox at {}",
                        PROVIDERS[mb].company
                    );
                }
                if PROVIDERS[k].kind == Kind::Hosting {
                    classes.push("hosting-default-mx");
                    note = "the hosting company's default mx.<domain> name".into();
                }
            }
            Scenario::Vanity(k) => {
                let a = pool_addrs(k, rng.next_u64())[0];
                let _ = writeln!(zone, "{d}.\tIN\tMX\t10 mx.{d}.\nmx.{d}.\tIN\tA\t{a}");
                providers.push(prov(k, 1.0));
                classes.push("vanity-mx");
                note = format!(
                    "mx.{d} is a {} server presenting its certificate",
                    PROVIDERS[k].company
                );
            }
            Scenario::Split => {
                // One exchanger of each at equal preference: senders pick either at random,
                // so each receives half (METHOD.md 8 weighs each primary exchanger 1/k).
                let _ = writeln!(zone, "{d}.\tIN\tMX\t10 aspmx.l.google.com.");
                provider_mx(MICROSOFT, &d, &token, Some(10), &mut zone, &mut rng);
                providers.push(prov(GOOGLE, 0.5));
                providers.push(prov(MICROSOFT, 0.5));
                classes.push("split");
            }
            Scenario::NullMx => {
                let _ = writeln!(zone, "{d}.\tIN\tMX\t0 .");
                classes.push("null-mx");
                note = "null MX: the domain takes no mail".into();
            }
            Scenario::VpsCustomer(k) => {
                let idx = usize::from(k == OVH);
                let a = provider_addr(k, VPS_BASE + vps_counter[idx]);
                vps_counter[idx] += 1;
                let o = a.octets();
                let host = if k == OVH {
                    format!("vps-{token}.vps.ovh.net")
                } else {
                    format!("s{}-{}-{}-{}.secureserver.net", o[0], o[1], o[2], o[3])
                };
                let _ = writeln!(zone, "{d}.\tIN\tMX\t10 mail.{d}.\nmail.{d}.\tIN\tA\t{a}");
                let mut p = persona(
                    format!("self-{d}"),
                    IpAddr::V4(a),
                    format!("220 {host} ESMTP Exim 4.96"),
                    &host,
                );
                p.cert_names = vec![format!("mail.{d}")];
                p.delay_ms = rng.below(40);
                p.note = format!("VPS customer of {}", PROVIDERS[k].company);
                w.persona(&p)?;
                sum.personas += 1;
                providers.push(me.clone());
                classes.push("vps-customer");
                note = format!(
                    "self-hosted on a {} VPS with the host's default name",
                    PROVIDERS[k].company
                );
            }
            Scenario::FakeBanner => {
                let a = next_self();
                let _ = writeln!(zone, "{d}.\tIN\tMX\t10 mail.{d}.\nmail.{d}.\tIN\tA\t{a}");
                let mut p = persona(
                    format!("self-{d}"),
                    IpAddr::V4(a),
                    "220 mx.google.com ESMTP fake - gsmtp".into(),
                    "mx.google.com",
                );
                classes.push("fake-banner");
                if rng.below(2) == 0 {
                    p.ehlo = ehlo_lines("mx.google.com", false);
                    classes.push("no-starttls");
                } else {
                    p.cert = CertKind::SelfSigned;
                    p.cert_names = vec!["mx.google.com".into()];
                    classes.push("self-signed");
                }
                p.delay_ms = rng.below(60);
                w.persona(&p)?;
                sum.personas += 1;
                providers.push(me.clone());
                note = "self-hosted server claiming mx.google.com outside Google's AS".into();
            }
            Scenario::ImplicitMx => {
                let a = next_self();
                let _ = writeln!(zone, "{d}.\tIN\tA\t{a}");
                self_persona(w, &d, &d, a, &mut rng, &mut classes)?;
                sum.personas += 1;
                providers.push(me.clone());
                classes.push("implicit-mx");
            }
            Scenario::Nolisting => {
                let dark = next_self();
                let a = next_self();
                let _ = writeln!(
                    zone,
                    "{d}.\tIN\tMX\t10 mx0.{d}.\n{d}.\tIN\tMX\t20 mail.{d}.\n\
                     mx0.{d}.\tIN\tA\t{dark}\nmail.{d}.\tIN\tA\t{a}"
                );
                self_persona(w, &d, &format!("mail.{d}"), a, &mut rng, &mut classes)?;
                sum.personas += 1;
                providers.push(me.clone());
                classes.push("nolisting");
                note = "the primary never listens (nolisting); mail goes to the secondary".into();
            }
            Scenario::DeadPrimary => {
                let dead = next_self();
                let a = next_self();
                let _ = writeln!(
                    zone,
                    "{d}.\tIN\tMX\t10 mail.{d}.\n{d}.\tIN\tMX\t20 backup.{d}.\n\
                     mail.{d}.\tIN\tA\t{dead}\nbackup.{d}.\tIN\tA\t{a}"
                );
                let mut p = persona(
                    format!("dead-{d}"),
                    IpAddr::V4(dead),
                    format!("220 mail.{d} ESMTP"),
                    &format!("mail.{d}"),
                );
                p.failure = Failure::Tarpit;
                p.note = "dead primary: accepts and never speaks".into();
                w.persona(&p)?;
                self_persona(w, &d, &format!("backup.{d}"), a, &mut rng, &mut classes)?;
                sum.personas += 2;
                providers.push(me.clone());
                classes.push("dead-primary");
            }
            Scenario::Ipv6Only => {
                let a = Ipv6Addr::new(0xfd00, 0x6d78, 0, 0, 0, 0, (i >> 16) as u16, i as u16);
                let _ = writeln!(zone, "{d}.\tIN\tMX\t10 mail.{d}.\nmail.{d}.\tIN\tAAAA\t{a}");
                let mut p = persona(
                    format!("self-{d}"),
                    IpAddr::V6(a),
                    format!("220 mail.{d} ESMTP Postfix"),
                    &format!("mail.{d}"),
                );
                p.cert_names = vec![format!("mail.{d}")];
                w.persona(&p)?;
                sum.personas += 1;
                providers.push(me.clone());
                classes.push("ipv6-only");
            }
            Scenario::SelfHosted => {
                let a = next_self();
                let host = ["mail", "mx", "smtp"][rng.below(3) as usize];
                let _ = writeln!(
                    zone,
                    "{d}.\tIN\tMX\t10 {host}.{d}.\n{host}.{d}.\tIN\tA\t{a}"
                );
                self_persona(w, &d, &format!("{host}.{d}"), a, &mut rng, &mut classes)?;
                sum.personas += 1;
                providers.push(me.clone());
            }
        }
        w.zone.write_all(zone.as_bytes()).map_err(to(ZONE_FILE))?;
        for c in &classes {
            *sum.classes.entry(c.to_string()).or_insert(0) += 1;
        }
        let t = Truth {
            domain: d,
            providers,
            classes: classes.iter().map(|s| s.to_string()).collect(),
            note: (!note.is_empty()).then_some(note),
        };
        serde_json::to_writer(&mut *w.truth, &t)
            .map_err(std::io::Error::from)
            .map_err(to(TRUTH_FILE))?;
        w.truth.write_all(b"\n").map_err(to(TRUTH_FILE))?;
    }
    if w.first_persona {
        w.personas.write_all(b"[").map_err(to(PERSONAS_FILE))?;
    }
    w.personas.write_all(b"\n]\n").map_err(to(PERSONAS_FILE))?;
    // Provider names per customer are written in provider_mx; nothing else to flush here.
    Ok(sum)
}

/// The two pool addresses behind one provider name (by a hash `h`).
fn pool_addrs(k: usize, h: u64) -> [Ipv4Addr; 2] {
    let pool = PROVIDERS[k].pool as u64;
    let a = (h.wrapping_mul(2)) % pool;
    [
        provider_addr(k, a as u32),
        provider_addr(k, ((a + 1) % pool) as u32),
    ]
}

/// Writes a customer's MX records (and per-customer names) for provider `k`; `pref`
/// overrides every preference (equal-preference splits).
fn provider_mx(
    k: usize,
    d: &str,
    token: &str,
    pref: Option<u16>,
    zone: &mut String,
    rng: &mut Rng,
) {
    let p = &PROVIDERS[k];
    match p.mx {
        MxStyle::Shared(names) => {
            for (pr, name) in names {
                let _ = writeln!(zone, "{d}.\tIN\tMX\t{} {name}.", pref.unwrap_or(*pr));
            }
        }
        MxStyle::PerCustomer(names) => {
            let cust = if k == MICROSOFT {
                d.replace('.', "-")
            } else {
                token.to_string()
            };
            let h = rng.next_u64();
            for (j, (pr, pat)) in names.iter().enumerate() {
                let name = pat.replace("{}", &cust);
                let _ = writeln!(zone, "{d}.\tIN\tMX\t{} {name}.", pref.unwrap_or(*pr));
                for a in pool_addrs(k, h.wrapping_add(j as u64)) {
                    let _ = writeln!(zone, "{name}.\tIN\tA\t{a}");
                }
            }
        }
        MxStyle::HostingDefault => {
            let box_n = rng.below(p.pool as u64) as u32;
            let a = provider_addr(k, box_n);
            let _ = writeln!(
                zone,
                "{d}.\tIN\tMX\t{} mx.{d}.\nmx.{d}.\tIN\tA\t{a}",
                pref.unwrap_or(0)
            );
        }
    }
}

/// A self-hosted server for `d` named `host`, with its certificate/STARTTLS defect if drawn.
fn self_persona(
    w: &mut Writers,
    d: &str,
    host: &str,
    a: Ipv4Addr,
    rng: &mut Rng,
    classes: &mut Vec<&'static str>,
) -> Result<(), GenWriteError> {
    let sw = SOFTWARE[rng.below(SOFTWARE.len() as u64) as usize];
    let mut p = persona(
        format!("self-{d}"),
        IpAddr::V4(a),
        format!("220 {host} {sw}"),
        host,
    );
    p.cert_names = vec![host.to_string()];
    p.delay_ms = rng.below(80);
    let u = rng.f64();
    if u < SELF_DEFECT {
        p.cert = CertKind::SelfSigned;
        classes.push("self-signed");
    } else if u < 2.0 * SELF_DEFECT {
        p.cert = CertKind::Expired;
        classes.push("expired-cert");
    } else if u < 3.0 * SELF_DEFECT {
        // The organisation's web certificate reused on its mail server: trusted, but not
        // for the exchanger's name (the commonest wrong-name case). Its names are the
        // domain's own, so the operator stays the domain itself.
        p.cert = CertKind::Ca;
        p.cert_names = vec![format!("www.{d}"), d.to_string()];
        classes.push("wrong-name-cert");
    } else if u < 4.0 * SELF_DEFECT {
        p.ehlo = ehlo_lines(host, false);
        classes.push("no-starttls");
    }
    w.persona(&p)
}

/// The pfx2as lines of the world (CAIDA RouteViews format: prefix, length, AS).
pub fn pfx2as() -> String {
    let mut s = String::new();
    for (k, p) in PROVIDERS.iter().enumerate() {
        let nsub = p.asns.len().min(4);
        for (j, asn) in p.asns.iter().take(nsub).enumerate() {
            let _ = writeln!(s, "127.{}.{}.0\t18\t{asn}", 160 + k, 64 * j);
        }
    }
    for n in 0..64u32 {
        let _ = writeln!(s, "127.{}.0.0\t16\t{}", 64 + n, 4_200_000_000u32 + n);
    }
    let _ = writeln!(s, "fd00:6d78::\t32\t4200000100");
    s
}

/// The Public Suffix List the labeller embeds, read from data/ (never through the labeller:
/// the world must not be built by the code it judges).
const EMBEDDED_PSL: &str = include_str!("../../../data/public_suffix_list.dat");

/// The embedded Public Suffix List plus the world's suffixes (in the ICANN section).
pub fn psl() -> String {
    let list = EMBEDDED_PSL;
    let end = "// ===END ICANN DOMAINS===";
    let add = format!(
        "// mxinfer sim world suffixes (not real TLDs)\n{}\n\n",
        SUFFIXES.join("\n")
    );
    match list.find(end) {
        Some(i) => format!("{}{add}{}", &list[..i], &list[i..]),
        None => format!("{list}\n{add}"),
    }
}

/// Writes `contents` to `path`.
fn write_file(path: PathBuf, contents: impl AsRef<[u8]>) -> Result<(), WorldError> {
    std::fs::write(&path, contents).map_err(|source| WorldError::Write { path, source })
}

/// Reads `path` as text.
fn read_file(path: PathBuf) -> Result<(String, PathBuf), WorldError> {
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((text, path)),
        Err(source) => Err(WorldError::Read { path, source }),
    }
}

/// Writes a world of `n` domains into `dir`.
pub fn write_world(dir: &Path, n: u64, seed: u64) -> Result<WorldSummary, WorldError> {
    std::fs::create_dir_all(dir).map_err(|source| WorldError::Create {
        path: dir.to_path_buf(),
        source,
    })?;
    let create = |name: &str| -> Result<std::io::BufWriter<std::fs::File>, WorldError> {
        let path = dir.join(name);
        match std::fs::File::create(&path) {
            Ok(f) => Ok(std::io::BufWriter::with_capacity(1 << 20, f)),
            Err(source) => Err(WorldError::Create { path, source }),
        }
    };
    let (mut z, mut p, mut t) = (
        create(ZONE_FILE)?,
        create(PERSONAS_FILE)?,
        create(TRUTH_FILE)?,
    );
    let mut w = Writers {
        zone: &mut z,
        personas: &mut p,
        truth: &mut t,
        first_persona: true,
    };
    let written = |e: GenWriteError| WorldError::Write {
        path: dir.join(e.file),
        source: e.source,
    };
    let mut sum = generate_into(n, seed, &mut w).map_err(written)?;
    z.flush().map_err(to(ZONE_FILE)).map_err(written)?;
    p.flush().map_err(to(PERSONAS_FILE)).map_err(written)?;
    t.flush().map_err(to(TRUTH_FILE)).map_err(written)?;
    write_file(dir.join("pfx2as.txt"), pfx2as())?;
    write_file(dir.join("psl.dat"), psl())?;
    let ca = TestCa::from_seed(seed).map_err(|source| WorldError::Ca { seed, source })?;
    write_file(dir.join("ca.pem"), &ca.cert_pem)?;
    write_file(dir.join("intermediate.pem"), &ca.inter_pem)?;
    sum.files = [
        ZONE_FILE,
        PERSONAS_FILE,
        "pfx2as.txt",
        TRUTH_FILE,
        "ca.pem",
        "intermediate.pem",
        "psl.dat",
    ]
    .map(String::from)
    .to_vec();
    let path = dir.join("world.json");
    let mut j = match serde_json::to_string_pretty(&sum) {
        Ok(j) => j,
        Err(source) => return Err(WorldError::SerializeSummary { path, source }),
    };
    j.push('\n');
    write_file(path, j)?;
    Ok(sum)
}

/// Reads a world's personas (all, or those whose address is in `only`).
pub fn load_world_personas(
    dir: &Path,
    only: Option<&[IpAddr]>,
) -> Result<Vec<Persona>, WorldError> {
    let (text, path) = read_file(dir.join(PERSONAS_FILE))?;
    let all = super::farm::load_personas(&text)
        .map_err(|source| WorldError::Personas { path, source })?;
    Ok(all
        .into_iter()
        .filter(|p| match (only, p.addr) {
            (Some(o), Some(a)) => o.contains(&a),
            (None, _) => true,
            _ => false,
        })
        .collect())
}

/// The seed of a world directory (from world.json), for [`TestCa::from_seed`].
pub fn world_seed(dir: &Path) -> Result<u64, WorldError> {
    let (text, path) = read_file(dir.join("world.json"))?;
    match serde_json::from_str::<WorldSummary>(&text) {
        Ok(s) => Ok(s.seed),
        Err(source) => Err(WorldError::ParseSummary { path, source }),
    }
}

/// What `mxinfer sim serve` serves and where.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// A directory written by [`write_world`].
    pub dir: PathBuf,
    /// UDP (and TCP) address of the DNS server (loopback).
    pub dns: std::net::SocketAddr,
    /// Serve DNS only (no SMTP farm).
    pub no_farm: bool,
    /// SMTP port of every persona; 0 picks a free one (the world's own is [`WORLD_PORT`]).
    pub port: u16,
    /// Log every SMTP command the farm receives (address, tab, command) to this file.
    pub command_log: Option<PathBuf>,
    /// Also serve the IPv6-only exchangers (fd00:6d78::/32).
    pub ipv6: bool,
    /// Serve the farm only (the zone elsewhere, e.g. loaded into NSD).
    pub no_dns: bool,
    /// Serve only the personas whose position in personas.json is I modulo N.
    pub shard: Option<(usize, usize)>,
    /// Worker threads of the farm's runtime.
    pub threads: usize,
    /// Keep every SMTP command in memory with its arrival time (`Farm::commands`; tests).
    pub keep_log: bool,
}

/// `mxinfer sim serve`: the world's zone on `args.dns` (unless `no_dns`) and (unless
/// `no_farm`) its loopback personas (all, or one `shard`) on `args.port` ([`WORLD_PORT`] by
/// default), leaves issued by the world's CA. The IPv6-only exchangers are served with
/// `ipv6` only (their prefix must be local: a network namespace, see `tests/netns/ipv6_netns.rs`).
pub fn serve(
    args: &ServeSettings,
) -> Result<
    (
        Option<super::dns::DnsServer>,
        Option<super::farm::Farm>,
        String,
    ),
    WorldError,
> {
    let mut msg = String::from("sim serve:");
    let dns = if args.no_dns {
        None
    } else {
        let (zone, path) = read_file(args.dir.join(ZONE_FILE))?;
        let db =
            super::dns::ZoneDb::parse(&zone).map_err(|source| WorldError::Zone { path, source })?;
        let dns = super::dns::DnsServer::start(args.dns, db)
            .map_err(|source| WorldError::Dns { source })?;
        msg.push_str(&format!(" DNS (zone .) on udp and tcp {};", dns.addr));
        Some(dns)
    };
    let farm = if args.no_farm {
        None
    } else {
        let hosts: Vec<_> = load_world_personas(&args.dir, None)?
            .into_iter()
            .enumerate()
            .filter(|(i, _)| args.shard.is_none_or(|(k, n)| i % n == k))
            .filter_map(|(_, p)| match p.addr {
                Some(a) if a.is_loopback() || (args.ipv6 && in_sim_ipv6_prefix(a)) => {
                    Some((a, p, std::time::Duration::ZERO))
                }
                _ => None,
            })
            .collect();
        let n = hosts.len();
        let seed = world_seed(&args.dir)?;
        let ca = TestCa::from_seed(seed).map_err(|source| WorldError::Ca { seed, source })?;
        let farm = super::farm::Farm::start_with_ca(
            super::farm::FarmSpec {
                port: args.port,
                hosts,
                keep_log: args.keep_log,
                log_file: args.command_log.clone(),
                threads: args.threads,
            },
            ca,
        )
        .map_err(|source| WorldError::Farm {
            dir: args.dir.clone(),
            source,
        })?;
        msg.push_str(&format!(
            " SMTP farm: {n} addresses{} on port {} (roots: {}/ca.pem)",
            args.shard
                .map(|(k, n)| format!(" (shard {k}/{n})"))
                .unwrap_or_default(),
            farm.port,
            args.dir.display()
        ));
        Some(farm)
    };
    Ok((dns, farm, msg))
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn writers<'a>(
        z: &'a mut Vec<u8>,
        p: &'a mut Vec<u8>,
        t: &'a mut Vec<u8>,
    ) -> Writers<'a> {
        Writers {
            zone: z,
            personas: p,
            truth: t,
            first_persona: true,
        }
    }

    pub(crate) fn generate(n: u64, seed: u64, w: &mut Writers) -> WorldSummary {
        generate_into(n, seed, w).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen_mem(n: u64, seed: u64) -> (String, String, Vec<Truth>, WorldSummary) {
        let (mut z, mut p, mut t) = (Vec::new(), Vec::new(), Vec::new());
        let mut w = Writers {
            zone: &mut z,
            personas: &mut p,
            truth: &mut t,
            first_persona: true,
        };
        let s = generate_into(n, seed, &mut w).unwrap();
        let truth = String::from_utf8(t)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (
            String::from_utf8(z).unwrap(),
            String::from_utf8(p).unwrap(),
            truth,
            s,
        )
    }

    #[test]
    fn same_seed_same_world_other_seed_other_world() {
        let a = gen_mem(2000, 42);
        let b = gen_mem(2000, 42);
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
        assert_eq!(a.2, b.2);
        let c = gen_mem(2000, 43);
        assert_ne!(a.0, c.0);
    }

    #[test]
    fn every_hard_case_is_at_least_one_percent_of_10000() {
        for seed in [1, 2, 3] {
            let (_, personas, truth, sum) = gen_mem(10_000, seed);
            for c in CLASSES {
                let k = truth
                    .iter()
                    .filter(|t| t.classes.iter().any(|x| x == c))
                    .count();
                assert!(k >= 100, "seed {seed}: class {c}: {k} of 10000");
                assert_eq!(sum.classes.get(c).copied().unwrap_or(0), k as u64);
            }
            let ps = super::super::farm::load_personas(&personas).unwrap();
            assert_eq!(ps.len() as u64, sum.personas);
            assert!(ps.iter().all(|p| p.addr.is_some()));
        }
    }

    #[test]
    fn weights_sum_to_one_and_shares_follow_the_mix() {
        let n = 20_000;
        let (_, _, truth, _) = gen_mem(n, 9);
        let mut got: BTreeMap<String, f64> = BTreeMap::new();
        for t in &truth {
            let s: f64 = t.providers.iter().map(|p| p.weight).sum();
            if t.classes.iter().any(|c| c == "null-mx") {
                assert!(t.providers.is_empty());
            } else {
                assert!((s - 1.0).abs() < 1e-9, "{t:?}");
            }
            for p in &t.providers {
                *got.entry(p.company.clone().unwrap_or_default())
                    .or_insert(0.0) += p.weight / n as f64;
            }
        }
        let want = expected_company_shares();
        for (c, w) in &want {
            let g = got.get(c).copied().unwrap_or(0.0);
            let tol = 4.0 * (w * (1.0 - w) / n as f64).sqrt() + 1e-3;
            assert!((g - w).abs() < tol, "{c:?}: got {g:.4}, want {w:.4}");
        }
        // The mix sits within the published ranges (METHOD.md 12, popular vs .com).
        assert!((0.115..0.333).contains(&want["Google"]));
        assert!((0.07..0.126).contains(&want["Microsoft"]));
        assert!((0.018..0.353).contains(&want["GoDaddy"]));
        assert!(want[""] > 0.25, "a long tail of self-hosted domains");
    }

    #[test]
    fn a_split_is_one_exchanger_of_each_provider_at_equal_preference() {
        let (zone, _, truth, _) = gen_mem(3000, 17);
        let mut mx: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for l in zone.lines() {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() == 4 && f[2] == "MX" {
                mx.entry(f[0]).or_default().push(f[3]);
            }
        }
        let mut n = 0;
        for t in truth
            .iter()
            .filter(|t| t.classes.iter().any(|c| c == "split"))
        {
            let v = &mx[format!("{}.", t.domain).as_str()];
            assert_eq!(v.len(), 2, "{v:?}");
            assert!(
                v[0] == "10 aspmx.l.google.com." && v[1].ends_with(".mail.protection.outlook.com.")
            );
            n += 1;
        }
        assert!(n > 20);
    }

    #[test]
    fn missing_and_bad_world_files_are_named() {
        let dir = std::env::temp_dir().join(format!("mxinfer-sim-errors-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let e = world_seed(&dir).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("reading {}", dir.join("world.json").display())
        );
        assert!(matches!(&e, WorldError::Read { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound));
        std::fs::write(dir.join("personas.json"), "[{").unwrap();
        let e = load_world_personas(&dir, None).unwrap_err();
        let full = crate::chain(&e);
        let want = format!(
            "loading {}: parsing personas: ",
            dir.join("personas.json").display()
        );
        assert!(full.starts_with(&want), "{full}");
        std::fs::write(dir.join("world.zone"), ". IN SOA x\n").unwrap();
        let e = serve(&ServeSettings {
            dir: dir.clone(),
            dns: "127.0.0.1:0".parse().unwrap(),
            no_farm: true,
            port: 0,
            command_log: None,
            ipv6: false,
            no_dns: false,
            shard: None,
            threads: 1,
            keep_log: false,
        })
        .err()
        .unwrap();
        assert_eq!(
            crate::chain(&e),
            format!(
                "parsing {}: line 1: unsupported record \". IN SOA x\"",
                dir.join("world.zone").display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pfx2as_maps_providers_to_their_real_asns() {
        let t = pfx2as();
        assert!(t.contains("127.160.0.0\t18\t15169"));
        assert!(t.contains("127.161.0.0\t18\t8075"));
        for l in t.lines() {
            assert_eq!(l.split('\t').count(), 3, "{l}");
        }
        assert_eq!(provider_addr(GOOGLE, 0), Ipv4Addr::new(127, 160, 0, 1));
    }
}
