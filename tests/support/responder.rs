#![allow(unsafe_code)]
//! A deliberately misbehaving ICMP echo responder for pingr's integration tests.
//!
//! It runs inside a test network namespace whose kernel echo replies are off
//! (`net.ipv4.icmp_echo_ignore_all=1`, `net.ipv6.icmp.echo_ignore_all=1`), reads
//! echo requests on raw sockets and answers as `--mode` says. Every packet is
//! built by hand: IPv4 leaves through an `IP_HDRINCL` raw socket (our header, our
//! checksums, any source address); ICMPv6 through a raw ICMPv6 socket with the
//! source in `IPV6_PKTINFO` (the kernel always computes that checksum), or, for a
//! forged checksum or an extension header, through an `IPPROTO_RAW` IPv6 socket
//! with a hand-built IPv6 header. It prints `ready` once its sockets are open and
//! serves until killed or `--exit-after-secs`. It answers only echo requests
//! (also filtered in the kernel with ICMP_FILTER/ICMP6_FILTER) and never sends
//! one, so it cannot answer itself; odd input is logged (`--verbose`) and ignored.
//!
//! `responder --mode MODE [--seed N] [--delay-ms N] [--count N] [--loss PCT]
//! [--forge-src ADDR]... [--only ADDR]... [--ihl N] [--code N] [--quote-bytes N]
//! [--cut N] [--victim ADDR]... [--exit-after-secs N] [--verbose]`
//!
//! Replies and errors come from the pinged address, or from the `--forge-src` of
//! the same family (one per family). `--only` answers only requests sent to those
//! addresses (several responders can share a namespace that way). `--delay-ms`
//! delays every send (from a queue; reading goes on). Modes:
//! normal; delay (500 ms default); late (3000 ms default); drop (seeded, `--loss`
//! percent, 50 default); dup (`--count` copies, 2); flood (`--count` copies, 10);
//! badsum (wrong ICMP checksum; IPv6 too, via `IPPROTO_RAW`, but note the
//! receiving kernel drops bad ICMPv6 checksums before any socket sees them);
//! wrongid (identifier + 1); wrongseq (sequence + 1000); trunchdr (message cut to
//! `--cut` bytes, 4 default; for IPv4 the kernel gives no socket an ICMP message
//! under 8 bytes, so there it acts as a drop); shortpay (half the payload);
//! longpay (payload twice plus 8 bytes 0xee); garbage (`--count` random messages,
//! 3 default: echo replies with the right identifier and random rest, errors
//! quoting random bytes, random types; never an echo request, redirect, ND or
//! MLD); unreach (v4 type 3 code 1, v6 type 1 code 3; `--code`), quoting the
//! request's IP header and whole ICMP message (at most 548/1232 bytes, or
//! `--quote-bytes` in all); unreach-opts (the quoted IPv4 header carries `--ihl`
//! words, 15 default, of NOP options ended by EOL; v6: a Destination Options
//! header in the quote); unreach-cut (quote of `--quote-bytes` bytes, default the
//! inner header + 4); timex (v4 type 11, v6 type 3, code 0); ipopts (reply with
//! IPv4 options up to `--ihl`; v6: with a Destination Options header); reorder
//! (replies held and sent in reversed pairs, a lone one after `--delay-ms`, 1000
//! default); unsolicited (the reply plus `--count` replies with sequence + 20000 +
//! i); othersrc (replies from `--forge-src`, required); errburst (for every request a
//! burst of destination-unreachable errors: one well-formed, then one for each way
//! pingr's quote parser rejects a quote (see `Malformed`), the whole burst repeated
//! `--count` times, 1 default); errmalformed (the same burst without the well-formed
//! error); crossreply (the genuine reply, plus the same reply, with this request's
//! identifier, sequence and payload, sent from every `--victim` address of the family:
//! another target's address). `--victim ADDR` (repeatable) also gives the destination
//! the `dst` malformation writes into the quote.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: responder --mode MODE [--seed N] [--delay-ms N] [--count N] \
[--loss PCT] [--forge-src ADDR]... [--only ADDR]... [--ihl N] [--code N] [--quote-bytes N] \
[--cut N] [--victim ADDR]... [--exit-after-secs N] [--verbose]
modes: normal delay drop dup badsum wrongid wrongseq trunchdr shortpay longpay garbage \
unreach unreach-opts unreach-cut timex ipopts reorder late flood unsolicited othersrc \
errburst errmalformed crossreply";

const MODES: &str = "normal delay drop dup badsum wrongid wrongseq trunchdr shortpay longpay \
garbage unreach unreach-opts unreach-cut timex ipopts reorder late flood unsolicited othersrc \
errburst errmalformed crossreply";

#[derive(Clone, Default)]
struct Config {
    mode: &'static str,
    seed: u64,
    delay: Duration,
    count: usize,
    loss: u64,
    forge_src: Vec<IpAddr>,
    only: Vec<IpAddr>,
    victim: Vec<IpAddr>,
    ihl: usize,
    code: Option<u8>,
    quote_bytes: Option<usize>,
    cut: usize,
    exit_after: Option<Duration>,
    verbose: bool,
}

