//! Rule tests of METHOD.md 2-9: one named case per rule, on small hand-built batches.

use super::*;
use mxinfer_record::{
    Approach, ApproachResult, Approaches, Claim, ClaimReason, DnsStatus, DomainDns, DomainDnsView,
    DomainLabel, ExchangerFlag, ExchangerResult, HostProbe, InputRef, LabelFlag, LabelSource,
    LabelStatus, ProviderShare, SignalOutcome,
};
use serde_json::json;

const COMPANIES: &str = r#"
[[company]]
name = "Google"
ids = ["google.com", "gmail.com", "googlemail.com"]
asns = [15169]
evidence = "test"
[[company.customer_host]]
pattern = "**.google.com"
except = ["mx.google.com"]
applies_to = ["banner"]

[[company]]
name = "Cisco"
ids = ["iphmx.com"]
asns = [16417, 30215]
suggest_id = "iphmx.com"
evidence = "test"

[[company]]
name = "Proofpoint"
ids = ["pphosted.com"]
asns = [26211]
suggest_id = "pphosted.com"
evidence = "test"

[[company]]
name = "GoDaddy"
ids = ["secureserver.net"]
asns = [26496]
evidence = "test"
[[company.customer_host]]
pattern = "s*-*-*-*.secureserver.net"
[[company.customer_host]]
pattern = "ip-**.secureserver.net"

[[company]]
name = "OVH"
ids = ["ovh.net"]
asns = [16276]
evidence = "test"
[[company.customer_host]]
pattern = "vps*.ovh.net"
[[company.customer_host]]
pattern = "ns*.ovh.net"

[[company]]
name = "Microsoft"
ids = ["outlook.com", "microsoft.com"]
asns = [8075]
evidence = "test"
"#;

const ALIASES: &str = "[[alias]]\ntoken = \"bosimpinc*\"\nid = \"eigbox.net\"\n";

fn test_data() -> LabelData {
    LabelData::parse(COMPANIES, ALIASES, "spamhaus.org\n").unwrap()
}

/// Certificate evidence of a probe: trusted?, subject CN, SAN dNSNames.
type CertSpec<'a> = (bool, &'a str, &'a [&'a str]);

fn probe(ip: &str, banner: Option<&str>, ehlo: Option<&str>, cert: Option<CertSpec>) -> HostProbe {
    let mut v = json!({"ip": ip, "port": 25, "status": "ok",
        "started_at": "2026-11-30T00:00:00.000Z", "duration_ms": 1});
    if let Some(b) = banner {
        v["banner"] = json!({"code": 220, "lines": b.split('\n').collect::<Vec<_>>()});
    }
    if let Some(e) = ehlo {
        v["ehlo"] = json!({"code": 250, "lines": e.split('\n').collect::<Vec<_>>()});
    }
    if let Some((trusted, cn, sans)) = cert {
        let mut c = json!({"der": "", "sha256": "", "version": 3, "subject": format!("CN={cn}"),
            "san_dns": sans, "issuer": "CN=Test CA", "serial": "01",
            "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z",
            "key_type": "rsa", "self_signed": !trusted, "is_ca": false});
        if !cn.is_empty() {
            c["subject_cn"] = json!(cn);
        }
        let mut verdict = json!({"trusted": trusted, "name_match": false,
            "checked_at": "2026-11-30T00:00:00Z", "roots": "mozilla"});
        if !trusted {
            verdict["reason"] = json!("self-signed");
        }
        v["tls"] = json!({"stack": "rustls", "established": true, "chain": [c],
            "verdict": verdict});
    }
    serde_json::from_value(v).unwrap()
}

fn dns_status(domain: &str, status: &str) -> DomainDns {
    serde_json::from_value(
        json!({"domain": domain, "input": {"line": 1}, "status": status,
        "config_class": "non-identified", "passes": 1,
        "resolved_at": "2026-11-30T00:00:00.000Z"}),
    )
    .unwrap()
}

/// A resolved domain: exchangers as (name, preference, addresses).
fn dns(domain: &str, mx: &[(&str, u16, &[&str])]) -> DomainDns {
    let exchangers: Vec<_> = mx
        .iter()
        .map(|(n, p, ips)| {
            json!({"name": n, "preference": p, "a": {"status": "ok"},
                "aaaa": {"status": "nodata"},
                "addresses": ips.iter().map(|ip| json!({"ip": ip, "class": "public"}))
                    .collect::<Vec<_>>()})
        })
        .collect();
    let mxr: Vec<_> = mx
        .iter()
        .map(|(n, p, _)| json!({"preference": p, "exchange": n, "ttl": 300}))
        .collect();
    serde_json::from_value(
        json!({"domain": domain, "input": {"line": 1}, "status": "ok",
        "mx": mxr, "exchangers": exchangers, "config_class": "hybrid", "passes": 1,
        "resolved_at": "2026-11-30T00:00:00.000Z"}),
    )
    .unwrap()
}

struct Batch {
    probes: Vec<(HostProbe, Vec<u32>)>,
    domains: Vec<DomainDns>,
    threshold: u64,
    data: LabelData,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            probes: Vec::new(),
            domains: Vec::new(),
            threshold: DEFAULT_THRESHOLD,
            data: test_data(),
        }
    }
    fn p(mut self, p: HostProbe, asns: &[u32]) -> Batch {
        self.probes.push((p, asns.to_vec()));
        self
    }
    fn d(mut self, d: DomainDns) -> Batch {
        self.domains.push(d);
        self
    }
    fn labeller(self) -> Labeller {
        static PSL: std::sync::OnceLock<Psl> = std::sync::OnceLock::new();
        let mut l = Labeller::new(
            PSL.get_or_init(|| Psl::embedded(false)).clone(),
            self.data,
            LabelSettings {
                threshold: self.threshold,
                approach: Approach::Priority,
                compact: false,
            },
        );
        for (p, a) in &self.probes {
            l.add_probe(p, a);
        }
        for d in &self.domains {
            l.add_domain(d);
        }
        l.finish();
        l
    }
    fn run(self) -> Vec<DomainLabel> {
        let l = self.labeller();
        (0..l.len()).map(|i| l.label(i)).collect()
    }
}

/// The priority approach's first exchanger of a label.
fn ex(l: &DomainLabel) -> &ExchangerResult {
    &l.approaches.priority.as_ref().unwrap().exchangers[0]
}

fn id(l: &DomainLabel) -> Option<&str> {
    ex(l).id.as_deref()
}

fn trail(r: &ExchangerResult) -> Vec<(LabelSource, SignalOutcome)> {
    r.trail.iter().map(|t| (t.source, t.outcome)).collect()
}

const GOOGLE_BANNER: &str = "220 mx.google.com ESMTP x - gsmtp";

// ---- METHOD.md 2: the primary set ----

