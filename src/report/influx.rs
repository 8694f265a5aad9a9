//! `--format=influx`: a `Report` in InfluxDB line protocol, one line per target.
//!
//! Each line is stamped with the report's end in nanoseconds (what Telegraf's `exec`/`execd` inputs
//! read with `data_format = "influx"`). Measurement `pingr`; tags `target`, `address`, `family` (a
//! tag with no value is left out, as the protocol requires); field names follow Telegraf's own ping
//! input, so dashboards made for it work. Figures are the report's span (the interval, or since the
//! start). Pure.

use super::interval::{Entry, Report};
use super::{printable, push_ms3};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

/// Appends a tag value (or key): control characters shown as Rust escapes (the protocol has
/// no newline in tags), then `\`, `,`, `=` and space escaped with a backslash.
fn push_tag(out: &mut String, s: &str) {
    for c in printable(s).chars() {
        if matches!(c, '\\' | ',' | '=' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A tag value (or key), escaped (see `push_tag`).
#[cfg(test)]
fn tag(s: &str) -> String {
    let mut out = String::new();
    push_tag(&mut out, s);
    out
}

/// The millisecond fields of a span with replies, in the order written.
const MS_FIELDS: [&str; 6] = [
    ",minimum_response_ms=",
    ",average_response_ms=",
    ",maximum_response_ms=",
    ",standard_deviation_ms=",
    ",percentile50_ms=",
    ",percentile95_ms=",
];

fn line(l: &mut String, e: &Entry, ts: u64) {
    l.push_str("pingr,target=");
    push_tag(l, e.name);
    if l.ends_with('=') {
        l.truncate(l.len() - ",target=".len()); // an empty name: no tag
    }
    let s = e.span;
    match e.addr {
        Some(a) => {
            // An address has nothing to escape.
            let _ = write!(l, ",address={a}");
            let family = if matches!(a, IpAddr::V4(_)) {
                "ipv4"
            } else {
                "ipv6"
            };
            let _ = write!(
                l,
                ",family={family} result_code=0i,packets_transmitted={}i,packets_received={}i",
                s.sent, s.received
            );
            if s.sent > 0 {
                l.push_str(",percent_packet_loss=");
                crate::decimal::push_fixed(l, s.loss_percent(), 3);
            }
            if s.received > 0 {
                let ms = [
                    s.min_ns,
                    s.avg_ns,
                    s.max_ns,
                    s.mdev_ns,
                    s.median_ns,
                    s.p95_ns,
                ];
                for (field, v) in MS_FIELDS.iter().zip(&ms) {
                    l.push_str(field);
                    push_ms3(l, *v);
                }
            }
            let _ = write!(
                l,
                ",duplicates={}i,late={}i,icmp_errors={}i",
                s.dups, s.late, s.errors
            );
        }
        // Telegraf's ping input: result_code 1 is "no such host".
        None => l.push_str(" result_code=1i"),
    }
    let _ = writeln!(l, " {ts}");
}

/// Writes `r`: one line per target, in input order.
pub fn write(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::with_capacity(r.entries.len() * 320);
    for e in r.entries {
        line(&mut out, e, r.end_ns);
    }
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::interval::tests::{entry, report, rtts, span};
    use super::*;
    use crate::stats::Summary;

    #[test]
    fn escaping() {
        assert_eq!(tag("a b,c=d\\e"), "a\\ b\\,c\\=d\\\\e");
        assert_eq!(tag("x\ny"), "x\\\\ny");
        assert_eq!(tag("plain"), "plain");
    }

    #[test]
    fn one_line_per_target_with_a_ns_timestamp() {
        let (s, z, r) = (span(), Summary::default(), rtts());
        let e = [
            entry("web 1", "127.0.0.1", &s, &s, &r),
            entry("v6", "::1", &z, &z, &r),
            entry("nope.invalid", "", &z, &z, &r),
        ];
        let mut v = Vec::new();
        write(&report(&e, false), &mut v).unwrap();
        let text = String::from_utf8(v).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "pingr,target=web\\ 1,address=127.0.0.1,family=ipv4 result_code=0i,packets_transmitted=10i,packets_received=9i,percent_packet_loss=10.000,minimum_response_ms=0.041,average_response_ms=0.052,maximum_response_ms=2.000,standard_deviation_ms=0.007,percentile50_ms=0.050,percentile95_ms=0.060,duplicates=1i,late=2i,icmp_errors=3i 1764625200000000000"
        );
        assert_eq!(
            lines[1],
            "pingr,target=v6,address=::1,family=ipv6 result_code=0i,packets_transmitted=0i,packets_received=0i,duplicates=0i,late=0i,icmp_errors=0i 1764625200000000000"
        );
        assert_eq!(
            lines[2],
            "pingr,target=nope.invalid result_code=1i 1764625200000000000"
        );
    }
}
