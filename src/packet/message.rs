//! What the packet decoders return: the decoded message, or why there is none.
//!
//! The decoded [`Message`] (an echo reply, or an ICMP error and what it quotes of our
//! request) and [`ParseError`], with the small builders both decoders (`ipv4`, `icmpv6`)
//! share. Pure; it must not read any header but the echo header it is given.

use std::net::IpAddr;

use super::errors::ErrorKind;
use super::wire::{read_u16, Ident, Seq, ICMP_HEADER_LEN};

/// A decoded ICMP message of interest.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// An echo reply; `payload` is the bytes after the 8-byte header.
    EchoReply {
        ident: Ident,
        seq: Seq,
        payload: &'a [u8],
    },
    /// An ICMP error quoting an ICMP echo request: `ident`, `seq` and `dst`
    /// are read from the quoted request and its IP header; `quoted` is what the
    /// quote holds of the request's payload (often nothing).
    Error {
        kind: ErrorKind,
        ident: Ident,
        seq: Seq,
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
pub fn echo_reply(buf: &[u8]) -> Result<Message<'_>, ParseError> {
    let ident = read_u16(buf, 4).ok_or(ParseError::Truncated)?;
    let seq = read_u16(buf, 6).ok_or(ParseError::Truncated)?;
    let payload = buf.get(ICMP_HEADER_LEN..).ok_or(ParseError::Truncated)?;
    Ok(Message::EchoReply {
        ident: Ident(ident),
        seq: Seq(seq),
        payload,
    })
}

/// What an ICMP error's quoted datagram identifies: the quoted echo
/// request's `(ident, seq)`, its IP destination, and the quoted payload bytes.
pub type Quoted<'a> = (Ident, Seq, IpAddr, &'a [u8]);

/// The error message of `kind` whose quoted datagram decoded to `quoted`.
pub fn quoted_error(
    kind: ErrorKind,
    quoted: Option<Quoted<'_>>,
) -> Result<Message<'_>, ParseError> {
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
pub fn quoted_payload(quote: &[u8], at: usize) -> &[u8] {
    at.checked_add(ICMP_HEADER_LEN)
        .and_then(|p| quote.get(p..))
        .unwrap_or(&[])
}