#[test]
fn primary_set_is_lowest_live_preference_and_all_its_exchangers() {
    let out = Batch::new()
        .p(probe("192.0.2.1", Some(GOOGLE_BANNER), None, None), &[])
        .p(probe("192.0.2.2", Some(GOOGLE_BANNER), None, None), &[])
        .p(
            probe("192.0.2.3", Some("220 mx.backup.example ESMTP"), None, None),
            &[],
        )
        .d(dns(
            "a.example",
            &[
                ("alt1.aspmx.l.google.com", 5, &["192.0.2.2"]),
                ("aspmx.l.google.com", 5, &["192.0.2.1"]),
                ("backup.example.net", 10, &["192.0.2.3"]),
            ],
        ))
        .run();
    let l = &out[0];
    assert_eq!(l.status, LabelStatus::Labelled);
    assert_eq!(l.primary_preference, Some(5));
    assert_eq!(l.exchangers.len(), 2);
    assert!(l.dead_preferences.is_empty());
}

#[test]
fn dead_primaries_fall_to_the_next_preference_and_are_recorded() {
    let out = Batch::new()
        .p(probe("192.0.2.3", Some(GOOGLE_BANNER), None, None), &[])
        .d(dns(
            "a.example",
            &[
                ("dead.example.net", 0, &["192.0.2.9"]),
                ("aspmx.l.google.com", 10, &["192.0.2.3"]),
            ],
        ))
        .run();
    let l = &out[0];
    assert_eq!(l.primary_preference, Some(10));
    assert_eq!(l.dead_preferences, vec![0]);
    assert_eq!(id(l), Some("google.com"));
}

#[test]
fn a_dead_exchanger_at_the_primary_preference_stays_in_the_set() {
    // METHOD.md 2.3 read literally: every exchange with the primary preference is in the set,
    // each reduced to its live addresses; one with none is labelled from its MX name.
    let out = Batch::new()
        .p(probe("192.0.2.1", Some(GOOGLE_BANNER), None, None), &[])
        .d(dns(
            "a.example",
            &[
                ("aspmx.l.google.com", 10, &["192.0.2.1"]),
                ("mx.backup.example.net", 10, &["192.0.2.9"]),
            ],
        ))
        .run();
    let l = &out[0];
    assert_eq!(l.exchangers.len(), 2);
    assert!(l.exchangers[1].live.is_empty());
    let r = &l.approaches.priority.as_ref().unwrap().exchangers[1];
    assert_eq!(r.source, Some(LabelSource::Mx));
    assert_eq!(l.providers.len(), 2);
    assert!((l.providers[0].weight - 0.5).abs() < 1e-12);
}

#[test]
fn dead_addresses_of_a_live_exchanger_are_left_out() {
    let out = Batch::new()
        .p(probe("192.0.2.1", Some(GOOGLE_BANNER), None, None), &[])
        .p(
            {
                let mut p = probe("192.0.2.2", None, None, None);
                p.status = mxinfer_record::ProbeStatus::ConnectTimeout;
                p
            },
            &[],
        )
        .d(dns(
            "a.example",
            &[("aspmx.l.google.com", 1, &["192.0.2.1", "192.0.2.2"])],
        ))
        .run();
    assert_eq!(
        out[0].exchangers[0].live,
        vec!["192.0.2.1".parse::<IpAddr>().unwrap()]
    );
}

#[test]
fn a_timeout_after_the_greeting_keeps_the_banner_and_ehlo() {
    // METHOD.md 11: a STARTTLS timeout must not throw away what was already received.
    let mut p = probe(
        "192.0.2.1",
        Some(GOOGLE_BANNER),
        Some("250-mx.google.com at your service"),
        None,
    );
    p.status = mxinfer_record::ProbeStatus::StepTimeout;
    p.step = Some(mxinfer_record::ProbeStep::Starttls);
    let out = Batch::new()
        .p(p, &[])
        .d(dns(
            "a.example",
            &[("mail.a.example.net", 1, &["192.0.2.1"])],
        ))
        .run();
    assert_eq!(out[0].status, LabelStatus::Labelled);
    assert_eq!(id(&out[0]), Some("google.com"));
}

#[test]
fn ipv6_evidence_counts_like_ipv4() {
    let out = Batch::new()
        .p(
            probe("2001:db8::25", Some(GOOGLE_BANNER), None, None),
            &[15169],
        )
        .p(
            probe("192.0.2.1", None, Some("250-mx.google.com hi"), None),
            &[15169],
        )
        .d(dns(
            "a.example",
            &[("aspmx.l.google.com", 1, &["192.0.2.1", "2001:db8::25"])],
        ))
        .run();
    assert_eq!(out[0].exchangers[0].live.len(), 2);
    assert_eq!(id(&out[0]), Some("google.com"));
    assert!(ex(&out[0]).flags.is_empty());
}

#[test]
fn no_live_address_gives_the_mx_label_with_no_smtp_evidence() {
    let out = Batch::new()
        .d(dns(
            "a.example",
            &[("mx.provider.example.net", 10, &["192.0.2.1"])],
        ))
        .run();
    let l = &out[0];
    assert_eq!(l.status, LabelStatus::NoSmtpEvidence);
    assert_eq!(id(l), Some("example.net"));
    assert_eq!(ex(l).source, Some(LabelSource::Mx));
    assert_eq!(l.providers[0].weight, 1.0);
}

// ---- Statuses without exchangers; implicit and null MX ----

#[test]
fn statuses_of_domains_without_exchangers() {
    let cases = [
        ("null-mx", LabelStatus::NullMx),
        ("no-mail", LabelStatus::NoMail),
        ("nxdomain", LabelStatus::DnsFailed),
        ("servfail", LabelStatus::DnsFailed),
        ("timeout", LabelStatus::DnsFailed),
        ("refused", LabelStatus::DnsFailed),
        ("error", LabelStatus::DnsFailed),
    ];
    for (dns_st, want) in cases {
        let out = Batch::new().d(dns_status("a.example", dns_st)).run();
        assert_eq!(out[0].status, want, "{dns_st}");
        for a in [
            Approach::Priority,
            Approach::MxOnly,
            Approach::Certificate,
            Approach::Banner,
        ] {
            assert_eq!(
                out[0].approaches.get(a).unwrap().status,
                want,
                "{dns_st} {a:?}"
            );
            assert!(out[0].approaches.get(a).unwrap().providers.is_empty());
        }
    }
}

#[test]
fn implicit_mx_is_self_hosted_by_its_name() {
    let mut d = dns(
        "shop.example.com",
        &[("shop.example.com", 0, &["192.0.2.1"])],
    );
    d.status = DnsStatus::NoMx;
    d.exchangers[0].flags.push(ExchangerFlag::Implicit);
    let out = Batch::new().d(d).run();
    let l = &out[0];
    assert_eq!(l.status, LabelStatus::NoSmtpEvidence);
    assert!(l.exchangers[0].implicit);
    assert_eq!(id(l), Some("example.com"));
    assert!(l.self_hosted);
    assert!(l.providers[0].self_hosted);
}

#[test]
fn ip_literal_and_bare_mx_names_give_no_id_without_crashing() {
    let out = Batch::new()
        .d(dns("a.example", &[("192.0.2.1", 10, &[])]))
        .d(dns("b.example", &[("localhost", 10, &[])]))
        .run();
    for l in &out {
        assert_eq!(l.status, LabelStatus::NoId);
        assert_eq!(
            trail(ex(l)).last(),
            Some(&(LabelSource::Mx, SignalOutcome::NoId))
        );
        assert!(l.providers.is_empty());
    }
}

