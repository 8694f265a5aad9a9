//! The configuration both grammars produce: `Config` and the types it is made of.
//!
//! Callers name these types `crate::cli::X` (`mod.rs` re-exports them); nothing here parses.

use crate::packet::Family;
use std::net::IpAddr;
use std::time::Duration;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
// Built once per process and moved straight into main; the API is Run(Config).
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Probe, with this configuration.
    Run(Config),
    /// `-h`/`--help`: print [`usage`](super::usage) to stdout and exit 0.
    Help,
    /// `-V`/`--version`: print [`version`](super::version) to stdout and exit 0.
    Version,
}

/// A command-line mistake, by its parts (the option, what it accepts): the one usage error
/// type, [`crate::error::Usage`], under the name the grammars use.
pub use crate::error::{Problem, Usage as CliError};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Tsv,
    Json,
    /// Prometheus text exposition format (node_exporter's textfile collector).
    Prometheus,
    /// InfluxDB line protocol.
    Influx,
    /// fping's lines on fping's streams (the fping personality).
    Fping,
}

/// `--every SECS[,total]`: interim reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Every {
    /// Time between two reports, above 0 up to 86400 s.
    pub period: Duration,
    /// `,total`: each report covers the run since its start, not the last period.
    pub total: bool,
}

/// `-D` / `--timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamps {
    Off,
    Epoch,
    Iso,
}

/// `-M`: path MTU discovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pmtu {
    Do,
    Dont,
    Want,
}

/// Which targets to report: `-a` → `Alive`, `-u` → `Unreachable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    All,
    Alive,
    Unreachable,
}

/// One `-g` block. `addr` is the network address: host bits given on the
/// command line are masked off (`10.0.0.7/24` → `10.0.0.0/24`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// Everything a run needs from the command line, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `-c N`: probes per target, 1..=u64::MAX; `None` = until interrupted or `-w`.
    pub count: Option<u64>,
    /// `-i SECS`: 0..=3600, default 1 s.
    pub interval: Duration,
    /// `-W SECS`: per-probe reply timeout, above 0 up to 3600, default 1 s.
    pub timeout: Duration,
    /// `-w SECS`: whole-run deadline, above 0 up to 1_000_000.
    pub deadline: Option<Duration>,
    /// `-s BYTES`: 0..=65507, or 0..=65527 with `-6`; default 56.
    pub size: usize,
    /// `-t N`: 1..=255; `None` = system default.
    pub ttl: Option<u8>,
    /// `-4` / `-6`: the address family they force.
    pub family: Option<Family>,
    /// `-q`.
    pub quiet: bool,
    /// `-v`.
    pub verbose: bool,
    /// `--max-threads N`: 1..=4096, default 2 (issue 9: measured, bench/results.md).
    pub max_threads: usize,
    /// `-f FILE`, in order; `"-"` (stdin) at most once.
    pub files: Vec<String>,
    /// `-g CIDR`, in order.
    pub cidrs: Vec<Cidr>,
    /// `--gap MS`: minimum time between any two probes of the run, 0..=10000 ms, default 1 ms.
    pub gap: Duration,
    /// `-a` / `-u`.
    pub show: Show,
    /// `--min-alive N`: 1..=1_000_000.
    pub min_alive: Option<u64>,
    /// `--max-loss PCT`: 0..=100, finite.
    pub max_loss: Option<f64>,
    /// `--format`.
    pub format: Format,
    /// `-n`: accepted; pingr never does reverse lookups, so it changes nothing.
    pub numeric: bool,
    /// `-D` / `--timestamp epoch|iso`.
    pub timestamps: Timestamps,
    /// `-O`.
    pub outstanding: bool,
    /// `-I IFACE|ADDR`: 1..=255 bytes, no NUL (not resolved here).
    pub interface: Option<String>,
    /// `-Q TOS`: 0..=255.
    pub tos: Option<u8>,
    /// `-M do|dont|want`.
    pub pmtu: Option<Pmtu>,
    /// `-p HEX`: 1..=16 bytes.
    pub pattern: Option<Vec<u8>>,
    /// Free arguments, verbatim and in order.
    pub targets: Vec<String>,
    // --- monitoring (issue 12)
    /// `--every SECS[,total]`.
    pub every: Option<Every>,
    /// `--output FILE`: each report replaces FILE atomically; 1..=4095 bytes, no NUL.
    pub output: Option<String>,
    /// Called as `fping`/`fping6`: fping's modes and output (issue 11); `None` for pingr's own.
    pub fping: Option<Fping>,
}