fn parse_args() -> Result<Config, String> {
    let (seed, ihl, cut, loss) = (1, 15, 4, 50);
    let mut c = Config {
        seed,
        ihl,
        cut,
        loss,
        ..Config::default()
    };
    let (mut delay_ms, mut count) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--verbose" || arg == "-v" {
            c.verbose = true;
            continue;
        }
        if arg == "--help" || arg == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let val = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let bad = |what: &str| format!("bad {what} for {arg}: {val}");
        let num = || val.parse::<u64>().map_err(|_| bad("number"));
        let addr = || val.parse::<IpAddr>().map_err(|_| bad("address"));
        match arg.as_str() {
            "--mode" => {
                let m = MODES.split_whitespace().find(|m| *m == val);
                c.mode = m.ok_or_else(|| format!("unknown mode {val}"))?;
            }
            "--seed" => c.seed = num()?,
            "--delay-ms" => delay_ms = Some(num()?),
            "--count" => count = Some(num()? as usize),
            "--loss" => c.loss = num()?.min(100),
            "--forge-src" => c.forge_src.push(addr()?),
            "--only" => c.only.push(addr()?),
            "--victim" => c.victim.push(addr()?),
            "--ihl" => c.ihl = num()?.clamp(5, 15) as usize,
            "--code" => c.code = Some(num()?.min(255) as u8),
            "--quote-bytes" => c.quote_bytes = Some(num()? as usize),
            "--cut" => c.cut = num()? as usize,
            "--exit-after-secs" => c.exit_after = Some(Duration::from_secs(num()?)),
            _ => return Err(format!("unknown option {arg}")),
        }
    }
    if c.mode.is_empty() {
        return Err("--mode is required".into());
    }
    if c.mode == "othersrc" && c.forge_src.is_empty() {
        return Err("mode othersrc needs --forge-src ADDR".into());
    }
    if c.mode == "crossreply" && c.victim.is_empty() {
        return Err("mode crossreply needs --victim ADDR".into());
    }
    let default_delay = match c.mode {
        "delay" => 500,
        "late" => 3000,
        "reorder" => 1000,
        _ => 0,
    };
    let default_count = match c.mode {
        "flood" => 10,
        "dup" => 2,
        "errburst" | "errmalformed" => 1,
        _ => 3,
    };
    c.delay = Duration::from_millis(delay_ms.unwrap_or(default_delay));
    c.count = count.unwrap_or(default_count).clamp(1, 10_000);
    Ok(c)
}

/// splitmix64: small, seedable, good enough to pick drops and garbage bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Internet checksum (RFC 1071) over `data`, folded and complemented.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A checksum value that is wrong even in ones' complement (0x0000 == 0xffff).
fn corrupt(good: u16) -> u16 {
    good ^ 0x0f0f
}

/// How the ICMP checksum of an outgoing message is set.
#[derive(Clone, Copy, PartialEq)]
enum Sum {
    Good,
    Bad,
    /// Leave the bytes as they are (garbage).
    Raw,
}

/// One packet to send: an ICMP(v6) message plus what the IP layer needs.
#[derive(Clone)]
struct Packet {
    src: IpAddr,
    dst: IpAddr,
    /// Scope id of `dst` (IPv6 link-local) and interface to send on.
    ifindex: u32,
    icmp: Vec<u8>,
    sum: Sum,
    /// IPv4: bytes of IP options (NOPs ended by EOL). IPv6: add a Destination
    /// Options extension header (any non-zero value).
    opts: usize,
}

/// One echo request as received.
struct Request {
    src: IpAddr,
    dst: IpAddr,
    ifindex: u32,
    /// IPv4 only: the IP header as received (with its options).
    ip_header: Vec<u8>,
    hop_limit: u8,
    /// The whole ICMP(v6) message.
    icmp: Vec<u8>,
}

impl Request {
    fn v6(&self) -> bool {
        self.src.is_ipv6()
    }
    fn reply_type(&self) -> u8 {
        if self.v6() {
            129
        } else {
            0
        }
    }
    /// An echo reply with the given identifier, sequence and payload.
    fn echo(&self, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut m = vec![self.reply_type(), 0, 0, 0];
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(payload);
        m
    }
    fn id(&self) -> u16 {
        u16::from_be_bytes([self.icmp[4], self.icmp[5]])
    }
    fn seq(&self) -> u16 {
        u16::from_be_bytes([self.icmp[6], self.icmp[7]])
    }
    fn payload(&self) -> &[u8] {
        &self.icmp[8..]
    }
    /// The invoking packet as it would be quoted in an ICMP error: the IP
    /// header (IPv4 with `opts` option bytes if non-zero; IPv6 with a
    /// Destination Options header if `opts` is non-zero) and the ICMP message.
    fn quote(&self, opts: usize) -> Vec<u8> {
        let mut q = Vec::new();
        if let (IpAddr::V6(s), IpAddr::V6(d)) = (self.src, self.dst) {
            q = ipv6_header(s, d, self.icmp.len(), self.hop_limit, opts > 0);
        } else if opts > 0 {
            let mut h = self.ip_header[..20].to_vec();
            h[0] = 0x40 | ((20 + opts) / 4) as u8;
            let tot = (20 + opts + self.icmp.len()) as u16;
            h[2..4].copy_from_slice(&tot.to_be_bytes());
            h.extend(ip_options(opts));
            h[10] = 0;
            h[11] = 0;
            let c = checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            q = h;
        } else {
            q.extend_from_slice(&self.ip_header);
        }
        q.extend_from_slice(&self.icmp);
        q
    }
}

