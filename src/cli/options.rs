//! pingr's option table (iputils-shaped), and the `--help` and `--version` texts made from it.
//!
//! One row per option: its group, what it sets, short and long names, value hint and help text.
//! `ping.rs` scans and checks the command line by the same rows, so that `--help` lists every
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

/// What an option sets, in the order `ping::parse` checks the values (each option's every
/// occurrence in turn; `-D` and `--timestamp` together, in the order given). Flags other than
/// `-D` are `Flag`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    Flag,
    Count,
    Interval,
    Timeout,
    Deadline,
    Size,
    Ttl,
    MaxThreads,
    Gap,
    File,
    Generate,
    MinAlive,
    MaxLoss,
    Format,
    Every,
    Output,
    Timestamp,
    Interface,
    Tos,
    Pmtu,
    Pattern,
}

/// One row of the option table: short name ("" if none), long name ("" if none), value hint
/// ("" for a flag) and help text, one after the other in `text`, cut at the `ends` of the first
/// three (one pointer per row, not four).
pub(super) struct Spec {
    pub(super) group: Group,
    pub(super) key: Key,
    text: &'static str,
    ends: [u8; 3],
}

impl Spec {
    /// Part `i` of `text`: 0 short, 1 long, 2 hint, 3 help.
    fn part(&self, i: usize) -> &'static str {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |&e| usize::from(e)),
            None => 0,
        };
        let end = self
            .ends
            .get(i)
            .map_or(self.text.len(), |&e| usize::from(e));
        self.text.get(start..end).unwrap_or("")
    }
    pub(super) fn short(&self) -> &'static str {
        self.part(0)
    }
    pub(super) fn long(&self) -> &'static str {
        self.part(1)
    }
    pub(super) fn hint(&self) -> &'static str {
        self.part(2)
    }
    pub(super) fn help(&self) -> &'static str {
        self.part(3)
    }
    pub(super) fn takes_value(&self) -> bool {
        self.ends[2] > self.ends[1]
    }
}

/// A row: `spec!(GROUP, KEY, "short", "long", "hint", "help")`.
macro_rules! spec {
    ($group:ident, $key:ident, $short:literal, $long:literal, $hint:literal, $help:literal $(,)?) => {
        Spec {
            group: Group::$group,
            key: Key::$key,
            text: concat!($short, $long, $hint, $help),
            ends: [
                $short.len() as u8,
                ($short.len() + $long.len()) as u8,
                ($short.len() + $long.len() + $hint.len()) as u8,
            ],
        }
    };
}

