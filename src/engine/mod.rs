//! The run: every host at once. `run` builds the parts, spawns the threads and joins them.
//!
//! Parts, each in its own file, with imports pointing one way (mod -> worker -> receive ->
//! state -> output; probes and demux are pure leaves; no part imports this file):
//! `probes` (one host's probe ring), `demux` (packet -> host), `state` (the run state the
//! threads share), `receive` (read a socket, parse once, credit the host), `output` (lines
//! and where they go), `worker` (a pure step deciding send / expire / wait / done, and the
//! loop around it that only does I/O).
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
pub mod state;
pub mod worker;

use crate::cli::{Config, Format, Show};
use crate::packet::echo::Echo;
use crate::packet::Family;
use crate::privilege::{Kind, Sockets};
use crate::report;
use crate::resolve::Target;
use crate::stats::{Accum, Summary};
use crate::sys;
use demux::Demux;
pub use output::real_ns;
use output::Output;
use probes::Ring;
use state::{Host, HostState, Pacer, Run, NEVER};
pub use state::{Reporter, Snapshot};
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    // -W and -i are at most an hour: their nanoseconds fit a u64.
    let t = cfg.timeout.as_nanos() as u64;
    let i = (cfg.interval.as_nanos() as u64).max(1);
    let by_time = (t / i).saturating_add(2).min(65_536);
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

/// Starts one of the run's threads (`stack_kib` of stack) running `job(&run, arg)`.
fn spawn(
    r: &Arc<Run>,
    name: &str,
    stack_kib: usize,
    job: fn(&Run, usize),
    arg: usize,
) -> io::Result<std::thread::JoinHandle<()>> {
    let r = Arc::clone(r);
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(stack_kib << 10)
        .spawn(move || job(&r, arg))
}

/// The signal thread: SIGQUIT prints the status, SIGINT and SIGTERM stop the run.
fn signals(r: &Run, _: usize) {
    let sigs = [sys::SIGINT, sys::SIGTERM, sys::SIGQUIT];
    while let Ok(sig) = sys::wait_signal(&sigs) {
        if sig == sys::SIGQUIT {
            r.status();
        } else {
            r.stop_all();
        }
    }
}

/// The outcome of a run.
pub struct RunResult {
    pub summaries: Vec<Option<Summary>>,
    pub broken_pipe: bool,
    pub write_error: Option<io::Error>,
    pub fping: Option<Arc<report::fping::Board>>,
}

