//! Kernel-side filters for raw ICMP sockets (classic BPF), built in pure code.
//!
//! It builds the identifiers of a run (one contiguous range), and the classic BPF programs
//! (`SO_ATTACH_FILTER`) that let through only the packets that can concern this run: echo replies
//! whose identifier is in the range, and ICMP errors whose quoted echo request carries one. A raw
//! socket otherwise receives a copy of every ICMP packet the host receives, so every other pinger's
//! traffic would wake pingr, cost it CPU and fill its receive buffer (and a full buffer drops our
//! own replies).
//!
//! The filter is an optimization, never the only guard: it accepts a superset of what the
//! packet decoder and the engine credit (the tests check that on fixtures and on mutated and
//! random packets), and every user-space check stays. This module must not touch sockets
//! (`sys.rs` attaches the programs) and must not decide anything about a packet it is given.
//!
//! Offsets: an IPv4 raw socket's program sees the IPv4 header first (its length varies with
//! IHL, which `ldx 4*([0]&0xf)` loads); an ICMPv6 raw socket's program sees the ICMPv6 header
//! first (the kernel never shows the IPv6 header to it). A load past the end of the packet ends
//! a classic BPF program with "drop", which is what a truncated packet deserves: the decoder
//! refuses every packet too short for one of the loads below.

use std::fmt;

use crate::packet::Ident;

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

// linux/filter.h (classic BPF; the same on every architecture).
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const H: u16 = 0x08;
const B: u16 = 0x10;
const ABS: u16 = 0x20;
const IND: u16 = 0x40;
const MSH: u16 = 0xa0;
const ADD: u16 = 0x00;
const AND: u16 = 0x50;
const LSH: u16 = 0x60;
const JEQ: u16 = 0x10;
const JGT: u16 = 0x20;
const JGE: u16 = 0x30;
const K: u16 = 0x00;
const X: u16 = 0x08;
const TAX: u16 = 0x00;

/// What an accepting program returns: keep the whole packet.
const ACCEPT: u32 = 0xffff_ffff;

const IPPROTO_ICMP: u32 = 1;
const IPPROTO_ICMPV6: u32 = 58;
const ICMP_ECHO_REPLY: u32 = 0;
const ICMP_ECHO_REQUEST: u32 = 8;
/// ICMPv4 errors that quote a datagram: unreachable, source quench, redirect, time exceeded,
/// parameter problem (the types the decoder reads, and the socket's ICMP_FILTER passes).
pub const ICMP_ERROR_TYPES: [u8; 5] = [3, 4, 5, 11, 12];
const ICMP6_ECHO_REQUEST: u32 = 128;
const ICMP6_ECHO_REPLY: u32 = 129;
/// ICMPv6 errors: unreachable, packet too big, time exceeded, parameter problem.
pub const ICMP6_ERROR_TYPES: [u8; 4] = [1, 2, 3, 4];

/// The ICMP identifiers of a run's raw-socket requests: `first ..= first + len - 1`, never
/// wrapping past 65535, so the filter needs one comparison whatever the number of threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentRange {
    first: Ident,
    /// 1..=65536.
    len: u32,
}

impl Default for IdentRange {
    /// Every identifier (a filter built from it passes them all).
    fn default() -> Self {
        IdentRange {
            first: Ident(0),
            len: 1 << 16,
        }
    }
}

impl IdentRange {
    /// `count` consecutive identifiers (clamped to 1..=65536) starting at a place chosen by
    /// `seed` (random per run, so two pingr runs rarely share one), such that the range does
    /// not wrap.
    pub fn choose(seed: u64, count: usize) -> IdentRange {
        let len = u32::try_from(count).unwrap_or(u32::MAX).clamp(1, 1 << 16);
        let starts = u64::from((1u32 << 16) - len + 1);
        IdentRange {
            first: Ident((seed % starts) as u16),
            len,
        }
    }

    pub fn first(&self) -> Ident {
        self.first
    }

    /// The identifier `k` places after the first (`k` below [`len`](Self::len): thread k's).
    pub fn nth(&self, k: usize) -> Ident {
        Ident(self.first.0.wrapping_add(k as u16))
    }

