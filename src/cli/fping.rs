//! fping's command line (pingr called as `fping` or `fping6`), parsed as fping 5.1 parses it.
//!
//! Its options are fping 5.1's, parsed the way its optparse does (short options cluster and take
//! attached values, long options take `--name=VALUE` or `--name VALUE`, options and targets may be
//! mixed, `--` ends the options), into the same [`Config`] pingr's own grammar produces, with
//! [`Fping`] for what only fping's output needs. Pure like the rest of `cli`: it expands `-g` into
//! address strings but resolves nothing and reads no file.

use super::config::*;
use super::ping::{owned, scan, Name};
use super::values::{bad, fixed, small, tos, uint, unfit, NANOS_PER_MS, NANOS_PER_SEC};
use crate::packet::Family;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// The fping release whose behaviour pingr reproduces (what `-v` reports first).
pub const FPING_VERSION: &str = "5.1";
/// fping's `-g START END` limit.
const MAX_GENERATE: u64 = 100_000;
/// The most probes per target `-C` reports one by one.
const MAX_VCOUNT: u64 = 1_000_000;
/// The most addresses a `-g` CIDR may make here (pingr's own target limit).
const MAX_CIDR_HOSTS: u64 = 262_144;

/// fping's options, each as its letter, `=` if it takes a value, and its long name (if any),
/// then a space: one string, not a table of pointers.
const OPTS: &str = concat!(
    "4ipv4 ",
    "6ipv6 ",
    "aalive ",
    "Aaddr ",
    "b=size ",
    "B=backoff ",
    "c=count ",
    "C=vcount ",
    "drdns ",
    "Dtimestamp ",
    "eelapsed ",
    "f=file ",
    "ggenerate ",
    "hhelp ",
    "H=ttl ",
    "i=interval ",
    "I=iface ",
    "k=fwmark ",
    "lloop ",
    "mall ",
    "Mdontfrag ",
    "nname ",
    "Nnetdata ",
    "ooutage ",
    "O=tos ",
    "p=period ",
    "qquiet ",
    "Q=squiet ",
    "r=retry ",
    "Rrandom ",
    "sstats ",
    "S=src ",
    "t=timeout ",
    "T= ",
    "uunreach ",
    "vversion ",
    "x=reachable ",
    "X=fast-reachable ",
);

