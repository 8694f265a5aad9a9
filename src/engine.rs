//! The run: shared state, the receiver, signals, and the threads that serve the hosts.
//!
//! Design. pingr opens at most one ICMP socket per address family (before privileges are
//! dropped) and shares it between every host thread. Host threads (`worker.rs`, at most
//! `--max-threads` at once, each serving one host after another) send on their host's
//! schedule. Every packet read from a socket, by whichever thread, is parsed exactly once
//! and handed to the one host it belongs to through a demultiplexing table keyed by (source
//! address, ICMP identifier). So a packet costs one parse and one hash lookup whatever the
//! number of hosts: N hosts cost N packets' work, not N². Who reads: a worker drains the
//! socket right after each send (a loopback or LAN reply is usually there already); the
//! receiver thread polls the sockets only while some worker sleeps with an unanswered probe;
//! and a run with a single host slot has no receiver at all, its worker polls (like ping).
//! On raw sockets each worker slot has its own identifier; on datagram sockets the kernel
//! owns the identifier and already delivers only our replies. A reply is credited only if
//! its host is being served, its sequence number is one that host sent and is tracked, it
//! arrived after that probe left (on the monotonic clock, `rtt.rs`), and its payload
//! carries this run's nonce and the host's own tag (`packet/echo.rs`); an ICMP error only
//! if its quote agrees with them as far as it goes; anything else is dropped. Sends go
//! through `asyncerr.rs`, so another target's pending ICMP error never fails a probe.
//!
//! Locking. Each worker slot has a mutex and a condvar; the demultiplexing table and the
//! output have one mutex each. Nothing is ever written to the output while a slot lock is
//! held, so `stop_all` (which locks each slot) can run from anywhere that holds no slot lock.

use crate::cli::{Config, Format, Show, Timestamps};
use crate::monitor::Reporter;
use crate::packet::{self, echo::Echo, Message, Proto};
use crate::privilege::{IcmpSocket, Kind, Sockets};
use crate::report::{self, Mark};
use crate::resolve::Target;
use crate::stats::{Accum, Snapshot, Summary};
use crate::sys;
use crate::worker;
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The state of one tracked probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeState {
    #[default]
    Empty,
    Pending,
    Answered,
    Expired,
    Failed,
}

/// One sent probe, kept in the slot's ring until its place is reused.
#[derive(Debug, Clone, Copy, Default)]
pub struct Probe {
    /// The probe's number for this host (1, 2, ...); the wire sequence number is `n as u16`.
    pub n: u64,
    pub sent_mono: u64,
    pub state: ProbeState,
}

/// What a worker slot is doing now, guarded by the slot's mutex.
pub struct SlotState {
    pub host: Option<usize>,
    pub addr: Option<IpAddr>,
    pub ident: u16,
    pub ring: Vec<Probe>,
    pub next_n: u64,
    pub oldest: u64,
    pub pending: u64,
    pub acc: Accum,
    pub started: u64,
}

impl SlotState {
    pub fn probe_mut(&mut self, n: u64) -> Option<&mut Probe> {
        let len = self.ring.len() as u64;
        if len == 0 {
            return None;
        }
        self.ring.get_mut((n % len) as usize)
    }
}

pub struct Slot {
    pub st: Mutex<SlotState>,
    pub cv: Condvar,
}

/// Locks a mutex, recovering the data if a thread panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The output, shared by every thread.
#[derive(Default)]
pub struct Out {
    pub broken: bool,
    pub error: Option<io::Error>,
}