// ---- METHOD.md 3 and 4: IDs, certificates, grouping ----

#[test]
fn private_suffix_names_fall_through() {
    // An EC2 customer name has no registered domain under the private section.
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                Some("220 ec2-192-0-2-1.compute-1.amazonaws.com ESMTP"),
                None,
                None,
            ),
            &[],
        )
        .d(dns(
            "a.example",
            &[("mail.a.example.org", 10, &["192.0.2.1"])],
        ))
        .run();
    assert_eq!(ex(&out[0]).source, Some(LabelSource::Mx));
    assert_eq!(id(&out[0]), Some("example.org"));
    assert_eq!(
        trail(ex(&out[0])),
        vec![
            (LabelSource::Certificate, SignalOutcome::NoTrustedName),
            (LabelSource::Banner, SignalOutcome::NoUsableName),
            (LabelSource::Mx, SignalOutcome::Ok)
        ]
    );
}

#[test]
fn only_trusted_certificates_give_names() {
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                Some(GOOGLE_BANNER),
                None,
                Some((false, "mx.evil.example.com", &["mx.evil.example.com"])),
            ),
            &[],
        )
        .d(dns(
            "a.example",
            &[("aspmx.l.google.com", 1, &["192.0.2.1"])],
        ))
        .run();
    assert_eq!(ex(&out[0]).source, Some(LabelSource::Banner));
    assert_eq!(id(&out[0]), Some("google.com"));
}

#[test]
fn certificate_wildcards_and_cn_without_dot() {
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                None,
                None,
                Some((true, "mailserver", &["*.outlook.com"])),
            ),
            &[],
        )
        .d(dns(
            "a.example",
            &[("a-example.mail.protection.outlook.com", 0, &["192.0.2.1"])],
        ))
        .run();
    assert_eq!(ex(&out[0]).source, Some(LabelSource::Certificate));
    assert_eq!(id(&out[0]), Some("outlook.com"));
    assert_eq!(ex(&out[0]).company.as_deref(), Some("Microsoft"));
}

#[test]
fn grouping_names_the_group_after_the_most_popular_registered_domain() {
    // One certificate carries google.com and googlemail.com; googlemail.com alone on two
    // more domains' certificates makes it the more popular name.
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                None,
                None,
                Some((
                    true,
                    "mx.google.com",
                    &["mx.google.com", "*.googlemail.com"],
                )),
            ),
            &[],
        )
        .p(
            probe(
                "192.0.2.2",
                None,
                None,
                Some((true, "mx.googlemail.com", &[])),
            ),
            &[],
        )
        .d(dns(
            "a.example",
            &[("aspmx.l.google.com", 1, &["192.0.2.1"])],
        ))
        .d(dns(
            "b.example",
            &[("mx.googlemail.com", 1, &["192.0.2.2"])],
        ))
        .d(dns(
            "c.example",
            &[("mx.googlemail.com", 1, &["192.0.2.2"])],
        ))
        .run();
    for l in &out {
        assert_eq!(id(l), Some("googlemail.com"), "{}", l.domain);
        assert_eq!(ex(l).company.as_deref(), Some("Google"));
    }
}

#[test]
fn grouping_tie_goes_to_the_smaller_registered_domain_whatever_the_name_order() {
    for sans in [
        &["zz.alpha.example.com", "mx.beta.example.org"][..],
        &["mx.beta.example.org", "zz.alpha.example.com"][..],
    ] {
        let out = Batch::new()
            .p(probe("192.0.2.1", None, None, Some((true, "", sans))), &[])
            .d(dns(
                "a.example",
                &[("mx.beta.example.org", 1, &["192.0.2.1"])],
            ))
            .run();
        // example.com < example.org, although zz… > mx… as whole names.
        assert_eq!(id(&out[0]), Some("example.com"), "{sans:?}");
    }
}

#[test]
fn certificate_disagreement_falls_through_to_the_banner() {
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                Some(GOOGLE_BANNER),
                None,
                Some((true, "mx.one.com", &[])),
            ),
            &[],
        )
        .p(
            probe(
                "192.0.2.2",
                Some(GOOGLE_BANNER),
                None,
                Some((true, "mx.two.net", &[])),
            ),
            &[],
        )
        .d(dns(
            "a.example",
            &[("aspmx.l.google.com", 1, &["192.0.2.1", "192.0.2.2"])],
        ))
        .run();
    let r = ex(&out[0]);
    assert_eq!(
        trail(r),
        vec![
            (LabelSource::Certificate, SignalOutcome::IdsDisagree),
            (LabelSource::Banner, SignalOutcome::Ok)
        ]
    );
    assert_eq!(r.id.as_deref(), Some("google.com"));
}

// ---- METHOD.md 5: banner and EHLO per exchanger ----

#[test]
fn banner_disagreement_falls_through_to_the_mx_name() {
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                Some("220 mx.one.example.com ESMTP"),
                Some("250-mx.two.example.net hello"),
                None,
            ),
            &[],
        )
        .d(dns(
            "a.example",
            &[("mx.three.example.org", 1, &["192.0.2.1"])],
        ))
        .run();
    assert_eq!(
        trail(ex(&out[0])),
        vec![
            (LabelSource::Certificate, SignalOutcome::NoTrustedName),
            (LabelSource::Banner, SignalOutcome::IdsDisagree),
            (LabelSource::Mx, SignalOutcome::Ok)
        ]
    );
    assert_eq!(id(&out[0]), Some("example.org"));
}

#[test]
fn ehlo_alone_gives_the_id_when_the_banner_has_none() {
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                Some("220 ESMTP ready"),
                Some("250-mx.google.com at your service\n250 SIZE 1"),
                None,
            ),
            &[],
        )
        .d(dns("a.example", &[("mail.a.example", 1, &["192.0.2.1"])]))
        .run();
    assert_eq!(id(&out[0]), Some("google.com"));
}

#[test]
fn banner_alias_gives_the_provider() {
    let out = Batch::new()
        .p(
            probe("192.0.2.1", Some("220 bosimpinc12 ESMTP"), None, None),
            &[],
        )
        .d(dns("a.example", &[("mx.a.example.com", 1, &["192.0.2.1"])]))
        .run();
    assert_eq!(id(&out[0]), Some("eigbox.net"));
    assert_eq!(ex(&out[0]).source, Some(LabelSource::Banner));
}

// ---- METHOD.md 7: scores and checks ----

#[test]
fn scores_num_ip_num_mx_num_cert() {
    let mut b = Batch::new()
        .p(probe("192.0.2.1", Some(GOOGLE_BANNER), None, None), &[])
        .p(
            probe(
                "192.0.2.2",
                None,
                None,
                Some((true, "mx.certs.example.com", &[])),
            ),
            &[],
        )
        .p(
            probe(
                "192.0.2.3",
                None,
                None,
                Some((true, "other.certs.example.com", &[])),
            ),
            &[],
        );
    for i in 0..3 {
        b = b.d(dns(
            &format!("g{i}.example"),
            &[("aspmx.l.google.com", 1, &["192.0.2.1"])],
        ));
    }
    b = b.d(dns(
        "c0.example",
        &[("mx.certs.example.com", 1, &["192.0.2.2"])],
    ));
    for i in 1..4 {
        b = b.d(dns(
            &format!("c{i}.example"),
            &[("mx2.certs.example.com", 1, &["192.0.2.3"])],
        ));
    }
    let out = b.run();
    // Banner: max(1, numIP 3, numMX 3) = 3.
    assert_eq!(ex(&out[0]).score, Some(3));
    // Certificate: numIP of 192.0.2.2 is 1, numCert of example.com is 4.
    assert_eq!(ex(&out[3]).score, Some(4));
    // MX: always 1.
    assert_eq!(
        out[0].approaches.mx_only.as_ref().unwrap().exchangers[0].score,
        Some(1)
    );
}

