//! Reads from IPv4 ICMP sockets: a raw socket's IPv4 header then ICMPv4, or ICMPv4 alone.
//!
//! It reads a raw socket's IPv4 header (IHL may be over 5, total length checked against the bytes
//! read, fragments refused) then ICMPv4, and a datagram socket's ICMPv4 alone; the checksum is
//! verified; an ICMP error is kept only if it quotes an echo request (the inner header's own IHL,
//! protocol ICMP, first fragment). It must not know about sockets or targets (whose request it was
//! is the caller's question), and must not trust any length it reads.

use std::net::{IpAddr, Ipv4Addr};

use super::echo::echo_request_id;
use super::errors::error_kind;
use super::message::{echo_reply, quoted_error, quoted_payload, Message, ParseError, Quoted};
use super::wire::{read_array, read_u16, read_u8, Family, ICMP_HEADER_LEN, IPPROTO_ICMP};
use crate::checksum::checksum;

pub(super) const ICMP_ECHO_REPLY: u8 = 0;
const IPV4_MIN_HEADER_LEN: usize = 20;

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
    match error_kind(Family::V4, icmp_type, code, header) {
        Some(kind) => quoted_error(kind, buf.get(ICMP_HEADER_LEN..).and_then(parse_quote4)),
        None => Err(ParseError::Ignored),
    }
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
    let (ident, seq) = echo_request_id(Family::V4, quote.get(header_len..)?)?;
    let quoted = quoted_payload(quote, header_len);
    Some((ident, seq, IpAddr::V4(dst), quoted))
}
