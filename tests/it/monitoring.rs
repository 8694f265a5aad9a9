//! Long-running monitoring (issue 12), with the real consumers: `promtool check metrics` on
//! pingr's Prometheus output; node_exporter's textfile collector serving it (scraped over
//! HTTP) while pingr rewrites the file; `promtool check rules` / `test rules` on the shipped
//! alerts; `systemd-analyze verify` and `systemd-tmpfiles` on the shipped unit and link;
//! `--output` failures; and a 60 s continuous run over 100 targets whose interim reports add
//! up to its final summary while its memory stays flat.
//!
//! Network rule: every pingr runs inside a namespace made here and pings only loopback or
//! addresses inside namespaces made here. node_exporter listens on 127.0.0.1 only.

use crate::common;
use crate::common::{describe, text};

use common::{
    have_tool, pingr, require_root, run_with_timeout, scratch_dir, skip, Netns, User, Veth,
};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const RUN_SECS: u64 = 30;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A tool the test needs, from its Debian package; otherwise SKIP (a failure in CI).
fn tool(test: &str, name: &str, package: &str) -> bool {
    have_tool(name)
        || skip(
            test,
            &format!("needs `{name}` (Debian package {package}), which is not installed"),
        )
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = scratch_dir().join(format!("monitoring-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create test dir");
    d
}

// ---------------------------------------------------------------------------------------
// The Prometheus text format, read back: (name, sorted labels) -> value.

type Series = BTreeMap<(String, Vec<(String, String)>), f64>;

/// Parses sample lines (`name{a="x",b="y"} value`), unescaping label values; comments are
/// skipped. Panics on a line it cannot read: the format is exact.
fn parse_metrics(body: &str) -> Series {
    let mut out = Series::new();
    for line in body.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => panic!("bad sample line {line:?}"),
        };
        let mut labels = Vec::new();
        let mut rest = rest;
        if let Some(r) = rest.strip_prefix('{') {
            let mut chars = r.char_indices();
            let mut key = String::new();
            let end;
            loop {
                let (i, c) = chars
                    .next()
                    .unwrap_or_else(|| panic!("unterminated {line:?}"));
                match c {
                    '}' => {
                        end = i + 1;
                        break;
                    }
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().map(|x| x.1), Some('"'), "{line:?}");
                        let mut v = String::new();
                        loop {
                            match chars.next().map(|x| x.1) {
                                Some('\\') => match chars.next().map(|x| x.1) {
                                    Some('n') => v.push('\n'),
                                    Some(c) => v.push(c),
                                    None => panic!("{line:?}"),
                                },
                                Some('"') => break,
                                Some(c) => v.push(c),
                                None => panic!("{line:?}"),
                            }
                        }
                        // `le` is a number: 5e-05 and 0.00005 are the same bucket.
                        if key == "le" && v != "+Inf" {
                            v = format!("{:?}", v.parse::<f64>().expect("le value"));
                        }
                        labels.push((std::mem::take(&mut key), v));
                    }
                    c => key.push(c),
                }
            }
            rest = &r[end..];
        }
        let value = rest.trim().split(' ').next().unwrap_or("");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        labels.sort();
        out.insert((name.to_string(), labels), value);
    }
    out
}

/// The value of `name` for the series whose labels include every pair of `want`.
fn value(s: &Series, name: &str, want: &[(&str, &str)]) -> Option<f64> {
    let mut found = s.iter().filter(|((n, labels), _)| {
        n == name
            && want
                .iter()
                .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
    });
    let first = found.next().map(|(_, v)| *v);
    assert!(
        found.next().is_none(),
        "{name} {want:?}: more than one series"
    );
    first
}