#[test]
fn checks_run_only_strictly_below_the_threshold() {
    let mk = |threshold| {
        let mut b = Batch::new().p(
            probe("192.0.2.1", Some(GOOGLE_BANNER), None, None),
            &[64500],
        );
        b.threshold = threshold;
        b.d(dns(
            "a.example",
            &[("aspmx.l.google.com", 1, &["192.0.2.1"])],
        ))
        .d(dns(
            "b.example",
            &[("aspmx.l.google.com", 1, &["192.0.2.1"])],
        ))
        .run()
    };
    let at = mk(2); // score 2, not below 2
    assert!(!ex(&at[0]).checked && ex(&at[0]).flags.is_empty());
    let below = mk(3);
    assert!(ex(&below[0]).checked);
    assert_eq!(ex(&below[0]).flags, vec![LabelFlag::UnexpectedAs]);
}

#[test]
fn as_check_flags_an_id_claimed_from_outside_its_company() {
    let out = Batch::new()
        .p(
            probe("192.0.2.1", Some(GOOGLE_BANNER), None, None),
            &[64500],
        )
        .d(dns("a.example", &[("mx.a.example", 1, &["192.0.2.1"])]))
        .run();
    let r = ex(&out[0]);
    assert_eq!(
        r.id.as_deref(),
        Some("google.com"),
        "the ID is never overwritten"
    );
    assert_eq!(r.flags, vec![LabelFlag::UnexpectedAs]);
    assert_eq!(out[0].providers[0].credit, "flagged");
}

#[test]
fn as_check_without_any_known_as_does_not_fire() {
    let out = Batch::new()
        .p(probe("192.0.2.1", Some(GOOGLE_BANNER), None, None), &[])
        .d(dns("a.example", &[("mx.a.example", 1, &["192.0.2.1"])]))
        .run();
    let r = ex(&out[0]);
    assert!(r.checked);
    assert!(r.flags.is_empty() && r.suggestion.is_none());
    assert_eq!(out[0].providers[0].credit, "Google");
}

#[test]
fn as_check_inside_the_company_passes() {
    let out = Batch::new()
        .p(
            probe("192.0.2.1", Some(GOOGLE_BANNER), None, None),
            &[15169],
        )
        .d(dns(
            "a.example",
            &[("aspmx.l.google.com", 1, &["192.0.2.1"])],
        ))
        .run();
    assert!(ex(&out[0]).flags.is_empty());
}

#[test]
fn as_check_suggests_cisco_and_proofpoint() {
    let cases = [
        (vec![16417u32], "iphmx.com", "Cisco"),
        (vec![30215], "iphmx.com", "Cisco"),
        (vec![26211], "pphosted.com", "Proofpoint"),
    ];
    for (asns, sug, company) in cases {
        let out = Batch::new()
            .p(
                probe(
                    "192.0.2.1",
                    Some("220 mail.customer.example.com ESMTP"),
                    None,
                    None,
                ),
                &asns,
            )
            .d(dns(
                "customer.example.com",
                &[("mail.customer.example.com", 1, &["192.0.2.1"])],
            ))
            .run();
        let r = ex(&out[0]);
        assert_eq!(
            r.id.as_deref(),
            Some("example.com"),
            "ID kept beside the suggestion"
        );
        assert_eq!(r.suggestion.as_deref(), Some(sug));
        assert_eq!(r.suggested_company.as_deref(), Some(company));
        assert_eq!(
            out[0].providers[0].credit, company,
            "credited to the suggestion"
        );
    }
}

#[test]
fn mx_sourced_ids_get_no_as_check() {
    let out = Batch::new()
        .p(probe("192.0.2.1", Some("220 ESMTP"), None, None), &[16417])
        .d(dns("a.example", &[("mx.google.com", 1, &["192.0.2.1"])]))
        .run();
    let r = ex(&out[0]);
    assert_eq!(r.source, Some(LabelSource::Mx));
    assert!(r.flags.is_empty() && r.suggestion.is_none());
    assert!(!r.checked);
}

#[test]
fn customer_host_patterns_table() {
    let cases: &[(&str, &str, u32, bool)] = &[
        (
            "GoDaddy s1-2-3-4",
            "220 s1-2-3-4.secureserver.net ESMTP",
            26496,
            true,
        ),
        (
            "GoDaddy ip-",
            "220 ip-192-0-2-1.ip.secureserver.net ESMTP",
            26496,
            true,
        ),
        (
            "GoDaddy fleet",
            "220 p3plsmtp01.prod.secureserver.net ESMTP",
            26496,
            false,
        ),
        ("OVH vps", "220 vps12345.ovh.net ESMTP", 16276, true),
        ("OVH ns", "220 ns3001.ovh.net ESMTP", 16276, true),
        ("OVH fleet", "220 mx1.mail.ovh.net ESMTP", 16276, false),
        (
            "google.com other host",
            "220 instance-1.google.com ESMTP",
            15169,
            true,
        ),
        ("mx.google.com", GOOGLE_BANNER, 15169, false),
    ];
    for (what, banner, asn, flagged) in cases {
        let out = Batch::new()
            .p(probe("192.0.2.1", Some(banner), None, None), &[*asn])
            .d(dns("a.example", &[("mail.a.example", 1, &["192.0.2.1"])]))
            .run();
        let r = ex(&out[0]);
        assert_eq!(
            r.flags.contains(&LabelFlag::CustomerHost),
            *flagged,
            "{what}: {r:?}"
        );
    }
}

#[test]
fn customer_host_pattern_on_certificate_names() {
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                None,
                None,
                Some((true, "s1-2-3-4.secureserver.net", &[])),
            ),
            &[26496],
        )
        .d(dns("a.example", &[("mail.a.example", 1, &["192.0.2.1"])]))
        .run();
    let r = ex(&out[0]);
    assert_eq!(r.source, Some(LabelSource::Certificate));
    assert_eq!(r.flags, vec![LabelFlag::CustomerHost]);
}

// ---- METHOD.md 8 and 9: split, companies, self-hosting ----

