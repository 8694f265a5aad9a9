//! Reports over a long run (`--every`, `--output`): one report per tick, delivered whole.
//!
//! It turns the engine's periodic snapshots (its `Reporter` hook: exact interval and total figures
//! of every host, on the engine's clock) into a [`Report`] in the chosen format, and delivers it:
//! to stdout through the engine, or with `--output FILE` by atomically replacing FILE (a temporary
//! file in the same directory, fsync, rename), so that a collector never reads half a report. The
//! formats are in `report/`; nothing here spawns or keeps time. A write error is one line on
//! stderr, the run goes on, and [`Reporter::failed`] makes the exit status 4.

use crate::cli::{Config, Every, Format, Show};
use crate::engine::{self, Snapshot};
use crate::error::{Call, Error};
use crate::report::interval::{self, Entry, Report};
use crate::report::{influx, prometheus};
use crate::resolve::Target;
use crate::stats::{Rtts, Summary};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Whether a run needs a reporter: interim reports, `--output`, or a monitoring format.
pub fn wanted(cfg: &Config) -> bool {
    cfg.every.is_some()
        || cfg.output.is_some()
        || matches!(cfg.format, Format::Prometheus | Format::Influx)
}

/// Writes `r` in `format`.
fn write_report(format: Format, r: &Report, w: &mut impl Write) -> io::Result<()> {
    match format {
        // The fping personality has no --every: its -Q reports are its own.
        Format::Text | Format::Fping => interval::write_text(r, w),
        Format::Tsv => interval::write_tsv(r, w),
        Format::Json => interval::write_json(r, w),
        Format::Prometheus => prometheus::write(r, w),
        Format::Influx => influx::write(r, w),
    }
}

/// The reports of one run.
pub struct Reporter {
    format: Format,
    every: Option<Every>,
    output: Option<PathBuf>,
    /// `-a`/`-u`: the final report is the list of names, whatever the format.
    names_only: bool,
    /// The run's targets, in input order (every report lists each one).
    targets: Arc<Vec<Target>>,
    start_ns: u64,
    state: Mutex<State>,
}

struct State {
    /// When the last report ended (CLOCK_REALTIME ns): where the next interval starts.
    last_ns: u64,
    failed: bool,
}

