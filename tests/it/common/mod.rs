#![allow(dead_code)]
//! Shared helpers for pingr's integration tests (each `tests/*.rs` does `mod common;`).
//!
//! Everything here sends packets only to loopback or to addresses inside network
//! namespaces that the test itself created ([`Netns`], [`Veth`]). Tests that need
//! root start with `if !common::require_root("name") { return; }`: without root they
//! print a `SKIP` line, unless `PINGR_REQUIRE_ROOT=1`, where a skip is a failure.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Bit of CAP_NET_ADMIN in the /proc/PID/status capability masks.
pub const CAP_NET_ADMIN: u64 = 1 << 12;
/// Bit of CAP_NET_RAW in the /proc/PID/status capability masks.
pub const CAP_NET_RAW: u64 = 1 << 13;

/// A uid/gid that has no passwd entry and no privileges (any unused id works).
pub const TEST_UID: u32 = 4242;
pub const TEST_GID: u32 = 4242;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn next_id() -> usize {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// The pingr binary under test.
pub fn pingr() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pingr"))
}

/// The `responder` example (tests/support/responder.rs), next to the pingr binary
/// in `<target>/<profile>/examples/`. Plain `cargo test` builds it; `cargo test
/// --test NAME` does not, so the first call runs `cargo build --example responder`
/// for the same profile and target directory (also making sure it is fresh).
pub fn responder_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = pingr();
            let profile_dir = exe.parent().expect("pingr has a parent directory");
            let path = profile_dir.join("examples").join("responder");
            let profile = match profile_dir.file_name().and_then(OsStr::to_str) {
                Some("debug") | None => "dev".to_string(),
                Some(p) => p.to_string(),
            };
            let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or(env!("CARGO").into()));
            cargo.args([
                "build",
                "--quiet",
                "--example",
                "responder",
                "--profile",
                &profile,
            ]);
            cargo
                .arg("--manifest-path")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
            if let Some(target_dir) = profile_dir.parent() {
                cargo.arg("--target-dir").arg(target_dir);
            }
            let built = cargo.stdin(Stdio::null()).status().map(|s| s.success());
            if !path.exists() {
                panic!(
                    "{} is missing and `cargo build --example responder` failed ({built:?}); \
                     build it first (plain `cargo test` builds examples)",
                    path.display()
                );
            }
            if built.as_ref().map_or(true, |ok| !ok) {
                eprintln!(
                    "warning: could not rebuild the responder ({built:?}); using {}",
                    path.display()
                );
            }
            path
        })
        .clone()
}

fn strict() -> bool {
    std::env::var("PINGR_REQUIRE_ROOT").is_ok_and(|v| v == "1")
}

/// Report that `test` cannot run: prints `SKIP <test>: <reason>` to stderr and
/// returns false, or panics when `PINGR_REQUIRE_ROOT=1` (CI: a skip is a failure).
pub fn skip(test: &str, reason: &str) -> bool {
    if strict() {
        panic!("{test}: {reason} (and PINGR_REQUIRE_ROOT=1 forbids skipping)");
    }
    eprintln!("SKIP {test}: {reason}");
    false
}

/// One field of a /proc/PID/status text (`"Uid"` gives `"0\t0\t0\t0"`).
pub fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == key).then_some(v.trim())
    })
}

/// The effective uid of this process (from /proc/self/status; no unsafe needed).
pub fn euid() -> u32 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status_field(&s, "Uid")
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(u32::MAX)
}

/// Where `tool` is: the first file of that name in PATH or the sbin directories.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let dirs = path
        .split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"]);
    let found = dirs
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(tool))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()));
    found
}

/// Whether `tool` is installed (see [`which`]).
pub fn have_tool(tool: &str) -> bool {
    which(tool).is_some()
}

/// True if this process can build test networks: euid 0, `ip` present and a
/// network namespace can really be created (checked once). Otherwise prints
/// `SKIP <test>: ...` and returns false (or panics under `PINGR_REQUIRE_ROOT=1`).
pub fn require_root(test: &str) -> bool {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let check = CHECK.get_or_init(|| {
        if euid() != 0 {
            return Err("needs root (CAP_NET_ADMIN to create network namespaces)".into());
        }
        if !have_tool("ip") {
            return Err("needs the `ip` tool (iproute2) to create network namespaces".into());
        }
        let name = format!("pingr-t-{}-probe", std::process::id());
        let out = Command::new("ip").args(["netns", "add", &name]).output();
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        match out {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(format!(
                "cannot create network namespaces: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run `ip netns add`: {e}")),
        }
    });
    match check {
        Ok(()) => true,
        Err(reason) => skip(test, reason),
    }
}

