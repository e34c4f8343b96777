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

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_input_to_label_without_the_feature_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dns.parquet");
    std::fs::write(&f, b"PAR1 not really, but it starts like one").unwrap();
    let o = mxinfer(&["label", "--dns", &s(&f), "--probes", &s(&f)], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("dns.parquet: a Parquet file: reading Parquet needs the `parquet` feature"),
        "{err}"
    );
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

    /// Issue 14: `label` reads the `dns` and `probes` tables of `export` as it reads the
    /// JSON records (alone, or beside JSON Lines files) and gives the same labels and claims;
    /// a row that is not a record is reported with its file and row and counted (exit 3); a
    /// table of the wrong kind is an error that names it.
    #[test]
    fn label_reads_exported_parquet_tables_as_the_json_records() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().join("world");
        ok(&["demo", "--domains", "400", "--seed", "4", "--out", &s(&w)]);
        let lines = std::fs::read_to_string(w.join("dns.jsonl")).unwrap();
        let lines: Vec<&str> = lines.lines().collect();
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        std::fs::write(&a, lines[..150].join("\n") + "\n").unwrap();
        std::fs::write(&b, lines[150..].join("\n") + "\n").unwrap();
        let export = |table: &str, file: &Path, name: &str| -> PathBuf {
            let out = dir.path().join(name);
            ok(&[
                "export",
                table,
                &s(file),
                "--out-dir",
                &s(&out),
                "--snapshot",
                "2026-12-01",
            ]);
            out.join("snapshot=2026-12-01/part-0.parquet")
        };
        let dns_pq = export("dns", &w.join("dns.jsonl"), "dns");
        let b_pq = export("dns", &b, "b");
        let probes_pq = export("probes", &w.join("probes.jsonl"), "probes");
        let label = |dns: &[&Path], probes: &Path, out: &str| -> (String, String) {
            let (o, c) = (
                dir.path().join(out),
                dir.path().join(format!("{out}.claims")),
            );
            let mut args = vec!["label".to_string(), "--dns".to_string()];
            args.extend(dns.iter().map(|p| s(p)));
            args.extend(
                [
                    "--probes",
                    &s(probes),
                    "--pfx2as",
                    &s(&w.join("pfx2as.txt")),
                    "--psl",
                    &s(&w.join("psl.dat")),
                    "--claims",
                    &s(&c),
                    "--out",
                    &s(&o),
                ]
                .map(str::to_string),
            );
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(&a);
            (
                std::fs::read_to_string(o).unwrap(),
                std::fs::read_to_string(c).unwrap(),
            )
        };
        let want = label(&[&w.join("dns.jsonl")], &w.join("probes.jsonl"), "json");
        assert_eq!(want.0.lines().count(), 400);
        assert!(!want.1.is_empty(), "the world has claims");
        assert_eq!(label(&[&dns_pq], &probes_pq, "parquet"), want);
        assert_eq!(label(&[&a, &b_pq], &w.join("probes.jsonl"), "mixed"), want);

        // Rows that are not records: reported with their row, counted, exit 3.
        use mxinfer_core::export::{DnsRow, ExchangerCell, parquet_out::write_parquet};
        let row = |domain: &str, status: &str, addr: &str| DnsRow {
            domain: domain.into(),
            rank: None,
            input_line: 1,
            status: status.into(),
            flags: Vec::new(),
            config_class: "plain-ipv4-only".into(),
            mx_count: 1,
            exchangers: vec![ExchangerCell {
                name: format!("mx.{domain}"),
                preference: 10,
                addresses: vec![addr.into()],
            }],
            resolved_at: "2026-12-01T00:00:00.000Z".into(),
            error: None,
        };
        let bad = dir.path().join("bad.parquet");
        write_parquet(
            &bad,
            &[
                row("good.example", "ok", "192.0.2.1"),
                row("bad-ip.example", "ok", "192.0.2.999"),
                row("bad-status.example", "sideways", "192.0.2.2"),
            ],
        )
        .unwrap();
        let out = dir.path().join("bad-labels.jsonl");
        let o = mxinfer(
            &[
                "label",
                "--dns",
                &s(&bad),
                "--probes",
                &s(&w.join("probes.jsonl")),
                "--out",
                &s(&out),
            ],
            None,
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(
            err.contains("bad.parquet: row 2: not a record") && err.contains("192.0.2.999"),
            "{err}"
        );
        assert!(
            err.contains("row 3: not a record") && err.contains("sideways"),
            "{err}"
        );
        assert_eq!(read_jsonl(&out).len(), 1);
        let meta: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.meta.json", out.display())).unwrap(),
        )
        .unwrap();
        assert_eq!(meta["input_counts"]["rejected"], 2);
        assert_eq!(meta["input_counts"]["accepted"], 1);

        // A probes table where resolve records are expected.
        let o = mxinfer(
            &[
                "label",
                "--dns",
                &s(&probes_pq),
                "--probes",
                &s(&probes_pq),
                "--out",
                &s(&out),
            ],
            None,
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("not an `mxinfer export dns` table: column `domain`"),
            "{err}"
        );
        // And commands that read JSON Lines say what a Parquet file is doing there.
        let o = mxinfer(&["report", &s(&dns_pq)], None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("a Parquet file: only `label` reads Parquet"),
            "{err}"
        );
    }
}
