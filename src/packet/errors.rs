//! ICMP and ICMPv6 error kinds, the MTU a packet-too-big carries, and iputils' text for each.
//!
//! Which types and codes are errors of each family, and the text iputils `ping` prints for each.
//! Used for errors read off the wire and for those a socket's error queue reports. Pure: it must
//! not parse packets (the decoders in `ipv4` and `icmpv6` call [`error_kind`]), and every code a
//! network can send must print something, with the number when it is unknown.

use std::fmt;

use super::{read_u16, read_u32, Proto};

const ICMP_DEST_UNREACH: u8 = 3;
const ICMP_SOURCE_QUENCH: u8 = 4;
const ICMP_REDIRECT: u8 = 5;
const ICMP_TIME_EXCEEDED: u8 = 11;
const ICMP_PARAMETER_PROBLEM: u8 = 12;
const ICMP_FRAG_NEEDED: u8 = 4;

const ICMP6_DST_UNREACH: u8 = 1;
const ICMP6_PACKET_TOO_BIG: u8 = 2;
const ICMP6_TIME_EXCEEDED: u8 = 3;
const ICMP6_PARAM_PROB: u8 = 4;

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
