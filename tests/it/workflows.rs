//! Shell workflows (issue 6): pingr as a drop-in for `ping` and for `fping`'s idioms, the
//! summary table, TSV and JSON Lines read back by a program, the progress line on a
//! terminal, and the documentation (--help, man page, README examples) kept in step with
//! the binary.
//!
//! Network rule: every pingr runs inside a namespace made here, and sends only to loopback
//! or to addresses that exist in namespaces made here. Names that must not resolve are
//! looked up in a namespace with no route at all (loopback down).

use crate::common;
use crate::common::{describe, no_panic, pingr_cmd, text};

use common::{pingr, require_root, run_with_timeout, scratch_dir, Netns, Veth};
use std::collections::BTreeSet;
use std::process::{Command, Output};

/// Longest any one pingr (or script) run may take before it is killed.
const RUN_SECS: u64 = 20;

fn run_in(ns: &Netns, args: &[&str]) -> Output {
    run_with_timeout(&mut ns.wrap(&pingr_cmd(args)), RUN_SECS)
}

/// [`run_in`], with a context for messages: the command line and the whole output.
fn run_ctx(ns: &Netns, args: &[&str]) -> (Output, String) {
    let o = run_in(ns, args);
    let ctx = format!("pingr {}\n{}", args.join(" "), describe(&o));
    (o, ctx)
}

/// [`run_ctx`] of a run that must not panic and must exit with `code`.
fn run_exit(ns: &Netns, args: &[&str], code: i32) -> (Output, String) {
    let (o, ctx) = run_ctx(ns, args);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(code), "{ctx}");
    (o, ctx)
}

/// An answering namespace (`ns`: loopback is up, so every 127.0.0.x answers) joined by a
/// veth to a silent namespace holding two addresses that never answer.
/// Made by [`lab`] for a test that needs root.
struct Lab {
    ns: Netns,
    silent: Vec<String>,
    _quiet: Netns,
}

/// The [`Lab`] of `test`; None after a SKIP (not root).
fn lab(test: &str) -> Option<Lab> {
    let ns = common::root_netns(test)?;
    let quiet = Netns::new_silent();
    let mut v = Veth::new(&ns, "10.206.0.1/24", &quiet, "10.206.0.2/24");
    v.add_addrs(&ns, "10.206.0.11/24", &quiet, "10.206.0.3/24");
    let silent = v.b_addrs.clone();
    assert_eq!(silent.len(), 2);
    Some(Lab {
        ns,
        silent,
        _quiet: quiet,
    })
}

/// A namespace with no route at all (loopback down, without addresses): a name looked up
/// there can only fail, and nothing leaves it.
fn no_route_ns() -> Netns {
    let ns = Netns::new();
    ns.run("ip link set lo down; ip addr flush dev lo");
    let routes = ns.run("ip route show table all; ip -6 route show table all");
    assert!(routes.trim().is_empty(), "routes left: {routes}");
    ns
}

fn lines_of(s: &str) -> Vec<&str> {
    s.lines().collect()
}

// ---------------------------------------------------------------------------------------
// Small std-only pattern checks (no regex crate).

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `template` with `#` standing for one ASCII digit, every other character literal.
fn matches_template(s: &str, template: &str) -> bool {
    s.len() == template.len()
        && s.bytes().zip(template.bytes()).all(|(c, t)| match t {
            b'#' => c.is_ascii_digit(),
            _ => c == t,
        })
}

/// `^\d+\.\d{decimals}$`
fn is_fixed(s: &str, decimals: usize) -> bool {
    match s.split_once('.') {
        Some((int, frac)) => all_digits(int) && frac.len() == decimals && all_digits(frac),
        None => false,
    }
}

/// Splits `[1700000000.123456] rest` (iputils' -D prefix): the seconds and `rest`.
fn strip_epoch_prefix(line: &str) -> Option<(u64, &str)> {
    let body = line.strip_prefix('[')?;
    let (stamp, rest) = body.split_once("] ")?;
    let (secs, micros) = stamp.split_once('.')?;
    if !all_digits(secs) || micros.len() != 6 || !all_digits(micros) {
        return None;
    }
    Some((secs.parse().ok()?, rest))
}

/// Splits `[2026-11-22T19:44:32.123456+00:00] rest` (ISO 8601, UTC): the fields and `rest`.
fn strip_iso_prefix(line: &str) -> Option<([u32; 6], &str)> {
    const TEMPLATE: &str = "[####-##-##T##:##:##.######+00:00] ";
    if line.len() < TEMPLATE.len() || !line.is_char_boundary(TEMPLATE.len()) {
        return None;
    }
    let (head, rest) = line.split_at(TEMPLATE.len());
    if !matches_template(head, TEMPLATE) {
        return None;
    }
    let num = |a: usize, b: usize| head[a..b].parse::<u32>().ok();
    let f = [
        num(1, 5)?,
        num(6, 8)?,
        num(9, 11)?,
        num(12, 14)?,
        num(15, 17)?,
        num(18, 20)?,
    ];
    let valid = (1970..=9999).contains(&f[0])
        && (1..=12).contains(&f[1])
        && (1..=31).contains(&f[2])
        && f[3] < 24
        && f[4] < 60
        && f[5] < 61;
    valid.then_some((f, rest))
}

#[test]
fn pattern_checks_self_test() {
    assert!(matches_template("2026-11-22", "####-##-##"));
    assert!(!matches_template("2026-1-22", "####-##-##"));
    assert!(is_fixed("0.045", 3) && is_fixed("12.000", 3) && is_fixed("100.0", 1));
    assert!(!is_fixed("0.45", 3) && !is_fixed("-", 3) && !is_fixed(".045", 3));
    assert_eq!(
        strip_epoch_prefix("[1700000000.123456] 64 bytes from x"),
        Some((1_700_000_000, "64 bytes from x"))
    );
    assert_eq!(strip_epoch_prefix("[1700000000.12345] 64 bytes"), None);
    assert_eq!(strip_epoch_prefix("64 bytes from x"), None);
    let (f, rest) = strip_iso_prefix("[2026-11-22T19:44:32.000001+00:00] 64 bytes").unwrap();
    assert_eq!((f, rest), ([2026, 11, 22, 19, 44, 32], "64 bytes"));
    assert_eq!(
        strip_iso_prefix("[2026-13-22T19:44:32.000001+00:00] x"),
        None
    );
    assert_eq!(
        strip_iso_prefix("[2026-11-22 19:44:32.000001+00:00] x"),
        None
    );
    assert_eq!(strip_iso_prefix("[2026-11-22T19:44:32.000001Z] x"), None);
}

