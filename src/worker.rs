//! One host's loop, run by a long-lived worker thread that takes the next host when it is done
//! (at most `--max-threads` such threads, so hosts beyond the cap wait their turn). A worker
//! sends on its host's schedule (`-c`, `-i`, the global `--gap`, `-w`), expires probes after
//! `-W`, and sleeps on its slot's condvar in between. Replies are credited by the receiver
//! thread, or by the worker itself when it drains the shared socket right after a send (any
//! host's reply it finds there goes to that host). It never writes output while holding its
//! slot lock.

use crate::engine::{lock, Line, Probe, ProbeState, Shared};
use crate::packet::{self, Proto};
use crate::privilege::Kind;
use crate::report;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Serves hosts until none is left or the run stops.
pub fn serve(sh: &Shared, slot: usize) {
    // Larger than malloc's mmap threshold, so the pages recvmsg never writes stay untouched
    // (not resident) however many workers there are.
    let mut buf = vec![0u8; 160 << 10];
    loop {
        if sh.stopped() || sh.deadline.is_some_and(|d| sh.now_ns() >= d) {
            return;
        }
        let h = sh.next_host.fetch_add(1, Ordering::Relaxed);
        let Some(target) = sh.targets.get(h) else {
            return;
        };
        let Ok(addr) = target.addr else { continue };
        run_host(sh, slot, h, addr, &mut buf);
    }
}

