//! pingr's own command line (iputils-shaped), parsed, with the range of every value checked.
//!
//! One scanner walks the arguments for both grammars (getopts' rules: short options cluster and
//! take attached values, long options take `--name=VALUE` or `--name VALUE`, options and targets
//! mix, `--` ends the options); pingr's options are the table in `options.rs`. Every mistake
//! becomes one [`CliError`] line that names the option, what it accepts and what was given. Pure:
//! it does no I/O (it never opens a `-f` file or prints), it resolves no names (targets are passed
//! through verbatim, in order) and it opens no sockets.

use super::config::*;
use super::options::{Key, Spec, SPECS, SYNOPSIS};
use super::values::*;
use crate::packet::Family;

/// An option as the scanner asks a grammar's table for it.
pub(super) enum Name<'a> {
    Short(char),
    Long(&'a str),
}

/// What the scanner found, in argument order.
pub(super) struct Scanned<'a> {
    /// Each option given: its row in the grammar's table and its value ("" for a flag).
    pub(super) opts: Vec<(usize, &'a str)>,
    /// The free arguments (targets), in order.
    pub(super) free: Vec<&'a str>,
    /// The first option the table does not know, by argument index.
    pub(super) unknown: Option<(usize, CliError)>,
    /// The first option with a missing value, or a flag given one, by argument index.
    pub(super) misused: Option<(usize, CliError)>,
}

/// A grammar's table, as the scanner needs it: the row of a name, and whether it takes a value.
pub(super) type Find<'f> = &'f dyn Fn(Name) -> Option<(usize, bool)>;

/// Walks `args` as getopts does and keeps going past mistakes (pingr's `-h` anywhere wins over
/// them). `help` is where an unknown option's message sends the user; `fping` spells an unknown
/// `--NAME=VALUE` as fping does (`--NAME`, even when NAME is empty).
pub(super) fn scan<'a>(
    args: &'a [String],
    find: Find,
    help: &'static str,
    fping: bool,
) -> Scanned<'a> {
    let mut s = Scanned {
        opts: Vec::new(),
        free: Vec::new(),
        unknown: None,
        misused: None,
    };
    let mut rest = args.iter().enumerate();
    while let Some((at, arg)) = rest.next() {
        if arg == "--" {
            for (_, a) in rest {
                s.free.push(a);
            }
            break;
        }
        if arg.len() < 2 || !arg.starts_with('-') {
            s.free.push(arg);
            continue;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            // One letter is never a long name (getopts would take `--c` as `-c`).
            let found = if name.len() > 1 {
                find(Name::Long(name))
            } else {
                None
            };
            let (row, takes) = match found {
                Some(f) => f,
                None => {
                    if s.unknown.is_none() {
                        let spelled = if fping {
                            format!("--{}", shown(name))
                        } else if inline.is_some() && !name.is_empty() {
                            shown(&format!("--{name}"))
                        } else {
                            shown(arg)
                        };
                        s.unknown = Some((at, CliError::unknown(spelled, help)));
                    }
                    continue;
                }
            };
            let value = match (takes, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => rest.next().map(|(_, v)| v.as_str()),
                (false, Some(_)) => {
                    misuse(&mut s, at, "--", name, Problem::TakesNoValue);
                    continue;
                }
                (false, None) => Some(""),
            };
            match value {
                Some(v) => s.opts.push((row, v)),
                None => misuse(&mut s, at, "--", name, Problem::MissingValue),
            }
        } else {
            for (j, c) in arg.char_indices().skip(1) {
                let Some((row, takes)) = find(Name::Short(c)) else {
                    if s.unknown.is_none() {
                        let spelled = format!(
                            "-{}",
                            shown(arg.get(j..j + c.len_utf8()).unwrap_or_default())
                        );
                        s.unknown = Some((at, CliError::unknown(spelled, help)));
                    }
                    break;
                };
                if !takes {
                    s.opts.push((row, ""));
                    continue;
                }
                let attached = arg.get(j + c.len_utf8()..).unwrap_or_default();
                let value = if attached.is_empty() {
                    rest.next().map(|(_, v)| v.as_str())
                } else {
                    Some(attached)
                };
                match value {
                    Some(v) => s.opts.push((row, v)),
                    None => misuse(
                        &mut s,
                        at,
                        "-",
                        arg.get(j..).unwrap_or_default(),
                        Problem::MissingValue,
                    ),
                }
                break;
            }
        }
    }
    s
}

fn misuse(s: &mut Scanned, at: usize, dashes: &str, name: &str, problem: Problem) {
    if s.misused.is_none() {
        let mut option = String::from(dashes);
        option.push_str(name);
        s.misused = Some((at, CliError::of(option, problem)));
    }
}

