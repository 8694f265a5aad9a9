//! Reading the shared sockets: each datagram read once, parsed once, credited to its host.
//!
//! Every datagram is read once (by whichever thread drains the socket), parsed once, looked up in
//! the demultiplexing table and credited to its host under that host's short lock; the line it
//! prints is formatted into the reader's own buffer and written later, with no lock held.
//! `credit_reply` is the one place a reply becomes a round-trip time. Reads never block
//! (`MSG_DONTWAIT`); a batch is bounded so one busy socket cannot starve the other. Time decisions
//! (when a packet arrived, whether after its probe left, the round-trip time) are `rtt.rs`'s, on
//! the monotonic clock; whose a payload is, `packet/echo.rs`'s (the run's nonce and the target's
//! tag); a pending socket error left by another target's ICMP error is `asyncerr.rs`'s.

use super::output::{lock, Lines};
use super::probes::Credit;
use super::state::{Host, Run};
use crate::packet::{self, Family, Ident, Message, Seq};
use crate::privilege::{IcmpSocket, Kind};
use crate::report::{self, Mark};
use crate::sys;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::Ordering;

/// The packets one drain reads at most before it looks at the other socket.
const BATCH: usize = 512;

/// The host a packet from or about `addr` with `ident` belongs to.
fn host_of(run: &Run, addr: IpAddr, ident: Ident) -> Option<&Host> {
    let h = run.demux.host(addr, ident, |h| {
        run.hosts.get(h).map_or(true, Host::is_done)
    })?;
    run.hosts.get(h)
}

/// The monotonic time a packet stamped by the kernel at `kernel_ns` (CLOCK_REALTIME) reached
/// its socket (`rtt.rs`): the two clocks are read now, as one pair.
fn arrived(run: &Run, kernel_ns: Option<u64>) -> u64 {
    if kernel_ns.is_none() {
        return run.now_ns();
    }
    let read = crate::rtt::ReadAt::sample(|| run.now_ns(), super::output::real_ns);
    crate::rtt::received_at(kernel_ns, read)
}

/// Credits an echo reply (`seq`, `payload` after the ICMP header) from `src` with
/// identifier `ident`, with the kernel's receive stamp `kernel_ns`. A reply counts only if
/// it is for one of our hosts, its payload carries this run's nonce and that host's tag, its
/// sequence number is a probe that host sent and still tracks, and it arrived after that
/// probe left. Returns true when it completed the run.
#[allow(clippy::too_many_arguments)]
pub fn credit_reply(
    run: &Run,
    src: IpAddr,
    ident: Ident,
    seq: Seq,
    payload: &[u8],
    ttl: Option<u8>,
    kernel_ns: Option<u64>,
    lines: &mut Lines,
) -> bool {
    let Some(host) = host_of(run, src, ident) else {
        return false;
    };
    // fping stops listening to a host once it is done (its last probe settled).
    if run.fping.is_some() && host.is_done() {
        return false;
    }
    if !run.echo.reply_is_for(host.target as usize, payload) {
        return false;
    }
    let rx_mono = arrived(run, kernel_ns);
    let (credit, complete) = {
        let mut st = lock(&host.st);
        let n = st.ring.number(seq).unwrap_or(0);
        let Some(credit) = st.ring.answer(seq, rx_mono) else {
            return false;
        };
        let rtt = match credit {
            Credit::First(rtt) => {
                st.acc.add_rtt(rtt);
                if st.acc.received == 1 {
                    run.first_reply();
                }
                rtt
            }
            Credit::Dup(rtt) => {
                st.acc.dups += 1;
                rtt
            }
            Credit::Late(rtt) => {
                st.acc.late += 1;
                rtt
            }
        };
        let complete = run.settle(host, &mut st, rx_mono);
        ((credit, rtt, n), complete)
    };
    let (kind, rtt, n) = credit;
    let mark = match kind {
        Credit::First(_) => Mark::None,
        Credit::Dup(_) => Mark::Dup,
        Credit::Late(_) => Mark::Late,
    };
    let bytes = payload.len() + packet::ICMP_HEADER_LEN;
    if let Some(b) = &run.fping {
        let at = kernel_ns.unwrap_or_else(super::output::real_ns);
        let (out, after) = b.reply(host.target as usize, n, bytes, rtt, mark, at);
        lines.add_fping(out);
        return complete || after == report::fping::After::Enough;
    }
    if run.out.per_probe_text() {
        let prefix = run.out.prefix();
        let line = report::reply_line(&prefix, bytes, src, seq.0, ttl, rtt, mark);
        lines.out.push_str(&line);
    } else if run.out.per_probe_json() {
        let name = run.target_name(host);
        lines
            .out
            .push_str(&report::json_reply(name, src, bytes, seq.0, ttl, rtt, mark));
    }
    complete
}