/// True if `tool` (e.g. "nft", "ping", "setpriv") is installed; otherwise a SKIP
/// (or a panic under `PINGR_REQUIRE_ROOT=1`).
pub fn require_tool(test: &str, tool: &str) -> bool {
    have_tool(tool)
        || skip(
            test,
            &format!("needs the `{tool}` tool, which is not installed"),
        )
}

/// Run `cmd` (stdin from /dev/null, stdout and stderr captured), killing its whole
/// process group and panicking if it runs longer than `secs` seconds.
pub fn run_with_timeout(cmd: &mut Command, secs: u64) -> Output {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.process_group(0);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    wait_with_timeout(child, secs, &format!("{cmd:?}"))
}

/// Wait for a child spawned with piped stdout/stderr (and, ideally, its own process
/// group), collecting its output; on timeout kill it (and its group) and panic.
pub fn wait_with_timeout(mut child: Child, secs: u64, what: &str) -> Output {
    fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                let (o, e) = (
                    out.join().unwrap_or_default(),
                    err.join().unwrap_or_default(),
                );
                panic!(
                    "{what} did not finish within {secs} s and was killed\n--- stdout\n{}\n--- stderr\n{}",
                    String::from_utf8_lossy(&o),
                    String::from_utf8_lossy(&e)
                );
            }
        }
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// SIGKILL the process group `pgid` (a child started with `process_group(0)`).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Copy of `cmd` (program, arguments, environment changes, working directory).
fn clone_command(cmd: &Command, program: &OsStr, prefix: &[&OsStr]) -> Command {
    let mut c = Command::new(program);
    c.args(prefix).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        c.current_dir(d);
    }
    c
}

/// Panic with the command's output unless it succeeded; return its stdout.
fn check(cmd: &mut Command) -> String {
    let out = run_with_timeout(cmd, 30);
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace made for one test: `pingr-t-<pid>-<counter>`, loopback up
/// (so 127.0.0.1 and ::1 exist). Dropping it kills every process left inside and
/// deletes it, which also removes its veth ends.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        static CLEAN: std::sync::Once = std::sync::Once::new();
        CLEAN.call_once(remove_stale_namespaces);
        let name = format!("pingr-t-{}-{}", std::process::id(), next_id());
        check(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        ns.run("ip link set lo up");
        ns
    }

    /// A "silent host": the kernel ignores echo requests (IPv4 and IPv6), so only
    /// a responder running inside answers, or nothing does.
    pub fn new_silent() -> Netns {
        let ns = Netns::new();
        ns.silence();
        ns
    }

    /// Switch off the kernel's echo replies in this namespace.
    pub fn silence(&self) {
        self.sysctl("net.ipv4.icmp_echo_ignore_all", "1");
        self.sysctl("net.ipv6.icmp.echo_ignore_all", "1");
    }

    /// `ip netns exec NAME prog args...`
    pub fn exec<I, S>(&self, prog: impl AsRef<OsStr>, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(prog).args(args);
        c
    }

    /// `cmd` (program, args, env, cwd) run inside this namespace. Compose with
    /// [`User::wrap`] as `ns.wrap(&user.wrap(&cmd))`: enter first, then drop privileges.
    pub fn wrap(&self, cmd: &Command) -> Command {
        let ip: &OsStr = "ip".as_ref();
        clone_command(
            cmd,
            ip,
            &["netns".as_ref(), "exec".as_ref(), self.name.as_ref()],
        )
    }

    /// Run `cmd` inside this namespace as `user` (e.g. pingr with exactly chosen caps).
    pub fn exec_as(&self, user: &User, cmd: &Command) -> Command {
        self.wrap(&user.wrap(cmd))
    }

    /// Run a shell line inside the namespace; panics with its stderr on failure.
    pub fn run(&self, shell_line: &str) -> String {
        check(&mut self.exec("sh", ["-c", shell_line]))
    }

    /// `sysctl -qw key=value` inside the namespace (panics on failure).
    pub fn sysctl(&self, key: &str, value: &str) {
        check(&mut self.exec("sysctl", ["-qw", &format!("{key}={value}")]));
    }

    /// Let gids `lo..=hi` open unprivileged ICMP (ping) sockets in this namespace
    /// (`net.ipv4.ping_group_range`, which also governs ICMPv6 ping sockets).
    pub fn allow_ping_group(&self, lo: u32, hi: u32) {
        self.sysctl("net.ipv4.ping_group_range", &format!("{lo} {hi}"));
    }

    /// Add an address (`10.0.0.1/24`, `fd00::1/64`) to `dev`; IPv6 gets `nodad`.
    pub fn add_addr(&self, dev: &str, cidr: &str) {
        let nodad = if cidr.contains(':') { " nodad" } else { "" };
        self.run(&format!("ip addr add {cidr} dev {dev}{nodad}"));
    }

    /// Pids of the processes living in this namespace.
    pub fn pids(&self) -> Vec<u32> {
        namespace_pids(&self.name)
    }
}

