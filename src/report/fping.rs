//! fping's output (the fping personality): the per-host counters and the lines made from them.
//!
//! The per-reply, timeout, `is alive`, summary, `-C`, `-Q`, `-N`, `-s` and `-x` lines, byte for
//! byte in fping 5.1's shapes, and the per-host counters they are computed from, kept the way fping
//! keeps them (a probe counts as sent when it is answered or times out, so the loss on a reply line
//! never counts a probe still in flight). [`Board`] holds the counters behind one lock per host for
//! the engine's threads and returns lines for the caller to write (stdout lines and stderr lines
//! apart), never writing itself; the pure texts the lines are made of are in `fping_text.rs`
//! (re-exported here).

pub use super::fping_text::{
    icmp_error_text, netdata_name, push_loss_part, push_tm, reachable_verdict, timestamp, tm,
    unresolved_line,
};
use crate::cli::{Config, FpingMode, Show};
use crate::decimal;
use crate::packet::ErrorKind;
use crate::report::{num, Mark};
use crate::resolve::Target;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// A stream and a line (with its newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Stdout(String),
    Stderr(String),
}

/// One host's counters, as fping keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Probes settled (answered or timed out): fping's `num_sent`.
    pub sent: u64,
    pub recv: u64,
    /// Every echo reply matched to this host, duplicates and late ones too.
    pub recv_total: u64,
    pub total_ns: u64,
    pub min_ns: u64,
    pub max_ns: u64,
    /// The same, since the last `-Q` report.
    pub sent_i: u64,
    pub recv_i: u64,
    pub total_i: u64,
    pub min_i: u64,
    pub max_i: u64,
    /// `-C`: each probe's round trip by its index, `None` for lost.
    pub rtts: Vec<Option<u64>>,
}

impl Tally {
    /// fping's `stats_add`: probe `index` answered in `rtt`, or timed out (`None`).
    pub fn add(&mut self, index: u64, rtt: Option<u64>, keep_rtts: bool) {
        self.sent += 1;
        self.sent_i += 1;
        if keep_rtts {
            let i = usize::try_from(index).unwrap_or(usize::MAX);
            if i < 1 << 24 {
                if self.rtts.len() <= i {
                    self.rtts.resize(i + 1, None);
                }
                if let Some(slot) = self.rtts.get_mut(i) {
                    *slot = rtt;
                }
            }
        }
        let Some(r) = rtt else { return };
        self.recv += 1;
        self.recv_i += 1;
        if self.max_ns == 0 || r > self.max_ns {
            self.max_ns = r;
        }
        if self.max_i == 0 || r > self.max_i {
            self.max_i = r;
        }
        if self.min_ns == 0 || r < self.min_ns {
            self.min_ns = r;
        }
        if self.min_i == 0 || r < self.min_i {
            self.min_i = r;
        }
        self.total_ns = self.total_ns.saturating_add(r);
        self.total_i = self.total_i.saturating_add(r);
    }

    /// `[sent, recv, total, min, max]` of the run, or (`interval`) since the last `-Q` report.
    fn counts(&self, interval: bool) -> [u64; 5] {
        if interval {
            [
                self.sent_i,
                self.recv_i,
                self.total_i,
                self.min_i,
                self.max_i,
            ]
        } else {
            [
                self.sent,
                self.recv,
                self.total_ns,
                self.min_ns,
                self.max_ns,
            ]
        }
    }

    fn reset_interval(&mut self) {
        self.sent_i = 0;
        self.recv_i = 0;
        self.total_i = 0;
        self.min_i = 0;
        self.max_i = 0;
    }

    /// Appends ` (0.041 avg, 0% loss)` of a per-reply or timeout line.
    fn push_running(&self, s: &mut String) {
        s.push_str(" (");
        match self.total_ns.checked_div(self.recv) {
            Some(avg) => push_tm(s, avg),
            None => s.push_str("NaN"),
        }
        s.push_str(" avg, ");
        let (pct, what) = if self.sent == 0 {
            (0, "% loss)")
        } else if self.recv <= self.sent {
            ((self.sent - self.recv) * 100 / self.sent, "% loss)")
        } else {
            (self.recv_total * 100 / self.sent, "% return)")
        };
        num(s, pct);
        s.push_str(what);
    }
}

