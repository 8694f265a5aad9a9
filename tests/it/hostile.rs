//! pingr on a hostile network (issue 5, items 2, 4, 6 and 7).
//!
//! * Item 2 (and issue 10): every misbehaviour of the test responder
//!   (tests/support/responder.rs), over IPv4 and IPv6, with raw sockets (root) and
//!   ICMP datagram sockets (a non-root user admitted by `ping_group_range`), the two
//!   kinds at once, each in its own "lab": namespace A (where pingr runs), a silent
//!   namespace B whose addresses are answered only by the responder, and a plain
//!   namespace C whose two IPv4 and two IPv6 addresses the kernel answers; both
//!   reached from A over veth pairs. One pingr run probes B's and C's addresses
//!   together, and the summary table, the statistics lines and the per-reply lines
//!   must all count exactly what the responder did, while every normal target of C
//!   ends at N/N received, 0 duplicates, 0 errors, and nothing but `-v` lines reaches
//!   stderr (no `sendto` error). Issue 10's behaviours (bursts of ICMP errors, quotes
//!   malformed in every way the parser rejects, replies forged from a normal target's
//!   address) and a datagram sweep (one malformed-error target, 8 unreachable, 16
//!   normal) check that no target's packets touch another target's results.
//! * Item 4: sequence numbers wrapping past 65535, exact statistics and flat
//!   memory over long flood runs, and no NaN when nothing was received.
//! * Item 6: output failures (closed pipe, /dev/full) and signals (SIGINT before
//!   any reply, repeated SIGQUIT).
//! * Item 7: send errors (EPERM from nftables, ENETUNREACH, EMSGSIZE) reported per
//!   host and counted as sent and lost, the other hosts unaffected.
//!
//! Packets go only to 127.0.0.0/8, ::1 and addresses inside the namespaces these
//! tests create. Each behaviour test prints `REPORT <test> <socket kind> <family>:
//! <statistics line>` on stderr (visible with `--nocapture`).

use crate::common;

use common::{Netns, Responder, User, Veth, QUICK};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const FAMILY: [&str; 2] = ["IPv4", "IPv6"];

// ---------------------------------------------------------------------------
// Output parsing
// ---------------------------------------------------------------------------

/// The per-target counters of the summary table (or of the TSV output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counts {
    sent: u64,
    recv: u64,
    dup: u64,
    late: u64,
    err: u64,
}

fn counts(sent: u64, recv: u64, dup: u64, late: u64, err: u64) -> Counts {
    Counts {
        sent,
        recv,
        dup,
        late,
        err,
    }
}

/// One row of the text summary table or of the TSV output, by column.
#[derive(Debug, Clone)]
struct Row {
    cells: Vec<String>,
}

impl Row {
    fn num(&self, col: usize) -> u64 {
        let cell = self.cells.get(col).map(String::as_str).unwrap_or("");
        cell.parse()
            .unwrap_or_else(|_| panic!("column {col} of {:?} is not a count", self.cells))
    }
    fn cell(&self, col: usize) -> &str {
        self.cells.get(col).map(String::as_str).unwrap_or("")
    }
    fn counts(&self) -> Counts {
        counts(
            self.num(2),
            self.num(3),
            self.num(11),
            self.num(12),
            self.num(13),
        )
    }
    fn loss(&self) -> &str {
        self.cell(4)
    }
}

/// The rows of the text summary table (after the `TARGET ADDRESS ...` header),
/// keyed by target. Panics if the table is missing or malformed.
fn text_table(stdout: &str) -> HashMap<String, Row> {
    let mut lines = stdout.lines();
    let header = lines
        .by_ref()
        .find(|l| l.split_whitespace().take(2).eq(["TARGET", "ADDRESS"]))
        .unwrap_or_else(|| panic!("no summary table in:\n{stdout}"));
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "TARGET", "ADDRESS", "SENT", "RECV", "LOSS%", "MIN", "AVG", "MAX", "MDEV", "MEDIAN",
            "P95", "DUP", "LATE", "ERR"
        ],
        "table header"
    );
    let mut rows = HashMap::new();
    for l in lines.take_while(|l| !l.trim().is_empty()) {
        let cells: Vec<String> = l.split_whitespace().map(str::to_string).collect();
        assert_eq!(cells.len(), 14, "table row {l:?} in:\n{stdout}");
        rows.insert(cells[0].clone(), Row { cells });
    }
    rows
}

/// The rows of `--format=tsv` output, keyed by target.
fn tsv_table(stdout: &str) -> HashMap<String, Row> {
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            "target\taddress\tsent\trecv\tloss%\tmin\tavg\tmax\tmdev\tmedian\tp95\tdup\tlate\terr"
        ),
        "TSV header in:\n{stdout}"
    );
    let mut rows = HashMap::new();
    for l in lines {
        let cells: Vec<String> = l.split('\t').map(str::to_string).collect();
        assert_eq!(cells.len(), 14, "TSV row {l:?} in:\n{stdout}");
        rows.insert(cells[0].clone(), Row { cells });
    }
    rows
}

fn row<'a>(rows: &'a HashMap<String, Row>, target: &str, stdout: &str) -> &'a Row {
    rows.get(target)
        .unwrap_or_else(|| panic!("no row for {target} in:\n{stdout}"))
}

/// The line after `--- HOST ping statistics ---`.
fn stats_line<'a>(stdout: &'a str, host: &str) -> &'a str {
    let title = format!("--- {host} ping statistics ---");
    let mut lines = stdout.lines();
    lines
        .by_ref()
        .find(|l| *l == title)
        .unwrap_or_else(|| panic!("no {title:?} in:\n{stdout}"));
    lines.next().unwrap_or("")
}

/// The statistics line pingr must print for `c` (up to the loss, which is checked
/// exactly only when it is 0% or 100%), as iputils words it.
fn expected_stats(c: Counts) -> String {
    let mut s = format!("{} packets transmitted, {} received", c.sent, c.recv);
    for (n, what) in [(c.dup, "duplicates"), (c.late, "late"), (c.err, "errors")] {
        if n > 0 {
            s.push_str(&format!(", +{n} {what}"));
        }
    }
    s.push_str(", ");
    if c.sent > 0 && c.recv == c.sent {
        s.push_str("0% packet loss, ");
    } else if c.sent > 0 && c.recv == 0 {
        s.push_str("100% packet loss, ");
    }
    s
}

/// Per-reply lines `N bytes from ADDR: icmp_seq=...` for `addr`: (in time, DUP!, LATE!).
fn reply_lines(stdout: &str, addr: &str) -> (u64, u64, u64) {
    let pat = format!(" bytes from {addr}: icmp_seq=");
    let (mut ok, mut dup, mut late) = (0, 0, 0);
    for l in stdout.lines().filter(|l| l.contains(&pat)) {
        if l.ends_with(" (DUP!)") {
            dup += 1;
        } else if l.ends_with(" (LATE!)") {
            late += 1;
        } else {
            ok += 1;
        }
    }
    (ok, dup, late)
}

/// `From ROUTER icmp_seq=N TEXT` lines naming `router`.
fn error_lines<'a>(stdout: &'a str, router: &str) -> Vec<&'a str> {
    let pat = format!("From {router} icmp_seq=");
    stdout.lines().filter(|l| l.starts_with(&pat)).collect()
}

/// No `NaN`, `inf` or `infinity` word anywhere (any case).
fn assert_no_nan(text: &str, what: &str) {
    let bad = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| ["nan", "inf", "infinity"].contains(&w.to_ascii_lowercase().as_str()));
    assert!(bad.is_none(), "{what}: {bad:?} in output:\n{text}");
}

/// Common checks of a finished pingr run: it did not panic and exited with a
/// status in 0..=2; returns (exit status, stdout, stderr).
fn sane(out: &Output, what: &str) -> (i32, String, String) {
    let (stdout, stderr) = (common::text(&out.stdout), common::text(&out.stderr));
    let code = out.status.code().unwrap_or(-1);
    assert!(
        !stderr.contains("panicked"),
        "{what}: pingr panicked:\n{stderr}\nstdout:\n{stdout}"
    );
    assert!(
        (0..=2).contains(&code),
        "{what}: exit status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert_no_nan(&stdout, what);
    (code, stdout, stderr)
}

/// Lines `-v` prints on stderr (socket kinds and capability sets).
fn is_verbose_line(l: &str) -> bool {
    [
        "pingr: IPv4: ",
        "pingr: IPv6: ",
        "pingr: capabilities at start: ",
        "pingr: resolved ",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

// ---------------------------------------------------------------------------
// Running pingr
// ---------------------------------------------------------------------------

/// Which kind of ICMP socket pingr is made to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Run as root: raw sockets.
    Raw,
    /// Run as an unprivileged uid whose gid the namespace's ping_group_range admits.
    Datagram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Raw => "raw",
            Kind::Datagram => "datagram",
        }
    }
    /// What `-v` says about each family's socket.
    fn verbose_words(self) -> &'static str {
        match self {
            Kind::Raw => "raw ICMP socket",
            Kind::Datagram => "ICMP datagram socket",
        }
    }
}

