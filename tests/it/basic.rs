//! The core pinger end to end (issue 2): the built binary against real hosts in network
//! namespaces the tests create: IPv4 and IPv6 loopback, several hosts at once, a silent host,
//! an unresolvable name, raw sockets as root and datagram sockets as a non-root user, ICMP
//! errors from a router, signals, a closed pipe, and the exit statuses.

use crate::common;
use crate::common::{no_panic, pingr_cmd, text};

use common::{pingr, pingr_for_user, require_root, run_with_timeout, Netns, User, Veth};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn run_in(ns: &Netns, args: &[&str]) -> Output {
    run_with_timeout(&mut ns.wrap(&pingr_cmd(args)), 30)
}

/// `pingr ARGS` as root in `ns`, which must exit 0; the run and its stdout.
fn answered(ns: &Netns, args: &[&str]) -> (Output, String) {
    let o = run_in(ns, args);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    (o, out)
}

/// The summary-table row of a target, split on white space.
fn row<'a>(stdout: &'a str, target: &str) -> Vec<&'a str> {
    common::summary_row(stdout, target)
        .unwrap_or_else(|| panic!("no table row for {target} in:\n{stdout}"))
}

#[test]
fn single_ipv4_target_has_ping_shape() {
    let Some(ns) = common::root_netns("single_ipv4_target_has_ping_shape") else {
        return;
    };
    let (o, out) = answered(&ns, &["-c", "3", "-i", "0.2", "127.0.0.1"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.");
    for (i, l) in lines[1..4].iter().enumerate() {
        let want = format!("64 bytes from 127.0.0.1: icmp_seq={} ttl=64 time=", i + 1);
        assert!(l.starts_with(&want) && l.ends_with(" ms"), "{l}");
    }
    assert_eq!(lines[4], "");
    assert_eq!(lines[5], "--- 127.0.0.1 ping statistics ---");
    assert!(
        lines[6].starts_with("3 packets transmitted, 3 received, 0% packet loss, time "),
        "{}",
        lines[6]
    );
    assert!(
        lines[7].starts_with("rtt min/avg/max/mdev = "),
        "{}",
        lines[7]
    );
    let nums: Vec<f64> = lines[7]["rtt min/avg/max/mdev = ".len()..]
        .trim_end_matches(" ms")
        .split('/')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(nums.len(), 4);
    assert!(nums[0] <= nums[1] && nums[1] <= nums[2], "{nums:?}");
    assert_eq!(lines.len(), 8, "no summary table for one target:\n{out}");
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
}

#[test]
fn single_ipv6_target_and_quiet() {
    let Some(ns) = common::root_netns("single_ipv6_target_and_quiet") else {
        return;
    };
    let (_, out) = answered(&ns, &["-c", "2", "-i", "0.2", "::1"]);
    assert!(
        out.starts_with("PING ::1 (::1) 56 data bytes\n64 bytes from ::1: icmp_seq=1 "),
        "{out}"
    );
    assert!(
        out.contains("2 packets transmitted, 2 received, 0% packet loss"),
        "{out}"
    );
    let q = run_in(&ns, &common::words("-q -c 2 -i 0.2 -s 100 ::1"));
    let qout = text(&q.stdout);
    assert_eq!(q.status.code(), Some(0));
    assert!(!qout.contains("bytes from"), "-q printed replies:\n{qout}");
    assert!(
        qout.contains("--- ::1 ping statistics ---\n2 packets transmitted, 2 received"),
        "{qout}"
    );
}

/// A silent host beside answering ones: exit 1, the others unaffected; with an unresolvable
/// name beside them: exit 2 (it takes precedence), and the others still reported.
#[test]
fn several_hosts_silent_and_unresolvable() {
    let Some(a) = common::root_netns("several_hosts_silent_and_unresolvable") else {
        return;
    };
    let b = Netns::new_silent();
    let v = Veth::dual(&a, &b);
    let silent = v.b_v4().to_string();
    let silent6 = v.b_v6().to_string();
    let targets = ["127.0.0.1", &silent, "::1", &silent6, "127.0.0.2"];
    let o = run_in(&a, &[common::QUICK, &targets].concat());
    let out = text(&o.stdout);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", text(&o.stderr));
    for t in ["127.0.0.1", "::1", "127.0.0.2"] {
        let r = row(&out, t);
        assert_eq!((r[2], r[3], r[4]), ("3", "3", "0.0"), "{t}: {r:?}");
        assert!(out.contains(&format!(
            "--- {t} ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss"
        )));
    }
    for t in [&silent, &silent6] {
        let r = row(&out, t);
        assert_eq!(
            (r[2], r[3], r[4], r[5]),
            ("3", "0", "100.0", "-"),
            "{t}: {r:?}"
        );
    }
    // Rows in input order.
    let order: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("TARGET"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        order,
        [
            "127.0.0.1",
            silent.as_str(),
            "::1",
            silent6.as_str(),
            "127.0.0.2"
        ]
    );

    // The namespace has no route out, so the lookup fails without sending a packet anywhere.
    let o = run_in(
        &a,
        &common::words_then("-c 2 -i 0.2 -W 0.5 127.0.0.1 nope.invalid", &[&silent]),
    );
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.lines().any(|l| l.starts_with("pingr: nope.invalid: ")),
        "{err}"
    );
    assert_eq!(row(&out, "127.0.0.1")[3], "2");
    assert_eq!(row(&out, "nope.invalid")[1..4], ["-", "-", "-"]);
    assert_eq!(row(&out, &silent)[3], "0");
}

/// Root gets raw sockets; a non-root user admitted by ping_group_range gets the kernel's
/// datagram sockets, IPv4 and IPv6.
#[test]
fn raw_as_root_datagram_as_user() {
    let Some(ns) = common::root_netns("raw_as_root_datagram_as_user") else {
        return;
    };
    let o = run_in(&ns, &common::words("-v -c 2 -i 0.2 127.0.0.1 ::1"));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("pingr: IPv4: raw ICMP socket"), "{err}");
    assert!(err.contains("pingr: IPv6: raw ICMP socket"), "{err}");

    ns.allow_ping_group(common::TEST_GID, common::TEST_GID);
    let mut cmd = Command::new(pingr_for_user());
    cmd.args(["-v", "-c", "2", "-i", "0.2", "127.0.0.1", "::1"]);
    let o = run_with_timeout(&mut ns.exec_as(&User::unprivileged(), &cmd), 30);
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(err.contains("pingr: IPv4: ICMP datagram socket"), "{err}");
    assert!(err.contains("pingr: IPv6: ICMP datagram socket"), "{err}");
    assert_eq!(row(&out, "127.0.0.1")[3], "2");
    assert_eq!(row(&out, "::1")[3], "2");
    assert!(
        out.contains("64 bytes from ::1: icmp_seq=2 ttl=64 time="),
        "{out}"
    );
}

