//! One thread of the run: a pure step for each of its hosts, and a loop that only does I/O.
//!
//! A thread owns its hosts (host h belongs to thread h % T for the whole run). `step` is the pure
//! decision for one host — expire its oldest probe, send, wait until a time, or be done — from its
//! probe ring, its next send time and the clock. `serve` is the loop around it and only does I/O:
//! it keeps its hosts' next events in a heap, sleeps in `ppoll` until the earliest (or a packet, or
//! the stop pipe), services every host due then (sends are batched into that one wake-up), drains
//! the sockets after sending, and writes the lines it formatted. A host's lock is held only for
//! bookkeeping: dropped before `sendto`, `ppoll` and any write.

use super::output::{lock, Lines};
use super::probes::Ring;
use super::receive;
use super::state::{Host, Run, NEVER, READERS};
use crate::packet::echo::{NONCE_LEN, TAG_LEN};
use crate::packet::{self, Family, Ident, Seq};
use crate::privilege::IcmpSocket;
use crate::report;
use crate::sys;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::time::Duration;

/// What one host does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Its oldest unanswered probe has timed out.
    Expire,
    /// A probe is due.
    Send,
    /// Nothing until this time (ns).
    Wait(u64),
    /// Every probe sent and none awaited.
    Done,
}

/// A host's schedule: `-c` and `-W` (ns).
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub count: Option<u64>,
    pub timeout: u64,
}

/// The decision for one host at `now`, whose next probe is due at `next_send`.
pub fn step(ring: &Ring, next_send: u64, now: u64, plan: &Plan) -> Step {
    let expiry = ring.next_expiry(plan.timeout);
    if expiry.is_some_and(|e| e <= now) {
        return Step::Expire;
    }
    let sent_all = plan.count.is_some_and(|c| ring.sent() >= c);
    if sent_all && ring.pending() == 0 {
        return Step::Done;
    }
    if !sent_all && now >= next_send {
        return Step::Send;
    }
    let mut wake = expiry.unwrap_or(u64::MAX);
    if !sent_all {
        wake = wake.min(next_send);
    }
    Step::Wait(wake)
}

/// When the probe after one due at `due` and sent at `sent` is due: `interval` later on the
/// host's own schedule, unless it has fallen more than an interval behind (a slow send, a
/// busy `--gap`), when it restarts from the send.
pub fn next_due(due: u64, sent: u64, interval: u64) -> u64 {
    if due.saturating_add(interval.saturating_mul(2)) <= sent {
        sent.saturating_add(interval)
    } else {
        due.saturating_add(interval)
    }
}

/// A wake-up sends at most this many probes before it drains the sockets, writes its lines
/// and reads the clock again (a host at `-i 0` is due again at once).
const SEND_BATCH: usize = 64;

/// How often a host queued behind another with the same (address, identifier) looks again.
const QUEUED_RECHECK: u64 = 10_000_000;

/// The echo request of one send, rebuilt in place (no allocation once it has grown): every
/// target's payload is the run's, with its own tag after the nonce (`packet/echo.rs`).
struct Packets {
    /// The run's payload with target 0's tag; the tag bytes are replaced per send.
    payload: Vec<u8>,
    packet: Vec<u8>,
    /// Whose request `packet` holds: (family, target, identifier).
    built: Option<(Family, usize, Ident)>,
}

impl Packets {
    fn new(run: &Run) -> Packets {
        Packets {
            payload: run.echo.payload(0),
            packet: Vec::with_capacity(run.cfg.size + packet::ICMP_HEADER_LEN),
            built: None,
        }
    }

    /// The request to `target` with `ident` and `seq`.
    fn build(&mut self, run: &Run, family: Family, target: usize, ident: Ident, seq: Seq) -> &[u8] {
        self.build_with(&run.echo, family, target, ident, seq)
    }

