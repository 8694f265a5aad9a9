//! The run: every host at once. `run` builds the parts, spawns the threads and joins them.
//!
//! Parts, each in its own file, with imports pointing one way (mod -> worker -> receive ->
//! output; probes and demux are pure leaves): `probes` (one host's probe ring), `demux`
//! (packet -> host), `receive` (read a socket, parse once, credit the host), `output`
//! (lines and where they go), `worker` (a pure step deciding send / expire / wait / done,
//! and the loop around it that only does I/O).
//!
//! Shape. pingr opens at most one ICMP socket per address family (before privileges are
//! dropped) and every thread shares them. A run has T = min(hosts, `--max-threads`) threads;
//! host h belongs to thread h % T for the whole run, and every host keeps its own schedule
//! (`-c`, `-i`, `-W`). A thread keeps its hosts' next events (next send, earliest expiry) in
//! a heap and sleeps in `ppoll` (nanosecond timeout) until the earliest one, then sends every
//! host due at that instant in one wake-up. `--gap` spreads the run's probes through one
//! shared pacer (each send takes the next free slot, oldest-due host first, so a run where
//! hosts x gap exceeds `-i` stays round-robin fair). Replies are read by whichever thread
//! finds them: every thread drains the sockets right after its sends (a loopback or LAN
//! reply is usually there already), and thread 0 (`READERS`) also waits on the sockets;
//! the reader credits the host through the demultiplexing table and its short per-host
//! lock, without waking the host's thread. On raw sockets thread t's hosts carry
//! ICMP identifier base + t (one contiguous range, no 16-bit wrap); on datagram sockets the
//! kernel owns the identifier and delivers only our replies.
//!
//! Locks and blocking. The calls that can block are `ppoll` (until the next event, a packet,
//! or the stop pipe), `sendto` (while a socket's send buffer is full), `write` to stdout or
//! stderr (a slow terminal or pipe), `sigwait` (the signal thread) and `join`. None runs with
//! a host's lock held: a host lock guards only its ring and statistics and is taken for a
//! few hundred nanoseconds of bookkeeping (a probe is recorded under it, the lock dropped,
//! then the packet sent). The demultiplexing table is immutable, so lookups take no lock.
//! The output lock is held across `write` (its purpose) and never nests with a host lock.
//!
//! Stop. SIGINT, SIGTERM, a failed stdout and the end of the last host set the stop flag and
//! write one byte into the stop pipe, which every thread has in its poll set and nobody
//! drains, so every thread wakes at once; `-w` is an event in every thread's schedule.

pub mod demux;
pub mod output;
pub mod probes;
pub mod receive;
pub mod worker;

use crate::cli::{Config, Format, Show};
use crate::packet::echo::Echo;
use crate::privilege::{IcmpSocket, Kind, Sockets};
use crate::report;
use crate::resolve::Target;
use crate::stats::{Accum, Summary};
use crate::sys;
use demux::Demux;
use output::{lock, real_ns, Output};
use probes::Ring;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many threads wait on the sockets (the others only drain them after their sends). A
/// packet wakes every thread polling its socket, so a second reader doubled the wake-ups of a
/// paced run (S7: CPU 0.70 -> 1.02 s with 2 threads) for no gain: one thread reads as fast as
/// fping's one thread does, and every sender also drains after its sends.
pub const READERS: usize = 1;

/// One host's statistics at a periodic report (see `Reporter`).
// Read by the reporters that plug in here (issues 11 and 12); the engine only fills it.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Index into the run's targets.
    pub target: usize,
    /// Since the previous report (its `elapsed_ns` is the interval).
    pub interval: Summary,
    /// Since the start of the run.
    pub total: Summary,
}

