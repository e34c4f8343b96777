//! Writers of reports and evaluations: text table, Markdown, JSON and self-contained HTML
//! (an inline SVG bar chart and the tables; no scripts, no external fonts or styles).

use super::eval::Evaluation;
use super::{Report, RowKind, ShareRow};
use std::fmt::Write;

/// Bars drawn in the HTML chart at most.
pub const CHART_BARS: usize = 15;
/// Width in pixels of the longest bar of the chart.
pub const CHART_WIDTH: f64 = 480.0;

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn by_name(r: &Report) -> &'static str {
    match r.by {
        super::GroupBy::Company => "company",
        super::GroupBy::Provider => "provider",
    }
}

/// The table as rows of cells (header first), shared by the text, Markdown and HTML writers.
fn share_cells(r: &Report) -> Vec<Vec<String>> {
    let mut out = vec![
        [
            by_name(r),
            "domains",
            "weight",
            "share",
            "share of identified",
            "certificate",
            "banner",
            "mx",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    ];
    for row in &r.rows {
        let src = |f: fn(&super::SourceWeights) -> f64| {
            row.sources.as_ref().map(|s| num(f(s))).unwrap_or_default()
        };
        let name = match row.kind {
            RowKind::Status => format!("[{}]", row.name),
            _ => row.name.clone(),
        };
        out.push(vec![
            name,
            row.domains.to_string(),
            num(row.weight),
            pct(row.share),
            row.share_identified.map(pct).unwrap_or_default(),
            src(|s| s.certificate),
            src(|s| s.banner),
            src(|s| s.mx),
        ]);
    }
    out
}

fn summary_lines(r: &Report) -> Vec<String> {
    let mut v = vec![
        format!(
            "{} domains, {} with an identified provider (by {}).",
            r.domains,
            r.identified_domains,
            by_name(r)
        ),
        format!(
            "Evidence of the credited weight: certificate {}, banner {}, MX name {}; self-hosted {}.",
            num(r.sources.certificate),
            num(r.sources.banner),
            num(r.sources.mx),
            num(r.self_hosted_weight)
        ),
    ];
    if let Some(a) = r.approach {
        v.push(format!("Approach counted: {}.", a.as_str()));
    }
    if !r.credit_no_smtp {
        v.push(
            "Domains without SMTP evidence are not credited (row [no-smtp-evidence]).".to_string(),
        );
    }
    v
}

/// A plain-text table for a terminal.
/// Cells as aligned plain text: the first column left-aligned, the others right-aligned,
/// two spaces between columns.
pub fn text_table(cells: &[Vec<String>]) -> String {
    let n = cells.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            cells
                .iter()
                .map(|row| row.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for row in cells {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(line, "{c:<w$}", w = widths[i]);
            } else {
                let _ = write!(line, "  {c:>w$}", w = widths[i]);
            }
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// The table of a company's domains (Markdown and HTML).
fn company_cells(c: &super::CompanyListing) -> Vec<Vec<String>> {
    let mut cells = vec![
        [
            "domain",
            "weight",
            "flagged weight",
            "IDs",
            "sources",
            "status",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    ];
    for e in &c.entries {
        cells.push(vec![
            e.domain.clone(),
            num(e.weight),
            num(e.flagged_weight),
            e.ids.join(", "),
            sources(&e.sources),
            e.status.as_str().to_string(),
        ]);
    }
    cells
}

/// The accuracy table: a header (`first`, domains, the four approaches), then all domains,
/// all domains judged by company, and one row per hard-case class.
/// Percentages have `decimals` digits after the point.
pub fn accuracy_cells(e: &Evaluation, first: &str, decimals: usize) -> Vec<Vec<String>> {
    let pct = |x: f64| format!("{:.decimals$}%", 100.0 * x);
    let mut h = vec![first.to_string(), "domains".to_string()];
    // The approaches evaluated (compact labels carry only some).
    h.extend(e.approaches.iter().map(|a| a.approach.as_str().to_string()));
    let mut cells = vec![h];
    let mut row = vec!["all".to_string(), e.compared.to_string()];
    row.extend(e.approaches.iter().map(|a| pct(a.accuracy)));
    cells.push(row);
    let mut row = vec!["all (by company)".to_string(), e.compared.to_string()];
    row.extend(e.approaches.iter().map(|a| pct(a.company_accuracy)));
    cells.push(row);
    for c in &e.classes {
        let mut row = vec![c.class.clone(), c.domains.to_string()];
        row.extend(c.approaches.iter().map(|a| pct(a.accuracy)));
        cells.push(row);
    }
    cells
}

pub fn report_text(r: &Report) -> String {
    let mut s = String::new();
    for l in summary_lines(r) {
        let _ = writeln!(s, "{l}");
    }
    s.push('\n');
    s.push_str(&text_table(&share_cells(r)));
    if let Some(c) = &r.company {
        let _ = writeln!(
            s,
            "\n{}: {} domains, weight {}",
            c.company,
            c.domains,
            num(c.weight)
        );
        for e in &c.entries {
            let _ = writeln!(
                s,
                "  {}  {}{}  {}  {}",
                e.domain,
                num(e.weight),
                if e.flagged_weight > 0.0 {
                    format!(" (+{} flagged)", num(e.flagged_weight))
                } else {
                    String::new()
                },
                e.ids.join(","),
                sources(&e.sources)
            );
        }
    }
    s
}

fn sources(v: &[mxinfer_record::LabelSource]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn md_table(cells: &[Vec<String>]) -> String {
    let mut s = String::new();
    for (i, row) in cells.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} |",
            row.iter()
                .map(|c| md_escape(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        if i == 0 {
            let _ = writeln!(
                s,
                "|{}|",
                row.iter()
                    .enumerate()
                    .map(|(j, _)| if j == 0 { "---" } else { "---:" })
                    .collect::<Vec<_>>()
                    .join("|")
            );
        }
    }
    s
}

/// The report in Markdown.
pub fn report_markdown(r: &Report) -> String {
    let mut s = String::from("# Mail provider shares\n\n");
    for l in summary_lines(r) {
        let _ = writeln!(s, "{l}");
    }
    s.push('\n');
    s.push_str(&md_table(&share_cells(r)));
    s.push_str("\n## Label statuses\n\n");
    let mut cells = vec![vec!["status".to_string(), "domains".to_string()]];
    for (k, v) in &r.statuses {
        cells.push(vec![k.clone(), v.to_string()]);
    }
    s.push_str(&md_table(&cells));
    if let Some(c) = &r.company {
        let _ = writeln!(
            s,
            "\n## Domains of {}\n\n{} domains, weight {}.\n",
            md_escape(&c.company),
            c.domains,
            num(c.weight)
        );
        s.push_str(&md_table(&company_cells(c)));
    }
    s
}

/// The report as pretty JSON (the [`Report`] type).
pub fn report_json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// The rows drawn in the chart: credit, other and flagged rows by share of identified.
fn chart_rows(r: &Report) -> Vec<&ShareRow> {
    r.rows
        .iter()
        .filter(|row| row.kind != RowKind::Status && row.weight > 0.0)
        .take(CHART_BARS)
        .collect()
}

/// An inline SVG horizontal bar chart of the shares of identified domains; each bar's width
/// is proportional to its share (the longest is [`CHART_WIDTH`] pixels).
pub fn svg_chart(r: &Report) -> String {
    let rows = chart_rows(r);
    let label_w = 220.0;
    let bar_h = 22.0;
    let h = (rows.len().max(1) as f64) * bar_h + 20.0;
    let w = label_w + CHART_WIDTH + 80.0;
    let max = rows
        .iter()
        .filter_map(|r| r.share_identified)
        .fold(0.0_f64, f64::max);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="Share of domains with an identified provider">"#
    );
    if rows.is_empty() {
        let _ = writeln!(s, r#"<text x="10" y="20">No identified provider.</text>"#);
    }
    for (i, row) in rows.iter().enumerate() {
        let share = row.share_identified.unwrap_or(0.0);
        let bw = if max > 0.0 {
            share / max * CHART_WIDTH
        } else {
            0.0
        };
        let y = i as f64 * bar_h + 10.0;
        let fill = match row.kind {
            RowKind::Flagged => "#c0392b",
            RowKind::Other => "#999999",
            _ => "#2e6da4",
        };
        let _ = writeln!(
            s,
            r#"<text x="{tx}" y="{ty}" text-anchor="end" font-size="13">{name}</text>"#,
            tx = label_w - 8.0,
            ty = y + 15.0,
            name = html_escape(&row.name)
        );
        let _ = writeln!(
            s,
            r#"<rect class="bar" x="{label_w}" y="{y}" width="{bw:.3}" height="{bh}" fill="{fill}" data-share="{share:.6}"><title>{name}: {p}</title></rect>"#,
            bh = bar_h - 6.0,
            name = html_escape(&row.name),
            p = pct(share)
        );
        let _ = writeln!(
            s,
            r#"<text x="{tx:.3}" y="{ty}" font-size="12">{p}</text>"#,
            tx = label_w + bw + 6.0,
            ty = y + 15.0,
            p = pct(share)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn html_table(cells: &[Vec<String>]) -> String {
    let mut s = String::from("<table>\n");
    for (i, row) in cells.iter().enumerate() {
        s.push_str("<tr>");
        for c in row {
            let tag = if i == 0 { "th" } else { "td" };
            let _ = write!(s, "<{tag}>{}</{tag}>", html_escape(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

/// The report as one self-contained HTML page.
pub fn report_html(r: &Report) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Mail provider shares</title>\n<style>\n\
         body{font-family:sans-serif;margin:2em;color:#222}\n\
         table{border-collapse:collapse;margin:1em 0}\n\
         th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}\n\
         th:first-child,td:first-child{text-align:left}\n\
         </style>\n</head>\n<body>\n<h1>Mail provider shares</h1>\n",
    );
    for l in summary_lines(r) {
        let _ = writeln!(s, "<p>{}</p>", html_escape(&l));
    }
    s.push_str("<h2>Share of domains with an identified provider</h2>\n");
    s.push_str(&svg_chart(r));
    s.push_str("<h2>Shares</h2>\n");
    s.push_str(&html_table(&share_cells(r)));
    if let Some(c) = &r.company {
        let _ = writeln!(
            s,
            "<h2>Domains of {}</h2>\n<p>{} domains, weight {}.</p>",
            html_escape(&c.company),
            c.domains,
            num(c.weight)
        );
        s.push_str(&html_table(&company_cells(c)));
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// The evaluation in Markdown.
pub fn eval_markdown(e: &Evaluation) -> String {
    let mut s = String::from("# Accuracy against ground truth\n\n");
    let _ = writeln!(
        s,
        "{} label records, {} truth records, {} domains compared; {} only in the labels, {} only in the truth; {} duplicate labels, {} duplicate truth records.\n",
        e.labels,
        e.truth,
        e.compared,
        e.only_in_labels.len(),
        e.only_in_truth.len(),
        e.duplicate_labels.len(),
        e.duplicate_truth.len()
    );
    let cells = accuracy_cells(e, "", 2);
    s.push_str(&md_table(&cells));
    s.push_str("\n## Confusion by company (errors only)\n\n");
    let mut cells = vec![
        ["approach", "truth", "inferred", "weight"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    ];
    for c in e.confusion.iter().filter(|c| c.truth != c.inferred) {
        cells.push(vec![
            c.approach.as_str().to_string(),
            c.truth.clone(),
            c.inferred.clone(),
            num(c.weight),
        ]);
    }
    s.push_str(&md_table(&cells));
    s.push_str("\n## Misses\n\n");
    for (a, n) in &e.misses_total {
        let _ = writeln!(s, "- {a}: {n}");
    }
    s.push('\n');
    let ids = |v: &[super::eval::WeightedId]| {
        if v.is_empty() {
            super::eval::NONE.to_string()
        } else {
            v.iter()
                .map(|w| format!("{} {}", w.id, num(w.weight)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut cells = vec![
        [
            "approach", "domain", "classes", "truth", "inferred", "status", "evidence",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    ];
    for m in &e.misses {
        let ev = m
            .exchangers
            .iter()
            .map(|x| {
                let trail = x
                    .trail
                    .iter()
                    .map(|t| format!("{}:{}", t.source.as_str(), t.outcome.as_str()))
                    .collect::<Vec<_>>()
                    .join(" ");
                let flags = x
                    .flags
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                format!(
                    "{} [{}]{}",
                    x.name,
                    trail,
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!(" flags {flags}")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        cells.push(vec![
            m.approach.as_str().to_string(),
            m.domain.clone(),
            m.classes.join(", "),
            ids(&m.truth),
            ids(&m.inferred),
            m.status.as_str().to_string(),
            ev,
        ]);
    }
    s.push_str(&md_table(&cells));
    for (title, v) in [
        ("Only in the labels", &e.only_in_labels),
        ("Only in the truth", &e.only_in_truth),
    ] {
        if !v.is_empty() {
            let _ = writeln!(s, "\n## {title}\n");
            for d in v {
                let _ = writeln!(s, "- {d}");
            }
        }
    }
    s
}

/// The evaluation as pretty JSON (the [`Evaluation`] type).
pub fn eval_json(e: &Evaluation) -> String {
    let mut s = serde_json::to_string_pretty(e).unwrap_or_default();
    s.push('\n');
    s
}

/// The accuracy of the four approaches, overall and per hard-case class, as a text table:
/// a header line `accuracy  domains  mx-only  certificate  banner  priority`, then one line
/// per row with percentages.
pub fn accuracy_text(e: &Evaluation) -> String {
    let cells = accuracy_cells(e, "accuracy", 1);
    let mut s = format!(
        "Accuracy against the ground truth ({} of {} label records compared; correct = the weighted provider IDs equal the truth's, weights within 0.01):\n\n",
        e.compared, e.labels
    );
    s.push_str(&text_table(&cells));
    s
}
