//! The command line, target files (`-f`), target names and every exit status, run
//! end to end against the built binary (man/pingr.8: OPTIONS, TARGETS, EXIT STATUS).
//!
//! Network rule: every pingr that could send anything runs inside a network
//! namespace created by the test ([`Netns`]), whose only interface is loopback
//! (plus, in one test, a veth to a second namespace of the test). Names that must
//! fail to resolve are looked up only inside such a namespace, after checking that
//! it has no route off loopback and that the resolver configuration cannot hand the
//! query to a daemon outside ([`lookups_stay_inside`]).
//!
//! "Nothing sent" is proved with the namespace's own counters (/proc/net/snmp and
//! /proc/net/snmp6): a refused command line must leave them unchanged, and a control
//! run in the same namespace shows that the counters do move when pingr sends.

use crate::common;
use crate::common::{describe, text};

use common::{Netns, User, Veth};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// Seconds any single pingr run may take before the test fails (the runs here
/// take well under one second when pingr behaves).
const RUN_SECS: u64 = 10;

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/// `pingr ARGS` inside `ns`, as root, stdin from /dev/null.
fn pingr_in<I, S>(ns: &Netns, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    common::run_with_timeout(&mut ns.exec(common::pingr(), args), RUN_SECS)
}

/// [`common::root_netns`] where name lookups cannot leave the namespace ([`lookups_stay_inside`]).
fn resolving_ns(test: &str) -> Option<Netns> {
    common::root_netns(test).filter(|ns| lookups_stay_inside(test, ns))
}

/// Print `what -> exit N: STDERR` (visible with `--nocapture`) and check that pingr did
/// not panic.
fn shown(what: &str, out: &Output) {
    eprintln!(
        "{what} -> exit {:?}: {}",
        out.status.code(),
        text(&out.stderr).trim_end()
    );
    common::no_panic(out);
}

/// The exit status must be `code` (else a failure naming `what`, with the output).
fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}\n{}", describe(out));
}

/// Exit 2 and exactly one stderr line, `PREFIX` and then some reason, which is returned:
/// one target failed alone.
fn one_target_failed(out: &Output, prefix: &str) -> String {
    assert_exit(out, 2, "");
    let line = single_line(&out.stderr)
        .unwrap_or_else(|| panic!("one per-target line expected\n{}", describe(out)));
    assert!(
        line.starts_with(prefix) && line.len() > prefix.len(),
        "`{prefix}REASON` expected, got {line:?}"
    );
    line
}

/// The text of stderr if it is exactly one line ending in a newline.
fn single_line(stderr: &[u8]) -> Option<String> {
    let s = text(stderr);
    let body = s.strip_suffix('\n')?;
    (!body.is_empty() && !body.contains('\n') && !body.contains('\r')).then(|| body.to_string())
}

/// `-f` files live in the process's scratch directory, under names unique to a test.
fn scratch_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = common::scratch_dir().join(format!("cli-{name}"));
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

fn path_str(p: &std::path::Path) -> &str {
    p.to_str().expect("scratch paths are UTF-8")
}

// ---------------------------------------------------------------------------
// The summary output
// ---------------------------------------------------------------------------

/// The rows of the summary table (the lines after the `TARGET ... ADDRESS` header),
/// each split on white space: TARGET ADDRESS SENT RECV LOSS% ...
fn table_rows(stdout: &str) -> Vec<Vec<String>> {
    let mut lines = stdout.lines();
    for l in lines.by_ref() {
        let mut f = l.split_whitespace();
        if f.next() == Some("TARGET") && f.next() == Some("ADDRESS") {
            break;
        }
    }
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Number of table lines (one per target) after the header, counted as raw lines
/// so that names holding spaces or odd bytes still count once.
fn table_line_count(stdout: &str) -> Option<usize> {
    let mut lines = stdout.lines();
    lines
        .by_ref()
        .find(|l| l.starts_with("TARGET") && l.contains("ADDRESS"))?;
    Some(lines.take_while(|l| !l.is_empty()).count())
}

/// The table row of `name` (first field equal), as fields.
fn row<'a>(rows: &'a [Vec<String>], name: &str) -> Option<&'a Vec<String>> {
    rows.iter()
        .find(|r| r.first().map(String::as_str) == Some(name))
}

/// Assert that the table row of `name` shows `recv` replies (RECV column).
fn assert_row_recv(out: &Output, name: &str, recv: &str) {
    let stdout = text(&out.stdout);
    let rows = table_rows(&stdout);
    let r = row(&rows, name).unwrap_or_else(|| panic!("no row for {name}\n{}", describe(out)));
    assert_eq!(
        r.get(3).map(String::as_str),
        Some(recv),
        "row {r:?}: RECV of {name} should be {recv}\n{}",
        describe(out)
    );
}