/// The ways an ICMP error's quote can be malformed, each one pingr's quote parser (or its
/// matching of the quote to a probe) rejects. Some of them the kernel's own parser lets
/// through to an ICMP datagram socket (version, fragment offset, too many IPv6 extension
/// headers, destination, sequence, payload): those reach the socket's error queue.
#[derive(Clone, Copy, Debug)]
enum Malformed {
    /// The quoted IP header says IPv6 inside ICMPv4, IPv4 inside ICMPv6.
    Version,
    /// IPv4: header length 4 words (under the minimum). IPv6: next header UDP.
    HeaderLen,
    /// IPv4: protocol UDP. IPv6: nine Destination Options headers (more than pingr walks).
    Protocol,
    /// IPv4: header length 15 words on a 5-word header. IPv6: a Destination Options header
    /// claiming 2048 bytes. Either way the ICMP header would lie past the quote's end.
    PastEnd,
    /// A non-first fragment (IPv4 offset 8 bytes; IPv6 a fragment header at offset 8).
    Fragment,
    /// Cut 4 bytes into the quoted ICMP header (before identifier and sequence).
    CutIcmp,
    /// Cut inside the quoted IP header.
    CutIp,
    /// Nothing quoted at all.
    Empty,
    /// The quoted message is an echo reply, not a request.
    Type,
    /// The quoted echo request has code 1.
    Code,
    /// The quoted payload's bytes 8..16 (pingr's per-target tag) changed.
    Payload,
    /// The quoted destination is `--victim` (another target), payload still this one's.
    Dst,
    /// The quoted sequence number + 1000 (never sent).
    Seq,
}

impl Malformed {
    const ALL: [Malformed; 13] = [
        Malformed::Version,
        Malformed::HeaderLen,
        Malformed::Protocol,
        Malformed::PastEnd,
        Malformed::Fragment,
        Malformed::CutIcmp,
        Malformed::CutIp,
        Malformed::Empty,
        Malformed::Type,
        Malformed::Code,
        Malformed::Payload,
        Malformed::Dst,
        Malformed::Seq,
    ];

    fn name(self) -> String {
        format!("{self:?}").to_lowercase()
    }

    /// The quote of `req` malformed this way (None: not applicable, e.g. no victim).
    fn apply(self, req: &Request, victim: Option<IpAddr>) -> Option<Vec<u8>> {
        let v6 = req.v6();
        let mut q = req.quote(0);
        let h = if v6 { 40 } else { req.ip_header.len() };
        let max = if v6 { 1232 } else { 548 };
        q.truncate(max);
        match self {
            Malformed::Version => q[0] = (q[0] & 0x0f) | if v6 { 0x40 } else { 0x60 },
            Malformed::HeaderLen if v6 => q[6] = 17,
            Malformed::HeaderLen => q[0] = 0x44,
            Malformed::Protocol if v6 => {
                // Nine 8-byte Destination Options headers between the IPv6 header and ICMPv6.
                let mut ext = Vec::new();
                for i in 0..9 {
                    ext.extend_from_slice(&[if i == 8 { 58 } else { 60 }, 0, 1, 4, 0, 0, 0, 0]);
                }
                q[6] = 60;
                let plen = u16::from_be_bytes([q[4], q[5]]) + ext.len() as u16;
                q[4..6].copy_from_slice(&plen.to_be_bytes());
                q.splice(40..40, ext);
                q.truncate(max);
            }
            Malformed::Protocol => q[9] = 17,
            Malformed::PastEnd if v6 => {
                q[6] = 60;
                q.splice(40..40, [58u8, 255, 1, 4, 0, 0, 0, 0]);
                q.truncate(max);
            }
            Malformed::PastEnd => q[0] = 0x4f,
            Malformed::Fragment if v6 => {
                // A fragment header, offset 8 bytes, more fragments: ICMPv6 is not here.
                let frag = [58u8, 0, 0, 8 | 1, 0, 0, 0, 1];
                q[6] = 44;
                q.splice(40..40, frag);
                q.truncate(max);
            }
            Malformed::Fragment => q[7] = 1,
            Malformed::CutIcmp => q.truncate(h + 4),
            Malformed::CutIp => q.truncate(h / 2),
            Malformed::Empty => q.clear(),
            Malformed::Type => q[h] = if v6 { 129 } else { 0 },
            Malformed::Code => q[h + 1] = 1,
            Malformed::Payload => {
                for b in q.iter_mut().skip(h + 16).take(8) {
                    *b ^= 0x5a;
                }
            }
            Malformed::Dst => match victim? {
                IpAddr::V4(a) if !v6 => q[16..20].copy_from_slice(&a.octets()),
                IpAddr::V6(a) if v6 => q[24..40].copy_from_slice(&a.octets()),
                _ => return None,
            },
            Malformed::Seq => {
                let s = u16::from_be_bytes([q[h + 6], q[h + 7]]).wrapping_add(1000);
                q[h + 6..h + 8].copy_from_slice(&s.to_be_bytes());
            }
        }
        Some(q)
    }
}

