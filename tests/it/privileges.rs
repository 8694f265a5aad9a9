//! The privilege matrix (man/pingr.8, PRIVILEGES): for each way pingr can be given (or
//! denied) the right to send ICMP echo requests, check that pinging works, or fails with
//! the documented one-line explanation and exit status 4, and, where it works, that
//! while pingr runs /proc/PID/status shows every capability set empty, no_new_privs set
//! and (setuid case) the real user's ids, on every thread.
//!
//! The run order (issue 15): the two inputs that can stall, a DNS lookup (resolver in the
//! test namespace, dropped by nftables, through a private mount namespace's resolv.conf)
//! and a `-f` FIFO held open without writing, are held mid-stall while the status of every
//! thread is read, for +ep, +p, ambient and setuid root; a setuid-root copy reads `-f` as
//! the real user; a family no target uses is closed; IPv6 disabled in the namespace costs
//! the IPv6 targets one line each, not the run.
//!
//! Every case runs inside a network namespace of its own and pings only its loopback
//! addresses (127.0.0.1, ::1). Each case prints a `STATUS ...` line (stderr; run with
//! `--nocapture` to see them) with what /proc/PID/status showed.

use crate::common;

use common::{Netns, ProcCaps, User, CAP_NET_RAW, TEST_GID, TEST_UID};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The arguments of every run that should work: long enough (>= 0.6 s after the drop)
/// to read /proc/PID/status while pingr sends.
const RUN_ARGS: [&str; 7] = ["-v", "-c", "3", "-i", "0.3", "127.0.0.1", "::1"];

/// What the drop line of `-v` must say.
const DROPPED: &str = "after the drop: eff=0x0 prm=0x0 inh=0x0 amb=0x0, no_new_privs=1";

/// The /proc/PID/status texts of a running pingr: (tid, status) for every thread.
struct Sample {
    pid: u32,
    spawned: u32,
    tasks: Vec<(u32, String)>,
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    sample: Option<Sample>,
}

impl Run {
    fn text(&self) -> String {
        format!(
            "status: {}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Removes a file or directory made for one test when the test ends (pass or fail):
/// no setuid-root or capability-carrying copy outlives its test.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn needs(test: &str) -> bool {
    common::require_root(test) && common::require_tool(test, "setpriv")
}

/// `pingr ARGS` as a command (to be wrapped by a [`User`] and a [`Netns`]).
fn pingr_cmd(bin: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args(args);
    c
}

/// `sh -c 'exec "$0" "$@"' BIN ARGS`: pingr executed by an already unprivileged
/// process (same pid), as a user's shell would. setpriv, started by root, still holds
/// root's capabilities (CAP_DAC_OVERRIDE...) when it executes its program, so
/// `setpriv ... -- BIN` would run a BIN that uid 4242 cannot even reach (say, in a
/// mode-0700 directory); through the shell the kernel checks 4242's own access.
fn user_exec(bin: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", "exec \"$0\" \"$@\""]).arg(bin).args(args);
    c
}

/// Run `cmd` (already wrapped: `ns.wrap(&user.wrap(..))`), whose final program is `bin`.
/// With `sample`, wait until pingr's `-v` reports the drop, wait 300 ms more (its
/// threads are running by then), and read /proc/PID/status of the pingr process and of
/// each of its threads while it still runs.
fn run(ns: &Netns, cmd: Command, bin: &Path, sample: bool) -> Run {
    run_sampled(cmd, |rx, spawned| {
        if !(sample && wait_for_line(rx, "after the drop:")) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(300));
        find_pingr(spawned, ns, bin).map(|pid| Sample {
            pid,
            spawned,
            tasks: read_tasks(pid),
        })
    })
}

/// Run `cmd` as [`run`] does, with `take` deciding when (and whether) to read the status
/// of pingr's threads: it gets pingr's stderr lines as they come and the spawned pid.
fn run_sampled(
    mut cmd: Command,
    take: impl FnOnce(&mpsc::Receiver<String>, u32) -> Option<Sample>,
) -> Run {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let what = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let spawned = child.id();
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let taken = take(&rx, spawned);
    // Drains stdout; stderr is ours (already taken), so its part comes back empty.
    let out = common::wait_with_timeout(child, 20, &what);
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: reader.join().unwrap_or_default(),
        sample: taken,
    }
}

/// [`run`] of `bin ARGS` as `user` inside `ns` (exec'd by the user's shell: [`user_exec`]).
fn run_as(ns: &Netns, user: &User, bin: &Path, args: &[&str], sample: bool) -> Run {
    run(ns, ns.wrap(&user.wrap(&user_exec(bin, args))), bin, sample)
}

/// True once a stderr line containing `needle` arrives (false at EOF or after 10 s).
fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return true,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
}

/// The pid running `bin`: normally the spawned pid itself (`ip netns exec` execs
/// setpriv, which execs pingr), otherwise one of the namespace's processes.
fn find_pingr(spawned: u32, ns: &Netns, bin: &Path) -> Option<u32> {
    let want = std::fs::canonicalize(bin).ok()?;
    std::iter::once(spawned)
        .chain(ns.pids())
        .find(|p| std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e == want))
}

