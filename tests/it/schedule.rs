//! Every host at once (issue 9): the built binary against loopback addresses inside a
//! namespace the test creates. Counts, not timings: every target of a continuous run is
//! probed again and again however few threads serve them, a count run with many more
//! targets than threads completes every target, `--gap` spreads the probes and stays fair,
//! and SIGINT and `-w` end the run whatever `--gap` says, with the summary of everything sent.

use crate::common;
use crate::common::text;

use common::{pingr, Netns};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A file of `n` distinct loopback addresses (127.1.x.y), one a line: its path, and them.
fn targets_file(n: usize) -> (String, Vec<String>) {
    let names: Vec<String> = (0..n)
        .map(|i| format!("127.1.{}.{}", i / 250, i % 250 + 1))
        .collect();
    let path = common::scratch_dir().join(format!("targets-{n}"));
    let mut f = std::fs::File::create(&path).unwrap();
    for t in &names {
        writeln!(f, "{t}").unwrap();
    }
    (path.to_str().expect("a UTF-8 path").to_string(), names)
}

/// (SENT, RECV) of every table row, by target name.
fn table(stdout: &str) -> std::collections::HashMap<String, (u64, u64)> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|c| c.len() == 14 && c[0] != "TARGET")
        .filter_map(|c| Some((c[0].to_string(), (c[2].parse().ok()?, c[3].parse().ok()?))))
        .collect()
}

/// Runs pingr in `ns` with `args`, sends SIGINT after `after`, and returns its output.
fn interrupted(ns: &Netns, args: &[&str], after: Duration) -> Output {
    let mut cmd = Command::new(pingr());
    cmd.args(args);
    let mut cmd = ns.wrap(&cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    std::thread::sleep(after);
    // `ip netns exec` execs into pingr, so the child's pid is pingr's.
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    common::wait_with_timeout(child, 20, "pingr after SIGINT")
}

fn describe(o: &Output) -> String {
    let out = text(&o.stdout);
    let tail: Vec<&str> = out.lines().rev().take(8).collect();
    format!(
        "exit {:?}\n--- stdout (last lines, reversed)\n{}\n--- stderr\n{}",
        o.status.code(),
        tail.join("\n"),
        text(&o.stderr)
    )
}

/// 2,000 targets, 8 threads, no -c: interrupted after 3 s, every target was probed at
/// least twice (a thread serves 250 hosts at once, none waits for another to finish).
#[test]
fn continuous_run_probes_every_target() {
    let Some(ns) = common::root_netns("continuous_run_probes_every_target") else {
        return;
    };
    let (f, names) = targets_file(2000);
    let o = interrupted(
        &ns,
        &common::words_then("-q -i 1 --gap 0.1 --max-threads 8 -f", &[&f]),
        Duration::from_secs(3),
    );
    let rows = table(&text(&o.stdout));
    assert_eq!(rows.len(), 2000, "{}", describe(&o));
    for t in &names {
        let (sent, _) = rows[t];
        assert!(sent >= 2, "{t} sent {sent}\n{}", describe(&o));
    }
    assert!(
        !text(&o.stderr).contains("probed every"),
        "2,000 x 0.1 ms fits in 1 s: no warning\n{}",
        describe(&o)
    );
}

/// 1,000 targets x 3 probes, 8 threads, -w 5: every target gets 3 of 3.
#[test]
fn count_run_completes_every_target() {
    let Some(ns) = common::root_netns("count_run_completes_every_target") else {
        return;
    };
    let (f, names) = targets_file(1000);
    let o = common::pingr_in(
        &ns,
        &common::words_then("-q -c 3 -i 0.2 --max-threads 8 -w 5 -f", &[&f]),
        30,
    );
    let rows = table(&text(&o.stdout));
    assert_eq!(rows.len(), 1000, "{}", describe(&o));
    for t in &names {
        assert_eq!(rows[t], (3, 3), "{t}\n{}", describe(&o));
    }
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
}

/// Where hosts x --gap exceeds -i, one stderr line gives the real period, and the probes go
/// round-robin: after a while every target has been probed as often as every other, give or
/// take the round in progress.
#[test]
fn a_busy_gap_is_announced_and_fair() {
    let Some(ns) = common::root_netns("a_busy_gap_is_announced_and_fair") else {
        return;
    };
    let (f, names) = targets_file(100);
    // 100 x 10 ms: a round takes 1 s, though -i asks for 0.2 s.
    let o = interrupted(
        &ns,
        &common::words_then("-q -i 0.2 --gap 10 --max-threads 3 -f", &[&f]),
        Duration::from_millis(3500),
    );
    let err = text(&o.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("probed every")).collect();
    assert_eq!(warnings.len(), 1, "{}", describe(&o));
    assert!(
        warnings[0].contains("100 targets") && warnings[0].contains("every 1 s"),
        "{}",
        warnings[0]
    );
    let rows = table(&text(&o.stdout));
    assert_eq!(rows.len(), 100, "{}", describe(&o));
    let sent: Vec<u64> = names.iter().map(|t| rows[t].0).collect();
    let (lo, hi) = (sent.iter().min().unwrap(), sent.iter().max().unwrap());
    assert!(*lo >= 2, "every target probed in every round: {sent:?}");
    assert!(hi - lo <= 1, "round-robin: {sent:?}");
}

/// --gap 3000 with 4 hosts, SIGINT at 1 s: the run ends then (the second probe was due at
/// 3 s), with 1 or 2 probes sent and the full summary of all four hosts.
#[test]
fn sigint_does_not_wait_for_the_gap() {
    let Some(ns) = common::root_netns("sigint_does_not_wait_for_the_gap") else {
        return;
    };
    let hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];
    let mut args = vec!["-c", "5", "--gap", "3000"];
    args.extend(hosts);
    let o = interrupted(&ns, &args, Duration::from_secs(1));
    let out = text(&o.stdout);
    let rows = table(&out);
    assert_eq!(rows.len(), 4, "{}", describe(&o));
    let sent: u64 = rows.values().map(|r| r.0).sum();
    assert!((1..=2).contains(&sent), "sent {sent}\n{}", describe(&o));
    for h in hosts {
        assert!(
            out.contains(&format!("--- {h} ping statistics ---")),
            "{h}\n{}",
            describe(&o)
        );
    }
    // Some host never answered (never probed): exit 1.
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
}

/// -w 2 with --gap 3000: the deadline ends the run before the second probe is due.
#[test]
fn deadline_does_not_wait_for_the_gap() {
    let Some(ns) = common::root_netns("deadline_does_not_wait_for_the_gap") else {
        return;
    };
    let cmd = common::pingr_cmd(&common::words(
        "-q -c 1 -w 2 --gap 3000 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4",
    ));
    // The hang guard is generous; the counts below are the test.
    let o = common::run_with_timeout(&mut ns.wrap(&cmd), 8);
    let rows = table(&text(&o.stdout));
    assert_eq!(rows.len(), 4, "{}", describe(&o));
    assert_eq!(rows["127.0.0.1"], (1, 1), "{}", describe(&o));
    for h in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        assert_eq!(
            rows[h],
            (0, 0),
            "{h}: due at 3 s or later\n{}",
            describe(&o)
        );
    }
}
