//! The export tables' rows as Arrow record batches (feature `arrow`): the schema the
//! Parquet files of `mxinfer export` have, and the tables `mxinfer.label` returns.

use crate::rows::{DnsRow, LabelRow, ProbeRow};
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, ListBuilder, StringBuilder, StructBuilder,
};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::ArrowError;
use arrow_schema::{DataType, Field, Fields};
use std::sync::Arc;

fn strs<'a>(v: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(v.collect::<StringArray>())
}

fn str_lists<'a>(rows: impl Iterator<Item = &'a Vec<String>>) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for r in rows {
        for s in r {
            b.values().append_value(s);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// Columns that may be null; every other column is declared non-null (list items and
/// struct fields have their own nullability).
const NULLABLE: [&str; 14] = [
    "rank",
    "registered_domain",
    "primary_preference",
    "top_provider",
    "top_company",
    "top_credit",
    "top_weight",
    "error",
    "banner",
    "ehlo",
    "tls_version",
    "cert_subject_cn",
    "cert_sha256",
    "chain_trusted",
];

fn batch(cols: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_from_iter_with_nullable(cols.into_iter().map(|(n, a)| {
        let nullable = NULLABLE.contains(&n) || n == "chain_reason";
        (n, a, nullable)
    }))
}

/// The `labels` table.
pub fn labels(rows: &[LabelRow]) -> Result<RecordBatch, ArrowError> {
    let fields = Fields::from(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("company", DataType::Utf8, true),
        Field::new("weight", DataType::Float64, false),
        Field::new("credit", DataType::Utf8, false),
        Field::new("self_hosted", DataType::Boolean, false),
    ]);
    let mut prov = ListBuilder::new(StructBuilder::from_fields(fields, rows.len()));
    for r in rows {
        let sb = prov.values();
        for p in &r.providers {
            sb.field_builder::<StringBuilder>(0)
                .expect("id")
                .append_value(&p.id);
            sb.field_builder::<StringBuilder>(1)
                .expect("company")
                .append_option(p.company.as_deref());
            sb.field_builder::<Float64Builder>(2)
                .expect("weight")
                .append_value(p.weight);
            sb.field_builder::<StringBuilder>(3)
                .expect("credit")
                .append_value(&p.credit);
            sb.field_builder::<BooleanBuilder>(4)
                .expect("self_hosted")
                .append_value(p.self_hosted);
            sb.append(true);
        }
        prov.append(true);
    }
    batch(vec![
        ("domain", strs(rows.iter().map(|r| Some(r.domain.as_str())))),
        (
            "rank",
            Arc::new(rows.iter().map(|r| r.rank).collect::<UInt64Array>()),
        ),
        (
            "input_line",
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.input_line))
                    .collect::<UInt64Array>(),
            ),
        ),
        ("status", strs(rows.iter().map(|r| Some(r.status.as_str())))),
        (
            "approach",
            strs(rows.iter().map(|r| Some(r.approach.as_str()))),
        ),
        (
            "dns_status",
            strs(rows.iter().map(|r| Some(r.dns_status.as_str()))),
        ),
        (
            "registered_domain",
            strs(rows.iter().map(|r| r.registered_domain.as_deref())),
        ),
        (
            "primary_preference",
            Arc::new(
                rows.iter()
                    .map(|r| r.primary_preference)
                    .collect::<Int32Array>(),
            ),
        ),
        ("exchangers", str_lists(rows.iter().map(|r| &r.exchangers))),
        ("sources", str_lists(rows.iter().map(|r| &r.sources))),
        (
            "self_hosted",
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.self_hosted))
                    .collect::<BooleanArray>(),
            ),
        ),
        (
            "flagged",
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.flagged))
                    .collect::<BooleanArray>(),
            ),
        ),
        (
            "top_provider",
            strs(rows.iter().map(|r| r.top_provider.as_deref())),
        ),
        (
            "top_company",
            strs(rows.iter().map(|r| r.top_company.as_deref())),
        ),
        (
            "top_credit",
            strs(rows.iter().map(|r| r.top_credit.as_deref())),
        ),
        (
            "top_weight",
            Arc::new(rows.iter().map(|r| r.top_weight).collect::<Float64Array>()),
        ),
        ("providers", Arc::new(prov.finish())),
    ])
}

