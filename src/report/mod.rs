//! Plain-text output as strings: iputils-shaped lines, the summary table, TSV and JSON Lines.
//!
//! The iputils-shaped header, reply and statistics lines, the aligned summary table, the
//! tab-separated and JSON Lines forms, and the time prefixes. Pure: the caller owns the writer and
//! the clock; nothing here touches a socket or stdout (except [`run`], which writes the run's
//! final report and its stderr lines).

pub mod fping;
mod fping_text;
pub mod influx;
pub mod interval;
pub mod prometheus;
pub mod run;

use crate::decimal;
use crate::stats::Summary;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

/// Appends `v` in decimal, zero-padded to at least `width` digits (at most 20).
pub(crate) fn num_padded(out: &mut String, mut v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while i > 0 && (v > 0 || buf.len() - i < width) {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
    }
    if i == buf.len() {
        i -= 1;
    }
    out.push_str(std::str::from_utf8(buf.get(i..).unwrap_or_default()).unwrap_or_default());
}

/// Appends `v` in decimal.
pub(crate) fn num(out: &mut String, v: u64) {
    num_padded(out, v, 1);
}

/// A target name as it may be shown on a terminal or in a line-based format: control
/// characters (a NUL, CR, ESC or newline from a target file) are escaped as in Rust strings.
pub fn printable(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_debug().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Milliseconds with three decimals from nanoseconds (rounded to the microsecond): "0.045".
pub fn ms3(ns: u64) -> String {
    let us = ns.saturating_add(500) / 1000;
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// A reply's time as iputils prints it: fewer decimals as the time grows.
pub fn reply_ms(ns: u64) -> String {
    let us = ns.saturating_add(500) / 1000;
    if us >= 100_000 - 50 {
        format!("{}", (us + 500) / 1000)
    } else if us >= 10_000 - 5 {
        format!("{}.{:01}", (us + 50) / 1000, ((us + 50) % 1000) / 100)
    } else if us >= 1000 {
        format!("{}.{:02}", (us + 5) / 1000, ((us + 5) % 1000) / 10)
    } else {
        format!("{}.{:03}", us / 1000, us % 1000)
    }
}

/// printf's `%g` for the small non-negative numbers pingr prints (loss percentages).
pub fn g(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return "0".into();
    }
    let e = x.log10().floor() as i32;
    if !(-4..6).contains(&e) {
        return decimal::shortest_exp(x);
    }
    let decimals = (5 - e).max(0) as usize;
    let s = decimal::fixed(x, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `PING host (addr) 56(84) bytes of data.` (IPv4) or `PING host (addr) 56 data bytes` (IPv6).
pub fn header(name: &str, ip: IpAddr, size: usize) -> String {
    match ip {
        IpAddr::V4(_) => format!(
            "PING {} ({ip}) {size}({}) bytes of data.\n",
            printable(name),
            size + 28
        ),
        IpAddr::V6(_) => format!("PING {} ({ip}) {size} data bytes\n", printable(name)),
    }
}

/// What kind of reply line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    None,
    Dup,
    Late,
}

/// `64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms` (+ ` (DUP!)` / ` (LATE!)`).
pub fn reply_line(
    prefix: &str,
    bytes: usize,
    from: IpAddr,
    seq: u16,
    ttl: Option<u8>,
    rtt_ns: u64,
    mark: Mark,
) -> String {
    let mut s = String::with_capacity(96);
    s.push_str(prefix);
    let _ = write!(s, "{bytes} bytes from {from}: icmp_seq={seq}");
    if let Some(t) = ttl {
        let _ = write!(s, " ttl={t}");
    }
    let _ = write!(s, " time={} ms", reply_ms(rtt_ns));
    match mark {
        Mark::None => {}
        Mark::Dup => s.push_str(" (DUP!)"),
        Mark::Late => s.push_str(" (LATE!)"),
    }
    s.push('\n');
    s
}

/// `From 10.0.0.1 icmp_seq=1 Destination Host Unreachable`.
pub fn error_line(prefix: &str, router: Option<IpAddr>, seq: u16, what: &str) -> String {
    match router {
        Some(r) => format!("{prefix}From {r} icmp_seq={seq} {what}\n"),
        None => format!("{prefix}From (unknown) icmp_seq={seq} {what}\n"),
    }
}

/// iputils' `-O` line.
pub fn no_answer_line(prefix: &str, seq: u16) -> String {
    format!("{prefix}no answer yet for icmp_seq={seq}\n")
}

/// iputils' `min/avg/max/mdev` figures: `0.041/0.052/2.000/0.007`.
fn rtt_figures(s: &Summary) -> String {
    let (min, avg) = (ms3(s.min_ns), ms3(s.avg_ns));
    format!("{min}/{avg}/{}/{}", ms3(s.max_ns), ms3(s.mdev_ns))
}

/// The statistics block of one host, shaped as iputils ping's.
pub fn stats_block(name: &str, s: &Summary) -> String {
    let name = printable(name);
    let mut out = format!(
        "\n--- {name} ping statistics ---\n{} packets transmitted, {} received",
        s.sent, s.received
    );
    if s.dups > 0 {
        let _ = write!(out, ", +{} duplicates", s.dups);
    }
    if s.late > 0 {
        let _ = write!(out, ", +{} late", s.late);
    }
    if s.errors > 0 {
        let _ = write!(out, ", +{} errors", s.errors);
    }
    if s.sent > 0 {
        let _ = write!(out, ", {}% packet loss", g(s.loss_percent()));
    }
    let _ = writeln!(out, ", time {}ms", s.elapsed_ns / 1_000_000);
    if s.received > 0 {
        let _ = writeln!(out, "rtt min/avg/max/mdev = {} ms", rtt_figures(s));
    }
    out
}

/// The one-line interim status (SIGQUIT), like iputils'.
pub fn status_line(name: &str, s: &Summary) -> String {
    let name = printable(name);
    let mut out = format!(
        "{name}: {}/{} packets, {}% loss",
        s.received,
        s.sent,
        g(s.loss_percent())
    );
    if s.received > 0 {
        let _ = write!(out, ", min/avg/max/mdev = {} ms", rtt_figures(s));
    }
    out.push('\n');
    out
}

/// One row of the summary: the target as named, its address, and its results (None: the name
/// did not resolve).
pub struct Row<'a> {
    pub name: &'a str,
    pub addr: Option<IpAddr>,
    pub summary: Option<&'a Summary>,
}

pub const COLUMNS: [&str; 14] = [
    "target", "address", "sent", "recv", "loss%", "min", "avg", "max", "mdev", "median", "p95",
    "dup", "late", "err",
];

pub(crate) fn cells(r: &Row) -> [String; 14] {
    let dash = || "-".to_string();
    let addr = r.addr.map(|a| a.to_string()).unwrap_or_else(dash);
    match r.summary {
        None => {
            let mut c: [String; 14] = std::array::from_fn(|_| dash());
            c[0] = printable(r.name).into_owned();
            c[1] = addr;
            c
        }
        Some(s) => {
            let rtt = |v: u64| if s.received > 0 { ms3(v) } else { dash() };
            let loss = if s.sent > 0 {
                decimal::fixed(s.loss_percent(), 1)
            } else {
                dash()
            };
            [
                printable(r.name).into_owned(),
                addr,
                s.sent.to_string(),
                s.received.to_string(),
                loss,
                rtt(s.min_ns),
                rtt(s.avg_ns),
                rtt(s.max_ns),
                rtt(s.mdev_ns),
                rtt(s.median_ns),
                rtt(s.p95_ns),
                s.dups.to_string(),
                s.late.to_string(),
                s.errors.to_string(),
            ]
        }
    }
}

/// The aligned summary table: text columns left-aligned, numbers right-aligned, input order.
/// Rows are formatted twice (once to size the columns, once to write) rather than kept, so a
/// sweep of many thousand targets needs no memory for its table.
pub fn write_table(rows: &[Row], w: &mut dyn Write) -> io::Result<()> {
    let mut width: [usize; 14] = COLUMNS.map(str::len);
    for r in rows {
        for (wd, c) in width.iter_mut().zip(cells(r)) {
            *wd = (*wd).max(c.chars().count());
        }
    }
    // The column names are ASCII: str::to_uppercase would bring ~16 KiB of Unicode case
    // tables into the binary (issue 13).
    let header: [String; 14] = COLUMNS.map(|c| c.to_ascii_uppercase());
    let mut line = String::new();
    for r in std::iter::once(header).chain(rows.iter().map(cells)) {
        line.clear();
        for (i, (c, wd)) in r.iter().zip(width).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            if i < 2 {
                let _ = write!(line, "{c:<wd$}");
            } else {
                let _ = write!(line, "{c:>wd$}");
            }
        }
        w.write_all(line.trim_end().as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// The same columns, tab-separated, a header line first, no padding.
pub fn write_tsv(rows: &[Row], w: &mut dyn Write) -> io::Result<()> {
    w.write_all(COLUMNS.join("\t").as_bytes())?;
    w.write_all(b"\n")?;
    for r in rows {
        let c = cells(r);
        w.write_all(c.join("\t").as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// A JSON string literal with every character that needs it escaped.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_ms(v: u64, have: bool) -> String {
    if have {
        ms3(v)
    } else {
        "null".into()
    }
}

/// One JSON object (a line) summarising a target.
pub fn json_summary(r: &Row) -> String {
    format!("{{\"type\":\"summary\",{}}}\n", json_fields(r))
}

/// The members of a target's JSON summary after `type`, without braces.
pub(crate) fn json_fields(r: &Row) -> String {
    let addr = r
        .addr
        .map(|a| json_str(&a.to_string()))
        .unwrap_or_else(|| "null".into());
    match r.summary {
        None => format!(
            "\"target\":{},\"address\":{addr},\"resolved\":false",
            json_str(r.name)
        ),
        Some(s) => {
            let have = s.received > 0;
            format!(
                "\"target\":{},\"address\":{addr},\"resolved\":true,\"sent\":{},\"received\":{},\"loss_percent\":{},\"min_ms\":{},\"avg_ms\":{},\"max_ms\":{},\"mdev_ms\":{},\"median_ms\":{},\"p95_ms\":{},\"duplicates\":{},\"late\":{},\"errors\":{}",
                json_str(r.name),
                s.sent,
                s.received,
                if s.sent > 0 {
                    decimal::fixed(s.loss_percent(), 3)
                } else {
                    "null".into()
                },
                json_ms(s.min_ns, have),
                json_ms(s.avg_ns, have),
                json_ms(s.max_ns, have),
                json_ms(s.mdev_ns, have),
                json_ms(s.median_ns, have),
                json_ms(s.p95_ns, have),
                s.dups,
                s.late,
                s.errors
            )
        }
    }
}

/// One JSON object for a reply event.
pub fn json_reply(
    target: &str,
    from: IpAddr,
    bytes: usize,
    seq: u16,
    ttl: Option<u8>,
    rtt_ns: u64,
    mark: Mark,
) -> String {
    let kind = match mark {
        Mark::None => "reply",
        Mark::Dup => "duplicate",
        Mark::Late => "late",
    };
    let ttl = ttl.map(|t| t.to_string()).unwrap_or_else(|| "null".into());
    format!(
        "{{\"type\":{},\"target\":{},\"from\":{},\"bytes\":{bytes},\"icmp_seq\":{seq},\"ttl\":{ttl},\"time_ms\":{}}}\n",
        json_str(kind),
        json_str(target),
        json_str(&from.to_string()),
        ms3(rtt_ns)
    )
}

/// One JSON object for an ICMP error event.
pub fn json_error(target: &str, router: Option<IpAddr>, seq: u16, what: &str) -> String {
    let from = router
        .map(|r| json_str(&r.to_string()))
        .unwrap_or_else(|| "null".into());
    format!(
        "{{\"type\":\"icmp_error\",\"target\":{},\"from\":{from},\"icmp_seq\":{seq},\"error\":{}}}\n",
        json_str(target),
        json_str(what)
    )
}

/// `[1700000000.123456] ` (iputils' -D).
pub fn epoch_prefix(real_ns: u64) -> String {
    format!(
        "[{}.{:06}] ",
        real_ns / 1_000_000_000,
        (real_ns % 1_000_000_000) / 1000
    )
}

/// `[2026-11-22T19:44:32.123456+00:00] ` (ISO 8601, UTC).
pub fn iso_prefix(real_ns: u64) -> String {
    format!("[{}] ", iso8601(real_ns))
}

/// `2026-11-22T19:44:32.123456+00:00` (ISO 8601, UTC).
pub fn iso8601(real_ns: u64) -> String {
    let secs = real_ns / 1_000_000_000;
    let micros = (real_ns % 1_000_000_000) / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(sent: u64, received: u64) -> Summary {
        Summary {
            sent,
            received,
            min_ns: 30_000,
            avg_ns: 41_000,
            max_ns: 52_499,
            mdev_ns: 9_000,
            median_ns: 40_000,
            p95_ns: 52_000,
            elapsed_ns: 2_003_900_000,
            ..Summary::default()
        }
    }

    #[test]
    fn ping_shaped_lines() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            header("localhost", ip, 56),
            "PING localhost (127.0.0.1) 56(84) bytes of data.\n"
        );
        assert_eq!(
            header("::1", "::1".parse().unwrap(), 56),
            "PING ::1 (::1) 56 data bytes\n"
        );
        assert_eq!(
            reply_line("", 64, ip, 1, Some(64), 45_000, Mark::None),
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms\n"
        );
        assert_eq!(
            reply_line("", 64, ip, 2, None, 12_345_678, Mark::Dup),
            "64 bytes from 127.0.0.1: icmp_seq=2 time=12.3 ms (DUP!)\n"
        );
        assert_eq!(
            stats_block("127.0.0.1", &sum(3, 3)),
            "\n--- 127.0.0.1 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 2003ms\nrtt min/avg/max/mdev = 0.030/0.041/0.052/0.009 ms\n"
        );
        let mut s = sum(3, 0);
        s.errors = 3;
        s.dups = 1;
        assert_eq!(
            stats_block("h", &s),
            "\n--- h ping statistics ---\n3 packets transmitted, 0 received, +1 duplicates, +3 errors, 100% packet loss, time 2003ms\n"
        );
    }

    #[test]
    fn a_target_never_probed_has_no_loss_figure() {
        let s = Summary::default();
        assert_eq!(
            stats_block("h", &s),
            "\n--- h ping statistics ---\n0 packets transmitted, 0 received, time 0ms\n"
        );
    }

    #[test]
    fn times_and_percentages() {
        assert_eq!(reply_ms(45_000), "0.045");
        assert_eq!(reply_ms(1_234_000), "1.23");
        assert_eq!(reply_ms(12_345_000), "12.3");
        assert_eq!(reply_ms(123_456_000), "123");
        assert_eq!(ms3(0), "0.000");
        assert_eq!(ms3(u64::MAX), "18446744073709.551");
        assert_eq!(g(0.0), "0");
        assert_eq!(g(100.0), "100");
        assert_eq!(g(100.0 / 3.0), "33.3333");
        assert_eq!(g(200.0 / 3.0), "66.6667");
        assert_eq!(g(50.0), "50");
        assert_eq!(g(f64::NAN), "0");
    }

    #[test]
    fn table_aligns_and_marks_missing() {
        let a = sum(3, 3);
        let z = sum(2, 0);
        let rows = [
            Row {
                name: "localhost",
                addr: Some("127.0.0.1".parse().unwrap()),
                summary: Some(&a),
            },
            Row {
                name: "silent",
                addr: Some("10.9.9.9".parse().unwrap()),
                summary: Some(&z),
            },
            Row {
                name: "nope.invalid",
                addr: None,
                summary: None,
            },
        ];
        let mut t = Vec::new();
        write_table(&rows, &mut t).unwrap();
        let t = String::from_utf8(t).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("TARGET        ADDRESS    SENT  RECV  LOSS%    MIN"));
        assert!(lines[1].contains("0.0  0.030  0.041  0.052  0.009   0.040  0.052"));
        assert!(lines[2].contains("100.0      -"));
        assert!(lines[3].starts_with("nope.invalid  -"));
        let mut tsv = Vec::new();
        write_tsv(&rows, &mut tsv).unwrap();
        let tsv = String::from_utf8(tsv).unwrap();
        assert_eq!(tsv.lines().next().unwrap().split('\t').count(), 14);
        assert!(tsv
            .lines()
            .nth(3)
            .unwrap()
            .starts_with("nope.invalid\t-\t-"));
    }

    #[test]
    fn json_escapes_everything() {
        assert_eq!(json_str("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
        let s = sum(1, 1);
        let line = json_summary(&Row {
            name: "x\"y",
            addr: None,
            summary: Some(&s),
        });
        assert!(line.starts_with("{\"type\":\"summary\",\"target\":\"x\\\"y\",\"address\":null,"));
        assert!(line.ends_with("}\n"));
    }

    #[test]
    fn names_are_printable() {
        assert_eq!(printable("a\0b\r\x1b"), "a\\0b\\r\\u{1b}");
        assert!(matches!(printable("plain.example"), Cow::Borrowed(_)));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            header("x\ny", ip, 0),
            "PING x\\ny (127.0.0.1) 0(28) bytes of data.\n"
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            epoch_prefix(1_700_000_000_123_456_789),
            "[1700000000.123456] "
        );
        assert_eq!(iso_prefix(0), "[1970-01-01T00:00:00.000000+00:00] ");
        assert_eq!(
            iso_prefix(1_795_376_672_000_001_000),
            "[2026-11-22T19:44:32.000001+00:00] "
        );
        assert_eq!(
            iso_prefix(951_782_400_000_000_000),
            "[2000-02-29T00:00:00.000000+00:00] "
        );
    }
}