/// Destination unreachable and time exceeded from a router are printed with the router's
/// address and counted as errors, never as replies (raw sockets and datagram sockets).
#[test]
fn icmp_errors_name_the_router() {
    if !require_root("icmp_errors_name_the_router")
        || !common::require_tool("icmp_errors_name_the_router", "nft")
    {
        return;
    }
    let a = Netns::new();
    let r = Netns::new();
    let c = Netns::new();
    for ns in [&a, &r, &c] {
        // No duplicate address detection: the routed IPv6 path works at once.
        ns.sysctl("net.ipv6.conf.default.accept_dad", "0");
    }
    let ar = Veth::dual(&a, &r);
    let rc = Veth::dual(&r, &c);
    r.sysctl("net.ipv4.ip_forward", "1");
    r.sysctl("net.ipv6.conf.all.forwarding", "1");
    r.sysctl("net.ipv4.icmp_ratelimit", "0");
    r.sysctl("net.ipv6.icmp.ratelimit", "0");
    // IPv4 "unreachable" routes answer through ip_error(), whose per-peer rate limit is a
    // global sysctl; an nftables reject in the router is limited only by the namespace's
    // icmp_ratelimit (0 here).
    r.run(&format!("ip route add 10.209.0.0/16 via {}", rc.b_v4()));
    r.run("nft add table ip t; nft add chain ip t f '{ type filter hook forward priority 0; }'; nft add rule ip t f ip daddr 10.209.0.0/16 reject with icmp type host-unreachable");
    r.run("ip -6 route add unreachable fd00:209::/32");
    a.run(&format!(
        "ip route add default via {}; ip -6 route add default via {}",
        ar.b_v4(),
        ar.b_v6()
    ));
    c.run(&format!(
        "ip route add default via {}; ip -6 route add default via {}",
        rc.a_v4(),
        rc.a_v6()
    ));
    let router4 = ar.b_v4().to_string();
    let router6 = ar.b_v6().to_string();
    let far4 = rc.b_v4().to_string();
    let far6 = rc.b_v6().to_string();
    a.allow_ping_group(common::TEST_GID, common::TEST_GID);
    // Neighbour discovery along the routed path can take a moment: wait until it answers.
    let warm = run_in(&a, &["-c", "1", "-W", "5", &far4, &far6]);
    assert_eq!(warm.status.code(), Some(0), "{}", text(&warm.stdout));

    for user in [None, Some(User::unprivileged())] {
        let run = |args: &[&str]| {
            let mut cmd = Command::new(pingr_for_user());
            cmd.args(args);
            let wrapped = match &user {
                None => a.wrap(&cmd),
                Some(u) => a.exec_as(u, &cmd),
            };
            let mut wrapped = wrapped;
            run_with_timeout(&mut wrapped, 30)
        };
        let who = if user.is_some() { "datagram" } else { "raw" };
        // The far host answers through the router; unreachable prefixes get errors.
        let o = run(&common::words_then(
            "-c 2 -i 0.2 -W 0.5",
            &[&far4, "10.209.0.1", &far6, "fd00:209::1"],
        ));
        let out = text(&o.stdout);
        no_panic(&o);
        assert_eq!(o.status.code(), Some(1), "{who}: {out}{}", text(&o.stderr));
        assert_eq!(row(&out, &far4)[3], "2", "{who}: {out}");
        assert_eq!(row(&out, &far6)[3], "2", "{who}: {out}");
        let u4 = row(&out, "10.209.0.1");
        assert_eq!((u4[3], u4[13]), ("0", "2"), "{who}: {out}");
        let u6 = row(&out, "fd00:209::1");
        assert_eq!((u6[3], u6[13]), ("0", "2"), "{who}: {out}");
        assert!(
            out.contains(&format!(
                "From {router4} icmp_seq=1 Destination Host Unreachable"
            )),
            "{who}: {out}"
        );
        assert!(
            out.contains(&format!(
                "From {router6} icmp_seq=1 Destination unreachable: No route"
            )),
            "{who}: {out}"
        );
        assert!(out.contains("+2 errors, 100% packet loss"), "{who}: {out}");

        // TTL 1: the router answers "time exceeded" for the far host.
        let o = run(&["-c", "2", "-i", "0.2", "-W", "0.5", "-t", "1", &far4, &far6]);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{who}: {out}{}", text(&o.stderr));
        assert!(
            out.contains(&format!("From {router4} icmp_seq=1 Time to live exceeded")),
            "{who}: {out}"
        );
        assert!(
            out.contains(&format!(
                "From {router6} icmp_seq=1 Time exceeded: Hop limit"
            )),
            "{who}: {out}"
        );
        assert_eq!(row(&out, &far4)[3], "0");
        assert_eq!(row(&out, &far4)[13], "2");
    }
}