/// Appends `64 bytes, 0.026 ms`.
fn push_bytes_ms(s: &mut String, bytes: usize, rtt_ns: u64) {
    num(s, bytes as u64);
    s.push_str(" bytes, ");
    push_tm(s, rtt_ns);
    s.push_str(" ms");
}

/// What a reply did to the run (for `-X`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Continue,
    /// `-X N`: N hosts have answered; the run may stop.
    Enough,
}

/// Every host's counters and how to show them: shared by the engine's threads.
pub struct Board {
    mode: FpingMode,
    /// Per-reply and timeout lines (fping's `per_recv_flag`).
    per_recv: bool,
    /// `is alive` / `is unreachable` lines (fping's `verbose_flag`).
    verbose: bool,
    show: Show,
    quiet: bool,
    elapsed: bool,
    stamp: bool,
    outage: Option<u64>,
    fast: Option<u64>,
    cumulative: bool,
    report_secs: f64,
    width: usize,
    /// One per target, in input order.
    hosts: Vec<Host>,
    alive: AtomicUsize,
    timeouts: AtomicU64,
    charts_sent: AtomicBool,
}

/// A target on the board.
struct Host {
    /// The name shown (as given, or the address with `-A`); `None`: unresolved.
    shown: Option<String>,
    /// The name as given, for netdata's chart names.
    given: String,
    tally: Mutex<Tally>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Board {
    /// `None` unless `cfg` is fping's.
    pub fn new(cfg: &Config, targets: &[Target]) -> Option<Board> {
        let f = cfg.fping.as_ref()?;
        let counting = f.mode != FpingMode::Default;
        let verbose = !cfg.quiet && cfg.show == Show::All && f.reachable.is_none();
        let per_recv = match f.mode {
            FpingMode::Default => false,
            FpingMode::Count | FpingMode::VCount => verbose,
            FpingMode::Loop => f.report.is_none(),
        };
        let mut width = 0;
        let mut hosts = Vec::with_capacity(targets.len());
        for t in targets {
            let shown = t.ip().map(|ip| {
                if f.addr {
                    ip.to_string()
                } else {
                    crate::report::printable(&t.name).into_owned()
                }
            });
            width = width.max(shown.as_ref().map_or(0, String::len));
            hosts.push(Host {
                shown,
                given: t.name.clone(),
                tally: Mutex::default(),
            });
        }
        Some(Board {
            mode: f.mode,
            per_recv,
            verbose: verbose && !counting,
            show: if counting { Show::All } else { cfg.show },
            quiet: cfg.quiet,
            elapsed: f.elapsed,
            stamp: f.timestamp,
            outage: f.outage.then_some(f.period.as_nanos() as u64),
            fast: f.reachable.filter(|_| f.fast_reachable),
            cumulative: f.cumulative,
            report_secs: f.report.map_or(0.0, |d| d.as_secs_f64()),
            width,
            hosts,
            alive: AtomicUsize::new(0),
            timeouts: AtomicU64::new(0),
            charts_sent: AtomicBool::new(false),
        })
    }

    fn name(&self, host: usize) -> &str {
        self.hosts
            .get(host)
            .and_then(|h| h.shown.as_deref())
            .unwrap_or("")
    }

    /// Appends the name of `host` padded to the widest name (fping's `%-*s`).
    fn push_padded(&self, s: &mut String, host: usize) {
        let name = self.name(host);
        s.push_str(name);
        let pad = self.width.saturating_sub(name.chars().count());
        s.extend(std::iter::repeat(' ').take(pad));
    }

    /// `[stamp] name : [idx], ` of a per-reply or timeout line.
    fn probe_line(&self, host: usize, idx: u64, real_ns: u64) -> String {
        let mut s = if self.stamp {
            timestamp(real_ns)
        } else {
            String::new()
        };
        self.push_padded(&mut s, host);
        s.push_str(" : [");
        num(&mut s, idx);
        s.push_str("], ");
        s
    }

    fn index(&self, n: u64) -> u64 {
        // The default mode's retries reuse probe index 0, as fping's do.
        if self.mode == FpingMode::Default {
            0
        } else {
            n.saturating_sub(1)
        }
    }

    /// A reply to probe `n` (1, 2, ...) of `host`, `bytes` of ICMP, after `rtt_ns`; marked
    /// `Dup` for a second reply to the same probe, `Late` for one after its timeout. Its
    /// lines are on one stream: an `is alive` line or a per-reply line (or, were both shown,
    /// the two in that order).
    pub fn reply(
        &self,
        host: usize,
        n: u64,
        bytes: usize,
        rtt_ns: u64,
        mark: Mark,
        real_ns: u64,
    ) -> (Option<Out>, After) {
        let Some(cell) = self.hosts.get(host).map(|h| &h.tally) else {
            return (None, After::Continue);
        };
        let idx = self.index(n);
        let mut t = lock(cell);
        t.recv_total += 1;
        if mark == Mark::Dup && self.mode != FpingMode::Loop {
            if self.per_recv {
                return (None, After::Continue);
            }
            let mut s = self.name(host).to_string();
            s.push_str(" : duplicate for [");
            num(&mut s, idx);
            s.push_str("], ");
            push_bytes_ms(&mut s, bytes, rtt_ns);
            s.push('\n');
            return (Some(Out::Stderr(s)), After::Continue);
        }
        if mark == Mark::Late {
            return (None, After::Continue);
        }
        t.add(idx, Some(rtt_ns), self.mode == FpingMode::VCount);
        let mut after = After::Continue;
        let mut s = String::new();
        if t.recv == 1 {
            let alive = self.alive.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fast.is_some_and(|n| alive as u64 >= n) {
                after = After::Enough;
            }
            if self.verbose || self.show == Show::Alive {
                s.push_str(self.name(host));
                if self.verbose {
                    s.push_str(" is alive");
                }
                if self.elapsed {
                    s.push_str(" (");
                    push_tm(&mut s, rtt_ns);
                    s.push_str(" ms)");
                }
                s.push('\n');
            }
        }
        if self.per_recv {
            s.push_str(&self.probe_line(host, idx, real_ns));
            push_bytes_ms(&mut s, bytes, rtt_ns);
            t.push_running(&mut s);
            s.push('\n');
        }
        ((!s.is_empty()).then_some(Out::Stdout(s)), after)
    }

    /// Probe `n` of `host` timed out.
    pub fn timeout(&self, host: usize, n: u64, real_ns: u64) -> Option<Out> {
        let cell = &self.hosts.get(host)?.tally;
        let idx = self.index(n);
        let mut t = lock(cell);
        t.add(idx, None, self.mode == FpingMode::VCount);
        self.timeouts.fetch_add(1, Ordering::Relaxed);
        if !self.per_recv {
            return None;
        }
        let mut s = self.probe_line(host, idx, real_ns);
        s.push_str("timed out");
        t.push_running(&mut s);
        s.push('\n');
        Some(Out::Stdout(s))
    }

    /// Probe `n` of `host` could not be sent: counted as sent and lost (no timeout follows),
    /// and said on stderr in the default mode, as fping does.
    pub fn send_error(&self, host: usize, n: u64, why: &str) -> Option<Out> {
        let cell = &self.hosts.get(host)?.tally;
        lock(cell).add(self.index(n), None, self.mode == FpingMode::VCount);
        self.verbose.then(|| {
            Out::Stderr(format!(
                "{}: error while sending ping: {why}\n",
                self.name(host)
            ))
        })
    }

    /// An ICMP error about a probe to `host` (not with `-q`).
    pub fn icmp_error(&self, host: usize, kind: &ErrorKind, router: Option<IpAddr>) -> Option<Out> {
        if self.quiet {
            return None;
        }
        let from = router.map_or_else(|| "(unknown)".to_string(), |r| r.to_string());
        let s = format!(
            "{} from {from} for ICMP Echo sent to {}\n",
            icmp_error_text(kind),
            self.name(host)
        );
        Some(Out::Stderr(s))
    }

    /// The `-Q` report (and SIGQUIT's): `[HH:MM:SS]`, then a line per host for the interval
    /// (or, `cumulative`, since the start). Resets the interval counters.
    pub fn splits(&self, hms: (u32, u32, u32)) -> String {
        let mut s = String::new();
        if self.verbose || self.per_recv {
            s.push('\n');
        }
        let _ = writeln!(s, "[{:02}:{:02}:{:02}]", hms.0, hms.1, hms.2);
        for (i, h) in self.hosts.iter().enumerate() {
            if h.shown.is_none() {
                continue;
            }
            let mut t = lock(&h.tally);
            self.push_padded(&mut s, i);
            s.push_str(" :");
            push_loss_part(&mut s, t.counts(!self.cumulative), self.outage);
            s.push('\n');
            t.reset_interval();
        }
        s
    }

    /// `-N`: one interval in netdata's external-plugin protocol (charts the first time).
    pub fn netdata(&self) -> String {
        let first = !self.charts_sent.swap(true, Ordering::SeqCst);
        let every = decimal::fixed(self.report_secs, 0);
        let mut s = String::new();
        for h in &self.hosts {
            let Some(host) = &h.shown else {
                continue;
            };
            let name = netdata_name(&h.given);
            let mut t = lock(&h.tally);
            if first {
                let _ = writeln!(s, "CHART fping.{name}_packets '' 'FPing Packets for host {host}' packets '{host}' fping.packets line 110020 {every}");
                s.push_str(
                    "DIMENSION xmt sent absolute 1 1\nDIMENSION rcv received absolute 1 1\n",
                );
            }
            let _ = writeln!(
                s,
                "BEGIN fping.{name}_packets\nSET xmt = {}\nSET rcv = {}\nEND",
                t.sent_i, t.recv_i
            );
            if first {
                let _ = writeln!(s, "CHART fping.{name}_quality '' 'FPing Quality for host {host}' percentage '{host}' fping.quality area 110010 {every}");
                s.push_str("DIMENSION returned '' absolute 1 1\n");
            }
            let returned = (t.recv_i * 100).checked_div(t.sent_i).unwrap_or(0);
            let _ = writeln!(
                s,
                "BEGIN fping.{name}_quality\nSET returned = {returned}\nEND"
            );
            if first {
                let _ = writeln!(s, "CHART fping.{name}_latency '' 'FPing Latency for host {host}' ms '{host}' fping.latency area 110000 {every}");
                s.push_str("DIMENSION min minimum absolute 1 1000000\nDIMENSION max maximum absolute 1 1000000\nDIMENSION avg average absolute 1 1000000\n");
            }
            let _ = writeln!(s, "BEGIN fping.{name}_latency");
            if let Some(avg) = t.total_i.checked_div(t.recv_i) {
                let _ = writeln!(
                    s,
                    "SET min = {}
SET avg = {avg}
SET max = {}",
                    t.min_i, t.max_i
                );
            }
            s.push_str("END\n");
            t.reset_interval();
        }
        s
    }

    /// Whether `host` answered at least once.
    pub fn answered(&self, host: usize) -> bool {
        self.hosts
            .get(host)
            .is_some_and(|h| lock(&h.tally).recv > 0)
    }

    /// How many resolved hosts answered.
    pub fn alive(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    /// What fping prints when the run ends, on each stream: the unreachable list, the `-c`/
    /// `-C`/`-l` summary, `-s`'s statistics, `-x`'s verdict.
    pub fn finish(&self, totals: &Totals) -> (String, String) {
        let (mut out, mut err) = (String::new(), String::new());
        let resolved = || {
            self.hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.shown.is_some())
        };
        let count = resolved().count();
        for (i, _) in resolved() {
            if !self.answered(i) && (self.verbose || self.show == Show::Unreachable) {
                out.push_str(self.name(i));
                if self.verbose {
                    out.push_str(" is unreachable");
                }
                out.push('\n');
            }
        }
        if self.mode != FpingMode::Default {
            if self.verbose || self.per_recv {
                err.push('\n');
            }
            for (i, h) in resolved() {
                let t = lock(&h.tally);
                self.push_padded(&mut err, i);
                err.push_str(" :");
                if self.mode == FpingMode::VCount {
                    for j in 0..t.sent as usize {
                        match t.rtts.get(j).copied().flatten() {
                            Some(r) => {
                                err.push(' ');
                                push_tm(&mut err, r);
                            }
                            None => err.push_str(" -"),
                        }
                    }
                } else {
                    push_loss_part(&mut err, t.counts(false), self.outage);
                }
                err.push('\n');
            }
        }
        if totals.stats {
            let alive = self.alive();
            let (mut min, mut max, mut sum, mut n) = (0u64, 0u64, 0u64, 0u64);
            for (_, h) in resolved() {
                let t = lock(&h.tally);
                if t.recv > 0 {
                    min = if n == 0 { t.min_ns } else { min.min(t.min_ns) };
                    max = max.max(t.max_ns);
                    sum = sum.saturating_add(t.total_ns);
                    n += t.recv;
                }
            }
            let avg = sum.checked_div(n).unwrap_or(0);
            let _ = write!(
                err,
                "\n {:7} targets\n {:7} alive\n {:7} unreachable\n {:7} unknown addresses\n\n {:7} timeouts (waiting for response)\n {:7} ICMP Echos sent\n {:7} ICMP Echo Replies received\n {:7} other ICMP received\n\n {} ms (min round trip time)\n {} ms (avg round trip time)\n {} ms (max round trip time)\n {:>12} sec (elapsed real time)\n\n",
                count,
                alive,
                count - alive.min(count),
                self.hosts.len() - count,
                self.timeouts.load(Ordering::Relaxed),
                totals.echos_sent,
                totals.replies,
                totals.other_icmp,
                tm(min),
                tm(avg),
                tm(max),
                decimal::fixed(totals.elapsed_ns as f64 / 1e9, 3),
            );
        }
        (out, err)
    }
}

/// What `-s` needs from the engine's own counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub stats: bool,
    pub echos_sent: u64,
    pub replies: u64,
    pub other_icmp: u64,
    pub elapsed_ns: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{self, Command};
    use crate::packet::Family;
    use std::net::{Ipv4Addr, SocketAddr};

