//! pingr as fping (issue 11), side by side with Debian's fping 5.1: the same command line run
//! by a symlink named `fping` to pingr and by /usr/bin/fping, inside the same namespace, on
//! the same targets (one answering, one dropped by nftables, one answered by an ICMP host
//! unreachable, one name that cannot resolve), compared line by line after masking times:
//! same lines, same streams, same order, same exit status. Then the real consumers:
//! Smokeping (its FPing probe, one `smokeping --debug` round) and vaping (its fping plugin).
//!
//! Network rule: every pinger runs inside a namespace made here and sends only to addresses
//! that exist in namespaces made here (or to loopback inside them).

use crate::common;
use common::{
    require_root, require_tool, run_with_timeout, scratch_dir, text, Netns, Responder, Veth,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const RUN_SECS: u64 = 30;
const FPING: &str = "/usr/bin/fping";

/// The test network: `ns` (where both pingers run) joined by a veth to `peer`, whose kernel
/// answers `up`, whose nftables drop what is sent to `dropped` and reject what is sent to
/// `rejected` with an ICMP host unreachable.
struct Lab {
    ns: Netns,
    _peer: Netns,
    up: String,
    dropped: String,
    rejected: String,
    /// This side's address and device on the veth.
    src: String,
    dev: String,
    /// The `fping` (and `fping6`) symlinks to pingr.
    dir: PathBuf,
}

const BAD: &str = "nohost.invalid";

fn symlinks() -> PathBuf {
    let dir = scratch_dir().join(format!("fping-bin-{}", common_id()));
    std::fs::create_dir_all(&dir).expect("create symlink dir");
    for name in ["fping", "fping6"] {
        let link = dir.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(common::pingr(), &link).expect("symlink fping -> pingr");
    }
    dir
}

fn common_id() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn lab() -> Lab {
    let ns = Netns::new();
    let peer = Netns::new();
    let n = 10 + (std::process::id() as usize + common_id()) % 200;
    let p = format!("10.207.{n}");
    let mut v = Veth::new(&ns, &format!("{p}.1/24"), &peer, &format!("{p}.2/24"));
    v.add_addrs(&ns, &format!("{p}.11/24"), &peer, &format!("{p}.3/24"));
    v.add_addrs(&ns, &format!("{p}.12/24"), &peer, &format!("{p}.4/24"));
    peer.run(&format!(
        "nft add table inet t && \
         nft add chain inet t in '{{ type filter hook input priority 0; }}' && \
         nft add rule inet t in ip daddr {p}.3 drop && \
         nft add rule inet t in ip daddr {p}.4 reject with icmp type host-unreachable"
    ));
    // `ip netns exec` bind-mounts /etc/netns/NAME/hosts over /etc/hosts: names for the lab,
    // one with two addresses (for -m).
    let etc = PathBuf::from("/etc/netns").join(&ns.name);
    std::fs::create_dir_all(&etc).expect("create /etc/netns/NAME");
    std::fs::write(
        etc.join("hosts"),
        format!("127.0.0.1 localhost\n{p}.2 upname\n{p}.2 multi\n{p}.3 multi\n"),
    )
    .expect("write the namespace's hosts file");
    Lab {
        ns,
        _peer: peer,
        up: format!("{p}.2"),
        dropped: format!("{p}.3"),
        rejected: format!("{p}.4"),
        src: format!("{p}.1"),
        dev: v.a_dev.clone(),
        dir: symlinks(),
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(&self.ns.name));
    }
}

impl Lab {
    fn pingr_fping(&self) -> PathBuf {
        self.dir.join("fping")
    }

    /// `prog args` inside the namespace, through `sh -c` so stdin can come from a file and
    /// the streams can be merged. `$UP`, `$DROP`, `$REJ`, `$BAD` name the targets.
    fn run(&self, prog: &Path, args: &str) -> Output {
        let line = format!(
            "UP={} DROP={} REJ={} BAD={} SRC={} DEV={}; exec {} {args}",
            self.up,
            self.dropped,
            self.rejected,
            BAD,
            self.src,
            self.dev,
            prog.display()
        );
        let mut c = Command::new("sh");
        c.args(["-c", &line]);
        run_with_timeout(&mut self.ns.wrap(&c), RUN_SECS)
    }
}

