//! Reports over a long run (issue 12): the state one report needs from the one before (each
//! target's counters at the last report, its fixed-bucket round trips so far), turning the
//! engine's snapshots into a [`report::interval::Report`], and delivering it: to stdout
//! through the caller, or with `--output FILE` by atomically replacing FILE (a temporary file
//! in the same directory, fsync, rename), so that a collector never reads half a report.
//!
//! The engine's part is small: accumulators made `with_window`, a function that snapshots
//! every target, and one thread running [`every`] on the engine's run clock (one schedule for
//! every format; nothing here spawns). The formats are in `report/`. A write error is one line
//! on stderr, the run goes on, and [`Reporter::failed`] makes the exit status 4.

use crate::cli::{Config, Every, Format, Show};
use crate::report::interval::{self, Entry, Report};
use crate::resolve::Target;
use crate::stats::{self, Counts, Rtts, Snapshot, Summary};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Whether the engine must keep per-report round-trip windows (`Accum::with_window`): for
/// interval reports, and for the Prometheus histogram.
pub fn wants_windows(cfg: &Config) -> bool {
    cfg.every.is_some() || cfg.format == Format::Prometheus
}

/// What a report run needs between two reports.
pub struct Reporter {
    format: Format,
    every: Option<Every>,
    output: Option<PathBuf>,
    /// `-a`/`-u`: the final report is the list of names, whatever the format.
    names_only: bool,
    names: Vec<(String, Option<std::net::IpAddr>)>,
    /// Each target's cumulative summary at the last report (counts of the next interval start
    /// there; and the last known figures of a host the snapshot missed).
    last: Vec<Summary>,
    /// Each target's round trips over the run so far.
    rtts: Vec<Rtts>,
    start_ns: u64,
    last_ns: u64,
    failed: bool,
}

impl Reporter {
    /// A reporter for a run that starts at `start_ns` (CLOCK_REALTIME).
    pub fn new(cfg: &Config, targets: &[Target], start_ns: u64) -> Reporter {
        Reporter {
            format: cfg.format,
            every: cfg.every,
            output: cfg.output.as_ref().map(PathBuf::from),
            names_only: cfg.show != Show::All,
            names: targets.iter().map(|t| (t.name.clone(), t.ip())).collect(),
            last: vec![Summary::default(); targets.len()],
            rtts: vec![Rtts::default(); targets.len()],
            start_ns,
            last_ns: start_ns,
            failed: false,
        }
    }

    /// Whether any delivery failed (the run then exits 4).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Folds the snapshots (one per target, input order; None: not probed yet, or missed this
    /// time) into the state and renders the report that ends at `now_ns`. `since_start`: the
    /// span is the run so far, not the interval since the last report.
    fn render(&mut self, snaps: &[Option<Snapshot>], now_ns: u64, since_start: bool) -> Vec<u8> {
        let elapsed = now_ns.saturating_sub(self.last_ns);
        let mut spans = Vec::with_capacity(self.names.len());
        for (i, prev) in self.last.iter_mut().enumerate() {
            let snap = snaps.get(i).copied().flatten();
            let now = snap.map_or(*prev, |s| s.total);
            let window = snap.and_then(|s| s.window);
            if let (Some(w), Some(acc)) = (window.as_ref(), self.rtts.get_mut(i)) {
                acc.absorb(w);
            }
            spans.push(if since_start {
                now
            } else {
                stats::interval(&Counts::of(prev), &now, window.as_ref(), elapsed)
            });
            *prev = now;
        }
        let entries: Vec<Entry> = self
            .names
            .iter()
            .zip(&spans)
            .zip(self.last.iter().zip(&self.rtts))
            .map(|(((name, addr), span), (total, rtts))| Entry {
                name,
                addr: *addr,
                span,
                total,
                rtts,
            })
            .collect();
        let r = Report {
            start_ns: if since_start {
                self.start_ns
            } else {
                self.last_ns
            },
            end_ns: now_ns,
            since_start,
            entries: &entries,
        };
        let mut out = Vec::new();
        let _ = interval::write(self.format, &r, &mut out);
        self.last_ns = now_ns;
        out
    }

    /// The interim report of one tick (`--every`).
    pub fn interim(&mut self, snaps: &[Option<Snapshot>], now_ns: u64) -> Vec<u8> {
        let total = self.every.is_some_and(|e| e.total);
        self.render(snaps, now_ns, total)
    }

