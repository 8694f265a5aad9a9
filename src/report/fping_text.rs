//! fping's lines as pure text: its time and loss figures, ICMP error words and verdicts.
//!
//! `tm` (fping's `sprint_tm`), the `-D` stamp, the `xmt/rcv/%loss` part, fping's words for each
//! ICMP error, netdata's chart names, the `-x` verdict and the line of a name that did not
//! resolve. Pure: no counters (they are `fping.rs`'s `Board`), no I/O.

use super::{num, put};
use crate::decimal;
use crate::packet::{ErrorKind, Family};
use std::fmt::Write as _;

/// Appends fping's `sprint_tm`: milliseconds with three significant digits.
pub fn push_tm(out: &mut String, ns: u64) {
    let t = ns as f64 / 1e6;
    if t >= 1_000_000.0 {
        // C's %.3e: a signed exponent of at least two digits.
        return decimal::push_exp(out, t, 3, true);
    }
    let prec = match t {
        t if t < 1.0 => 3,
        t if t < 10.0 => 2,
        t if t < 100.0 => 1,
        _ => 0,
    };
    decimal::push_fixed(out, t, prec)
}

/// fping's `sprint_tm`: milliseconds with three significant digits.
pub fn tm(ns: u64) -> String {
    let mut out = String::new();
    push_tm(&mut out, ns);
    out
}

/// `-D`'s prefix: `[1796155650.13343] `.
pub fn timestamp(real_ns: u64) -> String {
    let mut s = String::from("[");
    decimal::push_fixed(&mut s, real_ns as f64 / 1e9, 5);
    s.push_str("] ");
    s
}

/// Appends ` xmt/rcv/%loss = 2/2/0%[, outage(ms) = N][, min/avg/max = a/b/c]` from counts
/// (`[sent, recv, total, min, max]`).
pub fn push_loss_part(s: &mut String, counts: [u64; 5], outage_period_ns: Option<u64>) {
    let [sent, recv, total, min, max] = counts;
    if recv <= sent {
        let loss = ((sent - recv) * 100).checked_div(sent).unwrap_or(0);
        let _ = write!(s, " xmt/rcv/%loss = {sent}/{recv}/{loss}%");
        if let Some(p) = outage_period_ns {
            let outage = (sent - recv).saturating_mul(p) / 1_000_000;
            let _ = write!(s, ", outage(ms) = {outage}");
        }
    } else {
        let ret = (recv * 100).checked_div(sent).unwrap_or(0);
        let _ = write!(s, " xmt/rcv/%return = {sent}/{recv}/{ret}%");
    }
    if let Some(avg) = total.checked_div(recv) {
        s.push_str(", min/avg/max = ");
        push_tm(s, min);
        s.push('/');
        push_tm(s, avg);
        s.push('/');
        push_tm(s, max);
    }
}

/// fping's text for an ICMP error (its IPv4 tables; IPv6 errors in the same words).
pub fn icmp_error_text(kind: &ErrorKind) -> &'static str {
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
            .map_or("ICMP Unreachable (Invalid Code)", |s| s),
        ErrorKind::Unreachable(Family::V6, code) => match code {
            0 => "ICMP Network Unreachable",
            1 => "ICMP Unreachable (Communication Administratively Prohibited)",
            3 => "ICMP Host Unreachable",
            4 => "ICMP Port Unreachable",
            _ => "ICMP Unreachable",
        },
        ErrorKind::PacketTooBig(..) => UNREACH[4],
        ErrorKind::TimeExceeded(..) => "ICMP Time Exceeded",
        ErrorKind::ParameterProblem(..) => "ICMP Parameter Problem",
        ErrorKind::SourceQuench => "ICMP Source Quench",
        ErrorKind::Redirect(_) => "ICMP Redirect",
    }
}

/// netdata's chart name part: every character that is not alphanumeric becomes `_`.
pub fn netdata_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        out.push(if c.is_ascii_alphanumeric() { c } else { '_' });
    }
    out
}

/// `-x`/`-X`'s verdict line and exit status.
pub fn reachable_verdict(required: u64, reachable: usize) -> (String, u8) {
    let enough = reachable as u64 >= required;
    let mut s = String::from(if enough { "Enough" } else { "Not enough" });
    s.push_str(" hosts reachable (required: ");
    num(&mut s, required);
    s.push_str(", reachable: ");
    num(&mut s, reachable as u64);
    s.push_str(")\n");
    (s, u8::from(!enough))
}

/// fping's words for a name that did not resolve: the resolver's text as `NAME: TEXT`, with
/// pingr's own family refusal in getaddrinfo's words.
pub fn unresolved_line(name: &str, why: &str) -> String {
    let why = if why.starts_with("address family not allowed") {
        "Address family for hostname not supported"
    } else {
        why
    };
    let mut s = crate::report::printable(name).into_owned();
    put(&mut s, &[": ", why, "\n"]);
    s
}
