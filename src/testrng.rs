//! A deterministic pseudo-random generator for the unit tests (tests only).
//!
//! xorshift64*, for the unit tests that want many varied inputs: checksums of random
//! buffers, the packet decoders' fuzzing, the kernel filter's agreement with the decoder.
//! Tests only (`#[cfg(test)]` here and in main.rs): nothing in the program may use it, and
//! it must not be used where unpredictability matters.
#![cfg(test)]

/// xorshift64*; the seed must not be 0.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (which must not be 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }

    /// Appends `len` random bytes.
    pub fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
        let end = out.len() + len;
        while out.len() < end {
            let word = self.next().to_le_bytes();
            let take = (end - out.len()).min(8);
            out.extend_from_slice(&word[..take]);
        }
    }
}