/// (tid, /proc/PID/task/TID/status) for every thread, main thread first.
fn read_tasks(pid: u32) -> Vec<(u32, String)> {
    let dir = format!("/proc/{pid}/task");
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {dir} (pingr gone?): {e}"));
    let mut tids: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_by_key(|&t| (t != pid, t));
    tids.into_iter()
        .filter_map(|t| {
            let s = std::fs::read_to_string(format!("{dir}/{t}/status")).ok()?;
            Some((t, s))
        })
        .collect()
}

/// The name the kernel gives a process executing `bin` (at most 15 bytes).
fn comm_of(bin: &Path) -> String {
    let name = bin.file_name().expect("file name").to_string_lossy();
    name.chars().take(15).collect()
}

fn field<'a>(status: &'a str, key: &str) -> &'a str {
    common::status_field(status, key).unwrap_or("?")
}

/// Print what /proc/PID/status showed, then assert that every thread of pingr holds no
/// capability (CapInh/CapPrm/CapEff/CapAmb = 0), has NoNewPrivs 1 and runs as `uid:gid`.
fn assert_dropped(case: &str, r: &Run, bin: &Path, uid: u32, gid: u32) {
    let Some(s) = &r.sample else {
        panic!(
            "{case}: could not read the status of a running pingr (no `after the drop` line, or \
             no process executing {}):\n{}",
            bin.display(),
            r.text()
        );
    };
    let (_, main) = s
        .tasks
        .first()
        .unwrap_or_else(|| panic!("{case}: no threads listed for pid {}", s.pid));
    eprintln!(
        "STATUS {case}: pid {} (spawned {}) Name={} threads={} Uid={} Gid={} Groups={} \
         CapInh={} CapPrm={} CapEff={} CapBnd={} CapAmb={} NoNewPrivs={}",
        s.pid,
        s.spawned,
        field(main, "Name"),
        s.tasks.len(),
        field(main, "Uid").replace('\t', " "),
        field(main, "Gid").replace('\t', " "),
        field(main, "Groups"),
        field(main, "CapInh"),
        field(main, "CapPrm"),
        field(main, "CapEff"),
        field(main, "CapBnd"),
        field(main, "CapAmb"),
        field(main, "NoNewPrivs"),
    );
    assert_eq!(
        field(main, "Name"),
        comm_of(bin),
        "{case}: pid {} is not pingr:\n{main}",
        s.pid
    );
    let ids = |v: u32| format!("{v}\t{v}\t{v}\t{v}");
    for (tid, st) in &s.tasks {
        let c: ProcCaps = common::parse_status_caps(st);
        eprintln!(
            "STATUS {case}:   thread {tid} ({}): CapInh={:#x} CapPrm={:#x} CapEff={:#x} \
             CapAmb={:#x} NoNewPrivs={}",
            field(st, "Name"),
            c.inh,
            c.prm,
            c.eff,
            c.amb,
            u8::from(c.no_new_privs)
        );
        assert_eq!(
            (c.inh, c.prm, c.eff, c.amb),
            (0, 0, 0, 0),
            "{case}: thread {tid} still holds capabilities while running:\n{st}"
        );
        assert!(
            c.no_new_privs,
            "{case}: thread {tid} runs without no_new_privs:\n{st}"
        );
        assert_eq!(
            common::status_field(st, "Uid"),
            Some(ids(uid).as_str()),
            "{case}: thread {tid} uids:\n{st}"
        );
        assert_eq!(
            common::status_field(st, "Gid"),
            Some(ids(gid).as_str()),
            "{case}: thread {tid} gids:\n{st}"
        );
    }
}

/// Exit 0, a reply line from each target, and the drop line of `-v`.
fn assert_pinged(case: &str, r: &Run) {
    assert_exit(case, r, 0, "not every target answered");
    assert_replied(case, r);
    assert!(
        r.stderr.contains(DROPPED),
        "{case}: no `{DROPPED}` line:\n{}",
        r.text()
    );
}

/// A reply line from each of 127.0.0.1 and ::1.
fn assert_replied(case: &str, r: &Run) {
    for target in ["127.0.0.1", "::1"] {
        assert!(
            r.stdout
                .contains(&format!("bytes from {target}: icmp_seq=")),
            "{case}: no reply line from {target}:\n{}",
            r.text()
        );
    }
}

/// Exit status `code`, or a failure saying `why` with the run's output.
fn assert_exit(case: &str, r: &Run, code: i32, why: &str) {
    assert_eq!(r.status.code(), Some(code), "{case}: {why}:\n{}", r.text());
}

/// `-v` says which kind of socket each family got.
fn assert_socket_kind(case: &str, r: &Run, raw: bool) {
    for fam in ["IPv4", "IPv6"] {
        let want = if raw {
            format!("pingr: {fam}: raw ICMP socket")
        } else {
            format!("pingr: {fam}: ICMP datagram socket")
        };
        assert!(
            r.stderr.lines().any(|l| l.starts_with(&want)),
            "{case}: want `{want}` in:\n{}",
            r.text()
        );
    }
}

/// The capability sets `-v` reports at start: (eff, prm, inh, amb).
fn caps_at_start(case: &str, r: &Run) -> (u64, u64, u64, u64) {
    let line = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("pingr: capabilities at start: "))
        .unwrap_or_else(|| panic!("{case}: no `capabilities at start` line:\n{}", r.text()));
    let sets = line.split(';').next().unwrap_or_default();
    let get = |k: &str| {
        sets.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix("=0x"))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .unwrap_or_else(|| panic!("{case}: no {k}= in `{line}`"))
    };
    (get("eff"), get("prm"), get("inh"), get("amb"))
}