    #[test]
    fn times_have_three_significant_digits() {
        assert_eq!(tm(40_000), "0.040");
        assert_eq!(tm(26_400), "0.026");
        assert_eq!(tm(999_400), "0.999");
        assert_eq!(tm(1_234_000), "1.23");
        assert_eq!(tm(12_345_000), "12.3");
        assert_eq!(tm(123_456_000), "123");
        assert_eq!(tm(40_714_285_714), "40714");
        assert_eq!(tm(1_234_567_000_000), "1.235e+06");
        assert_eq!(tm(0), "0.000");
    }

    #[test]
    fn timestamps_have_five_decimals() {
        assert_eq!(timestamp(1_796_155_650_133_430_000), "[1796155650.13343] ");
    }

    fn board(args: &[&str], names: &[&str]) -> Board {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(names.iter().map(|s| s.to_string()));
        let Ok(Command::Run(cfg)) = cli::fping::parse("fping", None, &v) else {
            panic!("bad args")
        };
        let targets: Vec<Target> = names
            .iter()
            .enumerate()
            .map(|(i, n)| Target {
                name: n.to_string(),
                addr: if n.ends_with(".invalid") {
                    Err("Name or service not known".into())
                } else {
                    Ok(SocketAddr::from((Ipv4Addr::new(10, 0, 0, i as u8 + 1), 0)))
                },
            })
            .collect();
        Board::new(&cfg, &targets).unwrap()
    }

