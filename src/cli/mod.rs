//! Command-line interface: the one [`Config`] both grammars produce, the types it is made
//! of, and the choice of grammar by program name. pingr's own (iputils-shaped) options are in
//! [`ping`], fping's (when called as `fping` or `fping6`) in [`fping`], and the pure value
//! parsers they share in [`values`]. Everything here is pure: no I/O, no name resolution, no
//! sockets; `main` prints the texts and errors, and exits.

pub mod fping;
pub mod ping;
pub mod values;

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

pub use ping::{parse, usage, version};

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
// Built once per process and moved straight into main; the API is Run(Config).
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Probe, with this configuration.
    Run(Config),
    /// `-h`/`--help`: print [`usage`] to stdout and exit 0.
    Help,
    /// `-V`/`--version`: print [`version`] to stdout and exit 0.
    Version,
}

/// A command-line mistake. `Display` prints the message only (one line);
/// `main` prefixes it with `pingr: ` and exits with status 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

/// Address family forced by `-4` or `-6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Tsv,
    Json,
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
    /// `-4` / `-6`.
    pub family: Option<Family>,
    /// `-q`.
    pub quiet: bool,
    /// `-v`.
    pub verbose: bool,
    /// `--max-threads N`: 1..=4096, default 256.
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
}

pub const MAX_SIZE_V4: u64 = 65_507;
pub const MAX_SIZE_V6: u64 = 65_527;

/// The configuration every option starts from (pingr's defaults).
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
        max_threads: 256,
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
    }
}