// ---------------------------------------------------------------------------------------
// 1. A drop-in for ping.

fn value_after<'a>(args: &[&'a str], opt: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| *a == opt)
        .and_then(|i| args.get(i + 1).copied())
}

/// Checks a run of `args` (which end with the target) that must have been answered.
fn check_answered(args: &[&str], o: &Output) {
    let target = *args.last().expect("a target");
    let out = text(&o.stdout);
    let ctx = || format!("pingr {}\n{}", args.join(" "), describe(o));
    no_panic(o);
    assert_eq!(o.status.code(), Some(0), "{}", ctx());
    let size: usize = value_after(args, "-s").map_or(56, |s| s.parse().unwrap());
    let lines = lines_of(&out);
    let header = if target.contains(':') {
        format!("PING {target} ({target}) {size} data bytes")
    } else {
        format!(
            "PING {target} ({target}) {size}({}) bytes of data.",
            size + 28
        )
    };
    assert_eq!(lines.first().copied(), Some(header.as_str()), "{}", ctx());

    let quiet = args.contains(&"-q");
    let epoch = args.contains(&"-D");
    let iso = args.contains(&"--timestamp=iso");
    let replies: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains(" bytes from "))
        .collect();
    if quiet {
        assert!(replies.is_empty(), "-q printed replies: {}", ctx());
    } else {
        assert!(!replies.is_empty(), "no reply line: {}", ctx());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for (i, line) in replies.iter().enumerate() {
            let rest = if epoch {
                let (secs, rest) = strip_epoch_prefix(line)
                    .unwrap_or_else(|| panic!("no [SECS.MICROS] prefix on {line:?}: {}", ctx()));
                // A sanity check of the clock read, not a timing measurement.
                assert!(secs.abs_diff(now) < 86_400, "epoch {secs} vs now {now}");
                rest
            } else if iso {
                let (_, rest) = strip_iso_prefix(line)
                    .unwrap_or_else(|| panic!("no ISO 8601 prefix on {line:?}: {}", ctx()));
                rest
            } else {
                line
            };
            let want = format!("{} bytes from {target}: icmp_seq={} ", size + 8, i + 1);
            assert!(
                rest.starts_with(&want) && rest.ends_with(" ms"),
                "{line:?} should start with {want:?}: {}",
                ctx()
            );
        }
    }
    assert!(
        !out.contains("no answer yet"),
        "-O fired on an answered probe: {}",
        ctx()
    );
    // -w stops by time: the last probe may be cut off, so only -c runs have exact counts.
    if let Some(n) = value_after(args, "-c") {
        let want = format!("\n{n} packets transmitted, {n} received, 0% packet loss, ");
        assert!(out.contains(&want), "no {want:?}: {}", ctx());
    }
}

#[test]
fn drop_in_for_ping_accepts_its_options() {
    let Some(ns) = common::root_netns("drop_in_for_ping_accepts_its_options") else {
        return;
    };
    let per_family = [
        "-c 2 -i 0.2",
        "-c 1 -W 0.5",
        "-w 1 -i 0.2",
        "-c 1 -s 100",
        "-c 1 -t 7",
        "-c 1 -q",
        "-c 1 -n",
        "-c 2 -i 0.2 -D",
        "-c 2 -i 0.2 --timestamp=iso",
        "-c 1 -O",
        "-c 1 -I lo",
        "-c 1 -Q 0x10",
        "-c 1 -M do",
        "-c 1 -M dont",
        "-c 1 -M want",
        "-c 1 -p ff00",
        "-c 1 -U",
    ];
    let mut runs: Vec<Vec<&str>> = Vec::new();
    for target in ["127.0.0.1", "::1"] {
        for opts in per_family {
            runs.push(common::words_then(opts, &[target]));
        }
    }
    runs.push(common::words("-c 1 -4 127.0.0.1"));
    runs.push(common::words("-c 1 -6 ::1"));
    // All of them at once, as a ping command line copied from a script would have them.
    for (fam, target) in [("-4", "127.0.0.1"), ("-6", "::1")] {
        let all = "-c 2 -i 0.2 -W 0.5 -w 5 -s 100 -t 7 -n -D -O -I lo -Q 0x10 -M do -p ff00 -U";
        runs.push(common::words_then(all, &[fam, target]));
        let quiet = "-c 1 -q -n -O -M want -p ff00 -U";
        runs.push(common::words_then(quiet, &[fam, target]));
    }
    for args in &runs {
        let o = run_in(&ns, args);
        check_answered(args, &o);
    }
}

/// -O on a silent host prints iputils' `no answer yet for icmp_seq=N`, once per probe.
#[test]
fn outstanding_reports_unanswered_probes() {
    let Some(lab) = lab("outstanding_reports_unanswered_probes") else {
        return;
    };
    let silent = lab.silent[0].as_str();
    let o = run_in(
        &lab.ns,
        &["-c", "2", "-i", "0.3", "-W", "0.2", "-O", silent],
    );
    no_panic(&o);
    common::assert_exit(&o, 1);
    let out = text(&o.stdout);
    let lines = lines_of(&out);
    for seq in 1..=2 {
        let want = format!("no answer yet for icmp_seq={seq}");
        assert_eq!(
            lines.iter().filter(|l| **l == want).count(),
            1,
            "want one {want:?} line:\n{}",
            describe(&o)
        );
    }
    assert!(
        out.contains("\n2 packets transmitted, 0 received, 100% packet loss, "),
        "{}",
        describe(&o)
    );
    // Without -O the same run says nothing of the sort.
    let o = run_in(&lab.ns, &["-c", "2", "-i", "0.3", "-W", "0.2", silent]);
    common::assert_exit(&o, 1);
    assert!(
        !text(&o.stdout).contains("no answer yet"),
        "{}",
        describe(&o)
    );
}

// ---------------------------------------------------------------------------------------
// 2. fping idioms.

