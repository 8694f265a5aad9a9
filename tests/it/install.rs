//! `make install`, `make setcap` and `make uninstall` (Makefile; man/pingr.8,
//! PRIVILEGES, Installation): files and modes, the file capability applied to the
//! installed binary only, FILECAPS, SETCAP= and a missing setcap.
//!
//! Every run installs into a DESTDIR of its own under the test's scratch directory,
//! with `BIN=` the already built debug binary, so no release build happens. Applying a
//! file capability needs root, so these tests need root.

use crate::common;

use common::{Netns, User, CAP_NET_RAW, TEST_GID, TEST_UID};
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const PREFIX: &str = "/usr";

/// A DESTDIR for one test, removed when the test ends.
struct DestDir(PathBuf);

impl DestDir {
    fn new(test: &str) -> DestDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = common::scratch_dir().join(format!("install-{test}-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create DESTDIR");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        DestDir(dir)
    }
    fn bin(&self) -> PathBuf {
        self.0.join("usr/bin/pingr")
    }
    fn man(&self) -> PathBuf {
        self.0.join("usr/share/man/man8/pingr.8")
    }
}

impl Drop for DestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Made {
    out: Output,
    stdout: String,
    stderr: String,
}

impl Made {
    fn text(&self) -> String {
        format!(
            "status: {}\n--- stdout\n{}--- stderr\n{}",
            self.out.status, self.stdout, self.stderr
        )
    }
    fn assert_ok(&self, what: &str) {
        assert!(self.out.status.success(), "{what} failed:\n{}", self.text());
    }
}

/// `make -C <manifest dir> TARGET DESTDIR=<dest> PREFIX=/usr BIN=<built pingr> EXTRA...`,
/// isolated from any MAKEFLAGS or install variables in the environment.
fn make(target: &str, dest: &DestDir, extra: &[&str]) -> Made {
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg("--no-print-directory")
        .arg(target)
        .arg(format!("DESTDIR={}", dest.0.display()))
        .arg(format!("PREFIX={PREFIX}"))
        .arg(format!("BIN={}", env!("CARGO_BIN_EXE_pingr")))
        .args(extra);
    for var in [
        "MAKEFLAGS",
        "MFLAGS",
        "MAKELEVEL",
        "BINDIR",
        "MANDIR",
        "FILECAPS",
        "SETCAP",
        "DESTDIR",
        "PREFIX",
    ] {
        cmd.env_remove(var);
    }
    let out = common::run_with_timeout(&mut cmd, 60);
    Made {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        out,
    }
}

