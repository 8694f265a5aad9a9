//! The echo request pingr sends, and nothing else: its 8-byte header and its payload.
//!
//! It holds the header (encoding, rewriting the sequence number in place with an incremental
//! checksum, reading our own request back from an error queue or an ICMP error's quote) and its
//! payload, below. Pure: no sockets, no clocks; it must not decode replies (that is `ipv4` and
//! `icmpv6`).
//!
//! The payload: what pingr puts after the header, and the check that a reply (or the quote
//! of an ICMP error) belongs to the one target it is credited to.
//!
//! Layout of every request's payload: bytes 0..8 are the run's nonce (the same for every
//! target of a run), bytes 8..16 the target's tag (a keyed hash of the target's index, so
//! a target that sees its own tag learns nothing of another's), then the `-p` pattern
//! repeated or iputils' counting bytes. On ICMP datagram sockets every target shares the
//! socket's identifier and the same sequence numbers, so (source address, identifier,
//! sequence) alone cannot tell a reply for target A from a copy of B's reply sent from A's
//! address; the tag can, on raw and datagram sockets alike.
//!
//! What is checked: a reply counts only if its payload starts with the request's first
//! `min(-s, 16)` bytes (the nonce, then the tag, as far as `-s` holds them): with `-s` 8 to
//! 15 the nonce and the part of the tag that fits, under 8 only that part of the nonce, at
//! 0 nothing beyond address, identifier and sequence. An ICMP error counts only if every
//! byte of those that its quote carries matches (a router may quote no payload at all).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::wire::{put_u16, read_u16, read_u8, Family, Ident, Seq, ICMP_HEADER_LEN};
use crate::checksum::checksum;

/// Clears `out` and writes an echo request (V4 type 8, V6 type 128, code 0,
/// `ident` and `seq` big-endian) followed by `payload`. V4: the checksum is
/// computed. V6: the checksum is left 0 (the kernel computes ICMPv6
/// checksums, which cover a pseudo-header we do not know).
pub fn encode_echo_request(
    family: Family,
    ident: Ident,
    seq: Seq,
    payload: &[u8],
    out: &mut Vec<u8>,
) {
    out.clear();
    out.reserve(ICMP_HEADER_LEN.saturating_add(payload.len()));
    out.extend_from_slice(&[family.echo_request_type(), 0, 0, 0]);
    out.extend_from_slice(&ident.0.to_be_bytes());
    out.extend_from_slice(&seq.0.to_be_bytes());
    out.extend_from_slice(payload);
    if family == Family::V4 {
        let sum = checksum(out);
        put_u16(out, 2, sum);
    }
}

/// Rewrites the sequence number of an already encoded echo request in place.
/// V4: the checksum is updated incrementally (RFC 1624, eqn. 3), which gives
/// exactly the value a full recomputation would. No-op if `packet` is
/// shorter than [`ICMP_HEADER_LEN`].
pub fn set_sequence(family: Family, seq: Seq, packet: &mut [u8]) {
    if packet.len() < ICMP_HEADER_LEN {
        return;
    }
    let (Some(old_sum), Some(old_seq)) = (read_u16(packet, 2), read_u16(packet, 6)) else {
        return;
    };
    put_u16(packet, 6, seq.0);
    if family == Family::V4 {
        put_u16(packet, 2, update_checksum(old_sum, old_seq, seq.0));
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
/// according to `family`, code 0).
pub fn echo_request_id(family: Family, buf: &[u8]) -> Option<(Ident, Seq)> {
    let header = buf.get(..ICMP_HEADER_LEN)?;
    if read_u8(header, 0)? != family.echo_request_type() || read_u8(header, 1)? != 0 {
        return None;
    }
    Some((Ident(read_u16(header, 4)?), Seq(read_u16(header, 6)?)))
}

/// Bytes of the run's nonce at the start of every payload.
pub const NONCE_LEN: usize = 8;
/// Bytes of the per-target tag, right after the nonce.
pub const TAG_LEN: usize = 8;
/// Nonce and tag together: the prefix a reply must echo.
pub const STAMP_LEN: usize = NONCE_LEN + TAG_LEN;

/// The run's payload recipe: its nonce, the key of its target tags, the size and pattern.
#[derive(Debug, Clone)]
pub struct Echo {
    nonce: [u8; NONCE_LEN],
    key: RandomState,
    size: usize,
    pattern: Option<Vec<u8>>,
}

impl Echo {
    /// A fresh tag key (random, per run) for `size` payload bytes after the ICMP header.
    pub fn new(nonce: [u8; NONCE_LEN], size: usize, pattern: Option<Vec<u8>>) -> Echo {
        Echo::with_key(nonce, RandomState::new(), size, pattern)
    }

    /// As [`Echo::new`] with a given key (tests use it to derive the same tags twice).
    pub fn with_key(
        nonce: [u8; NONCE_LEN],
        key: RandomState,
        size: usize,
        pattern: Option<Vec<u8>>,
    ) -> Echo {
        Echo {
            nonce,
            key,
            size,
            pattern,
        }
    }

    /// The tag of target number `target` (its index in the run's target list).
    pub fn tag(&self, target: usize) -> [u8; TAG_LEN] {
        self.key.hash_one(target as u64).to_be_bytes()
    }

    /// Nonce then tag of `target`, cut to the payload size: what a reply must echo.
    fn stamp(&self, target: usize) -> ([u8; STAMP_LEN], usize) {
        let mut s = [0u8; STAMP_LEN];
        s[..NONCE_LEN].copy_from_slice(&self.nonce);
        s[NONCE_LEN..].copy_from_slice(&self.tag(target));
        (s, self.size.min(STAMP_LEN))
    }

    /// The payload of every request to `target`.
    pub fn payload(&self, target: usize) -> Vec<u8> {
        let (stamp, _) = self.stamp(target);
        let pattern = self.pattern.as_deref().filter(|p| !p.is_empty());
        (0..self.size)
            .map(|i| match (stamp.get(i), pattern) {
                (Some(&b), _) => b,
                (None, Some(p)) => p[(i - STAMP_LEN) % p.len()],
                (None, None) => i as u8,
            })
            .collect()
    }

    /// Whether an echo reply's payload is for `target`: it starts with the whole stamp the
    /// request carried (a reply cut before the end of the tag proves nothing).
    pub fn reply_is_for(&self, target: usize, payload: &[u8]) -> bool {
        let (stamp, len) = self.stamp(target);
        payload.get(..len) == stamp.get(..len)
    }

    /// Whether the payload bytes an ICMP error quotes (after the quoted echo header; often
    /// none) agree with `target`'s stamp, as far as they go.
    pub fn quote_is_for(&self, target: usize, quoted: &[u8]) -> bool {
        let (stamp, len) = self.stamp(target);
        let n = quoted.len().min(len);
        quoted.get(..n) == stamp.get(..n)
    }
}