/// Everything the threads of a run share.
pub struct Shared {
    pub cfg: Config,
    pub targets: Arc<Vec<Target>>,
    pub socks: Sockets,
    pub ident_base: u16,
    pub slots: Vec<Slot>,
    pub table: Mutex<HashMap<(IpAddr, u16), usize>>,
    pub results: Mutex<Vec<Option<Summary>>>,
    pub next_host: AtomicUsize,
    pub stop: AtomicBool,
    finished: AtomicBool,
    /// The self-updating progress line on a terminal's stderr (see `progress`).
    progress: bool,
    progress_shown: AtomicBool,
    pub hosts_done: AtomicUsize,
    pub hosts_alive: AtomicUsize,
    out: Mutex<Out>,
    pacer: Mutex<u64>,
    base: Instant,
    pub deadline: Option<u64>,
    wake: (OwnedFd, OwnedFd),
    /// How many workers sleep with a probe still unanswered: the receiver thread polls the
    /// sockets only while some do (a loopback or LAN reply is usually taken by its worker
    /// right after the send, and then nobody needs to be woken for it).
    awaiting: Mutex<usize>,
    awaiting_cv: Condvar,
    /// The run's nonce and per-target tags: every request's payload and its check.
    pub echo: Echo,
    pub ring_len: usize,
    pub single: bool,
    /// One host slot: no receiver thread; the worker polls the sockets itself.
    pub inline: bool,
    /// Interim reports (`--every`, see monitor.rs): accumulators keep windows; a finished host
    /// leaves its last snapshot in `finals`; the reporter thread runs until `report_stop`.
    pub windows: bool,
    pub finals: Mutex<Vec<Option<Snapshot>>>,
    report_stop: crate::monitor::Stop,
}

/// Where output lines go.
pub enum Line {
    Out(String),
    Err(String),
}

/// CLOCK_REALTIME in nanoseconds, the clock of kernel receive timestamps.
pub fn real_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// How many probes one host can have in flight: enough for timeout / interval, capped by the
/// 16-bit sequence space and by the count.
pub fn ring_len(cfg: &Config) -> usize {
    let t = cfg.timeout.as_nanos();
    let i = cfg.interval.as_nanos().max(1);
    let by_time = (t / i + 2).min(65_536) as u64;
    let by_count = cfg.count.map(|c| c.saturating_add(1)).unwrap_or(u64::MAX);
    by_time.min(by_count).clamp(2, 65_536).next_power_of_two() as usize
}

/// The outcome of a run.
pub struct RunResult {
    pub summaries: Vec<Option<Summary>>,
    /// The reporter handed to `run`, with every host's final snapshot.
    pub reporter: Option<(Reporter, Vec<Option<Snapshot>>)>,
    pub broken_pipe: bool,
    pub write_error: Option<io::Error>,
}

