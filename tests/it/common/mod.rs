#![allow(dead_code)]
//! Shared helpers for pingr's integration tests (`tests/it/main.rs` declares `mod common;`,
//! every area module does `use crate::common;`): the binaries under test, skips, tools,
//! runs with a timeout, outputs; namespaces in `netns.rs`, users in `user.rs`, the
//! responder in `responder.rs`, pingr run as root in a namespace in `run.rs`.
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

mod netns;
mod responder;
mod run;
mod user;

pub use netns::{Netns, Veth};
pub use responder::Responder;
pub use run::*;
pub use user::*;

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

/// One `#[test]` per entry `NAME: CHECK(ARGS..);`, each calling `CHECK("NAME", ARGS..)`: for
/// tests that differ only by data. Each entry is still a test of its own (its own name, its
/// own failure, its own SKIP line). Attributes and doc comments before an entry go on its test.
macro_rules! table_tests {
    ($($(#[$attr:meta])* $name:ident: $check:ident($($arg:expr),* $(,)?);)*) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                $check(stringify!($name), $($arg),*);
            }
        )*
    };
}
pub(crate) use table_tests;

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

/// The round-trip members of a `--format=json` summary line (`null` when nothing came back).
pub const JSON_MS_KEYS: [&str; 6] = [
    "min_ms",
    "avg_ms",
    "max_ms",
    "mdev_ms",
    "median_ms",
    "p95_ms",
];

/// The summary-table row of `target` (its 14 fields, split on white space), if there is one.
pub fn summary_row<'a>(stdout: &'a str, target: &str) -> Option<Vec<&'a str>> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.first() == Some(&target) && c.len() == 14)
}

/// Bytes as text (lossy), for outputs.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `pingr ARGS` (the built binary) as a command, to be wrapped by a [`User`] or a [`Netns`].
pub fn pingr_cmd<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut c = Command::new(pingr());
    c.args(args);
    c
}

/// Exit status, stdout and stderr, for failure messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Panic output a Rust binary could print (unwinding panic, backtrace hint).
pub fn has_panic_text(s: &str) -> bool {
    ["panicked", "RUST_BACKTRACE", "stack backtrace"]
        .iter()
        .any(|m| s.contains(m))
}

/// Fails if the run printed a Rust panic (on stdout or stderr) or exited as one does (101).
pub fn no_panic(o: &Output) {
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        !has_panic_text(&all) && o.status.code() != Some(101),
        "pingr panicked\n{}",
        describe(o)
    );
}

/// Runs that take both CPUs (floods whose rate a test counts) hold this: one at a time across
/// every area of the one test crate, as when each area was a crate of its own and cargo ran
/// the crates one after another.
pub fn flood_lock() -> std::sync::MutexGuard<'static, ()> {
    static FLOOD: Mutex<()> = Mutex::new(());
    FLOOD.lock().unwrap_or_else(|e| e.into_inner())
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