impl Default for Netns {
    fn default() -> Self {
        Netns::new()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        delete_namespace(&self.name);
    }
}

fn namespace_pids(name: &str) -> Vec<u32> {
    let out = Command::new("ip")
        .args(["netns", "pids", name])
        .stderr(Stdio::null())
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    text.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Kill what runs in the namespace (by pid), then delete it. Never panics.
fn delete_namespace(name: &str) {
    for _ in 0..3 {
        let pids = namespace_pids(name);
        if pids.is_empty() {
            break;
        }
        let mut kill = Command::new("kill");
        kill.arg("-KILL").args(pids.iter().map(u32::to_string));
        let _ = kill.stderr(Stdio::null()).status();
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("ip")
        .args(["netns", "del", name])
        .stderr(Stdio::null())
        .status();
}

/// Delete `pingr-t-<pid>-*` namespaces whose creating process is gone (a test
/// run that was killed before its `Drop`s ran).
fn remove_stale_namespaces() {
    let out = Command::new("ip").args(["netns", "list"]).output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for name in text.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(rest) = name.strip_prefix("pingr-t-") else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            delete_namespace(name);
        }
    }
}

fn strip_prefix_len(cidr: &str) -> String {
    cidr.split('/').next().unwrap_or(cidr).to_string()
}

/// A veth pair between two namespaces, up, with addresses on both ends. It goes
/// away when either namespace is dropped.
pub struct Veth {
    pub a_ns: String,
    pub b_ns: String,
    pub a_dev: String,
    pub b_dev: String,
    /// Addresses (without prefix length) on the `a` end, in the order added.
    pub a_addrs: Vec<String>,
    /// Addresses (without prefix length) on the `b` end, in the order added.
    pub b_addrs: Vec<String>,
}

impl Veth {
    /// `Veth::new(&a, "10.201.0.1/24", &b, "10.201.0.2/24")`. IPv6 addresses
    /// (`fd00::1/64`) are added with `nodad`, so they are usable at once.
    pub fn new(a: &Netns, a_cidr: &str, b: &Netns, b_cidr: &str) -> Veth {
        let n = next_id();
        let (a_dev, b_dev) = (format!("pv{n}a"), format!("pv{n}b"));
        a.run(&format!(
            "ip link add {a_dev} type veth peer name {b_dev} netns {}",
            b.name
        ));
        let mut v = Veth {
            a_ns: a.name.clone(),
            b_ns: b.name.clone(),
            a_dev,
            b_dev,
            a_addrs: Vec::new(),
            b_addrs: Vec::new(),
        };
        v.add_addrs(a, a_cidr, b, b_cidr);
        a.run(&format!("ip link set {} up", v.a_dev));
        b.run(&format!("ip link set {} up", v.b_dev));
        v
    }

    /// A dual-stack pair: `10.201.N.1/24` + `fd00:201:N::1/64` on `a`, `.2`/`::2` on
    /// `b` (N from a counter). `a_addrs`/`b_addrs` are `[v4, v6]`.
    pub fn dual(a: &Netns, b: &Netns) -> Veth {
        let n = next_id() % 250;
        let mut v = Veth::new(
            a,
            &format!("10.201.{n}.1/24"),
            b,
            &format!("10.201.{n}.2/24"),
        );
        v.add_addrs(
            a,
            &format!("fd00:201:{n}::1/64"),
            b,
            &format!("fd00:201:{n}::2/64"),
        );
        v
    }

    /// Add one more address on each end (same family, same subnet, normally).
    pub fn add_addrs(&mut self, a: &Netns, a_cidr: &str, b: &Netns, b_cidr: &str) {
        a.add_addr(&self.a_dev, a_cidr);
        b.add_addr(&self.b_dev, b_cidr);
        self.a_addrs.push(strip_prefix_len(a_cidr));
        self.b_addrs.push(strip_prefix_len(b_cidr));
    }