impl Shared {
    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// The monotonic time a packet with kernel stamp `kernel_ns` arrived (`rtt.rs`).
    fn received_at(&self, kernel_ns: Option<u64>) -> u64 {
        let real_ns = real_ns();
        let read = crate::rtt::ReadAt {
            real_ns,
            mono_ns: self.now_ns(),
        };
        crate::rtt::received_at(kernel_ns, read)
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub fn sock(&self, ip: IpAddr) -> Option<&IcmpSocket> {
        match ip {
            IpAddr::V4(_) => self.socks.v4.as_ref(),
            IpAddr::V6(_) => self.socks.v6.as_ref(),
        }
    }

    /// Stops every host: no new probes, workers return with what they have.
    pub fn stop_all(&self) {
        self.stop.store(true, Ordering::SeqCst);
        sys::poke(&self.wake.1);
        for s in &self.slots {
            let _g = lock(&s.st);
            s.cv.notify_all();
        }
    }

    /// The time prefix of a line (`-D`, `--timestamp`).
    pub fn prefix(&self) -> String {
        match self.cfg.timestamps {
            Timestamps::Off => String::new(),
            Timestamps::Epoch => report::epoch_prefix(real_ns()),
            Timestamps::Iso => report::iso_prefix(real_ns()),
        }
    }

    /// Whether per-probe lines are printed at all.
    pub fn per_probe_text(&self) -> bool {
        !self.cfg.quiet && self.cfg.show == Show::All && self.cfg.format == Format::Text
    }

    pub fn per_probe_json(&self) -> bool {
        !self.cfg.quiet && self.cfg.show == Show::All && self.cfg.format == Format::Json
    }

    /// Writes lines; must not be called with a slot lock held. A closed pipe stops the run
    /// quietly; any other write error stops it and is reported at the end.
    pub fn emit(&self, lines: &mut Vec<Line>) {
        if lines.is_empty() {
            return;
        }
        let mut newly_failed = false;
        {
            let mut o = lock(&self.out);
            if self.progress_shown.swap(false, Ordering::SeqCst) {
                let _ = io::stderr().lock().write_all(b"\r\x1b[K");
            }
            for l in lines.drain(..) {
                match l {
                    Line::Err(s) => {
                        let _ = io::stderr().lock().write_all(s.as_bytes());
                    }
                    Line::Out(s) => {
                        if o.broken || o.error.is_some() {
                            continue;
                        }
                        let mut so = io::stdout().lock();
                        let r = so.write_all(s.as_bytes()).and_then(|_| so.flush());
                        if let Err(e) = r {
                            if e.kind() == io::ErrorKind::BrokenPipe {
                                o.broken = true;
                            } else {
                                o.error = Some(e);
                            }
                            newly_failed = true;
                        }
                    }
                }
            }
        }
        if newly_failed {
            self.stop_all();
        }
    }

    pub fn emit_one(&self, l: Line) {
        self.emit(&mut vec![l]);
    }

    /// Global pacing: returns at the run's next free send time, at least `--gap` after the
    /// previous probe of any host. Slots are handed out on an absolute schedule, so N probes
    /// at gap G take N×G however long each send itself takes.
    pub fn pace(&self) {
        let gap = self.cfg.gap.as_nanos() as u64;
        if gap == 0 {
            return;
        }
        let at = {
            let mut next = lock(&self.pacer);
            let now = self.now_ns();
            let at = (*next).max(now);
            *next = at + gap;
            at
        };
        let now = self.now_ns();
        if at > now {
            std::thread::sleep(Duration::from_nanos(at - now));
        }
    }

    /// The interim status of every host (SIGQUIT), to stderr.
    fn status(&self) {
        let mut text = String::new();
        let results = lock(&self.results).clone();
        let mut live: HashMap<usize, Summary> = HashMap::new();
        for s in &self.slots {
            let st = lock(&s.st);
            if let Some(h) = st.host {
                live.insert(h, st.acc.summary(self.now_ns().saturating_sub(st.started)));
            }
        }
        for (i, t) in self.targets.iter().enumerate() {
            if t.addr.is_err() {
                continue;
            }
            if let Some(s) = live.get(&i).or(results.get(i).and_then(|r| r.as_ref())) {
                text.push_str(&report::status_line(&t.name, s));
            }
        }
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }

    /// What the whole run should take by its schedule: waves of hosts (one per thread) each
    /// sending `-c` probes `-i` apart, or the global gap times every probe, capped by `-w`.
    fn estimate_total(&self, total: usize) -> Duration {
        let count = self.cfg.count.unwrap_or(1);
        let per_host = self.cfg.interval.as_secs_f64() * count.saturating_sub(1) as f64;
        let waves = total.div_ceil(self.slots.len().max(1)) as f64;
        let by_gap = self.cfg.gap.as_secs_f64() * total as f64 * count as f64;
        let mut est = (waves * per_host).max(by_gap);
        if let Some(d) = self.cfg.deadline {
            est = est.min(d.as_secs_f64());
        }
        Duration::from_secs_f64(est.clamp(0.0, 1e9))
    }

    /// Redraws one status line on stderr (a terminal) every quarter second once the run has
    /// taken two seconds: targets done, answered, elapsed and an estimate of what is left.
    fn show_progress(&self) {
        let total = self.targets.iter().filter(|t| t.addr.is_ok()).count();
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let elapsed = self.base.elapsed();
            let o = lock(&self.out);
            if self.finished.load(Ordering::SeqCst) || self.stopped() || o.broken {
                return;
            }
            if elapsed < Duration::from_secs(2) {
                continue;
            }
            let done = self.hosts_done.load(Ordering::Relaxed);
            let alive = self.hosts_alive.load(Ordering::Relaxed);
            let left = self
                .estimate_total(total)
                .saturating_sub(elapsed)
                .as_secs_f64();
            let line = format!(
                "\r\x1b[Kpingr: {done}/{total} targets done, {alive} answered, {:.0}s elapsed, ~{left:.0}s left",
                elapsed.as_secs_f64()
            );
            let _ = io::stderr().lock().write_all(line.as_bytes());
            self.progress_shown.store(true, Ordering::SeqCst);
            drop(o);
        }
    }