/// SIGINT stops sending and prints the summary of everything so far; the exit status is
/// computed from it (the silent host never answered: 1).
#[test]
fn sigint_prints_the_summary_so_far() {
    let Some(a) = common::root_netns("sigint_prints_the_summary_so_far") else {
        return;
    };
    let b = Netns::new_silent();
    let v = Veth::new(&a, "10.202.0.1/24", &b, "10.202.0.2/24");
    let mut cmd = a.wrap(&pingr_cmd(&["-i", "0.2", "127.0.0.1", v.b_v4()]));
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(900));
    // `ip netns exec` execs into pingr, so the child's pid is pingr's.
    let t0 = Instant::now();
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let o = common::wait_with_timeout(child, 10, "pingr after SIGINT");
    assert!(t0.elapsed() < Duration::from_secs(5));
    let out = text(&o.stdout);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let r = row(&out, "127.0.0.1");
    let sent: u32 = r[2].parse().unwrap();
    assert!(sent >= 3, "{r:?}");
    assert_eq!(r[2], r[3], "every answered probe counted: {r:?}");
    let s = row(&out, v.b_v4());
    assert_eq!(s[3], "0");
    assert!(!out.contains("NaN") && !out.contains("nan"), "{out}");
    assert!(out.contains(&format!("--- {} ping statistics ---", v.b_v4())));
}