/// `pingr ARGS` inside `ns`, as root (raw sockets) or as an unprivileged user
/// admitted to datagram sockets.
fn pingr_in<S: AsRef<str>>(ns: &Netns, kind: Kind, args: &[S]) -> Command {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    match kind {
        Kind::Raw => ns.exec(common::pingr(), &args),
        Kind::Datagram => {
            ns.allow_ping_group(common::TEST_GID, common::TEST_GID);
            let mut cmd = Command::new(common::pingr_for_user());
            cmd.args(&args);
            ns.wrap(&User::unprivileged().wrap(&cmd))
        }
    }
}

/// Whether `kind` can be used here (datagram runs need `setpriv`).
fn kind_available(test: &str, kind: Kind) -> bool {
    kind == Kind::Raw || common::require_tool(test, "setpriv")
}

/// An address as pingr prints it (`fd00:201:0::2` is printed `fd00:201::2`).
fn canon(addr: &str) -> String {
    addr.parse::<std::net::IpAddr>()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| addr.to_string())
}

/// The address with its last group replaced: `10.201.3.2` → `10.201.3.7`,
/// `fd00:201:3::2` → `fd00:201:3::7`.
fn sibling(addr: &str, last: &str) -> String {
    let (head, sep) = match addr.rsplit_once("::") {
        Some((h, _)) => (h, "::"),
        None => (addr.rsplit_once('.').expect("dotted address").0, "."),
    };
    format!("{head}{sep}{last}")
}

// ---------------------------------------------------------------------------
// The lab for behaviour tests
// ---------------------------------------------------------------------------

/// Namespace A runs pingr; B is silent (only the responder answers its addresses);
/// C answers echo requests in its kernel (the "normal host").
struct Lab {
    a: Netns,
    b: Netns,
    _c: Netns,
    ab: Veth,
    ac: Veth,
    /// The second normal address of each family on C: [IPv4, IPv6].
    normal2: [String; 2],
}

impl Lab {
    fn new() -> Lab {
        let a = Netns::new();
        let b = Netns::new_silent();
        let c = Netns::new();
        let ab = Veth::dual(&a, &b);
        let ac = Veth::dual(&a, &c);
        let normal2 = [sibling(ac.b_v4(), "3"), sibling(ac.b_v6(), "3")].map(|a| canon(&a));
        c.add_addr(&ac.b_dev, &format!("{}/24", normal2[0]));
        c.add_addr(&ac.b_dev, &format!("{}/64", normal2[1]));
        let lab = Lab {
            a,
            b,
            _c: c,
            ab,
            ac,
            normal2,
        };
        // "Routers" and other sources the responder forges: B's own (loopback)
        // addresses inside the veth subnet, so A reaches them on-link.
        let [f4, f6] = lab.forged();
        lab.b.add_addr("lo", &format!("{f4}/32"));
        lab.b.add_addr("lo", &format!("{f6}/128"));
        lab
    }
    /// B's addresses, answered by the responder: [IPv4, IPv6].
    fn hostile(&self) -> [String; 2] {
        [canon(self.ab.b_v4()), canon(self.ab.b_v6())]
    }
    /// C's addresses, answered by C's kernel: [IPv4, IPv6, IPv4, IPv6].
    fn normal(&self) -> [String; 4] {
        let [n4, n6] = self.normal2.clone();
        [canon(self.ac.b_v4()), canon(self.ac.b_v6()), n4, n6]
    }
    /// `--victim` for every normal address (replies forged from them, quotes naming them).
    fn victim_args(&self) -> Vec<String> {
        self.normal()
            .into_iter()
            .flat_map(|a| ["--victim".to_string(), a])
            .collect()
    }
    /// A's addresses on the A–B link (where replies from B go): [IPv4, IPv6].
    fn pinger(&self) -> [String; 2] {
        [canon(self.ab.a_v4()), canon(self.ab.a_v6())]
    }
    /// Addresses the responder forges (on B's loopback, in the A–B subnet).
    fn forged(&self) -> [String; 2] {
        let [h4, h6] = self.hostile();
        [sibling(&h4, "7"), sibling(&h6, "7")]
    }
    /// `--forge-src` for both families.
    fn forge_args(&self) -> Vec<String> {
        let [f4, f6] = self.forged();
        vec!["--forge-src".into(), f4, "--forge-src".into(), f6]
    }
}

/// One pingr run against a lab.
struct Outcome {
    kind: Kind,
    code: i32,
    stdout: String,
    stderr: String,
    /// The responders' logs.
    log: String,
    rows: HashMap<String, Row>,
    count: u64,
}

impl Outcome {
    fn context(&self) -> String {
        format!(
            "[{} sockets]\n--- stdout\n{}\n--- stderr\n{}\n--- responder log\n{}",
            self.kind.name(),
            self.stdout,
            self.stderr,
            self.log
        )
    }
}

/// What one hostile address must show.
struct Want {
    counts: Counts,
    /// If set, the duplicates may be as few as this (and at most `counts.dup`):
    /// the extra copies of the last probe's reply can arrive after the first copy
    /// has finished the host, and are then not seen (see `duplicates`).
    dup_min: Option<u64>,
    /// If set, the errors may be as few as this (and at most `counts.err`): errors
    /// after the one that settles the last probe race with the end of the host.
    err_min: Option<u64>,
    /// The address every `From ... icmp_seq=` line for this family must name.
    router: String,
    /// The text of those lines (checked when `counts.err > 0`).
    err_text: &'static str,
}

fn want(counts: Counts, router: &str) -> Want {
    Want {
        counts,
        dup_min: None,
        err_min: None,
        router: router.to_string(),
        err_text: "",
    }
}

/// The value of `-c` in `opts`.
fn count_of(opts: &[&str]) -> u64 {
    let i = opts.iter().position(|o| *o == "-c").expect("-c in options");
    opts[i + 1].parse().expect("numeric -c")
}

/// Start the responders (each an argument list for `Responder::start`), run pingr
/// with `opts` and `-v` in A on [hostile v4, hostile v6, then the four normal
/// targets], and check everything that does not depend on the behaviour: no panic,
/// exit status, only `-v` lines on stderr (no `sendto` error), the socket kind asked
/// for, and every normal target at N/N received, 0% loss, nothing else counted.
fn run_lab(lab: &Lab, kind: Kind, responders: &[Vec<String>], opts: &[&str]) -> Outcome {
    let rs: Vec<Responder> = responders
        .iter()
        .map(|args| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Responder::start(&lab.b, &args)
        })
        .collect();
    let [h4, h6] = lab.hostile();
    let normal = lab.normal();
    let mut args: Vec<&str> = opts.to_vec();
    args.push("-v");
    args.extend([h4.as_str(), h6.as_str()]);
    args.extend(normal.iter().map(String::as_str));
    let out = common::run_with_timeout(&mut pingr_in(&lab.a, kind, &args), 15);
    let log: String = rs.iter().map(Responder::log).collect();
    drop(rs);
    let what = format!("pingr {args:?} ({} sockets)", kind.name());
    let (code, stdout, stderr) = sane(&out, &what);
    let rows = text_table(&stdout);
    let o = Outcome {
        kind,
        code,
        rows,
        stdout,
        stderr,
        log,
        count: count_of(opts),
    };
    for l in o.stderr.lines() {
        assert!(
            is_verbose_line(l),
            "unexpected stderr line {l:?}\n{}",
            o.context()
        );
    }
    for fam in FAMILY {
        let line = format!("pingr: {fam}: {}", kind.verbose_words());
        assert!(o.stderr.contains(&line), "no {line:?}\n{}", o.context());
    }
    for addr in lab.normal() {
        let r = row(&o.rows, &addr, &o.stdout);
        assert_eq!(
            (r.counts(), r.loss()),
            (counts(o.count, o.count, 0, 0, 0), "0.0"),
            "normal host {addr} disturbed\n{}",
            o.context()
        );
        assert_eq!(
            stats_line(&o.stdout, &addr).split(", time").next(),
            Some(
                format!(
                    "{0} packets transmitted, {0} received, 0% packet loss",
                    o.count
                )
                .as_str()
            ),
            "normal host {addr}\n{}",
            o.context()
        );
    }
    o
}