    fn build_with(
        &mut self,
        echo: &crate::packet::echo::Echo,
        family: Family,
        target: usize,
        ident: Ident,
        seq: Seq,
    ) -> &[u8] {
        if self.built == Some((family, target, ident)) {
            // The same target again (one host, or -i 0): only the sequence number changes.
            packet::set_sequence(family, seq, &mut self.packet);
            return &self.packet;
        }
        self.built = Some((family, target, ident));
        let tag = echo.tag(target);
        let at = NONCE_LEN..(NONCE_LEN + TAG_LEN).min(self.payload.len());
        if let (Some(dst), Some(src)) = (self.payload.get_mut(at.clone()), tag.get(..at.len())) {
            dst.copy_from_slice(src);
        }
        packet::encode_echo_request(family, ident, seq, &self.payload, &mut self.packet);
        &self.packet
    }
}

/// The receive buffer of a thread: room for a reply to our requests (IP header with options,
/// ICMP header, payload), an ICMP error quoting one (IPv6 quotes up to 1,232 bytes), or a
/// request looped back with its transmit timestamp (a link-layer header in front); anything
/// longer is not ours and arrives truncated, which the parsers reject. Small, so a thousand
/// threads do not cost a thousand 64 KiB buffers.
pub fn recv_buffer_len(payload: usize) -> usize {
    (payload + packet::ICMP_HEADER_LEN + 60 + 128).max(2048)
}

/// One thread's hosts and schedule.
struct Worker<'a> {
    run: &'a Run,
    plan: Plan,
    /// Hosts by local index l: t + l x T, then those of threads that could not be spawned.
    t: usize,
    own: usize,
    extra_hosts: Vec<usize>,
    next_send: Vec<u64>,
    /// (when, host) of every host's next event (next send, earliest expiry).
    events: BinaryHeap<Reverse<(u64, u32)>>,
    /// `--gap`: hosts due to send, oldest-due first, waiting for a pacer slot (they are not
    /// in `events` meanwhile, so waiting costs nothing per slot).
    ready: BinaryHeap<Reverse<(u64, u32)>>,
    /// The pacer slot this thread holds (one at a time).
    reserved: Option<u64>,
    lines: Lines,
    packets: Packets,
    complete: bool,
    sent: usize,
}

impl Worker<'_> {
    fn host_index(&self, l: usize) -> Option<usize> {
        match l.checked_sub(self.own) {
            None => Some(self.t + l * self.run.threads.max(1)),
            Some(e) => self.extra_hosts.get(e).copied(),
        }
    }

    /// Runs host l's steps at `now` until it waits or is done; `slot`: it holds a pacer slot
    /// (or there is no pacing), so a due probe is sent.
    fn service(&mut self, l: u32, now: u64, mut slot: bool) {
        let run = self.run;
        let li = l as usize;
        let Some(hi) = self.host_index(li) else {
            return;
        };
        let host = &run.hosts[hi];
        if host.is_done() {
            return;
        }
        if run
            .demux
            .before(hi)
            .is_some_and(|b| !run.hosts[b].is_done())
        {
            self.events.push(Reverse((now + QUEUED_RECHECK, l)));
            return;
        }
        let Some(addr) = run.addr(host) else { return };
        let Some(sock) = run.sock(addr.ip()) else {
            return;
        };
        loop {
            let mut st = lock(&host.st);
            // fping's default mode: one probe in flight, its timeout grown by -B per retry.
            let plan = Plan {
                timeout: run.timeout_of(st.ring.sent()),
                ..self.plan
            };
            match step(&st.ring, self.next_send[li], now, &plan) {
                Step::Expire => {
                    if let Some(seq) = st.ring.expire(now, plan.timeout) {
                        if let Some(b) = &run.fping {
                            let n = st.ring.number(seq).unwrap_or(0);
                            let at = super::output::real_ns();
                            self.lines.add_fping(b.timeout(host.target as usize, n, at));
                        } else if run.cfg.outstanding && run.out.per_probe_text() {
                            let line = report::no_answer_line(&run.out.prefix(), seq.0);
                            self.lines.out.push_str(&line);
                        }
                    }
                    self.complete |= run.settle(host, &mut st, now);
                }
                Step::Done => {
                    self.complete |= run.settle(host, &mut st, now);
                    return;
                }
                Step::Wait(w) => {
                    self.events.push(Reverse((w, l)));
                    return;
                }
                Step::Send if !slot => {
                    self.ready.push(Reverse((self.next_send[li], l)));
                    return;
                }
                Step::Send => {
                    drop(st);
                    slot = !run.pacer.active();
                    let due = self.next_send[li];
                    let (at, n) = send_one(
                        run,
                        host,
                        addr,
                        sock,
                        &mut self.packets,
                        &mut self.lines,
                        &mut self.complete,
                    );
                    self.next_send[li] = next_due(due, at, run.spacing(n));
                    self.sent += 1;
                    if self.sent >= SEND_BATCH {
                        self.events.push(Reverse((self.next_send[li], l)));
                        return;
                    }
                }
            }
        }
    }

    /// `--gap`: sends from `ready` while this thread's pacer slots are due; returns the time
    /// of the slot it holds and waits for, if any.
    fn paced_sends(&mut self, now: u64) -> Option<u64> {
        while !self.ready.is_empty() && self.sent < SEND_BATCH && !self.run.stopped() {
            let at = *self
                .reserved
                .get_or_insert_with(|| self.run.pacer.reserve(now));
            if at > now {
                return Some(at);
            }
            self.reserved = None;
            if let Some(Reverse((_, l))) = self.ready.pop() {
                self.service(l, now, true);
            }
        }
        None
    }
}