/// Claims (address, identifier) in the demultiplexing table; the same address listed twice on
/// a datagram socket (one identifier) waits until the other entry is done.
fn register(sh: &Shared, ip: IpAddr, ident: u16, slot: usize) -> bool {
    loop {
        {
            let mut t = lock(&sh.table);
            if let std::collections::hash_map::Entry::Vacant(v) = t.entry((ip, ident)) {
                v.insert(slot);
                return true;
            }
        }
        if sh.stopped() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn run_host(sh: &Shared, slot_idx: usize, h: usize, addr: SocketAddr, buf: &mut [u8]) {
    let ip = addr.ip();
    let (Some(sock), Some(slot), Some(target)) =
        (sh.sock(ip), sh.slots.get(slot_idx), sh.targets.get(h))
    else {
        return;
    };
    let proto = if ip.is_ipv4() { Proto::V4 } else { Proto::V6 };
    let ident = match sock.kind {
        Kind::Raw => sh.ident_base.wrapping_add(slot_idx as u16),
        Kind::Datagram => sock.ident,
    };
    if !register(sh, ip, ident, slot_idx) {
        return;
    }
    let mut lines: Vec<Line> = Vec::new();
    if sh.per_probe_text()
        || (sh.single
            && sh.cfg.format == crate::cli::Format::Text
            && sh.cfg.show == crate::cli::Show::All)
    {
        lines.push(Line::Out(report::header(&target.name, ip, sh.cfg.size)));
        sh.emit(&mut lines);
    }
    let payload = sh.echo.payload(h);
    let mut packet = Vec::with_capacity(payload.len() + packet::ICMP_HEADER_LEN);
    packet::encode_echo_request(proto, ident, 0, &payload, &mut packet);
    let interval = sh.cfg.interval.as_nanos() as u64;
    let timeout = sh.cfg.timeout.as_nanos() as u64;
    let count = sh.cfg.count;

    let mut st = lock(&slot.st);
    if st.ring.len() != sh.ring_len {
        st.ring = vec![Probe::default(); sh.ring_len];
    } else {
        st.ring.fill(Probe::default());
    }
    st.host = Some(h);
    st.addr = Some(ip);
    st.ident = ident;
    st.next_n = 1;
    st.oldest = 1;
    st.pending = 0;
    st.acc.reset();
    let start = sh.now_ns();
    st.started = start;
    let mut next_send = start;

    loop {
        let now = sh.now_ns();
        // Expire, oldest first (every probe has the same timeout, so they expire in order).
        while st.oldest < st.next_n {
            let oldest = st.oldest;
            let Some(p) = st.probe_mut(oldest) else { break };
            if p.n == oldest && p.state == ProbeState::Pending {
                if now < p.sent_mono.saturating_add(timeout) {
                    break;
                }
                p.state = ProbeState::Expired;
                st.pending = st.pending.saturating_sub(1);
                if sh.cfg.outstanding && sh.per_probe_text() {
                    lines.push(Line::Out(report::no_answer_line(
                        &sh.prefix(),
                        oldest as u16,
                    )));
                }
            }
            st.oldest += 1;
        }
        let sent_all = count.is_some_and(|c| st.next_n > c);
        let past_deadline = sh.deadline.is_some_and(|d| now >= d);
        if sh.stopped() || past_deadline || (sent_all && st.pending == 0) {
            break;
        }
        if !lines.is_empty() {
            drop(st);
            sh.emit(&mut lines);
            st = lock(&slot.st);
            continue;
        }
        if !sent_all && now >= next_send {
            if sh.cfg.gap > Duration::ZERO {
                drop(st);
                sh.pace();
                st = lock(&slot.st);
                if sh.stopped() {
                    break;
                }
            }
            let n = st.next_n;
            packet::set_sequence(proto, n as u16, &mut packet);
            // The probe is recorded before it leaves (a loopback reply can beat sendto's
            // return), and the slot stays locked across the send so the receiver waits for it.
            let probe = Probe {
                n,
                sent_mono: sh.now_ns(),
                state: ProbeState::Pending,
            };
            let old = st.probe_mut(n).map(|p| std::mem::replace(p, probe));
            if old.is_some_and(|o| o.state == ProbeState::Pending) {
                // The ring is full of unanswered probes: the oldest is given up as lost.
                st.pending = st.pending.saturating_sub(1);
            }
            st.pending += 1;
            st.next_n += 1;
            st.acc.sent += 1;
            if let Err(e) = crate::asyncerr::send_to(&sock.fd, &packet, &addr) {
                if let Some(p) = st.probe_mut(n) {
                    p.state = ProbeState::Failed;
                }
                st.pending = st.pending.saturating_sub(1);
                st.acc.send_errors += 1;
                lines.push(Line::Err(format!(
                    "pingr: {} ({ip}): icmp_seq={}: sendto: {}\n",
                    report::printable(&target.name),
                    n as u16,
                    crate::privilege::short(&e)
                )));
            }
            // A loopback or LAN reply is usually queued already: take it now, so the host
            // settles without a wake-up from the receiver thread.
            drop(st);
            sh.drain_socket(sock, buf, false);
            st = lock(&slot.st);
            let after = sh.now_ns();
            next_send = if next_send.saturating_add(interval.saturating_mul(2)) <= after {
                after.saturating_add(interval)
            } else {
                next_send.saturating_add(interval)
            };
            continue;
        }
        let mut wake_at = u64::MAX;
        if !sent_all {
            wake_at = next_send;
        }
        if st.pending > 0 {
            let oldest = st.oldest;
            if let Some(p) = st.probe_mut(oldest) {
                wake_at = wake_at.min(p.sent_mono.saturating_add(timeout));
            }
        }
        if let Some(d) = sh.deadline {
            wake_at = wake_at.min(d);
        }
        let wait = Duration::from_nanos(wake_at.saturating_sub(now).max(1));
        if sh.inline {
            drop(st);
            sh.poll_and_drain(Some(wait), buf);
            st = lock(&slot.st);
        } else {
            let awaiting = st.pending > 0;
            if awaiting {
                sh.awaiting_reply(true);
            }
            st = slot
                .cv
                .wait_timeout(st, wait)
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
            if awaiting {
                sh.awaiting_reply(false);
            }
        }
    }
    let snapshot = st.acc.snapshot(sh.now_ns().saturating_sub(start));
    let summary = snapshot.total;
    st.host = None;
    st.addr = None;
    drop(st);
    lock(&sh.table).remove(&(ip, ident));
    if sh.windows {
        let mut f = lock(&sh.finals);
        f.resize(sh.targets.len(), None);
        if let Some(slot) = f.get_mut(h) {
            *slot = Some(snapshot);
        }
    }
    if summary.received > 0 {
        sh.hosts_alive.fetch_add(1, Ordering::Relaxed);
    }
    sh.hosts_done.fetch_add(1, Ordering::Relaxed);
    if let Some(r) = lock(&sh.results).get_mut(h) {
        *r = Some(summary);
    }
    sh.emit(&mut lines);
}
