//! Command-line interface: the option table, [`Config`], range validation of
//! every option value, and the `--help` and `--version` texts. Parsing runs on
//! `getopts`; this module checks every value against its documented range and
//! turns each mistake into one [`CliError`] line that names the option, what
//! it accepts and what was given. It is pure: it does no I/O (it never opens a
//! `-f` file or prints), it resolves no names (targets are passed through
//! verbatim, in order) and it opens no sockets. `main` prints the texts and
//! errors, and exits.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use getopts::{Fail, Options};

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
    /// Prometheus text exposition format (node_exporter's textfile collector).
    Prometheus,
    /// InfluxDB line protocol.
    Influx,
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
    /// `-4` / `-6`.
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
}

const MAX_SIZE_V4: u64 = 65_507;
const MAX_SIZE_V6: u64 = 65_527;
const NANOS_PER_SEC: u32 = 9; // decimal digits of a second kept: nanoseconds
const NANOS_PER_MS: u32 = 6; // decimal digits of a millisecond kept: nanoseconds
const SYNOPSIS: &str = "usage: pingr [OPTIONS] TARGET...";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Probing,
    Targets,
    Output,
    Compat,
    Other,
}

const GROUPS: [(Group, &str); 5] = [
    (Group::Probing, "Probing"),
    (Group::Targets, "Targets"),
    (Group::Output, "Output"),
    (Group::Compat, "ping compatibility"),
    (Group::Other, "Other"),
];

/// One row of the option table. An empty `hint` means a flag (no value).
struct Spec {
    group: Group,
    short: &'static str,
    long: &'static str,
    hint: &'static str,
    help: &'static str,
}

impl Spec {
    fn takes_value(&self) -> bool {
        !self.hint.is_empty()
    }
}

const fn spec(
    group: Group,
    short: &'static str,
    long: &'static str,
    hint: &'static str,
    help: &'static str,
) -> Spec {
    Spec {
        group,
        short,
        long,
        hint,
        help,
    }
}

/// The single source of truth: getopts, the help/version pre-scan and
/// [`usage`] are all built from this table. `\n` in `help` continues the
/// description on the next line.
const SPECS: &[Spec] = &[
    spec(
        Group::Probing,
        "c",
        "count",
        "N",
        "stop after N probes to each target\n(default: until interrupted or -w)",
    ),
    spec(
        Group::Probing,
        "i",
        "interval",
        "SECS",
        "wait between probes to one target, 0-3600 (default: 1)",
    ),
    spec(
        Group::Probing,
        "W",
        "timeout",
        "SECS",
        "wait this long for each reply, up to 3600 (default: 1)",
    ),
    spec(
        Group::Probing,
        "w",
        "deadline",
        "SECS",
        "stop the whole run after SECS (default: no limit)",
    ),
    spec(
        Group::Probing,
        "s",
        "size",
        "BYTES",
        "payload size, 0-65507; 0-65527 with -6 (default: 56)",
    ),
    spec(
        Group::Probing,
        "t",
        "ttl",
        "N",
        "IP time to live / hop limit, 1-255 (default: system)",
    ),
    spec(Group::Probing, "4", "", "", "use IPv4 only"),
    spec(Group::Probing, "6", "", "", "use IPv6 only"),
    spec(
        Group::Probing,
        "",
        "gap",
        "MS",
        "least time between any two probes of the run,\n0-10000 (default: 1)",
    ),
    spec(
        Group::Probing,
        "",
        "max-threads",
        "N",
        "use at most N threads, 1-4096 (default: 2)",
    ),
    spec(
        Group::Targets,
        "f",
        "file",
        "FILE",
        "read targets from FILE, one per line; '-' reads stdin\n(repeatable)",
    ),
    spec(
        Group::Targets,
        "g",
        "generate",
        "CIDR",
        "probe every address in CIDR (repeatable):\nIPv4 /8 to /32, IPv6 /112 to /128",
    ),
    spec(Group::Output, "q", "quiet", "", "print only the summary"),
    spec(Group::Output, "v", "verbose", "", "print more detail"),
    spec(
        Group::Output,
        "a",
        "alive",
        "",
        "report only targets that replied",
    ),
    spec(
        Group::Output,
        "u",
        "unreachable",
        "",
        "report only targets that did not reply",
    ),
    spec(
        Group::Output,
        "",
        "format",
        "FORMAT",
        "text, tsv, json, prometheus or influx\n(default: text)",
    ),
    spec(
        Group::Output,
        "",
        "every",
        "SECS",
        "also report every SECS (above 0, up to 86400) on\nthat interval; SECS,total: since the start",
    ),
    spec(
        Group::Output,
        "",
        "output",
        "FILE",
        "write each report to FILE, replacing it atomically",
    ),
    spec(
        Group::Output,
        "",
        "timestamp",
        "KIND",
        "prefix lines with the time: epoch or iso\n(default: off)",
    ),
    spec(
        Group::Output,
        "",
        "min-alive",
        "N",
        "fail unless at least N targets reply, 1-1000000",
    ),
    spec(
        Group::Output,
        "",
        "max-loss",
        "PCT",
        "fail if packet loss is above PCT percent, 0-100",
    ),
    spec(Group::Compat, "D", "", "", "same as --timestamp epoch"),
    spec(
        Group::Compat,
        "n",
        "",
        "",
        "numeric output (no-op: pingr never looks up names\nfor addresses)",
    ),
    spec(
        Group::Compat,
        "O",
        "outstanding",
        "",
        "report a probe left unanswered after -W",
    ),
    spec(
        Group::Compat,
        "I",
        "",
        "IFACE|ADDR",
        "send from this interface or source address",
    ),
    spec(
        Group::Compat,
        "Q",
        "",
        "TOS",
        "type of service / traffic class, 0-255 or 0x00-0xff",
    ),
    spec(
        Group::Compat,
        "M",
        "",
        "MODE",
        "path MTU discovery: do, dont or want",
    ),
    spec(
        Group::Compat,
        "p",
        "",
        "HEX",
        "fill the payload with a pattern of 1-16 bytes given\nas hex digits (e.g. ff00)",
    ),
    spec(
        Group::Compat,
        "U",
        "",
        "",
        "accepted and ignored (times are always taken as\nclose to the wire as possible)",
    ),
    spec(Group::Other, "h", "help", "", "print this help and exit"),
    spec(
        Group::Other,
        "V",
        "version",
        "",
        "print the version and exit",
    ),
];

/// `--version` text: name and version, then one line on what pingr is.
/// No trailing newline.
pub fn version() -> String {
    format!(
        "pingr {}\nleast-privilege ICMP echo (ping) for many hosts at once",
        env!("CARGO_PKG_VERSION")
    )
}