/// The capability sets `-v` reports at start (eff, prm, inh, amb), each compared with
/// `want` where it says `Some`.
fn assert_at_start(case: &str, r: &Run, want: [Option<u64>; 4]) {
    let (eff, prm, inh, amb) = caps_at_start(case, r);
    let sets = [("eff", eff), ("prm", prm), ("inh", inh), ("amb", amb)];
    for ((name, got), want) in sets.into_iter().zip(want) {
        if let Some(want) = want {
            assert_eq!(got, want, "{case}: at start, {name}:\n{}", r.text());
        }
    }
}

/// A run as uid/gid 4242 that worked: [`assert_pinged`], the socket kind, the sets at
/// start ([`assert_at_start`]) and every capability dropped ([`assert_dropped`]).
fn assert_works(case: &str, r: &Run, bin: &Path, raw: bool, at_start: [Option<u64>; 4]) {
    assert_pinged(case, r);
    assert_socket_kind(case, r, raw);
    assert_at_start(case, r, at_start);
    assert_dropped(case, r, bin, TEST_UID, TEST_GID);
}

const R: Option<u64> = Some(CAP_NET_RAW);
const NONE: Option<u64> = Some(0);
const ANY: Option<u64> = None;

/// Exit 4, nothing on stdout, and exactly one stderr line, starting with
/// `pingr: cannot open an {fam} ICMP socket:` and holding each of `parts`; returns that line.
fn assert_refused(case: &str, r: &Run, fam: &str, parts: &[&str]) -> String {
    assert_exit(case, r, 4, "want exit 4");
    assert_eq!(
        r.stdout,
        "",
        "{case}: stdout should be empty:\n{}",
        r.text()
    );
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{case}: want one stderr line:\n{}",
        r.text()
    );
    let want = format!("pingr: cannot open an {fam} ICMP socket: ");
    assert!(
        lines[0].starts_with(&want),
        "{case}: want a line starting `{want}`:\n{}",
        r.text()
    );
    for p in parts {
        assert!(
            lines[0].contains(p),
            "{case}: `{p}` missing from:\n{}",
            lines[0]
        );
    }
    lines[0].to_string()
}

/// A copy of pingr with file capabilities `caps`, removed when the guard drops.
fn file_caps_copy(test: &str, caps: &str) -> Option<(Cleanup, PathBuf)> {
    if !common::require_tool(test, "setcap") {
        return None;
    }
    match common::copy_with_file_caps(&common::pingr(), caps) {
        Some(p) => Some((Cleanup(p.clone()), p)),
        None => {
            common::skip(test, &format!("setcap {caps} failed (no xattr support?)"));
            None
        }
    }
}

/// [`needs`], the copy of pingr that `copy` makes ([`file_caps_copy`], [`setuid_copy`])
/// and a namespace to run it in; None after a SKIP.
fn prepared<G>(
    test: &str,
    copy: impl FnOnce() -> Option<(G, PathBuf)>,
) -> Option<(G, PathBuf, Netns)> {
    if !needs(test) {
        return None;
    }
    let (guard, bin) = copy()?;
    Some((guard, bin, Netns::new()))
}

/// For a case run by root: a namespace and pingr; None after a SKIP.
fn as_root(case: &str) -> Option<(Netns, PathBuf)> {
    common::require_root(case).then(|| (Netns::new(), common::pingr_for_user()))
}

#[test]
fn root_gets_raw_sockets_and_drops_every_capability() {
    let case = "root";
    let Some((ns, bin)) = as_root(case) else {
        return;
    };
    let r = run(&ns, ns.wrap(&pingr_cmd(&bin, &RUN_ARGS)), &bin, true);
    assert_pinged(case, &r);
    assert_socket_kind(case, &r, true);
    let (eff, prm, _, _) = caps_at_start(case, &r);
    assert!(
        eff & CAP_NET_RAW != 0 && prm & CAP_NET_RAW != 0,
        "{case}: root should start with CAP_NET_RAW:\n{}",
        r.text()
    );
    // Root stays uid 0 (nothing setuid to leave) but holds no capability at all.
    assert_dropped(case, &r, &bin, 0, 0);
}

/// pingr (with file capabilities `file_caps`, or a plain copy) run by `user` in a namespace
/// of its own (`ping_group`: whose ping_group_range admits gid 4242): [`assert_works`].
fn works_case(
    case: &str,
    file_caps: Option<&str>,
    user: User,
    ping_group: bool,
    raw: bool,
    at_start: [Option<u64>; 4],
) {
    let copy = || match file_caps {
        Some(caps) => file_caps_copy(case, caps).map(|(g, bin)| (Some(g), bin)),
        None => Some((None, common::pingr_for_user())),
    };
    let Some((_guard, bin, ns)) = prepared(case, copy) else {
        return;
    };
    if ping_group {
        ns.allow_ping_group(TEST_GID, TEST_GID);
    }
    let r = run_as(&ns, &user, &bin, &RUN_ARGS, true);
    assert_works(case, &r, &bin, raw, at_start);
}

