//! Pure value parsers shared by both grammars: numbers, durations, percentages, patterns, CIDRs.
//!
//! Whole numbers, fixed-point durations, percentages, TOS bytes, payload patterns and CIDR blocks:
//! each returns a one-line [`CliError`] naming the option, what it accepts and what was given.

use super::config::{Cidr, CliError, Every, Problem, MAX_SIZE_V4};
use crate::packet::Family;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

pub const NANOS_PER_SEC: u32 = 9; // decimal digits of a second kept: nanoseconds
pub const NANOS_PER_MS: u32 = 6; // decimal digits of a millisecond kept: nanoseconds

/// A user-supplied string made safe for a one-line message: control
/// characters (newline, NUL, …) escaped, long values cut short.
pub fn shown(s: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out = String::new();
    let end = s.char_indices().nth(MAX_CHARS).map_or(s.len(), |(i, _)| i);
    crate::report::push_escaped(&mut out, s.get(..end).unwrap_or_default());
    if end < s.len() {
        out.push_str("...");
    }
    out
}

/// Whether `v` is no name of at most `max` bytes: empty, longer, or with a NUL or `also` in it.
pub fn unfit(v: &str, max: usize, also: char) -> bool {
    v.is_empty() || v.len() > max || v.chars().any(|c| c == '\0' || c == also)
}

pub fn bad(opt: &str, expected: &str, got: &str) -> CliError {
    let (accepted, got) = (expected.to_string(), shown(got));
    CliError::of(opt, Problem::Expected { accepted, got })
}