/// `--help` text, built from the option table so that it lists every option
/// exactly as accepted. No trailing newline.
pub fn usage() -> String {
    let left = |s: &Spec| -> String {
        let name = match (s.short.is_empty(), s.long.is_empty()) {
            (false, false) => format!("-{}, --{}", s.short, s.long),
            (false, true) => format!("-{}", s.short),
            _ => format!("    --{}", s.long),
        };
        if s.takes_value() {
            format!("  {name} {}", s.hint)
        } else {
            format!("  {name}")
        }
    };
    let width = SPECS.iter().map(|s| left(s).len()).max().unwrap_or(0) + 2;

    let mut out = String::new();
    out.push_str(SYNOPSIS);
    out.push_str("\n       pingr [OPTIONS] {-f FILE | -g CIDR}... [TARGET...]\n");
    out.push_str("\nSend ICMP echo requests (ping) to one or many hosts and report replies.\n");
    out.push_str("SECS and MS take fractions (e.g. 0.2). Repeated options: the last one wins,\nexcept -f and -g, which add up.\n");
    for (group, title) in GROUPS {
        out.push('\n');
        out.push_str(title);
        out.push_str(":\n");
        for s in SPECS.iter().filter(|s| s.group == group) {
            let mut lines = s.help.lines();
            let first = lines.next().unwrap_or("");
            out.push_str(&format!("{:<width$}{first}\n", left(s)));
            for more in lines {
                out.push_str(&format!("{:<width$}{more}\n", ""));
            }
        }
    }
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    out
}

/// Parse the arguments that follow `argv[0]`.
///
/// `-h`/`--help` anywhere (as an option, not as a value such as `-I -h` and
/// not after `--`) yields [`Command::Help`], even if other arguments are
/// wrong; otherwise `-V`/`--version` likewise yields [`Command::Version`].
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let scan = prescan(args);
    if scan.help {
        return Ok(Command::Help);
    }
    if scan.version {
        return Ok(Command::Version);
    }
    if let Some(err) = scan.error {
        return Err(err);
    }

    let mut opts = Options::new();
    for s in SPECS {
        if s.takes_value() {
            opts.optmulti(s.short, s.long, s.help, s.hint);
        } else {
            opts.optflagmulti(s.short, s.long, s.help);
        }
    }
    let m = opts.parse(args).map_err(fail_to_error)?;
    build(&m).map(Command::Run)
}

/// What the pre-scan found: help/version requests (which win over all
/// errors) and unknown options, reported with their exact spelling.
struct Scan {
    help: bool,
    version: bool,
    error: Option<CliError>,
}

fn find_short(c: char) -> Option<&'static Spec> {
    SPECS
        .iter()
        .find(|s| s.short.chars().eq(std::iter::once(c)))
}

fn find_long(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| !s.long.is_empty() && s.long == name)
}

/// Walk the arguments the way getopts will (same value-taking rules, stops
/// at `--`), to find `-h`/`-V` even when getopts would fail first, and to
/// refuse unknown options by their exact spelling. It also refuses a
/// one-letter long option such as `--c`, which getopts would silently take
/// as `-c`.
fn prescan(args: &[String]) -> Scan {
    let mut scan = Scan {
        help: false,
        version: false,
        error: None,
    };
    fn unknown(scan: &mut Scan, spelled: &str) {
        if scan.error.is_none() {
            scan.error = Some(CliError(format!(
                "unknown option '{}' (see pingr --help)",
                shown(spelled)
            )));
        }
    }
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            break;
        }
        if arg.len() < 2 || !arg.starts_with('-') {
            continue;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, _)) => (n, true),
                None => (body, false),
            };
            // getopts would take a one-letter `--c` as `-c`; find_long
            // never matches one letter, so it is refused here instead.
            match find_long(name) {
                Some(s) => {
                    if !inline {
                        match s.short {
                            "h" => scan.help = true,
                            "V" => scan.version = true,
                            _ => {}
                        }
                        if s.takes_value() {
                            rest.next(); // its value
                        }
                    }
                }
                _ => {
                    let spelled = if inline && !name.is_empty() {
                        format!("--{name}")
                    } else {
                        arg.clone()
                    };
                    unknown(&mut scan, &spelled);
                }
            }
        } else {
            for (j, c) in arg.char_indices().skip(1) {
                match find_short(c) {
                    None => {
                        unknown(&mut scan, &format!("-{c}"));
                        break;
                    }
                    Some(s) if s.takes_value() => {
                        if j + c.len_utf8() == arg.len() {
                            rest.next(); // its value
                        }
                        break;
                    }
                    Some(s) => match s.short {
                        "h" => scan.help = true,
                        "V" => scan.version = true,
                        _ => {}
                    },
                }
            }
        }
    }
    scan
}

/// Spelling of an option name as getopts reports it.
fn dashed(name: &str) -> String {
    if name.chars().count() == 1 {
        format!("-{}", shown(name))
    } else {
        format!("--{}", shown(name))
    }
}

fn fail_to_error(f: Fail) -> CliError {
    CliError(match f {
        Fail::ArgumentMissing(n) => format!("{}: missing value", dashed(&n)),
        Fail::UnrecognizedOption(n) => {
            format!("unknown option '{}' (see pingr --help)", dashed(&n))
        }
        Fail::UnexpectedArgument(n) => format!("{}: does not take a value", dashed(&n)),
        Fail::OptionDuplicated(n) => format!("{}: given more than once", dashed(&n)),
        Fail::OptionMissing(n) => format!("{}: required", dashed(&n)),
    })
}