/// `getcap FILE` output, trimmed ("" when the file has no capability).
fn getcap(path: &Path) -> String {
    let out = common::run_with_timeout(Command::new("getcap").arg(path), 10);
    assert!(
        out.status.success(),
        "getcap {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn mode(path: &Path) -> u32 {
    let m =
        std::fs::metadata(path).unwrap_or_else(|e| panic!("{} not installed: {e}", path.display()));
    assert!(m.is_file(), "{} is not a regular file", path.display());
    m.permissions().mode() & 0o7777
}

fn needs(test: &str) -> bool {
    common::require_root(test)
        && common::require_tool(test, "make")
        && common::require_tool(test, "setcap")
        && common::require_tool(test, "getcap")
}

/// Both files present with the right modes and contents.
fn assert_installed(test: &str, dest: &DestDir, m: &Made) {
    assert_eq!(
        mode(&dest.bin()),
        0o755,
        "{test}: binary mode\n{}",
        m.text()
    );
    assert_eq!(
        mode(&dest.man()),
        0o644,
        "{test}: man page mode\n{}",
        m.text()
    );
    let built = std::fs::read(env!("CARGO_BIN_EXE_pingr")).expect("read built pingr");
    assert!(
        std::fs::read(dest.bin()).expect("read installed pingr") == built,
        "{test}: the installed binary is not BIN"
    );
    let man = concat!(env!("CARGO_MANIFEST_DIR"), "/man/pingr.8");
    assert_eq!(
        std::fs::read(dest.man()).expect("read installed man page"),
        std::fs::read(man).expect("read man/pingr.8"),
        "{test}: the installed man page is not man/pingr.8"
    );
}

fn assert_build_tree_has_no_capability(test: &str) {
    let built = Path::new(env!("CARGO_BIN_EXE_pingr"));
    assert_eq!(
        getcap(built),
        "",
        "{test}: the build tree binary {} got a capability",
        built.display()
    );
}

/// [`needs`], then `make install EXTRA` into a DESTDIR of its own ([`assert_installed`]);
/// None after a SKIP.
fn installed(test: &str, tag: &str, extra: &[&str]) -> Option<(DestDir, Made)> {
    if !needs(test) {
        return None;
    }
    let dest = DestDir::new(tag);
    let m = make("install", &dest, extra);
    m.assert_ok(&format!("make install {}", extra.join(" ")));
    assert_installed(test, &dest, &m);
    Some((dest, m))
}

/// Run `cmd` (a pingr run as a user, inside a namespace) and require exit 0; returns its
/// stdout, its stderr and both with the status, for messages.
fn run_ok(what: &str, cmd: &mut Command) -> (String, String, String) {
    let out = common::run_with_timeout(cmd, 20);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let text = format!("status: {}\n{stdout}{stderr}", out.status);
    assert_eq!(out.status.code(), Some(0), "{what}:\n{text}");
    (stdout, stderr, text)
}

/// `m` ran `setcap CAPS BIN` (a line of its own), `getcap BIN` names BIN and shows CAPS,
/// and the build tree's binary still holds no capability.
fn assert_setcap_ran(test: &str, dest: &DestDir, m: &Made, caps: &str) {
    let cmd = format!("setcap {caps} {}", dest.bin().display());
    assert!(
        m.stdout.lines().any(|l| l.trim() == cmd),
        "{test}: want the line `{cmd}`:\n{}",
        m.text()
    );
    let got = getcap(&dest.bin());
    eprintln!("{test}: getcap: {got}");
    let want = caps.replace('+', "=");
    assert!(
        got.ends_with(&want) && got.starts_with(&dest.bin().display().to_string()),
        "{test}: getcap: {got:?}, want {want}\n{}",
        m.text()
    );
    assert_build_tree_has_no_capability(test);
}

#[test]
fn install_applies_cap_net_raw_ep_to_the_installed_binary_only() {
    let test = "install_applies_cap_net_raw_ep_to_the_installed_binary_only";
    let Some((dest, m)) = installed(test, "ep", &[]) else {
        return;
    };
    assert_setcap_ran(test, &dest, &m, "cap_net_raw+ep");
    assert!(
        !m.stderr.contains("warning"),
        "{test}: unexpected warning:\n{}",
        m.text()
    );
}

#[test]
fn install_with_filecaps_p_applies_cap_net_raw_p() {
    let test = "install_with_filecaps_p_applies_cap_net_raw_p";
    let Some((dest, m)) = installed(test, "p", &["FILECAPS=cap_net_raw+p"]) else {
        return;
    };
    assert_setcap_ran(test, &dest, &m, "cap_net_raw+p");
}

#[test]
fn install_with_empty_setcap_skips_the_capability_then_make_setcap_applies_it() {
    let test = "install_with_empty_setcap_skips_the_capability_then_make_setcap_applies_it";
    let Some((dest, m)) = installed(test, "nosetcap", &["SETCAP="]) else {
        return;
    };
    assert_eq!(getcap(&dest.bin()), "", "{test}: SETCAP= still applied one");
    let said = m
        .stdout
        .lines()
        .find(|l| l.contains("no file capability"))
        .unwrap_or_else(|| panic!("{test}: no line saying it was skipped:\n{}", m.text()));
    assert!(
        said.contains(&dest.bin().display().to_string()),
        "{test}: the line does not name the file: {said}"
    );
    assert!(
        !m.stdout.lines().any(|l| l.starts_with("setcap ")),
        "{test}: ran setcap anyway:\n{}",
        m.text()
    );

    // `make setcap` alone applies it afterwards.
    let m = make("setcap", &dest, &[]);
    m.assert_ok("make setcap");
    assert_setcap_ran(test, &dest, &m, "cap_net_raw+ep");
}

#[test]
fn missing_setcap_tool_warns_and_still_succeeds() {
    let test = "missing_setcap_tool_warns_and_still_succeeds";
    if !needs(test) {
        return;
    }
    let dest = DestDir::new("missing");
    let m = make("install", &dest, &["SETCAP=/nonexistent/setcap"]);
    eprintln!(
        "{test}: exit {:?}, stderr: {}",
        m.out.status.code(),
        m.stderr.trim()
    );
    assert_eq!(m.out.status.code(), Some(0), "{test}:\n{}", m.text());
    assert_installed(test, &dest, &m);
    assert!(
        m.stderr
            .lines()
            .any(|l| l.contains("warning") && l.contains("/nonexistent/setcap")),
        "{test}: no warning naming /nonexistent/setcap on stderr:\n{}",
        m.text()
    );
    assert_eq!(getcap(&dest.bin()), "", "{test}: a capability was applied");
}

#[test]
fn uninstall_removes_both_files() {
    let test = "uninstall_removes_both_files";
    if !needs(test) {
        return;
    }
    let dest = DestDir::new("uninstall");
    make("install", &dest, &["SETCAP="]).assert_ok("make install SETCAP=");
    assert!(dest.bin().exists() && dest.man().exists());
    let m = make("uninstall", &dest, &[]);
    m.assert_ok("make uninstall");
    for f in [dest.bin(), dest.man()] {
        assert!(
            std::fs::symlink_metadata(&f).is_err(),
            "{test}: {} is still there:\n{}",
            f.display(),
            m.text()
        );
    }
}

/// End to end: what `make install` produced gives a non-root user raw sockets in a
/// namespace of its own (127.0.0.1 only), where the bounding set keeps CAP_NET_RAW.
#[test]
fn installed_binary_pings_as_non_root_with_raw_socket() {
    let test = "installed_binary_pings_as_non_root_with_raw_socket";
    if !(needs(test) && common::require_tool(test, "setpriv")) {
        return;
    }
    let dest = DestDir::new("e2e");
    make("install", &dest, &[]).assert_ok("make install");
    let ns = Netns::new();
    let user = User::new(TEST_UID, TEST_GID).with_caps(&["net_raw"], false);
    // Executed by the unprivileged shell, so uid 4242's own access to the installed
    // file is checked (setpriv itself still holds root's capabilities when it execs).
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "exec \"$0\" \"$@\""])
        .arg(dest.bin())
        .args(["-v", "-c", "1", "127.0.0.1"]);
    let (stdout, stderr, text) = run_ok(test, &mut ns.wrap(&user.wrap(&cmd)));
    assert!(
        stdout.contains("bytes from 127.0.0.1: icmp_seq="),
        "{test}:\n{text}"
    );
    assert!(
        stderr.contains("pingr: IPv4: raw ICMP socket"),
        "{test}:\n{text}"
    );
    let start = format!("eff={CAP_NET_RAW:#x} prm={CAP_NET_RAW:#x}");
    assert!(
        stderr.contains(&format!("capabilities at start: {start}")),
        "{test}: want `{start}` at start:\n{text}"
    );
}