/// Serves thread `t`'s hosts (and those of `extra` threads that could not be spawned) until
/// the run stops, reaches `-w`, or (a thread that does not read the sockets) its hosts are
/// done.
pub fn serve(run: &Run, t: usize, extra: &[usize]) {
    let n = run.hosts.len();
    let threads = run.threads.max(1);
    // Host t + l x T for every l (and likewise for each thread in `extra`).
    let share = |k: usize| n.saturating_sub(k).div_ceil(threads);
    let mut extra_hosts = Vec::new();
    for &k in extra {
        extra_hosts.extend((0..share(k)).map(|l| k + l * threads));
    }
    let own = share(t);
    let count = own + extra_hosts.len();
    let reader = t < READERS;
    let mut w = Worker {
        run,
        plan: Plan {
            count: run.cfg.count,
            timeout: run.timeout,
        },
        t,
        own,
        extra_hosts,
        next_send: Vec::new(),
        events: BinaryHeap::new(),
        ready: BinaryHeap::new(),
        reserved: None,
        lines: Lines::default(),
        packets: Packets::new(run),
        complete: false,
        sent: 0,
    };
    // The first round goes out in input order, `--gap` apart (fping's round-robin start).
    let gap = run.cfg.gap.as_nanos() as u64;
    w.next_send = Vec::with_capacity(count);
    w.events = BinaryHeap::with_capacity(count);
    for l in 0..count {
        let at = gap.saturating_mul(w.host_index(l).unwrap_or(0) as u64);
        w.next_send.push(at);
        // In ascending order for the thread's own hosts: each push stays where it lands.
        w.events.push(Reverse((at, l as u32)));
    }
    let mut buf = vec![0u8; recv_buffer_len(run.cfg.size)];
    let socks = [run.socks.v4.as_ref(), run.socks.v6.as_ref()];

    while !run.stopped() {
        let now = run.now_ns();
        if run.deadline.is_some_and(|d| now >= d) {
            break;
        }
        w.sent = 0;
        w.complete = false;
        while let Some(&Reverse((at, l))) = w.events.peek() {
            if at > now || run.stopped() || w.sent >= SEND_BATCH {
                break;
            }
            w.events.pop();
            w.service(l, now, !run.pacer.active());
        }
        let slot = w.paced_sends(now);
        if w.sent > 0 {
            // A loopback or LAN reply is usually queued already: take it now, so the host
            // settles without waking a reader.
            for s in socks.iter().flatten() {
                // Transmit stamps first: they are queued before the reply they refine.
                if run.tx_stamps {
                    w.complete |= receive::drain(run, s, &mut buf, true, &mut w.lines);
                }
                w.complete |= receive::drain(run, s, &mut buf, false, &mut w.lines);
            }
        }
        if run.out.emit(&mut w.lines) || w.complete {
            run.stop_all();
            break;
        }
        let next = earliest(
            earliest(w.events.peek().map(|r| r.0 .0), slot),
            run.deadline,
        );
        if w.events.is_empty() && w.ready.is_empty() && !reader {
            return;
        }
        let timeout = next.map(|x| Duration::from_nanos(x.saturating_sub(run.now_ns())));
        if timeout.is_some_and(|d| d.is_zero()) {
            continue;
        }
        if wait(run, reader, &socks, timeout, &mut buf, &mut w.lines) {
            let _ = run.out.emit(&mut w.lines);
            run.stop_all();
            break;
        }
        if run.out.emit(&mut w.lines) {
            run.stop_all();
            break;
        }
    }
}