fn names(list: &[&str]) -> String {
    list.iter().map(|n| format!("{n}\n")).collect()
}

#[test]
fn fping_alive_unreachable_and_min_alive() {
    let Some(lab) = lab("fping_alive_unreachable_and_min_alive") else {
        return;
    };
    let (s1, s2) = (lab.silent[0].as_str(), lab.silent[1].as_str());
    let targets = ["127.0.0.1", s1, "127.0.0.3", s2, "127.0.0.2"];
    let alive = ["127.0.0.1", "127.0.0.3", "127.0.0.2"];
    let dead = [s1, s2];
    let prefix = [
        "127.0.0.1",
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.5",
        "127.0.0.6",
    ];
    let base = ["-c", "1", "-W", "0.3"];
    let run = |extra: &[&str], tail: &[&str]| {
        let args = [extra, &base[..], tail].concat();
        let o = run_in(&lab.ns, &args);
        no_panic(&o);
        (o, args.join(" "))
    };
    let cases: Vec<(Vec<&str>, Vec<&str>, String, i32)> = vec![
        (vec!["-a"], targets.to_vec(), names(&alive), 1),
        (vec!["-u"], targets.to_vec(), names(&dead), 1),
        (vec!["-a"], vec!["-g", "127.0.0.0/29"], names(&prefix), 0),
        (vec!["-u"], vec!["-g", "127.0.0.0/29"], String::new(), 0),
        (
            vec!["-a"],
            [&targets[..], &["-g", "127.0.0.0/29"]].concat(),
            names(&[&alive[..], &prefix[..]].concat()),
            1,
        ),
        (
            vec!["-u"],
            [&targets[..], &["-g", "127.0.0.0/29"]].concat(),
            names(&dead),
            1,
        ),
        // The names only, whatever the format.
        (
            vec!["-a", "--format=json"],
            targets.to_vec(),
            names(&alive),
            1,
        ),
        (
            vec!["-u", "--format=tsv"],
            targets.to_vec(),
            names(&dead),
            1,
        ),
        // --min-alive N: 0 when at least N answered, 1 otherwise.
        (
            vec!["-a", "--min-alive", "3"],
            targets.to_vec(),
            names(&alive),
            0,
        ),
        (
            vec!["-a", "--min-alive", "4"],
            targets.to_vec(),
            names(&alive),
            1,
        ),
    ];
    for (extra, tail, want, code) in &cases {
        let (o, cmd) = run(extra, tail);
        assert_eq!(text(&o.stdout), *want, "pingr {cmd}\n{}", describe(&o));
        assert_eq!(
            o.status.code(),
            Some(*code),
            "pingr {cmd}\n{}",
            describe(&o)
        );
    }
    for (n, code) in [("1", 0), ("3", 0), ("4", 1), ("5", 1)] {
        let (o, cmd) = run(&["-q", "--min-alive", n], &targets);
        assert_eq!(o.status.code(), Some(code), "pingr {cmd}\n{}", describe(&o));
    }
}

#[test]
fn fping_max_loss_counts_lossy_targets_as_down() {
    let name = "fping_max_loss_counts_lossy_targets_as_down";
    let Some(ns) = common::root_netns_with(name, "nft") else {
        return;
    };
    // Every other echo request to 127.0.0.9 is dropped: 4 probes, 2 lost, whatever the phase.
    ns.run(
        "nft add table ip t; nft add chain ip t o '{ type filter hook output priority 0; }'; \
         nft add rule ip t o ip daddr 127.0.0.9 icmp type echo-request numgen inc mod 2 == 0 drop",
    );
    let base = ["-c", "4", "-i", "0.2", "-W", "0.3"];
    let run = |extra: &[&str]| {
        let args = [&base[..], extra, &["127.0.0.9", "127.0.0.1"]].concat();
        let o = run_in(&ns, &args);
        no_panic(&o);
        (o, format!("pingr {}", args.join(" ")))
    };
    // The setup really loses half: the table says so.
    let (o, cmd) = run(&["-q"]);
    let out = text(&o.stdout);
    let row = |t: &str| {
        common::summary_row(&out, t)
            .unwrap_or_else(|| panic!("no row for {t}: {cmd}\n{}", describe(&o)))
    };
    assert_eq!(row("127.0.0.9")[2..5], ["4", "2", "50.0"], "{cmd}");
    assert_eq!(row("127.0.0.1")[2..5], ["4", "4", "0.0"], "{cmd}");
    assert_eq!(o.status.code(), Some(0), "{cmd}\n{}", describe(&o));

    for (pct, code) in [("40", 1), ("49.9", 1), ("50", 0), ("60", 0)] {
        let (o, cmd) = run(&["-q", "--max-loss", pct]);
        assert_eq!(o.status.code(), Some(code), "{cmd}\n{}", describe(&o));
    }
    // Documented: over the limit moves the target from the -a list to the -u list.
    let (o, cmd) = run(&["-a", "--max-loss", "40"]);
    assert_eq!(text(&o.stdout), "127.0.0.1\n", "{cmd}\n{}", describe(&o));
    assert_eq!(o.status.code(), Some(1), "{cmd}\n{}", describe(&o));
    let (o, cmd) = run(&["-u", "--max-loss", "40"]);
    assert_eq!(text(&o.stdout), "127.0.0.9\n", "{cmd}\n{}", describe(&o));
    let (o, cmd) = run(&["-a", "--max-loss", "60"]);
    assert_eq!(
        text(&o.stdout),
        "127.0.0.9\n127.0.0.1\n",
        "{cmd}\n{}",
        describe(&o)
    );
}

// ---------------------------------------------------------------------------------------
// 3. The summary table.

const TABLE_HEADER: [&str; 14] = [
    "TARGET", "ADDRESS", "SENT", "RECV", "LOSS%", "MIN", "AVG", "MAX", "MDEV", "MEDIAN", "P95",
    "DUP", "LATE", "ERR",
];