    /// How many identifiers (1..=65536).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn last(&self) -> Ident {
        // first + len - 1 <= 65535 by construction.
        Ident((u32::from(self.first.0) + self.len - 1) as u16)
    }
}

impl fmt::Display for IdentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 1 {
            write!(f, "identifier {}", self.first)
        } else {
            write!(f, "identifiers {}-{}", self.first, self.last())
        }
    }
}

// The two programs are tables: a jump's `jt`/`jf` hold the absolute index of its target
// there, and `FIRST`/`LAST` stand for the identifier range's ends; [`build`] makes the
// offsets relative and puts the range in. (No real operand of these programs lies between
// 0xffff and `ACCEPT`.)
const FIRST: u32 = 1 << 16;
const LAST: u32 = (1 << 16) + 1;

const fn op(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A conditional jump on A compared with `k`, to instruction `jt` if true, else `jf`.
const fn jump(cond: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn {
        code: JMP | cond | K,
        jt,
        jf,
        k,
    }
}

/// An ICMPv4 error type, as a jump operand.
const fn e4(i: usize) -> u32 {
    ICMP_ERROR_TYPES[i] as u32
}

const fn e6(i: usize) -> u32 {
    ICMP6_ERROR_TYPES[i] as u32
}

// Where the IPv4 program's blocks start.
const V4_ECHO: u8 = 9;
const V4_ERROR: u8 = 12;
const V4_ACCEPT: u8 = 24;
const V4_DROP: u8 = 25;

/// The program of a raw IPv4 ICMP socket (the packet starts at the IPv4 header). Accepts an
/// echo reply whose identifier is in the range, and an ICMP error (types
/// [`ICMP_ERROR_TYPES`]) quoting an ICMP echo request whose identifier is in the range (the
/// quoted header's own IHL walked too); drops everything else.
const IPV4: [Insn; 26] = [
    op(LDX | B | MSH, 0), // X = outer IPv4 header length
    op(LD | B | IND, 0),  // A = ICMP type
    jump(JEQ, ICMP_ECHO_REPLY, V4_ECHO, 3),
    jump(JEQ, e4(0), V4_ERROR, 4),
    jump(JEQ, e4(1), V4_ERROR, 5),
    jump(JEQ, e4(2), V4_ERROR, 6),
    jump(JEQ, e4(3), V4_ERROR, 7),
    jump(JEQ, e4(4), V4_ERROR, 8),
    op(RET | K, 0),
    // V4_ECHO:
    op(LD | H | IND, 4), // the reply's identifier
    jump(JGE, FIRST, 11, V4_DROP),
    jump(JGT, LAST, V4_DROP, V4_ACCEPT),
    // V4_ERROR:
    op(LD | B | IND, 8 + 9), // the quoted IPv4 header's protocol
    jump(JEQ, IPPROTO_ICMP, 14, V4_DROP),
    op(LD | B | IND, 8), // the quoted version/IHL byte
    op(ALU | AND | K, 0x0f),
    op(ALU | LSH | K, 2),
    op(ALU | ADD | X, 0),
    op(MISC | TAX, 0),   // X = outer header + quoted header lengths
    op(LD | B | IND, 8), // the quoted ICMP type
    jump(JEQ, ICMP_ECHO_REQUEST, 21, V4_DROP),
    op(LD | H | IND, 8 + 4), // the quoted request's identifier
    jump(JGE, FIRST, 23, V4_DROP),
    jump(JGT, LAST, V4_DROP, V4_ACCEPT),
    // V4_ACCEPT, V4_DROP:
    op(RET | K, ACCEPT),
    op(RET | K, 0),
];

const V6_ECHO: u8 = 7;
const V6_ERROR: u8 = 10;
const V6_ACCEPT: u8 = 17;
const V6_DROP: u8 = 18;

/// The program of a raw ICMPv6 socket (the packet starts at the ICMPv6 header; the socket's
/// ICMP6_FILTER already passes only echo replies and [`ICMP6_ERROR_TYPES`]). Accepts an echo
/// reply whose identifier is in the range, and an error quoting an ICMPv6 echo request whose
/// identifier is in the range; an error whose quoted IPv6 header is followed by extension
/// headers is accepted for the decoder to walk (rare: our requests carry none unless
/// fragmented). Drops everything else.
const ICMP6: [Insn; 19] = [
    op(LD | B | ABS, 0), // A = ICMPv6 type
    jump(JEQ, ICMP6_ECHO_REPLY, V6_ECHO, 2),
    jump(JEQ, e6(0), V6_ERROR, 3),
    jump(JEQ, e6(1), V6_ERROR, 4),
    jump(JEQ, e6(2), V6_ERROR, 5),
    jump(JEQ, e6(3), V6_ERROR, 6),
    op(RET | K, 0),
    // V6_ECHO:
    op(LD | H | ABS, 4), // the reply's identifier
    jump(JGE, FIRST, 9, V6_DROP),
    jump(JGT, LAST, V6_DROP, V6_ACCEPT),
    // V6_ERROR:
    op(LD | B | ABS, 8 + 6), // the quoted IPv6 header's next header
    jump(JEQ, IPPROTO_ICMPV6, 12, V6_ACCEPT),
    op(LD | B | ABS, 8 + 40), // the quoted ICMPv6 type
    jump(JEQ, ICMP6_ECHO_REQUEST, 14, V6_DROP),
    op(LD | H | ABS, 8 + 40 + 4), // the quoted request's identifier
    jump(JGE, FIRST, 16, V6_DROP),
    jump(JGT, LAST, V6_DROP, V6_ACCEPT),
    // V6_ACCEPT, V6_DROP:
    op(RET | K, ACCEPT),
    op(RET | K, 0),
];

/// A program table with the range put in and every jump made relative (the tables only jump
/// forward: the tests check it).
fn build(table: &[Insn], idents: IdentRange) -> Vec<Insn> {
    let (first, last) = (u32::from(idents.first().0), u32::from(idents.last().0));
    let mut out = table.to_vec();
    for (i, insn) in out.iter_mut().enumerate() {
        if insn.code & 0x07 == JMP {
            let next = (i + 1) as u8;
            insn.jt = insn.jt.wrapping_sub(next);
            insn.jf = insn.jf.wrapping_sub(next);
            insn.k = match insn.k {
                FIRST => first,
                LAST => last,
                k => k,
            };
        }
    }
    out
}

/// The IPv4 program ([`IPV4`]) for `idents`.
pub fn ipv4_program(idents: IdentRange) -> Vec<Insn> {
    build(&IPV4, idents)
}

/// The ICMPv6 program ([`ICMP6`]) for `idents`.
pub fn icmp6_program(idents: IdentRange) -> Vec<Insn> {
    build(&ICMP6, idents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::checksum;
    use crate::packet::{self, Family, Message, Seq};
    use crate::testrng::Rng;

    /// A classic BPF interpreter for the instructions this module emits, with the kernel's
    /// semantics: a load past the end of the packet ends the program with 0 (drop); any other
    /// instruction is a test failure.
    fn run(prog: &[Insn], pkt: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let load = |at: u32, size: usize| -> Option<u32> {
            let at = usize::try_from(at).ok()?;
            let b = pkt.get(at..at.checked_add(size)?)?;
            Some(b.iter().fold(0u32, |v, &byte| (v << 8) | u32::from(byte)))
        };
        for _ in 0..=prog.len() {
            let i = *prog
                .get(pc)
                .unwrap_or_else(|| panic!("pc {pc} ran off the program"));
            pc += 1;
            let size = match i.code & 0x18 {
                0x00 => 4,
                H => 2,
                _ => 1,
            };
            match i.code & 0x07 {
                LD => {
                    let at = match i.code & 0xe0 {
                        ABS => i.k,
                        IND => x.wrapping_add(i.k),
                        m => panic!("load mode {m:#x}"),
                    };
                    match load(at, size) {
                        Some(v) => a = v,
                        None => return 0,
                    }
                }
                LDX => {
                    assert_eq!(i.code, LDX | B | MSH, "ldx form");
                    match load(i.k, 1) {
                        Some(v) => x = (v & 0x0f) * 4,
                        None => return 0,
                    }
                }
                ALU => {
                    let v = if i.code & X != 0 { x } else { i.k };
                    a = match i.code & 0xf0 {
                        ADD => a.wrapping_add(v),
                        AND => a & v,
                        LSH => a.checked_shl(v).unwrap_or(0),
                        op => panic!("alu op {op:#x}"),
                    };
                }
                JMP => {
                    assert_eq!(i.code & X, 0, "jumps compare with k");
                    let taken = match i.code & 0xf0 {
                        JEQ => a == i.k,
                        JGT => a > i.k,
                        JGE => a >= i.k,
                        op => panic!("jump op {op:#x}"),
                    };
                    pc += usize::from(if taken { i.jt } else { i.jf });
                }
                RET => {
                    assert_eq!(i.code, RET | K, "ret form");
                    return i.k;
                }
                MISC => {
                    assert_eq!(i.code, MISC | TAX, "misc form");
                    x = a;
                }
                c => panic!("class {c:#x}"),
            }
        }
        panic!("the program did not end (a loop?)");
    }

    fn accepts(prog: &[Insn], pkt: &[u8]) -> bool {
        run(prog, pkt) != 0
    }

    /// The kernel's own checks of a classic program (sk_chk_filter): not empty, at most 4096
    /// instructions, every jump inside the program, and it ends with a return.
    fn kernel_would_load(prog: &[Insn]) {
        assert!(!prog.is_empty() && prog.len() <= 4096);
        for (pc, i) in prog.iter().enumerate() {
            if i.code & 0x07 == JMP {
                assert!(
                    pc + 1 + usize::from(i.jt.max(i.jf)) < prog.len(),
                    "jump at {pc}"
                );
            }
        }
        assert_eq!(prog.last().map(|i| i.code), Some(RET | K));
    }

    // ---------------------------------------------------------------- fixtures ---

    fn icmp4(kind: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind, code, 0, 0];
        m.extend_from_slice(&rest);
        m.extend_from_slice(body);
        let sum = checksum(&m);
        m[2..4].copy_from_slice(&sum.to_be_bytes());
        m
    }

    /// An IPv4 header of `ihl` words (options: NOPs), protocol `proto`, around `body`.
    fn ipv4(ihl: u8, proto: u8, src: [u8; 4], dst: [u8; 4], body: &[u8]) -> Vec<u8> {
        let len = usize::from(ihl) * 4;
        let mut h = vec![1u8; len];
        h[..20].fill(0);
        h[0] = 0x40 | ihl;
        h[2..4].copy_from_slice(&((len + body.len()) as u16).to_be_bytes());
        h[8] = 64;
        h[9] = proto;
        h[12..16].copy_from_slice(&src);
        h[16..20].copy_from_slice(&dst);
        let sum = checksum(&h[..len]);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h.extend_from_slice(body);
        h
    }

    const US: [u8; 4] = [127, 0, 0, 1];
    const PEER: [u8; 4] = [127, 0, 0, 2];

    fn request4(ident: u16, seq: u16, payload: usize) -> Vec<u8> {
        let mut r = Vec::new();
        let (ident, seq) = (Ident(ident), Seq(seq));
        packet::encode_echo_request(Family::V4, ident, seq, &vec![0xab; payload], &mut r);
        r
    }

    fn reply4(ihl: u8, ident: u16, seq: u16) -> Vec<u8> {
        let mut r = request4(ident, seq, 56);
        r[0] = 0;
        r[2..4].fill(0);
        let sum = checksum(&r);
        r[2..4].copy_from_slice(&sum.to_be_bytes());
        ipv4(ihl, 1, PEER, US, &r)
    }

    /// An ICMPv4 error of `kind` from a router, quoting our request (`inner_ihl` words,
    /// `payload` bytes of it after the ICMP header).
    fn error4(kind: u8, code: u8, ihl: u8, inner_ihl: u8, ident: u16, payload: usize) -> Vec<u8> {
        let quote = ipv4(inner_ihl, 1, US, PEER, &request4(ident, 9, payload));
        ipv4(
            ihl,
            1,
            [10, 0, 0, 1],
            US,
            &icmp4(kind, code, [0; 4], &quote),
        )
    }

    fn reply6(ident: u16, seq: u16) -> Vec<u8> {
        let mut r = Vec::new();
        packet::encode_echo_request(Family::V6, Ident(ident), Seq(seq), &[0xcd; 56], &mut r);
        r[0] = 129;
        r
    }

    /// An ICMPv6 error quoting our request; `ext` puts a Destination Options header between.
    fn error6(kind: u8, ident: u16, ext: bool) -> Vec<u8> {
        let mut req = Vec::new();
        packet::encode_echo_request(Family::V6, Ident(ident), Seq(3), &[0xcd; 16], &mut req);
        let mut body = Vec::new();
        if ext {
            body.extend_from_slice(&[58, 0, 1, 4, 0, 0, 0, 0]);
        }
        body.extend(req);
        let mut q = vec![0x60, 0, 0, 0];
        q.extend_from_slice(&(body.len() as u16).to_be_bytes());
        q.push(if ext { 60 } else { 58 });
        q.push(64);
        q.extend_from_slice(&[0xfd; 16]);
        q.extend_from_slice(&[0xfe; 16]);
        q.extend(body);
        let mut m = vec![kind, 0, 0x12, 0x34, 0, 0, 5, 0xdc];
        m.extend(q);
        m
    }

    /// What the user-space path would do with a raw IPv4 read: Some(ident) if it decodes to a
    /// message the engine would look up (an echo reply or a quoting error).
    fn decoded4(pkt: &[u8]) -> Option<u16> {
        match packet::parse_ipv4(pkt).ok()?.msg {
            Message::EchoReply { ident, .. } | Message::Error { ident, .. } => Some(ident.0),
        }
    }

    fn decoded6(pkt: &[u8]) -> Option<u16> {
        match packet::parse_icmp6(pkt).ok()? {
            Message::EchoReply { ident, .. } | Message::Error { ident, .. } => Some(ident.0),
        }
    }

    // ------------------------------------------------------------------ ranges ---

    #[test]
    fn ident_ranges_never_wrap() {
        for count in [1usize, 2, 3, 255, 256, 4096, 65_535, 65_536] {
            for seed in [0u64, 1, 65_535, 65_536, u64::MAX, 0x1234_5678_9abc_def0] {
                let r = IdentRange::choose(seed, count);
                assert_eq!(r.len(), count);
                let last = u32::from(r.first().0) + count as u32 - 1;
                assert!(last <= 0xffff, "{r:?}");
                assert_eq!(u32::from(r.last().0), last);
            }
        }
        // The worst case of the old choice (base + slot, wrapping): a range at the very top.
        let top = IdentRange::choose(65_535, 1);
        assert_eq!((top.first(), top.last()), (Ident(65_535), Ident(65_535)));
        assert_eq!(IdentRange::choose(65_534, 2).first(), Ident(65_534));
        assert_eq!(IdentRange::choose(65_535, 2).first(), Ident(0));
        assert_eq!(IdentRange::choose(65_534, 2).nth(1), Ident(65_535));
        // Clamped: no empty range, nothing beyond the 16-bit space.
        assert_eq!(IdentRange::choose(7, 0).len(), 1);
        assert_eq!(IdentRange::choose(7, 1 << 20), IdentRange::default());
        assert_eq!(IdentRange::choose(7, 3).to_string(), "identifiers 7-9");
        assert_eq!(IdentRange::choose(7, 1).to_string(), "identifier 7");
    }

    #[test]
    fn error_types_are_the_ones_the_decoder_reads() {
        for t in 0..=255u8 {
            let v4 = packet::error_kind(Family::V4, t, 0, &[]).is_some();
            let v6 = packet::error_kind(Family::V6, t, 0, &[]).is_some();
            assert_eq!(v4, ICMP_ERROR_TYPES.contains(&t), "ICMP type {t}");
            assert_eq!(v6, ICMP6_ERROR_TYPES.contains(&t), "ICMPv6 type {t}");
        }
    }

    #[test]
    fn programs_are_well_formed_and_small() {
        for r in [
            IdentRange::choose(0, 1),
            IdentRange::choose(99, 256),
            IdentRange::choose(u64::MAX, 4096),
            IdentRange::default(),
        ] {
            for prog in [ipv4_program(r), icmp6_program(r)] {
                kernel_would_load(&prog);
                assert!(prog.len() < 40, "{} instructions", prog.len());
            }
        }
    }

    // ----------------------------------------------------------------- IPv4 ---

    #[test]
    fn ipv4_echo_replies_in_range_only() {
        let r = IdentRange::choose(1000, 4); // 1000..=1003
        let p = ipv4_program(r);
        for ihl in [5, 6, 15] {
            for (ident, want) in [(999, false), (1000, true), (1003, true), (1004, false)] {
                let pkt = reply4(ihl, ident, 1);
                assert_eq!(accepts(&p, &pkt), want, "ihl {ihl} ident {ident}");
                assert_eq!(decoded4(&pkt), Some(ident));
            }
        }
        assert!(!accepts(&p, &reply4(5, 0, 1)));
        assert!(!accepts(&p, &reply4(5, 0xffff, 1)));
        // Our own requests, any other type, a packet cut inside the header: dropped.
        let req = ipv4(5, 1, US, PEER, &request4(1000, 1, 8));
        assert!(!accepts(&p, &req));
        let ts = ipv4(5, 1, PEER, US, &icmp4(14, 0, [0x03, 0xe8, 0, 1], &[0; 12]));
        assert!(!accepts(&p, &ts));
        let reply = reply4(5, 1000, 1);
        for cut in 0..24 {
            assert!(!accepts(&p, &reply[..cut]), "cut at {cut}");
        }
        assert!(accepts(&p, &reply[..26]));
    }

    #[test]
    fn ipv4_errors_quoting_our_requests_only() {
        let r = IdentRange::choose(50_000, 256); // 50000..=50255
        let p = ipv4_program(r);
        for kind in ICMP_ERROR_TYPES {
            for (ihl, inner) in [(5, 5), (5, 15), (15, 5), (6, 7)] {
                for (ident, want) in [(49_999, false), (50_000, true), (50_255, true), (1, false)] {
                    for payload in [0, 56] {
                        let pkt = error4(kind, 1, ihl, inner, ident, payload);
                        assert_eq!(decoded4(&pkt), Some(ident), "decoder, type {kind}");
                        assert_eq!(
                            accepts(&p, &pkt),
                            want,
                            "type {kind} ihl {ihl}/{inner} ident {ident}"
                        );
                    }
                }
            }
        }
        // A quoted datagram that is not ICMP, or an ICMP message that is not an echo request.
        let udp = ipv4(5, 17, US, PEER, &[0x04, 0x00, 0xc3, 0x50, 0, 8, 0, 0]);
        let e = ipv4(5, 1, PEER, US, &icmp4(3, 3, [0; 4], &udp));
        assert!(!accepts(&p, &e));
        let mut quoted_reply = ipv4(5, 1, US, PEER, &request4(50_000, 1, 8));
        quoted_reply[20] = 0;
        let e = ipv4(5, 1, PEER, US, &icmp4(11, 0, [0; 4], &quoted_reply));
        assert!(!accepts(&p, &e));
        // A quote cut before the identifier.
        let e = error4(3, 1, 5, 5, 50_000, 0);
        assert!(!accepts(&p, &e[..20 + 8 + 20 + 5]));
        assert!(accepts(&p, &e[..20 + 8 + 20 + 6]));
    }

    #[test]
    fn whole_range_accepts_every_identifier() {
        let p = ipv4_program(IdentRange::default());
        let p6 = icmp6_program(IdentRange::default());
        for ident in [0, 1, 0x8000, 0xffff] {
            assert!(accepts(&p, &reply4(5, ident, 1)));
            assert!(accepts(&p, &error4(11, 0, 5, 5, ident, 8)));
            assert!(accepts(&p6, &reply6(ident, 1)));
            assert!(accepts(&p6, &error6(1, ident, false)));
        }
    }

    // ----------------------------------------------------------------- IPv6 ---

    #[test]
    fn icmp6_replies_and_errors_in_range_only() {
        let r = IdentRange::choose(7, 2); // 7..=8
        let p = icmp6_program(r);
        for (ident, want) in [(6, false), (7, true), (8, true), (9, false)] {
            assert_eq!(accepts(&p, &reply6(ident, 1)), want, "reply {ident}");
            assert_eq!(decoded6(&reply6(ident, 1)), Some(ident));
            for kind in ICMP6_ERROR_TYPES {
                let e = error6(kind, ident, false);
                assert_eq!(decoded6(&e), Some(ident));
                assert_eq!(accepts(&p, &e), want, "type {kind} ident {ident}");
            }
        }
        // Extension headers in the quote: left to the decoder, whatever the identifier.
        assert!(accepts(&p, &error6(1, 7, true)));
        assert!(accepts(&p, &error6(1, 1000, true)));
        assert_eq!(decoded6(&error6(1, 7, true)), Some(7));
        // Requests (ours or anyone's), neighbour discovery, truncation: dropped.
        let mut req = reply6(7, 1);
        req[0] = 128;
        assert!(!accepts(&p, &req));
        let mut ns = reply6(7, 1);
        ns[0] = 135;
        assert!(!accepts(&p, &ns));
        let e = error6(3, 7, false);
        assert!(!accepts(&p, &e[..53]));
        assert!(accepts(&p, &e[..54]));
        assert!(!accepts(&p, &reply6(7, 1)[..5]));
    }

    // ---------------------------------------- the filter never hides a packet we need ---

    /// Mutations of valid fixtures (one to three random bytes changed, or cut short) and random
    /// packets: whenever the decoder yields an identifier in the range, the filter accepts.
    #[test]
    fn filter_accepts_everything_the_decoder_would_credit() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let r = IdentRange::choose(300, 3); // 300..=302
        let (p4, p6) = (ipv4_program(r), icmp6_program(r));
        let seeds4 = [
            reply4(5, 301, 2),
            reply4(9, 300, 2),
            error4(3, 1, 5, 5, 302, 8),
            error4(11, 0, 6, 15, 300, 0),
            error4(12, 0, 5, 5, 301, 56),
        ];
        let seeds6 = [
            reply6(300, 1),
            error6(1, 301, false),
            error6(2, 302, true),
            error6(4, 300, false),
        ];
        let (mut credited, mut dropped) = (0u32, 0u32);
        for round in 0..60_000 {
            let v6 = round % 2 == 1;
            let mut pkt = if round % 7 == 0 {
                let len = rng.below(120);
                let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                if !v6 && !b.is_empty() {
                    b[0] = 0x45;
                }
                b
            } else if v6 {
                seeds6[rng.below(seeds6.len())].clone()
            } else {
                seeds4[rng.below(seeds4.len())].clone()
            };
            for _ in 0..1 + rng.below(3) {
                if !pkt.is_empty() {
                    let at = rng.below(pkt.len());
                    pkt[at] = rng.next() as u8;
                }
            }
            if rng.below(4) == 0 {
                let keep = rng.below(pkt.len() + 1);
                pkt.truncate(keep);
            }
            // The worst case: a forged packet whose ICMP checksum is right after all.
            let ihl = usize::from(pkt.first().map_or(0, |b| b & 0x0f)) * 4;
            if !v6 && rng.below(2) == 0 && ihl + 4 <= pkt.len() {
                pkt[ihl + 2..ihl + 4].fill(0);
                let sum = checksum(&pkt[ihl..]);
                pkt[ihl + 2..ihl + 4].copy_from_slice(&sum.to_be_bytes());
            }
            let (prog, ident) = if v6 {
                (&p6, decoded6(&pkt))
            } else {
                (&p4, decoded4(&pkt))
            };
            if ident.is_some_and(|i| (r.first().0..=r.last().0).contains(&i)) {
                credited += 1;
                assert!(accepts(prog, &pkt), "dropped a packet we need: {pkt:02x?}");
            } else if !accepts(prog, &pkt) {
                dropped += 1;
            }
        }
        // Both sides of the property were exercised.
        assert!(credited > 5_000 && dropped > 5_000, "{credited} {dropped}");
    }
}
