//! fping's lines as pure text: its time and loss figures, ICMP error words and verdicts.
//!
//! `tm` (fping's `sprint_tm`), the `-D` stamp, the `xmt/rcv/%loss` part, fping's words for each
//! ICMP error, netdata's chart names, the `-x` verdict and the line of a name that did not
//! resolve. Pure: no counters (they are `fping.rs`'s `Board`), no I/O.

use crate::decimal;
use crate::packet::{ErrorKind, Family};
use std::fmt::Write as _;

/// fping's `sprint_tm`: milliseconds with three significant digits.
pub fn tm(ns: u64) -> String {
    let t = ns as f64 / 1e6;
    if t >= 1_000_000.0 {
        // C's %.3e: a signed exponent of at least two digits.
        return decimal::exp(t, 3, true);
    }
    let prec = match t {
        t if t < 1.0 => 3,
        t if t < 10.0 => 2,
        t if t < 100.0 => 1,
        _ => 0,
    };
    decimal::fixed(t, prec)
}

/// `-D`'s prefix: `[1796155650.13343] `.
pub fn timestamp(real_ns: u64) -> String {
    format!("[{}] ", decimal::fixed(real_ns as f64 / 1e9, 5))
}

/// `xmt/rcv/%loss = 2/2/0%[, outage(ms) = N][, min/avg/max = a/b/c]` from counts.
pub fn loss_part(
    sent: u64,
    recv: u64,
    total: u64,
    min: u64,
    max: u64,
    outage_period_ns: Option<u64>,
) -> String {
    let mut s = String::new();
    if recv <= sent {
        let loss = ((sent - recv) * 100).checked_div(sent).unwrap_or(0);
        let _ = write!(s, " xmt/rcv/%loss = {sent}/{recv}/{loss}%");
        if let Some(p) = outage_period_ns {
            let _ = write!(
                s,
                ", outage(ms) = {}",
                (sent - recv).saturating_mul(p) / 1_000_000
            );
        }
    } else {
        let ret = (recv * 100).checked_div(sent).unwrap_or(0);
        let _ = write!(s, " xmt/rcv/%return = {sent}/{recv}/{ret}%");
    }
    if let Some(avg) = total.checked_div(recv) {
        let _ = write!(s, ", min/avg/max = {}/{}/{}", tm(min), tm(avg), tm(max));
    }
    s
}

/// fping's text for an ICMP error (its IPv4 tables; IPv6 errors in the same words).
pub fn icmp_error_text(kind: &ErrorKind) -> String {
    const UNREACH: [&str; 16] = [
        "ICMP Network Unreachable",
        "ICMP Host Unreachable",
        "ICMP Protocol Unreachable",
        "ICMP Port Unreachable",
        "ICMP Unreachable (Fragmentation Needed)",
        "ICMP Unreachable (Source Route Failed)",
        "ICMP Unreachable (Destination Network Unknown)",
        "ICMP Unreachable (Destination Host Unknown)",
        "ICMP Unreachable (Source Host Isolated)",
        "ICMP Unreachable (Communication with Network Prohibited)",
        "ICMP Unreachable (Communication with Host Prohibited)",
        "ICMP Unreachable (Network Unreachable For Type Of Service)",
        "ICMP Unreachable (Host Unreachable For Type Of Service)",
        "ICMP Unreachable (Communication Administratively Prohibited)",
        "ICMP Unreachable (Host Precedence Violation)",
        "ICMP Unreachable (Precedence cutoff in effect)",
    ];
    match kind {
        ErrorKind::Unreachable(Family::V4, code) => UNREACH
            .get(usize::from(*code))
            .map_or("ICMP Unreachable (Invalid Code)", |s| s)
            .to_string(),
        ErrorKind::Unreachable(Family::V6, code) => match code {
            0 => "ICMP Network Unreachable",
            1 => "ICMP Unreachable (Communication Administratively Prohibited)",
            3 => "ICMP Host Unreachable",
            4 => "ICMP Port Unreachable",
            _ => "ICMP Unreachable",
        }
        .to_string(),
        ErrorKind::PacketTooBig(..) => UNREACH[4].to_string(),
        ErrorKind::TimeExceeded(..) => "ICMP Time Exceeded".into(),
        ErrorKind::ParameterProblem(..) => "ICMP Parameter Problem".into(),
        ErrorKind::SourceQuench => "ICMP Source Quench".into(),
        ErrorKind::Redirect(_) => "ICMP Redirect".into(),
    }
}

/// netdata's chart name part: every character that is not alphanumeric becomes `_`.
pub fn netdata_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `-x`/`-X`'s verdict line and exit status.
pub fn reachable_verdict(required: u64, reachable: usize) -> (String, u8) {
    if reachable as u64 >= required {
        (
            format!("Enough hosts reachable (required: {required}, reachable: {reachable})\n"),
            0,
        )
    } else {
        (
            format!("Not enough hosts reachable (required: {required}, reachable: {reachable})\n"),
            1,
        )
    }
}

/// fping's words for a name that did not resolve: the resolver's text as `NAME: TEXT`, with
/// pingr's own family refusal in getaddrinfo's words.
pub fn unresolved_line(name: &str, why: &str) -> String {
    let why = if why.starts_with("address family not allowed") {
        "Address family for hostname not supported"
    } else {
        why
    };
    format!("{}: {why}\n", crate::report::printable(name))
}