    fn text(o: Option<&Out>) -> Vec<String> {
        o.into_iter()
            .map(|l| match l {
                Out::Stdout(s) => format!("1:{s}"),
                Out::Stderr(s) => format!("2:{s}"),
            })
            .collect()
    }

    #[test]
    fn count_mode_lines_and_summary() {
        let b = board(&["-c", "3"], &["alpha", "b", "x.invalid"]);
        let (o, _) = b.reply(0, 1, 64, 26_000, Mark::None, 0);
        assert_eq!(
            text(o.as_ref()),
            ["1:alpha : [0], 64 bytes, 0.026 ms (0.026 avg, 0% loss)\n"]
        );
        assert_eq!(
            b.timeout(1, 1, 0),
            Some(Out::Stdout(
                "b     : [0], timed out (NaN avg, 100% loss)\n".into()
            ))
        );
        assert_eq!(
            b.timeout(0, 2, 0),
            Some(Out::Stdout(
                "alpha : [1], timed out (0.026 avg, 50% loss)\n".into()
            ))
        );
        let (o, _) = b.reply(0, 3, 64, 56_000, Mark::None, 0);
        assert_eq!(
            text(o.as_ref()),
            ["1:alpha : [2], 64 bytes, 0.056 ms (0.041 avg, 33% loss)\n"]
        );
        // A duplicate in count mode is dropped silently when per-reply lines are shown.
        assert!(b.reply(0, 3, 64, 60_000, Mark::Dup, 0).0.is_none());
        let (out, err) = b.finish(&Totals::default());
        assert_eq!(out, "");
        assert_eq!(
            err,
            "\nalpha : xmt/rcv/%loss = 3/2/33%, min/avg/max = 0.026/0.041/0.056\nb     : xmt/rcv/%loss = 1/0/100%\n"
        );
    }