pub const MAX_SIZE_V4: u64 = 65_507;
pub const MAX_SIZE_V6: u64 = 65_527;

/// The configuration every option starts from (pingr's defaults).
// Not inlined: the two grammars share one copy (measured: 320 bytes smaller).
#[inline(never)]
pub fn defaults() -> Config {
    Config {
        count: None,
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        deadline: None,
        size: 56,
        ttl: None,
        family: None,
        quiet: false,
        verbose: false,
        max_threads: 2,
        files: Vec::new(),
        cidrs: Vec::new(),
        gap: Duration::from_millis(1),
        show: Show::All,
        min_alive: None,
        max_loss: None,
        format: Format::Text,
        numeric: false,
        timestamps: Timestamps::Off,
        outstanding: false,
        interface: None,
        tos: None,
        pmtu: None,
        pattern: None,
        targets: Vec::new(),
        every: None,
        output: None,
        fping: None,
    }
}

/// fping's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpingMode {
    /// No `-c`/`-C`/`-l`: `is alive` at the first reply, retries with back-off otherwise.
    Default,
    /// `-c N`.
    Count,
    /// `-C N`.
    VCount,
    /// `-l`.
    Loop,
}

/// What fping's grammar asks for beyond the shared fields of [`Config`].
#[derive(Debug, Clone, PartialEq)]
pub struct Fping {
    /// `argv[0]` as invoked: fping prefixes its messages with it.
    pub prog: String,
    pub mode: FpingMode,
    /// `-r N`: retries in the default mode (default 3).
    pub retries: u32,
    /// `-B F`: timeout growth per retry in the default mode (default 1.5; 1 with `-l`).
    pub backoff: f64,
    /// `-e`: the round trip on `is alive` lines.
    pub elapsed: bool,
    /// `-A`: targets shown by address.
    pub addr: bool,
    /// `-m`: every address of a name is a target.
    pub all_addrs: bool,
    /// `-R`: random payload bytes.
    pub random: bool,
    /// `-o`: outage time on the summary lines.
    pub outage: bool,
    /// `-s`: global statistics at the end.
    pub stats: bool,
    /// `-N`: netdata's plugin protocol at each `-Q` interval.
    pub netdata: bool,
    /// `-Q SECS`: the interval report.
    pub report: Option<Duration>,
    /// `-Q SECS,cumulative`: totals since the start rather than per interval.
    pub cumulative: bool,
    /// `-x N` / `-X N`: the verdict on how many hosts answered.
    pub reachable: Option<u64>,
    /// `-X`: stop as soon as `reachable` hosts answered.
    pub fast_reachable: bool,
    /// `-D`: `[epoch] ` before per-reply and timeout lines.
    pub timestamp: bool,
    /// `-p MS`: the period between probes to one host (also the unit of `-o`).
    pub period: Duration,
}

impl Config {
    /// The reply timeout of probe `n` (1, 2, ...): fping's default mode grows it by `-B` at
    /// each retry; every other run has one timeout.
    pub fn probe_timeout(&self, n: u64) -> Duration {
        match &self.fping {
            Some(f) if f.mode == FpingMode::Default && f.backoff > 1.0 => {
                let k = i32::try_from(n.saturating_sub(1))
                    .unwrap_or(i32::MAX)
                    .min(64);
                let ns = self.timeout.as_nanos() as f64 * f.backoff.powi(k);
                Duration::from_nanos(ns.min(1e15) as u64)
            }
            _ => self.timeout,
        }
    }

    /// How long after probe `n` the next one leaves: fping's default mode retries when the
    /// previous probe times out; every other run keeps `-i`.
    pub fn probe_spacing(&self, n: u64) -> Duration {
        match &self.fping {
            Some(f) if f.mode == FpingMode::Default => self.probe_timeout(n),
            _ => self.interval,
        }
    }

    /// fping's default mode: a host is done at its first reply.
    pub fn done_at_first_reply(&self) -> bool {
        self.fping
            .as_ref()
            .is_some_and(|f| f.mode == FpingMode::Default)
    }
}