/// Nothing effective for uid 4242; net_raw kept in the bounding (and inheritable) set.
fn bounding_net_raw() -> User {
    User::unprivileged().with_caps(&["net_raw"], false)
}

#[test]
fn file_capability_ep_gives_raw_sockets_then_drops() {
    let (case, user) = ("file cap cap_net_raw+ep", bounding_net_raw());
    works_case(
        case,
        Some("cap_net_raw+ep"),
        user,
        false,
        true,
        [R, R, ANY, NONE],
    );
}

/// Permitted but not effective at start: pingr raises it around socket() itself.
#[test]
fn file_capability_p_gives_raw_sockets_then_drops() {
    let (case, user) = ("file cap cap_net_raw+p", bounding_net_raw());
    works_case(
        case,
        Some("cap_net_raw+p"),
        user,
        false,
        true,
        [NONE, R, ANY, NONE],
    );
}

/// What `docker run --cap-drop=all --cap-add=net_raw` gives a non-root user: a plain
/// binary, CAP_NET_RAW ambient (so effective after exec), bounding set = {net_raw}.
#[test]
fn ambient_net_raw_only_like_a_container() {
    let case = "ambient net_raw, bounding set {net_raw}";
    let user = User::unprivileged().with_caps(&["net_raw"], true);
    works_case(case, None, user, false, true, [R, R, R, R]);
}

#[test]
fn no_capability_group_in_ping_group_range_uses_datagram_sockets() {
    let case = "no capability, ping_group_range admits 4242";
    let user = User::unprivileged();
    works_case(case, None, user, true, false, [NONE, NONE, NONE, NONE]);
}

#[test]
fn no_capability_group_outside_range_exits_4_with_one_line() {
    let case = "no capability, ping_group_range excludes 4242";
    if !needs(case) {
        return;
    }
    let ns = Netns::new();
    let bin = common::pingr_for_user();
    let user = User::unprivileged();
    let setcap_fix = format!("setcap cap_net_raw+ep {}", bin.display());
    let go = |args: &[&str]| run_as(&ns, &user, &bin, args, false);

    // The namespace default, `1 0`: no group at all.
    let r = go(&["-c", "1", "127.0.0.1", "::1"]);
    let line = assert_refused(
        case,
        &r,
        "IPv4",
        &[
            "no CAP_NET_RAW",
            "group 4242",
            "ping_group_range (1 0)",
            "sudo make install",
            &setcap_fix,
            "sysctl -w net.ipv4.ping_group_range='0 4242'",
            "--cap-add=net_raw",
        ],
    );
    eprintln!("STATUS {case}: exit {:?}, stderr: {line}", r.status.code());

    // A range that admits others but not 4242, and an IPv6-only run.
    ns.allow_ping_group(0, TEST_GID - 1);
    let r = go(&["-c", "1", "127.0.0.1"]);
    assert_refused(
        case,
        &r,
        "IPv4",
        &["group 4242", "ping_group_range (0 4241)", &setcap_fix],
    );
    let r = go(&["-c", "1", "::1"]);
    assert_refused(
        case,
        &r,
        "IPv6",
        &["group 4242", "ping_group_range", "setcap"],
    );
}

/// cap_net_raw+p where the bounding set lacks CAP_NET_RAW: pingr still starts; with
/// the group outside ping_group_range it explains (exit 4), with it inside it falls
/// back to datagram sockets.
#[test]
fn p_binary_without_net_raw_in_bounding_set_falls_back_to_datagram() {
    let case = "+p, bounding set without net_raw";
    let Some((_guard, bin, ns)) = prepared(case, || file_caps_copy(case, "cap_net_raw+p")) else {
        return;
    };
    let user = User::unprivileged(); // bounding set empty
    let r = run_as(&ns, &user, &bin, &["-c", "1", "127.0.0.1"], false);
    let parts = ["bounding set", "group 4242", "ping_group_range"];
    let line = assert_refused(case, &r, "IPv4", &parts);
    eprintln!("STATUS {case} (range closed): exit 4, stderr: {line}");

    ns.allow_ping_group(TEST_GID, TEST_GID);
    let r = run_as(&ns, &user, &bin, &RUN_ARGS, true);
    assert_works(case, &r, &bin, false, [NONE, NONE, NONE, NONE]);
}

/// The documented trade-off of cap_net_raw+ep: where the bounding set lacks
/// CAP_NET_RAW the kernel refuses to execute the binary, even though a datagram
/// socket would be allowed.
#[test]
fn ep_binary_without_net_raw_in_bounding_set_is_not_executed() {
    let case = "+ep, bounding set without net_raw";
    let Some((_guard, bin, ns)) = prepared(case, || file_caps_copy(case, "cap_net_raw+ep")) else {
        return;
    };
    ns.allow_ping_group(TEST_GID, TEST_GID);
    let user = User::unprivileged();
    // Executed by setpriv itself (which reports the failure), and by the user's shell.
    let direct = run(
        &ns,
        ns.wrap(&user.wrap(&pingr_cmd(&bin, &RUN_ARGS))),
        &bin,
        false,
    );
    let shell = run_as(&ns, &user, &bin, &RUN_ARGS, false);
    // setpriv says `setpriv: failed to execute BIN: ...`; dash names itself by $0 (BIN).
    let cases = [
        ("setpriv", "setpriv: failed to execute", &direct),
        ("sh", ": exec: ", &shell),
    ];
    for (how, marker, r) in cases {
        eprintln!(
            "STATUS {case} (exec by {how}): exit {:?}, stderr: {}",
            r.status.code(),
            r.stderr.trim()
        );
        assert!(
            !r.status.success(),
            "{case}: the kernel executed it ({how}):\n{}",
            r.text()
        );
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(marker) && l.contains("Operation not permitted")),
            "{case}: want {how}'s exec failure (EPERM):\n{}",
            r.text()
        );
        assert!(
            !r.stderr.lines().any(|l| l.starts_with("pingr:")) && r.stdout.is_empty(),
            "{case}: pingr ran ({how}):\n{}",
            r.text()
        );
    }
}

