//! ICMP echo wire formats for IPv4 and IPv6: encoding echo requests, and
//! decoding what raw and datagram ICMP sockets return (echo replies, and ICMP
//! errors that quote one of our echo requests). This module owns every byte
//! offset of the IPv4, IPv6 and ICMP headers, and the human text of ICMP
//! errors. It is pure: it must not touch sockets, clocks, or global state,
//! must not decide which replies belong to us (callers match ident and
//! sequence), and must never panic on hostile input: every field is read
//! through bounds-checked helpers, and every length found in a header is
//! checked against the bytes actually given, never assumed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::checksum::checksum;

pub mod echo;

/// Length of an ICMP (and ICMPv6) echo header: type, code, checksum,
/// identifier, sequence number.
pub const ICMP_HEADER_LEN: usize = 8;

const IPV4_MIN_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_ICMPV6: u8 = 58;

const ICMP_ECHO_REPLY: u8 = 0;
const ICMP_DEST_UNREACH: u8 = 3;
const ICMP_SOURCE_QUENCH: u8 = 4;
const ICMP_REDIRECT: u8 = 5;
const ICMP_ECHO_REQUEST: u8 = 8;
const ICMP_TIME_EXCEEDED: u8 = 11;
const ICMP_PARAMETER_PROBLEM: u8 = 12;
const ICMP_FRAG_NEEDED: u8 = 4;

const ICMP6_DST_UNREACH: u8 = 1;
const ICMP6_PACKET_TOO_BIG: u8 = 2;
const ICMP6_TIME_EXCEEDED: u8 = 3;
const ICMP6_PARAM_PROB: u8 = 4;
const ICMP6_ECHO_REQUEST: u8 = 128;
const ICMP6_ECHO_REPLY: u8 = 129;

const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_DEST_OPTS: u8 = 60;
/// Extension headers walked in a quoted IPv6 datagram before giving up.
const MAX_EXT_HEADERS: usize = 8;

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

/// Clears `out` and writes an echo request (V4 type 8, V6 type 128, code 0,
/// `ident` and `seq` big-endian) followed by `payload`. V4: the checksum is
/// computed. V6: the checksum is left 0 (the kernel computes ICMPv6
/// checksums, which cover a pseudo-header we do not know).
pub fn encode_echo_request(proto: Proto, ident: u16, seq: u16, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(ICMP_HEADER_LEN.saturating_add(payload.len()));
    out.extend_from_slice(&[proto.echo_request_type(), 0, 0, 0]);
    out.extend_from_slice(&ident.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(payload);
    if proto == Proto::V4 {
        let sum = checksum(out);
        put_u16(out, 2, sum);
    }
}

/// Rewrites the sequence number of an already encoded echo request in place.
/// V4: the checksum is updated incrementally (RFC 1624, eqn. 3), which gives
/// exactly the value a full recomputation would. No-op if `packet` is
/// shorter than [`ICMP_HEADER_LEN`].
pub fn set_sequence(proto: Proto, seq: u16, packet: &mut [u8]) {
    if packet.len() < ICMP_HEADER_LEN {
        return;
    }
    let (Some(old_sum), Some(old_seq)) = (read_u16(packet, 2), read_u16(packet, 6)) else {
        return;
    };
    put_u16(packet, 6, seq);
    if proto == Proto::V4 {
        put_u16(packet, 2, update_checksum(old_sum, old_seq, seq));
    }
}

/// RFC 1624 eqn. 3: `HC' = ~(~HC + ~m + m')`, one's-complement arithmetic.
fn update_checksum(old_sum: u16, old_word: u16, new_word: u16) -> u16 {
    let mut sum = u32::from(!old_sum) + u32::from(!old_word) + u32::from(new_word);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop leaves sum <= 0xffff, so the cast is exact.
    !(sum as u16)
}

/// Reads `(ident, seq)` from the 8-byte header of an echo request we sent
/// (the datagram socket's error queue returns our own request). `None` if
/// `buf` is shorter than 8 bytes or is not an echo request (type 8 or 128
/// according to `proto`, code 0).
pub fn echo_request_id(proto: Proto, buf: &[u8]) -> Option<(u16, u16)> {
    let header = buf.get(..ICMP_HEADER_LEN)?;
    if read_u8(header, 0)? != proto.echo_request_type() || read_u8(header, 1)? != 0 {
        return None;
    }
    Some((read_u16(header, 4)?, read_u16(header, 6)?))
}

/// What an ICMP error says went wrong. Variants whose text differs between
/// ICMP and ICMPv6 carry the [`Proto`] they came from; the numbers are the
/// ICMP code, or the MTU for [`ErrorKind::PacketTooBig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// V4 type 3 (any code but 4), V6 type 1; the code.
    Unreachable(Proto, u8),
    /// V4 type 11, V6 type 3; the code.
    TimeExceeded(Proto, u8),
    /// V4 type 3 code 4 "fragmentation needed" (MTU from header bytes
    /// 6..8), V6 type 2 (MTU from header bytes 4..8); the MTU, 0 if unknown.
    PacketTooBig(Proto, u32),
    /// V4 type 12, V6 type 4; the code.
    ParameterProblem(Proto, u8),
    /// V4 type 4.
    SourceQuench,
    /// V4 type 5; the code.
    Redirect(u8),
}

/// Maps an ICMP type and code (from a received message, or from a socket
/// error queue's `sock_extended_err`) to an [`ErrorKind`]; `None` if the
/// type is not an error type of `proto`. `header` is the message's 8-byte
/// ICMP header if available (for the MTU of a packet-too-big), and may be
/// empty or short (MTU 0). From an error queue, a header built as
/// `[type, code, 0, 0]` followed by `ee_info.to_be_bytes()` yields the MTU
/// for both families.
pub fn error_kind(proto: Proto, icmp_type: u8, code: u8, header: &[u8]) -> Option<ErrorKind> {
    let kind = match (proto, icmp_type) {
        (Proto::V4, ICMP_DEST_UNREACH) if code == ICMP_FRAG_NEEDED => {
            ErrorKind::PacketTooBig(Proto::V4, read_u16(header, 6).map_or(0, u32::from))
        }
        (Proto::V4, ICMP_DEST_UNREACH) => ErrorKind::Unreachable(Proto::V4, code),
        (Proto::V4, ICMP_SOURCE_QUENCH) => ErrorKind::SourceQuench,
        (Proto::V4, ICMP_REDIRECT) => ErrorKind::Redirect(code),
        (Proto::V4, ICMP_TIME_EXCEEDED) => ErrorKind::TimeExceeded(Proto::V4, code),
        (Proto::V4, ICMP_PARAMETER_PROBLEM) => ErrorKind::ParameterProblem(Proto::V4, code),
        (Proto::V6, ICMP6_DST_UNREACH) => ErrorKind::Unreachable(Proto::V6, code),
        (Proto::V6, ICMP6_PACKET_TOO_BIG) => {
            ErrorKind::PacketTooBig(Proto::V6, read_u32(header, 4).unwrap_or(0))
        }
        (Proto::V6, ICMP6_TIME_EXCEEDED) => ErrorKind::TimeExceeded(Proto::V6, code),
        (Proto::V6, ICMP6_PARAM_PROB) => ErrorKind::ParameterProblem(Proto::V6, code),
        _ => return None,
    };
    Some(kind)
}