/// `N packets transmitted, M received` of a statistics block (one target).
fn transmitted_received(stdout: &str) -> Option<(u64, u64)> {
    let l = stdout.lines().find(|l| l.contains("packets transmitted"))?;
    let mut f = l.split(", ");
    let sent = f.next()?.split_whitespace().next()?.parse().ok()?;
    let recv = f.next()?.split_whitespace().next()?.parse().ok()?;
    Some((sent, recv))
}

/// The statistics block says `SENT packets transmitted, RECV received`.
fn assert_transmitted(out: &Output, sent_recv: (u64, u64), what: &str) {
    assert_eq!(
        transmitted_received(&text(&out.stdout)),
        Some(sent_recv),
        "{what}\n{}",
        describe(out)
    );
}

// ---------------------------------------------------------------------------
// Namespace counters: "nothing sent"
// ---------------------------------------------------------------------------

/// The counters that move whenever anything (an echo request, a DNS query, any IP
/// packet or even a failed route lookup for one) leaves the namespace's stack.
const SEND_COUNTERS: [&str; 8] = [
    "Icmp.OutEchos",
    "Icmp.OutMsgs",
    "Ip.OutRequests",
    "Ip.OutNoRoutes",
    "Icmp6OutEchos",
    "Icmp6OutMsgs",
    "Ip6OutRequests",
    "Ip6OutNoRoutes",
];

/// SEND_COUNTERS of `ns`, read from its /proc/net/snmp (header/value line pairs such
/// as `Icmp: ... OutEchos ...` / `Icmp: ... 7 ...`) and /proc/net/snmp6 (`Name value`).
fn send_counters(ns: &Netns) -> Vec<(String, u64)> {
    let snmp = ns.run("cat /proc/net/snmp");
    let snmp6 = ns.run("cat /proc/net/snmp6");
    let mut all: Vec<(String, u64)> = Vec::new();
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    for l in snmp.lines() {
        let Some((proto, rest)) = l.split_once(':') else {
            continue;
        };
        let fields: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
        match headers.iter().position(|(p, _)| p == proto) {
            None => headers.push((proto.to_string(), fields)),
            Some(i) => {
                let (p, names) = headers.remove(i);
                for (n, v) in names.iter().zip(&fields) {
                    all.push((format!("{p}.{n}"), v.parse().unwrap_or(u64::MAX)));
                }
            }
        }
    }
    for l in snmp6.lines() {
        let mut f = l.split_whitespace();
        if let (Some(n), Some(v)) = (f.next(), f.next()) {
            all.push((n.to_string(), v.parse().unwrap_or(u64::MAX)));
        }
    }
    SEND_COUNTERS
        .iter()
        .map(|k| {
            let v = all
                .iter()
                .find(|(n, _)| n == k)
                .unwrap_or_else(|| {
                    panic!("counter {k} missing in /proc/net/snmp{{,6}} of {}", ns.name)
                })
                .1;
            (k.to_string(), v)
        })
        .collect()
}

fn counter(c: &[(String, u64)], name: &str) -> u64 {
    c.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v)
}

/// The counters that changed between `before` and `after`, as `name a -> b`.
fn moved(before: &[(String, u64)], after: &[(String, u64)]) -> Vec<String> {
    before
        .iter()
        .zip(after)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((n, a), (_, b))| format!("{n} {a} -> {b}"))
        .collect()
}

// ---------------------------------------------------------------------------
// Name lookups must stay inside the namespace
// ---------------------------------------------------------------------------

/// True if a getaddrinfo() run inside `ns` cannot send a query anywhere but the
/// namespace's loopback: every route (all tables, both families) is on `lo`, and
/// the `hosts:` line of nsswitch.conf uses only modules that resolve in-process
/// (files, dns, myhostname, the mdns *_minimal ones, which answer only `.local`).
/// Otherwise (e.g. nss-resolve, which asks a daemon in the root namespace) the
/// test is skipped.
fn lookups_stay_inside(test: &str, ns: &Netns) -> bool {
    let routes = ns.run("ip -4 route show table all; ip -6 route show table all");
    if let Some(r) = routes
        .lines()
        .find(|l| !l.trim().is_empty() && !l.contains(" dev lo"))
    {
        return common::skip(test, &format!("namespace has a route off loopback: {r}"));
    }
    let nss = ns.run("cat /etc/nsswitch.conf 2>/dev/null || true");
    let hosts = nss
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("hosts:"))
        .unwrap_or("files dns");
    const IN_PROCESS: [&str; 6] = [
        "files",
        "dns",
        "myhostname",
        "mdns_minimal",
        "mdns4_minimal",
        "mdns6_minimal",
    ];
    let outside: Vec<&str> = hosts
        .split_whitespace()
        .filter(|w| !w.starts_with('['))
        .filter(|w| !IN_PROCESS.contains(w))
        .collect();
    if !outside.is_empty() {
        return common::skip(
            test,
            &format!(
                "nsswitch.conf hosts: uses {outside:?}, which could resolve outside the namespace"
            ),
        );
    }
    true
}

