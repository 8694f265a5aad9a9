//! The RFC 1071 Internet checksum, and nothing else.
//!
//! This module owns the arithmetic only: the one's-complement sum of big-endian 16-bit words and
//! its complement. It must not know any packet layout, read or write a checksum field, allocate, or
//! panic: callers zero the field, call [`checksum`], and store the result with `to_be_bytes()`; to
//! verify, they check that the checksum of the whole message (field included) is zero.

/// Returns the RFC 1071 Internet checksum of `data`: the one's complement of
/// the one's-complement sum of its big-endian 16-bit words, an odd trailing
/// byte being padded with a zero low byte.
///
/// Write the result into a zeroed checksum field with `to_be_bytes()`; a
/// message whose field holds the right value then gives `checksum(msg) == 0`.
/// The sum runs over 64-bit words with end-around carry (one's-complement
/// addition is associative and byte-order independent at any word width) and
/// is folded to 16 bits once, at the end.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        if let Ok(word) = <[u8; 8]>::try_from(chunk) {
            sum = ones_complement_add(sum, u64::from_be_bytes(word));
        }
    }
    // The remainder (0..=7 bytes) starts on a word boundary, so padding it
    // with zeros to 8 bytes is exactly RFC 1071's zero low byte for an odd
    // length, and adds nothing otherwise.
    let rest = chunks.remainder();
    let mut tail = [0u8; 8];
    if let Some(dst) = tail.get_mut(..rest.len()) {
        dst.copy_from_slice(rest);
    }
    sum = ones_complement_add(sum, u64::from_be_bytes(tail));
    !fold(sum)
}

/// 64-bit one's-complement addition: the carry out of the top bit is added
/// back in at the bottom. Cannot overflow: after a wrap the sum is at most
/// `u64::MAX - 1`.
fn ones_complement_add(a: u64, b: u64) -> u64 {
    let (sum, carry) = a.overflowing_add(b);
    sum + u64::from(carry)
}

/// Folds a 64-bit one's-complement sum into 16 bits (2^16 = 1 modulo
/// 2^16 - 1, so adding the 16-bit pieces preserves the sum).
fn fold(sum: u64) -> u16 {
    let mut sum = (sum & 0xffff_ffff) + (sum >> 32);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop leaves sum <= 0xffff, so the cast is exact.
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::checksum;
    use crate::testrng::Rng;

    /// Byte-pair reference straight from the RFC's description.
    fn naive(data: &[u8]) -> u16 {
        let mut sum: u64 = 0;
        let mut i = 0;
        while i < data.len() {
            let hi = u64::from(data[i]);
            let lo = if i + 1 < data.len() {
                u64::from(data[i + 1])
            } else {
                0
            };
            sum += (hi << 8) | lo;
            i += 2;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// Stores `sum` at `at` and checks that the whole buffer then verifies.
    fn verifies_with_field(mut data: Vec<u8>, at: usize) {
        data[at] = 0;
        data[at + 1] = 0;
        let sum = checksum(&data);
        data[at..at + 2].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&data), 0, "len {} field at {at}", data.len());
    }

    #[test]
    fn rfc1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(!checksum(&data), 0xddf2);
        assert_eq!(checksum(&data), 0x220d);
        assert_eq!(naive(&data), 0x220d);
    }

    #[test]
    fn empty_and_zeros() {
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0]), 0xffff);
        assert_eq!(checksum(&[0; 9]), 0xffff);
        assert_eq!(checksum(&[0; 64]), 0xffff);
    }

    #[test]
    fn odd_lengths() {
        assert_eq!(checksum(&[0x12]), !0x1200);
        assert_eq!(checksum(&[0x12, 0x34, 0x56]), !(0x1234 + 0x5600));
        // Odd byte after a full 8-byte chunk.
        let data = [0, 1, 0, 2, 0, 3, 0, 4, 0x05];
        assert_eq!(checksum(&data), !(1 + 2 + 3 + 4 + 0x0500));
        for len in 1..=17 {
            let data: Vec<u8> = (1..=len).map(|b| b as u8).collect();
            assert_eq!(checksum(&data), naive(&data), "len {len}");
        }
    }

    #[test]
    fn last_odd_byte_high() {
        // 0x8000 + 0x8000 carries out of 16 bits and must wrap around.
        assert_eq!(checksum(&[0x80, 0x00, 0x80]), !0x0001);
        assert_eq!(checksum(&[0xff]), 0x00ff);
        assert_eq!(checksum(&[0xff, 0xff, 0xff]), naive(&[0xff, 0xff, 0xff]));
        for len in [1usize, 3, 7, 9, 15, 17, 63, 65] {
            let mut data = vec![0x5a; len];
            data[len - 1] = 0x80 + len as u8;
            assert_eq!(checksum(&data), naive(&data), "len {len}");
        }
    }

    #[test]
    fn all_ones() {
        // Nonzero data summing to "negative zero" gives 0, not 0xffff.
        for len in [2usize, 4, 8, 16, 1500, 65536] {
            assert_eq!(checksum(&vec![0xff; len]), 0, "len {len}");
        }
        assert_eq!(checksum(&[0xff]), 0x00ff);
        assert_eq!(checksum(&[0xff; 3]), naive(&[0xff; 3]));
        // Large enough for the 64-bit accumulator to wrap many times.
        let big = vec![0xff; 1 << 20];
        assert_eq!(checksum(&big), naive(&big));
        let mut big = big;
        big.push(0xfe);
        assert_eq!(checksum(&big), naive(&big));
    }

    #[test]
    fn verify_is_zero_round_trips() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for len in 2..=300usize {
            let data: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
            // Any even field offset works (the field must be word aligned).
            verifies_with_field(data.clone(), 0);
            verifies_with_field(data.clone(), (len - 2) & !1);
            let at = (rng.next() as usize % (len - 1)) & !1;
            verifies_with_field(data, at);
        }
        // An ICMP echo request header, checksum at offset 2.
        verifies_with_field(vec![8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 0xab], 2);
    }

    #[test]
    fn matches_naive_on_random_inputs() {
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        let mut data = Vec::new();
        for round in 0..20 {
            for len in 0..=300usize {
                data.clear();
                data.extend((0..len).map(|_| (rng.next() >> 56) as u8));
                if round % 4 == 1 {
                    // Bias towards carries.
                    data.iter_mut().for_each(|b| *b |= 0xf0);
                }
                assert_eq!(checksum(&data), naive(&data), "round {round} len {len}");
            }
        }
    }

    #[test]
    fn unaligned_subslices() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for start in 0..16 {
            for end in (start..data.len()).step_by(37) {
                let s = &data[start..end];
                assert_eq!(checksum(s), naive(s));
            }
        }
    }
}