/// `fping -v`: fping's line (consumers parse `NAME: Version N.N`), then pingr's own version.
pub fn version(prog: &str) -> String {
    format!(
        "{prog}: Version {FPING_VERSION} (pingr {})\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `fping -h`: fping's layout (consumers grep it for `-S,`, `-I,`, `-O,`), listing only the
/// options pingr honours; `-k` (fwmark) is left out: it is refused.
pub fn usage(prog: &str) -> String {
    format!(
        "Usage: {prog} [options] [targets...]

Probing options:
   -4, --ipv4         only ping IPv4 addresses
   -6, --ipv6         only ping IPv6 addresses
   -b, --size=BYTES   amount of ping data to send, in bytes (default: 56)
   -B, --backoff=N    set exponential backoff factor to N (default: 1.5)
   -c, --count=N      count mode: send N pings to each target
   -f, --file=FILE    read list of targets from a file ( - means stdin)
   -g, --generate     generate target list (only if no -f specified)
                      (give start and end IP in the target list, or a CIDR address)
                      (ex. {prog} -g 192.168.1.0 192.168.1.255 or {prog} -g 192.168.1.0/24)
   -H, --ttl=N        set the IP TTL value (Time To Live hops)
   -I, --iface=IFACE  bind to a particular interface
   -l, --loop         loop mode: send pings forever
   -m, --all          use all IPs of provided hostnames (e.g. IPv4 and IPv6), use with -A
   -M, --dontfrag     set the Don't Fragment flag
   -O, --tos=N        set the type of service (tos) flag on the ICMP packets
   -p, --period=MSEC  interval between ping packets to one target (in ms)
                      (in loop and count modes, default: 1000 ms)
   -r, --retry=N      number of retries (default: 3)
   -R, --random       random packet data (to foil link data compression)
   -S, --src=IP       set source address
   -t, --timeout=MSEC individual target initial timeout (default: 500 ms,
                      except with -l/-c/-C, where it's the -p period up to 2000 ms)

Output options:
   -a, --alive        show targets that are alive
   -A, --addr         show targets by address
   -C, --vcount=N     same as -c, report results in verbose format
   -D, --timestamp    print timestamp before each output line
   -e, --elapsed      show elapsed time on return packets
   -i, --interval=MSEC  interval between sending ping packets (default: 10 ms)
   -n, --name         accepted; targets are shown as given (pingr does no reverse DNS)
   -N, --netdata      output compatible for netdata (-l -Q are required)
   -o, --outage       show the accumulated outage time (lost packets * packet interval)
   -q, --quiet        quiet (don't show per-target/per-ping results)
   -Q, --squiet=SECS[,cumulative]  same as -q, but add interval summary every SECS seconds
   -s, --stats        print final stats
   -u, --unreach      show targets that are unreachable
   -v, --version      show version
   -x, --reachable=N  shows if >=N hosts are reachable or not
   -X, --fast-reachable=N  exits 0 as soon as N hosts are reachable

pingr {} speaking fping {FPING_VERSION}'s command line (see pingr(8), FPING MODE).
",
        env!("CARGO_PKG_VERSION")
    )
}

/// fping's table, as the shared scanner (`ping::scan`) asks for it: an option is known by its
/// letter (as a number) and whether it takes a value.
fn find(name: Name) -> Option<(usize, bool)> {
    OPTS.split_terminator(' ').find_map(|row| {
        let mut chars = row.chars();
        let letter = chars.next()?;
        let (value, long) = match chars.as_str().strip_prefix('=') {
            Some(long) => (true, long),
            None => (false, chars.as_str()),
        };
        let hit = match name {
            Name::Short(c) => c == letter,
            Name::Long(l) => l == long,
        };
        hit.then_some((letter as usize, value))
    })
}

/// The letter `find` knows an option by (its row, as the scanner reports it).
fn letter(row: usize) -> char {
    char::from_u32(row as u32).unwrap_or(' ')
}

/// Milliseconds with a fraction (Smokeping passes `-p 40714.2857142857`), 0 to `max`.
fn millis(v: &str, opt: &str, max: u64) -> Result<Duration, CliError> {
    fixed(v, NANOS_PER_MS, max)
        .map(Duration::from_nanos)
        .ok_or_else(|| bad(opt, &format!("milliseconds from 0 to {max} (e.g. 0.5)"), v))
}

/// `-Q SECS[,cumulative]`.
fn squiet(v: &str) -> Result<(Duration, bool), CliError> {
    let (secs, cumulative) = match v.split_once(',') {
        Some((s, "cumulative")) => (s, true),
        Some(_) => return Err(bad("-Q", "SECS or SECS,cumulative (e.g. 10)", v)),
        None => (v, false),
    };
    match fixed(secs, NANOS_PER_SEC, 86_400) {
        Some(ns) if ns > 0 => Ok((Duration::from_nanos(ns), cumulative)),
        _ => Err(bad(
            "-Q",
            "seconds above 0 up to 86400, optionally ',cumulative'",
            v,
        )),
    }
}

/// `-B`: a factor from 1 to 5, as fping accepts (fixed-point, so no float parser is linked
/// in: see `values::percent`).
fn backoff(v: &str) -> Result<f64, CliError> {
    let err = || bad("-B", "a factor from 1.0 to 5.0 (e.g. 1.5)", v);
    let billionths = fixed(v, 9, 5).ok_or_else(err)?;
    if billionths < 1_000_000_000 {
        return Err(err());
    }
    Ok(billionths as f64 / 1e9)
}

fn ipv4(v: &str) -> Result<u32, CliError> {
    v.parse::<Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| bad("-g", "IPv4 addresses (fping's -g is IPv4 only)", v))
}

/// `-g`: one CIDR block (network and broadcast left out below /31) or START END, as
/// address strings in order.
fn generate(free: &[&str]) -> Result<Vec<String>, CliError> {
    let (first, last) = match free {
        [one] => {
            let (a, m) = one
                .split_once('/')
                .ok_or_else(|| bad("-g", "ADDRESS/PREFIX or START END", one))?;
            let net = ipv4(a)?;
            let mask = uint(m, "-g", 1, 32)?;
            let size = 1u64 << (32 - mask);
            let base = u64::from(net) & !(size - 1);
            let (f, l) = if mask < 31 {
                (base + 1, base + size - 2)
            } else {
                (base, base + size - 1)
            };
            if l + 1 - f > MAX_CIDR_HOSTS {
                // The number spelled out (no format!): kept equal by the assert below.
                const _: () = assert!(MAX_CIDR_HOSTS == 262_144 && MAX_GENERATE == 100_000);
                return Err(bad("-g", "a block of at most 262144 addresses", one));
            }
            (f, l)
        }
        [a, b] => {
            let (f, l) = (u64::from(ipv4(a)?), u64::from(ipv4(b)?));
            if l > f + MAX_GENERATE {
                return Err(CliError::rule(
                    "-g",
                    format!("{a} {b} makes more than 100000 addresses"),
                ));
            }
            (f, l)
        }
        _ => {
            return Err(CliError::rule(
                "-g",
                "give one CIDR block or a start and an end address",
            ))
        }
    };
    let mut out = Vec::new();
    for v in first..=last {
        // Both ends are IPv4 addresses (a block's ends stay inside it): `as` keeps every bit.
        out.push(Ipv4Addr::from(v as u32).to_string());
    }
    Ok(out)
}

/// What fping's options set beyond `Config` and `Fping` until the whole line is read.
#[derive(Default)]
struct Given<'a> {
    timeout: Option<Duration>,
    count: Option<u64>,
    size: Option<u64>,
    alive: bool,
    unreach: bool,
    looping: bool,
    gen: bool,
    file: Option<&'a str>,
    src: Option<&'a str>,
    iface: Option<&'a str>,
}

/// One option `opt` with its value `v` ("" for a flag), checked and stored.
// Not inlined: its error paths then drop nothing (measured: 176 bytes smaller).
#[inline(never)]
fn option<'a>(
    opt: char,
    v: &'a str,
    c: &mut Config,
    f: &mut Fping,
    g: &mut Given<'a>,
) -> Result<(), CliError> {
    match opt {
        '4' | '6' => {
            let want = if opt == '4' { Family::V4 } else { Family::V6 };
            if c.family.is_some_and(|have| have != want) {
                return Err(CliError::whole("can't specify both -4 and -6"));
            }
            c.family = Some(want);
        }
        'a' => g.alive = true,
        'A' => f.addr = true,
        'b' => g.size = Some(uint(v, "-b", 0, MAX_SIZE_V6)?),
        'B' => f.backoff = backoff(v)?,
        'c' | 'C' => {
            // -C keeps every probe's time until the end: bounded, so memory is too.
            let max = if opt == 'C' {
                MAX_VCOUNT
            } else {
                u64::from(u32::MAX)
            };
            g.count = Some(uint(v, if opt == 'C' { "-C" } else { "-c" }, 1, max)?);
            f.mode = if opt == 'c' {
                FpingMode::Count
            } else {
                FpingMode::VCount
            };
        }
        'd' | 'n' => c.numeric = true,
        'D' => f.timestamp = true,
        'e' => f.elapsed = true,
        'f' => {
            if unfit(v, usize::MAX, '\0') {
                return Err(bad("-f", "a file name or '-' for standard input", v));
            }
            g.file = Some(v);
        }
        'g' => g.gen = true,
        'H' => c.ttl = Some(small(v, "-H", 1)?),
        'i' => c.gap = millis(v, "-i", 10_000)?,
        'I' => {
            if unfit(v, 15, '/') {
                return Err(bad("-I", "an interface name of 1 to 15 bytes", v));
            }
            g.iface = Some(v);
        }
        'k' => {
            return Err(CliError::rule(
                "-k",
                "fwmark is not supported by pingr (it would need CAP_NET_ADMIN)",
            ))
        }
        'l' => {
            g.looping = true;
            f.backoff = 1.0;
        }
        'm' => f.all_addrs = true,
        'M' => c.pmtu = Some(Pmtu::Do),
        'N' => f.netdata = true,
        'o' => f.outage = true,
        'O' => {
            c.tos = Some(
                tos(v).map_err(|_| bad("-O", "a number from 0 to 255 (decimal or 0x hex)", v))?,
            )
        }
        'p' => f.period = millis(v, "-p", 86_400_000)?,
        'q' => c.quiet = true,
        'Q' => {
            let (every, cumulative) = squiet(v)?;
            c.quiet = true;
            f.report = Some(every);
            f.cumulative = cumulative;
        }
        'r' => f.retries = uint(v, "-r", 0, 1000).map(|n| n as u32)?,
        'R' => f.random = true,
        's' => f.stats = true,
        'S' => {
            if v.parse::<IpAddr>().is_err() {
                return Err(bad("-S", "an IPv4 or IPv6 address", v));
            }
            g.src = Some(v);
        }
        't' => g.timeout = Some(millis(v, "-t", 3_600_000)?),
        'T' => {} // fping ignores it too ("select timeout" is not meaningful any more)
        'u' => g.unreach = true,
        'x' | 'X' => {
            f.reachable = Some(uint(v, if opt == 'X' { "-X" } else { "-x" }, 1, 1_000_000)?);
            f.fast_reachable = opt == 'X';
        }
        _ => {}
    }
    Ok(())
}

/// Parses the arguments that follow `argv[0]` in fping's grammar. `prog` is `argv[0]`;
/// `family` is the one the program name implies (`fping6`: IPv6, as `-6`).
pub fn parse(prog: &str, family: Option<Family>, args: &[String]) -> Result<Command, CliError> {
    // Like fping, the first mistake in the arguments wins, even over -h.
    let s = scan(args, &find, "fping -h", true);
    let first = match (s.unknown, s.misused) {
        (Some(u), Some(m)) => Some(if u.0 <= m.0 { u } else { m }),
        (u, m) => u.or(m),
    };
    if let Some((_, e)) = first {
        return Err(e);
    }
    let given = |c| s.opts.iter().any(|&(i, _)| letter(i) == c);
    if given('h') {
        return Ok(Command::Help);
    }
    if given('v') {
        return Ok(Command::Version);
    }
    let free = &s.free;
    let mut c = defaults();
    c.format = Format::Fping;
    c.gap = Duration::from_millis(10);
    c.family = family;
    let mut f = Fping {
        prog: String::new(), // set last: nothing to drop on the error paths
        mode: FpingMode::Default,
        retries: 3,
        backoff: 1.5,
        elapsed: false,
        addr: false,
        all_addrs: false,
        random: false,
        outage: false,
        stats: false,
        netdata: false,
        report: None,
        cumulative: false,
        reachable: None,
        fast_reachable: false,
        timestamp: false,
        period: Duration::from_millis(1000),
    };
    let mut g = Given::default();
    for &(i, v) in &s.opts {
        option(letter(i), v, &mut c, &mut f, &mut g)?;
    }
    if g.alive && g.unreach {
        return Err(CliError::whole("specify only one of a, u"));
    }
    if g.count.is_some() && g.looping {
        return Err(CliError::whole("specify only one of c, l"));
    }
    if g.src.is_some() && g.iface.is_some() {
        return Err(CliError::whole(
            "-S and -I together are not supported by pingr: give one",
        ));
    }
    c.interface = g.src.or(g.iface).map(str::to_string);
    let max_size = if c.family == Some(Family::V6) {
        MAX_SIZE_V6
    } else {
        MAX_SIZE_V4
    };
    if let Some(n) = g.size {
        if n > max_size {
            return Err(CliError::rule(
                "-b",
                format!("data size {n} not valid, must be at most {max_size}"),
            ));
        }
        c.size = n as usize;
    }
    // -N changes only the -Q reports (fping: "-l -Q are required"); alone it is a no-op.
    if g.looping {
        f.mode = FpingMode::Loop;
    }
    c.interval = f.period;
    // Kept in every mode: with -c/-C/-l the lists are not printed, but -a/-u still switch
    // the per-reply lines off, as in fping.
    c.show = if g.alive {
        Show::Alive
    } else if g.unreach {
        Show::Unreachable
    } else {
        Show::All
    };
    match f.mode {
        FpingMode::Default => {
            c.timeout = g.timeout.unwrap_or(Duration::from_millis(500));
            c.count = Some(u64::from(f.retries) + 1);
        }
        FpingMode::Count | FpingMode::VCount | FpingMode::Loop => {
            c.timeout = g
                .timeout
                .unwrap_or_else(|| f.period.min(Duration::from_millis(2000)));
            c.count = g.count;
        }
    }
    if c.timeout.is_zero() {
        c.timeout = Duration::from_millis(1);
    }
    // Targets: arguments, or -f, or -g's arguments; none of these means standard input.
    if g.gen {
        if g.file.is_some() || free.is_empty() {
            return Err(CliError::whole(
                "-g needs a CIDR block or a start and end address, and no -f",
            ));
        }
        c.targets = generate(free)?;
    } else if let Some(path) = g.file {
        if !free.is_empty() {
            return Err(CliError::whole("give targets or -f, not both"));
        }
        c.files.push(path.to_string());
    } else if free.is_empty() {
        c.files.push("-".into());
    } else {
        c.targets = owned(free);
    }
    f.prog = prog.to_string();
    c.fping = Some(f);
    Ok(Command::Run(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{personality, Personality};

    fn run(a: &[&str]) -> Config {
        let v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        match parse("fping", None, &v) {
            Ok(Command::Run(c)) => c,
            other => panic!("{a:?}: {other:?}"),
        }
    }

    fn err(a: &[&str]) -> String {
        let v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        match parse("fping", None, &v) {
            Err(e) => {
                let e = e.to_string();
                assert!(!e.contains('\n'));
                e
            }
            other => panic!("{a:?}: expected an error, got {other:?}"),
        }
    }

    fn fp(c: &Config) -> &Fping {
        c.fping.as_ref().unwrap()
    }

    #[test]
    fn personality_by_program_name() {
        assert_eq!(personality("pingr"), Personality::Pingr);
        assert_eq!(personality("/usr/local/bin/pingr"), Personality::Pingr);
        assert_eq!(personality("fping"), Personality::Fping { family: None });
        assert_eq!(
            personality("/usr/local/libexec/pingr/fping"),
            Personality::Fping { family: None }
        );
        assert_eq!(
            personality("fping6"),
            Personality::Fping {
                family: Some(Family::V6)
            }
        );
        assert_eq!(
            personality("/x/my-fping6"),
            Personality::Fping {
                family: Some(Family::V6)
            }
        );
        assert_eq!(personality("fpingx"), Personality::Pingr);
        assert_eq!(personality("/fping/pingr"), Personality::Pingr);
    }

    #[test]
    fn defaults_follow_fping() {
        let c = run(&["h"]);
        let f = fp(&c);
        assert_eq!(f.mode, FpingMode::Default);
        assert_eq!(c.count, Some(4));
        assert_eq!(c.timeout, Duration::from_millis(500));
        assert_eq!(c.gap, Duration::from_millis(10));
        assert_eq!(c.size, 56);
        assert_eq!(c.format, Format::Fping);
        assert_eq!(c.targets, ["h"]);
        assert!(c.files.is_empty());
        // Retries grow the timeout by 1.5 each time, and the next retry waits for it.
        assert_eq!(c.probe_timeout(1), Duration::from_millis(500));
        assert_eq!(c.probe_timeout(2), Duration::from_millis(750));
        assert_eq!(c.probe_spacing(3), Duration::from_micros(1_125_000));
        assert!(c.done_at_first_reply());
    }

    #[test]
    fn clusters_attached_values_and_long_forms() {
        let c = run(&[
            "-C3",
            "-q",
            "-B1",
            "-r1",
            "-4",
            "-i10",
            "-p40714.2857142857",
            "h",
        ]);
        assert_eq!(fp(&c).mode, FpingMode::VCount);
        assert_eq!(c.count, Some(3));
        assert!(c.quiet);
        assert_eq!(c.family, Some(Family::V4));
        assert_eq!(c.interval, Duration::from_nanos(40_714_285_714));
        // -t follows -p in count modes, up to 2 s.
        assert_eq!(c.timeout, Duration::from_millis(2000));
        let c = run(&["-ADln", "h"]);
        assert_eq!(fp(&c).mode, FpingMode::Loop);
        assert!(fp(&c).addr && fp(&c).timestamp && c.numeric);
        let c = run(&[
            "--count=2",
            "--period",
            "20",
            "--timeout=30",
            "--size",
            "100",
            "h",
        ]);
        assert_eq!(c.count, Some(2));
        assert_eq!(c.interval, Duration::from_millis(20));
        assert_eq!(c.timeout, Duration::from_millis(30));
        assert_eq!(c.size, 100);
        let c = run(&["-e", "-u", "-t", "100", "-r", "2", "h", "-S127.0.0.1"]);
        assert_eq!(c.show, Show::Unreachable);
        assert_eq!(c.count, Some(3));
        assert_eq!(c.interface.as_deref(), Some("127.0.0.1"));
        let c = run(&["-O0x20", "-H", "9", "-M", "h"]);
        assert_eq!(c.tos, Some(0x20));
        assert_eq!(c.ttl, Some(9));
        assert_eq!(c.pmtu, Some(Pmtu::Do));
        let c = run(&["-l", "-Q", "2,cumulative", "-N", "h"]);
        assert_eq!(fp(&c).report, Some(Duration::from_secs(2)));
        assert!(fp(&c).cumulative && fp(&c).netdata && c.quiet);
        assert_eq!(c.count, None);
        let c = run(&["-X", "2", "a", "b"]);
        assert_eq!(fp(&c).reachable, Some(2));
        assert!(fp(&c).fast_reachable);
    }

    #[test]
    fn targets_from_stdin_file_and_generate() {
        assert_eq!(run(&["-c1"]).files, ["-"]);
        assert_eq!(run(&["-f", "-"]).files, ["-"]);
        assert_eq!(run(&["-f", "list"]).files, ["list"]);
        assert_eq!(
            run(&["-g", "10.0.0.0/30"]).targets,
            ["10.0.0.1", "10.0.0.2"]
        );
        assert_eq!(
            run(&["-g", "10.0.0.7/31"]).targets,
            ["10.0.0.6", "10.0.0.7"]
        );
        assert_eq!(
            run(&["-g", "10.0.0.254", "10.0.1.1"]).targets,
            ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]
        );
        assert!(err(&["-g"]).starts_with("-g"));
        assert!(err(&["-g", "::1/128"]).starts_with("-g"));
        assert!(err(&["-g", "10.0.0.0/33"]).starts_with("-g"));
        assert!(err(&["-f", "x", "h"]).contains("not both"));
        assert_eq!(run(&["--", "-h"]).targets, ["-h"]);
    }

    #[test]
    fn fping6_implies_v6() {
        let v = vec!["h".to_string()];
        match parse("fping6", Some(Family::V6), &v) {
            Ok(Command::Run(c)) => assert_eq!(c.family, Some(Family::V6)),
            other => panic!("{other:?}"),
        }
        let v = vec!["-4".to_string(), "h".to_string()];
        assert!(parse("fping6", Some(Family::V6), &v).is_err());
    }

    #[test]
    fn bad_values_are_one_line_errors() {
        assert!(err(&["-c", "0", "h"]).starts_with("-c: "));
        assert!(err(&["-C", "x", "h"]).starts_with("-C: "));
        assert!(err(&["-C", "1000001", "h"]).contains("1 to 1000000"));
        assert!(err(&["-p", "-1", "h"]).starts_with("-p: "));
        assert!(err(&["-B", "9", "h"]).starts_with("-B: "));
        assert!(err(&["-Q", "1,x", "h"]).starts_with("-Q: "));
        assert!(err(&["-b", "70000", "h"]).starts_with("-b: "));
        assert!(err(&["-z", "h"]).contains("'-z'"));
        assert!(err(&["--nope", "h"]).contains("'--nope'"));
        assert!(err(&["-c"]).contains("missing value"));
        assert!(err(&["-a", "-u", "h"]).contains("only one of a, u"));
        assert!(err(&["-c1", "-l", "h"]).contains("only one of c, l"));
        assert!(err(&["-k", "1", "h"]).starts_with("-k: "));
        assert!(fp(&run(&["-N", "h"])).netdata);
        assert!(err(&["-S", "eth0", "h"]).starts_with("-S: "));
    }

    #[test]
    fn help_and_version() {
        let v = vec!["-v".to_string()];
        assert_eq!(parse("fping", None, &v), Ok(Command::Version));
        let v = vec!["-c".to_string(), "3".to_string(), "-h".to_string()];
        assert_eq!(parse("fping", None, &v), Ok(Command::Help));
        assert!(version("/usr/bin/fping").starts_with("/usr/bin/fping: Version 5.1 (pingr "));
        let u = usage("fping");
        for needle in ["   -S, --src", "   -I, --iface", "   -O, --tos"] {
            assert!(u.contains(needle), "{needle}");
        }
        assert!(!u.contains("-k,"), "fwmark is refused, so not listed");
        // Every option the help lists is one the grammar accepts.
        for line in u.lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix('-') {
                let ch = rest.chars().next().unwrap();
                if line.starts_with("   -") {
                    assert!(find(Name::Short(ch)).is_some(), "{line}");
                }
            }
        }
    }
}
