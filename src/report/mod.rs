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

/// Appends `v / 10^dec` with `dec` decimals (`dec` <= 9).
fn scaled(out: &mut String, v: u64, dec: u32) {
    let p = 10u64.pow(dec).max(1);
    num(out, v / p);
    if dec > 0 {
        out.push('.');
        num_padded(out, v % p, dec as usize);
    }
}

/// Appends `parts`, one after another.
pub(crate) fn put(out: &mut String, parts: &[&str]) {
    for p in parts {
        out.push_str(p);
    }
}

/// A target name as it may be shown on a terminal or in a line-based format: control
/// characters (a NUL, CR, ESC or newline from a target file) are escaped as in Rust strings.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            push_escaped(&mut out, c.encode_utf8(&mut [0; 4]));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Appends `s` escaped as `char::escape_debug` escapes each of its characters: str's `Debug`
/// (already in the binary) without its quotes, whose one difference is `'` (left as it is).
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    let quoted = format!("{s:?}");
    let mut rest = quoted.get(1..quoted.len() - 1).unwrap_or_default();
    while let Some((before, after)) = rest.split_once('\'') {
        out.push_str(before);
        out.push_str("\\'");
        rest = after;
    }
    out.push_str(rest);
}

/// Appends milliseconds with three decimals from nanoseconds (rounded to the microsecond):
/// "0.045".
pub(crate) fn push_ms3(out: &mut String, ns: u64) {
    scaled(out, ns.saturating_add(500) / 1000, 3);
}

/// Milliseconds with three decimals from nanoseconds (rounded to the microsecond): "0.045".
#[cfg(test)]
fn ms3(ns: u64) -> String {
    let mut out = String::new();
    push_ms3(&mut out, ns);
    out
}

/// Appends a reply's time as iputils prints it: fewer decimals as the time grows.
fn push_reply_ms(out: &mut String, ns: u64) {
    let us = ns.saturating_add(500) / 1000;
    let (div, dec) = if us >= 100_000 - 50 {
        (1000, 0)
    } else if us >= 10_000 - 5 {
        (100, 1)
    } else if us >= 1000 {
        (10, 2)
    } else {
        (1, 3)
    };
    scaled(out, (us + div / 2) / div, dec);
}

/// A reply's time as iputils prints it: fewer decimals as the time grows.
#[cfg(test)]
fn reply_ms(ns: u64) -> String {
    let mut out = String::new();
    push_reply_ms(&mut out, ns);
    out
}

/// Cuts the zeros that end `s`.
pub(crate) fn trim_zeros(s: &mut String) {
    while s.ends_with('0') {
        s.pop();
    }
}

/// printf's `%g` for the small non-negative numbers pingr prints (loss percentages).
pub fn g(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return "0".into();
    }
    let e = x.log10().floor() as i32;
    if !(-4..6).contains(&e) {
        let mut s = String::new();
        decimal::push_shortest_exp(&mut s, x);
        return s;
    }
    let decimals = (5 - e).max(0) as usize;
    let mut s = decimal::fixed(x, decimals);
    if s.contains('.') {
        trim_zeros(&mut s);
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// `PING host (addr) 56(84) bytes of data.` (IPv4) or `PING host (addr) 56 data bytes` (IPv6).
pub fn header(name: &str, ip: IpAddr, size: usize) -> String {
    let mut s = String::new();
    let _ = write!(s, "PING {} ({ip}) {size}", printable(name));
    if ip.is_ipv4() {
        let _ = writeln!(s, "({}) bytes of data.", size + 28);
    } else {
        s.push_str(" data bytes\n");
    }
    s
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
        s.push_str(" ttl=");
        num(&mut s, u64::from(t));
    }
    s.push_str(" time=");
    push_reply_ms(&mut s, rtt_ns);
    s.push_str(match mark {
        Mark::None => " ms\n",
        Mark::Dup => " ms (DUP!)\n",
        Mark::Late => " ms (LATE!)\n",
    });
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

/// Appends iputils' `min/avg/max/mdev` figures: `0.041/0.052/2.000/0.007`, then ` ms`.
fn rtt_figures(out: &mut String, s: &Summary) {
    for (i, v) in [s.min_ns, s.avg_ns, s.max_ns, s.mdev_ns].iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        push_ms3(out, *v);
    }
    out.push_str(" ms");
}