    fn first(addrs: &[String], v6: bool) -> &str {
        let found = addrs.iter().find(|a| a.contains(':') == v6);
        found
            .map(String::as_str)
            .expect("no address of that family on this veth end")
    }
    pub fn a_v4(&self) -> &str {
        Veth::first(&self.a_addrs, false)
    }
    pub fn b_v4(&self) -> &str {
        Veth::first(&self.b_addrs, false)
    }
    pub fn a_v6(&self) -> &str {
        Veth::first(&self.a_addrs, true)
    }
    pub fn b_v6(&self) -> &str {
        Veth::first(&self.b_addrs, true)
    }
}

/// The capability masks and no_new_privs flag of a /proc/PID/status text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ProcCaps {
    pub inh: u64,
    pub prm: u64,
    pub eff: u64,
    pub bnd: u64,
    pub amb: u64,
    pub no_new_privs: bool,
}

/// Parse CapInh/CapPrm/CapEff/CapBnd/CapAmb/NoNewPrivs out of a status text
/// (e.g. the output of `cat /proc/self/status` run through [`User::wrap`]).
pub fn parse_status_caps(status: &str) -> ProcCaps {
    let hex = |k: &str| {
        let v = status_field(status, k).unwrap_or_else(|| panic!("no {k} in status:\n{status}"));
        u64::from_str_radix(v, 16).unwrap_or_else(|e| panic!("bad {k} value {v:?}: {e}"))
    };
    ProcCaps {
        inh: hex("CapInh"),
        prm: hex("CapPrm"),
        eff: hex("CapEff"),
        bnd: hex("CapBnd"),
        amb: hex("CapAmb"),
        no_new_privs: status_field(status, "NoNewPrivs") == Some("1"),
    }
}

/// (CapInh, CapPrm, CapEff, CapBnd, CapAmb, NoNewPrivs) of process `pid`.
pub fn proc_status_caps(pid: u32) -> ProcCaps {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    parse_status_caps(&text)
}

/// A non-root identity with exactly chosen capabilities, applied with `setpriv`.
///
/// Verified recipe (util-linux setpriv, run by root; checked through
/// `/proc/self/status` by tests/responder_selftest.rs):
///
/// * no capabilities at all:
///   `setpriv --reuid=4242 --regid=4242 --clear-groups --inh-caps=-all
///   --ambient-caps=-all --bounding-set=-all -- PROG ARGS`
///   gives CapInh = CapPrm = CapEff = CapBnd = CapAmb = 0.
/// * exactly CAP_NET_RAW, effective: `... --inh-caps=-all,+net_raw
///   --ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw -- PROG ARGS`
///   gives all five masks = 0x2000 (ambient caps survive execve of a plain binary).
/// * `ambient = false` with caps: `--inh-caps=-all,+net_raw --ambient-caps=-all
///   --bounding-set=-all,+net_raw` gives CapPrm = CapEff = CapAmb = 0 and
///   CapInh = CapBnd = 0x2000: nothing effective, but a binary carrying file
///   capabilities (`setcap cap_net_raw+ep`) gains them on exec.
///
/// Why it is really unprivileged: `--reuid` makes root call setresuid() to a
/// non-zero uid without SECBIT_KEEP_CAPS, so the kernel clears the permitted and
/// effective sets; only the ambient set (which setpriv raises after the uid change)
/// carries capabilities across execve, and the bounding set caps what file
/// capabilities could add. Pitfalls found: (1) with the bounding set cleared,
/// executing a file-capability binary (Debian's /usr/bin/ping is `cap_net_raw=ep`)
/// fails with EPERM ("failed to execute"), even with `--no-new-privs`: use a plain
/// copy ([`copy_for_user`] drops the xattr). (2) Leaving the bounding set full lets
/// such binaries gain capabilities, so always pass `--bounding-set`. (3) The target
/// uid must be able to reach the binary: /root is mode 700, so copy binaries with
/// [`copy_for_user`]. No passwd entry is needed for the uid/gid.
#[derive(Clone, Debug)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Capability names as setpriv spells them: "net_raw", "net_admin".
    pub caps: Vec<String>,
    /// Raise `caps` as ambient (effective after exec) or only inheritable+bounding.
    pub ambient: bool,
    pub no_new_privs: bool,
}

impl User {
    /// uid/gid with no capabilities at all.
    pub fn new(uid: u32, gid: u32) -> User {
        User {
            uid,
            gid,
            caps: Vec::new(),
            ambient: false,
            no_new_privs: false,
        }
    }
    /// [`TEST_UID`]/[`TEST_GID`] without capabilities.
    pub fn unprivileged() -> User {
        User::new(TEST_UID, TEST_GID)
    }
    /// The same identity with `caps` (ambient: effective after exec).
    pub fn with_caps(mut self, caps: &[&str], ambient: bool) -> User {
        self.caps = caps.iter().map(|c| c.to_string()).collect();
        self.ambient = ambient;
        self
    }
    pub fn with_no_new_privs(mut self) -> User {
        self.no_new_privs = true;
        self
    }