#[test]
fn split_weights_two_google_one_proofpoint() {
    let out = Batch::new()
        .p(probe("192.0.2.1", Some(GOOGLE_BANNER), None, None), &[])
        .p(probe("192.0.2.2", Some(GOOGLE_BANNER), None, None), &[])
        .p(
            probe("192.0.2.3", Some("220 mx0a.pphosted.com ESMTP"), None, None),
            &[],
        )
        .d(dns(
            "a.example",
            &[
                ("aspmx.l.google.com", 10, &["192.0.2.1"]),
                ("alt1.aspmx.l.google.com", 10, &["192.0.2.2"]),
                ("mx0a.pphosted.com", 10, &["192.0.2.3"]),
            ],
        ))
        .run();
    let p = &out[0].providers;
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].id.as_str(), p[0].credit.as_str()),
        ("google.com", "Google")
    );
    assert!((p[0].weight - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(p[1].company.as_deref(), Some("Proofpoint"));
    assert!((p[1].weight - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn exchangers_without_id_are_left_out_and_the_rest_renormalised() {
    let out = Batch::new()
        .p(probe("192.0.2.1", Some(GOOGLE_BANNER), None, None), &[])
        .p(probe("192.0.2.2", Some("220 ESMTP"), None, None), &[])
        .d(dns(
            "a.example",
            &[
                ("aspmx.l.google.com", 10, &["192.0.2.1"]),
                ("192.0.2.2", 10, &["192.0.2.2"]),
            ],
        ))
        .run();
    let a = out[0].approaches.priority.as_ref().unwrap();
    assert!(a.renormalised);
    assert_eq!(a.exchangers[1].weight, 0.0);
    assert_eq!(a.providers.len(), 1);
    assert_eq!(a.providers[0].weight, 1.0);
}

#[test]
fn raw_ids_without_company_and_self_hosting() {
    let out = Batch::new()
        .p(
            probe("192.0.2.1", Some("220 mail.example.com ESMTP"), None, None),
            &[],
        )
        .d(dns(
            "example.com",
            &[("mail.example.com", 10, &["192.0.2.1"])],
        ))
        .d(dns(
            "other.org",
            &[("mail.example.com", 10, &["192.0.2.1"])],
        ))
        .run();
    assert!(out[0].self_hosted);
    assert_eq!(out[0].providers[0].credit, "example.com");
    assert_eq!(out[0].providers[0].company, None);
    assert!(!out[1].self_hosted);
}

// ---- METHOD.md 10: the four approaches on the same evidence ----

#[test]
fn four_approaches_on_one_domain() {
    // Certificate says outlook.com, banner says google.com, MX name says example.net.
    let out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                Some(GOOGLE_BANNER),
                None,
                Some((true, "mx.outlook.com", &[])),
            ),
            &[],
        )
        .d(dns("a.example", &[("mx.example.net", 1, &["192.0.2.1"])]))
        .run();
    let a = &out[0].approaches;
    let first = |r: &Option<ApproachResult>| r.as_ref().unwrap().providers[0].id.clone();
    assert_eq!(first(&a.priority), "outlook.com");
    assert_eq!(first(&a.certificate), "outlook.com");
    assert_eq!(first(&a.banner), "google.com");
    assert_eq!(first(&a.mx_only), "example.net");
    assert_eq!(out[0].approach, Approach::Priority);
    assert_eq!(out[0].providers, a.priority.as_ref().unwrap().providers);
}

// ---- Suspicious claims ----

#[test]
fn claims_of_banners_and_certificates() {
    let l = {
        let b = Batch::new()
            // Banner claims Google from another AS.
            .p(
                probe("192.0.2.1", Some(GOOGLE_BANNER), None, None),
                &[64500],
            )
            // Banner claims Google, certificate untrusted.
            .p(
                probe(
                    "192.0.2.2",
                    Some(GOOGLE_BANNER),
                    None,
                    Some((false, "x.example", &[])),
                ),
                &[15169],
            )
            // Banner claims Google, trusted certificate names someone else.
            .p(
                probe(
                    "192.0.2.3",
                    Some(GOOGLE_BANNER),
                    None,
                    Some((true, "mx.example.org", &[])),
                ),
                &[15169],
            )
            // Trusted certificate names Microsoft from another AS.
            .p(
                probe("192.0.2.4", None, None, Some((true, "mx.outlook.com", &[]))),
                &[64501],
            )
            // Honest Google: no claim.
            .p(
                probe("192.0.2.5", Some(GOOGLE_BANNER), None, None),
                &[15169],
            )
            // Unknown AS: no AS claim.
            .p(probe("192.0.2.6", Some(GOOGLE_BANNER), None, None), &[])
            .d(dns("a.example", &[("mx.a.example", 1, &["192.0.2.1"])]));
        b.labeller()
    };
    let claims = l.claims();
    let by_ip = |ip: &str| -> Vec<&Claim> {
        claims
            .iter()
            .filter(|c| c.ip == ip.parse::<IpAddr>().unwrap())
            .collect()
    };
    assert_eq!(
        by_ip("192.0.2.1")[0].reasons,
        vec![ClaimReason::AsOutsideCompany]
    );
    assert_eq!(by_ip("192.0.2.1")[0].domains, vec!["a.example".to_string()]);
    assert_eq!(
        by_ip("192.0.2.2")[0].reasons,
        vec![ClaimReason::CertificateUntrusted]
    );
    assert_eq!(
        by_ip("192.0.2.3")[0].reasons,
        vec![ClaimReason::CertificateNamesOther]
    );
    let c4 = by_ip("192.0.2.4");
    assert_eq!(c4[0].claimed_in, "certificate");
    assert_eq!(c4[0].claimed_company, "Microsoft");
    assert!(by_ip("192.0.2.5").is_empty());
    assert!(by_ip("192.0.2.6").is_empty());
}

// ---- Property: weights sum to 1 per labelled domain ----

mod props {
    use super::*;
    use proptest::prelude::*;

    fn banner_for(i: u8) -> Option<&'static str> {
        match i % 5 {
            0 => Some(GOOGLE_BANNER),
            1 => Some("220 mx0a.pphosted.com ESMTP"),
            2 => Some("220 localhost ESMTP"),
            3 => None,
            _ => Some("220 s1-2-3-4.secureserver.net ESMTP"),
        }
    }

    fn cert_for(i: u8) -> Option<CertSpec<'static>> {
        match i % 4 {
            0 => Some((true, "mx.outlook.com", &["mx.microsoft.com"][..])),
            1 => Some((false, "self.example", &[][..])),
            2 => Some((true, "mx.example.org", &["mx.example.com"][..])),
            _ => None,
        }
    }

    const NAMES: [&str; 5] = [
        "aspmx.l.google.com",
        "mx.example.net",
        "192.0.2.77",
        "localhost",
        "mail.customer.example.com",
    ];

    proptest! {
        #[test]
        fn weights_sum_to_one_per_labelled_domain(
            addrs in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), 0u8..4), 1..8),
            domains in prop::collection::vec(
                prop::collection::vec((0usize..5, 0u16..3, prop::collection::vec(0usize..8, 0..3)), 0..5),
                1..12),
        ) {
            let asn_of = [vec![], vec![15169u32], vec![64500u32], vec![16417u32]];
            let mut b = Batch::new();
            for (i, (bn, eh, ce, asn)) in addrs.iter().enumerate() {
                let ip = format!("192.0.2.{}", i + 1);
                let ehlo = if eh % 3 == 0 { Some("250-mx.two.example.net hi") } else { None };
                b = b.p(probe(&ip, banner_for(*bn), ehlo, cert_for(*ce)), &asn_of[*asn as usize]);
            }
            for (di, mxs) in domains.iter().enumerate() {
                let ips: Vec<Vec<String>> = mxs.iter().map(|(_, _, a)| {
                    a.iter().map(|k| format!("192.0.2.{}", k + 1)).collect()
                }).collect();
                let refs: Vec<Vec<&str>> = ips.iter().map(|v| v.iter().map(String::as_str).collect()).collect();
                let mx: Vec<(&str, u16, &[&str])> = mxs.iter().zip(&refs)
                    .map(|((n, p, _), a)| (NAMES[*n], *p * 10, a.as_slice())).collect();
                b = b.d(dns(&format!("d{di}.example"), &mx));
            }
            for l in b.run() {
                // The fast writer gives serde's bytes exactly.
                let mut fast = Vec::new();
                json::write_label(&mut fast, &l);
                prop_assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    serde_json::to_string(&l).unwrap()
                );
                for a in [Approach::Priority, Approach::MxOnly, Approach::Certificate, Approach::Banner] {
                    let r = l.approaches.get(a).unwrap();
                    let sum: f64 = r.providers.iter().map(|p| p.weight).sum();
                    let ex_sum: f64 = r.exchangers.iter().map(|e| e.weight).sum();
                    match r.status {
                        LabelStatus::Labelled | LabelStatus::NoSmtpEvidence => {
                            prop_assert!((sum - 1.0).abs() < 1e-9, "{a:?} {sum} {l:?}");
                            prop_assert!((ex_sum - 1.0).abs() < 1e-9);
                        }
                        _ => prop_assert!(r.providers.is_empty()),
                    }
                }
            }
        }
    }
}