/// Times masked: every number with exactly one decimal point (fping prints round trips,
/// averages, `-D` stamps and elapsed seconds that way) becomes `T`. Counts, percentages,
/// probe numbers, byte counts and addresses (three points) stay.
fn mask(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut tok = String::new();
    let flush = |tok: &mut String, out: &mut String| {
        let dots = tok.matches('.').count();
        let ok = dots == 1
            && tok.starts_with(|c: char| c.is_ascii_digit())
            && tok.ends_with(|c: char| c.is_ascii_digit());
        if ok {
            out.push('T');
        } else {
            out.push_str(tok);
        }
        tok.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            tok.push(c);
        } else {
            flush(&mut tok, &mut out);
            out.push(c);
        }
    }
    flush(&mut tok, &mut out);
    out
}

fn show(who: &str, o: &Output) -> String {
    format!(
        "--- {who}: exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// Runs `args` with both pingers and requires the same masked lines on each stream, in the
/// same order, and the same exit status. Returns pingr's output.
fn same(lab: &Lab, args: &str) -> Output {
    same_except(lab, args, |_| false)
}

/// [`same`], leaving out (from both outputs) the lines `skip` names.
fn same_except(lab: &Lab, args: &str, skip: impl Fn(&str) -> bool) -> Output {
    let p = lab.run(&lab.pingr_fping(), args);
    let f = lab.run(Path::new(FPING), args);
    let both = format!("fping {args}\n{}\n{}", show("pingr", &p), show("fping", &f));
    let keep = |b: &[u8]| -> Vec<String> {
        mask(&text(b))
            .lines()
            .filter(|l| !skip(l))
            .map(str::to_string)
            .collect()
    };
    assert!(!text(&p.stderr).contains("panicked"), "{both}");
    assert_eq!(p.status.code(), f.status.code(), "exit status\n{both}");
    for (what, a, b) in [
        ("stdout", keep(&p.stdout), keep(&f.stdout)),
        ("stderr", keep(&p.stderr), keep(&f.stderr)),
    ] {
        assert_eq!(in_order(&a), in_order(&b), "{what}\n{both}");
    }
    p
}

/// What "the same lines in the same order" can mean between two pingers whose hosts run at
/// once: each host's lines in order, and the sequence of line shapes (the host's name taken
/// out) in order. Only which of two hosts printed first within the same instant is left
/// free: that is timing, for fping itself too.
fn in_order(lines: &[String]) -> (Vec<(String, Vec<String>)>, Vec<String>) {
    let key = |l: &str| -> String {
        match l.split_once(" : ") {
            Some((k, _)) => k.trim_end().to_string(),
            None => l.split_whitespace().next().unwrap_or("").to_string(),
        }
    };
    let mut per_host: Vec<(String, Vec<String>)> = Vec::new();
    let mut shapes = Vec::new();
    for l in lines {
        let k = key(l);
        match per_host.iter_mut().find(|(h, _)| *h == k) {
            Some((_, v)) => v.push(l.clone()),
            None => per_host.push((k.clone(), vec![l.clone()])),
        }
        shapes.push(match l.split_once(" : ") {
            Some((_, rest)) => format!("H : {rest}"),
            None => l.replacen(&k, "H", 1),
        });
    }
    per_host.sort();
    (per_host, shapes)
}

fn ready(test: &str) -> bool {
    require_root(test) && require_tool(test, "nft") && require_tool(test, "fping")
}

/// [`ready`], then the test's [`lab`]; None after a SKIP.
fn ready_lab(test: &str) -> Option<Lab> {
    ready(test).then(lab)
}

#[test]
fn mask_keeps_counts_and_addresses() {
    assert_eq!(
        mask("10.0.0.2 : [1], 64 bytes, 0.026 ms (12.3 avg, 33% loss)"),
        "10.0.0.2 : [1], 64 bytes, T ms (T avg, 33% loss)"
    );
    assert_eq!(mask("[1796155650.13343] h : - 0.040"), "[T] h : - T");
    assert_eq!(mask("xmt/rcv/%loss = 3/2/33%"), "xmt/rcv/%loss = 3/2/33%");
}

/// The default mode (alive/unreachable after retries), its lists, -e, -q, -s, -x, -A, -g,
/// and the probing options that change nothing printed.
#[test]
fn default_mode_side_by_side() {
    let Some(lab) = ready_lab("default_mode_side_by_side") else {
        return;
    };
    let fast = "-t 100 -r 1";
    for args in [
        "$UP",
        "-t 100 -r 0 $DROP",
        &format!("{fast} $UP $DROP $BAD"),
        &format!("{fast} $UP $DROP"),
        &format!("{fast} -a $UP $DROP $BAD"),
        &format!("{fast} -u $UP $DROP"),
        &format!("{fast} -e $UP $DROP"),
        &format!("{fast} -q $UP $DROP $BAD"),
        &format!("{fast} -s $UP $DROP $BAD"),
        &format!("{fast} -x 1 $UP $DROP"),
        &format!("{fast} -x 2 $UP $DROP $BAD"),
        &format!("{fast} -A localhost $UP"),
        &format!("{fast} --alive --elapsed --retry=1 $UP $DROP"),
        &format!("{fast} -B1 -r1 -i1 -b 100 -H 9 -O 0x20 -M -R $UP"),
        &format!("{fast} -g $UP $DROP"),
        &format!("{fast} -4 ::1 $UP"),
        &format!("{fast} -aq $UP"),
        &format!("{fast} -N $UP"),
        &format!("{fast} upname $DROP"),
        &format!("{fast} -m multi"),
        &format!("{fast} -m -A multi upname"),
        "-qt100 -r0 $BAD",
    ] {
        same(&lab, args);
    }
}

/// -c / -C / -o / -D / -q / -u, per-reply and timeout lines, the blank line, the summary.
#[test]
fn count_modes_side_by_side() {
    let Some(lab) = ready_lab("count_modes_side_by_side") else {
        return;
    };
    let p = "-p 250 -t 80";
    for args in [
        format!("-c 3 {p} $UP $DROP $BAD"),
        format!("-c 2 {p} -q $UP $DROP"),
        format!("-c 2 {p} -o $UP $DROP"),
        format!("-c 2 {p} -D $UP"),
        format!("-C 3 {p} $UP $DROP $BAD"),
        format!("-C 2 {p} -q -B1 -r1 -4 -i10 $UP $DROP"),
        "-u -C2 -p250 -t80 -e $UP $DROP".to_string(),
        "--count=2 --period=250 --timeout=80 --size=200 $UP".to_string(),
        format!("-c 1 {p} -s $UP $DROP"),
        format!("-c 1 {p} -A $UP"),
        format!("-c 2 {p} $REJ"),
        format!("-c 2 {p} upname $UP"),
        format!("-C 2 {p} -m -A multi"),
        format!("-c 1 {p} -q $REJ"),
    ] {
        same(&lab, &args);
    }
}

/// The command lines the consumers of fping.md run, as they run them.
#[test]
fn consumer_command_lines_side_by_side() {
    let Some(lab) = ready_lab("consumer_command_lines_side_by_side") else {
        return;
    };
    let list = scratch_dir().join(format!("fping-bulk-{}", common_id()));
    std::fs::write(&list, format!("{}\n{}\n", lab.up, lab.dropped)).unwrap();
    for args in [
        // LibreNMS: one host, then the bulk check from standard input.
        "-e -q -c 3 -p 200 -t 200 -O 0 $UP".to_string(),
        format!("-f - -t 100 -r 2 -O 0 < {}", list.display()),
        // monitoring-plugins check_fping, with a source address and with an interface.
        "-t 100 -p 100 -S $SRC -b 56 -c 1 $UP".to_string(),
        "-t 100 -p 100 -I $DEV -b 56 -c 1 $UP $DROP".to_string(),
        // Smokeping's round with its clustered values, and vaping's merged streams.
        "-C 3 -q -B1 -r1 -4 -i10 -p200 -t80 -S$SRC -O0x20 $UP $DROP".to_string(),
        "-u -C3 -p20 -e $UP $DROP 2>&1".to_string(),
    ] {
        same(&lab, &args);
    }
}

/// Targets from standard input (none given), `-f -`, and `-f FILE` (comments skipped, only
/// the first word of a line used); `-g START END` and a CIDR block.
#[test]
fn targets_side_by_side() {
    let Some(lab) = ready_lab("targets_side_by_side") else {
        return;
    };
    let list = scratch_dir().join(format!("fping-list-{}", common_id()));
    std::fs::write(
        &list,
        format!("# targets\n{} first word only\n\n{}\n", lab.up, lab.dropped),
    )
    .unwrap();
    let l = list.display();
    for args in [
        format!("-t 100 -r 0 < {l}"),
        format!("-t 100 -r 0 -f - < {l}"),
        format!("-t 100 -r 0 -f {l}"),
        format!("-c 1 -p 100 -t 80 --file={l}"),
        "-t 100 < /dev/null".to_string(),
        "-c 1 < /dev/null".to_string(),
    ] {
        same(&lab, &args);
    }
    // -g with a range and a block (the block's network and broadcast addresses left out).
    let base = lab.up.rsplit_once('.').unwrap().0.to_string();
    same(&lab, &format!("-t 100 -r 0 -g {base}.1 {base}.3"));
    same(&lab, &format!("-t 100 -r 0 -a -g {base}.0/29"));
}

/// Merged streams (`2>&1`): stdout is flushed before anything goes to stderr, so consumers
/// that merge them (Smokeping's start-up check, vaping) read fping's order.
#[test]
fn merged_streams_side_by_side() {
    let Some(lab) = ready_lab("merged_streams_side_by_side") else {
        return;
    };
    for args in [
        "-C 1 localhost 2>&1",
        "-c 2 -p 200 -t 80 $UP $DROP $BAD 2>&1",
        "-u -C2 -p200 -t80 -e $UP $DROP 2>&1",
        "-t 100 -r 1 -s $UP $DROP $BAD 2>&1",
    ] {
        same(&lab, args);
    }
}

/// `-l` until SIGINT, then the `-c` summary; `-Q` reports; `-N` netdata lines. How many
/// probes fit before the signal depends on timing, so here every line is compared with
/// its counts masked too, and the line shapes must be the same set.
#[test]
fn loop_and_reports_side_by_side() {
    let Some(lab) = ready_lab("loop_and_reports_side_by_side") else {
        return;
    };
    // (the set of stdout shapes, the set of stderr shapes, the last stderr lines in order)
    let shapes = |o: &Output, tail: usize| -> (Vec<String>, Vec<String>, Vec<String>) {
        let strip = |s: &str| -> Vec<String> {
            mask(s)
                .lines()
                .map(|l| {
                    l.chars()
                        .map(|c| if c.is_ascii_digit() { 'N' } else { c })
                        .collect::<String>()
                })
                .map(|l| {
                    // Runs of N are one number.
                    let mut out = String::new();
                    for c in l.chars() {
                        if !(c == 'N' && out.ends_with('N')) {
                            out.push(c);
                        }
                    }
                    out
                })
                .collect()
        };
        let set = |mut v: Vec<String>| {
            v.sort();
            v.dedup();
            v
        };
        let err = strip(&text(&o.stderr));
        let last = err[err.len().saturating_sub(tail)..].to_vec();
        (set(strip(&text(&o.stdout))), set(err), last)
    };
    // `secs` may hold a SIGQUIT first: "0.65; kill -QUIT $pid; sleep 0.4".
    let interrupted = |prog: &Path, args: &str, secs: &str| -> Output {
        let line = format!(
            "{} {args} & pid=$!; sleep {secs}; kill -INT $pid; wait $pid",
            prog.display()
        );
        let line = line.replace("$UP", &lab.up).replace("$DROP", &lab.dropped);
        let mut c = Command::new("sh");
        c.args(["-c", &line]);
        run_with_timeout(&mut lab.ns.wrap(&c), RUN_SECS)
    };
    // Signals fall well between events: probes every 400 ms, timeouts 100 ms after them,
    // reports every second.
    for (args, secs, tail) in [
        ("-l -p 400 -t 100 $UP $DROP", "1.05", 3),
        ("-l -p 400 -t 100 -Q 1 $UP $DROP", "2.5", 3),
        ("-l -p 400 -t 100 -Q 1 -N $UP", "2.5", 1),
        ("-l -B1 -r1 -p 400 $UP", "1.05", 2),
        // SIGQUIT: the interval report on stderr, and the run goes on.
        (
            "-l -p 400 -t 100 $UP $DROP",
            "0.65; kill -QUIT $pid; sleep 0.4",
            3,
        ),
        (
            "-c 3 -p 400 -t 100 -q $UP $DROP",
            "0.65; kill -QUIT $pid; sleep 0.4",
            2,
        ),
    ] {
        let p = interrupted(&lab.pingr_fping(), args, secs);
        let f = interrupted(Path::new(FPING), args, secs);
        let both = format!("fping {args}\n{}\n{}", show("pingr", &p), show("fping", &f));
        assert_eq!(p.status.code(), f.status.code(), "exit status\n{both}");
        assert_eq!(shapes(&p, tail), shapes(&f, tail), "line shapes\n{both}");
        assert!(!p.stdout.is_empty() || !p.stderr.is_empty(), "{both}");
    }
}

/// Duplicates: silently dropped with per-reply lines, reported on stderr with -q, as fping.
#[test]
fn duplicates_side_by_side() {
    let Some(lab) = ready_lab("duplicates_side_by_side") else {
        return;
    };
    let silent = Netns::new_silent();
    let n = 10 + (std::process::id() as usize + common_id()) % 200;
    let v = Veth::new(
        &lab.ns,
        &format!("10.208.{n}.1/24"),
        &silent,
        &format!("10.208.{n}.2/24"),
    );
    let _r = Responder::start(&silent, &["--mode", "dup", "--only", v.b_v4()]);
    let target = v.b_v4().to_string();
    same(&lab, &format!("-c 2 -p 300 -t 200 {target}"));
    // The copy of the last probe's reply arrives as the run ends: whether it is read first
    // is timing, for fping as for pingr (fping drains what is queued before it stops).
    let o = same_except(&lab, &format!("-C 3 -p 300 -t 200 -q {target}"), |l| {
        l.contains("duplicate for [2]")
    });
    let err = text(&o.stderr);
    assert!(err.contains(" : duplicate for [0], 64 bytes, "), "{err}");
    assert!(err.contains(" : duplicate for [1], 64 bytes, "), "{err}");
}

/// `-v`, `-h`, fping6, bad command lines, and what is deliberately different.
#[test]
fn version_help_errors() {
    let Some(lab) = ready_lab("version_help_errors") else {
        return;
    };
    let p = lab.run(&lab.pingr_fping(), "-v");
    let f = lab.run(Path::new(FPING), "-v");
    let pv = text(&p.stdout);
    let prog = lab.pingr_fping().display().to_string();
    assert!(
        pv.starts_with(&format!("{prog}: Version 5.1 (pingr ")),
        "{pv}"
    );
    assert_eq!(text(&f.stdout), format!("{FPING}: Version 5.1\n"));
    assert_eq!((p.status.code(), f.status.code()), (Some(0), Some(0)));
    // -h: the options Smokeping looks for, on stdout, exit 0.
    let h = lab.run(&lab.pingr_fping(), "-h");
    let help = text(&h.stdout);
    assert_eq!(h.status.code(), Some(0));
    for opt in ["-S", "-I", "-O"] {
        let found = help.lines().any(|l| {
            l.starts_with(char::is_whitespace) && l.trim_start().starts_with(&format!("{opt},"))
        });
        assert!(found, "-h lacks {opt}:\n{help}");
    }
    // fping6 implies -6: the same as fping -6.
    let p6 = lab.run(&lab.dir.join("fping6"), "-c 1 -p 100 ::1");
    let f6 = lab.run(Path::new(FPING), "-6 -c 1 -p 100 ::1");
    assert_eq!(
        mask(&text(&p6.stdout)),
        mask(&text(&f6.stdout)),
        "{}",
        show("pingr", &p6)
    );
    assert_eq!(p6.status.code(), f6.status.code());
    // Bad command lines: one line on stderr, nothing on stdout; fping says 1, pingr 3 (the
    // status fping's own manual documents; a deliberate difference listed in pingr(8)).
    for args in [
        "-c 0 $UP",
        "-c x $UP",
        "-a -u $UP",
        "-c 1 -l $UP",
        "-B 9 $UP",
        "-k 1 $UP",
    ] {
        let p = lab.run(&lab.pingr_fping(), args);
        assert_eq!(p.status.code(), Some(3), "{args}: {}", show("pingr", &p));
        assert!(p.stdout.is_empty(), "{args}");
        assert_eq!(
            text(&p.stderr).lines().count(),
            1,
            "{args}: {}",
            show("pingr", &p)
        );
    }
}

/// fping's safe limits in fping's words: a user who is not root asking for a flood gets the
/// two lines and exit 1, from both (pingr names its own limits).
#[test]
fn too_risky_for_mere_mortals() {
    let Some(lab) = ready_lab("too_risky_for_mere_mortals") else {
        return;
    };
    lab.ns.allow_ping_group(0, 2_147_483_647);
    let user = common::User::unprivileged();
    // Debian's fping 5.1 is built without FPING_SAFE_LIMITS (as a user it runs `-p 1`), so
    // the reference here is fping's source: the two lines of src/fping.c, with pingr's limits.
    let user_dir = scratch_dir().join(format!("fping-user-{}", common_id()));
    std::fs::create_dir_all(&user_dir).unwrap();
    let user_fping = user_dir.join("fping");
    std::os::unix::fs::symlink(common::pingr_for_user(), &user_fping).unwrap();
    let name = user_fping.display().to_string();
    for args in [
        &["-c", "1", "-p", "1"][..],
        &["-i", "0.5"],
        &["-l", "-p", "1.5"],
    ] {
        let mut c = Command::new(&user_fping);
        c.args(args).arg(&lab.up);
        let o = run_with_timeout(&mut lab.ns.exec_as(&user, &c), RUN_SECS);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", show(&name, &o));
        assert_eq!(
            text(&o.stderr),
            format!("{name}: these options are too risky for mere mortals.\n{name}: You need -i >= 1 and -p >= 2\n"),
        );
        assert!(o.stdout.is_empty());
    }
    // At the limits a user may ping.
    let mut c = Command::new(&user_fping);
    c.args(["-c", "2", "-p", "2", "-i", "1", "-t", "1000", &lab.up]);
    let o = run_with_timeout(&mut lab.ns.exec_as(&user, &c), RUN_SECS);
    assert_eq!(o.status.code(), Some(0), "{}", show(&name, &o));
}

// ---- real consumers ---------------------------------------------------------------------

/// Smokeping's FPing probe, one `smokeping --debug` round with `binary =` the symlink: no
/// warning in its log, and the RRD updates carry loss 0 for the answering target and full
/// loss for the dropped one.
#[test]
fn smokeping_fping_probe() {
    let test = "smokeping_fping_probe";
    if !ready(test) || !require_tool(test, "smokeping") || !require_tool(test, "rrdtool") {
        return;
    }
    let lab = lab();
    let dir = scratch_dir().join(format!("smokeping-{}", common_id()));
    for sub in ["data", "cache", "var"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let d = dir.display();
    let cfg = format!(
        "*** General ***
owner = pingr test
contact = root@localhost
mailhost = localhost
imgcache = {d}/cache
imgurl = cache
datadir = {d}/data
piddir = {d}/var
cgiurl = http://localhost/smokeping.cgi
smokemail = /etc/smokeping/smokemail
tmail = /etc/smokeping/tmail
syslogfacility = local0

*** Alerts ***
to = root@localhost
from = root@localhost

*** Database ***
step = 300
pings = 5
AVERAGE 0.5 1 1008

*** Presentation ***
template = /etc/smokeping/basepage.html
+ charts
menu = Charts
title = Charts
++ stddev
sorter = StdDev(entries=>4)
title = Top Standard Deviation
menu = Std Deviation
format = Standard Deviation %f
+ overview
width = 600
height = 50
range = 10h
+ detail
width = 600
height = 200
unison_tolerance = 2
\"Last 3 Hours\"    3h

*** Probes ***
+ FPing
binary = {bin}
mininterval = 0.01
hostinterval = 0.2

*** Targets ***
probe = FPing
menu = Top
title = pingr as fping
+ up
menu = up
title = answering
host = {up}
+ dropped
menu = dropped
title = dropped
host = {dropped}
",
        bin = lab.pingr_fping().display(),
        up = lab.up,
        dropped = lab.dropped,
    );
    let cfg_path = dir.join("config");
    std::fs::write(&cfg_path, cfg).unwrap();
    let mut c = Command::new("smokeping");
    c.arg(format!("--config={}", cfg_path.display()))
        .arg("--debug")
        .env("LC_ALL", "C");
    let o = run_with_timeout(&mut lab.ns.wrap(&c), 120);
    let log = format!("{}{}", text(&o.stdout), text(&o.stderr));
    println!("--- smokeping --debug (pingr as fping):\n{log}");
    assert!(o.status.success(), "smokeping failed:\n{log}");
    assert!(
        !log.contains("WARNING") && !log.contains("###"),
        "warning in the log:\n{log}"
    );
    assert!(log.contains("Got fping output"), "{log}");
    // Smokeping logs each RRD update: "RRDs::update ... N:<uptime>:<loss>:<median>:<pings>".
    let update = |name: &str| -> Vec<String> {
        let line = log
            .lines()
            .find(|l| l.contains("RRDs::update") && l.contains(&format!("/{name}.rrd")))
            .unwrap_or_else(|| panic!("no RRD update for {name}:\n{log}"));
        let data = line
            .split_whitespace()
            .last()
            .unwrap_or("")
            .trim_end_matches(')');
        data.split(':').map(str::to_string).collect()
    };
    let up = update("up");
    let dropped = update("dropped");
    println!("RRD update up: {up:?}\nRRD update dropped: {dropped:?}");
    // N : uptime : loss : median : ping1..ping5
    assert_eq!(
        up.get(2).map(String::as_str),
        Some("0"),
        "loss of the answering target: {up:?}"
    );
    assert!(
        up.iter().skip(3).all(|v| v != "U"),
        "answering target has every time: {up:?}"
    );
    assert_eq!(
        dropped.get(2).map(String::as_str),
        Some("5"),
        "full loss: {dropped:?}"
    );
    assert!(dropped.iter().skip(3).all(|v| v == "U"), "{dropped:?}");
}

/// The venv with vaping (made by .ci/run, or here when pip can reach PyPI).
fn vaping_python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/vaping-venv");
    let py = root.join("bin/python3");
    let has = |py: &Path| {
        Command::new(py)
            .args(["-c", "import vaping.plugins.fping"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if py.exists() && has(&py) {
        return Some(py);
    }
    None
}

/// vaping's fping plugin: its probe() runs `fping -u -C5 -p20 -e HOST... 2>&1`, and must
/// return the right counts and losses for the answering and the dropped target.
#[test]
fn vaping_fping_plugin() {
    let test = "vaping_fping_plugin";
    if !ready(test) {
        return;
    }
    let Some(py) = vaping_python() else {
        let why = "vaping is not installed in target/vaping-venv (bash .ci/run installs it)";
        common::skip(test, why);
        return;
    };
    let lab = lab();
    let script = r#"
import json, sys
import vaping.plugins.fping as f
cfg = {"type": "fping", "count": 5, "interval": "1s", "period": 20, "command": sys.argv[1],
       "groups": [{"name": "lab", "hosts": sys.argv[2:]}]}
p = f.FPing(cfg, None)
for row in p.probe()["data"]:
    print(json.dumps(row, sort_keys=True))
"#;
    let mut c = Command::new(&py);
    c.args(["-c", script])
        .arg(lab.pingr_fping())
        .args([&lab.up, &lab.dropped]);
    let o = run_with_timeout(&mut lab.ns.wrap(&c), 60);
    let out = text(&o.stdout);
    println!(
        "--- vaping fping probe() (pingr as fping):\n{out}{}",
        text(&o.stderr)
    );
    assert!(o.status.success(), "{}", show("vaping", &o));
    // One JSON object per line, as vaping's parse_verbose returned it; no line it could not
    // parse (it would be null).
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(!out.contains("null"), "{out}");
    assert!(!text(&o.stderr).contains("ERROR"), "{}", text(&o.stderr));
    let row = |host: &str| {
        rows.iter()
            .find(|r| r.contains(&format!("\"host\": \"{host}\"")))
            .unwrap_or_else(|| panic!("no row for {host}: {out}"))
            .to_string()
    };
    let up = row(&lab.up);
    let dropped = row(&lab.dropped);
    assert!(up.contains("\"cnt\": 5,"), "{up}");
    assert!(up.contains("\"loss\": 0.0"), "{up}");
    assert!(up.contains("\"min\": "), "{up}");
    assert!(dropped.contains("\"cnt\": 5,"), "{dropped}");
    assert!(dropped.contains("\"loss\": 1.0"), "{dropped}");
    assert!(dropped.contains("\"data\": [],"), "{dropped}");
}

/// `make install` puts fping and fping6 symlinks to the installed pingr in
/// $(PREFIX)/libexec/pingr (never a system fping), and they speak fping.
#[test]
fn make_install_adds_fping_symlinks() {
    let test = "make_install_adds_fping_symlinks";
    if !require_tool(test, "make") {
        return;
    }
    let prefix = scratch_dir().join(format!("fping-prefix-{}", common_id()));
    let run = |target: &str| {
        let mut c = Command::new("make");
        c.args(["-s", "-C", env!("CARGO_MANIFEST_DIR"), target])
            .arg(format!("PREFIX={}", prefix.display()))
            .arg(format!("BIN={}", env!("CARGO_BIN_EXE_pingr")))
            .arg("SETCAP=");
        run_with_timeout(&mut c, 120)
    };
    let o = run("install");
    assert!(o.status.success(), "{}", show("make install", &o));
    let bin = prefix.join("bin/pingr");
    for name in ["fping", "fping6"] {
        let link = prefix.join("libexec/pingr").join(name);
        assert_eq!(std::fs::read_link(&link).ok(), Some(bin.clone()), "{name}");
        let v = run_with_timeout(Command::new(&link).arg("-v"), 20);
        let want = format!("{}: Version 5.1 (pingr ", link.display());
        assert!(text(&v.stdout).starts_with(&want), "{}", show(name, &v));
    }
    assert!(!prefix.join("bin/fping").exists(), "no fping in BINDIR");
    let o = run("uninstall");
    assert!(o.status.success(), "{}", show("make uninstall", &o));
    assert!(std::fs::symlink_metadata(prefix.join("libexec/pingr/fping")).is_err());
    let _ = std::fs::remove_dir_all(&prefix);
}

/// Smokeping's FPingContinuous probe, driven through its own Perl code: the first ping()
/// starts `fping -l -B1 -r1 -p MS HOST...` in a pinger process, the second (seconds later)
/// fetches what it parsed from the per-reply lines; its RRD update string must show no loss
/// for the answering target and every ping lost for the dropped one, as with Debian's fping.
#[test]
fn smokeping_fping_continuous_probe() {
    let test = "smokeping_fping_continuous_probe";
    if !ready(test) || !require_tool(test, "smokeping") || !require_tool(test, "perl") {
        return;
    }
    let lab = lab();
    let script = r#"
use strict;
use warnings;
use lib '/usr/share/perl5';
use Smokeping;
use Smokeping::probes::FPingContinuous;
my ($bin, $secs, @hosts) = @ARGV;
my $cfg = { Database => { step => 3, pings => 5 }, General => {} };
my $p = Smokeping::probes::FPingContinuous->new({ binary => $bin }, $cfg, 'FPingContinuous');
$p->debug(1);
my %t = map { $_ => { addr => $_, probe => 'FPingContinuous' } } @hosts;
$p->add($t{$_}, $_) for @hosts;
$p->ping();
sleep $secs;
$p->ping();
print "UPDATE $_ ", $p->rrdupdate_string($t{$_}), "\n" for @hosts;
"#;
    let run = |bin: &Path| -> (String, Vec<String>, Vec<String>) {
        let mut c = Command::new("perl");
        c.args(["-e", script])
            .arg(bin)
            .arg("4")
            .args([&lab.up, &lab.dropped]);
        let o = run_with_timeout(&mut lab.ns.wrap(&c), 60);
        let log = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(o.status.success(), "{log}");
        let update = |host: &str| -> Vec<String> {
            let want = format!("UPDATE {host} ");
            let line = log
                .lines()
                .find(|l| l.starts_with(&want))
                .unwrap_or_else(|| panic!("no update for {host}:\n{log}"));
            line[want.len()..].split(':').map(str::to_string).collect()
        };
        let (up, dropped) = (update(&lab.up), update(&lab.dropped));
        (log, up, dropped)
    };
    let (log, up, dropped) = run(&lab.pingr_fping());
    println!("--- FPingContinuous (pingr as fping):\n{log}");
    assert!(!log.contains("WARNING") && !log.contains("###"), "{log}");
    // uptime : loss : median : ping1..ping5
    assert_eq!(up.get(1).map(String::as_str), Some("0"), "{up:?}\n{log}");
    assert_eq!(up.len(), 8, "{up:?}");
    assert!(up.iter().skip(2).all(|v| v != "U"), "{up:?}\n{log}");
    assert_eq!(
        dropped.get(1).map(String::as_str),
        Some("5"),
        "{dropped:?}\n{log}"
    );
    assert!(dropped.iter().skip(2).all(|v| v == "U"), "{dropped:?}");
    let (flog, fup, fdropped) = run(Path::new(FPING));
    assert_eq!(
        (up[1].as_str(), dropped[1].as_str()),
        (fup[1].as_str(), fdropped[1].as_str()),
        "Debian's fping:\n{flog}"
    );
}

/// More targets than fping's 16-bit sequence table: 131,070 loopback addresses in a
/// namespace (every 127/8 address answers there), all alive; Debian's fping 5.1 stops with
/// "not enough sequence numbers available" (printed for the record, not required).
#[test]
fn beyond_fpings_sequence_table() {
    if !ready("beyond_fpings_sequence_table") {
        return;
    }
    let ns = Netns::new();
    let dir = symlinks();
    let args = ["-s", "-q", "-i", "0", "-g", "127.2.0.0/15"];
    let mut c = Command::new(dir.join("fping"));
    c.args(args);
    let o = run_with_timeout(&mut ns.wrap(&c), 300);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{}", show("pingr", &o));
    assert!(
        err.contains("  131070 targets\n  131070 alive\n       0 unreachable\n"),
        "{err}"
    );
    let mut f = Command::new(FPING);
    f.args(args);
    let fo = run_with_timeout(&mut ns.wrap(&f), 300);
    println!(
        "pingr as fping: 131070 of 131070 alive\nDebian's fping: exit {:?}: {}",
        fo.status.code(),
        text(&fo.stderr).lines().next().unwrap_or("")
    );
}

/// `-X N` (fping 5.2; Debian's 5.1 lacks it): the run stops once N targets answered: the
/// answer comes well within the 1 s `-i` gap, so the silent target is never probed (as in
/// fping 5.2, whose loop ends at that reply), let alone retried.
#[test]
fn fast_reachable_stops_at_n() {
    let Some(lab) = ready_lab("fast_reachable_stops_at_n") else {
        return;
    };
    let o = lab.run(&lab.pingr_fping(), "-X 1 -s -i 1000 -t 5000 -r 3 $UP $DROP");
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{}", show("pingr", &o));
    assert_eq!(out, "Enough hosts reachable (required: 1, reachable: 1)\n");
    assert!(err.contains("       1 ICMP Echos sent\n"), "{err}");
    let o = lab.run(&lab.pingr_fping(), "-x 2 -t 50 -r 1 $UP $DROP");
    assert_eq!(o.status.code(), Some(1), "{}", show("pingr", &o));
    assert_eq!(
        text(&o.stdout),
        "Not enough hosts reachable (required: 2, reachable: 1)\n"
    );
}