    /// The setpriv arguments (without the program and `--`).
    pub fn setpriv_args(&self) -> Vec<String> {
        let list: String = self.caps.iter().map(|c| format!(",+{c}")).collect();
        let mut a = vec![
            format!("--reuid={}", self.uid),
            format!("--regid={}", self.gid),
            "--clear-groups".to_string(),
            format!("--inh-caps=-all{list}"),
            format!(
                "--ambient-caps=-all{}",
                if self.ambient { list.as_str() } else { "" }
            ),
            format!("--bounding-set=-all{list}"),
        ];
        if self.no_new_privs {
            a.push("--no-new-privs".to_string());
        }
        a
    }

    /// `setpriv ARGS -- PROG ARGS` for `cmd` (program, args, env, cwd kept).
    pub fn wrap(&self, cmd: &Command) -> Command {
        let args = self.setpriv_args();
        let mut prefix: Vec<&OsStr> = args.iter().map(|s| s.as_ref()).collect();
        prefix.push("--".as_ref());
        clone_command(cmd, "setpriv".as_ref(), &prefix)
    }
}

/// `cmd` run as `uid:gid` holding exactly `caps` (see [`User`] for the recipe):
/// `ambient` true makes them effective; false leaves them only inheritable and in
/// the bounding set. Inside a namespace: `ns.wrap(&as_user(...))`.
pub fn as_user(uid: u32, gid: u32, caps: &[&str], ambient: bool, cmd: &Command) -> Command {
    User::new(uid, gid).with_caps(caps, ambient).wrap(cmd)
}

/// A private world-readable directory for this test process (`/tmp/pingr-t-<pid>`).
pub fn scratch_dir() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::env::temp_dir();
        // Remove leftovers of earlier, killed runs.
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let pid = name
                    .strip_prefix("pingr-t-")
                    .and_then(|p| p.parse::<u32>().ok());
                if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("pingr-t-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
        dir
    })
    .clone()
}

/// Copy an executable into [`scratch_dir`] (mode 755, no file capabilities) so a
/// non-root uid can run it wherever the original lives.
pub fn copy_for_user(src: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let name = src
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let dst = scratch_dir().join(format!("{}-{name}", next_id()));
    std::fs::copy(src, &dst).unwrap_or_else(|e| panic!("copy {} failed: {e}", src.display()));
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dst
}

/// pingr, copied where a non-root uid can execute it (once per test process).
pub fn pingr_for_user() -> PathBuf {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    COPY.get_or_init(|| copy_for_user(&pingr())).clone()
}

/// A copy of `src` carrying file capabilities (`caps` like "cap_net_raw+ep"),
/// via `setcap`; None if setcap is missing or fails (e.g. no xattr support).
pub fn copy_with_file_caps(src: &Path, caps: &str) -> Option<PathBuf> {
    let dst = copy_for_user(src);
    let ok = Command::new("setcap")
        .arg(caps)
        .arg(&dst)
        .stderr(Stdio::null())
        .status();
    ok.is_ok_and(|s| s.success()).then_some(dst)
}

/// The misbehaving ICMP responder (tests/support/responder.rs) running inside a
/// namespace. Killed when dropped. Its `--verbose` log goes to [`Responder::log`].
pub struct Responder {
    child: Child,
    pub log_path: PathBuf,
}

impl Responder {
    /// Start `responder ARGS --verbose` in `ns` (which should be silent) and wait
    /// (at most 10 s) for its `ready`. It exits by itself after 10 minutes unless
    /// ARGS say otherwise (`--exit-after-secs`).
    pub fn start(ns: &Netns, args: &[&str]) -> Responder {
        let log_path = scratch_dir().join(format!("responder-{}.log", next_id()));
        let log = std::fs::File::create(&log_path).expect("create responder log");
        let mut cmd = ns.exec(responder_bin(), ["--exit-after-secs", "600", "--verbose"]);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first.and_then(Result::ok));
            lines.for_each(drop); // keep draining so the responder never blocks
        });
        let mut r = Responder { child, log_path };
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(line)) if line.trim() == "ready" => r,
            got => {
                let _ = r.child.kill();
                let _ = r.child.wait();
                panic!(
                    "responder {args:?} did not get ready ({got:?}); log:\n{}",
                    r.log()
                );
            }
        }
    }

    /// What the responder logged so far (requests seen, packets sent, errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Whether it is still running (it exits on its own only after `--exit-after-secs`).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}