/// A periodic report driven by the engine's clock (the hook for `--every`-style outputs:
/// Prometheus, InfluxDB, fping's `-Q`). Every `every()` from the start, `report` is called
/// from the engine's reporter thread with one snapshot per probed host, in input order; it
/// runs with no engine lock held, so it may write files or block. The engine swaps each
/// host's accumulator for an empty one at the tick and merges it into the host's total, so
/// interval figures (min, max, percentiles included) are exact, not differences.
pub trait Reporter: Send + Sync {
    fn every(&self) -> Duration;
    fn report(&self, snapshots: &[Snapshot]);
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
    pub ident: u16,
    done: AtomicBool,
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
    pub cfg: Config,
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
    base: Instant,
    stop: AtomicBool,
    /// Hosts not done yet; the run is over when it reaches zero.
    remaining: AtomicUsize,
    alive: AtomicUsize,
    stop_pipe: (OwnedFd, OwnedFd),
    /// With a `Reporter`: each host's statistics up to the last tick (its `HostState::acc`
    /// holds what came since). Empty without one.
    totals: Vec<Mutex<Accum>>,
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

    pub fn stop_fd(&self) -> RawFd {
        self.stop_pipe.0.as_raw_fd()
    }

    pub fn sock(&self, ip: IpAddr) -> Option<&IcmpSocket> {
        match ip {
            IpAddr::V4(_) => self.socks.v4.as_ref(),
            IpAddr::V6(_) => self.socks.v6.as_ref(),
        }
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
        if !self.cfg.count.is_some_and(|c| st.ring.sent() >= c) {
            return false;
        }
        self.finish_host(host, st, now)
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
    fn summary(&self, i: usize, end: u64) -> Summary {
        let Some(host) = self.hosts.get(i) else {
            return Summary::default();
        };
        let (recent, elapsed) = {
            let st = lock(&host.st);
            let elapsed = Self::elapsed(&st, end);
            match self.totals.is_empty() {
                true => return st.acc.summary(elapsed),
                false => (st.acc.clone(), elapsed),
            }
        };
        let mut total = self
            .totals
            .get(i)
            .map(|t| lock(t).clone())
            .unwrap_or_default();
        total.merge(&recent);
        total.summary(elapsed)
    }

    /// The reporter thread: one report every `every()`, on an absolute schedule, until the
    /// run stops.
    fn tick(&self, reporter: &dyn Reporter) {
        let every = reporter.every().as_nanos().max(1_000_000) as u64;
        let mut next = every;
        let mut snaps = Vec::with_capacity(self.hosts.len());
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
            snaps.clear();
            for (i, host) in self.hosts.iter().enumerate() {
                let (recent, elapsed) = {
                    let mut st = lock(&host.st);
                    (std::mem::take(&mut st.acc), Self::elapsed(&st, end))
                };
                let total = match self.totals.get(i) {
                    Some(t) => {
                        let mut t = lock(t);
                        t.merge(&recent);
                        t.summary(elapsed)
                    }
                    None => recent.summary(elapsed),
                };
                snaps.push(Snapshot {
                    target: host.target as usize,
                    interval: recent.summary(every),
                    total,
                });
            }
            reporter.report(&snaps);
        }
    }