/// Text of an ICMPv4 destination-unreachable code (as in iputils ping).
fn unreachable4_text(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "Destination Net Unreachable",
        1 => "Destination Host Unreachable",
        2 => "Destination Protocol Unreachable",
        3 => "Destination Port Unreachable",
        4 => "Frag needed and DF set",
        5 => "Source Route Failed",
        6 => "Destination Net Unknown",
        7 => "Destination Host Unknown",
        8 => "Source Host Isolated",
        9 => "Destination Net Prohibited",
        10 => "Destination Host Prohibited",
        11 => "Destination Net Unreachable for Type of Service",
        12 => "Destination Host Unreachable for Type of Service",
        13 => "Communication prohibited by filter",
        14 => "Precedence Violation",
        15 => "Precedence Cutoff",
        _ => return None,
    })
}

/// Text of an ICMPv6 destination-unreachable code (RFC 4443).
fn unreachable6_text(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "No route",
        1 => "Administratively prohibited",
        2 => "Beyond scope of source address",
        3 => "Address unreachable",
        4 => "Port unreachable",
        5 => "Source address failed ingress/egress policy",
        6 => "Reject route to destination",
        _ => return None,
    })
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::Unreachable(Proto::V4, code) => match unreachable4_text(code) {
                Some(text) => f.write_str(text),
                None => write!(f, "Dest Unreachable, Bad Code: {code}"),
            },
            ErrorKind::Unreachable(Proto::V6, code) => match unreachable6_text(code) {
                Some(text) => write!(f, "Destination unreachable: {text}"),
                None => write!(f, "Destination unreachable: Unknown code {code}"),
            },
            ErrorKind::PacketTooBig(Proto::V4, mtu) => {
                write!(f, "Frag needed and DF set (mtu = {mtu})")
            }
            ErrorKind::PacketTooBig(Proto::V6, mtu) => write!(f, "Packet too big: mtu={mtu}"),
            ErrorKind::TimeExceeded(Proto::V4, code) => match code {
                0 => f.write_str("Time to live exceeded"),
                1 => f.write_str("Frag reassembly time exceeded"),
                _ => write!(f, "Time exceeded, Bad Code: {code}"),
            },
            ErrorKind::TimeExceeded(Proto::V6, code) => match code {
                0 => f.write_str("Time exceeded: Hop limit"),
                1 => f.write_str("Time exceeded: Defragmentation failure"),
                _ => write!(f, "Time exceeded: code {code}"),
            },
            ErrorKind::ParameterProblem(Proto::V4, code) => match code {
                0 => f.write_str("Parameter problem"),
                1 => f.write_str("Parameter problem: missing required option"),
                2 => f.write_str("Parameter problem: bad length"),
                _ => write!(f, "Parameter problem, Bad Code: {code}"),
            },
            ErrorKind::ParameterProblem(Proto::V6, code) => match code {
                0 => f.write_str("Parameter problem: Wrong header field"),
                1 => f.write_str("Parameter problem: Unknown header"),
                2 => f.write_str("Parameter problem: Unknown option"),
                _ => write!(f, "Parameter problem: code {code}"),
            },
            ErrorKind::SourceQuench => f.write_str("Source Quench"),
            ErrorKind::Redirect(code) => match code {
                0 => f.write_str("Redirect Network"),
                1 => f.write_str("Redirect Host"),
                2 => f.write_str("Redirect Type of Service and Network"),
                3 => f.write_str("Redirect Type of Service and Host"),
                _ => write!(f, "Redirect, Bad Code: {code}"),
            },
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

/// An ICMP message read from a raw IPv4 socket, with its IPv4 header fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Ipv4Packet<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub msg: Message<'a>,
}

/// Decodes a read from a raw IPv4 ICMP socket: the IPv4 header as on the
/// wire (Linux keeps the total length in network order), then ICMP. Checks:
/// version 4; header length 20..=60 and within `buf`; total length at least
/// the header length and within `buf` (bytes past it are ignored); protocol
/// ICMP; not a fragment; then the ICMP part is decoded (checksum verified)
/// as by [`parse_icmp4`].
///
/// # Errors
/// `Truncated`, `BadIpHeader` or `NotIcmp` for the IPv4 header, then any
/// error of [`parse_icmp4`].
pub fn parse_ipv4(buf: &[u8]) -> Result<Ipv4Packet<'_>, ParseError> {
    let first = read_u8(buf, 0).ok_or(ParseError::Truncated)?;
    if first >> 4 != 4 {
        return Err(ParseError::BadIpHeader);
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER_LEN {
        return Err(ParseError::BadIpHeader);
    }
    if header_len > buf.len() {
        return Err(ParseError::Truncated);
    }
    let total_len = usize::from(read_u16(buf, 2).ok_or(ParseError::Truncated)?);
    if total_len < header_len {
        return Err(ParseError::BadIpHeader);
    }
    let packet = buf.get(..total_len).ok_or(ParseError::Truncated)?;
    if read_u8(packet, 9).ok_or(ParseError::Truncated)? != IPPROTO_ICMP {
        return Err(ParseError::NotIcmp);
    }
    if !is_first_fragment_only(packet).ok_or(ParseError::Truncated)? {
        return Err(ParseError::BadIpHeader);
    }
    let ttl = read_u8(packet, 8).ok_or(ParseError::Truncated)?;
    let src = read_array::<4>(packet, 12).ok_or(ParseError::Truncated)?;
    let dst = read_array::<4>(packet, 16).ok_or(ParseError::Truncated)?;
    let icmp = packet.get(header_len..).ok_or(ParseError::Truncated)?;
    let msg = parse_icmp4(icmp)?;
    Ok(Ipv4Packet {
        src: Ipv4Addr::from(src),
        dst: Ipv4Addr::from(dst),
        ttl,
        msg,
    })
}

/// `Some(true)` if the IPv4 header says "not a fragment" (MF clear, offset
/// zero); DF is allowed.
fn is_first_fragment_only(ip_header: &[u8]) -> Option<bool> {
    Some(read_u16(ip_header, 6)? & 0x3fff == 0)
}

/// Decodes a read from an IPv4 ICMP datagram socket, which starts at the
/// ICMP header. The checksum is verified.
///
/// # Errors
/// `Truncated` (under 8 bytes), `BadChecksum`, `BadQuote` (an error not
/// quoting one of our echo requests), `Ignored` (any other message).
pub fn parse_icmp4(buf: &[u8]) -> Result<Message<'_>, ParseError> {
    let header = buf.get(..ICMP_HEADER_LEN).ok_or(ParseError::Truncated)?;
    if checksum(buf) != 0 {
        return Err(ParseError::BadChecksum);
    }
    let icmp_type = read_u8(header, 0).ok_or(ParseError::Truncated)?;
    let code = read_u8(header, 1).ok_or(ParseError::Truncated)?;
    if icmp_type == ICMP_ECHO_REPLY && code == 0 {
        return echo_reply(buf);
    }
    match error_kind(Proto::V4, icmp_type, code, header) {
        Some(kind) => quoted_error(kind, buf.get(ICMP_HEADER_LEN..).and_then(parse_quote4)),
        None => Err(ParseError::Ignored),
    }
}

/// Decodes an ICMPv6 message (raw or datagram socket; never an IP header).
/// The checksum is not verified: the kernel has done so, and the
/// pseudo-header it covers is not available here.
///
/// # Errors
/// `Truncated` (under 8 bytes), `BadQuote` (an error not quoting one of our
/// echo requests), `Ignored` (any other message).
pub fn parse_icmp6(buf: &[u8]) -> Result<Message<'_>, ParseError> {
    let header = buf.get(..ICMP_HEADER_LEN).ok_or(ParseError::Truncated)?;
    let icmp_type = read_u8(header, 0).ok_or(ParseError::Truncated)?;
    let code = read_u8(header, 1).ok_or(ParseError::Truncated)?;
    if icmp_type == ICMP6_ECHO_REPLY {
        return echo_reply(buf);
    }
    match error_kind(Proto::V6, icmp_type, code, header) {
        Some(kind) => quoted_error(kind, buf.get(ICMP_HEADER_LEN..).and_then(parse_quote6)),
        None => Err(ParseError::Ignored),
    }
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