/// What an ICMP error says of which request.
struct ErrorReport<'a> {
    /// Where the quoted request went, its identifier and sequence number.
    dst: IpAddr,
    ident: Ident,
    seq: Seq,
    /// What the error quotes of the request's payload (often nothing).
    quoted: &'a [u8],
    what: &'a dyn std::fmt::Display,
    /// The error's kind, when it is one (fping names it in its own words).
    kind: Option<&'a packet::ErrorKind>,
    router: Option<IpAddr>,
    kernel_ns: Option<u64>,
}

/// Counts an ICMP error that quotes one of our requests against its host (the quote must
/// agree with the host's payload as far as it goes), and settles that probe (fping's
/// personality only reports it: the probe times out). Returns true when it completed the run.
fn credit_error(run: &Run, e: &ErrorReport, lines: &mut Lines) -> bool {
    let (seq, router) = (e.seq, e.router);
    let Some(host) = host_of(run, e.dst, e.ident) else {
        return false;
    };
    if !run.echo.quote_is_for(host.target as usize, e.quoted) {
        return false;
    }
    let rx_mono = arrived(run, e.kernel_ns);
    if let Some(b) = &run.fping {
        let mut st = lock(&host.st);
        if !st.ring.awaits(seq, rx_mono) {
            return false;
        }
        st.acc.errors += 1;
        drop(st);
        if let Some(k) = e.kind {
            lines.add_fping(b.icmp_error(host.target as usize, k, router));
        }
        return false;
    }
    let complete = {
        let mut st = lock(&host.st);
        if !st.ring.fail(seq, rx_mono) {
            return false;
        }
        st.acc.errors += 1;
        run.settle(host, &mut st, rx_mono)
    };
    let what = e.what.to_string();
    if run.out.per_probe_text() {
        let prefix = run.out.prefix();
        lines
            .out
            .push_str(&report::error_line(&prefix, router, seq.0, &what));
    } else if run.out.per_probe_json() {
        let name = run.target_name(host);
        lines
            .out
            .push_str(&report::json_error(name, router, seq.0, &what));
    }
    complete
}

/// One datagram read from a socket or its error queue, with what the kernel said of it.
#[derive(Clone, Copy)]
struct Read<'a> {
    sock: &'a IcmpSocket,
    data: &'a [u8],
    meta: &'a sys::RecvMeta,
}

/// The identifier a packet read from `sock` is looked up with: on a datagram socket the
/// kernel rewrote it to the socket's own, so that one; on a raw socket the packet's.
fn ident_on(sock: &IcmpSocket, ident: Ident) -> Ident {
    match sock.kind {
        Kind::Datagram => sock.ident,
        Kind::Raw => ident,
    }
}