/// The `dns` table.
pub fn dns(rows: &[DnsRow]) -> Result<RecordBatch, ArrowError> {
    let fields = Fields::from(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("preference", DataType::Int32, false),
        Field::new(
            "addresses",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
    ]);
    let mut ex = ListBuilder::new(StructBuilder::from_fields(fields, rows.len()));
    for r in rows {
        let sb = ex.values();
        for e in &r.exchangers {
            sb.field_builder::<StringBuilder>(0)
                .expect("name")
                .append_value(&e.name);
            sb.field_builder::<Int32Builder>(1)
                .expect("preference")
                .append_value(e.preference);
            let ab = sb
                .field_builder::<ListBuilder<Box<dyn arrow_array::builder::ArrayBuilder>>>(2)
                .expect("addresses");
            for a in &e.addresses {
                ab.values()
                    .as_any_mut()
                    .downcast_mut::<StringBuilder>()
                    .expect("address strings")
                    .append_value(a);
            }
            ab.append(true);
            sb.append(true);
        }
        ex.append(true);
    }
    batch(vec![
        ("domain", strs(rows.iter().map(|r| Some(r.domain.as_str())))),
        (
            "rank",
            Arc::new(rows.iter().map(|r| r.rank).collect::<UInt64Array>()),
        ),
        (
            "input_line",
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.input_line))
                    .collect::<UInt64Array>(),
            ),
        ),
        ("status", strs(rows.iter().map(|r| Some(r.status.as_str())))),
        ("flags", str_lists(rows.iter().map(|r| &r.flags))),
        (
            "config_class",
            strs(rows.iter().map(|r| Some(r.config_class.as_str()))),
        ),
        (
            "mx_count",
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.mx_count))
                    .collect::<Int32Array>(),
            ),
        ),
        ("exchangers", Arc::new(ex.finish())),
        (
            "resolved_at",
            strs(rows.iter().map(|r| Some(r.resolved_at.as_str()))),
        ),
        ("error", strs(rows.iter().map(|r| r.error.as_deref()))),
    ])
}

/// The `probes` table.
pub fn probes(rows: &[ProbeRow]) -> Result<RecordBatch, ArrowError> {
    batch(vec![
        ("ip", strs(rows.iter().map(|r| Some(r.ip.as_str())))),
        (
            "port",
            Arc::new(rows.iter().map(|r| Some(r.port)).collect::<Int32Array>()),
        ),
        ("names", str_lists(rows.iter().map(|r| &r.names))),
        ("status", strs(rows.iter().map(|r| Some(r.status.as_str())))),
        ("banner", strs(rows.iter().map(|r| r.banner.as_deref()))),
        ("ehlo", strs(rows.iter().map(|r| r.ehlo.as_deref()))),
        (
            "starttls",
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.starttls))
                    .collect::<BooleanArray>(),
            ),
        ),
        (
            "tls_version",
            strs(rows.iter().map(|r| r.tls_version.as_deref())),
        ),
        (
            "cert_subject_cn",
            strs(rows.iter().map(|r| r.cert_subject_cn.as_deref())),
        ),
        (
            "cert_san_dns",
            str_lists(rows.iter().map(|r| &r.cert_san_dns)),
        ),
        (
            "cert_sha256",
            strs(rows.iter().map(|r| r.cert_sha256.as_deref())),
        ),
        (
            "chain_trusted",
            Arc::new(
                rows.iter()
                    .map(|r| r.chain_trusted)
                    .collect::<BooleanArray>(),
            ),
        ),
        (
            "chain_reason",
            strs(rows.iter().map(|r| r.chain_reason.as_deref())),
        ),
        (
            "started_at",
            strs(rows.iter().map(|r| Some(r.started_at.as_str()))),
        ),
    ])
}