/// A setuid-root copy in a directory only root and group 4242 can enter; None (after a
/// SKIP) where the file system ignores setuid bits.
fn setuid_copy(test: &str) -> Option<(Cleanup, PathBuf)> {
    use std::os::unix::fs::{chown, PermissionsExt};
    let dir = common::scratch_dir().join(format!("suid-{}", test.replace(' ', "-")));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("create setuid dir");
    let guard = Cleanup(dir.clone());
    chown(&dir, Some(0), Some(TEST_GID)).expect("chown setuid dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).expect("chmod dir");
    if let Some(findmnt) = common::which("findmnt") {
        let out = Command::new(findmnt)
            .args(["-n", "-o", "OPTIONS", "-T"])
            .arg(&dir)
            .output();
        let opts = out
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        if opts.trim().split(',').any(|o| o == "nosuid") {
            common::skip(
                test,
                &format!("{} is on a nosuid file system", dir.display()),
            );
            return None;
        }
    }
    let bin = dir.join("pingr");
    std::fs::copy(common::pingr(), &bin).expect("copy pingr");
    chown(&bin, Some(0), Some(0)).expect("chown root");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).expect("chmod 4755");
    let mode = std::fs::metadata(&bin).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o4755, "{test}: setuid bit not set");
    Some((guard, bin))
}

fn assert_setuid_run(case: &str, r: &Run, bin: &Path) {
    assert_pinged(case, r);
    assert_socket_kind(case, r, true);
    let warnings: Vec<&str> = r.stderr.lines().filter(|l| l.contains("setuid")).collect();
    assert_eq!(
        warnings.len(),
        1,
        "{case}: want one setuid warning line:\n{}",
        r.text()
    );
    assert!(
        warnings[0].starts_with("pingr: warning:"),
        "{case}: {}",
        warnings[0]
    );
    eprintln!("STATUS {case}: warning: {}", warnings[0]);
    assert_dropped(case, r, bin, TEST_UID, TEST_GID);
}

/// Setuid root, run by uid 4242 with no capability and bounding set {net_raw}: the
/// exec grants CAP_NET_RAW only; pingr warns and returns to 4242 with nothing held.
#[test]
fn setuid_root_copy_bounding_net_raw_runs_as_real_user() {
    let case = "setuid root, bounding set {net_raw}";
    let Some((_guard, bin, ns)) = prepared(case, || setuid_copy("setuid-bnd-net-raw")) else {
        return;
    };
    // Nothing permitted, effective or ambient; net_raw only in the bounding set (and
    // the inheritable set, as the verified recipe does).
    let user = bounding_net_raw();
    let r = run_as(&ns, &user, &bin, &RUN_ARGS, true);
    assert_at_start(case, &r, [R, R, ANY, ANY]);
    assert_setuid_run(case, &r, &bin);
}

/// Setuid root, run by uid 4242 with no capability and the default (full) bounding
/// set, as a login shell has: pingr starts with every capability of root and must
/// still end up as 4242 holding nothing.
#[test]
fn setuid_root_copy_full_bounding_set_runs_as_real_user() {
    let case = "setuid root, default bounding set";
    let Some((_guard, bin, ns)) = prepared(case, || setuid_copy("setuid-bnd-full")) else {
        return;
    };
    // The verified no-capability recipe, minus `--bounding-set=-all`.
    let args: Vec<String> = User::unprivileged()
        .setpriv_args()
        .into_iter()
        .filter(|a| !a.starts_with("--bounding-set"))
        .collect();
    let mut setpriv = Command::new("setpriv");
    setpriv.args(&args).arg("--");
    let cmd = user_exec(&bin, &RUN_ARGS);
    setpriv.arg(cmd.get_program()).args(cmd.get_args());
    let r = run(&ns, ns.wrap(&setpriv), &bin, true);
    let own_bnd =
        common::parse_status_caps(&std::fs::read_to_string("/proc/self/status").unwrap()).bnd;
    // A setuid-root exec starts with the whole bounding set.
    assert_at_start(case, &r, [Some(own_bnd), Some(own_bnd), ANY, ANY]);
    assert_setuid_run(case, &r, &bin);
}

// ---- The two inputs that can stall (issue 15): a DNS lookup and a `-f` FIFO. Each is
// held mid-stall while /proc/PID/status of every thread is read; the run then completes.

/// The four ways a non-root user is given CAP_NET_RAW, each with the user that runs it.
#[derive(Clone, Copy, Debug)]
enum Grant {
    FileEp,
    FileP,
    Ambient,
    SetuidRoot,
}