impl Reporter {
    /// A reporter for a run that starts at `start_ns` (CLOCK_REALTIME).
    pub fn new(cfg: &Config, targets: &Arc<Vec<Target>>, start_ns: u64) -> Reporter {
        Reporter {
            format: cfg.format,
            every: cfg.every,
            output: cfg.output.as_ref().map(PathBuf::from),
            names_only: cfg.show != Show::All,
            targets: Arc::clone(targets),
            start_ns,
            state: Mutex::new(State {
                last_ns: start_ns,
                failed: false,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether any delivery failed (the run then exits 4).
    pub fn failed(&self) -> bool {
        self.state().failed
    }

    /// Whether the last report is the run's final output (Prometheus, influx), so that no
    /// summary follows it.
    pub fn last_report_is_final(&self) -> bool {
        matches!(self.format, Format::Prometheus | Format::Influx) && !self.names_only
    }

    /// The report ending at `now_ns` of every target, in input order (a target without a
    /// snapshot, one that did not resolve or was not probed, shows zeros). `since_start`:
    /// the span is the run so far, not the interval since the last report.
    fn render(&self, snaps: &[Snapshot], now_ns: u64, since_start: bool) -> Vec<u8> {
        let (zero, none) = (Summary::default(), Rtts::default());
        // The snapshots come in input order, one per probed target (the engine's hosts).
        let mut next = 0;
        let entries: Vec<Entry> = (0..)
            .zip(self.targets.iter())
            .map(|(i, t)| {
                let (interval, total, rtts) = match snaps.get(next).filter(|s| s.target == i) {
                    Some(s) => {
                        next += 1;
                        (&s.interval, &s.total, &s.rtts)
                    }
                    None => (&zero, &zero, &none),
                };
                Entry {
                    name: &t.name,
                    addr: t.ip(),
                    span: if since_start { total } else { interval },
                    total,
                    rtts,
                }
            })
            .collect();
        let mut st = self.state();
        let r = Report {
            start_ns: if since_start {
                self.start_ns
            } else {
                st.last_ns
            },
            end_ns: now_ns,
            since_start,
            entries: &entries,
        };
        let mut out = Vec::new();
        let _ = write_report(self.format, &r, &mut out);
        st.last_ns = now_ns;
        out
    }

    /// The report of one tick, or (`last`) of the end of the run: Prometheus and influx, the
    /// last report (the last interval with `--every`, else the whole run); text, TSV and JSON
    /// (and `-a`/`-u`), the last, partial interval before the final summary (with `--every`,
    /// on stdout), or nothing.
    fn bytes(&self, snaps: &[Snapshot], last: bool, now_ns: u64) -> Option<Vec<u8>> {
        let total = self.every.is_some_and(|e| e.total);
        if !last {
            return Some(self.render(snaps, now_ns, total));
        }
        if self.last_report_is_final() {
            return Some(self.render(snaps, now_ns, self.every.map_or(true, |e| e.total)));
        }
        let partial = self.every.is_some() && self.output.is_none();
        (partial && now_ns > self.state().last_ns).then(|| self.render(snaps, now_ns, total))
    }

    /// Hands a rendered report to `--output` (replacing the file; a failure is one line on
    /// stderr and remembered) or else to `stdout`.
    pub fn deliver(&self, bytes: Vec<u8>, stdout: impl FnOnce(Vec<u8>)) {
        match &self.output {
            None => stdout(bytes),
            Some(path) => {
                if let Err(e) = replace_file(path, &bytes) {
                    self.state().failed = true;
                    let file = crate::report::printable(&path.to_string_lossy()).into_owned();
                    eprintln!("pingr: {}", Error::system(Call::Output(file), e));
                }
            }
        }
    }
}

impl engine::Reporter for Reporter {
    fn every(&self) -> Option<Duration> {
        self.every.map(|e| e.period)
    }

    fn rtt_buckets(&self) -> bool {
        self.format == Format::Prometheus
    }

    fn report(&self, snapshots: &[Snapshot], last: bool) -> Option<String> {
        let bytes = self.bytes(snapshots, last, engine::real_ns())?;
        let mut text = None;
        self.deliver(bytes, |b| {
            text = Some(String::from_utf8_lossy(&b).into_owned())
        });
        text
    }
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
    // `dir/.NAME.PID.tmp` (a second `/` after a root `dir` names the same file).
    let mut tmp = std::ffi::OsString::from(dir);
    tmp.push("/.");
    tmp.push(name);
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
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
    use crate::engine::Reporter as _;
    use crate::stats::Accum;

    fn cfg(args: &[&str]) -> Config {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.push("h".into());
        match crate::cli::parse(&a) {
            Ok(crate::cli::Command::Run(c)) => c,
            _ => panic!("bad test arguments"),
        }
    }

    fn targets() -> Arc<Vec<Target>> {
        let a: Vec<String> = vec!["127.0.0.1".into(), "::1".into()];
        let c = match crate::cli::parse(&a) {
            Ok(crate::cli::Command::Run(c)) => c,
            _ => panic!(),
        };
        Arc::new(crate::resolve::targets(&c).unwrap())
    }

    /// The engine's tick, by hand: target 0's accumulator swapped at each report and merged
    /// into its total.
    struct Host {
        acc: Accum,
        total: Accum,
    }

    impl Host {
        fn new() -> Host {
            Host {
                acc: Accum::with_rtts(),
                total: Accum::default(),
            }
        }
        fn tick(&mut self) -> Vec<Snapshot> {
            let recent = self.acc.take();
            self.total.merge(&recent);
            vec![Snapshot {
                target: 0,
                interval: recent.summary(1),
                total: self.total.summary(1),
                rtts: self.total.rtts().copied().unwrap_or_default(),
            }]
        }
    }

    #[test]
    fn interval_rows_and_cumulative_prometheus_counters() {
        let t = targets();
        let r = Reporter::new(
            &cfg(&["--every", "1", "--format", "tsv"]),
            &t,
            1_000_000_000_000,
        );
        let mut h = Host::new();
        let mut rows = Vec::new();
        for (k, n) in [3u64, 0, 2].iter().enumerate() {
            for _ in 0..*n {
                h.acc.sent += 1;
                h.acc.add_rtt(50_000);
            }
            let now = 1_000_000_000_000 + (k as u64 + 1) * 1_000_000_000;
            rows.push(String::from_utf8(r.bytes(&h.tick(), false, now).unwrap()).unwrap());
        }
        let recv: Vec<u64> = rows
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
        assert!(rows[1]
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("1001.000000\t1002.000000\t127.0.0.1\t"));
        // A target without a snapshot shows zeros.
        assert!(rows[0]
            .lines()
            .nth(2)
            .unwrap()
            .starts_with("1000.000000\t1001.000000\t::1\t::1\t0\t0\t"));

        let p = Reporter::new(&cfg(&["--every", "1", "--format", "prometheus"]), &t, 0);
        assert!(p.rtt_buckets() && p.last_report_is_final());
        let mut h = Host::new();
        let mut last = String::new();
        for _ in 0..3 {
            h.acc.sent += 2;
            h.acc.add_rtt(40_000);
            last = p.report(&h.tick(), false).unwrap();
        }
        let l = "{target=\"127.0.0.1\",address=\"127.0.0.1\",family=\"ipv4\"}";
        assert!(
            last.contains(&format!("pingr_probes_sent_total{l} 6\n")),
            "{last}"
        );
        assert!(
            last.contains(&format!("pingr_rtt_seconds_count{l} 3\n")),
            "{last}"
        );
        assert!(
            last.contains(&format!("pingr_loss_ratio{l} 0.5\n")),
            "{last}"
        );
        // The last report: nothing new, the counters stay, nothing answered in it.
        let end = p.report(&h.tick(), true).unwrap();
        assert!(
            end.contains(&format!("pingr_probes_sent_total{l} 6\n")),
            "{end}"
        );
        assert!(end.contains(&format!("pingr_answered{l} 0\n")), "{end}");
    }

    #[test]
    fn the_last_report_of_text_is_the_partial_interval_or_nothing() {
        let t = targets();
        let r = Reporter::new(&cfg(&["--every", "5"]), &t, 0);
        assert!(!r.last_report_is_final() && !r.rtt_buckets());
        let out = String::from_utf8(r.bytes(&[], true, 3_000_000_000).unwrap()).unwrap();
        assert!(out.contains(": the last 3.000 s ---\n"), "{out}");
        assert_eq!(r.bytes(&[], true, 3_000_000_000), None, "nothing since");
        assert_eq!(Reporter::new(&cfg(&[]), &t, 0).bytes(&[], true, 3), None);
        let names = Reporter::new(&cfg(&["-a", "--format=prometheus"]), &t, 0);
        assert!(!names.last_report_is_final());
        let whole = Reporter::new(&cfg(&["--format=influx"]), &t, 0);
        assert_eq!(whole.every(), None);
        let out = String::from_utf8(whole.bytes(&[], true, 9).unwrap()).unwrap();
        assert_eq!(out.lines().count(), 2, "{out}");
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
        let r = Reporter::new(&c, &t, 0);
        r.deliver(b"x".to_vec(), |_| panic!("not to stdout"));
        assert!(r.failed());
        let _ = fs::remove_dir_all(&dir);
    }
}