// ---------------------------------------------------------------------------
// Bad command lines: exit 3, one line naming the option, nothing sent
// ---------------------------------------------------------------------------

/// What the one stderr line of a refused command line must look like.
enum Want {
    /// `pingr: OPT: expected ..., got 'VALUE'`.
    Value(&'static str, &'static str),
    /// Starts with this text and contains each of the words.
    Line(&'static str, &'static [&'static str]),
}

struct Bad {
    args: Vec<&'static str>,
    want: Want,
}

fn bad_cases() -> Vec<Bad> {
    const T: [&str; 2] = ["127.0.0.1", "::1"];
    let with_targets = |opts: &[&'static str], want: Want| Bad {
        args: opts.iter().copied().chain(T).collect(),
        want,
    };
    let value = |opt: &'static str, v: &'static str| with_targets(&[opt, v], Want::Value(opt, v));
    vec![
        Bad {
            args: vec![],
            want: Want::Line("pingr: no target given", &[]),
        },
        Bad {
            args: T.into_iter().chain(["-c"]).collect(),
            want: Want::Line("pingr: -c: ", &["missing"]),
        },
        with_targets(
            &["--foo"],
            Want::Line("pingr: unknown option ", &["'--foo'"]),
        ),
        with_targets(&["-Z"], Want::Line("pingr: unknown option ", &["'-Z'"])),
        value("-c", "0"),
        value("-c", "-1"),
        value("-c", "1.5"),
        value("-c", "abc"),
        value("-c", "18446744073709551616"),
        value("-i", "-1"),
        value("-i", "nan"),
        value("-i", "inf"),
        value("-i", "1e309"),
        value("-i", "0,5"),
        value("-W", "0"),
        value("-W", "99999"),
        value("-w", "0"),
        value("-w", "1e9"),
        value("-s", "-1"),
        value("-s", "65508"),
        with_targets(&["-s", "65528", "-6"], Want::Value("-s", "65528")),
        value("-t", "0"),
        value("-t", "256"),
        value("--max-threads", "0"),
        with_targets(&["-4", "-6"], Want::Line("pingr: -4", &["-6"])),
        with_targets(&["-a", "-u"], Want::Line("pingr: -a", &["-u"])),
        value("--format", "xml"),
        value("-g", "10.0.0.0/7"),
        value("-g", "fd00::/111"),
        value("-g", "garbage"),
    ]
}

/// Problems with one refused run (empty when it is as documented).
fn check_refused(out: &Output, want: &Want) -> Vec<String> {
    let mut bad = Vec::new();
    if out.status.code() != Some(3) {
        bad.push(format!("exit {:?}, expected 3", out.status.code()));
    }
    if !out.stdout.is_empty() {
        bad.push("stdout is not empty".into());
    }
    let stderr = text(&out.stderr);
    if common::has_panic_text(&stderr) {
        bad.push("panic text on stderr".into());
    }
    let Some(line) = single_line(&out.stderr) else {
        bad.push("stderr is not exactly one line".into());
        return bad;
    };
    match want {
        Want::Value(opt, v) => {
            let prefix = format!("pingr: {opt}: expected ");
            let suffix = format!(", got '{v}'");
            if !line.starts_with(&prefix) || !line.ends_with(&suffix) {
                bad.push(format!("line is not `{prefix}..., got '{v}'`"));
            }
        }
        Want::Line(prefix, words) => {
            if !line.starts_with(prefix) {
                bad.push(format!("line does not start with `{prefix}`"));
            }
            for w in *words {
                if !line.contains(w) {
                    bad.push(format!("line does not mention `{w}`"));
                }
            }
        }
    }
    bad
}

#[test]
fn bad_command_lines_exit_3_with_one_line_and_send_nothing() {
    let Some(ns) = common::root_netns("bad_command_lines_exit_3_with_one_line_and_send_nothing")
    else {
        return;
    };
    let mut failures = Vec::new();
    for case in bad_cases() {
        let before = send_counters(&ns);
        // `timeout` bounds a case that pingr wrongly accepts (it would probe forever),
        // so that the remaining cases are still checked and reported.
        let mut args: Vec<OsString> = vec!["-s".into(), "KILL".into(), "5".into()];
        args.push(common::pingr().into());
        args.extend(case.args.iter().map(OsString::from));
        let out = common::run_with_timeout(&mut ns.exec("timeout", &args), 15);
        let after = send_counters(&ns);
        let mut problems = check_refused(&out, &case.want);
        let m = moved(&before, &after);
        if !m.is_empty() {
            problems.push(format!("sent something: {}", m.join(", ")));
        }
        eprintln!(
            "pingr {:?} -> exit {:?}: {}",
            case.args,
            out.status.code(),
            text(&out.stderr).trim_end()
        );
        if !problems.is_empty() {
            failures.push(format!(
                "pingr {:?}: {}\n{}",
                case.args,
                problems.join("; "),
                describe(&out)
            ));
        }
    }
    // Control: the counters do move when pingr really sends (so "unchanged" above
    // means something).
    let before = send_counters(&ns);
    let out = pingr_in(&ns, ["-c", "1", "-q", "127.0.0.1", "::1"]);
    let after = send_counters(&ns);
    assert_exit(&out, 0, "control run");
    for k in ["Icmp.OutEchos", "Icmp6OutEchos"] {
        assert!(
            counter(&after, k) > counter(&before, k),
            "control run: {k} did not move ({} -> {})",
            counter(&before, k),
            counter(&after, k)
        );
    }
    assert!(
        failures.is_empty(),
        "{} refused command line(s) misbehaved:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn zero_interval_and_large_v6_size_are_accepted() {
    let Some(ns) = common::root_netns("zero_interval_and_large_v6_size_are_accepted") else {
        return;
    };

    let out = pingr_in(&ns, ["-i", "0", "-c", "2", "127.0.0.1"]);
    assert_exit(&out, 0, "-i 0 -c 2");
    assert_transmitted(&out, (2, 2), "-i 0 -c 2");
    assert!(out.stderr.is_empty(), "-i 0 -c 2\n{}", describe(&out));

    let out = pingr_in(&ns, ["-s", "65508", "-6", "-c", "1", "-W", "2", "::1"]);
    let stdout = text(&out.stdout);
    assert_exit(&out, 0, "-s 65508 -6");
    assert!(
        stdout.contains("65508 data bytes"),
        "-s 65508 -6: header should give the size\n{}",
        describe(&out)
    );
    assert_transmitted(&out, (1, 1), "");
}

// ---------------------------------------------------------------------------
// -h / -V
// ---------------------------------------------------------------------------

#[test]
fn help_and_version_print_on_stdout_and_exit_0() {
    let Some(ns) = common::root_netns("help_and_version_print_on_stdout_and_exit_0") else {
        return;
    };
    let before = send_counters(&ns);

    let helps: [&[&str]; 5] = [
        &["-h"],
        &["--help"],
        &["-c", "0", "-h", "127.0.0.1"],
        &["--format", "xml", "--help", "127.0.0.1"],
        &["-Z", "-i", "nan", "-h"],
    ];
    // pingr ARGS: exit 0, nothing on stderr; its output and stdout.
    let run_ok = |args: &[&str]| {
        let out = pingr_in(&ns, args);
        let stdout = text(&out.stdout);
        eprintln!(
            "pingr {args:?} -> exit {:?}, stdout starts {:?}",
            out.status.code(),
            stdout.lines().next()
        );
        assert_exit(&out, 0, &format!("pingr {args:?}"));
        assert!(out.stderr.is_empty(), "pingr {args:?}\n{}", describe(&out));
        (out, stdout)
    };
    let mut first_help: Option<Vec<u8>> = None;
    for args in helps {
        let (out, stdout) = run_ok(args);
        assert!(
            stdout.starts_with("usage: pingr"),
            "pingr {args:?}: no usage\n{}",
            describe(&out)
        );
        for opt in [
            "--count",
            "--interval",
            "--file",
            "--generate",
            "--max-threads",
        ] {
            assert!(
                stdout.contains(opt),
                "pingr {args:?}: usage lacks {opt}\n{stdout}"
            );
        }
        match &first_help {
            None => first_help = Some(out.stdout.clone()),
            Some(h) => assert_eq!(h, &out.stdout, "pingr {args:?}: a different help text"),
        }
    }

    let version = format!("pingr {}", env!("CARGO_PKG_VERSION"));
    for args in [["-V"], ["--version"]] {
        let (out, stdout) = run_ok(&args);
        assert_eq!(
            stdout.lines().next(),
            Some(version.as_str()),
            "pingr {args:?}\n{}",
            describe(&out)
        );
    }
    assert_eq!(
        version, "pingr 0.1.0",
        "the man page documents version 0.1.0"
    );

    let m = moved(&before, &send_counters(&ns));
    assert!(m.is_empty(), "-h/-V sent something: {m:?}");
}

// ---------------------------------------------------------------------------
// Target files
// ---------------------------------------------------------------------------

/// Assert a refused `-f` run: exit 3, empty stdout, one stderr line starting with
/// `prefix` and containing `words`.
fn assert_file_refused(out: &Output, what: &str, prefix: &str, words: &[&str]) {
    shown(what, out);
    assert_eq!(out.status.code(), Some(3), "{what}\n{}", describe(out));
    assert!(out.stdout.is_empty(), "{what}: stdout\n{}", describe(out));
    let line = single_line(&out.stderr)
        .unwrap_or_else(|| panic!("{what}: stderr is not one line\n{}", describe(out)));
    assert!(
        line.starts_with(prefix),
        "{what}: `{line}` should start with `{prefix}`"
    );
    for w in words {
        assert!(line.contains(w), "{what}: `{line}` should mention `{w}`");
    }
}

#[test]
fn unreadable_empty_and_overlong_target_files_exit_3_and_send_nothing() {
    let Some(ns) =
        common::root_netns("unreadable_empty_and_overlong_target_files_exit_3_and_send_nothing")
    else {
        return;
    };
    let before = send_counters(&ns);

    // Missing file.
    let missing = common::scratch_dir().join("cli-no-such-file");
    let _ = std::fs::remove_file(&missing);
    let m = path_str(&missing);
    let out = pingr_in(&ns, ["-c", "1", "-f", m, "127.0.0.1"]);
    assert_file_refused(&out, "-f missing", &format!("pingr: -f {m}: "), &[]);

    // A directory.
    let dir = common::scratch_dir().join("cli-a-directory");
    std::fs::create_dir_all(&dir).expect("create directory");
    let d = path_str(&dir);
    let out = pingr_in(&ns, ["-c", "1", "-f", d, "127.0.0.1"]);
    assert_file_refused(
        &out,
        "-f directory",
        &format!("pingr: -f {d}: "),
        &["directory"],
    );

    // An empty file (and no other target): no target at all.
    let empty = scratch_file("empty", b"");
    let out = pingr_in(&ns, ["-c", "1", "-f", path_str(&empty)]);
    assert_file_refused(&out, "-f empty", "pingr: ", &["no target"]);

    // A file of comments and blank lines only is "empty" too.
    let comments = scratch_file("comments-only", b"# nothing here\n\n   \r\n#127.0.0.1\n");
    let out = pingr_in(&ns, ["-c", "1", "-f", path_str(&comments)]);
    assert_file_refused(&out, "-f comments only", "pingr: ", &["no target"]);

    // A 10,000-byte line (line 3, after two good targets): refused, naming the line.
    let mut long = b"127.0.0.1\n::1\n".to_vec();
    long.extend(std::iter::repeat(b'a').take(10_000));
    long.extend(b"\n127.0.0.2\n");
    let long = scratch_file("long-line", &long);
    let l = path_str(&long);
    let out = pingr_in(&ns, ["-c", "1", "-f", l]);
    assert_file_refused(
        &out,
        "-f 10000-byte line",
        &format!("pingr: -f {l}: "),
        &["line 3"],
    );

    // /dev/zero: an endless line. Refused at once, with memory bounded: under a
    // 128 MiB address-space limit, reading the line into memory would abort pingr.
    let out = common::run_with_timeout(
        &mut ns.exec(
            "sh",
            [
                OsStr::new("-c"),
                OsStr::new("ulimit -v 131072 && exec \"$0\" \"$@\""),
                common::pingr().as_os_str(),
                OsStr::new("-c"),
                OsStr::new("1"),
                OsStr::new("-f"),
                OsStr::new("/dev/zero"),
            ],
        ),
        RUN_SECS,
    );
    assert_file_refused(&out, "-f /dev/zero", "pingr: -f /dev/zero: ", &["line 1"]);

    let m = moved(&before, &send_counters(&ns));
    assert!(m.is_empty(), "a refused -f run sent something: {m:?}");
    let _ = std::fs::remove_dir(&dir);
}

#[test]
fn crlf_bom_comments_and_blank_lines_are_accepted() {
    let Some(ns) = common::root_netns("crlf_bom_comments_and_blank_lines_are_accepted") else {
        return;
    };
    let file = scratch_file(
        "crlf-bom",
        b"\xEF\xBB\xBF127.0.0.1\r\n# a comment\r\n\r\n   \r\n  127.0.0.2  # trailing\r\n\t::1\r\n#::2\r\n",
    );
    let out = pingr_in(&ns, ["-c", "1", "-W", "2", "-f", path_str(&file)]);
    let stdout = text(&out.stdout);
    eprintln!(
        "-f CRLF+BOM -> exit {:?}, stderr {:?}",
        out.status.code(),
        text(&out.stderr)
    );
    common::no_panic(&out);
    assert_exit(&out, 0, "");
    assert!(out.stderr.is_empty(), "{}", describe(&out));
    let rows = table_rows(&stdout);
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        ["127.0.0.1", "127.0.0.2", "::1"],
        "targets in file order\n{}",
        describe(&out)
    );
    for r in &rows {
        assert_eq!(&r[1], &r[0], "address of {}", r[0]);
        assert_eq!(r[3], "1", "RECV of {}\n{}", r[0], describe(&out));
    }
}

#[test]
fn nul_byte_in_a_file_name_fails_that_target_only() {
    let Some(ns) = common::root_netns("nul_byte_in_a_file_name_fails_that_target_only") else {
        return;
    };
    let file = scratch_file("nul", b"127.0.0.1\nab\0cd\n::1\n");
    let out = pingr_in(&ns, ["-c", "1", "-W", "2", "-f", path_str(&file)]);
    eprintln!(
        "-f with NUL -> exit {:?}: {:?}",
        out.status.code(),
        text(&out.stderr)
    );
    common::no_panic(&out);
    let line = one_target_failed(&out, "pingr: ab");
    assert!(
        line.contains("cd: ") && !line.ends_with(": "),
        "`pingr: NAME: reason` for the NUL name expected, got {line:?}"
    );
    assert_row_recv(&out, "127.0.0.1", "1");
    assert_row_recv(&out, "::1", "1");
    let stdout = text(&out.stdout);
    assert_eq!(table_line_count(&stdout), Some(3), "three rows\n{stdout}");
}

/// Deterministic "random" bytes (xorshift64*), so a failure can be reproduced.
fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// The names a target file yields by the rules of TARGETS (BOM on line 1, `#`
/// comments, white space trimmed, blank lines skipped); invalid UTF-8 becomes U+FFFD.
fn names_in(contents: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for (i, mut line) in contents.split(|&b| b == b'\n').enumerate() {
        if i == 0 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if let Some(p) = line.iter().position(|&b| b == b'#') {
            line = &line[..p];
        }
        let name = String::from_utf8_lossy(line).trim().to_string();
        if !name.is_empty() {
            names.push(name);
        }
    }
    names
}

/// Run `pingr -c 1 -W 1 -q 127.0.0.1 -f FILE` on a file of `bytes` and check the
/// outcome the man page gives for it (TARGETS): a line longer than 1024 bytes is a
/// command-line error naming the file and the line (exit 3); otherwise every name
/// that cannot be resolved (all those holding U+FFFD or NUL, at least) gets one
/// `pingr: NAME: REASON` line, 127.0.0.1 is still probed, and the exit status is 2.
fn check_binary_file(ns: &Netns, label: &str, bytes: &[u8]) {
    let file = scratch_file(label, bytes);
    let f = path_str(&file);
    let too_long = bytes
        .split(|&b| b == b'\n')
        .position(|l| l.len() > 1024)
        .map(|i| i + 1);
    let names = names_in(bytes);
    let out = pingr_in(ns, ["-c", "1", "-W", "1", "-q", "127.0.0.1", "-f", f]);
    let stderr = text(&out.stderr);
    eprintln!(
        "-f {label} ({} names, first line over 1024 bytes: {too_long:?}) -> exit {:?}, {} stderr lines, first {:?}",
        names.len(),
        out.status.code(),
        stderr.matches('\n').count(),
        stderr.lines().next()
    );
    common::no_panic(&out);
    if let Some(n) = too_long {
        assert_file_refused(
            &out,
            label,
            &format!("pingr: -f {f}: "),
            &[&format!("line {n} ")],
        );
        return;
    }
    let invalid = names
        .iter()
        .filter(|n| n.contains(['\u{FFFD}', '\0']))
        .count();
    assert!(
        invalid > 0,
        "{label}: the file should hold undecodable names"
    );
    assert_eq!(out.status.code(), Some(2), "{label}\n{}", describe(&out));
    let errors = stderr.matches('\n').count();
    assert!(
        (invalid..=names.len()).contains(&errors),
        "{label}: {errors} stderr lines for {invalid} undecodable of {} names\n{stderr}",
        names.len()
    );
    for l in stderr.split('\n').filter(|l| !l.is_empty()) {
        assert!(l.starts_with("pingr: "), "{label}: stray stderr line {l:?}");
    }
    let stdout = text(&out.stdout);
    assert_eq!(
        table_line_count(&stdout),
        Some(names.len() + 1),
        "{label}: one table row per target (127.0.0.1 + {} from the file)",
        names.len()
    );
    assert_row_recv(&out, "127.0.0.1", "1");
}

#[test]
fn binary_target_files_give_documented_errors_without_panic() {
    let test = "binary_target_files_give_documented_errors_without_panic";
    let Some(ns) = resolving_ns(test) else {
        return;
    };
    // 4 KiB of random bytes: with this seed line 4 runs past 1024 bytes (exit 3).
    check_binary_file(&ns, "binary", &pseudo_random_bytes(0x005e_ed0f_b1a5, 4096));
    // Random bytes cut into lines of at most 100 bytes: per-target errors (exit 2).
    let mut short_lines = Vec::new();
    for chunk in pseudo_random_bytes(0x00b1_a50f_5eed, 4000).chunks(100) {
        short_lines.extend_from_slice(chunk);
        short_lines.push(b'\n');
    }
    check_binary_file(&ns, "binary-short-lines", &short_lines);
}

#[test]
fn target_file_from_stdin() {
    let Some(ns) = common::root_netns("target_file_from_stdin") else {
        return;
    };
    let mut cmd = ns.exec(common::pingr(), ["-c", "1", "-W", "2", "-f", "-"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().expect("spawn pingr -f -");
    {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(b"127.0.0.1\n# from stdin\n::1\n")
            .expect("write targets to stdin");
    }
    let out = common::wait_with_timeout(child, RUN_SECS, "pingr -f -");
    eprintln!("-f - -> exit {:?}", out.status.code());
    assert_exit(&out, 0, "");
    let rows = table_rows(&text(&out.stdout));
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["127.0.0.1", "::1"], "{}", describe(&out));
    assert_row_recv(&out, "127.0.0.1", "1");
    assert_row_recv(&out, "::1", "1");
}

// ---------------------------------------------------------------------------
// Target names
// ---------------------------------------------------------------------------

// A NUL byte cannot be passed in argv (execve strings end at NUL), so a NUL inside
// a name is covered through a target file: nul_byte_in_a_file_name_fails_that_target_only.

#[test]
fn invalid_utf8_name_fails_alone() {
    let Some(ns) = common::root_netns("invalid_utf8_name_fails_alone") else {
        return;
    };
    let name = OsString::from_vec(b"bad\xffname".to_vec());
    let args: Vec<OsString> = ["-c", "1", "-W", "2"]
        .iter()
        .map(OsString::from)
        .chain([name, OsString::from("127.0.0.1")])
        .collect();
    let out = pingr_in(&ns, &args);
    shown("bad\\xffname", &out);
    one_target_failed(&out, "pingr: bad\u{FFFD}name: ");
    assert_row_recv(&out, "127.0.0.1", "1");
}

#[test]
fn name_of_300_bytes_fails_alone() {
    let test = "name_of_300_bytes_fails_alone";
    let Some(ns) = resolving_ns(test) else {
        return;
    };
    let name = "a".repeat(300);
    let out = pingr_in(&ns, ["-c", "1", "-W", "2", &name, "127.0.0.1"]);
    shown("300-byte name", &out);
    one_target_failed(&out, &format!("pingr: {name}: "));
    assert_row_recv(&out, "127.0.0.1", "1");
}

#[test]
fn link_local_without_scope_fails_with_scope_message() {
    let Some(ns) = common::root_netns("link_local_without_scope_fails_with_scope_message") else {
        return;
    };

    let out = pingr_in(&ns, ["-c", "1", "-W", "2", "fe80::1", "::1"]);
    shown("fe80::1", &out);
    let line = one_target_failed(&out, "pingr: fe80::1: ");
    assert!(
        line.contains("scope"),
        "expected a scope error for fe80::1, got {line:?}"
    );
    assert_row_recv(&out, "::1", "1");

    // With a scope it is accepted: it may not answer (lo has no fe80::1), but it
    // is resolved, so no scope error and no exit 2 or 3.
    let out = pingr_in(&ns, ["-c", "1", "-W", "0.3", "fe80::1%lo", "::1"]);
    shown("fe80::1%lo", &out);
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("scope"),
        "scope error for fe80::1%lo\n{}",
        describe(&out)
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "fe80::1%lo should be accepted\n{}",
        describe(&out)
    );
    let stdout = text(&out.stdout);
    let rows = table_rows(&stdout);
    let r = row(&rows, "fe80::1%lo").unwrap_or_else(|| panic!("no row\n{}", describe(&out)));
    assert_eq!(
        r[1],
        "fe80::1",
        "fe80::1%lo resolves to fe80::1\n{}",
        describe(&out)
    );
    assert_row_recv(&out, "::1", "1");
}

#[test]
fn broadcast_send_error_is_reported_and_the_run_goes_on() {
    // A default route (to a second namespace of this test) gives 255.255.255.255 a
    // broadcast route, so sendto() is refused (no SO_BROADCAST) rather than unroutable.
    let Some(a) = common::root_netns("broadcast_send_error_is_reported_and_the_run_goes_on") else {
        return;
    };
    let b = Netns::new();
    let v = Veth::new(&a, "10.231.0.1/24", &b, "10.231.0.2/24");
    a.run(&format!("ip route add default via {}", v.b_v4()));

    let out = pingr_in(&a, ["-c", "1", "-W", "0.5", "255.255.255.255", "127.0.0.1"]);
    let stderr = text(&out.stderr);
    eprintln!(
        "255.255.255.255 -> exit {:?}: {}",
        out.status.code(),
        stderr.trim_end()
    );
    common::no_panic(&out);
    let prefix = "pingr: 255.255.255.255 (255.255.255.255): icmp_seq=1: sendto: ";
    let line = stderr
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}REASON` line\n{}", describe(&out)));
    assert!(
        line.len() > prefix.len(),
        "sendto line without a reason: {line:?}"
    );
    assert_row_recv(&out, "127.0.0.1", "1");
    assert_row_recv(&out, "255.255.255.255", "0");
    // The broadcast never answered and no name failed: exit 1.
    assert_exit(&out, 1, "");
}

#[test]
fn same_host_twice_is_probed_as_two_entries() {
    let Some(ns) = common::root_netns("same_host_twice_is_probed_as_two_entries") else {
        return;
    };
    let out = pingr_in(
        &ns,
        ["-c", "2", "-i", "0.2", "-W", "2", "127.0.0.1", "127.0.0.1"],
    );
    eprintln!("127.0.0.1 127.0.0.1 -> exit {:?}", out.status.code());
    assert_exit(&out, 0, "");
    let stdout = text(&out.stdout);
    let rows = table_rows(&stdout);
    assert_eq!(rows.len(), 2, "two rows\n{}", describe(&out));
    for r in &rows {
        assert_eq!(r[0], "127.0.0.1", "{}", describe(&out));
        assert_eq!(
            (r[2].as_str(), r[3].as_str()),
            ("2", "2"),
            "SENT/RECV of {r:?}"
        );
    }
    let blocks = stdout
        .lines()
        .filter(|l| *l == "--- 127.0.0.1 ping statistics ---")
        .count();
    assert_eq!(blocks, 2, "one statistics block per entry\n{stdout}");
    let replies = stdout
        .lines()
        .filter(|l| l.contains(" bytes from 127.0.0.1: icmp_seq="))
        .count();
    assert_eq!(replies, 4, "2 replies for each entry\n{stdout}");
}

// ---------------------------------------------------------------------------
// Every exit status (3 is above: bad_command_lines_exit_3_with_one_line_and_send_nothing)
// ---------------------------------------------------------------------------

#[test]
fn exit_0_when_every_target_answers() {
    let Some(ns) = common::root_netns("exit_0_when_every_target_answers") else {
        return;
    };
    let before = send_counters(&ns);
    let out = pingr_in(&ns, ["-c", "1", "-W", "2", "127.0.0.1"]);
    let after = send_counters(&ns);
    eprintln!("127.0.0.1 -> exit {:?}", out.status.code());
    assert_exit(&out, 0, "");
    assert_transmitted(&out, (1, 1), "");
    assert!(out.stderr.is_empty(), "{}", describe(&out));
    assert_eq!(
        counter(&after, "Icmp.OutEchos") - counter(&before, "Icmp.OutEchos"),
        1,
        "-c 1 sends exactly one echo request"
    );
}

#[test]
fn exit_1_when_a_target_never_answers() {
    if !common::require_root("exit_1_when_a_target_never_answers") {
        return;
    }
    let ns = Netns::new_silent();
    let out = pingr_in(&ns, ["-c", "1", "-W", "0.3", "127.0.0.1"]);
    shown("silent 127.0.0.1", &out);
    assert_exit(&out, 1, "");
    assert_transmitted(&out, (1, 0), "");
}

#[test]
fn exit_2_when_a_name_does_not_resolve() {
    let test = "exit_2_when_a_name_does_not_resolve";
    let Some(ns) = resolving_ns(test) else {
        return;
    };
    let out = pingr_in(&ns, ["-c", "1", "-W", "2", "nope.invalid", "127.0.0.1"]);
    shown("nope.invalid 127.0.0.1", &out);
    one_target_failed(&out, "pingr: nope.invalid: ");
    let stdout = text(&out.stdout);
    let rows = table_rows(&stdout);
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        ["nope.invalid", "127.0.0.1"],
        "input order\n{stdout}"
    );
    assert_eq!(rows[0][1], "-", "no address for nope.invalid\n{stdout}");
    assert_row_recv(&out, "127.0.0.1", "1");
    assert!(
        stdout.contains("--- 127.0.0.1 ping statistics ---"),
        "127.0.0.1 is reported\n{stdout}"
    );
}

#[test]
fn exit_4_without_any_usable_socket() {
    let test = "exit_4_without_any_usable_socket";
    let Some(ns) = common::root_netns_with(test, "setpriv") else {
        return;
    };
    // No group may open ICMP datagram sockets; the user has no capability at all.
    ns.allow_ping_group(1, 0);
    let user = User::unprivileged();
    let mut cmd = Command::new(common::pingr_for_user());
    cmd.args(["-c", "1", "-W", "1", "127.0.0.1"]);
    let before = send_counters(&ns);
    let started = Instant::now();
    let out = common::run_with_timeout(&mut ns.exec_as(&user, &cmd), RUN_SECS);
    let after = send_counters(&ns);
    eprintln!(
        "unprivileged -> exit {:?} in {:?}: {}",
        out.status.code(),
        started.elapsed(),
        text(&out.stderr).trim_end()
    );
    common::no_panic(&out);
    assert_exit(&out, 4, "");
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    let line =
        single_line(&out.stderr).unwrap_or_else(|| panic!("one line expected\n{}", describe(&out)));
    assert!(
        line.starts_with("pingr: cannot open an IPv4 ICMP socket")
            && line.contains("ping_group_range"),
        "the line should name the socket and the fix, got {line:?}"
    );
    let m = moved(&before, &after);
    assert!(m.is_empty(), "sent something without a socket: {m:?}");
}
