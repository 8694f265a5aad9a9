//! `--format=prometheus`: a `Report` in the Prometheus text exposition format (0.0.4).
//!
//! It is written as node_exporter's textfile collector reads it. Every family has `# HELP` and `#
//! TYPE`; counters (`_total`) and the round-trip histogram are cumulative over the run, the gauges
//! describe the last report. Labels: `target` (as named), `address`, `family` (`ipv4`, `ipv6`,
//! empty for a name that did not resolve); values escaped as the format requires. No timestamps
//! (the textfile collector refuses them). Pure.

use super::interval::{Entry, Report};
use super::num;
use crate::stats::{Summary, RTT_BOUNDS_NS};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

/// Appends a label value with `\`, `"` and newline escaped (the only escapes the format has).
fn push_label_value(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A label value with `\`, `"` and newline escaped (the only escapes the format has).
#[cfg(test)]
fn label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_label_value(&mut out, s);
    out
}

/// Appends nanoseconds as seconds, exactly, in the shortest decimal: 45000 -> `0.000045`.
fn push_seconds(out: &mut String, ns: u128) {
    let (whole, frac) = (ns / 1_000_000_000, (ns % 1_000_000_000) as u64);
    // Above u64::MAX seconds (never met: 584 billion years of summed round trips), the
    // whole part is written as two u64 halves of its decimal digits.
    let (hi, lo) = (
        whole / 10_000_000_000_000_000_000,
        whole % 10_000_000_000_000_000_000,
    );
    if hi > 0 {
        num(out, hi as u64);
        super::num_padded(out, lo as u64, 19);
    } else {
        num(out, lo as u64);
    }
    if frac > 0 {
        out.push('.');
        super::num_padded(out, frac, 9);
        super::trim_zeros(out);
    }
}

/// Nanoseconds as seconds, exactly, in the shortest decimal: 45000 -> `0.000045`.
#[cfg(test)]
fn seconds(ns: u128) -> String {
    let mut out = String::new();
    push_seconds(&mut out, ns);
    out
}

fn labels(e: &Entry) -> String {
    let mut out = String::from("target=\"");
    push_label_value(&mut out, e.name);
    out.push_str("\",address=\"");
    if let Some(a) = e.addr {
        // An address has nothing to escape.
        let _ = write!(out, "{a}");
    }
    out.push_str("\",family=\"");
    out.push_str(match e.addr {
        Some(IpAddr::V4(_)) => "ipv4",
        Some(IpAddr::V6(_)) => "ipv6",
        None => "",
    });
    out.push('"');
    out
}

/// What the samples of a family are.
#[derive(Clone, Copy)]
enum Value {
    /// A counter: the run's figure so far.
    Total(fn(&Summary) -> u64),
    /// 1 if the last report had a reply, else 0.
    Answered,
    /// The last report's loss ratio (none without probes).
    Loss,
    /// A round-trip gauge of the last report (none without a reply).
    Rtt(fn(&Summary) -> u64),
    /// The run's round-trip histogram.
    Histogram,
}

/// Every family, in the order written: name, type, help, its samples.
const FAMILIES: [(&str, &str, &str, Value); 11] = [
    (
        "pingr_probes_sent_total",
        "counter",
        "ICMP echo requests sent to the target since pingr started.",
        Value::Total(|s| s.sent),
    ),
    (
        "pingr_replies_total",
        "counter",
        "Echo replies received in time (one per answered probe).",
        Value::Total(|s| s.received),
    ),
    (
        "pingr_duplicate_replies_total",
        "counter",
        "Duplicate echo replies (a probe answered more than once).",
        Value::Total(|s| s.dups),
    ),
    (
        "pingr_late_replies_total",
        "counter",
        "Echo replies that arrived after the probe's timeout (-W).",
        Value::Total(|s| s.late),
    ),
    (
        "pingr_icmp_errors_total",
        "counter",
        "ICMP errors (unreachable, time exceeded, ...) quoting a probe to the target.",
        Value::Total(|s| s.errors),
    ),
    (
        "pingr_answered",
        "gauge",
        "1 if the target answered at least once in the last report, else 0.",
        Value::Answered,
    ),
    (
        "pingr_loss_ratio",
        "gauge",
        "Share of the probes of the last report that were not answered (0 to 1).",
        Value::Loss,
    ),
    (
        "pingr_rtt_min_seconds",
        "gauge",
        "Shortest round-trip time of the last report.",
        Value::Rtt(|s| s.min_ns),
    ),
    (
        "pingr_rtt_avg_seconds",
        "gauge",
        "Mean round-trip time of the last report.",
        Value::Rtt(|s| s.avg_ns),
    ),
    (
        "pingr_rtt_max_seconds",
        "gauge",
        "Longest round-trip time of the last report.",
        Value::Rtt(|s| s.max_ns),
    ),
    (
        "pingr_rtt_seconds",
        "histogram",
        "Round-trip times of answered probes since pingr started.",
        Value::Histogram,
    ),
];