/// `n` bytes of IPv4 options: NOPs ended by one EOL (valid, so the kernel keeps the packet).
fn ip_options(n: usize) -> Vec<u8> {
    let mut o = vec![1u8; n];
    if let Some(last) = o.last_mut() {
        *last = 0;
    }
    o
}

/// `p`'s ICMP message with its checksum set as `p.sum` asks; `pseudo` is the
/// IPv6 pseudo-header (empty for IPv4).
fn icmp_with_sum(p: &Packet, pseudo: &[u8]) -> Vec<u8> {
    let mut icmp = p.icmp.clone();
    if icmp.len() >= 4 && p.sum != Sum::Raw {
        icmp[2] = 0;
        icmp[3] = 0;
        let c = checksum(&[pseudo, &icmp[..]].concat());
        let c = if p.sum == Sum::Bad { corrupt(c) } else { c };
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
    }
    icmp
}

/// An IPv6 header for an ICMPv6 payload of `len` bytes, optionally followed by
/// an 8-byte Destination Options header (next header ICMPv6, one PadN option).
fn ipv6_header(src: Ipv6Addr, dst: Ipv6Addr, len: usize, hops: u8, ext: bool) -> Vec<u8> {
    let plen = (len + if ext { 8 } else { 0 }) as u16;
    let mut b = vec![0x60, 0, 0, 0];
    b.extend_from_slice(&plen.to_be_bytes());
    b.extend_from_slice(&[if ext { 60 } else { 58 }, hops]);
    b.extend_from_slice(&src.octets());
    b.extend_from_slice(&dst.octets());
    if ext {
        b.extend_from_slice(&[58, 0, 1, 4, 0, 0, 0, 0]);
    }
    b
}

/// Build the IPv4 datagram for `p` (v4 addresses only).
fn build_v4(p: &Packet, src: Ipv4Addr, dst: Ipv4Addr, ip_id: u16) -> Vec<u8> {
    let opts = p.opts.min(40) & !3;
    let hlen = 20 + opts;
    let icmp = icmp_with_sum(p, &[]);
    let tot = (hlen + icmp.len()) as u16;
    let mut b = vec![0x40 | (hlen / 4) as u8, 0];
    b.extend_from_slice(&tot.to_be_bytes());
    b.extend_from_slice(&ip_id.to_be_bytes());
    b.extend_from_slice(&[0, 0, 64, 1, 0, 0]);
    b.extend_from_slice(&src.octets());
    b.extend_from_slice(&dst.octets());
    b.extend(ip_options(opts));
    let c = checksum(&b);
    b[10..12].copy_from_slice(&c.to_be_bytes());
    b.extend_from_slice(&icmp);
    b
}

/// Build a whole IPv6 packet for `p` (used with the `IPPROTO_RAW` socket when
/// the checksum must be ours or an extension header is wanted).
fn build_v6(p: &Packet, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let mut pseudo = [&src.octets()[..], &dst.octets()[..]].concat();
    pseudo.extend_from_slice(&(p.icmp.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 58]);
    let icmp = icmp_with_sum(p, &pseudo);
    let mut b = ipv6_header(src, dst, icmp.len(), 64, p.opts > 0);
    b.extend_from_slice(&icmp);
    b
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn set_opt<T>(fd: i32, level: i32, name: i32, val: &T) -> Result<(), String> {
    let len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `val` is a live reference for the call and `len` is its exact size.
    let r = unsafe { libc::setsockopt(fd, level, name, (val as *const T).cast(), len) };
    if r < 0 {
        Err(os_err("setsockopt"))
    } else {
        Ok(())
    }
}

fn raw_socket(family: i32, proto: i32) -> Result<i32, String> {
    // SAFETY: plain socket(2) call with constant arguments; the fd is checked.
    let fd = unsafe { libc::socket(family, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto) };
    if fd < 0 {
        Err(os_err(&format!("socket(family {family}, proto {proto})")))
    } else {
        Ok(fd)
    }
}

struct Sockets {
    /// Raw ICMP socket with IP_HDRINCL: receives echo requests, sends our datagrams.
    v4: Option<i32>,
    /// Raw ICMPv6 socket: receives echo requests, sends with kernel checksums.
    v6: Option<i32>,
    /// IPPROTO_RAW IPv6 socket (header included): forged checksums, ext headers.
    v6raw: Option<i32>,
}

fn open_sockets(log: &dyn Fn(&str)) -> Sockets {
    let v4 = raw_socket(libc::AF_INET, libc::IPPROTO_ICMP).and_then(|fd| {
        set_opt(fd, libc::IPPROTO_IP, libc::IP_HDRINCL, &1i32)?;
        // ICMP_FILTER (SOL_RAW, 1): a set bit drops that type; keep only echo requests.
        if let Err(e) = set_opt(fd, libc::SOL_RAW, 1, &!(1u32 << 8)) {
            log(&format!("ICMP_FILTER (ignored): {e}"));
        }
        Ok(fd)
    });
    let v6 = raw_socket(libc::AF_INET6, libc::IPPROTO_ICMPV6).and_then(|fd| {
        set_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, &1i32)?;
        set_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, &1i32)?;
        // Allows --forge-src addresses that are not configured locally.
        if set_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_FREEBIND, &1i32).is_err() {
            log("IPV6_FREEBIND not available (ignored)");
        }
        // ICMP6_FILTER (IPPROTO_ICMPV6, 1): a set bit blocks that type; pass only 128.
        let mut filter = [u32::MAX; 8];
        filter[128 / 32] &= !(1u32 << (128 % 32));
        if let Err(e) = set_opt(fd, libc::IPPROTO_ICMPV6, 1, &filter) {
            log(&format!("ICMP6_FILTER (ignored): {e}"));
        }
        Ok(fd)
    });
    let v6raw = raw_socket(libc::AF_INET6, libc::IPPROTO_RAW);
    let keep = |r: Result<i32, String>| r.map_err(|e| log(&e)).ok();
    Sockets {
        v4: keep(v4),
        v6: keep(v6),
        v6raw: keep(v6raw),
    }
}