/// The white-space separated tokens of a line with their byte offsets `[start, end)`.
fn spans(line: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line
        .char_indices()
        .chain(std::iter::once((line.len(), ' ')))
    {
        match (c == ' ', start) {
            (true, Some(s)) => {
                out.push((s, i, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

/// The table at the end of `out`: checks its header, its alignment and the order of its
/// rows, and returns the cells of each row.
fn parse_table(out: &str, targets: &[&str], ctx: &str) -> Vec<Vec<String>> {
    let lines = lines_of(out);
    let h = lines
        .iter()
        .position(|l| l.starts_with("TARGET"))
        .unwrap_or_else(|| panic!("no table header: {ctx}"));
    assert!(
        h > 0 && lines[h - 1].is_empty(),
        "no empty line before: {ctx}"
    );
    assert_eq!(
        lines.len(),
        h + 1 + targets.len(),
        "want one row per target, and nothing after the table: {ctx}"
    );
    let head = spans(lines[h]);
    let head_names: Vec<&str> = head.iter().map(|s| s.2).collect();
    assert_eq!(head_names, TABLE_HEADER, "{ctx}");
    assert_eq!(head[0].0, 0, "{ctx}");
    let mut rows = Vec::new();
    for (line, target) in lines[h + 1..].iter().zip(targets) {
        assert!(line.is_ascii(), "{line:?}: {ctx}");
        let cells = spans(line);
        assert_eq!(cells.len(), 14, "{line:?}: {ctx}");
        assert_eq!(cells[0].2, *target, "rows out of input order: {ctx}");
        // Text columns start where their header starts, numbers end where theirs ends.
        for (i, (cell, hd)) in cells.iter().zip(&head).enumerate() {
            if i < 2 {
                assert_eq!(
                    cell.0, hd.0,
                    "column {} of {line:?} misaligned: {ctx}",
                    hd.2
                );
            } else {
                assert_eq!(
                    cell.1, hd.1,
                    "column {} of {line:?} misaligned: {ctx}",
                    hd.2
                );
            }
        }
        rows.push(cells.iter().map(|c| c.2.to_string()).collect());
    }
    rows
}

/// Checks the cells of one row of a resolved target that was sent `sent` probes.
fn check_cells(cells: &[String], sent: u64, answers: bool, ctx: &str) {
    assert_eq!(cells[2], sent.to_string(), "SENT {cells:?}: {ctx}");
    let recv: u64 = cells[3]
        .parse()
        .unwrap_or_else(|_| panic!("RECV {cells:?}"));
    assert!(is_fixed(&cells[4], 1), "LOSS% {cells:?}: {ctx}");
    let loss: f64 = cells[4].parse().unwrap();
    assert!(
        (loss - 100.0 * (sent - recv) as f64 / sent as f64).abs() < 0.06,
        "{cells:?}"
    );
    if answers {
        assert_eq!(recv, sent, "{cells:?}: {ctx}");
        for c in &cells[5..11] {
            assert!(
                is_fixed(c, 3),
                "RTT {c:?} without three decimals {cells:?}: {ctx}"
            );
        }
        let v: Vec<f64> = cells[5..8].iter().map(|c| c.parse().unwrap()).collect();
        assert!(v[0] <= v[1] && v[1] <= v[2], "MIN <= AVG <= MAX: {cells:?}");
    } else {
        assert_eq!(recv, 0, "{cells:?}: {ctx}");
        assert_eq!(cells[5..11], ["-"; 6], "no replies, no times: {ctx}");
    }
    for c in &cells[11..14] {
        assert!(all_digits(c), "DUP/LATE/ERR {cells:?}: {ctx}");
    }
}

#[test]
fn table_checker_self_test() {
    let good = "\nTARGET  ADDRESS  SENT  RECV  LOSS%    MIN    AVG    MAX   MDEV  MEDIAN    P95  DUP  LATE  ERR\n\
                a       1.2.3.4     2     2    0.0  0.030  0.041  0.052  0.009   0.040  0.052    0     0    0\n";
    let rows = parse_table(good, &["a"], "good");
    check_cells(&rows[0], 2, true, "good");
    // One column a character to the left: refused.
    let bad = good.replace("   0.040", "  0.040 ");
    let caught = std::panic::catch_unwind(|| parse_table(&bad, &["a"], "bad"));
    assert!(caught.is_err(), "a misaligned MEDIAN column was accepted");
    let caught = std::panic::catch_unwind(|| check_cells(&rows[0], 3, true, "bad"));
    assert!(caught.is_err(), "a wrong SENT was accepted");
}

#[test]
fn summary_table_is_aligned_and_in_input_order() {
    let Some(lab) = lab("summary_table_is_aligned_and_in_input_order") else {
        return;
    };
    let silent = lab.silent[0].as_str();
    let targets = ["127.0.0.1", silent, "::1", "localhost", "127.0.0.2"];
    for quiet in [false, true] {
        let mut args = vec!["-c", "2", "-i", "0.2", "-W", "0.3"];
        if quiet {
            args.push("-q");
        }
        args.extend(targets);
        let (o, ctx) = run_exit(&lab.ns, &args, 1);
        let out = text(&o.stdout);
        assert_eq!(out.contains(" bytes from "), !quiet, "{ctx}");
        let rows = parse_table(&out, &targets, &ctx);
        for (cells, target) in rows.iter().zip(targets) {
            let want_addr: Vec<&str> = match target {
                "localhost" => vec!["127.0.0.1", "::1"],
                t => vec![t],
            };
            assert!(want_addr.contains(&cells[1].as_str()), "{cells:?}: {ctx}");
            check_cells(cells, 2, target != silent, &ctx);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4. TSV and JSON Lines.

const TSV_HEADER: &str =
    "target\taddress\tsent\trecv\tloss%\tmin\tavg\tmax\tmdev\tmedian\tp95\tdup\tlate\terr";

/// The rows of a TSV report, checked: header, 14 unpadded fields, input order.
fn parse_tsv(out: &str, targets: &[&str], ctx: &str) -> Vec<Vec<String>> {
    let lines = lines_of(out);
    assert_eq!(lines.first().copied(), Some(TSV_HEADER), "{ctx}");
    assert_eq!(lines.len(), 1 + targets.len(), "one line per target: {ctx}");
    let mut rows = Vec::new();
    for (line, target) in lines[1..].iter().zip(targets) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 14, "{line:?}: {ctx}");
        for f in &fields {
            assert!(
                !f.is_empty() && !f.starts_with(' ') && !f.ends_with(' '),
                "padded or empty field {f:?} in {line:?}: {ctx}"
            );
        }
        assert_eq!(fields[0], *target, "rows out of input order: {ctx}");
        rows.push(fields.iter().map(|f| f.to_string()).collect());
    }
    rows
}

#[test]
fn tsv_matches_the_table_and_parses() {
    let Some(lab) = lab("tsv_matches_the_table_and_parses") else {
        return;
    };
    let silent = lab.silent[0].as_str();
    let targets = ["127.0.0.1", silent, "::1", "localhost"];
    let mut args = vec!["-c", "2", "-i", "0.2", "-W", "0.3", "--format=tsv"];
    args.extend(targets);
    let (o, ctx) = run_exit(&lab.ns, &args, 1);
    let tsv = parse_tsv(&text(&o.stdout), &targets, &ctx);
    for (cells, target) in tsv.iter().zip(targets) {
        check_cells(cells, 2, target != silent, &ctx);
        assert!(cells[1].parse::<std::net::IpAddr>().is_ok(), "{ctx}");
    }

    // The same targets as a text table (another run: compare counts, not times).
    let mut args = vec!["-q", "-c", "2", "-i", "0.2", "-W", "0.3"];
    args.extend(targets);
    let o = run_in(&lab.ns, &args);
    let tctx = format!("pingr {}\n{}", args.join(" "), describe(&o));
    let table = parse_table(&text(&o.stdout), &targets, &tctx);
    for (t, x) in tsv.iter().zip(&table) {
        assert_eq!(t[..5], x[..5], "tsv vs table:\n{ctx}\n{tctx}");
    }
}

/// A JSON value, as parsed by [`Json::parse`] (numbers keep their text).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// Parses one complete JSON text (RFC 8259), strictly: no trailing data, no raw control
    /// characters in strings, no lone surrogates, no leading zeros.
    fn parse(s: &str) -> Result<Json, String> {
        let mut p = JsonParser { s, i: 0 };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.i != s.len() {
            return Err(format!("trailing data at byte {}", p.i));
        }
        Ok(v)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn keys(&self) -> BTreeSet<&str> {
        match self {
            Json::Obj(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
            _ => BTreeSet::new(),
        }
    }

    fn str_of(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Json::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn num_text(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Json::Num(n)) => Some(n),
            _ => None,
        }
    }

    fn num(&self, key: &str) -> Option<f64> {
        self.num_text(key).and_then(|n| n.parse().ok())
    }
}

struct JsonParser<'a> {
    s: &'a str,
    i: usize,
}

impl JsonParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.i))
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Result<(), String> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            self.err(&format!("expected {:?}", b as char))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > 64 {
            return self.err("nested too deep");
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.err("expected a value"),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err("bad literal")
        }
    }

    /// `OPEN CLOSE`, or `OPEN item (, item)* CLOSE` with each item read by `item`.
    fn list(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        self.eat(open)?;
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            item(self)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.err(&format!("expected ',' or '{}'", close as char)),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        let mut members: Vec<(String, Json)> = Vec::new();
        self.list(b'{', b'}', |p| {
            let k = p.string()?;
            if members.iter().any(|(m, _)| *m == k) {
                return p.err(&format!("duplicate member {k:?}"));
            }
            p.ws();
            p.eat(b':')?;
            p.ws();
            let v = p.value(depth + 1)?;
            members.push((k, v));
            Ok(())
        })?;
        Ok(Json::Obj(members))
    }

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        let mut items = Vec::new();
        self.list(b'[', b']', |p| {
            items.push(p.value(depth + 1)?);
            Ok(())
        })?;
        Ok(Json::Arr(items))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self.s.get(self.i..self.i + 4).unwrap_or("");
        if h.len() != 4 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return self.err("bad \\u escape");
        }
        self.i += 4;
        Ok(u32::from_str_radix(h, 16).expect("four hex digits"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let Some(c) = self.s[self.i..].chars().next() else {
                return self.err("unterminated string");
            };
            self.i += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    out.push(match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = match hi {
                                0xD800..=0xDBFF => {
                                    if !self.s[self.i..].starts_with("\\u") {
                                        return self.err("lone high surrogate");
                                    }
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&lo) {
                                        return self.err("bad low surrogate");
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return self.err("lone low surrogate"),
                                _ => hi,
                            };
                            char::from_u32(cp).expect("a valid scalar value")
                        }
                        _ => return self.err("unknown escape"),
                    });
                }
                c if (c as u32) < 0x20 => return self.err("raw control character in string"),
                c => out.push(c),
            }
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i - from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return self.err("bad number"),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return self.err("no digits after '.'");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return self.err("no digits in exponent");
            }
        }
        Ok(Json::Num(self.s[start..self.i].to_string()))
    }
}

