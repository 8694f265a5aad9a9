//! Packet builders and the decoding harness shared by the codec's tests (tests only).
//!
//! The deterministic RNG (`crate::testrng`, passed on), echo replies and ICMP errors of both
//! families (any IHL, any extension-header chain), the valid fixtures with what each decodes to,
//! and [`decode`], which checks any accepted buffer field by field against its bytes. Tests only.

use std::net::IpAddr;

use crate::checksum::checksum;
use crate::packet::icmpv6::{
    ICMP6_ECHO_REPLY, IPV6_DEST_OPTS, IPV6_FRAGMENT, IPV6_HOP_BY_HOP, IPV6_ROUTING,
};
use crate::packet::ipv4::ICMP_ECHO_REPLY;
use crate::packet::wire::{IPPROTO_ICMP, IPPROTO_ICMPV6};
use crate::packet::*;
pub(super) use crate::testrng::Rng;

pub(super) const OURS4: [u8; 4] = [192, 0, 2, 10];
pub(super) const TARGET4: [u8; 4] = [198, 51, 100, 7];
pub(super) const OURS6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];
pub(super) const TARGET6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];

pub(super) fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

pub(super) fn be16(buf: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([buf[at], buf[at + 1]])
}

/// An IPv4 header of `ihl` words (options: NOPs then EOL), with a valid
/// header checksum, for a body of `body_len` bytes.
pub(super) fn ipv4_header(
    ihl: u8,
    protocol: u8,
    body_len: usize,
    src: [u8; 4],
    dst: [u8; 4],
) -> Vec<u8> {
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

pub(super) fn fix_icmp_checksum(icmp: &mut [u8]) {
    if icmp.len() >= 4 {
        icmp[2] = 0;
        icmp[3] = 0;
        let sum = checksum(icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    }
}

/// Our request turned into the echo reply a peer would send.
pub(super) fn reply4(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut icmp = Vec::new();
    encode_echo_request(Family::V4, Ident(ident), Seq(seq), data, &mut icmp);
    icmp[0] = ICMP_ECHO_REPLY;
    fix_icmp_checksum(&mut icmp);
    icmp
}

pub(super) fn raw4(ihl: u8, icmp: &[u8]) -> Vec<u8> {
    let mut buf = ipv4_header(ihl, IPPROTO_ICMP, icmp.len(), TARGET4, OURS4);
    buf.extend_from_slice(icmp);
    buf
}

/// An ICMPv4 error quoting our request (inner header of `inner_ihl`
/// words, `quoted` payload bytes after the request header).
pub(super) fn error4(
    kind: (u8, u8),
    rest: [u8; 4],
    inner_ihl: u8,
    ident: u16,
    seq: u16,
    quoted: usize,
) -> Vec<u8> {
    let mut req = Vec::new();
    encode_echo_request(
        Family::V4,
        Ident(ident),
        Seq(seq),
        &payload(quoted),
        &mut req,
    );
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

pub(super) fn reply6(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut icmp = Vec::new();
    encode_echo_request(Family::V6, Ident(ident), Seq(seq), data, &mut icmp);
    icmp[0] = ICMP6_ECHO_REPLY;
    icmp
}

/// One IPv6 extension header of type `kind`; `ext_len` is hdr_ext_len
/// (or, for a fragment header, the fragment offset in 8-byte units).
pub(super) fn ext_header(kind: u8, next: u8, ext_len: u8) -> Vec<u8> {
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
pub(super) fn quote6(exts: &[(u8, u8)], ident: u16, seq: u16, quoted: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, &(kind, ext_len)) in exts.iter().enumerate() {
        let next = exts.get(i + 1).map_or(IPPROTO_ICMPV6, |e| e.0);
        body.extend(ext_header(kind, next, ext_len));
    }
    let mut req = Vec::new();
    encode_echo_request(
        Family::V6,
        Ident(ident),
        Seq(seq),
        &payload(quoted),
        &mut req,
    );
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

pub(super) fn error6(
    kind: (u8, u8),
    rest: [u8; 4],
    exts: &[(u8, u8)],
    ident: u16,
    seq: u16,
) -> Vec<u8> {
    let mut icmp = vec![kind.0, kind.1, 0x5a, 0xa5];
    icmp.extend_from_slice(&rest);
    icmp.extend(quote6(exts, ident, seq, 16));
    icmp
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Decoder {
    Raw4,
    Dgram4,
    Icmp6,
}

pub(super) const EXTS: [(u8, u8); 4] = [
    (IPV6_HOP_BY_HOP, 0),
    (IPV6_DEST_OPTS, 1),
    (IPV6_ROUTING, 2),
    (IPV6_FRAGMENT, 0),
];

/// What a decoded message identifies: (ident, seq, is_error), as on the wire.
pub(super) type Id = (u16, u16, bool);

/// Valid fixtures with what each must decode to.
pub(super) fn fixtures() -> Vec<(Decoder, Vec<u8>, Id)> {
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
pub(super) fn check_icmp(family: Family, buf: &[u8], msg: &Message<'_>) {
    assert!(buf.len() >= ICMP_HEADER_LEN);
    if family == Family::V4 {
        assert_eq!(checksum(buf), 0);
    }
    match *msg {
        Message::EchoReply {
            ident,
            seq,
            payload,
        } => {
            match family {
                Family::V4 => assert_eq!((buf[0], buf[1]), (0, 0)),
                Family::V6 => assert_eq!(buf[0], 129),
            }
            assert_eq!(ident, Ident(be16(buf, 4)));
            assert_eq!(seq, Seq(be16(buf, 6)));
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
            assert_eq!(error_kind(family, buf[0], buf[1], &buf[..8]), Some(kind));
            assert_eq!(quoted.as_ptr_range().end, buf.as_ptr_range().end);
            let q = &buf[8..];
            let at = match family {
                Family::V4 => {
                    assert_eq!(q[0] >> 4, 4);
                    let ihl = usize::from(q[0] & 15) * 4;
                    assert!(ihl >= 20);
                    assert_eq!(q[9], 1);
                    assert_eq!(be16(q, 6) & 0x1fff, 0);
                    assert_eq!(dst, IpAddr::from([q[16], q[17], q[18], q[19]]));
                    ihl
                }
                Family::V6 => {
                    assert_eq!(q[0] >> 4, 6);
                    let d: [u8; 16] = q[24..40].try_into().unwrap();
                    assert_eq!(dst, IpAddr::from(d));
                    (40..q.len().saturating_sub(7))
                        .step_by(8)
                        .find(|&o| {
                            q[o] == 128 && be16(q, o + 4) == ident.0 && be16(q, o + 6) == seq.0
                        })
                        .expect("quoted request")
                }
            };
            assert!(q.len() >= at + 8);
            assert_eq!((q[at], q[at + 1]), (family.echo_request_type(), 0));
            assert_eq!((be16(q, at + 4), be16(q, at + 6)), (ident.0, seq.0));
        }
    }
}

pub(super) fn check_raw4(buf: &[u8], p: &Ipv4Packet<'_>) {
    assert_eq!(buf[0] >> 4, 4);
    let ihl = usize::from(buf[0] & 15) * 4;
    let total = usize::from(be16(buf, 2));
    assert!(ihl >= 20 && ihl <= total && total <= buf.len());
    assert_eq!(buf[9], 1);
    assert_eq!(be16(buf, 6) & 0x3fff, 0);
    assert_eq!(p.ttl, buf[8]);
    assert_eq!(p.src.octets(), buf[12..16]);
    assert_eq!(p.dst.octets(), buf[16..20]);
    check_icmp(Family::V4, &buf[ihl..total], &p.msg);
}

/// Decodes `buf`; checks any Ok for consistency. Returns (ident, seq,
/// is_error) of an Ok.
pub(super) fn decode(dec: Decoder, buf: &[u8]) -> Option<Id> {
    let msg_id = |m: &Message<'_>| match *m {
        Message::EchoReply { ident, seq, .. } => (ident.0, seq.0, false),
        Message::Error { ident, seq, .. } => (ident.0, seq.0, true),
    };
    match dec {
        Decoder::Raw4 => parse_ipv4(buf).ok().map(|p| {
            check_raw4(buf, &p);
            msg_id(&p.msg)
        }),
        Decoder::Dgram4 => parse_icmp4(buf).ok().map(|m| {
            check_icmp(Family::V4, buf, &m);
            msg_id(&m)
        }),
        Decoder::Icmp6 => parse_icmp6(buf).ok().map(|m| {
            check_icmp(Family::V6, buf, &m);
            msg_id(&m)
        }),
    }
}

/// Recomputes the ICMPv4 checksum of a (possibly garbled) buffer, so that
/// fuzzing gets past the checksum check. Never panics.
pub(super) fn refresh_checksum(dec: Decoder, buf: &mut [u8]) {
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