/// Owned copies of scanned arguments.
pub(super) fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn find(name: Name) -> Option<(usize, bool)> {
    SPECS
        .iter()
        .position(|s| match name {
            Name::Short(c) => s.short().chars().eq(std::iter::once(c)),
            Name::Long(l) => s.long() == l,
        })
        .map(|i| (i, SPECS[i].takes_value()))
}

/// Parse the arguments that follow `argv[0]`.
///
/// `-h`/`--help` anywhere (as an option, not as a value such as `-I -h` and
/// not after `--`) yields [`Command::Help`], even if other arguments are
/// wrong; otherwise `-V`/`--version` likewise yields [`Command::Version`].
/// Then the first unknown option is refused (by its exact spelling), then
/// the first missing value (or flag given one), then the values, option
/// by option in a fixed order, every occurrence checked and the last kept.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let s = scan(args, &find, HELP, false);
    let given = |letter: &str| {
        s.opts
            .iter()
            .any(|&(i, _)| SPECS.get(i).is_some_and(|s| s.short() == letter))
    };
    if given("h") {
        return Ok(Command::Help);
    }
    if given("V") {
        return Ok(Command::Version);
    }
    if let Some((_, e)) = s.unknown.or(s.misused) {
        return Err(e);
    }
    let mut c = defaults();
    c.family = match (given("4"), given("6")) {
        (true, true) => return Err(CliError::whole("-4 and -6 cannot be used together")),
        (true, false) => Some(Family::V4),
        (false, true) => Some(Family::V6),
        (false, false) => None,
    };
    c.show = match (given("a"), given("u")) {
        (true, true) => return Err(CliError::whole("-a and -u cannot be used together")),
        (true, false) => Show::Alive,
        (false, true) => Show::Unreachable,
        (false, false) => Show::All,
    };
    c.quiet = given("q");
    c.verbose = given("v");
    c.numeric = given("n");
    c.outstanding = given("O");
    // -U: accepted and ignored.

    let mut stdin_seen = false;
    for key in Key::Count as u8..=Key::Pattern as u8 {
        for &(i, v) in &s.opts {
            match SPECS.get(i) {
                Some(spec) if spec.key as u8 == key => value(&mut c, spec, v, &mut stdin_seen)?,
                _ => {}
            }
        }
    }
    c.targets = owned(&s.free);
    if c.targets.is_empty() && c.files.is_empty() && c.cidrs.is_empty() {
        return Err(CliError::whole(format!("no target given ({SYNOPSIS})")));
    }
    Ok(Command::Run(c))
}

/// Where an unknown option's message sends the user.
const HELP: &str = "pingr --help";