    /// The end of the run, from the final snapshots. Prometheus and influx: the last report
    /// (the last interval with `--every`, else the whole run). Text, TSV and JSON (and any
    /// format with `-a`/`-u`): the report of the last, partial interval (`--every`, on
    /// stdout, when it is not empty), then `summary`, the final summary, unchanged.
    pub fn finish(
        &mut self,
        snaps: &[Option<Snapshot>],
        now_ns: u64,
        summary: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<Vec<u8>> {
        match self.format {
            Format::Prometheus | Format::Influx if !self.names_only => {
                let since_start = self.every.map_or(true, |e| e.total);
                Ok(self.render(snaps, now_ns, since_start))
            }
            _ => {
                let mut out = Vec::new();
                if self.every.is_some() && self.output.is_none() && now_ns > self.last_ns {
                    out = self.interim(snaps, now_ns);
                }
                summary(&mut out)?;
                Ok(out)
            }
        }
    }

    /// Hands a rendered report to `--output` (replacing the file; a failure is one line on
    /// stderr and remembered) or else to `stdout`.
    pub fn deliver(&mut self, bytes: Vec<u8>, stdout: impl FnOnce(Vec<u8>)) {
        match &self.output {
            None => stdout(bytes),
            Some(path) => {
                if let Err(e) = replace_file(path, &bytes) {
                    self.failed = true;
                    eprintln!(
                        "pingr: --output {}: {}",
                        crate::report::printable(&path.to_string_lossy()),
                        crate::privilege::short(&e)
                    );
                }
            }
        }
    }
}

/// Set once when the run ends; wakes the periodic reporter at once.
#[derive(Default)]
pub struct Stop {
    done: Mutex<bool>,
    cv: Condvar,
}

impl Stop {
    pub fn set(&self) {
        *self.done.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cv.notify_all();
    }

    /// Waits until `clock()` reaches `due` (ns) or the stop; true if stopped.
    fn wait_until(&self, due: u64, clock: &impl Fn() -> u64) -> bool {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let now = clock();
            if *done || now >= due {
                return *done;
            }
            done = self
                .cv
                .wait_timeout(done, Duration::from_nanos(due - now))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

/// The periodic report (`--every`), run on a thread of the engine: at every multiple of
/// `period` on `clock` (the engine's run clock, ns since its start) it takes `snapshots()`
/// of every target and delivers the report (to `stdout`, the engine's output, or to
/// `--output`). A tick that comes late (a slow write) is skipped, never bunched. Returns the
/// reporter when `stop` is set.
pub fn every(
    mut rep: Reporter,
    period: Duration,
    stop: &Stop,
    clock: impl Fn() -> u64,
    snapshots: impl Fn() -> Vec<Option<Snapshot>>,
    stdout: impl Fn(Vec<u8>),
) -> Reporter {
    let period = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX).max(1);
    let mut due = period;
    while !stop.wait_until(due, &clock) {
        let bytes = rep.interim(&snapshots(), crate::engine::real_ns());
        rep.deliver(bytes, &stdout);
        due = next_tick(due, clock(), period);
    }
    rep
}

/// The first multiple of `period` after both `due` and `now`.
fn next_tick(due: u64, now: u64, period: u64) -> u64 {
    (now / period)
        .saturating_add(1)
        .saturating_mul(period)
        .max(due.saturating_add(period))
}

/// Replaces `path` with `bytes` atomically: a temporary file beside it (hidden, not ending
/// in `.prom`, so a textfile collector never reads it), fsync, rename over `path`, fsync of
/// the directory. Mode 0644: the collector usually runs as another user.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // The rename itself is durable once the directory is synced; not every file system
        // lets a directory be synced, and the data is in place either way.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    let r = write();
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Accum;

    fn cfg(args: &[&str]) -> Config {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.push("h".into());
        match crate::cli::parse(&a) {
            Ok(crate::cli::Command::Run(c)) => c,
            _ => panic!("bad test arguments"),
        }
    }

    fn targets() -> Vec<Target> {
        let a: Vec<String> = vec!["127.0.0.1".into(), "::1".into()];
        let c = match crate::cli::parse(&a) {
            Ok(crate::cli::Command::Run(c)) => c,
            _ => panic!(),
        };
        crate::resolve::targets(&c).unwrap()
    }