#[test]
fn json_parser_self_test() {
    let v = Json::parse(
        r#" {"a":[1,-2.5e3,0,true,false,null],"s":"q\"b\\s\/\b\f\n\r\t\u0001\u00e9\ud83d\ude00","o":{}} "#,
    )
    .unwrap();
    assert_eq!(
        v.str_of("s"),
        Some("q\"b\\s/\u{8}\u{c}\n\r\t\u{1}é\u{1F600}")
    );
    assert_eq!(
        v.get("a"),
        Some(&Json::Arr(vec![
            Json::Num("1".into()),
            Json::Num("-2.5e3".into()),
            Json::Num("0".into()),
            Json::Bool(true),
            Json::Bool(false),
            Json::Null
        ]))
    );
    assert_eq!(v.get("o"), Some(&Json::Obj(vec![])));
    for bad in [
        "",
        "{",
        "{\"a\":1,}",
        "{\"a\":1}x",
        "{\"a\":01}",
        "{\"a\":1.}",
        "\"tab\there\"",
        "\"\u{1}\"",
        "\"\\x\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\u12g4\"",
        "{\"a\":1,\"a\":2}",
        "[1 2]",
        "tru",
        "\"open",
    ] {
        assert!(Json::parse(bad).is_err(), "accepted {bad:?}");
    }
}