    #[test]
    fn vcount_values_are_the_reply_strings() {
        let b = board(&["-C", "3", "-q"], &["h", "silent"]);
        assert!(b.reply(0, 1, 64, 62_000, Mark::None, 0).0.is_none());
        assert_eq!(b.timeout(0, 2, 0), None);
        b.reply(0, 3, 64, 28_400, Mark::None, 0);
        b.timeout(1, 1, 0);
        b.timeout(1, 2, 0);
        // With -q a duplicate is reported on stderr, unpadded.
        let (o, _) = b.reply(0, 3, 64, 30_000, Mark::Dup, 0);
        assert_eq!(
            text(o.as_ref()),
            ["2:h : duplicate for [2], 64 bytes, 0.030 ms\n"]
        );
        let (_, err) = b.finish(&Totals::default());
        assert_eq!(err, "h      : 0.062 - 0.028\nsilent : - -\n");
    }

    #[test]
    fn default_mode_alive_unreachable_and_verdicts() {
        let b = board(&["-e"], &["up", "down"]);
        let (o, after) = b.reply(0, 2, 64, 38_000, Mark::None, 0);
        assert_eq!(text(o.as_ref()), ["1:up is alive (0.038 ms)\n"]);
        assert_eq!(after, After::Continue);
        assert_eq!(b.timeout(1, 1, 0), None);
        let (out, err) = b.finish(&Totals::default());
        assert_eq!((out.as_str(), err.as_str()), ("down is unreachable\n", ""));
        let b = board(&["-a"], &["up", "down"]);
        assert_eq!(
            text(b.reply(0, 1, 64, 1, Mark::None, 0).0.as_ref()),
            ["1:up\n"]
        );
        assert_eq!(b.finish(&Totals::default()).0, "");
        let b = board(&["-u"], &["up", "down"]);
        assert!(b.reply(0, 1, 64, 1, Mark::None, 0).0.is_none());
        assert_eq!(b.finish(&Totals::default()).0, "down\n");
        let b = board(&["-X", "1"], &["up", "down"]);
        assert_eq!(b.reply(0, 1, 64, 1, Mark::None, 0).1, After::Enough);
        assert_eq!(
            reachable_verdict(2, 1),
            (
                "Not enough hosts reachable (required: 2, reachable: 1)\n".into(),
                1
            )
        );
    }