    #[test]
    fn intervals_add_up_and_prometheus_counters_are_cumulative() {
        let t = targets();
        let c = cfg(&["--every", "1", "--format", "tsv"]);
        let mut r = Reporter::new(&c, &t, 1_000_000_000_000);
        let mut a = Accum::with_window();
        let mut tsv_rows = Vec::new();
        for (k, n) in [3u64, 0, 2].iter().enumerate() {
            for _ in 0..*n {
                a.sent += 1;
                a.add_rtt(50_000 + k as u64);
            }
            let snaps = [Some(a.snapshot(0)), None];
            let out = String::from_utf8(
                r.interim(&snaps, 1_000_000_000_000 + (k as u64 + 1) * 1_000_000_000),
            )
            .unwrap();
            tsv_rows.push(out);
        }
        let recv: Vec<u64> = tsv_rows
            .iter()
            .map(|o| {
                o.lines()
                    .nth(1)
                    .unwrap()
                    .split('\t')
                    .nth(5)
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(recv, [3, 0, 2]);
        assert!(tsv_rows[1]
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("1001.000000\t1002.000000\t127.0.0.1\t"));
        // The target never snapshotted reports zeros.
        assert!(tsv_rows[0]
            .lines()
            .nth(2)
            .unwrap()
            .starts_with("1000.000000\t1001.000000\t::1\t::1\t0\t0\t"));

        let mut p = Reporter::new(&cfg(&["--every", "1", "--format", "prometheus"]), &t, 0);
        let mut a = Accum::with_window();
        let mut last = String::new();
        for _ in 0..3 {
            a.sent += 2;
            a.add_rtt(40_000);
            last = String::from_utf8(p.interim(&[Some(a.snapshot(0)), None], 1)).unwrap();
        }
        assert!(last.contains("pingr_probes_sent_total{target=\"127.0.0.1\",address=\"127.0.0.1\",family=\"ipv4\"} 6\n"));
        assert!(last.contains("pingr_rtt_seconds_count{target=\"127.0.0.1\",address=\"127.0.0.1\",family=\"ipv4\"} 3\n"));
        assert!(last.contains(
            "pingr_loss_ratio{target=\"127.0.0.1\",address=\"127.0.0.1\",family=\"ipv4\"} 0.5\n"
        ));
        let end = p.finish(&[None, None], 2, |_| Ok(())).unwrap();
        // Nothing new: counters stay, the last report answered nothing.
        let end = String::from_utf8(end).unwrap();
        assert!(end.contains("pingr_probes_sent_total{target=\"127.0.0.1\",address=\"127.0.0.1\",family=\"ipv4\"} 6\n"));
        assert!(end.contains(
            "pingr_answered{target=\"127.0.0.1\",address=\"127.0.0.1\",family=\"ipv4\"} 0\n"
        ));
    }

    #[test]
    fn finish_adds_the_last_partial_interval_before_the_summary() {
        let t = targets();
        let mut r = Reporter::new(&cfg(&["--every", "5"]), &t, 0);
        let out = r
            .finish(&[None, None], 3_000_000_000, |w| w.write_all(b"SUMMARY\n"))
            .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(": the last 3.000 s ---\n"), "{out}");
        assert!(out.ends_with("SUMMARY\n"));
        let mut r = Reporter::new(&cfg(&[]), &t, 0);
        let out = r
            .finish(&[None, None], 3, |w| w.write_all(b"SUMMARY\n"))
            .unwrap();
        assert_eq!(out, b"SUMMARY\n");
    }

    #[test]
    fn ticks_keep_to_the_schedule_and_stop_at_once() {
        assert_eq!(next_tick(10, 10, 10), 20);
        assert_eq!(next_tick(10, 12, 10), 20);
        // A write that took 2.5 periods: the ticks it overran are skipped.
        assert_eq!(next_tick(10, 35, 10), 40);
        assert_eq!(next_tick(u64::MAX - 1, 0, 10), u64::MAX);
        // A clock that jumps a period at each reading: one report per tick, no waiting,
        // until the stop (set by the third delivery) ends the loop.
        let t = targets();
        let stop = Stop::default();
        let now = std::cell::Cell::new(0u64);
        let clock = || {
            now.set(now.get() + 1_000);
            now.get()
        };
        let delivered = std::cell::Cell::new(0);
        let rep = Reporter::new(&cfg(&["--every", "0.000001", "--format", "tsv"]), &t, 0);
        let _ = every(
            rep,
            Duration::from_micros(1),
            &stop,
            clock,
            || vec![None, None],
            |b| {
                assert!(b.starts_with(b"start\tend\t"));
                delivered.set(delivered.get() + 1);
                if delivered.get() == 3 {
                    stop.set();
                }
            },
        );
        assert_eq!(delivered.get(), 3);
        // Stopped before the first tick: nothing.
        let stop = Stop::default();
        stop.set();
        let rep = Reporter::new(&cfg(&["--every", "1"]), &t, 0);
        let _ = every(
            rep,
            Duration::from_secs(1),
            &stop,
            || 0,
            || panic!("no tick"),
            |_| panic!("no report"),
        );
    }

    #[test]
    fn files_are_replaced_whole_and_failures_remembered() {
        let dir = std::env::temp_dir().join(format!("pingr-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.prom");
        replace_file(&f, b"one\n").unwrap();
        replace_file(&f, b"two\n").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two\n");
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
        let t = targets();
        let mut c = cfg(&[]);
        c.output = Some(dir.join("missing/x.prom").to_string_lossy().into_owned());
        let mut r = Reporter::new(&c, &t, 0);
        r.deliver(b"x".to_vec(), |_| panic!("not to stdout"));
        assert!(r.failed());
        let _ = fs::remove_dir_all(&dir);
    }
}