/// Checks one value of a value-taking option (or `-D`) and stores it: the last one given wins.
// Not inlined into `parse` (measured: 336 bytes smaller).
#[inline(never)]
fn value(c: &mut Config, spec: &Spec, v: &str, stdin_seen: &mut bool) -> Result<(), CliError> {
    let name = |max| unfit(v, max, '\u{FFFD}');
    match spec.key {
        Key::Flag => {}
        Key::Count => c.count = Some(uint(v, "-c", 1, u64::MAX)?),
        Key::Interval => c.interval = seconds(v, "-i", 3600, true)?,
        Key::Timeout => c.timeout = seconds(v, "-W", 3600, false)?,
        Key::Deadline => c.deadline = Some(seconds(v, "-w", 1_000_000, false)?),
        Key::Size => {
            let max = if c.family == Some(Family::V6) {
                MAX_SIZE_V6
            } else {
                MAX_SIZE_V4
            };
            c.size = size(v, max)?;
        }
        Key::Ttl => c.ttl = Some(small(v, "-t", 1)?),
        Key::MaxThreads => {
            let n = uint(v, "--max-threads", 1, 4096)?;
            c.max_threads = usize::try_from(n).unwrap_or(4096);
        }
        Key::Gap => c.gap = gap(v)?,
        Key::File => {
            if name(usize::MAX) {
                return Err(bad("-f", "a file name or '-' for standard input", v));
            }
            if v == "-" {
                if *stdin_seen {
                    let once = "standard input ('-') can be given only once";
                    return Err(CliError::rule("-f", once));
                }
                *stdin_seen = true;
            }
            c.files.push(v.to_owned());
        }
        Key::Generate => c.cidrs.push(cidr(v, c.family)?),
        Key::MinAlive => c.min_alive = Some(uint(v, "--min-alive", 1, 1_000_000)?),
        Key::MaxLoss => c.max_loss = Some(percent(v)?),
        Key::Format => {
            c.format = match v {
                "text" => Format::Text,
                "tsv" => Format::Tsv,
                "json" => Format::Json,
                "prometheus" => Format::Prometheus,
                "influx" => Format::Influx,
                _ => return Err(bad("--format", "text, tsv, json, prometheus or influx", v)),
            }
        }
        Key::Every => c.every = Some(every(v)?),
        Key::Output => {
            if name(4095) || v.ends_with('/') {
                return Err(bad("--output", "a file name of 1 to 4095 bytes", v));
            }
            c.output = Some(v.to_owned());
        }
        // -D and --timestamp KIND: the one given last wins; every --timestamp value must be valid.
        Key::Timestamp => {
            c.timestamps = match v {
                _ if !spec.takes_value() => Timestamps::Epoch,
                "epoch" => Timestamps::Epoch,
                "iso" => Timestamps::Iso,
                _ => return Err(bad("--timestamp", "epoch or iso", v)),
            }
        }
        Key::Interface => {
            if name(255) {
                let what = "an interface name or address of 1 to 255 bytes";
                return Err(bad("-I", what, v));
            }
            c.interface = Some(v.to_owned());
        }
        Key::Tos => c.tos = Some(tos(v)?),
        Key::Pmtu => {
            c.pmtu = Some(match v {
                "do" => Pmtu::Do,
                "dont" => Pmtu::Dont,
                "want" => Pmtu::Want,
                _ => return Err(bad("-M", "do, dont or want", v)),
            })
        }
        Key::Pattern => c.pattern = Some(pattern(v)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::options::{usage, version, GROUPS};
    use super::*;
    use std::time::Duration;

    fn cidr(addr: &str, prefix: u8) -> Cidr {
        Cidr {
            addr: addr.parse().unwrap(),
            prefix,
        }
    }

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
                let e = e.to_string();
                assert!(!e.contains('\n'), "multi-line error: {e:?}");
                e
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
            Err(CliError::of("-c", Problem::MissingValue))
        );
        assert_eq!(
            parsed(&["host", "--count"]),
            Err(CliError::of("--count", Problem::MissingValue))
        );
        assert_eq!(
            parsed(&["host", "--gap"]),
            Err(CliError::of("--gap", Problem::MissingValue))
        );
        assert_eq!(
            parsed(&["host", "-qI"]),
            Err(CliError::of("-I", Problem::MissingValue))
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
        let msg = CliError::whole("no target given (usage: pingr [OPTIONS] TARGET...)");
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
        assert_eq!(c.cidrs, vec![cidr("10.0.0.0", 24), cidr("fd00::", 120),]);
        // Host bits are masked off.
        assert_eq!(cfg(&["-g", "10.1.2.77/8"]).cidrs, vec![cidr("10.0.0.0", 8)]);
        assert_eq!(
            cfg(&["-g", "fd00::12:34ff/112"]).cidrs,
            vec![cidr("fd00::12:0", 112)]
        );
        assert_eq!(
            cfg(&["-g", "192.0.2.9/32"]).cidrs,
            vec![cidr("192.0.2.9", 32)]
        );
        assert_eq!(
            cfg(&["-g", "fd00::9/128"]).cidrs,
            vec![cidr("fd00::9", 128)]
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
            Err(CliError::of("--help", Problem::TakesNoValue))
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
            if !s.short().is_empty() {
                let spelled = format!("-{}", s.short());
                assert!(
                    u.split(|c: char| c.is_whitespace() || c == ',')
                        .any(|w| w == spelled),
                    "{spelled} missing"
                );
            }
            if !s.long().is_empty() {
                let spelled = format!("--{}", s.long());
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
            assert!(!s.short().is_empty() || s.long().len() > 1);
            assert!(s.short().len() <= 1);
            for n in [s.short(), s.long()] {
                if !n.is_empty() {
                    assert!(seen.insert(n), "duplicate option name {n}");
                }
            }
        }
        // Every option is recognised by parse (no panic on lookup) and
        // unknown ones are reported.
        for s in SPECS {
            let mut a = Vec::new();
            for n in [s.short(), s.long()] {
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
                    assert!(!matches!(e.problem, Problem::Unknown { .. }), "{a:?}: {e}");
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
            for n in [s.short(), s.long()] {
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
                Err(e) => {
                    let text = e.to_string();
                    assert!(!text.contains('\n') && !text.is_empty(), "{a:?}: {e:?}")
                }
                Ok(Command::Run(c)) => {
                    assert!(!c.targets.is_empty() || !c.files.is_empty() || !c.cidrs.is_empty())
                }
                Ok(_) => {}
            }
        }
    }
}