    #[test]
    fn loop_outage_timestamps_and_splits() {
        let b = board(&["-l", "-o", "-p", "250", "-D"], &["h"]);
        let (o, _) = b.reply(0, 1, 64, 1_500_000, Mark::None, 1_796_155_650_133_430_000);
        assert_eq!(
            text(o.as_ref()),
            ["1:[1796155650.13343] h : [0], 64 bytes, 1.50 ms (1.50 avg, 0% loss)\n"]
        );
        // Loop mode takes a duplicate as a reply, as fping does.
        assert!(b.reply(0, 1, 64, 1_600_000, Mark::Dup, 0).0.is_some());
        b.timeout(0, 2, 0);
        assert_eq!(
            b.splits((9, 5, 7)),
            "\n[09:05:07]\nh : xmt/rcv/%loss = 3/2/33%, outage(ms) = 250, min/avg/max = 1.50/1.55/1.60\n"
        );
        // The interval counters start again; the totals do not.
        assert_eq!(
            b.splits((9, 5, 8)),
            "\n[09:05:08]\nh : xmt/rcv/%loss = 0/0/0%, outage(ms) = 0\n"
        );
        let (_, err) = b.finish(&Totals::default());
        assert!(err.ends_with(
            "h : xmt/rcv/%loss = 3/2/33%, outage(ms) = 250, min/avg/max = 1.50/1.55/1.60\n"
        ));
    }

