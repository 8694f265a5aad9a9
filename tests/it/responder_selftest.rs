//! Proves the test infrastructure itself works, without pingr: namespaces, veth
//! pairs, the misbehaving responder (checked with iputils `ping`) and the
//! `setpriv` recipes for non-root users with exactly chosen capabilities.

use crate::common;

use common::{Netns, Responder, User, Veth, CAP_NET_RAW};
use std::process::{Command, Output};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run `ping ARGS` inside `ns` (as root) and return its output.
fn ping(ns: &Netns, args: &[&str]) -> Output {
    common::run_with_timeout(&mut ns.exec("ping", args), 20)
}

fn needs_ping(test: &str) -> bool {
    common::require_root(test) && common::require_tool(test, "ping")
}

/// [`needs_ping`], then a silent namespace ([`Netns::new_silent`]); None after a SKIP.
fn silent_ns(test: &str) -> Option<Netns> {
    needs_ping(test).then(Netns::new_silent)
}

#[test]
fn silent_namespace_does_not_answer() {
    let Some(ns) = silent_ns("silent_namespace_does_not_answer") else {
        return;
    };
    for target in ["127.0.0.1", "::1"] {
        let out = ping(&ns, &["-c", "1", "-W", "1", target]);
        assert!(
            !out.status.success(),
            "kernel answered although silenced:\n{}",
            text(&out)
        );
    }
}

#[test]
fn responder_answers_ping_v4_and_v6() {
    let Some(ns) = silent_ns("responder_answers_ping_v4_and_v6") else {
        return;
    };
    let r = Responder::start(&ns, &["--mode", "normal"]);
    for target in ["127.0.0.1", "::1"] {
        let out = ping(&ns, &["-c", "2", "-i", "0.2", "-W", "1", target]);
        let t = text(&out);
        assert!(
            out.status.success(),
            "no replies from {target}:\n{t}\nresponder log:\n{}",
            r.log()
        );
        assert!(t.contains(" 2 received"), "{t}");
    }
    assert!(r.log().contains("echo request"), "{}", r.log());
}

#[test]
fn responder_dup_mode_shows_dup() {
    let Some(ns) = silent_ns("responder_dup_mode_shows_dup") else {
        return;
    };
    let r = Responder::start(&ns, &["--mode", "dup"]);
    for target in ["127.0.0.1", "::1"] {
        let out = ping(&ns, &["-c", "2", "-i", "0.2", "-W", "1", target]);
        let t = text(&out);
        assert!(
            t.contains("DUP!"),
            "no duplicates from {target}:\n{t}\nlog:\n{}",
            r.log()
        );
    }
}

#[test]
fn responder_unreach_and_timex_are_errors() {
    let Some(ns) = silent_ns("responder_unreach_and_timex_are_errors") else {
        return;
    };
    for (mode, v4, v6) in [
        (
            "unreach",
            "Destination Host Unreachable",
            "Address unreachable",
        ),
        (
            "unreach-opts",
            "Destination Host Unreachable",
            "Address unreachable",
        ),
        ("timex", "Time to live exceeded", "Time exceeded"),
    ] {
        let r = Responder::start(&ns, &["--mode", mode]);
        for (target, want) in [("127.0.0.1", v4), ("::1", v6)] {
            let out = ping(&ns, &["-c", "1", "-W", "1", target]);
            let t = text(&out);
            assert!(
                t.contains(want),
                "{mode} {target}: want {want:?} in:\n{t}\nlog:\n{}",
                r.log()
            );
        }
        drop(r);
    }
}

#[test]
fn responder_delay_and_wrongseq() {
    let Some(ns) = silent_ns("responder_delay_and_wrongseq") else {
        return;
    };
    let r = Responder::start(&ns, &["--mode", "delay", "--delay-ms", "300"]);
    let out = ping(&ns, &["-c", "1", "-W", "2", "127.0.0.1"]);
    let t = text(&out);
    let ms: f64 = t
        .split("time=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no time= in:\n{t}"));
    assert!((290.0..1500.0).contains(&ms), "delay {ms} ms:\n{t}");
    drop(r);
    let r = Responder::start(&ns, &["--mode", "wrongseq"]);
    let out = ping(&ns, &["-c", "1", "-W", "1", "::1"]);
    assert!(
        text(&out).contains("icmp_seq=1001"),
        "{}\nlog:\n{}",
        text(&out),
        r.log()
    );
}

#[test]
fn responder_over_veth_and_othersrc() {
    if !needs_ping("responder_over_veth_and_othersrc") {
        return;
    }
    let a = Netns::new();
    let b = Netns::new_silent();
    let v = Veth::dual(&a, &b);
    b.add_addr("lo", "10.203.0.1/32");
    b.add_addr("lo", "fd00:203::1/128");
    let r = Responder::start(
        &b,
        &["--mode", "normal", "--only", v.b_v4(), "--only", v.b_v6()],
    );
    for target in [v.b_v4(), v.b_v6()] {
        let out = ping(&a, &["-c", "2", "-i", "0.2", "-W", "2", target]);
        assert!(
            out.status.success(),
            "{target}:\n{}\nlog:\n{}",
            text(&out),
            r.log()
        );
    }
    drop(r);
    let forged = ["--forge-src", "10.203.0.1", "--forge-src", "fd00:203::1"];
    let r = Responder::start(&b, &[&["--mode", "othersrc"][..], &forged[..]].concat());
    for (target, from) in [(v.b_v4(), "10.203.0.1"), (v.b_v6(), "fd00:203::1")] {
        let out = ping(&a, &["-c", "1", "-W", "2", target]);
        let t = text(&out);
        assert!(
            t.contains(&format!("from {from}")),
            "{target}:\n{t}\nlog:\n{}",
            r.log()
        );
    }
}

