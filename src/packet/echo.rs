//! The payload pingr puts in its echo requests, and the check that a reply (or the quote of
//! an ICMP error) belongs to the one target it is credited to. Pure: no sockets, no clocks.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