/// The binary for `grant` (its guard removes a copy made for the test) and the user.
fn granted(case: &str, grant: Grant) -> Option<(Option<Cleanup>, PathBuf, User)> {
    let raw_bounding = bounding_net_raw();
    match grant {
        Grant::FileEp | Grant::FileP => {
            let caps = match grant {
                Grant::FileEp => "cap_net_raw+ep",
                _ => "cap_net_raw+p",
            };
            let (guard, bin) = file_caps_copy(case, caps)?;
            Some((Some(guard), bin, raw_bounding))
        }
        Grant::Ambient => Some((
            None,
            common::pingr_for_user(),
            User::unprivileged().with_caps(&["net_raw"], true),
        )),
        Grant::SetuidRoot => {
            let (guard, bin) = setuid_copy(&format!("stall-{}", case.replace(' ', "-")))?;
            Some((Some(guard), bin, raw_bounding))
        }
    }
}

/// The inodes of the sockets in `pid`'s namespace listed by /proc/PID/net/TABLE (`udp`,
/// `raw6`, ...) whose line passes `keep` (its whitespace-separated fields).
fn table_inodes(pid: u32, table: &str, keep: impl Fn(&[&str]) -> bool) -> Vec<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 9 && keep(&f)).then(|| f[9].parse().ok())?
        })
        .collect()
}

/// The inodes of the sockets `pid` holds open (its /proc/PID/fd links `socket:[N]`).
fn held_sockets(pid: u32) -> Vec<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter_map(|e| {
            let link = std::fs::read_link(e.path()).ok()?;
            let inode = link.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?;
            inode.parse().ok()
        })
        .collect()
}

/// The sockets (by inode) `pid` holds open towards port 53 (IPv4 or IPv6 UDP/TCP): the
/// system resolver's, while a lookup is in progress.
fn dns_sockets(pid: u32) -> Vec<u64> {
    let toward_53: Vec<u64> = ["udp", "udp6", "tcp", "tcp6"]
        .iter()
        .flat_map(|t| table_inodes(pid, t, |f| f[2].ends_with(":0035")))
        .collect();
    held_sockets(pid)
        .into_iter()
        .filter(|i| toward_53.contains(i))
        .collect()
}

/// A namespace whose resolver never answers: 10.53.0.1 on its loopback, every packet to it
/// dropped by nftables (counted). Returns the namespace and the resolv.conf/nsswitch.conf
/// that a private mount namespace puts in place.
fn silent_resolver(case: &str) -> (Netns, PathBuf, PathBuf, Cleanup) {
    let ns = Netns::new();
    ns.run(
        "ip addr add 10.53.0.1/32 dev lo && nft add table inet p15 && \
         nft add chain inet p15 i '{ type filter hook input priority 0; }' && \
         nft add rule inet p15 i ip daddr 10.53.0.1 counter drop",
    );
    let dir = common::scratch_dir().join(format!("dns-{}", case.replace(' ', "-")));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create resolver dir");
    let resolv = dir.join("resolv.conf");
    let nss = dir.join("nsswitch.conf");
    std::fs::write(
        &resolv,
        "nameserver 10.53.0.1\noptions timeout:1 attempts:1\n",
    )
    .expect("write resolv.conf");
    std::fs::write(&nss, "hosts: files dns\n").expect("write nsswitch.conf");
    (ns, resolv, nss, Cleanup(dir))
}