/// The earlier of two times, either of which may be absent.
fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => a.or(b),
    }
}

/// Sends the host's next probe (recorded under its lock first: a loopback reply can beat
/// `sendto`'s return) and returns the monotonic time it was sent and its number.
fn send_one(
    run: &Run,
    host: &Host,
    addr: std::net::SocketAddr,
    sock: &IcmpSocket,
    packets: &mut Packets,
    lines: &mut Lines,
    complete: &mut bool,
) -> (u64, u64) {
    let ip = addr.ip();
    let family = Family::of(ip);
    let mono = run.now_ns();
    let seq = {
        let mut st = lock(&host.st);
        if st.started == NEVER {
            st.started = mono;
        }
        st.acc.sent += 1;
        let seq = st.ring.record_send(mono);
        (seq, st.ring.sent())
    };
    let (seq, n) = seq;
    let pkt = packets.build(run, family, host.target as usize, host.ident, seq);
    if let Err(e) = crate::asyncerr::send_to(&sock.fd, pkt, &addr) {
        let now = run.now_ns();
        {
            let mut st = lock(&host.st);
            st.ring.send_failed(seq);
            st.acc.send_errors += 1;
            *complete |= run.settle(host, &mut st, now);
        }
        let why = crate::error::short(&e);
        if let Some(b) = &run.fping {
            lines.add_fping(b.send_error(host.target as usize, n, &why));
        } else {
            let _ = writeln!(
                lines.err,
                "pingr: {} ({ip}): icmp_seq={seq}: sendto: {why}",
                report::printable(run.target_name(host)),
            );
        }
    }
    (mono, n)
}