/// A user-supplied string made safe for a one-line message: control
/// characters (newline, NUL, …) escaped, long values cut short.
fn shown(s: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out: String = s
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if s.chars().nth(MAX_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

fn bad(opt: &str, expected: &str, got: &str) -> CliError {
    CliError(format!("{opt}: expected {expected}, got '{}'", shown(got)))
}

fn defaults() -> Config {
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
    }
}

/// Validate every occurrence of a single-valued option (so a bad earlier
/// value is still refused) and keep the last, like ping.
fn last<T>(
    m: &getopts::Matches,
    key: &str,
    mut check: impl FnMut(&str) -> Result<T, CliError>,
) -> Result<Option<T>, CliError> {
    let mut value = None;
    for v in m.opt_strs(key) {
        value = Some(check(&v)?);
    }
    Ok(value)
}

fn build(m: &getopts::Matches) -> Result<Config, CliError> {
    let mut c = defaults();

    c.family = match (m.opt_present("4"), m.opt_present("6")) {
        (true, true) => return Err(CliError("-4 and -6 cannot be used together".into())),
        (true, false) => Some(Family::V4),
        (false, true) => Some(Family::V6),
        (false, false) => None,
    };
    c.show = match (m.opt_present("a"), m.opt_present("u")) {
        (true, true) => return Err(CliError("-a and -u cannot be used together".into())),
        (true, false) => Show::Alive,
        (false, true) => Show::Unreachable,
        (false, false) => Show::All,
    };
    c.quiet = m.opt_present("q");
    c.verbose = m.opt_present("v");
    c.numeric = m.opt_present("n");
    c.outstanding = m.opt_present("O");
    // -U: accepted and ignored.

    c.count = last(m, "c", |v| uint(v, "-c", 1, u64::MAX))?;
    if let Some(d) = last(m, "i", |v| seconds(v, "-i", 3600, true))? {
        c.interval = d;
    }
    if let Some(d) = last(m, "W", |v| seconds(v, "-W", 3600, false))? {
        c.timeout = d;
    }
    c.deadline = last(m, "w", |v| seconds(v, "-w", 1_000_000, false))?;
    let max_size = if c.family == Some(Family::V6) {
        MAX_SIZE_V6
    } else {
        MAX_SIZE_V4
    };
    if let Some(n) = last(m, "s", |v| size(v, max_size))? {
        c.size = n;
    }
    c.ttl = last(m, "t", |v| small(v, "-t", 1))?;
    if let Some(n) = last(m, "max-threads", |v| uint(v, "--max-threads", 1, 4096))? {
        c.max_threads = usize::try_from(n).unwrap_or(4096);
    }
    if let Some(d) = last(m, "gap", gap)? {
        c.gap = d;
    }

    let mut stdin_seen = false;
    for v in m.opt_strs("f") {
        if v.is_empty() || v.contains(['\0', '\u{FFFD}']) {
            return Err(bad("-f", "a file name or '-' for standard input", &v));
        }
        if v == "-" {
            if stdin_seen {
                return Err(CliError(
                    "-f: standard input ('-') can be given only once".into(),
                ));
            }
            stdin_seen = true;
        }
        c.files.push(v);
    }
    for v in m.opt_strs("g") {
        c.cidrs.push(cidr(&v, c.family)?);
    }

    c.min_alive = last(m, "min-alive", |v| uint(v, "--min-alive", 1, 1_000_000))?;
    c.max_loss = last(m, "max-loss", percent)?;
    if let Some(f) = last(m, "format", |v| match v {
        "text" => Ok(Format::Text),
        "tsv" => Ok(Format::Tsv),
        "json" => Ok(Format::Json),
        "prometheus" => Ok(Format::Prometheus),
        "influx" => Ok(Format::Influx),
        _ => Err(bad("--format", "text, tsv, json, prometheus or influx", v)),
    })? {
        c.format = f;
    }
    c.every = last(m, "every", every)?;
    c.output = last(m, "output", |v| {
        if v.is_empty() || v.len() > 4095 || v.contains(['\0', '\u{FFFD}']) || v.ends_with('/') {
            Err(bad("--output", "a file name of 1 to 4095 bytes", v))
        } else {
            Ok(v.to_owned())
        }
    })?;
    c.timestamps = timestamps(m)?;
    c.interface = last(m, "I", |v| {
        if v.is_empty() || v.len() > 255 || v.contains(['\0', '\u{FFFD}']) {
            Err(bad(
                "-I",
                "an interface name or address of 1 to 255 bytes",
                v,
            ))
        } else {
            Ok(v.to_owned())
        }
    })?;
    c.tos = last(m, "Q", tos)?;
    c.pmtu = last(m, "M", |v| match v {
        "do" => Ok(Pmtu::Do),
        "dont" => Ok(Pmtu::Dont),
        "want" => Ok(Pmtu::Want),
        _ => Err(bad("-M", "do, dont or want", v)),
    })?;
    c.pattern = last(m, "p", pattern)?;

    c.targets = m.free.clone();
    if c.targets.is_empty() && c.files.is_empty() && c.cidrs.is_empty() {
        return Err(CliError(format!("no target given ({SYNOPSIS})")));
    }
    Ok(c)
}

/// `-D` and `--timestamp KIND`: the one given last wins; every
/// `--timestamp` value must be valid.
fn timestamps(m: &getopts::Matches) -> Result<Timestamps, CliError> {
    let mut latest: Option<(usize, Timestamps)> = m
        .opt_positions("D")
        .into_iter()
        .max()
        .map(|p| (p, Timestamps::Epoch));
    for (pos, v) in m.opt_strs_pos("timestamp") {
        let t = match v.as_str() {
            "epoch" => Timestamps::Epoch,
            "iso" => Timestamps::Iso,
            _ => return Err(bad("--timestamp", "epoch or iso", &v)),
        };
        if latest.map_or(true, |(p, _)| pos >= p) {
            latest = Some((pos, t));
        }
    }
    Ok(latest.map_or(Timestamps::Off, |(_, t)| t))
}

/// A plain decimal whole number: ASCII digits only (no sign, spaces or
/// underscores), leading zeros allowed. Anything past `u64::MAX` is simply
/// out of range.
fn uint(v: &str, opt: &str, min: u64, max: u64) -> Result<u64, CliError> {
    let err = || bad(opt, &format!("a whole number from {min} to {max}"), v);
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(err()),
    }
}

fn small(v: &str, opt: &str, min: u8) -> Result<u8, CliError> {
    let n = uint(v, opt, u64::from(min), 255)?;
    u8::try_from(n).map_err(|_| bad(opt, &format!("a whole number from {min} to 255"), v))
}

fn size(v: &str, max: u64) -> Result<usize, CliError> {
    let n = uint(v, "-s", 0, max).map_err(|_| {
        let expected = if max == MAX_SIZE_V4 {
            format!("a whole number from 0 to {MAX_SIZE_V4} ({MAX_SIZE_V6} with -6)")
        } else {
            format!("a whole number from 0 to {max}")
        };
        bad("-s", &expected, v)
    })?;
    usize::try_from(n).map_err(|_| bad("-s", "a smaller size", v))
}

/// A non-negative decimal `WHOLE[.FRACTION]` (either part may be empty, not
/// both) scaled by `10^scale` and truncated: with `scale` = 9, seconds come
/// back as nanoseconds. `None` if malformed or above `max_whole`, which is
/// checked on the digits before any arithmetic, so nothing can overflow.
/// No sign, exponent, `nan`/`inf`, comma or spaces.
fn fixed(v: &str, scale: u32, max_whole: u64) -> Option<u64> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 19 {
        return None; // above every bound; would not fit a u64
    }
    let w: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    if w > max_whole || (w == max_whole && frac.bytes().any(|b| b != b'0')) {
        return None;
    }
    let mut f: u64 = 0;
    for k in 0..scale as usize {
        let d = frac.as_bytes().get(k).map_or(0, |b| u64::from(b - b'0'));
        f = f.checked_mul(10)?.checked_add(d)?;
    }
    w.checked_mul(10u64.checked_pow(scale)?)?.checked_add(f)
}

fn seconds(v: &str, opt: &str, max: u64, zero_ok: bool) -> Result<Duration, CliError> {
    match fixed(v, NANOS_PER_SEC, max) {
        Some(ns) if ns > 0 || zero_ok => Ok(Duration::from_nanos(ns)),
        _ if zero_ok => Err(bad(opt, &format!("seconds from 0 to {max} (e.g. 0.2)"), v)),
        _ => Err(bad(
            opt,
            &format!("seconds greater than 0 and up to {max} (e.g. 0.5)"),
            v,
        )),
    }
}

fn gap(v: &str) -> Result<Duration, CliError> {
    fixed(v, NANOS_PER_MS, 10_000)
        .map(Duration::from_nanos)
        .ok_or_else(|| bad("--gap", "milliseconds from 0 to 10000 (e.g. 0.5)", v))
}