/// The statistics block of one host, shaped as iputils ping's.
pub fn stats_block(name: &str, s: &Summary) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "\n--- {} ping statistics ---\n{} packets transmitted, {} received",
        printable(name),
        s.sent,
        s.received
    );
    for (n, what) in &[
        (s.dups, " duplicates"),
        (s.late, " late"),
        (s.errors, " errors"),
    ] {
        if *n > 0 {
            let _ = write!(out, ", +{n}{what}");
        }
    }
    if s.sent > 0 {
        let _ = write!(out, ", {}% packet loss", g(s.loss_percent()));
    }
    let _ = writeln!(out, ", time {}ms", s.elapsed_ns / 1_000_000);
    if s.received > 0 {
        out.push_str("rtt min/avg/max/mdev = ");
        rtt_figures(&mut out, s);
        out.push('\n');
    }
    out
}

/// The one-line interim status (SIGQUIT), like iputils'.
pub fn status_line(name: &str, s: &Summary) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{}: {}/{} packets, {}% loss",
        printable(name),
        s.received,
        s.sent,
        g(s.loss_percent())
    );
    if s.received > 0 {
        out.push_str(", min/avg/max/mdev = ");
        rtt_figures(&mut out, s);
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

/// Appends figure `j` (0..12: the columns after the address) of `s`: `missing` for a loss
/// without probes or a time without replies, the loss with `loss_decimals`.
fn figure(out: &mut String, s: &Summary, j: usize, missing: &str, loss_decimals: usize) {
    let v = [
        s.sent,
        s.received,
        0,
        s.min_ns,
        s.avg_ns,
        s.max_ns,
        s.mdev_ns,
        s.median_ns,
        s.p95_ns,
        s.dups,
        s.late,
        s.errors,
    ];
    let v = v.get(j).copied().unwrap_or(0);
    match j {
        2 if s.sent > 0 => decimal::push_fixed(out, s.loss_percent(), loss_decimals),
        3..=8 if s.received > 0 => push_ms3(out, v),
        2..=8 => out.push_str(missing),
        _ => num(out, v),
    }
}

/// The 14 cells of a row, one after another in `buf` (cleared first): cell `i` ends at
/// `ends[i]`. `-` for what a row has not.
pub(crate) fn cells(r: &Row, buf: &mut String, ends: &mut [usize; 14]) {
    buf.clear();
    buf.push_str(&printable(r.name));
    ends[0] = buf.len();
    match r.addr {
        Some(a) => {
            let _ = write!(buf, "{a}");
        }
        None => buf.push('-'),
    }
    ends[1] = buf.len();
    for (j, end) in ends[2..].iter_mut().enumerate() {
        match r.summary {
            Some(s) => figure(buf, s, j, "-", 1),
            None => buf.push('-'),
        }
        *end = buf.len();
    }
}

/// The cells of `buf` (see [`cells`]) joined by `sep`, after `line`'s text; each padded to
/// `width` (text columns left-aligned, numbers right-aligned) when given.
fn join(line: &mut String, buf: &str, ends: &[usize; 14], sep: &str, width: Option<&[usize; 14]>) {
    let mut start = 0;
    for (i, &end) in ends.iter().enumerate() {
        let c = buf.get(start..end).unwrap_or_default();
        start = end;
        if i > 0 {
            line.push_str(sep);
        }
        let wd = width.and_then(|w| w.get(i)).copied().unwrap_or(0);
        let pad = wd.saturating_sub(c.chars().count());
        if i >= 2 {
            line.extend(std::iter::repeat(' ').take(pad));
        }
        line.push_str(c);
        if i < 2 {
            line.extend(std::iter::repeat(' ').take(pad));
        }
    }
}

/// The column names as one row of cells (upper case: ASCII only, so no Unicode case tables,
/// issue 13), or as they are.
fn header_cells(upper: bool, buf: &mut String, ends: &mut [usize; 14]) {
    buf.clear();
    for (c, end) in COLUMNS.iter().zip(ends.iter_mut()) {
        buf.push_str(c);
        *end = buf.len();
    }
    if upper {
        buf.make_ascii_uppercase();
    }
}

/// The aligned summary table: text columns left-aligned, numbers right-aligned, input order.
/// Rows are formatted twice (once to size the columns, once to write) rather than kept, so a
/// sweep of many thousand targets needs no memory for its table.
pub fn write_table(rows: &[Row], w: &mut dyn Write) -> io::Result<()> {
    let (mut buf, mut line, mut ends) = (String::new(), String::new(), [0; 14]);
    let mut width: [usize; 14] = COLUMNS.map(str::len);
    for r in rows {
        cells(r, &mut buf, &mut ends);
        let mut start = 0;
        for (wd, &end) in width.iter_mut().zip(&ends) {
            *wd = (*wd).max(buf.get(start..end).unwrap_or_default().chars().count());
            start = end;
        }
    }
    for i in 0..=rows.len() {
        match i.checked_sub(1).and_then(|i| rows.get(i)) {
            Some(r) => cells(r, &mut buf, &mut ends),
            None => header_cells(true, &mut buf, &mut ends),
        }
        line.clear();
        join(&mut line, &buf, &ends, "  ", Some(&width));
        // No trailing blanks to trim: the last column (err) is right-aligned and never empty.
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Appends the same columns, tab-separated, no padding, as lines after `lead` each (a header
/// line first): [`write_tsv`] and the interval reports' TSV.
pub(crate) fn tsv_lines(rows: &[Row], lead: (&str, &str), w: &mut dyn Write) -> io::Result<()> {
    let (mut buf, mut line, mut ends) = (String::new(), String::new(), [0; 14]);
    header_cells(false, &mut buf, &mut ends);
    line.push_str(lead.0);
    join(&mut line, &buf, &ends, "\t", None);
    line.push('\n');
    w.write_all(line.as_bytes())?;
    for r in rows {
        cells(r, &mut buf, &mut ends);
        line.clear();
        line.push_str(lead.1);
        join(&mut line, &buf, &ends, "\t", None);
        line.push('\n');
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// The same columns, tab-separated, a header line first, no padding.
pub fn write_tsv(rows: &[Row], w: &mut dyn Write) -> io::Result<()> {
    tsv_lines(rows, ("", ""), w)
}

/// Appends a JSON string literal with every character that needs it escaped.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str("\\u");
                for shift in &[12, 8, 4, 0] {
                    let d = (c as u32 >> shift) & 0xf;
                    out.push(char::from_digit(d, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON string literal with every character that needs it escaped.
#[cfg(test)]
fn json_str(s: &str) -> String {
    let mut out = String::new();
    push_json_str(&mut out, s);
    out
}

/// Appends an address as a JSON string, or `null`.
fn push_json_addr(out: &mut String, a: Option<IpAddr>) {
    match a {
        // An address has nothing to escape.
        Some(a) => {
            let _ = write!(out, "\"{a}\"");
        }
        None => out.push_str("null"),
    }
}

/// One JSON object (a line) summarising a target.
pub fn json_summary(r: &Row) -> String {
    let mut out = String::from("{\"type\":\"summary\",");
    json_fields(&mut out, r);
    out.push_str("}\n");
    out
}

/// The JSON names of [`figure`]'s figures.
const JSON_FIGURES: [&str; 12] = [
    "sent",
    "received",
    "loss_percent",
    "min_ms",
    "avg_ms",
    "max_ms",
    "mdev_ms",
    "median_ms",
    "p95_ms",
    "duplicates",
    "late",
    "errors",
];

/// Appends the members of a target's JSON summary after `type`, without braces.
pub(crate) fn json_fields(out: &mut String, r: &Row) {
    out.push_str("\"target\":");
    push_json_str(out, r.name);
    out.push_str(",\"address\":");
    push_json_addr(out, r.addr);
    let Some(s) = r.summary else {
        out.push_str(",\"resolved\":false");
        return;
    };
    out.push_str(",\"resolved\":true");
    for (j, name) in JSON_FIGURES.iter().enumerate() {
        put(out, &[",\"", name, "\":"]);
        figure(out, s, j, "null", 3);
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
    let mut out = String::with_capacity(160);
    out.push_str(match mark {
        Mark::None => "{\"type\":\"reply\",\"target\":",
        Mark::Dup => "{\"type\":\"duplicate\",\"target\":",
        Mark::Late => "{\"type\":\"late\",\"target\":",
    });
    push_json_str(&mut out, target);
    out.push_str(",\"from\":");
    push_json_addr(&mut out, Some(from));
    out.push_str(",\"bytes\":");
    num(&mut out, bytes as u64);
    out.push_str(",\"icmp_seq\":");
    num(&mut out, u64::from(seq));
    out.push_str(",\"ttl\":");
    match ttl {
        Some(t) => num(&mut out, u64::from(t)),
        None => out.push_str("null"),
    }
    out.push_str(",\"time_ms\":");
    push_ms3(&mut out, rtt_ns);
    out.push_str("}\n");
    out
}

/// One JSON object for an ICMP error event.
pub fn json_error(target: &str, router: Option<IpAddr>, seq: u16, what: &str) -> String {
    let mut out = String::from("{\"type\":\"icmp_error\",\"target\":");
    push_json_str(&mut out, target);
    out.push_str(",\"from\":");
    push_json_addr(&mut out, router);
    out.push_str(",\"icmp_seq\":");
    num(&mut out, u64::from(seq));
    out.push_str(",\"error\":");
    push_json_str(&mut out, what);
    out.push_str("}\n");
    out
}

/// Appends seconds since the epoch with microseconds: `1764625200.123456`.
pub(crate) fn push_epoch_secs(out: &mut String, real_ns: u64) {
    scaled(out, real_ns / 1000, 6);
}

/// `[1700000000.123456] ` (iputils' -D).
pub fn epoch_prefix(real_ns: u64) -> String {
    let mut out = String::from("[");
    push_epoch_secs(&mut out, real_ns);
    out.push_str("] ");
    out
}

/// `[2026-11-22T19:44:32.123456+00:00] ` (ISO 8601, UTC).
pub fn iso_prefix(real_ns: u64) -> String {
    let mut out = String::from("[");
    push_iso8601(&mut out, real_ns);
    out.push_str("] ");
    out
}

/// Appends `2026-11-22T19:44:32.123456+00:00` (ISO 8601, UTC).
pub(crate) fn push_iso8601(out: &mut String, real_ns: u64) {
    let secs = real_ns / 1_000_000_000;
    let micros = (real_ns % 1_000_000_000) / 1000;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(secs / 86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm; days
/// before 1970 are never asked for, so all of it is unsigned).
fn civil_from_days(z: u64) -> (u64, u64, u64) {
    let z = z + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
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
        // push_escaped is char::escape_debug, character by character.
        let s = "a'b\"c\\d\0\t\n\r\x1b\x7f\u{85}\u{200b}\u{301}e\u{301}\u{feff}\u{10ffff}'é";
        let mut got = String::new();
        push_escaped(&mut got, s);
        assert_eq!(
            got,
            s.chars().flat_map(char::escape_debug).collect::<String>()
        );
        assert_eq!(printable("'\u{85}\u{200b}"), "'\\u{85}\u{200b}");
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