    /// Finds the tracked probe a packet speaks of and runs `f` on its host's state, under the
    /// slot lock: the host at (addr, ident) is being served, `seq` is a probe it sent and still
    /// tracks, and the packet arrived after that probe left (so an old packet whose 16-bit
    /// sequence number has come round again is not credited to a newer probe). Returns what
    /// `f` returned and the host's index, and wakes the host's worker.
    fn with_probe<R>(
        &self,
        addr: IpAddr,
        ident: u16,
        seq: u16,
        rx_mono: u64,
        f: impl FnOnce(&mut SlotState) -> Option<R>,
    ) -> Option<(R, usize)> {
        let slot_idx = lock(&self.table).get(&(addr, ident)).copied()?;
        let slot = self.slots.get(slot_idx)?;
        let found = {
            let mut st = lock(&slot.st);
            let host = st.host?;
            if st.addr != Some(addr) || st.ident != ident {
                return None;
            }
            let p = st.probe_mut(u64::from(seq))?;
            if p.n == 0 || p.n as u16 != seq || p.state == ProbeState::Empty {
                return None;
            }
            if !crate::rtt::after_send(rx_mono, p.sent_mono) {
                return None;
            }
            (f(&mut st)?, host)
        };
        slot.cv.notify_one();
        Some(found)
    }

    fn target_name(&self, host: usize) -> &str {
        self.targets
            .get(host)
            .map(|t| t.name.as_str())
            .unwrap_or("")
    }

    /// Credits an echo reply to the host it belongs to.
    fn on_reply(
        &self,
        src: IpAddr,
        ident: u16,
        seq: u16,
        payload: &[u8],
        ttl: Option<u8>,
        kernel_ns: Option<u64>,
    ) {
        let rx_mono = self.received_at(kernel_ns);
        let credit = |st: &mut SlotState| {
            if !self.echo.reply_is_for(st.host?, payload) {
                return None;
            }
            let p = st.probe_mut(u64::from(seq))?;
            let rtt = crate::rtt::rtt(rx_mono, p.sent_mono);
            let mark = match p.state {
                ProbeState::Pending => {
                    p.state = ProbeState::Answered;
                    st.pending = st.pending.saturating_sub(1);
                    st.acc.add_rtt(rtt);
                    Mark::None
                }
                ProbeState::Answered => {
                    st.acc.dups += 1;
                    Mark::Dup
                }
                ProbeState::Expired => {
                    st.acc.late += 1;
                    Mark::Late
                }
                ProbeState::Empty | ProbeState::Failed => return None,
            };
            Some((mark, rtt))
        };
        let Some(((mark, rtt), host)) = self.with_probe(src, ident, seq, rx_mono, credit) else {
            return;
        };
        let bytes = payload.len() + packet::ICMP_HEADER_LEN;
        if self.per_probe_text() {
            let line = report::reply_line(&self.prefix(), bytes, src, seq, ttl, rtt, mark);
            self.emit_one(Line::Out(line));
        } else if self.per_probe_json() {
            let name = self.target_name(host);
            let line = report::json_reply(name, src, bytes, seq, ttl, rtt, mark);
            self.emit_one(Line::Out(line));
        }
    }

    /// Counts an ICMP error that quotes one of our requests (`quoted`: what it holds of the
    /// request's payload) against its host.
    #[allow(clippy::too_many_arguments)]
    fn on_error(
        &self,
        dst: IpAddr,
        ident: u16,
        seq: u16,
        quoted: &[u8],
        what: String,
        router: Option<IpAddr>,
        kernel_ns: Option<u64>,
    ) {
        let rx_mono = self.received_at(kernel_ns);
        let settle = |st: &mut SlotState| {
            if !self.echo.quote_is_for(st.host?, quoted) {
                return None;
            }
            let p = st.probe_mut(u64::from(seq))?;
            // An error settles its probe (as iputils counts it): no reply is awaited any more.
            if p.state == ProbeState::Pending {
                p.state = ProbeState::Failed;
                st.pending = st.pending.saturating_sub(1);
            }
            st.acc.errors += 1;
            Some(())
        };
        let Some(((), host)) = self.with_probe(dst, ident, seq, rx_mono, settle) else {
            return;
        };
        if self.per_probe_text() {
            let line = report::error_line(&self.prefix(), router, seq, &what);
            self.emit_one(Line::Out(line));
        } else if self.per_probe_json() {
            let line = report::json_error(self.target_name(host), router, seq, &what);
            self.emit_one(Line::Out(line));
        }
    }

