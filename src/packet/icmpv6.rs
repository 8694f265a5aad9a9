//! Reads from ICMPv6 sockets, raw or datagram alike: echo replies and the errors quoting ours.
//!
//! Neither kind carries the IPv6 header, and the kernel has verified the checksum. It reads echo
//! replies, and errors whose quoted IPv6 datagram, past at most a bounded number of extension
//! headers, holds an echo request. It must not verify checksums (the pseudo-header is not here) and
//! must not follow an extension-header chain past [`MAX_EXT_HEADERS`] or past the bytes given.

use std::net::{IpAddr, Ipv6Addr};

use super::echo::echo_request_id;
use super::errors::error_kind;
use super::message::{echo_reply, quoted_error, quoted_payload, Message, ParseError, Quoted};
use super::wire::{read_array, read_u16, read_u8, Family, ICMP_HEADER_LEN, IPPROTO_ICMPV6};

pub(super) const ICMP6_ECHO_REPLY: u8 = 129;
const IPV6_HEADER_LEN: usize = 40;

pub(super) const IPV6_HOP_BY_HOP: u8 = 0;
pub(super) const IPV6_ROUTING: u8 = 43;
pub(super) const IPV6_FRAGMENT: u8 = 44;
pub(super) const IPV6_DEST_OPTS: u8 = 60;
/// Extension headers walked in a quoted IPv6 datagram before giving up.
pub(super) const MAX_EXT_HEADERS: usize = 8;

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
    match error_kind(Family::V6, icmp_type, code, header) {
        Some(kind) => quoted_error(kind, buf.get(ICMP_HEADER_LEN..).and_then(parse_quote6)),
        None => Err(ParseError::Ignored),
    }
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
    let (ident, seq) = echo_request_id(Family::V6, quote.get(offset..)?)?;
    Some((ident, seq, IpAddr::V6(dst), quoted_payload(quote, offset)))
}