    #[test]
    fn netdata_charts_once_then_values() {
        let b = board(&["-l", "-Q", "1", "-N"], &["a.b-c"]);
        b.reply(0, 1, 64, 2_000_000, Mark::None, 0);
        let first = b.netdata();
        assert!(first.starts_with("CHART fping.a_b_c_packets '' 'FPing Packets for host a.b-c' packets 'a.b-c' fping.packets line 110020 1\n"));
        assert!(first.contains("BEGIN fping.a_b_c_latency\nSET min = 2000000\nSET avg = 2000000\nSET max = 2000000\nEND\n"));
        let second = b.netdata();
        assert!(!second.contains("CHART"));
        assert!(second.contains("SET xmt = 0\nSET rcv = 0\n"));
    }

    #[test]
    fn send_errors_count_as_lost() {
        let b = board(&[], &["h"]);
        assert_eq!(
            b.send_error(0, 1, "Network is unreachable"),
            Some(Out::Stderr(
                "h: error while sending ping: Network is unreachable\n".into()
            ))
        );
        let b = board(&["-C", "2", "-q"], &["h"]);
        assert_eq!(b.send_error(0, 1, "x"), None);
        b.reply(0, 2, 64, 1_000_000, Mark::None, 0);
        assert_eq!(b.finish(&Totals::default()).1, "h : - 1.00\n");
    }

    #[test]
    fn errors_and_global_stats() {
        let b = board(&[], &["h"]);
        assert_eq!(
            b.icmp_error(
                0,
                &ErrorKind::Unreachable(Family::V4, 1),
                Some(IpAddr::from([10, 0, 0, 254]))
            ),
            Some(Out::Stderr(
                "ICMP Host Unreachable from 10.0.0.254 for ICMP Echo sent to h\n".into()
            ))
        );
        assert_eq!(
            board(&["-q"], &["h"]).icmp_error(0, &ErrorKind::SourceQuench, None),
            None
        );
        assert_eq!(
            unresolved_line("::1", "address family not allowed by -4/-6"),
            "::1: Address family for hostname not supported\n"
        );
        let b = board(&["-s"], &["h", "n.invalid"]);
        b.reply(0, 1, 64, 50_000, Mark::None, 0);
        let t = Totals {
            stats: true,
            echos_sent: 1,
            replies: 1,
            other_icmp: 0,
            elapsed_ns: 12_000_000,
        };
        let (_, err) = b.finish(&t);
        assert_eq!(err, "\n       1 targets\n       1 alive\n       0 unreachable\n       1 unknown addresses\n\n       0 timeouts (waiting for response)\n       1 ICMP Echos sent\n       1 ICMP Echo Replies received\n       0 other ICMP received\n\n 0.050 ms (min round trip time)\n 0.050 ms (avg round trip time)\n 0.050 ms (max round trip time)\n        0.012 sec (elapsed real time)\n\n");
    }
}