/// The single source of truth: the scanner, the order values are checked in and
/// [`usage`] all come from this table. `\n` in `help` continues the
/// description on the next line.
pub(super) const SPECS: &[Spec] = &[
    spec!(Probing, Count,
        "c",
        "count",
        "N",
        "stop after N probes to each target\n(default: until interrupted or -w)",
    ),
    spec!(Probing, Interval,
        "i",
        "interval",
        "SECS",
        "wait between probes to one target, 0-3600 (default: 1)",
    ),
    spec!(Probing, Timeout,
        "W",
        "timeout",
        "SECS",
        "wait this long for each reply, up to 3600 (default: 1)",
    ),
    spec!(Probing, Deadline,
        "w",
        "deadline",
        "SECS",
        "stop the whole run after SECS (default: no limit)",
    ),
    spec!(Probing, Size,
        "s",
        "size",
        "BYTES",
        "payload size, 0-65507; 0-65527 with -6 (default: 56)",
    ),
    spec!(Probing, Ttl,
        "t",
        "ttl",
        "N",
        "IP time to live / hop limit, 1-255 (default: system)",
    ),
    spec!(Probing, Flag, "4", "", "", "use IPv4 only"),
    spec!(Probing, Flag, "6", "", "", "use IPv6 only"),
    spec!(Probing, Gap,
        "",
        "gap",
        "MS",
        "least time between any two probes of the run,\n0-10000 (default: 1)",
    ),
    spec!(Probing, MaxThreads,
        "",
        "max-threads",
        "N",
        "use at most N threads, 1-4096 (default: 2)",
    ),
    spec!(Targets, File,
        "f",
        "file",
        "FILE",
        "read targets from FILE, one per line; '-' reads stdin\n(repeatable)",
    ),
    spec!(Targets, Generate,
        "g",
        "generate",
        "CIDR",
        "probe every address in CIDR (repeatable):\nIPv4 /8 to /32, IPv6 /112 to /128",
    ),
    spec!(Output, Flag, "q", "quiet", "", "print only the summary"),
    spec!(Output, Flag, "v", "verbose", "", "print more detail"),
    spec!(Output, Flag,
        "a",
        "alive",
        "",
        "report only targets that replied",
    ),
    spec!(Output, Flag,
        "u",
        "unreachable",
        "",
        "report only targets that did not reply",
    ),
    spec!(Output, Format,
        "",
        "format",
        "FORMAT",
        "text, tsv, json, prometheus or influx\n(default: text)",
    ),
    spec!(Output, Every,
        "",
        "every",
        "SECS",
        "also report every SECS (above 0, up to 86400) on\nthat interval; SECS,total: since the start",
    ),
    spec!(Output, Output,
        "",
        "output",
        "FILE",
        "write each report to FILE, replacing it atomically",
    ),
    spec!(Output, Timestamp,
        "",
        "timestamp",
        "KIND",
        "prefix lines with the time: epoch or iso\n(default: off)",
    ),
    spec!(Output, MinAlive,
        "",
        "min-alive",
        "N",
        "fail unless at least N targets reply, 1-1000000",
    ),
    spec!(Output, MaxLoss,
        "",
        "max-loss",
        "PCT",
        "fail if packet loss is above PCT percent, 0-100",
    ),
    spec!(Compat, Timestamp, "D", "", "", "same as --timestamp epoch"),
    spec!(Compat, Flag,
        "n",
        "",
        "",
        "numeric output (no-op: pingr never looks up names\nfor addresses)",
    ),
    spec!(Compat, Flag,
        "O",
        "outstanding",
        "",
        "report a probe left unanswered after -W",
    ),
    spec!(Compat, Interface,
        "I",
        "",
        "IFACE|ADDR",
        "send from this interface or source address",
    ),
    spec!(Compat, Tos,
        "Q",
        "",
        "TOS",
        "type of service / traffic class, 0-255 or 0x00-0xff",
    ),
    spec!(Compat, Pmtu,
        "M",
        "",
        "MODE",
        "path MTU discovery: do, dont or want",
    ),
    spec!(Compat, Pattern,
        "p",
        "",
        "HEX",
        "fill the payload with a pattern of 1-16 bytes given\nas hex digits (e.g. ff00)",
    ),
    spec!(Compat, Flag,
        "U",
        "",
        "",
        "accepted and ignored (times are always taken as\nclose to the wire as possible)",
    ),
    spec!(Other, Flag, "h", "help", "", "print this help and exit"),
    spec!(Other, Flag,
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
    // "  -c, --count N", "  -4", "      --gap MS": the left column of a row.
    fn left(s: &Spec, out: &mut String) {
        out.push_str("  ");
        let (short, long) = (s.short(), s.long());
        if short.is_empty() {
            out.push_str("    ");
        } else {
            out.push('-');
            out.push_str(short);
            if !long.is_empty() {
                out.push_str(", ");
            }
        }
        if !long.is_empty() {
            out.push_str("--");
            out.push_str(long);
        }
        if s.takes_value() {
            out.push(' ');
            out.push_str(s.hint());
        }
    }
    let mut out = String::new();
    let mut width = 0;
    for s in SPECS {
        out.clear();
        left(s, &mut out);
        width = width.max(out.len() + 2);
    }
    out.clear();
    out.push_str(SYNOPSIS);
    out.push_str("\n       pingr [OPTIONS] {-f FILE | -g CIDR}... [TARGET...]\n");
    out.push_str("\nSend ICMP echo requests (ping) to one or many hosts and report replies.\n");
    out.push_str("SECS and MS take fractions (e.g. 0.2). Repeated options: the last one wins,\nexcept -f and -g, which add up.\n");
    for (group, title) in GROUPS {
        out.push('\n');
        out.push_str(title);
        out.push_str(":\n");
        for s in SPECS.iter().filter(|s| s.group == group) {
            let mut start = out.len();
            left(s, &mut out);
            for line in s.help().lines() {
                while out.len() < start + width {
                    out.push(' ');
                }
                out.push_str(line);
                out.push('\n');
                start = out.len();
            }
        }
    }
    out.pop(); // the last newline
    out
}