/// Sleeps until `timeout` (None: until woken) on the stop pipe and, for a reader, the
/// sockets; reads what arrived. Returns true when a packet completed the run.
fn wait(
    run: &Run,
    reader: bool,
    socks: &[Option<&IcmpSocket>; 2],
    timeout: Option<Duration>,
    buf: &mut [u8],
    lines: &mut Lines,
) -> bool {
    let mut fds = [run.stop_fd(); 3];
    let mut which: [Option<&IcmpSocket>; 3] = [None; 3];
    let mut nfds = 1;
    if reader {
        for s in socks.iter().flatten() {
            use std::os::fd::AsFd;
            fds[nfds] = s.fd.as_fd();
            which[nfds] = Some(s);
            nfds += 1;
        }
    }
    let mut revents = [0 as libc::c_short; 3];
    if sys::poll_in(&fds[..nfds], timeout, &mut revents).is_err() {
        std::thread::sleep(Duration::from_millis(1));
        return false;
    }
    let mut complete = false;
    for (s, &rev) in which.iter().zip(&revents).take(nfds) {
        let Some(s) = s else { continue };
        if rev & sys::POLLERR != 0 {
            complete |= receive::drain(run, s, buf, true, lines);
        }
        // A pending socket error (sk_err, set by an ICMP error on a datagram socket) keeps
        // POLLERR raised until a normal read returns it: read the normal queue then too.
        if rev & (sys::POLLIN | sys::POLLERR) != 0 {
            complete |= receive::drain(run, s, buf, false, lines);
        }
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: Plan = Plan {
        count: Some(3),
        timeout: 1_000,
    };

    /// Drives one host through `step` with a simulated clock: every probe is answered
    /// `rtt` after it left (None: never). Returns the trace of decisions.
    fn simulate(plan: Plan, interval: u64, rtt: Option<u64>, until: u64) -> Vec<(u64, Step)> {
        let mut ring = Ring::new(8);
        let mut due = 0;
        let mut now = 0;
        let mut trace = Vec::new();
        let mut answers: Vec<(u64, Seq)> = Vec::new();
        while now <= until {
            answers.retain(|&(t, seq)| {
                if t <= now {
                    ring.answer(seq, t);
                    false
                } else {
                    true
                }
            });
            let s = step(&ring, due, now, &plan);
            trace.push((now, s));
            match s {
                Step::Send => {
                    let seq = ring.record_send(now);
                    if let Some(r) = rtt {
                        answers.push((now + r, seq));
                    }
                    due = next_due(due, now, interval);
                }
                Step::Expire => {
                    ring.expire(now, plan.timeout);
                }
                Step::Wait(w) => {
                    let next_answer = answers.iter().map(|a| a.0).min().unwrap_or(u64::MAX);
                    now = w.min(next_answer);
                }
                Step::Done => break,
            }
        }
        trace
    }

    /// When a trace took `step`.
    fn times(trace: &[(u64, Step)], step: Step) -> Vec<u64> {
        trace
            .iter()
            .filter(|(_, s)| *s == step)
            .map(|x| x.0)
            .collect()
    }

    #[test]
    fn answered_host_sends_count_then_is_done() {
        let t = simulate(PLAN, 100, Some(10), 10_000);
        assert_eq!(times(&t, Step::Send), [0, 100, 200]);
        // Done as soon as the last reply is in, not after -W.
        assert_eq!(t.last(), Some(&(210, Step::Done)));
    }

    #[test]
    fn silent_host_expires_each_probe_then_is_done() {
        let t = simulate(PLAN, 100, None, 10_000);
        assert_eq!(times(&t, Step::Expire), [1_000, 1_100, 1_200]);
        assert_eq!(t.last(), Some(&(1_200, Step::Done)));
    }

    #[test]
    fn continuous_host_never_finishes_and_waits_for_the_next_event() {
        let plan = Plan {
            count: None,
            timeout: 1_000,
        };
        let t = simulate(plan, 100, None, 1_050);
        assert!(!t.iter().any(|(_, s)| *s == Step::Done));
        assert_eq!(times(&t, Step::Send).len(), 11);
        // Between sends it waits exactly for the earliest event.
        let mut ring = Ring::new(8);
        ring.record_send(0);
        assert_eq!(step(&ring, 100, 10, &plan), Step::Wait(100));
        assert_eq!(step(&ring, 5_000, 10, &plan), Step::Wait(1_000));
        assert_eq!(step(&ring, 5_000, 1_000, &plan), Step::Expire);
    }

    #[test]
    fn requests_carry_each_targets_own_payload() {
        let c = match crate::cli::parse(&["-p".into(), "ab".into(), "x".into()]) {
            Ok(crate::cli::Command::Run(c)) => c,
            _ => unreachable!(),
        };
        let echo = crate::packet::echo::Echo::new([7; 8], c.size, c.pattern.clone());
        let mut p = Packets {
            payload: echo.payload(0),
            packet: Vec::new(),
            built: None,
        };
        for (target, seq) in [(3, 1), (3, 2), (0, 9), (70_000, 65_535)] {
            let mut want = Vec::new();
            let (ident, seq) = (Ident(42), Seq(seq));
            packet::encode_echo_request(Family::V4, ident, seq, &echo.payload(target), &mut want);
            assert_eq!(
                p.build_with(&echo, Family::V4, target, ident, seq),
                &want[..]
            );
        }
    }

    #[test]
    fn the_receive_buffer_holds_our_largest_packets() {
        assert_eq!(recv_buffer_len(56), 2048);
        // The largest IPv4 echo: 65,507 payload bytes + 8 + a 60-byte IP header.
        assert!(recv_buffer_len(65_507) >= 65_575);
        // A looped-back IPv6 request with a link-layer header in front.
        assert!(recv_buffer_len(65_527) >= 65_527 + 8 + 40 + 14);
    }

    #[test]
    fn a_late_send_restarts_the_schedule() {
        assert_eq!(next_due(0, 10, 100), 100);
        assert_eq!(next_due(0, 199, 100), 100);
        assert_eq!(next_due(0, 200, 100), 300);
        assert_eq!(next_due(u64::MAX - 1, u64::MAX, 100), u64::MAX);
    }
}
