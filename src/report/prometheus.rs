//! `--format=prometheus`: a `Report` in the Prometheus text exposition format (0.0.4).
//!
//! It is written as node_exporter's textfile collector reads it. Every family has `# HELP` and `#
//! TYPE`; counters (`_total`) and the round-trip histogram are cumulative over the run, the gauges
//! describe the last report. Labels: `target` (as named), `address`, `family` (`ipv4`, `ipv6`,
//! empty for a name that did not resolve); values escaped as the format requires. No timestamps
//! (the textfile collector refuses them). Pure.

use super::interval::{Entry, Report};
use crate::stats::{Summary, RTT_BOUNDS_NS};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

/// A label value with `\`, `"` and newline escaped (the only escapes the format has).
pub fn label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Nanoseconds as seconds, exactly, in the shortest decimal: 45000 -> `0.000045`.
pub fn seconds(ns: u128) -> String {
    let (whole, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:09}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

fn labels(e: &Entry) -> String {
    let (addr, family) = match e.addr {
        Some(a @ IpAddr::V4(_)) => (a.to_string(), "ipv4"),
        Some(a @ IpAddr::V6(_)) => (a.to_string(), "ipv6"),
        None => (String::new(), ""),
    };
    format!(
        "target=\"{}\",address=\"{}\",family=\"{family}\"",
        label_value(e.name),
        label_value(&addr)
    )
}

type Value = fn(&Entry) -> Option<String>;

fn counter(f: fn(&Summary) -> u64) -> impl Fn(&Entry) -> Option<String> {
    move |e| Some(f(e.total).to_string())
}

/// A gauge from the report's span, present only when the span had a reply.
fn rtt_gauge(f: fn(&Summary) -> u64) -> impl Fn(&Entry) -> Option<String> {
    move |e| (e.span.received > 0).then(|| seconds(u128::from(f(e.span))))
}

/// A metric family written from one figure of a [`Summary`]: name, help, the figure.
type Family = (&'static str, &'static str, fn(&Summary) -> u64);

/// The counter families, in the order written (the figure: the run's so far).
const COUNTERS: [Family; 5] = [
    (
        "pingr_probes_sent_total",
        "ICMP echo requests sent to the target since pingr started.",
        |s| s.sent,
    ),
    (
        "pingr_replies_total",
        "Echo replies received in time (one per answered probe).",
        |s| s.received,
    ),
    (
        "pingr_duplicate_replies_total",
        "Duplicate echo replies (a probe answered more than once).",
        |s| s.dups,
    ),
    (
        "pingr_late_replies_total",
        "Echo replies that arrived after the probe's timeout (-W).",
        |s| s.late,
    ),
    (
        "pingr_icmp_errors_total",
        "ICMP errors (unreachable, time exceeded, ...) quoting a probe to the target.",
        |s| s.errors,
    ),
];

/// The round-trip gauges of the last report, in the order written.
const RTT_GAUGES: [Family; 3] = [
    (
        "pingr_rtt_min_seconds",
        "Shortest round-trip time of the last report.",
        |s| s.min_ns,
    ),
    (
        "pingr_rtt_avg_seconds",
        "Mean round-trip time of the last report.",
        |s| s.avg_ns,
    ),
    (
        "pingr_rtt_max_seconds",
        "Longest round-trip time of the last report.",
        |s| s.max_ns,
    ),
];

/// Writes `r`. A target listed twice under the same name and address is written once (a
/// series must be unique).
pub fn write(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let mut seen = HashSet::new();
    let entries: Vec<(&Entry, String)> = r
        .entries
        .iter()
        .map(|e| (e, labels(e)))
        .filter(|(_, l)| seen.insert(l.clone()))
        .collect();
    let mut out = String::with_capacity(256 + entries.len() * 1024);
    let mut family =
        |name: &str, kind: &str, help: &str, value: &dyn Fn(&Entry) -> Option<String>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (e, l) in &entries {
                if let Some(v) = value(e) {
                    let _ = writeln!(out, "{name}{{{l}}} {v}");
                }
            }
        };
    for (name, help, count) in COUNTERS {
        family(name, "counter", help, &counter(count));
    }
    let answered: Value = |e| Some(if e.span.received > 0 { "1" } else { "0" }.into());
    family(
        "pingr_answered",
        "gauge",
        "1 if the target answered at least once in the last report, else 0.",
        &answered,
    );
    let loss: Value = |e| {
        (e.span.sent > 0).then(|| {
            let ratio = e.span.loss_percent() / 100.0;
            crate::decimal::shortest(ratio)
        })
    };
    family(
        "pingr_loss_ratio",
        "gauge",
        "Share of the probes of the last report that were not answered (0 to 1).",
        &loss,
    );
    for (name, help, rtt) in RTT_GAUGES {
        family(name, "gauge", help, &rtt_gauge(rtt));
    }
    let _ = writeln!(
        out,
        "# HELP pingr_rtt_seconds Round-trip times of answered probes since pingr started.\n# TYPE pingr_rtt_seconds histogram"
    );
    for (e, l) in &entries {
        let mut cum = 0u64;
        for (bound, n) in RTT_BOUNDS_NS.iter().zip(e.rtts.fixed) {
            cum = cum.saturating_add(n);
            let le = seconds(u128::from(*bound));
            let _ = writeln!(out, "pingr_rtt_seconds_bucket{{{l},le=\"{le}\"}} {cum}");
        }
        let count = e.rtts.count();
        let _ = writeln!(out, "pingr_rtt_seconds_bucket{{{l},le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "pingr_rtt_seconds_sum{{{l}}} {}",
            seconds(e.rtts.sum_ns)
        );
        let _ = writeln!(out, "pingr_rtt_seconds_count{{{l}}} {count}");
    }
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::interval::tests::{entry, report, rtts, span};
    use super::*;
    use crate::stats::Summary;

    #[test]
    fn escapes_and_seconds() {
        assert_eq!(label_value("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(45_000), "0.000045");
        assert_eq!(seconds(1_500_000_000), "1.5");
        assert_eq!(seconds(10_000_000_000), "10");
        assert_eq!(seconds(u128::from(u64::MAX)), "18446744073.709551615");
    }

    #[test]
    fn every_family_typed_counters_cumulative_histogram_consistent() {
        let (s, t, r, z) = (
            span(),
            {
                let mut t = span();
                t.sent = 100;
                t.received = 16;
                t
            },
            rtts(),
            Summary::default(),
        );
        let none = crate::stats::Rtts::default();
        let e = [
            entry("web \"1\"\\", "127.0.0.1", &s, &t, &r),
            entry("web \"1\"\\", "127.0.0.1", &s, &t, &r),
            entry("v6", "::1", &z, &z, &none),
        ];
        let mut v = Vec::new();
        write(&report(&e, false), &mut v).unwrap();
        let text = String::from_utf8(v).unwrap();
        let l1 = "target=\"web \\\"1\\\"\\\\\",address=\"127.0.0.1\",family=\"ipv4\"";
        let l2 = "target=\"v6\",address=\"::1\",family=\"ipv6\"";
        for want in [
            format!("pingr_probes_sent_total{{{l1}}} 100"),
            format!("pingr_replies_total{{{l1}}} 16"),
            format!("pingr_duplicate_replies_total{{{l1}}} 1"),
            format!("pingr_late_replies_total{{{l1}}} 2"),
            format!("pingr_icmp_errors_total{{{l1}}} 3"),
            format!("pingr_answered{{{l1}}} 1"),
            format!("pingr_answered{{{l2}}} 0"),
            format!("pingr_loss_ratio{{{l1}}} 0.1"),
            format!("pingr_rtt_min_seconds{{{l1}}} 0.000041"),
            format!("pingr_rtt_avg_seconds{{{l1}}} 0.000052"),
            format!("pingr_rtt_max_seconds{{{l1}}} 0.002"),
            format!("pingr_rtt_seconds_bucket{{{l1},le=\"0.00005\"}} 5"),
            format!("pingr_rtt_seconds_bucket{{{l1},le=\"0.0001\"}} 15"),
            format!("pingr_rtt_seconds_bucket{{{l1},le=\"0.0025\"}} 16"),
            format!("pingr_rtt_seconds_bucket{{{l1},le=\"+Inf\"}} 16"),
            format!("pingr_rtt_seconds_sum{{{l1}}} 0.0025"),
            format!("pingr_rtt_seconds_count{{{l1}}} 16"),
            format!("pingr_rtt_seconds_count{{{l2}}} 0"),
        ] {
            assert_eq!(
                text.lines().filter(|l| *l == want).count(),
                1,
                "{want}\n{text}"
            );
        }
        // No reply in the report: no RTT gauges and no loss figure without probes.
        assert!(!text.contains(&format!("pingr_rtt_min_seconds{{{l2}}}")));
        assert!(!text.contains(&format!("pingr_loss_ratio{{{l2}}}")));
        // Every sample's family has HELP and TYPE before it.
        let mut typed = HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with("# HELP ") {
                let name = line.split('{').next().unwrap();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|b| typed.contains(*b)))
                    .unwrap_or(name);
                assert!(typed.contains(base), "{line}");
            }
        }
        assert_eq!(typed.len(), 11);
        assert_eq!(text.matches("# HELP ").count(), 11);
    }
}