/// Check the hostile addresses of a run against `wants` ([IPv4, IPv6]): table row,
/// statistics line, per-reply lines, `From` lines and the exit status.
fn check_hostile(test: &str, lab: &Lab, o: &Outcome, wants: &[Want; 2]) {
    let ctx = o.context();
    for (fam, (addr, w)) in lab.hostile().iter().zip(wants).enumerate() {
        let r = row(&o.rows, addr, &o.stdout);
        let line = stats_line(&o.stdout, addr);
        eprintln!("REPORT {test} {} {}: {line}", o.kind.name(), FAMILY[fam]);
        let got = r.counts();
        let dup_ok = match w.dup_min {
            Some(min) => (min..=w.counts.dup).contains(&got.dup),
            None => got.dup == w.counts.dup,
        };
        let err_ok = match w.err_min {
            Some(min) => (min..=w.counts.err).contains(&got.err),
            None => got.err == w.counts.err,
        };
        let exact = Counts {
            dup: w.counts.dup,
            err: w.counts.err,
            ..got
        };
        assert!(
            exact == w.counts && dup_ok && err_ok,
            "{} {addr}: table row {got:?}, want {:?} (duplicates from {:?}, errors from {:?})\n{ctx}",
            FAMILY[fam],
            w.counts,
            w.dup_min,
            w.err_min
        );
        let expected = expected_stats(got);
        assert!(
            line.starts_with(&expected),
            "{} {addr}: statistics line {line:?}, want it to start with {expected:?}\n{ctx}",
            FAMILY[fam]
        );
        let (ok, dup, late) = reply_lines(&o.stdout, addr);
        assert_eq!(
            (ok, dup, late),
            (got.recv, got.dup, got.late),
            "{} {addr}: per-reply lines (in time, DUP!, LATE!)\n{ctx}",
            FAMILY[fam]
        );
        let errs = error_lines(&o.stdout, &w.router);
        assert_eq!(
            errs.len() as u64,
            got.err,
            "{} {addr}: `From {}` lines\n{ctx}",
            FAMILY[fam],
            w.router
        );
        for e in &errs {
            assert!(
                e.ends_with(&format!(" {}", w.err_text)),
                "{} {addr}: error line {e:?}, want text {:?}\n{ctx}",
                FAMILY[fam],
                w.err_text
            );
        }
        if w.router != *addr {
            assert!(
                error_lines(&o.stdout, addr).is_empty(),
                "{} {addr}: error lines must name the router {}\n{ctx}",
                FAMILY[fam],
                w.router
            );
        }
    }
    let all_answered = wants.iter().all(|w| w.counts.recv > 0);
    assert_eq!(
        o.code,
        if all_answered { 0 } else { 1 },
        "exit status\n{ctx}"
    );
}