/// A closed stdout pipe ends pingr quietly: no error text, no panic.
#[test]
fn closed_pipe_ends_quietly() {
    let Some(ns) = common::root_netns("closed_pipe_ends_quietly") else {
        return;
    };
    let line = format!(
        "'{}' -i 0.1 127.0.0.1 | head -1; echo \"status=${{PIPESTATUS[0]}}\"",
        pingr().display()
    );
    let t0 = Instant::now();
    let o = run_with_timeout(&mut ns.exec("bash", ["-c", &line]), 20);
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(
        out.starts_with("PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\nstatus="),
        "{out}"
    );
    assert!(err.is_empty(), "stderr: {err}");
    let status: i32 = out.trim().rsplit('=').next().unwrap().parse().unwrap();
    assert!((0..=1).contains(&status), "{out}");
}

/// -w ends an endless run at the deadline; exit 0 when the host answered.
#[test]
fn deadline_ends_an_endless_run() {
    let Some(ns) = common::root_netns("deadline_ends_an_endless_run") else {
        return;
    };
    let t0 = Instant::now();
    let o = run_in(&ns, &["-w", "1", "-i", "0.25", "127.0.0.1"]);
    let took = t0.elapsed();
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(
        out.contains("4 packets transmitted, 4 received")
            || out.contains("5 packets transmitted, 5 received"),
        "{out}"
    );
}

/// No usable socket: exit 4 and one line naming the fix; nothing on stdout.
#[test]
fn no_privilege_is_exit_4_with_the_fix() {
    let Some(ns) = common::root_netns("no_privilege_is_exit_4_with_the_fix") else {
        return;
    };
    let mut cmd = Command::new(pingr_for_user());
    cmd.args(["-c", "1", "127.0.0.1"]);
    let o = run_with_timeout(&mut ns.exec_as(&User::unprivileged(), &cmd), 10);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    for want in [
        "cannot open an IPv4 ICMP socket",
        "sudo make install",
        "setcap cap_net_raw+ep",
        "ping_group_range",
        "--cap-add=net_raw",
    ] {
        assert!(err.contains(want), "missing '{want}': {err}");
    }
}

/// A user who is not root cannot flood (iputils' and fping's rule): -i below 2 ms or --gap
/// below 1 ms is a command-line error, before anything is sent; root may.
#[test]
fn users_cannot_flood() {
    let Some(ns) = common::root_netns("users_cannot_flood") else {
        return;
    };
    ns.allow_ping_group(common::TEST_GID, common::TEST_GID);
    let user = |args: &[&str]| {
        let mut cmd = Command::new(pingr_for_user());
        cmd.args(args);
        run_with_timeout(&mut ns.exec_as(&User::unprivileged(), &cmd), 20)
    };
    for (args, opt) in [
        (&["-c", "3", "-i", "0.001", "127.0.0.1"][..], "-i: "),
        (&["-c", "3", "--gap", "0", "127.0.0.1"][..], "--gap: "),
    ] {
        let o = user(args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(o.stdout.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("pingr: {opt}")) && err.contains("root"),
            "{err}"
        );
    }
    let o = user(&["-c", "3", "-i", "0.002", "--gap", "1", "127.0.0.1"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = run_in(&ns, &common::words("-c 3 -i 0 --gap 0 127.0.0.1"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}
