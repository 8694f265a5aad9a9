//! ICMP and ICMPv6 error kinds, the MTU a packet-too-big carries, and iputils' text for each.
//!
//! Which types and codes are errors of each family, and the text iputils `ping` prints for each.
//! Used for errors read off the wire and for those a socket's error queue reports. Pure: it must
//! not parse packets (the decoders in `ipv4` and `icmpv6` call [`error_kind`]), and every code a
//! network can send must print something, with the number when it is unknown.

use std::fmt;

use super::wire::{read_u16, read_u32, Family};

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
/// ICMP and ICMPv6 carry the [`Family`] they came from; the numbers are the
/// ICMP code, or the MTU for [`ErrorKind::PacketTooBig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// V4 type 3 (any code but 4), V6 type 1; the code.
    Unreachable(Family, u8),
    /// V4 type 11, V6 type 3; the code.
    TimeExceeded(Family, u8),
    /// V4 type 3 code 4 "fragmentation needed" (MTU from header bytes
    /// 6..8), V6 type 2 (MTU from header bytes 4..8); the MTU, 0 if unknown.
    PacketTooBig(Family, u32),
    /// V4 type 12, V6 type 4; the code.
    ParameterProblem(Family, u8),
    /// V4 type 4.
    SourceQuench,
    /// V4 type 5; the code.
    Redirect(u8),
}

/// Maps an ICMP type and code (from a received message, or from a socket
/// error queue's `sock_extended_err`) to an [`ErrorKind`]; `None` if the
/// type is not an error type of `family`. `header` is the message's 8-byte
/// ICMP header if available (for the MTU of a packet-too-big), and may be
/// empty or short (MTU 0). From an error queue, a header built as
/// `[type, code, 0, 0]` followed by `ee_info.to_be_bytes()` yields the MTU
/// for both families.
pub fn error_kind(family: Family, icmp_type: u8, code: u8, header: &[u8]) -> Option<ErrorKind> {
    let kind = match (family, icmp_type) {
        (Family::V4, ICMP_DEST_UNREACH) if code == ICMP_FRAG_NEEDED => {
            ErrorKind::PacketTooBig(Family::V4, read_u16(header, 6).map_or(0, u32::from))
        }
        (Family::V4, ICMP_DEST_UNREACH) => ErrorKind::Unreachable(Family::V4, code),
        (Family::V4, ICMP_SOURCE_QUENCH) => ErrorKind::SourceQuench,
        (Family::V4, ICMP_REDIRECT) => ErrorKind::Redirect(code),
        (Family::V4, ICMP_TIME_EXCEEDED) => ErrorKind::TimeExceeded(Family::V4, code),
        (Family::V4, ICMP_PARAMETER_PROBLEM) => ErrorKind::ParameterProblem(Family::V4, code),
        (Family::V6, ICMP6_DST_UNREACH) => ErrorKind::Unreachable(Family::V6, code),
        (Family::V6, ICMP6_PACKET_TOO_BIG) => {
            ErrorKind::PacketTooBig(Family::V6, read_u32(header, 4).unwrap_or(0))
        }
        (Family::V6, ICMP6_TIME_EXCEEDED) => ErrorKind::TimeExceeded(Family::V6, code),
        (Family::V6, ICMP6_PARAM_PROB) => ErrorKind::ParameterProblem(Family::V6, code),
        _ => return None,
    };
    Some(kind)
}

// The text of each code, as iputils ping prints it (ICMPv6 unreachable: RFC 4443's names),
// indexed by the code; a code past its table prints its number (see `coded`).
const UNREACHABLE4: &[&str] = &[
    "Destination Net Unreachable",
    "Destination Host Unreachable",
    "Destination Protocol Unreachable",
    "Destination Port Unreachable",
    "Frag needed and DF set",
    "Source Route Failed",
    "Destination Net Unknown",
    "Destination Host Unknown",
    "Source Host Isolated",
    "Destination Net Prohibited",
    "Destination Host Prohibited",
    "Destination Net Unreachable for Type of Service",
    "Destination Host Unreachable for Type of Service",
    "Communication prohibited by filter",
    "Precedence Violation",
    "Precedence Cutoff",
];
const UNREACHABLE6: &[&str] = &[
    "Destination unreachable: No route",
    "Destination unreachable: Administratively prohibited",
    "Destination unreachable: Beyond scope of source address",
    "Destination unreachable: Address unreachable",
    "Destination unreachable: Port unreachable",
    "Destination unreachable: Source address failed ingress/egress policy",
    "Destination unreachable: Reject route to destination",
];
const TIME_EXCEEDED4: &[&str] = &["Time to live exceeded", "Frag reassembly time exceeded"];
const TIME_EXCEEDED6: &[&str] = &[
    "Time exceeded: Hop limit",
    "Time exceeded: Defragmentation failure",
];
const PARAMETER_PROBLEM4: &[&str] = &[
    "Parameter problem",
    "Parameter problem: missing required option",
    "Parameter problem: bad length",
];
const PARAMETER_PROBLEM6: &[&str] = &[
    "Parameter problem: Wrong header field",
    "Parameter problem: Unknown header",
    "Parameter problem: Unknown option",
];
const REDIRECT: &[&str] = &[
    "Redirect Network",
    "Redirect Host",
    "Redirect Type of Service and Network",
    "Redirect Type of Service and Host",
];

/// `known[code]`, or `unknown` followed by the number when the code is past the table.
fn coded(f: &mut fmt::Formatter<'_>, code: u8, known: &[&str], unknown: &str) -> fmt::Result {
    match known.get(usize::from(code)) {
        Some(text) => f.write_str(text),
        None => write!(f, "{unknown}{code}"),
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::Unreachable(Family::V4, c) => {
                coded(f, c, UNREACHABLE4, "Dest Unreachable, Bad Code: ")
            }
            ErrorKind::Unreachable(Family::V6, c) => {
                coded(f, c, UNREACHABLE6, "Destination unreachable: Unknown code ")
            }
            ErrorKind::PacketTooBig(Family::V4, mtu) => {
                write!(f, "Frag needed and DF set (mtu = {mtu})")
            }
            ErrorKind::PacketTooBig(Family::V6, mtu) => write!(f, "Packet too big: mtu={mtu}"),
            ErrorKind::TimeExceeded(Family::V4, c) => {
                coded(f, c, TIME_EXCEEDED4, "Time exceeded, Bad Code: ")
            }
            ErrorKind::TimeExceeded(Family::V6, c) => {
                coded(f, c, TIME_EXCEEDED6, "Time exceeded: code ")
            }
            ErrorKind::ParameterProblem(Family::V4, c) => {
                coded(f, c, PARAMETER_PROBLEM4, "Parameter problem, Bad Code: ")
            }
            ErrorKind::ParameterProblem(Family::V6, c) => {
                coded(f, c, PARAMETER_PROBLEM6, "Parameter problem: code ")
            }
            ErrorKind::SourceQuench => f.write_str("Source Quench"),
            ErrorKind::Redirect(c) => coded(f, c, REDIRECT, "Redirect, Bad Code: "),
        }
    }
}
