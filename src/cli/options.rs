//! pingr's option table (iputils-shaped), and the `--help` and `--version` texts made from it.
//!
//! One row per option: its group, short and long names, value hint and help text. `ping.rs`
//! builds its `getopts` parser and its pre-scan from the same rows, so that `--help` lists every
//! option exactly as accepted. Pure: no parsing, no I/O.

pub(super) const SYNOPSIS: &str = "usage: pingr [OPTIONS] TARGET...";

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Group {
    Probing,
    Targets,
    Output,
    Compat,
    Other,
}

pub(super) const GROUPS: [(Group, &str); 5] = [
    (Group::Probing, "Probing"),
    (Group::Targets, "Targets"),
    (Group::Output, "Output"),
    (Group::Compat, "ping compatibility"),
    (Group::Other, "Other"),
];

/// One row of the option table. An empty `hint` means a flag (no value).
pub(super) struct Spec {
    pub(super) group: Group,
    pub(super) short: &'static str,
    pub(super) long: &'static str,
    pub(super) hint: &'static str,
    pub(super) help: &'static str,
}

impl Spec {
    pub(super) fn takes_value(&self) -> bool {
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
pub(super) const SPECS: &[Spec] = &[
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
