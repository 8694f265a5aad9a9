//! The run state every thread shares: hosts, the `--gap` pacer, the stop flag, the counters.
//!
//! It holds the hosts (each one's probe ring and statistics behind its own short lock), the pacer
//! of `--gap`, the stop flag and pipe, the counters of the progress line, and what reads them whole
//! (the SIGQUIT status, the progress line, the periodic reporter's tick). It imports only the pure
//! parts and the output, never the worker or the receiver, which both build on it.

use super::demux::Demux;
use super::output::{lock, Lines, Output};
use super::probes::Ring;
use crate::cli::Config;
use crate::packet::echo::Echo;
use crate::packet::{Family, Ident};
use crate::privilege::{IcmpSocket, Sockets};
use crate::report;
use crate::resolve::Target;
use crate::stats::{Accum, Rtts, Summary};
use crate::sys;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many threads wait on the sockets (the others only drain them after their sends). A
/// packet wakes every thread polling its socket, so a second reader doubled the wake-ups of a
/// paced run (S7: CPU 0.70 -> 1.02 s with 2 threads) for no gain: one thread reads as fast as
/// fping's one thread does, and every sender also drains after its sends.
pub const READERS: usize = 1;

/// One host's statistics at a periodic report (see `Reporter`).
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Index into the run's targets.
    pub target: usize,
    /// Since the previous report (its `elapsed_ns` is the interval).
    pub interval: Summary,
    /// Since the start of the run.
    pub total: Summary,
    /// Since the start of the run, in fixed buckets (zeros unless `Reporter::rtt_buckets`).
    pub rtts: Rtts,
}

/// A periodic report driven by the engine's clock (the hook for `--every`-style outputs:
/// Prometheus, InfluxDB, fping's `-Q`; see monitor.rs). Every `every()` from the start,
/// `report` is called from the engine's reporter thread with one snapshot per probed host,
/// in input order, and once more (`last`) when every host thread has ended, for the time
/// since the last tick; it runs with no engine lock held, so it may write files or block.
/// What it returns goes to stdout with the engine's other output. The engine swaps each
/// host's accumulator for an empty one at the tick and merges it into the host's total, so
/// interval figures (min, max, percentiles included) are exact, not differences.
pub trait Reporter: Send + Sync {
    /// None: no periodic report, only the last one.
    fn every(&self) -> Option<Duration>;
    /// Whether snapshots should carry fixed-bucket round trips (`Snapshot::rtts`).
    fn rtt_buckets(&self) -> bool {
        false
    }
    fn report(&self, snapshots: &[Snapshot], last: bool) -> Option<String>;
}

/// One host's mutable state, behind its own lock.
pub struct HostState {
    pub ring: Ring,
    pub acc: Accum,
    /// Monotonic ns of the first send, and of the moment the host was done (`NEVER`: not
    /// yet; plain integers, as a /16 sweep holds 65,536 of these).
    pub started: u64,
    pub finished: u64,
}

/// `HostState::started` / `finished` before it happened.
pub const NEVER: u64 = u64::MAX;

/// One target being probed.
pub struct Host {
    /// Index into the run's targets (whose address it pings).
    pub target: u32,
    /// The ICMP identifier its requests carry (and its replies must).
    pub ident: Ident,
    pub(super) done: AtomicBool,
    pub st: Mutex<HostState>,
}

impl Host {
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

/// The run's probes spread by `--gap`: each send takes the next free slot.
pub struct Pacer {
    gap: u64,
    next: AtomicU64,
}

impl Pacer {
    pub fn new(gap: u64) -> Pacer {
        Pacer {
            gap,
            next: AtomicU64::new(0),
        }
    }

    pub fn active(&self) -> bool {
        self.gap > 0
    }

    /// Takes the next free slot at or after `now` and returns its time (the caller sends
    /// then). Slots are on an absolute schedule, so N probes at gap G take N x G.
    pub fn reserve(&self, now: u64) -> u64 {
        let mut cur = self.next.load(Ordering::Relaxed);
        loop {
            let at = cur.max(now);
            match self.next.compare_exchange_weak(
                cur,
                at.saturating_add(self.gap),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return at,
                Err(c) => cur = c,
            }
        }
    }
}

/// Everything the threads of a run share.
pub struct Run {
    pub cfg: Arc<Config>,
    pub targets: Arc<Vec<Target>>,
    pub socks: Sockets,
    pub hosts: Vec<Host>,
    pub demux: Demux,
    pub out: Output,
    pub pacer: Pacer,
    /// The run's nonce and per-target tags: every request's payload and its check.
    pub echo: Echo,
    pub threads: usize,
    pub deadline: Option<u64>,
    /// The sockets loop every request back with its transmit timestamp (`SO_TIMESTAMPING`).
    pub tx_stamps: bool,
    pub interval: u64,
    pub timeout: u64,
    pub(super) base: Instant,
    pub(super) stop: AtomicBool,
    /// Hosts not done yet; the run is over when it reaches zero.
    pub(super) remaining: AtomicUsize,
    pub(super) alive: AtomicUsize,
    pub(super) stop_pipe: (OwnedFd, OwnedFd),
    /// With a `Reporter`: each host's statistics up to the last tick (its `HostState::acc`
    /// holds what came since). Empty without one.
    pub(super) totals: Vec<Mutex<Accum>>,
    /// When the reporter's last tick was (the last report covers the time since).
    pub(super) last_tick: AtomicU64,
    /// The fping personality's counters and lines (issue 11); `None` for pingr's own output.
    pub fping: Option<Arc<report::fping::Board>>,
    /// The periodic report's hook, if any (its thread runs `tick`).
    pub(super) reporter: Option<Arc<dyn Reporter>>,
}

/// fping's `-Q SECS` on the engine's periodic-report hook: the `[HH:MM:SS]` interval report
/// on stderr (or, `-N`, netdata's lines on stdout) from fping's own counters.
pub(super) struct FpingTicks {
    pub board: Arc<report::fping::Board>,
    pub every: Duration,
    pub netdata: bool,
}

impl Reporter for FpingTicks {
    fn every(&self) -> Option<Duration> {
        Some(self.every)
    }