// --- issue 13: `make install-sysctl` (where file capabilities do not survive) ---

/// `make install-sysctl` installs contrib/sysctl.d's drop-in under DESTDIR (mode 0644,
/// the same bytes); `sysctl -p` of the installed file, in a namespace of the test's own,
/// opens `ping_group_range` there, so an unprivileged user without any capability then
/// pings 127.0.0.1 and ::1 through ICMP datagram sockets; `make uninstall-sysctl` removes it.
#[test]
fn install_sysctl_drop_in_opens_datagram_sockets_for_every_user() {
    let test = "install_sysctl_drop_in_opens_datagram_sockets_for_every_user";
    if !(needs(test)
        && common::require_tool(test, "setpriv")
        && common::require_tool(test, "sysctl"))
    {
        return;
    }
    let dest = DestDir::new("sysctl");
    let m = make("install-sysctl", &dest, &[]);
    m.assert_ok("make install-sysctl");
    let conf = dest.0.join("etc/sysctl.d/60-pingr-ping-group.conf");
    assert_eq!(mode(&conf), 0o644, "{test}: drop-in mode\n{}", m.text());
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/sysctl.d/60-pingr-ping-group.conf"
    );
    assert_eq!(
        std::fs::read(&conf).expect("read installed drop-in"),
        std::fs::read(src).expect("read contrib drop-in"),
        "{test}: the installed drop-in is not contrib's"
    );

    // Applied inside a fresh namespace only (never the root namespace's sysctls).
    let ns = Netns::new();
    let before = ns.run("cat /proc/sys/net/ipv4/ping_group_range");
    let applied = common::run_with_timeout(
        &mut ns.exec("sysctl", [OsStr::new("-p"), conf.as_os_str()]),
        10,
    );
    assert!(
        applied.status.success(),
        "{test}: sysctl -p {} failed: {}",
        conf.display(),
        String::from_utf8_lossy(&applied.stderr)
    );
    let after = ns.run("cat /proc/sys/net/ipv4/ping_group_range");
    eprintln!(
        "{test}: ping_group_range {:?} -> {:?}",
        before.trim(),
        after.trim()
    );
    assert_eq!(
        after.split_whitespace().collect::<Vec<_>>(),
        ["0", "2147483647"],
        "{test}: after sysctl -p"
    );
    let user = User::new(TEST_UID, TEST_GID);
    for addr in ["127.0.0.1", "::1"] {
        let mut cmd = Command::new(common::pingr_for_user());
        cmd.args(["-v", "-c", "2", "-i", "0.2", addr]);
        let (stdout, stderr, text) =
            run_ok(&format!("{test} {addr}"), &mut ns.exec_as(&user, &cmd));
        assert!(
            stdout.contains("2 packets transmitted, 2 received, 0% packet loss"),
            "{test} {addr}:\n{text}"
        );
        assert!(
            stderr.contains("ICMP datagram socket")
                && stderr.contains("capabilities at start: eff=0x0 prm=0x0"),
            "{test} {addr}: want a datagram socket and no capability:\n{text}"
        );
    }

    let m = make("uninstall-sysctl", &dest, &[]);
    m.assert_ok("make uninstall-sysctl");
    assert!(
        std::fs::symlink_metadata(&conf).is_err(),
        "{test}: {} is still there",
        conf.display()
    );
}