/// ASCII digits as a number (0 for none); None for anything else or past `u64::MAX`.
fn digits(s: &str) -> Option<u64> {
    s.bytes().try_fold(0u64, |n, b| {
        let d = b.checked_sub(b'0').filter(|d| *d < 10)?;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// A plain decimal whole number: ASCII digits only (no sign, spaces or
/// underscores), leading zeros allowed. Anything past `u64::MAX` is simply
/// out of range.
pub fn uint(v: &str, opt: &str, min: u64, max: u64) -> Result<u64, CliError> {
    if let Some(n) = digits(v).filter(|n| !v.is_empty() && (min..=max).contains(n)) {
        return Ok(n);
    }
    Err(bad(opt, &format!("a whole number from {min} to {max}"), v))
}

pub fn small(v: &str, opt: &str, min: u8) -> Result<u8, CliError> {
    // At most 255, so `as` keeps every bit.
    uint(v, opt, u64::from(min), 255).map(|n| n as u8)
}

/// `-s`: up to `max` bytes. The IPv4 limit's message also names the IPv6 one.
pub fn size(v: &str, max: u64) -> Result<usize, CliError> {
    match uint(v, "-s", 0, max) {
        // At most 65527, so `as` keeps every bit, even with a 16-bit usize.
        Ok(n) => Ok(n as usize),
        Err(_) if max == MAX_SIZE_V4 => Err(bad(
            "-s",
            "a whole number from 0 to 65507 (65527 with -6)",
            v,
        )),
        Err(e) => Err(e),
    }
}

/// A non-negative decimal `WHOLE[.FRACTION]` (either part may be empty, not
/// both) scaled by `10^scale` and truncated: with `scale` = 9, seconds come
/// back as nanoseconds. `None` if malformed or above `max_whole` (checked
/// arithmetic: nothing overflows; every bound is far below `u64::MAX`).
/// No sign, exponent, `nan`/`inf`, comma or spaces.
pub fn fixed(v: &str, scale: u32, max_whole: u64) -> Option<u64> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if (whole.is_empty() && frac.is_empty()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Past u64::MAX is above every bound.
    let w = digits(whole)?;
    if w > max_whole || (w == max_whole && frac.bytes().any(|b| b != b'0')) {
        return None;
    }
    let mut f: u64 = 0;
    for k in 0..scale as usize {
        let d = frac.as_bytes().get(k).map_or(0, |b| u64::from(b - b'0'));
        f = f.checked_mul(10)?.checked_add(d)?;
    }
    w.checked_mul(10u64.checked_pow(scale)?)?.checked_add(f)
}

pub fn seconds(v: &str, opt: &str, max: u64, zero_ok: bool) -> Result<Duration, CliError> {
    match fixed(v, NANOS_PER_SEC, max) {
        Some(ns) if ns > 0 || zero_ok => Ok(Duration::from_nanos(ns)),
        _ => {
            let (range, eg) = if zero_ok {
                ("from 0 to", "0.2")
            } else {
                ("greater than 0 and up to", "0.5")
            };
            Err(bad(opt, &format!("seconds {range} {max} (e.g. {eg})"), v))
        }
    }
}

pub fn gap(v: &str) -> Result<Duration, CliError> {
    fixed(v, NANOS_PER_MS, 10_000)
        .map(Duration::from_nanos)
        .ok_or_else(|| bad("--gap", "milliseconds from 0 to 10000 (e.g. 0.5)", v))
}

pub fn percent(v: &str) -> Result<f64, CliError> {
    let err = || bad("--max-loss", "a percentage from 0 to 100 (e.g. 2.5)", v);
    // Same strict grammar and exact bound check as durations, in billionths (digits
    // beyond the ninth are dropped, as for durations). Dividing two exact doubles
    // (< 2^53) rounds correctly, so 2.5 is 2.5; and no float parser is linked in
    // (f64::from_str and its tables cost 18 KiB of a release binary; issue 13).
    let billionths = fixed(v, 9, 100).ok_or_else(err)?;
    Ok(billionths as f64 / 1e9)
}

/// `--every SECS[,total]`: seconds above 0 up to a day.
pub fn every(v: &str) -> Result<Every, CliError> {
    let (secs, total) = match v.split_once(',') {
        Some((s, "total")) => (s, true),
        Some(_) => return Err(bad("--every", "SECS or SECS,total (e.g. 60)", v)),
        None => (v, false),
    };
    let period = seconds(secs, "--every", 86_400, false).map_err(|_| {
        bad(
            "--every",
            "seconds greater than 0 and up to 86400, then optionally ,total (e.g. 60)",
            v,
        )
    })?;
    Ok(Every { period, total })
}

/// `-Q`: decimal, or hex after `0x`/`0X`, 0..=255.
pub fn tos(v: &str) -> Result<u8, CliError> {
    let hex = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"));
    let (digits, radix) = match hex {
        Some(h) => (h, 16),
        None => (v, 10),
    };
    // Digits only (no sign), leading zeros allowed; 256 stands for "too big".
    let (mut n, mut ok) = (0u32, !digits.is_empty());
    for ch in digits.chars() {
        match ch.to_digit(radix) {
            Some(d) => n = (n * radix + d).min(256),
            None => ok = false,
        }
    }
    match u8::try_from(n) {
        Ok(b) if ok => Ok(b),
        _ => Err(bad("-Q", "a number from 0 to 255 (decimal or 0x hex)", v)),
    }
}

/// `-p`: 1 to 32 hex digits, read in pairs from the left. As in iputils
/// (which reads the pattern with `%2x` conversions), a final unpaired digit
/// is a byte of its own: `abc` → `[0xab, 0x0c]`, `f` → `[0x0f]`.
pub fn pattern(v: &str) -> Result<Vec<u8>, CliError> {
    if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            "-p",
            "1 to 32 hex digits (1 to 16 bytes, e.g. ff00)",
            v,
        ));
    }
    let hex = |d: u8| (d as char).to_digit(16).map_or(0, |n| n as u8);
    let mut out = Vec::with_capacity(16);
    for pair in v.as_bytes().chunks(2) {
        out.push(pair.iter().fold(0, |n, &d| n << 4 | hex(d)));
    }
    Ok(out)
}

/// `-g ADDR/PREFIX`. Host bits are masked off. With `-4`/`-6`, a block of
/// the other family is refused.
pub fn cidr(v: &str, family: Option<Family>) -> Result<Cidr, CliError> {
    let err = || bad("-g", "ADDRESS/PREFIX (e.g. 10.0.0.0/24 or fd00::/120)", v);
    let (addr, prefix) = v.split_once('/').ok_or_else(err)?;
    let addr: IpAddr = addr.parse().map_err(|_| err())?;
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    // At most three digits: no overflow; above 255 is no prefix at all.
    let prefix = prefix
        .bytes()
        .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    let prefix = u8::try_from(prefix).map_err(|_| err())?;
    let (lo, hi, name) = match addr {
        IpAddr::V4(_) => (8, 32, "IPv4"),
        IpAddr::V6(_) => (112, 128, "IPv6"),
    };
    if !(lo..=hi).contains(&prefix) {
        return Err(bad("-g", &format!("an {name} prefix from {lo} to {hi}"), v));
    }
    let addr = match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    };
    let other = match (family, addr) {
        (Some(Family::V4), IpAddr::V6(_)) => "IPv6 but -4",
        (Some(Family::V6), IpAddr::V4(_)) => "IPv4 but -6",
        _ => return Ok(Cidr { addr, prefix }),
    };
    Err(CliError::rule(
        "-g",
        format!("'{}' is {other} was given", shown(v)),
    ))
}