/// Packets the namespace's nftables rule dropped on their way to the resolver.
fn dropped_to_resolver(ns: &Netns) -> u64 {
    let text = ns.run("nft list chain inet p15 i");
    text.split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `cmd` in a private mount namespace where /etc/resolv.conf and /etc/nsswitch.conf are
/// the given files (bind mounts no one else sees).
fn with_resolver(resolv: &Path, nss: &Path, cmd: &Command) -> Command {
    let mut c = Command::new("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(
            "mount --bind \"$0\" /etc/resolv.conf && mount --bind \"$1\" /etc/nsswitch.conf \
             && shift && exec \"$@\"",
        )
        .arg(resolv)
        .arg(nss)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    c
}

/// Two names, so that a test slowed by a busy machine still finds a lookup in progress (each
/// stalls for the resolver's timeout, one after the other). Absolute: no search domain.
const STALLED_NAMES: [&str; 2] = ["pingr-stall-1.invalid.", "pingr-stall-2.invalid."];

fn stalled_dns_lookup(case: &str, grant: Grant) {
    if !(needs(case) && common::require_tool(case, "nft") && common::require_tool(case, "unshare"))
    {
        return;
    }
    let Some((_guard, bin, user)) = granted(case, grant) else {
        return;
    };
    let (ns, resolv, nss, _dir) = silent_resolver(case);
    let mut args = vec!["-v", "-c", "3", "-i", "0.3", "127.0.0.1", "::1"];
    args.extend(STALLED_NAMES);
    let cmd = ns.wrap(&with_resolver(
        &resolv,
        &nss,
        &user.wrap(&user_exec(&bin, &args)),
    ));
    let mut evidence = String::new();
    let r = run_sampled(cmd, |_rx, spawned| {
        // Wait for pingr to hold the resolver's socket: it is then waiting for an answer
        // that nftables makes sure never comes.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(pid) = find_pingr(spawned, &ns, &bin) {
                let before = dns_sockets(pid);
                if !before.is_empty() {
                    let tasks = read_tasks(pid);
                    let after = dns_sockets(pid);
                    evidence = format!("resolver socket inodes before {before:?}, after {after:?}");
                    // The same lookup socket, open before and after every status was read:
                    // they were read mid-lookup.
                    if before.iter().any(|i| after.contains(i)) {
                        return Some(Sample {
                            pid,
                            spawned,
                            tasks,
                        });
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    });
    let dropped = dropped_to_resolver(&ns);
    eprintln!("STATUS {case}: {evidence}; packets to the resolver dropped by nftables: {dropped}");
    assert_dropped(case, &r, &bin, TEST_UID, TEST_GID);
    assert!(
        dropped > 0,
        "{case}: no query reached the silent resolver:\n{}",
        r.text()
    );
    // Then the run completes: the names fail after the resolver's timeout, the rest answer.
    assert_exit(case, &r, 2, "want exit 2");
    for name in STALLED_NAMES {
        let failed = format!("pingr: {name}: ");
        let line = r.stderr.lines().find(|l| l.starts_with(&failed));
        eprintln!("STATUS {case}: {}", line.unwrap_or("(no failure line)"));
        assert!(line.is_some(), "{case}: no `{failed}` line:\n{}", r.text());
    }
    assert_replied(case, &r);
    assert_order(case, &r);
}

/// `-v` shows the order as it happened: sockets opened, privileges dropped, then targets
/// resolved.
fn assert_order(case: &str, r: &Run) {
    let at = |needle: &str| {
        r.stderr
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{case}: no `{needle}` line:\n{}", r.text()))
    };
    let (opened, dropped, resolved) = (
        at("pingr: IPv4: raw ICMP socket"),
        at("after the drop:"),
        at("pingr: resolved "),
    );
    assert!(
        opened < dropped && dropped < resolved,
        "{case}: want opened < dropped < resolved, got lines {opened}, {dropped}, {resolved}:\n{}",
        r.text()
    );
}

common::table_tests! {
    dns_lookup_stalls_without_privilege_file_cap_ep: stalled_dns_lookup(Grant::FileEp);
    dns_lookup_stalls_without_privilege_file_cap_p: stalled_dns_lookup(Grant::FileP);
    dns_lookup_stalls_without_privilege_ambient: stalled_dns_lookup(Grant::Ambient);
    dns_lookup_stalls_without_privilege_setuid_root: stalled_dns_lookup(Grant::SetuidRoot);
}

fn stalled_fifo(case: &str, grant: Grant) {
    if !(needs(case) && common::require_tool(case, "mkfifo")) {
        return;
    }
    let Some((_guard, bin, user)) = granted(case, grant) else {
        return;
    };
    let ns = Netns::new();
    let fifo = common::scratch_dir().join(format!("fifo-{}", case.replace(' ', "-")));
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo")
        .arg("-m")
        .arg("0644")
        .arg(&fifo)
        .status();
    assert!(made.is_ok_and(|s| s.success()), "{case}: mkfifo failed");
    let _fifo_guard = Cleanup(fifo.clone());
    let fifo_arg = fifo.to_str().expect("utf-8 path").to_string();
    let args = ["-v", "-c", "3", "-i", "0.3", "-f", &fifo_arg];
    let cmd = ns.wrap(&user.wrap(&user_exec(&bin, &args)));
    let mut evidence = String::new();
    let r = run_sampled(cmd, |_rx, spawned| {
        // Opening the writing end returns once pingr has opened the reading end; the test
        // then holds it open without writing, so pingr waits in read().
        let (tx, rx) = mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::OpenOptions::new().write(true).open(path));
        });
        let writer = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(w)) => w,
            _ => {
                // Release the opener (it blocks until some reader comes) and give up.
                let _ = std::fs::File::open(&fifo);
                return None;
            }
        };
        let pid = find_pingr(spawned, &ns, &bin)?;
        let tasks = read_tasks(pid);
        let holds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| {
                d.flatten()
                    .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == fifo))
            })
            .unwrap_or(false);
        evidence = format!("pingr holds the FIFO open for reading after the sample: {holds}");
        // Now the targets, and the end of the file.
        let mut w = writer;
        use std::io::Write;
        let _ = w.write_all(b"127.0.0.1\n::1\n");
        drop(w);
        holds.then_some(Sample {
            pid,
            spawned,
            tasks,
        })
    });
    eprintln!("STATUS {case}: {evidence}");
    assert_dropped(case, &r, &bin, TEST_UID, TEST_GID);
    assert_pinged(case, &r);
    assert_order(case, &r);
}

common::table_tests! {
    fifo_stalls_without_privilege_file_cap_ep: stalled_fifo(Grant::FileEp);
    fifo_stalls_without_privilege_file_cap_p: stalled_fifo(Grant::FileP);
    fifo_stalls_without_privilege_ambient: stalled_fifo(Grant::Ambient);
    fifo_stalls_without_privilege_setuid_root: stalled_fifo(Grant::SetuidRoot);
}