fn sockaddr_v4(a: Ipv4Addr) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.octets()),
        },
        sin_zero: [0; 8],
    }
}

fn sockaddr_v6(a: Ipv6Addr, scope: u32) -> libc::sockaddr_in6 {
    libc::sockaddr_in6 {
        sin6_family: libc::AF_INET6 as libc::sa_family_t,
        sin6_port: 0,
        sin6_flowinfo: 0,
        sin6_addr: libc::in6_addr {
            s6_addr: a.octets(),
        },
        sin6_scope_id: scope,
    }
}

/// sendto(2) of `pkt` to the socket address `sa` (a sockaddr_in or sockaddr_in6).
fn send_to<T>(fd: i32, pkt: &[u8], sa: &T) -> Result<(), String> {
    let len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `pkt` and `sa` are live for the call; the lengths are theirs.
    let n = unsafe {
        libc::sendto(
            fd,
            pkt.as_ptr().cast(),
            pkt.len(),
            0,
            (sa as *const T).cast(),
            len,
        )
    };
    if n < 0 {
        Err(os_err("sendto"))
    } else {
        Ok(())
    }
}

/// Receive one IPv4 echo request, if any is waiting (Ok(None): nothing or not one).
fn recv_v4(fd: i32, buf: &mut [u8]) -> Option<Result<Request, String>> {
    // SAFETY: `buf` is valid for writes of buf.len() bytes; no address is asked for.
    let n = unsafe {
        libc::recv(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
        )
    };
    if n < 0 {
        return None;
    }
    let n = (n as usize).min(buf.len());
    let b = &buf[..n];
    if n < 20 || b[0] >> 4 != 4 || b[9] != 1 {
        return Some(Err(format!("ignored non-ICMPv4 datagram of {n} bytes")));
    }
    let hlen = usize::from(b[0] & 0x0f) * 4;
    let tot = usize::from(u16::from_be_bytes([b[2], b[3]]));
    let end = if tot >= hlen && tot <= n { tot } else { n };
    if hlen < 20 || hlen > end {
        return Some(Err(format!(
            "ignored IPv4 datagram with bad IHL ({hlen} of {n} bytes)"
        )));
    }
    let src = Ipv4Addr::new(b[12], b[13], b[14], b[15]);
    let dst = Ipv4Addr::new(b[16], b[17], b[18], b[19]);
    Some(Ok(Request {
        src: src.into(),
        dst: dst.into(),
        ifindex: 0,
        ip_header: b[..hlen].to_vec(),
        hop_limit: b[8],
        icmp: b[hlen..end].to_vec(),
    }))
}

/// A msghdr naming `sa`, with the one data buffer `iov` and the control buffer `cbuf`
/// (which must all outlive every use of the header).
fn msghdr_v6(sa: &mut libc::sockaddr_in6, iov: &mut libc::iovec, cbuf: &mut [u64]) -> libc::msghdr {
    // SAFETY: msghdr is plain old data; all-zero is a valid value that we fill in below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (sa as *mut libc::sockaddr_in6).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(cbuf) as _;
    msg
}

