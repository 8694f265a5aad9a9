//! Non-root identities with exactly chosen capabilities ([`User`], through `setpriv`), the
//! capability masks a process really holds ([`ProcCaps`]), and copies of binaries such a
//! user can execute (plain, or with file capabilities).

use super::*;

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
/// `/proc/self/status` by tests/it/responder_selftest.rs):
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