/// A behaviour test: for each socket kind ([`BOTH_KINDS`]) at once, each in a lab of its
/// own, start `responders(lab)`, run pingr with `opts`, and check the hostile addresses
/// against `wants(lab, outcome)`. Returns each kind's lab and outcome for extra checks
/// (None if skipped).
fn behaviour(
    test: &str,
    responders: &(dyn Fn(&Lab) -> Vec<Vec<String>> + Sync),
    opts: &[&str],
    wants: &(dyn Fn(&Lab, &Outcome) -> [Want; 2] + Sync),
) -> Option<Vec<(Lab, Outcome)>> {
    if !common::require_root(test) {
        return None;
    }
    let kinds: Vec<Kind> = BOTH_KINDS
        .iter()
        .copied()
        .filter(|&k| kind_available(test, k))
        .collect();
    let runs = std::thread::scope(|scope| {
        let handles: Vec<_> = kinds
            .iter()
            .map(|&kind| {
                scope.spawn(move || {
                    let lab = Lab::new();
                    let o = run_lab(&lab, kind, &responders(&lab), opts);
                    check_hostile(test, &lab, &o, &wants(&lab, &o));
                    (lab, o)
                })
            })
            .collect();
        let joined: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        joined
            .into_iter()
            .map(|r| r.unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    Some(runs)
}

/// The plainest behaviour test: the responder in `--mode M EXTRA`, pingr with `opts` on
/// both socket kinds, the same counts for both families; returns what [`behaviour`] does.
fn counted(
    test: &str,
    m: &str,
    extra: &[&str],
    opts: &[&str],
    c: Counts,
) -> Option<Vec<(Lab, Outcome)>> {
    behaviour(test, &|_| mode(m, extra), opts, &|lab, _| both(lab, c))
}

/// Responder arguments: `--mode MODE` plus `extra`.
fn mode(m: &str, extra: &[&str]) -> Vec<Vec<String>> {
    let mut v = vec!["--mode".to_string(), m.to_string()];
    v.extend(extra.iter().map(|s| s.to_string()));
    vec![v]
}

/// The same counts for both families, errors (if any) from the pinged address.
fn both(lab: &Lab, c: Counts) -> [Want; 2] {
    let [h4, h6] = lab.hostile();
    [want(c, &h4), want(c, &h6)]
}

/// How many genuine echo replies (type 0 / 129) the responder sent to `dst`.
fn replies_sent(log: &str, v6: bool, dst: &str) -> u64 {
    let kind = if v6 { "129" } else { "0" };
    let start = format!("responder: sent type {kind} ");
    let end = format!(" -> {dst}");
    log.lines()
        .filter(|l| l.starts_with(&start) && l.ends_with(&end))
        .count() as u64
}

/// How many messages of ICMP type `kind` the responder sent to `dst`.
fn sent_of_type(log: &str, kind: u8, dst: &str) -> u64 {
    let start = format!("responder: sent type {kind} ");
    let end = format!(" -> {dst}");
    log.lines()
        .filter(|l| l.starts_with(&start) && l.ends_with(&end))
        .count() as u64
}

const BOTH_KINDS: &[Kind] = &[Kind::Raw, Kind::Datagram];

// ---------------------------------------------------------------------------
// Item 2: responder behaviours
// ---------------------------------------------------------------------------

common::table_tests! {
    hostile_normal: counted("normal", &[], QUICK, counts(3, 3, 0, 0, 0));
    // 300 ms late answers, well inside a 1 s timeout: all received.
    hostile_delay: counted(
        "delay",
        &["--delay-ms", "300"],
        &["-c", "3", "-i", "0.2", "-W", "1"],
        counts(3, 3, 0, 0, 0),
    );
}

#[test]
fn hostile_drop_seeded() {
    // Seed 1 with 50% loss drops 3 of the first 6 requests (whichever family they
    // belong to): each family must count exactly the replies really sent to it.
    let Some(runs) = behaviour(
        "hostile_drop_seeded",
        &|_| mode("drop", &["--seed", "1", "--loss", "50"]),
        QUICK,
        &|lab, o| {
            let [p4, p6] = lab.pinger();
            let r4 = replies_sent(&o.log, false, &p4);
            let r6 = replies_sent(&o.log, true, &p6);
            both(lab, counts(3, 0, 0, 0, 0)).map(|mut w| {
                w.counts.recv = if w.router.contains(':') { r6 } else { r4 };
                w
            })
        },
    ) else {
        return;
    };
    for (lab, o) in &runs {
        let [p4, p6] = lab.pinger();
        let total = replies_sent(&o.log, false, &p4) + replies_sent(&o.log, true, &p6);
        assert_eq!(total, 3, "seed 1 answers 3 of 6 requests\n{}", o.context());
        assert_eq!(
            o.log.lines().filter(|l| *l == "responder: dropped").count(),
            3,
            "{}",
            o.context()
        );
    }
}

/// `copies` of every reply: each probe received once, the other copies counted as
/// duplicates (and printed with `(DUP!)`), never as received. pingr finishes a host
/// as soon as its last probe is answered (`-c`: "then a wait of *up to* -W"), so
/// the copies of the *last* reply race with the end of the host: they may be
/// counted or not. Every copy of the earlier replies must be.
fn duplicates(test: &str, m: &str, copies: u64) {
    let (sent, extra) = (3, copies - 1);
    behaviour(test, &|_| mode(m, &[]), QUICK, &|lab, _| {
        both(lab, counts(sent, sent, extra * sent, 0, 0)).map(|w| Want {
            dup_min: Some(extra * (sent - 1)),
            ..w
        })
    });
}

common::table_tests! {
    hostile_dup: duplicates("dup", 2);
    // Ten copies of every reply: one received and nine duplicates per probe.
    hostile_flood: duplicates("flood", 10);
}

/// Modes whose every answer must be ignored: nothing received, nothing else
/// counted, although the responder did send something for every request.
fn ignored(test: &str, m: &'static str, min_sent_per_family: u64) {
    let Some(runs) = counted(test, m, &[], QUICK, counts(3, 0, 0, 0, 0)) else {
        return;
    };
    for (lab, o) in &runs {
        let [p4, p6] = lab.pinger();
        for p in [&p4, &p6] {
            let sent = o
                .log
                .lines()
                .filter(|l| {
                    l.starts_with("responder: sent type ") && l.ends_with(&format!(" -> {p}"))
                })
                .count() as u64;
            assert!(
                sent >= min_sent_per_family,
                "{m}: the responder sent only {sent} messages to {p}\n{}",
                o.context()
            );
        }
    }
}

common::table_tests! {
    // IPv6: the receiving kernel drops bad ICMPv6 checksums before any socket.
    hostile_badsum: ignored("badsum", 3);
    hostile_wrongid: ignored("wrongid", 3);
    hostile_wrongseq: ignored("wrongseq", 3);
    // IPv4: the kernel never delivers an ICMP message under 8 bytes (acts as drop).
    hostile_trunchdr: ignored("trunchdr", 3);
    // Three random messages per request (echo replies with our identifier and a
    // random rest, errors quoting random bytes, random types), never a real reply.
    hostile_garbage: ignored("garbage", 9);
    // Each genuine reply comes with three replies to sequence numbers never sent.
    hostile_unsolicited: counted("unsolicited", &[], QUICK, counts(3, 3, 0, 0, 0));
}

#[test]
fn hostile_othersrc() {
    // Correct replies, but from another address of the same host: not ours.
    let Some(runs) = behaviour(
        "hostile_othersrc",
        &|lab| {
            let mut m = mode("othersrc", &[]);
            m[0].extend(lab.forge_args());
            m
        },
        QUICK,
        &|lab, _| both(lab, counts(3, 0, 0, 0, 0)),
    ) else {
        return;
    };
    for (lab, o) in &runs {
        let [p4, p6] = lab.pinger();
        let [f4, f6] = lab.forged();
        assert_eq!(replies_sent(&o.log, false, &p4), 3, "{}", o.context());
        assert_eq!(replies_sent(&o.log, true, &p6), 3, "{}", o.context());
        for f in [&f4, &f6] {
            assert!(
                o.log.contains(&format!("sent type 0 64 bytes {f} -> "))
                    || o.log.contains(&format!("sent type 129 64 bytes {f} -> ")),
                "replies were not sent from {f}\n{}",
                o.context()
            );
            assert_eq!(reply_lines(&o.stdout, f), (0, 0, 0), "{}", o.context());
        }
    }
}

common::table_tests! {
    // IPv4 replies with 40 bytes of IP options; IPv6 with a Destination Options header.
    hostile_ipopts: counted("ipopts", &[], QUICK, counts(3, 3, 0, 0, 0));
}

#[test]
fn hostile_reorder() {
    // Replies in reversed pairs: 2 before 1, 4 before 3; all received in time.
    // A lone reply is released after --delay-ms: keep that well above the 0.2 s interval,
    // so each pair completes even on a loaded machine.
    let Some(runs) = counted(
        "hostile_reorder",
        "reorder",
        &["--delay-ms", "1000"],
        &["-c", "4", "-i", "0.2", "-W", "2"],
        counts(4, 4, 0, 0, 0),
    ) else {
        return;
    };
    for (lab, o) in &runs {
        for addr in lab.hostile() {
            // (icmp_seq, time in ms) of every reply line from this address.
            let mut replies: Vec<(u32, f64)> = o
                .stdout
                .lines()
                .filter(|l| l.contains(&format!(" bytes from {addr}: ")))
                .filter_map(|l| {
                    let seq = l
                        .split("icmp_seq=")
                        .nth(1)?
                        .split(' ')
                        .next()?
                        .parse()
                        .ok()?;
                    let ms = l.split("time=").nth(1)?.split(' ').next()?.parse().ok()?;
                    Some((seq, ms))
                })
                .collect();
            replies.sort_by_key(|r| r.0);
            let seqs: Vec<u32> = replies.iter().map(|r| r.0).collect();
            assert_eq!(seqs, [1, 2, 3, 4], "{addr}: replies\n{}", o.context());
            // The first of each pair was held back until the second came: it was answered
            // last, and still counted (the print order of two replies read at the same
            // instant by two threads is not part of the contract).
            for pair in replies.chunks(2) {
                assert!(
                    pair[0].1 > pair[1].1 + 50.0,
                    "{addr}: {pair:?} not reordered\n{}",
                    o.context()
                );
            }
        }
    }
}

common::table_tests! {
    // Replies 700 ms after each request, timeout 0.3 s, a probe every second: the
    // replies to probes 1 and 2 arrive while later probes are pending and must be
    // counted as late, not received; the reply to probe 3 arrives after the run.
    hostile_late: counted(
        "late",
        &["--delay-ms", "700"],
        &["-c", "3", "-i", "1", "-W", "0.3"],
        counts(3, 0, 0, 2, 0),
    );
}

/// The payload-size behaviours: pingr counts a reply whose payload still starts
/// with the request's 16-byte stamp (the run's nonce, then the target's tag),
/// whatever else its length.
fn payload_case(test: &str, m: &str, size: &str, received: bool, bytes: u64) {
    let mut opts = QUICK.to_vec();
    opts.extend(["-s", size]);
    let recv = if received { 3 } else { 0 };
    let Some(runs) = counted(test, m, &[], &opts, counts(3, recv, 0, 0, 0)) else {
        return;
    };
    for (lab, o) in &runs {
        for addr in lab.hostile() {
            let pat = format!("{bytes} bytes from {addr}: icmp_seq=");
            let n = o.stdout.lines().filter(|l| l.starts_with(&pat)).count() as u64;
            assert_eq!(n, recv, "{m} -s {size}: lines {pat:?}\n{}", o.context());
        }
    }
}

common::table_tests! {
    // Half the payload: 28 of 56 bytes still carry nonce and tag (36-byte messages).
    hostile_shortpay: payload_case("shortpay", "56", true, 36);
    // -s 32: half is exactly the nonce and the tag, counted (24-byte messages).
    hostile_shortpay_keeps_whole_stamp: payload_case("shortpay", "32", true, 24);
    // -s 31: half is 15 bytes, the tag is cut: it cannot prove its target, not counted.
    hostile_shortpay_cuts_tag: payload_case("shortpay", "31", false, 23);
    // -s 15: half is 7 bytes, the nonce is cut: not ours, not counted.
    hostile_shortpay_cuts_nonce: payload_case("shortpay", "15", false, 15);
    // Payload doubled plus 8 bytes of 0xee (128-byte messages): counted.
    hostile_longpay: payload_case("longpay", "56", true, 128);
}

const V4_UNREACH: &str = "Destination Host Unreachable";
const V6_UNREACH: &str = "Destination unreachable: Address unreachable";

/// ICMP errors for every probe: counted as errors, nothing received, printed as
/// `From ROUTER icmp_seq=N TEXT`.
fn errors_case(
    test: &str,
    responders: &(dyn Fn(&Lab) -> Vec<Vec<String>> + Sync),
    routers: &(dyn Fn(&Lab) -> [String; 2] + Sync),
    texts: [&'static str; 2],
    errs: u64,
) {
    behaviour(test, responders, QUICK, &|lab, _| {
        let r = routers(lab);
        [0, 1].map(|f| Want {
            counts: counts(3, 0, 0, 0, errs),
            dup_min: None,
            err_min: None,
            router: r[f].clone(),
            err_text: texts[f],
        })
    });
}

common::table_tests! {
    hostile_unreach:
        errors_case(&|_| mode("unreach", &[]), &Lab::hostile, [V4_UNREACH, V6_UNREACH], 3);
    // The quoted IPv4 header has 40 bytes of options; the quoted IPv6 packet a
    // Destination Options header.
    hostile_unreach_opts:
        errors_case(&|_| mode("unreach-opts", &[]), &Lab::hostile, [V4_UNREACH, V6_UNREACH], 3);
}

#[test]
fn hostile_unreach_cut() {
    // The quote ends 4 bytes into the ICMP header, before identifier and sequence:
    // it cannot be matched to a probe and must be ignored (the probe is lost).
    let Some(runs) = counted(
        "hostile_unreach_cut",
        "unreach-cut",
        &[],
        QUICK,
        counts(3, 0, 0, 0, 0),
    ) else {
        return;
    };
    for (lab, o) in &runs {
        let [p4, p6] = lab.pinger();
        assert_eq!(sent_of_type(&o.log, 3, &p4), 3, "{}", o.context());
        assert_eq!(sent_of_type(&o.log, 1, &p6), 3, "{}", o.context());
    }
}

#[test]
fn hostile_unreach_quote_just_long_enough() {
    // A quote of the inner header plus exactly 8 ICMP bytes (28 / 48 bytes) carries
    // identifier and sequence: every error must be counted.
    errors_case(
        "hostile_unreach_quote_just_long_enough",
        &|lab| {
            let [h4, h6] = lab.hostile();
            let one = |only: &str, bytes: &str| {
                [
                    "--mode",
                    "unreach-cut",
                    "--only",
                    only,
                    "--quote-bytes",
                    bytes,
                ]
                .map(str::to_string)
                .to_vec()
            };
            vec![one(&h4, "28"), one(&h6, "48")]
        },
        &Lab::hostile,
        [V4_UNREACH, V6_UNREACH],
        3,
    );
}

#[test]
fn hostile_timex_from_router() {
    // Time exceeded sent by a "router" (another address): the From line names it.
    errors_case(
        "hostile_timex_from_router",
        &|lab| {
            let mut m = mode("timex", &[]);
            m[0].extend(lab.forge_args());
            m
        },
        &Lab::forged,
        ["Time to live exceeded", "Time exceeded: Hop limit"],
        3,
    );
}

// ---------------------------------------------------------------------------
// Issue 10: one target's packets never touch another target's results
// ---------------------------------------------------------------------------

/// The errors a burst mode earns its (hostile) target, for each socket kind:
/// `per_request` [raw, datagram] counted per probe. Raw sockets see the whole
/// quote and pingr's parser rejects every malformed one. On datagram sockets the
/// kernel parses the quote and passes on a few that pingr's parser would reject
/// (quoted IP version, IPv4 fragment offset, nine IPv6 extension headers): the
/// error queue gives only the quoted ICMP message, so pingr counts those, for the
/// one target whose destination, sequence and tag the quote carries. The errors
/// after the first one for the last probe race with the end of the host.
fn burst_wants(lab: &Lab, o: &Outcome, per_request: [u64; 2]) -> [Want; 2] {
    let n = per_request[usize::from(o.kind == Kind::Datagram)];
    let [h4, h6] = lab.hostile();
    let texts = [V4_UNREACH, V6_UNREACH];
    [h4, h6].map(|h| Want {
        counts: counts(3, 0, 0, 0, 3 * n),
        dup_min: None,
        err_min: Some(if n == 0 { 0 } else { 2 * n + 1 }),
        err_text: texts[usize::from(h.contains(':'))],
        router: h,
    })
}

/// The responder's log must show every malformation of the burst sent.
fn assert_burst_sent(o: &Outcome, requests: u64) {
    for m in [
        "version",
        "headerlen",
        "protocol",
        "pastend",
        "fragment",
        "cutip",
        "cuticmp",
    ] {
        let sent = o
            .log
            .lines()
            .filter(|l| *l == format!("responder: malformed quote: {m}"))
            .count() as u64;
        assert!(
            sent >= requests,
            "only {sent} quotes malformed as {m}\n{}",
            o.context()
        );
    }
    for m in ["empty", "type", "code", "payload", "dst", "seq"] {
        let line = format!("responder: malformed quote: {m}");
        assert!(o.log.lines().any(|l| l == line), "no {m}\n{}", o.context());
    }
}

/// Bursts of ICMP errors (responder `--mode M EXTRA`, aimed at the normal targets too):
/// [`burst_wants`] with `per_request`, and every malformation sent.
fn burst_case(test: &str, m: &str, extra: &[&str], per_request: [u64; 2]) {
    let responders = |lab: &Lab| {
        let mut r = mode(m, extra);
        r[0].extend(lab.victim_args());
        r
    };
    let wants = |lab: &Lab, o: &Outcome| burst_wants(lab, o, per_request);
    let Some(runs) = behaviour(test, &responders, QUICK, &wants) else {
        return;
    };
    for (_, o) in &runs {
        assert_burst_sent(o, 6);
    }
}

common::table_tests! {
    // Each request answered by a burst: one well-formed destination-unreachable, then one
    // for every way the quote parser rejects a quote (and a quote naming a normal target
    // as its destination, carrying this target's tag). Only the well-formed error counts
    // (plus, on datagram sockets, the three the kernel passes on), and every normal target
    // stays at 3/3 with no `sendto` error: before issue 10 the errors' pending socket
    // error made the next sendto of any target fail ("No route to host").
    hostile_error_burst: burst_case("errburst", &["--count", "2"], [2, 6]);
    // The same bursts without the well-formed error: nothing counts on raw sockets.
    hostile_malformed_errors_only: burst_case("errmalformed", &[], [0, 2]);
}

#[test]
fn hostile_replies_forged_from_normal_targets() {
    // Every genuine reply is also sent from each normal target's address, with this
    // target's identifier, sequence and payload. On datagram sockets all targets share
    // the identifier and the sequence numbers, so only the payload's per-target tag shows
    // that these are not the normal targets' replies: none may count there (no DUP).
    let Some(runs) = behaviour(
        "hostile_replies_forged_from_normal_targets",
        &|lab| {
            // 50 ms later, so that the normal targets' probes of the same sequence number
            // have surely left (and been answered) when the forged copies arrive.
            let mut m = mode("crossreply", &["--delay-ms", "50"]);
            m[0].extend(lab.victim_args());
            m
        },
        QUICK,
        &|lab, _| both(lab, counts(3, 3, 0, 0, 0)),
    ) else {
        return;
    };
    for (lab, o) in &runs {
        for v in lab.normal() {
            let forged = o
                .log
                .lines()
                .filter(|l| {
                    l.starts_with("responder: sent type ") && l.contains(&format!(" bytes {v} -> "))
                })
                .count();
            assert_eq!(forged, 3, "replies forged from {v}\n{}", o.context());
        }
    }
}

/// The sweep of issue 10 on datagram sockets, one family: A pings one target in B
/// (the responder answers each request with malformed ICMP errors only), 8 targets
/// behind a router namespace R that answers host-unreachable for them, and 16
/// normal targets in C, all in one run (`-c 5 -i 0.2 -W 1`).
fn datagram_sweep(test: &str, v6: bool) {
    if !(common::require_root(test)
        && kind_available(test, Kind::Datagram)
        && common::require_tool(test, "nft"))
    {
        return;
    }
    let (a, b, c, r) = (
        Netns::new(),
        Netns::new_silent(),
        Netns::new(),
        Netns::new(),
    );
    let fam = if v6 { "IPv6" } else { "IPv4" };
    let net = |n: u32, h: u32| {
        if v6 {
            (format!("fd00:211:{n}::{h:x}"), 64)
        } else {
            (format!("10.211.{n}.{h}"), 24)
        }
    };
    let cidr = |n: u32, h: u32| {
        let (addr, len) = net(n, h);
        format!("{addr}/{len}")
    };
    let ab = Veth::new(&a, &cidr(1, 1), &b, &cidr(1, 2));
    let ac = Veth::new(&a, &cidr(2, 1), &c, &cidr(2, 2));
    let _ar = Veth::new(&a, &cidr(3, 1), &r, &cidr(3, 2));
    let normal: Vec<String> = (0..16).map(|i| net(2, 10 + i).0).collect();
    for n in &normal {
        c.add_addr(&ac.b_dev, &format!("{n}/{}", net(2, 0).1));
    }
    // R routes the 8 unreachable targets to a dummy link (a veth pair inside R) and its firewall answers every
    // request for them with host-unreachable (nftables' reject obeys the namespace's own
    // ICMP rate limit, set to 0 here; an `unreachable` route would be rate-limited by the
    // global net.ipv4.route.error_cost, which a test must not change).
    let (prefix, via) = (format!("{}/{}", net(9, 0).0, net(9, 0).1), net(3, 2).0);
    let (ip, fam_nft, reject) = if v6 {
        ("ip -6", "ip6", "icmpv6 type addr-unreachable")
    } else {
        ("ip", "ip", "icmp type host-unreachable")
    };
    a.run(&format!("{ip} route add {prefix} via {via}"));
    r.run("ip link add d0 type veth peer name d1 && ip link set d0 up && ip link set d1 up");
    r.run(&format!("{ip} route add {prefix} dev d0"));
    r.run(&format!(
        "nft add table inet t && \
         nft add chain inet t f '{{ type filter hook forward priority 0; }}' && \
         nft add rule inet t f {fam_nft} daddr {prefix} reject with {reject}"
    ));
    r.sysctl("net.ipv4.ip_forward", "1");
    r.sysctl("net.ipv6.conf.all.forwarding", "1");
    r.sysctl("net.ipv4.icmp_ratelimit", "0");
    r.sysctl("net.ipv6.icmp.ratelimit", "0");
    let unreachable: Vec<String> = (0..8).map(|i| net(9, 10 + i).0).collect();
    let hostile = ab.b_addrs[0].clone();
    let _resp = Responder::start(&b, &["--mode", "errmalformed", "--only", &hostile]);
    let mut args = vec!["-c", "5", "-i", "0.2", "-W", "1", "-v", hostile.as_str()];
    args.extend(unreachable.iter().map(String::as_str));
    args.extend(normal.iter().map(String::as_str));
    let out = common::run_with_timeout(&mut pingr_in(&a, Kind::Datagram, &args), 30);
    let (code, stdout, stderr) = sane(&out, &format!("{test}: pingr {args:?}"));
    let ctx = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(
        stderr.contains(&format!("pingr: {fam}: ICMP datagram socket")),
        "{ctx}"
    );
    for l in stderr.lines() {
        assert!(
            is_verbose_line(l),
            "unexpected stderr line {l:?} (a sendto error?)\n{ctx}"
        );
    }
    let rows = text_table(&stdout);
    for n in &normal {
        let got = row(&rows, n, &stdout);
        assert_eq!(
            (got.counts(), got.loss()),
            (counts(5, 5, 0, 0, 0), "0.0"),
            "normal target {n}\n{ctx}"
        );
    }
    let mut errors = 0;
    for u in &unreachable {
        let got = row(&rows, u, &stdout).counts();
        assert_eq!((got.sent, got.recv, got.dup), (5, 0, 0), "{u}\n{ctx}");
        errors += got.err;
    }
    assert!(
        errors >= 8,
        "the router's errors were counted ({errors})\n{ctx}"
    );
    let h = row(&rows, &hostile, &stdout).counts();
    assert_eq!((h.sent, h.recv, h.dup), (5, 0, 0), "{hostile}\n{ctx}");
    eprintln!("REPORT {test}: 16 normal at 5/5, 8 unreachable with {errors} errors, hostile {h:?}");
    assert_eq!(code, 1, "{ctx}");
}

common::table_tests! {
    datagram_sweep_v4_malformed_and_unreachable_spare_the_rest: datagram_sweep(false);
    datagram_sweep_v6_malformed_and_unreachable_spare_the_rest: datagram_sweep(true);
}

// ---------------------------------------------------------------------------
// Item 4: sequence numbers, long runs, memory, no NaN
// ---------------------------------------------------------------------------

#[test]
fn long_run_past_65536_probes_keeps_exact_statistics() {
    let test = "long_run_past_65536_probes_keeps_exact_statistics";
    let Some(ns) = common::root_netns(test) else {
        return;
    };
    let _g = common::flood_lock();
    let args = ["-c", "70000", "-i", "0", "--gap", "0", "-q", "127.0.0.1"];
    let out = common::run_with_timeout(&mut pingr_in(&ns, Kind::Raw, &args), 30);
    let (code, stdout, stderr) = sane(&out, "pingr -c 70000 -i 0 --gap 0 -q");
    let line = stats_line(&stdout, "127.0.0.1");
    eprintln!("REPORT {test}: {line}");
    assert!(
        line.starts_with("70000 packets transmitted, 70000 received, 0% packet loss, "),
        "statistics line {line:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn sequence_numbers_wrap_from_65535_to_0() {
    let test = "sequence_numbers_wrap_from_65535_to_0";
    let Some(ns) = common::root_netns(test) else {
        return;
    };
    let _g = common::flood_lock();
    let args = ["-c", "65540", "-i", "0", "--gap", "0", "127.0.0.1"];
    let out = common::run_with_timeout(&mut pingr_in(&ns, Kind::Raw, &args), 30);
    let (code, stdout, stderr) = sane(&out, "pingr -c 65540 -i 0 --gap 0");
    let line = stats_line(&stdout, "127.0.0.1");
    eprintln!("REPORT {test}: {line}");
    let summary = || {
        let tail: Vec<&str> = stdout.lines().rev().take(6).collect();
        format!("last lines: {tail:?}\nstderr:\n{stderr}")
    };
    assert!(
        line.starts_with("65540 packets transmitted, 65540 received, 0% packet loss, "),
        "statistics line {line:?}; {}",
        summary()
    );
    let seqs: Vec<u32> = stdout
        .lines()
        .filter(|l| l.contains(" bytes from 127.0.0.1: icmp_seq="))
        .map(|l| {
            assert!(!l.contains('('), "marked reply {l:?}; {}", summary());
            let s = l
                .split("icmp_seq=")
                .nth(1)
                .and_then(|s| s.split(' ').next());
            s.and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad reply line {l:?}"))
        })
        .collect();
    assert_eq!(seqs.len(), 65540, "reply lines; {}", summary());
    // Every wire sequence number once, 1..=4 twice (probes 1-4 and 65537-65540).
    let mut seen = vec![0u32; 65536];
    for &s in &seqs {
        seen[s as usize] += 1;
    }
    for (s, &n) in seen.iter().enumerate() {
        let want = if (1..=4).contains(&s) { 2 } else { 1 };
        assert_eq!(n, want, "icmp_seq={s} printed {n} times; {}", summary());
    }
    let at = |seq: u32, from: usize| {
        seqs[from..]
            .iter()
            .position(|&s| s == seq)
            .map(|p| p + from)
            .unwrap_or_else(|| panic!("no icmp_seq={seq} after line {from}; {}", summary()))
    };
    let top = at(65535, 0);
    let zero = at(0, top);
    let one = at(1, zero);
    assert!(top < zero && zero < one);
    assert_eq!(code, 0);
}

#[test]
fn memory_stays_flat_over_a_long_run() {
    let test = "memory_stays_flat_over_a_long_run";
    let Some(ns) = common::root_netns(test) else {
        return;
    };
    let _g = common::flood_lock();
    let args = ["-c", "200000", "-i", "0", "--gap", "0", "-q", "127.0.0.1"];
    let mut live = Live::spawn(pingr_in(&ns, Kind::Raw, &args));
    let pid = live.pid();
    let mut samples: Vec<u64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !live.exited() && Instant::now() < deadline {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let is_pingr = common::status_field(&status, "Name") == Some("pingr");
        let rss = common::status_field(&status, "VmRSS")
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok());
        if let (true, Some(kb)) = (is_pingr, rss) {
            samples.push(kb);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, stdout, stderr) = live.finish(5);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        samples.len() >= 8,
        "too few RSS samples ({samples:?}): the run ended too soon to judge\n{stdout}{stderr}"
    );
    let early = samples[samples.len() / 4];
    let late = *samples[samples.len() / 2..].iter().max().unwrap_or(&0);
    eprintln!(
        "REPORT {test}: VmRSS early {early} kB, late max {late} kB ({} samples); {}",
        samples.len(),
        stats_line(&stdout, "127.0.0.1")
    );
    assert!(
        late <= early + 1024,
        "VmRSS grew from {early} kB to {late} kB: {samples:?}"
    );
    assert!(
        stats_line(&stdout, "127.0.0.1").starts_with("200000 packets transmitted, "),
        "{stdout}"
    );
    assert!(matches!(status.code(), Some(0..=2)), "{status:?}");
}

#[test]
fn zero_replies_print_no_nan() {
    let test = "zero_replies_print_no_nan";
    if !common::require_root(test) {
        return;
    }
    let ns = Netns::new_silent();
    let base = ["-c", "2", "-i", "0.2", "-W", "0.3"];
    // One target: ping-shaped block without an rtt line.
    let mut args = base.to_vec();
    args.push("127.0.0.1");
    let out = common::run_with_timeout(&mut pingr_in(&ns, Kind::Raw, &args), 10);
    let (code, stdout, _) = sane(&out, "silent host, one target");
    assert_eq!(
        stats_line(&stdout, "127.0.0.1").split(", time").next(),
        Some("2 packets transmitted, 0 received, 100% packet loss"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("rtt "),
        "rtt line without replies:\n{stdout}"
    );
    assert_eq!(code, 1, "{stdout}");
    // Several targets, every format.
    for format in ["text", "tsv", "json"] {
        let mut args = base.to_vec();
        let f = format!("--format={format}");
        args.extend([f.as_str(), "127.0.0.1", "::1"]);
        let out = common::run_with_timeout(&mut pingr_in(&ns, Kind::Raw, &args), 10);
        let (code, stdout, _) = sane(&out, &format!("silent host, {format}"));
        assert_eq!(code, 1, "{stdout}");
        match format {
            "text" | "tsv" => {
                let rows = if format == "text" {
                    text_table(&stdout)
                } else {
                    tsv_table(&stdout)
                };
                for t in ["127.0.0.1", "::1"] {
                    let r = row(&rows, t, &stdout);
                    assert_eq!(r.counts(), counts(2, 0, 0, 0, 0), "{stdout}");
                    assert_eq!(r.loss(), "100.0", "{stdout}");
                    for col in 5..=10 {
                        assert_eq!(r.cell(col), "-", "time column {col}:\n{stdout}");
                    }
                }
            }
            _ => {
                let lines: Vec<&str> = stdout.lines().collect();
                assert_eq!(lines.len(), 2, "{stdout}");
                for l in lines {
                    for key in common::JSON_MS_KEYS {
                        assert!(l.contains(&format!("\"{key}\":null")), "{key} in {l}");
                    }
                    assert!(l.contains("\"received\":0"), "{l}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Item 6: output failures and signals
// ---------------------------------------------------------------------------

/// A process watched while it runs: stdout and stderr read line by line.
struct Live {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    done: bool,
}

fn line_reader<R: Read + Send + 'static>(r: R) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Live {
    fn spawn(mut cmd: Command) -> Live {
        use std::os::unix::process::CommandExt;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        let out = line_reader(child.stdout.take().expect("piped stdout"));
        let err = line_reader(child.stderr.take().expect("piped stderr"));
        Live {
            child,
            out,
            err,
            stdout: Vec::new(),
            stderr: Vec::new(),
            done: false,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    fn dump(&self) -> String {
        format!(
            "--- stdout so far\n{}\n--- stderr so far\n{}",
            self.stdout.join("\n"),
            self.stderr.join("\n")
        )
    }

    /// Wait at most `secs` for a line (on stderr if `on_stderr`) that `pred`
    /// accepts, and return it; panics (killing the process) otherwise.
    fn wait_line(
        &mut self,
        on_stderr: bool,
        secs: u64,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let rx = if on_stderr { &self.err } else { &self.out };
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let hit = pred(&line);
                    if on_stderr {
                        self.stderr.push(line.clone());
                    } else {
                        self.stdout.push(line.clone());
                    }
                    if hit {
                        return line;
                    }
                }
                Err(e) => {
                    self.kill();
                    let why = match e {
                        RecvTimeoutError::Timeout => format!("within {secs} s"),
                        RecvTimeoutError::Disconnected => "before the stream ended".into(),
                    };
                    panic!("no {what} {why}\n{}", self.dump());
                }
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} {} failed", self.pid());
    }

    fn kill(&mut self) {
        if !self.done {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.pid())])
                .stderr(Stdio::null())
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.done = true;
        }
    }

    /// Wait at most `secs` for the exit; returns (status, all stdout, all stderr).
    fn finish(mut self, secs: u64) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    self.kill();
                    panic!("did not exit within {secs} s\n{}", self.dump());
                }
            }
        };
        self.done = true;
        let collect = |rx: &Receiver<String>, into: &mut Vec<String>| {
            while let Ok(l) = rx.recv_timeout(Duration::from_secs(2)) {
                into.push(l);
            }
        };
        let mut out = std::mem::take(&mut self.stdout);
        let mut err = std::mem::take(&mut self.stderr);
        collect(&self.out, &mut out);
        collect(&self.err, &mut err);
        let join = |v: Vec<String>| v.iter().map(|l| format!("{l}\n")).collect::<String>();
        (status, join(out), join(err))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn closed_pipe_stops_quietly() {
    let test = "closed_pipe_stops_quietly";
    let Some(ns) = common::root_netns_with(test, "bash") else {
        return;
    };
    // 50 probes 0.2 s apart would take 10 s: pingr must stop once `head` is gone.
    let script = r#""$@" | head -n 1; echo "pingr_status=${PIPESTATUS[0]}""#;
    let mut cmd = ns.exec("bash", ["-c", script, "bash"]);
    cmd.arg(common::pingr())
        .args(["-c", "50", "-i", "0.2", "127.0.0.1"]);
    let out = common::run_with_timeout(&mut cmd, 8);
    let (stdout, stderr) = (common::text(&out.stdout), common::text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.",
            "pingr_status=0"
        ],
        "stderr:\n{stderr}"
    );
    assert_eq!(stderr, "", "pingr must stop quietly on a closed pipe");
}

#[test]
fn write_error_on_dev_full() {
    let test = "write_error_on_dev_full";
    let Some(ns) = common::root_netns(test) else {
        return;
    };
    let runs: [&[&str]; 3] = [
        // The header is the first write.
        &["-c", "3", "-i", "0.2", "127.0.0.1"],
        // Nothing is written before the final summary.
        &["-q", "-c", "2", "-i", "0.2", "127.0.0.1", "::1"],
        &["--format=tsv", "-c", "2", "-i", "0.2", "127.0.0.1", "::1"],
    ];
    for args in runs {
        let mut cmd = ns.exec("sh", ["-c", r#"exec "$@" > /dev/full"#, "sh"]);
        cmd.arg(common::pingr()).args(args);
        let out = common::run_with_timeout(&mut cmd, 10);
        let stderr = common::text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: one error line wanted:\n{stderr}");
        assert!(
            lines[0].starts_with("pingr: write error: "),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn sigint_before_any_reply_prints_a_clean_summary() {
    let test = "sigint_before_any_reply_prints_a_clean_summary";
    if !common::require_root(test) {
        return;
    }
    let ns = Netns::new_silent();
    let header = |l: &str| l.starts_with("PING 127.0.0.1 ");

    // One target: ping-shaped statistics.
    let mut live = Live::spawn(pingr_in(
        &ns,
        Kind::Raw,
        &["-c", "100", "-i", "0.2", "127.0.0.1"],
    ));
    live.wait_line(false, 10, "PING header", header);
    std::thread::sleep(Duration::from_millis(300));
    live.signal("QUIT");
    let status = live.wait_line(true, 5, "SIGQUIT status line", |l| {
        l.starts_with("127.0.0.1: ")
    });
    assert!(
        status.starts_with("127.0.0.1: 0/") && status.ends_with(" packets, 100% loss"),
        "status line {status:?}"
    );
    live.signal("INT");
    let (st, stdout, stderr) = live.finish(5);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_no_nan(&stdout, "SIGINT summary");
    assert_no_nan(&stderr, "SIGINT stderr");
    let line = stats_line(&stdout, "127.0.0.1");
    eprintln!("REPORT {test} one target: {line}");
    let sent: u64 = line
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(sent >= 1, "{line}");
    assert!(
        line.starts_with(&format!(
            "{sent} packets transmitted, 0 received, 100% packet loss, time "
        )),
        "{line}"
    );
    assert!(!stdout.contains("rtt "), "{stdout}");
    assert_eq!(st.code(), Some(1), "{stdout}{stderr}");

    // Two targets whose probes are 5 s apart (--gap): ::1's first probe is not due before
    // the interrupt, so it never starts (0 sent).
    let mut live = Live::spawn(pingr_in(
        &ns,
        Kind::Raw,
        &[
            "-c",
            "100",
            "-i",
            "0.2",
            "--gap",
            "5000",
            "127.0.0.1",
            "::1",
        ],
    ));
    live.wait_line(false, 10, "PING header", header);
    std::thread::sleep(Duration::from_millis(300));
    live.signal("INT");
    let (st, stdout, stderr) = live.finish(5);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_no_nan(&stdout, "SIGINT summary, two targets");
    let rows = text_table(&stdout);
    let first = row(&rows, "127.0.0.1", &stdout);
    assert!(first.num(2) >= 1 && first.num(3) == 0, "{stdout}");
    assert_eq!(first.loss(), "100.0", "{stdout}");
    let never = row(&rows, "::1", &stdout);
    assert_eq!(never.counts(), counts(0, 0, 0, 0, 0), "{stdout}");
    assert_eq!(
        never.loss(),
        "-",
        "loss of a target never probed:\n{stdout}"
    );
    assert_eq!(st.code(), Some(1), "{stdout}{stderr}");
}

#[test]
fn repeated_sigquit_prints_status_and_goes_on() {
    let test = "repeated_sigquit_prints_status_and_goes_on";
    let Some(ns) = common::root_netns(test) else {
        return;
    };
    let mut live = Live::spawn(pingr_in(
        &ns,
        Kind::Raw,
        &["-c", "100", "-i", "0.1", "127.0.0.1"],
    ));
    let reply = |l: &str| l.starts_with("64 bytes from 127.0.0.1: icmp_seq=");
    live.wait_line(false, 10, "first reply", reply);
    let mut statuses = Vec::new();
    for i in 0..3 {
        live.signal("QUIT");
        let s = live.wait_line(true, 5, &format!("status line {}", i + 1), |l| {
            l.starts_with("127.0.0.1: ")
        });
        // `R/S packets, L% loss, min/avg/max/mdev = a/b/c/d ms`
        let rest = s.strip_prefix("127.0.0.1: ").unwrap_or("");
        let (rs, tail) = rest.split_once(" packets, ").unwrap_or(("", ""));
        let (r, sent) = rs.split_once('/').unwrap_or(("", ""));
        let (r, sent): (u64, u64) = (r.parse().unwrap_or(0), sent.parse().unwrap_or(0));
        assert!(r >= 1 && sent >= r, "status line {s:?}");
        assert!(
            tail.contains("% loss, min/avg/max/mdev = ") && tail.ends_with(" ms"),
            "status line {s:?}"
        );
        statuses.push(s);
        // It goes on: another reply after the status.
        live.wait_line(false, 5, "a reply after SIGQUIT", reply);
    }
    live.signal("INT");
    let (st, stdout, stderr) = live.finish(5);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let status_lines = stderr
        .lines()
        .filter(|l| l.starts_with("127.0.0.1: "))
        .count();
    assert_eq!(status_lines, 3, "one status line per SIGQUIT:\n{stderr}");
    assert_eq!(
        stderr.lines().count(),
        3,
        "nothing else on stderr:\n{stderr}"
    );
    let line = stats_line(&stdout, "127.0.0.1");
    eprintln!("REPORT {test}: {statuses:?}; {line}");
    assert!(line.contains(" received, 0% packet loss, "), "{line}");
    assert_eq!(st.code(), Some(0));
}

// ---------------------------------------------------------------------------
// Item 7: send errors
// ---------------------------------------------------------------------------

/// Run pingr in `ns` on `bad` ([IPv4, IPv6], whose sends fail with `reason`) and
/// on 127.0.0.1 and ::1 (which must be unaffected), with each socket kind available: the
/// failures are reported per probe on stderr (for the families where `reported(kind)`: the
/// kernel does say so) and counted as sent and lost.
fn send_errors(
    test: &str,
    ns: &Netns,
    bad: [&str; 2],
    reported: impl Fn(Kind) -> [bool; 2],
    reason: &str,
    extra: &[&str],
) {
    for kind in BOTH_KINDS.iter().copied() {
        if kind_available(test, kind) {
            send_errors_of(test, ns, kind, bad, reported(kind), reason, extra);
        }
    }
}

/// [`send_errors`] with one socket kind.
fn send_errors_of(
    test: &str,
    ns: &Netns,
    kind: Kind,
    bad: [&str; 2],
    reported: [bool; 2],
    reason: &str,
    extra: &[&str],
) {
    let mut args = vec!["-v", "-c", "3", "-i", "0.2", "-W", "0.5"];
    args.extend(extra);
    args.extend([bad[0], bad[1], "127.0.0.1", "::1"]);
    let out = common::run_with_timeout(&mut pingr_in(ns, kind, &args), 15);
    let what = format!("pingr {args:?} ({} sockets)", kind.name());
    let (code, stdout, stderr) = sane(&out, &what);
    let ctx = format!("{what}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let rows = text_table(&stdout);
    for (addr, reported) in bad.into_iter().zip(reported) {
        let expected: Vec<String> = (1..=3)
            .filter(|_| reported)
            .map(|n| format!("pingr: {addr} ({addr}): icmp_seq={n}: sendto: {reason}"))
            .collect();
        let got: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with(&format!("pingr: {addr} ({addr}): ")))
            .collect();
        assert_eq!(got, expected, "send errors for {addr}\n{ctx}");
        let r = row(&rows, addr, &stdout);
        assert_eq!(
            (r.counts(), r.loss()),
            (counts(3, 0, 0, 0, 0), "100.0"),
            "{addr}\n{ctx}"
        );
        let line = stats_line(&stdout, addr);
        eprintln!("REPORT {test} {} {addr}: {line}", kind.name());
        assert!(
            line.starts_with("3 packets transmitted, 0 received, 100% packet loss, "),
            "{addr}: {line:?}\n{ctx}"
        );
    }
    for addr in ["127.0.0.1", "::1"] {
        let r = row(&rows, addr, &stdout);
        assert_eq!(
            (r.counts(), r.loss()),
            (counts(3, 3, 0, 0, 0), "0.0"),
            "{addr} must be unaffected\n{ctx}"
        );
    }
    for l in stderr.lines() {
        assert!(
            is_verbose_line(l) || bad.iter().any(|b| l.starts_with(&format!("pingr: {b} ("))),
            "unexpected stderr line {l:?}\n{ctx}"
        );
    }
    assert!(
        stderr.contains(&format!("pingr: IPv4: {}", kind.verbose_words())),
        "{ctx}"
    );
    assert_eq!(code, 1, "{ctx}");
}

#[test]
fn send_error_eperm_from_nftables() {
    let test = "send_error_eperm_from_nftables";
    let Some(ns) = common::root_netns_with(test, "nft") else {
        return;
    };
    ns.add_addr("lo", "fd00:250::2/128");
    ns.run(
        "nft add table inet t && \
         nft add chain inet t o '{ type filter hook output priority 0; }' && \
         nft add rule inet t o ip daddr 127.0.0.2 drop && \
         nft add rule inet t o ip6 daddr fd00:250::2 drop",
    );
    // Kernel limit: on an ICMPv6 datagram (ping) socket, sendto() returns
    // success although netfilter dropped the packet (iputils ping shows the
    // same), so only the loss can be seen there.
    send_errors(
        test,
        &ns,
        ["127.0.0.2", "fd00:250::2"],
        |kind| [true, kind == Kind::Raw],
        "Operation not permitted",
        &[],
    );
}

#[test]
fn send_error_enetunreach_without_route() {
    let test = "send_error_enetunreach_without_route";
    // Only loopback: no route to anything else, so nothing leaves the namespace.
    let Some(ns) = common::root_netns(test) else {
        return;
    };
    send_errors(
        test,
        &ns,
        ["10.250.0.1", "fd00:250:1::1"],
        |_| [true, true],
        "Network is unreachable",
        &[],
    );
}

#[test]
fn send_error_emsgsize_with_dont_fragment() {
    let test = "send_error_emsgsize_with_dont_fragment";
    // 2000 bytes of payload with -M do over a 1500-byte MTU veth: too big to send;
    // loopback (MTU 65536) takes the same probes.
    let Some(a) = common::root_netns(test) else {
        return;
    };
    let b = Netns::new();
    let v = Veth::dual(&a, &b);
    send_errors(
        test,
        &a,
        [v.b_v4(), v.b_v6()],
        |_| [true, true],
        "Message too long",
        &["-s", "2000", "-M", "do"],
    );
}
