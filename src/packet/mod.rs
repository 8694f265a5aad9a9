//! ICMP echo wire formats for IPv4 and IPv6, as one codec in a few files.
//!
//! This file owns what they share: the family ([`Proto`]), the decoded [`Message`] and
//! [`ParseError`], the protocol and echo-request numbers, the bounds-checked byte readers every
//! offset goes through, and the re-exports that keep every caller's path `crate::packet::X`. Its
//! children: `echo` (the echo request we send: header and payload), `ipv4` (raw IPv4 reads and
//! ICMPv4), `icmpv6` (ICMPv6 with its quoted extension headers), `errors` (ICMP error kinds and
//! their texts), `tests` (fixtures, decoding cases, fuzzing).
//!
//! The whole module is pure: it must not touch sockets, clocks, or global state, must not
//! decide which replies belong to us (callers match ident, sequence and payload tag), and
//! must never panic on hostile input: every field is read through the helpers below, and
//! every length found in a header is checked against the bytes actually given, never
//! assumed.

use std::net::IpAddr;

pub mod echo;
mod errors;
mod icmpv6;
mod ipv4;
#[cfg(test)]
mod tests;

pub use echo::{echo_request_id, encode_echo_request, set_sequence};
pub use errors::{error_kind, ErrorKind};
pub use icmpv6::parse_icmp6;
pub use ipv4::{parse_icmp4, parse_ipv4};
// What parse_ipv4 returns; callers read its fields without naming it (tests do).
#[allow(unused_imports)]
pub use ipv4::Ipv4Packet;

/// Length of an ICMP (and ICMPv6) echo header: type, code, checksum,
/// identifier, sequence number.
pub const ICMP_HEADER_LEN: usize = 8;

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_ICMPV6: u8 = 58;
const ICMP_ECHO_REQUEST: u8 = 8;
const ICMP6_ECHO_REQUEST: u8 = 128;

/// Which ICMP family a packet belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    V4,
    V6,
}

impl Proto {
    const fn echo_request_type(self) -> u8 {
        match self {
            Proto::V4 => ICMP_ECHO_REQUEST,
            Proto::V6 => ICMP6_ECHO_REQUEST,
        }
    }
}

/// A decoded ICMP message of interest.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// An echo reply; `payload` is the bytes after the 8-byte header.
    EchoReply {
        ident: u16,
        seq: u16,
        payload: &'a [u8],
    },
    /// An ICMP error quoting an ICMP echo request: `ident`, `seq` and `dst`
    /// are read from the quoted request and its IP header; `quoted` is what the
    /// quote holds of the request's payload (often nothing).
    Error {
        kind: ErrorKind,
        ident: u16,
        seq: u16,
        dst: IpAddr,
        quoted: &'a [u8],
    },
}

/// Why a buffer was not decoded into a [`Message`].
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ParseError {
    /// Shorter than a header or a length field says.
    Truncated,
    /// Not a usable IPv4 header (version, header length, total length,
    /// fragment).
    BadIpHeader,
    /// The IPv4 protocol is not ICMP.
    NotIcmp,
    /// The ICMPv4 checksum does not verify.
    BadChecksum,
    /// Another ICMP type, e.g. our own echo requests seen on a raw socket.
    Ignored,
    /// An error whose quoted datagram is cut short, not ICMP, not an echo
    /// request, or malformed.
    BadQuote,
}

/// The echo reply starting at `buf[0]` (at least 8 bytes).
fn echo_reply(buf: &[u8]) -> Result<Message<'_>, ParseError> {
    let ident = read_u16(buf, 4).ok_or(ParseError::Truncated)?;
    let seq = read_u16(buf, 6).ok_or(ParseError::Truncated)?;
    let payload = buf.get(ICMP_HEADER_LEN..).ok_or(ParseError::Truncated)?;
    Ok(Message::EchoReply {
        ident,
        seq,
        payload,
    })
}

/// What an ICMP error's quoted datagram identifies: the quoted echo
/// request's `(ident, seq)`, its IP destination, and the quoted payload bytes.
type Quoted<'a> = (u16, u16, IpAddr, &'a [u8]);

/// The error message of `kind` whose quoted datagram decoded to `quoted`.
fn quoted_error(kind: ErrorKind, quoted: Option<Quoted<'_>>) -> Result<Message<'_>, ParseError> {
    let (ident, seq, dst, quoted) = quoted.ok_or(ParseError::BadQuote)?;
    Ok(Message::Error {
        kind,
        ident,
        seq,
        dst,
        quoted,
    })
}

/// The payload bytes after the 8-byte echo header at `at` in `quote` (none if cut there).
fn quoted_payload(quote: &[u8], at: usize) -> &[u8] {
    at.checked_add(ICMP_HEADER_LEN)
        .and_then(|p| quote.get(p..))
        .unwrap_or(&[])
}

fn read_u8(buf: &[u8], at: usize) -> Option<u8> {
    buf.get(at).copied()
}

fn read_array<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    read_array::<2>(buf, at).map(u16::from_be_bytes)
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    read_array::<4>(buf, at).map(u32::from_be_bytes)
}

/// Writes `value` big-endian at `at`; does nothing if it does not fit.
fn put_u16(buf: &mut [u8], at: usize, value: u16) {
    if let Some(dst) = at.checked_add(2).and_then(|end| buf.get_mut(at..end)) {
        dst.copy_from_slice(&value.to_be_bytes());
    }
}
