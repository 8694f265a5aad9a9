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
    /// Every identifier (a filter built from it checks none).
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

    fn is_everything(&self) -> bool {
        self.len == 1 << 16
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

/// A tiny assembler: jumps name labels, resolved to the 8-bit relative offsets by `finish`.
struct Asm {
    code: Vec<(Insn, Option<(Label, Label)>)>,
    labels: Vec<Option<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Label(usize);

impl Asm {
    fn new() -> Asm {
        Asm {
            code: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    fn here(&mut self, l: Label) {
        if let Some(slot) = self.labels.get_mut(l.0) {
            *slot = Some(self.code.len());
        }
    }

    fn op(&mut self, code: u16, k: u32) {
        let insn = Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        self.code.push((insn, None));
    }

    /// A conditional jump on A compared with `k`; `None` is the next instruction.
    fn jump(&mut self, cond: u16, k: u32, yes: Option<Label>, no: Option<Label>) {
        let next = self.label();
        let insn = Insn {
            code: JMP | cond | K,
            jt: 0,
            jf: 0,
            k,
        };
        self.code
            .push((insn, Some((yes.unwrap_or(next), no.unwrap_or(next)))));
        self.here(next);
    }

    /// Resolves the labels. Every program here is a few dozen instructions, so every offset
    /// fits in 8 bits; an unbound label or a backward or too long jump is a bug (`None`).
    fn finish(self) -> Option<Vec<Insn>> {
        let mut out = Vec::with_capacity(self.code.len());
        for (i, (mut insn, jumps)) in self.code.into_iter().enumerate() {
            if let Some((yes, no)) = jumps {
                let rel = |l: Label| -> Option<u8> {
                    let at = (*self.labels.get(l.0)?)?;
                    u8::try_from(at.checked_sub(i + 1)?).ok()
                };
                insn.jt = rel(yes)?;
                insn.jf = rel(no)?;
            }
            out.push(insn);
        }
        Some(out)
    }
}

/// `A in range ? accept : drop` (nothing to compare when the range is everything).
fn range_check(a: &mut Asm, idents: IdentRange, b: &Branches) {
    if idents.is_everything() {
        a.jump(JEQ, 0, Some(b.accept), Some(b.accept));
        return;
    }
    a.jump(JGE, u32::from(idents.first().0), None, Some(b.drop));
    a.jump(
        JGT,
        u32::from(idents.last().0),
        Some(b.drop),
        Some(b.accept),
    );
}

/// Where a program goes after its first test on the ICMP type.
struct Branches {
    /// An echo reply.
    echo: Label,
    /// An ICMP error that may quote our request.
    error: Label,
    accept: Label,
    drop: Label,
}

/// The start every program shares, with the ICMP type in A: an echo reply (`reply`) goes on
/// to `echo`, which follows at once, one of `errors` to `error`, anything else is dropped.
fn by_type(a: &mut Asm, reply: u32, errors: &[u8]) -> Branches {
    let b = Branches {
        echo: a.label(),
        error: a.label(),
        accept: a.label(),
        drop: a.label(),
    };
    a.jump(JEQ, reply, Some(b.echo), None);
    for &t in errors {
        a.jump(JEQ, u32::from(t), Some(b.error), None);
    }
    a.op(RET | K, 0);
    a.here(b.echo);
    b
}

fn accept_and_drop(a: &mut Asm, b: &Branches) {
    a.here(b.accept);
    a.op(RET | K, ACCEPT);
    a.here(b.drop);
    a.op(RET | K, 0);
}

/// The program of a raw IPv4 ICMP socket (the packet starts at the IPv4 header). Accepts an
/// echo reply whose identifier is in `idents`, and an ICMP error (types
/// [`ICMP_ERROR_TYPES`]) quoting an ICMP echo request whose identifier is in `idents` (the
/// quoted header's own IHL walked too); drops everything else.
pub fn ipv4_program(idents: IdentRange) -> Vec<Insn> {
    let mut a = Asm::new();
    a.op(LDX | B | MSH, 0); // X = outer IPv4 header length
    a.op(LD | B | IND, 0); // A = ICMP type
    let b = by_type(&mut a, ICMP_ECHO_REPLY, &ICMP_ERROR_TYPES);
    a.op(LD | H | IND, 4); // the reply's identifier
    range_check(&mut a, idents, &b);

    a.here(b.error);
    a.op(LD | B | IND, 8 + 9); // the quoted IPv4 header's protocol
    a.jump(JEQ, IPPROTO_ICMP, None, Some(b.drop));
    a.op(LD | B | IND, 8); // the quoted version/IHL byte
    a.op(ALU | AND | K, 0x0f);
    a.op(ALU | LSH | K, 2);
    a.op(ALU | ADD | X, 0);
    a.op(MISC | TAX, 0); // X = outer header + quoted header lengths
    a.op(LD | B | IND, 8); // the quoted ICMP type
    a.jump(JEQ, ICMP_ECHO_REQUEST, None, Some(b.drop));
    a.op(LD | H | IND, 8 + 4); // the quoted request's identifier
    range_check(&mut a, idents, &b);

    accept_and_drop(&mut a, &b);
    a.finish().unwrap_or_default()
}

/// The program of a raw ICMPv6 socket (the packet starts at the ICMPv6 header; the socket's
/// ICMP6_FILTER already passes only echo replies and [`ICMP6_ERROR_TYPES`]). Accepts an echo
/// reply whose identifier is in `idents`, and an error quoting an ICMPv6 echo request whose
/// identifier is in `idents`; an error whose quoted IPv6 header is followed by extension
/// headers is accepted for the decoder to walk (rare: our requests carry none unless
/// fragmented). Drops everything else.
pub fn icmp6_program(idents: IdentRange) -> Vec<Insn> {
    let mut a = Asm::new();
    a.op(LD | B | ABS, 0); // A = ICMPv6 type
    let b = by_type(&mut a, ICMP6_ECHO_REPLY, &ICMP6_ERROR_TYPES);
    a.op(LD | H | ABS, 4); // the reply's identifier
    range_check(&mut a, idents, &b);

    a.here(b.error);
    a.op(LD | B | ABS, 8 + 6); // the quoted IPv6 header's next header
    a.jump(JEQ, IPPROTO_ICMPV6, None, Some(b.accept));
    a.op(LD | B | ABS, 8 + 40); // the quoted ICMPv6 type
    a.jump(JEQ, ICMP6_ECHO_REQUEST, None, Some(b.drop));
    a.op(LD | H | ABS, 8 + 40 + 4); // the quoted request's identifier
    range_check(&mut a, idents, &b);

    accept_and_drop(&mut a, &b);
    a.finish().unwrap_or_default()
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