fn percent(v: &str) -> Result<f64, CliError> {
    let err = || bad("--max-loss", "a percentage from 0 to 100 (e.g. 2.5)", v);
    // Same strict grammar and exact bound check as durations, in billionths (digits
    // beyond the ninth are dropped, as for durations). Dividing two exact doubles
    // (< 2^53) rounds correctly, so 2.5 is 2.5; and no float parser is linked in
    // (f64::from_str and its tables cost 18 KiB of a release binary; issue 13).
    let billionths = fixed(v, 9, 100).ok_or_else(err)?;
    Ok(billionths as f64 / 1e9)
}

/// `--every SECS[,total]`: seconds above 0 up to a day.
fn every(v: &str) -> Result<Every, CliError> {
    let (secs, total) = match v.split_once(',') {
        Some((s, "total")) => (s, true),
        Some(_) => return Err(bad("--every", "SECS or SECS,total (e.g. 60)", v)),
        None => (v, false),
    };
    let period = seconds(secs, "--every", 86_400, false).map_err(|_| {
        bad(
            "--every",
            "seconds greater than 0 and up to 86400, then optionally ,total (e.g. 60)",
            v,
        )
    })?;
    Ok(Every { period, total })
}

/// `-Q`: decimal, or hex after `0x`/`0X`, 0..=255.
fn tos(v: &str) -> Result<u8, CliError> {
    let err = || bad("-Q", "a number from 0 to 255 (decimal or 0x hex)", v);
    let hex = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"));
    let (digits, radix) = match hex {
        Some(h) => (h, 16),
        None => (v, 10),
    };
    if digits.is_empty() || !digits.chars().all(|ch| ch.is_digit(radix)) {
        return Err(err());
    }
    u8::from_str_radix(digits, radix).map_err(|_| err())
}

/// `-p`: 1 to 32 hex digits, read in pairs from the left. As in iputils
/// (which reads the pattern with `%2x` conversions), a final unpaired digit
/// is a byte of its own: `abc` → `[0xab, 0x0c]`, `f` → `[0x0f]`.
fn pattern(v: &str) -> Result<Vec<u8>, CliError> {
    let err = || bad("-p", "1 to 32 hex digits (1 to 16 bytes, e.g. ff00)", v);
    if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err());
    }
    v.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(err)
        })
        .collect()
}