/// `(ident, seq, destination)` of the echo request quoted in an ICMPv4
/// error: an IPv4 header (its own IHL, options skipped), protocol ICMP, not
/// a non-first fragment, then at least 8 bytes of an echo request header.
fn parse_quote4(quote: &[u8]) -> Option<Quoted<'_>> {
    let first = read_u8(quote, 0)?;
    if first >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER_LEN || read_u8(quote, 9)? != IPPROTO_ICMP {
        return None;
    }
    // A non-first fragment would have payload, not an ICMP header, here.
    if read_u16(quote, 6)? & 0x1fff != 0 {
        return None;
    }
    let dst = Ipv4Addr::from(read_array::<4>(quote, 16)?);
    let (ident, seq) = echo_request_id(Proto::V4, quote.get(header_len..)?)?;
    let quoted = quoted_payload(quote, header_len);
    Some((ident, seq, IpAddr::V4(dst), quoted))
}

/// `(ident, seq, destination)` of the echo request quoted in an ICMPv6
/// error: a 40-byte IPv6 header, at most [`MAX_EXT_HEADERS`] hop-by-hop,
/// routing, destination-options or (first) fragment headers, then at least 8
/// bytes of an ICMPv6 echo request header.
fn parse_quote6(quote: &[u8]) -> Option<Quoted<'_>> {
    if read_u8(quote, 0)? >> 4 != 6 {
        return None;
    }
    let dst = Ipv6Addr::from(read_array::<16>(quote, 24)?);
    let mut next = read_u8(quote, 6)?;
    let mut offset = IPV6_HEADER_LEN;
    let mut walked = 0;
    while next != IPPROTO_ICMPV6 {
        if walked == MAX_EXT_HEADERS {
            return None;
        }
        walked += 1;
        let len = match next {
            IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTS => {
                (usize::from(read_u8(quote, offset.checked_add(1)?)?) + 1) * 8
            }
            IPV6_FRAGMENT => {
                // Only a first fragment (offset 0) carries the ICMPv6 header.
                if read_u16(quote, offset.checked_add(2)?)? & 0xfff8 != 0 {
                    return None;
                }
                8
            }
            _ => return None,
        };
        next = read_u8(quote, offset)?;
        offset = offset.checked_add(len)?;
    }
    let (ident, seq) = echo_request_id(Proto::V6, quote.get(offset..)?)?;
    Some((ident, seq, IpAddr::V6(dst), quoted_payload(quote, offset)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// xorshift64*, deterministic.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn byte(&mut self) -> u8 {
            (self.next() >> 56) as u8
        }
        /// Appends `len` random bytes.
        fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
            let end = out.len() + len;
            while out.len() < end {
                let word = self.next().to_le_bytes();
                let take = (end - out.len()).min(8);
                out.extend_from_slice(&word[..take]);
            }
        }
    }

    const OURS4: [u8; 4] = [192, 0, 2, 10];
    const TARGET4: [u8; 4] = [198, 51, 100, 7];
    const OURS6: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    const TARGET6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];

    fn payload(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    fn be16(buf: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([buf[at], buf[at + 1]])
    }

    /// An IPv4 header of `ihl` words (options: NOPs then EOL), with a valid
    /// header checksum, for a body of `body_len` bytes.
    fn ipv4_header(ihl: u8, protocol: u8, body_len: usize, src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let len = usize::from(ihl) * 4;
        let mut h = vec![1u8; len];
        h[..20].fill(0);
        h[len - 1] = if len > 20 { 0 } else { h[len - 1] };
        h[0] = 0x40 | ihl;
        h[2..4].copy_from_slice(&((len + body_len) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&0x1c46u16.to_be_bytes());
        h[6] = 0x40; // DF
        h[8] = 57;
        h[9] = protocol;
        h[12..16].copy_from_slice(&src);
        h[16..20].copy_from_slice(&dst);
        let sum = checksum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h
    }

    fn fix_icmp_checksum(icmp: &mut [u8]) {
        if icmp.len() >= 4 {
            icmp[2] = 0;
            icmp[3] = 0;
            let sum = checksum(icmp);
            icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        }
    }

    /// Our request turned into the echo reply a peer would send.
    fn reply4(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
        let mut icmp = Vec::new();
        encode_echo_request(Proto::V4, ident, seq, data, &mut icmp);
        icmp[0] = ICMP_ECHO_REPLY;
        fix_icmp_checksum(&mut icmp);
        icmp
    }

    fn raw4(ihl: u8, icmp: &[u8]) -> Vec<u8> {
        let mut buf = ipv4_header(ihl, IPPROTO_ICMP, icmp.len(), TARGET4, OURS4);
        buf.extend_from_slice(icmp);
        buf
    }

    /// An ICMPv4 error quoting our request (inner header of `inner_ihl`
    /// words, `quoted` payload bytes after the request header).
    fn error4(
        kind: (u8, u8),
        rest: [u8; 4],
        inner_ihl: u8,
        ident: u16,
        seq: u16,
        quoted: usize,
    ) -> Vec<u8> {
        let mut req = Vec::new();
        encode_echo_request(Proto::V4, ident, seq, &payload(quoted), &mut req);
        let mut icmp = vec![kind.0, kind.1, 0, 0];
        icmp.extend_from_slice(&rest);
        icmp.extend(ipv4_header(
            inner_ihl,
            IPPROTO_ICMP,
            req.len(),
            OURS4,
            TARGET4,
        ));
        icmp.extend(req);
        fix_icmp_checksum(&mut icmp);
        icmp
    }

    fn reply6(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
        let mut icmp = Vec::new();
        encode_echo_request(Proto::V6, ident, seq, data, &mut icmp);
        icmp[0] = ICMP6_ECHO_REPLY;
        icmp
    }

    /// One IPv6 extension header of type `kind`; `ext_len` is hdr_ext_len
    /// (or, for a fragment header, the fragment offset in 8-byte units).
    fn ext_header(kind: u8, next: u8, ext_len: u8) -> Vec<u8> {
        if kind == IPV6_FRAGMENT {
            let off = (u16::from(ext_len) << 3) | 1; // M flag set
            let mut h = vec![next, 0];
            h.extend_from_slice(&off.to_be_bytes());
            h.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
            h
        } else {
            let mut h = vec![0u8; (usize::from(ext_len) + 1) * 8];
            h[0] = next;
            h[1] = ext_len;
            h
        }
    }

    /// The quoted part of an ICMPv6 error: IPv6 header, extension headers
    /// `exts` as (type, ext_len), our request.
    fn quote6(exts: &[(u8, u8)], ident: u16, seq: u16, quoted: usize) -> Vec<u8> {
        let mut body = Vec::new();
        for (i, &(kind, ext_len)) in exts.iter().enumerate() {
            let next = exts.get(i + 1).map_or(IPPROTO_ICMPV6, |e| e.0);
            body.extend(ext_header(kind, next, ext_len));
        }
        let mut req = Vec::new();
        encode_echo_request(Proto::V6, ident, seq, &payload(quoted), &mut req);
        body.extend(req);
        let mut q = vec![0x60, 0, 0, 0];
        q.extend_from_slice(&(body.len() as u16).to_be_bytes());
        q.push(exts.first().map_or(IPPROTO_ICMPV6, |e| e.0));
        q.push(64);
        q.extend_from_slice(&OURS6);
        q.extend_from_slice(&TARGET6);
        q.extend(body);
        q
    }

    fn error6(kind: (u8, u8), rest: [u8; 4], exts: &[(u8, u8)], ident: u16, seq: u16) -> Vec<u8> {
        let mut icmp = vec![kind.0, kind.1, 0x5a, 0xa5];
        icmp.extend_from_slice(&rest);
        icmp.extend(quote6(exts, ident, seq, 16));
        icmp
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Decoder {
        Raw4,
        Dgram4,
        Icmp6,
    }

    const EXTS: [(u8, u8); 4] = [
        (IPV6_HOP_BY_HOP, 0),
        (IPV6_DEST_OPTS, 1),
        (IPV6_ROUTING, 2),
        (IPV6_FRAGMENT, 0),
    ];

    /// What a decoded message identifies: (ident, seq, is_error).
    type Id = (u16, u16, bool);

    /// Valid fixtures with what each must decode to.
    fn fixtures() -> Vec<(Decoder, Vec<u8>, Id)> {
        vec![
            (
                Decoder::Raw4,
                raw4(5, &reply4(0x1234, 7, &payload(56))),
                (0x1234, 7, false),
            ),
            (
                Decoder::Raw4,
                raw4(11, &reply4(0x0102, 0, &payload(9))),
                (0x0102, 0, false),
            ),
            (
                Decoder::Raw4,
                raw4(6, &error4((3, 1), [0; 4], 15, 0x7777, 300, 8)),
                (0x7777, 300, true),
            ),
            (
                Decoder::Dgram4,
                reply4(0xbeef, 65535, &payload(24)),
                (0xbeef, 65535, false),
            ),
            (
                Decoder::Dgram4,
                error4((11, 0), [0; 4], 7, 0x1234, 42, 8),
                (0x1234, 42, true),
            ),
            (
                Decoder::Dgram4,
                error4((3, 4), [0, 0, 0x05, 0xdc], 5, 0x1234, 43, 0),
                (0x1234, 43, true),
            ),
            (
                Decoder::Icmp6,
                reply6(0x4321, 9, &payload(32)),
                (0x4321, 9, false),
            ),
            (
                Decoder::Icmp6,
                error6((1, 3), [0; 4], &EXTS, 0x4321, 10),
                (0x4321, 10, true),
            ),
            (
                Decoder::Icmp6,
                error6((2, 0), [0, 0, 0x05, 0x00], &[], 0x4321, 11),
                (0x4321, 11, true),
            ),
        ]
    }

    /// Checks that a decoded ICMP message agrees with the bytes of `buf`
    /// (the ICMP part).
    fn check_icmp(proto: Proto, buf: &[u8], msg: &Message<'_>) {
        assert!(buf.len() >= ICMP_HEADER_LEN);
        if proto == Proto::V4 {
            assert_eq!(checksum(buf), 0);
        }
        match *msg {
            Message::EchoReply {
                ident,
                seq,
                payload,
            } => {
                match proto {
                    Proto::V4 => assert_eq!((buf[0], buf[1]), (0, 0)),
                    Proto::V6 => assert_eq!(buf[0], 129),
                }
                assert_eq!(ident, be16(buf, 4));
                assert_eq!(seq, be16(buf, 6));
                assert_eq!(payload.as_ptr(), buf[8..].as_ptr());
                assert_eq!(payload.len(), buf.len() - 8);
            }
            Message::Error {
                kind,
                ident,
                seq,
                dst,
                quoted,
            } => {
                assert_eq!(error_kind(proto, buf[0], buf[1], &buf[..8]), Some(kind));
                assert_eq!(quoted.as_ptr_range().end, buf.as_ptr_range().end);
                let q = &buf[8..];
                let at = match proto {
                    Proto::V4 => {
                        assert_eq!(q[0] >> 4, 4);
                        let ihl = usize::from(q[0] & 15) * 4;
                        assert!(ihl >= 20);
                        assert_eq!(q[9], 1);
                        assert_eq!(be16(q, 6) & 0x1fff, 0);
                        assert_eq!(dst, IpAddr::from([q[16], q[17], q[18], q[19]]));
                        ihl
                    }
                    Proto::V6 => {
                        assert_eq!(q[0] >> 4, 6);
                        let d: [u8; 16] = q[24..40].try_into().unwrap();
                        assert_eq!(dst, IpAddr::from(d));
                        (40..q.len().saturating_sub(7))
                            .step_by(8)
                            .find(|&o| {
                                q[o] == 128 && be16(q, o + 4) == ident && be16(q, o + 6) == seq
                            })
                            .expect("quoted request")
                    }
                };
                assert!(q.len() >= at + 8);
                assert_eq!((q[at], q[at + 1]), (proto.echo_request_type(), 0));
                assert_eq!((be16(q, at + 4), be16(q, at + 6)), (ident, seq));
            }
        }
    }

    fn check_raw4(buf: &[u8], p: &Ipv4Packet<'_>) {
        assert_eq!(buf[0] >> 4, 4);
        let ihl = usize::from(buf[0] & 15) * 4;
        let total = usize::from(be16(buf, 2));
        assert!(ihl >= 20 && ihl <= total && total <= buf.len());
        assert_eq!(buf[9], 1);
        assert_eq!(be16(buf, 6) & 0x3fff, 0);
        assert_eq!(p.ttl, buf[8]);
        assert_eq!(p.src.octets(), buf[12..16]);
        assert_eq!(p.dst.octets(), buf[16..20]);
        check_icmp(Proto::V4, &buf[ihl..total], &p.msg);
    }

    /// Decodes `buf`; checks any Ok for consistency. Returns (ident, seq,
    /// is_error) of an Ok.
    fn decode(dec: Decoder, buf: &[u8]) -> Option<Id> {
        let msg_id = |m: &Message<'_>| match *m {
            Message::EchoReply { ident, seq, .. } => (ident, seq, false),
            Message::Error { ident, seq, .. } => (ident, seq, true),
        };
        match dec {
            Decoder::Raw4 => parse_ipv4(buf).ok().map(|p| {
                check_raw4(buf, &p);
                msg_id(&p.msg)
            }),
            Decoder::Dgram4 => parse_icmp4(buf).ok().map(|m| {
                check_icmp(Proto::V4, buf, &m);
                msg_id(&m)
            }),
            Decoder::Icmp6 => parse_icmp6(buf).ok().map(|m| {
                check_icmp(Proto::V6, buf, &m);
                msg_id(&m)
            }),
        }
    }

    /// Recomputes the ICMPv4 checksum of a (possibly garbled) buffer, so that
    /// fuzzing gets past the checksum check. Never panics.
    fn refresh_checksum(dec: Decoder, buf: &mut [u8]) {
        match dec {
            Decoder::Dgram4 => fix_icmp_checksum(buf),
            Decoder::Raw4 => {
                if buf.len() < 20 {
                    return;
                }
                let ihl = usize::from(buf[0] & 15) * 4;
                let total = usize::from(be16(buf, 2));
                if ihl <= total && total <= buf.len() {
                    fix_icmp_checksum(&mut buf[ihl..total]);
                }
            }
            Decoder::Icmp6 => {}
        }
    }

    // ---- encoding ----

    #[test]
    fn encode_v4_layout() {
        let mut out = vec![0xee; 100];
        encode_echo_request(Proto::V4, 0x1234, 0xabcd, b"hi", &mut out);
        assert_eq!(out.len(), 10);
        assert_eq!(out[..2], [8, 0]);
        assert_eq!(out[4..], [0x12, 0x34, 0xab, 0xcd, b'h', b'i']);
        assert_eq!(checksum(&out), 0);
        let mut zeroed = out.clone();
        zeroed[2..4].fill(0);
        assert_eq!(out[2..4], checksum(&zeroed).to_be_bytes());
        assert_eq!(echo_request_id(Proto::V4, &out), Some((0x1234, 0xabcd)));
    }

    #[test]
    fn encode_v6_layout() {
        let mut out = vec![0xee; 3];
        encode_echo_request(Proto::V6, 0xfffe, 1, &payload(56), &mut out);
        assert_eq!(out.len(), 64);
        assert_eq!(out[..8], [128, 0, 0, 0, 0xff, 0xfe, 0, 1]);
        assert_eq!(out[8..], payload(56));
        assert_eq!(echo_request_id(Proto::V6, &out), Some((0xfffe, 1)));
        encode_echo_request(Proto::V6, 0, 0, &[], &mut out);
        assert_eq!(out, [128, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn round_trip_v4_raw_every_ihl() {
        for ihl in 5..=15u8 {
            for len in [0usize, 1, 7, 56, 1472] {
                let data = payload(len);
                let buf = raw4(ihl, &reply4(0x1234, u16::from(ihl) * 100, &data));
                let p = parse_ipv4(&buf).unwrap();
                assert_eq!(
                    p,
                    Ipv4Packet {
                        src: Ipv4Addr::from(TARGET4),
                        dst: Ipv4Addr::from(OURS4),
                        ttl: 57,
                        msg: Message::EchoReply {
                            ident: 0x1234,
                            seq: u16::from(ihl) * 100,
                            payload: &data,
                        },
                    }
                );
                check_raw4(&buf, &p);
            }
        }
    }

    #[test]
    fn round_trip_v4_dgram_and_v6() {
        let data = payload(56);
        for (ident, seq) in [(0, 0), (1, 65535), (0xffff, 0x8000)] {
            let buf = reply4(ident, seq, &data);
            let expected = Message::EchoReply {
                ident,
                seq,
                payload: &data,
            };
            assert_eq!(parse_icmp4(&buf), Ok(expected));
            let buf = reply6(ident, seq, &data);
            let expected = Message::EchoReply {
                ident,
                seq,
                payload: &data,
            };
            assert_eq!(parse_icmp6(&buf), Ok(expected));
        }
        // Empty payloads.
        let empty: &[u8] = &[];
        let expected = Message::EchoReply {
            ident: 5,
            seq: 6,
            payload: empty,
        };
        assert_eq!(parse_icmp4(&reply4(5, 6, &[])), Ok(expected));
        // V6 checksums are not ours to verify.
        let mut buf = reply6(5, 6, &[]);
        buf[2..4].copy_from_slice(&[0x12, 0x34]);
        assert!(parse_icmp6(&buf).is_ok());
    }

    #[test]
    fn set_sequence_keeps_v4_checksum_valid() {
        for len in [0usize, 1, 2, 56, 57] {
            let data = payload(len);
            let mut packet = Vec::new();
            let mut fresh = Vec::new();
            encode_echo_request(Proto::V4, 0xabcd, 12345, &data, &mut packet);
            // Every sequence number, each step from the previous one.
            for seq in (0..=u16::MAX).chain([0, 65535, 1, 0]) {
                set_sequence(Proto::V4, seq, &mut packet);
                encode_echo_request(Proto::V4, 0xabcd, seq, &data, &mut fresh);
                assert_eq!(packet, fresh, "len {len} seq {seq}");
                assert_eq!(checksum(&packet), 0);
            }
        }
        // Random jumps, random idents.
        let mut rng = Rng(7);
        let mut packet = Vec::new();
        let mut fresh = Vec::new();
        for _ in 0..20_000 {
            let ident = rng.next() as u16;
            let data = payload(rng.below(64));
            encode_echo_request(Proto::V4, ident, rng.next() as u16, &data, &mut packet);
            let seq = rng.next() as u16;
            set_sequence(Proto::V4, seq, &mut packet);
            encode_echo_request(Proto::V4, ident, seq, &data, &mut fresh);
            assert_eq!(packet, fresh);
        }
    }

    #[test]
    fn set_sequence_v6_and_short() {
        let mut packet = Vec::new();
        encode_echo_request(Proto::V6, 1, 2, b"abc", &mut packet);
        set_sequence(Proto::V6, 0xfedc, &mut packet);
        assert_eq!(packet, [128, 0, 0, 0, 0, 1, 0xfe, 0xdc, b'a', b'b', b'c']);
        let mut short = [8u8, 0, 1, 2, 3, 4, 5];
        set_sequence(Proto::V4, 9, &mut short);
        assert_eq!(short, [8, 0, 1, 2, 3, 4, 5]);
        set_sequence(Proto::V6, 9, &mut []);
        let mut exact = [8u8, 0, 0, 0, 0, 0, 0, 0];
        fix_icmp_checksum(&mut exact);
        set_sequence(Proto::V4, 9, &mut exact);
        assert_eq!(be16(&exact, 6), 9);
        assert_eq!(checksum(&exact), 0);
    }

    #[test]
    fn echo_request_id_checks() {
        let mut req = Vec::new();
        encode_echo_request(Proto::V4, 0x0102, 0x0304, b"xyz", &mut req);
        assert_eq!(echo_request_id(Proto::V4, &req), Some((0x0102, 0x0304)));
        assert_eq!(
            echo_request_id(Proto::V4, &req[..8]),
            Some((0x0102, 0x0304))
        );
        assert_eq!(echo_request_id(Proto::V4, &req[..7]), None);
        assert_eq!(echo_request_id(Proto::V6, &req), None);
        assert_eq!(echo_request_id(Proto::V4, &[]), None);
        req[1] = 1;
        assert_eq!(echo_request_id(Proto::V4, &req), None);
        encode_echo_request(Proto::V6, 7, 8, &[], &mut req);
        assert_eq!(echo_request_id(Proto::V6, &req), Some((7, 8)));
        assert_eq!(echo_request_id(Proto::V4, &req), None);
        assert_eq!(echo_request_id(Proto::V6, &reply6(7, 8, &[])), None);
    }

    // ---- robustness ----

    #[test]
    fn fixtures_decode_as_expected() {
        for (dec, buf, expected) in fixtures() {
            assert_eq!(decode(dec, &buf), Some(expected), "{dec:?}");
        }
    }

    #[test]
    fn every_truncation() {
        for (dec, buf, expected) in fixtures() {
            for len in 0..buf.len() {
                let r = decode(dec, &buf[..len]);
                if dec == Decoder::Raw4 {
                    // The total length no longer fits.
                    assert_eq!(r, None, "{dec:?} len {len}");
                }
            }
            assert_eq!(decode(dec, &buf), Some(expected));
        }
        // An ICMPv6 echo reply cut anywhere past its header still decodes.
        let buf = reply6(1, 2, &payload(20));
        for len in 0..buf.len() {
            assert_eq!(decode(Decoder::Icmp6, &buf[..len]).is_some(), len >= 8);
        }
    }

    #[test]
    fn every_single_byte_mutation() {
        let mut oks = 0usize;
        let mut total = 0usize;
        for (dec, buf, _) in fixtures() {
            let mut m = buf.clone();
            for at in 0..buf.len() {
                for value in 0..=255u8 {
                    m[at] = value;
                    total += 1;
                    oks += usize::from(decode(dec, &m).is_some());
                }
                m[at] = buf[at];
            }
        }
        eprintln!("single-byte mutations: {total}, accepted {oks}");
        assert!(oks > 0 && oks < total);
    }

    #[test]
    fn random_fuzz() {
        const PACKETS: usize = 1_200_000;
        let start = Instant::now();
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let fixtures = fixtures();
        let decoders = [Decoder::Raw4, Decoder::Dgram4, Decoder::Icmp6];
        let mut buf = Vec::with_capacity(512);
        let mut accepted = [0usize; 3];
        for i in 0..PACKETS {
            let dec = decoders[i % 3];
            buf.clear();
            if (i / 3) % 2 == 0 {
                let len = rng.below(201);
                rng.fill(&mut buf, len);
                // Make a raw read look like IPv4 now and then.
                if dec == Decoder::Raw4 && !buf.is_empty() && rng.below(2) == 0 {
                    buf[0] = 0x40 | (buf[0] & 0x0f);
                }
            } else {
                let candidates: Vec<_> = fixtures.iter().filter(|f| f.0 == dec).collect();
                let fixture = &candidates[rng.below(candidates.len())].1;
                buf.extend_from_slice(fixture);
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(buf.len());
                    buf[at] = rng.byte();
                }
                match rng.below(4) {
                    0 => buf.truncate(rng.below(buf.len() + 1)),
                    1 => {
                        let extra = rng.below(33);
                        rng.fill(&mut buf, extra);
                    }
                    _ => {}
                }
                if rng.below(2) == 0 {
                    refresh_checksum(dec, &mut buf);
                }
            }
            if decode(dec, &buf).is_some() {
                accepted[i % 3] += 1;
            }
        }
        eprintln!(
            "fuzz: {PACKETS} packets in {:?}; accepted raw4 {}, dgram4 {}, icmp6 {}",
            start.elapsed(),
            accepted[0],
            accepted[1],
            accepted[2]
        );
        assert!(accepted.iter().all(|&n| n > 1000));
    }

    // ---- IPv4 header checks ----

    #[test]
    fn ipv4_header_errors() {
        let good = raw4(5, &reply4(1, 2, &payload(16)));
        assert!(parse_ipv4(&good).is_ok());
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            f(&mut b);
            parse_ipv4(&b).map(|_| ())
        };
        assert_eq!(parse_ipv4(&[]), Err(ParseError::Truncated));
        assert_eq!(parse_ipv4(&[0x45]), Err(ParseError::Truncated));
        assert_eq!(with(&|b| b[0] = 0x65), Err(ParseError::BadIpHeader));
        assert_eq!(with(&|b| b[0] = 0x05), Err(ParseError::BadIpHeader));
        for ihl in 0..5 {
            assert_eq!(with(&|b| b[0] = 0x40 | ihl), Err(ParseError::BadIpHeader));
        }
        // IHL * 4 beyond the buffer.
        assert_eq!(
            parse_ipv4(&good[..19]).map(|_| ()),
            Err(ParseError::Truncated)
        );
        let mut short = good[..40].to_vec();
        short[0] = 0x4f;
        assert_eq!(parse_ipv4(&short).map(|_| ()), Err(ParseError::Truncated));
        // Total length below the header length, or beyond the buffer.
        for total in [0u16, 1, 19] {
            assert_eq!(
                with(&|b| b[2..4].copy_from_slice(&total.to_be_bytes())),
                Err(ParseError::BadIpHeader)
            );
        }
        let len = good.len() as u16;
        assert_eq!(
            with(&|b| b[2..4].copy_from_slice(&(len + 1).to_be_bytes())),
            Err(ParseError::Truncated)
        );
        assert_eq!(
            with(&|b| b[2..4].copy_from_slice(&0xffffu16.to_be_bytes())),
            Err(ParseError::Truncated)
        );
        // Total length cutting into the ICMP header.
        assert_eq!(
            with(&|b| b[2..4].copy_from_slice(&27u16.to_be_bytes())),
            Err(ParseError::Truncated)
        );
        assert_eq!(with(&|b| b[9] = 17), Err(ParseError::NotIcmp));
        assert_eq!(with(&|b| b[9] = 58), Err(ParseError::NotIcmp));
        // Fragments: MF, any offset bit; DF alone is fine.
        assert_eq!(with(&|b| b[6] = 0x20), Err(ParseError::BadIpHeader));
        assert_eq!(with(&|b| b[6] = 0x60), Err(ParseError::BadIpHeader));
        assert_eq!(with(&|b| b[7] = 1), Err(ParseError::BadIpHeader));
        assert_eq!(with(&|b| b[6] = 0x1f), Err(ParseError::BadIpHeader));
        assert_eq!(with(&|b| b[6] = 0x00), Ok(()));
        // Reserved flag bit is not a fragment.
        assert_eq!(with(&|b| b[6] = 0x80), Ok(()));
        // Bad ICMP checksum, and a bad ICMP checksum in a datagram read.
        assert_eq!(with(&|b| b[30] ^= 1), Err(ParseError::BadChecksum));
        assert_eq!(with(&|b| b[22] ^= 0x80), Err(ParseError::BadChecksum));
        let mut dgram = reply4(1, 2, &payload(16));
        dgram[9] ^= 4;
        assert_eq!(parse_icmp4(&dgram), Err(ParseError::BadChecksum));
        assert_eq!(parse_icmp4(&dgram[..7]), Err(ParseError::Truncated));
        assert_eq!(parse_icmp4(&[]), Err(ParseError::Truncated));
    }

    #[test]
    fn ipv4_bytes_past_total_length_ignored() {
        let data = payload(20);
        let mut buf = raw4(8, &reply4(9, 10, &data));
        buf.extend_from_slice(&[0xff; 13]);
        let p = parse_ipv4(&buf).unwrap();
        assert_eq!(
            p.msg,
            Message::EchoReply {
                ident: 9,
                seq: 10,
                payload: &data,
            }
        );
    }

    #[test]
    fn ipv4_ignored_types() {
        // Our own request seen on a raw socket.
        let mut req = Vec::new();
        encode_echo_request(Proto::V4, 1, 2, b"x", &mut req);
        assert_eq!(parse_icmp4(&req), Err(ParseError::Ignored));
        assert_eq!(
            parse_ipv4(&raw4(5, &req)).map(|_| ()),
            Err(ParseError::Ignored)
        );
        for t in [1u8, 2, 6, 8, 9, 10, 13, 14, 15, 16, 17, 18, 40, 255] {
            let mut m = vec![t, 0, 0, 0, 0, 0, 0, 0];
            m.extend(error4((11, 0), [0; 4], 5, 1, 2, 0).iter().skip(8));
            fix_icmp_checksum(&mut m);
            assert_eq!(parse_icmp4(&m), Err(ParseError::Ignored), "type {t}");
        }
        // An echo reply with a nonzero code.
        let mut reply = reply4(1, 2, b"x");
        reply[1] = 1;
        fix_icmp_checksum(&mut reply);
        assert_eq!(parse_icmp4(&reply), Err(ParseError::Ignored));
    }

    // ---- ICMPv4 errors ----

    #[test]
    fn ipv4_error_kinds_from_messages() {
        let dst = IpAddr::from(TARGET4);
        let cases = [
            ((3u8, 1u8), [0u8; 4], ErrorKind::Unreachable(Proto::V4, 1)),
            ((3, 13), [0; 4], ErrorKind::Unreachable(Proto::V4, 13)),
            (
                (3, 4),
                [0, 0, 0x05, 0x78],
                ErrorKind::PacketTooBig(Proto::V4, 1400),
            ),
            ((4, 0), [0; 4], ErrorKind::SourceQuench),
            ((5, 1), [10, 0, 0, 1], ErrorKind::Redirect(1)),
            ((11, 0), [0; 4], ErrorKind::TimeExceeded(Proto::V4, 0)),
            ((11, 1), [0; 4], ErrorKind::TimeExceeded(Proto::V4, 1)),
            (
                (12, 0),
                [20, 0, 0, 0],
                ErrorKind::ParameterProblem(Proto::V4, 0),
            ),
        ];
        for (tc, rest, kind) in cases {
            for inner_ihl in 5..=15 {
                let icmp = error4(tc, rest, inner_ihl, 0x55aa, 77, 8);
                let data = payload(8);
                let expected = Message::Error {
                    kind,
                    ident: 0x55aa,
                    seq: 77,
                    dst,
                    quoted: &data,
                };
                assert_eq!(parse_icmp4(&icmp).as_ref(), Ok(&expected));
                // The outer IHL must not be used for the inner header.
                for outer_ihl in [5, 9, 15] {
                    let raw = raw4(outer_ihl, &icmp);
                    let p = parse_ipv4(&raw).unwrap();
                    assert_eq!(p.msg, expected);
                    assert_eq!(p.src, Ipv4Addr::from(TARGET4));
                }
            }
        }
    }

    /// An ICMPv4 time-exceeded whose quote (inner IHL 7) is edited by `f`,
    /// checksum refreshed.
    fn edited_error4(f: &dyn Fn(&mut Vec<u8>)) -> Result<(), ParseError> {
        let mut icmp = error4((11, 0), [0; 4], 7, 1, 2, 4);
        f(&mut icmp);
        fix_icmp_checksum(&mut icmp);
        let msg = parse_icmp4(&icmp)?;
        check_icmp(Proto::V4, &icmp, &msg);
        Ok(())
    }

    #[test]
    fn ipv4_error_quote_checks() {
        // Quote layout: 8 outer header, 28 inner IPv4 (IHL 7), 8 request, 4 data.
        assert!(edited_error4(&|_| {}).is_ok());
        // Inner protocol not ICMP.
        assert_eq!(edited_error4(&|b| b[8 + 9] = 17), Err(ParseError::BadQuote));
        // Inner type not an echo request, or code nonzero.
        assert_eq!(edited_error4(&|b| b[36] = 0), Err(ParseError::BadQuote));
        assert_eq!(edited_error4(&|b| b[37] = 1), Err(ParseError::BadQuote));
        // Inner version, inner IHL below 5, inner IHL past the quote.
        assert_eq!(edited_error4(&|b| b[8] = 0x67), Err(ParseError::BadQuote));
        assert_eq!(edited_error4(&|b| b[8] = 0x44), Err(ParseError::BadQuote));
        assert_eq!(edited_error4(&|b| b[8] = 0x4f), Err(ParseError::BadQuote));
        // Inner IHL 5 would read the options as the ICMP header.
        assert_eq!(edited_error4(&|b| b[8] = 0x45), Err(ParseError::BadQuote));
        // Inner non-first fragment; first fragment (MF) is fine.
        assert_eq!(edited_error4(&|b| b[8 + 7] = 1), Err(ParseError::BadQuote));
        assert!(edited_error4(&|b| b[8 + 6] = 0x20).is_ok());
        // Quote cut short anywhere before the 8th byte of the request.
        for cut in 8..44 {
            assert_eq!(
                edited_error4(&|b| b.truncate(cut)),
                Err(ParseError::BadQuote),
                "cut {cut}"
            );
        }
        for cut in 44..=48 {
            assert!(edited_error4(&|b| b.truncate(cut)).is_ok(), "cut {cut}");
        }
        // The quoted payload is handed on as far as the quote goes (the tag check needs it).
        for cut in 44..=48 {
            let mut icmp = error4((3, 1), [0; 4], 7, 0x55aa, 77, 4);
            icmp.truncate(cut);
            fix_icmp_checksum(&mut icmp);
            match parse_icmp4(&icmp) {
                Ok(Message::Error { quoted, .. }) => assert_eq!(quoted, &payload(4)[..cut - 44]),
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        // The quoted request's checksum and the inner header checksum and
        // total length are not checked (routers may rewrite them).
        assert!(edited_error4(&|b| b[38] ^= 0xff).is_ok());
        assert!(edited_error4(&|b| b[8 + 10] ^= 0xff).is_ok());
        assert!(edited_error4(&|b| b[8 + 3] = 0).is_ok());
    }

    // ---- ICMPv6 ----

    #[test]
    fn ipv6_errors_with_extension_headers() {
        let dst = IpAddr::from(TARGET6);
        let chains: [&[(u8, u8)]; 5] = [
            &[],
            &EXTS,
            &[(IPV6_FRAGMENT, 0)],
            &[(IPV6_DEST_OPTS, 255)],
            &[(IPV6_HOP_BY_HOP, 0); MAX_EXT_HEADERS],
        ];
        for chain in chains {
            for (tc, rest, kind) in [
                ((1u8, 4u8), [0u8; 4], ErrorKind::Unreachable(Proto::V6, 4)),
                (
                    (2, 0),
                    [0, 0, 0x05, 0x00],
                    ErrorKind::PacketTooBig(Proto::V6, 1280),
                ),
                (
                    (2, 0),
                    [0, 1, 0, 0],
                    ErrorKind::PacketTooBig(Proto::V6, 65536),
                ),
                ((3, 0), [0; 4], ErrorKind::TimeExceeded(Proto::V6, 0)),
                (
                    (4, 1),
                    [0, 0, 0, 6],
                    ErrorKind::ParameterProblem(Proto::V6, 1),
                ),
            ] {
                let buf = error6(tc, rest, chain, 0x9999, 5);
                let data = payload(16);
                let expected = Message::Error {
                    kind,
                    ident: 0x9999,
                    seq: 5,
                    dst,
                    quoted: &data,
                };
                assert_eq!(parse_icmp6(&buf), Ok(expected), "{chain:?}");
            }
        }
    }

    #[test]
    fn ipv6_quote_checks() {
        let parse = |exts: &[(u8, u8)], f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = error6((1, 0), [0; 4], exts, 1, 2);
            f(&mut b);
            parse_icmp6(&b).map(|_| ())
        };
        assert_eq!(parse(&EXTS, &|_| {}), Ok(()));
        // Loop bound: 8 extension headers are walked, 9 are not.
        let nine = [(IPV6_DEST_OPTS, 0); MAX_EXT_HEADERS + 1];
        assert_eq!(parse(&nine, &|_| {}), Err(ParseError::BadQuote));
        assert_eq!(parse(&nine[..MAX_EXT_HEADERS], &|_| {}), Ok(()));
        // Truncated extension header, or cut anywhere before the request's
        // 8th byte.
        let full = error6((1, 0), [0; 4], &EXTS, 1, 2);
        let request_end = 8 + 40 + 8 + 16 + 24 + 8 + 8;
        for cut in 8..request_end {
            assert_eq!(
                parse_icmp6(&full[..cut]).map(|_| ()),
                Err(ParseError::BadQuote),
                "cut {cut}"
            );
        }
        assert!(parse_icmp6(&full[..request_end]).is_ok());
        // An extension header length running past the quote.
        assert_eq!(
            parse(&EXTS, &|b| b[48 + 8 + 1] = 200),
            Err(ParseError::BadQuote)
        );
        // Non-first fragment.
        let frag_at = 8 + 40 + 8 + 16 + 24;
        assert_eq!(
            parse(&EXTS, &|b| b[frag_at + 2] = 0x01),
            Err(ParseError::BadQuote)
        );
        assert_eq!(
            parse(&EXTS, &|b| b[frag_at + 3] = 0x08),
            Err(ParseError::BadQuote)
        );
        // Unknown next header (TCP), ICMPv4 inside IPv6, no next header.
        for next in [6u8, 1, 59, 51] {
            assert_eq!(parse(&[], &|b| b[8 + 6] = next), Err(ParseError::BadQuote));
        }
        // Not IPv6, not an echo request, quote too short for a header.
        assert_eq!(parse(&[], &|b| b[8] = 0x45), Err(ParseError::BadQuote));
        assert_eq!(parse(&[], &|b| b[48] = 129), Err(ParseError::BadQuote));
        assert_eq!(parse(&[], &|b| b.truncate(47)), Err(ParseError::BadQuote));
        assert_eq!(parse(&[], &|b| b.truncate(8)), Err(ParseError::BadQuote));
        // A chain that points back at itself is cut by the loop bound.
        let looping = [(IPV6_HOP_BY_HOP, 0); 20];
        assert_eq!(parse(&looping, &|_| {}), Err(ParseError::BadQuote));
    }

    #[test]
    fn ipv6_ignored_types() {
        let mut req = Vec::new();
        encode_echo_request(Proto::V6, 1, 2, b"x", &mut req);
        assert_eq!(parse_icmp6(&req), Err(ParseError::Ignored));
        for t in [0u8, 5, 100, 127, 128, 130, 133, 134, 135, 136, 143, 255] {
            let mut m = error6((1, 0), [0; 4], &[], 1, 2);
            m[0] = t;
            assert_eq!(parse_icmp6(&m), Err(ParseError::Ignored), "type {t}");
        }
        assert_eq!(
            parse_icmp6(&[129, 0, 0, 0, 0, 0, 0]),
            Err(ParseError::Truncated)
        );
        assert_eq!(parse_icmp6(&[]), Err(ParseError::Truncated));
    }

    // ---- error kinds and their text ----

    #[test]
    fn error_kind_mapping() {
        let v4 = Proto::V4;
        let v6 = Proto::V6;
        assert_eq!(
            error_kind(v4, 3, 4, &[]),
            Some(ErrorKind::PacketTooBig(v4, 0))
        );
        assert_eq!(
            error_kind(v4, 3, 4, &[3, 4, 0, 0, 0, 0, 0x05, 0xdc]),
            Some(ErrorKind::PacketTooBig(v4, 1500))
        );
        // A header synthesized from sock_extended_err's ee_info.
        let mut synth = vec![3, 4, 0, 0];
        synth.extend_from_slice(&1492u32.to_be_bytes());
        assert_eq!(
            error_kind(v4, 3, 4, &synth),
            Some(ErrorKind::PacketTooBig(v4, 1492))
        );
        synth[0] = 2;
        assert_eq!(
            error_kind(v6, 2, 0, &synth),
            Some(ErrorKind::PacketTooBig(v6, 1492))
        );
        assert_eq!(
            error_kind(v6, 2, 0, &[2, 0]),
            Some(ErrorKind::PacketTooBig(v6, 0))
        );
        assert_eq!(
            error_kind(v4, 3, 3, &[]),
            Some(ErrorKind::Unreachable(v4, 3))
        );
        assert_eq!(error_kind(v4, 4, 0, &[]), Some(ErrorKind::SourceQuench));
        assert_eq!(error_kind(v4, 5, 2, &[]), Some(ErrorKind::Redirect(2)));
        assert_eq!(
            error_kind(v4, 11, 1, &[]),
            Some(ErrorKind::TimeExceeded(v4, 1))
        );
        assert_eq!(
            error_kind(v4, 12, 2, &[]),
            Some(ErrorKind::ParameterProblem(v4, 2))
        );
        assert_eq!(
            error_kind(v6, 1, 3, &[]),
            Some(ErrorKind::Unreachable(v6, 3))
        );
        assert_eq!(
            error_kind(v6, 3, 1, &[]),
            Some(ErrorKind::TimeExceeded(v6, 1))
        );
        assert_eq!(
            error_kind(v6, 4, 0, &[]),
            Some(ErrorKind::ParameterProblem(v6, 0))
        );
        for t in [0u8, 8, 13, 128, 129] {
            assert_eq!(error_kind(v4, t, 0, &[]), None);
            assert_eq!(error_kind(v6, t, 0, &[]), None);
        }
        // Each family's types are not the other's.
        assert_eq!(error_kind(v6, 11, 0, &[]), None);
        assert_eq!(error_kind(v6, 5, 0, &[]), None);
        assert_eq!(error_kind(v4, 1, 0, &[]), None);
        assert_eq!(error_kind(v4, 2, 0, &[]), None);
    }

    #[test]
    fn error_kind_display() {
        let v4 = Proto::V4;
        let v6 = Proto::V6;
        let cases = [
            (ErrorKind::Unreachable(v4, 0), "Destination Net Unreachable"),
            (
                ErrorKind::Unreachable(v4, 1),
                "Destination Host Unreachable",
            ),
            (
                ErrorKind::Unreachable(v4, 2),
                "Destination Protocol Unreachable",
            ),
            (
                ErrorKind::Unreachable(v4, 3),
                "Destination Port Unreachable",
            ),
            (ErrorKind::Unreachable(v4, 5), "Source Route Failed"),
            (
                ErrorKind::Unreachable(v4, 13),
                "Communication prohibited by filter",
            ),
            (
                ErrorKind::Unreachable(v4, 16),
                "Dest Unreachable, Bad Code: 16",
            ),
            (
                ErrorKind::PacketTooBig(v4, 1400),
                "Frag needed and DF set (mtu = 1400)",
            ),
            (ErrorKind::TimeExceeded(v4, 0), "Time to live exceeded"),
            (
                ErrorKind::TimeExceeded(v4, 1),
                "Frag reassembly time exceeded",
            ),
            (ErrorKind::TimeExceeded(v4, 9), "Time exceeded, Bad Code: 9"),
            (ErrorKind::ParameterProblem(v4, 0), "Parameter problem"),
            (ErrorKind::SourceQuench, "Source Quench"),
            (ErrorKind::Redirect(1), "Redirect Host"),
            (ErrorKind::Redirect(7), "Redirect, Bad Code: 7"),
            (
                ErrorKind::Unreachable(v6, 0),
                "Destination unreachable: No route",
            ),
            (
                ErrorKind::Unreachable(v6, 1),
                "Destination unreachable: Administratively prohibited",
            ),
            (
                ErrorKind::Unreachable(v6, 2),
                "Destination unreachable: Beyond scope of source address",
            ),
            (
                ErrorKind::Unreachable(v6, 3),
                "Destination unreachable: Address unreachable",
            ),
            (
                ErrorKind::Unreachable(v6, 4),
                "Destination unreachable: Port unreachable",
            ),
            (
                ErrorKind::Unreachable(v6, 99),
                "Destination unreachable: Unknown code 99",
            ),
            (
                ErrorKind::PacketTooBig(v6, 1280),
                "Packet too big: mtu=1280",
            ),
            (ErrorKind::TimeExceeded(v6, 0), "Time exceeded: Hop limit"),
            (
                ErrorKind::TimeExceeded(v6, 1),
                "Time exceeded: Defragmentation failure",
            ),
            (
                ErrorKind::ParameterProblem(v6, 1),
                "Parameter problem: Unknown header",
            ),
            (
                ErrorKind::ParameterProblem(v6, 200),
                "Parameter problem: code 200",
            ),
        ];
        for (kind, text) in cases {
            assert_eq!(kind.to_string(), text);
        }
        // Every code of every kind prints something, with the number if unknown.
        for code in 0..=255u8 {
            for proto in [v4, v6] {
                for kind in [
                    ErrorKind::Unreachable(proto, code),
                    ErrorKind::TimeExceeded(proto, code),
                    ErrorKind::ParameterProblem(proto, code),
                ] {
                    assert!(!kind.to_string().is_empty());
                }
            }
            if code > 15 {
                assert!(ErrorKind::Unreachable(v4, code)
                    .to_string()
                    .contains(&code.to_string()));
                assert!(ErrorKind::Unreachable(v6, code)
                    .to_string()
                    .contains(&code.to_string()));
                assert!(ErrorKind::Redirect(code)
                    .to_string()
                    .contains(&code.to_string()));
            }
        }
    }
}
