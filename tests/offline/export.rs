//! `mxinfer export`: label, resolve and probe records as CSV and (feature `parquet`) Parquet
//! tables in Hive-style snapshot partitions; the Parquet files are read back with arrow-rs.

#[path = "../common/mod.rs"]
mod common;

use common::{mxinfer, read_jsonl};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fx(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ingest")
        .join(name)
        .display()
        .to_string()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn ok(args: &[&str]) -> String {
    let o = mxinfer(args, None);
    assert!(
        o.status.success(),
        "mxinfer {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Resolve, probe and label records of the sim200 fixtures: (dns, probes, labels).
fn stage_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let world = dir.join("world");
    ok(&[
        "sim",
        "world",
        "--domains",
        "200",
        "--seed",
        "1",
        "--out",
        &s(&world),
    ]);
    let (dns, probes, labels) = (
        dir.join("dns.jsonl"),
        dir.join("probes.jsonl"),
        dir.join("labels.jsonl"),
    );
    ok(&[
        "ingest",
        "dns",
        &fx("sim200/zdns-mxlookup.jsonl"),
        "--out",
        &s(&dns),
    ]);
    ok(&[
        "ingest",
        "probes",
        &fx("sim200/zgrab2-smtp.jsonl.gz"),
        "--out",
        &s(&probes),
    ]);
    ok(&[
        "label",
        "--dns",
        &s(&dns),
        "--probes",
        &s(&probes),
        "--pfx2as",
        &s(&world.join("pfx2as.txt")),
        "--psl",
        &s(&world.join("psl.dat")),
        "--out",
        &s(&labels),
    ]);
    (dns, probes, labels)
}

/// The top provider (largest weight, then smaller ID) of a label record.
fn top(v: &Value) -> Option<(String, f64)> {
    v["providers"]
        .as_array()?
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["weight"].as_f64().unwrap(),
            )
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
}

#[test]
fn labels_as_csv_one_row_per_domain_in_a_snapshot_partition() {
    let dir = tempfile::tempdir().unwrap();
    let (dns, _, labels) = stage_files(dir.path());
    let out = dir.path().join("tables");
    ok(&[
        "export",
        "labels",
        &s(&labels),
        "--out-dir",
        &s(&out),
        "--to",
        "csv",
        "--snapshot",
        "2026-11-30",
    ]);
    let csv = std::fs::read_to_string(out.join("snapshot=2026-11-30/part-0.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "domain");
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let json = read_jsonl(&labels);
    assert_eq!(rows.len(), json.len());
    for (r, v) in rows.iter().zip(&json) {
        assert_eq!(r.len(), header.len(), "{r:?}");
        assert_eq!(r[col("domain")], v["domain"].as_str().unwrap());
        assert_eq!(r[col("status")], v["status"].as_str().unwrap());
        match top(v) {
            Some((id, w)) => {
                assert_eq!(r[col("top_provider")], id);
                assert_eq!(r[col("top_weight")].parse::<f64>().unwrap(), w);
            }
            None => assert_eq!(r[col("top_provider")], ""),
        }
    }
    // dns: the snapshot date comes from the records' own time when not given.
    ok(&[
        "export",
        "dns",
        &s(&dns),
        "--out-dir",
        &s(&out),
        "--to",
        "csv",
    ]);
    let parts: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        parts.iter().all(|p| p.starts_with("snapshot=")),
        "{parts:?}"
    );
    // Labels carry no time: without --snapshot the command refuses.
    let o = mxinfer(
        &[
            "export",
            "labels",
            &s(&labels),
            "--out-dir",
            &s(&out),
            "--to",
            "csv",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--snapshot"));
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("labels.jsonl");
    std::fs::write(&f, "").unwrap();
    let o = mxinfer(
        &[
            "export",
            "labels",
            &s(&f),
            "--out-dir",
            &s(dir.path()),
            "--snapshot",
            "2021-06-01",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--features parquet"));
}

#[cfg(feature = "parquet")]
mod parquet_tables {
    use super::*;
    use mxinfer_core::export::arrow_array::cast::AsArray;
    use mxinfer_core::export::arrow_array::types::Float64Type;
    use mxinfer_core::export::arrow_array::{Array, RecordBatch};
    use mxinfer_core::export::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn read(path: &Path) -> Vec<RecordBatch> {
        let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect()
    }

    #[test]
    fn labels_parquet_reads_back_as_the_json_records() {
        let dir = tempfile::tempdir().unwrap();
        let (dns, probes, labels) = stage_files(dir.path());
        let out = dir.path().join("tables");
        ok(&[
            "export",
            "labels",
            &s(&labels),
            "--out-dir",
            &s(&out),
            "--snapshot",
            "2026-11-30",
        ]);
        let batches = read(&out.join("snapshot=2026-11-30/part-0.parquet"));
        let json = read_jsonl(&labels);
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(n, json.len());
        let b = &batches[0];
        let names: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "domain",
                "rank",
                "input_line",
                "status",
                "approach",
                "dns_status",
                "registered_domain",
                "primary_preference",
                "exchangers",
                "sources",
                "self_hosted",
                "flagged",
                "top_provider",
                "top_company",
                "top_credit",
                "top_weight",
                "providers",
            ]
        );
        let domain = b.column_by_name("domain").unwrap().as_string::<i32>();
        let top_p = b.column_by_name("top_provider").unwrap().as_string::<i32>();
        let providers = b.column_by_name("providers").unwrap().as_list::<i32>();
        for (i, v) in json.iter().enumerate() {
            assert_eq!(domain.value(i), v["domain"].as_str().unwrap());
            match top(v) {
                Some((id, _)) => assert_eq!(top_p.value(i), id),
                None => assert!(top_p.is_null(i)),
            }
            let list = providers.value(i);
            let st = list.as_struct();
            let ids = st.column_by_name("id").unwrap().as_string::<i32>();
            let ws = st
                .column_by_name("weight")
                .unwrap()
                .as_primitive::<Float64Type>();
            let want = v["providers"].as_array().cloned().unwrap_or_default();
            assert_eq!(st.len(), want.len());
            for (k, p) in want.iter().enumerate() {
                assert_eq!(ids.value(k), p["id"].as_str().unwrap());
                assert_eq!(ws.value(k), p["weight"].as_f64().unwrap());
            }
        }
        // The resolve and probe tables, partitioned by their records' own date.
        let (dd, pd) = (dir.path().join("dns"), dir.path().join("probes"));
        ok(&["export", "dns", &s(&dns), "--out-dir", &s(&dd)]);
        ok(&["export", "probes", &s(&probes), "--out-dir", &s(&pd)]);
        let day = read_jsonl(&dns)[0]["resolved_at"].as_str().unwrap()[..10].to_string();
        let db = read(&dd.join(format!("snapshot={day}/part-0.parquet")));
        assert_eq!(db.iter().map(|b| b.num_rows()).sum::<usize>(), 200);
        let pday = read_jsonl(&probes)[0]["started_at"].as_str().unwrap()[..10].to_string();
        let pb = read(&pd.join(format!("snapshot={pday}/part-0.parquet")));
        assert_eq!(pb.iter().map(|b| b.num_rows()).sum::<usize>(), 154);
        let trusted = pb[0].column_by_name("chain_trusted").unwrap().as_boolean();
        assert_eq!(trusted.iter().filter(|t| *t == Some(true)).count(), 132);
    }
}