/// Parses one datagram read from a socket and credits it. Returns true when it completed the
/// run.
fn dispatch(run: &Run, read: Read, lines: &mut Lines) -> bool {
    let Read { sock, data, meta } = read;
    let src = meta.src.map(|a| a.ip());
    let (msg, from, ttl) = match (sock.family, sock.kind) {
        (Family::V4, Kind::Raw) => match packet::parse_ipv4(data) {
            Ok(p) => (p.msg, Some(IpAddr::V4(p.src)), Some(p.ttl)),
            Err(_) => return false,
        },
        (Family::V4, Kind::Datagram) => match packet::parse_icmp4(data) {
            Ok(m) => (m, src, meta.ttl),
            Err(_) => return false,
        },
        (Family::V6, _) => match packet::parse_icmp6(data) {
            Ok(m) => (m, src, meta.ttl),
            Err(_) => return false,
        },
    };
    let Some(from) = from else { return false };
    match msg {
        Message::EchoReply {
            ident,
            seq,
            payload,
        } => credit_reply(
            run,
            from,
            ident_on(sock, ident),
            seq,
            payload,
            ttl,
            meta.kernel_ns,
            lines,
        ),
        Message::Error {
            kind,
            ident,
            seq,
            dst,
            quoted,
        } => {
            let e = ErrorReport {
                dst,
                ident: ident_on(sock, ident),
                seq,
                quoted,
                what: &kind,
                kind: Some(&kind),
                router: Some(from),
                kernel_ns: meta.kernel_ns,
            };
            credit_error(run, &e, lines)
        }
    }
}

/// Where one of our echo requests, looped back to the error queue with its transmit
/// timestamp, went, and its identifier and sequence number: the packet is whatever the
/// device saw (a link-layer header, the IP header, then ICMP), so it is read from its end,
/// where the ICMP message of `icmp_len` bytes must be, and the IP header just before it must
/// be ours (IPv4 without options, protocol ICMP; IPv6, next header ICMPv6).
pub fn looped_request(
    family: Family,
    data: &[u8],
    icmp_len: usize,
) -> Option<(IpAddr, Ident, Seq)> {
    let start = data.len().checked_sub(icmp_len)?;
    let (ident, seq) = packet::echo_request_id(family, data.get(start..)?)?;
    let dst = match family {
        Family::V4 => {
            let ip = data.get(start.checked_sub(20)?..start)?;
            if ip[0] != 0x45 || ip[9] != 1 {
                return None;
            }
            let a: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            IpAddr::from(a)
        }
        Family::V6 => {
            let ip = data.get(start.checked_sub(40)?..start)?;
            if ip[0] >> 4 != 6 || ip[6] != 58 {
                return None;
            }
            let a: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            IpAddr::from(a)
        }
    };
    Some((dst, ident, seq))
}

/// A transmit timestamp: the probe it stamps left at `tx_ns`, the kernel's own send time,
/// which then replaces the one read next to `sendto` (so a thread preempted between its
/// clock read and the send does not count its wait as network time).
fn credit_tx_stamp(run: &Run, sock: &IcmpSocket, data: &[u8], tx_ns: u64) {
    let icmp_len = run.cfg.size + packet::ICMP_HEADER_LEN;
    let Some((dst, ident, seq)) = looped_request(sock.family, data, icmp_len) else {
        return;
    };
    let ident = ident_on(sock, ident);
    let start = data.len() - icmp_len + packet::ICMP_HEADER_LEN;
    let payload = data.get(start..).unwrap_or(&[]);
    let Some(host) = host_of(run, dst, ident) else {
        return;
    };
    if run.echo.reply_is_for(host.target as usize, payload) {
        let tx_mono = arrived(run, Some(tx_ns));
        lock(&host.st).ring.set_sent(seq, tx_mono);
    }
}

/// A socket's error queue: a transmit timestamp, or (datagram sockets) our own request
/// coming back with an ICMP error (type, code, reporting router) in a control message.
fn dispatch_errqueue(run: &Run, read: Read, lines: &mut Lines) -> bool {
    let Read { sock, data, meta } = read;
    if let (None, Some(tx)) = (meta.ext_err, meta.stamping_ns) {
        credit_tx_stamp(run, sock, data, tx);
        return false;
    }
    let (Some(ee), Some(dst)) = (meta.ext_err, meta.src.map(|a| a.ip())) else {
        return false;
    };
    let Some((_, seq)) = packet::echo_request_id(sock.family, data) else {
        return false;
    };
    // error_kind reads an MTU from the ICMP header's second word: ee_info carries it.
    let mut hdr = [ee.icmp_type, ee.code, 0, 0, 0, 0, 0, 0];
    hdr[4..8].copy_from_slice(&ee.info.to_be_bytes());
    let quoted = data.get(packet::ICMP_HEADER_LEN..).unwrap_or(&[]);
    let kind = packet::error_kind(sock.family, ee.icmp_type, ee.code, &hdr);
    let other = format!("ICMP type {} code {}", ee.icmp_type, ee.code);
    let what: &dyn std::fmt::Display = match &kind {
        Some(k) => k,
        None => &other,
    };
    let e = ErrorReport {
        dst,
        ident: sock.ident,
        seq,
        quoted,
        what,
        kind: kind.as_ref(),
        router: ee.offender,
        kernel_ns: meta.kernel_ns,
    };
    credit_error(run, &e, lines)
}

