//! Tests of the echo request: its header and its payload (tests only).
//!
//! Header encoding, in-place resequencing, reading our own request back; and the payload's nonce,
//! per-target tags and the reply and quote checks. Tests only.

use std::collections::hash_map::RandomState;

use super::fixtures::*;
use crate::checksum::checksum;
use crate::packet::echo::*;
use crate::packet::*;

#[test]
fn encode_v4_layout() {
    let mut out = vec![0xee; 100];
    encode_echo_request(Family::V4, Ident(0x1234), Seq(0xabcd), b"hi", &mut out);
    assert_eq!(out.len(), 10);
    assert_eq!(out[..2], [8, 0]);
    assert_eq!(out[4..], [0x12, 0x34, 0xab, 0xcd, b'h', b'i']);
    assert_eq!(checksum(&out), 0);
    let mut zeroed = out.clone();
    zeroed[2..4].fill(0);
    assert_eq!(out[2..4], checksum(&zeroed).to_be_bytes());
    assert_eq!(
        echo_request_id(Family::V4, &out),
        Some((Ident(0x1234), Seq(0xabcd)))
    );
}

#[test]
fn encode_v6_layout() {
    let mut out = vec![0xee; 3];
    encode_echo_request(Family::V6, Ident(0xfffe), Seq(1), &payload(56), &mut out);
    assert_eq!(out.len(), 64);
    assert_eq!(out[..8], [128, 0, 0, 0, 0xff, 0xfe, 0, 1]);
    assert_eq!(out[8..], payload(56));
    assert_eq!(
        echo_request_id(Family::V6, &out),
        Some((Ident(0xfffe), Seq(1)))
    );
    encode_echo_request(Family::V6, Ident(0), Seq(0), &[], &mut out);
    assert_eq!(out, [128, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn set_sequence_keeps_v4_checksum_valid() {
    for len in [0usize, 1, 2, 56, 57] {
        let data = payload(len);
        let mut packet = Vec::new();
        let mut fresh = Vec::new();
        encode_echo_request(Family::V4, Ident(0xabcd), Seq(12345), &data, &mut packet);
        // Every sequence number, each step from the previous one.
        for seq in (0..=u16::MAX).chain([0, 65535, 1, 0]) {
            set_sequence(Family::V4, Seq(seq), &mut packet);
            encode_echo_request(Family::V4, Ident(0xabcd), Seq(seq), &data, &mut fresh);
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
        encode_echo_request(
            Family::V4,
            Ident(ident),
            Seq(rng.next() as u16),
            &data,
            &mut packet,
        );
        let seq = rng.next() as u16;
        set_sequence(Family::V4, Seq(seq), &mut packet);
        encode_echo_request(Family::V4, Ident(ident), Seq(seq), &data, &mut fresh);
        assert_eq!(packet, fresh);
    }
}

#[test]
fn set_sequence_v6_and_short() {
    let mut packet = Vec::new();
    encode_echo_request(Family::V6, Ident(1), Seq(2), b"abc", &mut packet);
    set_sequence(Family::V6, Seq(0xfedc), &mut packet);
    assert_eq!(packet, [128, 0, 0, 0, 0, 1, 0xfe, 0xdc, b'a', b'b', b'c']);
    let mut short = [8u8, 0, 1, 2, 3, 4, 5];
    set_sequence(Family::V4, Seq(9), &mut short);
    assert_eq!(short, [8, 0, 1, 2, 3, 4, 5]);
    set_sequence(Family::V6, Seq(9), &mut []);
    let mut exact = [8u8, 0, 0, 0, 0, 0, 0, 0];
    fix_icmp_checksum(&mut exact);
    set_sequence(Family::V4, Seq(9), &mut exact);
    assert_eq!(be16(&exact, 6), 9);
    assert_eq!(checksum(&exact), 0);
}

#[test]
fn echo_request_id_checks() {
    let mut req = Vec::new();
    encode_echo_request(Family::V4, Ident(0x0102), Seq(0x0304), b"xyz", &mut req);
    assert_eq!(
        echo_request_id(Family::V4, &req),
        Some((Ident(0x0102), Seq(0x0304)))
    );
    assert_eq!(
        echo_request_id(Family::V4, &req[..8]),
        Some((Ident(0x0102), Seq(0x0304)))
    );
    assert_eq!(echo_request_id(Family::V4, &req[..7]), None);
    assert_eq!(echo_request_id(Family::V6, &req), None);
    assert_eq!(echo_request_id(Family::V4, &[]), None);
    req[1] = 1;
    assert_eq!(echo_request_id(Family::V4, &req), None);
    encode_echo_request(Family::V6, Ident(7), Seq(8), &[], &mut req);
    assert_eq!(echo_request_id(Family::V6, &req), Some((Ident(7), Seq(8))));
    assert_eq!(echo_request_id(Family::V4, &req), None);
    assert_eq!(echo_request_id(Family::V6, &reply6(7, 8, &[])), None);
}

const N: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

fn echo(size: usize, pattern: Option<&[u8]>) -> Echo {
    Echo::new(N, size, pattern.map(<[u8]>::to_vec))
}

#[test]
fn layout_nonce_tag_then_pattern_or_counting_bytes() {
    let e = echo(20, None);
    let p = e.payload(3);
    assert_eq!(p.len(), 20);
    assert_eq!(p[..8], N);
    assert_eq!(p[8..16], e.tag(3));
    assert_eq!(p[16..], [16, 17, 18, 19]);
    let e = echo(21, Some(&[0xab, 0xcd]));
    assert_eq!(e.payload(0)[16..], [0xab, 0xcd, 0xab, 0xcd, 0xab]);
    // An empty pattern counts like no pattern.
    assert_eq!(echo(17, Some(&[])).payload(0)[16], 16);
    assert!(echo(0, None).payload(5).is_empty());
    assert_eq!(echo(5, None).payload(1), [1, 2, 3, 4, 5]);
}

#[test]
fn tags_are_per_target_and_per_key() {
    let key = RandomState::new();
    let a = Echo::with_key(N, key.clone(), 56, None);
    let b = Echo::with_key(N, key, 56, None);
    let other = echo(56, None);
    let mut seen = std::collections::HashSet::new();
    for t in 0..4096 {
        assert_eq!(a.tag(t), b.tag(t), "same key, same tag");
        assert!(seen.insert(a.tag(t)), "tag of {t} repeats");
    }
    assert_ne!((0..64).map(|t| a.tag(t)).collect::<Vec<_>>(), {
        (0..64).map(|t| other.tag(t)).collect::<Vec<_>>()
    });
}

#[test]
fn a_reply_counts_only_for_the_target_whose_tag_it_echoes() {
    let e = echo(56, None);
    let (a, b) = (e.payload(0), e.payload(1));
    assert!(e.reply_is_for(0, &a));
    assert!(e.reply_is_for(1, &b));
    assert!(!e.reply_is_for(0, &b), "B's reply from A's address");
    assert!(!e.reply_is_for(1, &a));
    // Longer or shorter replies count while the stamp is whole.
    let mut long = a.clone();
    long.extend_from_slice(&[0xee; 30]);
    assert!(e.reply_is_for(0, &long));
    assert!(e.reply_is_for(0, &a[..16]));
    for cut in 0..16 {
        assert!(!e.reply_is_for(0, &a[..cut]), "cut to {cut} bytes");
    }
    // Any changed byte of the stamp is refused; the rest is not checked.
    for i in 0..a.len() {
        let mut m = a.clone();
        m[i] ^= 0x80;
        assert_eq!(e.reply_is_for(0, &m), i >= 16, "byte {i} changed");
    }
}

#[test]
fn small_sizes_check_what_fits() {
    for size in 0..=STAMP_LEN {
        let e = echo(size, None);
        let a = e.payload(0);
        let b = e.payload(1);
        assert!(e.reply_is_for(0, &a), "-s {size}");
        // Tags differ from byte 8 on: from -s 9 up, B's payload is refused for A.
        assert_eq!(e.reply_is_for(0, &b), size <= NONCE_LEN, "-s {size}");
        let mut bad = a.clone();
        if let Some(x) = bad.first_mut() {
            *x ^= 1;
            assert!(!e.reply_is_for(0, &bad), "-s {size}, nonce changed");
        }
    }
}

#[test]
fn quotes_are_checked_as_far_as_they_go() {
    let e = echo(56, None);
    let (a, b) = (e.payload(0), e.payload(1));
    assert!(e.quote_is_for(0, &[]), "a quote of the header only");
    for n in 0..=a.len() {
        assert!(e.quote_is_for(0, &a[..n]), "{n} bytes of A's payload");
        assert_eq!(
            e.quote_is_for(0, &b[..n]),
            n <= NONCE_LEN,
            "{n} bytes of B's"
        );
    }
    let mut m = a.clone();
    m[12] ^= 1;
    assert!(!e.quote_is_for(0, &m));
    assert!(!e.quote_is_for(0, &m[..13]));
    assert!(e.quote_is_for(0, &m[..12]));
}