    /// netdata's lines go to stdout with the engine's output; the `-Q` report to stderr.
    /// fping has no last report: its summary follows (main).
    fn report(&self, _: &[Snapshot], last: bool) -> Option<String> {
        if last {
            return None;
        }
        if self.netdata {
            return Some(self.board.netdata());
        }
        let hms = sys::local_hms(super::output::real_ns() / 1_000_000_000);
        let _ = io::stderr()
            .lock()
            .write_all(self.board.splits(hms).as_bytes());
        None
    }
}

/// CLOCK_MONOTONIC-based nanoseconds since `base`.
fn since(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

impl Run {
    pub fn now_ns(&self) -> u64 {
        since(self.base)
    }

    /// Interrupted, stdout failed, or every host done.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Stops every thread now (they see the flag, and the stop pipe wakes their poll).
    pub fn stop_all(&self) {
        self.stop.store(true, Ordering::SeqCst);
        sys::poke(&self.stop_pipe.1);
    }

    pub fn stop_fd(&self) -> BorrowedFd<'_> {
        self.stop_pipe.0.as_fd()
    }

    pub fn sock(&self, ip: IpAddr) -> Option<&IcmpSocket> {
        self.socks.get(Family::of(ip))
    }

    pub fn target_name(&self, host: &Host) -> &str {
        self.targets
            .get(host.target as usize)
            .map(|t| t.name.as_str())
            .unwrap_or("")
    }

    /// The address a host pings (every host's target resolved: see `run`).
    pub fn addr(&self, host: &Host) -> Option<SocketAddr> {
        self.targets
            .get(host.target as usize)
            .and_then(|t| t.addr.as_ref().ok())
            .copied()
    }

    /// Marks the host done if it has sent all its probes and awaits none, at `now`. Returns
    /// true when that made the whole run complete: the caller, once it has dropped the
    /// host's lock, calls `stop_all`.
    pub fn settle(&self, host: &Host, st: &mut HostState, now: u64) -> bool {
        if host.is_done() || st.ring.pending() > 0 {
            return false;
        }
        // fping's default mode: a host is done at its first reply.
        let answered = self.cfg.done_at_first_reply() && st.acc.received > 0;
        if !answered && !self.cfg.count.is_some_and(|c| st.ring.sent() >= c) {
            return false;
        }
        self.finish_host(host, st, now)
    }

    /// The reply timeout of a host's probe `n` (fping's default mode grows it by `-B`).
    pub fn timeout_of(&self, n: u64) -> u64 {
        if self.fping.is_some() {
            self.cfg.probe_timeout(n).as_nanos() as u64
        } else {
            self.timeout
        }
    }

    /// How long after its probe `n` a host's next one is due (fping's default mode: when
    /// `n` times out).
    pub fn spacing(&self, n: u64) -> u64 {
        if self.cfg.done_at_first_reply() {
            self.cfg.probe_spacing(n).as_nanos() as u64
        } else {
            self.interval
        }
    }

    /// Marks the host done (also when `-w` or a stop ends it early).
    fn finish_host(&self, host: &Host, st: &mut HostState, now: u64) -> bool {
        if host.done.swap(true, Ordering::AcqRel) {
            return false;
        }
        st.finished = now;
        self.remaining.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Counts a host's first reply (for the progress line).
    pub fn first_reply(&self) {
        self.alive.fetch_add(1, Ordering::Relaxed);
    }

    fn elapsed(st: &HostState, end: u64) -> u64 {
        match (st.started, st.finished) {
            (NEVER, _) => 0,
            (s, NEVER) => end.saturating_sub(s),
            (s, f) => f.saturating_sub(s),
        }
    }

    /// Host i's statistics of the whole run so far.
    pub(super) fn summary(&self, i: usize, end: u64) -> Summary {
        let Some(host) = self.hosts.get(i) else {
            return Summary::default();
        };
        // With a reporter: the total up to the last tick (merged into an empty accumulator,
        // which copies it), then what came since, in that order.
        let mut total = Accum::default();
        if let Some(t) = self.totals.get(i) {
            total.merge(&lock(t));
        }
        let st = lock(&host.st);
        let elapsed = Self::elapsed(&st, end);
        if self.totals.is_empty() {
            return st.acc.summary(elapsed);
        }
        total.merge(&st.acc);
        total.summary(elapsed)
    }

    /// The reporter thread: one report every `every()`, on an absolute schedule, until the
    /// run stops.
    pub(super) fn tick(&self) {
        let Some(reporter) = &self.reporter else {
            return;
        };
        let Some(every) = reporter.every() else {
            return;
        };
        let every = every.as_nanos().max(1_000_000) as u64;
        let mut next = every;
        loop {
            let now = self.now_ns();
            if now < next {
                let wait = Duration::from_nanos(next - now);
                let _ = sys::poll_in(&[self.stop_fd()], Some(wait), &mut [0]);
            }
            if self.stopped() {
                return;
            }
            let end = self.now_ns();
            if end < next {
                continue;
            }
            next = next.saturating_add(every);
            let snaps = self.snapshots(end, every);
            self.last_tick.store(end, Ordering::Relaxed);
            self.emit_report(reporter.report(&snaps, false));
        }
    }

    /// Every host's snapshot at `end`: its accumulator since the last tick (an interval of
    /// `interval` ns) swapped for an empty one and merged into its total.
    pub(super) fn snapshots(&self, end: u64, interval: u64) -> Vec<Snapshot> {
        let snap = |(i, host): (usize, &Host)| {
            let (recent, elapsed) = {
                let mut st = lock(&host.st);
                (st.acc.take(), Self::elapsed(&st, end))
            };
            let (total, rtts) = match self.totals.get(i) {
                Some(t) => {
                    let mut t = lock(t);
                    t.merge(&recent);
                    (t.summary(elapsed), t.rtts().copied())
                }
                None => (recent.summary(elapsed), recent.rtts().copied()),
            };
            Snapshot {
                target: host.target as usize,
                interval: recent.summary(interval),
                total,
                rtts: rtts.unwrap_or_default(),
            }
        };
        self.hosts.iter().enumerate().map(snap).collect()
    }

    /// A reporter's text for stdout, with the other output (a failed stdout stops the run).
    pub(super) fn emit_report(&self, text: Option<String>) {
        let Some(text) = text else { return };
        let mut lines = Lines {
            out: text,
            ..Default::default()
        };
        if self.out.emit(&mut lines) {
            self.stop_all();
        }
    }

    /// The interim status of every host (SIGQUIT), to stderr.
    pub(super) fn status(&self) {
        if let Some(b) = &self.fping {
            let mut lines = super::output::Lines {
                out: String::new(),
                err: b.splits(sys::local_hms(super::output::real_ns() / 1_000_000_000)),
            };
            let _ = self.out.emit(&mut lines);
            return;
        }
        let now = self.now_ns();
        let mut text = String::new();
        for (i, h) in self.hosts.iter().enumerate() {
            let s = self.summary(i, now);
            text.push_str(&report::status_line(self.target_name(h), &s));
        }
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }

    /// What the whole run should take by its schedule: every host sends `-c` probes `-i`
    /// apart at once, or the gap times every probe, capped by `-w`.
    fn estimate_total(&self) -> Duration {
        let count = self.cfg.count.unwrap_or(1);
        let per_host = self.interval as f64 / 1e9 * count.saturating_sub(1) as f64;
        let by_gap = self.cfg.gap.as_secs_f64() * self.hosts.len() as f64 * count as f64;
        let mut est = per_host.max(by_gap);
        if let Some(d) = self.cfg.deadline {
            est = est.min(d.as_secs_f64());
        }
        Duration::from_secs_f64(est.clamp(0.0, 1e9))
    }

    /// Redraws one status line on stderr (a terminal) every quarter second once the run has
    /// taken two seconds: targets done, answered, elapsed and an estimate of what is left.
    pub(super) fn show_progress(&self) {
        let total = self.hosts.len();
        while !self.stopped() {
            std::thread::sleep(Duration::from_millis(250));
            let elapsed = self.base.elapsed();
            if self.stopped() || elapsed < Duration::from_secs(2) {
                continue;
            }
            let done = total - self.remaining.load(Ordering::Relaxed);
            let alive = self.alive.load(Ordering::Relaxed);
            let left = self.estimate_total().saturating_sub(elapsed).as_secs_f64();
            let line = format!(
                "\r\x1b[Kpingr: {done}/{total} targets done, {alive} answered, {}s elapsed, ~{}s left",
                crate::decimal::fixed(elapsed.as_secs_f64(), 0),
                crate::decimal::fixed(left, 0)
            );
            self.out.with_lock(|| {
                if !self.stopped() {
                    let _ = io::stderr().lock().write_all(line.as_bytes());
                    self.out.progress_shown.store(true, Ordering::SeqCst);
                }
            });
        }
    }
}