/// Receive one ICMPv6 message, with its destination and hop limit from ancillary data.
fn recv_v6(fd: i32, buf: &mut [u8]) -> Option<Result<Request, String>> {
    let mut from = sockaddr_v6(Ipv6Addr::UNSPECIFIED, 0);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut cbuf = [0u64; 32];
    let mut msg = msghdr_v6(&mut from, &mut iov, &mut cbuf);
    // SAFETY: every pointer in `msg` points to a live buffer of the stated length.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    let n = (n as usize).min(buf.len());
    let (mut dst, mut ifindex, mut hop_limit) = (None, from.sin6_scope_id, 64u8);
    // SAFETY: the CMSG_* helpers walk the control buffer the kernel just filled,
    // bounded by msg_controllen; each payload is read unaligned after checking its
    // level and type, which fix its layout.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let data = libc::CMSG_DATA(c);
            if (*c).cmsg_level == libc::IPPROTO_IPV6 && (*c).cmsg_type == libc::IPV6_PKTINFO {
                let pi: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                dst = Some(Ipv6Addr::from(pi.ipi6_addr.s6_addr));
                ifindex = pi.ipi6_ifindex as u32;
            } else if (*c).cmsg_level == libc::IPPROTO_IPV6 && (*c).cmsg_type == libc::IPV6_HOPLIMIT
            {
                let h: i32 = std::ptr::read_unaligned(data.cast());
                hop_limit = h.clamp(0, 255) as u8;
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    let Some(dst) = dst else {
        return Some(Err("ignored ICMPv6 message without IPV6_PKTINFO".into()));
    };
    Some(Ok(Request {
        src: Ipv6Addr::from(from.sin6_addr.s6_addr).into(),
        dst: dst.into(),
        ifindex,
        ip_header: Vec::new(),
        hop_limit,
        icmp: buf[..n].to_vec(),
    }))
}

struct Responder {
    cfg: Config,
    rng: Rng,
    socks: Sockets,
    /// Scheduled sends, in no particular order (there are never many).
    queue: Vec<(Instant, Packet)>,
    /// reorder: the reply held back per family (index 0 = IPv4, 1 = IPv6).
    held: [Option<(Instant, Packet)>; 2],
    /// IPv4 identification of the next datagram (a counter, so --seed alone fixes the rest).
    ip_id: u16,
}

impl Responder {
    fn log(&self, s: &str) {
        if self.cfg.verbose {
            eprintln!("responder: {s}");
        }
    }

    fn send_now(&mut self, p: &Packet) {
        let r = match (p.src, p.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => self.send_v4(p, s, d),
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                if p.sum == Sum::Good && p.opts == 0 && p.icmp.len() >= 4 {
                    self.send_v6_icmp(p, s, d)
                } else {
                    self.send_v6_raw(p, s, d)
                }
            }
            _ => Err("address families differ".into()),
        };
        let kind = p.icmp.first().copied().unwrap_or(0);
        let what = format!("type {kind} {} bytes {} -> {}", p.icmp.len(), p.src, p.dst);
        match r {
            Ok(()) => self.log(&format!("sent {what}")),
            Err(e) => self.log(&format!("send {what} failed: {e}")),
        }
    }

    fn send_v4(&mut self, p: &Packet, s: Ipv4Addr, d: Ipv4Addr) -> Result<(), String> {
        let fd = self.socks.v4.ok_or("no IPv4 socket")?;
        self.ip_id = self.ip_id.wrapping_add(1);
        send_to(fd, &build_v4(p, s, d, self.ip_id), &sockaddr_v4(d))
    }

    fn send_v6_raw(&mut self, p: &Packet, s: Ipv6Addr, d: Ipv6Addr) -> Result<(), String> {
        let fd = self.socks.v6raw.ok_or("no IPPROTO_RAW IPv6 socket")?;
        send_to(fd, &build_v6(p, s, d), &sockaddr_v6(d, p.ifindex))
    }

    /// Send through the ICMPv6 raw socket; the source address goes in IPV6_PKTINFO.
    fn send_v6_icmp(&mut self, p: &Packet, s: Ipv6Addr, d: Ipv6Addr) -> Result<(), String> {
        let fd = self.socks.v6.ok_or("no ICMPv6 socket")?;
        let mut sa = sockaddr_v6(d, p.ifindex);
        let mut icmp = p.icmp.clone();
        let mut iov = libc::iovec {
            iov_base: icmp.as_mut_ptr().cast(),
            iov_len: icmp.len(),
        };
        let mut cbuf = [0u64; 8];
        let mut msg = msghdr_v6(&mut sa, &mut iov, &mut cbuf);
        let pi = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: s.octets(),
            },
            ipi6_ifindex: p.ifindex as _,
        };
        // SAFETY: CMSG_SPACE/CMSG_LEN are pure size computations; the control buffer
        // (64 bytes, 8-aligned) is larger than CMSG_SPACE(sizeof in6_pktinfo) = 40, so
        // the header and payload written through CMSG_FIRSTHDR/CMSG_DATA are in bounds;
        // sendmsg only reads buffers that live until it returns.
        let n = unsafe {
            let pl = std::mem::size_of::<libc::in6_pktinfo>() as u32;
            msg.msg_controllen = libc::CMSG_SPACE(pl) as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::IPPROTO_IPV6;
            (*c).cmsg_type = libc::IPV6_PKTINFO;
            (*c).cmsg_len = libc::CMSG_LEN(pl) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), pi);
            libc::sendmsg(fd, &msg, 0)
        };
        if n < 0 {
            Err(os_err("sendmsg"))
        } else {
            Ok(())
        }
    }

    /// Queue `p` for sending after the configured delay (or send it now).
    fn emit(&mut self, p: Packet) {
        if self.cfg.delay.is_zero() || self.cfg.mode == "reorder" {
            self.send_now(&p);
        } else {
            self.queue.push((Instant::now() + self.cfg.delay, p));
        }
    }

    fn handle(&mut self, req: Request) {
        let v6 = req.v6();
        let cfg = self.cfg.clone();
        let want = if v6 { 128 } else { 8 };
        if req.icmp.len() < 8 || req.icmp[0] != want {
            return;
        }
        if !v6 && checksum(&req.icmp) != 0 {
            self.log(&format!(
                "ignored echo request with bad checksum from {}",
                req.src
            ));
            return;
        }
        if !cfg.only.is_empty() && !cfg.only.contains(&req.dst) {
            return;
        }
        let mode = cfg.mode;
        let forged = cfg.forge_src.iter().find(|a| a.is_ipv6() == v6);
        let from = forged.copied().unwrap_or(req.dst);
        let (id, seq) = (req.id(), req.seq());
        self.log(&format!(
            "echo request {} -> {} id {id} seq {seq}",
            req.src, req.dst
        ));
        let pkt = |icmp: Vec<u8>| Packet {
            src: from,
            dst: req.src,
            ifindex: req.ifindex,
            icmp,
            sum: Sum::Good,
            opts: 0,
        };
        let normal = pkt(req.echo(id, seq, req.payload()));
        let max_quote = if v6 { 1232 } else { 548 };
        let error = |kind: u8, code: u8, opts: usize, quote_bytes: Option<usize>| {
            let mut q = req.quote(opts);
            q.truncate(quote_bytes.unwrap_or(max_quote).min(max_quote));
            let mut m = vec![kind, code, 0, 0, 0, 0, 0, 0];
            m.extend(q);
            pkt(m)
        };
        match mode {
            "drop" => {
                if self.rng.below(100) < cfg.loss {
                    self.log("dropped");
                } else {
                    self.emit(normal);
                }
            }
            "dup" | "flood" => {
                for _ in 0..cfg.count {
                    self.emit(normal.clone());
                }
            }
            "badsum" => self.emit(Packet {
                sum: Sum::Bad,
                ..normal
            }),
            "wrongid" => self.emit(pkt(req.echo(id.wrapping_add(1), seq, req.payload()))),
            "wrongseq" => self.emit(pkt(req.echo(id, seq.wrapping_add(1000), req.payload()))),
            "trunchdr" => {
                let mut m = normal.icmp.clone();
                m.truncate(cfg.cut);
                self.emit(pkt(m));
            }
            "shortpay" => {
                let half = req.payload().len() / 2;
                self.emit(pkt(req.echo(id, seq, &req.payload()[..half])));
            }
            "longpay" => {
                let mut p = req.payload().to_vec();
                p.extend_from_slice(req.payload());
                p.extend_from_slice(&[0xee; 8]);
                self.emit(pkt(req.echo(id, seq, &p)));
            }
            "garbage" => {
                for _ in 0..cfg.count {
                    let g = self.garbage(&req);
                    self.emit(Packet {
                        sum: g.1,
                        ..pkt(g.0)
                    });
                }
            }
            "unreach" | "unreach-opts" | "unreach-cut" => {
                let (kind, def_code) = if v6 { (1, 3) } else { (3, 1) };
                let opts = if mode == "unreach-opts" {
                    (cfg.ihl - 5) * 4
                } else {
                    0
                };
                let opts = if v6 && opts > 0 { 8 } else { opts };
                let cut = if mode == "unreach-cut" {
                    Some(
                        cfg.quote_bytes
                            .unwrap_or(if v6 { 44 } else { req.ip_header.len() + 4 }),
                    )
                } else {
                    cfg.quote_bytes
                };
                let e = error(kind, cfg.code.unwrap_or(def_code), opts, cut);
                self.emit(e);
            }
            "timex" => {
                let kind = if v6 { 3 } else { 11 };
                let e = error(kind, cfg.code.unwrap_or(0), 0, cfg.quote_bytes);
                self.emit(e);
            }
            "ipopts" => {
                let opts = if v6 { 8 } else { (cfg.ihl - 5) * 4 };
                self.emit(Packet { opts, ..normal });
            }
            "reorder" => {
                let slot = usize::from(v6);
                match self.held[slot].take() {
                    Some((_, older)) => {
                        self.send_now(&normal);
                        self.send_now(&older);
                    }
                    None => self.held[slot] = Some((Instant::now() + cfg.delay, normal)),
                }
            }
            "unsolicited" => {
                let count = cfg.count;
                self.emit(normal);
                for i in 0..count {
                    let s = seq.wrapping_add(20000 + i as u16);
                    self.emit(pkt(req.echo(id, s, req.payload())));
                }
            }
            "errburst" | "errmalformed" => {
                let (kind, code) = if v6 { (1, 3) } else { (3, 1) };
                let victim = cfg.victim.iter().find(|a| a.is_ipv6() == v6).copied();
                for _ in 0..cfg.count {
                    if mode == "errburst" {
                        self.emit(error(kind, code, 0, None));
                    }
                    for m in Malformed::ALL {
                        let Some(q) = m.apply(&req, victim) else {
                            continue;
                        };
                        let mut e = vec![kind, code, 0, 0, 0, 0, 0, 0];
                        e.extend(q);
                        self.log(&format!("malformed quote: {}", m.name()));
                        self.emit(pkt(e));
                    }
                }
            }
            "crossreply" => {
                self.emit(normal.clone());
                for v in cfg.victim.iter().filter(|a| a.is_ipv6() == v6) {
                    self.emit(Packet {
                        src: *v,
                        ..normal.clone()
                    });
                }
            }
            // normal, delay, late (delay applied by emit), othersrc (source chosen above)
            _ => self.emit(normal),
        }
    }

    /// A random ICMP(v6) message that is never an echo request (nor a type the
    /// kernel acts on: redirect, neighbour discovery, MLD, requests it answers).
    fn garbage(&mut self, req: &Request) -> (Vec<u8>, Sum) {
        let v6 = req.v6();
        let avoid: &[u8] = if v6 {
            &[128, 130, 131, 132, 133, 134, 135, 136, 137, 139, 143]
        } else {
            &[5, 8, 13, 15, 17]
        };
        let len = self.rng.below(65) as usize;
        let mut m = self.rng.bytes(len.max(if v6 { 4 } else { 0 }));
        let variant = self.rng.below(3);
        if let Some(t) = m.first_mut() {
            match variant {
                // An echo reply with the right identifier and random rest.
                0 if len >= 8 => {
                    *t = req.reply_type();
                    m[4..6].copy_from_slice(&req.id().to_be_bytes());
                }
                // An error (unreachable/time exceeded) quoting random bytes.
                1 => *t = [[3u8, 11], [1, 3]][usize::from(v6)][self.rng.below(2) as usize],
                _ => {}
            }
            while avoid.contains(&m[0]) {
                m[0] = self.rng.next() as u8;
            }
        }
        let sum = if self.rng.below(2) == 0 {
            Sum::Good
        } else {
            Sum::Raw
        };
        (m, sum)
    }

    fn run(&mut self) {
        let start = Instant::now();
        let mut buf = vec![0u8; 65536];
        loop {
            let now = Instant::now();
            if let Some(limit) = self.cfg.exit_after {
                if now >= start + limit {
                    self.log("exit-after-secs reached");
                    return;
                }
            }
            // Send what is due (earliest first).
            self.queue.sort_by_key(|(t, _)| *t);
            while self.queue.first().is_some_and(|(t, _)| *t <= now) {
                let (_, p) = self.queue.remove(0);
                self.send_now(&p);
            }
            for slot in 0..2 {
                if self.held[slot].as_ref().is_some_and(|(t, _)| *t <= now) {
                    if let Some((_, p)) = self.held[slot].take() {
                        self.send_now(&p);
                    }
                }
            }
            let mut deadline = now + Duration::from_secs(1);
            let held = self.held.iter().flatten();
            for t in self
                .queue
                .iter()
                .map(|(t, _)| *t)
                .chain(held.map(|(t, _)| *t))
            {
                deadline = deadline.min(t);
            }
            if let Some(limit) = self.cfg.exit_after {
                deadline = deadline.min(start + limit);
            }
            let wait = deadline.saturating_duration_since(now).as_millis() as i32 + 1;
            let fds: Vec<i32> = [self.socks.v4, self.socks.v6]
                .into_iter()
                .flatten()
                .collect();
            let mut pfds: Vec<libc::pollfd> = fds
                .iter()
                .map(|&fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: `pfds` is a live array of pfds.len() pollfd structs.
            let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, wait) };
            if r <= 0 {
                continue;
            }
            for pfd in &pfds {
                if pfd.revents == 0 {
                    continue;
                }
                // Drain a bounded number of messages per wakeup.
                for _ in 0..64 {
                    let got = if Some(pfd.fd) == self.socks.v4 {
                        recv_v4(pfd.fd, &mut buf)
                    } else {
                        recv_v6(pfd.fd, &mut buf)
                    };
                    match got {
                        None => break,
                        Some(Ok(req)) => self.handle(req),
                        Some(Err(e)) => self.log(&e),
                    }
                }
            }
        }
    }
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("responder: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let verbose = cfg.verbose;
    let socks = open_sockets(&|s| {
        if verbose {
            eprintln!("responder: {s}");
        }
    });
    if socks.v4.is_none() && socks.v6.is_none() {
        eprintln!("responder: cannot open raw sockets (needs CAP_NET_RAW)");
        std::process::exit(1);
    }
    let seed = cfg.seed;
    let mut r = Responder {
        cfg,
        rng: Rng(seed),
        socks,
        queue: Vec::new(),
        held: [None, None],
        ip_id: 0,
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    r.run();
}