#[test]
fn trail_steps_round_trip_as_strings() {
    use mxinfer_record::TrailStep;
    let all_sources = [
        LabelSource::Certificate,
        LabelSource::Banner,
        LabelSource::Mx,
    ];
    let all_outcomes = [
        SignalOutcome::Ok,
        SignalOutcome::NoTrustedName,
        SignalOutcome::IdsDisagree,
        SignalOutcome::NoUsableName,
        SignalOutcome::NoId,
    ];
    for source in all_sources {
        for outcome in all_outcomes {
            let t = TrailStep { source, outcome };
            let j = serde_json::to_string(&t).unwrap();
            assert_eq!(j, format!("\"{}:{}\"", source.as_str(), outcome.as_str()));
            assert_eq!(serde_json::from_str::<TrailStep>(&j).unwrap(), t);
        }
    }
    assert!(serde_json::from_str::<TrailStep>("\"certificate\"").is_err());
    assert!(serde_json::from_str::<TrailStep>("\"dns:ok\"").is_err());
}

#[test]
fn fast_writer_matches_serde_on_odd_strings_and_every_optional_field() {
    let mut out = Batch::new()
        .p(
            probe(
                "192.0.2.1",
                Some("220 s1-2-3-4.secureserver.net"),
                None,
                None,
            ),
            &[26496],
        )
        .p(
            probe(
                "192.0.2.2",
                Some("220 mail.customer.example.com"),
                None,
                None,
            ),
            &[16417],
        )
        .d(dns(
            "a.example.com",
            &[
                ("dead.example.net", 5, &["192.0.2.9"]),
                ("mx.a.example.com", 10, &["192.0.2.1"]),
                ("mail.customer.example.com", 10, &["192.0.2.2"]),
                ("192.0.2.3", 10, &[]),
            ],
        ))
        .run();
    let mut l = out.remove(0);
    l.input.original = Some("A.Example.COM.".into());
    l.input.rank = Some(7);
    l.input
        .extra
        .insert("note".into(), "quote \" back\\ tab\t ünï".into());
    l.domain = "we\"ird\u{1}.example".into();
    l.approaches.banner.as_mut().unwrap().exchangers[0].company = Some("Co \"Q\"".into());
    l.approaches.priority.as_mut().unwrap().self_hosted = true;
    l.exchangers[0].implicit = true;
    let mut fast = Vec::new();
    json::write_label(&mut fast, &l);
    assert_eq!(
        String::from_utf8(fast).unwrap(),
        serde_json::to_string(&l).unwrap()
    );
    assert!(!l.dead_preferences.is_empty());
    assert!(l.approaches.priority.as_ref().unwrap().renormalised);
    // The compact form too (two approaches left out).
    l.compact();
    assert!(l.approaches.certificate.is_none() && l.approaches.banner.is_none());
    let mut fast = Vec::new();
    json::write_label(&mut fast, &l);
    assert_eq!(
        String::from_utf8(fast).unwrap(),
        serde_json::to_string(&l).unwrap()
    );
}

/// A compact labeller computes the chosen approach and MX-only, the same as a full one.
fn order_batch(seed: u64) -> (Vec<(HostProbe, Vec<u32>)>, Vec<DomainDns>) {
    order::batch(seed)
}

#[test]
fn compact_records_are_full_records_with_two_approaches_left_out() {
    let (probes, domains) = order_batch(3);
    for approach in [Approach::Priority, Approach::Banner, Approach::MxOnly] {
        let run = |compact: bool| {
            let mut l = Labeller::new(
                Psl::embedded(false),
                test_data(),
                LabelSettings {
                    approach,
                    compact,
                    ..LabelSettings::default()
                },
            );
            for (p, a) in &probes {
                l.add_probe(p, a);
            }
            for d in &domains {
                l.add_domain(d);
            }
            l.finish();
            (0..l.len()).map(|i| l.label(i)).collect::<Vec<_>>()
        };
        let (full, compact) = (run(false), run(true));
        for (mut f, c) in full.into_iter().zip(compact) {
            assert!(f.approaches.is_full());
            assert!(c.result(approach).is_ok() && c.result(Approach::MxOnly).is_ok());
            let dropped = [Approach::Priority, Approach::Certificate, Approach::Banner]
                .into_iter()
                .filter(|a| *a != approach)
                .count();
            let kept = [
                Approach::Priority,
                Approach::MxOnly,
                Approach::Certificate,
                Approach::Banner,
            ]
            .into_iter()
            .filter(|a| c.approaches.get(*a).is_some())
            .count();
            assert_eq!(kept, 4 - dropped);
            let e = c.result(Approach::Certificate).unwrap_err();
            assert!(e.to_string().contains("compact"), "{e}");
            f.compact();
            assert_eq!(f, c);
        }
    }
}

#[test]
fn fast_writer_floats_match_serde() {
    for v in [1.0, 0.5, 0.0, 1.0 / 3.0, 2.0 / 3.0, 0.25, 1e-7] {
        let mut p = ProviderShare {
            id: "x.example".into(),
            company: None,
            weight: v,
            credit: "x.example".into(),
            self_hosted: false,
        };
        let l = DomainLabel {
            domain: "a.example".into(),
            input: InputRef::default(),
            status: LabelStatus::Labelled,
            approach: Approach::Priority,
            dns_status: DnsStatus::Ok,
            registered_domain: None,
            primary_preference: None,
            dead_preferences: Vec::new(),
            exchangers: Vec::new(),
            providers: vec![p.clone()],
            self_hosted: false,
            approaches: {
                p.self_hosted = true;
                let a = ApproachResult {
                    status: LabelStatus::Labelled,
                    exchangers: Vec::new(),
                    providers: vec![p.clone()],
                    renormalised: false,
                    self_hosted: false,
                };
                Approaches {
                    priority: Some(a.clone()),
                    mx_only: Some(a.clone()),
                    certificate: Some(a.clone()),
                    banner: Some(a),
                }
            },
        };
        let mut fast = Vec::new();
        json::write_label(&mut fast, &l);
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            serde_json::to_string(&l).unwrap()
        );
    }
}