fn caps_through(user: &User) -> common::ProcCaps {
    let out = common::run_with_timeout(
        &mut user.wrap(Command::new("cat").arg("/proc/self/status")),
        10,
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(
        common::status_field(&t, "Uid"),
        Some("4242\t4242\t4242\t4242"),
        "{t}"
    );
    assert_eq!(
        common::status_field(&t, "Gid"),
        Some("4242\t4242\t4242\t4242"),
        "{t}"
    );
    assert_eq!(common::status_field(&t, "Groups"), Some(""), "{t}");
    common::parse_status_caps(&t)
}

#[test]
fn setpriv_without_caps_is_unprivileged() {
    let test = "setpriv_without_caps_is_unprivileged";
    if !(common::require_root(test) && common::require_tool(test, "setpriv")) {
        return;
    }
    let c = caps_through(&User::unprivileged());
    assert_eq!(
        (c.inh, c.prm, c.eff, c.bnd, c.amb),
        (0, 0, 0, 0, 0),
        "{c:?}"
    );
    assert!(!c.no_new_privs);
    let c = caps_through(&User::unprivileged().with_no_new_privs());
    assert_eq!(
        (c.prm, c.eff, c.amb, c.no_new_privs),
        (0, 0, 0, true),
        "{c:?}"
    );
}

#[test]
fn setpriv_ambient_net_raw_only() {
    let test = "setpriv_ambient_net_raw_only";
    if !(common::require_root(test) && common::require_tool(test, "setpriv")) {
        return;
    }
    let c = caps_through(&User::unprivileged().with_caps(&["net_raw"], true));
    let r = CAP_NET_RAW;
    assert_eq!(
        (c.inh, c.prm, c.eff, c.bnd, c.amb),
        (r, r, r, r, r),
        "{c:?}"
    );
    // Not ambient: nothing effective, only allowed for file-capability binaries.
    let c = caps_through(&User::unprivileged().with_caps(&["net_raw"], false));
    assert_eq!(
        (c.inh, c.prm, c.eff, c.bnd, c.amb),
        (r, 0, 0, r, 0),
        "{c:?}"
    );
    // The free function builds the same command line.
    let cmd = common::as_user(4242, 4242, &["net_raw"], true, &Command::new("true"));
    let args: Vec<_> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert!(
        args.contains(&"--ambient-caps=-all,+net_raw".to_string()),
        "{args:?}"
    );
}

/// The recipes seen by a real pinger: no caps and the default ping_group_range
/// cannot ping; allowing the gid in this namespace's ping_group_range can; so can
/// ambient CAP_NET_RAW (raw sockets).
#[test]
fn unprivileged_ping_needs_group_range_or_net_raw() {
    let test = "unprivileged_ping_needs_group_range_or_net_raw";
    if !(needs_ping(test) && common::require_tool(test, "setpriv")) {
        return;
    }
    let ns = Netns::new_silent();
    let r = Responder::start(&ns, &["--mode", "normal"]);
    // Debian's ping has file capabilities, which a cleared bounding set forbids
    // (execve fails with EPERM): run a plain copy.
    let ping_path = common::which("ping").expect("ping is installed");
    let plain = common::copy_for_user(&ping_path);
    let run = |user: &User, target: &str| {
        let mut cmd = Command::new(&plain);
        cmd.args(["-c", "1", "-W", "1", target]);
        common::run_with_timeout(&mut ns.exec_as(user, &cmd), 20)
    };
    let nobody = User::unprivileged();
    let out = run(&nobody, "127.0.0.1");
    assert!(
        !out.status.success(),
        "pinged without privileges:\n{}",
        text(&out)
    );
    ns.allow_ping_group(common::TEST_GID, common::TEST_GID);
    for target in ["127.0.0.1", "::1"] {
        let out = run(&nobody, target);
        assert!(
            out.status.success(),
            "{target}:\n{}\nlog:\n{}",
            text(&out),
            r.log()
        );
    }
    ns.allow_ping_group(1, 0);
    let raw = User::unprivileged().with_caps(&["net_raw"], true);
    let out = run(&raw, "::1");
    assert!(
        out.status.success(),
        "ambient net_raw:\n{}\nlog:\n{}",
        text(&out),
        r.log()
    );
}

/// A hung command is killed with its whole process group (a grandchild holding
/// the output pipe must not keep the test waiting) and the test fails.
#[test]
#[should_panic(expected = "did not finish within 1 s")]
fn run_with_timeout_kills_hung_commands() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "sleep 30 & sleep 30"]);
    common::run_with_timeout(&mut cmd, 1);
}