const REPLY_KEYS: [&str; 7] = [
    "type", "target", "from", "bytes", "icmp_seq", "ttl", "time_ms",
];
/// The members of a summary line: the counts, then [`common::JSON_MS_KEYS`], then the rest.
fn summary_keys() -> BTreeSet<&'static str> {
    let counts = [
        "type",
        "target",
        "address",
        "resolved",
        "sent",
        "received",
        "loss_percent",
    ];
    let rest = ["duplicates", "late", "errors"];
    keyset(&[&counts[..], &common::JSON_MS_KEYS, &rest].concat())
}

/// Every line of `out`, parsed (panics naming the first that is not one JSON object).
fn json_lines(out: &str, ctx: &str) -> Vec<Json> {
    assert!(out.ends_with('\n'), "unterminated last line: {ctx}");
    out.lines()
        .map(|l| match Json::parse(l) {
            Ok(v @ Json::Obj(_)) => v,
            Ok(v) => panic!("not an object: {v:?} from {l:?}: {ctx}"),
            Err(e) => panic!("bad JSON {l:?}: {e}: {ctx}"),
        })
        .collect()
}

fn keyset<'a>(keys: &[&'a str]) -> BTreeSet<&'a str> {
    keys.iter().copied().collect()
}

#[test]
fn json_lines_parse_back() {
    let Some(lab) = lab("json_lines_parse_back") else {
        return;
    };
    let silent = lab.silent[0].as_str();
    let targets = ["127.0.0.1", silent, "::1"];
    let mut args = vec!["-c", "2", "-i", "0.2", "-W", "0.3", "--format=json"];
    args.extend(targets);
    let (o, ctx) = run_exit(&lab.ns, &args, 1);
    let objs = json_lines(&text(&o.stdout), &ctx);
    let first_summary = objs
        .iter()
        .position(|v| v.str_of("type") == Some("summary"))
        .unwrap_or_else(|| panic!("no summary: {ctx}"));
    let (events, summaries) = objs.split_at(first_summary);

    let mut seqs: Vec<(String, u64)> = Vec::new();
    for ev in events {
        assert_eq!(ev.str_of("type"), Some("reply"), "{ev:?}: {ctx}");
        assert_eq!(ev.keys(), keyset(&REPLY_KEYS), "{ev:?}: {ctx}");
        let target = ev.str_of("target").expect("target is a string");
        assert!(["127.0.0.1", "::1"].contains(&target), "{ev:?}: {ctx}");
        assert_eq!(ev.str_of("from"), Some(target), "{ev:?}");
        assert_eq!(ev.num_text("bytes"), Some("64"), "{ev:?}");
        assert!(
            matches!(ev.get("ttl"), Some(Json::Null)) || ev.num("ttl").is_some(),
            "{ev:?}"
        );
        let t = ev.num_text("time_ms").expect("time_ms is a number");
        assert!(is_fixed(t, 3), "time_ms {t:?} without three decimals");
        let seq = ev.num_text("icmp_seq").expect("icmp_seq is a number");
        seqs.push((
            target.to_string(),
            seq.parse().expect("an integer icmp_seq"),
        ));
    }
    seqs.sort();
    let want: Vec<(String, u64)> = [("127.0.0.1", 1), ("127.0.0.1", 2), ("::1", 1), ("::1", 2)]
        .iter()
        .map(|(t, s)| (t.to_string(), *s))
        .collect();
    assert_eq!(
        seqs, want,
        "one reply per probe of the answering targets: {ctx}"
    );

    assert_eq!(summaries.len(), targets.len(), "{ctx}");
    for (s, target) in summaries.iter().zip(targets) {
        assert_eq!(s.str_of("type"), Some("summary"), "{s:?}: {ctx}");
        assert_eq!(s.keys(), summary_keys(), "{s:?}: {ctx}");
        assert_eq!(s.str_of("target"), Some(target), "input order: {ctx}");
        assert_eq!(s.str_of("address"), Some(target), "{s:?}");
        assert_eq!(s.get("resolved"), Some(&Json::Bool(true)), "{s:?}");
        assert_eq!(s.num_text("sent"), Some("2"), "{s:?}");
        for k in ["duplicates", "late", "errors"] {
            assert!(all_digits(s.num_text(k).unwrap_or("")), "{k}: {s:?}");
        }
        let answered = target != silent;
        assert_eq!(
            s.num_text("received"),
            Some(if answered { "2" } else { "0" }),
            "{s:?}"
        );
        let loss = s.num("loss_percent").expect("loss_percent is a number");
        assert_eq!(loss, if answered { 0.0 } else { 100.0 }, "{s:?}");
        for k in common::JSON_MS_KEYS {
            if answered {
                let t = s.num_text(k).unwrap_or_else(|| panic!("{k}: {s:?}"));
                assert!(is_fixed(t, 3), "{k} {t:?} without three decimals");
            } else {
                assert_eq!(s.get(k), Some(&Json::Null), "{k}: {s:?}");
            }
        }
    }

    // -q: no events, only the summaries.
    let mut args = vec!["-q", "-c", "1", "-W", "0.3", "--format=json"];
    args.extend(targets);
    let (o, ctx) = run_ctx(&lab.ns, &args);
    let objs = json_lines(&text(&o.stdout), &ctx);
    let types: Vec<&str> = objs.iter().filter_map(|v| v.str_of("type")).collect();
    assert_eq!(types, ["summary"; 3], "{ctx}");
}

