//! Hand-made decoding cases of the packet codec (tests only).
//!
//! Round trips through every IHL, each IPv4 header check, the ICMPv4 and ICMPv6 errors and what
//! their quotes must hold, and the types that are ignored. Tests only.

use std::net::{IpAddr, Ipv4Addr};

use super::fixtures::*;
use crate::packet::icmpv6::{IPV6_DEST_OPTS, IPV6_FRAGMENT, IPV6_HOP_BY_HOP, MAX_EXT_HEADERS};
use crate::packet::*;

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
                        ident: Ident(0x1234),
                        seq: Seq(u16::from(ihl) * 100),
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
    let reply = |ident, seq| Message::EchoReply {
        ident: Ident(ident),
        seq: Seq(seq),
        payload: &data,
    };
    for (ident, seq) in [(0, 0), (1, 65535), (0xffff, 0x8000)] {
        let buf = reply4(ident, seq, &data);
        assert_eq!(parse_icmp4(&buf), Ok(reply(ident, seq)));
        let buf = reply6(ident, seq, &data);
        assert_eq!(parse_icmp6(&buf), Ok(reply(ident, seq)));
    }
    // Empty payloads.
    let empty: &[u8] = &[];
    let expected = Message::EchoReply {
        ident: Ident(5),
        seq: Seq(6),
        payload: empty,
    };
    assert_eq!(parse_icmp4(&reply4(5, 6, &[])), Ok(expected));
    // V6 checksums are not ours to verify.
    let mut buf = reply6(5, 6, &[]);
    buf[2..4].copy_from_slice(&[0x12, 0x34]);
    assert!(parse_icmp6(&buf).is_ok());
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
            ident: Ident(9),
            seq: Seq(10),
            payload: &data,
        }
    );
}

#[test]
fn ipv4_ignored_types() {
    // Our own request seen on a raw socket.
    let mut req = Vec::new();
    encode_echo_request(Family::V4, Ident(1), Seq(2), b"x", &mut req);
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
        ((3u8, 1u8), [0u8; 4], ErrorKind::Unreachable(Family::V4, 1)),
        ((3, 13), [0; 4], ErrorKind::Unreachable(Family::V4, 13)),
        (
            (3, 4),
            [0, 0, 0x05, 0x78],
            ErrorKind::PacketTooBig(Family::V4, 1400),
        ),
        ((4, 0), [0; 4], ErrorKind::SourceQuench),
        ((5, 1), [10, 0, 0, 1], ErrorKind::Redirect(1)),
        ((11, 0), [0; 4], ErrorKind::TimeExceeded(Family::V4, 0)),
        ((11, 1), [0; 4], ErrorKind::TimeExceeded(Family::V4, 1)),
        (
            (12, 0),
            [20, 0, 0, 0],
            ErrorKind::ParameterProblem(Family::V4, 0),
        ),
    ];
    for (tc, rest, kind) in cases {
        for inner_ihl in 5..=15 {
            let icmp = error4(tc, rest, inner_ihl, 0x55aa, 77, 8);
            let data = payload(8);
            let expected = Message::Error {
                kind,
                ident: Ident(0x55aa),
                seq: Seq(77),
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
    check_icmp(Family::V4, &icmp, &msg);
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
            ((1u8, 4u8), [0u8; 4], ErrorKind::Unreachable(Family::V6, 4)),
            (
                (2, 0),
                [0, 0, 0x05, 0x00],
                ErrorKind::PacketTooBig(Family::V6, 1280),
            ),
            (
                (2, 0),
                [0, 1, 0, 0],
                ErrorKind::PacketTooBig(Family::V6, 65536),
            ),
            ((3, 0), [0; 4], ErrorKind::TimeExceeded(Family::V6, 0)),
            (
                (4, 1),
                [0, 0, 0, 6],
                ErrorKind::ParameterProblem(Family::V6, 1),
            ),
        ] {
            let buf = error6(tc, rest, chain, 0x9999, 5);
            let data = payload(16);
            let expected = Message::Error {
                kind,
                ident: Ident(0x9999),
                seq: Seq(5),
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
    encode_echo_request(Family::V6, Ident(1), Seq(2), b"x", &mut req);
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
