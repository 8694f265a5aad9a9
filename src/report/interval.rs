//! Interim reports (`--every`): the one shape every format renders, and its text, TSV and JSON.
//!
//! The shape is a [`Report`] of [`Entry`]s, rendered here as strings; `prometheus.rs` and
//! `influx.rs` render the same `Report`, and `monitor.rs` picks the form. Pure: the caller takes
//! the snapshots, owns the clock and the writer; nothing here reads a clock or touches a file.

use super::{json_fields, push_epoch_secs, push_iso8601, push_ms3, tsv_lines, write_table, Row};
use crate::stats::{Rtts, Summary};
use std::io::{self, Write};
use std::net::IpAddr;

/// One target in a report.
pub struct Entry<'a> {
    pub name: &'a str,
    /// None: the name did not resolve (then every figure is zero).
    pub addr: Option<IpAddr>,
    /// What the report is about: the last interval, or the run since its start.
    pub span: &'a Summary,
    /// The run so far (for cumulative counters).
    pub total: &'a Summary,
    /// The run's round trips so far in fixed buckets, and their sum (for histograms).
    pub rtts: &'a Rtts,
}

/// One report: every target, in input order, over `start_ns..end_ns` (CLOCK_REALTIME ns).
pub struct Report<'a> {
    pub start_ns: u64,
    pub end_ns: u64,
    /// The span starts at the start of the run (`--every SECS,total`, or the one report of a
    /// run without `--every`).
    pub since_start: bool,
    pub entries: &'a [Entry<'a>],
}

impl Report<'_> {
    fn rows(&self) -> Vec<Row<'_>> {
        self.entries
            .iter()
            .map(|e| Row {
                name: e.name,
                addr: e.addr,
                summary: e.addr.map(|_| e.span),
            })
            .collect()
    }

    /// `start` and `end` in epoch seconds, each followed by a tab.
    fn span_tsv(&self) -> String {
        let mut out = String::new();
        for ns in &[self.start_ns, self.end_ns] {
            push_epoch_secs(&mut out, *ns);
            out.push('\t');
        }
        out
    }
}

/// The line above a text report's table.
pub fn text_title(r: &Report) -> String {
    let mut out = String::from("--- ");
    push_iso8601(&mut out, r.end_ns);
    out.push_str(if r.since_start { ": " } else { ": the last " });
    push_ms3(&mut out, r.end_ns.saturating_sub(r.start_ns) / 1000);
    out.push_str(if r.since_start {
        " s since the start ---\n"
    } else {
        " s ---\n"
    });
    out
}

/// Text: a blank line, the timestamp line, then the aligned table.
pub fn write_text(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(b"\n")?;
    w.write_all(text_title(r).as_bytes())?;
    write_table(&r.rows(), w)
}

/// TSV: the summary's columns after `start` and `end` (epoch seconds), a header line first.
pub fn write_tsv(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    tsv_lines(&r.rows(), ("start\tend\t", &r.span_tsv()), w)
}

/// JSON Lines: one `"type":"interval"` object per target, the summary's members after
/// `start` and `end` (epoch seconds).
pub fn write_json(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let mut lead = String::from("{\"type\":\"interval\",\"start\":");
    push_epoch_secs(&mut lead, r.start_ns);
    lead.push_str(",\"end\":");
    push_epoch_secs(&mut lead, r.end_ns);
    lead.push(',');
    let mut line = String::new();
    for row in r.rows() {
        line.clear();
        line.push_str(&lead);
        json_fields(&mut line, &row);
        line.push_str("}\n");
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cli::Format;

    pub(crate) fn span() -> Summary {
        Summary {
            sent: 10,
            received: 9,
            dups: 1,
            late: 2,
            errors: 3,
            min_ns: 41_000,
            avg_ns: 52_000,
            max_ns: 2_000_000,
            mdev_ns: 7_000,
            median_ns: 50_000,
            p95_ns: 60_000,
            elapsed_ns: 10_000_000_000,
            ..Summary::default()
        }
    }

    pub(crate) fn rtts() -> Rtts {
        let mut r = Rtts::default();
        r.fixed[0] = 5;
        r.fixed[1] = 10;
        r.fixed[5] = 1;
        r.sum_ns = 2_500_000;
        r
    }

    /// A report's entry for `name` at `addr` (`""`: the name did not resolve).
    pub(crate) fn entry<'a>(
        name: &'a str,
        addr: &str,
        span: &'a Summary,
        total: &'a Summary,
        rtts: &'a Rtts,
    ) -> Entry<'a> {
        Entry {
            name,
            addr: addr.parse().ok(),
            span,
            total,
            rtts,
        }
    }

    /// A report of `entries` ending at 2025-12-01T21:40:00Z, ten seconds long.
    pub(crate) fn report<'a>(entries: &'a [Entry<'a>], since_start: bool) -> Report<'a> {
        Report {
            start_ns: 1_764_625_190_000_000_000,
            end_ns: 1_764_625_200_000_000_000,
            since_start,
            entries,
        }
    }

    fn render(f: Format, r: &Report) -> String {
        let mut v = Vec::new();
        match f {
            Format::Text => write_text(r, &mut v),
            Format::Tsv => write_tsv(r, &mut v),
            _ => write_json(r, &mut v),
        }
        .unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn text_is_a_table_under_a_timestamp() {
        let (s, z, r) = (span(), Summary::default(), rtts());
        let e = [
            entry("localhost", "127.0.0.1", &s, &s, &r),
            entry("nope.invalid", "", &z, &z, &r),
        ];
        let t = render(Format::Text, &report(&e, false));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "");
        assert_eq!(
            lines[1],
            "--- 2025-12-01T21:40:00.000000+00:00: the last 10.000 s ---"
        );
        assert!(lines[2].starts_with("TARGET        ADDRESS    SENT  RECV  LOSS%"));
        assert!(lines[3].starts_with("localhost     127.0.0.1    10     9   10.0  0.041"));
        assert!(lines[4].starts_with("nope.invalid  -"));
        assert_eq!(lines.len(), 5);
        let t = render(Format::Text, &report(&e, true));
        assert!(t.contains(": 10.000 s since the start ---\n"));
    }

    #[test]
    fn tsv_and_json_rows_carry_the_interval() {
        let (s, r) = (span(), rtts());
        let e = [entry("a\tb", "::1", &s, &s, &r)];
        let t = render(Format::Tsv, &report(&e, false));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("start\tend\ttarget\taddress\tsent\t"));
        assert_eq!(lines[0].split('\t').count(), 16);
        assert_eq!(lines[1].split('\t').count(), 16);
        assert!(lines[1].starts_with("1764625190.000000\t1764625200.000000\ta\\tb\t::1\t10\t9\t"));
        let j = render(Format::Json, &report(&e, false));
        assert!(j.starts_with(
            "{\"type\":\"interval\",\"start\":1764625190.000000,\"end\":1764625200.000000,\"target\":\"a\\tb\",\"address\":\"::1\",\"resolved\":true,\"sent\":10,\"received\":9,"
        ));
        assert!(j.ends_with(",\"duplicates\":1,\"late\":2,\"errors\":3}\n"));
        assert_eq!(j.lines().count(), 1);
    }
}