/// Names with `"`, `\`, a tab and a control byte (fping's JSON does not escape them):
/// each comes back, parsed, exactly as written, from a summary with "resolved":false.
#[test]
fn json_escapes_target_names() {
    if !require_root("json_escapes_target_names") {
        return;
    }
    let ns = no_route_ns();
    let wanted = [
        "bad\"quote.invalid",
        "back\\slash.invalid",
        "tab\there.invalid",
        "ctl\u{1}byte.invalid",
        "mixed\"\\\t\u{1}\u{1f}\u{7f}é\u{2028}.invalid",
    ];
    let file = scratch_dir().join(format!("workflow-names-{}.txt", std::process::id()));
    let body: String = wanted.iter().map(|n| format!("{n}\n")).collect();
    std::fs::write(&file, body).expect("write the target file");
    let file_arg = file.to_str().expect("a UTF-8 path");

    let args = ["-c", "1", "--format=json", "-f", file_arg];
    let (o, ctx) = run_exit(&ns, &args, 2);
    let out = text(&o.stdout);
    assert!(
        !out.bytes().any(|b| b < 0x20 && b != b'\n'),
        "raw control characters in JSON: {ctx}"
    );
    let objs = json_lines(&out, &ctx);
    assert_eq!(objs.len(), wanted.len(), "one summary per name: {ctx}");
    for (s, name) in objs.iter().zip(wanted) {
        assert_eq!(s.str_of("type"), Some("summary"), "{s:?}");
        assert_eq!(
            s.keys(),
            keyset(&["type", "target", "address", "resolved"]),
            "{s:?}"
        );
        assert_eq!(s.str_of("target"), Some(name), "{s:?}: {ctx}");
        assert_eq!(s.get("address"), Some(&Json::Null), "{s:?}");
        assert_eq!(s.get("resolved"), Some(&Json::Bool(false)), "{s:?}");
    }

    // TSV of the same: a tab or control byte in a name must not break the row (the man
    // page says tabs become spaces; escaping them is as good for a reader): 14 fields,
    // no raw control characters, one row per name in input order.
    let args = ["-c", "1", "--format=tsv", "-f", file_arg];
    let (o, ctx) = run_exit(&ns, &args, 2);
    let out = text(&o.stdout);
    let lines = lines_of(&out);
    assert_eq!(lines.first().copied(), Some(TSV_HEADER), "{ctx}");
    assert_eq!(lines.len(), 1 + wanted.len(), "{ctx}");
    for (line, name) in lines[1..].iter().zip(wanted) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 14, "{line:?}: {ctx}");
        assert_eq!(fields[1..], ["-"; 13], "{line:?}: {ctx}");
        assert!(!fields[0].chars().any(char::is_control), "{line:?}: {ctx}");
        let stem = name.split(['"', '\\', '\t', '\u{1}']).next().unwrap_or("");
        assert!(
            fields[0].starts_with(stem),
            "{line:?} is not {name:?}: {ctx}"
        );
    }
    // -u lists names that could not be resolved too (documented), -a none of them.
    for (flag, want) in [("-u", wanted.len()), ("-a", 0)] {
        let args = [flag, "-c", "1", "-f", file_arg];
        let (o, ctx) = run_exit(&ns, &args, 2);
        let out = text(&o.stdout);
        assert_eq!(out.lines().count(), want, "{ctx}");
        for (line, name) in out.lines().zip(wanted) {
            let stem = name.split(['"', '\\', '\t', '\u{1}']).next().unwrap_or("");
            assert!(line.starts_with(stem), "{line:?} is not {name:?}: {ctx}");
        }
    }
    let _ = std::fs::remove_file(&file);
}

// ---------------------------------------------------------------------------------------
// 5. The progress line.

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn progress_line_only_on_a_terminal() {
    let name = "progress_line_only_on_a_terminal";
    let Some(ns) = common::root_netns_with(name, "script") else {
        return;
    };
    let bin = shell_quote(pingr().to_str().expect("a UTF-8 path"));
    // 14 targets, 4 probes 1 s apart: about 3 s, so the line (shown after 2 s) appears.
    let run = "-a -c 4 -i 1 -g 127.0.0.0/28";
    let under_script = |args: &str| {
        let mut c = Command::new("script");
        c.args(["-qc", &format!("{bin} {args} >/dev/null"), "/dev/null"]);
        run_with_timeout(&mut ns.wrap(&c), RUN_SECS)
    };
    let (tty, quiet, pipe) = std::thread::scope(|s| {
        let tty = s.spawn(|| under_script(run));
        let quiet = s.spawn(|| under_script(&format!("-q {run}")));
        let args: Vec<&str> = run.split(' ').collect();
        let pipe = run_in(&ns, &args);
        (tty.join().unwrap(), quiet.join().unwrap(), pipe)
    });

    // On a terminal: the line is drawn (and redrawn) in place, and erased at the end.
    let shown = text(&tty.stdout);
    let ctx = format!("script -qc 'pingr {run} >/dev/null'\n{}", describe(&tty));
    assert_eq!(tty.status.code(), Some(0), "{ctx}");
    assert!(shown.contains("targets done"), "no progress line: {ctx}");
    assert!(shown.contains("\r\x1b[K"), "no \\r ESC[K redraw: {ctx}");
    let last = shown.rfind("targets done").unwrap_or(0);
    assert!(
        shown[last..].contains("\r\x1b[K"),
        "the last progress line is left on the screen: {shown:?}"
    );

    // stderr a pipe: nothing of it, and stdout still the plain list.
    let err = text(&pipe.stderr);
    let ctx = format!("pingr {run} (stderr a pipe)\n{}", describe(&pipe));
    assert_eq!(pipe.status.code(), Some(0), "{ctx}");
    assert!(!err.contains("targets done"), "{ctx}");
    assert!(!err.contains('\x1b') && !err.contains('\r'), "{ctx}");
    let all: Vec<String> = (1..=14).map(|i| format!("127.0.0.{i}\n")).collect();
    assert_eq!(text(&pipe.stdout), all.concat(), "{ctx}");

    // -q on a terminal: none either.
    let shown = text(&quiet.stdout);
    let ctx = format!(
        "script -qc 'pingr -q {run} >/dev/null'\n{}",
        describe(&quiet)
    );
    assert_eq!(quiet.status.code(), Some(0), "{ctx}");
    assert!(!shown.contains("targets done"), "{ctx}");
    assert!(!shown.contains("\x1b[K"), "{ctx}");
}

// ---------------------------------------------------------------------------------------
// 6. Documentation.

const MAN: &str = include_str!("../../man/pingr.8");
const README: &str = include_str!("../../README.md");

/// The options `--help` lists: the `-X` and `--long` tokens of the left column of each
/// option line (a line indented by at most 6 spaces whose text starts with `-`).
fn help_options(help: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in help.lines() {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if indent == 0 || indent > 6 || !body.starts_with('-') {
            continue;
        }
        let left = body.split("  ").next().unwrap_or("");
        for tok in left.split([' ', ',']) {
            if let Some(long) = tok.strip_prefix("--") {
                let long = long.split('=').next().unwrap_or("");
                out.insert(format!("--{long}"));
            } else if tok.len() == 2 && tok.starts_with('-') {
                out.insert(tok.to_string());
            }
        }
    }
    out
}