/// Reads what a socket (or its error queue) holds now, a bounded batch, and credits it.
/// Returns true when a packet completed the run.
pub fn drain(
    run: &Run,
    sock: &IcmpSocket,
    buf: &mut [u8],
    errqueue: bool,
    lines: &mut Lines,
) -> bool {
    let mut complete = false;
    for _ in 0..BATCH {
        match sys::recv_msg(&sock.fd, buf, errqueue) {
            Ok(meta) => {
                if let Some(d) = meta.drops {
                    sock.drops.fetch_max(d, Ordering::Relaxed);
                }
                let data = buf.get(..meta.len).unwrap_or(&[]);
                let read = Read {
                    sock,
                    data,
                    meta: &meta,
                };
                complete |= if errqueue {
                    dispatch_errqueue(run, read, lines)
                } else {
                    dispatch(run, read, lines)
                };
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Another packet's pending ICMP error, taken by this read: read on.
            Err(e) if !errqueue && crate::asyncerr::recv_is_stale(&e) => continue,
            Err(_) => break,
        }
    }
    if errqueue {
        crate::asyncerr::clear_pending(&sock.fd);
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_frame(dst: [u8; 4], icmp: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14]; // a link-layer header
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[9] = 1;
        ip[16..20].copy_from_slice(&dst);
        f.extend_from_slice(&ip);
        f.extend_from_slice(icmp);
        f
    }

    #[test]
    fn a_looped_request_is_read_from_its_end() {
        let mut icmp = Vec::new();
        packet::encode_echo_request(Family::V4, Ident(0x1234), Seq(7), &[9; 56], &mut icmp);
        let f = v4_frame([127, 0, 0, 9], &icmp);
        let want = Some(("127.0.0.9".parse().unwrap(), Ident(0x1234), Seq(7)));
        assert_eq!(looped_request(Family::V4, &f, 64), want);
        // Without a link-layer header too.
        assert_eq!(looped_request(Family::V4, &f[14..], 64), want);
        // Another size, a reply, a non-ICMP header, or too short: nothing.
        assert_eq!(looped_request(Family::V4, &f, 60), None);
        let mut reply = f.clone();
        reply[34] = 0;
        assert_eq!(looped_request(Family::V4, &reply, 64), None);
        let mut udp = f.clone();
        udp[14 + 9] = 17;
        assert_eq!(looped_request(Family::V4, &udp, 64), None);
        for n in 0..f.len() - 64 + 19 {
            let _ = looped_request(Family::V4, &f[f.len() - 64 - 19 + n.min(18)..], 64);
        }
        assert_eq!(looped_request(Family::V4, &f[f.len() - 70..], 64), None);
        assert_eq!(looped_request(Family::V4, &[], 64), None);
    }

    #[test]
    fn a_looped_ipv6_request() {
        let mut icmp = Vec::new();
        packet::encode_echo_request(Family::V6, Ident(5), Seq(65_535), &[1; 8], &mut icmp);
        let mut f = vec![0u8; 40];
        f[0] = 0x60;
        f[6] = 58;
        f[39] = 1; // ::1
        f.extend_from_slice(&icmp);
        assert_eq!(
            looped_request(Family::V6, &f, 16),
            Some(("::1".parse().unwrap(), Ident(5), Seq(65_535)))
        );
        f[6] = 17;
        assert_eq!(looped_request(Family::V6, &f, 16), None);
    }
}
