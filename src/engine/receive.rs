//! Reading the shared sockets: every datagram is read once (by whichever thread drains the
//! socket), parsed once, looked up in the demultiplexing table and credited to its host under
//! that host's short lock; the line it prints is formatted into the reader's own buffer and
//! written later, with no lock held. `credit_reply` is the one place a reply becomes a
//! round-trip time. Reads never block (`MSG_DONTWAIT`); a batch is bounded so one busy socket
//! cannot starve the other.

use super::output::{lock, Lines};
use super::probes::Credit;
use super::{Host, Run};
use crate::packet::{self, Message, Proto};
use crate::privilege::{IcmpSocket, Kind};
use crate::report::{self, Mark};
use crate::sys;
use std::io;
use std::net::IpAddr;

/// The packets one drain reads at most before it looks at the other socket.
const BATCH: usize = 512;

/// The host a packet from or about `addr` with `ident` belongs to.
fn host_of(run: &Run, addr: IpAddr, ident: u16) -> Option<&Host> {
    let h = run.demux.host(addr, ident, |h| {
        run.hosts.get(h).map_or(true, Host::is_done)
    })?;
    run.hosts.get(h)
}

/// Credits an echo reply (`seq`, `payload` after the ICMP header) from `src` with
/// identifier `ident`, read at `rx_mono` with the kernel's receive stamp `kernel_ns`. A reply
/// counts only if it is for one of our hosts, its sequence number is a probe that host sent
/// and still tracks, it arrived after that probe left, and its payload carries this run's
/// nonce. Returns true when it completed the run.
#[allow(clippy::too_many_arguments)]
pub fn credit_reply(
    run: &Run,
    src: IpAddr,
    ident: u16,
    seq: u16,
    payload: &[u8],
    ttl: Option<u8>,
    kernel_ns: Option<u64>,
    lines: &mut Lines,
) -> bool {
    let k = run.payload.len().min(8);
    if payload.get(..k) != run.nonce.get(..k) {
        return false;
    }
    let Some(host) = host_of(run, src, ident) else {
        return false;
    };
    let rx_mono = run.now_ns();
    let (credit, complete) = {
        let mut st = lock(&host.st);
        let Some(credit) = st.ring.answer(seq, rx_mono, kernel_ns) else {
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
        ((credit, rtt), complete)
    };
    let (kind, rtt) = credit;
    let mark = match kind {
        Credit::First(_) => Mark::None,
        Credit::Dup(_) => Mark::Dup,
        Credit::Late(_) => Mark::Late,
    };
    let bytes = payload.len() + packet::ICMP_HEADER_LEN;
    if run.out.per_probe_text() {
        let prefix = run.out.prefix();
        let line = report::reply_line(&prefix, bytes, src, seq, ttl, rtt, mark);
        lines.out.push_str(&line);
    } else if run.out.per_probe_json() {
        let name = run.target_name(host);
        lines
            .out
            .push_str(&report::json_reply(name, src, bytes, seq, ttl, rtt, mark));
    }
    complete
}

/// Counts an ICMP error that quotes one of our requests (to `dst`, `ident`, `seq`) against its
/// host, and settles that probe. Returns true when it completed the run.
fn credit_error(
    run: &Run,
    dst: IpAddr,
    ident: u16,
    seq: u16,
    what: &dyn std::fmt::Display,
    router: Option<IpAddr>,
    kernel_ns: Option<u64>,
    lines: &mut Lines,
) -> bool {
    let Some(host) = host_of(run, dst, ident) else {
        return false;
    };
    let complete = {
        let mut st = lock(&host.st);
        if !st.ring.fail(seq, kernel_ns) {
            return false;
        }
        st.acc.errors += 1;
        let now = run.now_ns();
        run.settle(host, &mut st, now)
    };
    let what = what.to_string();
    if run.out.per_probe_text() {
        let prefix = run.out.prefix();
        lines
            .out
            .push_str(&report::error_line(&prefix, router, seq, &what));
    } else if run.out.per_probe_json() {
        let name = run.target_name(host);
        lines
            .out
            .push_str(&report::json_error(name, router, seq, &what));
    }
    complete
}

/// Parses one datagram read from `sock` and credits it. Returns true when it completed the run.
fn dispatch(
    run: &Run,
    sock: &IcmpSocket,
    data: &[u8],
    meta: &sys::RecvMeta,
    lines: &mut Lines,
) -> bool {
    let src = meta.src.map(|a| a.ip());
    let (msg, from, ttl) = match (sock.proto, sock.kind) {
        (Proto::V4, Kind::Raw) => match packet::parse_ipv4(data) {
            Ok(p) => (p.msg, Some(IpAddr::V4(p.src)), Some(p.ttl)),
            Err(_) => return false,
        },
        (Proto::V4, Kind::Datagram) => match packet::parse_icmp4(data) {
            Ok(m) => (m, src, meta.ttl),
            Err(_) => return false,
        },
        (Proto::V6, _) => match packet::parse_icmp6(data) {
            Ok(m) => (m, src, meta.ttl),
            Err(_) => return false,
        },
    };
    let Some(from) = from else { return false };
    // Datagram sockets: the kernel rewrote the identifier to the socket's own.
    let ours = |ident: u16| {
        if sock.kind == Kind::Datagram {
            sock.ident
        } else {
            ident
        }
    };
    match msg {
        Message::EchoReply {
            ident,
            seq,
            payload,
        } => credit_reply(
            run,
            from,
            ours(ident),
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
        } => credit_error(
            run,
            dst,
            ours(ident),
            seq,
            &kind,
            Some(from),
            meta.kernel_ns,
            lines,
        ),
    }
}

/// A datagram socket's error queue: our own request comes back with the ICMP error (type,
/// code, reporting router) in a control message.
fn dispatch_errqueue(
    run: &Run,
    sock: &IcmpSocket,
    data: &[u8],
    meta: &sys::RecvMeta,
    lines: &mut Lines,
) -> bool {
    let (Some(ee), Some(dst)) = (meta.ext_err, meta.src.map(|a| a.ip())) else {
        return false;
    };
    let Some((_, seq)) = packet::echo_request_id(sock.proto, data) else {
        return false;
    };
    // error_kind reads an MTU from the ICMP header's second word: ee_info carries it.
    let mut hdr = [ee.icmp_type, ee.code, 0, 0, 0, 0, 0, 0];
    hdr[4..8].copy_from_slice(&ee.info.to_be_bytes());
    match packet::error_kind(sock.proto, ee.icmp_type, ee.code, &hdr) {
        Some(k) => credit_error(
            run,
            dst,
            sock.ident,
            seq,
            &k,
            ee.offender,
            meta.kernel_ns,
            lines,
        ),
        None => {
            let what = format!("ICMP type {} code {}", ee.icmp_type, ee.code);
            credit_error(
                run,
                dst,
                sock.ident,
                seq,
                &what,
                ee.offender,
                meta.kernel_ns,
                lines,
            )
        }
    }
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
                let data = buf.get(..meta.len).unwrap_or(&[]);
                complete |= if errqueue {
                    dispatch_errqueue(run, sock, data, &meta, lines)
                } else {
                    dispatch(run, sock, data, &meta, lines)
                };
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    complete
}