/// Runs every host and returns their summaries, in input order, with an optional periodic
/// `reporter` (see `Reporter`). Must be called after the privilege drop, from the main
/// thread, with no other thread running.
pub fn run_with(
    cfg: Arc<Config>,
    targets: Arc<Vec<Target>>,
    socks: Sockets,
    reporter: Option<Arc<dyn Reporter>>,
) -> io::Result<RunResult> {
    sys::block_signals(&[sys::SIGINT, sys::SIGTERM, sys::SIGQUIT])?;
    let seed = splitmix(real_ns() ^ (u64::from(sys::pid()) << 32));
    let nonce = seed.to_be_bytes();
    let usable = |t: &Target| t.ip().is_some_and(|ip| socks.get(Family::of(ip)).is_some());
    let nhosts = targets.iter().filter(|t| usable(t)).count();
    // Raw sockets: thread t's hosts use identifier first + t, inside the range chosen before
    // the sockets opened (the kernel filters pass only those).
    let threads = thread_count(&cfg, nhosts).min(socks.idents.len()).max(1);
    let ring = ring_len(&cfg);
    let mut hosts: Vec<Host> = Vec::with_capacity(nhosts);
    for (target, t) in targets.iter().enumerate() {
        let Ok(addr) = t.addr.as_ref().map(|a| a.ip()) else {
            continue;
        };
        let Some(sock) = socks.get(Family::of(addr)) else {
            continue;
        };
        let ident = match sock.kind {
            Kind::Datagram => sock.ident,
            Kind::Raw => socks.idents.nth(hosts.len() % threads),
        };
        hosts.push(Host {
            target: target as u32,
            ident,
            done: AtomicBool::new(false),
            st: Mutex::new(HostState {
                ring: Ring::new(ring),
                acc: if reporter.as_ref().is_some_and(|r| r.rtt_buckets()) {
                    Accum::with_rtts()
                } else {
                    Accum::default()
                },
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
        && cfg.fping.is_none()
        && !cfg.quiet
        && hosts.len() > 1
        && (cfg.count.is_some() || cfg.deadline.is_some());
    let single = targets.len() == 1;
    let out = Output::new(&cfg);
    let fping = report::fping::Board::new(&cfg, &targets).map(Arc::new);
    // fping reports every -Q SECS (-N: netdata's lines) in its count and loop modes only.
    let ticks = cfg
        .fping
        .as_ref()
        .filter(|f| f.mode != crate::cli::FpingMode::Default);
    let reporter = match (ticks.and_then(|f| f.report), &fping) {
        (Some(every), Some(board)) if reporter.is_none() => Some(Arc::new(state::FpingTicks {
            board: Arc::clone(board),
            every,
            netdata: ticks.is_some_and(|f| f.netdata),
        }) as Arc<dyn Reporter>),
        _ => reporter,
    };
    // Every socket is asked (no short circuit): each one that accepts stamps its sends.
    let mut tx_stamps = true;
    for s in [&socks.v4, &socks.v6] {
        let Some(s) = s else { continue };
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
        last_tick: AtomicU64::new(0),
        // A running total per host for a reporter, none without one.
        totals: (0..if reporter.is_some() { nhosts } else { 0 })
            .map(|_| Mutex::new(Accum::default()))
            .collect(),
        fping,
        reporter,
        cfg,
        targets,
        socks,
    });

    let mut lines = output::Lines::default();
    // fping prints no such note: its consumers read every line.
    let note = period_warning(&r.cfg, r.hosts.len()).filter(|_| r.fping.is_none());
    if let Some(w) = note {
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

    // Every thread but this one is one `job(&run, arg)` through `spawn` (one closure type).
    spawn(&r, "signals", 64, signals, 0)?;
    let ticker = match r.reporter {
        Some(_) => Some(spawn(&r, "reporter", 256, |r, _| r.tick(), 0)?),
        None => None,
    };
    if progress {
        spawn(&r, "progress", 64, |r, _| r.show_progress(), 0)?;
    }
    // Thread 0 is this thread; the others are spawned. A thread that cannot be spawned
    // leaves its hosts to thread 0 (fewer threads still serve every host).
    let mut spawned = Vec::with_capacity(threads.saturating_sub(1));
    let mut orphans: Vec<usize> = Vec::new();
    for t in 1..threads {
        match spawn(&r, "hosts", 128, |r, t| worker::serve(r, t, &[]), t) {
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
    // The last report: the time since the last tick, once every host thread has ended.
    if let Some(rep) = &r.reporter {
        let since = end.saturating_sub(r.last_tick.load(Ordering::Relaxed));
        let snaps = r.snapshots(end, since);
        r.emit_report(rep.report(&snaps, true));
    }
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
        fping: r.fping.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::output::lock;
    use super::state::Snapshot;
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
        fn every(&self) -> Option<Duration> {
            Some(self.0)
        }
        fn report(&self, s: &[Snapshot], _last: bool) -> Option<String> {
            lock(&self.1).push(s.to_vec());
            None
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
        let (opened, _) = crate::privilege::open(want, &c, idents);
        if opened.sockets.v4.is_none() {
            eprintln!("skipped: no ICMP socket (needs root or ping_group_range)");
            return;
        }
        let targets = Arc::new(crate::resolve::targets(&c).unwrap());
        let rep = Arc::new(Collect(Duration::from_millis(150), Mutex::new(Vec::new())));
        let r = run_with(
            Arc::new(c),
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
        // The last report comes after every host thread: it is the final summary.
        assert_eq!(last, end, "{reports:?}");
        assert_eq!(end.sent, 6);
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