/// `--max-threads` as roff writes it: `\-\-max\-threads`.
fn roff_escaped(opt: &str) -> String {
    opt.replace('-', "\\-")
}

/// Whether `escaped` occurs in `man` as a whole option (not a prefix of a longer one).
fn man_mentions(man: &str, escaped: &str) -> bool {
    man.match_indices(escaped).any(|(i, m)| {
        let after = &man[i + m.len()..];
        let continues = after.starts_with("\\-")
            || after
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        !continues
    })
}

/// The text of a `.SH NAME` section: from its line to the next `.SH`.
fn man_section<'a>(man: &'a str, name: &str) -> &'a str {
    let head = format!(".SH {name}\n");
    let start = man
        .find(&head)
        .unwrap_or_else(|| panic!("no {head:?} in man/pingr.8"))
        + head.len();
    let end = man[start..].find("\n.SH ").map_or(man.len(), |e| start + e);
    &man[start..end]
}

/// The options the OPTIONS section defines: every `\fB\-X\fR` / `\fB\-\-long\fR` in it, and
/// the `.B \-X` tag lines that follow `.TP`.
fn man_options(options: &str) -> BTreeSet<String> {
    let unescape = |s: &str| s.replace("\\-", "-");
    let mut out = BTreeSet::new();
    let mut rest = options;
    while let Some(i) = rest.find("\\fB\\-") {
        let tail = &rest[i + 3..];
        let end = tail.find("\\f").unwrap_or(tail.len());
        let opt = unescape(&tail[..end]);
        let opt = opt.split(['=', ' ']).next().unwrap_or("").to_string();
        out.insert(opt);
        rest = &tail[end..];
    }
    let lines: Vec<&str> = options.lines().collect();
    for pair in lines.windows(2) {
        if pair[0] == ".TP" {
            if let Some(tag) = pair[1].strip_prefix(".B \\-") {
                let opt = unescape(&format!("\\-{tag}"));
                out.insert(opt.split(' ').next().unwrap_or("").to_string());
            }
        }
    }
    out
}

#[test]
fn doc_parsers_self_test() {
    let help = "usage: pingr [OPTIONS] TARGET...\n\nProbing:\n  -c, --count N         stop (default: -w)\n                        -x on a continuation\n  -4                    use IPv4 only, not -6\n      --max-threads N   use at most N\n  -I IFACE|ADDR         send\n";
    let got: Vec<String> = help_options(help).into_iter().collect();
    assert_eq!(got, ["--count", "--max-threads", "-4", "-I", "-c"]);
    let man = ".SH OPTIONS\n.TP\n\\fB\\-c\\fR, \\fB\\-\\-count\\fR \\fIN\\fR\nStop.\n.TP\n.B \\-4\nUse.\n.TP\n\\fB\\-\\-max\\-threads\\fR \\fIN\\fR\n.SH OUTPUT\n\\fB\\-z\\fR\n";
    let opts = man_section(man, "OPTIONS");
    let got: Vec<String> = man_options(opts).into_iter().collect();
    assert_eq!(got, ["--count", "--max-threads", "-4", "-c"]);
    assert_eq!(roff_escaped("--max-threads"), "\\-\\-max\\-threads");
    assert!(man_mentions(opts, "\\-\\-max\\-threads"));
    assert!(!man_mentions(opts, "\\-\\-max"));
    assert!(!man_mentions(opts, "\\-z"));
}

#[test]
fn help_and_man_page_list_the_same_options() {
    let Some(ns) = common::root_netns("help_and_man_page_list_the_same_options") else {
        return;
    };
    let o = run_in(&ns, &["--help"]);
    common::assert_exit(&o, 0);
    let help = help_options(&text(&o.stdout));
    assert!(
        help.len() >= 20 && help.contains("-c") && help.contains("--count"),
        "could not read the options of --help: {help:?}\n{}",
        describe(&o)
    );
    let options = man_section(MAN, "OPTIONS");
    let man = man_options(options);
    assert!(
        man.len() >= 20,
        "could not read the man page options: {man:?}"
    );

    let not_in_man: Vec<&String> = help
        .iter()
        .filter(|o| !man_mentions(MAN, &roff_escaped(o)))
        .collect();
    assert!(
        not_in_man.is_empty(),
        "--help lists options that man/pingr.8 never mentions (as \\-...): {not_in_man:?}"
    );
    let not_defined: Vec<&String> = help.iter().filter(|o| !man.contains(*o)).collect();
    assert!(
        not_defined.is_empty(),
        "--help lists options that the man page's OPTIONS section does not describe: {not_defined:?}"
    );
    let not_in_help: Vec<&String> = man.iter().filter(|o| !help.contains(*o)).collect();
    assert!(
        not_in_help.is_empty(),
        "the man page's OPTIONS section describes options that --help does not list: {not_in_help:?}"
    );
}

/// Every `pingr ...` line of a ```sh block of README.md.
fn readme_examples(readme: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        let t = line.trim();
        if let Some(lang) = t.strip_prefix("```") {
            in_sh = !in_sh && lang.trim() == "sh";
            continue;
        }
        if in_sh && t.starts_with("pingr ") {
            out.push(
                t.split(' ')
                    .filter(|w| !w.is_empty())
                    .map(String::from)
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn readme_examples_run() {
    if !require_root("readme_examples_run") {
        return;
    }
    let examples = readme_examples(README);
    assert!(!examples.is_empty(), "no pingr example in a ```sh block");
    let outputs: Vec<(String, Output)> = std::thread::scope(|s| {
        let handles: Vec<_> = examples
            .iter()
            .map(|ex| {
                s.spawn(move || {
                    let ns = Netns::new();
                    let o = run_with_timeout(&mut ns.wrap(&pingr_cmd(&ex[1..])), RUN_SECS);
                    (ex.join(" "), o)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let failed: Vec<String> = outputs
        .iter()
        .filter(|(_, o)| o.status.code() != Some(0))
        .map(|(cmd, o)| format!("{cmd}\n{}", describe(o)))
        .collect();
    assert!(
        failed.is_empty(),
        "README examples that fail:\n{}",
        failed.join("\n")
    );
}