fn pingr_series(s: &Series) -> Series {
    s.iter()
        .filter(|((n, _), _)| n.starts_with("pingr_"))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

// ---------------------------------------------------------------------------------------

#[test]
fn promtool_accepts_the_prometheus_output() {
    let t = "promtool_accepts_the_prometheus_output";
    if !require_root(t) || !tool(t, "promtool", "prometheus") {
        return;
    }
    let ns = Netns::new();
    let quiet = Netns::new_silent();
    let v = Veth::new(&ns, "10.212.0.1/24", &quiet, "10.212.0.2/24");
    // A name with every character the label syntax escapes (looked up inside the namespace,
    // where no resolver is reachable: it fails and is reported with zeros).
    let dir = fresh_dir("promtool");
    let list = dir.join("targets");
    std::fs::write(&list, "127.0.0.1\n::1\nodd\\\"name.invalid\n").unwrap();
    let mut cmd = Command::new(pingr());
    cmd.args(common::QUICK)
        .args(["-q", "--format=prometheus", "-f"])
        .arg(&list)
        .arg(v.b_v4());
    let out = run_with_timeout(&mut ns.wrap(&cmd), RUN_SECS);
    common::assert_exit(&out, 2);
    let body = text(&out.stdout);

    let lint = |input: &str| -> Output {
        let mut c = Command::new("promtool");
        c.args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("run promtool");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let o = lint(&body);
    assert!(
        o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(),
        "promtool check metrics: {}\n{body}",
        describe(&o)
    );
    // The same check refuses what breaks the format or its conventions, so it does check: a
    // label value cut short, a counter without `_total`.
    let first_sample = body.lines().find(|l| !l.starts_with('#')).unwrap();
    let cut = &first_sample[..first_sample.find("\",").unwrap()];
    let broken = body.replacen(first_sample, cut, 1);
    assert!(!lint(&broken).status.success(), "promtool accepted {cut:?}");
    let renamed = body.replace("pingr_probes_sent_total", "pingr_probes_sent");
    let o = lint(&renamed);
    assert!(
        !o.status.success()
            && format!("{}{}", text(&o.stdout), text(&o.stderr))
                .contains("should have \"_total\" suffix"),
        "{}",
        describe(&o)
    );

    let s = parse_metrics(&body);
    let lo = [
        ("target", "127.0.0.1"),
        ("address", "127.0.0.1"),
        ("family", "ipv4"),
    ];
    let v6 = [("target", "::1"), ("family", "ipv6")];
    let silent = [("target", v.b_v4())];
    let odd = [
        ("target", "odd\\\"name.invalid"),
        ("address", ""),
        ("family", ""),
    ];
    assert_eq!(value(&s, "pingr_probes_sent_total", &lo), Some(3.0));
    assert_eq!(value(&s, "pingr_replies_total", &lo), Some(3.0));
    assert_eq!(value(&s, "pingr_replies_total", &v6), Some(3.0));
    assert_eq!(value(&s, "pingr_rtt_seconds_count", &lo), Some(3.0));
    assert_eq!(
        value(&s, "pingr_rtt_seconds_bucket", &[lo[0], ("le", "+Inf")]),
        Some(3.0)
    );
    assert_eq!(value(&s, "pingr_answered", &lo), Some(1.0));
    assert_eq!(value(&s, "pingr_loss_ratio", &lo), Some(0.0));
    let min = value(&s, "pingr_rtt_min_seconds", &lo).unwrap();
    let max = value(&s, "pingr_rtt_max_seconds", &lo).unwrap();
    assert!(min > 0.0 && min <= max && max < 0.5, "{min} {max}");
    assert_eq!(value(&s, "pingr_probes_sent_total", &silent), Some(3.0));
    assert_eq!(value(&s, "pingr_replies_total", &silent), Some(0.0));
    assert_eq!(value(&s, "pingr_answered", &silent), Some(0.0));
    assert_eq!(value(&s, "pingr_loss_ratio", &silent), Some(1.0));
    assert_eq!(value(&s, "pingr_rtt_min_seconds", &silent), None);
    assert_eq!(value(&s, "pingr_answered", &odd), Some(0.0));
    assert_eq!(value(&s, "pingr_probes_sent_total", &odd), Some(0.0));
    // Cumulative buckets never decrease and end at the count.
    let mut buckets: Vec<(f64, f64)> = s
        .iter()
        .filter(|((n, l), _)| {
            n == "pingr_rtt_seconds_bucket" && l.iter().any(|(k, v)| k == "target" && v == "::1")
        })
        .map(|((_, l), v)| {
            let le = &l.iter().find(|(k, _)| k == "le").unwrap().1;
            (le.parse::<f64>().unwrap_or(f64::INFINITY), *v)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(buckets.len(), 18);
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    assert_eq!(buckets.last().map(|b| b.1), Some(3.0));
}

// ---------------------------------------------------------------------------------------
// node_exporter

/// One HTTP/1.0 request over a plain TcpStream: (status code, body), or None if nothing
/// listens (yet).
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    let resp = text(&resp);
    let (head, body) = resp.split_once("\r\n\r\n")?;
    let code = head.split(' ').nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

/// `GET /metrics`: the body, or None if nothing listens (yet).
fn scrape(port: u16) -> Option<String> {
    let (code, body) = http(port, "GET", "/metrics", b"")?;
    assert_eq!(code, 200, "{body}");
    Some(body)
}

/// A query string value, percent-encoded.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A 127.0.0.1 port nobody listens on now.
fn free_port() -> u16 {
    let l = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

#[test]
fn node_exporter_serves_the_metrics_while_pingr_rewrites_them() {
    let t = "node_exporter_serves_the_metrics_while_pingr_rewrites_them";
    if !require_root(t)
        || !tool(t, "prometheus-node-exporter", "prometheus-node-exporter")
        || !tool(t, "setpriv", "util-linux")
    {
        return;
    }
    use std::os::unix::fs::{symlink, PermissionsExt};
    // The shipped layout: pingr, as an unprivileged user holding only CAP_NET_RAW (no new
    // privileges), replaces a file in its own directory; the textfile directory links to it.
    let dir = fresh_dir("node-exporter");
    let (own, textfile) = (dir.join("run"), dir.join("textfile"));
    std::fs::create_dir_all(&own).unwrap();
    std::fs::create_dir_all(&textfile).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let chown = Command::new("chown")
        .arg(format!("{}:{}", common::TEST_UID, common::TEST_GID))
        .arg(&own)
        .status();
    assert!(chown.is_ok_and(|s| s.success()));
    let file = own.join("pingr.prom");
    symlink(&file, textfile.join("pingr.prom")).unwrap();

    let port = free_port();
    let exporter = Command::new(common::which("prometheus-node-exporter").unwrap())
        .args([
            "--collector.disable-defaults",
            "--collector.textfile",
            &format!("--collector.textfile.directory={}", textfile.display()),
            &format!("--web.listen-address=127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node_exporter");
    let _exporter = Killed(exporter);
    wait_for("node_exporter to listen", 20, || scrape(port).is_some());

    let ns = Netns::new();
    let quiet = Netns::new_silent();
    let v = Veth::new(&ns, "10.213.0.1/24", &quiet, "10.213.0.2/24");
    let user = User::unprivileged()
        .with_caps(&["net_raw"], true)
        .with_no_new_privs();
    let mut cmd = Command::new(common::pingr_for_user());
    cmd.args([
        "-q",
        "-i",
        "0.1",
        "-W",
        "0.5",
        "--every",
        "1",
        "--format=prometheus",
    ])
    .arg("--output")
    .arg(&file)
    .args(["127.0.0.1", "::1", v.b_v4()]);
    let mut cmd = ns.exec_as(&user, &cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("start pingr");
    let pid = child.id();

    let lo = [
        ("target", "127.0.0.1"),
        ("address", "127.0.0.1"),
        ("family", "ipv4"),
    ];
    let silent = [("target", v.b_v4())];
    let sent = |s: &Series| value(s, "pingr_probes_sent_total", &lo);
    // Three scrapes while pingr runs, each after a new report: the counters grow.
    let mut scrapes: Vec<Series> = Vec::new();
    let mut errors = Vec::new();
    let start = Instant::now();
    while scrapes.len() < 3 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
        let Some(body) = scrape(port) else { continue };
        let s = parse_metrics(&body);
        if value(&s, "node_textfile_scrape_error", &[]) != Some(0.0) {
            // Before pingr's first report the link has nothing to point at yet.
            if !scrapes.is_empty() {
                errors.push(body);
            }
            continue;
        }
        let grew = match (scrapes.last().and_then(sent), sent(&s)) {
            (None, Some(_)) => true,
            (Some(a), Some(b)) => b > a,
            _ => false,
        };
        if grew {
            scrapes.push(s);
        }
    }
    signal(pid, "-INT");
    let out = common::wait_with_timeout(child, RUN_SECS, "pingr");
    common::assert_exit(&out, 1);
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    assert_eq!(
        scrapes.len(),
        3,
        "scrapes that saw a new report; errors: {errors:?}"
    );
    // Once there, the file is never missing or half-written, however often it is replaced.
    assert!(
        errors.is_empty(),
        "textfile scrape errors while pingr ran: {errors:?}"
    );
    for s in &scrapes {
        let sent = sent(s).unwrap();
        let replies = value(s, "pingr_replies_total", &lo).unwrap();
        // A report can be taken while a probe is on its way.
        assert!(replies <= sent && replies + 1.0 >= sent, "{sent} {replies}");
        assert_eq!(value(s, "pingr_rtt_seconds_count", &lo), Some(replies));
        assert_eq!(value(s, "pingr_answered", &lo), Some(1.0));
        assert_eq!(value(s, "pingr_replies_total", &silent), Some(0.0));
        assert_eq!(value(s, "pingr_answered", &silent), Some(0.0));
        assert!(value(s, "pingr_probes_sent_total", &silent).unwrap() >= 5.0);
    }
    // After the run: the final report stays, and node_exporter serves exactly what it says.
    let file_now = std::fs::read_to_string(&file).expect("pingr's file");
    let body = scrape(port).expect("scrape after the run");
    let served = pingr_series(&parse_metrics(&body));
    let written = parse_metrics(&file_now);
    assert_eq!(served, written, "served:\n{body}\nwritten:\n{file_now}");
    let last = sent(&written).unwrap();
    assert!(last >= sent(&scrapes[2]).unwrap());
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        meta.uid(),
        common::TEST_UID,
        "written by the unprivileged user"
    );
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(&own)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["pingr.prom"]);
    eprintln!("node_exporter scrape after the run (pingr series):\n{}", {
        body.lines()
            .filter(|l| l.contains("pingr_") && !l.contains("_bucket"))
            .collect::<Vec<_>>()
            .join("\n")
    });
}

// ---------------------------------------------------------------------------------------
// Alerting rules and the service unit

fn promtool_in(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new("promtool");
    c.args(args).current_dir(dir);
    run_with_timeout(&mut c, RUN_SECS)
}

#[test]
fn alert_rules_fire_when_they_should_and_not_otherwise() {
    let t = "alert_rules_fire_when_they_should_and_not_otherwise";
    if !tool(t, "promtool", "prometheus") {
        return;
    }
    let shipped = repo().join("contrib/prometheus");
    let o = promtool_in(&shipped, &["check", "rules", "pingr.rules.yml"]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(
        text(&o.stdout).contains("SUCCESS: 3 rules found"),
        "{}",
        describe(&o)
    );
    let o = promtool_in(&shipped, &["test", "rules", "pingr.rules.test.yml"]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(text(&o.stdout).contains("SUCCESS"), "{}", describe(&o));

    // The test file has teeth: each rule changed a little makes it fail.
    let rules = std::fs::read_to_string(shipped.join("pingr.rules.yml")).unwrap();
    let tests = std::fs::read_to_string(shipped.join("pingr.rules.test.yml")).unwrap();
    for (from, to) in [
        ("pingr_loss_ratio > 0.1", "pingr_loss_ratio >= 0.1"),
        ("pingr_loss_ratio > 0.1", "pingr_loss_ratio > 0.4"),
        ("for: 5m", "for: 3m"),
        (
            "pingr_answered == 0",
            "pingr_answered < 1 or pingr_answered > 0",
        ),
        ("for: 3m", "for: 1m"),
        ("> 180", "> 600"),
    ] {
        assert!(rules.contains(from), "{from}");
        let dir = fresh_dir(&format!("rules-{}", from.len() + to.len()));
        std::fs::write(dir.join("pingr.rules.yml"), rules.replacen(from, to, 1)).unwrap();
        std::fs::write(dir.join("pingr.rules.test.yml"), &tests).unwrap();
        let o = promtool_in(&dir, &["test", "rules", "pingr.rules.test.yml"]);
        assert!(
            !o.status.success(),
            "{from} -> {to} still passes: {}",
            describe(&o)
        );
    }
}

#[test]
fn systemd_accepts_the_unit_and_the_link() {
    let t = "systemd_accepts_the_unit_and_the_link";
    if !tool(t, "systemd-analyze", "systemd") || !tool(t, "systemd-tmpfiles", "systemd") {
        return;
    }
    let contrib = repo().join("contrib/systemd");
    let unit = std::fs::read_to_string(contrib.join("pingr-exporter.service")).unwrap();
    for line in [
        "DynamicUser=yes",
        "AmbientCapabilities=CAP_NET_RAW",
        "CapabilityBoundingSet=CAP_NET_RAW",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/run/pingr",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK",
        "SystemCallFilter=@system-service",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line} missing");
    }
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    for w in [
        "--every 60",
        "--format=prometheus",
        "--output /run/pingr/pingr.prom",
    ] {
        assert!(exec.contains(w), "{exec}");
    }
    // The ExecStart options are pingr's: the same command line parses (pingr --help would
    // exit 0 either way, so check with a bad count that only the count is refused).
    let args: Vec<&str> = exec
        .trim_start_matches("ExecStart=")
        .split(' ')
        .skip(1)
        .collect();
    let o = run_with_timeout(
        Command::new(pingr()).args(&args).args(["-c", "0"]),
        RUN_SECS,
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).starts_with("pingr: -c: "),
        "{}",
        describe(&o)
    );

    // verify needs ExecStart's binary to exist: point it at the one under test. Warnings
    // (unknown keys, bad values) do not change verify's status, so stderr must be empty too.
    let dir = fresh_dir("systemd");
    let local = unit.replace("/usr/local/bin/pingr", &pingr().to_string_lossy());
    let dropin = std::fs::read_to_string(contrib.join("no-capability.conf")).unwrap();
    for (name, body) in [
        ("pingr-exporter.service", local.clone()),
        ("pingr-exporter-nocap.service", format!("{local}\n{dropin}")),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        // man:pingr(8) is not installed here.
        let mut c = Command::new("systemd-analyze");
        c.args(["verify", "--man=no"]).arg(&path);
        let o = run_with_timeout(&mut c, RUN_SECS);
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{name}: {}",
            describe(&o)
        );
    }
    // verify does check: a misspelt value is reported.
    let bad = dir.join("pingr-bad.service");
    std::fs::write(
        &bad,
        local.replace("ProtectSystem=strict", "ProtectSystem=stric"),
    )
    .unwrap();
    let mut c = Command::new("systemd-analyze");
    c.args(["verify", "--man=no"]).arg(&bad);
    assert!(!run_with_timeout(&mut c, RUN_SECS).stderr.is_empty());

    let mut c = Command::new("systemd-analyze");
    c.args(["security", "--offline=yes", "--no-pager"])
        .arg(dir.join("pingr-exporter.service"));
    let o = run_with_timeout(&mut c, RUN_SECS);
    let out = text(&o.stdout);
    let level = out
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for pingr-exporter.service: "))
        .and_then(|(_, r)| r.split(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no exposure level: {}", describe(&o)));
    eprintln!("systemd-analyze security: exposure {level}");
    assert!(level <= 2.0, "exposure {level}:\n{out}");

    // The tmpfiles line makes the link node_exporter reads through.
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("var/lib/prometheus/node-exporter")).unwrap();
    let mut c = Command::new("systemd-tmpfiles");
    c.arg("--create")
        .arg(format!("--root={}", root.display()))
        .arg(contrib.join("pingr-exporter.tmpfiles"));
    let o = run_with_timeout(&mut c, RUN_SECS);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}",
        describe(&o)
    );
    let link = std::fs::read_link(root.join("var/lib/prometheus/node-exporter/pingr.prom"));
    assert_eq!(link.ok(), Some(PathBuf::from("/run/pingr/pingr.prom")));
}

/// The unit's two privilege set-ups, reproduced with setpriv: the shipped unit (ambient and
/// bounding CAP_NET_RAW, no new privileges) around the `cap_net_raw+ep` binary `make install`
/// makes gets raw sockets; the no-capability drop-in (ambient and bounding sets empty) around
/// a `cap_net_raw+p` binary (`make install FILECAPS=cap_net_raw+p`) holds no capability at all
/// and works through ping_group_range's datagram sockets; and, as the drop-in warns, the
/// `+ep` binary cannot be executed with an empty bounding set.
#[test]
fn the_unit_and_its_no_capability_variant_work_as_documented() {
    let t = "the_unit_and_its_no_capability_variant_work_as_documented";
    if !require_root(t) || !tool(t, "setpriv", "util-linux") {
        return;
    }
    let (Some(ep), Some(p)) = (
        common::copy_with_file_caps(&pingr(), "cap_net_raw+ep"),
        common::copy_with_file_caps(&pingr(), "cap_net_raw+p"),
    ) else {
        skip(
            t,
            "setcap cannot give a copy of pingr a file capability here",
        );
        return;
    };
    let dropin =
        std::fs::read_to_string(repo().join("contrib/systemd/no-capability.conf")).unwrap();
    let settings: Vec<&str> = dropin
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        settings,
        [
            "[Service]",
            "AmbientCapabilities=",
            "CapabilityBoundingSet="
        ]
    );
    let ns = Netns::new();
    ns.allow_ping_group(common::TEST_GID, common::TEST_GID);
    let run = |bin: &Path, user: &User| {
        let mut c = Command::new(bin);
        c.args([
            "-v",
            "-c",
            "2",
            "-i",
            "0.2",
            "--format=prometheus",
            "127.0.0.1",
            "::1",
        ]);
        run_with_timeout(&mut ns.exec_as(user, &c), RUN_SECS)
    };
    let unit = User::unprivileged()
        .with_caps(&["net_raw"], true)
        .with_no_new_privs();
    let nocap = User::unprivileged().with_no_new_privs();
    for (bin, user, kind, start) in [
        (&ep, &unit, "IPv4: raw ICMP socket", "eff=0x2000 prm=0x2000"),
        (
            &p,
            &nocap,
            "IPv4: ICMP datagram socket",
            "eff=0x0 prm=0x0 inh=0x0 amb=0x0",
        ),
    ] {
        let o = run(bin, user);
        assert_eq!(o.status.code(), Some(0), "{kind}: {}", describe(&o));
        let err = text(&o.stderr);
        assert!(err.contains(kind), "{}", describe(&o));
        assert!(
            err.contains(&format!("capabilities at start: {start}")),
            "{}",
            describe(&o)
        );
        assert!(
            err.contains("after the drop: eff=0x0 prm=0x0 inh=0x0 amb=0x0"),
            "{}",
            describe(&o)
        );
        let s = parse_metrics(&text(&o.stdout));
        for target in ["127.0.0.1", "::1"] {
            assert_eq!(
                value(&s, "pingr_replies_total", &[("target", target)]),
                Some(2.0)
            );
        }
    }
    let o = run(&ep, &nocap);
    assert!(
        !o.status.success() && o.stdout.is_empty(),
        "{}",
        describe(&o)
    );
}

// ---------------------------------------------------------------------------------------
// --output failures, InfluxDB line protocol

#[test]
fn a_failing_output_is_one_line_each_time_and_exit_4() {
    let t = "a_failing_output_is_one_line_each_time_and_exit_4";
    let Some(ns) = common::root_netns(t) else {
        return;
    };
    let missing = fresh_dir("missing").join("no/such/dir/out.tsv");
    let mut cmd = Command::new(pingr());
    cmd.args(["-c", "4", "-i", "0.25", "--every", "0.3", "--output"])
        .arg(&missing)
        .arg("127.0.0.1");
    let o = run_with_timeout(&mut ns.wrap(&cmd), RUN_SECS);
    common::assert_exit(&o, 4);
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    // Interim reports (about three) and the final summary: one line each; the run went on
    // to its end (-c 4: the per-reply lines are all there).
    assert!(lines.len() >= 3, "{}", describe(&o));
    for l in &lines {
        assert!(
            l.starts_with("pingr: --output ") && l.ends_with(": No such file or directory"),
            "{l}"
        );
    }
    assert_eq!(
        text(&o.stdout).matches(" bytes from 127.0.0.1: ").count(),
        4,
        "{}",
        describe(&o)
    );

    // Into a directory that exists: the final summary replaces the last report.
    let dir = fresh_dir("output-ok");
    let file = dir.join("out.tsv");
    let mut cmd = Command::new(pingr());
    cmd.args([
        "-c",
        "4",
        "-i",
        "0.25",
        "--every",
        "0.3",
        "--format=tsv",
        "--output",
    ])
    .arg(&file)
    .arg("127.0.0.1");
    let o = run_with_timeout(&mut ns.wrap(&cmd), RUN_SECS);
    common::assert_exit(&o, 0);
    let got = std::fs::read_to_string(&file).unwrap();
    assert!(got.starts_with("target\taddress\tsent\trecv\t"), "{got}");
    assert!(got.contains("\n127.0.0.1\t127.0.0.1\t4\t4\t0.0\t"), "{got}");
}

#[test]
fn influx_lines_one_per_target_with_a_nanosecond_stamp() {
    let t = "influx_lines_one_per_target_with_a_nanosecond_stamp";
    let Some(ns) = common::root_netns(t) else {
        return;
    };
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let o = common::pingr_in(
        &ns,
        &common::words("-c 6 -i 0.2 --every 0.5 --format=influx 127.0.0.1 ::1"),
        RUN_SECS,
    );
    common::assert_exit(&o, 0);
    let out = text(&o.stdout);
    let mut sent: HashMap<&str, u64> = HashMap::new();
    let mut stamps = Vec::new();
    for l in out.lines() {
        let parts: Vec<&str> = l.split(' ').collect();
        assert_eq!(parts.len(), 3, "{l}");
        assert!(parts[0].starts_with("pingr,target="), "{l}");
        let ts: u128 = parts[2].parse().unwrap();
        assert!(ts >= before && ts < before + 60_000_000_000, "{l}");
        stamps.push(ts);
        let field = |k: &str| {
            parts[1]
                .split(',')
                .find_map(|f| f.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.strip_suffix('i'))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("{k} in {l}"))
        };
        let target = parts[0].split(',').nth(1).unwrap();
        *sent.entry(target).or_default() += field("packets_transmitted");
    }
    // Interim lines (0.5 s apart) and the last one: their counts add up to -c.
    assert_eq!(sent.get("target=127.0.0.1"), Some(&6), "{out}");
    assert_eq!(sent.get("target=::1"), Some(&6), "{out}");
    assert!(out.lines().count() >= 4, "{out}");
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn influxdb_stores_the_lines_as_written() {
    let t = "influxdb_stores_the_lines_as_written";
    if !require_root(t) || !tool(t, "influxd", "influxdb") {
        return;
    }
    let dir = fresh_dir("influxdb");
    let (port, rpc) = (free_port(), free_port());
    let conf = dir.join("influxdb.conf");
    std::fs::write(
        &conf,
        format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n[meta]\n  dir = \"{d}/meta\"\n[data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n[http]\n  bind-address = \"127.0.0.1:{port}\"\n  log-enabled = false\n[monitor]\n  store-enabled = false\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let server = Command::new(common::which("influxd").unwrap())
        .args(["run", "-config"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start influxd");
    let _server = Killed(server);
    wait_for("influxd to listen", 30, || {
        http(port, "GET", "/ping", b"").is_some_and(|r| r.0 == 204)
    });
    let q = |db: &str, query: &str| {
        let path = format!("/query?epoch=ns&db={db}&q={}", encode(query));
        let (code, body) = http(port, "POST", &path, b"").expect("influxd answers");
        assert_eq!(code, 200, "{query}: {body}");
        body
    };
    q("", "CREATE DATABASE pingr");

    let ns = Netns::new();
    let list = dir.join("targets");
    // A name with the characters every version of the line protocol escapes: space, comma,
    // equals (it fails to resolve inside the namespace, and is written with result_code 1).
    // A backslash is written as `\\` (InfluxDB 2 and Telegraf read one back; InfluxDB 1.x
    // keeps both), so it is left out here.
    std::fs::write(&list, "127.0.0.1\n::1\nodd name,x=y.invalid\n").unwrap();
    let mut cmd = Command::new(pingr());
    cmd.args([
        "-q",
        "-c",
        "5",
        "-i",
        "0.2",
        "--every",
        "0.5",
        "--format=influx",
        "-f",
    ])
    .arg(&list);
    let o = run_with_timeout(&mut ns.wrap(&cmd), RUN_SECS);
    common::assert_exit(&o, 2);
    let lines = text(&o.stdout);
    let (code, body) = http(port, "POST", "/write?db=pingr", lines.as_bytes()).unwrap();
    assert_eq!(code, 204, "influxd refused the lines: {body}\n{lines}");

    let tags = q("pingr", "SHOW TAG VALUES FROM pingr WITH KEY = \"target\"");
    for want in ["\"127.0.0.1\"", "\"::1\"", "\"odd name,x=y.invalid\""] {
        assert!(tags.contains(want), "{want} not in {tags}");
    }
    // Every interim line and the last: their counts add up to -c, stored as integers.
    let sums = q(
        "pingr",
        "SELECT sum(packets_transmitted), sum(packets_received) FROM pingr WHERE result_code = 0 GROUP BY target",
    );
    for target in ["127.0.0.1", "::1"] {
        let want = format!("\"tags\":{{\"target\":\"{target}\"}},\"columns\":[\"time\",\"sum\",\"sum_1\"],\"values\":[[0,5,5]]");
        assert!(sums.contains(&want), "{want} not in {sums}");
    }
    let rows = q("pingr", "SELECT count(result_code) FROM pingr");
    let stored: usize = rows
        .split("\"values\":[[0,")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{rows}"));
    assert_eq!(stored, lines.lines().count(), "{rows}\n{lines}");
    let rtt = q(
        "pingr",
        "SELECT max(maximum_response_ms) FROM pingr WHERE target = '127.0.0.1'",
    );
    assert!(rtt.contains("\"columns\":[\"time\",\"max\"]"), "{rtt}");
}

/// Counts of the interval rows of a TSV stream (`start` headers) summed per target, and
/// the rows of its final summary (`target` header): sent, recv, dup, late, err.
type Tally = HashMap<String, [u64; 5]>;

fn tally_tsv(out: &str) -> (Tally, Tally, usize) {
    let (mut sums, mut finals, mut reports) = (Tally::new(), Tally::new(), 0);
    let mut in_final = false;
    for line in out.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        match c[0] {
            "start" => reports += 1,
            "target" => in_final = true,
            _ => {
                let off = if in_final { 0 } else { 2 };
                assert_eq!(c.len(), 14 + off, "{line}");
                let n: [u64; 5] = [2, 3, 11, 12, 13].map(|i| c[i + off].parse().unwrap());
                if in_final {
                    finals.insert(c[0].to_string(), n);
                } else {
                    let s = sums.entry(c[2].to_string()).or_default();
                    for (a, b) in s.iter_mut().zip(n) {
                        *a += b;
                    }
                }
            }
        }
    }
    (sums, finals, reports)
}

#[test]
fn count_runs_with_more_hosts_than_threads_report_every_probe_once() {
    let t = "count_runs_with_more_hosts_than_threads_report_every_probe_once";
    let Some(ns) = common::root_netns(t) else {
        return;
    };
    let o = common::pingr_in(
        &ns,
        &common::words("-q -c 4 -i 0.2 --every 0.3 --max-threads 2 --format=tsv -g 127.0.0.0/29"),
        RUN_SECS,
    );
    common::assert_exit(&o, 0);
    let (sums, finals, reports) = tally_tsv(&text(&o.stdout));
    assert_eq!(finals.len(), 6, "{}", describe(&o));
    // At least one interim report and the last, partial one (how many more depends on how
    // the engine schedules six hosts on two threads).
    assert!(reports >= 2, "{}", describe(&o));
    for (target, f) in &finals {
        assert_eq!(f, &[4, 4, 0, 0, 0], "{target}");
        assert_eq!(
            sums.get(target),
            Some(f),
            "{target}: reports vs the final summary"
        );
    }
}

#[test]
fn every_total_reports_the_run_since_its_start() {
    let t = "every_total_reports_the_run_since_its_start";
    let Some(ns) = common::root_netns(t) else {
        return;
    };
    let o = common::pingr_in(
        &ns,
        &common::words("-q -c 5 -i 0.25 --every 0.3,total --format=tsv 127.0.0.1"),
        RUN_SECS,
    );
    common::assert_exit(&o, 0);
    let out = text(&o.stdout);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c.len() == 16 && c[0] != "start")
        .collect();
    assert!(rows.len() >= 3, "{out}");
    // Every report starts at the start; the counts only grow; the last equals the summary.
    assert!(rows.iter().all(|r| r[0] == rows[0][0]), "{out}");
    let sent: Vec<u64> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
    assert!(sent.windows(2).all(|w| w[0] <= w[1]), "{out}");
    assert_eq!(sent.last(), Some(&5), "{out}");
    let summary = out.lines().last().unwrap();
    assert_eq!(
        &rows.last().unwrap()[2..],
        &summary.split('\t').collect::<Vec<_>>()[..],
        "{out}"
    );
}

#[test]
fn sigquit_keeps_its_status_line_beside_interim_reports() {
    let t = "sigquit_keeps_its_status_line_beside_interim_reports";
    let Some(ns) = common::root_netns(t) else {
        return;
    };
    let cmd = common::pingr_cmd(&common::words(
        "-q -i 0.2 --every 0.5 --format=tsv 127.0.0.1 ::1",
    ));
    let mut cmd = ns.wrap(&cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("start pingr");
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(1300));
    signal(pid, "-QUIT");
    std::thread::sleep(Duration::from_millis(600));
    signal(pid, "-INT");
    let o = common::wait_with_timeout(child, RUN_SECS, "pingr");
    common::assert_exit(&o, 0);
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{}", describe(&o));
    for (l, target) in lines.iter().zip(["127.0.0.1", "::1"]) {
        assert!(l.starts_with(&format!("{target}: ")), "{l}");
        assert!(l.contains(" packets, 0% loss, min/avg/max/mdev = "), "{l}");
    }
    let (sums, finals, reports) = tally_tsv(&text(&o.stdout));
    assert!(reports >= 3, "{}", describe(&o));
    assert_eq!(finals.len(), 2);
    for (target, f) in &finals {
        assert_eq!(sums.get(target), Some(f), "{target}");
    }
}

// ---------------------------------------------------------------------------------------
// The long run

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    common::status_field(&s, "VmRSS")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_minute_over_100_targets_keeps_memory_flat_and_reports_add_up() {
    let t = "a_minute_over_100_targets_keeps_memory_flat_and_reports_add_up";
    if !require_root(t) {
        return;
    }
    const SECS: u64 = 60;
    let ns = Netns::new();
    let list = fresh_dir("long-run").join("targets");
    let names: String = (1..=100).map(|i| format!("127.0.1.{i}\n")).collect();
    std::fs::write(&list, names).unwrap();
    let mut cmd = Command::new(pingr());
    cmd.args(["-q", "-i", "0.2", "--every", "1", "--format=tsv", "-f"])
        .arg(&list);
    let mut cmd = ns.wrap(&cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start pingr");
    let pid = child.id(); // `ip netns exec` execs pingr: the same process
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::BufReader::new(stdout).read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let mut readings = Vec::new();
    while start.elapsed() < Duration::from_secs(SECS) {
        std::thread::sleep(Duration::from_secs(5));
        readings.push((start.elapsed().as_secs(), rss_kib(pid)));
    }
    signal(pid, "-INT");
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(SECS + 30),
            "pingr did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(err.is_empty(), "{err}");

    // Interval rows (start, end, the summary's columns) and then the final summary.
    let (sums, final_rows, reports) = tally_tsv(&out);
    // Reports are back to back: each starts where the one before ended.
    let bounds: Vec<(&str, &str)> = out
        .lines()
        .filter(|l| l.split('\t').nth(2) == Some("127.0.1.1"))
        .filter_map(|l| {
            let mut c = l.split('\t');
            Some((c.next()?, c.next()?))
        })
        .collect();
    assert_eq!(bounds.len(), reports);
    assert!(bounds.windows(2).all(|w| w[0].1 == w[1].0), "{bounds:?}");
    assert_eq!(final_rows.len(), 100);
    assert!(
        reports >= SECS as usize - 5,
        "{reports} reports in {SECS} s"
    );
    for (target, f) in &final_rows {
        assert_eq!(
            sums.get(target),
            Some(f),
            "{target}: reports vs the final summary"
        );
        assert!(f[0] >= 4 * SECS, "{target}: {f:?}");
        assert!(f[1] + 1 >= f[0], "{target}: {f:?}");
    }
    // Memory: the reading at 10 s against every later one.
    let early = readings.iter().find(|r| r.0 >= 10).map(|r| r.1).unwrap();
    let late = readings.iter().map(|r| r.1).max().unwrap();
    eprintln!("RSS over the run (s, KiB): {readings:?}; {reports} reports");
    assert!(early > 0);
    assert!(
        late <= early + 512,
        "RSS grew from {early} KiB to {late} KiB: {readings:?}"
    );
}