    /// The interim status of every host (SIGQUIT), to stderr.
    fn status(&self) {
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
    fn show_progress(&self) {
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
                "\r\x1b[Kpingr: {done}/{total} targets done, {alive} answered, {:.0}s elapsed, ~{left:.0}s left",
                elapsed.as_secs_f64()
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

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// How many probes one host can have in flight: enough for timeout / interval, capped by the
/// 16-bit sequence space and by the count (probes 1..=count have distinct places in a ring
/// of count or more, so a one-shot sweep keeps one 24-byte probe a host).
pub fn ring_len(cfg: &Config) -> usize {
    let t = cfg.timeout.as_nanos();
    let i = cfg.interval.as_nanos().max(1);
    let by_time = (t / i + 2).min(65_536) as u64;
    let by_count = cfg.count.unwrap_or(u64::MAX);
    by_time.min(by_count).clamp(1, 65_536).next_power_of_two() as usize
}

/// The number of threads a run of `hosts` resolved targets uses.
pub fn thread_count(cfg: &Config, hosts: usize) -> usize {
    cfg.max_threads.min(hosts).max(1)
}

/// Each target's real period: `-i`, unless several hosts' probes `--gap` apart take longer
/// than that, when a round of every host is the period (so the schedule stays round-robin:
/// host h at h x gap, then every round, and nobody's second probe precedes another's first).
pub fn period(cfg: &Config, hosts: usize) -> Duration {
    if cfg.count == Some(1) || cfg.gap.is_zero() || hosts < 2 {
        return cfg.interval;
    }
    let round = cfg
        .gap
        .saturating_mul(u32::try_from(hosts).unwrap_or(u32::MAX));
    round.max(cfg.interval)
}

/// The one stderr line of a run whose period is longer than `-i`.
fn period_warning(cfg: &Config, hosts: usize) -> Option<String> {
    let p = period(cfg, hosts);
    (p > cfg.interval).then(|| {
        format!(
            "pingr: {hosts} targets x --gap {} ms: each target is probed every {} s, not every {} s (-i); lower --gap or raise -i\n",
            report::g(cfg.gap.as_secs_f64() * 1000.0),
            report::g(p.as_secs_f64()),
            report::g(cfg.interval.as_secs_f64()),
        )
    })
}

/// The outcome of a run.
pub struct RunResult {
    pub summaries: Vec<Option<Summary>>,
    pub broken_pipe: bool,
    pub write_error: Option<io::Error>,
}

/// Runs every host and returns their summaries, in input order. Must be called after the
/// privilege drop, from the main thread, with no other thread running.
pub fn run(cfg: Config, targets: Arc<Vec<Target>>, socks: Sockets) -> io::Result<RunResult> {
    run_with(cfg, targets, socks, None)
}

/// `run`, with a periodic `reporter` (see `Reporter`).
pub fn run_with(
    cfg: Config,
    targets: Arc<Vec<Target>>,
    socks: Sockets,
    reporter: Option<Arc<dyn Reporter>>,
) -> io::Result<RunResult> {
    sys::block_signals(&[sys::SIGINT, sys::SIGTERM, sys::SIGQUIT])?;
    let seed = splitmix(real_ns() ^ (u64::from(sys::pid()) << 32));
    let nonce = seed.to_be_bytes();
    let usable = |t: &Target| match t.addr.as_ref().map(|a| a.ip()) {
        Ok(IpAddr::V4(_)) => socks.v4.is_some(),
        Ok(IpAddr::V6(_)) => socks.v6.is_some(),
        Err(_) => false,
    };
    let nhosts = targets.iter().filter(|t| usable(t)).count();
    // Raw sockets: thread t's hosts use identifier first + t, inside the range chosen before
    // the sockets opened (the kernel filters pass only those).
    let threads = thread_count(&cfg, nhosts).min(socks.idents.len()).max(1);
    let base_ident = socks.idents.first();
    let ring = ring_len(&cfg);
    let mut hosts: Vec<Host> = Vec::with_capacity(nhosts);
    for (target, t) in targets.iter().enumerate() {
        let Ok(addr) = t.addr.as_ref().map(|a| a.ip()) else {
            continue;
        };
        let sock = match addr {
            IpAddr::V4(_) => socks.v4.as_ref(),
            IpAddr::V6(_) => socks.v6.as_ref(),
        };
        let Some(sock) = sock else { continue };
        let ident = match sock.kind {
            Kind::Datagram => sock.ident,
            Kind::Raw => base_ident.wrapping_add((hosts.len() % threads) as u16),
        };
        hosts.push(Host {
            target: target as u32,
            ident,
            done: AtomicBool::new(false),
            st: Mutex::new(HostState {
                ring: Ring::new(ring),
                acc: Accum::default(),
                started: NEVER,
                finished: NEVER,
            }),
        });
    }
    let demux = Demux::new(hosts.iter().map(|h| {
        let ip = targets[h.target as usize].ip();
        (
            ip.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            h.ident,
        )
    }));
    let progress = sys::stderr_is_tty()
        && !cfg.quiet
        && hosts.len() > 1
        && (cfg.count.is_some() || cfg.deadline.is_some());
    let single = targets.len() == 1;
    let out = Output::new(&cfg);
    // Every socket is asked (no short circuit): each one that accepts stamps its sends.
    let mut tx_stamps = true;
    for s in [socks.v4.as_ref(), socks.v6.as_ref()].into_iter().flatten() {
        tx_stamps &= sys::enable_tx_timestamps(&s.fd).is_ok();
    }
    let r = Arc::new(Run {
        echo: Echo::new(nonce, cfg.size, cfg.pattern.clone()),
        pacer: Pacer::new(cfg.gap.as_nanos() as u64),
        deadline: cfg.deadline.map(|d| d.as_nanos() as u64),
        tx_stamps,
        interval: period(&cfg, hosts.len()).as_nanos() as u64,
        timeout: cfg.timeout.as_nanos() as u64,
        remaining: AtomicUsize::new(hosts.len()),
        alive: AtomicUsize::new(0),
        hosts,
        demux,
        out,
        threads,
        base: Instant::now(),
        stop: AtomicBool::new(false),
        stop_pipe: sys::pipe()?,
        totals: match reporter {
            Some(_) => (0..nhosts).map(|_| Mutex::new(Accum::default())).collect(),
            None => Vec::new(),
        },
        cfg,
        targets,
        socks,
    });

    let mut lines = output::Lines::default();
    if let Some(w) = period_warning(&r.cfg, r.hosts.len()) {
        lines.err.push_str(&w);
    }
    let headers = r.out.per_probe_text()
        || (single && r.cfg.format == Format::Text && r.cfg.show == Show::All);
    if headers {
        for h in &r.hosts {
            let Some(a) = r.addr(h) else { continue };
            lines
                .out
                .push_str(&report::header(r.target_name(h), a.ip(), r.cfg.size));
        }
    }
    if r.out.emit(&mut lines) {
        r.stop_all();
    }
    if r.hosts.is_empty() {
        r.stop_all();
    }

    {
        let r = Arc::clone(&r);
        std::thread::Builder::new()
            .name("signals".into())
            .stack_size(64 << 10)
            .spawn(move || {
                let sigs = [sys::SIGINT, sys::SIGTERM, sys::SIGQUIT];
                while let Ok(sig) = sys::wait_signal(&sigs) {
                    if sig == sys::SIGQUIT {
                        r.status();
                    } else {
                        r.stop_all();
                    }
                }
            })?;
    }
    let ticker = match reporter {
        Some(rep) => {
            let r = Arc::clone(&r);
            Some(
                std::thread::Builder::new()
                    .name("reporter".into())
                    .stack_size(256 << 10)
                    .spawn(move || r.tick(rep.as_ref()))?,
            )
        }
        None => None,
    };
    if progress {
        let r = Arc::clone(&r);
        std::thread::Builder::new()
            .name("progress".into())
            .stack_size(64 << 10)
            .spawn(move || r.show_progress())?;
    }
    // Thread 0 is this thread; the others are spawned. A thread that cannot be spawned
    // leaves its hosts to thread 0 (fewer threads still serve every host).
    let mut spawned = Vec::with_capacity(threads.saturating_sub(1));
    let mut orphans: Vec<usize> = Vec::new();
    for t in 1..threads {
        let rr = Arc::clone(&r);
        let b = std::thread::Builder::new()
            .name("hosts".into())
            .stack_size(128 << 10);
        match b.spawn(move || worker::serve(&rr, t, &[])) {
            Ok(h) => spawned.push(h),
            Err(_) => orphans.push(t),
        }
    }
    worker::serve(&r, 0, &orphans);
    for w in spawned {
        let _ = w.join();
    }
    // Every host thread has ended: wake the reporter (it may still be waiting for a tick).
    r.stop_all();
    if let Some(t) = ticker {
        let _ = t.join();
    }
    r.out.clear_progress();
    let end = r.now_ns();
    let mut summaries = vec![None; r.targets.len()];
    for (i, h) in r.hosts.iter().enumerate() {
        if let Some(s) = summaries.get_mut(h.target as usize) {
            *s = Some(r.summary(i, end));
        }
    }
    let (broken_pipe, write_error) = r.out.outcome();
    Ok(RunResult {
        summaries,
        broken_pipe,
        write_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(args: &[&str]) -> Config {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        match crate::cli::parse(&args) {
            Ok(crate::cli::Command::Run(c)) => c,
            _ => panic!("bad test arguments"),
        }
    }

    #[test]
    fn ring_holds_every_probe_in_flight() {
        let mut c = cfg(&["-c", "1", "x"]);
        assert_eq!(ring_len(&c), 1);
        c.count = Some(3);
        assert_eq!(ring_len(&c), 4);
        c.count = None;
        c.interval = Duration::from_millis(10);
        c.timeout = Duration::from_secs(1);
        assert_eq!(ring_len(&c), 128);
        c.interval = Duration::ZERO;
        assert_eq!(ring_len(&c), 65_536);
    }

    #[test]
    fn one_thread_per_host_up_to_the_cap() {
        let c = cfg(&["--max-threads", "8", "x"]);
        assert_eq!(
            (
                thread_count(&c, 3),
                thread_count(&c, 100),
                thread_count(&c, 0)
            ),
            (3, 8, 1)
        );
    }

    struct Collect(Duration, Mutex<Vec<Vec<Snapshot>>>);

    impl Reporter for Collect {
        fn every(&self) -> Duration {
            self.0
        }
        fn report(&self, s: &[Snapshot]) {
            lock(&self.1).push(s.to_vec());
        }
    }

    /// The reporter hook over a real run to 127.0.0.1 (needs a raw socket: root). The
    /// intervals add up to the total, and the run's final summary is that total.
    #[test]
    fn periodic_reports_add_up_to_the_summary() {
        let c = cfg(&["-c", "6", "-i", "0.1", "-q", "127.0.0.1"]);
        let want = crate::privilege::Families {
            v4: true,
            v6: false,
        };
        let idents = crate::bpf::IdentRange::choose(7, 2);
        let opened = crate::privilege::open(want, &c, idents);
        if opened.sockets.v4.is_none() {
            eprintln!("skipped: no ICMP socket (needs root or ping_group_range)");
            return;
        }
        let targets = Arc::new(crate::resolve::targets(&c).unwrap());
        let rep = Arc::new(Collect(Duration::from_millis(150), Mutex::new(Vec::new())));
        let r = run_with(
            c,
            targets,
            opened.sockets,
            Some(rep.clone() as Arc<dyn Reporter>),
        )
        .unwrap();
        let end = r.summaries[0].unwrap();
        let reports = lock(&rep.1).clone();
        assert!(!reports.is_empty());
        let sent: u64 = reports.iter().map(|s| s[0].interval.sent).sum();
        let last = reports.last().unwrap()[0].total;
        assert_eq!(last.sent, sent, "{reports:?}");
        assert!(last.sent <= end.sent && end.sent == 6, "{end:?} {last:?}");
        assert!(last.received <= end.received);
        assert_eq!(reports.iter().map(|s| s[0].target).max(), Some(0));
    }

    #[test]
    fn pacer_hands_out_gap_spaced_slots() {
        let p = Pacer::new(10);
        assert_eq!(p.reserve(5), 5);
        assert_eq!(p.reserve(5), 15);
        assert_eq!(p.reserve(100), 100);
        assert!(!Pacer::new(0).active());
    }

    #[test]
    fn a_gap_too_long_for_the_interval_says_so_once() {
        let c = cfg(&["--gap", "3", "x"]);
        assert_eq!(period_warning(&c, 100), None);
        assert_eq!(
            period_warning(&cfg(&["-i", "0", "x"]), 1),
            None,
            "one target: -i rules"
        );
        let w = period_warning(&c, 1000).unwrap();
        assert!(w.contains("every 3 s, not every 1 s"), "{w}");
        assert_eq!(
            period_warning(&cfg(&["-c", "1", "--gap", "3", "x"]), 1000),
            None
        );
        assert_eq!(period_warning(&cfg(&["--gap", "0", "x"]), 1000), None);
    }
}