    /// Parses one datagram read from `sock` and dispatches it.
    fn dispatch(&self, sock: &IcmpSocket, data: &[u8], meta: &sys::RecvMeta) {
        let src = meta.src.map(|a| a.ip());
        let (msg, from, ttl) = match (sock.proto, sock.kind) {
            (Proto::V4, Kind::Raw) => match packet::parse_ipv4(data) {
                Ok(p) => (p.msg, Some(IpAddr::V4(p.src)), Some(p.ttl)),
                Err(_) => return,
            },
            (Proto::V4, Kind::Datagram) => match packet::parse_icmp4(data) {
                Ok(m) => (m, src, meta.ttl),
                Err(_) => return,
            },
            (Proto::V6, _) => match packet::parse_icmp6(data) {
                Ok(m) => (m, src, meta.ttl),
                Err(_) => return,
            },
        };
        let Some(from) = from else { return };
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
            } => {
                self.on_reply(from, ours(ident), seq, payload, ttl, meta.kernel_ns);
            }
            Message::Error {
                kind,
                ident,
                seq,
                dst,
                quoted,
            } => {
                let what = kind.to_string();
                let ident = ours(ident);
                self.on_error(dst, ident, seq, quoted, what, Some(from), meta.kernel_ns);
            }
        }
    }

    /// A datagram socket's error queue: our own request comes back with the ICMP error
    /// (type, code, reporting router) in a control message.
    fn dispatch_errqueue(&self, sock: &IcmpSocket, data: &[u8], meta: &sys::RecvMeta) {
        let (Some(ee), Some(dst)) = (meta.ext_err, meta.src.map(|a| a.ip())) else {
            return;
        };
        let Some((_, seq)) = packet::echo_request_id(sock.proto, data) else {
            return;
        };
        // error_kind reads an MTU from the ICMP header's second word: ee_info carries it.
        let mut hdr = [ee.icmp_type, ee.code, 0, 0, 0, 0, 0, 0];
        hdr[4..8].copy_from_slice(&ee.info.to_be_bytes());
        let what = match packet::error_kind(sock.proto, ee.icmp_type, ee.code, &hdr) {
            Some(k) => k.to_string(),
            None => format!("ICMP type {} code {}", ee.icmp_type, ee.code),
        };
        let quoted = data.get(packet::ICMP_HEADER_LEN..).unwrap_or(&[]);
        self.on_error(
            dst,
            sock.ident,
            seq,
            quoted,
            what,
            ee.offender,
            meta.kernel_ns,
        );
    }

    /// Reads what a socket holds now (a bounded batch, so one busy socket cannot starve the
    /// other) and dispatches it. Called by the receiver thread when poll says so, and by a
    /// worker right after it sends, which takes a loopback or LAN reply without waking anyone.
    pub fn drain_socket(&self, sock: &IcmpSocket, buf: &mut [u8], errqueue: bool) {
        for _ in 0..512 {
            match sys::recv_msg(&sock.fd, buf, errqueue) {
                Ok(meta) => {
                    if let Some(d) = meta.drops {
                        sock.drops.fetch_max(d, Ordering::Relaxed);
                    }
                    let data = buf.get(..meta.len).unwrap_or(&[]);
                    if errqueue {
                        self.dispatch_errqueue(sock, data, &meta);
                    } else {
                        self.dispatch(sock, data, &meta);
                    }
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
    }

    /// Waits up to `timeout` (None: until woken) for the sockets or the wake-up pipe, then reads
    /// whatever arrived. The receiver thread loops on it; a lone worker (a run with one host
    /// slot) calls it instead of sleeping on its condvar, so such a run needs no receiver.
    pub fn poll_and_drain(&self, timeout: Option<Duration>, buf: &mut [u8]) {
        let socks = [self.socks.v4.as_ref(), self.socks.v6.as_ref()];
        let mut fds = [self.wake.0.as_raw_fd(); 3];
        for (fd, s) in fds.iter_mut().zip(socks) {
            if let Some(s) = s {
                *fd = s.fd.as_raw_fd();
            }
        }
        let mut revents = [0 as libc::c_short; 3];
        if sys::poll_in(&fds, timeout, &mut revents).is_err() {
            std::thread::sleep(Duration::from_millis(1));
            return;
        }
        if revents[2] != 0 {
            sys::drain(&self.wake.0);
        }
        for (sock, &rev) in socks.iter().zip(&revents) {
            let Some(sock) = sock else { continue };
            if rev & sys::POLLIN != 0 {
                self.drain_socket(sock, buf, false);
            }
            if rev & sys::POLLERR != 0 {
                self.drain_socket(sock, buf, true);
            }
        }
    }

    /// A worker going to sleep with `pending` probes unanswered says so (`true`), and again
    /// when it wakes (`false`).
    pub fn awaiting_reply(&self, sleeping: bool) {
        let mut n = lock(&self.awaiting);
        if sleeping {
            *n += 1;
            if *n == 1 {
                self.awaiting_cv.notify_one();
            }
        } else {
            *n = n.saturating_sub(1);
        }
    }

    /// The receiver thread: polls while some worker awaits a reply, sleeps otherwise. The
    /// bounded poll lets it notice when nobody is waiting any more.
    fn receive(&self) {
        let mut buf = vec![0u8; 160 << 10];
        while !self.finished.load(Ordering::SeqCst) {
            {
                let mut n = lock(&self.awaiting);
                while *n == 0 && !self.finished.load(Ordering::SeqCst) {
                    n = self.awaiting_cv.wait(n).unwrap_or_else(|p| p.into_inner());
                }
            }
            self.poll_and_drain(Some(Duration::from_millis(50)), &mut buf);
        }
    }

    /// Every target's snapshot now, in input order (None: not probed yet). Finished hosts
    /// first, then the live ones: a host that finishes in between is missed this time, never
    /// counted twice.
    pub fn snapshots(&self) -> Vec<Option<Snapshot>> {
        let mut out: Vec<Option<Snapshot>> = lock(&self.finals)
            .iter_mut()
            .map(|f| {
                f.as_mut().map(|f| Snapshot {
                    total: f.total,
                    window: f.window.take(),
                })
            })
            .collect();
        out.resize(self.targets.len(), None);
        if !self.windows {
            for (o, r) in out.iter_mut().zip(lock(&self.results).iter()) {
                *o = r.map(|total| Snapshot {
                    total,
                    window: None,
                });
            }
        }
        for s in &self.slots {
            let mut st = lock(&s.st);
            if let Some(h) = st.host {
                let elapsed = self.now_ns().saturating_sub(st.started);
                if let Some(o) = out.get_mut(h).filter(|o| o.is_none()) {
                    *o = Some(st.acc.snapshot(elapsed));
                }
            }
        }
        out
    }

    /// Ends the receiver thread (after the workers are done).
    fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        let _n = lock(&self.awaiting);
        self.awaiting_cv.notify_all();
    }
}

/// Runs every host and returns their summaries, in input order. Must be called after the
/// privilege drop, from the main thread, with no other thread running.
pub fn run(
    cfg: Config,
    targets: Arc<Vec<Target>>,
    socks: Sockets,
    reporter: Option<Reporter>,
) -> io::Result<RunResult> {
    sys::block_signals(&[sys::SIGINT, sys::SIGTERM, sys::SIGQUIT])?;
    let seed = splitmix(real_ns() ^ (u64::from(sys::pid()) << 32));
    let nonce = seed.to_be_bytes();
    let resolved = targets.iter().filter(|t| t.addr.is_ok()).count();
    // Raw sockets: slot i uses identifier first + i, inside the range the kernel filters pass.
    let nslots = cfg.max_threads.min(resolved).max(1).min(socks.idents.len());
    let ring = ring_len(&cfg);
    let windows = reporter.is_some() && crate::monitor::wants_windows(&cfg);
    let ident_base = socks.idents.first();
    let slots = (0..nslots)
        .map(|_| Slot {
            st: Mutex::new(SlotState {
                host: None,
                addr: None,
                ident: 0,
                ring: Vec::new(),
                next_n: 1,
                oldest: 1,
                pending: 0,
                acc: if windows {
                    Accum::with_window()
                } else {
                    Accum::default()
                },
                started: 0,
            }),
            cv: Condvar::new(),
        })
        .collect();
    let deadline = cfg.deadline.map(|d| d.as_nanos() as u64);
    let progress = sys::stderr_is_tty()
        && !cfg.quiet
        && resolved > 1
        && (cfg.count.is_some() || cfg.deadline.is_some());
    let pattern = cfg.pattern.clone();
    let sh = Arc::new(Shared {
        echo: Echo::new(nonce, cfg.size, pattern),
        single: targets.len() == 1,
        inline: nslots == 1,
        cfg,
        results: Mutex::new(vec![None; targets.len()]),
        targets,
        socks,
        ident_base,
        slots,
        table: Mutex::new(HashMap::new()),
        next_host: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        progress,
        progress_shown: AtomicBool::new(false),
        hosts_done: AtomicUsize::new(0),
        hosts_alive: AtomicUsize::new(0),
        out: Mutex::new(Out::default()),
        pacer: Mutex::new(0),
        base: Instant::now(),
        deadline,
        wake: sys::pipe()?,
        awaiting: Mutex::new(0),
        awaiting_cv: Condvar::new(),
        ring_len: ring,
        windows,
        finals: Mutex::new(Vec::new()),
        report_stop: crate::monitor::Stop::default(),
    });
    let mut reporter = reporter;
    let periodic = match (reporter.take(), sh.cfg.every) {
        (Some(rep), Some(every)) => {
            let sh = Arc::clone(&sh);
            let t = std::thread::Builder::new()
                .name("report".into())
                .stack_size(256 << 10)
                .spawn(move || {
                    let emit = |b: Vec<u8>| {
                        sh.emit_one(Line::Out(String::from_utf8_lossy(&b).into_owned()))
                    };
                    let snaps = || sh.snapshots();
                    crate::monitor::every(
                        rep,
                        every.period,
                        &sh.report_stop,
                        || sh.now_ns(),
                        snaps,
                        emit,
                    )
                })?;
            Some(t)
        }
        (rep, _) => {
            reporter = rep;
            None
        }
    };

    {
        let sh = Arc::clone(&sh);
        std::thread::Builder::new()
            .name("signals".into())
            .stack_size(64 << 10)
            .spawn(move || {
                let sigs = [sys::SIGINT, sys::SIGTERM, sys::SIGQUIT];
                while let Ok(sig) = sys::wait_signal(&sigs) {
                    if sig == sys::SIGQUIT {
                        sh.status();
                    } else {
                        sh.stop_all();
                    }
                }
            })?;
    }
    // One host slot: the worker runs on this thread and reads the sockets itself.
    let receiver = if sh.inline {
        None
    } else {
        let sh = Arc::clone(&sh);
        Some(
            std::thread::Builder::new()
                .name("receiver".into())
                .stack_size(256 << 10)
                .spawn(move || sh.receive())?,
        )
    };
    if sh.progress {
        let sh = Arc::clone(&sh);
        std::thread::Builder::new()
            .name("progress".into())
            .stack_size(64 << 10)
            .spawn(move || sh.show_progress())?;
    }
    let mut workers = Vec::with_capacity(nslots);
    if sh.inline {
        worker::serve(&sh, 0);
    } else {
        for slot in 0..nslots {
            let sh = Arc::clone(&sh);
            let b = std::thread::Builder::new()
                .name("host".into())
                .stack_size(128 << 10);
            match b.spawn(move || worker::serve(&sh, slot)) {
                Ok(h) => workers.push(h),
                // Fewer threads than asked for still serve every host, just fewer at a time.
                Err(_) if !workers.is_empty() => break,
                Err(e) => return Err(e),
            }
        }
    }
    for w in workers {
        let _ = w.join();
    }
    sh.finish();
    {
        // Clear a progress line under the output lock, so none is redrawn after it.
        let _o = lock(&sh.out);
        if sh.progress_shown.swap(false, Ordering::SeqCst) {
            let _ = io::stderr().lock().write_all(b"\r\x1b[K");
        }
    }
    sys::poke(&sh.wake.1);
    if let Some(r) = receiver {
        let _ = r.join();
    }
    if let Some(t) = periodic {
        sh.report_stop.set();
        reporter = t.join().ok();
    }
    let reporter = reporter.map(|r| (r, sh.snapshots()));
    let out = std::mem::take(&mut *lock(&sh.out));
    let summaries = std::mem::take(&mut *lock(&sh.results));
    Ok(RunResult {
        summaries,
        reporter,
        broken_pipe: out.broken,
        write_error: out.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_holds_every_probe_in_flight() {
        let mut cfg = crate::cli::parse(&["-c".into(), "1".into(), "x".into()]).map(|c| match c {
            crate::cli::Command::Run(c) => c,
            _ => unreachable!(),
        });
        let cfg = cfg.as_mut().unwrap();
        assert_eq!(ring_len(cfg), 2);
        cfg.count = None;
        cfg.interval = Duration::from_millis(10);
        cfg.timeout = Duration::from_secs(1);
        assert_eq!(ring_len(cfg), 128);
        cfg.interval = Duration::ZERO;
        assert_eq!(ring_len(cfg), 65_536);
    }
}
