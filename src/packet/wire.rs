//! The vocabulary of the wire: address family, ICMP identifier and sequence number, byte readers.
//!
//! At the bottom of the codec: the address [`Family`] (the one type for IPv4 or IPv6
//! anywhere in pingr: `-4`/`-6`, sockets, packets), the ICMP echo [`Ident`]ifier and
//! [`Seq`]uence number (distinct types, so one cannot be passed for the other or for an
//! index), the protocol and echo-request numbers, and the bounds-checked big-endian byte
//! readers every offset goes through. A leaf: it imports nothing of the crate, and must not
//! parse whole packets (the other files of `packet` do).

use std::fmt;
use std::net::IpAddr;

/// Length of an ICMP (and ICMPv6) echo header: type, code, checksum,
/// identifier, sequence number.
pub const ICMP_HEADER_LEN: usize = 8;

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_ICMPV6: u8 = 58;
const ICMP_ECHO_REQUEST: u8 = 8;
const ICMP6_ECHO_REQUEST: u8 = 128;

/// An address family: which IP version, ICMP flavour and socket a target, packet or
/// option is about (`-4`/`-6` force one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Its name in notes and diagnoses: `IPv4`, `IPv6`.
    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    /// The ICMP type of an echo request: 8 (ICMP), 128 (ICMPv6).
    pub const fn echo_request_type(self) -> u8 {
        match self {
            Family::V4 => ICMP_ECHO_REQUEST,
            Family::V6 => ICMP6_ECHO_REQUEST,
        }
    }
}

/// An ICMP echo identifier (big-endian on the wire, at bytes 4..6 of the echo header). On
/// raw sockets pingr chooses it; on datagram sockets the kernel does (the socket's "port").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ident(pub u16);

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An ICMP echo sequence number (big-endian on the wire, at bytes 6..8 of the echo header):
/// the low 16 bits of a probe's number, so it wraps, and it has no order (65,535 comes
/// before 0). The probe ring (`engine/probes.rs`) maps it back to the probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Seq(pub u16);

impl Seq {
    /// The sequence number of probe number `n` (1, 2, ...): its low 16 bits, so probe
    /// 65,536 goes out as 0 and 65,537 as 1.
    pub fn of_probe(n: u64) -> Seq {
        Seq(n as u16)
    }

    /// Its place in a ring of `len` slots, a power of two up to 65,536: the same place as
    /// every probe number with this sequence number.
    pub fn place(self, len: usize) -> usize {
        usize::from(self.0) % len.max(1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

pub fn read_u8(buf: &[u8], at: usize) -> Option<u8> {
    buf.get(at).copied()
}

pub fn read_array<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    read_array::<2>(buf, at).map(u16::from_be_bytes)
}

pub fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    read_array::<4>(buf, at).map(u32::from_be_bytes)
}

/// Writes `value` big-endian at `at`; does nothing if it does not fit.
pub fn put_u16(buf: &mut [u8], at: usize, value: u16) {
    if let Some(dst) = at.checked_add(2).and_then(|end| buf.get_mut(at..end)) {
        dst.copy_from_slice(&value.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_wrap_and_keep_their_place() {
        assert_eq!(Seq::of_probe(1), Seq(1));
        assert_eq!(Seq::of_probe(65_535), Seq(65_535));
        assert_eq!(Seq::of_probe(65_536), Seq(0));
        assert_eq!(Seq::of_probe(65_537), Seq(1));
        assert_eq!(Seq::of_probe(u64::MAX), Seq(65_535));
        // A probe number and its sequence number share a place in every ring size.
        for len in [1usize, 2, 64, 1024, 65_536] {
            for n in [1u64, 63, 64, 65_535, 65_536, 65_537, 1 << 40] {
                assert_eq!(Seq::of_probe(n).place(len), (n % len as u64) as usize);
            }
        }
        assert_eq!(Seq(7).to_string(), "7");
        assert_eq!(Ident(0xabcd).to_string(), "43981");
    }

    #[test]
    fn families_of_addresses() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!((Family::of(v4), Family::of(v6)), (Family::V4, Family::V6));
        assert_eq!((Family::V4.name(), Family::V6.name()), ("IPv4", "IPv6"));
        assert_eq!(
            (
                Family::V4.echo_request_type(),
                Family::V6.echo_request_type()
            ),
            (8, 128)
        );
    }

    #[test]
    fn readers_stop_at_the_end() {
        let b = [1, 2, 3, 4, 5];
        assert_eq!(read_u16(&b, 3), Some(0x0405));
        assert_eq!(read_u16(&b, 4), None);
        assert_eq!(read_u32(&b, 1), Some(0x0203_0405));
        assert_eq!(read_u32(&b, usize::MAX), None);
        let mut out = [0u8; 3];
        put_u16(&mut out, 1, 0xbeef);
        put_u16(&mut out, 2, 0xffff);
        assert_eq!(out, [0, 0xbe, 0xef]);
    }
}