/// A setuid-root copy leaves root's identity before it reads a target file: a file only
/// root may read is refused (exit 3), as it would be for the user running it.
#[test]
fn setuid_root_copy_reads_target_files_as_the_real_user() {
    let case = "setuid root, -f a file only root can read";
    let Some((_guard, bin, ns)) = prepared(case, || setuid_copy("setuid-root-only-file")) else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    let file = common::scratch_dir().join("root-only-targets");
    std::fs::write(&file, "127.0.0.1\n").expect("write targets");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    let _file_guard = Cleanup(file.clone());
    let user = bounding_net_raw();
    let path = file.to_str().expect("utf-8 path");
    let r = run_as(&ns, &user, &bin, &["-c", "1", "-f", path], false);
    let want = format!("pingr: -f {path}: Permission denied");
    eprintln!(
        "STATUS {case}: exit {:?}, stderr: {}",
        r.status.code(),
        r.stderr.trim().replace('\n', " | ")
    );
    assert_exit(case, &r, 3, "want exit 3");
    assert!(
        r.stderr.lines().any(|l| l == want),
        "{case}: want `{want}`:\n{}",
        r.text()
    );
    assert!(r.stdout.is_empty(), "{case}: pinged:\n{}", r.text());
}

/// With IPv6 disabled in the namespace (net.ipv6.conf.all.disable_ipv6=1: ::1 is gone, yet
/// an IPv6 socket still opens), IPv4 targets answer and an IPv6 target of the same run gets
/// one line naming the cause; a run of IPv6 targets only ends with that line and exit 4.
#[test]
fn ipv6_disabled_ipv4_answers_and_ipv6_target_gets_one_line() {
    let case = "IPv6 disabled in the namespace";
    if !needs(case) {
        return;
    }
    let ns = Netns::new();
    ns.sysctl("net.ipv6.conf.all.disable_ipv6", "1");
    let bin = common::pingr_for_user();
    let user = User::unprivileged().with_caps(&["net_raw"], true);
    let r = run_as(
        &ns,
        &user,
        &bin,
        &["-c", "2", "-i", "0.2", "127.0.0.1", "::1"],
        false,
    );
    let v6_lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("::1")).collect();
    eprintln!(
        "STATUS {case}: exit {:?}, IPv6 lines: {v6_lines:?}",
        r.status.code()
    );
    assert_exit(case, &r, 1, "want exit 1 (::1 never answered)");
    assert!(
        r.stdout.contains("bytes from 127.0.0.1: icmp_seq=2"),
        "{case}: 127.0.0.1 should answer:\n{}",
        r.text()
    );
    assert_eq!(
        v6_lines.len(),
        1,
        "{case}: want one line for ::1:\n{}",
        r.text()
    );
    assert!(
        v6_lines[0].starts_with("pingr: ::1: ") && v6_lines[0].contains("disable_ipv6 = 1"),
        "{case}: the line should name the cause:\n{}",
        r.text()
    );
    assert!(!r.stderr.contains("sendto"), "{case}: {}", r.text());

    let r = run_as(&ns, &user, &bin, &["-c", "1", "::1"], false);
    eprintln!(
        "STATUS {case} (IPv6 only): exit {:?}, stderr: {}",
        r.status.code(),
        r.stderr.trim()
    );
    assert_exit(case, &r, 4, "want exit 4");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{case}: want one line:\n{}", r.text());
    assert!(
        lines[0].contains("IPv6 is disabled here"),
        "{case}: {}",
        r.text()
    );
    assert!(r.stdout.is_empty(), "{case}: {}", r.text());
}

/// How many raw ICMP sockets `pid` holds: (IPv4, IPv6).
fn raw_sockets(pid: u32) -> (usize, usize) {
    let held = held_sockets(pid);
    let count = |table: &str| {
        let listed = table_inodes(pid, table, |_| true);
        held.iter().filter(|i| listed.contains(i)).count()
    };
    (count("raw"), count("raw6"))
}

/// A `-f` file may hold either family, so both sockets are opened before it is read; once
/// it is read and holds only IPv4 targets, the IPv6 socket is closed before the run.
#[test]
fn socket_no_target_uses_is_closed_after_resolution() {
    let case = "unused family closed";
    let Some((ns, bin)) = as_root(case) else {
        return;
    };
    let file = common::scratch_dir().join("v4-only-targets");
    std::fs::write(&file, "127.0.0.1\n").expect("write targets");
    let _guard = Cleanup(file.clone());
    let path = file.to_str().expect("utf-8 path");
    let args = ["-v", "-c", "3", "-i", "0.3", "-f", path];
    let mut held = None;
    let r = run_sampled(ns.wrap(&pingr_cmd(&bin, &args)), |rx, spawned| {
        if wait_for_line(rx, "pingr: IPv6: socket closed") {
            // The line comes after the close; replies are still due for 0.6 s.
            held = find_pingr(spawned, &ns, &bin).map(raw_sockets);
        }
        None
    });
    eprintln!(
        "STATUS {case}: exit {:?}, raw sockets held (IPv4, IPv6) during the run: {held:?}",
        r.status.code()
    );
    assert_eq!(r.status.code(), Some(0), "{case}:\n{}", r.text());
    for opened in [
        "pingr: IPv4: raw ICMP socket",
        "pingr: IPv6: raw ICMP socket",
    ] {
        assert!(
            r.stderr.lines().any(|l| l.starts_with(opened)),
            "{case}: want `{opened}` (both opened before the file is read):\n{}",
            r.text()
        );
    }
    assert_eq!(held, Some((1, 0)), "{case}:\n{}", r.text());
}