/// Order independence: the same evidence in any order of the records (and any split of them
/// into files, which is an order of their concatenation) gives the same label of every
/// domain and the same claims, byte for byte. The batch has addresses with several probe
/// records that differ (live or not, scan time, banner, certificate), some of them at the
/// same time, so which record is kept is decided by content.
mod order {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// xorshift64*: a small deterministic generator for the batch and the shuffles.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
            &v[(self.next() % v.len() as u64) as usize]
        }
        fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                v.swap(i, (self.next() % (i as u64 + 1)) as usize);
            }
        }
    }

    const BANNERS: &[Option<&str>] = &[
        None,
        Some("220 mx.google.com ESMTP"),
        Some("220 mx1.pphosted.com ESMTP"),
        Some("220 mail.acme.example ESMTP Postfix"),
        Some("220 outlook-com.olc.protection.outlook.com"),
    ];
    const CERTS: &[Option<CertSpec>] = &[
        None,
        Some((
            true,
            "mx.google.com",
            &["mx.google.com", "aspmx.l.google.com"],
        )),
        Some((
            true,
            "mx1.pphosted.com",
            &["*.pphosted.com", "ppe-hosted.com"],
        )),
        Some((false, "mail.acme.example", &["mail.acme.example"])),
        Some((
            true,
            "mail.protection.outlook.com",
            &["*.mail.protection.outlook.com"],
        )),
    ];
    const TIMES: &[&str] = &["2026-11-30T00:00:00.000Z", "2026-12-01T00:00:00.000Z"];
    const ASNS: &[u32] = &[15169, 26211, 8075, 64500];
    const MX: &[&str] = &[
        "aspmx.l.google.com",
        "mx0a-1.pphosted.com",
        "acme-example.mail.protection.outlook.com",
        "mail.acme.example",
        "mx.other.example",
    ];

    /// Probe records (several per address) and resolve records of a random batch.
    pub(super) fn batch(seed: u64) -> (Vec<(HostProbe, Vec<u32>)>, Vec<DomainDns>) {
        let mut r = Rng(seed | 1);
        let ips: Vec<String> = (1..=24).map(|i| format!("192.0.2.{i}")).collect();
        let mut probes = Vec::new();
        for ip in &ips {
            for _ in 0..1 + r.next() % 3 {
                let mut p = probe(ip, *r.pick(BANNERS), None, *r.pick(CERTS));
                p.started_at = r.pick(TIMES).to_string();
                if p.banner.is_some() && r.next().is_multiple_of(2) {
                    p.ehlo = p.banner.clone();
                }
                probes.push((p, vec![*r.pick(ASNS)]));
            }
        }
        let mut domains = Vec::new();
        for i in 0..150 {
            let n = 1 + r.next() % 3;
            let exs: Vec<(String, u16, Vec<String>)> = (0..n)
                .map(|_| {
                    let addrs = (0..1 + r.next() % 2)
                        .map(|_| r.pick(&ips).clone())
                        .collect();
                    // A quarter of the exchangers are the domain's own (a name counted
                    // once in the batch), the rest shared.
                    let name = if r.next().is_multiple_of(4) {
                        format!("mx.d{i}.example")
                    } else {
                        r.pick(MX).to_string()
                    };
                    (name, 10 * (1 + (r.next() % 2) as u16), addrs)
                })
                .collect();
            let ips_of: Vec<Vec<&str>> = exs
                .iter()
                .map(|(_, _, a)| a.iter().map(String::as_str).collect())
                .collect();
            let mx: Vec<(&str, u16, &[&str])> = exs
                .iter()
                .zip(&ips_of)
                .map(|((name, pref, _), a)| (name.as_str(), *pref, a.as_slice()))
                .collect();
            domains.push(dns(&format!("d{i}.example"), &mx));
        }
        (probes, domains)
    }

    /// Labels (JSON, by domain) and claims (JSON, in output order) of the records in the
    /// given order.
    fn outcome(
        probes: &[(HostProbe, Vec<u32>)],
        domains: &[DomainDns],
    ) -> (BTreeMap<String, String>, Vec<String>) {
        let mut b = Batch::new();
        b.probes = probes.to_vec();
        b.domains = domains.to_vec();
        let l = b.labeller();
        serialised(&l, (0..l.len()).map(|i| l.label(i)))
    }

    /// Labels by domain and claims in order, as JSON.
    fn serialised(
        l: &Labeller,
        labels: impl Iterator<Item = DomainLabel>,
    ) -> (BTreeMap<String, String>, Vec<String>) {
        let labels = labels
            .map(|rec| (rec.domain.clone(), serde_json::to_string(&rec).unwrap()))
            .collect();
        let claims = l
            .claims()
            .iter()
            .map(|c| serde_json::to_string(c).unwrap())
            .collect();
        (labels, claims)
    }

    /// The same, by two passes over the resolve records (count, then label one by one).
    fn outcome_two_pass(
        probes: &[(HostProbe, Vec<u32>)],
        domains: &[DomainDns],
    ) -> (BTreeMap<String, String>, Vec<String>) {
        let mut l = Labeller::new(Psl::embedded(false), test_data(), LabelSettings::default());
        for (p, a) in probes {
            l.add_probe(p, a);
        }
        for d in domains {
            l.count_domain_view(DomainDnsView::from(d));
        }
        l.finish();
        assert_eq!(l.len(), 0, "nothing kept per domain");
        assert_eq!(l.counts().domains, domains.len() as u64);
        let labels = domains
            .iter()
            .map(|d| l.label_view(DomainDnsView::from(d)).unwrap());
        serialised(&l, labels)
    }

    /// The same, as a distributed runner does it with the plain-data phases: evidence made
    /// apart per part of the probe records and reduced per address; counts made apart per
    /// part of the resolve records, exported, serialised and merged; each part labelled by
    /// its own labeller given the merged counts. Parts and merges in the order of `r`.
    fn outcome_distributed(
        probes: &[(HostProbe, Vec<u32>)],
        domains: &[DomainDns],
        parts: usize,
        r: &mut Rng,
    ) -> (BTreeMap<String, String>, Vec<String>, Vec<CertGroup>) {
        // A0: per-address evidence, through JSON (what a runner ships), reduced by address.
        let mut best: BTreeMap<std::net::IpAddr, AddressEvidence> = BTreeMap::new();
        let mut evs: Vec<AddressEvidence> = probes
            .iter()
            .map(|(p, a)| {
                let e = AddressEvidence::from_probe(p, a);
                serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap()
            })
            .collect();
        r.shuffle(&mut evs);
        for e in evs {
            match best.get(&e.ip) {
                Some(b) if !e.wins_over(b) => {}
                _ => {
                    best.insert(e.ip, e);
                }
            }
        }
        let mut winners: Vec<AddressEvidence> = best.into_values().collect();
        let new = |winners: &[AddressEvidence]| {
            let mut l = Labeller::new(Psl::embedded(false), test_data(), LabelSettings::default());
            for e in winners {
                l.add_evidence(e);
            }
            l
        };
        let chunk = domains.len().div_ceil(parts);
        let split: Vec<&[DomainDns]> = domains.chunks(chunk).collect();
        // A1: each part's contributions, as plain data; A2: merged in any order.
        let mut counted: Vec<BatchCounts> = split
            .iter()
            .map(|part| {
                r.shuffle(&mut winners);
                let mut l = new(&winners);
                for d in *part {
                    l.count_domain_view(DomainDnsView::from(d));
                }
                let c = l.export_counts();
                serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap()
            })
            .collect();
        r.shuffle(&mut counted);
        let mut merged = BatchCounts::default();
        for c in &counted {
            merged.merge(c);
        }
        // Half the time, the names counted once are left out (as a runner ships them).
        if r.next().is_multiple_of(2) {
            merged.num_mx.retain(|_, n| *n >= 2);
        }
        // A3 and A4: each part labelled with the merged counts.
        let mut labels = BTreeMap::new();
        let mut claims = Vec::new();
        let mut groups = Vec::new();
        for (i, part) in split.iter().enumerate() {
            let mut l = new(&winners);
            for d in *part {
                l.count_domain_view(DomainDnsView::from(d));
            }
            l.import_counts(&merged).unwrap();
            l.finish();
            assert_eq!(l.counts().domains, domains.len() as u64);
            for d in *part {
                let rec = l.label_view(DomainDnsView::from(d)).unwrap();
                labels.insert(rec.domain.clone(), serde_json::to_string(&rec).unwrap());
            }
            if i == 0 {
                // A5: the claims of any one labeller with the merged counts.
                claims = serialised(&l, std::iter::empty()).1;
                groups = l.joined_groups();
            }
        }
        (labels, claims, groups)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn the_plain_data_phases_give_the_labels_of_one_labeller(seed: u64, shuffle: u64, parts in 1usize..6) {
            let (probes, domains) = batch(seed);
            let want = outcome(&probes, &domains);
            let want_groups = {
                let mut b = Batch::new();
                b.probes = probes.clone();
                b.domains = domains.clone();
                b.labeller().joined_groups()
            };
            let mut r = Rng(shuffle | 1);
            let (labels, claims, groups) = outcome_distributed(&probes, &domains, parts, &mut r);
            prop_assert_eq!(&labels, &want.0);
            prop_assert_eq!(&claims, &want.1);
            prop_assert_eq!(&groups, &want_groups);
        }

        #[test]
        fn labels_and_claims_do_not_depend_on_record_order(seed: u64, shuffle: u64) {
            let (probes, domains) = batch(seed);
            let want = outcome(&probes, &domains);
            prop_assert_eq!(want.0.len(), domains.len());
            // Two passes (nothing kept per domain) give the same records.
            prop_assert_eq!(&outcome_two_pass(&probes, &domains), &want);
            let mut r = Rng(shuffle | 1);
            // Any order of the records.
            let (mut p2, mut d2) = (probes.clone(), domains.clone());
            r.shuffle(&mut p2);
            r.shuffle(&mut d2);
            prop_assert_eq!(&outcome(&p2, &d2), &want);
            // Three files given in another order.
            let k = probes.len() / 3;
            let split: Vec<_> = [&probes[2 * k..], &probes[..k], &probes[k..2 * k]].concat();
            let kd = domains.len() / 3;
            let dsplit: Vec<_> = [&domains[kd..2 * kd], &domains[2 * kd..], &domains[..kd]].concat();
            prop_assert_eq!(&outcome(&split, &dsplit), &want);
            // Reversed.
            let (mut p3, mut d3) = (probes.clone(), domains.clone());
            p3.reverse();
            d3.reverse();
            prop_assert_eq!(&outcome(&p3, &d3), &want);
        }
    }

    /// Counts merge the same in any grouping, and counts of an address without evidence
    /// are refused.
    #[test]
    fn counts_merge_associatively_and_must_fit_the_evidence() {
        let (probes, domains) = batch(7);
        let part = |ds: &[DomainDns]| {
            let mut l = Labeller::new(Psl::embedded(false), test_data(), LabelSettings::default());
            for (p, a) in &probes {
                l.add_probe(p, a);
            }
            for d in ds {
                l.count_domain_view(DomainDnsView::from(d));
            }
            l.export_counts()
        };
        let (a, b, c) = (
            part(&domains[..40]),
            part(&domains[40..90]),
            part(&domains[90..]),
        );
        let mut left = a.clone();
        left.merge(&b);
        left.merge(&c);
        let mut right = b.clone();
        right.merge(&c);
        let mut right2 = c.clone();
        right2.merge(&a);
        right2.merge(&b);
        right.merge(&a);
        assert_eq!(left, right);
        assert_eq!(left, right2);
        assert_eq!(left, part(&domains), "the parts merge into the whole");
        assert!(left.num_ip.values().all(|&n| n > 0) && !left.num_mx.is_empty());
        let mut l = Labeller::new(Psl::embedded(false), test_data(), LabelSettings::default());
        let e = l.import_counts(&left).unwrap_err();
        assert!(left.num_ip.contains_key(&e.ip));
    }

    /// A record the counting pass did not see is refused, not labelled from half the counts.
    #[test]
    fn label_view_refuses_a_record_the_counting_pass_did_not_see() {
        let mut l = Labeller::new(Psl::embedded(false), test_data(), LabelSettings::default());
        l.add_probe(
            &probe("192.0.2.1", Some("220 mx.google.com ESMTP"), None, None),
            &[15169],
        );
        l.count_domain_view(DomainDnsView::from(&dns(
            "a.example",
            &[("aspmx.l.google.com", 10, &["192.0.2.1"])],
        )));
        l.finish();
        let other = dns("b.example", &[("mx.b.example", 10, &["192.0.2.1"])]);
        let e = l.label_view(DomainDnsView::from(&other)).unwrap_err();
        assert_eq!(e.domain, "b.example");
    }

    /// The record kept for an address is the one with evidence, then the later scan, then
    /// the smaller evidence digest, in whichever order they come.
    #[test]
    fn the_kept_record_is_chosen_by_content() {
        let dead = probe("192.0.2.9", None, None, None);
        let mut old = probe("192.0.2.9", Some("220 mx1.pphosted.com ESMTP"), None, None);
        old.started_at = "2026-11-01T00:00:00.000Z".into();
        let new = probe("192.0.2.9", Some("220 mx.google.com ESMTP"), None, None);
        let d = dns("a.example", &[("mx.a.example", 10, &["192.0.2.9"])]);
        for order in [
            vec![&dead, &old, &new],
            vec![&new, &old, &dead],
            vec![&old, &dead, &new],
        ] {
            let mut b = Batch::new();
            for p in order {
                b = b.p(p.clone(), &[15169]);
            }
            let l = b.d(d.clone()).run();
            assert_eq!(id(&l[0]), Some("google.com"), "the later scan is kept");
        }
    }
}