/// `-g ADDR/PREFIX`. Host bits are masked off. With `-4`/`-6`, a block of
/// the other family is refused.
fn cidr(v: &str, family: Option<Family>) -> Result<Cidr, CliError> {
    let err = || bad("-g", "ADDRESS/PREFIX (e.g. 10.0.0.0/24 or fd00::/120)", v);
    let (addr, prefix) = v.split_once('/').ok_or_else(err)?;
    let addr: IpAddr = addr.parse().map_err(|_| err())?;
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let prefix: u8 = prefix.parse().map_err(|_| err())?;
    let (lo, hi, name) = match addr {
        IpAddr::V4(_) => (8, 32, "IPv4"),
        IpAddr::V6(_) => (112, 128, "IPv6"),
    };
    if !(lo..=hi).contains(&prefix) {
        return Err(bad("-g", &format!("an {name} prefix from {lo} to {hi}"), v));
    }
    let addr = match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    };
    match (family, addr) {
        (Some(Family::V4), IpAddr::V6(_)) => Err(CliError(format!(
            "-g: '{}' is IPv6 but -4 was given",
            shown(v)
        ))),
        (Some(Family::V6), IpAddr::V4(_)) => Err(CliError(format!(
            "-g: '{}' is IPv4 but -6 was given",
            shown(v)
        ))),
        _ => Ok(Cidr { addr, prefix }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    fn parsed(a: &[&str]) -> Result<Command, CliError> {
        parse(&args(a))
    }

    /// Parse `a` plus one target; must succeed.
    fn cfg(a: &[&str]) -> Config {
        let mut v = args(a);
        v.push("host".into());
        match parse(&v) {
            Ok(Command::Run(c)) => c,
            other => panic!("{a:?}: expected Run, got {other:?}"),
        }
    }

    /// Parse `a` plus one target; must fail. Returns the message.
    fn err(a: &[&str]) -> String {
        let mut v = args(a);
        v.push("host".into());
        match parse(&v) {
            Err(e) => {
                assert!(!e.0.contains('\n'), "multi-line error: {e:?}");
                e.to_string()
            }
            other => panic!("{a:?}: expected an error, got {other:?}"),
        }
    }

    const COUNT_MSG: &str = "expected a whole number from 1 to 18446744073709551615";

    #[test]
    fn defaults_are_as_documented() {
        let c = cfg(&[]);
        assert_eq!(c, {
            let mut d = defaults();
            d.targets = vec!["host".into()];
            d
        });
        assert_eq!(c.count, None);
        assert_eq!(c.interval, Duration::from_secs(1));
        assert_eq!(c.timeout, Duration::from_secs(1));
        assert_eq!(c.deadline, None);
        assert_eq!(c.size, 56);
        assert_eq!(c.ttl, None);
        assert_eq!(c.family, None);
        assert!(!c.quiet);
        assert!(!c.verbose);
        assert_eq!(c.max_threads, 2);
        assert!(c.files.is_empty());
        assert!(c.cidrs.is_empty());
        assert_eq!(c.gap, Duration::from_millis(1));
        assert_eq!(c.show, Show::All);
        assert_eq!(c.min_alive, None);
        assert_eq!(c.max_loss, None);
        assert_eq!(c.format, Format::Text);
        assert!(!c.numeric);
        assert_eq!(c.timestamps, Timestamps::Off);
        assert!(!c.outstanding);
        assert_eq!(c.interface, None);
        assert_eq!(c.tos, None);
        assert_eq!(c.pmtu, None);
        assert_eq!(c.pattern, None);
        assert_eq!(c.targets, vec!["host".to_owned()]);
    }

    #[test]
    fn count() {
        assert_eq!(cfg(&["-c", "1"]).count, Some(1));
        assert_eq!(cfg(&["--count", "7"]).count, Some(7));
        assert_eq!(cfg(&["--count=7"]).count, Some(7));
        assert_eq!(cfg(&["-c7"]).count, Some(7));
        assert_eq!(cfg(&["-c", "007"]).count, Some(7));
        assert_eq!(cfg(&["-c", "18446744073709551615"]).count, Some(u64::MAX));
        for bad in [
            "0",
            "-1",
            "1.5",
            "abc",
            "18446744073709551616",
            "99999999999999999999999999999",
            "+5",
            " 5",
            "5 ",
            "1_000",
            "",
            "0x10",
            "1e3",
        ] {
            assert_eq!(err(&["-c", bad]), format!("-c: {COUNT_MSG}, got '{bad}'"));
        }
        assert_eq!(err(&["-c", "abc"]), format!("-c: {COUNT_MSG}, got 'abc'"));
    }

    #[test]
    fn interval() {
        assert_eq!(cfg(&["-i", "0"]).interval, Duration::ZERO);
        assert_eq!(cfg(&["-i", "3600"]).interval, Duration::from_secs(3600));
        assert_eq!(
            cfg(&["-i", "3600.000000000"]).interval,
            Duration::from_secs(3600)
        );
        assert_eq!(cfg(&["-i", "0.2"]).interval, Duration::from_millis(200));
        assert_eq!(
            cfg(&["--interval", ".5"]).interval,
            Duration::from_millis(500)
        );
        assert_eq!(cfg(&["-i", "2."]).interval, Duration::from_secs(2));
        assert_eq!(cfg(&["-i", "00.1"]).interval, Duration::from_millis(100));
        // Exact decimal conversion, digits past nanoseconds truncated.
        assert_eq!(
            cfg(&["-i", "0.0000000019"]).interval,
            Duration::from_nanos(1)
        );
        assert_eq!(
            cfg(&["-i", "1.123456789"]).interval,
            Duration::new(1, 123_456_789)
        );
        assert_eq!(
            cfg(&["-i", "0.3"]).interval,
            Duration::from_nanos(300_000_000)
        );
        for bad in [
            "-1",
            "nan",
            "NaN",
            "inf",
            "1e309",
            "1e3",
            "0,5",
            "",
            ".",
            "1.1.1",
            " 1",
            "+1",
            "3601",
            "3600.000000001",
            "0x1",
            "1s",
        ] {
            assert_eq!(
                err(&["-i", bad]),
                format!("-i: expected seconds from 0 to 3600 (e.g. 0.2), got '{bad}'")
            );
        }
    }

    #[test]
    fn timeout() {
        let msg = |v: &str| {
            format!("-W: expected seconds greater than 0 and up to 3600 (e.g. 0.5), got '{v}'")
        };
        assert_eq!(cfg(&["-W", "0.000000001"]).timeout, Duration::from_nanos(1));
        assert_eq!(
            cfg(&["--timeout", "3600"]).timeout,
            Duration::from_secs(3600)
        );
        assert_eq!(cfg(&["-W", "2.5"]).timeout, Duration::from_millis(2500));
        for bad in [
            "0",
            "0.0",
            ".000",
            "0.0000000001",
            "3600.5",
            "-1",
            "nan",
            "",
        ] {
            assert_eq!(err(&["-W", bad]), msg(bad));
        }
    }

    #[test]
    fn deadline() {
        let msg = |v: &str| {
            format!("-w: expected seconds greater than 0 and up to 1000000 (e.g. 0.5), got '{v}'")
        };
        assert_eq!(cfg(&["-w", "1"]).deadline, Some(Duration::from_secs(1)));
        assert_eq!(
            cfg(&["--deadline", "1000000"]).deadline,
            Some(Duration::from_secs(1_000_000))
        );
        assert_eq!(
            cfg(&["-w", "0.000000001"]).deadline,
            Some(Duration::from_nanos(1))
        );
        for bad in [
            "0",
            "1000000.1",
            "1000001",
            "18446744073709551616",
            "999999999999999999999999999999999999999999",
            "-5",
        ] {
            assert_eq!(err(&["-w", bad]), msg(bad));
        }
    }

    #[test]
    fn size() {
        let v4 = |v: &str| {
            format!("-s: expected a whole number from 0 to 65507 (65527 with -6), got '{v}'")
        };
        assert_eq!(cfg(&["-s", "0"]).size, 0);
        assert_eq!(cfg(&["--size", "65507"]).size, 65507);
        assert_eq!(cfg(&["-4", "-s", "65507"]).size, 65507);
        assert_eq!(err(&["-s", "65508"]), v4("65508"));
        assert_eq!(err(&["-4", "-s", "65508"]), v4("65508"));
        assert_eq!(err(&["-s", "-1"]), v4("-1"));
        assert_eq!(cfg(&["-s", "65508", "-6"]).size, 65508);
        assert_eq!(cfg(&["-6", "-s", "65527"]).size, 65527);
        assert_eq!(
            err(&["-s", "65528", "-6"]),
            "-s: expected a whole number from 0 to 65527, got '65528'"
        );
    }

    #[test]
    fn ttl() {
        let msg = |v: &str| format!("-t: expected a whole number from 1 to 255, got '{v}'");
        assert_eq!(cfg(&["-t", "1"]).ttl, Some(1));
        assert_eq!(cfg(&["--ttl", "255"]).ttl, Some(255));
        for bad in ["0", "256", "-1", "x"] {
            assert_eq!(err(&["-t", bad]), msg(bad));
        }
    }

    #[test]
    fn max_threads() {
        let msg =
            |v: &str| format!("--max-threads: expected a whole number from 1 to 4096, got '{v}'");
        assert_eq!(cfg(&["--max-threads", "1"]).max_threads, 1);
        assert_eq!(cfg(&["--max-threads=4096"]).max_threads, 4096);
        assert_eq!(err(&["--max-threads", "0"]), msg("0"));
        assert_eq!(err(&["--max-threads", "4097"]), msg("4097"));
    }

    #[test]
    fn gap() {
        let msg =
            |v: &str| format!("--gap: expected milliseconds from 0 to 10000 (e.g. 0.5), got '{v}'");
        assert_eq!(cfg(&["--gap", "0"]).gap, Duration::ZERO);
        assert_eq!(cfg(&["--gap", "10000"]).gap, Duration::from_secs(10));
        assert_eq!(cfg(&["--gap", "0.5"]).gap, Duration::from_micros(500));
        assert_eq!(cfg(&["--gap", "0.000001"]).gap, Duration::from_nanos(1));
        assert_eq!(cfg(&["--gap", "0.0000009"]).gap, Duration::ZERO);
        for bad in ["10000.001", "10001", "-1", "nan", "1e2", ""] {
            assert_eq!(err(&["--gap", bad]), msg(bad));
        }
    }

    #[test]
    fn min_alive() {
        let msg =
            |v: &str| format!("--min-alive: expected a whole number from 1 to 1000000, got '{v}'");
        assert_eq!(cfg(&["--min-alive", "1"]).min_alive, Some(1));
        assert_eq!(cfg(&["--min-alive", "1000000"]).min_alive, Some(1_000_000));
        assert_eq!(err(&["--min-alive", "0"]), msg("0"));
        assert_eq!(err(&["--min-alive", "1000001"]), msg("1000001"));
    }

    #[test]
    fn max_loss() {
        let msg = |v: &str| {
            format!("--max-loss: expected a percentage from 0 to 100 (e.g. 2.5), got '{v}'")
        };
        assert_eq!(cfg(&["--max-loss", "0"]).max_loss, Some(0.0));
        assert_eq!(cfg(&["--max-loss", "100"]).max_loss, Some(100.0));
        assert_eq!(cfg(&["--max-loss", "100.000"]).max_loss, Some(100.0));
        assert_eq!(cfg(&["--max-loss", "2.5"]).max_loss, Some(2.5));
        assert_eq!(cfg(&["--max-loss", ".5"]).max_loss, Some(0.5));
        // Fixed-point parse: the same double as the float literal, to nine decimals.
        for (text, want) in [("33.3", 33.3), ("0.1", 0.1), ("99.999999999", 99.999999999)] {
            assert_eq!(cfg(&["--max-loss", text]).max_loss, Some(want), "{text}");
        }
        for bad in [
            "100.0000000000000000001",
            "101",
            "-1",
            "nan",
            "inf",
            "1e1",
            "",
            "5%",
        ] {
            assert_eq!(err(&["--max-loss", bad]), msg(bad));
        }
    }

    #[test]
    fn missing_values() {
        assert_eq!(
            parsed(&["host", "-c"]),
            Err(CliError("-c: missing value".into()))
        );
        assert_eq!(
            parsed(&["host", "--count"]),
            Err(CliError("--count: missing value".into()))
        );
        assert_eq!(
            parsed(&["host", "--gap"]),
            Err(CliError("--gap: missing value".into()))
        );
        assert_eq!(
            parsed(&["host", "-qI"]),
            Err(CliError("-I: missing value".into()))
        );
    }

    #[test]
    fn unknown_options() {
        let msg = |o: &str| format!("unknown option '{o}' (see pingr --help)");
        assert_eq!(err(&["--foo"]), msg("--foo"));
        assert_eq!(err(&["--foo=bar"]), msg("--foo"));
        assert_eq!(err(&["-x"]), msg("-x"));
        assert_eq!(err(&["-qx"]), msg("-x"));
        assert_eq!(err(&["-é"]), msg("-é"));
        // getopts would silently read a one-letter long option as the short one.
        assert_eq!(err(&["--c", "5"]), msg("--c"));
        assert_eq!(err(&["--c=5"]), msg("--c"));
        assert_eq!(err(&["--=5"]), msg("--=5"));
        assert_eq!(err(&["---count", "5"]), msg("---count"));
        // Long options are matched exactly, not by prefix.
        assert_eq!(err(&["--cou", "5"]), msg("--cou"));
        assert_eq!(err(&["--foo\nbar"]), msg("--foo\\nbar"));
        assert_eq!(err(&["--quiet=yes"]), "--quiet: does not take a value");
    }

    #[test]
    fn conflicts() {
        assert_eq!(err(&["-4", "-6"]), "-4 and -6 cannot be used together");
        assert_eq!(err(&["-46"]), "-4 and -6 cannot be used together");
        assert_eq!(err(&["-a", "-u"]), "-a and -u cannot be used together");
        assert_eq!(
            err(&["--alive", "--unreachable"]),
            "-a and -u cannot be used together"
        );
        assert_eq!(cfg(&["-4", "-4"]).family, Some(Family::V4));
        assert_eq!(cfg(&["-6"]).family, Some(Family::V6));
        assert_eq!(cfg(&["-a"]).show, Show::Alive);
        assert_eq!(cfg(&["--unreachable"]).show, Show::Unreachable);
    }

    #[test]
    fn targets_required() {
        let msg = CliError("no target given (usage: pingr [OPTIONS] TARGET...)".into());
        assert_eq!(parsed(&[]), Err(msg.clone()));
        assert_eq!(parsed(&["-c", "3", "-q"]), Err(msg.clone()));
        assert_eq!(parsed(&["--"]), Err(msg));
        assert!(matches!(parsed(&["-f", "list"]), Ok(Command::Run(_))));
        assert!(matches!(
            parsed(&["-g", "10.0.0.0/30"]),
            Ok(Command::Run(_))
        ));
        assert!(matches!(parsed(&["-"]), Ok(Command::Run(_))));
    }

    #[test]
    fn targets_verbatim_and_in_order() {
        let Ok(Command::Run(c)) = parsed(&[
            "b.example",
            "-c",
            "1",
            "a\0b",
            "x\u{FFFD}y",
            "",
            "--",
            "-c",
            "-h",
        ]) else {
            panic!("expected Run");
        };
        assert_eq!(
            c.targets,
            args(&["b.example", "a\0b", "x\u{FFFD}y", "", "-c", "-h"])
        );
        assert_eq!(c.count, Some(1));
    }

    #[test]
    fn generate() {
        let c = cfg(&["-g", "10.0.0.0/24", "--generate", "fd00::/120"]);
        assert_eq!(
            c.cidrs,
            vec![
                Cidr {
                    addr: "10.0.0.0".parse().unwrap(),
                    prefix: 24
                },
                Cidr {
                    addr: "fd00::".parse().unwrap(),
                    prefix: 120
                },
            ]
        );
        // Host bits are masked off.
        assert_eq!(
            cfg(&["-g", "10.1.2.77/8"]).cidrs,
            vec![Cidr {
                addr: "10.0.0.0".parse().unwrap(),
                prefix: 8
            }]
        );
        assert_eq!(
            cfg(&["-g", "fd00::12:34ff/112"]).cidrs,
            vec![Cidr {
                addr: "fd00::12:0".parse().unwrap(),
                prefix: 112
            }]
        );
        assert_eq!(
            cfg(&["-g", "192.0.2.9/32"]).cidrs,
            vec![Cidr {
                addr: "192.0.2.9".parse().unwrap(),
                prefix: 32
            }]
        );
        assert_eq!(
            cfg(&["-g", "fd00::9/128"]).cidrs,
            vec![Cidr {
                addr: "fd00::9".parse().unwrap(),
                prefix: 128
            }]
        );
        assert_eq!(cfg(&["-g", "10.0.0.0/024"]).cidrs[0].prefix, 24);
        assert_eq!(
            err(&["-g", "10.0.0.0/7"]),
            "-g: expected an IPv4 prefix from 8 to 32, got '10.0.0.0/7'"
        );
        assert_eq!(
            err(&["-g", "10.0.0.0/33"]),
            "-g: expected an IPv4 prefix from 8 to 32, got '10.0.0.0/33'"
        );
        assert_eq!(
            err(&["-g", "fd00::/111"]),
            "-g: expected an IPv6 prefix from 112 to 128, got 'fd00::/111'"
        );
        assert_eq!(
            err(&["-g", "fd00::/129"]),
            "-g: expected an IPv6 prefix from 112 to 128, got 'fd00::/129'"
        );
        let garbage = |v: &str| {
            format!("-g: expected ADDRESS/PREFIX (e.g. 10.0.0.0/24 or fd00::/120), got '{v}'")
        };
        for bad in [
            "garbage",
            "10.0.0.0",
            "10.0.0.0/",
            "/24",
            "10.0.0/24",
            "10.0.0.0/+24",
            "10.0.0.0/24/1",
            "10.0.0.0/ 24",
            "10.0.0.0/99999",
            "fe80::1%eth0/120",
            "example.com/24",
            "",
        ] {
            assert_eq!(err(&["-g", bad]), garbage(bad));
        }
        assert_eq!(
            err(&["-4", "-g", "fd00::/120"]),
            "-g: 'fd00::/120' is IPv6 but -4 was given"
        );
        assert_eq!(
            err(&["-g", "10.0.0.0/24", "-6"]),
            "-g: '10.0.0.0/24' is IPv4 but -6 was given"
        );
    }

    #[test]
    fn pattern() {
        let msg = |v: &str| {
            format!("-p: expected 1 to 32 hex digits (1 to 16 bytes, e.g. ff00), got '{v}'")
        };
        assert_eq!(cfg(&["-p", "ff"]).pattern, Some(vec![0xff]));
        assert_eq!(cfg(&["-p", "FF00"]).pattern, Some(vec![0xff, 0x00]));
        assert_eq!(cfg(&["-p", "f"]).pattern, Some(vec![0x0f]));
        assert_eq!(cfg(&["-p", "abc"]).pattern, Some(vec![0xab, 0x0c]));
        let max = "0123456789abcdef0123456789abcdef";
        assert_eq!(cfg(&["-p", max]).pattern.map(|p| p.len()), Some(16));
        let too_long = "0123456789abcdef0123456789abcdef0";
        for bad in ["", "xyz", "0xff", "f f", "-1", "+f", too_long] {
            assert_eq!(err(&["-p", bad]), msg(bad));
        }
    }

    #[test]
    fn tos() {
        let msg =
            |v: &str| format!("-Q: expected a number from 0 to 255 (decimal or 0x hex), got '{v}'");
        assert_eq!(cfg(&["-Q", "0x10"]).tos, Some(16));
        assert_eq!(cfg(&["-Q", "0X10"]).tos, Some(16));
        assert_eq!(cfg(&["-Q", "0xff"]).tos, Some(255));
        assert_eq!(cfg(&["-Q", "0"]).tos, Some(0));
        assert_eq!(cfg(&["-Q", "255"]).tos, Some(255));
        assert_eq!(cfg(&["-Q", "010"]).tos, Some(10));
        for bad in ["256", "0x100", "0x", "-1", "+1", "0x+1", "ten", "", "1.0"] {
            assert_eq!(err(&["-Q", bad]), msg(bad));
        }
    }

    #[test]
    fn pmtu() {
        assert_eq!(cfg(&["-M", "do"]).pmtu, Some(Pmtu::Do));
        assert_eq!(cfg(&["-M", "dont"]).pmtu, Some(Pmtu::Dont));
        assert_eq!(cfg(&["-Mwant"]).pmtu, Some(Pmtu::Want));
        for bad in ["maybe", "DO", "probe", ""] {
            assert_eq!(
                err(&["-M", bad]),
                format!("-M: expected do, dont or want, got '{bad}'")
            );
        }
    }

    #[test]
    fn format() {
        assert_eq!(cfg(&["--format", "text"]).format, Format::Text);
        assert_eq!(cfg(&["--format", "tsv"]).format, Format::Tsv);
        assert_eq!(cfg(&["--format=json"]).format, Format::Json);
        assert_eq!(cfg(&["--format=prometheus"]).format, Format::Prometheus);
        assert_eq!(cfg(&["--format", "influx"]).format, Format::Influx);
        assert_eq!(
            err(&["--format", "xml"]),
            "--format: expected text, tsv, json, prometheus or influx, got 'xml'"
        );
        assert_eq!(
            err(&["--format", "JSON"]),
            "--format: expected text, tsv, json, prometheus or influx, got 'JSON'"
        );
    }

    #[test]
    fn every_and_output() {
        let e = |p: Duration, total: bool| Some(Every { period: p, total });
        assert_eq!(
            cfg(&["--every", "60"]).every,
            e(Duration::from_secs(60), false)
        );
        assert_eq!(
            cfg(&["--every=0.5,total"]).every,
            e(Duration::from_millis(500), true)
        );
        assert_eq!(
            cfg(&["--every", "86400"]).every,
            e(Duration::from_secs(86_400), false)
        );
        assert_eq!(cfg(&[]).every, None);
        let msg = |v: &str| {
            format!("--every: expected seconds greater than 0 and up to 86400, then optionally ,total (e.g. 60), got '{v}'")
        };
        for bad in ["0", "", "-1", "86401", "1e3", "nan", ",total", "0,total"] {
            assert_eq!(err(&["--every", bad]), msg(bad));
        }
        for bad in ["60,", "60,Total", "60,total,total", "60,since"] {
            assert_eq!(
                err(&["--every", bad]),
                format!("--every: expected SECS or SECS,total (e.g. 60), got '{bad}'")
            );
        }
        assert_eq!(
            cfg(&["--output", "/x/y.prom"]).output,
            Some("/x/y.prom".into())
        );
        assert_eq!(cfg(&[]).output, None);
        let msg = |v: &str| format!("--output: expected a file name of 1 to 4095 bytes, got '{v}'");
        assert_eq!(err(&["--output", ""]), msg(""));
        assert_eq!(err(&["--output", "dir/"]), msg("dir/"));
        assert_eq!(err(&["--output", "a\0b"]), msg("a\\0b"));
    }

    #[test]
    fn timestamps() {
        assert_eq!(cfg(&["-D"]).timestamps, Timestamps::Epoch);
        assert_eq!(cfg(&["--timestamp=iso"]).timestamps, Timestamps::Iso);
        assert_eq!(cfg(&["--timestamp", "iso"]).timestamps, Timestamps::Iso);
        assert_eq!(cfg(&["--timestamp=epoch"]).timestamps, Timestamps::Epoch);
        assert_eq!(cfg(&["-D", "--timestamp=iso"]).timestamps, Timestamps::Iso);
        assert_eq!(
            cfg(&["--timestamp=iso", "-D"]).timestamps,
            Timestamps::Epoch
        );
        assert_eq!(
            cfg(&["--timestamp=iso", "-qD"]).timestamps,
            Timestamps::Epoch
        );
        assert_eq!(
            err(&["--timestamp=rfc3339"]),
            "--timestamp: expected epoch or iso, got 'rfc3339'"
        );
        assert_eq!(
            err(&["--timestamp=iso", "--timestamp="]),
            "--timestamp: expected epoch or iso, got ''"
        );
    }

    #[test]
    fn interface() {
        let msg = |v: &str| {
            format!("-I: expected an interface name or address of 1 to 255 bytes, got '{v}'")
        };
        assert_eq!(cfg(&["-I", "eth0"]).interface, Some("eth0".into()));
        assert_eq!(
            cfg(&["-I", "192.0.2.1"]).interface,
            Some("192.0.2.1".into())
        );
        let max = "i".repeat(255);
        assert_eq!(cfg(&["-I", &max]).interface, Some(max.clone()));
        assert_eq!(err(&["-I", ""]), msg(""));
        assert_eq!(err(&["-I", "eth\0x"]), msg("eth\\0x"));
        assert_eq!(err(&["-I", "eth\u{FFFD}"]), msg("eth\u{FFFD}"));
        let long = "i".repeat(256);
        assert_eq!(err(&["-I", &long]), msg(&format!("{}...", "i".repeat(64))));
        // A value may look like an option, as with ping.
        assert_eq!(cfg(&["-I", "-h"]).interface, Some("-h".into()));
    }

    #[test]
    fn files() {
        let c = cfg(&["-f", "a", "--file", "-", "-f", "b"]);
        assert_eq!(c.files, args(&["a", "-", "b"]));
        assert_eq!(
            err(&["-f", "-", "-f", "-"]),
            "-f: standard input ('-') can be given only once"
        );
        let msg =
            |v: &str| format!("-f: expected a file name or '-' for standard input, got '{v}'");
        assert_eq!(err(&["-f", ""]), msg(""));
        assert_eq!(err(&["-f", "a\0b"]), msg("a\\0b"));
        assert_eq!(err(&["-f", "a\u{FFFD}b"]), msg("a\u{FFFD}b"));
    }

    #[test]
    fn flags() {
        let c = cfg(&["-q", "-v", "-n", "-O", "-U"]);
        assert!(c.quiet && c.verbose && c.numeric && c.outstanding);
        let c = cfg(&["-qvnOU"]);
        assert!(c.quiet && c.verbose && c.numeric && c.outstanding);
        let c = cfg(&["--quiet", "--verbose", "--outstanding", "-vv"]);
        assert!(c.quiet && c.verbose && c.outstanding);
        // -U changes nothing.
        assert_eq!(cfg(&["-U"]), cfg(&[]));
    }

    #[test]
    fn last_value_wins_but_all_are_checked() {
        assert_eq!(cfg(&["-c", "1", "--count", "2"]).count, Some(2));
        assert_eq!(
            cfg(&["-i", "5", "-i", "0.5"]).interval,
            Duration::from_millis(500)
        );
        assert_eq!(
            cfg(&["--format", "json", "--format", "tsv"]).format,
            Format::Tsv
        );
        assert_eq!(
            err(&["-c", "abc", "-c", "2"]),
            format!("-c: {COUNT_MSG}, got 'abc'")
        );
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(parsed(&["-h"]), Ok(Command::Help));
        assert_eq!(parsed(&["--help"]), Ok(Command::Help));
        assert_eq!(parsed(&["-V"]), Ok(Command::Version));
        assert_eq!(parsed(&["--version"]), Ok(Command::Version));
        assert_eq!(parsed(&["--foo", "-c", "abc", "-h"]), Ok(Command::Help));
        assert_eq!(
            parsed(&["-4", "-6", "-a", "-u", "--help"]),
            Ok(Command::Help)
        );
        assert_eq!(parsed(&["-c", "0", "-qh"]), Ok(Command::Help));
        assert_eq!(parsed(&["-x", "-h"]), Ok(Command::Help));
        assert_eq!(parsed(&["-h", "-c"]), Ok(Command::Help));
        assert_eq!(parsed(&["-V", "--bogus", "-c"]), Ok(Command::Version));
        assert_eq!(parsed(&["-V", "-h"]), Ok(Command::Help));
        // Not options: a value, or after "--".
        assert!(matches!(parsed(&["-I", "-h", "x"]), Ok(Command::Run(_))));
        assert!(parsed(&["-c-h", "x"]).is_err());
        assert!(matches!(parsed(&["--", "-h"]), Ok(Command::Run(_))));
        assert_eq!(
            parsed(&["--help=yes"]),
            Err(CliError("--help: does not take a value".into()))
        );
    }

    #[test]
    fn errors_are_one_line() {
        for v in ["a\nb", "\r", "x\u{2028}y", "\u{7f}", "\u{1b}[31m"] {
            for opt in [
                "-c",
                "-i",
                "-W",
                "-g",
                "-p",
                "-Q",
                "-M",
                "--format",
                "--timestamp",
            ] {
                let e = err(&[opt, v]);
                assert!(
                    !e.contains(['\n', '\r', '\u{2028}', '\u{1b}', '\u{7f}']),
                    "{e:?}"
                );
            }
        }
        assert_eq!(
            err(&["-c", "1\n2"]),
            format!("-c: {COUNT_MSG}, got '1\\n2'")
        );
    }

    #[test]
    fn version_text() {
        let v = version();
        assert!(v.starts_with(&format!("pingr {}\n", env!("CARGO_PKG_VERSION"))));
        assert_eq!(v.lines().count(), 2);
    }

    #[test]
    fn usage_lists_every_option() {
        let u = usage();
        assert!(u.starts_with("usage: pingr [OPTIONS] TARGET..."));
        for s in SPECS {
            if !s.short.is_empty() {
                let spelled = format!("-{}", s.short);
                assert!(
                    u.split(|c: char| c.is_whitespace() || c == ',')
                        .any(|w| w == spelled),
                    "{spelled} missing"
                );
            }
            if !s.long.is_empty() {
                let spelled = format!("--{}", s.long);
                assert!(
                    u.split_whitespace().any(|w| w == spelled),
                    "{spelled} missing"
                );
            }
        }
        for (_, title) in GROUPS {
            assert!(u.contains(&format!("\n{title}:\n")));
        }
        for line in u.lines() {
            assert!(line.chars().count() <= 80, "too wide: {line:?}");
            assert_eq!(line, line.trim_end());
        }
        assert!(!u.ends_with('\n'));
    }

    #[test]
    fn option_table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for s in SPECS {
            assert!(!s.short.is_empty() || s.long.len() > 1);
            assert!(s.short.len() <= 1);
            for n in [s.short, s.long] {
                if !n.is_empty() {
                    assert!(seen.insert(n), "duplicate option name {n}");
                }
            }
        }
        // Every option is recognised by parse (no panic on lookup) and
        // unknown ones are reported.
        for s in SPECS {
            let mut a = Vec::new();
            for n in [s.short, s.long] {
                if n.is_empty() {
                    continue;
                }
                a.clear();
                a.push(if n.len() == 1 {
                    format!("-{n}")
                } else {
                    format!("--{n}")
                });
                if s.takes_value() {
                    a.push("1".into());
                }
                a.push("host".into());
                if let Err(e) = parse(&a) {
                    assert!(!e.0.starts_with("unknown option"), "{a:?}: {e}");
                }
            }
        }
    }

    /// Deterministic fuzzing: no input may panic, and every error is a
    /// single line.
    #[test]
    fn never_panics() {
        let mut pool: Vec<String> = args(&[
            "-",
            "--",
            "---",
            "-=",
            "--=",
            "=",
            "",
            "\0",
            "\u{FFFD}",
            "\n",
            "é",
            "-é",
            "--é",
            "1",
            "0",
            "-1",
            "65508",
            "10.0.0.0/24",
            "fd00::/120",
            "::/0",
            "0x",
            "0xff",
            "abc",
            "1.",
            ".",
            ".5",
            "nan",
            "99999999999999999999999",
            "iso",
            "json",
            "do",
        ]);
        for s in SPECS {
            for n in [s.short, s.long] {
                if n.len() == 1 {
                    pool.push(format!("-{n}"));
                    pool.push(format!("-{n}5"));
                    pool.push(format!("--{n}"));
                } else if !n.is_empty() {
                    pool.push(format!("--{n}"));
                    pool.push(format!("--{n}="));
                    pool.push(format!("--{n}=1"));
                }
            }
        }
        pool.retain(|a| a != "-h" && a != "--help" && a != "-V" && a != "--version");
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let n = (next() % 7) as usize;
            let a: Vec<String> = (0..n)
                .map(|_| {
                    let r = next();
                    let base = &pool[(r % pool.len() as u64) as usize];
                    if r % 5 == 0 {
                        let other = &pool[((r >> 20) % pool.len() as u64) as usize];
                        format!("{base}{other}")
                    } else {
                        base.clone()
                    }
                })
                .collect();
            match parse(&a) {
                Err(e) => assert!(!e.0.contains('\n') && !e.0.is_empty(), "{a:?}: {e:?}"),
                Ok(Command::Run(c)) => {
                    assert!(!c.targets.is_empty() || !c.files.is_empty() || !c.cidrs.is_empty())
                }
                Ok(_) => {}
            }
        }
    }
}