/// The `le` label of each of `RTT_BOUNDS_NS`, in seconds (a test checks them against
/// the bounds).
const LES: [&str; RTT_BOUNDS_NS.len()] = [
    ",le=\"0.00005\"",
    ",le=\"0.0001\"",
    ",le=\"0.00025\"",
    ",le=\"0.0005\"",
    ",le=\"0.001\"",
    ",le=\"0.0025\"",
    ",le=\"0.005\"",
    ",le=\"0.01\"",
    ",le=\"0.025\"",
    ",le=\"0.05\"",
    ",le=\"0.1\"",
    ",le=\"0.25\"",
    ",le=\"0.5\"",
    ",le=\"1\"",
    ",le=\"2.5\"",
    ",le=\"5\"",
    ",le=\"10\"",
];

/// FNV-1a: a target list is the user's own, so no keyed hash is needed against collisions.
fn fnv(s: &str) -> usize {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) as usize
}

/// The entries with their labels, each series once (the first of the same labels), in
/// input order: an open-addressing table of indices (a series must be unique).
fn unique<'a>(r: &'a Report) -> Vec<(&'a Entry<'a>, String)> {
    let cap = (r.entries.len() * 2).next_power_of_two();
    let mut slots = vec![0usize; cap];
    let mut entries: Vec<(&Entry, String)> = Vec::with_capacity(r.entries.len());
    'next: for e in r.entries {
        let l = labels(e);
        let mut i = fnv(&l);
        loop {
            i &= cap - 1;
            let Some(slot) = slots.get_mut(i) else { break };
            if *slot == 0 {
                *slot = entries.len() + 1;
                break;
            }
            if entries.get(*slot - 1).is_some_and(|(_, seen)| *seen == l) {
                continue 'next;
            }
            i += 1;
        }
        entries.push((e, l));
    }
    entries
}

/// One sample line: `name{labels[,extra]} ` and its value (written by the caller).
fn sample(out: &mut String, name: &str, suffix: &str, l: &str, extra: &str) {
    out.push_str(name);
    out.push_str(suffix);
    out.push('{');
    out.push_str(l);
    out.push_str(extra);
    out.push_str("} ");
}

/// Writes `r`. A target listed twice under the same name and address is written once (a
/// series must be unique).
pub fn write(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let entries = unique(r);
    let mut out = String::with_capacity(256 + entries.len() * 1024);
    for &(name, kind, help, value) in &FAMILIES {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (e, l) in &entries {
            match value {
                Value::Total(f) => {
                    sample(&mut out, name, "", l, "");
                    num(&mut out, f(e.total));
                }
                Value::Answered => {
                    sample(&mut out, name, "", l, "");
                    out.push(if e.span.received > 0 { '1' } else { '0' });
                }
                Value::Loss => {
                    if e.span.sent == 0 {
                        continue;
                    }
                    sample(&mut out, name, "", l, "");
                    crate::decimal::push_shortest(&mut out, e.span.loss_percent() / 100.0);
                }
                Value::Rtt(f) => {
                    if e.span.received == 0 {
                        continue;
                    }
                    sample(&mut out, name, "", l, "");
                    push_seconds(&mut out, u128::from(f(e.span)));
                }
                Value::Histogram => {
                    let mut cum = 0u64;
                    for (le, n) in LES.iter().zip(&e.rtts.fixed) {
                        cum = cum.saturating_add(*n);
                        sample(&mut out, name, "_bucket", l, le);
                        num(&mut out, cum);
                        out.push('\n');
                    }
                    let count = e.rtts.count();
                    sample(&mut out, name, "_bucket", l, ",le=\"+Inf\"");
                    num(&mut out, count);
                    out.push('\n');
                    sample(&mut out, name, "_sum", l, "");
                    push_seconds(&mut out, e.rtts.sum_ns);
                    out.push('\n');
                    sample(&mut out, name, "_count", l, "");
                    num(&mut out, count);
                }
            }
            out.push('\n');
        }
    }
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::interval::tests::{entry, report, rtts, span};
    use super::*;
    use crate::stats::Summary;
    use std::collections::HashSet;

    #[test]
    fn escapes_and_seconds() {
        assert_eq!(label_value("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(45_000), "0.000045");
        assert_eq!(seconds(1_500_000_000), "1.5");
        assert_eq!(seconds(10_000_000_000), "10");
        assert_eq!(seconds(u128::from(u64::MAX)), "18446744073.709551615");
        assert_eq!(
            seconds(u128::MAX),
            "340282366920938463463374607431.768211455"
        );
        for (le, b) in LES.iter().zip(RTT_BOUNDS_NS) {
            assert_eq!(*le, format!(",le=\"{}\"", seconds(u128::from(b))));
        }
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
